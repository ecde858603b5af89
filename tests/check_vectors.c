/* The spec's test vectors (spec/vectors/vectors.txt, FORMAT §12) against the
 * C library: every vector of every kind, codes and offsets included. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../format/src/internal.h"
#include "testutil.h"

/* ---- helpers --------------------------------------------------------- */

static uint8_t *field_hex(const vec *v, const char *key, size_t *len)
{
    const char *h = vec_field(v, key);
    ck_assert_msg(h != NULL, "%s: no %s", v->name, key);
    uint8_t *b = hex_decode(h, len);
    ck_assert_msg(b != NULL, "%s: bad hex in %s", v->name, key);
    return b;
}

static uint64_t field_u64(const vec *v, const char *key)
{
    const char *s = vec_field(v, key);
    ck_assert_msg(s != NULL, "%s: no %s", v->name, key);
    return strtoull(s, NULL, 10);
}

static void expect_code(const vec *v, int got, const swlog_error *err)
{
    ck_assert_msg(got == v->expect, "%s: got %s (%s at %" PRIu64
                  "), want %s", v->name, swlog_code_name(got),
                  err != NULL ? err->msg : "", err != NULL ? err->offset : 0,
                  swlog_code_name(v->expect));
    if (got != SWLOG_OK && v->expect_at >= 0 && err != NULL)
        ck_assert_msg(err->offset == (uint64_t)v->expect_at,
                      "%s: %s at offset %" PRIu64 ", want %lld (%s)",
                      v->name, swlog_code_name(got), err->offset,
                      v->expect_at, err->msg);
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    swlog_hex(p, n, out);
}

/* Lines in the format of FORMAT §12.1 "desc", appended to a buffer. */
typedef struct lines {
    char *text[4096];
    size_t n;
} lines;

static void addf(lines *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void addf(lines *l, const char *fmt, ...)
{
    ck_assert(l->n < sizeof l->text / sizeof l->text[0]);
    char *s = malloc(SWLOG_MAX_TEXT * 2 + 256);
    ck_assert_ptr_nonnull(s);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, SWLOG_MAX_TEXT * 2 + 256, fmt, ap);
    va_end(ap);
    l->text[l->n++] = s;
}

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->text[i]);
    l->n = 0;
}

static const char *type_word(const swlog_frame *f)
{
    if (!f->known)
        return "unknown";
    switch (f->type) {
    case SWLOG_TYPE_CHANGESET: return "changeset";
    case SWLOG_TYPE_CERT: return "cert";
    case SWLOG_TYPE_ROTATION: return "rotation";
    case SWLOG_TYPE_REVOCATION: return "revocation";
    case SWLOG_TYPE_CHECKPOINT: return "checkpoint";
    }
    return "?";
}

static void describe_value(lines *l, const swlog_column *c)
{
    char name[SWLOG_MAX_NAME + 1];
    memcpy(name, c->name, c->name_len);
    name[c->name_len] = '\0';
    static char hex[SWLOG_MAX_BLOB * 2 + 1];
    const swlog_value *v = &c->value;
    switch (v->type) {
    case SWLOG_NULL:
        addf(l, "value %s replaced=%" PRIu64 " null", name, c->replaced_hlc);
        break;
    case SWLOG_INT:
        addf(l, "value %s replaced=%" PRIu64 " int:%" PRId64, name,
             c->replaced_hlc, v->i);
        break;
    case SWLOG_REAL: {
        uint64_t bits;
        memcpy(&bits, &v->r, 8);
        addf(l, "value %s replaced=%" PRIu64 " real:%016" PRIx64, name,
             c->replaced_hlc, bits);
        break;
    }
    case SWLOG_TEXT:
    case SWLOG_BLOB:
        ck_assert(v->len <= 65536);
        hex_of(v->p, v->len, hex);
        addf(l, "value %s replaced=%" PRIu64 " %s:%s", name, c->replaced_hlc,
             v->type == SWLOG_TEXT ? "text" : "blob", hex);
        break;
    default:
        ck_abort_msg("value of type %u", v->type);
    }
}

static void describe(lines *l, const swlog_frame *f)
{
    char h1[65], h2[65];
    addf(l, "frame %s seq=%" PRIu64 " hlc=%" PRIu64, type_word(f), f->seq,
         f->hlc);
    if (!f->known)
        return;
    switch (f->type) {
    case SWLOG_TYPE_CHANGESET: {
        char author[2 * SWLOG_MAX_AUTHOR + 1];
        hex_of(f->u.changeset.author, f->u.changeset.author_len, author);
        addf(l, "changeset schema=%" PRIu32 " records=%" PRIu32 " author=%s",
             f->u.changeset.schema_version, f->u.changeset.record_count,
             author);
        swlog_reader *rd = malloc(sizeof *rd);
        ck_assert_ptr_nonnull(rd);
        swlog_error err = {0};
        ck_assert_int_eq(swlog_reader_init(rd, f, &err), SWLOG_OK);
        swlog_record rec;
        int r;
        while ((r = swlog_reader_next(rd, &rec, &err)) == 1) {
            char table[SWLOG_MAX_NAME + 1], uuid[37];
            memcpy(table, rec.table, rec.table_len);
            table[rec.table_len] = '\0';
            swlog_uuid_format(rec.row_id, uuid);
            if (rec.kind == SWLOG_DELETE) {
                addf(l, "record delete %s %s hlc=%" PRIu64
                     " replaced=%" PRIu64, table, uuid, rec.hlc,
                     rec.replaced_hlc);
                continue;
            }
            addf(l, "record upsert %s %s hlc=%" PRIu64, table, uuid,
                 rec.hlc);
            swlog_column col;
            int c;
            uint32_t seen = 0;
            while ((c = swlog_reader_value(rd, &col, &err)) == 1) {
                describe_value(l, &col);
                seen++;
            }
            ck_assert_int_eq(c, 0);
            ck_assert_uint_eq(seen, rec.value_count);
        }
        ck_assert_int_eq(r, 0);
        free(rd);
        break;
    }
    case SWLOG_TYPE_CERT:
        hex_of(f->u.cert.subject, 32, h1);
        addf(l, "cert subject=%s role=%u from=%" PRIu64 " until=%" PRIu64
             " unit=%s", h1, f->u.cert.role, f->u.cert.valid_from,
             f->u.cert.valid_until, f->u.cert.unit);
        break;
    case SWLOG_TYPE_ROTATION:
        hex_of(f->u.rotation.new_key, 32, h1);
        addf(l, "rotation new=%s", h1);
        break;
    case SWLOG_TYPE_REVOCATION:
        hex_of(f->u.revocation.subject, 32, h1);
        addf(l, "revocation subject=%s from_seq=%" PRIu64
             " from_time=%" PRIu64 " reason=%u", h1,
             f->u.revocation.from_seq, f->u.revocation.from_time,
             f->u.revocation.reason);
        break;
    case SWLOG_TYPE_CHECKPOINT:
        hex_of(f->u.checkpoint.root, 32, h2);
        addf(l, "checkpoint size=%" PRIu64 " root=%s",
             f->u.checkpoint.tree_size, h2);
        break;
    }
}

/* ---- kinds ------------------------------------------------------------ */

START_TEST(crc32c_vector)
{
    const vec *v = vec_get("crc32c", (size_t)_i);
    size_t n;
    uint8_t *in = field_hex(v, "input", &n);
    uint32_t want = (uint32_t)strtoul(vec_field(v, "crc"), NULL, 16);
    ck_assert_msg(swlog_crc32c(0, in, n) == want, "%s", v->name);
    /* Byte by byte continues to the same value. */
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++)
        c = swlog_crc32c(c, in + i, 1);
    ck_assert_msg(c == want, "%s incremental", v->name);
    free(in);
}
END_TEST

START_TEST(varint_vector)
{
    const vec *v = vec_get("varint", (size_t)_i);
    size_t n;
    uint8_t *in = field_hex(v, "hex", &n);
    swlog__cursor c;
    swlog__cursor_init(&c, in, n, 0);
    uint64_t value = 0;
    swlog_error err = {0};
    int r = swlog__take_varint(&c, &value, &err);
    /* The vector is exactly one varint: leftover bytes are not canonical. */
    if (r == SWLOG_OK && c.left != 0)
        r = swlog__fail(&err, SWLOG_ENONCANON, c.offset, "trailing bytes");
    expect_code(v, r, &err);
    if (r == SWLOG_OK)
        ck_assert_msg(value == field_u64(v, "value"), "%s", v->name);
    free(in);
}
END_TEST

START_TEST(body_vector)
{
    const vec *v = vec_get("body", (size_t)_i);
    size_t n;
    uint8_t *body = field_hex(v, "hex", &n);
    swlog_frame f;
    swlog_error err = {0};
    int r = swlog_frame_decode(body, n, 0, &f, &err);
    expect_code(v, r, &err);
    if (r == SWLOG_OK) {
        char h[65];
        swlog_hex(f.id, 32, h);
        ck_assert_str_eq(h, vec_field(v, "frame_id"));
        swlog_hex(f.signer, 32, h);
        ck_assert_str_eq(h, vec_field(v, "signer"));
        ck_assert_uint_eq(f.seq, field_u64(v, "seq"));
        ck_assert_uint_eq(f.type,
                          (unsigned)strtoul(vec_field(v, "type"), NULL, 16));
        lines got = {0};
        describe(&got, &f);
        size_t k = 0;
        for (size_t i = 0; i < v->nfields; i++) {
            if (strcmp(v->keys[i], "desc") != 0)
                continue;
            ck_assert_msg(k < got.n, "%s: decoder gave %zu desc lines, "
                          "vector has more", v->name, got.n);
            ck_assert_msg(strcmp(got.text[k], v->values[i]) == 0,
                          "%s: desc line %zu\n got: %s\nwant: %s", v->name,
                          k, got.text[k], v->values[i]);
            k++;
        }
        ck_assert_msg(k == got.n, "%s: decoder gave %zu desc lines, vector "
                      "%zu", v->name, got.n, k);
        lines_free(&got);
    }
    free(body);
}
END_TEST

/* Scan a whole file: envelopes (FORMAT §3, §8.3) then bodies (§4-§7), and
 * optionally chains (§8.1). Returns the code; fills ids and counts. */
static int scan_file(const uint8_t *buf, size_t len, int chains, char *ids,
                     size_t *frames, uint64_t *end, uint64_t *torn,
                     swlog_error *err)
{
    swlog_log *log = NULL;
    swlog_chains *ch = chains ? swlog_chains_new() : NULL;
    int r = swlog_log_open_mem(buf, len, &log, err);
    *frames = 0;
    ids[0] = '\0';
    while (r == SWLOG_OK) {
        const uint8_t *body;
        size_t blen;
        uint64_t off;
        int got = swlog_log_next(log, &body, &blen, &off, err);
        if (got <= 0) {
            r = got;
            break;
        }
        swlog_frame f;
        swlog_error e = {0};
        r = swlog_frame_decode(body, blen, 0, &f, &e);
        if (r == SWLOG_OK && ch != NULL)
            r = swlog_chains_add(ch, &f, &e);
        if (r != SWLOG_OK) {
            /* Body offsets are relative to the body; chain errors name the
             * frame's envelope (FORMAT §12.1 conventions). */
            uint64_t at = (r == SWLOG_ESEQ || r == SWLOG_ECHAIN)
                              ? off
                              : off + SWLOG_ENVELOPE_HEAD_BYTES + e.offset;
            swlog__fail(err, (swlog_code)r, at, "%s", e.msg);
            break;
        }
        char h[65];
        swlog_hex(f.id, 32, h);
        if (*frames > 0)
            strcat(ids, " ");
        strcat(ids, h);
        (*frames)++;
    }
    if (log != NULL) {
        *end = swlog_log_end(log);
        *torn = swlog_log_torn(log);
    }
    swlog_log_close(log);
    swlog_chains_free(ch);
    return r;
}

START_TEST(file_vector)
{
    const vec *v = vec_get("file", (size_t)_i);
    size_t n, frames;
    uint64_t end = 0, torn = 0;
    uint8_t *buf = field_hex(v, "hex", &n);
    char *ids = malloc(65 * 1024);
    ck_assert_ptr_nonnull(ids);
    swlog_error err = {0};
    int r = scan_file(buf, n, 0, ids, &frames, &end, &torn, &err);
    expect_code(v, r, &err);
    if (r == SWLOG_OK) {
        ck_assert_uint_eq(frames, field_u64(v, "frames"));
        ck_assert_uint_eq(end, field_u64(v, "valid_end"));
        ck_assert_uint_eq(torn, field_u64(v, "torn"));
        ck_assert_str_eq(ids, vec_field(v, "ids"));
    } else if (r == SWLOG_ECORRUPT && vec_field(v, "next_frame") != NULL) {
        char want[32];
        snprintf(want, sizeof want, "%s", vec_field(v, "next_frame"));
        ck_assert_msg(strstr(err.msg, want) != NULL,
                      "%s: message '%s' does not name offset %s", v->name,
                      err.msg, want);
    }
    free(ids);
    free(buf);
}
END_TEST

START_TEST(chain_vector)
{
    const vec *v = vec_get("chain", (size_t)_i);
    size_t n, frames;
    uint64_t end = 0, torn = 0;
    uint8_t *buf = field_hex(v, "hex", &n);
    char *ids = malloc(65 * 1024);
    ck_assert_ptr_nonnull(ids);
    swlog_error err = {0};
    int r = scan_file(buf, n, 1, ids, &frames, &end, &torn, &err);
    expect_code(v, r, &err);
    free(ids);
    free(buf);
}
END_TEST

START_TEST(fork_vector)
{
    const vec *v = vec_get("fork", (size_t)_i);
    size_t na, nb;
    uint8_t *a = field_hex(v, "hex_a", &na), *b = field_hex(v, "hex_b", &nb);
    swlog_frame fa, fb;
    ck_assert_int_eq(swlog_frame_decode(a, na, 0, &fa, NULL), SWLOG_OK);
    ck_assert_int_eq(swlog_frame_decode(b, nb, 0, &fb, NULL), SWLOG_OK);
    swlog_error err = {0};
    expect_code(v, swlog_fork_check(&fa, &fb, &err), &err);
    free(a);
    free(b);
}
END_TEST

/* Leaves of the Merkle vectors: d_i = SHA-256(u64 big-endian i). */
static uint8_t (*leaves(uint64_t n))[32]
{
    uint8_t (*d)[32] = malloc((size_t)(n ? n : 1) * 32);
    ck_assert_ptr_nonnull(d);
    for (uint64_t i = 0; i < n; i++) {
        uint8_t be[8];
        swlog__store_u64(be, i);
        swlog_sha256(be, 8, d[i]);
    }
    return d;
}

static void check_hash(const vec *v, const char *key, const uint8_t h[32])
{
    char hex[65];
    swlog_hex(h, 32, hex);
    ck_assert_msg(strcmp(hex, vec_field(v, key)) == 0, "%s: %s is %s",
                  v->name, key, hex);
}

START_TEST(merkle_root_vector)
{
    const vec *v = vec_get("merkle_root", (size_t)_i);
    uint64_t n = field_u64(v, "n");
    uint8_t (*d)[32] = leaves(n);
    uint8_t root[32];
    ck_assert_int_eq(swlog_merkle_root((const uint8_t(*)[32])d, n, root,
                                       NULL), SWLOG_OK);
    check_hash(v, "root", root);
    free(d);
}
END_TEST

START_TEST(inclusion_vector)
{
    const vec *v = vec_get("inclusion", (size_t)_i);
    uint64_t n = field_u64(v, "n"), index = field_u64(v, "index");
    size_t plen, rlen;
    uint8_t *proof = field_hex(v, "proof", &plen);
    uint8_t *root = field_hex(v, "root", &rlen);
    ck_assert_uint_eq(plen % 32, 0);
    ck_assert_uint_eq(rlen, 32);
    uint8_t (*d)[32] = leaves(n > index ? n : index + 1);
    swlog_error err = {0};
    int r = swlog_merkle_inclusion_verify(d[index], index, n,
                                          (const uint8_t(*)[32])proof,
                                          plen / 32, root, &err);
    expect_code(v, r, &err);
    if (v->expect == SWLOG_OK) {
        uint8_t gen[SWLOG_MAX_PROOF][32];
        size_t glen = 0;
        ck_assert_int_eq(swlog_merkle_inclusion((const uint8_t(*)[32])d, n,
                                                index, gen, &glen, NULL),
                         SWLOG_OK);
        ck_assert_uint_eq(glen, plen / 32);
        ck_assert_mem_eq(gen, proof, plen);
    }
    free(d);
    free(proof);
    free(root);
}
END_TEST

START_TEST(consistency_vector)
{
    const vec *v = vec_get("consistency", (size_t)_i);
    uint64_t m = field_u64(v, "m"), n = field_u64(v, "n");
    size_t plen, l1, l2;
    uint8_t *proof = field_hex(v, "proof", &plen);
    uint8_t *rm = field_hex(v, "root_m", &l1), *rn = field_hex(v, "root_n",
                                                              &l2);
    ck_assert_uint_eq(plen % 32, 0);
    swlog_error err = {0};
    int r = swlog_merkle_consistency_verify(m, n, rm, rn,
                                            (const uint8_t(*)[32])proof,
                                            plen / 32, &err);
    expect_code(v, r, &err);
    if (v->expect == SWLOG_OK) {
        uint8_t (*d)[32] = leaves(n);
        uint8_t gen[SWLOG_MAX_PROOF][32];
        size_t glen = 0;
        ck_assert_int_eq(swlog_merkle_consistency((const uint8_t(*)[32])d, n,
                                                  m, gen, &glen, NULL),
                         SWLOG_OK);
        ck_assert_uint_eq(glen, plen / 32);
        ck_assert_mem_eq(gen, proof, plen);
        free(d);
    }
    free(proof);
    free(rm);
    free(rn);
}
END_TEST

/* Every vector kind the spec defines is present: a renamed kind must not
 * silently drop its tests. */
START_TEST(every_kind_present)
{
    const char *kinds[] = {"crc32c", "varint", "body", "file", "chain",
                           "fork", "merkle_root", "inclusion", "consistency"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        ck_assert_msg(vec_count(kinds[i]) > 0, "no %s vectors", kinds[i]);
}
END_TEST

static Suite *vectors_suite(void)
{
    Suite *s = suite_create("vectors");
    TCase *tc = tcase_create("spec");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_kind_present);
    tcase_add_loop_test(tc, crc32c_vector, 0, (int)vec_count("crc32c"));
    tcase_add_loop_test(tc, varint_vector, 0, (int)vec_count("varint"));
    tcase_add_loop_test(tc, body_vector, 0, (int)vec_count("body"));
    tcase_add_loop_test(tc, file_vector, 0, (int)vec_count("file"));
    tcase_add_loop_test(tc, chain_vector, 0, (int)vec_count("chain"));
    tcase_add_loop_test(tc, fork_vector, 0, (int)vec_count("fork"));
    tcase_add_loop_test(tc, merkle_root_vector, 0,
                        (int)vec_count("merkle_root"));
    tcase_add_loop_test(tc, inclusion_vector, 0, (int)vec_count("inclusion"));
    tcase_add_loop_test(tc, consistency_vector, 0,
                        (int)vec_count("consistency"));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(vectors_suite());
}
