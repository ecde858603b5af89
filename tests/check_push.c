/* The push client's pure parts (agent/client/push.c): frames bodies, and
 * the verification of a hub's answer and receipt (PROTOCOL §4.3, §4.4):
 * only a checkpoint signed by the expected hub, with an inclusion proof of
 * every acknowledged frame against its root, moves anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push.h"
#include "testutil.h"

#define N 5
#define PRIOR 9 /* leaves of the hub's log before this batch */

typedef struct fixture {
    uint8_t hub_pk[32], hub_sk[64], other_pk[32], other_sk[64];
    uint8_t feed[32];
    uint64_t seq[N];
    uint8_t id[N][32];
    uint8_t leaves[PRIOR + N][32];
    uint64_t size;
} fixture;

static void fixture_init(fixture *f)
{
    uint8_t sk[64];
    test_key(6, f->hub_pk, f->hub_sk);
    test_key(7, f->other_pk, f->other_sk);
    test_key(3, f->feed, sk);
    for (int i = 0; i < PRIOR; i++)
        swlog_sha256((const uint8_t *)&i, sizeof i, f->leaves[i]);
    for (int i = 0; i < N; i++) {
        f->seq[i] = 11 + (uint64_t)i;
        uint8_t tag[2] = {'f', (uint8_t)i};
        swlog_sha256(tag, 2, f->id[i]);
        memcpy(f->leaves[PRIOR + i], f->id[i], 32);
    }
    f->size = PRIOR + N;
}

/* A push answer in the hub's form (agent/hub/hub_push.c): frames
 * 0..n_ok-1 acknowledged (the first a duplicate), then status `rest` for
 * the others; the receipt's checkpoint signed with sk over all leaves.
 * tamper: 1 flips a proof byte, 2 names leaf == size, 3 drops the receipt,
 * 4 gives a wrong seq, 5 a path of 65 hashes, 6 a root that is not the
 * checkpoint's, 7 leaves out the proof of result 2, 8 names another hub,
 * 9 gives result 1 index 7. */
static char *answer(const fixture *f, int n_ok, const char *rest,
                    const uint8_t *sk, int tamper)
{
    size_t cap = 65536, at = 0;
    char *out = malloc(cap);
    char fh[65], ih[65], ph[65];
    swlog_error err = {0};
    swlog_hex(f->feed, 32, fh);
    at += (size_t)snprintf(out + at, cap - at, "{\"results\":[");
    for (int i = 0; i < N; i++) {
        swlog_hex(f->id[i], 32, ih);
        at += (size_t)snprintf(
            out + at, cap - at,
            "%s{\"index\":%d,\"feed\":\"%s\",\"seq\":%llu,\"id\":\"%s\"",
            i ? "," : "", tamper == 9 && i == 1 ? 7 : i, fh,
            (unsigned long long)(f->seq[i] + (tamper == 4 && i == 2)), ih);
        if (i >= n_ok)
            at += (size_t)snprintf(out + at, cap - at, ",\"status\":\"%s\","
                                   "\"error\":\"clock_skew\",\"message\":"
                                   "\"hlc 3 days ahead\"}", rest);
        else
            at += (size_t)snprintf(out + at, cap - at, ",\"status\":\"%s\","
                                   "\"leaf\":%llu}",
                                   i == 0 ? "duplicate" : "accepted",
                                   (unsigned long long)(
                                       tamper == 2 && i == 0 ? f->size
                                                             : PRIOR + (uint64_t)i));
    }
    at += (size_t)snprintf(out + at, cap - at, "],\"receipt\":");
    if (tamper == 3 || n_ok == 0) {
        snprintf(out + at, cap - at, "null}");
        return out;
    }
    uint8_t root[32];
    swlog_buf ck;
    swlog_buf_init(&ck);
    swlog_head h = {4, {0}, (uint64_t)1795392000000ull << 16};
    memset(h.prev, 0x11, 32);
    ck_assert_int_eq(swlog_merkle_root((const uint8_t(*)[32])f->leaves,
                                       f->size, root, &err), SWLOG_OK);
    ck_assert_int_eq(swlog_checkpoint_encode(sk, &h, f->size, root, &ck,
                                             &err), SWLOG_OK);
    char *hex = malloc(2 * ck.len + 1);
    swlog_hex(ck.p, ck.len, hex);
    swlog_hex(tamper == 8 ? f->other_pk : f->hub_pk, 32, ph);
    if (tamper == 6)
        root[0] ^= 1;
    char rh[65];
    swlog_hex(root, 32, rh);
    at += (size_t)snprintf(out + at, cap - at, "{\"hub\":\"%s\","
                           "\"checkpoint\":\"%s\",\"tree_size\":%llu,"
                           "\"root\":\"%s\",\"proofs\":[", ph, hex,
                           (unsigned long long)f->size, rh);
    free(hex);
    swlog_buf_clear(&ck);
    for (int i = 0; i < n_ok; i++) {
        uint8_t proof[SWLOG_MAX_PROOF][32];
        size_t plen;
        uint64_t leaf = PRIOR + (uint64_t)i;
        if (tamper == 7 && i == 2)
            continue;
        ck_assert_int_eq(swlog_merkle_inclusion(
                             (const uint8_t(*)[32])f->leaves, f->size, leaf,
                             proof, &plen, &err), SWLOG_OK);
        if (tamper == 1 && i == 1)
            proof[0][5] ^= 1;
        if (tamper == 2 && i == 0)
            leaf = f->size;
        swlog_hex(f->id[i], 32, ih);
        at += (size_t)snprintf(out + at, cap - at, "%s{\"index\":%d,\"id\":"
                               "\"%s\",\"leaf\":%llu,\"path\":[",
                               i ? "," : "", i, ih, (unsigned long long)leaf);
        size_t reps = tamper == 5 ? 65 : plen;
        for (size_t k = 0; k < reps; k++) {
            swlog_hex(proof[k % plen], 32, ph);
            at += (size_t)snprintf(out + at, cap - at, "%s\"%s\"",
                                   k ? "," : "", ph);
        }
        at += (size_t)snprintf(out + at, cap - at, "]}");
    }
    snprintf(out + at, cap - at, "]}}");
    return out;
}

static int verify(const fixture *f, const char *json, push_answer *a,
                  state_item *items, swlog_error *err)
{
    return push_answer_verify(json, strlen(json), f->feed, f->seq,
                              (const uint8_t(*)[32])f->id, N, f->hub_pk,
                              items, a, err);
}

START_TEST(valid_receipt)
{
    fixture f;
    push_answer a;
    state_item items[N];
    swlog_error err = {0};
    fixture_init(&f);
    char *j = answer(&f, N, "", f.hub_sk, 0);
    ck_assert_int_eq(verify(&f, j, &a, items, &err), SWLOG_OK);
    ck_assert_uint_eq(a.n_ok, N);
    ck_assert_uint_eq(a.bad, N);
    ck_assert_uint_eq(a.accepted, N - 1);
    ck_assert_uint_eq(a.duplicate, 1);
    ck_assert_uint_eq(a.tree_size, f.size);
    ck_assert_uint_eq(items[4].leaf_index, PRIOR + 4);
    ck_assert_uint_eq(items[4].seq, 15);
    free(j);
}
END_TEST

START_TEST(refused_frame_stops_the_prefix)
{
    fixture f;
    push_answer a;
    state_item items[N];
    swlog_error err = {0};
    fixture_init(&f);
    char *j = answer(&f, 2, "refused", f.hub_sk, 0);
    ck_assert_int_eq(verify(&f, j, &a, items, &err), SWLOG_OK);
    ck_assert_uint_eq(a.n_ok, 2);
    ck_assert_uint_eq(a.bad, 2);
    ck_assert_str_eq(a.status, "refused");
    ck_assert_str_eq(a.error, "clock_skew");
    ck_assert_str_eq(a.message, "hlc 3 days ahead");
    free(j);
    /* Nothing acknowledged: no checkpoint needed. */
    j = answer(&f, 0, "refused", f.hub_sk, 3);
    ck_assert_int_eq(verify(&f, j, &a, items, &err), SWLOG_OK);
    ck_assert_uint_eq(a.n_ok, 0);
    ck_assert_uint_eq(a.bad, 0);
    free(j);
}
END_TEST

static const struct {
    int tamper, other_key, code;
} bad[] = {
    {1, 0, CLIENT_ERECEIPT}, /* a proof hash flipped */
    {2, 0, CLIENT_ERECEIPT}, /* leaf index outside the tree */
    {3, 0, CLIENT_EPROTO},   /* no receipt */
    {4, 0, CLIENT_EPROTO},   /* a result names another seq */
    {5, 0, CLIENT_EPROTO},   /* a path longer than MAX_PROOF */
    {6, 0, CLIENT_ERECEIPT}, /* the stated root is not the signed one */
    {7, 0, CLIENT_ERECEIPT}, /* an acknowledged frame without a proof */
    {8, 0, CLIENT_ERECEIPT}, /* the receipt names another hub */
    {9, 0, CLIENT_EPROTO},   /* results out of order */
    {0, 1, CLIENT_ERECEIPT}, /* signed by another key */
};

START_TEST(refuses_bad_receipts)
{
    fixture f;
    push_answer a;
    state_item items[N];
    swlog_error err = {0};
    fixture_init(&f);
    char *j = answer(&f, N, "", bad[_i].other_key ? f.other_sk : f.hub_sk,
                     bad[_i].tamper);
    ck_assert_int_eq(verify(&f, j, &a, items, &err), bad[_i].code);
    ck_assert_int_eq(err.code, bad[_i].code);
    ck_assert(err.msg[0] != '\0');
    free(j);
}
END_TEST

START_TEST(refuses_malformed_answers)
{
    fixture f;
    push_answer a;
    state_item items[N];
    fixture_init(&f);
    const char *cases[] = {
        "", "[]", "{}", "{\"results\":{}}", "{\"results\":[]}",
        "{\"results\":[1,2,3,4,5]}", "not json",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        swlog_error err = {0};
        ck_assert_int_eq(verify(&f, cases[i], &a, items, &err),
                         CLIENT_EPROTO);
    }
    /* Every truncation of a valid answer is refused, none crashes. */
    char *j = answer(&f, N, "", f.hub_sk, 0);
    size_t len = strlen(j);
    for (size_t n = 0; n < len; n++) {
        ck_assert_int_ne(push_answer_verify(j, n, f.feed, f.seq,
                                            (const uint8_t(*)[32])f.id, N,
                                            f.hub_pk, items, &a, NULL),
                         SWLOG_OK);
    }
    free(j);
}
END_TEST

START_TEST(body_is_a_format_file)
{
    uint8_t pk[32], sk[64], salt[SWLOG_SALT_BYTES];
    swlog_buf body, frame;
    swlog_error err = {0};
    swlog_buf_init(&body);
    swlog_buf_init(&frame);
    test_key(3, pk, sk);
    memset(salt, 0x5a, sizeof salt);
    uint8_t ids[3][32];
    for (int i = 0; i < 3; i++) {
        swlog_head h = {(uint64_t)i + 1, {0}, (uint64_t)(i + 1) << 20};
        if (i > 0)
            memcpy(h.prev, ids[i - 1], 32);
        uint8_t root[32];
        swlog_merkle_root(NULL, 0, root, &err);
        ck_assert_int_eq(swlog_checkpoint_encode(sk, &h, 0, root, &frame,
                                                 &err), SWLOG_OK);
        swlog_frame fr;
        ck_assert_int_eq(swlog_frame_decode(frame.p, frame.len, 0, &fr, &err),
                         SWLOG_OK);
        memcpy(ids[i], fr.id, 32);
        ck_assert_int_eq(push_body_add(&body, salt, frame.p, frame.len, &err),
                         SWLOG_OK);
    }
    /* Read back as a log: the same three frames, in order, same salt. */
    swlog_log *log;
    ck_assert_int_eq(swlog_log_open_mem(body.p, body.len, &log, &err),
                     SWLOG_OK);
    ck_assert_mem_eq(swlog_log_salt(log), salt, sizeof salt);
    const uint8_t *b;
    size_t len;
    uint64_t off;
    for (int i = 0; i < 3; i++) {
        swlog_frame fr;
        ck_assert_int_eq(swlog_log_next(log, &b, &len, &off, &err), 1);
        ck_assert_int_eq(swlog_frame_decode(b, len, 0, &fr, &err), SWLOG_OK);
        ck_assert_mem_eq(fr.id, ids[i], 32);
    }
    ck_assert_int_eq(swlog_log_next(log, &b, &len, &off, &err), 0);
    ck_assert_uint_eq(swlog_log_torn(log), 0);
    swlog_log_close(log);
    swlog_buf_clear(&body);
    swlog_buf_clear(&frame);
}
END_TEST

Suite *push_suite(void)
{
    Suite *s = suite_create("push");
    TCase *tc = tcase_create("answer");
    tcase_add_test(tc, valid_receipt);
    tcase_add_test(tc, refused_frame_stops_the_prefix);
    tcase_add_loop_test(tc, refuses_bad_receipts, 0,
                        (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, refuses_malformed_answers);
    tcase_add_test(tc, body_is_a_format_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(push_suite());
}
