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

/* A change-set of a store-committed batch, its body copied into the job's
 * buffer at `at` (payload, sig, author: offsets inside the body). */
typedef struct hub_rframe {
    swlog_frame f;
    size_t at, payload, sig, author;
} hub_rframe;

/* One batch's change-sets for the replica's worker. */
typedef struct hub_rjob {
    hub_rframe *f;
    size_t n, cap;
    swlog_buf bodies; /* their bodies, copied */
    uint64_t leaves; /* the store's leaves after the batch */
} hub_rjob;

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
    /* The replica's worker (hub_batch.c): merges each store-committed
     * batch's change-sets (rw_work) into replica.db while the hub answers
     * and takes the next batch (rw_build). rw_mu guards the rw_ flags and
     * replica_behind; rep and rep_ belong to the worker while rw_have or
     * rw_busy, else to whoever holds h->mu. */
    hub_rjob rw_build, rw_work;
    pthread_mutex_t rw_mu;
    pthread_cond_t rw_cv;
    pthread_t rw_th;
    int rw_started;
    int rw_have;  /* rw_work holds a batch not merged yet */
    int rw_flush; /* commit the open transaction when idle (hub_flush) */
    int rw_busy;  /* committing for rw_flush */
    int rw_stop;
    int replica_behind; /* a replica merge or commit failed: catch up */
    /* replica.db's transaction spans batches (README "Durability and
     * recovery"): open, and how many store-committed batches it holds. */
    int rep_open;
    unsigned rep_batches;
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

/* Catches the replica up first when its worker failed before. */
int hub__batch_begin(hub *h, swlog_error *err);
/* Append the pending frames to their feed files, commit the store
 * (PROTOCOL §4.9), then hand the batch's change-sets to the replica's
 * worker, which merges them while the batch is answered (waiting first
 * for the worker to finish the batch before). An error leaves the rolling
 * back to the caller. A merge or commit failure on the worker does not
 * fail any batch (its frames are stored): the replica is marked behind
 * and caught up at the next hub__batch_begin. */
int hub__batch_commit(hub *h, swlog_error *err);
/* Roll back the batch (store, keys, its merges not handed over). */
void hub__batch_rollback(hub *h, hub_keys_mark mark);
/* Wait for the worker, then commit the replica's open transaction
 * (outside a batch, h->mu held): after recovery, at close. */
void hub__replica_flush(hub *h);
/* Ask the worker to commit the open transaction once it is idle (h->mu
 * held): the idle tick, hub_flush. */
void hub__replica_flush_soon(hub *h);
/* Stop the worker after hub__replica_flush (hub_close) and free its jobs. */
void hub__worker_stop(hub *h);
/* Add an accepted change-set to the batch's merges: its body is copied
 * (a request's is freed once answered; a feed file's buffer moves on). */
int hub__merge_add(hub *h, const swlog_frame *f, swlog_error *err);
/* PROTOCOL §4.2 for one frame inside the open batch. file_off < 0: a pushed
 * frame, appended at commit; else the frame's offset in its feed file
 * (recovery). Returns an error only when the hub failed; the frame's
 * outcome is in *o. */
int hub__ingest_frame(hub *h, const uint8_t *body, size_t len,
                      int64_t file_off, hub_outcome *o, swlog_error *err);

#endif
