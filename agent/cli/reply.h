/* The hub's reply to an imported bundle (spec/PROTOCOL.md §9.1), stored at
 * the station like the receipts of a push. */
#ifndef REPLY_H
#define REPLY_H

#include <sqlite3.h>
#include <stdint.h>

#include "swlog.h"

/* PROTOCOL §9.1: the largest reply file read (each line is also within
 * the JSON reader's 1 MiB). */
#define REPLY_MAX_BYTES (64u * 1024 * 1024)

/* PROTOCOL §9.1: the largest pull body a reply's end line carries. */
#define REPLY_PULL_MAX_BYTES 500000u

typedef struct reply_stats {
    uint8_t hub[SWLOG_PUBKEY_BYTES];
    uint64_t receipted, accepted, duplicate, refused, acked_seq;
    /* The end line's "pull" (NULL when null): the hub's frames for this
     * station as a frames body, for bundle_import_mem; malloc'd, the
     * caller frees it. pull_more: the hub had more than it sent. */
    uint8_t *pull;
    size_t pull_len;
    uint64_t pull_frames, pull_after;
    int pull_more;
} reply_stats;

/* Verify every receipt of the reply file at path (signed by the hub that
 * station.conf's hub_key names, else the one pinned in db's sync state
 * for hub_name; proofs for the ids of this station's frames in log_path,
 * key pk), then store them as push_feed does (state_ack, state_refused).
 * Nothing is stored unless every answer verifies and the end line is
 * well formed; the pull frames are returned in st, not merged. */
int reply_import(sqlite3 *db, const char *hub_name, const char *hub_key_hex,
                 const char *log_path, const uint8_t pk[SWLOG_PUBKEY_BYTES],
                 const char *path, reply_stats *st, swlog_error *err);

#endif
