/* Strict JSON reader for hub answers: RFC 8259 grammar with the bounds of
 * json.h. PROTOCOL §1 (hex, integers below 2^53). */
#include "json.h"

#include <stdlib.h>
#include <string.h>

typedef struct parser {
    json_doc *d;
    const unsigned char *p;
    size_t len, pos;
    swlog_error *err;
} parser;

static int fail(parser *ps, int code, const char *what)
{
    return swlog_fail(ps->err, code, ps->pos, "hub answer is not valid JSON "
                      "at byte %zu: %s", ps->pos, what);
}

static void skip_ws(parser *ps)
{
    while (ps->pos < ps->len) {
        unsigned char c = ps->p[ps->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        ps->pos++;
    }
}

static int new_tok(parser *ps, uint8_t type, uint32_t *idx)
{
    json_doc *d = ps->d;
    if (d->n >= JSON_MAX_TOKENS)
        return fail(ps, SWLOG_EBOUNDS, "more than 65536 values");
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 64;
        if (cap > JSON_MAX_TOKENS)
            cap = JSON_MAX_TOKENS;
        json_tok *t = realloc(d->t, (size_t)cap * sizeof *t);
        if (t == NULL)
            return swlog_fail(ps->err, SWLOG_ENOMEM, ps->pos,
                              "out of memory reading the hub's answer");
        d->t = t;
        d->cap = cap;
    }
    *idx = d->n++;
    memset(&d->t[*idx], 0, sizeof d->t[*idx]);
    d->t[*idx].type = type;
    d->t[*idx].start = (uint32_t)ps->pos;
    return SWLOG_OK;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at s (the caller checked there are four bytes). */
static long hex4(const unsigned char *s)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence at s[0..left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* The raw text of a string, checked; ps->pos is on the opening quote. */
static int parse_string(parser *ps)
{
    uint32_t idx;
    int rc;
    ps->pos++;
    if ((rc = new_tok(ps, JSON_STRING, &idx)) != SWLOG_OK)
        return rc;
    while (ps->pos < ps->len) {
        unsigned char c = ps->p[ps->pos];
        if (c == '"') {
            ps->d->t[idx].len = (uint32_t)(ps->pos - ps->d->t[idx].start);
            ps->d->t[idx].end = ps->d->n;
            ps->pos++;
            return SWLOG_OK;
        }
        if (c < 0x20)
            return fail(ps, SWLOG_EINVAL, "control character in a string");
        if (c == '\\') {
            ps->d->t[idx].escaped = 1;
            if (ps->pos + 1 >= ps->len)
                break;
            unsigned char e = ps->p[ps->pos + 1];
            if (e == 'u') {
                if (ps->len - ps->pos < 6)
                    break;
                long u = hex4(ps->p + ps->pos + 2);
                if (u < 0)
                    return fail(ps, SWLOG_EINVAL, "bad \\u escape");
                if (u >= 0xdc00 && u <= 0xdfff)
                    return fail(ps, SWLOG_EINVAL, "lone low surrogate");
                if (u >= 0xd800 && u <= 0xdbff) {
                    long lo = -1;
                    if (ps->len - ps->pos >= 12 && ps->p[ps->pos + 6] == '\\' &&
                        ps->p[ps->pos + 7] == 'u')
                        lo = hex4(ps->p + ps->pos + 8);
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return fail(ps, SWLOG_EINVAL, "lone high surrogate");
                    ps->pos += 6;
                }
                ps->pos += 6;
                continue;
            }
            if (strchr("\"\\/bfnrt", e) == NULL || e == 0)
                return fail(ps, SWLOG_EINVAL, "bad escape");
            ps->pos += 2;
            continue;
        }
        size_t n = utf8_len(ps->p + ps->pos, ps->len - ps->pos);
        if (n == 0)
            return fail(ps, SWLOG_EINVAL, "bad UTF-8");
        ps->pos += n;
    }
    return fail(ps, SWLOG_EINVAL, "string not closed");
}

static int digits(parser *ps)
{
    size_t at = ps->pos;
    while (ps->pos < ps->len && ps->p[ps->pos] >= '0' &&
           ps->p[ps->pos] <= '9')
        ps->pos++;
    return ps->pos > at;
}

static int parse_number(parser *ps)
{
    uint32_t idx;
    int rc;
    if ((rc = new_tok(ps, JSON_NUMBER, &idx)) != SWLOG_OK)
        return rc;
    if (ps->p[ps->pos] == '-')
        ps->pos++;
    if (ps->pos < ps->len && ps->p[ps->pos] == '0')
        ps->pos++;
    else if (!digits(ps))
        return fail(ps, SWLOG_EINVAL, "bad number");
    if (ps->pos < ps->len && ps->p[ps->pos] == '.') {
        ps->pos++;
        if (!digits(ps))
            return fail(ps, SWLOG_EINVAL, "bad fraction");
    }
    if (ps->pos < ps->len && (ps->p[ps->pos] == 'e' || ps->p[ps->pos] == 'E')) {
        ps->pos++;
        if (ps->pos < ps->len &&
            (ps->p[ps->pos] == '+' || ps->p[ps->pos] == '-'))
            ps->pos++;
        if (!digits(ps))
            return fail(ps, SWLOG_EINVAL, "bad exponent");
    }
    ps->d->t[idx].len = (uint32_t)(ps->pos - ps->d->t[idx].start);
    ps->d->t[idx].end = ps->d->n;
    return SWLOG_OK;
}

static int parse_literal(parser *ps, const char *word, uint8_t type)
{
    size_t n = strlen(word);
    uint32_t idx;
    int rc;
    if (ps->len - ps->pos < n || memcmp(ps->p + ps->pos, word, n) != 0)
        return fail(ps, SWLOG_EINVAL, "unexpected character");
    if ((rc = new_tok(ps, type, &idx)) != SWLOG_OK)
        return rc;
    ps->pos += n;
    ps->d->t[idx].len = (uint32_t)n;
    ps->d->t[idx].end = ps->d->n;
    return SWLOG_OK;
}

static int key_equal(const json_doc *d, uint32_t a, uint32_t b);

static int parse_value(parser *ps, unsigned depth);

static int parse_container(parser *ps, unsigned depth, int object)
{
    uint32_t idx, count = 0;
    uint32_t keys[JSON_MAX_MEMBERS];
    int rc;
    if (depth >= JSON_MAX_DEPTH)
        return fail(ps, SWLOG_EBOUNDS, "nested deeper than 16 levels");
    if ((rc = new_tok(ps, object ? JSON_OBJECT : JSON_ARRAY, &idx)) !=
        SWLOG_OK)
        return rc;
    ps->pos++;
    skip_ws(ps);
    char close = object ? '}' : ']';
    if (ps->pos < ps->len && ps->p[ps->pos] == (unsigned char)close) {
        ps->pos++;
        ps->d->t[idx].end = ps->d->n;
        return SWLOG_OK;
    }
    for (;;) {
        skip_ws(ps);
        if (object) {
            if (count >= JSON_MAX_MEMBERS)
                return fail(ps, SWLOG_EBOUNDS, "object with more than 64 "
                            "members");
            if (ps->pos >= ps->len || ps->p[ps->pos] != '"')
                return fail(ps, SWLOG_EINVAL, "expected a key");
            keys[count] = ps->d->n;
            if ((rc = parse_string(ps)) != SWLOG_OK)
                return rc;
            if (ps->d->t[keys[count]].len > JSON_MAX_KEY * 6)
                return fail(ps, SWLOG_EBOUNDS, "key longer than 64 bytes");
            for (uint32_t k = 0; k < count; k++)
                if (key_equal(ps->d, keys[k], keys[count]))
                    return fail(ps, SWLOG_EINVAL, "duplicate key");
            skip_ws(ps);
            if (ps->pos >= ps->len || ps->p[ps->pos] != ':')
                return fail(ps, SWLOG_EINVAL, "expected ':'");
            ps->pos++;
        }
        if ((rc = parse_value(ps, depth + 1)) != SWLOG_OK)
            return rc;
        count++;
        skip_ws(ps);
        if (ps->pos >= ps->len)
            return fail(ps, SWLOG_EINVAL, object ? "object not closed"
                                                 : "array not closed");
        if (ps->p[ps->pos] == ',') {
            ps->pos++;
            continue;
        }
        if (ps->p[ps->pos] == (unsigned char)close) {
            ps->pos++;
            ps->d->t[idx].count = count;
            ps->d->t[idx].end = ps->d->n;
            return SWLOG_OK;
        }
        return fail(ps, SWLOG_EINVAL, object ? "expected ',' or '}'"
                                             : "expected ',' or ']'");
    }
}

static int parse_value(parser *ps, unsigned depth)
{
    skip_ws(ps);
    if (ps->pos >= ps->len)
        return fail(ps, SWLOG_EINVAL, "unexpected end");
    switch (ps->p[ps->pos]) {
    case '{':
        return parse_container(ps, depth, 1);
    case '[':
        return parse_container(ps, depth, 0);
    case '"':
        return parse_string(ps);
    case 't':
        return parse_literal(ps, "true", JSON_TRUE);
    case 'f':
        return parse_literal(ps, "false", JSON_FALSE);
    case 'n':
        return parse_literal(ps, "null", JSON_NULL);
    default:
        if (ps->p[ps->pos] == '-' ||
            (ps->p[ps->pos] >= '0' && ps->p[ps->pos] <= '9'))
            return parse_number(ps);
        return fail(ps, SWLOG_EINVAL, "unexpected character");
    }
}

int json_parse(json_doc *d, const char *text, size_t len, swlog_error *err)
{
    parser ps = {d, (const unsigned char *)text, len, 0, err};
    memset(d, 0, sizeof *d);
    d->text = text; /* key_equal decodes keys while parsing */
    d->len = len;
    if (text == NULL)
        return swlog_fail(err, SWLOG_EARG, 0, "no JSON text");
    if (len > JSON_MAX_INPUT)
        return swlog_fail(err, SWLOG_EBOUNDS, 0, "hub answer of %zu bytes, "
                          "maximum %u", len, JSON_MAX_INPUT);
    int rc = parse_value(&ps, 0);
    if (rc == SWLOG_OK) {
        skip_ws(&ps);
        if (ps.pos != len)
            rc = fail(&ps, SWLOG_EINVAL, "bytes after the value");
    }
    if (rc != SWLOG_OK)
        json_clear(d);
    return rc;
}

void json_clear(json_doc *d)
{
    if (d == NULL)
        return;
    free(d->t);
    memset(d, 0, sizeof *d);
}

/* Decode the string token at idx into out (cap bytes, NUL added); returns
 * the decoded length, or -1 when it does not fit or holds a NUL. The
 * token was checked by the parser, so escapes are well formed. */
static long decode(const json_doc *d, uint32_t idx, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)d->text + d->t[idx].start;
    size_t n = d->t[idx].len, o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char tmp[4];
        size_t tl = 1;
        if (s[i] != '\\') {
            tmp[0] = s[i++];
        } else {
            unsigned char e = s[i + 1];
            i += 2;
            if (e != 'u') {
                static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
                tmp[0] = (unsigned char)to[strchr(from, e) - from];
            } else {
                uint32_t cp = (uint32_t)hex4(s + i);
                i += 4;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    uint32_t lo = (uint32_t)hex4(s + i + 2);
                    i += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                if (cp == 0)
                    return -1;
                if (cp < 0x80) {
                    tmp[0] = (unsigned char)cp;
                } else if (cp < 0x800) {
                    tmp[0] = (unsigned char)(0xc0 | cp >> 6);
                    tmp[1] = (unsigned char)(0x80 | (cp & 0x3f));
                    tl = 2;
                } else if (cp < 0x10000) {
                    tmp[0] = (unsigned char)(0xe0 | cp >> 12);
                    tmp[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
                    tmp[2] = (unsigned char)(0x80 | (cp & 0x3f));
                    tl = 3;
                } else {
                    tmp[0] = (unsigned char)(0xf0 | cp >> 18);
                    tmp[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
                    tmp[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
                    tmp[3] = (unsigned char)(0x80 | (cp & 0x3f));
                    tl = 4;
                }
            }
        }
        if (o + tl >= cap)
            return -1;
        memcpy(out + o, tmp, tl);
        o += tl;
    }
    out[o] = '\0';
    return (long)o;
}

static int key_equal(const json_doc *d, uint32_t a, uint32_t b)
{
    if (!d->t[a].escaped && !d->t[b].escaped)
        return d->t[a].len == d->t[b].len &&
               memcmp(d->text + d->t[a].start, d->text + d->t[b].start,
                      d->t[a].len) == 0;
    char ka[JSON_MAX_KEY * 6 + 1], kb[JSON_MAX_KEY * 6 + 1];
    long la = decode(d, a, ka, sizeof ka), lb = decode(d, b, kb, sizeof kb);
    return la == lb && la >= 0 && memcmp(ka, kb, (size_t)la) == 0;
}

int json_type_of(const json_doc *d, int tok)
{
    if (d == NULL || tok < 0 || (uint32_t)tok >= d->n)
        return 0;
    return d->t[tok].type;
}

int json_member(const json_doc *d, int obj, const char *key)
{
    if (json_type_of(d, obj) != JSON_OBJECT)
        return -1;
    size_t klen = strlen(key);
    uint32_t i = (uint32_t)obj + 1;
    for (uint32_t m = 0; m < d->t[obj].count; m++) {
        uint32_t v = i + 1;
        char buf[JSON_MAX_KEY * 6 + 1];
        long n = decode(d, i, buf, sizeof buf);
        if (n >= 0 && (size_t)n == klen && memcmp(buf, key, klen) == 0)
            return (int)v;
        i = d->t[v].end;
    }
    return -1;
}

int json_item(const json_doc *d, int arr, uint32_t i)
{
    if (json_type_of(d, arr) != JSON_ARRAY || i >= d->t[arr].count)
        return -1;
    uint32_t at = (uint32_t)arr + 1;
    for (uint32_t k = 0; k < i; k++)
        at = d->t[at].end;
    return (int)at;
}

int json_u64(const json_doc *d, int tok, uint64_t *out)
{
    if (json_type_of(d, tok) != JSON_NUMBER)
        return SWLOG_EINVAL;
    const char *s = d->text + d->t[tok].start;
    uint32_t n = d->t[tok].len;
    uint64_t v = 0;
    if (n == 0 || n > 16)
        return SWLOG_EINVAL;
    for (uint32_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SWLOG_EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v >= (UINT64_C(1) << 53))
        return SWLOG_EINVAL;
    *out = v;
    return SWLOG_OK;
}

int json_string(const json_doc *d, int tok, char *out, size_t cap)
{
    if (json_type_of(d, tok) != JSON_STRING)
        return SWLOG_EINVAL;
    if (cap == 0)
        return SWLOG_EBOUNDS;
    char *tmp = malloc(cap);
    if (tmp == NULL)
        return SWLOG_ENOMEM;
    long n = decode(d, (uint32_t)tok, tmp, cap);
    if (n < 0 || memchr(tmp, '\0', (size_t)n) != NULL) {
        free(tmp);
        return SWLOG_EBOUNDS;
    }
    memcpy(out, tmp, (size_t)n + 1);
    free(tmp);
    return SWLOG_OK;
}

int json_hex(const json_doc *d, int tok, uint8_t *out, size_t n)
{
    if (json_type_of(d, tok) != JSON_STRING || d->t[tok].escaped ||
        d->t[tok].len != 2 * n)
        return SWLOG_EINVAL;
    const unsigned char *s = (const unsigned char *)d->text + d->t[tok].start;
    for (size_t i = 0; i < 2 * n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return SWLOG_EINVAL;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
    return SWLOG_OK;
}
