/* Conflicts waiting for review (spec/MERGE.md §5.5): a row of _sw_conflicts
 * is pending until the history (_sw_hist) holds a write of its (table,
 * row, column) whose replaced HLC is at least both sides' HLCs -- a writer
 * who had seen the outcome wrote the column again. `swsync-hub resolve`
 * authors such a write; so does any later edit of the column. The state is
 * derived from replicated data only, so every replica that merged the same
 * writes agrees on it, and no table is added to the content hash.
 * Each conflict has a stable short id: the first HUB_CONFLICT_ID_HEX hex
 * digits of SHA-256 over its identity (MERGE §5.3). */
#ifndef HUB_CONFLICTS_H
#define HUB_CONFLICTS_H

#include <sqlite3.h>
#include <stdint.h>

#include "swlog.h"

#define HUB_CONFLICT_ID_HEX 12
#define HUB_CONFLICTS_MAX_SCAN 1000000 /* rows examined per listing */

/* WHERE clause (alias c for _sw_conflicts) selecting pending conflicts. */
#define HUB_CONFLICTS_PENDING                                                \
    "NOT EXISTS (SELECT 1 FROM _sw_hist h WHERE h.tbl = c.tbl AND "        \
    "h.row_id = c.row_id AND "                                             \
    "sw_hist_covers(h.writes, c.col, c.win_hlc, c.lose_hlc))"

typedef struct hub_conflict {
    char id[HUB_CONFLICT_ID_HEX + 1];
    char tbl[64], col[64];
    char row_id[40];
    int win_kind; /* 1 column write, 2 delete */
    uint64_t win_hlc, lose_hlc;
    uint8_t win_signer[SWLOG_PUBKEY_BYTES], lose_signer[SWLOG_PUBKEY_BYTES];
    uint8_t win_frame[SWLOG_HASH_BYTES], lose_frame[SWLOG_HASH_BYTES];
    /* The values as SQLite holds them (valid during the callback only). */
    sqlite3_value *win_value, *lose_value;
} hub_conflict;

/* Call cb for each pending conflict (ordered by table, row, column, winner
 * HLC), at most HUB_CONFLICTS_MAX_SCAN; cb returns nonzero to stop. A
 * replica without merge tables has none. Returns SWLOG_OK or an error. */
int hub_conflicts_each(sqlite3 *db, int (*cb)(void *, const hub_conflict *),
                       void *ctx, swlog_error *err);
/* Pending conflicts, all (feed NULL) or naming feed as a side. */
uint64_t hub_conflicts_pending(sqlite3 *db, const uint8_t *feed);

#endif
