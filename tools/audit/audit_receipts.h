/* Station-held receipts (PROTOCOL §4.4, spec/SECURITY.md §8.9): the hub
 * checkpoints and inclusion proofs a station stored in its replica
 * (agent/client/state.c: tables _sw_checkpoints and _sw_receipts), read
 * with SQLite, read-only. The one part of the auditor that needs SQLite;
 * it prints nothing.
 *
 * Memory: one receipt row and one checkpoint frame at a time (rows come
 * grouped by checkpoint, so each checkpoint is decoded and verified once). */
#ifndef AUDIT_RECEIPTS_H
#define AUDIT_RECEIPTS_H

#include <stdint.h>

#include "swlog.h"

/* 1 when path is a regular file that starts with the SQLite header. */
int audit_receipts_is_db(const char *path);

/* A stored checkpoint row. */
typedef struct audit_rcpt_cp {
    int64_t row;                  /* rowid in _sw_checkpoints */
    uint8_t hub[SWLOG_PUBKEY_BYTES]; /* its signer (the hub column is the
                                      * hub's URL), when code is SWLOG_OK */
    int code;       /* SWLOG_OK: a checkpoint frame with a valid signature;
                     * else why it is not */
    char why[160];
    const swlog_frame *frame; /* when code is SWLOG_OK; in the callback */
} audit_rcpt_cp;

/* A stored receipt, as checked against its checkpoint. */
typedef struct audit_rcpt {
    int64_t row; /* rowid in _sw_receipts */
    uint8_t hub[SWLOG_PUBKEY_BYTES], feed[SWLOG_PUBKEY_BYTES];
    uint8_t frame_id[SWLOG_HASH_BYTES];
    uint64_t seq, leaf, tree_size;
    const audit_rcpt_cp *cp; /* NULL: the checkpoint it names is missing */
    int code;  /* SWLOG_OK: the proof puts frame_id at leaf under the
                * checkpoint's root; else why not (in why) */
    char why[200];
} audit_rcpt;

typedef int (*audit_rcpt_cp_fn)(void *ctx, const audit_rcpt_cp *cp);
/* first: the first receipt of its checkpoint. */
typedef int (*audit_rcpt_fn)(void *ctx, const audit_rcpt *r, int first);

/* Every row of _sw_checkpoints. Returns 0 when read, 1 when the file is
 * not a station replica (no receipt tables: a hub's database, say; nothing
 * called), or a negative swlog code with err set when it cannot be read.
 * A nonzero callback return stops (returned as is). */
int audit_receipts_checkpoints(const char *path, audit_rcpt_cp_fn fn,
                               void *ctx, swlog_error *err);

/* Every row of _sw_receipts, grouped by checkpoint, checked. Returns as
 * audit_receipts_checkpoints. */
int audit_receipts_each(const char *path, audit_rcpt_fn fn, void *ctx,
                        swlog_error *err);

#endif
