/* The sync client's strict JSON reader (agent/client/json.c): what it
 * accepts, every hostile or malformed form it refuses, its bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testutil.h"

static int parses(const char *s)
{
    json_doc d;
    int rc = json_parse(&d, s, strlen(s), NULL);
    json_clear(&d);
    return rc;
}

START_TEST(accepts_hub_answers)
{
    const char *s = "{\"protocol\":1,\"hub\":\"00ff\",\"unit\":\"C\\u00e9\","
                    "\"time_ms\":1795392000000,\"list\":[1,2,[3]],"
                    "\"frozen\":false,\"x\":null,\"t\":true,\"r\":-1.5e3}";
    json_doc d;
    uint64_t v;
    char buf[16];
    uint8_t h[2];
    ck_assert_int_eq(json_parse(&d, s, strlen(s), NULL), SWLOG_OK);
    ck_assert_int_eq(json_type_of(&d, 0), JSON_OBJECT);
    ck_assert_int_eq(json_u64(&d, json_member(&d, 0, "protocol"), &v), 0);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(json_u64(&d, json_member(&d, 0, "time_ms"), &v), 0);
    ck_assert_uint_eq(v, 1795392000000ull);
    ck_assert_int_eq(json_hex(&d, json_member(&d, 0, "hub"), h, 2), 0);
    ck_assert_uint_eq(h[0], 0);
    ck_assert_uint_eq(h[1], 0xff);
    ck_assert_int_eq(json_string(&d, json_member(&d, 0, "unit"), buf,
                                 sizeof buf), 0);
    ck_assert_str_eq(buf, "C\xc3\xa9");
    int list = json_member(&d, 0, "list");
    ck_assert_int_eq(json_type_of(&d, list), JSON_ARRAY);
    ck_assert_int_eq(json_u64(&d, json_item(&d, list, 1), &v), 0);
    ck_assert_uint_eq(v, 2);
    ck_assert_int_eq(json_type_of(&d, json_item(&d, list, 2)), JSON_ARRAY);
    ck_assert_int_eq(json_item(&d, list, 3), -1);
    ck_assert_int_eq(json_type_of(&d, json_member(&d, 0, "frozen")),
                     JSON_FALSE);
    ck_assert_int_eq(json_type_of(&d, json_member(&d, 0, "t")), JSON_TRUE);
    ck_assert_int_eq(json_type_of(&d, json_member(&d, 0, "x")), JSON_NULL);
    ck_assert_int_eq(json_member(&d, 0, "absent"), -1);
    /* Not an integer, not hex, not a string: refused by the converters. */
    ck_assert_int_eq(json_u64(&d, json_member(&d, 0, "r"), &v), SWLOG_EINVAL);
    ck_assert_int_eq(json_hex(&d, json_member(&d, 0, "unit"), h, 2),
                     SWLOG_EINVAL);
    ck_assert_int_eq(json_string(&d, json_member(&d, 0, "protocol"), buf,
                                 sizeof buf), SWLOG_EINVAL);
    json_clear(&d);
    json_clear(&d); /* idempotent */
}
END_TEST

START_TEST(converters_are_strict)
{
    const char *s = "[9007199254740991,9007199254740992,01,1.0,1e2,-1,"
                    "\"ABCD\",\"abc\",\"ab\\u0063d\",\"a\\u0000b\",\"\"]";
    json_doc d;
    uint64_t v;
    uint8_t h[2];
    char buf[8];
    /* 01 is not JSON at all. */
    ck_assert_int_eq(json_parse(&d, s, strlen(s), NULL), SWLOG_EINVAL);
    s = "[9007199254740991,9007199254740992,1.0,1e2,-1,\"ABCD\",\"abc\","
        "\"ab\\u0063d\",\"a\\u0000b\",\"\",\"toolong\"]";
    ck_assert_int_eq(json_parse(&d, s, strlen(s), NULL), SWLOG_OK);
    ck_assert_int_eq(json_u64(&d, json_item(&d, 0, 0), &v), 0);
    ck_assert_uint_eq(v, 9007199254740991ull);
    for (uint32_t i = 1; i <= 4; i++) /* 2^53, 1.0, 1e2, -1 */
        ck_assert_int_eq(json_u64(&d, json_item(&d, 0, i), &v), SWLOG_EINVAL);
    ck_assert_int_eq(json_hex(&d, json_item(&d, 0, 5), h, 2), SWLOG_EINVAL);
    ck_assert_int_eq(json_hex(&d, json_item(&d, 0, 6), h, 2), SWLOG_EINVAL);
    ck_assert_int_eq(json_hex(&d, json_item(&d, 0, 7), h, 2), SWLOG_EINVAL);
    ck_assert_int_eq(json_string(&d, json_item(&d, 0, 7), buf, sizeof buf),
                     0);
    ck_assert_str_eq(buf, "abcd");
    /* An escaped NUL never reaches a C string. */
    ck_assert_int_eq(json_string(&d, json_item(&d, 0, 8), buf, sizeof buf),
                     SWLOG_EBOUNDS);
    ck_assert_int_eq(json_string(&d, json_item(&d, 0, 9), buf, sizeof buf),
                     0);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(json_string(&d, json_item(&d, 0, 10), buf, 7),
                     SWLOG_EBOUNDS);
    ck_assert_int_eq(json_string(&d, json_item(&d, 0, 10), buf, 8), 0);
    json_clear(&d);
}
END_TEST

static const char *const bad[] = {
    "", " ", "{", "}", "[", "]", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\"}",
    "{\"a\" 1}", "{a:1}", "{'a':1}", "[1 2]", "tru", "nul", "True", "NaN",
    "-", "1.", ".5", "1e", "1e+", "+1", "00", "-01", "0x10", "\"abc",
    "\"a\\x\"", "\"a\\u12\"", "\"a\\u12g4\"", "\"\\ud800\"",
    "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"tab\there\"", "\"nl\nx\"",
    "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf5\x80\x80\x80\"",
    "\"\xe0\x80\xaf\"", "\"\xff\"", "1 2", "{} []", "[]x", "{\"a\":1}}",
    "{\"a\":1,\"a\":2}", "{\"a\":1,\"\\u0061\":2}", "/*c*/1", "[1]\x00",
};

START_TEST(refuses_malformed)
{
    const char *s = bad[_i];
    size_t len = strlen(s);
    if (_i == sizeof bad / sizeof bad[0] - 1)
        len = 4; /* "[1]" and a NUL byte */
    json_doc d;
    swlog_error err = {0};
    int rc = json_parse(&d, s, len, &err);
    ck_assert_msg(rc == SWLOG_EINVAL, "input %u (%s): %d", (unsigned)_i, s,
                  rc);
    ck_assert_int_eq(err.code, rc);
    ck_assert_uint_le(err.offset, len);
    ck_assert_ptr_null(d.t);
}
END_TEST

START_TEST(accepts_edge_forms)
{
    ck_assert_int_eq(parses(" \t\r\n{ } "), 0);
    ck_assert_int_eq(parses("[]"), 0);
    ck_assert_int_eq(parses("0"), 0);
    ck_assert_int_eq(parses("-0.0e-0"), 0);
    ck_assert_int_eq(parses("\"\\ud83d\\ude00 \xf0\x9f\x98\x80\""), 0);
    ck_assert_int_eq(parses("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), 0);
    ck_assert_int_eq(parses("{\"a\":{\"a\":1}}"), 0); /* same key, two levels */
}
END_TEST

START_TEST(bounds)
{
    /* Depth: 16 levels are fine, 17 are refused. */
    char deep[64];
    memset(deep, '[', 16);
    memset(deep + 16, ']', 16);
    deep[32] = '\0';
    ck_assert_int_eq(parses(deep), 0);
    memset(deep, '[', 17);
    memset(deep + 17, ']', 17);
    deep[34] = '\0';
    ck_assert_int_eq(parses(deep), SWLOG_EBOUNDS);
    /* A hostile nesting far past the limit stops at the limit. */
    size_t n = 200000;
    char *big = malloc(n + 1);
    memset(big, '[', n);
    big[n] = '\0';
    ck_assert_int_eq(parses(big), SWLOG_EBOUNDS);
    /* Tokens: 65,536 values fit... */
    size_t cap = 2 * JSON_MAX_TOKENS + 8, at = 0;
    char *many = realloc(big, cap);
    many[at++] = '[';
    for (uint32_t i = 0; i < JSON_MAX_TOKENS - 1; i++) {
        many[at++] = '0';
        many[at++] = ',';
    }
    many[at - 1] = ']';
    many[at] = '\0';
    ck_assert_int_eq(parses(many), 0);
    /* ...one more does not. */
    many[at - 1] = ',';
    many[at++] = '0';
    many[at++] = ']';
    many[at] = '\0';
    ck_assert_int_eq(parses(many), SWLOG_EBOUNDS);
    free(many);
    /* Members of one object. */
    char obj[2048];
    at = 0;
    obj[at++] = '{';
    for (unsigned i = 0; i <= JSON_MAX_MEMBERS; i++)
        at += (size_t)snprintf(obj + at, sizeof obj - at, "\"k%u\":%u,", i, i);
    obj[at - 1] = '}';
    obj[at] = '\0';
    ck_assert_int_eq(parses(obj), SWLOG_EBOUNDS);
    /* Input size. */
    json_doc d;
    ck_assert_int_eq(json_parse(&d, "1", JSON_MAX_INPUT + 1, NULL),
                     SWLOG_EBOUNDS);
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, accepts_hub_answers);
    tcase_add_test(tc, converters_are_strict);
    tcase_add_loop_test(tc, refuses_malformed, 0,
                        (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, accepts_edge_forms);
    tcase_add_test(tc, bounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(json_suite());
}
