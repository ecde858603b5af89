/* Change capture (agent/capture.c): what the triggers record for inserts,
 * updates and deletes made by any connection, the operator, sealing marks,
 * and migration of a populated replica. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "merge.h"
#include "mergeutil.h"
#include "replica.h"
#include "testutil.h"

#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

static char path[512];
static replica *rep;
static sqlite3 *db;

static void setup(void)
{
    static int n;
    swlog_error err = {0};
    snprintf(path, sizeof path, "%s/capture-%d-%d.db", test_tmpdir(),
             (int)getpid(), n++);
    ck_assert_msg(replica_open(path, &rep, &err) == SWLOG_OK, "%s", err.msg);
    db = replica_db(rep);
}

static void teardown(void)
{
    replica_close(rep);
    rep = NULL;
}

static void sql(sqlite3 *d, const char *q)
{
    char *msg = NULL;
    int rc = sqlite3_exec(d, q, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", q, msg ? msg : "");
}

/* Captured entries, copied out of capture_scan. */
typedef struct entry {
    uint64_t hlc, replaced;
    char table[32], row_id[40], op[64];
    int kind;
    unsigned sv;
    size_t nvalues;
    char cols[32][32];
    char vals[32][64];
    int types[32];
    uint64_t rep[32];
} entry;

typedef struct seen {
    size_t n;
    entry e[64];
} seen;

static int collect(const capture_entry *e, void *ctx)
{
    seen *s = ctx;
    ck_assert_uint_lt(s->n, 64);
    entry *x = &s->e[s->n++];
    x->hlc = e->hlc;
    x->replaced = e->replaced_hlc;
    x->kind = e->kind;
    x->sv = e->schema_version;
    snprintf(x->table, sizeof x->table, "%s", e->table);
    snprintf(x->row_id, sizeof x->row_id, "%s", e->row_id);
    snprintf(x->op, sizeof x->op, "%s", e->operator_);
    x->nvalues = e->nvalues;
    for (size_t i = 0; i < e->nvalues && i < 32; i++) {
        const unsigned char *t = sqlite3_value_text(e->values[i].value);
        snprintf(x->cols[i], sizeof x->cols[i], "%s", e->values[i].column);
        snprintf(x->vals[i], sizeof x->vals[i], "%s",
                 t != NULL ? (const char *)t : "(null)");
        x->types[i] = sqlite3_value_type(e->values[i].value);
        x->rep[i] = e->values[i].replaced_hlc;
    }
    return 0;
}

static void scan_from(sqlite3 *d, const schema_model *m, seen *s)
{
    swlog_error err = {0};
    memset(s, 0, sizeof *s);
    ck_assert_msg(capture_scan(d, m, 0, 0, collect, s, &err) == SWLOG_OK,
                  "%s", err.msg);
}

static void scan(seen *s) { scan_from(db, schema_current(), s); }

static const char *value_of(const seen *s, size_t i, const char *col)
{
    for (size_t k = 0; k < s->e[i].nvalues; k++)
        if (strcmp(s->e[i].cols[k], col) == 0)
            return s->e[i].vals[k];
    return NULL;
}

static void insert_client(sqlite3 *d, const char *id, const char *name)
{
    char *q = sqlite3_mprintf(
        "INSERT INTO clients(id, owner_unit_id, name, gender, birth_date, "
        "id_type, village_code, birth_estimated) VALUES(%Q, '" OWNER "', %Q, "
        "'female', '1950-03-07', 'none', '440983102001', 0)",
        id, name);
    sql(d, q);
    sqlite3_free(q);
}

#define ID1 "0190a1b2-0000-7000-8000-000000000001"
#define ID2 "0190a1b2-0000-7000-8000-000000000002"

START_TEST(insert_is_one_entry_with_its_non_null_columns)
{
    seen s;
    insert_client(db, ID1, "Li Hua");
    scan(&s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_int_eq(s.e[0].kind, CAPTURE_INSERT);
    ck_assert_str_eq(s.e[0].table, "clients");
    ck_assert_str_eq(s.e[0].row_id, ID1);
    ck_assert_uint_eq(s.e[0].sv, SCHEMA_VERSION);
    ck_assert_str_eq(s.e[0].op, CAPTURE_DEFAULT_OPERATOR);
    /* owner, name, gender, birth_date, birth_estimated, id_type, village */
    ck_assert_uint_eq(s.e[0].nvalues, 7);
    ck_assert_str_eq(value_of(&s, 0, "name"), "Li Hua");
    ck_assert_ptr_null(value_of(&s, 0, "phone"));
    /* Typed values survive: an INTEGER column captures an integer. */
    for (size_t k = 0; k < s.e[0].nvalues; k++) {
        if (strcmp(s.e[0].cols[k], "birth_estimated") == 0)
            ck_assert_int_eq(s.e[0].types[k], SQLITE_INTEGER);
        ck_assert_uint_eq(s.e[0].rep[k], 0);
    }
}
END_TEST

START_TEST(update_captures_only_changed_columns_with_replaced_hlc)
{
    seen s;
    insert_client(db, ID1, "Li Hua");
    sql(db, "UPDATE clients SET name = 'Li Hong', gender = 'female', "
            "phone = NULL WHERE id = '" ID1 "'");
    scan(&s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_int_eq(s.e[1].kind, CAPTURE_UPDATE);
    ck_assert_uint_eq(s.e[1].nvalues, 1);
    ck_assert_str_eq(s.e[1].cols[0], "name");
    ck_assert_str_eq(s.e[1].vals[0], "Li Hong");
    ck_assert_uint_eq(s.e[1].rep[0], s.e[0].hlc);
    ck_assert_uint_gt(s.e[1].hlc, s.e[0].hlc);

    /* A second update replaces the first update's value, not the insert's. */
    sql(db, "UPDATE clients SET name = 'Li Hu', phone = '+8613812345678' "
            "WHERE id = '" ID1 "'");
    scan(&s);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_uint_eq(s.e[2].nvalues, 2);
    ck_assert_str_eq(s.e[2].cols[0], "name");
    ck_assert_uint_eq(s.e[2].rep[0], s.e[1].hlc);
    ck_assert_str_eq(s.e[2].cols[1], "phone");
    ck_assert_uint_eq(s.e[2].rep[1], s.e[0].hlc);

    uint64_t v;
    swlog_error err = {0};
    ck_assert_int_eq(capture_column_version(db, "clients", ID1, "phone", &v,
                                            &err),
                     SWLOG_OK);
    ck_assert_uint_eq(v, s.e[2].hlc);
    ck_assert_int_eq(capture_column_version(db, "clients", ID1, "gender", &v,
                                            &err),
                     SWLOG_OK);
    ck_assert_uint_eq(v, s.e[0].hlc);
}
END_TEST

/* A row written before capture existed (or by a migration step) has no
 * version row: its first captured update must still become the replaced
 * version of the next one. */
START_TEST(rows_from_before_capture_keep_their_versions)
{
    swlog_error err = {0};
    ck_assert_int_eq(capture_remove_triggers(db, &err), SWLOG_OK);
    insert_client(db, ID1, "Li Hua");
    ck_assert_int_eq(capture_install(db, schema_current(), &err), SWLOG_OK);
    sql(db, "UPDATE clients SET name = 'Li Hong' WHERE id = '" ID1 "'");
    sql(db, "UPDATE clients SET name = 'Li Hu' WHERE id = '" ID1 "'");
    seen s;
    scan(&s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.e[1].cols[0], "name");
    ck_assert_uint_eq(s.e[1].rep[0], s.e[0].hlc);
}
END_TEST

START_TEST(setting_a_column_to_null_is_captured_as_null)
{
    seen s;
    insert_client(db, ID1, "Li Hua");
    sql(db, "UPDATE clients SET birth_estimated = NULL WHERE id = '" ID1 "'");
    scan(&s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_uint_eq(s.e[1].nvalues, 1);
    ck_assert_str_eq(s.e[1].cols[0], "birth_estimated");
    ck_assert_int_eq(s.e[1].types[0], SQLITE_NULL);
}
END_TEST

START_TEST(unchanged_update_captures_nothing)
{
    seen s;
    insert_client(db, ID1, "Li Hua");
    sql(db, "UPDATE clients SET name = 'Li Hua', gender = gender, "
            "phone = NULL WHERE id = '" ID1 "'");
    sql(db, "UPDATE clients SET name = name");
    scan(&s);
    ck_assert_uint_eq(s.n, 1);
}
END_TEST

START_TEST(multi_row_update_is_one_entry_per_row)
{
    seen s;
    insert_client(db, ID1, "A");
    insert_client(db, ID2, "B");
    sql(db, "UPDATE clients SET hukou = 'rural'");
    scan(&s);
    ck_assert_uint_eq(s.n, 4);
    ck_assert_uint_lt(s.e[2].hlc, s.e[3].hlc);
    ck_assert_str_ne(s.e[2].row_id, s.e[3].row_id);
}
END_TEST

START_TEST(delete_is_captured_with_the_newest_version)
{
    seen s;
    insert_client(db, ID1, "A");
    sql(db, "UPDATE clients SET name = 'B' WHERE id = '" ID1 "'");
    sql(db, "DELETE FROM clients WHERE id = '" ID1 "'");
    scan(&s);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_int_eq(s.e[2].kind, CAPTURE_DELETE);
    ck_assert_uint_eq(s.e[2].nvalues, 0);
    ck_assert_uint_eq(s.e[2].replaced, s.e[1].hlc);
    ck_assert_str_eq(s.e[2].row_id, ID1);
}
END_TEST

START_TEST(replace_is_a_delete_and_an_insert)
{
    seen s;
    insert_client(db, ID1, "A");
    sql(db, "UPDATE clients SET phone = '+8613812345678', phone_owner = "
            "'self' WHERE id = '" ID1 "'");
    sql(db, "INSERT OR REPLACE INTO clients(id, owner_unit_id, name, gender, "
            "birth_date, id_type, village_code) VALUES('" ID1 "', '" OWNER
            "', 'B', 'male', '1950-03-07', 'none', '440983102001')");
    scan(&s);
    ck_assert_uint_eq(s.n, 4);
    ck_assert_int_eq(s.e[2].kind, CAPTURE_DELETE);
    ck_assert_uint_eq(s.e[2].replaced, s.e[1].hlc);
    ck_assert_int_eq(s.e[3].kind, CAPTURE_INSERT);
    ck_assert_ptr_null(value_of(&s, 3, "phone"));
}
END_TEST

START_TEST(row_ids_never_change)
{
    seen s;
    insert_client(db, ID1, "A");
    ck_assert_int_ne(sqlite3_exec(db,
                                  "UPDATE clients SET id = '" ID2 "' WHERE "
                                  "id = '" ID1 "'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_ptr_nonnull(strstr(sqlite3_errmsg(db), "clients.id"));
    scan(&s);
    ck_assert_uint_eq(s.n, 1);
}
END_TEST

START_TEST(operator_is_recorded_per_handle_and_defaults_elsewhere)
{
    seen s;
    swlog_error err = {0};
    ck_assert_int_eq(replica_set_operator(rep, "wang.fang", &err), SWLOG_OK);
    ck_assert_int_eq(replica_begin(rep, &err), SWLOG_OK);
    insert_client(db, ID1, "A");
    ck_assert_int_eq(replica_commit(rep, &err), SWLOG_OK);
    /* A write outside replica_begin/commit, on the same connection. */
    insert_client(db, ID2, "B");
    /* A rolled-back transaction leaves nothing, operator included. */
    ck_assert_int_eq(replica_begin(rep, &err), SWLOG_OK);
    sql(db, "UPDATE clients SET name = 'C'");
    replica_rollback(rep);
    scan(&s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.e[0].op, "wang.fang");
    ck_assert_str_eq(s.e[1].op, CAPTURE_DEFAULT_OPERATOR);
    ck_assert_int_eq(replica_set_operator(rep, "", &err), SWLOG_EARG);
}
END_TEST

START_TEST(writes_of_another_connection_are_captured)
{
    seen s;
    sqlite3 *other;
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    sqlite3_busy_timeout(other, 5000);
    insert_client(other, ID1, "A");
    sql(other, "UPDATE clients SET name = 'B'");
    sql(other, "DELETE FROM clients");
    sqlite3_close(other);
    scan(&s);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_int_eq(s.e[0].kind, CAPTURE_INSERT);
    ck_assert_int_eq(s.e[1].kind, CAPTURE_UPDATE);
    ck_assert_int_eq(s.e[2].kind, CAPTURE_DELETE);
}
END_TEST

/* The real sqlite3 shell: no application function, no agent code. */
START_TEST(writes_of_the_sqlite3_shell_are_captured)
{
    if (system("command -v sqlite3 >/dev/null 2>&1") != 0) {
        /* CI installs the shell (./run): there a missing one is a failure,
         * not a reason to test less. */
        ck_assert_msg(getenv("CI") == NULL,
                      "no sqlite3 binary under CI: ./run installs sqlite3");
        fprintf(stderr, "check_capture: SKIP sqlite3 shell test: no sqlite3 "
                        "binary (install the Debian package sqlite3)\n");
        return;
    }
    seen s;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' \"INSERT INTO staff(id, owner_unit_id, name, "
             "gender, id_type, role, employment, start_date) VALUES('" ID1
             "', '" OWNER "', 'Zhao', 'male', 'none', 'social_worker', "
             "'direct_hire', '2024-01-02'); UPDATE staff SET role = "
             "'station_head'; UPDATE staff SET role = 'station_head';\"",
             path);
    ck_assert_int_eq(system(cmd), 0);
    scan(&s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.e[0].table, "staff");
    ck_assert_int_eq(s.e[0].kind, CAPTURE_INSERT);
    ck_assert_str_eq(s.e[0].op, CAPTURE_DEFAULT_OPERATOR);
    ck_assert_uint_eq(s.e[1].nvalues, 1);
    ck_assert_str_eq(s.e[1].vals[0], "station_head");
    ck_assert_uint_gt(s.e[0].hlc >> 16, 1700000000000ull);
}
END_TEST

START_TEST(sealing_marks_and_prunes_in_order)
{
    seen s;
    uint64_t n, upto;
    swlog_error err = {0};
    insert_client(db, ID1, "A");
    insert_client(db, ID2, "B");
    scan(&s);
    ck_assert_int_eq(capture_pending(db, &n, &err), SWLOG_OK);
    ck_assert_uint_eq(n, 2);
    sql(db, "BEGIN");
    ck_assert_int_eq(capture_mark_sealed(db, s.e[0].hlc, &err), SWLOG_OK);
    sql(db, "COMMIT");
    ck_assert_int_eq(capture_pending(db, &n, &err), SWLOG_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(capture_sealed_upto(db, &upto, &err), SWLOG_OK);
    ck_assert_uint_eq(upto, s.e[0].hlc);
    uint64_t first = s.e[0].hlc, second = s.e[1].hlc;
    scan(&s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(s.e[0].hlc, second);
    ck_assert_int_eq(capture_prune(db, &err), SWLOG_OK);
    ck_assert_int_eq(sqlite3_exec(db, "SELECT 1", NULL, NULL, NULL), SQLITE_OK);
    /* The cursor never moves back. */
    ck_assert_int_eq(capture_mark_sealed(db, first - 1, &err), SWLOG_OK);
    ck_assert_int_eq(capture_sealed_upto(db, &upto, &err), SWLOG_OK);
    ck_assert_uint_eq(upto, first);
}
END_TEST

/* A synthetic version 2: clients gains `nickname`, and a new table. */
static schema_column v2_clients[64];
static const schema_column v2_notes_cols[] = {
    {.name = "owner_unit_id", .presence = SCHEMA_REQUIRED,
     .rule = SCHEMA_R_UUID, .ref = "org_units", .since = 2},
    {.name = "body", .since = 2},
};
static schema_table v2_tables[64];
static schema_model v2;
static int v2_step_ran;

static int v2_step(sqlite3 *d, swlog_error *err)
{
    (void)err;
    v2_step_ran++;
    return sqlite3_exec(d, "UPDATE clients SET nickname = 'n/a' WHERE "
                           "nickname IS NULL",
                        NULL, NULL, NULL) == SQLITE_OK
               ? SWLOG_OK
               : SWLOG_EIO;
}

static void build_v2(void)
{
    const schema_model *m = schema_current();
    v2 = *m;
    v2.version = 2;
    memcpy(v2_tables, m->tables, m->ntables * sizeof *m->tables);
    const schema_table *c = schema_find(m, "clients");
    size_t ci = (size_t)(c - m->tables);
    memcpy(v2_clients, c->columns, c->ncolumns * sizeof *c->columns);
    v2_clients[c->ncolumns] =
        (schema_column){.name = "nickname", .sens = SCHEMA_PERSONAL,
                        .since = 2};
    v2_tables[ci].columns = v2_clients;
    v2_tables[ci].ncolumns = c->ncolumns + 1;
    v2_tables[m->ntables] = (schema_table){"client_notes", "备注",
                                           v2_notes_cols, 2, NULL, 0, 2};
    v2.tables = v2_tables;
    v2.ntables = m->ntables + 1;
}

START_TEST(populated_replica_migrates_forward_in_place)
{
    seen s;
    swlog_error err = {0};
    insert_client(db, ID1, "A");
    sql(db, "UPDATE clients SET name = 'B'");
    replica_close(rep);

    build_v2();
    const replica_migration steps[] = {{2, v2_step}};
    ck_assert_msg(replica_open_model(path, &v2, steps, 1, &rep, &err) ==
                      SWLOG_OK,
                  "%s", err.msg);
    db = replica_db(rep);
    unsigned v;
    ck_assert_int_eq(replica_schema_version(db, &v, &err), SWLOG_OK);
    ck_assert_uint_eq(v, 2);
    ck_assert_int_eq(v2_step_ran, 1);

    /* The row kept its values; the outbox kept its v1 entries. */
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT name, nickname FROM "
                                            "clients",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "B");
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 1), "n/a");
    sqlite3_finalize(st);

    /* The step's own write is not captured (every replica runs it); writes
     * to the new column and the new table are, under the new version. */
    sql(db, "UPDATE clients SET nickname = 'Xiao Li'");
    sql(db, "INSERT INTO client_notes(id, owner_unit_id, body) VALUES('" ID2
            "', '" OWNER "', 'hello')");
    scan_from(db, &v2, &s);
    ck_assert_uint_eq(s.n, 4);
    ck_assert_uint_eq(s.e[0].sv, 1);
    ck_assert_uint_eq(s.e[1].sv, 1);
    ck_assert_uint_eq(s.e[2].sv, 2);
    ck_assert_uint_eq(s.e[2].nvalues, 1);
    ck_assert_str_eq(s.e[2].cols[0], "nickname");
    ck_assert_str_eq(s.e[2].vals[0], "Xiao Li");
    /* A column added by a migration counts as born with its row. */
    ck_assert_uint_eq(s.e[2].rep[0], s.e[0].hlc);
    ck_assert_str_eq(s.e[3].table, "client_notes");
    ck_assert_uint_gt(s.e[2].hlc, s.e[1].hlc);

    /* Reopening with the older model is refused, nothing changed. */
    replica_close(rep);
    replica *old = NULL;
    swlog_error e2 = {0};
    ck_assert_int_eq(replica_open(path, &old, &e2), SWLOG_EVERSION);
    ck_assert_ptr_nonnull(strstr(e2.msg, "version 2"));
    ck_assert_int_eq(replica_open_model(path, &v2, steps, 1, &rep, &err),
                     SWLOG_OK);
    db = replica_db(rep);
    ck_assert_int_eq(v2_step_ran, 1);
}
END_TEST

static long long one_int(sqlite3 *d, const char *q)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(d, q, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void merge_in(const mu_cs *c)
{
    swlog_error err = {0};
    ck_assert_int_eq(replica_begin(rep, &err), SWLOG_OK);
    ck_assert_msg(merge_changeset(rep, &c->f, NULL, &err) == SWLOG_OK, "%s",
                  err.msg);
    /* Back to 0 before the merge returns, inside the transaction. */
    ck_assert_int_eq(one_int(db, "SELECT merging FROM _sw_state"), 0);
    ck_assert_int_eq(replica_commit(rep, &err), SWLOG_OK);
}

/* MERGE §8.1: merged writes skip capture (no outbox entry), tick the clock
 * once per row written as the triggers did, leave the flag 0, and a later
 * direct write is captured with the merged version as the one replaced. */
START_TEST(merged_writes_skip_capture_and_tick_the_clock)
{
    swlog_error err = {0};
    seen s;
    insert_client(db, ID1, "Local");
    uint64_t last0 = 0, clock = 0, v = 0;
    ck_assert_int_eq(capture_clock_last(db, &last0, &err), SWLOG_OK);
    /* The wall clock a day behind: the clock then moves only by ticks,
     * and the merged HLCs (after last0) win over the local write. */
    ck_assert_int_eq(capture_clock_set_offset(db, -86400000, &err), 0);
    uint64_t b = last0 + 100;
    mu_cs c1, c2, c3;
    mu_begin();
    mu_upsert("clients", ID2, b + 1); /* insert: 1 tick */
    mu_text("owner_unit_id", 0, OWNER);
    mu_text("name", 0, "Merged");
    mu_upsert("clients", ID1, b + 2); /* update, value changes: 1 tick */
    mu_text("name", 0, "Renamed");
    mu_seal(&c1, 1, 1, NULL, b + 3, 1);
    merge_in(&c1);
    ck_assert_int_eq(capture_clock_last(db, &clock, &err), SWLOG_OK);
    ck_assert_uint_eq(clock, last0 + 2);

    mu_begin();
    mu_upsert("clients", ID1, b + 10); /* same value, newer: no tick */
    mu_text("name", 0, "Renamed");
    mu_delete("clients", ID2, b + 11, b + 1); /* delete: 1 tick */
    mu_seal(&c2, 1, 2, c1.f.id, b + 12, 1);
    merge_in(&c2);
    ck_assert_int_eq(capture_clock_last(db, &clock, &err), SWLOG_OK);
    ck_assert_uint_eq(clock, last0 + 3);

    /* Nothing merged reached the outbox; the version rows are the merge's. */
    scan(&s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.e[0].row_id, ID1);
    ck_assert_int_eq(s.e[0].kind, CAPTURE_INSERT);
    ck_assert_int_eq(capture_column_version(db, "clients", ID1, "name", &v,
                                            &err),
                     SWLOG_OK);
    ck_assert_uint_eq(v, b + 10);
    ck_assert_int_eq(one_int(db, "SELECT _dead FROM _sw_v_clients WHERE "
                                 "id = '" ID2 "'"),
                     (long long)(b + 11));
    ck_assert_int_eq(one_int(db, "SELECT count(*) FROM clients"), 1);

    /* A direct write after the merge is captured, replacing b + 10. */
    sql(db, "UPDATE clients SET name = 'Direct' WHERE id = '" ID1 "'");
    scan(&s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_int_eq(s.e[1].kind, CAPTURE_UPDATE);
    ck_assert_str_eq(s.e[1].vals[0], "Direct");
    ck_assert_uint_eq(s.e[1].rep[0], b + 10);
    ck_assert_uint_eq(s.e[1].hlc, last0 + 4);

    /* A merge rolled back leaves the flag 0 and nothing of its writes. */
    mu_begin();
    mu_upsert("clients", ID2, b + 20);
    mu_text("name", 0, "Gone");
    mu_seal(&c3, 1, 3, c2.f.id, b + 21, 1);
    ck_assert_int_eq(replica_begin(rep, &err), SWLOG_OK);
    ck_assert_int_eq(merge_changeset(rep, &c3.f, NULL, &err), SWLOG_OK);
    replica_rollback(rep);
    ck_assert_int_eq(one_int(db, "SELECT merging FROM _sw_state"), 0);
    ck_assert_int_eq(one_int(db, "SELECT count(*) FROM clients"), 1);
    sql(db, "DELETE FROM clients");
    scan(&s);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_int_eq(s.e[2].kind, CAPTURE_DELETE);
    mu_free(&c1);
    mu_free(&c2);
    mu_free(&c3);
}
END_TEST

/* A replica of engine version 1 (triggers without the merge flag, no
 * _sw_state.merging, no engine_version) gets the new triggers on open, in
 * place; a replica of a newer engine is refused. */
START_TEST(engine_v1_replica_is_upgraded_in_place)
{
    swlog_error err = {0};
    seen s;
    insert_client(db, ID1, "Before");
    swlog_error e2 = {0};
    ck_assert_int_eq(capture_remove_triggers(db, &e2), SWLOG_OK);
    sql(db, "ALTER TABLE _sw_state DROP COLUMN merging;"
            "DELETE FROM _sw_meta WHERE key = 'engine_version';"
            "CREATE TRIGGER _sw_ins_clients AFTER INSERT ON clients BEGIN "
            "UPDATE _sw_state SET last = last + 1; INSERT INTO "
            "_sw_outbox(hlc, sv, tbl, row_id, kind) SELECT last, 1, "
            "'clients', NEW.id, 1 FROM _sw_state; END;");
    replica_close(rep);
    ck_assert_msg(replica_open(path, &rep, &err) == SWLOG_OK, "%s", err.msg);
    db = replica_db(rep);
    ck_assert_int_eq(one_int(db, "SELECT value FROM _sw_meta WHERE key = "
                                 "'engine_version'"),
                     CAPTURE_ENGINE_VERSION);
    ck_assert_int_eq(one_int(db, "SELECT value FROM _sw_meta WHERE key = "
                                 "'schema_version'"),
                     1);
    ck_assert_int_eq(one_int(db, "SELECT merging FROM _sw_state"), 0);
    ck_assert_int_eq(one_int(db, "SELECT count(*) FROM sqlite_master WHERE "
                                 "type = 'trigger' AND name GLOB '_sw_*' "
                                 "AND sql LIKE '%merging%'"),
                     3 * (long long)schema_current()->ntables);
    /* Rows and outbox kept; capture complete again (update, delete). */
    insert_client(db, ID2, "After");
    sql(db, "UPDATE clients SET name = 'Later' WHERE id = '" ID1 "'");
    scan(&s);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_str_eq(s.e[0].row_id, ID1);
    ck_assert_str_eq(s.e[1].row_id, ID2);
    ck_assert_uint_eq(s.e[1].nvalues, 7);
    ck_assert_int_eq(s.e[2].kind, CAPTURE_UPDATE);

    sql(db, "UPDATE _sw_meta SET value = 99 WHERE key = 'engine_version'");
    replica_close(rep);
    ck_assert_int_eq(replica_open(path, &rep, &err), SWLOG_EVERSION);
    ck_assert_ptr_nonnull(strstr(err.msg, "engine"));
    sqlite3 *d;
    ck_assert_int_eq(sqlite3_open(path, &d), SQLITE_OK);
    sql(d, "UPDATE _sw_meta SET value = 2 WHERE key = 'engine_version'");
    sqlite3_close(d);
    ck_assert_msg(replica_open(path, &rep, &err) == SWLOG_OK, "%s", err.msg);
    db = replica_db(rep);
}
END_TEST

START_TEST(uuid7_has_version_variant_and_time)
{
    uint8_t a[16], b[16];
    char text[37];
    replica_uuid7(a);
    replica_uuid7(b);
    ck_assert_int_eq(a[6] >> 4, 7);
    ck_assert_int_eq(a[8] >> 6, 2);
    ck_assert_mem_ne(a, b, 16);
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | a[i];
    ck_assert_uint_gt(ms, 1700000000000ull);
    replica_uuid7_text(text);
    ck_assert_uint_eq(strlen(text), 36);
    ck_assert_int_eq(text[14], '7');
    ck_assert_ptr_nonnull(strchr("89ab", text[19]));
}
END_TEST

Suite *capture_suite(void)
{
    Suite *s = suite_create("capture");
    TCase *tc = tcase_create("capture");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, insert_is_one_entry_with_its_non_null_columns);
    tcase_add_test(tc, update_captures_only_changed_columns_with_replaced_hlc);
    tcase_add_test(tc, rows_from_before_capture_keep_their_versions);
    tcase_add_test(tc, setting_a_column_to_null_is_captured_as_null);
    tcase_add_test(tc, unchanged_update_captures_nothing);
    tcase_add_test(tc, multi_row_update_is_one_entry_per_row);
    tcase_add_test(tc, delete_is_captured_with_the_newest_version);
    tcase_add_test(tc, replace_is_a_delete_and_an_insert);
    tcase_add_test(tc, row_ids_never_change);
    tcase_add_test(tc, operator_is_recorded_per_handle_and_defaults_elsewhere);
    tcase_add_test(tc, writes_of_another_connection_are_captured);
    tcase_add_test(tc, writes_of_the_sqlite3_shell_are_captured);
    tcase_add_test(tc, sealing_marks_and_prunes_in_order);
    tcase_add_test(tc, populated_replica_migrates_forward_in_place);
    tcase_add_test(tc, merged_writes_skip_capture_and_tick_the_clock);
    tcase_add_test(tc, engine_v1_replica_is_upgraded_in_place);
    tcase_add_test(tc, uuid7_has_version_variant_and_time);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(capture_suite()); }
