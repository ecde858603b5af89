/* The hub's Merkle log (agent/hub/hub_merkle.c over hub_store_sqlite.c)
 * against format/'s in-memory RFC 9162 functions: the same roots and audit
 * paths for every tree size and leaf up to 70, and consistency proofs for
 * every pair of sizes, across a reopen. */
#include <stdio.h>
#include <string.h>

#include "hub_merkle.h"
#include "hub_store.h"
#include "testutil.h"

#define N 70

static void leaf_id(unsigned i, uint8_t out[32])
{
    char text[32];
    int n = snprintf(text, sizeof text, "leaf %u", i);
    swlog_sha256((const uint8_t *)text, (size_t)n, out);
}

static void feed_of(unsigned i, uint8_t out[32])
{
    memset(out, 0, 32);
    out[0] = (uint8_t)(i % 3); /* three feeds, interleaved */
}

START_TEST(roots_and_paths_match_format)
{
    char path[512];
    snprintf(path, sizeof path, "%s/merkle.db", test_tmpdir());
    remove(path);
    hub_store *s = NULL;
    swlog_error err = {0};
    ck_assert_int_eq(hub_store_open(path, &s, &err), SWLOG_OK);
    static uint8_t leaves[N][32];
    uint64_t seqs[3] = {0};
    ck_assert_int_eq(hub_store_begin(s, &err), SWLOG_OK);
    for (unsigned i = 0; i < N; i++) {
        uint8_t feed[32];
        uint64_t leaf;
        leaf_id(i, leaves[i]);
        feed_of(i, feed);
        ck_assert_int_eq(hub_store_add_frame(s, feed, ++seqs[i % 3],
                                             leaves[i], 0, 0, &leaf, &err),
                         SWLOG_OK);
        ck_assert_uint_eq(leaf, i);
        if (i == 40) { /* half committed, half after a reopen */
            ck_assert_int_eq(hub_store_commit(s, &err), SWLOG_OK);
            hub_store_close(s);
            ck_assert_int_eq(hub_store_open(path, &s, &err), SWLOG_OK);
            ck_assert_uint_eq(hub_store_leaves(s), 41);
            ck_assert_int_eq(hub_store_begin(s, &err), SWLOG_OK);
        }
    }
    ck_assert_int_eq(hub_store_commit(s, &err), SWLOG_OK);
    for (uint64_t n = 0; n <= N; n++) {
        uint8_t a[32], b[32];
        ck_assert_int_eq(hub_merkle_root(s, n, a, &err), SWLOG_OK);
        ck_assert_int_eq(swlog_merkle_root((const uint8_t(*)[32])leaves, n,
                                           b, NULL),
                         SWLOG_OK);
        ck_assert_mem_eq(a, b, 32);
        for (uint64_t m = 0; m < n; m++) {
            uint8_t p1[SWLOG_MAX_PROOF][32], p2[SWLOG_MAX_PROOF][32];
            size_t l1, l2;
            ck_assert_int_eq(hub_merkle_path(s, m, n, p1, &l1, &err),
                             SWLOG_OK);
            ck_assert_int_eq(swlog_merkle_inclusion(
                                 (const uint8_t(*)[32])leaves, n, m, p2, &l2,
                                 NULL),
                             SWLOG_OK);
            ck_assert_uint_eq(l1, l2);
            ck_assert_mem_eq(p1, p2, 32 * l1);
            ck_assert_int_eq(swlog_merkle_inclusion_verify(
                                 leaves[m], m, n,
                                 (const uint8_t(*)[32])p1, l1, a, NULL),
                             SWLOG_OK);
        }
    }
    /* Consistency proofs: the same hashes as format/'s, verified by its
     * verifier, for every pair of sizes; a wrong root fails. */
    for (uint64_t n = 1; n <= N; n++) {
        uint8_t rn[32];
        ck_assert_int_eq(hub_merkle_root(s, n, rn, &err), SWLOG_OK);
        for (uint64_t m = 1; m <= n; m++) {
            uint8_t p1[SWLOG_MAX_PROOF][32], p2[SWLOG_MAX_PROOF][32], rm[32];
            size_t l1, l2;
            ck_assert_int_eq(hub_merkle_root(s, m, rm, &err), SWLOG_OK);
            ck_assert_int_eq(hub_merkle_consistency(s, m, n, p1, &l1, &err),
                             SWLOG_OK);
            if (m < n) {
                ck_assert_int_eq(swlog_merkle_consistency(
                                     (const uint8_t(*)[32])leaves, n, m, p2,
                                     &l2, NULL),
                                 SWLOG_OK);
                ck_assert_uint_eq(l1, l2);
                ck_assert_mem_eq(p1, p2, 32 * l1);
            } else {
                ck_assert_uint_eq(l1, 0);
            }
            ck_assert_int_eq(swlog_merkle_consistency_verify(
                                 m, n, rm, rn, (const uint8_t(*)[32])p1, l1,
                                 NULL),
                             SWLOG_OK);
            rm[0] ^= 1;
            ck_assert_int_eq(swlog_merkle_consistency_verify(
                                 m, n, rm, rn, (const uint8_t(*)[32])p1, l1,
                                 NULL),
                             SWLOG_EPROOF);
        }
    }
    uint8_t r[32], p[SWLOG_MAX_PROOF][32];
    size_t l;
    ck_assert_int_eq(hub_merkle_consistency(s, 0, 5, p, &l, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(hub_merkle_consistency(s, 6, 5, p, &l, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(hub_merkle_consistency(s, 1, N + 1, p, &l, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(hub_merkle_root(s, N + 1, r, NULL), SWLOG_EARG);
    ck_assert_int_eq(hub_merkle_path(s, 5, 5, p, &l, NULL), SWLOG_EARG);
    hub_store_close(s);
}
END_TEST

START_TEST(rollback_forgets_leaves)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rollback.db", test_tmpdir());
    remove(path);
    hub_store *s = NULL;
    swlog_error err = {0};
    ck_assert_int_eq(hub_store_open(path, &s, &err), SWLOG_OK);
    uint8_t feed[32] = {7}, id[32];
    uint64_t leaf;
    leaf_id(1, id);
    ck_assert_int_eq(hub_store_begin(s, &err), SWLOG_OK);
    ck_assert_int_eq(hub_store_add_frame(s, feed, 1, id, 0, 0, &leaf, &err),
                     SWLOG_OK);
    hub_store_rollback(s);
    ck_assert_uint_eq(hub_store_leaves(s), 0);
    hub_feed_head h;
    ck_assert_int_eq(hub_store_head(s, feed, &h, &err), SWLOG_OK);
    ck_assert_uint_eq(h.seq, 0);
    hub_store_close(s);
}
END_TEST

static Suite *hub_merkle_suite(void)
{
    Suite *s = suite_create("hub_merkle");
    TCase *tc = tcase_create("store");
    tcase_add_test(tc, roots_and_paths_match_format);
    tcase_add_test(tc, rollback_forgets_leaves);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(hub_merkle_suite());
}
