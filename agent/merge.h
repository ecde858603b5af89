/* Merging signed change-sets into a replica (spec/MERGE.md): per column last
 * writer wins by HLC with a deterministic tie-break, deletes as tombstones,
 * concurrent edits (a record's replaced-value HLC that does not match what
 * this replica holds) recorded as conflicts for review. Hubs (push, bundles)
 * and stations (pull, bundles) run the same code, so replicas that merged
 * the same set of change-sets hold the same content, whatever the order and
 * however often each arrived. */
#ifndef MERGE_H
#define MERGE_H

#include <stdint.h>

#include "replica.h"
#include "swlog.h"

typedef struct merge_stats {
    uint64_t records;   /* records read */
    uint64_t applied;   /* column values (or deletes) that won and were written */
    uint64_t stale;     /* column values (or deletes) that lost: kept only in the log */
    uint64_t conflicts; /* concurrent edits recorded for review */
    uint64_t future;    /* frames whose HLC was more than MERGE_MAX_AHEAD_MS
                           ahead of this replica's clock (MERGE §9) */
} merge_stats;

/* MERGE §9: how far ahead of this replica's wall clock a frame's HLC may
 * be before it is flagged; the clock never observes more than wall + this. */
#define MERGE_MAX_AHEAD_MS 600000u

/* Merge the records of f, a change-set frame already decoded and verified
 * by the caller (signature, chain, key validity), into r. Must run inside
 * the caller's transaction (replica_begin ... replica_commit), so a merge
 * and whatever the caller moves with it (a cursor, a feed head) commit
 * together. The writes are not captured as local changes (nothing reaches
 * r's outbox), the version rows take the merged HLCs and r's clock moves
 * past f's HLC. Merging the same frame again changes nothing. st (may be
 * NULL) accumulates. On failure the caller rolls back. */
int merge_changeset(replica *r, const swlog_frame *f, merge_stats *st,
                    swlog_error *err);

/* MERGE §7 on its own, without a replica: every record's table and column
 * is declared by model m and every value has its column's type. The only
 * refusal merge_changeset makes for what f holds (the rest are the
 * replica's failures), so a hub can decide a frame's fate before merging
 * it (PROTOCOL §4.2). SWLOG_EVERSION for names of a newer schema version,
 * SWLOG_EINVAL otherwise. */
int merge_check(const schema_model *m, const swlog_frame *f,
                swlog_error *err);
/* merge_changeset for an f that passed merge_check against r's model
 * (a hub checks each change-set before storing it): the check is not
 * made again. */
int merge_changeset_checked(replica *r, const swlog_frame *f,
                            merge_stats *st, swlog_error *err);

/* SHA-256 over r's replicated content (every declared table's rows and
 * values, tombstones, and open conflicts) in a canonical order, so two
 * replicas that merged the same set of change-sets have the same hash. */
/* MERGE §9: how far hlc is ahead of r's wall clock beyond the bound:
 * *ahead_ms = 0 when within MERGE_MAX_AHEAD_MS, else the milliseconds
 * between the HLC's time and the wall clock. *bound (may be NULL) gets the
 * largest HLC the clock will observe now. A hub calls it before accepting a
 * frame (PROTOCOL §4.2 clock skew). */
int merge_ahead(replica *r, uint64_t hlc, uint64_t *ahead_ms, uint64_t *bound,
                swlog_error *err);

int merge_content_hash(replica *r, uint8_t out[SWLOG_HASH_BYTES],
                       swlog_error *err);

/* Register on db the SQL function sw_hist_covers(writes, col, a, b): 1
 * when the packed writes of a _sw_hist row (MERGE §4) hold a write of
 * column col whose replaced HLC is >= a and >= b (MERGE §5.5: it covers
 * a conflict between writes of HLCs a and b), else 0; NULL for damaged
 * bytes. Readers of the review state (agent/hub/hub_conflicts.h) call it
 * on their connection; registering twice is harmless. */
int merge_register_sql(sqlite3 *db, swlog_error *err);

#endif
