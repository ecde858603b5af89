/* Test helper for tests/test_tools.sh: writes a small swsync log with
 * interleaved feeds, every value type and, on request, every frame type or a
 * fork. Keys are the public test keys of FORMAT §12; the data is synthetic.
 *
 * usage: swsync_test_mklog OUT [--feeds K] [--changesets N] [--fork-at S]
 *                              [--all-types]
 *   --feeds K       K feeds (test keys 1..K), change-sets interleaved
 *   --changesets N  N change-sets per feed
 *   --fork-at S     feed 1's change-set S gets another author, so this log
 *                   and one made without --fork-at form a fork at seq S
 *   --all-types     feed 1 then writes a certificate, a revocation, a
 *                   checkpoint and, last, a rotation frame */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swlog.h"

#define BASE_MS 1795392000000ull /* 2026-11-23T00:00:00Z */
#define MAX_FEEDS 8

typedef struct feed {
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    swlog_head head;
} feed;

static void test_key(unsigned i, feed *f)
{
    char text[64];
    uint8_t seed[SWLOG_SEED_BYTES];
    int n = snprintf(text, sizeof text, "swsync test key %u", i);
    swlog_sha256((const uint8_t *)text, (size_t)n, seed);
    swlog_key_from_seed(seed, f->pk, f->sk);
}

static int die(const char *what, const swlog_error *err)
{
    fprintf(stderr, "mklog: %s: %s (%s)\n", what, err->msg,
            swlog_code_name(err->code));
    exit(1);
}

static void put_value(swlog_cs *cs, const char *col, uint64_t replaced,
                      swlog_value v)
{
    swlog_error err = {0};
    if (swlog_cs_value(cs, col, replaced, &v, &err) != SWLOG_OK)
        die("value", &err);
}

static swlog_value text(const char *s)
{
    swlog_value v = {SWLOG_TEXT, 0, 0, (const uint8_t *)s, strlen(s)};
    return v;
}

/* Records of change-set number n of a feed: one to three, varied. */
static void fill(swlog_cs *cs, unsigned feed_no, uint64_t n, uint64_t hlc)
{
    static const uint8_t blob[40] = {1, 2, 3, 0xfe, 0xff};
    swlog_error err = {0};
    uint8_t row[SWLOG_UUID_BYTES];
    memset(row, 0, sizeof row);
    row[0] = (uint8_t)feed_no;
    row[6] = 0x70; /* version 7 */
    row[8] = 0x80;
    row[15] = (uint8_t)n;
    if (swlog_cs_upsert(cs, "clients", row, hlc - 2, &err) != SWLOG_OK)
        die("upsert", &err);
    put_value(cs, "name", 0, text("张三"));
    put_value(cs, "notes", 0,
              text("line1\nline2\t\"q\" \\ \x1b[31mred \xe2\x80\xae!"));
    put_value(cs, "visits", hlc - 100, (swlog_value){SWLOG_INT, 42, 0, 0, 0});
    put_value(cs, "big", 0, (swlog_value){SWLOG_INT, INT64_MIN, 0, NULL, 0});
    put_value(cs, "over53", 0,
              (swlog_value){SWLOG_INT, 9007199254740993ll, 0, NULL, 0});
    put_value(cs, "score", 0, (swlog_value){SWLOG_REAL, 0, 3.25, NULL, 0});
    put_value(cs, "gone", 0, (swlog_value){SWLOG_NULL, 0, 0, NULL, 0});
    put_value(cs, "photo", 0,
              (swlog_value){SWLOG_BLOB, 0, 0, blob, sizeof blob});
    if (n % 2 == 0) {
        row[14] = 1;
        if (swlog_cs_delete(cs, "services", row, hlc - 1, hlc - 50, &err))
            die("delete", &err);
    }
    if (n % 3 == 0) {
        row[14] = 2;
        if (swlog_cs_upsert(cs, "activities", row, hlc, &err) != SWLOG_OK)
            die("upsert", &err);
        put_value(cs, "title", 0, text("培训 training"));
    }
}

static void append(swlog_log *log, feed *f, swlog_buf *b)
{
    swlog_error err = {0};
    swlog_frame fr;
    const uint8_t *bodies[1] = {b->p};
    size_t lens[1] = {b->len};
    if (swlog_frame_decode(b->p, b->len, 0, &fr, &err) != SWLOG_OK)
        die("self-check", &err);
    if (swlog_log_append(log, bodies, lens, 1, &err) != SWLOG_OK)
        die("append", &err);
    f->head.seq++;
    memcpy(f->head.prev, fr.id, SWLOG_HASH_BYTES);
    f->head.hlc += 65536 * 1000; /* one second later */
}

static void other_types(swlog_log *log, feed *f, const feed *g)
{
    swlog_error err = {0};
    swlog_buf b;
    uint8_t root[SWLOG_HASH_BYTES] = {0xab};
    feed next;
    test_key(99, &next);
    swlog_buf_init(&b);
    if (swlog_cert_encode(f->sk, &f->head, g->pk, SWLOG_ROLE_STATION, BASE_MS,
                          BASE_MS + 365ull * 86400000, "440983102000-01", &b,
                          &err) != SWLOG_OK)
        die("cert", &err);
    append(log, f, &b);
    if (swlog_revocation_encode(f->sk, &f->head, g->pk, 7, 0,
                                SWLOG_REASON_RETIRED, &b, &err) != SWLOG_OK)
        die("revocation", &err);
    append(log, f, &b);
    if (swlog_checkpoint_encode(f->sk, &f->head, 12, root, &b, &err))
        die("checkpoint", &err);
    append(log, f, &b);
    if (swlog_rotation_encode(f->sk, next.sk, &f->head, &b, &err))
        die("rotation", &err);
    append(log, f, &b);
    swlog_buf_clear(&b);
}

int main(int argc, char **argv)
{
    unsigned nfeeds = 2, all_types = 0;
    uint64_t ncs = 3, fork_at = 0;
    if (argc < 2 || swlog_init() != SWLOG_OK)
        return 2;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--feeds") == 0 && i + 1 < argc)
            nfeeds = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--changesets") == 0 && i + 1 < argc)
            ncs = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--fork-at") == 0 && i + 1 < argc)
            fork_at = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--all-types") == 0)
            all_types = 1;
        else
            return 2;
    }
    if (nfeeds < 1 || nfeeds > MAX_FEEDS)
        return 2;

    feed feeds[MAX_FEEDS];
    for (unsigned k = 0; k < nfeeds; k++) {
        test_key(k + 1, &feeds[k]);
        memset(&feeds[k].head, 0, sizeof feeds[k].head);
        feeds[k].head.seq = 1;
        feeds[k].head.hlc = (BASE_MS + k * 10) << 16;
    }
    swlog_error err = {0};
    swlog_log *log = NULL;
    if (swlog_log_open(argv[1], SWLOG_APPEND | SWLOG_CREATE, &log, &err))
        die("open", &err);
    swlog_cs *cs = swlog_cs_new();
    swlog_buf b;
    swlog_buf_init(&b);
    for (uint64_t n = 1; n <= ncs; n++) {
        for (unsigned k = 0; k < nfeeds; k++) {
            feed *f = &feeds[k];
            swlog_cs_reset(cs);
            fill(cs, k + 1, n, f->head.hlc);
            const char *author =
                k == 0 && n == fork_at ? "forked-writer" : "worker-01";
            if (swlog_cs_seal(cs, f->sk, &f->head, 1, author, &b, &err))
                die("seal", &err);
            append(log, f, &b);
        }
    }
    if (all_types)
        other_types(log, &feeds[0], &feeds[nfeeds > 1 ? 1 : 0]);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
    swlog_log_close(log);
    return 0;
}
