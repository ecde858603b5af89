/* replica_process_init (agent/replica.c): a process that raises SQLite's
 * statement-journal spill size gets replicas with temp_store=FILE, whose
 * captured writes in long transactions, statement failures and rollbacks
 * behave exactly as with temp_store=MEMORY; a process that calls it too late
 * is told so and keeps MEMORY. Each test runs in its own forked process
 * (Check's default), so SQLite starts uninitialised in each. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "replica.h"
#include "testutil.h"

#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define ROWS 3000 /* far past 1 MiB of pages touched in one transaction */

static int64_t one_int(sqlite3 *db, const char *q)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int insert(sqlite3 *db, sqlite3_stmt *st, const char *id, int i)
{
    char name[32];
    snprintf(name, sizeof name, "Client %d", i);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    (void)db;
    return rc;
}

static replica *open_replica(char *path, size_t size)
{
    swlog_error err = {0};
    replica *r;
    snprintf(path, size, "%s/init-%d.db", test_tmpdir(), (int)getpid());
    unlink(path);
    ck_assert_msg(replica_open(path, &r, &err) == SWLOG_OK, "%s", err.msg);
    return r;
}

/* Many captured rows in one transaction, a failing statement in the middle
 * (a duplicate id: only that statement is undone), then a rolled-back
 * transaction (nothing of it stays). The outbox always matches the table. */
static void exercise(replica *r)
{
    sqlite3 *db = replica_db(r);
    swlog_error err = {0};
    sqlite3_stmt *st;
    ck_assert_int_eq(
        sqlite3_prepare_v2(db,
                           "INSERT INTO clients(id, owner_unit_id, name, "
                           "gender, birth_date, id_type, village_code) "
                           "VALUES(?1, '" OWNER "', ?2, 'female', "
                           "'1950-03-07', 'none', '440983102001')",
                           -1, &st, NULL),
        SQLITE_OK);
    char ids[ROWS][37];
    ck_assert_int_eq(replica_begin(r, &err), SWLOG_OK);
    for (int i = 0; i < ROWS; i++) {
        replica_uuid7_text(ids[i]);
        ck_assert_int_eq(insert(db, st, ids[i], i), SQLITE_DONE);
        if (i == ROWS / 2) /* the same id again: refused, nothing kept */
            ck_assert_int_eq(insert(db, st, ids[i], i) & 0xff,
                             SQLITE_CONSTRAINT);
    }
    ck_assert_int_eq(replica_commit(r, &err), SWLOG_OK);
    ck_assert_int_eq(one_int(db, "SELECT count(*) FROM clients"), ROWS);
    ck_assert_int_eq(one_int(db, "SELECT count(*) FROM _sw_outbox"), ROWS);
    ck_assert_int_eq(one_int(db, "SELECT count(*) FROM _sw_v_clients"), ROWS);
    ck_assert_int_eq(one_int(db, "SELECT count(*) FROM clients c WHERE NOT "
                                 "EXISTS (SELECT 1 FROM _sw_outbox o WHERE "
                                 "o.row_id = c.id AND o.kind = 1)"),
                     0);

    ck_assert_int_eq(replica_begin(r, &err), SWLOG_OK);
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE clients SET phone = "
                                      "'+8613900000000'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(one_int(db, "SELECT count(*) FROM _sw_outbox"),
                     2 * ROWS);
    replica_rollback(r);
    ck_assert_int_eq(one_int(db, "SELECT count(*) FROM _sw_outbox"), ROWS);
    ck_assert_int_eq(one_int(db, "SELECT count(*) FROM clients WHERE phone "
                                 "IS NOT NULL"),
                     0);
    sqlite3_finalize(st);
}

START_TEST(raised_spill_gives_file_temp_store_and_same_capture)
{
    swlog_error err = {0};
    ck_assert_msg(replica_process_init(&err) == SWLOG_OK, "%s", err.msg);
    char path[512];
    replica *r = open_replica(path, sizeof path);
    ck_assert_int_eq(one_int(replica_db(r), "PRAGMA temp_store"), 1);
    exercise(r);
    replica_close(r);
}
END_TEST

START_TEST(late_call_is_refused_and_memory_is_kept)
{
    char path[512];
    replica *r = open_replica(path, sizeof path);
    swlog_error err = {0};
    ck_assert_int_eq(replica_process_init(&err), SWLOG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "first thing in main()"));
    ck_assert_int_eq(one_int(replica_db(r), "PRAGMA temp_store"), 2);
    exercise(r);
    replica_close(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replica_init");
    TCase *tc = tcase_create("replica_init");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, raised_spill_gives_file_temp_store_and_same_capture);
    tcase_add_test(tc, late_call_is_refused_and_memory_is_kept);
    suite_add_tcase(s, tc);
    return check_run(s);
}
