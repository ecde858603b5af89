/* Check suite for the cursor, varints and byte buffer: FORMAT §1.2. */
#include "../format/src/internal.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* Values at every 7-bit group boundary, and the ends of the range. */
static const uint64_t boundaries[] = {
    0,
    1,
    127,
    128,
    255,
    300,
    16383,
    16384,
    (1ull << 21) - 1,
    1ull << 21,
    (1ull << 28) - 1,
    1ull << 28,
    (1ull << 35) - 1,
    1ull << 35,
    (1ull << 42) - 1,
    1ull << 42,
    (1ull << 49) - 1,
    1ull << 49,
    (1ull << 56) - 1,
    1ull << 56,
    (1ull << 63) - 1,
    1ull << 63,
    UINT64_MAX - 1,
    UINT64_MAX,
};
#define NBOUND (sizeof boundaries / sizeof boundaries[0])

static size_t minimal_len(uint64_t v)
{
    size_t n = 1;
    while (v >>= 7)
        n++;
    return n;
}

/* v spread over exactly n bytes of LEB128 (padded with zero groups). */
static void encode_padded(uint64_t v, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t g = i < 10 ? (uint8_t)((i * 7 < 64 ? v >> (i * 7) : 0) & 0x7f)
                           : 0;
        out[i] = (uint8_t)(g | (i + 1 < n ? 0x80 : 0));
    }
}

static int decode_all(const uint8_t *p, size_t n, uint64_t *v,
                      swlog_error *err)
{
    swlog__cursor c;
    swlog__cursor_init(&c, p, n, 1000);
    int rc = swlog__take_varint(&c, v, err);
    if (rc == SWLOG_OK) {
        ck_assert_uint_eq(c.left, 0);
        ck_assert_uint_eq(c.offset, 1000 + n);
        ck_assert_ptr_eq(c.p, p + n);
    } else {
        /* A failed take leaves the cursor where it was. */
        ck_assert_uint_eq(c.left, n);
        ck_assert_uint_eq(c.offset, 1000);
        ck_assert_ptr_eq(c.p, p);
    }
    return rc;
}

START_TEST(varint_spec_examples)
{
    static const struct {
        const char *hex;
        uint64_t v;
    } ex[] = {
        {"00", 0},
        {"7f", 127},
        {"8001", 128},
        {"ac02", 300},
        {"ffffffffffffffff7f", (1ull << 63) - 1},
        {"80808080808080808001", 1ull << 63},
        {"ffffffffffffffffff01", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        size_t n;
        uint8_t *b = hex_decode(ex[i].hex, &n);
        ck_assert_ptr_nonnull(b);
        uint64_t v = 42;
        ck_assert_int_eq(decode_all(b, n, &v, NULL), SWLOG_OK);
        ck_assert_uint_eq(v, ex[i].v);
        swlog_buf out;
        swlog_buf_init(&out);
        ck_assert_int_eq(swlog__put_varint(&out, ex[i].v), SWLOG_OK);
        ck_assert_uint_eq(out.len, n);
        ck_assert_mem_eq(out.p, b, n);
        ck_assert_uint_eq(swlog__varint_len(ex[i].v), n);
        swlog_buf_clear(&out);
        free(b);
    }
}
END_TEST

START_TEST(varint_round_trip_boundaries)
{
    for (size_t i = 0; i < NBOUND; i++) {
        uint64_t v = boundaries[i];
        swlog_buf out;
        swlog_buf_init(&out);
        ck_assert_int_eq(swlog__put_varint(&out, v), SWLOG_OK);
        ck_assert_uint_eq(out.len, minimal_len(v));
        ck_assert_uint_eq(swlog__varint_len(v), minimal_len(v));
        uint64_t got = 0;
        ck_assert_int_eq(decode_all(out.p, out.len, &got, NULL), SWLOG_OK);
        ck_assert_uint_eq(got, v);
        swlog_buf_clear(&out);
    }
}
END_TEST

/* Every padded (non-minimal) form of every boundary value, up to 10 bytes. */
START_TEST(varint_refuses_every_nonminimal_form)
{
    int tried = 0;
    for (size_t i = 0; i < NBOUND; i++) {
        uint64_t v = boundaries[i];
        for (size_t n = minimal_len(v) + 1; n <= 10; n++) {
            uint8_t b[16]; /* n <= 10; the slack quiets gcc -O3 */
            encode_padded(v, n, b);
            ck_assert_uint_eq(b[n - 1], 0x00);
            swlog_error err = {0};
            uint64_t got = 7;
            ck_assert_int_eq(decode_all(b, n, &got, &err), SWLOG_ENONCANON);
            ck_assert_int_eq(err.code, SWLOG_ENONCANON);
            ck_assert_uint_eq(err.offset, 1000);
            ck_assert_uint_eq(got, 7); /* output untouched */
            tried++;
        }
    }
    ck_assert_int_gt(tried, 100);
    /* The single zero byte is the one minimal encoding ending in 0x00. */
    uint8_t z = 0;
    uint64_t got;
    ck_assert_int_eq(decode_all(&z, 1, &got, NULL), SWLOG_OK);
}
END_TEST

/* All two-byte inputs that start a multi-byte varint. */
START_TEST(varint_every_two_byte_input)
{
    for (unsigned b0 = 0x80; b0 <= 0xff; b0++)
        for (unsigned b1 = 0; b1 <= 0xff; b1++) {
            uint8_t b[2] = {(uint8_t)b0, (uint8_t)b1};
            uint64_t v;
            int rc = decode_all(b, 2, &v, NULL);
            if (b1 == 0)
                ck_assert_int_eq(rc, SWLOG_ENONCANON);
            else if (b1 & 0x80)
                ck_assert_int_eq(rc, SWLOG_ESHORT);
            else {
                ck_assert_int_eq(rc, SWLOG_OK);
                ck_assert_uint_eq(v, (b0 & 0x7fu) | (uint64_t)b1 << 7);
            }
        }
}
END_TEST

/* FORMAT §1.2: a 10th byte other than 0x01 (as the last) is refused. */
START_TEST(varint_tenth_byte)
{
    uint8_t b[11];
    memset(b, 0xff, 9);
    for (unsigned last = 0; last <= 0xff; last++) {
        b[9] = (uint8_t)last;
        uint64_t v;
        swlog_error err = {0};
        int rc = decode_all(b, 10, &v, &err);
        if (last == 0x01) {
            ck_assert_int_eq(rc, SWLOG_OK);
            ck_assert_uint_eq(v, UINT64_MAX);
        } else {
            /* 0x00 is not minimal; 0x02.. overflow; 0x80.. an 11th byte */
            ck_assert_int_eq(rc, SWLOG_ENONCANON);
            ck_assert_uint_eq(err.offset, 1000);
        }
    }
    /* An 11-byte varint, even with room for it. */
    memset(b, 0x80, 10);
    b[10] = 0x01;
    uint64_t v;
    ck_assert_int_eq(decode_all(b, 11, &v, NULL), SWLOG_ENONCANON);
}
END_TEST

START_TEST(varint_every_truncation)
{
    for (size_t i = 0; i < NBOUND; i++) {
        uint8_t b[10];
        size_t n = minimal_len(boundaries[i]);
        encode_padded(boundaries[i], n, b);
        for (size_t cut = 0; cut < n; cut++) {
            uint64_t v;
            swlog_error err = {0};
            ck_assert_int_eq(decode_all(b, cut, &v, &err), SWLOG_ESHORT);
            ck_assert_uint_eq(err.offset, 1000);
        }
    }
}
END_TEST

START_TEST(varint_consumes_only_its_bytes)
{
    const uint8_t b[] = {0xac, 0x02, 0x7f, 0x00};
    swlog__cursor c;
    swlog__cursor_init(&c, b, sizeof b, 10);
    uint64_t v;
    ck_assert_int_eq(swlog__take_varint(&c, &v, NULL), SWLOG_OK);
    ck_assert_uint_eq(v, 300);
    ck_assert_uint_eq(c.offset, 12);
    ck_assert_int_eq(swlog__take_varint(&c, &v, NULL), SWLOG_OK);
    ck_assert_uint_eq(v, 127);
    ck_assert_int_eq(swlog__take_varint(&c, &v, NULL), SWLOG_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_uint_eq(c.left, 0);
    swlog_error err = {0};
    ck_assert_int_eq(swlog__take_varint(&c, &v, &err), SWLOG_ESHORT);
    ck_assert_uint_eq(err.offset, 14);
}
END_TEST

START_TEST(fixed_takes_are_big_endian)
{
    const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                         0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
                         0x0f, 0x10};
    swlog__cursor c;
    swlog__cursor_init(&c, b, sizeof b, 0);
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    ck_assert_int_eq(swlog__take_u8(&c, &u8, NULL), SWLOG_OK);
    ck_assert_uint_eq(u8, 0x01);
    ck_assert_int_eq(swlog__take_u16(&c, &u16, NULL), SWLOG_OK);
    ck_assert_uint_eq(u16, 0x0203);
    ck_assert_int_eq(swlog__take_u32(&c, &u32, NULL), SWLOG_OK);
    ck_assert_uint_eq(u32, 0x04050607u);
    ck_assert_int_eq(swlog__take_u64(&c, &u64, NULL), SWLOG_OK);
    ck_assert_uint_eq(u64, 0x08090a0b0c0d0e0full);
    ck_assert_uint_eq(c.offset, 15);
    ck_assert_uint_eq(c.left, 1);
    const uint8_t *p;
    ck_assert_int_eq(swlog__take_bytes(&c, 1, &p, NULL), SWLOG_OK);
    ck_assert_ptr_eq(p, b + 15);
    ck_assert_int_eq(swlog__take_bytes(&c, 0, &p, NULL), SWLOG_OK);
}
END_TEST

START_TEST(fixed_takes_refuse_short_input_without_moving)
{
    const uint8_t b[7] = {0};
    for (size_t n = 0; n < 8; n++) {
        swlog__cursor c;
        swlog__cursor_init(&c, b, n < 7 ? n : 7, 5);
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        const uint8_t *p = NULL;
        swlog_error err = {0};
        ck_assert_int_eq(swlog__take_u64(&c, &u64, &err), SWLOG_ESHORT);
        ck_assert_uint_eq(err.offset, 5);
        int want = c.left >= 4 ? SWLOG_OK : SWLOG_ESHORT;
        ck_assert_int_eq(swlog__take_u32(&c, &u32, NULL), want);
        swlog__cursor_init(&c, b, n < 7 ? n : 7, 5);
        want = c.left >= 2 ? SWLOG_OK : SWLOG_ESHORT;
        ck_assert_int_eq(swlog__take_u16(&c, &u16, NULL), want);
        swlog__cursor_init(&c, b, n < 7 ? n : 7, 5);
        ck_assert_int_eq(swlog__take_bytes(&c, c.left + 1, &p, NULL),
                         SWLOG_ESHORT);
        ck_assert_ptr_null(p);
        ck_assert_uint_eq(c.offset, 5);
    }
    swlog__cursor c;
    swlog__cursor_init(&c, b, 0, 0);
    uint8_t u8;
    ck_assert_int_eq(swlog__take_u8(&c, &u8, NULL), SWLOG_ESHORT);
}
END_TEST

START_TEST(stores_and_puts_match_loads)
{
    uint8_t b[8];
    swlog__store_u16(b, 0xa1b2);
    ck_assert_uint_eq(b[0], 0xa1);
    ck_assert_uint_eq(swlog__load_u16(b), 0xa1b2);
    swlog__store_u32(b, 0xdeadbeefu);
    ck_assert_uint_eq(b[0], 0xde);
    ck_assert_uint_eq(b[3], 0xef);
    ck_assert_uint_eq(swlog__load_u32(b), 0xdeadbeefu);
    swlog__store_u64(b, 0x0123456789abcdefull);
    ck_assert_uint_eq(b[0], 0x01);
    ck_assert_uint_eq(b[7], 0xef);
    ck_assert_uint_eq(swlog__load_u64(b), 0x0123456789abcdefull);

    swlog_buf out;
    swlog_buf_init(&out);
    ck_assert_int_eq(swlog__put_u8(&out, 0x11), SWLOG_OK);
    ck_assert_int_eq(swlog__put_u16(&out, 0x2233), SWLOG_OK);
    ck_assert_int_eq(swlog__put_u32(&out, 0x44556677u), SWLOG_OK);
    ck_assert_int_eq(swlog__put_u64(&out, 0x8899aabbccddeeffull), SWLOG_OK);
    const uint8_t want[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                            0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    ck_assert_uint_eq(out.len, sizeof want);
    ck_assert_mem_eq(out.p, want, sizeof want);
    swlog_buf_clear(&out);
}
END_TEST

START_TEST(buf_grows_and_clears)
{
    swlog_buf b;
    swlog_buf_init(&b);
    ck_assert_ptr_null(b.p);
    uint8_t chunk[100];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (uint8_t)i;
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(swlog_buf_append(&b, chunk, sizeof chunk), SWLOG_OK);
    ck_assert_uint_eq(b.len, 100000);
    ck_assert_uint_ge(b.cap, b.len);
    for (size_t i = 0; i < b.len; i++)
        ck_assert_uint_eq(b.p[i], i % 100);
    ck_assert_int_eq(swlog_buf_append(&b, NULL, 0), SWLOG_OK);
    ck_assert_int_eq(swlog_buf_append(&b, NULL, 1), SWLOG_EARG);
    ck_assert_uint_eq(b.len, 100000);
    swlog_buf_clear(&b);
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(swlog_buf_append(&b, "x", 1), SWLOG_OK);
    ck_assert_uint_eq(b.len, 1);
    swlog_buf_clear(&b);
    swlog_buf_clear(NULL);
}
END_TEST

START_TEST(fail_keeps_the_first_failure)
{
    swlog_error err = {0};
    ck_assert_int_eq(swlog__fail(&err, SWLOG_ESHORT, 3, "first %d", 1),
                     SWLOG_ESHORT);
    ck_assert_int_eq(swlog__fail(&err, SWLOG_EINVAL, 9, "second"),
                     SWLOG_EINVAL);
    ck_assert_int_eq(err.code, SWLOG_ESHORT);
    ck_assert_uint_eq(err.offset, 3);
    ck_assert_str_eq(err.msg, "first 1");
    ck_assert_int_eq(swlog__fail(NULL, SWLOG_EINVAL, 9, "x"), SWLOG_EINVAL);
}
END_TEST

Suite *cursor_suite(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("varint");
    tcase_add_test(tc, varint_spec_examples);
    tcase_add_test(tc, varint_round_trip_boundaries);
    tcase_add_test(tc, varint_refuses_every_nonminimal_form);
    tcase_add_test(tc, varint_every_two_byte_input);
    tcase_add_test(tc, varint_tenth_byte);
    tcase_add_test(tc, varint_every_truncation);
    tcase_add_test(tc, varint_consumes_only_its_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("fixed");
    tcase_add_test(tc, fixed_takes_are_big_endian);
    tcase_add_test(tc, fixed_takes_refuse_short_input_without_moving);
    tcase_add_test(tc, stores_and_puts_match_loads);
    tcase_add_test(tc, buf_grows_and_clears);
    tcase_add_test(tc, fail_keeps_the_first_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(cursor_suite());
}
