/* The batch's transaction (agent/hub/README.md "Durability and
 * recovery", PROTOCOL §4.9): begin, commit (feed files, then the store),
 * rollback; and the replica's worker, a second thread that merges each
 * store-committed batch into replica.db while the hub answers it and takes
 * the next one. replica.db's transaction stays open for up to
 * HUB_REPLICA_GROUP batches; the worker commits it then, when idle after
 * hub_flush asked, and hub__replica_flush commits it at once. */
#include "hub_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"

/* Store-committed batches replica.db's transaction holds before it
 * commits (README "Durability and recovery"): one commit writes the pages
 * the batches share (B-tree interior pages, the tables' last leaves) once. */
#define HUB_REPLICA_GROUP 8
/* A job's body buffer larger than this is freed, not kept for the next
 * batch (README "Limits and memory"). */
#define HUB_RJOB_KEEP (4u << 20)

/* ---- the replica's worker ------------------------------------------------ */

/* Empty j for the next batch; a body buffer grown past HUB_RJOB_KEEP by a
 * large batch is freed rather than kept. */
static void job_reset(hub_rjob *j)
{
    j->n = 0;
    if (j->bodies.cap > HUB_RJOB_KEEP)
        swlog_buf_clear(&j->bodies);
    j->bodies.len = 0;
}

/* Whether the worker (or the caller, when no thread could start) has left
 * the replica behind the store. */
static int behind(hub *h)
{
    pthread_mutex_lock(&h->rw_mu);
    int b = h->replica_behind;
    pthread_mutex_unlock(&h->rw_mu);
    return b;
}

static void set_behind(hub *h)
{
    pthread_mutex_lock(&h->rw_mu);
    h->replica_behind = 1;
    pthread_mutex_unlock(&h->rw_mu);
}

/* Roll back replica.db's open transaction: the store-committed batches it
 * held are merged again by catch-up (hub__batch_begin). A background
 * failure has no request to answer: it is said on stderr (the server's
 * log), once, as relay.c does. */
static void replica_abandon(hub *h, const swlog_error *e)
{
    fprintf(stderr,
            "swsync-hub: replica.db: %s (%s); the replica is behind hub.db "
            "(nothing acknowledged is lost) and is caught up before the "
            "next batch\n",
            e->msg, swlog_code_name(e->code));
    if (h->rep_open)
        hub_replica_rollback(h->rep);
    h->rep_open = 0;
    h->rep_batches = 0;
    set_behind(h);
}

static void replica_commit_now(hub *h)
{
    if (!h->rep_open)
        return;
    swlog_error e = {0};
    h->rep_open = 0;
    h->rep_batches = 0;
    if (hub_replica_commit(h->rep, &e) != SWLOG_OK)
        replica_abandon(h, &e);
}

/* Merge job j (a store-committed batch) into the open transaction. Runs
 * on the worker, or on the caller when no worker runs; either way alone
 * with h->rep. */
static void job_run(hub *h, hub_rjob *j)
{
    swlog_error e = {0};
    if (behind(h))
        return; /* catch-up merges it from the feed files */
    if (!h->rep_open) {
        if (hub_replica_begin(h->rep, &e) != SWLOG_OK) {
            replica_abandon(h, &e);
            return;
        }
        h->rep_open = 1;
    }
    for (size_t i = 0; i < j->n; i++)
        if (hub_replica_merge_checked(h->rep, &j->f[i].f, &e) != SWLOG_OK) {
            replica_abandon(h, &e);
            return;
        }
    /* The replica's merged leaves move with its merges; the store
     * committed first, so the replica is never ahead of it. */
    if (hub_replica_set_leaves(h->rep, j->leaves, &e) != SWLOG_OK) {
        replica_abandon(h, &e);
        return;
    }
    if (++h->rep_batches >= HUB_REPLICA_GROUP)
        replica_commit_now(h);
}

static void *worker_main(void *p)
{
    hub *h = p;
    pthread_mutex_lock(&h->rw_mu);
    for (;;) {
        if (h->rw_have) {
            pthread_mutex_unlock(&h->rw_mu);
            job_run(h, &h->rw_work);
            pthread_mutex_lock(&h->rw_mu);
            h->rw_have = 0;
            pthread_cond_broadcast(&h->rw_cv);
        } else if (h->rw_flush) {
            h->rw_flush = 0;
            h->rw_busy = 1;
            pthread_mutex_unlock(&h->rw_mu);
            replica_commit_now(h);
            pthread_mutex_lock(&h->rw_mu);
            h->rw_busy = 0;
            pthread_cond_broadcast(&h->rw_cv);
        } else if (h->rw_stop) {
            break;
        } else {
            pthread_cond_wait(&h->rw_cv, &h->rw_mu);
        }
    }
    pthread_mutex_unlock(&h->rw_mu);
    return NULL;
}

/* Wait until the worker has merged every batch handed to it and is idle:
 * then the caller (holding h->mu) is alone with h->rep. */
static void worker_drain(hub *h)
{
    pthread_mutex_lock(&h->rw_mu);
    while (h->rw_have || h->rw_busy)
        pthread_cond_wait(&h->rw_cv, &h->rw_mu);
    h->rw_flush = 0; /* the caller commits, when it wants to */
    pthread_mutex_unlock(&h->rw_mu);
}

/* Hand the open batch's merges (h->rw_build) to the worker, after the
 * previous one is merged (so at most two batches' copies exist), and keep
 * the worker's emptied job for the next batch. */
static void worker_give(hub *h)
{
    h->rw_build.leaves = hub_store_leaves(h->store);
    if (!h->rw_started) {
        h->rw_started =
            pthread_create(&h->rw_th, NULL, worker_main, h) == 0;
        if (!h->rw_started) { /* merge here, as the worker would */
            job_run(h, &h->rw_build);
            job_reset(&h->rw_build);
            return;
        }
    }
    pthread_mutex_lock(&h->rw_mu);
    while (h->rw_have)
        pthread_cond_wait(&h->rw_cv, &h->rw_mu);
    hub_rjob done = h->rw_work;
    h->rw_work = h->rw_build;
    h->rw_build = done;
    job_reset(&h->rw_build);
    h->rw_have = 1;
    pthread_cond_broadcast(&h->rw_cv);
    pthread_mutex_unlock(&h->rw_mu);
}

void hub__worker_stop(hub *h)
{
    if (h->rw_started) {
        worker_drain(h);
        pthread_mutex_lock(&h->rw_mu);
        h->rw_stop = 1;
        pthread_cond_broadcast(&h->rw_cv);
        pthread_mutex_unlock(&h->rw_mu);
        pthread_join(h->rw_th, NULL);
        h->rw_started = 0;
    }
    for (int i = 0; i < 2; i++) {
        hub_rjob *j = i ? &h->rw_work : &h->rw_build;
        free(j->f);
        swlog_buf_clear(&j->bodies);
        memset(j, 0, sizeof *j);
    }
}

void hub__replica_flush(hub *h)
{
    worker_drain(h);
    replica_commit_now(h);
}

void hub__replica_flush_soon(hub *h)
{
    if (!h->rw_started) {
        replica_commit_now(h); /* no worker: h->mu makes it ours */
        return;
    }
    pthread_mutex_lock(&h->rw_mu);
    h->rw_flush = 1;
    pthread_cond_broadcast(&h->rw_cv);
    pthread_mutex_unlock(&h->rw_mu);
}

/* A change-set's body moved to `to`: its pointers into the body follow. */
static void frame_move(swlog_frame *f, const uint8_t *to, size_t payload,
                       size_t sig, size_t author)
{
    f->body = to;
    f->payload = to + payload;
    f->sig = to + sig;
    f->u.changeset.author = to + author;
}

int hub__merge_add(hub *h, const swlog_frame *f, swlog_error *err)
{
    hub_rjob *j = &h->rw_build;
    if (j->n == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 64;
        hub_rframe *m = realloc(j->f, cap * sizeof *m);
        if (m == NULL)
            return error_set(err, SWLOG_ENOMEM, "out of memory");
        j->f = m;
        j->cap = cap;
    }
    size_t at = j->bodies.len;
    if (swlog_buf_append(&j->bodies, f->body, f->body_len) != SWLOG_OK)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
    hub_rframe *r = &j->f[j->n++];
    r->at = at;
    r->payload = (size_t)(f->payload - f->body);
    r->sig = (size_t)(f->sig - f->body);
    r->author = (size_t)(f->u.changeset.author - f->body);
    r->f = *f;
    return SWLOG_OK;
}

/* ---- the batch ----------------------------------------------------------- */

int hub__batch_begin(hub *h, swlog_error *err)
{
    h->npend = 0;
    job_reset(&h->rw_build);
    if (behind(h)) {
        worker_drain(h);
        int rc = hub__replica_catch_up(h, err);
        if (rc != SWLOG_OK) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            return error_set(err, rc, "catching replica.db up with hub.db: "
                                      "%s", why);
        }
        fprintf(stderr, "swsync-hub: replica.db caught up with hub.db: "
                        "%llu change-sets merged again\n",
                (unsigned long long)h->caught_up);
        pthread_mutex_lock(&h->rw_mu);
        h->replica_behind = 0;
        pthread_mutex_unlock(&h->rw_mu);
    }
    return hub_store_begin(h->store, err);
}

void hub__batch_rollback(hub *h, hub_keys_mark mark)
{
    /* The batch's merges never reached the replica: they go with it. The
     * worker's earlier batches are in the store and stay. */
    hub_store_rollback(h->store);
    hub_keys_restore(&h->keys, mark);
    h->npend = 0;
    job_reset(&h->rw_build);
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
    if (rc == SWLOG_OK)
        rc = hub_store_commit(h->store, err);
    if (rc != SWLOG_OK)
        return rc;
    h->npend = 0;
    /* The copies of the change-sets' bodies become the job's. */
    hub_rjob *j = &h->rw_build;
    for (size_t i = 0; i < j->n; i++) {
        hub_rframe *r = &j->f[i];
        frame_move(&r->f, j->bodies.p + r->at, r->payload, r->sig, r->author);
    }
    worker_give(h);
    return SWLOG_OK;
}
