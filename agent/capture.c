/* Change capture: outbox, clock and version tables, and the triggers that
 * fill them, generated from the schema declaration (agent/README.md). */
#include "capture.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* SQLite's printf has no %zu (its %z frees the argument): cast to int. */

/* The engine's own tables. Not STRICT: the value columns hold whatever
 * type the replicated column held, so FORMAT §5.4 types survive as they
 * are. The outbox's INTEGER PRIMARY KEY is the HLC, so capture order and
 * key are one b-tree and a capture is one append. */
static const char base_sql[] =
    "CREATE TABLE IF NOT EXISTS _sw_state("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " last INTEGER NOT NULL,"        /* the clock: newest HLC issued */
    " offset_ms INTEGER NOT NULL,"   /* tests only: wall clock shift */
    " operator TEXT,"                /* set inside replica transactions */
    " sealed_upto INTEGER NOT NULL," /* outbox entries <= this are sealed */
    " default_operator TEXT NOT NULL,"
    " merging INTEGER NOT NULL DEFAULT 0);" /* 1 only inside a merge */
    "INSERT OR IGNORE INTO _sw_state(id, last, offset_ms, operator,"
    " sealed_upto, default_operator) VALUES(1, 0, 0, NULL, 0, '"
    CAPTURE_DEFAULT_OPERATOR "');"
    "CREATE TABLE IF NOT EXISTS _sw_outbox("
    " hlc INTEGER PRIMARY KEY,"
    " sv INTEGER NOT NULL,"
    " tbl TEXT NOT NULL,"
    " row_id TEXT NOT NULL,"
    " kind INTEGER NOT NULL,"
    " operator TEXT,"
    " mask INTEGER," /* updates: bit i = column i changed */
    " rep);";        /* updates: JSON array of replaced HLCs; deletes: HLC */

/* The clock is the one-row _sw_state (README §Clock): each capture first
 * advances it past its last value and to at least the wall clock, then
 * reads it. julianday('now') is SQLite's integer-millisecond clock divided
 * by 86400000; round() undoes the division exactly (its error is ~40 µs at
 * today's dates). 'now' is fixed for one statement, so a multi-row UPDATE
 * relies on the +1. Measured (bench_capture): reading max(hlc) of the outbox
 * instead of keeping the row costs more than the row's update. */
#define WALL_HLC CAPTURE_WALL_HLC
#define TICK "UPDATE _sw_state SET last = max(last + 1, " WALL_HLC "); "
#define LAST_HLC "(SELECT last FROM _sw_state)"
/* README §Merged writes: every capture trigger's condition. The merge sets
 * _sw_state.merging to 1 and back to 0 inside its caller's transaction, so
 * no other connection ever reads 1, and a rollback or a crash leaves 0. */
#define NOT_MERGING "(SELECT merging FROM _sw_state) = 0"

static void value_columns(sqlite3_str *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sqlite3_str_appendf(s, ", v%d", (int)i);
}

static void drop_triggers(sqlite3_str *s, const schema_table *t)
{
    static const char *const kinds[] = {"ins", "upd", "del", "id"};
    for (size_t k = 0; k < 4; k++)
        sqlite3_str_appendf(s, "DROP TRIGGER IF EXISTS \"_sw_%s_%w\";\n",
                            kinds[k], t->name);
}

/* AFTER INSERT: every column is copied; NULLs are simply not captured
 * (capture_scan skips them), which saves a mask computation per insert.
 * Every column's version is the row's birth HLC (_born) until it changes. */
static void insert_trigger(sqlite3_str *s, const schema_table *t,
                           unsigned version)
{
    sqlite3_str_appendf(s,
                        "CREATE TRIGGER \"_sw_ins_%w\" AFTER INSERT ON \"%w\" "
                        "WHEN " NOT_MERGING " BEGIN " TICK
                        "INSERT INTO _sw_outbox(hlc, sv, tbl, row_id, kind, "
                        "operator",
                        t->name, t->name);
    value_columns(s, t->ncolumns);
    sqlite3_str_appendf(s, ") SELECT s.last, %u, '%q', NEW.id, %d, s.operator",
                        version, t->name, CAPTURE_INSERT);
    for (size_t i = 0; i < t->ncolumns; i++)
        sqlite3_str_appendf(s, ", NEW.\"%w\"", t->columns[i].name);
    sqlite3_str_appendf(s,
                        " FROM _sw_state s; "
                        "INSERT OR REPLACE INTO \"_sw_v_%w\"(id, _born) "
                        "VALUES(NEW.id, " LAST_HLC "); END;\n",
                        t->name);
}

static void changed(sqlite3_str *s, const schema_column *c)
{
    sqlite3_str_appendf(s, "OLD.\"%w\" IS NOT NEW.\"%w\"", c->name, c->name);
}

/* AFTER UPDATE: only when some declared column changed (the WHEN clause),
 * and then only the changed columns, each with the HLC of the value it
 * replaces, read from the version row before it moves to the new HLC. A
 * row written before capture existed has no version row: its values'
 * versions read as NULL, which the outbox reader turns into 0 = none. */
static void update_trigger(sqlite3_str *s, const schema_table *t,
                           unsigned version)
{
    sqlite3_str_appendf(s, "CREATE TRIGGER \"_sw_upd_%w\" AFTER UPDATE ON "
                           "\"%w\" WHEN " NOT_MERGING " AND (",
                        t->name, t->name);
    for (size_t i = 0; i < t->ncolumns; i++) {
        if (i > 0)
            sqlite3_str_appendall(s, " OR ");
        changed(s, &t->columns[i]);
    }
    sqlite3_str_appendall(s, ") BEGIN " TICK "INSERT INTO _sw_outbox(hlc, sv, "
                             "tbl, row_id, kind, operator, mask, rep");
    value_columns(s, t->ncolumns);
    sqlite3_str_appendf(s, ") SELECT s.last, %u, '%q', NEW.id, %d, "
                           "s.operator, 0",
                        version, t->name, CAPTURE_UPDATE);
    for (size_t i = 0; i < t->ncolumns; i++) {
        /* SQLite gives | and << the same precedence: parenthesise. */
        sqlite3_str_appendall(s, " | ((");
        changed(s, &t->columns[i]);
        sqlite3_str_appendf(s, ") << %d)", (int)i);
    }
    sqlite3_str_appendall(s, ", json_array(");
    for (size_t i = 0; i < t->ncolumns; i++) {
        sqlite3_str_appendall(s, i > 0 ? ", CASE WHEN " : "CASE WHEN ");
        changed(s, &t->columns[i]);
        sqlite3_str_appendf(s, " THEN coalesce(v.\"%w\", v._born) END",
                            t->columns[i].name);
    }
    sqlite3_str_appendall(s, ")");
    for (size_t i = 0; i < t->ncolumns; i++) {
        sqlite3_str_appendall(s, ", CASE WHEN ");
        changed(s, &t->columns[i]);
        sqlite3_str_appendf(s, " THEN NEW.\"%w\" END", t->columns[i].name);
    }
    /* The version row: a row written before capture (or by a migration
     * step) has none yet, so the insert branch records the changed columns
     * too; else the next update would report "none" as replaced. */
    sqlite3_str_appendf(s,
                        " FROM _sw_state s LEFT JOIN \"_sw_v_%w\" v ON v.id = "
                        "NEW.id; INSERT INTO \"_sw_v_%w\"(id, _born",
                        t->name, t->name);
    for (size_t i = 0; i < t->ncolumns; i++)
        sqlite3_str_appendf(s, ", \"%w\"", t->columns[i].name);
    sqlite3_str_appendall(s, ") VALUES(NEW.id, 0");
    for (size_t i = 0; i < t->ncolumns; i++) {
        sqlite3_str_appendall(s, ", CASE WHEN ");
        changed(s, &t->columns[i]);
        sqlite3_str_appendall(s, " THEN " LAST_HLC " END");
    }
    sqlite3_str_appendall(s, ") ON CONFLICT(id) DO UPDATE SET ");
    for (size_t i = 0; i < t->ncolumns; i++) {
        const char *n = t->columns[i].name;
        sqlite3_str_appendf(s, i > 0 ? ", \"%w\" = CASE WHEN " : "\"%w\" = "
                                                                "CASE WHEN ",
                            n);
        changed(s, &t->columns[i]);
        sqlite3_str_appendf(s, " THEN " LAST_HLC " ELSE \"%w\" END", n);
    }
    sqlite3_str_appendall(s, "; END;\n");
}

/* AFTER DELETE: a delete carrying the newest version of the row it removes;
 * the version row stays as a tombstone (_dead). */
static void delete_trigger(sqlite3_str *s, const schema_table *t,
                           unsigned version)
{
    sqlite3_str_appendf(s,
                        "CREATE TRIGGER \"_sw_del_%w\" AFTER DELETE ON \"%w\" "
                        "WHEN " NOT_MERGING " BEGIN " TICK
                        "INSERT INTO _sw_outbox(hlc, sv, tbl, row_id, kind, "
                        "operator, rep) SELECT s.last, %u, "
                        "'%q', OLD.id, %d, s.operator, coalesce(max(0, "
                        "v._born",
                        t->name, t->name, version, t->name, CAPTURE_DELETE);
    for (size_t i = 0; i < t->ncolumns; i++)
        sqlite3_str_appendf(s, ", coalesce(v.\"%w\", 0)", t->columns[i].name);
    sqlite3_str_appendf(s,
                        "), 0) FROM _sw_state s LEFT JOIN \"_sw_v_%w\" v ON "
                        "v.id = OLD.id; INSERT INTO \"_sw_v_%w\"(id, _born, "
                        "_dead) VALUES(OLD.id, 0, " LAST_HLC ") ON "
                        "CONFLICT(id) DO UPDATE SET _dead = excluded._dead; "
                        "END;\n",
                        t->name, t->name);
}

/* SCHEMA §2.2: an id never changes. Refused rather than captured as a
 * delete and an insert, which would break every reference to the row. */
static void id_trigger(sqlite3_str *s, const schema_table *t)
{
    sqlite3_str_appendf(s,
                        "CREATE TRIGGER \"_sw_id_%w\" BEFORE UPDATE OF id ON "
                        "\"%w\" WHEN OLD.id IS NOT NEW.id BEGIN SELECT "
                        "RAISE(ABORT, '%q.id: a row id never changes "
                        "(SCHEMA 2.2)'); END;\n",
                        t->name, t->name, t->name);
}

static int outbox_width(sqlite3 *db, size_t *width, swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info("
                               "'_sw_outbox') WHERE name GLOB 'v[0-9]*'",
                           -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "outbox layout");
    int rc = sqlite3_step(st);
    *width = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? SWLOG_OK
                            : error_sqlite(err, db, "outbox layout");
}

/* Create a table's version row table, or append the columns it lacks (a
 * migration added them to the declaration). One statement per table when
 * new: every ALTER makes SQLite re-read the whole schema. */
static int version_table(sqlite3 *db, sqlite3_str *s, const schema_table *t,
                         swlog_error *err)
{
    char *sql = sqlite3_mprintf("SELECT name FROM pragma_table_info("
                                "'_sw_v_%q')",
                                t->name);
    sqlite3_stmt *st = NULL;
    int rc = sql != NULL ? sqlite3_prepare_v2(db, sql, -1, &st, NULL)
                         : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return error_sqlite(err, db, "reading a version table");
    unsigned char seen[SCHEMA_MAX_COLUMNS] = {0};
    int exists = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int i = name != NULL ? schema_column_index(t, name) : -1;
        exists = 1;
        if (i >= 0)
            seen[i] = 1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return error_sqlite(err, db, "reading a version table");
    /* One INTEGER per declared column: the HLC of its current value, NULL
     * while it is still the row's birth HLC (_born). Measured leaner than a
     * JSON map: no parsing on update, and a NULL costs one byte. */
    if (!exists) {
        sqlite3_str_appendf(s,
                            "CREATE TABLE \"_sw_v_%w\"(id TEXT PRIMARY KEY "
                            "NOT NULL, _born INTEGER NOT NULL, _dead INTEGER",
                            t->name);
        for (size_t i = 0; i < t->ncolumns; i++)
            sqlite3_str_appendf(s, ", \"%w\" INTEGER", t->columns[i].name);
        sqlite3_str_appendall(s, ") WITHOUT ROWID;\n");
        return SWLOG_OK;
    }
    for (size_t i = 0; i < t->ncolumns; i++)
        if (!seen[i])
            sqlite3_str_appendf(s, "ALTER TABLE \"_sw_v_%w\" ADD COLUMN "
                                   "\"%w\" INTEGER;\n",
                                t->name, t->columns[i].name);
    return SWLOG_OK;
}

/* A replica from before engine version 2 has no _sw_state.merging. */
static int merging_column(sqlite3 *db, int *have, swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info("
                               "'_sw_state') WHERE name = 'merging'",
                           -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "reading the clock table's layout");
    int rc = sqlite3_step(st);
    *have = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW
               ? SWLOG_OK
               : error_sqlite(err, db, "reading the clock table's layout");
}

int capture_install(sqlite3 *db, const schema_model *m, swlog_error *err)
{
    size_t have, want = schema_max_columns(m);
    int merging = 0;
    if (sqlite3_exec(db, base_sql, NULL, NULL, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "creating the outbox");
    int rc = outbox_width(db, &have, err);
    if (rc == SWLOG_OK)
        rc = merging_column(db, &merging, err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_str *s = sqlite3_str_new(db);
    if (!merging)
        sqlite3_str_appendall(s, "ALTER TABLE _sw_state ADD COLUMN merging "
                                 "INTEGER NOT NULL DEFAULT 0;\n");
    /* Columns are only appended (schema.h), so value positions never move
     * and entries captured under an older version stay readable. */
    for (size_t i = have; i < want; i++)
        sqlite3_str_appendf(s, "ALTER TABLE _sw_outbox ADD COLUMN v%d;\n",
                            (int)i);
    for (size_t i = 0; i < m->ntables; i++) {
        const schema_table *t = &m->tables[i];
        rc = version_table(db, s, t, err);
        if (rc != SWLOG_OK) {
            sqlite3_free(sqlite3_str_finish(s));
            return rc;
        }
        drop_triggers(s, t);
        insert_trigger(s, t, m->version);
        update_trigger(s, t, m->version);
        delete_trigger(s, t, m->version);
        id_trigger(s, t);
    }
    if (sqlite3_str_errcode(s) != SQLITE_OK) {
        sqlite3_free(sqlite3_str_finish(s));
        return error_set(err, SWLOG_ENOMEM, "building capture triggers");
    }
    char *sql = sqlite3_str_finish(s);
    rc = sqlite3_exec(db, sql != NULL ? sql : "", NULL, NULL, NULL);
    sqlite3_free(sql);
    return rc == SQLITE_OK ? SWLOG_OK
                           : error_sqlite(err, db, "creating capture triggers");
}

int capture_remove_triggers(sqlite3 *db, swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT group_concat(printf('DROP TRIGGER \"%w\";', "
                               "name), '') FROM sqlite_master WHERE type = "
                               "'trigger' AND name GLOB '_sw_*'",
                           -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "listing capture triggers");
    int rc = SWLOG_OK;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL &&
        sqlite3_exec(db, (const char *)sqlite3_column_text(st, 0), NULL, NULL,
                     NULL) != SQLITE_OK)
        rc = error_sqlite(err, db, "dropping capture triggers");
    sqlite3_finalize(st);
    return rc;
}

/* rep of an update: a JSON array of integers and nulls, one per column, as
 * json_array() wrote it. Anything else reads as "none". */
static uint64_t rep_at(const char *rep, size_t i)
{
    if (rep == NULL || *rep != '[')
        return 0;
    const char *p = rep + 1;
    for (size_t k = 0; k < i; k++) {
        p = strchr(p, ',');
        if (p == NULL)
            return 0;
        p++;
    }
    return strncmp(p, "null", 4) == 0 ? 0 : strtoull(p, NULL, 10);
}

static int scan_row(sqlite3_stmt *st, const schema_model *m, capture_fn fn,
                    void *ctx, capture_value *vals, swlog_error *err)
{
    capture_entry e = {0};
    e.hlc = (uint64_t)sqlite3_column_int64(st, 0);
    e.schema_version = (unsigned)sqlite3_column_int(st, 1);
    e.table = (const char *)sqlite3_column_text(st, 2);
    e.row_id = (const char *)sqlite3_column_text(st, 3);
    e.kind = sqlite3_column_int(st, 4);
    e.operator_ = (const char *)sqlite3_column_text(st, 5);
    uint64_t mask = (uint64_t)sqlite3_column_int64(st, 6);
    const char *rep = (const char *)sqlite3_column_text(st, 7);
    const schema_table *t = e.table != NULL ? schema_find(m, e.table) : NULL;
    if (t == NULL || e.row_id == NULL)
        return error_set(err, SWLOG_EINVAL,
                         "outbox entry %" PRIu64 ": undeclared table", e.hlc);
    if (e.kind == CAPTURE_DELETE)
        e.replaced_hlc = (uint64_t)sqlite3_column_int64(st, 7);
    for (size_t i = 0; e.kind != CAPTURE_DELETE && i < t->ncolumns; i++) {
        sqlite3_value *v = sqlite3_column_value(st, 9 + (int)i);
        int take = e.kind == CAPTURE_INSERT
                       ? sqlite3_value_type(v) != SQLITE_NULL
                       : (int)(mask >> i & 1u);
        if (!take)
            continue;
        vals[e.nvalues].column = t->columns[i].name;
        vals[e.nvalues].value = v;
        vals[e.nvalues].replaced_hlc =
            e.kind == CAPTURE_UPDATE ? rep_at(rep, i) : 0;
        e.nvalues++;
    }
    e.values = vals;
    return fn(&e, ctx);
}

int capture_scan(sqlite3 *db, const schema_model *m, uint64_t after,
                 size_t limit, capture_fn fn, void *ctx, swlog_error *err)
{
    size_t width = schema_max_columns(m);
    sqlite3_str *s = sqlite3_str_new(db);
    sqlite3_str_appendall(s, "SELECT o.hlc, o.sv, o.tbl, o.row_id, o.kind, "
                             "coalesce(o.operator, st.default_operator), "
                             "o.mask, o.rep, 0");
    for (size_t i = 0; i < width; i++)
        sqlite3_str_appendf(s, ", o.v%d", (int)i);
    sqlite3_str_appendall(s, " FROM _sw_outbox o, _sw_state st WHERE o.hlc > "
                             "max(?1, st.sealed_upto) ORDER BY o.hlc LIMIT ?2");
    char *sql = sqlite3_str_finish(s);
    capture_value *vals = calloc(width + 1, sizeof *vals);
    sqlite3_stmt *st = NULL;
    int rc = SWLOG_OK;
    if (sql == NULL || vals == NULL) {
        rc = error_set(err, SWLOG_ENOMEM, "scanning the outbox");
        goto done;
    }
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = error_sqlite(err, db, "scanning the outbox");
        goto done;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
    sqlite3_bind_int64(st, 2, limit == 0 ? -1 : (sqlite3_int64)limit);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = scan_row(st, m, fn, ctx, vals, err);
        if (rc != 0)
            goto done;
    }
    if (step != SQLITE_DONE)
        rc = error_sqlite(err, db, "scanning the outbox");
done:
    sqlite3_finalize(st);
    sqlite3_free(sql);
    free(vals);
    return rc;
}

/* Run one statement with up to two integer parameters; if out is not NULL,
 * read one integer from its first row. */
static int exec_int(sqlite3 *db, const char *sql, int nargs, int64_t a,
                    int64_t b, uint64_t *out, const char *what,
                    swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, what);
    if (nargs > 0)
        sqlite3_bind_int64(st, 1, a);
    if (nargs > 1)
        sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    if (out != NULL && rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return error_sqlite(err, db, what);
    return SWLOG_OK;
}

int capture_pending(sqlite3 *db, uint64_t *count, swlog_error *err)
{
    return exec_int(db,
                    "SELECT count(*) FROM _sw_outbox WHERE hlc > "
                    "(SELECT sealed_upto FROM _sw_state)",
                    0, 0, 0, count, "counting the outbox", err);
}

int capture_sealed_upto(sqlite3 *db, uint64_t *hlc, swlog_error *err)
{
    return exec_int(db, "SELECT sealed_upto FROM _sw_state", 0, 0, 0, hlc,
                    "reading the seal cursor", err);
}

int capture_mark_sealed(sqlite3 *db, uint64_t upto, swlog_error *err)
{
    return exec_int(db,
                    "UPDATE _sw_state SET sealed_upto = max(sealed_upto, ?1)",
                    1, (int64_t)upto, 0, NULL, "marking sealed", err);
}

int capture_prune(sqlite3 *db, swlog_error *err)
{
    return exec_int(db,
                    "DELETE FROM _sw_outbox WHERE hlc <= "
                    "(SELECT sealed_upto FROM _sw_state)",
                    0, 0, 0, NULL, "pruning the outbox", err);
}

int capture_clock_next(sqlite3 *db, uint64_t *hlc, swlog_error *err)
{
    int rc = exec_int(db, TICK, 0, 0, 0, NULL, "advancing the clock", err);
    if (rc != SWLOG_OK)
        return rc;
    return exec_int(db, "SELECT last FROM _sw_state", 0, 0, 0, hlc,
                    "advancing the clock", err);
}

int capture_clock_observe(sqlite3 *db, uint64_t remote, swlog_error *err)
{
    return exec_int(db, "UPDATE _sw_state SET last = max(last, ?1)", 1,
                    (int64_t)remote, 0, NULL, "observing a clock", err);
}

int capture_clock_last(sqlite3 *db, uint64_t *hlc, swlog_error *err)
{
    return exec_int(db, "SELECT last FROM _sw_state", 0, 0, 0, hlc,
                    "reading the clock", err);
}

int capture_clock_set_offset(sqlite3 *db, int64_t offset_ms, swlog_error *err)
{
    return exec_int(db, "UPDATE _sw_state SET offset_ms = ?1", 1, offset_ms,
                    0, NULL, "setting the clock offset", err);
}

int capture_column_version(sqlite3 *db, const char *table, const char *row_id,
                           const char *column, uint64_t *hlc,
                           swlog_error *err)
{
    char *sql = sqlite3_mprintf("SELECT coalesce(\"%w\", _born) FROM "
                                "\"_sw_v_%w\" WHERE id = ?1",
                                column, table);
    if (sql == NULL)
        return error_set(err, SWLOG_ENOMEM, "reading a version");
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return error_sqlite(err, db, "reading a version");
    sqlite3_bind_text(st, 1, row_id, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    *hlc = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return error_sqlite(err, db, "reading a version");
    return SWLOG_OK;
}
