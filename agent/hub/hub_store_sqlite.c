/* The hub store (hub_store.h) in SQLite: hub.db in the data folder. */
#include "hub_store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../error.h"
#include "hub_merkle.h"

/* Statements of the per-frame path kept prepared (preparing cost more
 * than running them): keyed by their SQL text's address. */
#define STORE_CACHED 8

struct hub_store {
    sqlite3 *db;
    const char *cached_sql[STORE_CACHED];
    sqlite3_stmt *cached[STORE_CACHED];
    uint64_t leaves; /* committed or pending in the open transaction */
    uint64_t leaves_committed;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS feed("
    " key BLOB PRIMARY KEY, seq INTEGER NOT NULL, id BLOB NOT NULL,"
    " frozen INTEGER NOT NULL DEFAULT 0, file_end INTEGER NOT NULL DEFAULT 0)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS frame("
    " key BLOB NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL,"
    " leaf INTEGER NOT NULL, offset INTEGER NOT NULL,"
    " PRIMARY KEY(key, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS node("
    " level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,"
    " PRIMARY KEY(level, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fork("
    " key BLOB NOT NULL, seq INTEGER NOT NULL, held BLOB NOT NULL,"
    " other BLOB NOT NULL, body BLOB NOT NULL, at_ms INTEGER NOT NULL,"
    " PRIMARY KEY(key, seq, other)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS parked("
    " n INTEGER PRIMARY KEY AUTOINCREMENT, key BLOB, seq INTEGER,"
    " code TEXT NOT NULL, message TEXT NOT NULL, body BLOB NOT NULL,"
    " at_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS keyframe("
    " n INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL);"
    /* Change-sets the hub authored in its own feed (hub_author.h): the
     * frame verbatim, its addressee (a unit code, '*' = every station of
     * the county) and its Merkle leaf. */
    "CREATE TABLE IF NOT EXISTS hub_outbound("
    " seq INTEGER PRIMARY KEY, recipient TEXT NOT NULL,"
    " signer BLOB NOT NULL, id BLOB NOT NULL, leaf INTEGER NOT NULL,"
    " body BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS hub_outbound_to ON hub_outbound(recipient,"
    " seq);";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Leaves of the Merkle log held in db (hub_store_open and
 * hub_store_leaves_at). */
static int count_leaves_in(sqlite3 *db, uint64_t *out, swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM node WHERE level=0",
                           -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "count leaves");
    int rc = sqlite3_step(st) == SQLITE_ROW ? SWLOG_OK
                                            : error_sqlite(err, db,
                                                           "count leaves");
    if (rc == SWLOG_OK)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static int count_leaves(hub_store *s, swlog_error *err)
{
    int rc = count_leaves_in(s->db, &s->leaves, err);
    if (rc == SWLOG_OK)
        s->leaves_committed = s->leaves;
    return rc;
}

int hub_store_leaves_at(const char *path, uint64_t *leaves, swlog_error *err)
{
    sqlite3 *db = NULL;
    int rc = SWLOG_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, 5000) != SQLITE_OK)
        rc = error_sqlite(err, db, path);
    else
        rc = count_leaves_in(db, leaves, err);
    sqlite3_close(db);
    return rc;
}

int hub_store_open(const char *path, hub_store **out, swlog_error *err)
{
    hub_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
    int rc = SWLOG_OK;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        rc = error_sqlite(err, s->db, path);
    else if (sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
             sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        rc = error_sqlite(err, s->db, "hub.db schema");
    else
        rc = count_leaves(s, err);
    if (rc != SWLOG_OK) {
        hub_store_close(s);
        return rc;
    }
    *out = s;
    return SWLOG_OK;
}

void hub_store_close(hub_store *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < STORE_CACHED; i++)
        sqlite3_finalize(s->cached[i]);
    sqlite3_close_v2(s->db);
    free(s);
}

int hub_store_begin(hub_store *s, swlog_error *err)
{
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return error_sqlite(err, s->db, "begin");
    return SWLOG_OK;
}

int hub_store_commit(hub_store *s, swlog_error *err)
{
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = error_sqlite(err, s->db, "commit");
        hub_store_rollback(s);
        return rc;
    }
    s->leaves_committed = s->leaves;
    return SWLOG_OK;
}

void hub_store_rollback(hub_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->leaves = s->leaves_committed;
}

/* Prepare, bind blobs/ints by a tiny format ("b" blob of 32, "i" int64),
 * for the one-statement helpers below. */
static int prep(hub_store *s, sqlite3_stmt **st, const char *sql,
                swlog_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return error_sqlite(err, s->db, "prepare");
    return SWLOG_OK;
}

/* prep for the per-frame statements: the cached statement of sql (a
 * string constant), reset; released with sqlite3_reset, never finalized.
 * Not for statements whose loop can call back into the store. */
static int cprep(hub_store *s, sqlite3_stmt **st, const char *sql,
                 swlog_error *err)
{
    size_t i = 0;
    while (i < STORE_CACHED && s->cached_sql[i] != NULL &&
           s->cached_sql[i] != sql)
        i++;
    if (i < STORE_CACHED && s->cached_sql[i] == sql) {
        sqlite3_reset(s->cached[i]);
        sqlite3_clear_bindings(s->cached[i]);
        *st = s->cached[i];
        return SWLOG_OK;
    }
    int rc = prep(s, st, sql, err);
    if (rc == SWLOG_OK && i < STORE_CACHED) {
        s->cached_sql[i] = sql;
        s->cached[i] = *st;
    }
    return rc;
}

/* Release a statement of cprep (finalized when the cache was full). */
static void cdone(hub_store *s, sqlite3_stmt *st)
{
    for (size_t i = 0; i < STORE_CACHED; i++)
        if (s->cached[i] == st) {
            sqlite3_reset(st);
            return;
        }
    sqlite3_finalize(st);
}

int hub_store_head(hub_store *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                   hub_feed_head *h, swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = cprep(s, &st, "SELECT seq, id, frozen, file_end FROM feed WHERE key=?1",
                  err);
    if (rc != SWLOG_OK)
        return rc;
    memset(h, 0, sizeof *h);
    sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW && sqlite3_column_bytes(st, 1) == SWLOG_HASH_BYTES) {
        h->seq = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(h->id, sqlite3_column_blob(st, 1), SWLOG_HASH_BYTES);
        h->frozen = sqlite3_column_int(st, 2) != 0;
        h->end = (uint64_t)sqlite3_column_int64(st, 3);
    } else if (r != SQLITE_DONE) {
        rc = error_sqlite(err, s->db, "read feed head");
    }
    cdone(s, st);
    return rc;
}

int hub_store_frame(hub_store *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                    uint64_t seq, uint8_t id[SWLOG_HASH_BYTES],
                    uint64_t *leaf, uint64_t *offset, swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = cprep(s, &st,
                  "SELECT id, leaf, offset FROM frame WHERE key=?1 AND "
                  "seq=?2", err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SWLOG_HASH_BYTES) {
        if (id != NULL)
            memcpy(id, sqlite3_column_blob(st, 0), SWLOG_HASH_BYTES);
        if (leaf != NULL)
            *leaf = (uint64_t)sqlite3_column_int64(st, 1);
        if (offset != NULL)
            *offset = (uint64_t)sqlite3_column_int64(st, 2);
        rc = 1;
    } else if (r != SQLITE_DONE) {
        rc = error_sqlite(err, s->db, "read frame index");
    }
    cdone(s, st);
    return rc;
}

static int put_node(hub_store *s, unsigned level, uint64_t idx,
                    const uint8_t h[SWLOG_HASH_BYTES], swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = cprep(s, &st, "INSERT INTO node(level, idx, hash) "
                          "VALUES(?1, ?2, ?3)", err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, (int64_t)idx);
    sqlite3_bind_blob(st, 3, h, SWLOG_HASH_BYTES, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "store Merkle node");
    cdone(s, st);
    return rc;
}

/* Append a leaf and every complete subtree it closes. */
static int add_leaf(hub_store *s, const uint8_t id[SWLOG_HASH_BYTES],
                    uint64_t *leaf, swlog_error *err)
{
    uint64_t idx = s->leaves;
    uint8_t h[SWLOG_HASH_BYTES];
    hub_merkle_leaf_hash(id, h);
    int rc = put_node(s, 0, idx, h, err);
    for (unsigned level = 0; rc == SWLOG_OK && (idx & 1) == 1; level++) {
        uint8_t left[SWLOG_HASH_BYTES];
        rc = hub_store_node(s, level, idx - 1, left, err);
        if (rc == SWLOG_OK) {
            hub_merkle_node_hash(left, h, h);
            idx >>= 1;
            rc = put_node(s, level + 1, idx, h, err);
        }
    }
    if (rc == SWLOG_OK)
        *leaf = s->leaves++;
    return rc;
}

int hub_store_add_frame(hub_store *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                        uint64_t seq, const uint8_t id[SWLOG_HASH_BYTES],
                        uint64_t offset, uint64_t end, uint64_t *leaf,
                        swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = cprep(s, &st,
                  "INSERT INTO feed(key, seq, id, file_end) VALUES(?1, ?2, ?3, ?4) "
                  "ON CONFLICT(key) DO UPDATE SET seq=?2, id=?3, file_end=?4", err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    sqlite3_bind_blob(st, 3, id, SWLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)end);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "store feed head");
    cdone(s, st);
    if (rc != SWLOG_OK)
        return rc;
    uint64_t at = 0;
    rc = add_leaf(s, id, &at, err);
    if (rc != SWLOG_OK)
        return rc;
    rc = cprep(s, &st, "INSERT INTO frame(key, seq, id, leaf, offset) "
                      "VALUES(?1, ?2, ?3, ?4, ?5)", err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    sqlite3_bind_blob(st, 3, id, SWLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)at);
    sqlite3_bind_int64(st, 5, (int64_t)offset);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "store frame index");
    cdone(s, st);
    if (rc == SWLOG_OK && leaf != NULL)
        *leaf = at;
    return rc;
}

int hub_store_fork(hub_store *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                   uint64_t seq, const uint8_t held[SWLOG_HASH_BYTES],
                   const uint8_t *body, size_t len, swlog_error *err)
{
    uint8_t other[SWLOG_HASH_BYTES];
    swlog_frame f;
    /* The caller decoded body; its id is recomputed for the key. */
    if (swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &f, NULL) !=
        SWLOG_OK)
        return error_set(err, SWLOG_EARG, "fork evidence does not decode");
    memcpy(other, f.id, sizeof other);
    sqlite3_stmt *st;
    int rc = prep(s, &st,
                  "INSERT OR IGNORE INTO fork(key, seq, held, other, body, "
                  "at_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)", err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    sqlite3_bind_blob(st, 3, held, SWLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, other, SWLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, body, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now_ms());
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "store fork evidence");
    sqlite3_finalize(st);
    if (rc != SWLOG_OK)
        return rc;
    rc = prep(s, &st, "UPDATE feed SET frozen=1 WHERE key=?1", err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "freeze feed");
    sqlite3_finalize(st);
    return rc;
}

int hub_store_park(hub_store *s, const uint8_t *feed, uint64_t seq,
                   const char *code, const char *message,
                   const uint8_t *body, size_t len, unsigned max_parked,
                   swlog_error *err)
{
    if (max_parked == 0)
        return SWLOG_OK;
    sqlite3_stmt *st;
    int rc = prep(s, &st,
                  "INSERT INTO parked(key, seq, code, message, body, at_ms) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6)", err);
    if (rc != SWLOG_OK)
        return rc;
    if (feed != NULL)
        sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    sqlite3_bind_text(st, 3, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, message, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, len ? body : (const uint8_t *)"", (int)len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now_ms());
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "park frame");
    sqlite3_finalize(st);
    if (rc != SWLOG_OK)
        return rc;
    rc = prep(s, &st,
              "DELETE FROM parked WHERE n <= (SELECT max(n) FROM parked) - ?1",
              err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_int64(st, 1, (int64_t)max_parked);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "trim parked frames");
    sqlite3_finalize(st);
    return rc;
}

int hub_store_counts_get(hub_store *s, hub_store_counts *c,
                         swlog_error *err)
{
    static const char *const q[] = {
        "SELECT count(*) FROM feed", "SELECT count(*) FROM feed WHERE frozen",
        "SELECT count(*) FROM parked", "SELECT count(*) FROM fork"};
    uint64_t *dst[] = {&c->feeds, &c->frozen, &c->parked, &c->forks};
    for (size_t i = 0; i < 4; i++) {
        sqlite3_stmt *st;
        int rc = prep(s, &st, q[i], err);
        if (rc != SWLOG_OK)
            return rc;
        if (sqlite3_step(st) == SQLITE_ROW)
            *dst[i] = (uint64_t)sqlite3_column_int64(st, 0);
        else
            rc = error_sqlite(err, s->db, "count");
        sqlite3_finalize(st);
        if (rc != SWLOG_OK)
            return rc;
    }
    c->leaves = s->leaves;
    return SWLOG_OK;
}

int hub_store_keyframe_add(hub_store *s, const uint8_t *body, size_t len,
                           swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "INSERT INTO keyframe(body) VALUES(?1)", err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_blob(st, 1, body, (int)len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "store key frame");
    sqlite3_finalize(st);
    return rc;
}

int hub_store_keyframes(hub_store *s,
                        int (*fn)(void *ctx, const uint8_t *body, size_t len),
                        void *ctx, swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT body FROM keyframe ORDER BY n", err);
    if (rc != SWLOG_OK)
        return rc;
    int r;
    while (rc == SWLOG_OK && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(ctx, sqlite3_column_blob(st, 0),
                (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    return rc;
}

int hub_store_feeds(hub_store *s,
                    int (*fn)(void *ctx, const uint8_t *feed,
                              const hub_feed_head *h),
                    void *ctx, swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st, "SELECT key, seq, id, frozen, file_end FROM feed", err);
    if (rc != SWLOG_OK)
        return rc;
    while (rc == SWLOG_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != SWLOG_PUBKEY_BYTES ||
            sqlite3_column_bytes(st, 2) != SWLOG_HASH_BYTES)
            continue;
        hub_feed_head h;
        uint8_t key[SWLOG_PUBKEY_BYTES];
        memcpy(key, sqlite3_column_blob(st, 0), sizeof key);
        h.seq = (uint64_t)sqlite3_column_int64(st, 1);
        memcpy(h.id, sqlite3_column_blob(st, 2), SWLOG_HASH_BYTES);
        h.frozen = sqlite3_column_int(st, 3) != 0;
        h.end = (uint64_t)sqlite3_column_int64(st, 4);
        rc = fn(ctx, key, &h);
    }
    sqlite3_finalize(st);
    return rc;
}

uint64_t hub_store_leaves(hub_store *s)
{
    return s->leaves;
}

int hub_store_node(hub_store *s, unsigned level, uint64_t idx,
                   uint8_t out[SWLOG_HASH_BYTES], swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = cprep(s, &st, "SELECT hash FROM node WHERE level=?1 AND idx=?2",
                  err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, (int64_t)idx);
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_bytes(st, 0) == SWLOG_HASH_BYTES)
        memcpy(out, sqlite3_column_blob(st, 0), SWLOG_HASH_BYTES);
    else
        rc = error_set(err, SWLOG_EARG, "no Merkle node %u/%llu", level,
                       (unsigned long long)idx);
    cdone(s, st);
    return rc;
}

int hub_store_outbound_add(hub_store *s, uint64_t seq, const char *recipient,
                           const uint8_t signer[SWLOG_PUBKEY_BYTES],
                           const uint8_t id[SWLOG_HASH_BYTES],
                           const uint8_t *body, size_t len, uint64_t *leaf,
                           swlog_error *err)
{
    uint64_t at = 0;
    int rc = add_leaf(s, id, &at, err);
    sqlite3_stmt *st;
    if (rc == SWLOG_OK)
        rc = prep(s, &st, "INSERT INTO hub_outbound(seq, recipient, signer, "
                          "id, leaf, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                  err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_int64(st, 1, (int64_t)seq);
    sqlite3_bind_text(st, 2, recipient, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, signer, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, id, SWLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)at);
    sqlite3_bind_blob(st, 6, body, (int)len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "store an authored frame");
    sqlite3_finalize(st);
    if (rc == SWLOG_OK && leaf != NULL)
        *leaf = at;
    return rc;
}

int hub_store_outbound(hub_store *s, uint64_t after, const char *unit,
                       int (*fn)(void *ctx, uint64_t seq,
                                 const char *recipient, const uint8_t *body,
                                 size_t len),
                       void *ctx, swlog_error *err)
{
    sqlite3_stmt *st;
    int rc = prep(s, &st,
                  unit != NULL
                      ? "SELECT seq, recipient, body FROM hub_outbound "
                        "WHERE seq > ?1 AND recipient IN (?2, '*') "
                        "ORDER BY seq"
                      : "SELECT seq, recipient, body FROM hub_outbound "
                        "WHERE seq > ?1 ORDER BY seq",
                  err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_int64(st, 1, (int64_t)after);
    if (unit != NULL)
        sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        rc = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0),
                (const char *)sqlite3_column_text(st, 1),
                sqlite3_column_blob(st, 2),
                (size_t)sqlite3_column_bytes(st, 2));
        if (rc != 0)
            break;
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "read authored frames");
    sqlite3_finalize(st);
    return rc;
}
