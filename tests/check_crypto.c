/* Check suite for the primitives: FORMAT §2.1-§2.3 and the message of §7.3,
 * cross-checked against libsodium called directly. */
#include "../format/src/crypto_int.h"
#include "../format/src/internal.h"
#include "testutil.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void expect_hex(const uint8_t *p, size_t n, const char *hex)
{
    char got[2 * 64 + 1];
    ck_assert_uint_le(n, 64);
    swlog_hex(p, n, got);
    ck_assert_str_eq(got, hex);
}

START_TEST(sha256_known_answers)
{
    uint8_t h[32];
    swlog_sha256((const uint8_t *)"abc", 3, h);
    expect_hex(h, 32,
               "ba7816bf8f01cfea414140de5dae2223"
               "b00361a396177a9cb410ff61f20015ad");
    swlog_sha256(NULL, 0, h);
    expect_hex(h, 32,
               "e3b0c44298fc1c149afbf4c8996fb924"
               "27ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(hash_ctx_is_sha256_of_ctx_zero_message)
{
    const char *ctxs[] = {SWLOG_CTX_FRAME_ID, SWLOG_CTX_SIG,
                          SWLOG_CTX_PAYLOAD, SWLOG_CTX_ROTATE};
    uint8_t m[300];
    for (size_t i = 0; i < sizeof m; i++)
        m[i] = (uint8_t)(i * 7);
    for (size_t c = 0; c < 4; c++)
        for (size_t len = 0; len < sizeof m; len += 37) {
            uint8_t cat[400];
            size_t cl = strlen(ctxs[c]);
            memcpy(cat, ctxs[c], cl);
            cat[cl] = 0x00;
            memcpy(cat + cl + 1, m, len);
            uint8_t want[32], got[32];
            swlog_sha256(cat, cl + 1 + len, want);
            swlog_hash_ctx(ctxs[c], m, len, got);
            ck_assert_mem_eq(got, want, 32);
        }
    /* Contexts separate domains: same message, different hashes. */
    uint8_t a[32], b[32];
    swlog_hash_ctx(SWLOG_CTX_FRAME_ID, m, 10, a);
    swlog_hash_ctx(SWLOG_CTX_PAYLOAD, m, 10, b);
    ck_assert_mem_ne(a, b, 32);
}
END_TEST

/* RFC 8032 §7.1 test 1. */
START_TEST(key_from_seed_rfc8032)
{
    size_t n;
    uint8_t *seed = hex_decode(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", &n);
    ck_assert_ptr_nonnull(seed);
    uint8_t pk[32], sk[64];
    ck_assert_int_eq(swlog_key_from_seed(seed, pk, sk), SWLOG_OK);
    expect_hex(pk, 32,
               "d75a980182b10ab7d54bfed3c964073a"
               "0ee172f3daa62325af021a68f707511a");
    ck_assert_mem_eq(sk, seed, 32);
    ck_assert_mem_eq(swlog__sk_pk(sk), pk, 32);
    ck_assert_int_eq(swlog_key_from_seed(NULL, pk, sk), SWLOG_EARG);
    free(seed);
}
END_TEST

START_TEST(generated_keys_differ_and_wipe_zeroes)
{
    uint8_t pk1[32], sk1[64], pk2[32], sk2[64];
    ck_assert_int_eq(swlog_key_generate(pk1, sk1), SWLOG_OK);
    ck_assert_int_eq(swlog_key_generate(pk2, sk2), SWLOG_OK);
    ck_assert_mem_ne(pk1, pk2, 32);
    ck_assert_mem_eq(swlog__sk_pk(sk1), pk1, 32);
    swlog_wipe(sk1, sizeof sk1);
    const uint8_t zero[64] = {0};
    ck_assert_mem_eq(sk1, zero, 64);
    uint8_t r1[32], r2[32];
    swlog_random(r1, sizeof r1);
    swlog_random(r2, sizeof r2);
    ck_assert_mem_ne(r1, r2, 32);
}
END_TEST

/* FORMAT §2.2: the 46-byte message, checked with libsodium directly. */
START_TEST(frame_signature_message)
{
    uint8_t pk[32], sk[64];
    test_key(1, pk, sk);
    uint8_t id[32], sig[64];
    swlog__frame_id((const uint8_t *)"header bytes", 12, id);
    uint8_t want_id[32];
    swlog_hash_ctx("swsync/frame-id/v1", (const uint8_t *)"header bytes", 12,
                   want_id);
    ck_assert_mem_eq(id, want_id, 32);
    swlog__frame_sign(sk, id, sig);
    uint8_t msg[46];
    memcpy(msg, "swsync/sig/v1", 13);
    msg[13] = 0;
    memcpy(msg + 14, id, 32);
    ck_assert_int_eq(crypto_sign_verify_detached(sig, msg, sizeof msg, pk), 0);
    ck_assert_int_eq(swlog__frame_verify(pk, id, sig), 1);
    sig[10] ^= 1;
    ck_assert_int_eq(swlog__frame_verify(pk, id, sig), 0);
    sig[10] ^= 1;
    id[0] ^= 1;
    ck_assert_int_eq(swlog__frame_verify(pk, id, sig), 0);
    id[0] ^= 1;
    uint8_t pk2[32], sk2[64];
    test_key(2, pk2, sk2);
    ck_assert_int_eq(swlog__frame_verify(pk2, id, sig), 0);
}
END_TEST

/* FORMAT §7.3: the 89-byte rotation message. */
START_TEST(rotation_signature_message)
{
    uint8_t old_pk[32], old_sk[64], new_pk[32], new_sk[64];
    test_key(3, old_pk, old_sk);
    test_key(4, new_pk, new_sk);
    uint8_t sig[64];
    swlog__rotate_sign(new_sk, old_pk, 0x0102030405060708ull, sig);
    uint8_t msg[89];
    memcpy(msg, "swsync/rotate/v1", 16);
    msg[16] = 0;
    memcpy(msg + 17, old_pk, 32);
    const uint8_t seq[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    memcpy(msg + 49, seq, 8);
    memcpy(msg + 57, new_pk, 32);
    ck_assert_int_eq(crypto_sign_verify_detached(sig, msg, sizeof msg, new_pk),
                     0);
    ck_assert_int_eq(
        swlog__rotate_verify(new_pk, old_pk, 0x0102030405060708ull, sig), 1);
    ck_assert_int_eq(
        swlog__rotate_verify(new_pk, old_pk, 0x0102030405060709ull, sig), 0);
    ck_assert_int_eq(
        swlog__rotate_verify(old_pk, new_pk, 0x0102030405060708ull, sig), 0);
}
END_TEST

/* FORMAT §2.2: libsodium's strict rule refuses a non-canonical S. */
START_TEST(verify_refuses_noncanonical_s)
{
    uint8_t pk[32], sk[64];
    test_key(5, pk, sk);
    uint8_t id[32] = {1}, sig[64];
    swlog__frame_sign(sk, id, sig);
    /* S + L is the same scalar mod L, but not canonical. */
    static const uint8_t L[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
        0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned s = sig[32 + i] + L[i] + carry;
        sig[32 + i] = (uint8_t)s;
        carry = s >> 8;
    }
    ck_assert_uint_eq(carry, 0);
    ck_assert_int_eq(swlog__frame_verify(pk, id, sig), 0);
}
END_TEST

Suite *crypto_suite(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc = tcase_create("crypto");
    tcase_add_test(tc, sha256_known_answers);
    tcase_add_test(tc, hash_ctx_is_sha256_of_ctx_zero_message);
    tcase_add_test(tc, key_from_seed_rfc8032);
    tcase_add_test(tc, generated_keys_differ_and_wipe_zeroes);
    tcase_add_test(tc, frame_signature_message);
    tcase_add_test(tc, rotation_signature_message);
    tcase_add_test(tc, verify_refuses_noncanonical_s);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(crypto_suite());
}
