/* Retry waits of the sync client (agent/client/backoff.c): doubling,
 * jitter within its band, the 5-minute cap, Retry-After, reset. */
#include "backoff.h"
#include "testutil.h"

START_TEST(doubles_with_jitter_and_caps)
{
    backoff b;
    backoff_init(&b, 0, 0);
    uint64_t d = BACKOFF_BASE_MS;
    for (int i = 0; i < 40; i++) {
        backoff lo = b, hi = b;
        uint32_t w_lo = backoff_next(&lo, 0, 0);
        uint32_t w_hi = backoff_next(&hi, UINT32_MAX - 7, 0);
        uint32_t w = backoff_next(&b, (uint32_t)i * 2654435761u, 0);
        /* Equal jitter: in [d/2, d], d doubling up to the cap. */
        ck_assert_uint_eq(w_lo, d / 2);
        ck_assert_uint_ge(w, d / 2);
        ck_assert_uint_le(w, d);
        ck_assert_uint_le(w_hi, d);
        ck_assert_uint_le(w, BACKOFF_MAX_MS);
        d = d * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d * 2;
    }
    /* After many failures the wait stays within [max/2, max]: bounded. */
    ck_assert_uint_eq(b.attempt, 40);
    uint32_t w = backoff_next(&b, 12345, 0);
    ck_assert_uint_ge(w, BACKOFF_MAX_MS / 2);
    ck_assert_uint_le(w, BACKOFF_MAX_MS);
}
END_TEST

START_TEST(never_a_busy_loop)
{
    /* With the defaults every wait is at least half a second, whatever the
     * random number. */
    const uint32_t rnds[] = {0, 1, 499, 500, 501, UINT32_MAX};
    for (size_t r = 0; r < sizeof rnds / sizeof rnds[0]; r++) {
        backoff b;
        backoff_init(&b, 0, 0);
        for (int i = 0; i < 20; i++)
            ck_assert_uint_ge(backoff_next(&b, rnds[r], 0), 500);
    }
}
END_TEST

START_TEST(retry_after_raises_the_wait)
{
    backoff b;
    backoff_init(&b, 0, 0);
    uint32_t w = backoff_next(&b, 0, 30);
    ck_assert_uint_eq(w, 30000);
    backoff_init(&b, 0, 0);
    w = backoff_next(&b, 2999, 30); /* jitter: at most 10% more */
    ck_assert_uint_ge(w, 30000);
    ck_assert_uint_le(w, 33000);
    /* A hostile Retry-After is capped at an hour. */
    backoff_init(&b, 0, 0);
    w = backoff_next(&b, 0, 4000000000u);
    ck_assert_uint_eq(w, BACKOFF_MAX_RETRY_AFTER * 1000u);
    /* A short Retry-After never shortens the exponential wait. */
    backoff_init(&b, 0, 0);
    for (int i = 0; i < 10; i++)
        backoff_next(&b, 0, 0);
    ck_assert_uint_ge(backoff_next(&b, 0, 1), BACKOFF_MAX_MS / 2);
}
END_TEST

START_TEST(reset_after_success)
{
    backoff b;
    backoff_init(&b, 200, 10000);
    for (int i = 0; i < 10; i++)
        backoff_next(&b, 0, 0);
    backoff_reset(&b);
    ck_assert_uint_eq(backoff_next(&b, 0, 0), 100);
    ck_assert_uint_eq(backoff_next(&b, 0, 0), 200);
}
END_TEST

Suite *backoff_suite(void)
{
    Suite *s = suite_create("backoff");
    TCase *tc = tcase_create("schedule");
    tcase_add_test(tc, doubles_with_jitter_and_caps);
    tcase_add_test(tc, never_a_busy_loop);
    tcase_add_test(tc, retry_after_raises_the_wait);
    tcase_add_test(tc, reset_after_success);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(backoff_suite());
}
