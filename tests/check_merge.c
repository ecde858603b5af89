/* Merging change-sets (agent/merge.c, spec/MERGE.md): convergence over
 * every order and with duplicates, conflicts, tombstones, idempotency,
 * merged writes kept out of the outbox, the clock, unknown schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "merge.h"
#include "mergeutil.h"
#include "replica.h"
#include "seal.h"
#include "testutil.h"

#define X "0190a1b2-c3d4-7e5f-8a9b-000000000001"
#define Y "0190a1b2-c3d4-7e5f-8a9b-000000000002"
#define Z "0190a1b2-c3d4-7e5f-8a9b-000000000003"
#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

static replica *fresh(void)
{
    static int n;
    char path[512];
    replica *r = NULL;
    swlog_error err = {0};
    snprintf(path, sizeof path, "%s/merge-%d-%d.db", test_tmpdir(),
             (int)getpid(), n++);
    ck_assert_msg(replica_open(path, &r, &err) == SWLOG_OK, "%s", err.msg);
    /* Hundreds of throw-away replicas: durability is not under test. */
    ck_assert_int_eq(sqlite3_exec(replica_db(r), "PRAGMA synchronous = OFF",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return r;
}

static int merge1(replica *r, const mu_cs *c, merge_stats *st,
                  swlog_error *err)
{
    ck_assert_int_eq(replica_begin(r, err), SWLOG_OK);
    int rc = merge_changeset(r, &c->f, st, err);
    if (rc == SWLOG_OK)
        ck_assert_msg(replica_commit(r, err) == SWLOG_OK, "%s", err->msg);
    else
        replica_rollback(r);
    return rc;
}

static void merge_ok(replica *r, const mu_cs *c, merge_stats *st)
{
    swlog_error err = {0};
    ck_assert_msg(merge1(r, c, st, &err) == SWLOG_OK, "%s: %s",
                  swlog_code_name(err.code), err.msg);
}

static void hash(replica *r, uint8_t h[SWLOG_HASH_BYTES])
{
    swlog_error err = {0};
    ck_assert_msg(merge_content_hash(r, h, &err) == SWLOG_OK, "%s", err.msg);
}

static long long count(replica *r, const char *sql)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(replica_db(r), sql, -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The text of one column of one row, or "(none)" when there is no row. */
static const char *text(replica *r, const char *sql)
{
    static char out[128];
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(replica_db(r), sql, -1, &st, NULL),
                     SQLITE_OK);
    int rc = sqlite3_step(st);
    const unsigned char *t = rc == SQLITE_ROW ? sqlite3_column_text(st, 0)
                                              : NULL;
    snprintf(out, sizeof out, "%s",
             rc != SQLITE_ROW ? "(none)" : t != NULL ? (const char *)t
                                                     : "(null)");
    sqlite3_finalize(st);
    return out;
}

static void sql(replica *r, const char *q)
{
    char *msg = NULL;
    int rc = sqlite3_exec(replica_db(r), q, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", q, msg ? msg : "");
}

/* ---- a set of five change-sets from four signers ---------------------- */

#define NSETS 5
static mu_cs sets[NSETS];
static uint64_t base;

/* h(n): an HLC an hour ago plus n milliseconds. */
static uint64_t h(unsigned n)
{
    return base + ((uint64_t)n << 16);
}

static void build_sets(void)
{
    base = mu_now_hlc() - (3600000ull << 16);
    /* 0: key 1 creates X and Y. */
    mu_begin();
    mu_upsert("clients", X, h(10));
    mu_text("owner_unit_id", 0, OWNER);
    mu_text("name", 0, "anna");
    mu_text("gender", 0, "male");
    mu_int("birth_estimated", 0, 0);
    mu_upsert("clients", Y, h(11));
    mu_text("name", 0, "yan");
    mu_seal(&sets[0], 1, 1, NULL, h(12), 1);
    /* 1: key 2 saw set 0: renames X, sets gender (tie with set 4), creates
     * Z. */
    mu_begin();
    mu_upsert("clients", X, h(20));
    mu_text("name", h(10), "bo");
    mu_text("gender", h(10), "unknown");
    mu_upsert("clients", Z, h(21));
    mu_text("name", 0, "zed");
    mu_seal(&sets[1], 2, 1, NULL, h(22), 1);
    /* 2: key 3 saw set 0 only: renames X too (concurrent with set 1), and
     * then again having seen its own write. */
    mu_begin();
    mu_upsert("clients", X, h(30));
    mu_text("name", h(10), "chen");
    mu_upsert("clients", X, h(31));
    mu_text("name", h(30), "chen2");
    mu_null("birth_estimated", h(10));
    mu_seal(&sets[2], 3, 1, NULL, h(32), 1);
    /* 3: key 2 again (seq 2): deletes Y having seen set 0 only. */
    mu_begin();
    mu_delete("clients", Y, h(40), h(11));
    mu_seal(&sets[3], 2, 2, sets[1].f.id, h(41), 1);
    /* 4: key 4 saw set 0: same HLC as set 1 on gender, other value; edits
     * Y after set 0 (concurrent with the delete). */
    mu_begin();
    mu_upsert("clients", X, h(20));
    mu_text("gender", h(10), "female");
    mu_upsert("clients", Y, h(15));
    mu_text("name", h(11), "yann");
    mu_seal(&sets[4], 4, 1, NULL, h(50), 1);
}

static void free_sets(void)
{
    for (size_t i = 0; i < NSETS; i++)
        mu_free(&sets[i]);
}

/* Check the outcome every order must reach. */
static void expect_outcome(replica *r)
{
    ck_assert_str_eq(text(r, "SELECT name FROM clients WHERE id = '" X "'"),
                     "chen2");
    /* Tie at h(20): the greater value encoding wins: "unknown" (7 bytes)
     * sorts after "female" (6 bytes) by its length varint. */
    ck_assert_str_eq(
        text(r, "SELECT gender FROM clients WHERE id = '" X "'"), "unknown");
    ck_assert_str_eq(
        text(r, "SELECT birth_estimated FROM clients WHERE id = '" X "'"),
        "(null)");
    ck_assert_str_eq(text(r, "SELECT name FROM clients WHERE id = '" Y "'"),
                     "(none)");
    ck_assert_str_eq(text(r, "SELECT name FROM clients WHERE id = '" Z "'"),
                     "zed");
    /* Conflicts: name bo@20 vs chen@30 (set 2 had not seen set 1); gender
     * unknown vs female (same HLC, neither saw the other); the delete of Y
     * vs yann@15 (the delete replaced h(11) only). chen2@31 replaced chen
     * @30 >= bo@20: it is the same line as chen, no new conflict. */
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_conflicts"), 3);
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_conflicts WHERE "
                              "col = 'name' AND row_id = '" X "' AND "
                              "lose_value = 'bo' AND win_value = 'chen'"),
                     1);
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_conflicts WHERE "
                              "col = 'gender' AND win_value = 'unknown' AND "
                              "lose_value = 'female'"),
                     1);
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_conflicts WHERE "
                              "row_id = '" Y "' AND win_kind = 2 AND "
                              "lose_value = 'yann' AND col = 'name'"),
                     1);
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_outbox"), 0);
}

static void permute(size_t *a, size_t k, size_t n, void (*fn)(const size_t *))
{
    if (k == n) {
        fn(a);
        return;
    }
    for (size_t i = k; i < n; i++) {
        size_t t = a[k];
        a[k] = a[i];
        a[i] = t;
        permute(a, k + 1, n, fn);
        a[i] = a[k];
        a[k] = t;
    }
}

static uint8_t reference[SWLOG_HASH_BYTES];
static int have_reference;
static unsigned orders;

static void run_order(const size_t *order)
{
    replica *r = fresh();
    for (size_t i = 0; i < NSETS; i++) {
        merge_ok(r, &sets[order[i]], NULL);
        /* Duplicates: every third order merges each set twice. */
        if (orders % 3 == 0)
            merge_ok(r, &sets[order[i]], NULL);
    }
    uint8_t got[SWLOG_HASH_BYTES];
    hash(r, got);
    if (!have_reference) {
        memcpy(reference, got, sizeof got);
        have_reference = 1;
    }
    ck_assert_msg(memcmp(reference, got, sizeof got) == 0,
                  "order %u gives another content hash", orders);
    expect_outcome(r);
    orders++;
    replica_close(r);
}

START_TEST(converges_in_every_order)
{
    build_sets();
    size_t order[NSETS];
    for (size_t i = 0; i < NSETS; i++)
        order[i] = i;
    have_reference = 0;
    orders = 0;
    permute(order, 0, NSETS, run_order);
    ck_assert_uint_eq(orders, 120);
    free_sets();
}
END_TEST

START_TEST(merging_twice_changes_nothing)
{
    build_sets();
    replica *r = fresh();
    merge_stats st = {0};
    for (size_t i = 0; i < NSETS; i++)
        merge_ok(r, &sets[i], &st);
    ck_assert_uint_eq(st.conflicts, 3);
    ck_assert_uint_gt(st.applied, 0);
    uint8_t a[SWLOG_HASH_BYTES], b[SWLOG_HASH_BYTES];
    hash(r, a);
    uint64_t clock0, clock1;
    swlog_error err = {0};
    ck_assert_int_eq(capture_clock_last(replica_db(r), &clock0, &err), 0);
    long long hist = count(r, "SELECT count(*) * 1000000 + "
                              "sum(length(writes)) FROM _sw_hist");
    merge_stats again = {0};
    for (size_t i = 0; i < NSETS; i++)
        merge_ok(r, &sets[i], &again);
    hash(r, b);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_uint_eq(again.applied, 0);
    ck_assert_uint_eq(again.conflicts, 0);
    ck_assert_uint_eq(again.records, st.records);
    ck_assert_int_eq(count(r, "SELECT count(*) * 1000000 + "
                              "sum(length(writes)) FROM _sw_hist"),
                     hist);
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_outbox"), 0);
    ck_assert_int_eq(capture_clock_last(replica_db(r), &clock1, &err), 0);
    ck_assert_uint_ge(clock1, clock0);
    replica_close(r);
    free_sets();
}
END_TEST

/* A delete and a later update of the same row, in both orders: the
 * tombstone is final, the update is recorded as a conflict. */
START_TEST(delete_then_update_both_orders)
{
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c[3];
    mu_begin();
    mu_upsert("clients", X, h(1));
    mu_text("name", 0, "a");
    mu_seal(&c[0], 1, 1, NULL, h(1), 1);
    mu_begin();
    mu_delete("clients", X, h(5), h(1));
    mu_seal(&c[1], 2, 1, NULL, h(5), 1);
    mu_begin();
    mu_upsert("clients", X, h(9)); /* after the delete, without seeing it */
    mu_text("name", h(1), "b");
    mu_text("gender", h(1), "male");
    mu_seal(&c[2], 3, 1, NULL, h(9), 1);
    static const size_t orders6[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                         {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    uint8_t ref[SWLOG_HASH_BYTES], got[SWLOG_HASH_BYTES];
    for (size_t o = 0; o < 6; o++) {
        replica *r = fresh();
        for (size_t i = 0; i < 3; i++)
            merge_ok(r, &c[orders6[o][i]], NULL);
        ck_assert_int_eq(count(r, "SELECT count(*) FROM clients"), 0);
        ck_assert_uint_eq(
            (uint64_t)count(r, "SELECT _dead FROM _sw_v_clients WHERE id = "
                               "'" X "'"),
            h(5));
        ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_conflicts WHERE "
                                  "win_kind = 2"),
                         2); /* name and gender of the update */
        ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_outbox"), 0);
        hash(r, o == 0 ? ref : got);
        if (o > 0)
            ck_assert_mem_eq(ref, got, sizeof ref);
        replica_close(r);
    }
    for (size_t i = 0; i < 3; i++)
        mu_free(&c[i]);
}
END_TEST

/* A replica whose _sw_hist has the version 1 layout (one row per column
 * write) is migrated by its next merge (MERGE §4): the writes it held
 * still count as merged (no-op again) and still find conflicts. */
START_TEST(history_v1_is_migrated)
{
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c[2];
    mu_begin();
    mu_upsert("clients", X, h(1));
    mu_text("name", 0, "a");
    mu_int("birth_estimated", 0, 1);
    mu_seal(&c[0], 1, 1, NULL, h(1), 1);
    mu_begin();
    mu_upsert("clients", X, h(9)); /* did not see "a" */
    mu_text("name", 0, "b");
    mu_seal(&c[1], 2, 1, NULL, h(9), 1);

    replica *ref = fresh();
    merge_ok(ref, &c[0], NULL);
    merge_ok(ref, &c[1], NULL);
    uint8_t want[SWLOG_HASH_BYTES], got[SWLOG_HASH_BYTES];
    hash(ref, want);
    replica_close(ref);

    replica *r = fresh();
    merge_ok(r, &c[0], NULL);
    char path[512];
    snprintf(path, sizeof path, "%s",
             sqlite3_db_filename(replica_db(r), "main"));
    ck_assert_int_eq(
        sqlite3_exec(
            replica_db(r),
            "BEGIN; CREATE TABLE old AS SELECT * FROM _sw_hist;"
            "DROP TABLE _sw_hist;"
            "CREATE TABLE _sw_hist(tbl TEXT NOT NULL, row_id TEXT NOT NULL,"
            " col TEXT NOT NULL, hlc INTEGER NOT NULL, signer BLOB NOT NULL,"
            " frame BLOB NOT NULL, rep INTEGER NOT NULL, value,"
            " PRIMARY KEY(tbl, row_id, col, hlc, signer, frame))"
            " WITHOUT ROWID;"
            "INSERT INTO _sw_hist SELECT tbl, row_id, 'name', hlc, signer,"
            " frame, 0, 'a' FROM old;"
            "INSERT INTO _sw_hist SELECT tbl, row_id, 'birth_estimated', hlc,"
            " signer, frame, 0, 1 FROM old;"
            "DROP TABLE old; COMMIT;",
            NULL, NULL, NULL),
        SQLITE_OK);
    replica_close(r);
    swlog_error err = {0};
    ck_assert_msg(replica_open(path, &r, &err) == SWLOG_OK, "%s", err.msg);
    merge_stats st = {0};
    merge_ok(r, &c[0], &st); /* held before the migration: nothing new */
    ck_assert_uint_eq(st.applied, 0);
    ck_assert_uint_eq(st.stale, 0);
    ck_assert_int_eq(count(r, "SELECT count(*) FROM sqlite_master WHERE "
                              "name = '_sw_hist_v1'"),
                     0);
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_hist"), 1);
    merge_ok(r, &c[1], &st);
    ck_assert_uint_eq(st.conflicts, 1);
    ck_assert_str_eq(text(r, "SELECT lose_value FROM _sw_conflicts"), "a");
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_hist"), 2);
    hash(r, got);
    ck_assert_mem_eq(want, got, sizeof want);
    replica_close(r);
    for (size_t i = 0; i < 2; i++)
        mu_free(&c[i]);
}
END_TEST

/* A delete that saw every write: no conflict. */
START_TEST(informed_delete_is_no_conflict)
{
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c[2];
    mu_begin();
    mu_upsert("clients", X, h(1));
    mu_text("name", 0, "a");
    mu_seal(&c[0], 1, 1, NULL, h(1), 1);
    mu_begin();
    mu_delete("clients", X, h(5), h(1));
    mu_seal(&c[1], 1, 2, c[0].f.id, h(5), 1);
    for (int o = 0; o < 2; o++) {
        replica *r = fresh();
        merge_ok(r, &c[o], NULL);
        merge_ok(r, &c[1 - o], NULL);
        ck_assert_int_eq(count(r, "SELECT count(*) FROM clients"), 0);
        ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_conflicts"), 0);
        replica_close(r);
    }
    mu_free(&c[0]);
    mu_free(&c[1]);
}
END_TEST

/* Merged writes never reach the outbox; a local edit afterwards replaces
 * the merged HLC; the clock is past the frame. */
START_TEST(local_edit_after_merge)
{
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c;
    mu_begin();
    mu_upsert("clients", X, h(10));
    mu_text("owner_unit_id", 0, OWNER);
    mu_text("name", 0, "anna");
    mu_upsert("clients", X, h(11));
    mu_text("gender", 0, "male");
    mu_seal(&c, 1, 1, NULL, h(12), 1);
    replica *r = fresh();
    swlog_error err = {0};
    merge_ok(r, &c, NULL);
    uint64_t pending = 1, clock = 0, v = 0;
    ck_assert_int_eq(capture_pending(replica_db(r), &pending, &err), 0);
    ck_assert_uint_eq(pending, 0);
    ck_assert_int_eq(capture_clock_last(replica_db(r), &clock, &err), 0);
    ck_assert_uint_ge(clock, h(12));
    ck_assert_int_eq(capture_column_version(replica_db(r), "clients", X,
                                            "gender", &v, &err),
                     0);
    ck_assert_uint_eq(v, h(11));
    ck_assert_int_eq(capture_column_version(replica_db(r), "clients", X,
                                            "name", &v, &err),
                     0);
    ck_assert_uint_eq(v, h(10));
    sql(r, "UPDATE clients SET name = 'anne', gender = 'female' WHERE id = "
           "'" X "'");
    ck_assert_int_eq(capture_pending(replica_db(r), &pending, &err), 0);
    ck_assert_uint_eq(pending, 1);
    char want[128];
    /* rep lists per column the replaced HLC (owner, name, gender, ...). */
    const char *rep = text(r, "SELECT json_extract(rep, '$[1]') || ',' || "
                              "json_extract(rep, '$[2]') FROM _sw_outbox");
    snprintf(want, sizeof want, "%llu,%llu", (unsigned long long)h(10),
             (unsigned long long)h(11));
    ck_assert_str_eq(rep, want);
    replica_close(r);
    mu_free(&c);
}
END_TEST

/* A merged write that had not seen a local edit: a conflict whose loser is
 * the local write (zero signer and frame, MERGE §6). */
START_TEST(merged_write_over_unseen_local_edit)
{
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c[2];
    mu_begin();
    mu_upsert("clients", X, h(10));
    mu_text("name", 0, "anna");
    mu_seal(&c[0], 1, 1, NULL, h(10), 1);
    replica *r = fresh();
    merge_ok(r, &c[0], NULL);
    sql(r, "UPDATE clients SET name = 'local' WHERE id = '" X "'");
    uint64_t local = 0;
    swlog_error err = {0};
    ck_assert_int_eq(capture_column_version(replica_db(r), "clients", X,
                                            "name", &local, &err),
                     0);
    ck_assert_uint_gt(local, h(10));
    /* Another station, clock ahead of ours, replaced anna@10. */
    mu_begin();
    mu_upsert("clients", X, local + (1000ull << 16));
    mu_text("name", h(10), "remote");
    mu_seal(&c[1], 2, 1, NULL, local + (1000ull << 16), 1);
    merge_stats st = {0};
    merge_ok(r, &c[1], &st);
    ck_assert_uint_eq(st.conflicts, 1);
    ck_assert_str_eq(text(r, "SELECT name FROM clients"), "remote");
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_conflicts WHERE "
                              "lose_value = 'local' AND win_value = "
                              "'remote' AND lose_signer = zeroblob(32)"),
                     1);
    /* The local edit is still waiting to be sealed; the merge added none. */
    uint64_t pending = 0;
    ck_assert_int_eq(capture_pending(replica_db(r), &pending, &err), 0);
    ck_assert_uint_eq(pending, 1);
    replica_close(r);
    mu_free(&c[0]);
    mu_free(&c[1]);
}
END_TEST

/* A merged write older than a local edit it had not seen loses, and the
 * conflict names the local write as the winner. */
START_TEST(stale_merged_write_under_local_edit)
{
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c[2];
    mu_begin();
    mu_upsert("clients", X, h(10));
    mu_text("name", 0, "anna");
    mu_seal(&c[0], 1, 1, NULL, h(10), 1);
    mu_begin();
    mu_upsert("clients", X, h(20));
    mu_text("name", h(10), "old-remote");
    mu_seal(&c[1], 2, 1, NULL, h(20), 1);
    replica *r = fresh();
    merge_ok(r, &c[0], NULL);
    sql(r, "UPDATE clients SET name = 'local' WHERE id = '" X "'");
    merge_stats st = {0};
    merge_ok(r, &c[1], &st);
    ck_assert_uint_eq(st.stale, 1);
    ck_assert_uint_eq(st.conflicts, 1);
    ck_assert_str_eq(text(r, "SELECT name FROM clients"), "local");
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_conflicts WHERE "
                              "win_value = 'local' AND win_signer = "
                              "zeroblob(32) AND lose_value = 'old-remote'"),
                     1);
    replica_close(r);
    mu_free(&c[0]);
    mu_free(&c[1]);
}
END_TEST

/* MERGE §9: a frame an hour ahead is merged, flagged, and the clock moves
 * at most to the wall clock plus the bound. */
START_TEST(far_future_is_flagged_and_bounded)
{
    uint64_t now = mu_now_hlc();
    uint64_t future = now + (3600000ull << 16);
    mu_cs c;
    mu_begin();
    mu_upsert("clients", X, future);
    mu_text("name", 0, "later");
    mu_seal(&c, 1, 1, NULL, future, 1);
    replica *r = fresh();
    swlog_error err = {0};
    uint64_t ahead = 0, bound = 0, clock = 0;
    ck_assert_int_eq(merge_ahead(r, future, &ahead, &bound, &err), 0);
    ck_assert_uint_ge(ahead, 3500000);
    ck_assert_uint_le(ahead, 3700000);
    ck_assert_int_eq(merge_ahead(r, now, &ahead, NULL, &err), 0);
    ck_assert_uint_eq(ahead, 0);
    merge_stats st = {0};
    merge_ok(r, &c, &st);
    ck_assert_uint_eq(st.future, 1);
    ck_assert_uint_eq(st.applied, 1);
    ck_assert_int_eq(capture_clock_last(replica_db(r), &clock, &err), 0);
    ck_assert_uint_lt(clock, future);
    ck_assert_uint_ge(clock, now + ((uint64_t)MERGE_MAX_AHEAD_MS << 16) -
                                 (60000ull << 16));
    ck_assert_uint_le(clock, now + ((uint64_t)MERGE_MAX_AHEAD_MS << 16) +
                                 (60000ull << 16));
    replica_close(r);
    mu_free(&c);
}
END_TEST

/* MERGE §7: undeclared tables and columns are refused (EVERSION when the
 * change-set names a newer schema, EINVAL otherwise), as are values of
 * the wrong type; nothing is written. */
START_TEST(unknown_schema_is_refused)
{
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c[4];
    mu_begin();
    mu_upsert("clients", X, h(1));
    mu_text("name", 0, "a");
    mu_upsert("zz_later", Y, h(2));
    mu_text("name", 0, "b");
    mu_seal(&c[0], 1, 1, NULL, h(3), 2);
    mu_begin();
    mu_upsert("clients", X, h(1));
    mu_text("name", 0, "a");
    mu_text("zz_later", 0, "b");
    mu_seal(&c[1], 1, 1, NULL, h(3), 2);
    mu_begin();
    mu_upsert("clients", X, h(1));
    mu_text("zz_later", 0, "b");
    mu_seal(&c[2], 1, 1, NULL, h(3), 1);
    mu_begin();
    mu_upsert("clients", X, h(1));
    mu_int("name", 0, 7);
    mu_seal(&c[3], 1, 1, NULL, h(3), 1);
    static const int want[4] = {SWLOG_EVERSION, SWLOG_EVERSION, SWLOG_EINVAL,
                                SWLOG_EINVAL};
    replica *r = fresh();
    uint8_t before[SWLOG_HASH_BYTES], after[SWLOG_HASH_BYTES];
    hash(r, before);
    for (size_t i = 0; i < 4; i++) {
        swlog_error err = {0};
        ck_assert_int_eq(merge1(r, &c[i], NULL, &err), want[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "MERGE"));
        ck_assert_ptr_null(strstr(err.msg, "\"a\""));
        hash(r, after);
        ck_assert_mem_eq(before, after, sizeof before);
        mu_free(&c[i]);
    }
    ck_assert_int_eq(count(r, "SELECT count(*) FROM clients"), 0);
    replica_close(r);
}
END_TEST

/* MERGE §6: a row deleted here; a merged edit it had not seen loses to the
 * local tombstone and is recorded. */
START_TEST(local_delete_beats_unseen_edit)
{
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c[2];
    mu_begin();
    mu_upsert("clients", X, h(10));
    mu_text("name", 0, "anna");
    mu_seal(&c[0], 1, 1, NULL, h(10), 1);
    mu_begin();
    mu_upsert("clients", X, h(20));
    mu_text("name", h(10), "edited");
    mu_seal(&c[1], 2, 1, NULL, h(20), 1);
    replica *r = fresh();
    merge_ok(r, &c[0], NULL);
    sql(r, "DELETE FROM clients WHERE id = '" X "'");
    merge_stats st = {0};
    merge_ok(r, &c[1], &st);
    ck_assert_uint_eq(st.stale, 1);
    ck_assert_uint_eq(st.conflicts, 1);
    ck_assert_int_eq(count(r, "SELECT count(*) FROM clients"), 0);
    ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_conflicts WHERE "
                              "win_kind = 2 AND win_signer = zeroblob(32) "
                              "AND lose_value = 'edited'"),
                     1);
    uint64_t pending = 0;
    swlog_error err = {0};
    ck_assert_int_eq(capture_pending(replica_db(r), &pending, &err), 0);
    ck_assert_uint_eq(pending, 1); /* the local delete, nothing else */
    replica_close(r);
    mu_free(&c[0]);
    mu_free(&c[1]);
}
END_TEST

/* MERGE §5.1: two concurrent writes of the same value are no conflict. */
START_TEST(same_value_is_no_conflict)
{
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c[3];
    mu_begin();
    mu_upsert("clients", X, h(1));
    mu_text("name", 0, "a");
    mu_seal(&c[0], 1, 1, NULL, h(1), 1);
    mu_begin();
    mu_upsert("clients", X, h(5));
    mu_text("name", h(1), "same");
    mu_seal(&c[1], 2, 1, NULL, h(5), 1);
    mu_begin();
    mu_upsert("clients", X, h(7));
    mu_text("name", h(1), "same");
    mu_seal(&c[2], 3, 1, NULL, h(7), 1);
    for (int o = 0; o < 2; o++) {
        replica *r = fresh();
        merge_ok(r, &c[0], NULL);
        merge_ok(r, &c[1 + o], NULL);
        merge_ok(r, &c[2 - o], NULL);
        ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_conflicts"), 0);
        ck_assert_uint_eq((uint64_t)count(r, "SELECT name FROM "
                                             "_sw_v_clients"),
                          h(7));
        replica_close(r);
    }
    for (int i = 0; i < 3; i++)
        mu_free(&c[i]);
}
END_TEST

START_TEST(refuses_outside_a_transaction)
{
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c;
    mu_begin();
    mu_upsert("clients", X, h(1));
    mu_text("name", 0, "a");
    mu_seal(&c, 1, 1, NULL, h(1), 1);
    replica *r = fresh();
    swlog_error err = {0};
    ck_assert_int_eq(merge_changeset(r, &c.f, NULL, &err), SWLOG_EARG);
    replica_close(r);
    mu_free(&c);
}
END_TEST

/* ---- random sets: the rules hold for any input ------------------------ */

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33) % n;
}

/* Seed _i (eight seeds): six change-sets from three signers over three rows and three
 * columns, with HLCs from a small range (ties), values from a small set
 * (equal values), arbitrary replaced HLCs and deletes; merged in ten
 * random orders, some with duplicates: one content hash. */
START_TEST(random_sets_converge)
{
    static const char *const rows[3] = {X, Y, Z};
    static const char *const names[3] = {"a", "b", "c"};
    rng = 0x5eed0000u + (uint64_t)_i;
    base = mu_now_hlc() - (3600000ull << 16);
    mu_cs c[6];
    uint64_t seq[4] = {0};
    uint8_t prev[4][SWLOG_HASH_BYTES];
    for (size_t k = 0; k < 6; k++) {
        unsigned key = 1 + rnd(3);
        unsigned nrec = 1 + rnd(4);
        uint64_t top = 0;
        mu_begin();
        for (unsigned j = 0; j < nrec; j++) {
            const char *row = rows[rnd(3)];
            uint64_t hl = h(1 + rnd(12));
            uint64_t rep = rnd(3) == 0 ? 0 : h(rnd(14));
            if (hl > top)
                top = hl;
            if (rnd(6) == 0) {
                mu_delete("clients", row, hl, rep);
                continue;
            }
            mu_upsert("clients", row, hl);
            unsigned mask = 1 + rnd(7);
            if (mask & 1)
                mu_text("gender", rnd(2) ? rep : 0, names[rnd(3)]);
            if (mask & 2)
                mu_text("name", rnd(2) ? rep : h(rnd(14)), names[rnd(3)]);
            if (mask & 4) {
                if (rnd(4) == 0)
                    mu_null("birth_estimated", rep);
                else
                    mu_int("birth_estimated", rep, (int64_t)rnd(2));
            }
        }
        seq[key]++;
        mu_seal(&c[k], key, seq[key], seq[key] > 1 ? prev[key] : NULL, top,
                1);
        memcpy(prev[key], c[k].f.id, SWLOG_HASH_BYTES);
    }
    uint8_t ref[SWLOG_HASH_BYTES], got[SWLOG_HASH_BYTES];
    long long conflicts = -1;
    for (unsigned o = 0; o < 10; o++) {
        size_t order[6] = {0, 1, 2, 3, 4, 5};
        for (size_t i = 5; i > 0; i--) {
            size_t j = rnd((uint32_t)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        replica *r = fresh();
        for (size_t i = 0; i < 6; i++) {
            merge_ok(r, &c[order[i]], NULL);
            if (o % 3 == 1 && rnd(2))
                merge_ok(r, &c[order[rnd((uint32_t)i + 1)]], NULL);
        }
        hash(r, o == 0 ? ref : got);
        if (o > 0)
            ck_assert_msg(memcmp(ref, got, sizeof ref) == 0,
                          "seed %d: order %u differs", _i, o);
        long long n = count(r, "SELECT count(*) FROM _sw_conflicts");
        if (o == 0)
            conflicts = n;
        ck_assert_int_eq(n, conflicts);
        ck_assert_int_eq(count(r, "SELECT count(*) FROM _sw_outbox"), 0);
        replica_close(r);
    }
    for (size_t k = 0; k < 6; k++)
        mu_free(&c[k]);
}
END_TEST

/* ---- real change-sets: two stations seal, a hub merges --------------- */

typedef struct frames {
    size_t n;
    swlog_buf body[8];
    swlog_frame f[8];
} frames;

static void read_log(const char *path, frames *out)
{
    swlog_log *log = NULL;
    swlog_error err = {0};
    ck_assert_msg(swlog_log_open(path, SWLOG_READ, &log, &err) == SWLOG_OK,
                  "%s", err.msg);
    const uint8_t *body;
    size_t len;
    uint64_t off;
    out->n = 0;
    while (swlog_log_next(log, &body, &len, &off, &err) == 1) {
        ck_assert_uint_lt(out->n, 8);
        swlog_buf_init(&out->body[out->n]);
        ck_assert_int_eq(swlog_buf_append(&out->body[out->n], body, len), 0);
        ck_assert_int_eq(swlog_frame_decode(out->body[out->n].p, len, 0,
                                            &out->f[out->n], &err),
                         0);
        out->n++;
    }
    swlog_log_close(log);
}

static void station_seal(replica *r, const char *log, unsigned key)
{
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    test_key(key, pk, sk);
    sealer *s = NULL;
    swlog_error err = {0};
    ck_assert_msg(seal_open(r, log, sk, NULL, &s, NULL, &err) == SWLOG_OK,
                  "%s", err.msg);
    ck_assert_msg(seal_run(s, NULL, &err) == SWLOG_OK, "%s", err.msg);
    seal_close(s);
}

START_TEST(sealed_changesets_converge)
{
    replica *a = fresh(), *b = fresh();
    char la[512], lb[512];
    snprintf(la, sizeof la, "%s/merge-a-%d.log", test_tmpdir(), (int)getpid());
    snprintf(lb, sizeof lb, "%s/merge-b-%d.log", test_tmpdir(), (int)getpid());
    unlink(la);
    unlink(lb);
    sql(a, "INSERT INTO clients(id, owner_unit_id, name, gender) VALUES('" X
           "', '" OWNER "', 'anna', 'female'), ('" Y "', '" OWNER
           "', 'yan', 'male')");
    station_seal(a, la, 1);
    frames fa, fb;
    read_log(la, &fa);
    ck_assert_uint_eq(fa.n, 1);
    /* Station b learns a's rows, then edits one and deletes the other. */
    merge_ok(b, &(mu_cs){.f = fa.f[0]}, NULL);
    sql(b, "UPDATE clients SET name = 'anne' WHERE id = '" X "'");
    sql(b, "DELETE FROM clients WHERE id = '" Y "'");
    station_seal(b, lb, 2);
    read_log(lb, &fb);
    ck_assert_uint_eq(fb.n, 1);
    /* b's change-set holds b's update and delete, not a's merged rows. */
    ck_assert_uint_eq(fb.f[0].u.changeset.record_count, 2);
    /* Station a edits X concurrently. */
    sql(a, "UPDATE clients SET name = 'annie' WHERE id = '" X "'");
    station_seal(a, la, 1);
    for (size_t i = 0; i < fa.n; i++)
        swlog_buf_clear(&fa.body[i]);
    read_log(la, &fa);
    ck_assert_uint_eq(fa.n, 2);
    const swlog_frame *all[3] = {&fa.f[0], &fa.f[1], &fb.f[0]};
    static const size_t orders6[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                         {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    uint8_t ref[SWLOG_HASH_BYTES], got[SWLOG_HASH_BYTES];
    for (size_t o = 0; o < 6; o++) {
        replica *hub = fresh();
        for (size_t i = 0; i < 3; i++)
            merge_ok(hub, &(mu_cs){.f = *all[orders6[o][i]]}, NULL);
        ck_assert_int_eq(count(hub, "SELECT count(*) FROM clients"), 1);
        ck_assert_int_eq(count(hub, "SELECT count(*) FROM _sw_conflicts"),
                         1);
        ck_assert_int_eq(count(hub, "SELECT count(*) FROM _sw_outbox"), 0);
        hash(hub, o == 0 ? ref : got);
        if (o > 0)
            ck_assert_mem_eq(ref, got, sizeof ref);
        replica_close(hub);
    }
    for (size_t i = 0; i < fa.n; i++)
        swlog_buf_clear(&fa.body[i]);
    swlog_buf_clear(&fb.body[0]);
    replica_close(a);
    replica_close(b);
}
END_TEST

Suite *merge_suite(void)
{
    Suite *s = suite_create("merge");
    TCase *tc = tcase_create("merge");
    tcase_set_timeout(tc, 1500);
    tcase_add_test(tc, converges_in_every_order);
    tcase_add_test(tc, merging_twice_changes_nothing);
    tcase_add_test(tc, delete_then_update_both_orders);
    tcase_add_test(tc, history_v1_is_migrated);
    tcase_add_test(tc, informed_delete_is_no_conflict);
    tcase_add_test(tc, local_edit_after_merge);
    tcase_add_test(tc, merged_write_over_unseen_local_edit);
    tcase_add_test(tc, stale_merged_write_under_local_edit);
    tcase_add_test(tc, far_future_is_flagged_and_bounded);
    tcase_add_test(tc, unknown_schema_is_refused);
    tcase_add_test(tc, local_delete_beats_unseen_edit);
    tcase_add_test(tc, same_value_is_no_conflict);
    tcase_add_test(tc, refuses_outside_a_transaction);
    tcase_add_test(tc, sealed_changesets_converge);
    tcase_add_loop_test(tc, random_sets_converge, 0, 8);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(merge_suite());
}
