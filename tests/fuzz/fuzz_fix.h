/* Shared by the fuzz targets that take frame bodies (fuzz_frame.c,
 * fuzz_merge.c, fuzz_log.c): their payload fix-up mode sets the body's payload_len and payload_hash
 * (FORMAT §4.1) from the bytes after header_len + 64, so that mutated
 * payloads get past the hash check and reach the change-set decoder (§5). */
#ifndef FUZZ_FIX_H
#define FUZZ_FIX_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "swlog.h"

static inline void fuzz_fix_payload(uint8_t *b, size_t len)
{
    if (len < SWLOG_COMMON_HEADER_BYTES)
        return;
    size_t hl = (size_t)b[2] << 8 | b[3];
    if (hl < SWLOG_COMMON_HEADER_BYTES || hl + SWLOG_SIG_BYTES > len)
        return;
    size_t plen = len - hl - SWLOG_SIG_BYTES;
    b[84] = (uint8_t)(plen >> 24);
    b[85] = (uint8_t)(plen >> 16);
    b[86] = (uint8_t)(plen >> 8);
    b[87] = (uint8_t)plen;
    swlog_hash_ctx(SWLOG_CTX_PAYLOAD, b + hl + SWLOG_SIG_BYTES, plen, b + 88);
}

/* The body of an input (mode byte, then body) as an exact-size heap copy,
 * so ASan sees any read past its end, its payload fixed up when mode bit 1
 * is set. NULL when out of memory; free() it. */
static inline uint8_t *fuzz_body(const uint8_t *data, size_t size,
                                 size_t *len)
{
    *len = size - 1;
    uint8_t *body = malloc(*len ? *len : 1);
    if (body == NULL)
        return NULL;
    memcpy(body, data + 1, *len);
    if (data[0] & 2)
        fuzz_fix_payload(body, *len);
    return body;
}

#endif
