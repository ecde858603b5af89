/* Check suite for frame bodies: FORMAT §4 (common layout, error order,
 * frame id, signature) and the key and checkpoint frames of §7. */
#include "craft.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static uint8_t pk1[32], sk1[64], pk2[32], sk2[64], pk3[32], sk3[64];

static void setup(void)
{
    test_key(1, pk1, sk1);
    test_key(2, pk2, sk2);
    test_key(3, pk3, sk3);
}

static swlog_head head(uint64_t seq, uint64_t hlc)
{
    swlog_head h;
    memset(&h, 0, sizeof h);
    h.seq = seq;
    if (seq > 1)
        memset(h.prev, 0xa5, sizeof h.prev);
    h.hlc = hlc;
    return h;
}

static int decode(const uint8_t *b, size_t n, swlog_frame *f,
                  swlog_error *err)
{
    return swlog_frame_decode(b, n, 0, f, err);
}

/* Decode and expect code at offset, with *out left untouched on failure. */
static void expect(const uint8_t *b, size_t n, unsigned flags, int code,
                   long long at)
{
    swlog_frame f;
    memset(&f, 0x5a, sizeof f);
    swlog_error err = {0};
    int rc = swlog_frame_decode(b, n, flags, &f, &err);
    ck_assert_msg(rc == code, "got %s (%s @%llu), want %s",
                  swlog_code_name(rc), err.msg,
                  (unsigned long long)err.offset, swlog_code_name(code));
    if (code != SWLOG_OK) {
        ck_assert_int_eq(err.code, code);
        ck_assert_str_ne(err.msg, "");
        if (at >= 0)
            ck_assert_msg(err.offset == (uint64_t)at,
                          "offset %llu, want %lld (%s)",
                          (unsigned long long)err.offset, at, err.msg);
        uint8_t pattern[sizeof f];
        memset(pattern, 0x5a, sizeof pattern);
        ck_assert_mem_eq(&f, pattern, sizeof f);
    }
}

static void expect_crafted(const craft *c, const uint8_t *sk, int code,
                           long long at)
{
    size_t n;
    uint8_t *b = craft_body(c, sk, &n);
    expect(b, n, 0, code, at);
    free(b);
}

/* The common header as the encoder must have written it. */
static void check_common(const swlog_frame *f, const uint8_t *body,
                         size_t len, uint8_t type, const uint8_t *signer,
                         const swlog_head *h)
{
    ck_assert_ptr_eq(f->body, body);
    ck_assert_uint_eq(f->body_len, len);
    ck_assert_uint_eq(f->type, type);
    ck_assert_int_eq(f->known, 1);
    ck_assert_uint_eq(body[0], type);
    ck_assert_uint_eq(body[1], 1);
    ck_assert_uint_eq((unsigned)body[2] << 8 | body[3], f->header_len);
    ck_assert_mem_eq(f->signer, signer, 32);
    ck_assert_uint_eq(f->seq, h->seq);
    ck_assert_mem_eq(f->prev, h->prev, 32);
    ck_assert_uint_eq(f->hlc, h->hlc);
    ck_assert_uint_eq(f->header_len + 64u + f->payload_len, len);
    ck_assert_ptr_eq(f->sig, body + f->header_len);
    ck_assert_ptr_eq(f->payload, body + f->header_len + 64);
    /* Frame id and signature, recomputed independently (FORMAT §4.3). */
    uint8_t id[32], msg[46];
    craft_hash_ctx("swsync/frame-id/v1", body, f->header_len, id);
    ck_assert_mem_eq(f->id, id, 32);
    memcpy(msg, "swsync/sig/v1", 14);
    memcpy(msg + 14, id, 32);
    ck_assert_int_eq(
        crypto_sign_verify_detached(f->sig, msg, sizeof msg, signer), 0);
    uint8_t ph[32];
    craft_hash_ctx("swsync/payload/v1", f->payload, f->payload_len, ph);
    ck_assert_mem_eq(body + 88, ph, 32);
}

/* ---- one encoded frame of each type ---------------------------------- */

enum { F_CERT, F_ROTATION, F_REVOCATION, F_CHECKPOINT, F_CHANGESET, F_N };

static void encode_kind(int kind, swlog_buf *out)
{
    swlog_head h = head(7, 0x0000018c2a5b3c4dull << 16 | 3);
    uint8_t root[32];
    for (int i = 0; i < 32; i++)
        root[i] = (uint8_t)(0xf0 ^ i);
    swlog_error err = {0};
    int rc = SWLOG_EARG;
    switch (kind) {
    case F_CERT:
        rc = swlog_cert_encode(sk1, &h, pk2, SWLOG_ROLE_STATION, 1000, 2000,
                               "440983102000-01", out, &err);
        break;
    case F_ROTATION:
        rc = swlog_rotation_encode(sk1, sk3, &h, out, &err);
        break;
    case F_REVOCATION:
        rc = swlog_revocation_encode(sk1, &h, pk2, 12, 0,
                                     SWLOG_REASON_COMPROMISED, out, &err);
        break;
    case F_CHECKPOINT:
        rc = swlog_checkpoint_encode(sk1, &h, 12345, root, out, &err);
        break;
    case F_CHANGESET: {
        swlog_cs *cs = swlog_cs_new();
        ck_assert_ptr_nonnull(cs);
        const uint8_t row[16] = {1, 2, 3};
        swlog_value v = {.type = SWLOG_INT, .i = -5};
        ck_assert_int_eq(swlog_cs_upsert(cs, "visit", row, h.hlc - 9, &err),
                         SWLOG_OK);
        ck_assert_int_eq(swlog_cs_value(cs, "weight", 0, &v, &err), SWLOG_OK);
        rc = swlog_cs_seal(cs, sk1, &h, 1, "op", out, &err);
        swlog_cs_free(cs);
        break;
    }
    }
    ck_assert_msg(rc == SWLOG_OK, "encode %d: %s", kind, err.msg);
}

START_TEST(round_trip_cert)
{
    swlog_buf b;
    swlog_buf_init(&b);
    encode_kind(F_CERT, &b);
    swlog_frame f;
    ck_assert_int_eq(decode(b.p, b.len, &f, NULL), SWLOG_OK);
    swlog_head h = head(7, 0x0000018c2a5b3c4dull << 16 | 3);
    check_common(&f, b.p, b.len, SWLOG_TYPE_CERT, pk1, &h);
    ck_assert_uint_eq(f.header_len, 170 + 15);
    ck_assert_uint_eq(f.payload_len, 0);
    ck_assert_mem_eq(f.u.cert.subject, pk2, 32);
    ck_assert_uint_eq(f.u.cert.role, SWLOG_ROLE_STATION);
    ck_assert_uint_eq(f.u.cert.valid_from, 1000);
    ck_assert_uint_eq(f.u.cert.valid_until, 2000);
    ck_assert_str_eq(f.u.cert.unit, "440983102000-01");
    swlog_buf_clear(&b);
}
END_TEST

START_TEST(round_trip_rotation)
{
    swlog_buf b;
    swlog_buf_init(&b);
    encode_kind(F_ROTATION, &b);
    swlog_frame f;
    ck_assert_int_eq(decode(b.p, b.len, &f, NULL), SWLOG_OK);
    swlog_head h = head(7, 0x0000018c2a5b3c4dull << 16 | 3);
    check_common(&f, b.p, b.len, SWLOG_TYPE_ROTATION, pk1, &h);
    ck_assert_uint_eq(f.header_len, 216);
    ck_assert_mem_eq(f.u.rotation.new_key, pk3, 32);
    /* FORMAT §7.3: new_sig over the 89-byte message, by the new key. */
    uint8_t msg[89];
    memcpy(msg, "swsync/rotate/v1", 17);
    memcpy(msg + 17, pk1, 32);
    craft_store(msg + 49, 7, 8);
    memcpy(msg + 57, pk3, 32);
    ck_assert_int_eq(crypto_sign_verify_detached(f.u.rotation.new_sig, msg,
                                                 sizeof msg, pk3),
                     0);
    swlog_buf_clear(&b);
}
END_TEST

START_TEST(round_trip_revocation)
{
    swlog_buf b;
    swlog_buf_init(&b);
    encode_kind(F_REVOCATION, &b);
    swlog_frame f;
    ck_assert_int_eq(decode(b.p, b.len, &f, NULL), SWLOG_OK);
    swlog_head h = head(7, 0x0000018c2a5b3c4dull << 16 | 3);
    check_common(&f, b.p, b.len, SWLOG_TYPE_REVOCATION, pk1, &h);
    ck_assert_uint_eq(f.header_len, 169);
    ck_assert_mem_eq(f.u.revocation.subject, pk2, 32);
    ck_assert_uint_eq(f.u.revocation.from_seq, 12);
    ck_assert_uint_eq(f.u.revocation.from_time, 0);
    ck_assert_uint_eq(f.u.revocation.reason, SWLOG_REASON_COMPROMISED);
    swlog_buf_clear(&b);
}
END_TEST

START_TEST(round_trip_checkpoint)
{
    swlog_buf b;
    swlog_buf_init(&b);
    encode_kind(F_CHECKPOINT, &b);
    swlog_frame f;
    ck_assert_int_eq(decode(b.p, b.len, &f, NULL), SWLOG_OK);
    swlog_head h = head(7, 0x0000018c2a5b3c4dull << 16 | 3);
    check_common(&f, b.p, b.len, SWLOG_TYPE_CHECKPOINT, pk1, &h);
    ck_assert_uint_eq(f.header_len, 160);
    ck_assert_uint_eq(b.len, 224);
    ck_assert_uint_eq(f.u.checkpoint.tree_size, 12345);
    for (int i = 0; i < 32; i++)
        ck_assert_uint_eq(f.u.checkpoint.root[i], 0xf0 ^ i);
    swlog_buf_clear(&b);
}
END_TEST

START_TEST(round_trip_changeset_header)
{
    swlog_buf b;
    swlog_buf_init(&b);
    encode_kind(F_CHANGESET, &b);
    swlog_frame f;
    ck_assert_int_eq(decode(b.p, b.len, &f, NULL), SWLOG_OK);
    swlog_head h = head(7, 0x0000018c2a5b3c4dull << 16 | 3);
    check_common(&f, b.p, b.len, SWLOG_TYPE_CHANGESET, pk1, &h);
    ck_assert_uint_eq(f.header_len, 129 + 2);
    ck_assert_uint_eq(f.u.changeset.schema_version, 1);
    ck_assert_uint_eq(f.u.changeset.record_count, 1);
    ck_assert_uint_eq(f.u.changeset.author_len, 2);
    ck_assert_mem_eq(f.u.changeset.author, "op", 2);
    ck_assert_ptr_eq(f.u.changeset.author, b.p + 129);
    swlog_buf_clear(&b);
}
END_TEST

/* The first frame of a feed: seq 1 and a zero prev. */
START_TEST(round_trip_seq_one)
{
    swlog_head h = head(1, 5);
    uint8_t root[32] = {0};
    swlog_buf b;
    swlog_buf_init(&b);
    /* FORMAT §7.5: size 0 takes the empty tree's root and no other. */
    ck_assert_int_eq(swlog_checkpoint_encode(sk2, &h, 0, root, &b, NULL),
                     SWLOG_EARG);
    swlog_sha256(root, 0, root);
    ck_assert_int_eq(swlog_checkpoint_encode(sk2, &h, 0, root, &b, NULL),
                     SWLOG_OK);
    swlog_frame f;
    ck_assert_int_eq(decode(b.p, b.len, &f, NULL), SWLOG_OK);
    check_common(&f, b.p, b.len, SWLOG_TYPE_CHECKPOINT, pk2, &h);
    swlog_buf_clear(&b);
}
END_TEST

/* ---- damage ------------------------------------------------------------ */

/* Every prefix of a signed body is ESHORT (FORMAT §4.1: the lengths are
 * checked before anything that a cut could make look wrong). */
START_TEST(every_truncation_refused)
{
    for (int k = 0; k < F_N; k++) {
        swlog_buf b;
        swlog_buf_init(&b);
        encode_kind(k, &b);
        for (size_t n = 0; n < b.len; n++) {
            /* A fresh copy of exactly n bytes, so ASan sees any overread. */
            uint8_t *cut = malloc(n ? n : 1);
            memcpy(cut, b.p, n);
            expect(cut, n, 0, SWLOG_ESHORT, -1);
            expect(cut, n, SWLOG_DECODE_NO_SIG, SWLOG_ESHORT, -1);
            free(cut);
        }
        swlog_buf_clear(&b);
    }
}
END_TEST

/* Every bit of every small signed body matters. */
START_TEST(every_flipped_bit_detected)
{
    for (int k = 0; k < F_N; k++) {
        swlog_buf b;
        swlog_buf_init(&b);
        encode_kind(k, &b);
        swlog_frame f;
        ck_assert_int_eq(decode(b.p, b.len, &f, NULL), SWLOG_OK);
        size_t hl = f.header_len;
        for (size_t bit = 0; bit < b.len * 8; bit++) {
            b.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            swlog_error err = {0};
            int rc = decode(b.p, b.len, &f, &err);
            ck_assert_msg(rc != SWLOG_OK, "frame %d: bit %zu undetected", k,
                          bit);
            size_t at = bit / 8;
            if (at >= hl && at < hl + 64)
                ck_assert_int_eq(rc, SWLOG_ESIG); /* the signature */
            if (at >= 88 && at < 120)
                ck_assert_int_eq(rc, SWLOG_EHASH); /* payload_hash */
            b.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        ck_assert_int_eq(decode(b.p, b.len, &f, NULL), SWLOG_OK);
        swlog_buf_clear(&b);
    }
}
END_TEST

START_TEST(trailing_bytes_refused)
{
    for (int k = 0; k < F_N; k++) {
        swlog_buf b;
        swlog_buf_init(&b);
        encode_kind(k, &b);
        size_t n = b.len;
        ck_assert_int_eq(swlog_buf_append(&b, "\0", 1), SWLOG_OK);
        expect(b.p, b.len, 0, SWLOG_ENONCANON, (long long)n);
        swlog_buf_clear(&b);
    }
}
END_TEST

/* ---- the common header, FORMAT §4.1 ---------------------------------- */

static const uint8_t opaque[] = "opaque type fields";
static const uint8_t pl[] = "opaque payload";

static void craft_unknown(craft *c, uint8_t type)
{
    craft_init(c, type);
    c->seq = 3;
    memset(c->prev, 0x11, 32);
    c->hlc = 99;
    c->fields = opaque;
    c->nfields = sizeof opaque - 1;
    c->payload = pl;
    c->plen = sizeof pl - 1;
}

START_TEST(unknown_noncritical_accepted)
{
    craft c;
    static const uint8_t types[] = {0x01, 0x05, 0x7f};
    for (size_t i = 0; i < sizeof types; i++) {
        craft_unknown(&c, types[i]);
        size_t n;
        uint8_t *b = craft_body(&c, sk2, &n);
        swlog_frame f;
        swlog_error err = {0};
        ck_assert_int_eq(decode(b, n, &f, &err), SWLOG_OK);
        ck_assert_int_eq(f.known, 0);
        ck_assert_uint_eq(f.type, types[i]);
        ck_assert_uint_eq(f.seq, 3);
        ck_assert_uint_eq(f.hlc, 99);
        ck_assert_uint_eq(f.header_len, 120 + sizeof opaque - 1);
        ck_assert_uint_eq(f.payload_len, sizeof pl - 1);
        ck_assert_mem_eq(f.payload, pl, sizeof pl - 1);
        ck_assert_mem_eq(f.signer, pk2, 32);
        /* Its signature and payload hash are still checked. */
        b[n - 1] ^= 1;
        expect(b, n, 0, SWLOG_EHASH, 88);
        b[n - 1] ^= 1;
        b[120] ^= 1;
        expect(b, n, 0, SWLOG_ESIG, 120 + sizeof opaque - 1);
        free(b);
    }
}
END_TEST

START_TEST(unknown_critical_refused)
{
    craft c;
    static const uint8_t types[] = {0x80, 0x86, 0xc0, 0xff};
    for (size_t i = 0; i < sizeof types; i++) {
        craft_unknown(&c, types[i]);
        expect_crafted(&c, sk2, SWLOG_ECRITICAL, 0);
    }
    /* FORMAT §4.2: 0x00 is neither a critical nor a non-critical type. */
    craft_unknown(&c, 0x00);
    expect_crafted(&c, sk2, SWLOG_EINVAL, 0);
}
END_TEST

START_TEST(layout_must_be_one)
{
    craft c;
    craft_unknown(&c, 0x05);
    c.layout = 2;
    expect_crafted(&c, sk1, SWLOG_EVERSION, 1);
    c.layout = 0xff;
    expect_crafted(&c, sk1, SWLOG_EVERSION, 1);
    /* Layout comes before the seq check. */
    c.layout = 2;
    c.seq_zero = 1;
    expect_crafted(&c, sk1, SWLOG_EVERSION, 1);
}
END_TEST

START_TEST(header_len_bounds)
{
    craft c;
    craft_unknown(&c, 0x05);
    c.header_len = 119;
    expect_crafted(&c, sk1, SWLOG_EBOUNDS, 2);
    c.header_len = 0;
    expect_crafted(&c, sk1, SWLOG_EBOUNDS, 2);
    c.header_len = 1025;
    expect_crafted(&c, sk1, SWLOG_EBOUNDS, 2);
    c.header_len = 0xffff;
    expect_crafted(&c, sk1, SWLOG_EBOUNDS, 2);
    /* Both ends of the range are accepted. */
    uint8_t big[1024 - 120];
    memset(big, 0x33, sizeof big);
    craft_unknown(&c, 0x05);
    c.fields = big;
    c.nfields = sizeof big;
    expect_crafted(&c, sk1, SWLOG_OK, -1);
    c.fields = NULL;
    c.nfields = 0;
    expect_crafted(&c, sk1, SWLOG_OK, -1);
    /* A header_len that disagrees with the bytes: short, or trailing. */
    craft_unknown(&c, 0x05);
    c.header_len = 120 + (long)c.nfields + 1;
    expect_crafted(&c, sk1, SWLOG_ESHORT, -1);
    c.header_len = 120 + (long)c.nfields - 1;
    expect_crafted(&c, sk1, SWLOG_ENONCANON, -1);
}
END_TEST

START_TEST(seq_zero_and_first_prev)
{
    craft c;
    craft_unknown(&c, 0x05);
    c.seq_zero = 1;
    expect_crafted(&c, sk1, SWLOG_EINVAL, 36);
    craft_unknown(&c, 0x05);
    c.seq = 1; /* prev is nonzero */
    expect_crafted(&c, sk1, SWLOG_ENONCANON, 44);
    for (int i = 0; i < 32; i++) {
        memset(c.prev, 0, 32);
        c.prev[i] = 0x80;
        expect_crafted(&c, sk1, SWLOG_ENONCANON, 44);
    }
    memset(c.prev, 0, 32);
    expect_crafted(&c, sk1, SWLOG_OK, -1);
    /* seq 2 may have any prev, including zero (checked by chains). */
    c.seq = 2;
    expect_crafted(&c, sk1, SWLOG_OK, -1);
}
END_TEST

START_TEST(payload_len_bounds_and_mismatch)
{
    craft c;
    craft_unknown(&c, 0x05);
    c.payload_len = (long long)SWLOG_MAX_BODY + 1;
    expect_crafted(&c, sk1, SWLOG_EBOUNDS, 84);
    c.payload_len = 0xffffffffll;
    expect_crafted(&c, sk1, SWLOG_EBOUNDS, 84);
    /* The whole body must fit MAX_BODY too. */
    c.payload_len = (long long)SWLOG_MAX_BODY - 120 - (long long)c.nfields -
                    64 + 1;
    expect_crafted(&c, sk1, SWLOG_EBOUNDS, 84);
    /* Within bounds but more than present: the body is short (@0). */
    c.payload_len = (long long)c.plen + 1;
    expect_crafted(&c, sk1, SWLOG_ESHORT, 0);
    c.payload_len = (long long)c.plen - 1;
    expect_crafted(&c, sk1, SWLOG_ENONCANON,
                   (long long)(120 + c.nfields + 64 + c.plen - 1));
}
END_TEST

START_TEST(short_body_offsets)
{
    craft c;
    craft_unknown(&c, 0x05);
    size_t n;
    uint8_t *b = craft_body(&c, sk1, &n);
    size_t hl = 120 + c.nfields;
    expect(b, 0, 0, SWLOG_ESHORT, 0);
    expect(b, 119, 0, SWLOG_ESHORT, 0);
    /* FORMAT §11.2 item 8: a body shorter than its lengths say is short as
     * a whole, wherever it is cut. */
    expect(b, 120, 0, SWLOG_ESHORT, 0);     /* type fields cut */
    expect(b, hl, 0, SWLOG_ESHORT, 0);      /* signature cut */
    expect(b, hl + 63, 0, SWLOG_ESHORT, 0);
    expect(b, hl + 64, 0, SWLOG_ESHORT, 0); /* payload cut */
    expect(b, n - 1, 0, SWLOG_ESHORT, 0);
    expect(b, n, 0, SWLOG_OK, -1);
    free(b);
}
END_TEST

START_TEST(payload_hash_checked)
{
    craft c;
    craft_unknown(&c, 0x05);
    c.bad_hash = 1;
    expect_crafted(&c, sk1, SWLOG_EHASH, 88);
    /* Also without signature checks, and for an empty payload. */
    size_t n;
    uint8_t *b = craft_body(&c, sk1, &n);
    expect(b, n, SWLOG_DECODE_NO_SIG, SWLOG_EHASH, 88);
    free(b);
    c.payload = NULL;
    c.plen = 0;
    expect_crafted(&c, sk1, SWLOG_EHASH, 88);
    c.bad_hash = 0;
    expect_crafted(&c, sk1, SWLOG_OK, -1);
}
END_TEST

START_TEST(signature_checked)
{
    craft c;
    craft_unknown(&c, 0x05);
    /* Signed by key 1 but names key 2 as the signer. */
    c.signer = pk2;
    size_t n;
    uint8_t *b = craft_body(&c, sk1, &n);
    size_t hl = 120 + c.nfields;
    expect(b, n, 0, SWLOG_ESIG, (long long)hl);
    swlog_frame f;
    ck_assert_int_eq(swlog_frame_decode(b, n, SWLOG_DECODE_NO_SIG, &f, NULL),
                     SWLOG_OK);
    ck_assert_mem_eq(f.signer, pk2, 32);
    /* The id is computed even when signatures are skipped. */
    uint8_t id[32];
    craft_hash_ctx("swsync/frame-id/v1", b, hl, id);
    ck_assert_mem_eq(f.id, id, 32);
    free(b);
    /* An all-zero signature. */
    c.signer = NULL;
    b = craft_body(&c, sk1, &n);
    memset(b + hl, 0, 64);
    expect(b, n, 0, SWLOG_ESIG, (long long)hl);
    free(b);
}
END_TEST

START_TEST(decode_argument_checks)
{
    swlog_frame f;
    uint8_t b[200] = {0};
    ck_assert_int_eq(swlog_frame_decode(NULL, 10, 0, &f, NULL), SWLOG_EARG);
    ck_assert_int_eq(swlog_frame_decode(b, sizeof b, 0, NULL, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_frame_decode(b, sizeof b, 0x10, &f, NULL),
                     SWLOG_EARG);
}
END_TEST

/* ---- key frames, FORMAT §7 -------------------------------------------- */

static void cert_fields(uint8_t *f, uint8_t role, uint64_t from,
                        uint64_t until, const char *unit, uint8_t unit_len)
{
    memcpy(f, pk2, 32);
    f[32] = role;
    craft_store(f + 33, from, 8);
    craft_store(f + 41, until, 8);
    f[49] = unit_len;
    memcpy(f + 50, unit, strlen(unit));
}

START_TEST(cert_fields_checked)
{
    uint8_t f[50 + 40];
    craft c;
    craft_init(&c, SWLOG_TYPE_CERT);
    c.fields = f;
    cert_fields(f, 4, 1, 2, "U-1", 3);
    c.nfields = 53;
    expect_crafted(&c, sk1, SWLOG_OK, -1);
    cert_fields(f, 0, 1, 2, "U-1", 3);
    expect_crafted(&c, sk1, SWLOG_EINVAL, 152);
    cert_fields(f, 5, 1, 2, "U-1", 3);
    expect_crafted(&c, sk1, SWLOG_EINVAL, 152);
    cert_fields(f, 1, 2, 2, "U-1", 3);
    expect_crafted(&c, sk1, SWLOG_EINVAL, 161);
    cert_fields(f, 1, 3, 2, "U-1", 3);
    expect_crafted(&c, sk1, SWLOG_EINVAL, 161);
    cert_fields(f, 1, 1, 2, "U_1", 3);
    expect_crafted(&c, sk1, SWLOG_EINVAL, 170);
    /* unit_len disagreeing with header_len */
    cert_fields(f, 1, 1, 2, "U-1", 2);
    expect_crafted(&c, sk1, SWLOG_ENONCANON, 172); /* a byte left over */
    cert_fields(f, 1, 1, 2, "U-1", 4);
    expect_crafted(&c, sk1, SWLOG_ENONCANON, 170); /* the unit overruns */
    cert_fields(f, 1, 1, 2, "", 0);
    c.nfields = 50;
    expect_crafted(&c, sk1, SWLOG_EINVAL, 169);
    c.nfields = 49; /* no room for unit_len */
    expect_crafted(&c, sk1, SWLOG_ENONCANON, 169);
    /* MAX_UNIT accepted, one more refused. */
    const char *u32 = "abcdefghijklmnopqrstuvwxyzABCDEF";
    const char *u33 = "abcdefghijklmnopqrstuvwxyzABCDEFG";
    cert_fields(f, 1, 1, 2, u32, 32);
    c.nfields = 82;
    expect_crafted(&c, sk1, SWLOG_OK, -1);
    cert_fields(f, 1, 1, 2, u33, 33);
    c.nfields = 83;
    expect_crafted(&c, sk1, SWLOG_EBOUNDS, 169);
    /* A payload where none belongs. */
    cert_fields(f, 4, 1, 2, "U-1", 3);
    c.nfields = 53;
    c.payload = pl;
    c.plen = 1;
    expect_crafted(&c, sk1, SWLOG_ENONCANON, 120 + 53 + 64);
}
END_TEST

START_TEST(rotation_fields_checked)
{
    swlog_head h = head(9, 1);
    swlog_buf b;
    swlog_buf_init(&b);
    ck_assert_int_eq(swlog_rotation_encode(sk1, sk3, &h, &b, NULL), SWLOG_OK);
    /* A bad new_sig: ESIG at new_sig, skipped under NO_SIG. The frame is
     * re-signed so only new_sig is wrong. */
    b.p[152 + 5] ^= 0x01;
    craft_sign(b.p, 216, sk1);
    expect(b.p, b.len, 0, SWLOG_ESIG, 152);
    expect(b.p, b.len, SWLOG_DECODE_NO_SIG, SWLOG_OK, -1);
    b.p[152 + 5] ^= 0x01;
    craft_sign(b.p, 216, sk1);
    expect(b.p, b.len, 0, SWLOG_OK, -1);
    /* new_sig made for another seq does not verify at this one. */
    craft_store(b.p + 36, 10, 8);
    craft_sign(b.p, 216, sk1);
    expect(b.p, b.len, 0, SWLOG_ESIG, 152);
    swlog_buf_clear(&b);

    /* new_key = signer. */
    uint8_t f[96];
    memcpy(f, pk1, 32);
    memset(f + 32, 0, 64);
    craft c;
    craft_init(&c, SWLOG_TYPE_ROTATION);
    c.fields = f;
    c.nfields = 96;
    expect_crafted(&c, sk1, SWLOG_EINVAL, 120);
    c.nfields = 95; /* new_sig runs past header_len */
    expect_crafted(&c, sk1, SWLOG_ENONCANON, 152);
    ck_assert_int_eq(swlog_rotation_encode(sk1, sk1, &h, &b, NULL),
                     SWLOG_EARG);
}
END_TEST

START_TEST(revocation_fields_checked)
{
    uint8_t f[50];
    memcpy(f, pk2, 32);
    craft c;
    craft_init(&c, SWLOG_TYPE_REVOCATION);
    c.fields = f;
    c.nfields = 49;
    craft_store(f + 32, 0, 8);
    craft_store(f + 40, 0, 8);
    f[48] = 1;
    expect_crafted(&c, sk1, SWLOG_EINVAL, 152);
    craft_store(f + 40, 5, 8);
    expect_crafted(&c, sk1, SWLOG_OK, -1);
    for (unsigned r = 0; r < 256; r++) {
        f[48] = (uint8_t)r;
        expect_crafted(&c, sk1, r >= 1 && r <= 4 ? SWLOG_OK : SWLOG_EINVAL,
                       r >= 1 && r <= 4 ? -1 : 168);
        if (r == 10)
            r = 250;
    }
    f[48] = 1;
    c.nfields = 50;
    expect_crafted(&c, sk1, SWLOG_ENONCANON, 169);
}
END_TEST

START_TEST(checkpoint_fields_checked)
{
    uint8_t f[41] = {0};
    craft c;
    craft_init(&c, SWLOG_TYPE_CHECKPOINT);
    c.fields = f;
    c.nfields = 40;
    /* tree_size 0: the root must be SHA-256("") (FORMAT §7.5). */
    expect_crafted(&c, sk1, SWLOG_EINVAL, 128);
    swlog_sha256(f, 0, f + 8);
    expect_crafted(&c, sk1, SWLOG_OK, -1);
    c.nfields = 41;
    expect_crafted(&c, sk1, SWLOG_ENONCANON, 160);
    c.nfields = 39;
    expect_crafted(&c, sk1, SWLOG_ENONCANON, 128);
    c.nfields = 40;
    c.payload = pl;
    c.plen = 3;
    expect_crafted(&c, sk1, SWLOG_ENONCANON, 120 + 40 + 64);
}
END_TEST

START_TEST(encoders_refuse_bad_arguments)
{
    swlog_buf b;
    swlog_buf_init(&b);
    swlog_head h = head(2, 1);
    uint8_t root[32] = {0};
    swlog_head h0 = head(0, 1);
    ck_assert_int_eq(swlog_checkpoint_encode(sk1, &h0, 1, root, &b, NULL),
                     SWLOG_EARG);
    swlog_head h1 = head(1, 1);
    h1.prev[31] = 1;
    ck_assert_int_eq(swlog_checkpoint_encode(sk1, &h1, 1, root, &b, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_checkpoint_encode(NULL, &h, 1, root, &b, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_checkpoint_encode(sk1, NULL, 1, root, &b, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_checkpoint_encode(sk1, &h, 1, NULL, &b, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_cert_encode(sk1, &h, pk2, 0, 1, 2, "U", &b, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_cert_encode(sk1, &h, pk2, 5, 1, 2, "U", &b, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_cert_encode(sk1, &h, pk2, 1, 2, 2, "U", &b, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_cert_encode(sk1, &h, pk2, 1, 1, 2, "", &b, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(
        swlog_cert_encode(sk1, &h, pk2, 1, 1, 2, "a b", &b, NULL), SWLOG_EARG);
    ck_assert_int_eq(swlog_cert_encode(sk1, &h, pk2, 1, 1, 2,
                                       "abcdefghijklmnopqrstuvwxyzABCDEFG",
                                       &b, NULL),
                     SWLOG_EBOUNDS);
    ck_assert_int_eq(swlog_cert_encode(sk1, &h, pk2, 1, 1, 2,
                                       "abcdefghijklmnopqrstuvwxyzABCDEF", &b,
                                       NULL),
                     SWLOG_OK);
    ck_assert_int_eq(
        swlog_revocation_encode(sk1, &h, pk2, 0, 0, 1, &b, NULL), SWLOG_EARG);
    ck_assert_int_eq(
        swlog_revocation_encode(sk1, &h, pk2, 1, 0, 0, &b, NULL), SWLOG_EARG);
    ck_assert_int_eq(
        swlog_revocation_encode(sk1, &h, pk2, 1, 0, 5, &b, NULL), SWLOG_EARG);
    ck_assert_int_eq(
        swlog_revocation_encode(sk1, &h, pk2, 0, 7, 4, &b, NULL), SWLOG_OK);
    swlog_frame f;
    ck_assert_int_eq(decode(b.p, b.len, &f, NULL), SWLOG_OK);
    ck_assert_uint_eq(f.u.revocation.from_time, 7);
    swlog_buf_clear(&b);
}
END_TEST

Suite *frame_suite(void)
{
    Suite *s = suite_create("frame");
    TCase *tc = tcase_create("round_trip");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, round_trip_cert);
    tcase_add_test(tc, round_trip_rotation);
    tcase_add_test(tc, round_trip_revocation);
    tcase_add_test(tc, round_trip_checkpoint);
    tcase_add_test(tc, round_trip_changeset_header);
    tcase_add_test(tc, round_trip_seq_one);
    suite_add_tcase(s, tc);
    tc = tcase_create("damage");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, every_truncation_refused);
    tcase_add_test(tc, every_flipped_bit_detected);
    tcase_add_test(tc, trailing_bytes_refused);
    suite_add_tcase(s, tc);
    tc = tcase_create("common");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, unknown_noncritical_accepted);
    tcase_add_test(tc, unknown_critical_refused);
    tcase_add_test(tc, layout_must_be_one);
    tcase_add_test(tc, header_len_bounds);
    tcase_add_test(tc, seq_zero_and_first_prev);
    tcase_add_test(tc, payload_len_bounds_and_mismatch);
    tcase_add_test(tc, short_body_offsets);
    tcase_add_test(tc, payload_hash_checked);
    tcase_add_test(tc, signature_checked);
    tcase_add_test(tc, decode_argument_checks);
    suite_add_tcase(s, tc);
    tc = tcase_create("keyframes");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, cert_fields_checked);
    tcase_add_test(tc, rotation_fields_checked);
    tcase_add_test(tc, revocation_fields_checked);
    tcase_add_test(tc, checkpoint_fields_checked);
    tcase_add_test(tc, encoders_refuse_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(frame_suite());
}
