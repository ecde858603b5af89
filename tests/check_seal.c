/* Sealing (agent/seal.c): outbox entries become signed change-sets in the
 * log; the log verifies and holds exactly the committed writes; crashes at
 * every step (injected, and SIGKILL at random times) and a full disk are
 * recovered without loss, duplicates or forks. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "replica.h"
#include "seal.h"
#include "testutil.h"

#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

static uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];

static void keys(void)
{
    test_key(1, pk, sk);
}

static void sql(sqlite3 *d, const char *q)
{
    char *msg = NULL;
    int rc = sqlite3_exec(d, q, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", q, msg ? msg : "");
}

static void paths(const char *dir, const char *tag, char *db, char *log,
                  size_t n)
{
    static int k;
    snprintf(db, n, "%s/seal-%s-%d-%d.db", dir, tag, (int)getpid(), k);
    snprintf(log, n, "%s/seal-%s-%d-%d.log", dir, tag, (int)getpid(), k);
    k++;
}

static replica *open_replica(const char *path)
{
    replica *r = NULL;
    swlog_error err = {0};
    ck_assert_msg(replica_open(path, &r, &err) == SWLOG_OK, "%s", err.msg);
    return r;
}

/* n client inserts in one transaction of operator op (NULL: default). */
static void write_clients(replica *r, size_t n, const char *op)
{
    swlog_error err = {0};
    sqlite3 *db = replica_db(r);
    ck_assert_int_eq(replica_set_operator(r, op, &err), SWLOG_OK);
    ck_assert_msg(replica_begin(r, &err) == SWLOG_OK, "%s", err.msg);
    sqlite3_stmt *st;
    ck_assert_int_eq(
        sqlite3_prepare_v2(db,
                           "INSERT INTO clients(id, owner_unit_id, name, "
                           "gender, birth_date, id_type, village_code, "
                           "birth_estimated) VALUES(?1, '" OWNER "', ?2, "
                           "'female', '1950-03-07', 'none', '440983102001', "
                           "0)",
                           -1, &st, NULL),
        SQLITE_OK);
    for (size_t i = 0; i < n; i++) {
        char id[37], name[32];
        replica_uuid7_text(id);
        snprintf(name, sizeof name, "测试 %zu", i);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    ck_assert_msg(replica_commit(r, &err) == SWLOG_OK, "%s", err.msg);
}

static int seal_all(replica *r, const char *log, const seal_options *o,
                    seal_stats *st, swlog_error *err)
{
    sealer *s = NULL;
    int rc = seal_open(r, log, sk, o, &s, st, err);
    rc = rc ? rc : seal_run(s, st, err);
    seal_close(s);
    return rc;
}

/* ---- the checker -------------------------------------------------------- */

typedef struct logsum {
    uint64_t frames, records, max_records;
    size_t max_body;
    uint8_t ids[4096][SWLOG_HASH_BYTES]; /* by seq - 1, first 4096 */
} logsum;

/* The log verifies (CRC, signatures, chain from seq 1, one signer) and its
 * records, in order, are exactly the outbox's entries (table, row id, HLC,
 * kind): no duplicate, no gap. */
static void check_log(sqlite3 *db, const char *log, logsum *out)
{
    swlog_error err = {0};
    swlog_log *lg = NULL;
    ck_assert_msg(swlog_log_open(log, SWLOG_READ, &lg, &err) == SWLOG_OK,
                  "%s", err.msg);
    swlog_chains *ch = swlog_chains_new();
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT tbl, row_id, hlc, kind FROM "
                                        "_sw_outbox ORDER BY hlc",
                                        -1, &st, NULL),
                     SQLITE_OK);
    logsum sum;
    memset(&sum, 0, sizeof sum);
    const uint8_t *body;
    size_t len;
    uint64_t off;
    int rc;
    while ((rc = swlog_log_next(lg, &body, &len, &off, &err)) == 1) {
        swlog_frame f;
        ck_assert_msg(swlog_frame_decode(body, len, 0, &f, &err) == SWLOG_OK,
                      "frame at %" PRIu64 ": %s", off, err.msg);
        ck_assert_int_eq(f.type, SWLOG_TYPE_CHANGESET);
        ck_assert(memcmp(f.signer, pk, sizeof pk) == 0);
        ck_assert_uint_eq(f.seq, sum.frames + 1);
        ck_assert_msg(swlog_chains_add(ch, &f, &err) == SWLOG_OK, "%s",
                      err.msg);
        if (f.seq <= 4096)
            memcpy(sum.ids[f.seq - 1], f.id, SWLOG_HASH_BYTES);
        sum.frames++;
        if (f.u.changeset.record_count > sum.max_records)
            sum.max_records = f.u.changeset.record_count;
        if (len > sum.max_body)
            sum.max_body = len;
        swlog_reader rd;
        ck_assert_int_eq(swlog_reader_init(&rd, &f, &err), SWLOG_OK);
        swlog_record rec;
        while ((rc = swlog_reader_next(&rd, &rec, &err)) == 1) {
            ck_assert_msg(sqlite3_step(st) == SQLITE_ROW,
                          "log record %" PRIu64 " was never written",
                          sum.records);
            char id[37];
            swlog_uuid_format(rec.row_id, id);
            const char *tbl = (const char *)sqlite3_column_text(st, 0);
            ck_assert_uint_eq(rec.table_len, strlen(tbl));
            ck_assert(memcmp(rec.table, tbl, rec.table_len) == 0);
            ck_assert_str_eq(id, (const char *)sqlite3_column_text(st, 1));
            ck_assert_uint_eq(rec.hlc,
                              (uint64_t)sqlite3_column_int64(st, 2));
            int kind = sqlite3_column_int(st, 3);
            ck_assert_int_eq(rec.kind, kind == CAPTURE_DELETE ? SWLOG_DELETE
                                                              : SWLOG_UPSERT);
            swlog_column col;
            while (rec.kind == SWLOG_UPSERT &&
                   (rc = swlog_reader_value(&rd, &col, &err)) == 1)
                ;
            ck_assert_int_ge(rc, 0);
            sum.records++;
        }
        ck_assert_msg(rc == 0, "%s", err.msg);
    }
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_uint_eq(swlog_log_torn(lg), 0);
    ck_assert_msg(sqlite3_step(st) == SQLITE_DONE,
                  "a committed write is missing from the log after %" PRIu64
                  " records",
                  sum.records);
    sqlite3_finalize(st);
    uint64_t pending = 1;
    ck_assert_int_eq(capture_pending(db, &pending, &err), SWLOG_OK);
    ck_assert_uint_eq(pending, 0);
    swlog_chains_free(ch);
    swlog_log_close(lg);
    if (out != NULL)
        memcpy(out, &sum, sizeof sum);
}

static logsum sum;

/* ---- plain sealing ---------------------------------------------------- */

START_TEST(one_write_is_one_sealed_record)
{
    char dbp[512], logp[512];
    paths(test_tmpdir(), "one", dbp, logp, sizeof dbp);
    replica *r = open_replica(dbp);
    write_clients(r, 1, NULL);
    swlog_error err = {0};
    seal_stats st = {0};
    ck_assert_msg(seal_all(r, logp, NULL, &st, &err) == SWLOG_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(st.records, 1);
    ck_assert_uint_eq(st.changesets, 1);
    check_log(replica_db(r), logp, &sum);
    ck_assert_uint_eq(sum.frames, 1);
    ck_assert_uint_eq(sum.records, 1);
    /* Sealing again seals nothing new and appends nothing. */
    struct stat a, b;
    ck_assert_int_eq(stat(logp, &a), 0);
    seal_stats st2 = {0};
    ck_assert_int_eq(seal_all(r, logp, NULL, &st2, &err), SWLOG_OK);
    ck_assert_uint_eq(st2.records + st2.changesets + st2.recovered, 0);
    ck_assert_int_eq(stat(logp, &b), 0);
    ck_assert_int_eq(a.st_size, b.st_size);
    replica_close(r);
}
END_TEST

START_TEST(large_batch_is_several_change_sets_within_limits)
{
    char dbp[512], logp[512];
    paths(test_tmpdir(), "large", dbp, logp, sizeof dbp);
    replica *r = open_replica(dbp);
    write_clients(r, 25000, NULL);
    swlog_error err = {0};
    seal_stats st = {0};
    ck_assert_msg(seal_all(r, logp, NULL, &st, &err) == SWLOG_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(st.records, 25000);
    ck_assert_uint_eq(st.changesets, 3);
    check_log(replica_db(r), logp, &sum);
    ck_assert_uint_eq(sum.frames, 3);
    ck_assert_uint_le(sum.max_records, SWLOG_MAX_RECORDS);
    ck_assert_uint_le(sum.max_body, SWLOG_MAX_BODY);
    /* A small bound per change-set and per group: many frames, same log. */
    write_clients(r, 1000, NULL);
    seal_options o = {.max_records = 7, .group_sets = 3};
    seal_stats st2 = {0};
    ck_assert_int_eq(seal_all(r, logp, &o, &st2, &err), SWLOG_OK);
    ck_assert_uint_eq(st2.changesets, (1000 + 6) / 7);
    ck_assert_uint_eq(st2.groups, (st2.changesets + 2) / 3);
    check_log(replica_db(r), logp, &sum);
    ck_assert_uint_eq(sum.frames, 3 + st2.changesets);
    replica_close(r);
}
END_TEST

START_TEST(big_values_cut_change_sets_by_size)
{
    char dbp[512], logp[512];
    paths(test_tmpdir(), "big", dbp, logp, sizeof dbp);
    replica *r = open_replica(dbp);
    write_clients(r, 200, NULL);
    /* 200 notes of 60,000 bytes: 12 MB, so at least 3 bodies of 4 MiB.
     * Inserts and updates share an author, so they may share a frame. */
    sql(replica_db(r), "UPDATE clients SET name = printf('%.60000c', 'x')");
    swlog_error err = {0};
    seal_stats st = {0};
    ck_assert_msg(seal_all(r, logp, NULL, &st, &err) == SWLOG_OK, "%s",
                  err.msg);
    check_log(replica_db(r), logp, &sum);
    ck_assert_msg(sum.frames >= 3, "%" PRIu64 " frames, %" PRIu64
                  " records, largest body %zu", sum.frames, sum.records,
                  sum.max_body);
    ck_assert_uint_le(sum.max_body, SWLOG_MAX_BODY);
    replica_close(r);
}
END_TEST

START_TEST(updates_deletes_nulls_and_operators_decode_as_written)
{
    char dbp[512], logp[512];
    paths(test_tmpdir(), "kinds", dbp, logp, sizeof dbp);
    replica *r = open_replica(dbp);
    sqlite3 *db = replica_db(r);
    write_clients(r, 3, "alice");
    write_clients(r, 2, NULL);
    write_clients(r, 1, "alice");
    sql(db, "UPDATE clients SET village_code = NULL, birth_estimated = 1 "
            "WHERE rowid = 1");
    sql(db, "DELETE FROM clients WHERE rowid = 2");
    swlog_error err = {0};
    seal_stats st = {0};
    ck_assert_int_eq(seal_all(r, logp, NULL, &st, &err), SWLOG_OK);
    check_log(db, logp, &sum);
    ck_assert_uint_eq(sum.records, 8);
    /* alice, direct, alice, direct (update + delete): four authors runs. */
    ck_assert_uint_eq(sum.frames, 4);

    swlog_log *lg = NULL;
    ck_assert_int_eq(swlog_log_open(logp, SWLOG_READ, &lg, &err), SWLOG_OK);
    const uint8_t *body;
    size_t len;
    uint64_t off;
    const char *authors[] = {"alice", "direct", "alice", "direct"};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(swlog_log_next(lg, &body, &len, &off, &err), 1);
        swlog_frame f;
        ck_assert_int_eq(swlog_frame_decode(body, len, 0, &f, &err),
                         SWLOG_OK);
        ck_assert_uint_eq(f.u.changeset.author_len, strlen(authors[i]));
        ck_assert(memcmp(f.u.changeset.author, authors[i],
                         strlen(authors[i])) == 0);
        ck_assert_uint_eq(f.u.changeset.schema_version,
                          replica_model(r)->version);
        if (i < 3)
            continue;
        swlog_reader rd;
        swlog_record rec;
        swlog_column col;
        ck_assert_int_eq(swlog_reader_init(&rd, &f, &err), SWLOG_OK);
        ck_assert_int_eq(swlog_reader_next(&rd, &rec, &err), 1);
        ck_assert_int_eq(rec.kind, SWLOG_UPSERT);
        ck_assert_uint_eq(rec.value_count, 2);
        int saw_null = 0;
        while (swlog_reader_value(&rd, &col, &err) == 1) {
            /* Both replaced the insert's values: replaced HLC = birth. */
            ck_assert_uint_ne(col.replaced_hlc, 0);
            if (col.name_len == 12 &&
                memcmp(col.name, "village_code", 12) == 0) {
                ck_assert_int_eq(col.value.type, SWLOG_NULL);
                saw_null = 1;
            } else {
                ck_assert_int_eq(col.value.type, SWLOG_INT);
                ck_assert_int_eq(col.value.i, 1);
            }
        }
        ck_assert(saw_null);
        ck_assert_int_eq(swlog_reader_next(&rd, &rec, &err), 1);
        ck_assert_int_eq(rec.kind, SWLOG_DELETE);
        ck_assert_uint_ne(rec.replaced_hlc, 0);
        ck_assert_int_eq(swlog_reader_next(&rd, &rec, &err), 0);
    }
    swlog_log_close(lg);
    replica_close(r);
}
END_TEST

START_TEST(one_schema_version_per_change_set)
{
    char dbp[512], logp[512];
    paths(test_tmpdir(), "sv", dbp, logp, sizeof dbp);
    replica *r = open_replica(dbp);
    sqlite3 *db = replica_db(r);
    write_clients(r, 10, NULL);
    /* As if the next writes were captured after a migration to v2. */
    write_clients(r, 10, NULL);
    sql(db, "UPDATE _sw_outbox SET sv = 2 WHERE hlc > (SELECT hlc FROM "
            "_sw_outbox ORDER BY hlc LIMIT 1 OFFSET 9)");
    swlog_error err = {0};
    ck_assert_int_eq(seal_all(r, logp, NULL, NULL, &err), SWLOG_OK);
    check_log(db, logp, &sum);
    ck_assert_uint_eq(sum.frames, 2);
    swlog_log *lg = NULL;
    ck_assert_int_eq(swlog_log_open(logp, SWLOG_READ, &lg, &err), SWLOG_OK);
    const uint8_t *body;
    size_t len;
    uint64_t off;
    for (uint32_t v = 1; v <= 2; v++) {
        swlog_frame f;
        ck_assert_int_eq(swlog_log_next(lg, &body, &len, &off, &err), 1);
        ck_assert_int_eq(swlog_frame_decode(body, len, 0, &f, &err),
                         SWLOG_OK);
        ck_assert_uint_eq(f.u.changeset.schema_version, v);
        ck_assert_uint_eq(f.u.changeset.record_count, 10);
    }
    swlog_log_close(lg);
    replica_close(r);
}
END_TEST

START_TEST(a_log_that_disagrees_with_the_replica_is_refused)
{
    char dbp[512], logp[512], db2[512], log2[512];
    paths(test_tmpdir(), "refuse", dbp, logp, sizeof dbp);
    paths(test_tmpdir(), "refuse", db2, log2, sizeof db2);
    replica *r = open_replica(dbp);
    write_clients(r, 10, NULL);
    swlog_error err = {0};
    ck_assert_int_eq(seal_all(r, logp, NULL, NULL, &err), SWLOG_OK);
    /* The log lost (a fresh file): behind the replica. */
    swlog_error e1 = {0};
    ck_assert_int_eq(seal_all(r, log2, NULL, NULL, &e1), SWLOG_ECHAIN);
    ck_assert(strstr(e1.msg, "log") != NULL);
    /* Another replica's log under the same key: ahead of this replica. */
    replica *r2 = open_replica(db2);
    write_clients(r2, 5, NULL);
    unlink(log2);
    swlog_error e2 = {0};
    ck_assert_int_eq(seal_all(r2, logp, NULL, NULL, &e2), SWLOG_ESEQ);
    replica_close(r2);
    replica_close(r);
}
END_TEST

/* Two sealers open on one replica (here with two log files) must never
 * hand out one sequence number twice: the one whose view is stale refuses
 * to reserve, and nothing of its is written. */
START_TEST(a_second_sealer_with_a_stale_feed_refuses)
{
    char dbp[512], logp[512], db2[512], log2[512];
    paths(test_tmpdir(), "twosealers", dbp, logp, sizeof dbp);
    paths(test_tmpdir(), "twosealers2", db2, log2, sizeof db2);
    replica *r = open_replica(dbp);
    swlog_error err = {0};
    replica *r2 = NULL;
    ck_assert_int_eq(replica_open(dbp, &r2, &err), SWLOG_OK);
    sealer *a = NULL, *b = NULL;
    ck_assert_int_eq(seal_open(r, logp, sk, NULL, &a, NULL, &err), SWLOG_OK);
    ck_assert_int_eq(seal_open(r2, log2, sk, NULL, &b, NULL, &err), SWLOG_OK);
    write_clients(r, 3, NULL);
    ck_assert_int_eq(seal_run(a, NULL, &err), SWLOG_OK);
    write_clients(r, 2, NULL);
    swlog_error e2 = {0};
    ck_assert_int_eq(seal_run(b, NULL, &e2), SWLOG_ESEQ);
    ck_assert_msg(strstr(e2.msg, "another sealer advanced this feed") != NULL,
                  "%s", e2.msg);
    seal_close(b);
    /* Nothing reserved by the refused sealer: the first one goes on. */
    ck_assert_int_eq(seal_run(a, NULL, &err), SWLOG_OK);
    uint64_t next = 0, head = 0;
    uint8_t id[SWLOG_HASH_BYTES];
    ck_assert_int_eq(seal_feed(a, &next, &head, id, &err), SWLOG_OK);
    ck_assert_uint_eq(head, 2);
    ck_assert_uint_eq(next, 3);
    seal_close(a);
    uint64_t pending = 1;
    ck_assert_int_eq(capture_pending(replica_db(r), &pending, &err), SWLOG_OK);
    ck_assert_uint_eq(pending, 0);
    replica_close(r2);
    replica_close(r);
}
END_TEST

/* ---- injected crashes --------------------------------------------------- */

typedef struct crash_at {
    int step, nth, seen;
} crash_at;

static void crash_hook(int step, void *ctx)
{
    crash_at *c = ctx;
    if (step == c->step && ++c->seen == c->nth)
        _exit(42);
}

/* Seal in a child that dies at the nth passage of step; 1 if it died. */
static int seal_crashing(const char *dbp, const char *logp,
                         const seal_options *o, int step, int nth)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        crash_at c = {step, nth, 0};
        seal_set_fault(crash_hook, &c);
        replica *r = NULL;
        swlog_error err = {0};
        if (replica_open(dbp, &r, &err) != SWLOG_OK)
            _exit(2);
        int rc = seal_all(r, logp, o, NULL, &err);
        _exit(rc == SWLOG_OK ? 0 : 3);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_ne(WEXITSTATUS(status), 2);
    ck_assert_int_ne(WEXITSTATUS(status), 3);
    return WEXITSTATUS(status) == 42;
}

/* Frame offsets of a log (READ: never modifies it). */
static size_t frame_offsets(const char *logp, uint64_t *offs, size_t max)
{
    swlog_log *lg = NULL;
    swlog_error err = {0};
    ck_assert_int_eq(swlog_log_open(logp, SWLOG_READ, &lg, &err), SWLOG_OK);
    const uint8_t *body;
    size_t len, n = 0;
    uint64_t off;
    while (swlog_log_next(lg, &body, &len, &off, &err) == 1)
        if (n < max)
            offs[n++] = off;
    swlog_log_close(lg);
    return n;
}

/* _i: step 1-4, then 5 = torn last frame, 6 = torn whole group, 7 = crash
 * again during recovery (after its append). */
START_TEST(recovers_from_a_crash_at_each_step)
{
    char dbp[512], logp[512];
    paths(test_tmpdir(), "step", dbp, logp, sizeof dbp);
    replica *r = open_replica(dbp);
    write_clients(r, 300, NULL);
    replica_close(r);
    seal_options o = {.max_records = 10, .group_sets = 3};
    int step = _i <= 4 ? _i : SEAL_STEP_APPENDED;
    ck_assert(seal_crashing(dbp, logp, &o, step, 4));
    if (_i >= 5) {
        uint64_t offs[64];
        size_t n = frame_offsets(logp, offs, 64);
        ck_assert_uint_eq(n, 12);
        struct stat sb;
        ck_assert_int_eq(stat(logp, &sb), 0);
        off_t cut = _i != 6 ? sb.st_size - 7 : (off_t)offs[n - 3] + 20;
        ck_assert_int_eq(truncate(logp, cut), 0);
    }
    if (_i == 7) /* recovery appends the torn frame, dies before marking */
        ck_assert(seal_crashing(dbp, logp, &o, SEAL_STEP_APPENDED, 1));
    r = open_replica(dbp);
    swlog_error err = {0};
    seal_stats st = {0};
    ck_assert_msg(seal_all(r, logp, &o, &st, &err) == SWLOG_OK, "%s",
                  err.msg);
    if (_i <= 3 || _i >= 5)
        ck_assert_uint_eq(st.recovered, 3);
    else
        ck_assert_uint_eq(st.recovered, 0);
    check_log(replica_db(r), logp, &sum);
    ck_assert_uint_eq(sum.frames, 30);
    replica_close(r);
}
END_TEST

START_TEST(a_reservation_is_finished_with_its_own_key)
{
    char dbp[512], logp[512];
    paths(test_tmpdir(), "key", dbp, logp, sizeof dbp);
    replica *r = open_replica(dbp);
    write_clients(r, 50, NULL);
    replica_close(r);
    ck_assert(seal_crashing(dbp, logp, NULL, SEAL_STEP_SIGNED, 1));
    r = open_replica(dbp);
    uint8_t pk2[SWLOG_PUBKEY_BYTES], sk2[SWLOG_SECKEY_BYTES];
    test_key(2, pk2, sk2);
    sealer *s = NULL;
    swlog_error err = {0};
    ck_assert_int_eq(seal_open(r, logp, sk2, NULL, &s, NULL, &err),
                     SWLOG_EARG);
    ck_assert(strstr(err.msg, "another station key") != NULL);
    /* The secret key never shows in a message. */
    char hex[2 * SWLOG_SEED_BYTES + 1];
    swlog_hex(sk2, 8, hex);
    ck_assert(strstr(err.msg, hex) == NULL);
    seal_stats st = {0};
    swlog_error e2 = {0};
    ck_assert_int_eq(seal_all(r, logp, NULL, &st, &e2), SWLOG_OK);
    ck_assert_uint_eq(st.recovered, 1);
    check_log(replica_db(r), logp, &sum);
    replica_close(r);
}
END_TEST

/* ---- SIGKILL at random times ------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    ck_assert(a != NULL && b != NULL);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, b), n);
    fclose(a);
    ck_assert_int_eq(fclose(b), 0);
}

static void remove_db(const char *dbp, const char *logp)
{
    char p[600];
    unlink(dbp);
    snprintf(p, sizeof p, "%s-wal", dbp);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", dbp);
    unlink(p);
    unlink(logp);
}

static const seal_options crash_opt = {.max_records = 23, .group_sets = 3};

/* A slow disk or a busy machine between steps, so random kills land in
 * every window (after the reservation, after signing, after the append)
 * and not mostly inside the scan. */
static void slow_step(int step, void *ctx)
{
    (void)ctx;
    if (step != SEAL_STEP_MARKED) {
        struct timespec ts = {0, 300000};
        nanosleep(&ts, NULL);
    }
}

/* The sealer child writes one byte to ready once the sealer is open, so
 * the parent's delays are counted from the start of the seal itself. */
static pid_t spawn_sealer(const char *dbp, const char *logp, int ready)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        seal_set_fault(slow_step, NULL);
        replica *r = NULL;
        swlog_error err = {0};
        sealer *s = NULL;
        if (replica_open(dbp, &r, &err) != SWLOG_OK ||
            seal_open(r, logp, sk, &crash_opt, &s, NULL, &err) != SWLOG_OK)
            _exit(2);
        if (write(ready, "r", 1) != 1)
            _exit(4);
        _exit(seal_run(s, NULL, &err) == SWLOG_OK ? 0 : 3);
    }
    return pid;
}

/* Power cut in the middle of an append: when the dead child left frames
 * in the log that the replica has not marked, cut the log at a random
 * byte inside them (FORMAT §8.3: the next open cuts the torn tail). */
static int tear_unmarked(const char *dbp, const char *logp)
{
    sqlite3 *d;
    ck_assert_int_eq(sqlite3_open(dbp, &d), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(d, "SELECT head_seq FROM _sw_feed",
                                        -1, &st, NULL),
                     SQLITE_OK);
    uint64_t head = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        head = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(d);
    uint64_t offs[4096];
    size_t n = frame_offsets(logp, offs, 4096);
    if (n <= head)
        return 0;
    struct stat sb;
    ck_assert_int_eq(stat(logp, &sb), 0);
    uint64_t from = offs[head], span = (uint64_t)sb.st_size - from;
    ck_assert_int_eq(truncate(logp, (off_t)(from + (uint64_t)rand() % span)),
                     0);
    return 1;
}

/* One trial: copy the template, seal in a child, SIGKILL it after `delay`
 * seconds (never when delay < 0; *elapsed, if not NULL, gets the child's
 * run time), then recover and finish in this process and check everything.
 * Returns 1 when the child was killed before it finished. */
/* What recovery found after the kills, over all trials. */
static struct {
    int none, reserved, in_log, partly, torn, torn_made, writer;
} found;

/* A second program writing the replica while it is sealed: 10 records per
 * transaction, two operators, until killed; started once the sealer is
 * open. */
static pid_t spawn_writer(const char *dbp)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        replica *r = NULL;
        swlog_error err = {0};
        if (replica_open(dbp, &r, &err) != SWLOG_OK)
            _exit(2);
        /* A pause between transactions: SQLite's busy handler is not
         * fair, and a writer that never lets go starves the sealer. */
        struct timespec ts = {0, 1000000};
        for (unsigned i = 0;; i++) {
            write_clients(r, 10, i % 2 ? "carol" : NULL);
            nanosleep(&ts, NULL);
        }
    }
    return pid;
}

static int crash_trial(const char *dir, const char *tmpl, double delay,
                       double *elapsed, int with_writer)
{
    char dbp[512], logp[512];
    paths(dir, "kill", dbp, logp, sizeof dbp);
    copy_file(tmpl, dbp);
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t pid = spawn_sealer(dbp, logp, pfd[1]);
    close(pfd[1]);
    char c;
    ck_assert_msg(read(pfd[0], &c, 1) == 1, "the sealer child did not open");
    close(pfd[0]);
    pid_t wpid = with_writer ? spawn_writer(dbp) : -1;
    double t0 = now_s();
    if (delay >= 0) {
        struct timespec ts = {(time_t)delay,
                              (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
    }
    if (wpid > 0) {
        kill(wpid, SIGKILL);
        ck_assert_int_eq(waitpid(wpid, NULL, 0), wpid);
        found.writer++;
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (elapsed != NULL)
        *elapsed = now_s() - t0;
    int killed = WIFSIGNALED(status);
    ck_assert_msg(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
                  "sealer child failed (status %d)", status);
    if (killed && rand() % 2 == 0)
        found.torn_made += tear_unmarked(dbp, logp);

    /* What the dead child made durable: seq -> id, never to change. */
    static uint8_t before[4096][SWLOG_HASH_BYTES];
    size_t nbefore = 0;
    struct stat sb;
    if (stat(logp, &sb) == 0) {
        swlog_log *lg = NULL;
        swlog_error e = {0};
        ck_assert_int_eq(swlog_log_open(logp, SWLOG_READ, &lg, &e), SWLOG_OK);
        const uint8_t *body;
        size_t len;
        uint64_t off;
        while (swlog_log_next(lg, &body, &len, &off, &e) == 1) {
            swlog_frame f;
            ck_assert_int_eq(swlog_frame_decode(body, len, 0, &f, &e),
                             SWLOG_OK);
            ck_assert_uint_eq(f.seq, nbefore + 1);
            ck_assert_uint_lt(nbefore, 4096);
            memcpy(before[nbefore++], f.id, SWLOG_HASH_BYTES);
        }
        found.torn += swlog_log_torn(lg) > 0;
        swlog_log_close(lg);
    }

    replica *r = open_replica(dbp);
    swlog_error err = {0};
    seal_stats rec = {0};
    sealer *s = NULL;
    ck_assert_msg(seal_open(r, logp, sk, &crash_opt, &s, &rec, &err) ==
                      SWLOG_OK,
                  "recovery: %s", err.msg);
    if (rec.recovered == 0)
        found.none++;
    else if (rec.changesets == rec.recovered)
        found.reserved++;
    else if (rec.changesets == 0)
        found.in_log++;
    else
        found.partly++;
    ck_assert_msg(seal_run(s, NULL, &err) == SWLOG_OK, "after recovery: %s",
                  err.msg);
    seal_close(s);
    check_log(replica_db(r), logp, &sum);
    for (size_t i = 0; i < nbefore; i++)
        ck_assert_msg(memcmp(before[i], sum.ids[i], SWLOG_HASH_BYTES) == 0,
                      "seq %zu has two different frames", i + 1);
    replica_close(r);
    remove_db(dbp, logp);
    return killed;
}

static void make_template(const char *dir, char *tmpl, size_t n,
                          size_t records)
{
    snprintf(tmpl, n, "%s/seal-template-%d.db", dir, (int)getpid());
    replica *r = open_replica(tmpl);
    /* Several transactions and operators, so change-sets cut on both. */
    for (size_t i = 0; i < 6; i++)
        write_clients(r, records / 6, i % 3 == 2 ? "bob" : NULL);
    sql(replica_db(r), "UPDATE clients SET phone = '13800000000' "
                       "WHERE rowid % 7 = 0");
    sql(replica_db(r), "DELETE FROM clients WHERE rowid % 11 = 0");
    replica_close(r); /* checkpoints: the template is one file */
}

START_TEST(survives_sigkill_at_random_points)
{
    const char *env = getenv("SEAL_CRASH_TRIALS");
    int trials = env != NULL ? atoi(env) : 200;
    const char *senv = getenv("SEAL_CRASH_SEED");
    unsigned seed = senv != NULL ? (unsigned)strtoul(senv, NULL, 10)
                                 : (unsigned)time(NULL);
    printf("seal crash test: %d trials, seed %u (SEAL_CRASH_SEED)\n", trials,
           seed);
    fflush(stdout);
    srand(seed);
    const char *dirs[2] = {"/dev/shm", test_tmpdir()};
    struct stat sb;
    if (stat(dirs[0], &sb) != 0 || !S_ISDIR(sb.st_mode))
        dirs[0] = dirs[1];
    char tmpl[2][512];
    double full[2];
    for (int d = 0; d < 2; d++) {
        make_template(dirs[d], tmpl[d], sizeof tmpl[d], 3000);
        /* Calibrate: how long one whole seal takes on this file system. */
        crash_trial(dirs[d], tmpl[d], -1, &full[d], 0);
    }
    int killed = 0;
    memset(&found, 0, sizeof found);
    for (int t = 0; t < trials; t++) {
        /* One trial in 8 on the real disk; one in 4 with a writer. */
        int d = t % 8 == 7;
        double delay = full[d] * 0.9 * ((double)rand() / RAND_MAX);
        killed += crash_trial(dirs[d], tmpl[d], delay, NULL, t % 4 == 1);
    }
    printf("seal crash test: %d of %d children killed mid-run; whole seal "
           "%.0f ms (tmpfs), %.0f ms (disk)\n",
           killed, trials, full[0] * 1e3, full[1] * 1e3);
    printf("seal crash test: at restart %d had no reservation, %d a "
           "reservation not in the log, %d one wholly in the log (not "
           "marked), %d one partly in the log; %d torn tails (%d cut inside "
           "unmarked frames); %d trials with a concurrent writer\n",
           found.none, found.reserved, found.in_log, found.partly,
           found.torn, found.torn_made, found.writer);
    ck_assert_int_ge(killed, trials / 2);
    unlink(tmpl[0]);
    unlink(tmpl[1]);
}
END_TEST

/* ---- full disk ---------------------------------------------------------- */

START_TEST(full_disk_fails_clearly_and_completes_later)
{
    char dbp[512], logp[512];
    paths(test_tmpdir(), "full", dbp, logp, sizeof dbp);
    replica *r = open_replica(dbp);
    write_clients(r, 2000, NULL);
    swlog_error err = {0};
    ck_assert_int_eq(seal_all(r, logp, NULL, NULL, &err), SWLOG_OK);
    write_clients(r, 5000, NULL);
    sql(replica_db(r), "PRAGMA wal_checkpoint(TRUNCATE)");
    replica_close(r);
    struct stat before;
    ck_assert_int_eq(stat(logp, &before), 0);

    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(pfd[0]);
        signal(SIGXFSZ, SIG_IGN);
        replica *cr = NULL;
        swlog_error e = {0};
        if (replica_open(dbp, &cr, &e) != SWLOG_OK)
            _exit(2);
        sqlite3_exec(replica_db(cr), "PRAGMA wal_autocheckpoint = 0", NULL,
                     NULL, NULL);
        sealer *s = NULL;
        if (seal_open(cr, logp, sk, NULL, &s, NULL, &e) != SWLOG_OK)
            _exit(3);
        /* The disk fills a few KiB past the log's end. */
        struct rlimit rl;
        getrlimit(RLIMIT_FSIZE, &rl);
        struct rlimit small = {(rlim_t)before.st_size + 8192, rl.rlim_max};
        setrlimit(RLIMIT_FSIZE, &small);
        int rc = seal_run(s, NULL, &e);
        if (write(pfd[1], &rc, sizeof rc) != sizeof rc ||
            write(pfd[1], e.msg, sizeof e.msg) != sizeof e.msg)
            _exit(4);
        struct stat mid;
        if (stat(logp, &mid) != 0 || mid.st_size != before.st_size)
            _exit(5);
        /* Space freed: the same sealer finishes. */
        setrlimit(RLIMIT_FSIZE, &rl);
        swlog_error e2 = {0};
        rc = seal_run(s, NULL, &e2);
        seal_close(s);
        replica_close(cr);
        _exit(rc == SWLOG_OK ? 0 : 6);
    }
    close(pfd[1]);
    int rc = 0;
    char msg[160] = {0};
    ck_assert_int_eq(read(pfd[0], &rc, sizeof rc), (ssize_t)sizeof rc);
    ck_assert_int_eq(read(pfd[0], msg, sizeof msg), (ssize_t)sizeof msg);
    close(pfd[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    printf("full disk: %s: %s\n", swlog_code_name(rc), msg);
    ck_assert_int_eq(rc, SWLOG_EIO);
    ck_assert_msg(strlen(msg) > 0, "no message");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %d", status);
    r = open_replica(dbp);
    check_log(replica_db(r), logp, &sum);
    ck_assert_uint_eq(sum.records, 7000);
    replica_close(r);
}
END_TEST

START_TEST(full_disk_then_restart_recovers)
{
    char dbp[512], logp[512];
    paths(test_tmpdir(), "full2", dbp, logp, sizeof dbp);
    replica *r = open_replica(dbp);
    write_clients(r, 500, NULL);
    swlog_error err = {0};
    ck_assert_int_eq(seal_all(r, logp, NULL, NULL, &err), SWLOG_OK);
    write_clients(r, 3000, NULL);
    sql(replica_db(r), "PRAGMA wal_checkpoint(TRUNCATE)");
    replica_close(r);
    struct stat before;
    ck_assert_int_eq(stat(logp, &before), 0);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        replica *cr = NULL;
        swlog_error e = {0};
        if (replica_open(dbp, &cr, &e) != SWLOG_OK)
            _exit(2);
        sqlite3_exec(replica_db(cr), "PRAGMA wal_autocheckpoint = 0", NULL,
                     NULL, NULL);
        struct rlimit rl;
        getrlimit(RLIMIT_FSIZE, &rl);
        struct rlimit small = {(rlim_t)before.st_size + 4096, rl.rlim_max};
        setrlimit(RLIMIT_FSIZE, &small);
        int rc = seal_all(cr, logp, NULL, NULL, &e);
        _exit(rc == SWLOG_EIO ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct stat mid;
    ck_assert_int_eq(stat(logp, &mid), 0);
    ck_assert_int_eq(mid.st_size, before.st_size);
    r = open_replica(dbp);
    seal_stats st = {0};
    ck_assert_msg(seal_all(r, logp, NULL, &st, &err) == SWLOG_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(st.recovered, 1);
    check_log(replica_db(r), logp, &sum);
    ck_assert_uint_eq(sum.records, 3500);
    replica_close(r);
}
END_TEST

static Suite *seal_suite(void)
{
    Suite *s = suite_create("seal");
    TCase *tc = tcase_create("seal");
    tcase_add_unchecked_fixture(tc, keys, NULL);
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, one_write_is_one_sealed_record);
    tcase_add_test(tc, large_batch_is_several_change_sets_within_limits);
    tcase_add_test(tc, big_values_cut_change_sets_by_size);
    tcase_add_test(tc, updates_deletes_nulls_and_operators_decode_as_written);
    tcase_add_test(tc, one_schema_version_per_change_set);
    tcase_add_test(tc, a_log_that_disagrees_with_the_replica_is_refused);
    tcase_add_loop_test(tc, recovers_from_a_crash_at_each_step, 1, 8);
    tcase_add_test(tc, a_reservation_is_finished_with_its_own_key);
    tcase_add_test(tc, a_second_sealer_with_a_stale_feed_refuses);
    tcase_add_test(tc, full_disk_fails_clearly_and_completes_later);
    tcase_add_test(tc, full_disk_then_restart_recovers);
    tcase_add_test(tc, survives_sigkill_at_random_points);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(seal_suite());
}
