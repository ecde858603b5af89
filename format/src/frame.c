/* Decoding and verification of one frame body: the common layout of FORMAT
 * §4.1-§4.3 and dispatch to the type decoders of §5 and §7. */
#include "crypto_int.h"
#include "frame_int.h"

#include <inttypes.h>
#include <string.h>

typedef int (*type_decoder)(swlog_frame *f, unsigned flags, swlog_error *err);

static type_decoder decoder_for(uint8_t type)
{
    switch (type) {
    case SWLOG_TYPE_CHANGESET:
        return swlog__changeset_decode;
    case SWLOG_TYPE_CERT:
        return swlog__cert_decode;
    case SWLOG_TYPE_ROTATION:
        return swlog__rotation_decode;
    case SWLOG_TYPE_REVOCATION:
        return swlog__revocation_decode;
    case SWLOG_TYPE_CHECKPOINT:
        return swlog__checkpoint_decode;
    default:
        return NULL;
    }
}

static int is_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* FORMAT §4.1, the constraints up to the body length, in the listed order. */
static int decode_common(const uint8_t *body, size_t len, swlog_frame *f,
                         swlog_error *err)
{
    if (len < SWLOG_COMMON_HEADER_BYTES)
        return swlog__fail(err, SWLOG_ESHORT, 0,
                           "body of %zu bytes, the common header needs %u",
                           len, SWLOG_COMMON_HEADER_BYTES);
    f->body = body;
    f->body_len = len;
    f->type = body[SWLOG__OFF_TYPE];
    if (body[SWLOG__OFF_LAYOUT] != SWLOG_LAYOUT)
        return swlog__fail(err, SWLOG_EVERSION, SWLOG__OFF_LAYOUT,
                           "layout %u, expected %u",
                           (unsigned)body[SWLOG__OFF_LAYOUT], SWLOG_LAYOUT);
    f->header_len = swlog__load_u16(body + SWLOG__OFF_HEADER_LEN);
    if (f->header_len < SWLOG_COMMON_HEADER_BYTES ||
        f->header_len > SWLOG_MAX_HEADER)
        return swlog__fail(err, SWLOG_EBOUNDS, SWLOG__OFF_HEADER_LEN,
                           "header_len %u outside %u..%u",
                           (unsigned)f->header_len, SWLOG_COMMON_HEADER_BYTES,
                           SWLOG_MAX_HEADER);
    memcpy(f->signer, body + SWLOG__OFF_SIGNER, SWLOG_PUBKEY_BYTES);
    f->seq = swlog__load_u64(body + SWLOG__OFF_SEQ);
    if (f->seq == 0)
        return swlog__fail(err, SWLOG_EINVAL, SWLOG__OFF_SEQ, "seq 0");
    memcpy(f->prev, body + SWLOG__OFF_PREV, SWLOG_HASH_BYTES);
    if (f->seq == 1 && !is_zero(f->prev, SWLOG_HASH_BYTES))
        return swlog__fail(err, SWLOG_ENONCANON, SWLOG__OFF_PREV,
                           "seq 1 with a nonzero prev");
    f->hlc = swlog__load_u64(body + SWLOG__OFF_HLC);
    f->payload_len = swlog__load_u32(body + SWLOG__OFF_PAYLOAD_LEN);
    /* FORMAT §4.1, §10: payload_len alone, and the whole body, within
     * MAX_BODY; checked before the length is used for anything. */
    size_t room = SWLOG_MAX_BODY - f->header_len - SWLOG_SIG_BYTES;
    if (f->payload_len > room)
        return swlog__fail(err, SWLOG_EBOUNDS, SWLOG__OFF_PAYLOAD_LEN,
                           "payload_len %" PRIu32 " makes the body exceed %u",
                           f->payload_len, SWLOG_MAX_BODY);
    size_t sig_at = f->header_len;
    size_t payload_at = sig_at + SWLOG_SIG_BYTES;
    size_t want = payload_at + f->payload_len;
    if (len < want) {
        /* FORMAT §11.2 item 8: a body shorter than its own lengths say is
         * cut short as a whole, like a frame in a file (§3.3). */
        return swlog__fail(err, SWLOG_ESHORT, 0,
                           "body of %zu bytes, header and payload need %zu",
                           len, want);
    }
    if (len > want)
        return swlog__fail(err, SWLOG_ENONCANON, want,
                           "%zu trailing bytes after the payload", len - want);
    f->sig = body + sig_at;
    f->payload = body + payload_at;
    return SWLOG_OK;
}

int swlog__fields_fit(const swlog_frame *f, const size_t *ends, size_t n,
                      swlog_error *err)
{
    size_t start = SWLOG_COMMON_HEADER_BYTES;
    for (size_t i = 0; i < n; i++) {
        if (ends[i] > f->header_len)
            return swlog__fail(err, SWLOG_ENONCANON, start,
                               "header_len %u ends inside a type field "
                               "that needs bytes %zu..%zu",
                               (unsigned)f->header_len, start, ends[i]);
        start = ends[i];
    }
    if (f->header_len > start)
        return swlog__fail(err, SWLOG_ENONCANON, start,
                           "%zu bytes after the last type field",
                           (size_t)f->header_len - start);
    return SWLOG_OK;
}

int swlog_frame_decode(const uint8_t *body, size_t len, unsigned flags,
                       swlog_frame *out, swlog_error *err)
{
    if ((body == NULL && len > 0) || out == NULL ||
        (flags & ~SWLOG_DECODE_NO_SIG) != 0)
        return swlog__fail(err, SWLOG_EARG, 0, "bad arguments");
    swlog_frame f;
    memset(&f, 0, sizeof f);
    int rc = decode_common(body, len, &f, err);
    if (rc != SWLOG_OK)
        return rc;

    type_decoder dec = decoder_for(f.type);
    if (dec != NULL) {
        f.known = 1;
        rc = dec(&f, flags, err);
        if (rc != SWLOG_OK)
            return rc;
    } else if (f.type & SWLOG_TYPE_CRITICAL) {
        return swlog__fail(err, SWLOG_ECRITICAL, SWLOG__OFF_TYPE,
                           "unknown critical frame type 0x%02x",
                           (unsigned)f.type);
    } else if (f.type == 0) {
        /* FORMAT §4.2: non-critical types are 0x01-0x7f; 0 is none. */
        return swlog__fail(err, SWLOG_EINVAL, SWLOG__OFF_TYPE,
                           "frame type 0");
    }

    uint8_t h[SWLOG_HASH_BYTES];
    swlog_hash_ctx(SWLOG_CTX_PAYLOAD, f.payload, f.payload_len, h);
    if (memcmp(h, body + SWLOG__OFF_PAYLOAD_HASH, SWLOG_HASH_BYTES) != 0)
        return swlog__fail(err, SWLOG_EHASH, SWLOG__OFF_PAYLOAD_HASH,
                           "payload hash mismatch");

    swlog__frame_id(body, f.header_len, f.id);
    if ((flags & SWLOG_DECODE_NO_SIG) == 0 &&
        !swlog__frame_verify(f.signer, f.id, f.sig))
        return swlog__fail(err, SWLOG_ESIG, f.header_len,
                           "frame signature does not verify under signer");
    *out = f;
    return SWLOG_OK;
}
