/* What hub.c and hub_push.c share: the hub object and the batch steps. */
#ifndef HUB_INTERNAL_H
#define HUB_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "hub.h"
#include "hub_feeds.h"
#include "hub_keys.h"
#include "hub_replica.h"
#include "hub_store.h"
#include "keyfile.h"

typedef struct hub_pending {
    const uint8_t *feed; /* the signer field inside body */
    const uint8_t *body;
    size_t len;
    uint64_t offset; /* where it goes in the feed's file */
} hub_pending;


/* Pushes that arrive together go as one batch (hub_push.c): at most this
 * many pushes and frames a group. */
#define HUB_GROUP_PUSHES 32
#define HUB_GROUP_FRAMES 1024

struct push_req;

struct hub {
    hub_config cfg;
    pthread_mutex_t mu; /* one ingest (and one store reader) at a time */
    /* Pushes waiting for a batch, and whether one runs (hub_push.c). */
    pthread_mutex_t gq_mu;
    pthread_cond_t gq_cv;
    struct push_req *gq_head, *gq_tail;
    int gq_busy;
    uint64_t batches; /* committed since start (atomic; hub_batches) */
    hub_store *store;
    hub_replica *rep;
    hub_feeds *feeds;
    hub_keys keys;
    keyfile_key *key;
    uint8_t pk[SWLOG_PUBKEY_BYTES];
    swlog_log *own;      /* the hub key's feed: checkpoints */
    swlog_head own_next; /* its next frame's seq and prev; hlc: the last */
    swlog_buf cp;        /* newest checkpoint body */
    uint64_t cp_size;
    uint8_t cp_root[SWLOG_HASH_BYTES];
    int have_cp;
    hub_pending *pend; /* frames of the open batch to append */
    size_t npend, cap_pend;
    /* Accepted change-sets of the open batch (their bodies are the
     * request's, alive until the batch ends), merged in order by a thread
     * the first one starts (hub_batch.c) while ingest goes on. merge_mu
     * guards merge, nmerge and the merge_ fields below. */
    swlog_frame *merge;
    size_t nmerge, cap_merge;
    pthread_mutex_t merge_mu;
    pthread_cond_t merge_cv;
    pthread_t merge_th;
    int merging;     /* merge_th runs */
    int merge_close; /* 1: no more frames come; 2: stop (rollback) */
    size_t merged;   /* frames merge_th has merged */
    int merge_rc;
    swlog_error merge_err;
    int replica_behind; /* a replica commit failed after the store's */
    /* replica.db's transaction spans batches (README "Durability and
     * recovery"): open, and how many store-committed batches it holds. */
    int rep_open;
    unsigned rep_batches;
    pthread_t commit_th; /* the replica's commit, while committing */
    int committing;
    uint64_t caught_up; /* frames merged again by the last catch-up */
    uint64_t recovered, recovered_cut; /* frames, by the last recovery */
    int lock_fd;                       /* DATA/hub.lock (hub_author.h) */
    struct hub_nonces *nonces;         /* pull replay cache (hub_pull.c) */
};

enum hub_status { HUB_ACCEPTED, HUB_DUPLICATE, HUB_REFUSED, HUB_FORK };

typedef struct hub_outcome {
    int status; /* enum hub_status */
    int have_feed, have_id;
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    uint64_t seq;
    uint8_t id[SWLOG_HASH_BYTES];
    uint64_t leaf; /* accepted, duplicate */
    const char *error;
    char message[240];
} hub_outcome;

uint64_t hub__now_ms(void);
int hub__parse_feed(const char *hex, uint8_t feed[SWLOG_PUBKEY_BYTES]);
/* Sign a checkpoint over every leaf unless the newest already covers
 * them. */
int hub__checkpoint_sign(hub *h, swlog_error *err);
/* Ingest frames found in feed files beyond the stored heads. */
int hub__recover(hub *h, swlog_error *err);
/* Receipt fields {"hub":..,"checkpoint":..,"tree_size":..,"root":.. (no
 * closing brace). */
int hub__receipt_head(hub *h, swlog_buf *out);

/* Merge into the replica the leaves the store holds beyond the replica's
 * merged leaves (hub_replica.h), from the feed files; h->caught_up gets
 * their number. Outside a batch. */
int hub__replica_catch_up(hub *h, swlog_error *err);

/* Catches the replica up first when a commit of it failed before. */
int hub__batch_begin(hub *h, swlog_error *err);
/* Append the pending frames to their feed files while another thread
 * merges the batch's change-sets into the replica, then commit the store
 * (PROTOCOL §4.9). The replica's transaction stays open across batches;
 * every HUB_REPLICA_GROUP batches its commit starts on the other thread
 * (hub__batch_settle waits for it). An error before the store's commit
 * leaves the rolling back to the caller; a failed replica commit after it
 * does not fail the batch (its frames are stored): the replica is caught
 * up before the next one. */
int hub__batch_commit(hub *h, swlog_error *err);
/* Roll back the batch; the replica's open transaction too, with the
 * earlier batches it held (marked behind: catch-up merges them again). */
void hub__batch_rollback(hub *h, hub_keys_mark mark);
/* Wait for the replica's commit that hub__batch_commit left running (it
 * overlaps the answer and the next request); a no-op when none is. */
void hub__batch_settle(hub *h);
/* Settle, then commit the replica's open transaction (outside a batch, h->mu
 * held): at the idle tick (hub_flush), after recovery, at close. */
void hub__replica_flush(hub *h);
/* Add an accepted change-set to the batch's merges (hub__batch_commit);
 * f borrows the request's body. */
int hub__merge_add(hub *h, const swlog_frame *f, swlog_error *err);
/* PROTOCOL §4.2 for one frame inside the open batch. file_off < 0: a pushed
 * frame, appended at commit; else the frame's offset in its feed file
 * (recovery). Returns an error only when the hub failed; the frame's
 * outcome is in *o. */
int hub__ingest_frame(hub *h, const uint8_t *body, size_t len,
                      int64_t file_off, hub_outcome *o, swlog_error *err);

#endif
