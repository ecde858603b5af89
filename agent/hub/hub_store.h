/* The hub's bookkeeping store, behind a narrow interface: per-feed heads and
 * frame index, frozen feeds and fork evidence, parked (refused) frames, key
 * frames learnt from pushed feeds, and the Merkle log's leaves and complete
 * subtree hashes (FORMAT §9). hub_store_sqlite.c keeps it in SQLite
 * (`hub.db`); a provincial hub may provide the same functions over
 * PostgreSQL. Frame bytes themselves live in the feed files (hub_feeds.h).
 * Every write happens between hub_store_begin and hub_store_commit. */
#ifndef HUB_STORE_H
#define HUB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

typedef struct hub_store hub_store;

typedef struct hub_feed_head {
    uint64_t seq;                 /* 0: nothing held */
    uint8_t id[SWLOG_HASH_BYTES]; /* zero when seq is 0 */
    int frozen;                   /* a fork was seen: nothing more accepted */
    uint64_t end;                 /* feed file offset after the head frame */
} hub_feed_head;

int hub_store_open(const char *path, hub_store **out, swlog_error *err);
void hub_store_close(hub_store *s); /* NULL is fine */

int hub_store_begin(hub_store *s, swlog_error *err);
int hub_store_commit(hub_store *s, swlog_error *err);
void hub_store_rollback(hub_store *s);

/* Head of a feed; a zero head when unknown. */
int hub_store_head(hub_store *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                   hub_feed_head *h, swlog_error *err);
/* The frame held at (feed, seq): 1 with *id, *leaf (its Merkle leaf index)
 * and *offset (of its envelope in the feed file), 0 when none. Outputs may
 * be NULL. */
int hub_store_frame(hub_store *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                    uint64_t seq, uint8_t id[SWLOG_HASH_BYTES],
                    uint64_t *leaf, uint64_t *offset, swlog_error *err);
/* Record frame (feed, seq, id) stored at offset (its envelope; end: just
 * after it) as the feed's new head and append id to the Merkle log: *leaf
 * gets its index. */
int hub_store_add_frame(hub_store *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                        uint64_t seq, const uint8_t id[SWLOG_HASH_BYTES],
                        uint64_t offset, uint64_t end, uint64_t *leaf,
                        swlog_error *err);
/* Keep body (another frame at the held seq) as fork evidence and freeze the
 * feed. Keeping the same evidence twice is a no-op. */
int hub_store_fork(hub_store *s, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                   uint64_t seq, const uint8_t held[SWLOG_HASH_BYTES],
                   const uint8_t *body, size_t len, swlog_error *err);
/* Park a refused frame with its error code and message; keeps the newest
 * max_parked. feed NULL when the bytes named none. */
int hub_store_park(hub_store *s, const uint8_t *feed, uint64_t seq,
                   const char *code, const char *message,
                   const uint8_t *body, size_t len, unsigned max_parked,
                   swlog_error *err);
/* Counts for tests and status: feeds held, frozen feeds, parked frames,
 * fork evidence rows. */
typedef struct hub_store_counts {
    uint64_t feeds, frozen, parked, forks, leaves;
} hub_store_counts;
int hub_store_counts_get(hub_store *s, hub_store_counts *c,
                         swlog_error *err);

/* Key frames (certificates, rotations, revocations) accepted from pushed
 * feeds, so the key registry is rebuilt at start. */
int hub_store_keyframe_add(hub_store *s, const uint8_t *body, size_t len,
                           swlog_error *err);
/* Call fn for each in the order added; stops at fn's first non-zero. */
int hub_store_keyframes(hub_store *s,
                        int (*fn)(void *ctx, const uint8_t *body, size_t len),
                        void *ctx, swlog_error *err);
/* Call fn for each feed held, with its head. */
int hub_store_feeds(hub_store *s,
                    int (*fn)(void *ctx, const uint8_t *feed,
                              const hub_feed_head *h),
                    void *ctx, swlog_error *err);

/* The Merkle log: number of leaves, and the hash of the complete subtree
 * of 2^level leaves starting at leaf idx << level (level 0: the leaf hash
 * SHA-256(0x00 || id)). SWLOG_EARG when that subtree is not complete. */
uint64_t hub_store_leaves(hub_store *s);
/* The leaves of the store at path, opened read-only (beside a running hub,
 * what it has committed); writes nothing, creates nothing. */
int hub_store_leaves_at(const char *path, uint64_t *leaves, swlog_error *err);
int hub_store_node(hub_store *s, unsigned level, uint64_t idx,
                   uint8_t out[SWLOG_HASH_BYTES], swlog_error *err);

/* Change-sets the hub authors in its own feed (hub_author.h): record the
 * frame (seq, id, body verbatim) addressed to recipient (a unit code, or
 * "*" for every station of the county) and append id to the Merkle log
 * (*leaf gets its index). */
int hub_store_outbound_add(hub_store *s, uint64_t seq, const char *recipient,
                           const uint8_t signer[SWLOG_PUBKEY_BYTES],
                           const uint8_t id[SWLOG_HASH_BYTES],
                           const uint8_t *body, size_t len, uint64_t *leaf,
                           swlog_error *err);
/* Call fn, in seq order, for each authored frame with seq > after that is
 * addressed to unit or to "*" (unit NULL: every frame). Stops at fn's
 * first non-zero return and returns it. */
int hub_store_outbound(hub_store *s, uint64_t after, const char *unit,
                       int (*fn)(void *ctx, uint64_t seq,
                                 const char *recipient, const uint8_t *body,
                                 size_t len),
                       void *ctx, swlog_error *err);

#endif
