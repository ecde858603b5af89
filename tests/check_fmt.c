/* Check suite of tools/common/fmt.c and fork_index.c: times, escaping, JSON
 * integers and the cross-file fork index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "fork_index.h"
#include "testutil.h"

/* Run one printer into a string (static buffer). */
static char out[4096];
static FILE *mem_open(void)
{
    FILE *f = fmemopen(out, sizeof out, "w");
    ck_assert_ptr_nonnull(f);
    return f;
}
static const char *mem_close(FILE *f)
{
    fclose(f);
    return out;
}

START_TEST(ms_and_hlc_as_iso)
{
    char t[FMT_HLC_BYTES];
    fmt_ms(0, t);
    ck_assert_str_eq(t, "1970-01-01T00:00:00.000Z");
    fmt_ms(1709251199999ull, t);
    ck_assert_str_eq(t, "2024-02-29T23:59:59.999Z");
    fmt_ms(253402214400000ull, t);
    ck_assert_str_eq(t, "9999-12-31T00:00:00.000Z");
    fmt_hlc(1795392000000ull << 16 | 3, t);
    ck_assert_str_eq(t, "2026-11-23T00:00:00.000Z#3");
    fmt_hlc(UINT64_MAX, t); /* largest HLC: a 5-digit year, no overflow */
    ck_assert_str_eq(t, "10889-08-02T05:31:50.655Z#65535");
    fmt_ms(UINT64_MAX, t); /* a certificate's open end, say */
    ck_assert_int_lt((int)strlen(t), FMT_TIME_BYTES);
}
END_TEST

START_TEST(short_key)
{
    uint8_t k[32] = {0x3b, 0x6a};
    char s[FMT_KEY_SHORT_BYTES];
    k[31] = 0x91;
    fmt_key_short(k, s);
    ck_assert_str_eq(s, "3b6a\xe2\x80\xa6"
                        "91");
}
END_TEST

START_TEST(text_escapes_what_a_terminal_obeys)
{
    static const char in[] = "\xe5\xbc\xa0\xe4\xb8\x89 \"a\\b\"\n\t\x1b[31m"
                             "\xe2\x80\xae\xc2\x85\xff end";
    FILE *f = mem_open();
    fmt_text(f, (const uint8_t *)in, sizeof in - 1);
    ck_assert_str_eq(mem_close(f),
                     "\"\xe5\xbc\xa0\xe4\xb8\x89 \\\"a\\\\b\\\"\\n\\t\\x1b[31m"
                     "\\u{202e}\\u{0085}\\xff end\"");
}
END_TEST

START_TEST(json_strings)
{
    static const char in[] = "\xe5\xbc\xa0\"\\\n\x01\x7f\xe2\x80\xa8\xc0\xaf";
    FILE *f = mem_open();
    fmt_json_str(f, (const uint8_t *)in, sizeof in - 1);
    /* Overlong C0 AF is not UTF-8: two replacement characters. */
    ck_assert_str_eq(mem_close(f), "\"\xe5\xbc\xa0\\\"\\\\\\n\\u0001\\u007f"
                                   "\\u2028\\ufffd\\ufffd\"");
}
END_TEST

START_TEST(json_integers_beyond_2_53_are_strings)
{
    FILE *f = mem_open();
    fmt_json_u64(f, 9007199254740992ull);
    putc(' ', f);
    fmt_json_u64(f, 9007199254740993ull);
    putc(' ', f);
    fmt_json_i64(f, -9007199254740992ll);
    putc(' ', f);
    fmt_json_i64(f, -9007199254740993ll);
    putc(' ', f);
    fmt_json_i64(f, INT64_MIN);
    putc(' ', f);
    fmt_json_real(f, 0.1);
    putc(' ', f);
    fmt_json_real(f, -1.0 / 0.0);
    putc(' ', f);
    fmt_json_real(f, -0.0);
    putc(' ', f);
    fmt_json_real(f, 3.0);
    putc(' ', f);
    fmt_json_real(f, 5e-324);
    ck_assert_str_eq(mem_close(f),
                     "9007199254740992 \"9007199254740993\" -9007199254740992 "
                     "\"-9007199254740993\" \"-9223372036854775808\" 0.1 "
                     "\"-inf\" -0.0 3.0 4.94065645841247e-324");
}
END_TEST

START_TEST(fork_index_finds_forks_only)
{
    fork_index *fi = fork_index_new();
    uint8_t key[32] = {1}, id[32] = {0}, first[32];
    ck_assert_ptr_nonnull(fi);
    /* Enough entries to grow the array and the table several times. */
    for (uint64_t s = 1; s <= 5000; s++) {
        memcpy(id, &s, sizeof s);
        key[1] = (uint8_t)(s % 3);
        ck_assert_int_eq(fork_index_add(fi, key, s, id, first), 0);
    }
    ck_assert_uint_eq(fork_index_count(fi), 5000);
    for (uint64_t s = 1; s <= 5000; s++) { /* the same frames again */
        memcpy(id, &s, sizeof s);
        key[1] = (uint8_t)(s % 3);
        ck_assert_int_eq(fork_index_add(fi, key, s, id, first), 0);
    }
    uint64_t s = 1234;
    key[1] = (uint8_t)(s % 3);
    memset(id, 0xee, sizeof id);
    ck_assert_int_eq(fork_index_add(fi, key, s, id, first), 1);
    ck_assert_int_eq(memcmp(first, &s, sizeof s), 0);
    key[0] = 2; /* another feed, same seq: no fork */
    ck_assert_int_eq(fork_index_add(fi, key, s, id, first), 0);
    ck_assert_uint_eq(fork_index_count(fi), 5001);
    /* Documented: 80 to 125 bytes per entry. */
    ck_assert_uint_le(fork_index_bytes(fi), 125 * 5001 + 72 * 1024);
    fork_index_free(fi);
    fork_index_free(NULL);
}
END_TEST

Suite *fmt_suite(void)
{
    Suite *s = suite_create("fmt");
    TCase *tc = tcase_create("fmt");
    tcase_add_test(tc, ms_and_hlc_as_iso);
    tcase_add_test(tc, short_key);
    tcase_add_test(tc, text_escapes_what_a_terminal_obeys);
    tcase_add_test(tc, json_strings);
    tcase_add_test(tc, json_integers_beyond_2_53_are_strings);
    tcase_add_test(tc, fork_index_finds_forks_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(fmt_suite());
}
