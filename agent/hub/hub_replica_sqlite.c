/* The hub replica in SQLite: replica.h plus merge.h; a savepoint a frame
 * except for the worker's merges of stored batches
 * (hub_replica.h). */
#include "hub_replica.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "../error.h"

/* The hub replica's page cache, KiB (PRAGMA cache_size). */
#define HUB_REPLICA_CACHE_KIB "65536"

struct hub_replica {
    replica *r;
    sqlite3_stmt *st_leaves; /* hub_replica_set_leaves, kept prepared */
};

/* The merged leaves (hub_replica.h): one row. */
static const char state_sql[] =
    "CREATE TABLE IF NOT EXISTS _hub_state(k INTEGER PRIMARY KEY CHECK (k = "
    "0), leaves INTEGER NOT NULL)";

static int exec(sqlite3 *db, const char *sql, swlog_error *err,
                const char *what)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return error_sqlite(err, db, what);
    return SWLOG_OK;
}

/* Create _hub_state with its row unless it exists: 0 merged leaves for a
 * new file, legacy for one made before (it has no such table). */
static int state_init(sqlite3 *db, int existed, uint64_t legacy,
                      swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM _hub_state", -1, &st, NULL) ==
        SQLITE_OK) {
        int step = sqlite3_step(st);
        sqlite3_finalize(st);
        if (step == SQLITE_ROW)
            return SWLOG_OK;
    }
    int rc = exec(db, "BEGIN IMMEDIATE", err, "starting the replica's state");
    if (rc == SWLOG_OK)
        rc = exec(db, state_sql, err, "creating the replica's state");
    if (rc == SWLOG_OK &&
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO _hub_state(k, leaves) "
                               "VALUES(0, ?1)", -1, &st, NULL) != SQLITE_OK)
        rc = error_sqlite(err, db, "creating the replica's state");
    if (rc == SWLOG_OK) {
        sqlite3_bind_int64(st, 1, existed ? (sqlite3_int64)legacy : 0);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = error_sqlite(err, db, "creating the replica's state");
        sqlite3_finalize(st);
    }
    if (rc == SWLOG_OK)
        rc = exec(db, "COMMIT", err, "creating the replica's state");
    if (rc != SWLOG_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int hub_replica_open(const char *path, uint64_t legacy_leaves,
                     hub_replica **out, swlog_error *err)
{
    hub_replica *h = calloc(1, sizeof *h);
    if (h == NULL)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
    struct stat sb;
    int existed = stat(path, &sb) == 0 && sb.st_size > 0;
    int rc = replica_open(path, &h->r, err);
    if (rc != SWLOG_OK) {
        free(h);
        return rc;
    }
    /* A hub merges every station's rows into this one connection: a
     * larger page cache keeps a push's pages from spilling to the WAL
     * before the commit and keeps the B-tree interiors cached between
     * pushes (SQLite's default is 2 MiB). A checkpoint every 4,000 WAL
     * pages (16 MiB) instead of 1,000: pages that every push rewrites (the
     * right edges and interiors of the B-trees) are copied back once per
     * checkpoint, and its two fsyncs come less often. Commits are not
     * fsynced (synchronous=NORMAL; the WAL is at every checkpoint): the
     * store and the feed files are what a push's answer promises, and the
     * hub merges again what a power cut took from the replica
     * (hub_replica.h). */
    sqlite3 *db = replica_db(h->r);
    /* Only merges write the hub replica, and they skip the capture
     * triggers (MERGE §8.1): with triggers off on this connection SQLite
     * no longer runs each trigger's program just to evaluate its WHEN,
     * which cost 15% of a merge (bench/bench_hub.sh). Statements prepared
     * before (replica_open's) are re-prepared by SQLite when next used. */
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0,
                          (int *)NULL) != SQLITE_OK) {
        rc = error_sqlite(err, db, "turning the replica's triggers off");
        hub_replica_close(h);
        return rc;
    }
    if (sqlite3_exec(db,
                     "PRAGMA cache_size = -" HUB_REPLICA_CACHE_KIB ";"
                     "PRAGMA wal_autocheckpoint = 4000;"
                     "PRAGMA synchronous = NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = error_sqlite(err, db, "setting the replica's cache size");
        hub_replica_close(h);
        return rc;
    }
    if ((rc = state_init(db, existed, legacy_leaves, err)) != SWLOG_OK) {
        hub_replica_close(h);
        return rc;
    }
    *out = h;
    return SWLOG_OK;
}

void hub_replica_close(hub_replica *h)
{
    if (h == NULL)
        return;
    sqlite3_finalize(h->st_leaves);
    replica_close(h->r);
    free(h);
}

int hub_replica_begin(hub_replica *h, swlog_error *err)
{
    return replica_begin(h->r, err);
}

int hub_replica_commit(hub_replica *h, swlog_error *err)
{
    return replica_commit(h->r, err);
}

void hub_replica_rollback(hub_replica *h)
{
    replica_rollback(h->r);
}

static int merge_in_savepoint(hub_replica *h, const swlog_frame *f,
                              merge_stats *st, swlog_error *err)
{
    sqlite3 *db = replica_db(h->r);
    if (sqlite3_exec(db, "SAVEPOINT hub_frame", NULL, NULL, NULL) !=
        SQLITE_OK)
        return error_sqlite(err, db, "savepoint");
    int rc = merge_changeset(h->r, f, st, err);
    if (rc != SWLOG_OK)
        sqlite3_exec(db, "ROLLBACK TO hub_frame", NULL, NULL, NULL);
    sqlite3_exec(db, "RELEASE hub_frame", NULL, NULL, NULL);
    return rc;
}

int hub_replica_merge(hub_replica *h, const swlog_frame *f, merge_stats *st,
                      swlog_error *err)
{
    return merge_in_savepoint(h, f, st, err);
}

int hub_replica_merge_checked(hub_replica *h, const swlog_frame *f,
                              swlog_error *err)
{
    return merge_changeset_checked(h->r, f, NULL, err);
}

replica *hub_replica_handle(hub_replica *h)
{
    return h->r;
}

int hub_replica_check(hub_replica *h, const swlog_frame *f, swlog_error *err)
{
    return merge_check(replica_model(h->r), f, err);
}

int hub_replica_leaves(hub_replica *h, uint64_t *leaves, swlog_error *err)
{
    sqlite3 *db = replica_db(h->r);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT leaves FROM _hub_state WHERE k = 0",
                           -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "reading the replica's merged leaves");
    int step = sqlite3_step(st);
    sqlite3_int64 v = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    if (v < 0)
        return error_set(err, SWLOG_ECORRUPT,
                         "replica.db: its merged leaves (_hub_state) are "
                         "missing or negative");
    *leaves = (uint64_t)v;
    return SWLOG_OK;
}

int hub_replica_set_leaves(hub_replica *h, uint64_t leaves, swlog_error *err)
{
    sqlite3 *db = replica_db(h->r);
    if (h->st_leaves == NULL &&
        sqlite3_prepare_v3(db, "UPDATE _hub_state SET leaves = ?1 WHERE k = 0",
                           -1, SQLITE_PREPARE_PERSISTENT, &h->st_leaves,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(h->st_leaves);
        h->st_leaves = NULL;
        return error_sqlite(err, db, "recording the merged leaves");
    }
    sqlite3_stmt *st = h->st_leaves;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)leaves);
    int rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1
                 ? SWLOG_OK
                 : error_sqlite(err, db, "recording the merged leaves");
    sqlite3_reset(st);
    return rc;
}
