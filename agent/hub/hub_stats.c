/* Station observations and request metrics (hub_stats.h): stations.db in
 * the data folder and counters in memory. */
#include "hub_stats.h"

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../error.h"

const char *const hub_stats_class_names[HUB_STATS_NCLASS] = {
    "push", "api", "page", "metrics", "health", "other"};
const double hub_stats_buckets[HUB_STATS_NBUCKET] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
const char *const hub_stats_reasons[HUB_STATS_NREASON] = {
    "malformed",   "bad_signature", "not_canonical",     "too_large",
    "unsupported", "own_feed",      "frozen",            "unknown_key",
    "key_not_yet_valid", "key_expired", "key_revoked",   "gap",
    "chain",       "clock_skew",    "unmergeable",       "key_rotated",
    "other"};

/* Results of at most this many frames are attributed per push (PROTOCOL
 * §5 caps a push far below). */
#define MAX_RESULTS 100000

struct hub_stats {
    pthread_mutex_t mu;
    sqlite3 *db;
    hub_stats_mem m;
    /* A push's statements, prepared at its first use (under mu). */
    sqlite3_stmt *st_refusal, *st_station;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS station("
    " key BLOB PRIMARY KEY, last_seen_ms INTEGER NOT NULL DEFAULT 0,"
    " offered_max_seq INTEGER NOT NULL DEFAULT 0,"
    " accepted INTEGER NOT NULL DEFAULT 0,"
    " records INTEGER NOT NULL DEFAULT 0,"
    " refused INTEGER NOT NULL DEFAULT 0,"
    " forks INTEGER NOT NULL DEFAULT 0,"
    " skew_max_ms INTEGER) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS refusal("
    " key BLOB NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(key, reason)) WITHOUT ROWID;";

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int hub_stats_open(const char *data_dir, hub_stats **out, swlog_error *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/stations.db", data_dir);
    hub_stats *s = calloc(1, sizeof *s);
    if (s == NULL)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        int rc = error_sqlite(err, s->db, path);
        sqlite3_close(s->db);
        free(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 2000);
    pthread_mutex_init(&s->mu, NULL);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->m.started_ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    *out = s;
    return SWLOG_OK;
}

void hub_stats_close(hub_stats *s)
{
    if (s == NULL)
        return;
    sqlite3_finalize(s->st_refusal);
    sqlite3_finalize(s->st_station);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void hub_stats_request(hub_stats *s, int cls, double seconds)
{
    if (s == NULL || cls < 0 || cls >= HUB_STATS_NCLASS)
        return;
    pthread_mutex_lock(&s->mu);
    s->m.req_count[cls]++;
    s->m.req_sum[cls] += seconds;
    for (int i = 0; i < HUB_STATS_NBUCKET; i++)
        if (seconds <= hub_stats_buckets[i])
            s->m.req_bucket[cls][i]++;
    pthread_mutex_unlock(&s->mu);
}

void hub_stats_mem_get(hub_stats *s, hub_stats_mem *m)
{
    pthread_mutex_lock(&s->mu);
    *m = s->m;
    pthread_mutex_unlock(&s->mu);
}

/* One result of the answer: status and error code (PROTOCOL §4.3). */
typedef struct result {
    char status[12];
    char error[24];
} result;

/* Copy the string value after key ("key":") at p, bounded, into out. */
static void str_after(const char *p, const char *end, char *out, size_t cap)
{
    size_t i = 0;
    while (p < end && *p != '"' && i + 1 < cap)
        out[i++] = *p++;
    out[i] = '\0';
}

/* The hub's own answer is parsed by its fixed shape: every result object
 * starts with {"index":N,"status":"...", and "error" follows inside it.
 * Strings inside are JSON-escaped, so these patterns cannot occur in a
 * message. Returns the number of results (at most cap). */
static size_t parse_results(const char *a, size_t alen, result *r,
                            size_t cap)
{
    const char *end = a + alen;
    const char *p = strstr(a, "\"results\":[");
    size_t n = 0;
    static const char ix[] = "{\"index\":";
    while (p != NULL && n < cap) {
        p = strstr(p, ix);
        if (p == NULL || p >= end)
            break;
        const char *next = strstr(p + 1, ix);
        const char *lim = next ? next : end;
        memset(&r[n], 0, sizeof r[n]);
        const char *st = strstr(p, ",\"status\":\"");
        if (st != NULL && st < lim)
            str_after(st + 11, lim, r[n].status, sizeof r[n].status);
        const char *er = strstr(p, ",\"error\":\"");
        if (er != NULL && er < lim)
            str_after(er + 10, lim, r[n].error, sizeof r[n].error);
        n++;
        p = next;
    }
    return n;
}

static int decode_error(const char *code)
{
    for (int i = 0; i < 5; i++) /* the first five reasons: no signature */
        if (strcmp(code, hub_stats_reasons[i]) == 0)
            return 1;
    return 0;
}

static const char *reason_of(const char *code)
{
    for (int i = 0; i < HUB_STATS_NREASON; i++)
        if (strcmp(code, hub_stats_reasons[i]) == 0)
            return hub_stats_reasons[i];
    return "other";
}

/* *st, prepared once (SQLITE_PREPARE_PERSISTENT), or NULL. */
static sqlite3_stmt *kept(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
    if (*st == NULL &&
        sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
    }
    return *st;
}

static void refusal_add(hub_stats *s, const uint8_t *feed, const char *reason)
{
    sqlite3_stmt *st = kept(s->db, &s->st_refusal,
                            "INSERT INTO refusal(key, reason, n) VALUES(?,?,1)"
                            " ON CONFLICT(key, reason) DO UPDATE SET n=n+1");
    if (st == NULL)
        return;
    sqlite3_bind_blob(st, 1, feed ? feed : (const uint8_t *)"",
                      feed ? SWLOG_PUBKEY_BYTES : 0, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static void station_add(hub_stats *s, const uint8_t *feed, uint64_t seen,
                        uint64_t seq, int accepted, uint64_t records,
                        int refused, int fork, int64_t skew)
{
    sqlite3_stmt *st = kept(
            s->db, &s->st_station,
            "INSERT INTO station(key, last_seen_ms, offered_max_seq, "
            "accepted, records, refused, forks, skew_max_ms) "
            "VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(key) DO UPDATE SET "
            "last_seen_ms=max(last_seen_ms, ?2),"
            "offered_max_seq=max(offered_max_seq, ?3),"
            "accepted=accepted+?4, records=records+?5, refused=refused+?6,"
            "forks=forks+?7,"
            "skew_max_ms=max(coalesce(skew_max_ms, ?8), ?8)");
    if (st == NULL)
        return;
    sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seen);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)seq);
    sqlite3_bind_int(st, 4, accepted);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)records);
    sqlite3_bind_int(st, 6, refused);
    sqlite3_bind_int(st, 7, fork);
    sqlite3_bind_int64(st, 8, skew);
    sqlite3_step(st);
    sqlite3_reset(st);
}

void hub_stats_push(hub_stats *s, const uint8_t *body, size_t len,
                    unsigned status, const uint8_t *answer, size_t alen,
                    uint64_t recv_ms)
{
    if (s == NULL)
        return;
    result *rs = NULL;
    size_t nr = 0;
    if (status == 200 || status == 409) {
        /* The answer is NUL-free JSON; copy to terminate it. */
        char *a = malloc(alen + 1);
        size_t cap = alen / 24 + 1; /* a result is longer than 24 bytes */
        if (cap > MAX_RESULTS)
            cap = MAX_RESULTS;
        rs = a ? malloc(cap * sizeof *rs) : NULL;
        if (rs != NULL) {
            memcpy(a, answer, alen);
            a[alen] = '\0';
            nr = parse_results(a, alen, rs, cap);
        }
        free(a);
    }
    pthread_mutex_lock(&s->mu);
    s->m.pushes++;
    if (status != 200 && status != 409)
        s->m.pushes_failed++;
    swlog_log *log = NULL;
    swlog_error e = {0};
    int tx = nr > 0 && sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) ==
                           SQLITE_OK;
    if (tx && swlog_log_open_mem(body, len, &log, &e) == SWLOG_OK) {
        const uint8_t *b;
        size_t l;
        uint64_t off;
        for (size_t i = 0; i < nr && swlog_log_next(log, &b, &l, &off, &e) == 1;
             i++) {
            const result *r = &rs[i];
            int acc = strcmp(r->status, "accepted") == 0;
            int dup = strcmp(r->status, "duplicate") == 0;
            int fork = strcmp(r->status, "fork") == 0;
            int ref = strcmp(r->status, "refused") == 0;
            s->m.accepted += acc;
            s->m.duplicate += dup;
            s->m.forks += fork;
            s->m.refused += ref;
            /* The hub checked this frame's signature unless a decode
             * error refused it: only then is its feed trusted. */
            int signed_ok = l >= 84 && !(ref && decode_error(r->error));
            if (ref)
                refusal_add(s, signed_ok ? b + 4 : NULL,
                            reason_of(r->error));
            if (!signed_ok)
                continue;
            /* An accepted frame passed the hub's strict decode: its
             * change-set header's record_count (FORMAT §5.1) is read in
             * place, without decoding (hashing) the frame again. */
            uint64_t records = 0;
            if (acc && l >= 128 && b[0] == SWLOG_TYPE_CHANGESET)
                records = (uint64_t)b[124] << 24 | (uint64_t)b[125] << 16 |
                          (uint64_t)b[126] << 8 | b[127];
            s->m.records += records;
            int64_t skew = (int64_t)(be64(b + 76) >> 16) - (int64_t)recv_ms;
            station_add(s, b + 4, recv_ms, be64(b + 36), acc, records,
                        ref, fork, skew);
        }
    }
    swlog_log_close(log);
    if (tx && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->mu);
    free(rs);
}

static void row_station(sqlite3_stmt *st, hub_stats_station *o)
{
    memset(o, 0, sizeof *o);
    const void *k = sqlite3_column_blob(st, 0);
    if (k != NULL && sqlite3_column_bytes(st, 0) == SWLOG_PUBKEY_BYTES)
        memcpy(o->feed, k, SWLOG_PUBKEY_BYTES);
    o->last_seen_ms = (uint64_t)sqlite3_column_int64(st, 1);
    o->offered_max_seq = (uint64_t)sqlite3_column_int64(st, 2);
    o->accepted = (uint64_t)sqlite3_column_int64(st, 3);
    o->records = (uint64_t)sqlite3_column_int64(st, 4);
    o->refused = (uint64_t)sqlite3_column_int64(st, 5);
    o->forks = (uint64_t)sqlite3_column_int64(st, 6);
    o->skew_max_ms = sqlite3_column_type(st, 7) == SQLITE_NULL
                         ? INT64_MIN
                         : sqlite3_column_int64(st, 7);
}

#define STATION_COLS                                                        \
    "SELECT key, last_seen_ms, offered_max_seq, accepted, records, refused," \
    " forks, skew_max_ms FROM station"

int hub_stats_stations(hub_stats *s, hub_stats_station **out, size_t *n,
                       size_t max, swlog_error *err)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st;
    int rc = SWLOG_OK;
    if (sqlite3_prepare_v2(s->db, STATION_COLS " ORDER BY key LIMIT ?", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = error_sqlite(err, s->db, "stations.db");
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            hub_stats_station *p = realloc(*out, cap * sizeof *p);
            if (p == NULL) {
                rc = error_set(err, SWLOG_ENOMEM, "out of memory");
                break;
            }
            *out = p;
        }
        row_station(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    if (rc != SWLOG_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int hub_stats_station_get(hub_stats *s, const uint8_t *feed,
                          hub_stats_station *o, swlog_error *err)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st;
    int r = 0;
    if (sqlite3_prepare_v2(s->db, STATION_COLS " WHERE key=?", -1, &st,
                           NULL) != SQLITE_OK)
        r = error_sqlite(err, s->db, "stations.db");
    else {
        sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            row_station(st, o);
            r = 1;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

int hub_stats_refusals(hub_stats *s,
                       void (*fn)(void *ctx, const uint8_t *feed,
                                  const char *reason, uint64_t n),
                       void *ctx, size_t max, swlog_error *err)
{
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st;
    int rc = SWLOG_OK;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT key, reason, n FROM refusal WHERE n > 0 "
                           "ORDER BY key, reason LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        rc = error_sqlite(err, s->db, "stations.db");
    else {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const void *k = sqlite3_column_blob(st, 0);
            int kn = sqlite3_column_bytes(st, 0);
            fn(ctx, kn == SWLOG_PUBKEY_BYTES ? k : NULL,
               (const char *)sqlite3_column_text(st, 1),
               (uint64_t)sqlite3_column_int64(st, 2));
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}
