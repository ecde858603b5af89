/* Importing a bundle at a station (issue 3: stations with no network): a
 * FORMAT §3 file of frames, the same bytes as a push body (PROTOCOL §1),
 * carried on a USB stick from the county office. Every frame is decoded
 * strictly and verified, only trusted signers are accepted, each feed
 * must continue what was imported before, and the change-sets are merged
 * (spec/MERGE.md) in one transaction with the feed heads: all or nothing,
 * and a bundle imported twice changes nothing. Rules: agent/README.md
 * "Bundles". */
#ifndef BUNDLE_H
#define BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "merge.h"
#include "replica.h"
#include "swlog.h"

/* A bundle holds at most this many frames (checked while reading, before
 * anything is merged): 10 x the frames of a full sync batch. */
#define BUNDLE_MAX_FRAMES 100000u

typedef struct bundle_options {
    /* Signers whose frames are merged: the county hub's key (station.conf
     * hub_key). ntrusted keys of SWLOG_PUBKEY_BYTES each, back to back. */
    const uint8_t *trusted;
    size_t ntrusted;
    /* The station's own key (may be NULL): its frames are already in the
     * station's log and replica, so they are checked and skipped. */
    const uint8_t *self;
    /* Folder where imported frames are kept verbatim, one log per feed
     * (<signer hex>.log), for the auditor and `history`; NULL = not kept. */
    const char *inbox;
} bundle_options;

typedef struct bundle_stats {
    uint64_t frames;     /* frames read */
    uint64_t imported;   /* new frames accepted (merged or kept) */
    uint64_t duplicates; /* frames imported before: no-ops */
    uint64_t own;        /* the station's own frames: no-ops */
    uint64_t changesets; /* new change-sets merged */
    merge_stats merge;   /* what the merges did */
} bundle_stats;

/* Import the bundle at path into r (not inside a transaction: this opens
 * and commits its own). Refuses the whole bundle, changing nothing, on a
 * damaged or torn file, a frame that does not decode or verify, a frame of
 * an untrusted signer, a gap or fork against the heads imported before
 * (_sw_pull), or a change-set the merge refuses; err names the file,
 * offset, feed and seq. st (may be NULL) is filled. */
int bundle_import(replica *r, const char *path, const bundle_options *opt,
                  bundle_stats *st, swlog_error *err);

/* The same for bytes in memory (a pull answer, PROTOCOL §10): name names
 * them in messages. */
int bundle_import_mem(replica *r, const char *name, const uint8_t *buf,
                      size_t len, const bundle_options *opt,
                      bundle_stats *st, swlog_error *err);

/* The head imported so far of a feed: seq 0 and a zero id when none. */
int bundle_head(replica *r, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                uint64_t *seq, uint8_t id[SWLOG_HASH_BYTES],
                swlog_error *err);

#endif
