/* Recovery of an unfinished seal: compare the replica's feed state with
 * the log, re-sign reserved change-sets byte-identically, append what the
 * log lacks, mark. FORMAT §8.1-§8.4; the argument is at the top of seal.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "seal_internal.h"

static int load_feed(sealer *s, swlog_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = seal__prepare(s->db,
                           "INSERT OR IGNORE INTO _sw_feed "
                           "VALUES(?1, 1, 0, ?2)",
                           &st, "creating the feed state", err);
    if (rc != SWLOG_OK)
        return rc;
    static const uint8_t zero[SWLOG_HASH_BYTES];
    sqlite3_bind_blob(st, 1, s->pk, sizeof s->pk, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, zero, sizeof zero, SQLITE_STATIC);
    rc = seal__done_stmt(s->db, st, "creating the feed state", err);
    rc = rc ? rc
            : seal__prepare(s->db,
                            "SELECT next_seq, head_seq, head_id, "
                            "(SELECT count(*) FROM _sw_inflight WHERE "
                            "signer <> ?1) FROM _sw_feed WHERE signer = ?1",
                            &st, "reading the feed state", err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_blob(st, 1, s->pk, sizeof s->pk, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = error_sqlite(err, s->db, "reading the feed state");
    } else if (sqlite3_column_bytes(st, 2) != SWLOG_HASH_BYTES) {
        rc = error_set(err, SWLOG_ECORRUPT, "feed state: bad head id");
    } else if (sqlite3_column_int64(st, 3) != 0) {
        rc = error_set(err, SWLOG_EARG,
                       "an unfinished seal belongs to another station key; "
                       "open the sealer with that key first");
    } else {
        s->next_seq = (uint64_t)sqlite3_column_int64(st, 0);
        s->head_seq = (uint64_t)sqlite3_column_int64(st, 1);
        memcpy(s->head_id, sqlite3_column_blob(st, 2), SWLOG_HASH_BYTES);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The reserved change-sets, in seq order, into meta[0..*n). */
static int load_inflight(sealer *s, size_t *n, swlog_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = seal__prepare(s->db,
                           "SELECT seq, lo, hi, count, frame_hlc, sv, "
                           "author FROM _sw_inflight WHERE signer = ?1 "
                           "ORDER BY seq",
                           &st, "reading the reservation", err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_blob(st, 1, s->pk, sizeof s->pk, SQLITE_STATIC);
    size_t k = 0;
    int step;
    while (rc == SWLOG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = seal__pool_reserve(s, k + 1, err);
        if (rc != SWLOG_OK)
            break;
        cs_meta *c = &s->meta[k];
        memset(c, 0, sizeof *c);
        c->seq = (uint64_t)sqlite3_column_int64(st, 0);
        c->lo = (uint64_t)sqlite3_column_int64(st, 1);
        c->hi = (uint64_t)sqlite3_column_int64(st, 2);
        c->count = (uint32_t)sqlite3_column_int64(st, 3);
        c->frame_hlc = (uint64_t)sqlite3_column_int64(st, 4);
        c->sv = (uint32_t)sqlite3_column_int64(st, 5);
        const char *a = (const char *)sqlite3_column_text(st, 6);
        if (c->seq != s->head_seq + 1 + k || a == NULL ||
            strlen(a) > SWLOG_MAX_AUTHOR || c->count == 0)
            rc = error_set(err, SWLOG_ECORRUPT,
                           "feed state: reservation of seq %" PRIu64
                           " does not follow the head",
                           c->seq);
        else
            memcpy(c->author, a, strlen(a) + 1);
        k++;
    }
    if (rc == SWLOG_OK && step != SQLITE_DONE)
        rc = error_sqlite(err, s->db, "reading the reservation");
    sqlite3_finalize(st);
    if (rc == SWLOG_OK && s->next_seq != s->head_seq + 1 + k)
        rc = error_set(err, SWLOG_ECORRUPT,
                       "feed state: next seq %" PRIu64 " but head %" PRIu64
                       " and %zu reserved",
                       s->next_seq, s->head_seq, k);
    if (rc == SWLOG_OK)
        *n = k;
    return rc;
}

/* What the log holds of our feed. ids[i] of seq head+1+i for i < k. */
typedef struct log_view {
    uint64_t last_seq; /* 0: no frame of ours */
    int head_found;
    uint64_t end;      /* offset past the last whole frame; 0 no file */
    uint8_t (*ids)[SWLOG_HASH_BYTES];
} log_view;

static int scan_log(sealer *s, size_t k, log_view *v, swlog_error *err)
{
    swlog_log *rd = NULL;
    swlog_error e = {0};
    struct stat sb;
    int rc = SWLOG_OK;
    if (stat(s->path, &sb) != 0 && errno == ENOENT)
        goto check; /* no log yet: created when opened to append */
    rc = swlog_log_open(s->path, SWLOG_READ, &rd, &e);
    if (rc != SWLOG_OK)
        return error_set(err, (swlog_code)rc, "opening the log: %s", e.msg);
    const uint8_t *body;
    size_t len;
    uint64_t off;
    while ((rc = swlog_log_next(rd, &body, &len, &off, err)) == 1) {
        swlog_frame f;
        rc = swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &f, &e);
        if (rc != SWLOG_OK) {
            rc = error_set(err, (swlog_code)rc,
                           "log frame at offset %" PRIu64 ": %s", off, e.msg);
            break;
        }
        if (memcmp(f.signer, s->pk, sizeof s->pk) != 0)
            continue;
        if (v->last_seq != 0 && f.seq != v->last_seq + 1) {
            rc = error_set(err, SWLOG_ESEQ,
                           "log frame at offset %" PRIu64 ": seq %" PRIu64
                           " after %" PRIu64,
                           off, f.seq, v->last_seq);
            break;
        }
        v->last_seq = f.seq;
        if (f.seq == s->head_seq && s->head_seq > 0) {
            if (memcmp(f.id, s->head_id, SWLOG_HASH_BYTES) != 0) {
                rc = error_set(err, SWLOG_EFORK,
                               "log frame seq %" PRIu64 " is not the one "
                               "the replica sealed",
                               f.seq);
                break;
            }
            v->head_found = 1;
        }
        if (f.seq > s->head_seq && f.seq <= s->head_seq + k)
            memcpy(v->ids[f.seq - s->head_seq - 1], f.id, SWLOG_HASH_BYTES);
    }
    v->end = swlog_log_end(rd);
    swlog_log_close(rd);
    if (rc < 0)
        return rc;
check:
    if (s->head_seq > 0 && !v->head_found)
        return error_set(err, SWLOG_ECHAIN,
                         "the log ends before seq %" PRIu64 " that the "
                         "replica sealed (log replaced or truncated?)",
                         s->head_seq);
    if (v->last_seq > s->head_seq + k)
        return error_set(err, SWLOG_ESEQ,
                         "the log holds seq %" PRIu64 " that the replica "
                         "never reserved",
                         v->last_seq);
    return SWLOG_OK;
}

/* Rebuild reserved change-set i from its entries. */
static int rebuild(sealer *s, size_t i, swlog_error *err)
{
    cs_meta *c = &s->meta[i];
    cs_meta want = *c;
    fill f = {0};
    f.s = s;
    f.err = err;
    f.rebuild = 1;
    f.n = i + 1;
    f.cursor = c->lo;
    swlog_cs_reset(s->cs[i]);
    c->count = 0;
    c->ntables = 0;
    c->dictcols = 0;
    int rc = capture_scan(s->db, s->m, want.lo, want.count,
                          seal__take_entry, &f, err);
    if (rc != SWLOG_OK)
        return rc;
    if (c->count != want.count || c->hi != want.hi)
        return error_set(err, SWLOG_ECORRUPT,
                         "the outbox no longer holds the entries reserved "
                         "for seq %" PRIu64,
                         want.seq);
    c->hi = want.hi;
    return SWLOG_OK;
}

int seal__recover(sealer *s, seal_stats *st, swlog_error *err)
{
    swlog_log_close(s->log);
    s->log = NULL;
    size_t k = 0;
    log_view v = {0};
    int rc = load_feed(s, err);
    rc = rc ? rc : load_inflight(s, &k, err);
    if (rc == SWLOG_OK && k > 0 &&
        (v.ids = calloc(k, sizeof *v.ids)) == NULL)
        rc = error_set(err, SWLOG_ENOMEM, "sealing: out of memory");
    rc = rc ? rc : scan_log(s, k, &v, err);
    if (rc == SWLOG_OK) {
        swlog_error e = {0};
        rc = swlog_log_open(s->path, SWLOG_APPEND | SWLOG_CREATE, &s->log,
                            &e);
        if (rc != SWLOG_OK)
            rc = error_set(err, (swlog_code)rc, "opening the log: %s", e.msg);
        else if (v.end != 0 && swlog_log_end(s->log) != v.end)
            rc = error_set(err, SWLOG_EIO,
                           "the log changed while it was opened (another "
                           "writer?)");
    }
    for (size_t i = 0; rc == SWLOG_OK && i < k; i++)
        rc = rebuild(s, i, err);
    rc = rc ? rc : seal__sign_all(s, k, err);
    size_t in_log = v.last_seq > s->head_seq ? v.last_seq - s->head_seq : 0;
    for (size_t i = 0; rc == SWLOG_OK && i < in_log; i++)
        if (memcmp(v.ids[i], s->meta[i].id, SWLOG_HASH_BYTES) != 0)
            rc = error_set(err, SWLOG_EFORK,
                           "log frame seq %" PRIu64 " differs from its "
                           "re-signed reservation; refusing to fork",
                           s->meta[i].seq);
    if (rc == SWLOG_OK && k > 0) {
        rc = seal__append(s, in_log, k, err);
        rc = rc ? rc : seal__mark(s, k, err);
        if (rc == SWLOG_OK && st != NULL) {
            st->recovered += k;
            for (size_t i = 0; i < k; i++)
                st->records += s->meta[i].count;
            st->changesets += k - in_log;
        }
    }
    free(v.ids);
    if (rc == SWLOG_OK)
        s->broken = 0;
    return rc;
}

