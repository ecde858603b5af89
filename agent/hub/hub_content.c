/* The replica's content hash beside its merged leaves (hub_content.h). */
#define _DEFAULT_SOURCE 1 /* flock */
#include "hub_content.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../error.h"
#include "merge.h"
#include "replica.h"

/* One integer from a one-row query; -1 when there is no row or the table
 * is missing. */
static int64_t one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0)
                                               : -1;
    sqlite3_finalize(st);
    return v;
}

static int running(const char *data)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/hub.lock", data);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

int hub_content_read(const char *data, hub_content *out, swlog_error *err)
{
    char path[4200];
    memset(out, 0, sizeof *out);
    out->running = running(data);
    snprintf(path, sizeof path, "%s/replica.db", data);
    replica *r = NULL;
    /* Beside a running hub (which migrated it at its start) read-only: an
     * open for writing would wait for the hub's open transaction. */
    int rc = out->running ? replica_open_read(path, &r, err)
                          : replica_open(path, &r, err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3 *db = replica_db(r);
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = error_sqlite(err, db, "replica.db: starting a read");
        replica_close(r);
        return rc;
    }
    int64_t merged = one_int(db, "SELECT leaves FROM _hub_state WHERE k = 0");
    rc = merge_content_hash(r, out->hash, err);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    replica_close(r);
    if (rc != SWLOG_OK)
        return rc;
    snprintf(path, sizeof path, "%s/hub.db", data);
    sqlite3 *s = NULL;
    int64_t leaves = -1;
    if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
        leaves = one_int(s, "SELECT count(*) FROM node WHERE level = 0");
    sqlite3_close(s);
    if (leaves < 0)
        return error_set(err, SWLOG_EIO, "%s: cannot read its leaves", path);
    out->leaves = (uint64_t)leaves;
    /* A replica from before _hub_state: kept in step with hub.db. */
    out->merged = merged < 0 ? out->leaves : (uint64_t)merged;
    return SWLOG_OK;
}
