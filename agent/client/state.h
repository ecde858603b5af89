/* What the sync client remembers, per hub and feed, in a SQLite database
 * the caller owns: a station's replica, or a county hub's own file. Tables
 * (created when missing; layout in agent/client/README.md "State"):
 *   _sw_sync_hub    the hub's signing key, pinned on first contact
 *   _sw_sync        per hub and feed: acknowledged mark, last try, result
 *   _sw_checkpoints receipts' checkpoint frames, verbatim
 *   _sw_receipts    per frame: leaf index, tree size, inclusion proof
 *   _sw_refused     frames the hub refused, with its reason */
#ifndef STATE_H
#define STATE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

typedef struct state state;

/* hub names the hub (its base URL). db stays the caller's. */
int state_open(sqlite3 *db, const char *hub, state **out, swlog_error *err);
void state_close(state *s); /* NULL is fine */

/* The pinned key: 1 and key set, 0 when none is pinned yet. */
int state_hub_key(state *s, uint8_t key[SWLOG_PUBKEY_BYTES],
                  swlog_error *err);
int state_pin_hub_key(state *s, const uint8_t key[SWLOG_PUBKEY_BYTES],
                      int64_t now_ms, swlog_error *err);

/* The acknowledged mark of feed: seq 0 and a zero id when none. */
int state_acked(state *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                uint64_t *seq, uint8_t id[SWLOG_HASH_BYTES],
                swlog_error *err);

/* One verified receipt item: frame seq/id of feed at leaf_index. */
typedef struct state_item {
    uint64_t seq;
    uint8_t id[SWLOG_HASH_BYTES];
    uint64_t leaf_index;
    size_t proof_len;
    uint8_t proof[SWLOG_MAX_PROOF][SWLOG_HASH_BYTES];
} state_item;

/* In one transaction: store the checkpoint (ckpt[0..ckpt_len), id
 * ckpt_id, tree_size) and the n items, clear refusals up to the new mark,
 * then move feed's mark to (acked_seq, acked_id). Nothing on failure. */
int state_ack(state *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
              const uint8_t *ckpt, size_t ckpt_len,
              const uint8_t ckpt_id[SWLOG_HASH_BYTES], uint64_t tree_size,
              const state_item *items, size_t n, uint64_t acked_seq,
              const uint8_t acked_id[SWLOG_HASH_BYTES], int64_t now_ms,
              swlog_error *err);

/* The hub refused frame seq (id) of feed with error and message. */
int state_refused(state *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                  uint64_t seq, const uint8_t id[SWLOG_HASH_BYTES],
                  const char *error, const char *message, int64_t now_ms,
                  swlog_error *err);

/* The outcome of one try for feed: local_seq (last seq in the log),
 * hub_seq (the hub's head), and error NULL for success (last_ok moves) or
 * a one-line reason (kept as last_error). */
int state_note(state *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
               uint64_t local_seq, uint64_t hub_seq, const char *error,
               int64_t now_ms, swlog_error *err);

/* Status of every hub and feed in db, for people (text) or scripts (one
 * JSON object). Appends to out. Tables missing: "never synced". */
int state_status_text(sqlite3 *db, int64_t now_ms, swlog_buf *out,
                      swlog_error *err);
int state_status_json(sqlite3 *db, swlog_buf *out, swlog_error *err);

#endif
