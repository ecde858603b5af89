/* Change capture: the outbox, the clock and the per-column versions, all in
 * the replica, filled by triggers generated from the schema declaration.
 * Design, limits and the exact layout: agent/README.md. */
#ifndef CAPTURE_H
#define CAPTURE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "swlog.h"

/* Outbox kinds. 1 and 2 are both FORMAT §5.2 upserts; 3 is a delete. */
#define CAPTURE_INSERT 1
#define CAPTURE_UPDATE 2
#define CAPTURE_DELETE 3

/* The operator recorded for writes made outside replica_begin()/
 * replica_commit() (the sqlite3 shell, other programs): README §Operator. */
#define CAPTURE_DEFAULT_OPERATOR "direct"

/* The engine version (README §Merged writes), recorded in the replica's
 * _sw_meta as engine_version (absent = 1) beside the schema version: 2 =
 * the capture triggers skip writes made while _sw_state.merging is 1.
 * replica_open_model() reinstalls the triggers of an older replica. */
#define CAPTURE_ENGINE_VERSION 2

/* Create the outbox, clock and version tables if absent, widen the outbox
 * to the model, and (re)create every capture trigger from the declaration,
 * stamping entries with m->version. Run inside the caller's transaction. */
int capture_install(sqlite3 *db, const schema_model *m, swlog_error *err);

/* Drop every capture trigger (migration steps run without capture: every
 * replica runs the same steps itself, so their writes are not changes to
 * send). capture_install puts them back. */
int capture_remove_triggers(sqlite3 *db, swlog_error *err);

/* One captured column of an entry. value is owned by the entry's
 * statement and valid until the callback returns. replaced_hlc 0 = none. */
typedef struct capture_value {
    const char *column;
    sqlite3_value *value;
    uint64_t replaced_hlc;
} capture_value;

typedef struct capture_entry {
    uint64_t hlc;            /* the record's HLC; unique, ascending */
    unsigned schema_version; /* the model the write was captured under */
    const char *table;
    const char *row_id;      /* text UUID, SCHEMA §2.1 */
    int kind;                /* CAPTURE_INSERT / _UPDATE / _DELETE */
    const char *operator_;   /* never NULL: the default is filled in */
    uint64_t replaced_hlc;   /* deletes: newest version of the row, 0 none */
    size_t nvalues;          /* inserts: non-null columns; updates: changed */
    const capture_value *values; /* in declaration order */
} capture_entry;

typedef int (*capture_fn)(const capture_entry *e, void *ctx);

/* Call fn for the unsealed entries with hlc > after, in HLC order (the order
 * of the writes), at most limit of them (0 = no limit). Stops at the first
 * non-zero return of fn and returns it. Entries of a table m does not
 * declare fail with SWLOG_EINVAL. */
int capture_scan(sqlite3 *db, const schema_model *m, uint64_t after,
                 size_t limit, capture_fn fn, void *ctx, swlog_error *err);

/* Number of unsealed entries, and the sealed-up-to cursor. */
int capture_pending(sqlite3 *db, uint64_t *count, swlog_error *err);
int capture_sealed_upto(sqlite3 *db, uint64_t *hlc, swlog_error *err);
/* Mark every entry with hlc <= upto sealed. Call in the transaction that
 * persists the change-set's sequence number, so both or neither happen. */
int capture_mark_sealed(sqlite3 *db, uint64_t upto, swlog_error *err);
/* Delete sealed entries (the clock lives in _sw_state, not in them). */
int capture_prune(sqlite3 *db, swlog_error *err);

/* The clock (README §Clock). capture_clock_next takes a fresh HLC (for a
 * frame header or a merge) and persists it; capture_clock_observe raises the
 * clock to at least a received HLC; capture_clock_last reads the newest HLC
 * issued. */
int capture_clock_next(sqlite3 *db, uint64_t *hlc, swlog_error *err);
int capture_clock_observe(sqlite3 *db, uint64_t remote, swlog_error *err);
/* The replica's wall clock as an HLC, an SQL expression over _sw_state
 * (README §Clock). */
#define CAPTURE_WALL_HLC                                                     \
    "((CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) " \
    "+ offset_ms) << 16)"
/* What n capture triggers firing one after the other do to the clock,
 * ?1 = n > 0: last = max(last + n, wall + n - 1) (exact while the wall
 * clock stays in one millisecond, never below that otherwise). The merge,
 * whose writes the triggers skip, ticks the clock so (MERGE §8.1). */
#define CAPTURE_TICKS_SQL                                                    \
    "UPDATE _sw_state SET last = max(last + ?1, " CAPTURE_WALL_HLC " + ?1 - 1)"
/* MERGE §8.1, README §Merged writes: ?1 = 1 while a connection writes
 * merged values, which the capture triggers then skip; set back to 0 in
 * the same transaction before the merge returns. */
#define CAPTURE_MERGING_SQL "UPDATE _sw_state SET merging = ?1"
int capture_clock_last(sqlite3 *db, uint64_t *hlc, swlog_error *err);
/* Tests only: shift the wall clock the replica reads by offset_ms (negative
 * = the machine's clock set back). Persistent until set back to 0. */
int capture_clock_set_offset(sqlite3 *db, int64_t offset_ms,
                             swlog_error *err);

/* Replaced-value HLC of one column of a row, from the version store: 0 when
 * unknown. For tests and for the merge step. */
int capture_column_version(sqlite3 *db, const char *table, const char *row_id,
                           const char *column, uint64_t *hlc,
                           swlog_error *err);

#endif
