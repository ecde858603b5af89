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

int hub__batch_begin(hub *h, swlog_error *err)
{
    hub__batch_settle(h);
    h->npend = 0;
    h->nmerge = 0;
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

/* The batch's merges, on their own thread while the feed files are
 * written and fsynced. */
typedef struct merge_job {
    hub *h;
    int rc;
    swlog_error err;
} merge_job;

static void *merge_run(void *p)
{
    merge_job *j = p;
    for (size_t i = 0; j->rc == SWLOG_OK && i < j->h->nmerge; i++)
        j->rc = hub_replica_merge_checked(j->h->rep, &j->h->merge[i],
                                          &j->err);
    return NULL;
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
        rc = hub_feeds_append(h->feeds, h->pend[i].feed, bodies, lens, n,
                              err);
    }
    free(bodies);
    free(lens);
    free(done);
    return rc;
}

int hub__batch_commit(hub *h, swlog_error *err)
{
    merge_job job = {.h = h, .rc = SWLOG_OK};
    pthread_t th;
    int threaded = 0;
    if (h->nmerge > 0) {
        threaded = pthread_create(&th, NULL, merge_run, &job) == 0;
        if (!threaded)
            merge_run(&job);
    }
    int rc = append_feeds(h, err);
    if (threaded)
        pthread_join(th, NULL);
    if (rc == SWLOG_OK && job.rc != SWLOG_OK) {
        *err = job.err;
        rc = job.rc;
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
    if (h->nmerge == h->cap_merge) {
        size_t cap = h->cap_merge ? 2 * h->cap_merge : 64;
        swlog_frame *m = realloc(h->merge, cap * sizeof *m);
        if (m == NULL)
            return error_set(err, SWLOG_ENOMEM, "out of memory");
        h->merge = m;
        h->cap_merge = cap;
    }
    h->merge[h->nmerge++] = *f;
    return SWLOG_OK;
}
