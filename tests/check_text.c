/* Check suite for strings and text forms: FORMAT §1.3, UUIDs of §5.2. */
#include "../format/src/internal.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *hex;
    int ok;
    const char *why;
} utf8[] = {
    {"", 1, "empty"},
    {"61", 1, "ASCII"},
    {"68656c6c6f20776f726c64212121", 1, "longer ASCII (word path)"},
    {"7f", 1, "U+007F"},
    {"c280", 1, "U+0080, smallest 2-byte"},
    {"dfbf", 1, "U+07FF, largest 2-byte"},
    {"e0a080", 1, "U+0800, smallest 3-byte"},
    {"ed9fbf", 1, "U+D7FF, below the surrogates"},
    {"ee8080", 1, "U+E000, above the surrogates"},
    {"efbfbf", 1, "U+FFFF"},
    {"efbbbf", 1, "U+FEFF (BOM is a character)"},
    {"f0908080", 1, "U+10000, smallest 4-byte"},
    {"f48fbfbf", 1, "U+10FFFF, largest code point"},
    {"4cc3a46f7320e4b8ade696872046f09f9880", 1, "mixed"},
    {"6161616161616161c3a9", 1, "multi-byte after 8 ASCII"},
    {"00", 0, "U+0000"},
    {"6161616161616100", 0, "U+0000 inside a word"},
    {"61616161616161616161610061", 0, "U+0000 after a word"},
    {"80", 0, "lone continuation"},
    {"bf", 0, "lone continuation"},
    {"c0", 0, "C0 lead"},
    {"c080", 0, "overlong U+0000"},
    {"c0af", 0, "overlong '/'"},
    {"c1bf", 0, "overlong U+007F"},
    {"c2", 0, "truncated 2-byte"},
    {"c27f", 0, "bad continuation"},
    {"c2c0", 0, "bad continuation"},
    {"e08080", 0, "overlong 3-byte"},
    {"e09fbf", 0, "overlong U+07FF"},
    {"eda080", 0, "U+D800 surrogate"},
    {"edbfbf", 0, "U+DFFF surrogate"},
    {"eda080edb080", 0, "surrogate pair (CESU-8)"},
    {"e0a0", 0, "truncated 3-byte"},
    {"e1", 0, "truncated 3-byte"},
    {"e18041", 0, "bad 3rd byte"},
    {"f0808080", 0, "overlong 4-byte"},
    {"f08fbfbf", 0, "overlong U+FFFF"},
    {"f4908080", 0, "U+110000"},
    {"f5808080", 0, "F5 lead"},
    {"f8888080", 0, "5-byte form"},
    {"fc84808080", 0, "6-byte form"},
    {"fe", 0, "FE"},
    {"ff", 0, "FF"},
    {"f09080", 0, "truncated 4-byte"},
    {"f0908041", 0, "bad 4th byte"},
    {"616161616161616180", 0, "continuation after a word"},
};

START_TEST(utf8_table)
{
    for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++) {
        size_t n;
        uint8_t *b = hex_decode(utf8[i].hex, &n);
        ck_assert_ptr_nonnull(b);
        ck_assert_msg(swlog__utf8_valid(b, n) == utf8[i].ok, "%s: %s",
                      utf8[i].hex, utf8[i].why);
        free(b);
    }
}
END_TEST

/* Every code point, encoded by hand, is valid unless it is a surrogate or
 * U+0000; each encoding cut short is not. */
START_TEST(utf8_every_code_point)
{
    unsigned long wrong = 0, first_wrong = 0, checked = 0;
    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        uint8_t b[4];
        size_t n;
        if (cp < 0x80) {
            b[0] = (uint8_t)cp;
            n = 1;
        } else if (cp < 0x800) {
            b[0] = (uint8_t)(0xc0 | cp >> 6);
            b[1] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 2;
        } else if (cp < 0x10000) {
            b[0] = (uint8_t)(0xe0 | cp >> 12);
            b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
            b[2] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 3;
        } else {
            b[0] = (uint8_t)(0xf0 | cp >> 18);
            b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
            b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
            b[3] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 4;
        }
        int want = cp != 0 && !(cp >= 0xd800 && cp <= 0xdfff);
        /* Count, then assert once: a million ck_asserts are slow. */
        if (swlog__utf8_valid(b, n) != want) {
            wrong++;
            first_wrong = first_wrong ? first_wrong : cp;
        }
        for (size_t k = 1; k < n; k++)
            if (swlog__utf8_valid(b, k) != 0)
                wrong++;
        checked++;
    }
    ck_assert_msg(wrong == 0, "%lu wrong, first U+%04lX", wrong, first_wrong);
    ck_assert_uint_eq(checked, 0x110000);
}
END_TEST

START_TEST(identifiers)
{
    static const struct {
        const char *s;
        int ok;
    } t[] = {
        {"a", 1},
        {"patient_visit", 1},
        {"z9_", 1},
        {"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl",
         1}, /* 64 */
        {"", 0},
        {"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm",
         0}, /* 65 */
        {"9a", 0},
        {"_a", 0},
        {"Ab", 0},
        {"aB", 0},
        {"a-b", 0},
        {"a b", 0},
        {"a.b", 0},
        {"\xc3\xa9", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(swlog__ident_valid((const uint8_t *)t[i].s,
                                         strlen(t[i].s)) == t[i].ok,
                      "%s", t[i].s);
}
END_TEST

START_TEST(unit_codes)
{
    static const struct {
        const char *s;
        int ok;
    } t[] = {
        {"440983102000-01", 1},
        {"A", 1},
        {"-", 1},
        {"aZ09-", 1},
        {"abcdefghijklmnopqrstuvwxyzABCDEF", 1}, /* 32 */
        {"", 0},
        {"abcdefghijklmnopqrstuvwxyzABCDEFG", 0}, /* 33 */
        {"a_b", 0},
        {"a b", 0},
        {"a.b", 0},
        {"\xc3\xa9", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(swlog__unit_valid((const uint8_t *)t[i].s,
                                        strlen(t[i].s)) == t[i].ok,
                      "%s", t[i].s);
}
END_TEST

START_TEST(hex_is_lowercase)
{
    const uint8_t b[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[9];
    memset(out, 'x', sizeof out);
    swlog_hex(b, sizeof b, out);
    ck_assert_str_eq(out, "000fa5ff");
    swlog_hex(b, 0, out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(uuid_round_trip)
{
    const uint8_t id[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                            0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    char text[37];
    swlog_uuid_format(id, text);
    ck_assert_str_eq(text, "01234567-89ab-cdef-fedc-ba9876543210");
    uint8_t back[16];
    ck_assert_int_eq(swlog_uuid_parse(text, back), SWLOG_OK);
    ck_assert_mem_eq(back, id, 16);
    memset(back, 0, sizeof back);
    ck_assert_int_eq(
        swlog_uuid_parse("01234567-89AB-CDEF-FEDC-BA9876543210", back),
        SWLOG_OK);
    ck_assert_mem_eq(back, id, 16);
}
END_TEST

START_TEST(uuid_parse_refuses_malformed)
{
    static const char *bad[] = {
        "",
        "01234567-89ab-cdef-fedc-ba987654321",   /* short */
        "01234567-89ab-cdef-fedc-ba98765432100", /* long */
        "0123456789ab-cdef-fedc-ba9876543210-",  /* dash misplaced */
        "01234567_89ab-cdef-fedc-ba9876543210",
        "01234567-89ab-cdef-fedc-ba987654321g",
        "0123456789abcdeffedcba9876543210",
        "{01234567-89ab-cdef-fedc-ba9876543210}",
        "01234567-89ab-cdef-fedc-ba98765432 0",
    };
    uint8_t id[16];
    memset(id, 0x5a, sizeof id);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(swlog_uuid_parse(bad[i], id) == SWLOG_EARG, "%s",
                      bad[i]);
    for (size_t i = 0; i < sizeof id; i++)
        ck_assert_uint_eq(id[i], 0x5a); /* untouched on failure */
    ck_assert_int_eq(swlog_uuid_parse(NULL, id), SWLOG_EARG);
}
END_TEST

Suite *text_suite(void)
{
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, utf8_table);
    tcase_add_test(tc, utf8_every_code_point);
    tcase_add_test(tc, identifiers);
    tcase_add_test(tc, unit_codes);
    tcase_add_test(tc, hex_is_lowercase);
    tcase_add_test(tc, uuid_round_trip);
    tcase_add_test(tc, uuid_parse_refuses_malformed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(text_suite());
}
