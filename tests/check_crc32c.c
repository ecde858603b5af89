/* CRC32C: FORMAT §2.4 check value, RFC 3720 B.4 vectors, chaining, and a
 * bitwise reference against the slice-by-8 tables. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* One bit at a time, straight from the polynomial: no tables to share a
 * mistake with the library. */
static uint32_t crc_bitwise(const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    }
    return c ^ 0xffffffffu;
}

START_TEST(check_value)
{
    const uint8_t *s = (const uint8_t *)"123456789";
    ck_assert_uint_eq(swlog_crc32c(0, s, 9), 0xe3069283u);
    ck_assert_uint_eq(crc_bitwise(s, 9), 0xe3069283u);
}
END_TEST

START_TEST(empty_input)
{
    ck_assert_uint_eq(swlog_crc32c(0, NULL, 0), 0);
    ck_assert_uint_eq(swlog_crc32c(0x12345678u, NULL, 0), 0x12345678u);
}
END_TEST

START_TEST(rfc3720_vectors)
{
    uint8_t b[32];
    memset(b, 0, sizeof b);
    ck_assert_uint_eq(swlog_crc32c(0, b, 32), 0x8a9136aau);
    memset(b, 0xff, sizeof b);
    ck_assert_uint_eq(swlog_crc32c(0, b, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)i;
    ck_assert_uint_eq(swlog_crc32c(0, b, 32), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(31 - i);
    ck_assert_uint_eq(swlog_crc32c(0, b, 32), 0x113fdb5cu);
}
END_TEST

/* Every length and alignment around the 8-byte stride, against the
 * bitwise CRC. */
START_TEST(matches_bitwise)
{
    enum { N = 600 };
    uint8_t *b = malloc(N + 8);
    ck_assert_ptr_nonnull(b);
    uint32_t x = 12345;
    for (size_t i = 0; i < N + 8; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
    for (size_t align = 0; align < 8; align++)
        for (size_t len = 0; len <= N; len += (len < 80 ? 1 : 37))
            ck_assert_uint_eq(swlog_crc32c(0, b + align, len),
                              crc_bitwise(b + align, len));
    free(b);
}
END_TEST

START_TEST(incremental_equals_one_shot)
{
    enum { N = 1000 };
    uint8_t b[N];
    for (size_t i = 0; i < N; i++)
        b[i] = (uint8_t)(i * 7 + 3);
    uint32_t whole = swlog_crc32c(0, b, N);
    for (size_t cut = 0; cut <= N; cut += 13) {
        uint32_t c = swlog_crc32c(0, b, cut);
        ck_assert_uint_eq(swlog_crc32c(c, b + cut, N - cut), whole);
    }
    /* Many small pieces of varying sizes. */
    uint32_t c = 0;
    size_t at = 0, step = 1;
    while (at < N) {
        size_t n = step < N - at ? step : N - at;
        c = swlog_crc32c(c, b + at, n);
        at += n;
        step = step % 17 + 1;
    }
    ck_assert_uint_eq(c, whole);
}
END_TEST

Suite *crc32c_suite(void)
{
    Suite *s = suite_create("crc32c");
    TCase *tc = tcase_create("crc32c");
    tcase_add_test(tc, check_value);
    tcase_add_test(tc, empty_input);
    tcase_add_test(tc, rfc3720_vectors);
    tcase_add_test(tc, matches_bitwise);
    tcase_add_test(tc, incremental_equals_one_shot);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(crc32c_suite());
}
