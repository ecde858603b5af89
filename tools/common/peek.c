/* Reads the common signed-header fields of an unvalidated frame body
 * (FORMAT §4.1, §4.3) for error reports. */
#include "peek.h"

#include <string.h>

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int peek_frame(const uint8_t *body, size_t len, peek_header *out)
{
    if (body == NULL || len < SWLOG_COMMON_HEADER_BYTES)
        return 0;
    peek_header h;
    memset(&h, 0, sizeof h);
    h.type = body[0];
    h.header_len = (uint16_t)(body[2] << 8 | body[3]);
    memcpy(h.signer, body + 4, SWLOG_PUBKEY_BYTES);
    h.seq = be64(body + 36);
    memcpy(h.prev, body + 44, SWLOG_HASH_BYTES);
    h.hlc = be64(body + 76);
    /* The id is the hash of the signed header (FORMAT §4.3); compute it only
     * when that header lies inside the body and inside MAX_HEADER. */
    if (h.header_len >= SWLOG_COMMON_HEADER_BYTES &&
        h.header_len <= SWLOG_MAX_HEADER && h.header_len <= len) {
        swlog_hash_ctx(SWLOG_CTX_FRAME_ID, body, h.header_len, h.id);
        h.has_id = 1;
    }
    *out = h;
    return 1;
}
