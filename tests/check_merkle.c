/* Merkle tree (FORMAT §9, RFC 9162 §2.1): the library's iterative code
 * against a recursive reference written from the RFC's definitions, fixed
 * known answers, and refusal of tampered proofs. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

typedef uint8_t hash[SWLOG_HASH_BYTES];

#define MAX_N 70

/* Leaves d_i = SHA-256(u64 big-endian i), as FORMAT §12.1 merkle_root. */
static hash leaves[MAX_N];

static void make_leaves(void)
{
    for (uint64_t i = 0; i < MAX_N; i++) {
        uint8_t be[8];
        for (int j = 0; j < 8; j++)
            be[j] = (uint8_t)(i >> (56 - 8 * j));
        swlog_sha256(be, sizeof be, leaves[i]);
    }
}

/* ---- the reference: RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 verbatim ---- */

static void sha_parts(const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen, const uint8_t *c, size_t clen,
                      uint8_t out[32])
{
    uint8_t buf[1 + 64];
    size_t n = 0;
    memcpy(buf + n, a, alen), n += alen;
    if (blen)
        memcpy(buf + n, b, blen), n += blen;
    if (clen)
        memcpy(buf + n, c, clen), n += clen;
    swlog_sha256(buf, n, out);
}

static size_t largest_pow2_below(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* MTH({}) = SHA-256(); MTH({d0}) = SHA-256(0x00 || d0);
 * MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])). */
static void ref_mth(const hash *d, size_t n, uint8_t out[32])
{
    static const uint8_t zero = 0x00, one = 0x01;
    if (n == 0) {
        swlog_sha256(NULL, 0, out);
        return;
    }
    if (n == 1) {
        sha_parts(&zero, 1, d[0], 32, NULL, 0, out);
        return;
    }
    size_t k = largest_pow2_below(n);
    hash l, r;
    ref_mth(d, k, l);
    ref_mth(d + k, n - k, r);
    sha_parts(&one, 1, l, 32, r, 32, out);
}

/* PATH(0, {d0}) = {}; for m < k: PATH(m, D[0:k]) : MTH(D[k:n]);
 * for m >= k: PATH(m - k, D[k:n]) : MTH(D[0:k]). */
static size_t ref_path(size_t m, const hash *d, size_t n, hash *out)
{
    if (n == 1)
        return 0;
    size_t k = largest_pow2_below(n), c;
    if (m < k) {
        c = ref_path(m, d, k, out);
        ref_mth(d + k, n - k, out[c]);
    } else {
        c = ref_path(m - k, d + k, n - k, out);
        ref_mth(d, k, out[c]);
    }
    return c + 1;
}

/* SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])};
 * m <= k: SUBPROOF(m, D[0:k], b) : MTH(D[k:n]);
 * m > k: SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]). */
static size_t ref_subproof(size_t m, const hash *d, size_t n, int b, hash *out)
{
    if (m == n) {
        if (b)
            return 0;
        ref_mth(d, m, out[0]);
        return 1;
    }
    size_t k = largest_pow2_below(n), c;
    if (m <= k) {
        c = ref_subproof(m, d, k, b, out);
        ref_mth(d + k, n - k, out[c]);
    } else {
        c = ref_subproof(m - k, d + k, n - k, 0, out);
        ref_mth(d, k, out[c]);
    }
    return c + 1;
}

/* ---- known answers ---------------------------------------------------- */

/* Computed once with Python's hashlib, independently of this code:
 *   H = lambda b: hashlib.sha256(b).digest()
 *   def mth(d):
 *       if not d: return H(b'')
 *       if len(d) == 1: return H(b'\0' + d[0])
 *       k = 1
 *       while 2 * k < len(d): k *= 2
 *       return H(b'\1' + mth(d[:k]) + mth(d[k:]))
 *   d = [H(struct.pack('>Q', i)) for i in range(n)]
 * spec/vectors will carry the authoritative merkle_root vectors. */
static const struct {
    unsigned n;
    const char *root;
} kat[] = {
    {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {1, "aea833068048b82f42271c18e0076a5230cbc7d711c99de16a5917db14a3b044"},
    {2, "839757d78394f8ad59bc4621831d92396f5d3556fe0059846463a32a21dc9e04"},
    {3, "cc23a6e05f95099459e4b62703c223236972a78997b072a65500b30e26bb6ef3"},
    {4, "f429b955064dbbcf878a6b817cb02740f0a30f42a1d770195addb021b45b8fdd"},
    {5, "aa33f608b3c7398a5230804ae5bf2cbe372e3e517eab55ef21d7e8a1318b00d9"},
    {7, "3bae604504fcab1978311ba9984633ad88b8c104832990123345db6c816b77c8"},
    {8, "4f8510360e29047dc8a13d94eae1a0c1b13b9a9debcb179fea8f696965c9591a"},
};

START_TEST(known_roots)
{
    make_leaves();
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        hash root;
        char hex[65];
        ck_assert_int_eq(swlog_merkle_root(leaves, kat[i].n, root, NULL),
                         SWLOG_OK);
        swlog_hex(root, 32, hex);
        ck_assert_str_eq(hex, kat[i].root);
    }
}
END_TEST

/* ---- the library against the reference, every size 1..MAX_N ---------- */

START_TEST(root_matches_reference)
{
    make_leaves();
    size_t n = (size_t)_i;
    hash want, got;
    ref_mth(leaves, n, want);
    ck_assert_int_eq(swlog_merkle_root(leaves, n, got, NULL), SWLOG_OK);
    ck_assert_mem_eq(got, want, 32);
}
END_TEST

static int incl(size_t index, size_t n, const hash *proof, size_t len,
                const uint8_t *root)
{
    return swlog_merkle_inclusion_verify(leaves[index], index, n, proof, len,
                                         root, NULL);
}

START_TEST(inclusion_matches_reference)
{
    make_leaves();
    size_t n = (size_t)_i;
    hash root, other_root;
    ref_mth(leaves, n, root);
    ref_mth(leaves, n + 1 <= MAX_N ? n + 1 : n - 1, other_root);
    for (size_t m = 0; m < n; m++) {
        hash want[SWLOG_MAX_PROOF + 1], got[SWLOG_MAX_PROOF + 1];
        size_t wlen = ref_path(m, leaves, n, want), glen = 99;
        swlog_error err = {0};
        ck_assert_int_eq(swlog_merkle_inclusion(leaves, n, m, got, &glen, &err),
                         SWLOG_OK);
        ck_assert_uint_eq(glen, wlen);
        ck_assert_mem_eq(got, want, wlen * 32);
        ck_assert_int_eq(incl(m, n, got, glen, root), SWLOG_OK);

        /* Each hash of the proof flipped. */
        for (size_t j = 0; j < glen; j++) {
            got[j][j % 32] ^= 0x01;
            ck_assert_int_eq(incl(m, n, got, glen, root), SWLOG_EPROOF);
            got[j][j % 32] ^= 0x01;
        }
        /* The wrong leaf, the wrong root. */
        ck_assert_int_eq(swlog_merkle_inclusion_verify(leaves[(m + 1) % MAX_N],
                                                       m, n, got, glen, root,
                                                       NULL),
                         SWLOG_EPROOF);
        ck_assert_int_eq(incl(m, n, got, glen, other_root), SWLOG_EPROOF);
        /* The proof claimed for every other index. (Other sizes are not
         * tested: RFC 9162 binds a size to its root, and a path of the same
         * shape in another size legitimately leads to the same root.) */
        for (size_t w = 0; w < n; w++)
            if (w != m)
                ck_assert_int_eq(swlog_merkle_inclusion_verify(
                                     leaves[m], w, n, got, glen, root, NULL),
                                 SWLOG_EPROOF);
        /* A hash too many, a hash too few. */
        memcpy(got[glen], got[0], 32);
        ck_assert_int_eq(incl(m, n, got, glen + 1, root), SWLOG_EPROOF);
        if (glen > 0)
            ck_assert_int_eq(incl(m, n, got, glen - 1, root), SWLOG_EPROOF);
        /* Out of range: an argument error, not a failed proof. */
        ck_assert_int_eq(swlog_merkle_inclusion_verify(leaves[m], n, n, got,
                                                       glen, root, NULL),
                         SWLOG_EARG);
    }
    hash p[SWLOG_MAX_PROOF];
    size_t plen;
    ck_assert_int_eq(swlog_merkle_inclusion(leaves, n, n, p, &plen, NULL),
                     SWLOG_EARG);
}
END_TEST

static int cons(size_t m, size_t n, const uint8_t *rm, const uint8_t *rn,
                const hash *proof, size_t len)
{
    return swlog_merkle_consistency_verify(m, n, rm, rn, proof, len, NULL);
}

START_TEST(consistency_matches_reference)
{
    make_leaves();
    size_t n = (size_t)_i;
    hash roots[MAX_N + 1];
    for (size_t i = 0; i <= MAX_N; i++)
        ref_mth(leaves, i, roots[i]);
    for (size_t m = 1; m <= n; m++) {
        hash want[SWLOG_MAX_PROOF + 1], got[SWLOG_MAX_PROOF + 1];
        size_t wlen = ref_subproof(m, leaves, n, 1, want), glen = 99;
        swlog_error err = {0};
        ck_assert_int_eq(
            swlog_merkle_consistency(leaves, n, m, got, &glen, &err), SWLOG_OK);
        ck_assert_uint_eq(glen, wlen);
        ck_assert_mem_eq(got, want, wlen * 32);
        ck_assert_int_eq(cons(m, n, roots[m], roots[n], got, glen), SWLOG_OK);

        for (size_t j = 0; j < glen; j++) {
            got[j][(j + 5) % 32] ^= 0x80;
            ck_assert_int_eq(cons(m, n, roots[m], roots[n], got, glen),
                             SWLOG_EPROOF);
            got[j][(j + 5) % 32] ^= 0x80;
        }
        /* Wrong roots. */
        if (m < n) {
            ck_assert_int_eq(cons(m, n, roots[m - 1], roots[n], got, glen),
                             SWLOG_EPROOF);
            ck_assert_int_eq(cons(m, n, roots[m], roots[n - 1], got, glen),
                             SWLOG_EPROOF);
            ck_assert_int_eq(cons(m, n, roots[n], roots[m], got, glen),
                             SWLOG_EPROOF);
        }
        /* A hash too many, a hash too few. */
        memcpy(got[glen], got[0], 32);
        ck_assert_int_eq(cons(m, n, roots[m], roots[n], got, glen + 1),
                         SWLOG_EPROOF);
        if (glen > 0)
            ck_assert_int_eq(cons(m, n, roots[m], roots[n], got, glen - 1),
                             SWLOG_EPROOF);
    }
    hash p[SWLOG_MAX_PROOF];
    size_t plen;
    ck_assert_int_eq(swlog_merkle_consistency(leaves, n, 0, p, &plen, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_merkle_consistency(leaves, n, n + 1, p, &plen, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(cons(0, n, roots[0], roots[n], p, 0), SWLOG_EARG);
    ck_assert_int_eq(cons(n + 1, n, roots[n], roots[n], p, 0), SWLOG_EARG);
}
END_TEST

START_TEST(equal_sizes_need_empty_proof)
{
    make_leaves();
    hash r5, r6;
    ref_mth(leaves, 5, r5);
    ref_mth(leaves, 6, r6);
    hash p[SWLOG_MAX_PROOF];
    size_t plen = 99;
    ck_assert_int_eq(swlog_merkle_consistency(leaves, 5, 5, p, &plen, NULL),
                     SWLOG_OK);
    ck_assert_uint_eq(plen, 0);
    ck_assert_int_eq(cons(5, 5, r5, r5, p, 0), SWLOG_OK);
    ck_assert_int_eq(cons(5, 5, r5, r6, p, 0), SWLOG_EPROOF);
    memcpy(p[0], r5, 32);
    ck_assert_int_eq(cons(5, 5, r5, r5, p, 1), SWLOG_EPROOF);
}
END_TEST

START_TEST(proofs_are_bounded)
{
    make_leaves();
    hash *p = calloc(SWLOG_MAX_PROOF + 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    hash root;
    ref_mth(leaves, 5, root);
    ck_assert_int_eq(swlog_merkle_inclusion_verify(
                         leaves[0], 0, 5, p, SWLOG_MAX_PROOF + 1, root, NULL),
                     SWLOG_EBOUNDS);
    ck_assert_int_eq(cons(3, 5, root, root, p, SWLOG_MAX_PROOF + 1),
                     SWLOG_EBOUNDS);
    /* A huge claimed tree with a short proof fails as a proof. */
    ck_assert_int_eq(swlog_merkle_inclusion_verify(leaves[0], 0, UINT64_MAX, p,
                                                   3, root, NULL),
                     SWLOG_EPROOF);
    ck_assert_int_eq(cons(1, UINT64_MAX, root, root, p, 3), SWLOG_EPROOF);
    free(p);
}
END_TEST

START_TEST(empty_consistency_proof_fails)
{
    make_leaves();
    hash r3, r5;
    ref_mth(leaves, 3, r3);
    ref_mth(leaves, 5, r5);
    ck_assert_int_eq(cons(3, 5, r3, r5, NULL, 0), SWLOG_EPROOF);
}
END_TEST

Suite *merkle_suite(void)
{
    Suite *s = suite_create("merkle");
    TCase *tc = tcase_create("merkle");
    tcase_add_test(tc, known_roots);
    tcase_add_loop_test(tc, root_matches_reference, 0, MAX_N + 1);
    tcase_add_loop_test(tc, inclusion_matches_reference, 1, MAX_N + 1);
    tcase_add_loop_test(tc, consistency_matches_reference, 1, MAX_N + 1);
    tcase_add_test(tc, equal_sizes_need_empty_proof);
    tcase_add_test(tc, proofs_are_bounded);
    tcase_add_test(tc, empty_consistency_proof_fails);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(merkle_suite());
}
