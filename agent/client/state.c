/* The sync client's memory in SQLite: pinned hub key, acknowledged marks,
 * receipts, refusals, and the status read from them. */
#include "state.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct state {
    sqlite3 *db;
    char *hub;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS _sw_sync_hub("
    " hub TEXT PRIMARY KEY, hub_key TEXT NOT NULL, pinned_ms INTEGER);"
    "CREATE TABLE IF NOT EXISTS _sw_sync("
    " hub TEXT NOT NULL, feed TEXT NOT NULL,"
    " acked_seq INTEGER NOT NULL DEFAULT 0, acked_id TEXT,"
    " local_seq INTEGER, hub_seq INTEGER,"
    " last_try_ms INTEGER, last_ok_ms INTEGER, last_error TEXT,"
    " PRIMARY KEY(hub, feed));"
    "CREATE TABLE IF NOT EXISTS _sw_checkpoints("
    " hub TEXT NOT NULL, id TEXT NOT NULL, tree_size INTEGER NOT NULL,"
    " body BLOB NOT NULL, received_ms INTEGER, PRIMARY KEY(hub, id));"
    "CREATE TABLE IF NOT EXISTS _sw_receipts("
    " hub TEXT NOT NULL, feed TEXT NOT NULL, seq INTEGER NOT NULL,"
    " frame_id TEXT NOT NULL, checkpoint TEXT NOT NULL,"
    " leaf_index INTEGER NOT NULL, tree_size INTEGER NOT NULL,"
    " proof BLOB NOT NULL, PRIMARY KEY(hub, feed, seq));"
    "CREATE TABLE IF NOT EXISTS _sw_refused("
    " hub TEXT NOT NULL, feed TEXT NOT NULL, seq INTEGER NOT NULL,"
    " frame_id TEXT NOT NULL, error TEXT NOT NULL, message TEXT,"
    " first_ms INTEGER, last_ms INTEGER, PRIMARY KEY(hub, feed, seq));";

static void hex(const uint8_t *p, size_t n, char *out)
{
    swlog_hex(p, n, out);
}

static int unhex(const unsigned char *s, uint8_t *out, size_t n)
{
    if (s == NULL || strlen((const char *)s) != 2 * n)
        return -1;
    for (size_t i = 0; i < 2 * n; i++) {
        int c = s[i], v = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 0;
}

int state_open(sqlite3 *db, const char *hub, state **out, swlog_error *err)
{
    if (db == NULL || hub == NULL || hub[0] == '\0')
        return swlog_fail(err, SWLOG_EARG, 0, "state: no database or hub");
    if (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "creating the sync state tables");
    state *s = calloc(1, sizeof *s);
    if (s == NULL || (s->hub = strdup(hub)) == NULL) {
        free(s);
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    }
    s->db = db;
    *out = s;
    return SWLOG_OK;
}

void state_close(state *s)
{
    if (s == NULL)
        return;
    free(s->hub);
    free(s);
}

static int prep(state *s, const char *sql, sqlite3_stmt **st,
                swlog_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return error_sqlite(err, s->db, "preparing a sync state statement");
    sqlite3_bind_text(*st, 1, s->hub, -1, SQLITE_STATIC);
    return SWLOG_OK;
}

int state_hub_key(state *s, uint8_t key[SWLOG_PUBKEY_BYTES],
                  swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "SELECT hub_key FROM _sw_sync_hub WHERE hub = ?1", &st,
                  err);
    if (rc != SWLOG_OK)
        return rc;
    int step = sqlite3_step(st), found = 0;
    if (step == SQLITE_ROW) {
        if (unhex(sqlite3_column_text(st, 0), key, SWLOG_PUBKEY_BYTES) != 0)
            rc = swlog_fail(err, SWLOG_EINVAL, 0, "the pinned key of hub %s "
                            "in _sw_sync_hub is not 64 hex digits", s->hub);
        else
            found = 1;
    } else if (step != SQLITE_DONE) {
        rc = error_sqlite(err, s->db, "reading the pinned hub key");
    }
    sqlite3_finalize(st);
    return rc != SWLOG_OK ? rc : found;
}

int state_pin_hub_key(state *s, const uint8_t key[SWLOG_PUBKEY_BYTES],
                      int64_t now_ms, swlog_error *err)
{
    sqlite3_stmt *st;
    char h[2 * SWLOG_PUBKEY_BYTES + 1];
    int rc = prep(s, "INSERT INTO _sw_sync_hub(hub, hub_key, pinned_ms) "
                     "VALUES(?1, ?2, ?3)", &st, err);
    if (rc != SWLOG_OK)
        return rc;
    hex(key, SWLOG_PUBKEY_BYTES, h);
    sqlite3_bind_text(st, 2, h, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now_ms);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "pinning the hub key");
    sqlite3_finalize(st);
    return rc;
}

int state_acked(state *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                uint64_t *seq, uint8_t id[SWLOG_HASH_BYTES],
                swlog_error *err)
{
    sqlite3_stmt *st;
    char f[2 * SWLOG_PUBKEY_BYTES + 1];
    int rc = prep(s, "SELECT acked_seq, acked_id FROM _sw_sync "
                     "WHERE hub = ?1 AND feed = ?2", &st, err);
    if (rc != SWLOG_OK)
        return rc;
    hex(feed, SWLOG_PUBKEY_BYTES, f);
    sqlite3_bind_text(st, 2, f, -1, SQLITE_TRANSIENT);
    *seq = 0;
    memset(id, 0, SWLOG_HASH_BYTES);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64(st, 0);
        if (v < 0 || (v > 0 && unhex(sqlite3_column_text(st, 1), id,
                                     SWLOG_HASH_BYTES) != 0))
            rc = swlog_fail(err, SWLOG_EINVAL, 0, "_sw_sync row of feed "
                            "%.16s… at hub %s is damaged", f, s->hub);
        else
            *seq = (uint64_t)v;
    } else if (step != SQLITE_DONE) {
        rc = error_sqlite(err, s->db, "reading the acknowledged mark");
    }
    sqlite3_finalize(st);
    return rc;
}

static int exec_step(state *s, sqlite3_stmt *st, const char *what,
                     swlog_error *err)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? SWLOG_OK
                                             : error_sqlite(err, s->db, what);
    sqlite3_finalize(st);
    return rc;
}

/* Make sure the (hub, feed) row exists. */
static int ensure_row(state *s, const char *f, swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, "INSERT OR IGNORE INTO _sw_sync(hub, feed) "
                     "VALUES(?1, ?2)", &st, err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_text(st, 2, f, -1, SQLITE_TRANSIENT);
    return exec_step(s, st, "adding a feed to _sw_sync", err);
}

int state_ack(state *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
              const uint8_t *ckpt, size_t ckpt_len,
              const uint8_t ckpt_id[SWLOG_HASH_BYTES], uint64_t tree_size,
              const state_item *items, size_t n, uint64_t acked_seq,
              const uint8_t acked_id[SWLOG_HASH_BYTES], int64_t now_ms,
              swlog_error *err)
{
    char f[2 * SWLOG_PUBKEY_BYTES + 1], c[2 * SWLOG_HASH_BYTES + 1],
        a[2 * SWLOG_HASH_BYTES + 1];
    sqlite3_stmt *st = NULL;
    int rc;
    hex(feed, SWLOG_PUBKEY_BYTES, f);
    hex(ckpt_id, SWLOG_HASH_BYTES, c);
    hex(acked_id, SWLOG_HASH_BYTES, a);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return error_sqlite(err, s->db, "starting the receipt transaction");
    if ((rc = ensure_row(s, f, err)) != SWLOG_OK)
        goto done;
    if ((rc = prep(s, "INSERT OR IGNORE INTO _sw_checkpoints(hub, id, "
                      "tree_size, body, received_ms) VALUES(?1,?2,?3,?4,?5)",
                   &st, err)) != SWLOG_OK)
        goto done;
    sqlite3_bind_text(st, 2, c, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)tree_size);
    sqlite3_bind_blob(st, 4, ckpt, (int)ckpt_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now_ms);
    if ((rc = exec_step(s, st, "storing a checkpoint", err)) != SWLOG_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        char fid[2 * SWLOG_HASH_BYTES + 1];
        hex(items[i].id, SWLOG_HASH_BYTES, fid);
        /* The first receipt of a frame is kept: it proves when the hub
         * first acknowledged it; later duplicates add nothing. */
        if ((rc = prep(s, "INSERT OR IGNORE INTO _sw_receipts(hub, feed, "
                          "seq, frame_id, checkpoint, leaf_index, tree_size, "
                          "proof) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                       &st, err)) != SWLOG_OK)
            goto done;
        sqlite3_bind_text(st, 2, f, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, (int64_t)items[i].seq);
        sqlite3_bind_text(st, 4, fid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, c, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 6, (int64_t)items[i].leaf_index);
        sqlite3_bind_int64(st, 7, (int64_t)tree_size);
        sqlite3_bind_blob(st, 8, items[i].proof,
                          (int)(items[i].proof_len * SWLOG_HASH_BYTES),
                          SQLITE_TRANSIENT);
        if ((rc = exec_step(s, st, "storing a receipt", err)) != SWLOG_OK)
            goto done;
    }
    if ((rc = prep(s, "DELETE FROM _sw_refused WHERE hub = ?1 AND feed = ?2 "
                      "AND seq <= ?3", &st, err)) != SWLOG_OK)
        goto done;
    sqlite3_bind_text(st, 2, f, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)acked_seq);
    if ((rc = exec_step(s, st, "clearing refusals", err)) != SWLOG_OK)
        goto done;
    /* The mark only moves forward (a receipt of older duplicates must not
     * move it back). */
    if ((rc = prep(s, "UPDATE _sw_sync SET acked_seq = ?3, acked_id = ?4, "
                      "last_ok_ms = ?5 WHERE hub = ?1 AND feed = ?2 "
                      "AND acked_seq < ?3", &st, err)) != SWLOG_OK)
        goto done;
    sqlite3_bind_text(st, 2, f, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)acked_seq);
    sqlite3_bind_text(st, 4, a, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now_ms);
    rc = exec_step(s, st, "moving the acknowledged mark", err);
done:
    if (rc == SWLOG_OK &&
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = error_sqlite(err, s->db, "committing a receipt");
    if (rc != SWLOG_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int state_refused(state *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                  uint64_t seq, const uint8_t id[SWLOG_HASH_BYTES],
                  const char *error, const char *message, int64_t now_ms,
                  swlog_error *err)
{
    char f[2 * SWLOG_PUBKEY_BYTES + 1], i[2 * SWLOG_HASH_BYTES + 1];
    sqlite3_stmt *st;
    hex(feed, SWLOG_PUBKEY_BYTES, f);
    hex(id, SWLOG_HASH_BYTES, i);
    int rc = prep(s, "INSERT INTO _sw_refused(hub, feed, seq, frame_id, "
                     "error, message, first_ms, last_ms) "
                     "VALUES(?1,?2,?3,?4,?5,?6,?7,?7) "
                     "ON CONFLICT(hub, feed, seq) DO UPDATE SET "
                     "frame_id = ?4, error = ?5, message = ?6, last_ms = ?7",
                  &st, err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_text(st, 2, f, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)seq);
    sqlite3_bind_text(st, 4, i, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, error, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, message, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, now_ms);
    return exec_step(s, st, "recording a refused frame", err);
}

int state_note(state *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
               uint64_t local_seq, uint64_t hub_seq, const char *error,
               int64_t now_ms, swlog_error *err)
{
    char f[2 * SWLOG_PUBKEY_BYTES + 1];
    sqlite3_stmt *st;
    hex(feed, SWLOG_PUBKEY_BYTES, f);
    int rc = ensure_row(s, f, err);
    if (rc != SWLOG_OK)
        return rc;
    rc = prep(s, error == NULL
                     ? "UPDATE _sw_sync SET local_seq = ?3, hub_seq = ?4, "
                       "last_try_ms = ?5, last_ok_ms = ?5, last_error = NULL "
                       "WHERE hub = ?1 AND feed = ?2"
                     : "UPDATE _sw_sync SET local_seq = ?3, hub_seq = ?4, "
                       "last_try_ms = ?5, last_error = ?6 "
                       "WHERE hub = ?1 AND feed = ?2",
              &st, err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_text(st, 2, f, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)local_seq);
    sqlite3_bind_int64(st, 4, (int64_t)hub_seq);
    sqlite3_bind_int64(st, 5, now_ms);
    if (error != NULL)
        sqlite3_bind_text(st, 6, error, -1, SQLITE_TRANSIENT);
    return exec_step(s, st, "recording the sync result", err);
}

/* ---- status ------------------------------------------------------------ */

static int put(swlog_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int put(swlog_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SWLOG_EIO;
    return swlog_buf_append(b, tmp, (size_t)n < sizeof tmp ? (size_t)n
                                                           : sizeof tmp - 1);
}

static int put_json_str(swlog_buf *b, const unsigned char *s)
{
    if (s == NULL)
        return put(b, "null");
    int rc = put(b, "\"");
    for (; rc == SWLOG_OK && *s; s++) {
        if (*s == '"' || *s == '\\')
            rc = put(b, "\\%c", *s);
        else if (*s < 0x20)
            rc = put(b, "\\u%04x", *s);
        else
            rc = swlog_buf_append(b, s, 1);
    }
    return rc == SWLOG_OK ? put(b, "\"") : rc;
}

static int has_tables(sqlite3 *db)
{
    sqlite3_stmt *st;
    int yes = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = "
                               "'table' AND name = '_sw_sync'",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

static const char status_sql[] =
    "SELECT s.hub, s.feed, s.acked_seq, s.local_seq, s.hub_seq, "
    " s.last_try_ms, s.last_ok_ms, s.last_error, h.hub_key, "
    " (SELECT count(*) FROM _sw_refused r WHERE r.hub = s.hub AND "
    "  r.feed = s.feed), "
    " (SELECT seq || ' ' || error || ': ' || coalesce(message, '') "
    "  FROM _sw_refused r WHERE r.hub = s.hub AND r.feed = s.feed "
    "  ORDER BY seq LIMIT 1), "
    " (SELECT seq FROM _sw_refused r WHERE r.hub = s.hub AND "
    "  r.feed = s.feed ORDER BY seq LIMIT 1), "
    " (SELECT error FROM _sw_refused r WHERE r.hub = s.hub AND "
    "  r.feed = s.feed ORDER BY seq LIMIT 1), "
    " (SELECT message FROM _sw_refused r WHERE r.hub = s.hub AND "
    "  r.feed = s.feed ORDER BY seq LIMIT 1) "
    "FROM _sw_sync s LEFT JOIN _sw_sync_hub h ON h.hub = s.hub "
    "ORDER BY s.hub, s.feed";

static void ago(int64_t now, int64_t then, char *out, size_t cap)
{
    int64_t s = (now - then) / 1000;
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(out, cap, "%" PRId64 " s ago", s);
    else if (s < 7200)
        snprintf(out, cap, "%" PRId64 " min ago", s / 60);
    else if (s < 172800)
        snprintf(out, cap, "%" PRId64 " h ago", s / 3600);
    else
        snprintf(out, cap, "%" PRId64 " days ago", s / 86400);
}

int state_status_text(sqlite3 *db, int64_t now_ms, swlog_buf *out,
                      swlog_error *err)
{
    if (!has_tables(db))
        return put(out, "sync: never synced with a hub\n");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, status_sql, -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "reading the sync state");
    int rc = SWLOG_OK, step, rows = 0;
    while (rc == SWLOG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *hub = (const char *)sqlite3_column_text(st, 0);
        const char *feed = (const char *)sqlite3_column_text(st, 1);
        int64_t acked = sqlite3_column_int64(st, 2);
        int64_t local = sqlite3_column_int64(st, 3);
        int64_t hubseq = sqlite3_column_int64(st, 4);
        char when[32];
        rows++;
        rc = put(out, "sync: feed %.16s… to %s: ", feed, hub);
        if (rc == SWLOG_OK && local > acked)
            rc = put(out, "%" PRId64 " frame(s) waiting (acknowledged %"
                     PRId64 " of %" PRId64 ", the hub holds %" PRId64 ")",
                     local - acked, acked, local, hubseq);
        else if (rc == SWLOG_OK)
            rc = put(out, "all %" PRId64 " frame(s) acknowledged", acked);
        if (rc == SWLOG_OK && sqlite3_column_type(st, 6) != SQLITE_NULL) {
            ago(now_ms, sqlite3_column_int64(st, 6), when, sizeof when);
            rc = put(out, "; last success %s", when);
        } else if (rc == SWLOG_OK) {
            rc = put(out, "; never succeeded");
        }
        if (rc == SWLOG_OK && sqlite3_column_type(st, 7) != SQLITE_NULL) {
            ago(now_ms, sqlite3_column_int64(st, 5), when, sizeof when);
            rc = put(out, "\n  last try %s failed: %s", when,
                     (const char *)sqlite3_column_text(st, 7));
        }
        if (rc == SWLOG_OK && sqlite3_column_int64(st, 9) > 0)
            rc = put(out, "\n  %" PRId64 " frame(s) refused by the hub; "
                     "first: seq %s", (int64_t)sqlite3_column_int64(st, 9),
                     (const char *)sqlite3_column_text(st, 10));
        if (rc == SWLOG_OK)
            rc = put(out, "\n");
    }
    if (rc == SWLOG_OK && step != SQLITE_DONE)
        rc = error_sqlite(err, db, "reading the sync state");
    sqlite3_finalize(st);
    if (rc == SWLOG_OK && rows == 0)
        rc = put(out, "sync: never synced with a hub\n");
    return rc;
}

int state_status_json(sqlite3 *db, swlog_buf *out, swlog_error *err)
{
    if (!has_tables(db))
        return put(out, "{\"feeds\":[]}");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, status_sql, -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "reading the sync state");
    int rc = put(out, "{\"feeds\":["), step, first = 1;
    while (rc == SWLOG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t acked = sqlite3_column_int64(st, 2);
        int64_t local = sqlite3_column_int64(st, 3);
        rc = put(out, "%s{\"hub\":", first ? "" : ",");
        first = 0;
        if (rc == SWLOG_OK)
            rc = put_json_str(out, sqlite3_column_text(st, 0));
        if (rc == SWLOG_OK)
            rc = put(out, ",\"hub_key\":");
        if (rc == SWLOG_OK)
            rc = put_json_str(out, sqlite3_column_text(st, 8));
        if (rc == SWLOG_OK)
            rc = put(out, ",\"feed\":");
        if (rc == SWLOG_OK)
            rc = put_json_str(out, sqlite3_column_text(st, 1));
        if (rc == SWLOG_OK)
            rc = put(out, ",\"acked_seq\":%" PRId64 ",\"local_seq\":%" PRId64
                     ",\"hub_seq\":%" PRId64 ",\"waiting\":%" PRId64,
                     acked, local, (int64_t)sqlite3_column_int64(st, 4),
                     local > acked ? local - acked : 0);
        for (int c = 5; rc == SWLOG_OK && c <= 6; c++)
            rc = sqlite3_column_type(st, c) == SQLITE_NULL
                     ? put(out, ",\"%s\":null",
                           c == 5 ? "last_try_ms" : "last_ok_ms")
                     : put(out, ",\"%s\":%" PRId64,
                           c == 5 ? "last_try_ms" : "last_ok_ms",
                           (int64_t)sqlite3_column_int64(st, c));
        if (rc == SWLOG_OK)
            rc = put(out, ",\"last_error\":");
        if (rc == SWLOG_OK)
            rc = put_json_str(out, sqlite3_column_text(st, 7));
        if (rc == SWLOG_OK)
            rc = put(out, ",\"refused\":%" PRId64 ",\"first_refused\":",
                     (int64_t)sqlite3_column_int64(st, 9));
        if (rc == SWLOG_OK && sqlite3_column_type(st, 11) == SQLITE_NULL)
            rc = put(out, "null");
        else if (rc == SWLOG_OK) {
            rc = put(out, "{\"seq\":%" PRId64 ",\"error\":",
                     (int64_t)sqlite3_column_int64(st, 11));
            if (rc == SWLOG_OK)
                rc = put_json_str(out, sqlite3_column_text(st, 12));
            if (rc == SWLOG_OK)
                rc = put(out, ",\"message\":");
            if (rc == SWLOG_OK)
                rc = put_json_str(out, sqlite3_column_text(st, 13));
            if (rc == SWLOG_OK)
                rc = put(out, "}");
        }
        if (rc == SWLOG_OK)
            rc = put(out, "}");
    }
    if (rc == SWLOG_OK && step != SQLITE_DONE)
        rc = error_sqlite(err, db, "reading the sync state");
    sqlite3_finalize(st);
    return rc == SWLOG_OK ? put(out, "]}") : rc;
}
