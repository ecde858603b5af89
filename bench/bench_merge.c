/* bench_merge: how fast agent/merge.c merges change-sets into a replica
 * (inserts of new rows, then updates of one column of each), against a
 * baseline measured in the same run: the same rows written locally through
 * a prepared statement (captured by the triggers). A benchmark, not a
 * test: it prints figures and asserts nothing.
 *
 * usage: bench_merge [N] [DIR]   (N records, default 10,000; DIR default
 *   $TMPDIR or /tmp) */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "merge.h"
#include "replica.h"
#include "swlog.h"

#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const swlog_error *e)
{
    fprintf(stderr, "bench_merge: %s: %s\n", what, e != NULL ? e->msg : "");
    exit(1);
}

static replica *fresh(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s-%d.db", dir, name, (int)getpid());
    unlink(p);
    replica *r = NULL;
    swlog_error e = {0};
    if (replica_open(p, &r, &e) != SWLOG_OK)
        die("replica", &e);
    return r;
}

static void text(swlog_cs *cs, const char *col, uint64_t rep, const char *t)
{
    swlog_value v = {.type = SWLOG_TEXT, .p = (const uint8_t *)t,
                     .len = strlen(t)};
    swlog_error e = {0};
    if (swlog_cs_value(cs, col, rep, &v, &e) != SWLOG_OK)
        die("value", &e);
}

/* One change-set of n records: inserts (upd = 0) or updates of name. */
static void build(swlog_cs *cs, uint8_t (*ids)[16], size_t n, uint64_t hlc0,
                  int upd, const uint8_t *sk, uint64_t seq, swlog_buf *out,
                  swlog_frame *f)
{
    swlog_error e = {0};
    swlog_cs_reset(cs);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        uint64_t h = hlc0 + i;
        if (swlog_cs_upsert(cs, "clients", ids[i], h, &e) != SWLOG_OK)
            die("upsert", &e);
        snprintf(name, sizeof name, "%s %zu", upd ? "renamed" : "person", i);
        if (upd) {
            text(cs, "name", hlc0 - 1000000 + i, name);
            continue;
        }
        text(cs, "owner_unit_id", 0, OWNER);
        text(cs, "name", 0, name);
        text(cs, "gender", 0, "female");
        text(cs, "birth_date", 0, "1950-01-01");
        text(cs, "village_code", 0, "440983102001");
    }
    swlog_head hd = {.seq = seq, .hlc = hlc0 + n};
    memset(hd.prev, seq > 1 ? 1 : 0, sizeof hd.prev);
    if (swlog_cs_seal(cs, sk, &hd, 1, "bench", out, &e) != SWLOG_OK)
        die("seal", &e);
    if (swlog_frame_decode(out->p, out->len, 0, f, &e) != SWLOG_OK)
        die("decode", &e);
}

static double merge_timed(replica *r, const swlog_frame *f)
{
    swlog_error e = {0};
    double t = now();
    if (replica_begin(r, &e) != SWLOG_OK ||
        merge_changeset(r, f, NULL, &e) != SWLOG_OK ||
        replica_commit(r, &e) != SWLOG_OK)
        die("merge", &e);
    return now() - t;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 10000;
    const char *dir = argc > 2 ? argv[2]
                      : getenv("TMPDIR") != NULL ? getenv("TMPDIR")
                                                 : "/tmp";
    if (n == 0 || n > SWLOG_MAX_RECORDS || swlog_init() != SWLOG_OK) {
        fprintf(stderr, "usage: bench_merge [N <= 10000] [DIR]\n");
        return 2;
    }
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    swlog_key_generate(pk, sk);
    uint8_t (*ids)[16] = calloc(n, sizeof *ids);
    swlog_cs *cs = swlog_cs_new();
    if (ids == NULL || cs == NULL)
        return 1;
    for (size_t i = 0; i < n; i++)
        replica_uuid7(ids[i]);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t base = ((uint64_t)ts.tv_sec * 1000u - 3600000u) << 16;
    swlog_buf b1, b2;
    swlog_buf_init(&b1);
    swlog_buf_init(&b2);
    swlog_frame f1, f2;
    build(cs, ids, n, base, 0, sk, 1, &b1, &f1);
    build(cs, ids, n, base + 2000000, 1, sk, 2, &b2, &f2);

    /* Baseline: the same inserts written locally (captured). */
    replica *loc = fresh(dir, "bench-merge-local");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(replica_db(loc),
                           "INSERT INTO clients(id, owner_unit_id, name, "
                           "gender, birth_date, village_code) VALUES(?1, '"
                           OWNER "', ?2, 'female', '1950-01-01', "
                           "'440983102001')",
                           -1, &st, NULL) != SQLITE_OK)
        die("prepare", NULL);
    swlog_error e = {0};
    double t = now();
    replica_begin(loc, &e);
    for (size_t i = 0; i < n; i++) {
        char id[37], name[32];
        swlog_uuid_format(ids[i], id);
        snprintf(name, sizeof name, "person %zu", i);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            die("insert", NULL);
        sqlite3_reset(st);
    }
    replica_commit(loc, &e);
    double local = now() - t;
    sqlite3_finalize(st);
    replica_close(loc);

    replica *r = fresh(dir, "bench-merge");
    double ins = merge_timed(r, &f1);
    double upd = merge_timed(r, &f2);
    double again = merge_timed(r, &f1);
    replica_close(r);
    printf("records per change-set: %zu (dir %s)\n", n, dir);
    printf("local captured insert : %8.1f us/record (baseline)\n",
           local * 1e6 / (double)n);
    printf("merge inserts (5 cols): %8.1f us/record  %.1fx baseline, "
           "%.0f records/s\n",
           ins * 1e6 / (double)n, ins / local, (double)n / ins);
    printf("merge updates (1 col) : %8.1f us/record, %.0f records/s\n",
           upd * 1e6 / (double)n, (double)n / upd);
    printf("merge a duplicate     : %8.1f us/record\n",
           again * 1e6 / (double)n);
    swlog_buf_clear(&b1);
    swlog_buf_clear(&b2);
    swlog_cs_free(cs);
    free(ids);
    return 0;
}
