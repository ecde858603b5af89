/* Text formatting shared by the tools: hex, short keys, times (FORMAT §1.4),
 * escaped text and JSON values. Output only; no allocation. */
#include "fmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char hexdig[] = "0123456789abcdef";

void fmt_key_short(const uint8_t key[32], char out[FMT_KEY_SHORT_BYTES])
{
    /* 4 hex, U+2026 (3 bytes of UTF-8), 2 hex, NUL = 10 bytes. */
    out[0] = hexdig[key[0] >> 4];
    out[1] = hexdig[key[0] & 15];
    out[2] = hexdig[key[1] >> 4];
    out[3] = hexdig[key[1] & 15];
    memcpy(out + 4, "\xe2\x80\xa6", 3);
    out[7] = hexdig[key[31] >> 4];
    out[8] = hexdig[key[31] & 15];
    out[9] = '\0';
}

void fmt_hex(FILE *f, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        putc(hexdig[p[i] >> 4], f);
        putc(hexdig[p[i] & 15], f);
    }
}

/* Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
 * civil_from_days), in unsigned arithmetic: days here are never negative. */
static void civil(uint64_t days, uint64_t *y, unsigned *m, unsigned *d)
{
    uint64_t z = days + 719468;
    uint64_t era = z / 146097;
    uint64_t doe = z - era * 146097;
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void fmt_ms(uint64_t ms, char out[FMT_TIME_BYTES])
{
    uint64_t secs = ms / 1000, days = secs / 86400, y;
    unsigned mo, d, sod = (unsigned)(secs % 86400);
    civil(days, &y, &mo, &d);
    snprintf(out, FMT_TIME_BYTES,
             "%04" PRIu64 "-%02u-%02uT%02u:%02u:%02u.%03uZ", y, mo, d,
             sod / 3600, sod / 60 % 60, sod % 60, (unsigned)(ms % 1000));
}

void fmt_hlc(uint64_t hlc, char out[FMT_HLC_BYTES])
{
    char t[FMT_TIME_BYTES];
    fmt_ms(hlc >> 16, t);
    snprintf(out, FMT_HLC_BYTES, "%s#%u", t, (unsigned)(hlc & 0xffff));
}

/* One strictly well-formed UTF-8 sequence at p[0..len): its length and *cp,
 * or 0 when p does not start with one (FORMAT §1.3 rules, U+0000 allowed
 * here because the caller escapes it). */
static size_t utf8_one(const uint8_t *p, size_t len, uint32_t *cp)
{
    uint8_t b = p[0];
    size_t n;
    uint32_t c, min;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
        n = 2, c = b & 0x1f, min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3, c = b & 0x0f, min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4, c = b & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Characters that could hide or reorder what a terminal shows. */
static int unsafe_cp(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
           c == 0x200e || c == 0x200f || c == 0xfeff;
}

void fmt_text(FILE *f, const uint8_t *p, size_t len)
{
    putc('"', f);
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = utf8_one(p + i, len - i, &c);
        if (n == 0) {
            fprintf(f, "\\x%02x", p[i]);
            i++;
            continue;
        }
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", (char)c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c < 0x80 && unsafe_cp(c))
            fprintf(f, "\\x%02x", (unsigned)c);
        else if (unsafe_cp(c))
            fprintf(f, "\\u{%04x}", (unsigned)c);
        else
            fwrite(p + i, 1, n, f);
        i += n;
    }
    putc('"', f);
}

void fmt_json_str(FILE *f, const uint8_t *p, size_t len)
{
    putc('"', f);
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = utf8_one(p + i, len - i, &c);
        if (n == 0) {
            fputs("\\ufffd", f);
            i++;
            continue;
        }
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", (char)c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029)
            fprintf(f, "\\u%04x", (unsigned)c);
        else
            fwrite(p + i, 1, n, f);
        i += n;
    }
    putc('"', f);
}

void fmt_json_cstr(FILE *f, const char *s)
{
    fmt_json_str(f, (const uint8_t *)s, strlen(s));
}

void fmt_json_u64(FILE *f, uint64_t v)
{
    if (v <= FMT_JSON_SAFE_INT)
        fprintf(f, "%" PRIu64, v);
    else
        fprintf(f, "\"%" PRIu64 "\"", v);
}

void fmt_json_i64(FILE *f, int64_t v)
{
    /* Magnitude without overflow for INT64_MIN. */
    uint64_t mag = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    if (mag <= FMT_JSON_SAFE_INT)
        fprintf(f, "%" PRId64, v);
    else
        fprintf(f, "\"%" PRId64 "\"", v);
}

void fmt_json_real(FILE *f, double v)
{
    if (isinf(v)) {
        fputs(v > 0 ? "\"inf\"" : "\"-inf\"", f);
        return;
    }
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* "3" and "-0" would read back as integers (and lose the sign of -0.0):
     * keep a fraction. "1e+20" is valid JSON as it is. */
    if (strpbrk(buf, ".e") == NULL)
        strcat(buf, ".0");
    fputs(buf, f);
}
