/* Check suite for change-sets: the builder, the strict payload decoder and
 * the reader, FORMAT §5 and the limits of §10. */
#include "craft.h"
#include "testutil.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t pk1[32], sk1[64];

static void setup(void)
{
    test_key(1, pk1, sk1);
}

static swlog_head head(uint64_t seq, uint64_t hlc)
{
    swlog_head h;
    memset(&h, 0, sizeof h);
    h.seq = seq;
    if (seq > 1)
        memset(h.prev, 0x42, sizeof h.prev);
    h.hlc = hlc;
    return h;
}

static void row(uint8_t id[16], unsigned n)
{
    memset(id, 0, 16);
    id[0] = 0xab;
    id[14] = (uint8_t)(n >> 8);
    id[15] = (uint8_t)n;
}

/* ---- describing a decoded change-set, like FORMAT §12.1's desc lines --- */

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void tprintf(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        ck_assert_ptr_nonnull(t->s);
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static void thex(text *t, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tprintf(t, "%02x", p[i]);
}

/* Every record and value of a decoded change-set, one line each. */
static char *describe(const swlog_frame *f)
{
    text t = {0};
    tprintf(&t, "");
    swlog_reader *rd = malloc(sizeof *rd);
    ck_assert_ptr_nonnull(rd);
    swlog_error err = {0};
    ck_assert_int_eq(swlog_reader_init(rd, f, &err), SWLOG_OK);
    swlog_record rec;
    int rc;
    while ((rc = swlog_reader_next(rd, &rec, &err)) == 1) {
        char id[37];
        swlog_uuid_format(rec.row_id, id);
        tprintf(&t, "%s %.*s %s hlc=%" PRIu64,
                rec.kind == SWLOG_UPSERT ? "upsert" : "delete",
                (int)rec.table_len, (const char *)rec.table, id, rec.hlc);
        if (rec.kind == SWLOG_DELETE)
            tprintf(&t, " replaced=%" PRIu64, rec.replaced_hlc);
        tprintf(&t, "\n");
        swlog_column col;
        uint32_t nv = 0;
        while ((rc = swlog_reader_value(rd, &col, &err)) == 1) {
            nv++;
            tprintf(&t, "  %.*s replaced=%" PRIu64 " ", (int)col.name_len,
                    (const char *)col.name, col.replaced_hlc);
            const swlog_value *v = &col.value;
            uint64_t bits;
            switch (v->type) {
            case SWLOG_NULL:
                tprintf(&t, "null");
                break;
            case SWLOG_INT:
                tprintf(&t, "int:%" PRId64, v->i);
                break;
            case SWLOG_REAL:
                memcpy(&bits, &v->r, 8);
                tprintf(&t, "real:%016" PRIx64, bits);
                break;
            case SWLOG_TEXT:
                tprintf(&t, "text:");
                thex(&t, v->p, v->len);
                break;
            case SWLOG_BLOB:
                tprintf(&t, "blob:");
                thex(&t, v->p, v->len);
                break;
            default:
                ck_abort_msg("value type %u", v->type);
            }
            tprintf(&t, "\n");
        }
        ck_assert_int_eq(rc, 0);
        ck_assert_uint_eq(nv, rec.value_count);
    }
    ck_assert_msg(rc == 0, "reader: %s", err.msg);
    free(rd);
    return t.s;
}

static void seal_ok(swlog_cs *cs, const swlog_head *h, swlog_buf *out)
{
    swlog_error err = {0};
    size_t bound = swlog_cs_size_bound(cs);
    int rc = swlog_cs_seal(cs, sk1, h, 3, "nurse-04", out, &err);
    ck_assert_msg(rc == SWLOG_OK, "seal: %s", err.msg);
    ck_assert_uint_le(out->len, bound);
}

static void decode_ok(const swlog_buf *b, swlog_frame *f)
{
    swlog_error err = {0};
    int rc = swlog_frame_decode(b->p, b->len, 0, f, &err);
    ck_assert_msg(rc == SWLOG_OK, "decode: %s @%" PRIu64, err.msg,
                  err.offset);
    ck_assert_uint_eq(f->type, SWLOG_TYPE_CHANGESET);
}

static void add(swlog_cs *cs, const char *col, uint64_t replaced,
                swlog_value v)
{
    swlog_error err = {0};
    int rc = swlog_cs_value(cs, col, replaced, &v, &err);
    ck_assert_msg(rc == SWLOG_OK, "value %s: %s", col, err.msg);
}

static swlog_value vnull(void)
{
    return (swlog_value){.type = SWLOG_NULL};
}
static swlog_value vint(int64_t i)
{
    return (swlog_value){.type = SWLOG_INT, .i = i};
}
static swlog_value vreal(double r)
{
    return (swlog_value){.type = SWLOG_REAL, .r = r};
}
static swlog_value vtext(const char *s)
{
    return (swlog_value){.type = SWLOG_TEXT, .p = (const uint8_t *)s,
                         .len = strlen(s)};
}
static swlog_value vblob(const void *p, size_t n)
{
    return (swlog_value){.type = SWLOG_BLOB, .p = p, .len = n};
}

/* ---- builder round trips ---------------------------------------------- */

START_TEST(round_trip_all_value_types)
{
    swlog_cs *cs = swlog_cs_new();
    ck_assert_ptr_nonnull(cs);
    uint8_t id[16];
    const uint64_t H = 1000000;
    row(id, 1);
    ck_assert_int_eq(swlog_cs_upsert(cs, "visit", id, H - 10, NULL),
                     SWLOG_OK);
    /* Added out of name order: they come back in name order. */
    add(cs, "zmax", 0, vint(INT64_MAX));
    add(cs, "zmin", 7, vint(INT64_MIN));
    add(cs, "a_null", 0, vnull());
    add(cs, "int0", 0, vint(0));
    add(cs, "intm1", 0, vint(-1));
    add(cs, "real", 0, vreal(-2.5));
    add(cs, "negzero", 0, vreal(-0.0));
    add(cs, "inf", 0, vreal(INFINITY));
    add(cs, "text", 0, vtext("L\xc3\xa4os \xf0\x9f\x98\x80"));
    add(cs, "empty_text", 0, vtext(""));
    add(cs, "blob", 0, vblob("\x00\x01\xff", 3));
    add(cs, "empty_blob", 0, vblob(NULL, 0));
    row(id, 2);
    ck_assert_int_eq(swlog_cs_delete(cs, "patient", id, H, 0, NULL),
                     SWLOG_OK);
    row(id, 3);
    ck_assert_int_eq(swlog_cs_delete(cs, "visit", id, 0, UINT64_MAX, NULL),
                     SWLOG_OK);
    row(id, 4);
    ck_assert_int_eq(swlog_cs_upsert(cs, "patient", id, H - 1, NULL),
                     SWLOG_OK);
    add(cs, "name", 999, vtext("x"));
    ck_assert_uint_eq(swlog_cs_count(cs), 4);

    swlog_head h = head(5, H);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    swlog_frame f;
    decode_ok(&b, &f);
    ck_assert_uint_eq(f.u.changeset.record_count, 4);
    ck_assert_uint_eq(f.u.changeset.schema_version, 3);
    ck_assert_mem_eq(f.u.changeset.author, "nurse-04", 8);
    char *d = describe(&f);
    const char *want =
        "upsert visit ab000000-0000-0000-0000-000000000001 hlc=999990\n"
        "  a_null replaced=0 null\n"
        "  blob replaced=0 blob:0001ff\n"
        "  empty_blob replaced=0 blob:\n"
        "  empty_text replaced=0 text:\n"
        "  inf replaced=0 real:7ff0000000000000\n"
        "  int0 replaced=0 int:0\n"
        "  intm1 replaced=0 int:-1\n"
        "  negzero replaced=0 real:8000000000000000\n"
        "  real replaced=0 real:c004000000000000\n"
        "  text replaced=0 text:4cc3a46f7320f09f9880\n"
        "  zmax replaced=0 int:9223372036854775807\n"
        "  zmin replaced=7 int:-9223372036854775808\n"
        "delete patient ab000000-0000-0000-0000-000000000002 hlc=1000000 "
        "replaced=0\n"
        "delete visit ab000000-0000-0000-0000-000000000003 hlc=0 "
        "replaced=18446744073709551615\n"
        "upsert patient ab000000-0000-0000-0000-000000000004 hlc=999999\n"
        "  name replaced=999 text:78\n";
    ck_assert_str_eq(d, want);
    free(d);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

/* A tiny change-set, byte for byte (FORMAT §5.2, §1.2 zigzag). */
START_TEST(payload_known_answer)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16];
    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)i;
    ck_assert_int_eq(swlog_cs_upsert(cs, "t", id, 300, NULL), SWLOG_OK);
    add(cs, "c", 0, vint(1));
    add(cs, "b", 5, vint(-64));
    ck_assert_int_eq(swlog_cs_delete(cs, "s", id, 44, 128, NULL), SWLOG_OK);
    swlog_head h = head(1, 300);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    swlog_frame f;
    decode_ok(&b, &f);
    size_t n;
    uint8_t *want = hex_decode("02"           /* two tables */
                               "0173" "00"    /* s, no columns */
                               "0174" "02"    /* t, two columns */
                               "0162" "0163"  /* b, c */
                               "01" "01" "000102030405060708090a0b0c0d0e0f"
                               "00" "02"      /* delta 0, two values */
                               "00" "09" "05" "7f" /* b: replaced 5, -64 */
                               "01" "01" "02" /* c: 1 */
                               "02" "00" "000102030405060708090a0b0c0d0e0f"
                               "8002"         /* delta 256 */
                               "8001",        /* replaced 128 */
                               &n);
    ck_assert_ptr_nonnull(want);
    ck_assert_uint_eq(f.payload_len, n);
    ck_assert_mem_eq(f.payload, want, n);
    ck_assert_uint_eq(f.header_len, 129 + 8);
    free(want);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

static void build_order(swlog_cs *cs, int reverse)
{
    /* Names chosen to test bytewise order: '0' < '_' < 'a', prefix first. */
    static const char *cols[] = {"a", "ab", "a0", "a_", "b", "aa", "z9"};
    const size_t nc = sizeof cols / sizeof cols[0];
    static const char *tabs[] = {"zeta", "alpha", "al", "alpha_2"};
    uint8_t id[16];
    for (unsigned t = 0; t < 4; t++) {
        row(id, t);
        ck_assert_int_eq(swlog_cs_upsert(cs, tabs[t], id, 10 + t, NULL),
                         SWLOG_OK);
        for (size_t k = 0; k < nc; k++) {
            size_t i = reverse ? nc - 1 - k : k;
            add(cs, cols[i], 0, vint((int64_t)i));
        }
    }
}

START_TEST(dictionary_independent_of_insertion_order)
{
    swlog_cs *a = swlog_cs_new(), *b = swlog_cs_new();
    build_order(a, 0);
    build_order(b, 1);
    swlog_head h = head(2, 100);
    swlog_buf ba, bb;
    swlog_buf_init(&ba);
    swlog_buf_init(&bb);
    seal_ok(a, &h, &ba);
    seal_ok(b, &h, &bb);
    ck_assert_uint_eq(ba.len, bb.len);
    ck_assert_mem_eq(ba.p, bb.p, ba.len);
    swlog_frame f;
    decode_ok(&ba, &f);
    /* The dictionary itself: tables and columns in byte order. */
    swlog_reader *rd = malloc(sizeof *rd);
    ck_assert_int_eq(swlog_reader_init(rd, &f, NULL), SWLOG_OK);
    ck_assert_uint_eq(rd->ntables, 4);
    static const char *tw[] = {"al", "alpha", "alpha_2", "zeta"};
    static const char *cw[] = {"a", "a0", "a_", "aa", "ab", "b", "z9"};
    for (int t = 0; t < 4; t++) {
        ck_assert_uint_eq(rd->tables[t].len, strlen(tw[t]));
        ck_assert_mem_eq(rd->tables[t].name, tw[t], strlen(tw[t]));
        ck_assert_uint_eq(rd->tables[t].count, 7);
        for (int k = 0; k < 7; k++) {
            unsigned c = rd->tables[t].first + (unsigned)k;
            ck_assert_uint_eq(rd->cols[c].len, strlen(cw[k]));
            ck_assert_mem_eq(rd->cols[c].name, cw[k], strlen(cw[k]));
        }
    }
    free(rd);
    char *d = describe(&f);
    /* Records stay in the order written. */
    ck_assert_ptr_nonnull(strstr(d, "upsert zeta ab000000-0000-0000-0000-"
                                    "000000000000 hlc=10\n  a replaced=0 "
                                    "int:0\n  a0 replaced=0 int:2\n"));
    ck_assert_ptr_nonnull(strstr(d, "upsert alpha "));
    ck_assert(strstr(d, "upsert zeta") < strstr(d, "upsert alpha "));
    free(d);
    /* Reset gives a builder equal to a fresh one. */
    swlog_cs_reset(a);
    ck_assert_uint_eq(swlog_cs_count(a), 0);
    build_order(a, 1);
    swlog_buf_clear(&ba);
    seal_ok(a, &h, &ba);
    ck_assert_mem_eq(ba.p, bb.p, bb.len);
    swlog_buf_clear(&ba);
    swlog_buf_clear(&bb);
    swlog_cs_free(a);
    swlog_cs_free(b);
}
END_TEST

START_TEST(reader_skips_unread_values)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16];
    for (unsigned r = 0; r < 5; r++) {
        row(id, r);
        ck_assert_int_eq(swlog_cs_upsert(cs, "t", id, r, NULL), SWLOG_OK);
        add(cs, "a", 0, vtext("skip me"));
        add(cs, "b", 0, vint(r));
    }
    swlog_head h = head(3, 10);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    swlog_frame f;
    decode_ok(&b, &f);
    swlog_reader *rd = malloc(sizeof *rd);
    ck_assert_int_eq(swlog_reader_init(rd, &f, NULL), SWLOG_OK);
    swlog_record rec;
    swlog_column col;
    for (unsigned r = 0; r < 5; r++) {
        ck_assert_int_eq(swlog_reader_next(rd, &rec, NULL), 1);
        ck_assert_uint_eq(rec.row_id[15], r);
        ck_assert_uint_eq(rec.hlc, r);
        if (r % 2 == 1) { /* read one of two values, then move on */
            ck_assert_int_eq(swlog_reader_value(rd, &col, NULL), 1);
            ck_assert_mem_eq(col.name, "a", 1);
        }
    }
    ck_assert_int_eq(swlog_reader_next(rd, &rec, NULL), 0);
    ck_assert_int_eq(swlog_reader_next(rd, &rec, NULL), 0);
    ck_assert_int_eq(swlog_reader_value(rd, &col, NULL), 0);
    /* Only change-sets have a reader. */
    swlog_frame other = f;
    other.type = SWLOG_TYPE_CHECKPOINT;
    ck_assert_int_eq(swlog_reader_init(rd, &other, NULL), SWLOG_EARG);
    free(rd);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

/* ---- builder refusals ------------------------------------------------- */

START_TEST(builder_refuses_bad_input)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16] = {0};
    swlog_value v = vint(1);
    swlog_error err = {0};
    /* A value needs an upsert to belong to. */
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &v, NULL), SWLOG_EARG);
    ck_assert_int_eq(swlog_cs_delete(cs, "t", id, 1, 0, NULL), SWLOG_OK);
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &v, NULL), SWLOG_EARG);
    /* Identifiers. */
    static const char *bad[] = {"", "T", "1t", "_t", "t-t", "t t", "t\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(swlog_cs_upsert(cs, bad[i], id, 1, NULL), SWLOG_EARG);
        ck_assert_int_eq(swlog_cs_delete(cs, bad[i], id, 1, 0, NULL),
                         SWLOG_EARG);
    }
    ck_assert_int_eq(swlog_cs_upsert(cs, NULL, id, 1, NULL), SWLOG_EARG);
    ck_assert_int_eq(swlog_cs_upsert(cs, "t", NULL, 1, NULL), SWLOG_EARG);
    ck_assert_int_eq(swlog_cs_upsert(cs, "t", id, 1, NULL), SWLOG_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(swlog_cs_value(cs, bad[i], 0, &v, NULL), SWLOG_EARG);
    ck_assert_int_eq(swlog_cs_value(cs, NULL, 0, &v, NULL), SWLOG_EARG);
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, NULL, NULL), SWLOG_EARG);
    /* Values. */
    swlog_value nan = vreal(NAN);
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &nan, &err), SWLOG_EARG);
    ck_assert_str_ne(err.msg, "");
    swlog_value badtext = vtext("ok\xed\xa0\x80");
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &badtext, NULL), SWLOG_EARG);
    swlog_value nul = {.type = SWLOG_TEXT, .p = (const uint8_t *)"a\0b",
                       .len = 3};
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &nul, NULL), SWLOG_EARG);
    swlog_value type5 = {.type = 5};
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &type5, NULL), SWLOG_EARG);
    swlog_value nobytes = {.type = SWLOG_BLOB, .p = NULL, .len = 2};
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &nobytes, NULL), SWLOG_EARG);
    /* A column twice in one record; fine again in the next record. */
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &v, NULL), SWLOG_OK);
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &v, NULL), SWLOG_EARG);
    ck_assert_int_eq(swlog_cs_upsert(cs, "t", id, 1, NULL), SWLOG_OK);
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &v, NULL), SWLOG_OK);
    /* The failed values left nothing behind: the record has one value. */
    swlog_head h = head(2, 1);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    swlog_frame f;
    decode_ok(&b, &f);
    char *d = describe(&f);
    ck_assert_str_eq(d, "delete t 00000000-0000-0000-0000-000000000000 hlc=1 "
                        "replaced=0\n"
                        "upsert t 00000000-0000-0000-0000-000000000000 hlc=1\n"
                        "  c replaced=0 int:1\n"
                        "upsert t 00000000-0000-0000-0000-000000000000 hlc=1\n"
                        "  c replaced=0 int:1\n");
    free(d);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

START_TEST(seal_refuses_bad_input)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16] = {0};
    swlog_buf b;
    swlog_buf_init(&b);
    swlog_head h = head(2, 100);
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &h, 1, "a", &b, NULL),
                     SWLOG_EARG); /* no records */
    ck_assert_int_eq(swlog_cs_upsert(cs, "t", id, 100, NULL), SWLOG_OK);
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &h, 1, "a", &b, NULL),
                     SWLOG_EARG); /* an upsert without values */
    swlog_value v = vint(1);
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &v, NULL), SWLOG_OK);
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &h, 0, "a", &b, NULL),
                     SWLOG_EARG); /* schema 0 */
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &h, 1, "", &b, NULL), SWLOG_EARG);
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &h, 1, NULL, &b, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &h, 1, "\xc3", &b, NULL),
                     SWLOG_EARG);
    swlog_head low = head(2, 99); /* below the record's hlc */
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &low, 1, "a", &b, NULL),
                     SWLOG_EARG);
    swlog_head seq0 = head(0, 100);
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &seq0, 1, "a", &b, NULL),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &h, 1, "a", &b, NULL), SWLOG_OK);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
    swlog_cs_free(NULL);
}
END_TEST

/* ---- limits, FORMAT §10: the maximum accepted, one more refused -------- */

static void name_of(char *out, const char *prefix, unsigned i, size_t len)
{
    int n = snprintf(out, len + 1, "%s%u", prefix, i);
    for (size_t k = (size_t)n; k < len; k++)
        out[k] = 'x';
    out[len] = '\0';
}

START_TEST(limit_records)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16];
    for (unsigned i = 0; i < SWLOG_MAX_RECORDS; i++) {
        row(id, i);
        ck_assert_int_eq(swlog_cs_delete(cs, "t", id, i, 0, NULL), SWLOG_OK);
    }
    swlog_error err = {0};
    ck_assert_int_eq(swlog_cs_delete(cs, "t", id, 1, 0, &err), SWLOG_EBOUNDS);
    ck_assert_int_eq(err.code, SWLOG_EBOUNDS);
    ck_assert_int_eq(swlog_cs_upsert(cs, "t", id, 1, NULL), SWLOG_EBOUNDS);
    ck_assert_uint_eq(swlog_cs_count(cs), SWLOG_MAX_RECORDS);
    swlog_head h = head(2, 1u << 20);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    swlog_frame f;
    decode_ok(&b, &f);
    ck_assert_uint_eq(f.u.changeset.record_count, SWLOG_MAX_RECORDS);
    /* The decoder refuses one more in record_count (re-signed). */
    craft_store(b.p + 124, SWLOG_MAX_RECORDS + 1, 4);
    craft_sign(b.p, f.header_len, sk1);
    swlog_error e2 = {0};
    ck_assert_int_eq(swlog_frame_decode(b.p, b.len, 0, &f, &e2),
                     SWLOG_EBOUNDS);
    ck_assert_uint_eq(e2.offset, 124);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

START_TEST(limit_tables_and_names)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16] = {0};
    char name[80];
    for (unsigned t = 0; t < SWLOG_MAX_TABLES; t++) {
        name_of(name, "t", t, SWLOG_MAX_NAME); /* longest names too */
        ck_assert_int_eq(swlog_cs_upsert(cs, name, id, 1, NULL), SWLOG_OK);
        name_of(name, "c", t, SWLOG_MAX_NAME);
        add(cs, name, 0, vnull());
    }
    name_of(name, "t", 999, 10);
    ck_assert_int_eq(swlog_cs_upsert(cs, name, id, 1, NULL), SWLOG_EBOUNDS);
    ck_assert_int_eq(swlog_cs_delete(cs, name, id, 1, 0, NULL),
                     SWLOG_EBOUNDS);
    /* A table already present is still fine. */
    name_of(name, "t", 5, SWLOG_MAX_NAME);
    ck_assert_int_eq(swlog_cs_delete(cs, name, id, 1, 0, NULL), SWLOG_OK);
    /* Names one byte too long. */
    name_of(name, "t", 1, SWLOG_MAX_NAME + 1);
    ck_assert_int_eq(swlog_cs_upsert(cs, name, id, 1, NULL), SWLOG_EBOUNDS);
    name_of(name, "t", 5, SWLOG_MAX_NAME);
    ck_assert_int_eq(swlog_cs_upsert(cs, name, id, 1, NULL), SWLOG_OK);
    name_of(name, "c", 1, SWLOG_MAX_NAME + 1);
    swlog_value v = vnull();
    ck_assert_int_eq(swlog_cs_value(cs, name, 0, &v, NULL), SWLOG_EBOUNDS);
    add(cs, "short", 0, vnull());
    swlog_head h = head(2, 1);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    swlog_frame f;
    decode_ok(&b, &f);
    swlog_reader *rd = malloc(sizeof *rd);
    ck_assert_int_eq(swlog_reader_init(rd, &f, NULL), SWLOG_OK);
    ck_assert_uint_eq(rd->ntables, SWLOG_MAX_TABLES);
    ck_assert_uint_eq(rd->tables[0].len, SWLOG_MAX_NAME);
    free(rd);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

START_TEST(limit_columns)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16] = {0};
    char name[80];
    swlog_value v = vint(3);
    ck_assert_int_eq(swlog_cs_upsert(cs, "wide", id, 1, NULL), SWLOG_OK);
    for (unsigned k = 0; k < SWLOG_MAX_COLUMNS; k++) {
        name_of(name, "c", k, 8);
        add(cs, name, 0, v);
    }
    name_of(name, "c", 999, 8);
    ck_assert_int_eq(swlog_cs_value(cs, name, 0, &v, NULL), SWLOG_EBOUNDS);
    /* And in a later record of the same table. */
    ck_assert_int_eq(swlog_cs_upsert(cs, "wide", id, 1, NULL), SWLOG_OK);
    ck_assert_int_eq(swlog_cs_value(cs, name, 0, &v, NULL), SWLOG_EBOUNDS);
    name_of(name, "c", 7, 8);
    add(cs, name, 0, v);
    swlog_head h = head(2, 1);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    swlog_frame f;
    decode_ok(&b, &f);
    swlog_reader *rd = malloc(sizeof *rd);
    ck_assert_int_eq(swlog_reader_init(rd, &f, NULL), SWLOG_OK);
    ck_assert_uint_eq(rd->tables[0].count, SWLOG_MAX_COLUMNS);
    swlog_record rec;
    ck_assert_int_eq(swlog_reader_next(rd, &rec, NULL), 1);
    ck_assert_uint_eq(rec.value_count, SWLOG_MAX_COLUMNS);
    free(rd);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

START_TEST(limit_dict_columns)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16] = {0};
    char tname[16], cname[16];
    unsigned per = SWLOG_MAX_COLUMNS;
    unsigned ntab = SWLOG_MAX_DICT_COLUMNS / per;
    for (unsigned t = 0; t < ntab; t++) {
        name_of(tname, "t", t, 4);
        ck_assert_int_eq(swlog_cs_upsert(cs, tname, id, 1, NULL), SWLOG_OK);
        for (unsigned k = 0; k < per; k++) {
            name_of(cname, "c", k, 4);
            add(cs, cname, 0, vnull());
        }
    }
    ck_assert_int_eq(swlog_cs_upsert(cs, "extra", id, 1, NULL), SWLOG_OK);
    swlog_value v = vnull();
    swlog_error err = {0};
    ck_assert_int_eq(swlog_cs_value(cs, "c", 0, &v, &err), SWLOG_EBOUNDS);
    ck_assert_ptr_nonnull(strstr(err.msg, "change-set"));
    ck_assert_int_eq(swlog_cs_delete(cs, "extra", id, 1, 0, NULL), SWLOG_OK);
    /* The refused upsert has no values; replace it by sealing a builder
     * holding just the full tables and a delete. */
    swlog_cs_reset(cs);
    for (unsigned t = 0; t < ntab; t++) {
        name_of(tname, "t", t, 4);
        ck_assert_int_eq(swlog_cs_upsert(cs, tname, id, 1, NULL), SWLOG_OK);
        for (unsigned k = 0; k < per; k++) {
            name_of(cname, "c", k, 4);
            add(cs, cname, 0, vnull());
        }
    }
    ck_assert_int_eq(swlog_cs_delete(cs, "extra", id, 1, 0, NULL), SWLOG_OK);
    swlog_head h = head(2, 1);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    swlog_frame f;
    decode_ok(&b, &f);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

START_TEST(limit_author)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16] = {0};
    ck_assert_int_eq(swlog_cs_delete(cs, "t", id, 1, 0, NULL), SWLOG_OK);
    swlog_head h = head(2, 1);
    swlog_buf b;
    swlog_buf_init(&b);
    char author[80];
    /* 64 bytes: 16 four-byte characters. */
    author[0] = '\0';
    for (int i = 0; i < 16; i++)
        strcat(author, "\xf0\x9f\x98\x80");
    ck_assert_uint_eq(strlen(author), SWLOG_MAX_AUTHOR);
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &h, 1, author, &b, NULL),
                     SWLOG_OK);
    swlog_frame f;
    decode_ok(&b, &f);
    ck_assert_uint_eq(f.u.changeset.author_len, SWLOG_MAX_AUTHOR);
    ck_assert_uint_eq(f.header_len, 129 + SWLOG_MAX_AUTHOR);
    strcat(author, "a");
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &h, 1, author, &b, NULL),
                     SWLOG_EBOUNDS);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

START_TEST(limit_text_and_blob)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16] = {0};
    uint8_t *big = malloc(SWLOG_MAX_BLOB + 1);
    memset(big, 'a', SWLOG_MAX_BLOB + 1);
    ck_assert_int_eq(swlog_cs_upsert(cs, "t", id, 1, NULL), SWLOG_OK);
    swlog_value t = {.type = SWLOG_TEXT, .p = big, .len = SWLOG_MAX_TEXT + 1};
    ck_assert_int_eq(swlog_cs_value(cs, "text", 0, &t, NULL), SWLOG_EBOUNDS);
    t.len = SWLOG_MAX_TEXT;
    ck_assert_int_eq(swlog_cs_value(cs, "text", 0, &t, NULL), SWLOG_OK);
    swlog_value bl = {.type = SWLOG_BLOB, .p = big, .len = SWLOG_MAX_BLOB + 1};
    ck_assert_int_eq(swlog_cs_value(cs, "blob", 0, &bl, NULL), SWLOG_EBOUNDS);
    bl.len = SWLOG_MAX_BLOB;
    ck_assert_int_eq(swlog_cs_value(cs, "blob", 0, &bl, NULL), SWLOG_OK);
    swlog_head h = head(2, 1);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    swlog_frame f;
    decode_ok(&b, &f);
    swlog_reader *rd = malloc(sizeof *rd);
    ck_assert_int_eq(swlog_reader_init(rd, &f, NULL), SWLOG_OK);
    swlog_record rec;
    swlog_column col;
    ck_assert_int_eq(swlog_reader_next(rd, &rec, NULL), 1);
    ck_assert_int_eq(swlog_reader_value(rd, &col, NULL), 1);
    ck_assert_uint_eq(col.value.type, SWLOG_BLOB);
    ck_assert_uint_eq(col.value.len, SWLOG_MAX_BLOB);
    ck_assert_mem_eq(col.value.p, big, SWLOG_MAX_BLOB);
    ck_assert_int_eq(swlog_reader_value(rd, &col, NULL), 1);
    ck_assert_uint_eq(col.value.type, SWLOG_TEXT);
    ck_assert_uint_eq(col.value.len, SWLOG_MAX_TEXT);
    free(rd);
    swlog_buf_clear(&b);
    free(big);
    swlog_cs_free(cs);
}
END_TEST

/* FORMAT §10 MAX_BODY: the builder refuses the value that could make the
 * body too large, and what it accepted always seals. */
START_TEST(limit_body)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16] = {0};
    uint8_t *big = calloc(1, SWLOG_MAX_BLOB);
    char name[16];
    unsigned added = 0;
    swlog_error err = {0};
    int rc = SWLOG_OK;
    for (unsigned r = 0; r < 10 && rc == SWLOG_OK; r++) {
        row(id, r);
        ck_assert_int_eq(swlog_cs_upsert(cs, "t", id, 1, NULL), SWLOG_OK);
        name_of(name, "c", r, 3);
        swlog_value v = vblob(big, SWLOG_MAX_BLOB - 100);
        rc = swlog_cs_value(cs, name, 0, &v, &err);
        if (rc == SWLOG_OK)
            added++;
    }
    ck_assert_int_eq(rc, SWLOG_EBOUNDS);
    ck_assert_uint_eq(added, 3);
    ck_assert_uint_le(swlog_cs_size_bound(cs), SWLOG_MAX_BODY);
    /* Fill the last upsert with a small value and seal. */
    add(cs, "small", 0, vint(1));
    swlog_head h = head(2, 1);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    ck_assert_uint_le(b.len, SWLOG_MAX_BODY);
    swlog_frame f;
    decode_ok(&b, &f);
    swlog_buf_clear(&b);
    free(big);
    swlog_cs_free(cs);
}
END_TEST

/* ---- hand-crafted payloads (FORMAT §5.2-§5.4) ------------------------- */

typedef struct pbuf {
    uint8_t b[4096];
    size_t n;
    size_t mark; /* an offset a test wants to name */
} pbuf;

static void p8(pbuf *p, uint8_t v)
{
    ck_assert_uint_lt(p->n, sizeof p->b);
    p->b[p->n++] = v;
}
static void pvar(pbuf *p, uint64_t v)
{
    while (v >= 0x80) {
        p8(p, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    p8(p, (uint8_t)v);
}
static void pbytes(pbuf *p, const void *s, size_t n)
{
    ck_assert_uint_le(p->n + n, sizeof p->b);
    memcpy(p->b + p->n, s, n);
    p->n += n;
}
static void pname(pbuf *p, const char *s)
{
    p8(p, (uint8_t)strlen(s));
    pbytes(p, s, strlen(s));
}
static void prow(pbuf *p)
{
    static const uint8_t id[16] = {9, 9, 9};
    pbytes(p, id, 16);
}

#define FRAME_HLC 1000
#define AUTHOR "op"
#define PAYLOAD_AT (129 + 2 + 64)

/* Sign a change-set with record_count count around payload p. */
static uint8_t *cs_body(const pbuf *p, uint32_t count, size_t *n)
{
    uint8_t fields[9 + 2];
    craft_store(fields, 1, 4);
    craft_store(fields + 4, count, 4);
    fields[8] = 2;
    memcpy(fields + 9, AUTHOR, 2);
    craft c;
    craft_init(&c, SWLOG_TYPE_CHANGESET);
    c.seq = 1;
    c.hlc = FRAME_HLC;
    c.fields = fields;
    c.nfields = sizeof fields;
    c.payload = p->b;
    c.plen = p->n;
    return craft_body(&c, sk1, n);
}

static void expect_cs(const pbuf *p, uint32_t count, int code, long long at)
{
    size_t n;
    uint8_t *b = cs_body(p, count, &n);
    swlog_frame f;
    swlog_error err = {0};
    int rc = swlog_frame_decode(b, n, 0, &f, &err);
    ck_assert_msg(rc == code, "got %s (%s @%" PRIu64 "), want %s",
                  swlog_code_name(rc), err.msg, err.offset,
                  swlog_code_name(code));
    if (code == SWLOG_OK) {
        char *d = describe(&f); /* the reader agrees with the decoder */
        ck_assert_ptr_nonnull(d);
        free(d);
    } else if (at >= 0) {
        ck_assert_msg(err.offset == (uint64_t)at, "offset %" PRIu64
                      ", want %lld (%s)", err.offset, at, err.msg);
    }
    free(b);
}

/* Dictionary "a"{"x","y"}, "b"{"z"}; one upsert of a (x, y), one of b. */
static void base_dict(pbuf *p)
{
    memset(p, 0, sizeof *p);
    pvar(p, 2);
    pname(p, "a");
    pvar(p, 2);
    pname(p, "x");
    pname(p, "y");
    pname(p, "b");
    pvar(p, 1);
    pname(p, "z");
}

static void upsert_head(pbuf *p, unsigned table, uint64_t delta,
                        unsigned nvalues)
{
    p8(p, 1);
    pvar(p, table);
    prow(p);
    pvar(p, delta);
    pvar(p, nvalues);
}

START_TEST(crafted_baseline_accepted)
{
    pbuf p;
    base_dict(&p);
    upsert_head(&p, 0, 0, 2);
    p8(&p, 0);
    p8(&p, 0); /* x: null */
    p8(&p, 1);
    p8(&p, 1);
    pvar(&p, 7); /* y: int -4 */
    upsert_head(&p, 1, FRAME_HLC, 1); /* delta = frame hlc: hlc 0 */
    p8(&p, 0);
    p8(&p, 0x08 | 3);
    pvar(&p, 55); /* replaced 55 */
    pvar(&p, 2);
    pbytes(&p, "hi", 2);
    expect_cs(&p, 2, SWLOG_OK, -1);
}
END_TEST

START_TEST(crafted_dictionary_order)
{
    pbuf p;
    /* Tables out of order: b before a. */
    memset(&p, 0, sizeof p);
    pvar(&p, 2);
    pname(&p, "b");
    pvar(&p, 0);
    p.mark = p.n + 1;
    pname(&p, "a");
    pvar(&p, 0);
    p8(&p, 2), pvar(&p, 0), prow(&p), pvar(&p, 0), pvar(&p, 0);
    p8(&p, 2), pvar(&p, 1), prow(&p), pvar(&p, 0), pvar(&p, 0);
    expect_cs(&p, 2, SWLOG_ENONCANON, PAYLOAD_AT + (long long)p.mark);
    /* A duplicated table. */
    memset(&p, 0, sizeof p);
    pvar(&p, 2);
    pname(&p, "a");
    pvar(&p, 0);
    p.mark = p.n + 1;
    pname(&p, "a");
    pvar(&p, 0);
    p8(&p, 2), pvar(&p, 0), prow(&p), pvar(&p, 0), pvar(&p, 0);
    p8(&p, 2), pvar(&p, 1), prow(&p), pvar(&p, 0), pvar(&p, 0);
    expect_cs(&p, 2, SWLOG_ENONCANON, PAYLOAD_AT + (long long)p.mark);
    /* A proper prefix sorts first: "ab" then "a" is out of order... */
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    pname(&p, "t");
    pvar(&p, 2);
    pname(&p, "ab");
    p.mark = p.n + 1;
    pname(&p, "a");
    upsert_head(&p, 0, 0, 2);
    p8(&p, 0), p8(&p, 0), p8(&p, 1), p8(&p, 0);
    expect_cs(&p, 1, SWLOG_ENONCANON, PAYLOAD_AT + (long long)p.mark);
    /* ... and "a" then "ab" is right. */
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    pname(&p, "t");
    pvar(&p, 2);
    pname(&p, "a");
    pname(&p, "ab");
    upsert_head(&p, 0, 0, 2);
    p8(&p, 0), p8(&p, 0), p8(&p, 1), p8(&p, 0);
    expect_cs(&p, 1, SWLOG_OK, -1);
    /* A duplicated column. */
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    pname(&p, "t");
    pvar(&p, 2);
    pname(&p, "a");
    p.mark = p.n + 1;
    pname(&p, "a");
    upsert_head(&p, 0, 0, 2);
    p8(&p, 0), p8(&p, 0), p8(&p, 1), p8(&p, 0);
    expect_cs(&p, 1, SWLOG_ENONCANON, PAYLOAD_AT + (long long)p.mark);
}
END_TEST

START_TEST(crafted_unused_entries)
{
    pbuf p;
    /* Column y of a never set. */
    base_dict(&p);
    upsert_head(&p, 0, 0, 1);
    p8(&p, 0), p8(&p, 0);
    upsert_head(&p, 1, 0, 1);
    p8(&p, 0), p8(&p, 0);
    expect_cs(&p, 2, SWLOG_ENONCANON, PAYLOAD_AT + 7); /* name "y" */
    /* Table b used by no record. */
    base_dict(&p);
    upsert_head(&p, 0, 0, 2);
    p8(&p, 0), p8(&p, 0), p8(&p, 1), p8(&p, 0);
    expect_cs(&p, 1, SWLOG_ENONCANON, PAYLOAD_AT + 9); /* name "b" */
    /* A table used only by a delete: its columns are all unused. */
    base_dict(&p);
    upsert_head(&p, 0, 0, 2);
    p8(&p, 0), p8(&p, 0), p8(&p, 1), p8(&p, 0);
    p8(&p, 2), pvar(&p, 1), prow(&p), pvar(&p, 0), pvar(&p, 0);
    expect_cs(&p, 2, SWLOG_ENONCANON, PAYLOAD_AT + 12); /* name "z" */
    /* Deletes only, with no columns: fine. */
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    pname(&p, "t");
    pvar(&p, 0);
    p8(&p, 2), pvar(&p, 0), prow(&p), pvar(&p, 3), pvar(&p, 0);
    expect_cs(&p, 1, SWLOG_OK, -1);
}
END_TEST

START_TEST(crafted_col_index_order)
{
    pbuf p;
    /* y then x: decreasing. */
    base_dict(&p);
    upsert_head(&p, 0, 0, 2);
    p8(&p, 1), p8(&p, 0);
    p.mark = p.n;
    p8(&p, 0), p8(&p, 0);
    upsert_head(&p, 1, 0, 1);
    p8(&p, 0), p8(&p, 0);
    expect_cs(&p, 2, SWLOG_ENONCANON, PAYLOAD_AT + (long long)p.mark);
    /* x twice: equal. */
    base_dict(&p);
    upsert_head(&p, 0, 0, 2);
    p8(&p, 0), p8(&p, 0);
    p.mark = p.n;
    p8(&p, 0), p8(&p, 0);
    expect_cs(&p, 1, SWLOG_ENONCANON, PAYLOAD_AT + (long long)p.mark);
    /* An index past the table's columns. */
    base_dict(&p);
    upsert_head(&p, 1, 0, 1);
    p.mark = p.n;
    p8(&p, 1), p8(&p, 0);
    expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + (long long)p.mark);
    /* value_count 0, and above the table's column_count. */
    base_dict(&p);
    p8(&p, 1), pvar(&p, 1), prow(&p), pvar(&p, 0);
    p.mark = p.n;
    pvar(&p, 0);
    expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + (long long)p.mark);
    base_dict(&p);
    p8(&p, 1), pvar(&p, 1), prow(&p), pvar(&p, 0);
    p.mark = p.n;
    pvar(&p, 2);
    p8(&p, 0), p8(&p, 0), p8(&p, 0), p8(&p, 0);
    expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + (long long)p.mark);
}
END_TEST

/* One value in a one-column table, tag and data given. */
static void one_value(pbuf *p, uint8_t tag, const void *data, size_t n)
{
    memset(p, 0, sizeof *p);
    pvar(p, 1);
    pname(p, "t");
    pvar(p, 1);
    pname(p, "c");
    upsert_head(p, 0, 0, 1);
    p8(p, 0);
    p->mark = p->n;
    p8(p, tag);
    pbytes(p, data, n);
}

START_TEST(crafted_tags)
{
    pbuf p;
    for (unsigned tag = 0; tag < 256; tag++) {
        unsigned t = tag & 7;
        /* Well-formed data for the type: replaced 1 if flagged, then 0,
         * 0.0, or an empty text or blob. */
        one_value(&p, (uint8_t)tag, "", 0);
        if (tag & 0x08)
            pvar(&p, 1);
        if (t == 1)
            pvar(&p, 0);
        else if (t == 2)
            pbytes(&p, "\0\0\0\0\0\0\0\0", 8);
        else if (t == 3 || t == 4)
            pvar(&p, 0);
        int want = (tag & 0xf0) ? SWLOG_ENONCANON
                   : t > 4      ? SWLOG_EINVAL
                                : SWLOG_OK;
        expect_cs(&p, 1, want,
                  want == SWLOG_OK ? -1 : PAYLOAD_AT + (long long)p.mark);
    }
}
END_TEST

START_TEST(crafted_replaced_zero)
{
    pbuf p;
    one_value(&p, 0x08 | 1, "", 0);
    size_t at = p.n;
    pvar(&p, 0); /* replaced_hlc 0 with the flag */
    pvar(&p, 2);
    expect_cs(&p, 1, SWLOG_ENONCANON, PAYLOAD_AT + (long long)at);
    one_value(&p, 0x08 | 0, "", 0);
    pvar(&p, UINT64_MAX);
    expect_cs(&p, 1, SWLOG_OK, -1);
}
END_TEST

START_TEST(crafted_nan)
{
    static const char *nans[] = {"7ff8000000000000", "7ff0000000000001",
                                 "fff8000000000000", "7fffffffffffffff",
                                 "fff0000000000001"};
    static const char *fine[] = {"7ff0000000000000", "fff0000000000000",
                                 "0000000000000001", "8000000000000000"};
    pbuf p;
    size_t n;
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        uint8_t *b = hex_decode(nans[i], &n);
        one_value(&p, 2, b, n);
        expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + (long long)p.mark + 1);
        free(b);
    }
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        uint8_t *b = hex_decode(fine[i], &n);
        one_value(&p, 2, b, n);
        expect_cs(&p, 1, SWLOG_OK, -1);
        free(b);
    }
}
END_TEST

START_TEST(crafted_text_and_blob)
{
    pbuf p;
    one_value(&p, 3, "\x02\xc3\xa9", 3);
    expect_cs(&p, 1, SWLOG_OK, -1);
    one_value(&p, 3, "\x02\xc3\x28", 3);
    expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + (long long)p.mark + 2);
    one_value(&p, 3, "\x01\x00", 2);
    expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + (long long)p.mark + 2);
    one_value(&p, 4, "\x02\x00\xff", 3);
    expect_cs(&p, 1, SWLOG_OK, -1);
    /* Lengths past the maxima are refused before the bytes are needed. */
    one_value(&p, 3, "", 0);
    pvar(&p, SWLOG_MAX_TEXT + 1);
    expect_cs(&p, 1, SWLOG_EBOUNDS, PAYLOAD_AT + (long long)p.mark + 1);
    one_value(&p, 4, "", 0);
    pvar(&p, SWLOG_MAX_BLOB + 1);
    expect_cs(&p, 1, SWLOG_EBOUNDS, PAYLOAD_AT + (long long)p.mark + 1);
    one_value(&p, 4, "", 0);
    pvar(&p, UINT64_MAX);
    expect_cs(&p, 1, SWLOG_EBOUNDS, PAYLOAD_AT + (long long)p.mark + 1);
    /* Within the maximum but past the end: short. */
    one_value(&p, 4, "", 0);
    pvar(&p, 100);
    expect_cs(&p, 1, SWLOG_ESHORT, PAYLOAD_AT + (long long)p.mark + 2);
}
END_TEST

START_TEST(crafted_records)
{
    pbuf p;
    /* Unknown kinds. */
    for (unsigned kind = 0; kind < 256; kind += (kind < 4 ? 1 : 50)) {
        if (kind == 1 || kind == 2)
            continue;
        memset(&p, 0, sizeof p);
        pvar(&p, 1);
        pname(&p, "t");
        pvar(&p, 0);
        p.mark = p.n;
        p8(&p, (uint8_t)kind), pvar(&p, 0), prow(&p), pvar(&p, 0),
            pvar(&p, 0);
        expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + (long long)p.mark);
    }
    /* table_index past the dictionary. */
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    pname(&p, "t");
    pvar(&p, 0);
    p8(&p, 2);
    p.mark = p.n;
    pvar(&p, 1), prow(&p), pvar(&p, 0), pvar(&p, 0);
    expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + (long long)p.mark);
    /* hlc_delta above the frame's hlc. */
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    pname(&p, "t");
    pvar(&p, 0);
    p8(&p, 2), pvar(&p, 0), prow(&p);
    p.mark = p.n;
    pvar(&p, FRAME_HLC + 1), pvar(&p, 0);
    expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + (long long)p.mark);
    /* record_count disagreeing with the records: fewer, more. */
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    pname(&p, "t");
    pvar(&p, 0);
    p8(&p, 2), pvar(&p, 0), prow(&p), pvar(&p, 0), pvar(&p, 0);
    size_t one = p.n;
    p8(&p, 2), pvar(&p, 0), prow(&p), pvar(&p, 0), pvar(&p, 0);
    expect_cs(&p, 2, SWLOG_OK, -1);
    expect_cs(&p, 3, SWLOG_ESHORT, PAYLOAD_AT + (long long)p.n);
    expect_cs(&p, 1, SWLOG_ENONCANON, PAYLOAD_AT + (long long)one);
    /* A non-minimal varint inside the payload. */
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    pname(&p, "t");
    pvar(&p, 0);
    p8(&p, 2), pvar(&p, 0), prow(&p);
    p.mark = p.n;
    p8(&p, 0x85), p8(&p, 0x00), pvar(&p, 0);
    expect_cs(&p, 1, SWLOG_ENONCANON, PAYLOAD_AT + (long long)p.mark);
}
END_TEST

START_TEST(crafted_dictionary_bounds)
{
    pbuf p;
    /* table_count 0, and above MAX_TABLES. */
    memset(&p, 0, sizeof p);
    pvar(&p, 0);
    expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT);
    memset(&p, 0, sizeof p);
    pvar(&p, SWLOG_MAX_TABLES + 1);
    expect_cs(&p, 1, SWLOG_EBOUNDS, PAYLOAD_AT);
    /* column_count above MAX_COLUMNS. */
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    pname(&p, "t");
    p.mark = p.n;
    pvar(&p, SWLOG_MAX_COLUMNS + 1);
    expect_cs(&p, 1, SWLOG_EBOUNDS, PAYLOAD_AT + (long long)p.mark);
    /* Names: empty, too long, not an identifier. */
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    p8(&p, 0);
    expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + 1);
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    p8(&p, SWLOG_MAX_NAME + 1);
    expect_cs(&p, 1, SWLOG_EBOUNDS, PAYLOAD_AT + 1);
    memset(&p, 0, sizeof p);
    pvar(&p, 1);
    pname(&p, "Bad");
    expect_cs(&p, 1, SWLOG_EINVAL, PAYLOAD_AT + 2);
    /* An empty payload (FORMAT §5.1: its table_count is missing), and one
     * that ends inside the dictionary. */
    memset(&p, 0, sizeof p);
    expect_cs(&p, 1, SWLOG_ESHORT, PAYLOAD_AT);
    pvar(&p, 1);
    expect_cs(&p, 1, SWLOG_ESHORT, PAYLOAD_AT + 1);
}
END_TEST

/* MAX_DICT_COLUMNS on the decoder side: take a builder-made frame with 8
 * full tables, and claim one more column in the last table's count. */
START_TEST(crafted_dict_columns_total)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16] = {0};
    char tname[8], cname[8];
    for (unsigned t = 0; t < 8; t++) {
        snprintf(tname, sizeof tname, "t%u", t);
        ck_assert_int_eq(swlog_cs_upsert(cs, tname, id, 1, NULL), SWLOG_OK);
        for (unsigned k = 0; k < (t < 7 ? 128u : 127u); k++) {
            snprintf(cname, sizeof cname, "c%03u", k);
            add(cs, cname, 0, vnull());
        }
    }
    ck_assert_int_eq(swlog_cs_upsert(cs, "u", id, 1, NULL), SWLOG_OK);
    add(cs, "c", 0, vnull());
    swlog_head h = head(1, FRAME_HLC);
    swlog_buf b;
    swlog_buf_init(&b);
    swlog_error err = {0};
    ck_assert_int_eq(swlog_cs_seal(cs, sk1, &h, 1, AUTHOR, &b, &err),
                     SWLOG_OK);
    swlog_frame f;
    ck_assert_int_eq(swlog_frame_decode(b.p, b.len, 0, &f, NULL), SWLOG_OK);
    /* 1024 columns in all: now add a column to "u" by hand, making 1025.
     * The payload is rebuilt from the reader's view. */
    swlog_reader *rd = malloc(sizeof *rd);
    ck_assert_int_eq(swlog_reader_init(rd, &f, NULL), SWLOG_OK);
    ck_assert_uint_eq(rd->ntables, 9);
    ck_assert_uint_eq(rd->tables[8].first + rd->tables[8].count,
                      SWLOG_MAX_DICT_COLUMNS);
    /* The column_count varint of table "u" sits just before its first
     * column's name_len byte. */
    size_t at = (size_t)(rd->cols[rd->tables[8].first].name - b.p) - 2;
    ck_assert_uint_eq(b.p[at], 1);
    b.p[at] = 2; /* claims 1025 in all: refused at this count */
    uint8_t ph[32];
    craft_hash_ctx("swsync/payload/v1", f.payload, f.payload_len, ph);
    memcpy(b.p + 88, ph, 32);
    craft_sign(b.p, f.header_len, sk1);
    swlog_error e2 = {0};
    ck_assert_int_eq(swlog_frame_decode(b.p, b.len, 0, &f, &e2),
                     SWLOG_EBOUNDS);
    ck_assert_uint_eq(e2.offset, at);
    free(rd);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

START_TEST(crafted_type_fields)
{
    pbuf p;
    base_dict(&p);
    upsert_head(&p, 0, 0, 2);
    p8(&p, 0), p8(&p, 0), p8(&p, 1), p8(&p, 0);
    upsert_head(&p, 1, 0, 1);
    p8(&p, 0), p8(&p, 0);
    size_t n;
    uint8_t *b = cs_body(&p, 2, &n);
    expect_cs(&p, 2, SWLOG_OK, -1);
    free(b);
    /* schema_version 0, record_count 0, author_len 0 / 65, bad author. */
    uint8_t fields[9 + 70];
    craft c;
    struct {
        uint32_t schema, count;
        uint8_t alen;
        const char *author;
        size_t nfields;
        int code;
        long long at;
    } cases[] = {
        {0, 2, 2, "op", 11, SWLOG_EINVAL, 120},
        {1, 0, 2, "op", 11, SWLOG_EINVAL, 124},
        {1, SWLOG_MAX_RECORDS + 1, 2, "op", 11, SWLOG_EBOUNDS, 124},
        {1, 2, 0, "op", 11, SWLOG_EINVAL, 128},
        {1, 2, 65, "op", 11, SWLOG_EBOUNDS, 128},
        {1, 2, 2, "\xc3(", 11, SWLOG_EINVAL, 129},
        {1, 2, 2, "o\0", 11, SWLOG_EINVAL, 129},
        /* FORMAT §11.2 item 9: the field that runs past header_len, or
         * the first byte left over. */
        {1, 2, 3, "op", 11, SWLOG_ENONCANON, 129}, /* author overruns */
        {1, 2, 1, "op", 11, SWLOG_ENONCANON, 130}, /* one byte left */
        {1, 2, 2, "op", 8, SWLOG_ENONCANON, 128}, /* no room for author_len */
        {1, 2, 2, "op", 11, SWLOG_OK, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        craft_store(fields, cases[i].schema, 4);
        craft_store(fields + 4, cases[i].count, 4);
        fields[8] = cases[i].alen;
        memcpy(fields + 9, cases[i].author, 2);
        craft_init(&c, SWLOG_TYPE_CHANGESET);
        c.hlc = FRAME_HLC;
        c.fields = fields;
        c.nfields = cases[i].nfields;
        c.payload = p.b;
        c.plen = p.n;
        b = craft_body(&c, sk1, &n);
        swlog_frame f;
        swlog_error err = {0};
        int rc = swlog_frame_decode(b, n, 0, &f, &err);
        ck_assert_msg(rc == cases[i].code, "case %zu: %s (%s)", i,
                      swlog_code_name(rc), err.msg);
        if (cases[i].at >= 0)
            ck_assert_uint_eq(err.offset, (uint64_t)cases[i].at);
        free(b);
    }
}
END_TEST

/* Every flipped bit in the payload of a signed change-set is caught even
 * when the payload hash is recomputed to match: payload_hash is signed. */
START_TEST(payload_bit_flips_with_fixed_hash)
{
    swlog_cs *cs = swlog_cs_new();
    uint8_t id[16] = {1};
    ck_assert_int_eq(swlog_cs_upsert(cs, "t", id, 5, NULL), SWLOG_OK);
    add(cs, "a", 3, vtext("hi"));
    add(cs, "b", 0, vreal(1.0));
    ck_assert_int_eq(swlog_cs_delete(cs, "u", id, 5, 9, NULL), SWLOG_OK);
    swlog_head h = head(2, 10);
    swlog_buf b;
    swlog_buf_init(&b);
    seal_ok(cs, &h, &b);
    swlog_frame f;
    decode_ok(&b, &f);
    size_t pa = f.header_len + 64u;
    for (size_t bit = pa * 8; bit < b.len * 8; bit++) {
        b.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        uint8_t ph[32], saved[32];
        memcpy(saved, b.p + 88, 32);
        craft_hash_ctx("swsync/payload/v1", b.p + pa, b.len - pa, ph);
        memcpy(b.p + 88, ph, 32);
        int rc = swlog_frame_decode(b.p, b.len, 0, &f, NULL);
        ck_assert_int_ne(rc, SWLOG_OK);
        memcpy(b.p + 88, saved, 32);
        b.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
}
END_TEST

Suite *changeset_suite(void)
{
    Suite *s = suite_create("changeset");
    TCase *tc = tcase_create("builder");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, round_trip_all_value_types);
    tcase_add_test(tc, payload_known_answer);
    tcase_add_test(tc, dictionary_independent_of_insertion_order);
    tcase_add_test(tc, reader_skips_unread_values);
    tcase_add_test(tc, builder_refuses_bad_input);
    tcase_add_test(tc, seal_refuses_bad_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, limit_records);
    tcase_add_test(tc, limit_tables_and_names);
    tcase_add_test(tc, limit_columns);
    tcase_add_test(tc, limit_dict_columns);
    tcase_add_test(tc, limit_author);
    tcase_add_test(tc, limit_text_and_blob);
    tcase_add_test(tc, limit_body);
    suite_add_tcase(s, tc);
    tc = tcase_create("crafted");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, crafted_baseline_accepted);
    tcase_add_test(tc, crafted_dictionary_order);
    tcase_add_test(tc, crafted_unused_entries);
    tcase_add_test(tc, crafted_col_index_order);
    tcase_add_test(tc, crafted_tags);
    tcase_add_test(tc, crafted_replaced_zero);
    tcase_add_test(tc, crafted_nan);
    tcase_add_test(tc, crafted_text_and_blob);
    tcase_add_test(tc, crafted_records);
    tcase_add_test(tc, crafted_dictionary_bounds);
    tcase_add_test(tc, crafted_dict_columns_total);
    tcase_add_test(tc, crafted_type_fields);
    tcase_add_test(tc, payload_bit_flips_with_fixed_hash);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(changeset_suite());
}
