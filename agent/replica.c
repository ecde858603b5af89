/* The replica: opening, creating and migrating the SQLite database that
 * holds the record model, the operator setting, and UUIDv7 row ids. */
#include "replica.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "error.h"

struct replica {
    sqlite3 *db;
    const schema_model *model;
    char *operator_;
    void *merge_cache; /* agent/merge.c's prepared statements */
    void (*merge_cache_drop)(void *);
};

/* WAL: readers (status, the sync client) never block the writer.
 * synchronous=FULL: a station promises that a committed write is never
 * lost, and power cuts are common there; in WAL mode NORMAL may lose the
 * last commits on power loss (they are durable only at a checkpoint). FULL
 * costs one fsync per commit, small beside a person typing a record; bulk
 * imports commit once per batch. foreign_keys=OFF: merges deliver children
 * before parents and deletes before the rows that point at them, so
 * references are checked on entry (agent/validate.c), not by SQLite.
 * temp_store=MEMORY: a write that fires capture triggers keeps a statement
 * journal (any SQL function in a trigger, such as the clock's julianday,
 * makes SQLite keep one). With temp_store=FILE it is one buffer of the
 * process's spill size, moved to a temp file past that size for the rest of
 * the transaction (every later statement then pwrite()s each page it
 * touches: 3x the cost of a captured insert at the default 64 KiB); in
 * memory it is 1 KiB chunks allocated and freed on every statement, a
 * quarter of a captured insert's cost. So: MEMORY, unless the process
 * raised the spill size with replica_process_init(), then FILE (README
 * §Cost of capture).
 * recursive_triggers=ON: only then does INSERT OR REPLACE fire the delete
 * trigger for the row it replaces, so the columns it empties are not lost
 * (the capture triggers never write a replicated table: no recursion). */
static const char pragmas[] = "PRAGMA foreign_keys = OFF;"
                              "PRAGMA temp_store = MEMORY;"
                              "PRAGMA synchronous = FULL;"
                              "PRAGMA recursive_triggers = ON;";

/* Set once by replica_process_init(), before any connection exists. */
static int stmt_spill_raised;

int replica_process_init(swlog_error *err)
{
    if (sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, REPLICA_STMT_SPILL) !=
        SQLITE_OK)
        return error_set(err, SWLOG_EINVAL,
                         "replica_process_init: SQLite is already in use in "
                         "this process; call it first thing in main() (the "
                         "replica still works, with a slower capture)");
    stmt_spill_raised = 1;
    return SWLOG_OK;
}

static const char meta_sql[] =
    "CREATE TABLE IF NOT EXISTS _sw_meta(key TEXT PRIMARY KEY NOT NULL, "
    "value ANY NOT NULL) STRICT, WITHOUT ROWID;";

int replica_schema_version(sqlite3 *db, unsigned *version, swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT value FROM _sw_meta WHERE key = "
                               "'schema_version'",
                           -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "reading the schema version");
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? (unsigned)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return error_sqlite(err, db, "reading the schema version");
    return SWLOG_OK;
}

static int exec(sqlite3 *db, const char *sql, const char *what,
                swlog_error *err)
{
    if (sql == NULL)
        return error_set(err, SWLOG_ENOMEM, "%s", what);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK
               ? SWLOG_OK
               : error_sqlite(err, db, what);
}

/* Everything the declaration adds after version `from`: whole tables, or
 * columns appended to existing ones (SQLite's ADD COLUMN keeps the rows in
 * place, so a populated replica migrates without a copy). */
static int add_declared(sqlite3 *db, const schema_model *m, unsigned from,
                        swlog_error *err)
{
    int rc = SWLOG_OK;
    for (size_t i = 0; rc == SWLOG_OK && i < m->ntables; i++) {
        const schema_table *t = &m->tables[i];
        if (t->since > from) {
            char *sql = schema_create_sql(t);
            rc = exec(db, sql, "creating a table", err);
            sqlite3_free(sql);
            continue;
        }
        for (size_t j = 0; rc == SWLOG_OK && j < t->ncolumns; j++) {
            const schema_column *c = &t->columns[j];
            if (c->since <= from)
                continue;
            char *sql = sqlite3_mprintf(
                "ALTER TABLE \"%w\" ADD COLUMN \"%w\" %s",
                t->name, c->name,
                c->type == SCHEMA_INTEGER ? "INTEGER" : "TEXT");
            rc = exec(db, sql, "adding a column", err);
            sqlite3_free(sql);
            if (rc == SWLOG_OK && c->ref != NULL) {
                sql = sqlite3_mprintf("CREATE INDEX IF NOT EXISTS \"%w_%w\" "
                                      "ON \"%w\"(\"%w\")",
                                      t->name, c->name, t->name, c->name);
                rc = exec(db, sql, "indexing a column", err);
                sqlite3_free(sql);
            }
        }
    }
    return rc;
}

static int set_version(sqlite3 *db, const char *key, unsigned v,
                       swlog_error *err)
{
    char *sql = sqlite3_mprintf("INSERT OR REPLACE INTO _sw_meta "
                                "VALUES('%q', %u)",
                                key, v);
    int rc = exec(db, sql, "recording the replica's version", err);
    sqlite3_free(sql);
    return rc;
}

/* _sw_meta.engine_version: the capture engine's layout (capture.h
 * CAPTURE_ENGINE_VERSION); absent = 1, a replica from before it existed. */
static int engine_version(sqlite3 *db, unsigned *version, swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT value FROM _sw_meta WHERE key = "
                               "'engine_version'",
                           -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "reading the engine version");
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? (unsigned)sqlite3_column_int64(st, 0) : 1;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return error_sqlite(err, db, "reading the engine version");
    return SWLOG_OK;
}

/* Bring the replica to m->version and the capture engine to
 * CAPTURE_ENGINE_VERSION inside the caller's transaction. */
static int upgrade(sqlite3 *db, const schema_model *m,
                   const replica_migration *steps, size_t nsteps,
                   swlog_error *err)
{
    unsigned have, engine = 1;
    int rc = exec(db, meta_sql, "creating the meta table", err);
    if (rc == SWLOG_OK)
        rc = replica_schema_version(db, &have, err);
    if (rc == SWLOG_OK)
        rc = engine_version(db, &engine, err);
    if (rc != SWLOG_OK)
        return rc;
    if (have > m->version)
        return error_set(err, SWLOG_EVERSION,
                         "replica is at schema version %u, this agent knows "
                         "up to %u",
                         have, m->version);
    if (have > 0 && engine > CAPTURE_ENGINE_VERSION)
        return error_set(err, SWLOG_EVERSION,
                         "replica's capture engine is at version %u, this "
                         "agent knows up to %u: use a newer agent",
                         engine, CAPTURE_ENGINE_VERSION);
    if (have == m->version && engine == CAPTURE_ENGINE_VERSION)
        return SWLOG_OK;
    if (have == m->version) {
        /* Only the engine is older (README §Merged writes): the triggers
         * replaced, the data untouched. */
        rc = capture_install(db, m, err);
        if (rc == SWLOG_OK)
            rc = set_version(db, "engine_version", CAPTURE_ENGINE_VERSION,
                             err);
        return rc;
    }
    rc = add_declared(db, m, have, err);
    /* Steps are not captured: every replica runs them itself. */
    if (rc == SWLOG_OK)
        rc = capture_remove_triggers(db, err);
    for (unsigned v = have + 1; rc == SWLOG_OK && v <= m->version; v++)
        for (size_t i = 0; rc == SWLOG_OK && i < nsteps; i++)
            if (steps[i].to == v && have > 0)
                rc = steps[i].apply(db, err);
    if (rc == SWLOG_OK)
        rc = capture_install(db, m, err);
    if (rc == SWLOG_OK)
        rc = set_version(db, "schema_version", m->version, err);
    if (rc == SWLOG_OK)
        rc = set_version(db, "engine_version", CAPTURE_ENGINE_VERSION, err);
    return rc;
}

int replica_open_model(const char *path, const schema_model *m,
                       const replica_migration *steps, size_t nsteps,
                       replica **out, swlog_error *err)
{
    char msg[160];
    if (path == NULL || m == NULL || out == NULL)
        return error_set(err, SWLOG_EARG, "replica_open: NULL argument");
    if (schema_check(m, msg, sizeof msg) != 0)
        return error_set(err, SWLOG_EINVAL, "schema: %s", msg);
    if (sodium_init() < 0)
        return error_set(err, SWLOG_EIO, "libsodium failed to start");
    replica *r = calloc(1, sizeof *r);
    if (r == NULL)
        return error_set(err, SWLOG_ENOMEM, "replica_open");
    r->model = m;
    int rc = SWLOG_OK;
    if (sqlite3_open_v2(path, &r->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = error_sqlite(err, r->db, "opening the replica");
        goto done;
    }
    sqlite3_extended_result_codes(r->db, 1);
    sqlite3_busy_timeout(r->db, 5000);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "PRAGMA journal_mode = WAL", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
        sqlite3_finalize(st);
        rc = error_sqlite(err, r->db, "switching to WAL");
        goto done;
    }
    sqlite3_finalize(st);
    rc = exec(r->db, pragmas, "setting pragmas", err);
    if (rc == SWLOG_OK && stmt_spill_raised)
        rc = exec(r->db, "PRAGMA temp_store = FILE", "setting pragmas", err);
    if (rc == SWLOG_OK)
        rc = exec(r->db, "BEGIN IMMEDIATE", "starting the upgrade", err);
    if (rc != SWLOG_OK)
        goto done;
    rc = upgrade(r->db, m, steps, nsteps, err);
    if (rc == SWLOG_OK)
        rc = exec(r->db, "COMMIT", "committing the upgrade", err);
    else
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
done:
    if (rc != SWLOG_OK) {
        replica_close(r);
        return rc;
    }
    *out = r;
    return SWLOG_OK;
}

int replica_open_read(const char *path, replica **out, swlog_error *err)
{
    if (path == NULL || out == NULL)
        return error_set(err, SWLOG_EARG, "replica_open_read: NULL argument");
    replica *r = calloc(1, sizeof *r);
    if (r == NULL)
        return error_set(err, SWLOG_ENOMEM, "replica_open_read");
    r->model = schema_current();
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK) {
        int rc = error_sqlite(err, r->db, "opening the replica to read");
        replica_close(r);
        return rc;
    }
    sqlite3_extended_result_codes(r->db, 1);
    sqlite3_busy_timeout(r->db, 5000);
    *out = r;
    return SWLOG_OK;
}

int replica_open(const char *path, replica **out, swlog_error *err)
{
    return replica_open_model(path, schema_current(), NULL, 0, out, err);
}

void replica_close(replica *r)
{
    if (r == NULL)
        return;
    if (r->merge_cache_drop != NULL)
        r->merge_cache_drop(r->merge_cache);
    sqlite3_close(r->db);
    free(r->operator_);
    free(r);
}

sqlite3 *replica_db(replica *r) { return r->db; }

const schema_model *replica_model(replica *r) { return r->model; }

void *replica_merge_cache(replica *r) { return r->merge_cache; }

void replica_set_merge_cache(replica *r, void *cache, void (*drop)(void *))
{
    r->merge_cache = cache;
    r->merge_cache_drop = drop;
}

int replica_set_operator(replica *r, const char *name, swlog_error *err)
{
    /* FORMAT §5.1: the author is 1..MAX_AUTHOR bytes. */
    if (name != NULL && (name[0] == '\0' || strlen(name) > SWLOG_MAX_AUTHOR))
        return error_set(err, SWLOG_EARG, "operator name must be 1-%u bytes",
                         SWLOG_MAX_AUTHOR);
    char *copy = name != NULL ? strdup(name) : NULL;
    if (name != NULL && copy == NULL)
        return error_set(err, SWLOG_ENOMEM, "replica_set_operator");
    free(r->operator_);
    r->operator_ = copy;
    return SWLOG_OK;
}

/* README §Operator: the operator lives in the one-row _sw_state only while
 * this handle holds SQLite's write lock, so no other writer can see it, and
 * a crash rolls it back with the transaction. */
static int publish_operator(replica *r, const char *name, swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "UPDATE _sw_state SET operator = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return error_sqlite(err, r->db, "setting the operator");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SWLOG_OK
                             : error_sqlite(err, r->db, "setting the operator");
}

int replica_begin(replica *r, swlog_error *err)
{
    int rc = exec(r->db, "BEGIN IMMEDIATE", "starting a transaction", err);
    if (rc == SWLOG_OK && r->operator_ != NULL) {
        rc = publish_operator(r, r->operator_, err);
        if (rc != SWLOG_OK)
            sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

int replica_commit(replica *r, swlog_error *err)
{
    int rc = r->operator_ != NULL ? publish_operator(r, NULL, err) : SWLOG_OK;
    if (rc == SWLOG_OK)
        rc = exec(r->db, "COMMIT", "committing", err);
    if (rc != SWLOG_OK)
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

void replica_rollback(replica *r)
{
    sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}

void replica_uuid7(uint8_t id[16])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    if (sodium_init() < 0)
        abort(); /* no secure randomness: never make a guessable id */
    randombytes_buf(id + 6, 10);
    for (int i = 0; i < 6; i++)
        id[i] = (uint8_t)(ms >> (40 - 8 * i));
    id[6] = (uint8_t)(0x70 | (id[6] & 0x0f)); /* version 7 */
    id[8] = (uint8_t)(0x80 | (id[8] & 0x3f)); /* variant 10 */
}

void replica_uuid7_text(char text[37])
{
    uint8_t id[16];
    replica_uuid7(id);
    swlog_uuid_format(id, text);
}
