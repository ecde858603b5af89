/* The hybrid logical clock kept in the replica (agent/capture.c, README
 * §Clock): wall-clock precision, monotonic across writes, reopening, a wall
 * clock set back a year, and clocks received from elsewhere. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "replica.h"
#include "testutil.h"

#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define YEAR_MS (365ll * 24 * 3600 * 1000)

static char path[512];
static replica *rep;
static sqlite3 *db;

static void setup(void)
{
    static int n;
    swlog_error err = {0};
    snprintf(path, sizeof path, "%s/hlc-%d-%d.db", test_tmpdir(), (int)getpid(),
             n++);
    ck_assert_msg(replica_open(path, &rep, &err) == SWLOG_OK, "%s", err.msg);
    db = replica_db(rep);
}

static void teardown(void) { replica_close(rep); }

static void reopen(void)
{
    swlog_error err = {0};
    replica_close(rep);
    ck_assert_msg(replica_open(path, &rep, &err) == SWLOG_OK, "%s", err.msg);
    db = replica_db(rep);
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Write one captured change and return its HLC. */
static uint64_t write_one(void)
{
    static int n;
    char q[512];
    uint64_t hlc;
    swlog_error err = {0};
    snprintf(q, sizeof q,
             "INSERT INTO org_units(id, level, parent_id, name, unit_code, "
             "division_code, division_code_year, status) VALUES("
             "'0190a1b2-0000-7000-8000-%012d', 'station', '" OWNER "', 'S', "
             "'440983102000-01', '440983102000', 2024, 'active')",
             n++);
    ck_assert_int_eq(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(capture_clock_last(db, &hlc, &err), SWLOG_OK);
    return hlc;
}

START_TEST(hlc_follows_the_wall_clock_to_the_millisecond)
{
    uint64_t before = wall_ms();
    uint64_t hlc = write_one();
    uint64_t after = wall_ms();
    /* julianday('now') carries SQLite's integer milliseconds; round()
     * recovers them exactly. */
    ck_assert_uint_ge(hlc >> 16, before);
    ck_assert_uint_le(hlc >> 16, after);
    ck_assert_uint_eq(hlc & 0xffff, 0);
}
END_TEST

START_TEST(hlc_strictly_increases_within_a_millisecond)
{
    uint64_t prev = write_one();
    /* One statement sees one 'now': 200 rows need the counter. */
    ck_assert_int_eq(sqlite3_exec(db,
                                  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                                  "SELECT i + 1 FROM n WHERE i < 200) INSERT "
                                  "INTO org_units(id, level, name, unit_code, "
                                  "division_code, division_code_year, status) "
                                  "SELECT printf('0190a1b2-1111-7000-8000-%"
                                  "012d', i), 'provincial_hub', 'P', '44', "
                                  "'440000', 2024, 'active' FROM n",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT hlc FROM _sw_outbox "
                                            "ORDER BY rowid",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int n = 0;
    uint64_t last = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint64_t h = (uint64_t)sqlite3_column_int64(st, 0);
        ck_assert_uint_gt(h, last);
        last = h;
        n++;
    }
    sqlite3_finalize(st);
    ck_assert_int_eq(n, 201);
    ck_assert_uint_gt(last, prev);
}
END_TEST

START_TEST(hlc_is_monotonic_across_reopening)
{
    uint64_t a = write_one();
    reopen();
    uint64_t b = write_one();
    ck_assert_uint_gt(b, a);
    /* Even with nothing left in the outbox. */
    swlog_error err = {0};
    ck_assert_int_eq(capture_mark_sealed(db, b, &err), SWLOG_OK);
    ck_assert_int_eq(capture_prune(db, &err), SWLOG_OK);
    reopen();
    ck_assert_uint_gt(write_one(), b);
}
END_TEST

START_TEST(hlc_survives_the_clock_set_back_a_year)
{
    swlog_error err = {0};
    uint64_t before = write_one();
    ck_assert_int_eq(capture_clock_set_offset(db, -YEAR_MS, &err), SWLOG_OK);
    reopen(); /* the setting is in the database: a restart keeps it */
    uint64_t prev = before;
    for (int i = 0; i < 50; i++) {
        uint64_t h = write_one();
        ck_assert_uint_gt(h, prev);
        /* The wall clock is behind: only the counter moves. */
        ck_assert_uint_eq(h >> 16, before >> 16);
        prev = h;
    }
    uint64_t next;
    ck_assert_int_eq(capture_clock_next(db, &next, &err), SWLOG_OK);
    ck_assert_uint_gt(next, prev);
    /* Clock repaired: the HLC rejoins the wall clock. */
    ck_assert_int_eq(capture_clock_set_offset(db, 0, &err), SWLOG_OK);
    nanosleep(&(struct timespec){0, 2000000}, NULL);
    uint64_t h = write_one();
    ck_assert_uint_gt(h >> 16, before >> 16);
    ck_assert_uint_eq(h & 0xffff, 0);
}
END_TEST

START_TEST(hlc_moves_past_a_received_clock)
{
    swlog_error err = {0};
    uint64_t now = write_one();
    uint64_t remote = now + ((uint64_t)YEAR_MS << 16);
    ck_assert_int_eq(capture_clock_observe(db, remote, &err), SWLOG_OK);
    ck_assert_uint_gt(write_one(), remote);
    /* Observing an older clock changes nothing. */
    uint64_t last;
    ck_assert_int_eq(capture_clock_last(db, &last, &err), SWLOG_OK);
    ck_assert_int_eq(capture_clock_observe(db, now, &err), SWLOG_OK);
    uint64_t again;
    ck_assert_int_eq(capture_clock_last(db, &again, &err), SWLOG_OK);
    ck_assert_uint_eq(again, last);
}
END_TEST

START_TEST(update_carries_the_replaced_values_hlc_across_restarts)
{
    uint64_t born = write_one();
    reopen();
    ck_assert_int_eq(sqlite3_exec(db,
                                  "UPDATE org_units SET name = 'T' WHERE id = "
                                  "'0190a1b2-0000-7000-8000-000000000000' OR "
                                  "rowid = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT rep ->> '$[2]' FROM "
                                            "_sw_outbox WHERE kind = 2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_uint_eq((uint64_t)sqlite3_column_int64(st, 0), born);
    sqlite3_finalize(st);
}
END_TEST

Suite *hlc_suite(void)
{
    Suite *s = suite_create("hlc");
    TCase *tc = tcase_create("hlc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, hlc_follows_the_wall_clock_to_the_millisecond);
    tcase_add_test(tc, hlc_strictly_increases_within_a_millisecond);
    tcase_add_test(tc, hlc_is_monotonic_across_reopening);
    tcase_add_test(tc, hlc_survives_the_clock_set_back_a_year);
    tcase_add_test(tc, hlc_moves_past_a_received_clock);
    tcase_add_test(tc, update_carries_the_replaced_values_hlc_across_restarts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(hlc_suite()); }
