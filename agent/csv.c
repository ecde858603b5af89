/* A strict streaming RFC 4180 reader (csv.h says what is accepted): a byte
 * state machine over a fixed read buffer, UTF-8 checked byte by byte. */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

#define INBUF 65536u

enum state {
    FIELD_START, /* before a field's first byte */
    UNQUOTED,
    QUOTED,
    QUOTED_QUOTE, /* a quote inside a quoted field: closing or doubled */
    CR_SEEN,      /* a CR outside quotes: LF must follow */
    COMMENT,      /* a `#` line, skipped to its LF */
};

struct csv_reader {
    FILE *in;
    size_t max_record, max_fields;
    unsigned char inbuf[INBUF];
    size_t pos, end;
    int started, at_eof;
    uint64_t consumed;
    /* position of the byte being read */
    uint64_t line, col;
    /* UTF-8: continuation bytes still expected and the range of the next */
    int need;
    unsigned char lo, hi;
    /* the record being read */
    enum state st;
    char *buf;
    size_t cap, used;
    size_t *off, *len;
    char **ptr;
    size_t nfields;
    uint64_t rec_line, rec_bytes;
    uint64_t quote_line, quote_col; /* opening quote of the open field */
    int blank;                      /* CR_SEEN on an empty line */
    /* sticky error */
    int failed;
    uint64_t err_line, err_col;
};

int csv_new(FILE *in, size_t max_record, size_t max_fields, csv_reader **out,
            swlog_error *err)
{
    if (in == NULL || out == NULL || max_record == 0 || max_fields == 0 ||
        max_record > SIZE_MAX / 4 || max_fields > SIZE_MAX / 4 / sizeof(char *))
        return swlog_fail(err, SWLOG_EARG, 0, "csv: bad arguments");
    csv_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "csv: out of memory");
    r->in = in;
    r->max_record = max_record;
    r->max_fields = max_fields;
    r->line = 1;
    r->off = calloc(max_fields, sizeof *r->off);
    r->len = calloc(max_fields, sizeof *r->len);
    r->ptr = calloc(max_fields, sizeof *r->ptr);
    if (r->off == NULL || r->len == NULL || r->ptr == NULL) {
        csv_free(r);
        return swlog_fail(err, SWLOG_ENOMEM, 0, "csv: out of memory");
    }
    *out = r;
    return SWLOG_OK;
}

void csv_free(csv_reader *r)
{
    if (r == NULL)
        return;
    free(r->buf);
    free(r->off);
    free(r->len);
    free(r->ptr);
    free(r);
}

uint64_t csv_error_line(const csv_reader *r) { return r->err_line; }
uint64_t csv_error_column(const csv_reader *r) { return r->err_col; }
uint64_t csv_bytes(const csv_reader *r) { return r->consumed; }

static int fail_at(csv_reader *r, int code, uint64_t line, uint64_t col,
                   swlog_error *err, const char *what)
{
    r->failed = code;
    r->err_line = line;
    r->err_col = col;
    return swlog_fail(err, code, r->consumed, "line %llu, column %llu: %s",
                      (unsigned long long)line, (unsigned long long)col, what);
}

static int fail(csv_reader *r, int code, swlog_error *err, const char *what)
{
    return fail_at(r, code, r->line, r->col, err, what);
}

/* The next input byte (0..255), -1 at the end, or an error code <= -2. */
static int next_byte(csv_reader *r, swlog_error *err)
{
    if (r->pos == r->end) {
        if (r->at_eof)
            return -1;
        r->end = fread(r->inbuf, 1, INBUF, r->in);
        r->pos = 0;
        if (r->end < INBUF) {
            if (ferror(r->in))
                return fail(r, SWLOG_EIO, err, "read error");
            r->at_eof = 1;
        }
        if (!r->started) {
            r->started = 1;
            if (r->end >= 3 && memcmp(r->inbuf, "\xEF\xBB\xBF", 3) == 0) {
                r->pos = 3; /* a BOM, as spreadsheet programs write */
                r->consumed = 3;
            }
        }
        if (r->pos == r->end)
            return -1;
    }
    r->consumed++;
    return r->inbuf[r->pos++];
}

/* UTF-8 (RFC 3629) one byte at a time; also counts columns. */
static int check_utf8(csv_reader *r, unsigned char b, swlog_error *err)
{
    if (r->need > 0) {
        if (b < r->lo || b > r->hi)
            return fail(r, SWLOG_EINVAL, err, "invalid UTF-8 (save the file "
                                              "as UTF-8)");
        r->lo = 0x80;
        r->hi = 0xBF;
        r->need--;
        return SWLOG_OK;
    }
    r->col++;
    if (b < 0x80)
        return b == 0 ? fail(r, SWLOG_EINVAL, err, "NUL byte") : SWLOG_OK;
    r->lo = 0x80;
    r->hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        r->need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        r->need = 2;
        if (b == 0xE0)
            r->lo = 0xA0; /* overlong */
        if (b == 0xED)
            r->hi = 0x9F; /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        r->need = 3;
        if (b == 0xF0)
            r->lo = 0x90; /* overlong */
        if (b == 0xF4)
            r->hi = 0x8F; /* past U+10FFFF */
    } else {
        return fail(r, SWLOG_EINVAL, err,
                    "invalid UTF-8 (save the file as UTF-8)");
    }
    return SWLOG_OK;
}

static int put(csv_reader *r, char c, swlog_error *err)
{
    if (r->used == r->cap) {
        /* Bounded by the record limit: content plus one NUL per field. */
        size_t limit = r->max_record + r->max_fields;
        size_t ncap = r->cap == 0 ? 4096 : r->cap * 2;
        if (ncap > limit)
            ncap = limit;
        if (ncap <= r->cap)
            return fail(r, SWLOG_EBOUNDS, err, "record buffer full");
        char *nb = realloc(r->buf, ncap);
        if (nb == NULL)
            return fail(r, SWLOG_ENOMEM, err, "out of memory");
        r->buf = nb;
        r->cap = ncap;
    }
    r->buf[r->used++] = c;
    return SWLOG_OK;
}

static int end_field(csv_reader *r, swlog_error *err)
{
    size_t start = r->nfields == 0 ? 0 : r->off[r->nfields - 1] +
                                             r->len[r->nfields - 1] + 1;
    int rc = put(r, '\0', err);
    if (rc != SWLOG_OK)
        return rc;
    r->off[r->nfields] = start;
    r->len[r->nfields] = r->used - 1 - start;
    r->nfields++;
    return SWLOG_OK;
}

/* A `,` was read: end this field; another must fit. */
static int next_field(csv_reader *r, swlog_error *err)
{
    if (r->nfields + 1 >= r->max_fields) {
        char what[96];
        snprintf(what, sizeof what, "more than %zu fields", r->max_fields);
        return fail(r, SWLOG_EBOUNDS, err, what);
    }
    int rc = end_field(r, err);
    r->st = FIELD_START;
    return rc;
}

static void record_reset(csv_reader *r)
{
    r->st = FIELD_START;
    r->used = 0;
    r->nfields = 0;
    r->rec_bytes = 0;
    r->blank = 0;
}

/* One byte of the state machine: 1 when it ended a record, 0 to go on. */
static int step(csv_reader *r, int b, swlog_error *err)
{
    int rc;
    if (r->st == COMMENT) {
        if (b == '\n')
            record_reset(r);
        return 0;
    }
    if (r->st == FIELD_START && r->nfields == 0 && r->rec_bytes == 0) {
        r->rec_line = r->line;
        if (b == '#') {
            r->st = COMMENT;
            return 0;
        }
    }
    if (++r->rec_bytes > r->max_record) {
        char what[96];
        snprintf(what, sizeof what, "record longer than %zu bytes",
                 r->max_record);
        return fail(r, SWLOG_EBOUNDS, err, what);
    }
    switch (r->st) {
    case FIELD_START:
        if (b == '"') {
            r->st = QUOTED;
            r->quote_line = r->line;
            r->quote_col = r->col;
            return 0;
        }
        if (b == ',')
            return next_field(r, err);
        if (b == '\r') {
            r->blank = r->nfields == 0;
            r->st = CR_SEEN;
            return 0;
        }
        if (b == '\n') {
            if (r->nfields == 0) { /* an empty line */
                record_reset(r);
                return 0;
            }
            return (rc = end_field(r, err)) < 0 ? rc : 1;
        }
        r->st = UNQUOTED;
        return put(r, (char)b, err);
    case UNQUOTED:
        if (b == ',')
            return next_field(r, err);
        if (b == '\r') {
            r->st = CR_SEEN;
            return 0;
        }
        if (b == '\n')
            return (rc = end_field(r, err)) < 0 ? rc : 1;
        if (b == '"')
            return fail(r, SWLOG_EINVAL, err,
                        "quote inside an unquoted field (put the field in "
                        "quotes and double the quote)");
        return put(r, (char)b, err);
    case QUOTED:
        if (b == '"') {
            r->st = QUOTED_QUOTE;
            return 0;
        }
        return put(r, (char)b, err);
    case QUOTED_QUOTE:
        if (b == '"') {
            r->st = QUOTED;
            return put(r, '"', err);
        }
        if (b == ',')
            return next_field(r, err);
        if (b == '\r') {
            r->st = CR_SEEN;
            return 0;
        }
        if (b == '\n')
            return (rc = end_field(r, err)) < 0 ? rc : 1;
        return fail(r, SWLOG_EINVAL, err,
                    "text after a closing quote (expected , or the end of "
                    "the line)");
    case CR_SEEN:
        if (b != '\n') /* the CR is the character before this one */
            return fail_at(r, SWLOG_EINVAL, r->line, r->col - 1, err,
                           "carriage return not followed by a line feed");
        if (r->blank) {
            record_reset(r);
            return 0;
        }
        return (rc = end_field(r, err)) < 0 ? rc : 1;
    case COMMENT:
        break;
    }
    return 0;
}

/* The input ended: finish the record or say what is left open. */
static int at_end(csv_reader *r, swlog_error *err)
{
    if (r->need > 0)
        return fail(r, SWLOG_EINVAL, err,
                    "invalid UTF-8: truncated character at the end");
    switch (r->st) {
    case COMMENT:
        return 0;
    case FIELD_START:
        if (r->nfields == 0)
            return 0;
        break;
    case QUOTED:
        return fail_at(r, SWLOG_EINVAL, r->quote_line, r->quote_col, err,
                       "quote opened here is never closed");
    case CR_SEEN:
        return fail(r, SWLOG_EINVAL, err,
                    "carriage return not followed by a line feed");
    case UNQUOTED:
    case QUOTED_QUOTE:
        break;
    }
    int rc = end_field(r, err);
    return rc < 0 ? rc : 1;
}

int csv_next(csv_reader *r, csv_record *rec, swlog_error *err)
{
    if (r->failed)
        return swlog_fail(err, r->failed, r->consumed,
                          "line %llu, column %llu: reading stopped here",
                          (unsigned long long)r->err_line,
                          (unsigned long long)r->err_col);
    record_reset(r);
    int rc;
    for (;;) {
        int b = next_byte(r, err);
        if (b <= -2)
            return b;
        if (b == -1) {
            rc = at_end(r, err);
            break;
        }
        if ((rc = check_utf8(r, (unsigned char)b, err)) != SWLOG_OK)
            return rc;
        rc = step(r, b, err);
        if (b == '\n') {
            r->line++;
            r->col = 0;
        }
        if (rc != 0)
            break;
    }
    if (rc <= 0)
        return rc;
    for (size_t i = 0; i < r->nfields; i++)
        r->ptr[i] = r->buf + r->off[i];
    rec->nfields = r->nfields;
    rec->field = r->ptr;
    rec->len = r->len;
    rec->line = r->rec_line;
    return 1;
}
