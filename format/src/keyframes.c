/* Encoding and decoding of the key and checkpoint frames: FORMAT §7.2
 * (certificate), §7.3 (rotation), §7.4 (revocation), §7.5 (checkpoint). */
#include "crypto_int.h"
#include "frame_int.h"

#include <inttypes.h>
#include <string.h>

/* Type-field offsets (FORMAT §7.2-§7.5). */
#define CERT_SUBJECT 120
#define CERT_ROLE 152
#define CERT_FROM 153
#define CERT_UNTIL 161
#define CERT_UNIT_LEN 169
#define CERT_UNIT 170
#define ROT_NEW_KEY 120
#define ROT_NEW_SIG 152
#define ROT_HEADER 216
#define REV_SUBJECT 120
#define REV_FROM_SEQ 152
#define REV_FROM_TIME 160
#define REV_REASON 168
#define REV_HEADER 169
#define CKP_SIZE 120
#define CKP_ROOT 128
#define CKP_HEADER 160

/* FORMAT §7.5: the empty tree has exactly one root, SHA-256(""). */
static const uint8_t empty_root[SWLOG_HASH_BYTES] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
    0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
    0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};

/* ---- decoding ---------------------------------------------------------- */

#define FIT(f, ends, err)                                                     \
    swlog__fields_fit((f), (ends), sizeof(ends) / sizeof((ends)[0]), (err))

/* FORMAT §7: these frames carry no payload; any byte there is trailing. */
static int no_payload(const swlog_frame *f, swlog_error *err)
{
    if (f->payload_len != 0)
        return swlog__fail(err, SWLOG_ENONCANON,
                           (uint64_t)f->header_len + SWLOG_SIG_BYTES,
                           "%" PRIu32 " payload bytes in a frame without "
                           "payload",
                           f->payload_len);
    return SWLOG_OK;
}

static int role_valid(uint8_t role)
{
    return role >= SWLOG_ROLE_ROOT && role <= SWLOG_ROLE_STATION;
}

static int reason_valid(uint8_t reason)
{
    return reason >= SWLOG_REASON_UNSPECIFIED &&
           reason <= SWLOG_REASON_SUPERSEDED;
}

int swlog__cert_decode(swlog_frame *f, unsigned flags, swlog_error *err)
{
    (void)flags;
    const uint8_t *b = f->body;
    static const size_t fixed[] = {CERT_ROLE, CERT_FROM, CERT_UNTIL,
                                   CERT_UNIT_LEN, CERT_UNIT};
    if (f->header_len < CERT_UNIT)
        return FIT(f, fixed, err);
    uint8_t unit_len = b[CERT_UNIT_LEN];
    if (unit_len == 0)
        return swlog__fail(err, SWLOG_EINVAL, CERT_UNIT_LEN, "empty unit");
    if (unit_len > SWLOG_MAX_UNIT)
        return swlog__fail(err, SWLOG_EBOUNDS, CERT_UNIT_LEN,
                           "unit_len %u, maximum %u", (unsigned)unit_len,
                           SWLOG_MAX_UNIT);
    const size_t ends[] = {CERT_ROLE,     CERT_FROM, CERT_UNTIL,
                           CERT_UNIT_LEN, CERT_UNIT, (size_t)CERT_UNIT + unit_len};
    int rc = FIT(f, ends, err);
    if (rc != SWLOG_OK)
        return rc;
    uint8_t role = b[CERT_ROLE];
    if (!role_valid(role))
        return swlog__fail(err, SWLOG_EINVAL, CERT_ROLE, "unknown role %u",
                           (unsigned)role);
    uint64_t from = swlog__load_u64(b + CERT_FROM);
    uint64_t until = swlog__load_u64(b + CERT_UNTIL);
    if (until <= from)
        return swlog__fail(err, SWLOG_EINVAL, CERT_UNTIL,
                           "valid_until not after valid_from");
    if (!swlog__unit_valid(b + CERT_UNIT, unit_len))
        return swlog__fail(err, SWLOG_EINVAL, CERT_UNIT,
                           "unit code is not [0-9A-Za-z-]");
    rc = no_payload(f, err);
    if (rc != SWLOG_OK)
        return rc;
    memcpy(f->u.cert.subject, b + CERT_SUBJECT, SWLOG_PUBKEY_BYTES);
    f->u.cert.role = role;
    f->u.cert.valid_from = from;
    f->u.cert.valid_until = until;
    memcpy(f->u.cert.unit, b + CERT_UNIT, unit_len);
    f->u.cert.unit[unit_len] = '\0';
    return SWLOG_OK;
}

int swlog__rotation_decode(swlog_frame *f, unsigned flags, swlog_error *err)
{
    const uint8_t *b = f->body;
    static const size_t ends[] = {ROT_NEW_SIG, ROT_HEADER};
    int rc = FIT(f, ends, err);
    if (rc != SWLOG_OK)
        return rc;
    if (memcmp(b + ROT_NEW_KEY, f->signer, SWLOG_PUBKEY_BYTES) == 0)
        return swlog__fail(err, SWLOG_EINVAL, ROT_NEW_KEY,
                           "new_key is the signer");
    if ((flags & SWLOG_DECODE_NO_SIG) == 0 &&
        !swlog__rotate_verify(b + ROT_NEW_KEY, f->signer, f->seq,
                              b + ROT_NEW_SIG))
        return swlog__fail(err, SWLOG_ESIG, ROT_NEW_SIG,
                           "new_sig does not verify under new_key");
    rc = no_payload(f, err);
    if (rc != SWLOG_OK)
        return rc;
    memcpy(f->u.rotation.new_key, b + ROT_NEW_KEY, SWLOG_PUBKEY_BYTES);
    memcpy(f->u.rotation.new_sig, b + ROT_NEW_SIG, SWLOG_SIG_BYTES);
    return SWLOG_OK;
}

int swlog__revocation_decode(swlog_frame *f, unsigned flags,
                             swlog_error *err)
{
    (void)flags;
    const uint8_t *b = f->body;
    static const size_t ends[] = {REV_FROM_SEQ, REV_FROM_TIME, REV_REASON,
                                  REV_HEADER};
    int rc = FIT(f, ends, err);
    if (rc != SWLOG_OK)
        return rc;
    uint64_t from_seq = swlog__load_u64(b + REV_FROM_SEQ);
    uint64_t from_time = swlog__load_u64(b + REV_FROM_TIME);
    if (from_seq == 0 && from_time == 0)
        return swlog__fail(err, SWLOG_EINVAL, REV_FROM_SEQ,
                           "from_seq and from_time both 0");
    if (!reason_valid(b[REV_REASON]))
        return swlog__fail(err, SWLOG_EINVAL, REV_REASON,
                           "unknown reason %u", (unsigned)b[REV_REASON]);
    rc = no_payload(f, err);
    if (rc != SWLOG_OK)
        return rc;
    memcpy(f->u.revocation.subject, b + REV_SUBJECT, SWLOG_PUBKEY_BYTES);
    f->u.revocation.from_seq = from_seq;
    f->u.revocation.from_time = from_time;
    f->u.revocation.reason = b[REV_REASON];
    return SWLOG_OK;
}

int swlog__checkpoint_decode(swlog_frame *f, unsigned flags,
                             swlog_error *err)
{
    (void)flags;
    const uint8_t *b = f->body;
    static const size_t ends[] = {CKP_ROOT, CKP_HEADER};
    int rc = FIT(f, ends, err);
    if (rc != SWLOG_OK)
        return rc;
    if (swlog__load_u64(b + CKP_SIZE) == 0 &&
        memcmp(b + CKP_ROOT, empty_root, SWLOG_HASH_BYTES) != 0)
        return swlog__fail(err, SWLOG_EINVAL, CKP_ROOT,
                           "tree_size 0 with a root other than SHA-256(\"\")");
    rc = no_payload(f, err);
    if (rc != SWLOG_OK)
        return rc;
    f->u.checkpoint.tree_size = swlog__load_u64(b + CKP_SIZE);
    memcpy(f->u.checkpoint.root, b + CKP_ROOT, SWLOG_HASH_BYTES);
    return SWLOG_OK;
}

/* ---- encoding ---------------------------------------------------------- */

/* A frame whose type fields are the fixed bytes f[0..n) and whose payload
 * is empty. */
static int encode_fields(uint8_t type, const uint8_t sk[SWLOG_SECKEY_BYTES],
                         const swlog_head *h, const uint8_t *fields, size_t n,
                         swlog_buf *out, swlog_error *err)
{
    int rc = swlog__frame_begin(out, type, sk, h, err);
    if (rc != SWLOG_OK)
        return rc;
    rc = swlog_buf_append(out, fields, n);
    if (rc != SWLOG_OK) {
        out->len = 0;
        return swlog__fail(err, rc, 0, "out of memory");
    }
    rc = swlog__frame_end_header(out, err);
    if (rc != SWLOG_OK)
        return rc;
    return swlog__frame_finish(out, sk, err);
}

int swlog_cert_encode(const uint8_t sk[SWLOG_SECKEY_BYTES],
                      const swlog_head *h,
                      const uint8_t subject[SWLOG_PUBKEY_BYTES], uint8_t role,
                      uint64_t valid_from, uint64_t valid_until,
                      const char *unit, swlog_buf *out, swlog_error *err)
{
    if (subject == NULL || unit == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    if (!role_valid(role))
        return swlog__fail(err, SWLOG_EARG, 0, "unknown role %u",
                           (unsigned)role);
    if (valid_until <= valid_from)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "valid_until not after valid_from");
    size_t unit_len = strlen(unit);
    if (unit_len > SWLOG_MAX_UNIT)
        return swlog__fail(err, SWLOG_EBOUNDS, 0, "unit of %zu bytes, "
                           "maximum %u", unit_len, SWLOG_MAX_UNIT);
    if (!swlog__unit_valid((const uint8_t *)unit, unit_len))
        return swlog__fail(err, SWLOG_EARG, 0,
                           "unit code is not 1+ of [0-9A-Za-z-]");
    uint8_t f[CERT_UNIT - 120 + SWLOG_MAX_UNIT];
    memcpy(f + CERT_SUBJECT - 120, subject, SWLOG_PUBKEY_BYTES);
    f[CERT_ROLE - 120] = role;
    swlog__store_u64(f + CERT_FROM - 120, valid_from);
    swlog__store_u64(f + CERT_UNTIL - 120, valid_until);
    f[CERT_UNIT_LEN - 120] = (uint8_t)unit_len;
    memcpy(f + CERT_UNIT - 120, unit, unit_len);
    return encode_fields(SWLOG_TYPE_CERT, sk, h, f,
                         CERT_UNIT - 120 + unit_len, out, err);
}

int swlog_rotation_encode(const uint8_t old_sk[SWLOG_SECKEY_BYTES],
                          const uint8_t new_sk[SWLOG_SECKEY_BYTES],
                          const swlog_head *h, swlog_buf *out,
                          swlog_error *err)
{
    if (old_sk == NULL || new_sk == NULL || h == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    const uint8_t *old_pk = swlog__sk_pk(old_sk);
    const uint8_t *new_pk = swlog__sk_pk(new_sk);
    if (memcmp(old_pk, new_pk, SWLOG_PUBKEY_BYTES) == 0)
        return swlog__fail(err, SWLOG_EARG, 0, "new key is the old key");
    uint8_t f[ROT_HEADER - 120];
    memcpy(f + ROT_NEW_KEY - 120, new_pk, SWLOG_PUBKEY_BYTES);
    swlog__rotate_sign(new_sk, old_pk, h->seq, f + ROT_NEW_SIG - 120);
    return encode_fields(SWLOG_TYPE_ROTATION, old_sk, h, f, sizeof f, out,
                         err);
}

int swlog_revocation_encode(const uint8_t sk[SWLOG_SECKEY_BYTES],
                            const swlog_head *h,
                            const uint8_t subject[SWLOG_PUBKEY_BYTES],
                            uint64_t from_seq, uint64_t from_time,
                            uint8_t reason, swlog_buf *out, swlog_error *err)
{
    if (subject == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    if (from_seq == 0 && from_time == 0)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "from_seq and from_time both 0");
    if (!reason_valid(reason))
        return swlog__fail(err, SWLOG_EARG, 0, "unknown reason %u",
                           (unsigned)reason);
    uint8_t f[REV_HEADER - 120];
    memcpy(f + REV_SUBJECT - 120, subject, SWLOG_PUBKEY_BYTES);
    swlog__store_u64(f + REV_FROM_SEQ - 120, from_seq);
    swlog__store_u64(f + REV_FROM_TIME - 120, from_time);
    f[REV_REASON - 120] = reason;
    return encode_fields(SWLOG_TYPE_REVOCATION, sk, h, f, sizeof f, out, err);
}

int swlog_checkpoint_encode(const uint8_t sk[SWLOG_SECKEY_BYTES],
                            const swlog_head *h, uint64_t tree_size,
                            const uint8_t root[SWLOG_HASH_BYTES],
                            swlog_buf *out, swlog_error *err)
{
    if (root == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    if (tree_size == 0 && memcmp(root, empty_root, SWLOG_HASH_BYTES) != 0)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "tree_size 0 needs the empty tree's root");
    uint8_t f[CKP_HEADER - 120];
    swlog__store_u64(f + CKP_SIZE - 120, tree_size);
    memcpy(f + CKP_ROOT - 120, root, SWLOG_HASH_BYTES);
    return encode_fields(SWLOG_TYPE_CHECKPOINT, sk, h, f, sizeof f, out, err);
}
