/* The replica's content hash beside its merged leaves (hub_content.h). */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "hub_content.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../error.h"
#include "hub_lock.h"
#include "hub_store.h"
#include "merge.h"
#include "replica.h"

/* The replica's merged leaves (_hub_state); *out -1 for a replica from
 * before _hub_state. */
static int merged_leaves(sqlite3 *db, int64_t *out, swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT leaves FROM _hub_state WHERE k = 0",
                           -1, &st, NULL) != SQLITE_OK) {
        *out = -1; /* no _hub_state table */
        return SWLOG_OK;
    }
    int s = sqlite3_step(st);
    *out = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return s == SQLITE_ROW || s == SQLITE_DONE
               ? SWLOG_OK
               : error_sqlite(err, db, "replica.db: reading _hub_state");
}

int hub_content_read(const char *data, unsigned wait_ms, hub_content *out,
                     swlog_error *err)
{
    char path[4200], store[4200];
    memset(out, 0, sizeof *out);
    out->running = hub_lock_held(data);
    snprintf(path, sizeof path, "%s/replica.db", data);
    snprintf(store, sizeof store, "%s/hub.db", data);
    replica *r = NULL;
    /* Beside a running hub (which migrated it at its start) read-only: an
     * open for writing would wait for the hub's open transaction. */
    int rc = out->running ? replica_open_read(path, &r, err)
                          : replica_open(path, &r, err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3 *db = replica_db(r);
    /* hub.db's leaves once (counting them reads its whole leaf level);
     * then wait on the replica's one-row count only, and hash once. */
    int64_t merged = -1;
    const struct timespec pause = {0, HUB_CONTENT_PAUSE_MS * 1000000L};
    if ((rc = hub_store_leaves_at(store, &out->leaves, err)) != SWLOG_OK)
        goto done;
    for (unsigned waited = 0;; waited += HUB_CONTENT_PAUSE_MS) {
        if ((rc = merged_leaves(db, &merged, err)) != SWLOG_OK)
            goto done;
        if (merged < 0 || (uint64_t)merged >= out->leaves || !out->running ||
            waited >= wait_ms)
            break;
        nanosleep(&pause, NULL);
    }
    /* The hash and the merged leaves it stands for, in one read
     * transaction. */
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = error_sqlite(err, db, "replica.db: starting a read");
        goto done;
    }
    if ((rc = merged_leaves(db, &merged, err)) == SWLOG_OK)
        rc = merge_content_hash(r, out->hash, err);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    /* A replica from before _hub_state: kept in step with hub.db. */
    out->merged = merged < 0 ? out->leaves : (uint64_t)merged;
done:
    replica_close(r);
    return rc;
}
