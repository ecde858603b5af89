/* Ingest of pushed frames: PROTOCOL §4.2-§4.4. Per frame: strict decode and
 * signature, duplicate or fork, frozen feed, key validity, chain, clock
 * skew, mergeability; per batch (hub_batch.c): feed files, merges, store
 * and replica commits; then a checkpoint and the receipt. */
#include "hub_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "hub_json.h"
#include "hub_merkle.h"

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* FORMAT §11 codes of the frame decoder as PROTOCOL §4.5 codes. */
static const char *decode_error(int code)
{
    switch (code) {
    case SWLOG_ESIG:
        return "bad_signature";
    case SWLOG_ENONCANON:
        return "not_canonical";
    case SWLOG_EBOUNDS:
        return "too_large";
    case SWLOG_ECRITICAL:
        return "unsupported";
    default:
        return "malformed";
    }
}

static int refuse(hub *h, hub_outcome *o, const uint8_t *body, size_t len,
                  int64_t file_off, const char *code, swlog_error *err,
                  const char *fmt, ...) __attribute__((format(printf, 8, 9)));

static int refuse(hub *h, hub_outcome *o, const uint8_t *body, size_t len,
                  int64_t file_off, const char *code, swlog_error *err,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->message, sizeof o->message, fmt, ap);
    va_end(ap);
    o->status = HUB_REFUSED;
    o->error = code;
    if (file_off >= 0)
        return SWLOG_OK;
    return hub_store_park(h->store, o->have_feed ? o->feed : NULL, o->seq,
                          code, o->message, body, len, h->cfg.max_parked,
                          err);
}

static int pending_add(hub *h, const swlog_frame *f, const uint8_t *body,
                       size_t len, uint64_t known, uint64_t *offset,
                       swlog_error *err)
{
    uint64_t end;
    int rc = hub_feeds_end(h->feeds, f->signer, known, &end, err);
    if (rc != SWLOG_OK)
        return rc;
    for (size_t i = 0; i < h->npend; i++)
        if (memcmp(h->pend[i].feed, f->signer, SWLOG_PUBKEY_BYTES) == 0)
            end += SWLOG_ENVELOPE_BYTES + h->pend[i].len;
    if (h->npend == h->cap_pend) {
        size_t cap = h->cap_pend ? 2 * h->cap_pend : 64;
        hub_pending *p = realloc(h->pend, cap * sizeof *p);
        if (p == NULL)
            return error_set(err, SWLOG_ENOMEM, "out of memory");
        h->pend = p;
        h->cap_pend = cap;
    }
    hub_pending *p = &h->pend[h->npend++];
    p->feed = body + 4; /* FORMAT §4.1: the signer field */
    p->body = body;
    p->len = len;
    p->offset = end;
    *offset = end;
    return SWLOG_OK;
}

int hub__ingest_frame(hub *h, const uint8_t *body, size_t len,
                      int64_t file_off, hub_outcome *o, swlog_error *err)
{
    memset(o, 0, sizeof *o);
    if (len >= 44) {
        o->have_feed = 1;
        memcpy(o->feed, body + 4, SWLOG_PUBKEY_BYTES);
        o->seq = be64(body + 36);
    }
    swlog_frame f;
    swlog_error fe = {0};
    if (swlog_frame_decode(body, len, 0, &f, &fe) != SWLOG_OK)
        return refuse(h, o, body, len, file_off, decode_error(fe.code), err,
                      "%s at byte %llu of the frame: %s",
                      swlog_code_name(fe.code),
                      (unsigned long long)fe.offset, fe.msg);
    o->have_id = 1;
    memcpy(o->id, f.id, SWLOG_HASH_BYTES);
    if (memcmp(f.signer, h->pk, SWLOG_PUBKEY_BYTES) == 0)
        return refuse(h, o, body, len, file_off, "own_feed", err,
                      "a frame of the hub's own feed: the hub writes it "
                      "itself");
    uint8_t held[SWLOG_HASH_BYTES];
    uint64_t leaf;
    int r = hub_store_frame(h->store, f.signer, f.seq, held, &leaf, NULL,
                            err);
    if (r < 0)
        return r;
    if (r == 1) {
        if (memcmp(held, f.id, SWLOG_HASH_BYTES) == 0) {
            o->status = HUB_DUPLICATE;
            o->leaf = leaf;
            return SWLOG_OK;
        }
        int rc = hub_store_fork(h->store, f.signer, f.seq, held, body, len,
                                err);
        if (rc != SWLOG_OK)
            return rc;
        char hx[17];
        swlog_hex(held, 8, hx);
        o->status = HUB_FORK;
        o->error = "fork";
        snprintf(o->message, sizeof o->message,
                 "seq %llu of this feed is already held with id %s...: both "
                 "kept as evidence, the feed is frozen",
                 (unsigned long long)f.seq, hx);
        return SWLOG_OK;
    }
    hub_feed_head head;
    int rc = hub_store_head(h->store, f.signer, &head, err);
    if (rc != SWLOG_OK)
        return rc;
    if (head.frozen)
        return refuse(h, o, body, len, file_off, "frozen", err,
                      "this feed is frozen after a fork: nothing more is "
                      "accepted until the fork is resolved");
    char kmsg[200];
    const char *kc = hub_keys_check(&h->keys, &f, hub__now_ms(), kmsg,
                                    sizeof kmsg);
    if (kc != NULL)
        return refuse(h, o, body, len, file_off, kc, err, "%s", kmsg);
    if (f.seq != head.seq + 1)
        return refuse(h, o, body, len, file_off, "gap", err,
                      "seq %llu, but the hub holds this feed up to seq "
                      "%llu: send from seq %llu",
                      (unsigned long long)f.seq,
                      (unsigned long long)head.seq,
                      (unsigned long long)head.seq + 1);
    if (memcmp(f.prev, head.id, SWLOG_HASH_BYTES) != 0)
        return refuse(h, o, body, len, file_off, "chain", err,
                      "prev of seq %llu is not the id of the seq %llu the "
                      "hub holds",
                      (unsigned long long)f.seq,
                      (unsigned long long)head.seq);
    uint64_t ms = f.hlc >> 16, now = hub__now_ms();
    if (file_off < 0 && ms > now + h->cfg.max_clock_skew_ms)
        return refuse(h, o, body, len, file_off, "clock_skew", err,
                      "frame time is %llu ms ahead of the hub's clock "
                      "(at most %llu): check the station's clock",
                      (unsigned long long)(ms - now),
                      (unsigned long long)h->cfg.max_clock_skew_ms);
    if (f.type == SWLOG_TYPE_CHANGESET) {
        swlog_error me = {0};
        if (hub_replica_check(h->rep, &f, &me) != SWLOG_OK)
            return refuse(h, o, body, len, file_off, "unmergeable", err,
                          "merge: %s: %s", swlog_code_name(me.code),
                          me.msg);
    }
    uint64_t offset = 0;
    if (file_off >= 0)
        offset = (uint64_t)file_off;
    else if ((rc = pending_add(h, &f, body, len, head.seq > 0 ? head.end : 0,
                              &offset, err)) != SWLOG_OK)
        return rc;
    rc = hub_store_add_frame(h->store, f.signer, f.seq, f.id, offset,
                             offset + SWLOG_ENVELOPE_BYTES + len, &o->leaf,
                             err);
    /* Merged by the replica's worker once the batch is committed. */
    if (rc == SWLOG_OK && f.type == SWLOG_TYPE_CHANGESET)
        rc = hub__merge_add(h, &f, err);
    if (rc == SWLOG_OK &&
        (f.type == SWLOG_TYPE_CERT || f.type == SWLOG_TYPE_ROTATION ||
         f.type == SWLOG_TYPE_REVOCATION)) {
        rc = hub_keys_add(&h->keys, &f, err);
        if (rc == SWLOG_OK)
            rc = hub_store_keyframe_add(h->store, body, len, err);
    }
    if (rc == SWLOG_OK)
        o->status = HUB_ACCEPTED;
    return rc;
}

static const char *status_name(int s)
{
    static const char *const n[] = {"accepted", "duplicate", "refused",
                                    "fork"};
    return n[s];
}

static int result_json(swlog_buf *b, size_t index, const hub_outcome *o)
{
    int rc = hub_json_printf(b, "%s{\"index\":%zu,\"status\":\"%s\"",
                             index ? "," : "", index, status_name(o->status));
    if (rc == SWLOG_OK && o->have_feed) {
        rc = hub_json_printf(b, ",\"feed\":");
        if (rc == SWLOG_OK)
            rc = hub_json_hex(b, o->feed, SWLOG_PUBKEY_BYTES);
        if (rc == SWLOG_OK)
            rc = hub_json_printf(b, ",\"seq\":%llu",
                                 (unsigned long long)o->seq);
    }
    if (rc == SWLOG_OK && o->have_id) {
        rc = hub_json_printf(b, ",\"id\":");
        if (rc == SWLOG_OK)
            rc = hub_json_hex(b, o->id, SWLOG_HASH_BYTES);
    }
    if (rc == SWLOG_OK &&
        (o->status == HUB_ACCEPTED || o->status == HUB_DUPLICATE))
        rc = hub_json_printf(b, ",\"leaf\":%llu",
                             (unsigned long long)o->leaf);
    if (rc == SWLOG_OK && o->error != NULL) {
        rc = hub_json_printf(b, ",\"error\":");
        if (rc == SWLOG_OK)
            rc = hub_json_str(b, o->error);
        if (rc == SWLOG_OK)
            rc = hub_json_printf(b, ",\"message\":");
        if (rc == SWLOG_OK)
            rc = hub_json_str(b, o->message);
    }
    if (rc == SWLOG_OK)
        rc = hub_json_printf(b, "}");
    return rc;
}

static int receipt_json(hub *h, swlog_buf *b, const hub_outcome *os,
                        size_t n, swlog_error *err)
{
    int rc = hub__receipt_head(h, b);
    if (rc == SWLOG_OK)
        rc = hub_json_printf(b, ",\"proofs\":[");
    int first = 1;
    for (size_t i = 0; rc == SWLOG_OK && i < n; i++) {
        if (os[i].status != HUB_ACCEPTED && os[i].status != HUB_DUPLICATE)
            continue;
        uint8_t path[SWLOG_MAX_PROOF][SWLOG_HASH_BYTES];
        size_t plen;
        rc = hub_merkle_path(h->store, os[i].leaf, h->cp_size, path, &plen,
                             err);
        if (rc == SWLOG_OK)
            rc = hub_json_printf(b, "%s{\"index\":%zu,\"id\":",
                                 first ? "" : ",", i);
        if (rc == SWLOG_OK)
            rc = hub_json_hex(b, os[i].id, SWLOG_HASH_BYTES);
        if (rc == SWLOG_OK)
            rc = hub_json_printf(b, ",\"leaf\":%llu,\"path\":[",
                                 (unsigned long long)os[i].leaf);
        for (size_t k = 0; rc == SWLOG_OK && k < plen; k++) {
            if (k > 0)
                rc = hub_json_printf(b, ",");
            if (rc == SWLOG_OK)
                rc = hub_json_hex(b, path[k], SWLOG_HASH_BYTES);
        }
        if (rc == SWLOG_OK)
            rc = hub_json_printf(b, "]}");
        first = 0;
    }
    if (rc == SWLOG_OK)
        rc = hub_json_printf(b, "]}");
    return rc;
}

static unsigned fail(swlog_buf *out, unsigned status, const char *code,
                     const char *msg)
{
    out->len = 0;
    hub_json_error(out, code, msg);
    return status;
}

/* Split a frames body into frame bodies (borrowing from body). */
static unsigned split_body(const hub *h, const uint8_t *body, size_t len,
                           const uint8_t ***bodies, size_t **lens, size_t *n,
                           swlog_buf *out)
{
    swlog_log *log;
    swlog_error e = {0};
    char msg[400];
    if (swlog_log_open_mem(body, len, &log, &e) != SWLOG_OK) {
        snprintf(msg, sizeof msg,
                 "the body is not a FORMAT §3 frames body: %s (%s at byte "
                 "%llu): nothing stored",
                 e.msg, swlog_code_name(e.code), (unsigned long long)e.offset);
        return fail(out, e.code == SWLOG_ENOMEM ? 500 : 400, "bad_body", msg);
    }
    size_t cap = h->cfg.max_push_frames;
    *bodies = malloc(cap * sizeof **bodies);
    *lens = malloc(cap * sizeof **lens);
    *n = 0;
    unsigned status = 0;
    if (*bodies == NULL || *lens == NULL)
        status = fail(out, 500, "internal", "out of memory");
    const uint8_t *b;
    size_t l;
    uint64_t off;
    int r = 0;
    while (status == 0 && (r = swlog_log_next(log, &b, &l, &off, &e)) == 1) {
        if (*n == cap) {
            snprintf(msg, sizeof msg,
                     "more than %zu frames in one push (PROTOCOL §5): "
                     "nothing stored; send smaller batches", cap);
            status = fail(out, 413, "too_large", msg);
            break;
        }
        (*bodies)[*n] = b;
        (*lens)[(*n)++] = l;
    }
    if (status == 0 && r < 0) {
        snprintf(msg, sizeof msg,
                 "the body is not a FORMAT §3 frames body: %s (%s at byte "
                 "%llu): nothing stored",
                 e.msg, swlog_code_name(e.code), (unsigned long long)e.offset);
        status = fail(out, 400, "bad_body", msg);
    }
    if (status == 0 && swlog_log_torn(log) > 0) {
        snprintf(msg, sizeof msg,
                 "the body ends inside a frame (%llu bytes after the last "
                 "whole frame, at byte %llu): truncated, nothing stored",
                 (unsigned long long)swlog_log_torn(log),
                 (unsigned long long)swlog_log_end(log));
        status = fail(out, 400, "bad_body", msg);
    }
    swlog_log_close(log);
    return status;
}

/* One push waiting in, or taking part in, a group (hub_push). */
typedef struct push_req {
    const uint8_t **bodies;
    size_t *lens, n;
    hub_outcome *os;
    size_t counts[4];
    swlog_buf *out;
    unsigned status; /* 0 until answered */
    int done;        /* answered; set under gq_mu by the group's leader */
    struct push_req *next;
} push_req;

/* The answer of a push whose frames are stored (PROTOCOL §4.3). */
static void answer(hub *h, push_req *p)
{
    swlog_error err = {0};
    const size_t *c = p->counts;
    swlog_buf *out = p->out;
    unsigned status = c[HUB_FORK] > 0 ? 409 : 200;
    out->len = 0;
    int rc = hub_json_printf(out, "{");
    if (rc == SWLOG_OK && status == 409)
        rc = hub_json_printf(out,
                             "\"error\":\"fork\",\"message\":\"%zu "
                             "frame(s) fork a feed the hub holds: see "
                             "results\",",
                             c[HUB_FORK]);
    if (rc == SWLOG_OK)
        rc = hub_json_printf(out, "\"results\":[");
    for (size_t i = 0; rc == SWLOG_OK && i < p->n; i++)
        rc = result_json(out, i, &p->os[i]);
    if (rc == SWLOG_OK)
        rc = hub_json_printf(
            out,
            "],\"accepted\":%zu,\"duplicate\":%zu,\"refused\":%zu,"
            "\"fork\":%zu,\"receipt\":",
            c[HUB_ACCEPTED], c[HUB_DUPLICATE], c[HUB_REFUSED], c[HUB_FORK]);
    if (rc == SWLOG_OK) {
        if (c[HUB_ACCEPTED] + c[HUB_DUPLICATE] > 0)
            rc = receipt_json(h, out, p->os, p->n, &err);
        else
            rc = hub_json_printf(out, "null");
    }
    if (rc == SWLOG_OK)
        rc = hub_json_printf(out, "}\n");
    if (rc != SWLOG_OK)
        status = fail(out, 500, "internal",
                      "the frames are stored but the receipt could not "
                      "be written: send the batch again for it");
    p->status = status;
}

/* One batch for a group of pushes (agent/hub/README.md "Durability and
 * recovery"): their frames in arrival order, one commit, one checkpoint,
 * then each push's answer. */
static void group_run(hub *h, push_req *g)
{
    swlog_error err = {0};
    char msg[400];
    pthread_mutex_lock(&h->mu);
    hub_keys_mark mark = hub_keys_mark_get(&h->keys);
    int rc = hub__batch_begin(h, &err);
    int stored = 0;
    for (push_req *p = g; rc == SWLOG_OK && p != NULL; p = p->next)
        for (size_t i = 0; rc == SWLOG_OK && i < p->n; i++) {
            rc = hub__ingest_frame(h, p->bodies[i], p->lens[i], -1, &p->os[i],
                                   &err);
            if (rc == SWLOG_OK) {
                p->counts[p->os[i].status]++;
                stored |= p->os[i].status == HUB_ACCEPTED ||
                          p->os[i].status == HUB_DUPLICATE;
            }
        }
    if (rc == SWLOG_OK && (rc = hub__batch_commit(h, &err)) == SWLOG_OK)
        __atomic_fetch_add(&h->batches, 1, __ATOMIC_RELAXED);
    if (rc != SWLOG_OK) {
        snprintf(msg, sizeof msg,
                 "the hub failed: %s (%s): nothing of this batch is "
                 "acknowledged; send it again later", err.msg,
                 swlog_code_name(err.code));
        hub__batch_rollback(h, mark);
        /* Feed files may hold frames of this batch: make them consistent
         * with the store again (README "Recovery"). */
        swlog_error rerr = {0};
        hub__recover(h, &rerr);
        for (push_req *p = g; p != NULL; p = p->next)
            p->status = fail(p->out, 500, "internal", msg);
    } else if (stored && (rc = hub__checkpoint_sign(h, &err)) != SWLOG_OK) {
        snprintf(msg, sizeof msg,
                 "the frames are stored but the hub could not sign a "
                 "checkpoint: %s: send the batch again for its receipt",
                 err.msg);
        for (push_req *p = g; p != NULL; p = p->next)
            if (p->counts[HUB_ACCEPTED] + p->counts[HUB_DUPLICATE] > 0)
                p->status = fail(p->out, 500, "internal", msg);
    }
    for (push_req *p = g; p != NULL; p = p->next)
        if (p->status == 0)
            answer(h, p);
    /* The replica's worker merges the batch while the answers go out. */
    pthread_mutex_unlock(&h->mu);
}

/* Take the group the next leader runs: the waiting pushes in arrival
 * order, at most HUB_GROUP_PUSHES of them and HUB_GROUP_FRAMES frames
 * (the first push always). */
static push_req *take_group(hub *h)
{
    push_req *g = h->gq_head, *last = g;
    size_t pushes = 1, frames = g->n;
    while (last->next != NULL && pushes < HUB_GROUP_PUSHES &&
           frames + last->next->n <= HUB_GROUP_FRAMES) {
        last = last->next;
        pushes++;
        frames += last->n;
    }
    h->gq_head = last->next;
    if (h->gq_head == NULL)
        h->gq_tail = NULL;
    last->next = NULL;
    return g;
}

unsigned hub_push(hub *h, const uint8_t *body, size_t len, swlog_buf *out)
{
    const uint8_t **bodies = NULL;
    size_t *lens = NULL, n = 0;
    unsigned status = split_body(h, body, len, &bodies, &lens, &n, out);
    hub_outcome *os = NULL;
    if (status == 0 && (os = calloc(n ? n : 1, sizeof *os)) == NULL)
        status = fail(out, 500, "internal", "out of memory");
    if (status != 0) {
        free(bodies);
        free(lens);
        return status;
    }
    /* Pushes that arrive while a batch runs wait and then go as one batch
     * (one set of fsyncs, one checkpoint): whoever finds no batch running
     * leads the next group, its own push included. */
    push_req r = {.bodies = bodies, .lens = lens, .n = n, .os = os,
                  .out = out};
    pthread_mutex_lock(&h->gq_mu);
    if (h->gq_tail != NULL)
        h->gq_tail->next = &r;
    else
        h->gq_head = &r;
    h->gq_tail = &r;
    while (!r.done) {
        if (h->gq_busy) {
            pthread_cond_wait(&h->gq_cv, &h->gq_mu);
            continue;
        }
        h->gq_busy = 1;
        push_req *g = take_group(h);
        pthread_mutex_unlock(&h->gq_mu);
        group_run(h, g);
        pthread_mutex_lock(&h->gq_mu);
        while (g != NULL) { /* a push's owner may return once it is done */
            push_req *next = g->next;
            g->done = 1;
            g = next;
        }
        h->gq_busy = 0;
        pthread_cond_broadcast(&h->gq_cv);
    }
    pthread_mutex_unlock(&h->gq_mu);
    free(os);
    free(bodies);
    free(lens);
    return r.status;
}
