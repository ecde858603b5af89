/* The batch's transaction (agent/hub/README.md "Durability and
 * recovery", PROTOCOL §4.9): begin, commit (feed files while a second
 * thread merges, then the store; the replica's transaction stays open for
 * up to HUB_REPLICA_GROUP batches, then commits on that thread until
 * hub__batch_settle), rollback, and hub__replica_flush. */
#include "hub_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../error.h"

/* Store-committed batches replica.db's transaction holds before it
 * commits (README "Durability and recovery"): one commit writes the pages
 * the batches share (B-tree interior pages, the tables' last leaves) once. */
#define HUB_REPLICA_GROUP 8

static void merge_finish(hub *h, int how);

int hub__batch_begin(hub *h, swlog_error *err)
{
    hub__batch_settle(h);
    h->npend = 0;
    h->nmerge = 0;
    h->merged = 0;
    h->merge_close = 0;
    h->merge_rc = SWLOG_OK;
    if (h->replica_behind) {
        int rc = hub__replica_catch_up(h, err);
        if (rc != SWLOG_OK)
            return rc;
        h->replica_behind = 0;
    }
    int rc = hub_store_begin(h->store, err);
    if (rc != SWLOG_OK || h->rep_open)
        return rc;
    rc = hub_replica_begin(h->rep, err);
    if (rc != SWLOG_OK)
        hub_store_rollback(h->store);
    else
        h->rep_open = 1;
    return rc;
}

void hub__batch_rollback(hub *h, hub_keys_mark mark)
{
    merge_finish(h, 2);
    /* The replica's transaction goes with the earlier batches it held:
     * they are in the store, so catch-up merges them again. */
    if (h->rep_open) {
        hub_replica_rollback(h->rep);
        h->rep_open = 0;
        if (h->rep_batches > 0)
            h->replica_behind = 1;
        h->rep_batches = 0;
    }
    hub_store_rollback(h->store);
    hub_keys_restore(&h->keys, mark);
    h->npend = 0;
    h->nmerge = 0;
}

/* The batch's merges, in frame order, on their own thread: started by the
 * first change-set ingest adds, they go on while the rest are checked and
 * while the feed files are written and fsynced. Stops at the first error
 * (merge_rc), when closed and drained, or when told to stop. */
static void *merge_run(void *p)
{
    hub *h = p;
    pthread_mutex_lock(&h->merge_mu);
    for (;;) {
        while (h->merged == h->nmerge && h->merge_close == 0)
            pthread_cond_wait(&h->merge_cv, &h->merge_mu);
        if (h->merge_close == 2 || h->merged == h->nmerge ||
            h->merge_rc != SWLOG_OK)
            break;
        swlog_frame f = h->merge[h->merged]; /* merge may move when added to */
        pthread_mutex_unlock(&h->merge_mu);
        swlog_error e = {0};
        int rc = hub_replica_merge_checked(h->rep, &f, &e);
        pthread_mutex_lock(&h->merge_mu);
        h->merged++;
        if (rc != SWLOG_OK) {
            h->merge_rc = rc;
            h->merge_err = e;
        }
    }
    pthread_mutex_unlock(&h->merge_mu);
    return NULL;
}

/* Tell the merge thread no more frames come (how: 1 finish, 2 stop) and
 * wait for it; without one, finish the merges here. */
static void merge_finish(hub *h, int how)
{
    if (h->merging) {
        pthread_mutex_lock(&h->merge_mu);
        h->merge_close = how;
        pthread_cond_signal(&h->merge_cv);
        pthread_mutex_unlock(&h->merge_mu);
        pthread_join(h->merge_th, NULL);
        h->merging = 0;
    }
    while (how == 1 && h->merge_rc == SWLOG_OK && h->merged < h->nmerge) {
        h->merge_rc = hub_replica_merge_checked(h->rep, &h->merge[h->merged],
                                                &h->merge_err);
        h->merged++;
    }
}

/* The replica's commit after the store's: a failure leaves the replica
 * behind the store, caught up before the next batch. */
static void *replica_commit_run(void *p)
{
    hub *h = p;
    swlog_error rerr = {0};
    if (hub_replica_commit(h->rep, &rerr) != SWLOG_OK)
        h->replica_behind = 1;
    return NULL;
}

static int append_feeds(hub *h, swlog_error *err)
{
    int rc = SWLOG_OK;
    const uint8_t **bodies = NULL;
    size_t *lens = NULL;
    char *done = NULL;
    if (h->npend > 0) {
        bodies = malloc(h->npend * sizeof *bodies);
        lens = malloc(h->npend * sizeof *lens);
        done = calloc(h->npend, 1);
        if (bodies == NULL || lens == NULL || done == NULL)
            rc = error_set(err, SWLOG_ENOMEM, "out of memory");
    }
    /* One append (one fsync) per feed, its frames in batch order. */
    for (size_t i = 0; rc == SWLOG_OK && i < h->npend; i++) {
        if (done[i])
            continue;
        size_t n = 0;
        for (size_t j = i; j < h->npend; j++)
            if (!done[j] && memcmp(h->pend[j].feed, h->pend[i].feed,
                                   SWLOG_PUBKEY_BYTES) == 0) {
                bodies[n] = h->pend[j].body;
                lens[n++] = h->pend[j].len;
                done[j] = 1;
            }
        rc = hub_feeds_append(h->feeds, h->pend[i].feed, h->pend[i].offset,
                              bodies, lens, n, err);
    }
    free(bodies);
    free(lens);
    free(done);
    return rc;
}

int hub__batch_commit(hub *h, swlog_error *err)
{
    int rc = append_feeds(h, err);
    merge_finish(h, rc == SWLOG_OK ? 1 : 2);
    if (rc == SWLOG_OK && h->merge_rc != SWLOG_OK) {
        *err = h->merge_err;
        rc = h->merge_rc;
    }
    /* The replica's merged leaves move with its merges; the store commits
     * first, so the replica is never ahead of it. */
    if (rc == SWLOG_OK)
        rc = hub_replica_set_leaves(h->rep, hub_store_leaves(h->store), err);
    if (rc == SWLOG_OK)
        rc = hub_store_commit(h->store, err);
    if (rc != SWLOG_OK)
        return rc;
    h->npend = 0;
    h->nmerge = 0;
    if (++h->rep_batches < HUB_REPLICA_GROUP)
        return SWLOG_OK;
    h->rep_open = 0;
    h->rep_batches = 0;
    h->committing = pthread_create(&h->commit_th, NULL, replica_commit_run,
                                   h) == 0;
    if (!h->committing)
        replica_commit_run(h);
    return SWLOG_OK;
}

void hub__replica_flush(hub *h)
{
    hub__batch_settle(h);
    if (!h->rep_open)
        return;
    h->rep_open = 0;
    h->rep_batches = 0;
    replica_commit_run(h);
}

void hub__batch_settle(hub *h)
{
    if (!h->committing)
        return;
    pthread_join(h->commit_th, NULL);
    h->committing = 0;
}

int hub__merge_add(hub *h, const swlog_frame *f, swlog_error *err)
{
    int rc = SWLOG_OK;
    pthread_mutex_lock(&h->merge_mu);
    if (h->nmerge == h->cap_merge) {
        size_t cap = h->cap_merge ? 2 * h->cap_merge : 64;
        swlog_frame *m = realloc(h->merge, cap * sizeof *m);
        if (m == NULL)
            rc = error_set(err, SWLOG_ENOMEM, "out of memory");
        else {
            h->merge = m;
            h->cap_merge = cap;
        }
    }
    if (rc == SWLOG_OK) {
        h->merge[h->nmerge++] = *f;
        pthread_cond_signal(&h->merge_cv);
    }
    pthread_mutex_unlock(&h->merge_mu);
    /* Without a thread (none could start) the merges run at commit. */
    if (rc == SWLOG_OK && !h->merging && h->nmerge == 1)
        h->merging = pthread_create(&h->merge_th, NULL, merge_run, h) == 0;
    return rc;
}
