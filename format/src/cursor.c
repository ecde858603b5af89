/* Bounds-checked reading and big-endian/varint writing of integers: FORMAT
 * §1.2. */
#include "internal.h"

void swlog__cursor_init(swlog__cursor *c, const uint8_t *p, size_t len,
                        uint64_t base_offset)
{
    c->p = p;
    c->left = len;
    c->offset = base_offset;
}

static void advance(swlog__cursor *c, size_t n)
{
    c->p += n;
    c->left -= n;
    c->offset += n;
}

uint16_t swlog__load_u16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | (unsigned)p[1]);
}

uint32_t swlog__load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

uint64_t swlog__load_u64(const uint8_t *p)
{
    return (uint64_t)swlog__load_u32(p) << 32 | swlog__load_u32(p + 4);
}

void swlog__store_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void swlog__store_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void swlog__store_u64(uint8_t *p, uint64_t v)
{
    swlog__store_u32(p, (uint32_t)(v >> 32));
    swlog__store_u32(p + 4, (uint32_t)v);
}

int swlog__take_u8(swlog__cursor *c, uint8_t *v, swlog_error *err)
{
    if (c->left < 1)
        return swlog__fail(err, SWLOG_ESHORT, c->offset, "need 1 byte");
    *v = c->p[0];
    advance(c, 1);
    return SWLOG_OK;
}

int swlog__take_u16(swlog__cursor *c, uint16_t *v, swlog_error *err)
{
    if (c->left < 2)
        return swlog__fail(err, SWLOG_ESHORT, c->offset, "need 2 bytes");
    *v = swlog__load_u16(c->p);
    advance(c, 2);
    return SWLOG_OK;
}

int swlog__take_u32(swlog__cursor *c, uint32_t *v, swlog_error *err)
{
    if (c->left < 4)
        return swlog__fail(err, SWLOG_ESHORT, c->offset, "need 4 bytes");
    *v = swlog__load_u32(c->p);
    advance(c, 4);
    return SWLOG_OK;
}

int swlog__take_u64(swlog__cursor *c, uint64_t *v, swlog_error *err)
{
    if (c->left < 8)
        return swlog__fail(err, SWLOG_ESHORT, c->offset, "need 8 bytes");
    *v = swlog__load_u64(c->p);
    advance(c, 8);
    return SWLOG_OK;
}

int swlog__take_bytes(swlog__cursor *c, size_t n, const uint8_t **out,
                      swlog_error *err)
{
    if (c->left < n)
        return swlog__fail(err, SWLOG_ESHORT, c->offset,
                           "need %zu bytes, %zu left", n, c->left);
    *out = c->p;
    advance(c, n);
    return SWLOG_OK;
}

int swlog__take_varint(swlog__cursor *c, uint64_t *v, swlog_error *err)
{
    /* Most varints in a change-set are one byte: decide those at once. */
    if (c->left > 0 && c->p[0] < 0x80) {
        *v = c->p[0];
        advance(c, 1);
        return SWLOG_OK;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < 10; i++) {
        if (i >= c->left)
            return swlog__fail(err, SWLOG_ESHORT, c->offset,
                               "varint runs past the end");
        uint8_t b = c->p[i];
        if (i == 9 && b > 0x01)
            /* FORMAT §1.2: a 10th byte above 1 means a value past 2^64-1
             * or an 11th byte; neither is a minimal 64-bit varint. */
            return swlog__fail(err, SWLOG_ENONCANON, c->offset,
                               "varint above 2^64-1");
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            if (b == 0 && i > 0)
                return swlog__fail(err, SWLOG_ENONCANON, c->offset,
                                   "varint not minimal");
            *v = x;
            advance(c, i + 1);
            return SWLOG_OK;
        }
    }
    /* Unreachable: the 10th byte either ends the varint or was refused. */
    return swlog__fail(err, SWLOG_ENONCANON, c->offset, "varint too long");
}

size_t swlog__varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

int swlog__put_u8(swlog_buf *b, uint8_t v)
{
    return swlog_buf_append(b, &v, 1);
}

int swlog__put_u16(swlog_buf *b, uint16_t v)
{
    uint8_t t[2];
    swlog__store_u16(t, v);
    return swlog_buf_append(b, t, sizeof t);
}

int swlog__put_u32(swlog_buf *b, uint32_t v)
{
    uint8_t t[4];
    swlog__store_u32(t, v);
    return swlog_buf_append(b, t, sizeof t);
}

int swlog__put_u64(swlog_buf *b, uint64_t v)
{
    uint8_t t[8];
    swlog__store_u64(t, v);
    return swlog_buf_append(b, t, sizeof t);
}

int swlog__put_varint(swlog_buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    return swlog_buf_append(b, t, n);
}
