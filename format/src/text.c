/* Validation and text forms of strings, identifiers and ids: FORMAT §1.3 and
 * the UUID text form of §5.2. */
#include "internal.h"

#include <string.h>

/* 1 when one of the 8 bytes of x is 0x00 or has its high bit set. */
static int word_not_plain_ascii(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    return ((x | ((x - ones) & ~x)) & highs) != 0;
}

int swlog__utf8_valid(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Text is mostly ASCII: skip it a word at a time. */
        if (len - i >= 8) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            if (!word_not_plain_ascii(x)) {
                i += 8;
                continue;
            }
        }
        uint8_t b = p[i];
        if (b >= 0x01 && b <= 0x7f) {
            i++;
            continue;
        }
        /* RFC 3629 §4: the lead byte fixes the length and the range of the
         * second byte, which is what excludes overlongs, surrogates and
         * code points above U+10FFFF. */
        size_t n;
        uint8_t lo = 0x80, hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf) {
            n = 2;
        } else if (b >= 0xe0 && b <= 0xef) {
            n = 3;
            if (b == 0xe0)
                lo = 0xa0;
            else if (b == 0xed)
                hi = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            n = 4;
            if (b == 0xf0)
                lo = 0x90;
            else if (b == 0xf4)
                hi = 0x8f;
        } else {
            return 0; /* 0x00, a continuation byte, C0, C1 or F5..FF */
        }
        if (len - i < n)
            return 0;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < n; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                return 0;
        i += n;
    }
    return 1;
}

int swlog__ident_valid(const uint8_t *p, size_t len)
{
    if (len < 1 || len > SWLOG_MAX_NAME)
        return 0;
    if (p[0] < 'a' || p[0] > 'z')
        return 0;
    for (size_t i = 1; i < len; i++) {
        uint8_t c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int swlog__unit_valid(const uint8_t *p, size_t len)
{
    if (len < 1 || len > SWLOG_MAX_UNIT)
        return 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

static const char hexdigits[] = "0123456789abcdef";

void swlog_hex(const uint8_t *p, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hexdigits[p[i] >> 4];
        out[2 * i + 1] = hexdigits[p[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

/* FORMAT §5.2: 8-4-4-4-12 hex digits; dashes sit at these text offsets. */
static int is_dash_at(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

void swlog_uuid_format(const uint8_t id[SWLOG_UUID_BYTES], char out[37])
{
    size_t o = 0;
    for (size_t i = 0; i < SWLOG_UUID_BYTES; i++) {
        if (is_dash_at(o))
            out[o++] = '-';
        out[o++] = hexdigits[id[i] >> 4];
        out[o++] = hexdigits[id[i] & 0x0f];
    }
    out[o] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int swlog_uuid_parse(const char *text, uint8_t id[SWLOG_UUID_BYTES])
{
    if (text == NULL || id == NULL)
        return SWLOG_EARG;
    uint8_t tmp[SWLOG_UUID_BYTES];
    size_t o = 0;
    for (size_t i = 0; i < SWLOG_UUID_BYTES; i++) {
        if (is_dash_at(o)) {
            if (text[o] != '-')
                return SWLOG_EARG;
            o++;
        }
        int hi = hexval(text[o]);
        if (hi < 0)
            return SWLOG_EARG;
        int lo = hexval(text[o + 1]);
        if (lo < 0)
            return SWLOG_EARG;
        tmp[i] = (uint8_t)(hi << 4 | lo);
        o += 2;
    }
    if (text[o] != '\0')
        return SWLOG_EARG;
    memcpy(id, tmp, sizeof tmp);
    return SWLOG_OK;
}
