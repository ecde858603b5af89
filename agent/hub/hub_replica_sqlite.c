/* The hub replica in SQLite: replica.h plus merge.h, one savepoint a frame
 * (hub_replica.h). */
#include "hub_replica.h"

#include <stdlib.h>

#include "../error.h"

/* The hub replica's page cache, KiB (PRAGMA cache_size). */
#define HUB_REPLICA_CACHE_KIB "65536"

struct hub_replica {
    replica *r;
};

int hub_replica_open(const char *path, hub_replica **out, swlog_error *err)
{
    hub_replica *h = calloc(1, sizeof *h);
    if (h == NULL)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
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
     * checkpoint, and its two fsyncs come less often. Memory and WAL size,
     * not durability: every commit is still fsync'd (synchronous=FULL). */
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
                     "PRAGMA wal_autocheckpoint = 4000",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = error_sqlite(err, db, "setting the replica's cache size");
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

int hub_replica_merge(hub_replica *h, const swlog_frame *f, merge_stats *st,
                      swlog_error *err)
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

replica *hub_replica_handle(hub_replica *h)
{
    return h->r;
}
