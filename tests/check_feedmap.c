/* Check suite of tools/common/feedmap.c: the per-feed map under a keyed
 * hash, including keys crafted to share their leading bytes (what an
 * unkeyed hash of a hostile archive's keys would collide on). */
#include <stdint.h>
#include <string.h>

#include "feedmap.h"
#include "testutil.h"

typedef struct val {
    uint64_t seq;
    uint8_t tag;
} val;

/* Key k: 28 equal leading bytes, the index in the last four. */
static void key_of(uint32_t k, uint8_t key[SWLOG_PUBKEY_BYTES])
{
    memset(key, 0xab, SWLOG_PUBKEY_BYTES);
    key[28] = (uint8_t)(k >> 24);
    key[29] = (uint8_t)(k >> 16);
    key[30] = (uint8_t)(k >> 8);
    key[31] = (uint8_t)k;
}

START_TEST(put_get_many_keys_through_growth)
{
    enum { N = 100000 };
    feedmap *m = feedmap_new(sizeof(val));
    ck_assert_ptr_nonnull(m);
    uint8_t key[SWLOG_PUBKEY_BYTES];
    ck_assert_ptr_null(feedmap_get(m, key));
    for (uint32_t k = 0; k < N; k++) {
        key_of(k, key);
        int created = -1;
        val *v = feedmap_put(m, key, &created);
        ck_assert_ptr_nonnull(v);
        ck_assert_int_eq(created, 1);
        ck_assert_uint_eq(v->seq, 0); /* zero-filled */
        v->seq = (uint64_t)k * 3 + 1;
        v->tag = (uint8_t)k;
    }
    ck_assert_uint_eq(feedmap_count(m), N);
    for (uint32_t k = 0; k < N; k++) {
        key_of(k, key);
        val *v = feedmap_get(m, key);
        ck_assert_ptr_nonnull(v);
        ck_assert_uint_eq(v->seq, (uint64_t)k * 3 + 1);
        ck_assert_uint_eq(v->tag, (uint8_t)k);
        int created = -1;
        ck_assert_ptr_eq(feedmap_put(m, key, &created), v);
        ck_assert_int_eq(created, 0);
    }
    key_of(N, key);
    ck_assert_ptr_null(feedmap_get(m, key));
    ck_assert_uint_eq(feedmap_count(m), N);
    feedmap_free(m);
}
END_TEST

START_TEST(clear_forgets_and_map_is_reusable)
{
    feedmap *m = feedmap_new(0); /* a set */
    ck_assert_ptr_nonnull(m);
    uint8_t key[SWLOG_PUBKEY_BYTES];
    int created;
    for (uint32_t k = 0; k < 500; k++) {
        key_of(k, key);
        ck_assert_ptr_nonnull(feedmap_put(m, key, &created));
        ck_assert_int_eq(created, 1);
    }
    feedmap_clear(m);
    ck_assert_uint_eq(feedmap_count(m), 0);
    key_of(7, key);
    ck_assert_ptr_null(feedmap_get(m, key));
    ck_assert_ptr_nonnull(feedmap_put(m, key, &created));
    ck_assert_int_eq(created, 1);
    ck_assert_ptr_nonnull(feedmap_put(m, key, NULL));
    ck_assert_uint_eq(feedmap_count(m), 1);
    feedmap_free(m);
    feedmap_free(NULL);
}
END_TEST

START_TEST(value_size_is_bounded)
{
    ck_assert_ptr_null(feedmap_new(257));
    feedmap *m = feedmap_new(256);
    ck_assert_ptr_nonnull(m);
    feedmap_free(m);
}
END_TEST

static Suite *feedmap_suite(void)
{
    Suite *s = suite_create("feedmap");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, put_get_many_keys_through_growth);
    tcase_add_test(tc, clear_forgets_and_map_is_reusable);
    tcase_add_test(tc, value_size_is_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(feedmap_suite());
}
