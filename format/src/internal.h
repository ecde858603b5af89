/* Library-internal helpers of format/: failure reporting, a bounds-checked
 * cursor over untrusted bytes, and big-endian/varint writers. */
#ifndef SWLOG_INTERNAL_H
#define SWLOG_INTERNAL_H

#include "swlog.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* First failure wins: the detector describes it, callers pass it on. The
 * library's own name for the public swlog_fail. */
#define swlog__fail swlog_fail

/* A cursor never reads past p + left; offset is reported in errors. */
typedef struct swlog__cursor {
    const uint8_t *p;
    size_t left;
    uint64_t offset;
} swlog__cursor;

void swlog__cursor_init(swlog__cursor *c, const uint8_t *p, size_t len,
                        uint64_t base_offset);
int swlog__take_u16(swlog__cursor *c, uint16_t *v, swlog_error *err);
int swlog__take_u32(swlog__cursor *c, uint32_t *v, swlog_error *err);
int swlog__take_u64(swlog__cursor *c, uint64_t *v, swlog_error *err);
/* The failure of a take of n bytes: SWLOG_ESHORT at the cursor. */
int swlog__short(swlog__cursor *c, size_t n, swlog_error *err);
/* FORMAT §1.2, varints of two bytes or more (see swlog__take_varint). */
int swlog__take_varint_long(swlog__cursor *c, uint64_t *v,
                            swlog_error *err);

/* The takes a change-set payload makes for every value are inline: a
 * payload of 500 records makes tens of thousands of them. A failed take
 * leaves the cursor where it was. */
static inline void swlog__advance(swlog__cursor *c, size_t n)
{
    c->p += n;
    c->left -= n;
    c->offset += n;
}

static inline int swlog__take_u8(swlog__cursor *c, uint8_t *v,
                                 swlog_error *err)
{
    if (c->left < 1) {
        /* The constant lets the compiler see that *v is set on success. */
        swlog__short(c, 1, err);
        return SWLOG_ESHORT;
    }
    *v = c->p[0];
    swlog__advance(c, 1);
    return SWLOG_OK;
}

/* Borrow n bytes: *out points into the input. */
static inline int swlog__take_bytes(swlog__cursor *c, size_t n,
                                    const uint8_t **out, swlog_error *err)
{
    if (c->left < n) {
        swlog__short(c, n, err);
        return SWLOG_ESHORT;
    }
    *out = c->p;
    swlog__advance(c, n);
    return SWLOG_OK;
}

/* FORMAT §1.2: minimal unsigned LEB128, at most 10 bytes. Most varints in
 * a change-set are one byte: those are decided here. */
static inline int swlog__take_varint(swlog__cursor *c, uint64_t *v,
                                     swlog_error *err)
{
    if (c->left > 0 && c->p[0] < 0x80) {
        *v = c->p[0];
        swlog__advance(c, 1);
        return SWLOG_OK;
    }
    return swlog__take_varint_long(c, v, err);
}

/* Big-endian loads and stores on arrays the caller has bounds-checked. */
uint16_t swlog__load_u16(const uint8_t *p);
uint32_t swlog__load_u32(const uint8_t *p);
uint64_t swlog__load_u64(const uint8_t *p);
void swlog__store_u16(uint8_t *p, uint16_t v);
void swlog__store_u32(uint8_t *p, uint32_t v);
void swlog__store_u64(uint8_t *p, uint64_t v);

/* Writers append to a swlog_buf; they return SWLOG_OK or SWLOG_ENOMEM. */
int swlog__put_u8(swlog_buf *b, uint8_t v);
int swlog__put_u16(swlog_buf *b, uint16_t v);
int swlog__put_u32(swlog_buf *b, uint32_t v);
int swlog__put_u64(swlog_buf *b, uint64_t v);
int swlog__put_varint(swlog_buf *b, uint64_t v);
/* Bytes a varint of v takes (1..10). */
size_t swlog__varint_len(uint64_t v);

/* FORMAT §2.4: the table-driven CRC32C, same contract as swlog_crc32c;
 * and whether swlog_crc32c uses the processor's instruction instead (1/0).
 * Tests compare the two paths. */
uint32_t swlog__crc32c_portable(uint32_t crc, const uint8_t *p, size_t len);
int swlog__crc32c_hw(void);

/* FORMAT §1.3: 1 when p[0..len) is well-formed UTF-8 without U+0000. */
int swlog__utf8_valid(const uint8_t *p, size_t len);
/* FORMAT §1.3: identifiers and unit codes. */
int swlog__ident_valid(const uint8_t *p, size_t len);
int swlog__unit_valid(const uint8_t *p, size_t len);

#endif
