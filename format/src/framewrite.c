/* The common-header encoder and signer shared by every frame encoder:
 * FORMAT §4.1, §4.3 and §2.2. */
#include "crypto_int.h"
#include "frame_int.h"

#include <string.h>

static int abort_body(swlog_buf *out, int rc)
{
    out->len = 0;
    return rc;
}

int swlog__frame_begin(swlog_buf *out, uint8_t type,
                       const uint8_t sk[SWLOG_SECKEY_BYTES],
                       const swlog_head *h, swlog_error *err)
{
    if (out == NULL || sk == NULL || h == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    if (h->seq == 0)
        return swlog__fail(err, SWLOG_EARG, 0, "seq 0 (FORMAT §4.1)");
    if (h->seq == 1) {
        static const uint8_t zero[SWLOG_HASH_BYTES];
        if (memcmp(h->prev, zero, sizeof zero) != 0)
            return swlog__fail(err, SWLOG_EARG, 0,
                               "seq 1 needs a zero prev (FORMAT §4.1)");
    }
    out->len = 0;
    int rc = swlog__buf_reserve(out, SWLOG_COMMON_HEADER_BYTES);
    if (rc != SWLOG_OK)
        return swlog__fail(err, rc, 0, "out of memory");
    uint8_t *p = out->p;
    memset(p, 0, SWLOG_COMMON_HEADER_BYTES);
    p[SWLOG__OFF_TYPE] = type;
    p[SWLOG__OFF_LAYOUT] = SWLOG_LAYOUT;
    memcpy(p + SWLOG__OFF_SIGNER, swlog__sk_pk(sk), SWLOG_PUBKEY_BYTES);
    swlog__store_u64(p + SWLOG__OFF_SEQ, h->seq);
    memcpy(p + SWLOG__OFF_PREV, h->prev, SWLOG_HASH_BYTES);
    swlog__store_u64(p + SWLOG__OFF_HLC, h->hlc);
    out->len = SWLOG_COMMON_HEADER_BYTES;
    return SWLOG_OK;
}

int swlog__frame_end_header(swlog_buf *out, swlog_error *err)
{
    if (out->len > SWLOG_MAX_HEADER)
        return abort_body(out, swlog__fail(err, SWLOG_EBOUNDS, 0,
                                           "signed header of %zu bytes, "
                                           "maximum %u",
                                           out->len, SWLOG_MAX_HEADER));
    swlog__store_u16(out->p + SWLOG__OFF_HEADER_LEN, (uint16_t)out->len);
    int rc = swlog__buf_reserve(out, SWLOG_SIG_BYTES);
    if (rc != SWLOG_OK)
        return abort_body(out, swlog__fail(err, rc, 0, "out of memory"));
    memset(out->p + out->len, 0, SWLOG_SIG_BYTES);
    out->len += SWLOG_SIG_BYTES;
    return SWLOG_OK;
}

int swlog__frame_finish(swlog_buf *out, const uint8_t sk[SWLOG_SECKEY_BYTES],
                        swlog_error *err)
{
    size_t header_len = swlog__load_u16(out->p + SWLOG__OFF_HEADER_LEN);
    size_t payload_at = header_len + SWLOG_SIG_BYTES;
    if (out->len > SWLOG_MAX_BODY)
        return abort_body(out, swlog__fail(err, SWLOG_EBOUNDS, 0,
                                           "body of %zu bytes, maximum %u",
                                           out->len, SWLOG_MAX_BODY));
    size_t payload_len = out->len - payload_at;
    swlog__store_u32(out->p + SWLOG__OFF_PAYLOAD_LEN, (uint32_t)payload_len);
    swlog_hash_ctx(SWLOG_CTX_PAYLOAD, out->p + payload_at, payload_len,
                   out->p + SWLOG__OFF_PAYLOAD_HASH);
    uint8_t id[SWLOG_HASH_BYTES];
    swlog__frame_id(out->p, header_len, id);
    swlog__frame_sign(sk, id, out->p + header_len);
    return SWLOG_OK;
}
