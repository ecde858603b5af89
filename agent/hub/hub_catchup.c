/* The replica catching up with the store (hub_replica.h, PROTOCOL §4.9):
 * the leaves the store holds beyond the replica's merged leaves are read
 * back from the feed files (and hub.db for authored frames) in leaf order,
 * verified again, and their change-sets merged. After a power cut took the
 * replica's last commits, after a failed replica commit, or to rebuild a
 * replica.db that was moved away. */
#include "hub_internal.h"

#include "../error.h"
#include "ledger.h"

/* Commit the replica every this many change-sets of a long catch-up. */
#define CATCH_UP_BATCH 256

typedef struct catch_ctx {
    hub *h;
    int open;        /* a replica transaction is open */
    size_t in_batch; /* change-sets merged in it */
    uint64_t merged; /* change-sets merged in all */
} catch_ctx;

static int commit_upto(catch_ctx *c, uint64_t leaves, swlog_error *err)
{
    int rc = hub_replica_set_leaves(c->h->rep, leaves, err);
    if (rc == SWLOG_OK)
        rc = hub_replica_commit(c->h->rep, err);
    else
        hub_replica_rollback(c->h->rep);
    c->open = 0;
    c->in_batch = 0;
    return rc;
}

static int catch_leaf(void *ctx, uint64_t leaf, const uint8_t *body,
                      size_t len, swlog_error *err)
{
    catch_ctx *c = ctx;
    swlog_frame f;
    swlog_error fe = {0};
    if (swlog_frame_decode(body, len, 0, &f, &fe) != SWLOG_OK)
        return error_set(err, SWLOG_ECORRUPT,
                         "catching the replica up: the frame of leaf %llu "
                         "no longer verifies: %s at byte %llu of the frame: "
                         "%s",
                         (unsigned long long)leaf, swlog_code_name(fe.code),
                         (unsigned long long)fe.offset, fe.msg);
    if (f.type != SWLOG_TYPE_CHANGESET)
        return SWLOG_OK;
    int rc = SWLOG_OK;
    if (!c->open) {
        rc = hub_replica_begin(c->h->rep, err);
        if (rc != SWLOG_OK)
            return rc;
        c->open = 1;
    }
    rc = hub_replica_merge(c->h->rep, &f, NULL, err);
    if (rc != SWLOG_OK) {
        hub_replica_rollback(c->h->rep);
        c->open = 0;
        return rc;
    }
    c->merged++;
    if (++c->in_batch >= CATCH_UP_BATCH)
        rc = commit_upto(c, leaf + 1, err);
    return rc;
}

int hub__replica_catch_up(hub *h, swlog_error *err)
{
    h->caught_up = 0;
    uint64_t have, want = hub_store_leaves(h->store);
    int rc = hub_replica_leaves(h->rep, &have, err);
    if (rc != SWLOG_OK || have == want)
        return rc;
    if (have > want)
        return error_set(err, SWLOG_ECORRUPT,
                         "%s/replica.db has merged %llu leaves but %s/hub.db "
                         "holds %llu: the two files are from different times "
                         "(restored from different backups?); move "
                         "replica.db away and start the hub again to rebuild "
                         "it from the feed files",
                         h->cfg.data, (unsigned long long)have, h->cfg.data,
                         (unsigned long long)want);
    catch_ctx c = {.h = h};
    uint64_t walked = 0;
    rc = ledger_leaves(h->cfg.data, have, catch_leaf, &c, &walked, err);
    if (rc == SWLOG_OK && walked != want - have) {
        if (c.open)
            hub_replica_rollback(h->rep);
        return error_set(err, SWLOG_ECORRUPT,
                         "%s/hub.db: %llu leaves from leaf %llu, expected "
                         "%llu",
                         h->cfg.data, (unsigned long long)walked,
                         (unsigned long long)have,
                         (unsigned long long)(want - have));
    }
    if (rc != SWLOG_OK) {
        if (c.open)
            hub_replica_rollback(h->rep);
        return rc;
    }
    if (!c.open && (rc = hub_replica_begin(h->rep, err)) != SWLOG_OK)
        return rc;
    c.open = 1;
    rc = commit_upto(&c, want, err);
    if (rc == SWLOG_OK)
        h->caught_up = c.merged;
    return rc;
}
