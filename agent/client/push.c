/* Push of one feed: head, batches, receipts (PROTOCOL §4, §5; FORMAT §3,
 * §7.5, §9.3). */
#include "push.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int push_body_add(swlog_buf *out, const uint8_t salt[SWLOG_SALT_BYTES],
                  const uint8_t *body, size_t len, swlog_error *err)
{
    uint8_t head[SWLOG_ENVELOPE_HEAD_BYTES], crc[4];
    int rc;
    if (out->len == 0) {
        uint8_t fh[SWLOG_FILE_HEADER_BYTES];
        swlog_file_header_encode(salt, fh);
        if ((rc = swlog_buf_append(out, fh, sizeof fh)) != SWLOG_OK)
            return swlog_fail(err, rc, 0, "out of memory building a batch");
    }
    if ((rc = swlog_envelope_encode(salt, body, len, head, crc)) != SWLOG_OK)
        return swlog_fail(err, rc, 0, "frame of %zu bytes cannot be put in "
                          "an envelope (FORMAT §3.2)", len);
    if (swlog_buf_append(out, head, sizeof head) != SWLOG_OK ||
        swlog_buf_append(out, body, len) != SWLOG_OK ||
        swlog_buf_append(out, crc, sizeof crc) != SWLOG_OK)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory building a "
                          "batch");
    return SWLOG_OK;
}

/* The receipt's checkpoint: decoded with its signature, signed by the hub
 * we expect (FORMAT §7.5), and the same size and root as the receipt
 * states. */
static int read_checkpoint(const json_doc *d, int rcpt,
                           const uint8_t hub_key[SWLOG_PUBKEY_BYTES],
                           push_answer *a, swlog_frame *f, swlog_error *err)
{
    int tok = json_member(d, rcpt, "checkpoint");
    uint8_t hub[SWLOG_PUBKEY_BYTES], root[SWLOG_HASH_BYTES];
    uint64_t size;
    if (json_type_of(d, tok) != JSON_STRING || d->t[tok].len % 2 != 0 ||
        d->t[tok].len > 2 * PUSH_MAX_CHECKPOINT)
        return swlog_fail(err, CLIENT_EPROTO, 0, "push answer: the receipt's "
                          "checkpoint is missing or not hex of at most %u "
                          "bytes", PUSH_MAX_CHECKPOINT);
    size_t n = d->t[tok].len / 2;
    if (json_hex(d, tok, a->ckpt_buf, n) != SWLOG_OK ||
        json_hex(d, json_member(d, rcpt, "hub"), hub, sizeof hub) ||
        json_hex(d, json_member(d, rcpt, "root"), root, sizeof root) ||
        json_u64(d, json_member(d, rcpt, "tree_size"), &size))
        return swlog_fail(err, CLIENT_EPROTO, 0, "push answer: the receipt "
                          "lacks hub, checkpoint, tree_size or root in hex");
    if (memcmp(hub, hub_key, SWLOG_PUBKEY_BYTES) != 0)
        return swlog_fail(err, CLIENT_ERECEIPT, 0, "receipt: it names "
                          "another hub key than the one expected");
    swlog_error ferr = {0};
    if (swlog_frame_decode(a->ckpt_buf, n, 0, f, &ferr) != SWLOG_OK)
        return swlog_fail(err, CLIENT_ERECEIPT, ferr.offset, "receipt: the "
                          "checkpoint frame is refused at byte %llu: %s (%s)",
                          (unsigned long long)ferr.offset, ferr.msg,
                          swlog_code_name(ferr.code));
    if (f->type != SWLOG_TYPE_CHECKPOINT)
        return swlog_fail(err, CLIENT_ERECEIPT, 0, "receipt: the frame is of "
                          "type 0x%02x, not a checkpoint", f->type);
    if (memcmp(f->signer, hub_key, SWLOG_PUBKEY_BYTES) != 0) {
        char got[65], want[65];
        swlog_hex(f->signer, 32, got);
        swlog_hex(hub_key, 32, want);
        return swlog_fail(err, CLIENT_ERECEIPT, 0, "receipt: the checkpoint "
                          "is signed by %.16s…, not by the hub's key %.16s…",
                          got, want);
    }
    if (f->u.checkpoint.tree_size != size ||
        memcmp(f->u.checkpoint.root, root, SWLOG_HASH_BYTES) != 0)
        return swlog_fail(err, CLIENT_ERECEIPT, 0, "receipt: tree_size or "
                          "root differ from the signed checkpoint's");
    a->ckpt = a->ckpt_buf;
    a->ckpt_len = n;
    a->tree_size = size;
    memcpy(a->ckpt_id, f->id, SWLOG_HASH_BYTES);
    return SWLOG_OK;
}

/* One result: the frame it names must be the one sent at that index. */
static int read_result(const json_doc *d, int it, size_t i,
                       const uint8_t feed[SWLOG_PUBKEY_BYTES], uint64_t seq,
                       const uint8_t id[SWLOG_HASH_BYTES], char *status,
                       size_t cap, swlog_error *err)
{
    uint8_t got_feed[SWLOG_PUBKEY_BYTES], got_id[SWLOG_HASH_BYTES];
    uint64_t idx, got_seq;
    if (json_u64(d, json_member(d, it, "index"), &idx) || idx != i ||
        json_string(d, json_member(d, it, "status"), status, cap))
        return swlog_fail(err, CLIENT_EPROTO, 0, "push answer: result %zu "
                          "lacks its index or status", i);
    /* A frame the hub could not decode has no feed or id in its result;
     * ours always decode, but a refusal is taken as it comes. */
    int acked = strcmp(status, "accepted") == 0 ||
                strcmp(status, "duplicate") == 0;
    int f = json_member(d, it, "feed"), s = json_member(d, it, "seq"),
        k = json_member(d, it, "id");
    if ((acked || f >= 0) &&
        (json_hex(d, f, got_feed, sizeof got_feed) ||
         memcmp(got_feed, feed, SWLOG_PUBKEY_BYTES) != 0))
        return swlog_fail(err, CLIENT_EPROTO, 0, "push answer: result %zu "
                          "names another feed", i);
    if ((acked || s >= 0) && (json_u64(d, s, &got_seq) || got_seq != seq))
        return swlog_fail(err, CLIENT_EPROTO, 0, "push answer: result %zu "
                          "names another seq than %llu", i,
                          (unsigned long long)seq);
    if ((acked || k >= 0) && (json_hex(d, k, got_id, sizeof got_id) ||
                              memcmp(got_id, id, SWLOG_HASH_BYTES) != 0))
        return swlog_fail(err, CLIENT_EPROTO, 0, "push answer: result %zu "
                          "names another frame id than seq %llu's", i,
                          (unsigned long long)seq);
    return SWLOG_OK;
}

int push_answer_verify(const char *json, size_t len,
                       const uint8_t feed[SWLOG_PUBKEY_BYTES],
                       const uint64_t *seq,
                       const uint8_t (*id)[SWLOG_HASH_BYTES], size_t n,
                       const uint8_t hub_key[SWLOG_PUBKEY_BYTES],
                       state_item *items, push_answer *a, swlog_error *err)
{
    json_doc d;
    swlog_frame ck;
    if (n > PUSH_MAX_FRAMES)
        return swlog_fail(err, SWLOG_EARG, 0, "more than %u frames in a "
                          "batch", PUSH_MAX_FRAMES);
    int rc = json_parse(&d, json, len, err);
    if (rc != SWLOG_OK)
        return swlog_fail(err, CLIENT_EPROTO, 0, "push answer is not JSON");
    memset(a, 0, offsetof(push_answer, ckpt_buf));
    a->bad = n;
    int res = json_member(&d, 0, "results");
    if (json_type_of(&d, res) != JSON_ARRAY || d.t[res].count != n) {
        rc = swlog_fail(err, CLIENT_EPROTO, 0, "push answer: \"results\" must "
                        "be an array of %zu results, one per frame sent", n);
        goto done;
    }
    int it = res + 1;
    for (size_t i = 0; i < n; i++, it = (int)d.t[it].end) {
        char status[16];
        rc = read_result(&d, it, i, feed, seq[i], id[i], status,
                         sizeof status, err);
        if (rc != SWLOG_OK)
            goto done;
        int ok = strcmp(status, "accepted") == 0 ||
                 strcmp(status, "duplicate") == 0;
        if (!ok && a->bad == n) {
            a->bad = i;
            snprintf(a->status, sizeof a->status, "%s", status);
            if (json_string(&d, json_member(&d, it, "error"), a->error,
                            sizeof a->error) != SWLOG_OK)
                snprintf(a->error, sizeof a->error, "%s", status);
            if (json_string(&d, json_member(&d, it, "message"), a->message,
                            sizeof a->message) != SWLOG_OK)
                a->message[0] = '\0';
        }
        if (!ok || a->bad != n)
            continue;
        state_item *x = &items[i];
        memset(x, 0, sizeof *x);
        x->seq = seq[i];
        memcpy(x->id, id[i], SWLOG_HASH_BYTES);
        if (json_u64(&d, json_member(&d, it, "leaf"), &x->leaf_index)) {
            rc = swlog_fail(err, CLIENT_EPROTO, 0, "push answer: result %zu "
                            "(seq %llu) lacks its leaf index", i,
                            (unsigned long long)seq[i]);
            goto done;
        }
        if (strcmp(status, "accepted") == 0)
            a->accepted++;
        else
            a->duplicate++;
        a->n_ok = i + 1;
    }
    if (a->n_ok == 0)
        goto done; /* nothing acknowledged: no receipt needed */
    int rcpt = json_member(&d, 0, "receipt");
    if (json_type_of(&d, rcpt) != JSON_OBJECT) {
        rc = swlog_fail(err, CLIENT_EPROTO, 0, "push answer: %zu frame(s) "
                        "acknowledged but no receipt", a->n_ok);
        goto done;
    }
    if ((rc = read_checkpoint(&d, rcpt, hub_key, a, &ck, err)) != SWLOG_OK)
        goto done;
    /* Proofs: one per acknowledged frame, by index (PROTOCOL §4.4). */
    int pr = json_member(&d, rcpt, "proofs");
    if (json_type_of(&d, pr) != JSON_ARRAY || d.t[pr].count > n) {
        rc = swlog_fail(err, CLIENT_EPROTO, 0, "push answer: the receipt's "
                        "proofs must be an array of at most %zu", n);
        goto done;
    }
    uint8_t have[PUSH_MAX_FRAMES] = {0};
    for (uint32_t k = 0, p = (uint32_t)pr + 1; k < d.t[pr].count;
         k++, p = d.t[p].end) {
        uint64_t idx, leaf;
        uint8_t pid[SWLOG_HASH_BYTES];
        int path = json_member(&d, (int)p, "path");
        if (json_u64(&d, json_member(&d, (int)p, "index"), &idx) ||
            json_u64(&d, json_member(&d, (int)p, "leaf"), &leaf) ||
            json_hex(&d, json_member(&d, (int)p, "id"), pid, sizeof pid) ||
            json_type_of(&d, path) != JSON_ARRAY ||
            d.t[path].count > SWLOG_MAX_PROOF) {
            rc = swlog_fail(err, CLIENT_EPROTO, 0, "push answer: proof %u "
                            "lacks index, leaf, id or a path of at most %u "
                            "hashes", k, SWLOG_MAX_PROOF);
            goto done;
        }
        if (idx >= a->n_ok)
            continue; /* after a refusal: not needed for the mark */
        state_item *x = &items[idx];
        if (have[idx] || leaf != x->leaf_index ||
            memcmp(pid, x->id, SWLOG_HASH_BYTES) != 0) {
            rc = swlog_fail(err, CLIENT_ERECEIPT, 0, "receipt: the proof for "
                            "result %llu names another frame or leaf, or "
                            "comes twice", (unsigned long long)idx);
            goto done;
        }
        have[idx] = 1;
        x->proof_len = d.t[path].count;
        for (uint32_t h = 0; h < d.t[path].count; h++)
            if (json_hex(&d, json_item(&d, path, h), x->proof[h],
                         SWLOG_HASH_BYTES)) {
                rc = swlog_fail(err, CLIENT_EPROTO, 0, "push answer: a proof "
                                "hash is not 64 hex digits");
                goto done;
            }
    }
    for (size_t i = 0; i < a->n_ok; i++) {
        swlog_error perr = {0};
        const state_item *x = &items[i];
        if (!have[i] || x->leaf_index >= a->tree_size ||
            swlog_merkle_inclusion_verify(
                x->id, x->leaf_index, a->tree_size,
                (const uint8_t(*)[SWLOG_HASH_BYTES])x->proof, x->proof_len,
                ck.u.checkpoint.root, &perr) != SWLOG_OK) {
            rc = swlog_fail(err, CLIENT_ERECEIPT, 0, "receipt: %s of seq %llu "
                            "(leaf %llu of %llu) against the checkpoint's "
                            "root", have[i] ? "the inclusion proof does not "
                            "verify" : "no inclusion proof",
                            (unsigned long long)x->seq,
                            (unsigned long long)x->leaf_index,
                            (unsigned long long)a->tree_size);
            goto done;
        }
    }
done:
    json_clear(&d);
    return rc;
}

/* GET /v1/feeds/<feed>: the hub's head (PROTOCOL §4.1). */
static int get_head(push_ctx *c, const char *fhex, uint64_t *seq,
                    uint8_t id[SWLOG_HASH_BYTES], int *frozen,
                    http_resp *resp, swlog_error *err)
{
    char url[1200];
    json_doc d;
    uint8_t f[SWLOG_PUBKEY_BYTES], want[SWLOG_PUBKEY_BYTES];
    snprintf(url, sizeof url, "%s/v1/feeds/%s", c->base_url, fhex);
    http_resp_clear(resp);
    int rc = http_request(c->http, url, NULL, NULL, 0, HTTP_MAX_JSON, resp,
                          err);
    if (rc != SWLOG_OK)
        return rc;
    if (json_parse(&d, resp->body ? resp->body : "", resp->len, err) !=
        SWLOG_OK)
        return swlog_fail(err, CLIENT_EPROTO, 0, "head of feed %.16s…: the "
                          "answer is not JSON", fhex);
    int fr = json_member(&d, 0, "frozen");
    for (int i = 0; i < 32; i++)
        sscanf(fhex + 2 * i, "%2hhx", &want[i]);
    if (json_hex(&d, json_member(&d, 0, "feed"), f, 32) ||
        memcmp(f, want, 32) != 0 ||
        json_u64(&d, json_member(&d, 0, "seq"), seq) ||
        json_hex(&d, json_member(&d, 0, "id"), id, 32) ||
        (fr >= 0 && json_type_of(&d, fr) != JSON_TRUE &&
         json_type_of(&d, fr) != JSON_FALSE))
        rc = swlog_fail(err, CLIENT_EPROTO, 0, "head of feed %.16s…: the "
                        "answer lacks feed, seq or id (PROTOCOL §4.1)", fhex);
    *frozen = json_type_of(&d, fr) == JSON_TRUE;
    json_clear(&d);
    return rc;
}

typedef struct batch {
    swlog_buf body;
    uint8_t salt[SWLOG_SALT_BYTES];
    size_t n;
    uint64_t seq[PUSH_MAX_FRAMES];
    uint8_t id[PUSH_MAX_FRAMES][SWLOG_HASH_BYTES];
} batch;

/* Send b, verify the answer, store the receipt, move the mark. */
static int send_batch(push_ctx *c, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                      batch *b, push_result *r, swlog_error *err)
{
    char url[1200];
    push_answer *a = malloc(sizeof *a);
    state_item *items = calloc(b->n, sizeof *items);
    int rc;
    if (a == NULL || items == NULL) {
        rc = swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
        goto done;
    }
    snprintf(url, sizeof url, "%s/v1/push", c->base_url);
    http_resp_clear(&r->last);
    r->batches++;
    r->frames_sent += b->n;
    swlog_error herr = {0};
    rc = http_request(c->http, url, "application/x-swsync-frames", b->body.p,
                      b->body.len, HTTP_MAX_JSON, &r->last, &herr);
    /* 409: a fork among the frames; the results say which (§4.3). */
    if (rc != SWLOG_OK && !(rc == CLIENT_EHTTP && r->last.status == 409)) {
        rc = swlog_fail(err, rc, 0, "%s", herr.msg);
        goto done;
    }
    rc = push_answer_verify(r->last.body ? r->last.body : "", r->last.len,
                            feed, b->seq,
                            (const uint8_t(*)[SWLOG_HASH_BYTES])b->id, b->n,
                            c->hub_key, items, a, err);
    if (rc != SWLOG_OK)
        goto done;
    if (a->n_ok > 0) {
        size_t last = a->n_ok - 1;
        rc = state_ack(c->st, feed, a->ckpt, a->ckpt_len, a->ckpt_id,
                       a->tree_size, items, a->n_ok, b->seq[last],
                       b->id[last], c->now_ms, err);
        if (rc != SWLOG_OK)
            goto done;
        if (b->seq[last] > r->acked_seq)
            r->acked_seq = b->seq[last];
        if (b->seq[last] > r->hub_seq)
            r->hub_seq = b->seq[last];
        r->accepted += a->accepted;
        r->duplicate += a->duplicate;
    }
    if (a->bad < b->n) {
        r->refused_seq = b->seq[a->bad];
        rc = state_refused(c->st, feed, b->seq[a->bad], b->id[a->bad],
                           a->error, a->message, c->now_ms, err);
        if (rc == SWLOG_OK)
            rc = swlog_fail(err, CLIENT_EREFUSED, 0, "the hub refused seq "
                            "%llu (%s): %s: %s", (unsigned long long)
                            b->seq[a->bad], a->status, a->error, a->message);
    }
done:
    free(a);
    free(items);
    swlog_buf_clear(&b->body);
    b->n = 0;
    return rc;
}

int push_feed(push_ctx *c, const char *log_path,
              const uint8_t feed[SWLOG_PUBKEY_BYTES], uint64_t local_seq,
              push_result *r, swlog_error *err)
{
    char fhex[2 * SWLOG_PUBKEY_BYTES + 1];
    uint8_t acked_id[SWLOG_HASH_BYTES], head_id[SWLOG_HASH_BYTES];
    uint64_t acked, head;
    int frozen = 0, rc;
    swlog_log *log = NULL;
    batch *b = NULL;
    memset(r, 0, sizeof *r);
    r->local_seq = local_seq;
    swlog_hex(feed, SWLOG_PUBKEY_BYTES, fhex);
    if ((rc = state_acked(c->st, feed, &acked, acked_id, err)) != SWLOG_OK)
        return rc;
    r->acked_seq = acked;
    rc = get_head(c, fhex, &head, head_id, &frozen, &r->last, err);
    if (rc != SWLOG_OK)
        return rc;
    r->hub_seq = head;
    if (frozen)
        return swlog_fail(err, CLIENT_EFEED, 0, "the hub has frozen feed "
                          "%.16s… (a fork: two frames with one seq); ask the "
                          "county office", fhex);
    if (head > local_seq)
        return swlog_fail(err, CLIENT_EFEED, 0, "the hub holds seq %llu of "
                          "feed %.16s… but %s ends at seq %llu: was this "
                          "folder restored from a backup? Do not seal before "
                          "the county office checks", (unsigned long long)head,
                          fhex, log_path, (unsigned long long)local_seq);
    /* Frames the hub holds but we hold no receipt for are sent again: the
     * hub answers "duplicate" with an inclusion proof, so every frame under
     * the mark has a verified receipt. Normally that is at most the batch
     * whose answer was lost. */
    uint64_t start = acked < head ? acked : head;
    if (acked == head && head > 0 &&
        memcmp(acked_id, head_id, SWLOG_HASH_BYTES) != 0)
        return swlog_fail(err, CLIENT_EFEED, 0, "the hub holds another frame "
                          "at seq %llu of feed %.16s… than the one it "
                          "acknowledged: a fork; ask the county office",
                          (unsigned long long)head, fhex);
    if (head == local_seq && acked >= head)
        return SWLOG_OK; /* nothing to send; the head check below is moot */
    if ((b = calloc(1, sizeof *b)) == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    swlog_random(b->salt, sizeof b->salt);
    if ((rc = swlog_log_open(log_path, SWLOG_READ, &log, err)) != SWLOG_OK)
        goto done;
    const uint8_t *body;
    size_t len;
    uint64_t off;
    int more;
    while ((more = swlog_log_next(log, &body, &len, &off, err)) == 1) {
        swlog_frame f;
        swlog_error ferr = {0};
        if (len < 76 || memcmp(body + 4, feed, SWLOG_PUBKEY_BYTES) != 0)
            continue; /* another feed (or a body the decoder refuses) */
        if (swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &f, &ferr) !=
            SWLOG_OK) {
            rc = swlog_fail(err, ferr.code, off, "%s at offset %llu: %s",
                            log_path, (unsigned long long)off, ferr.msg);
            goto done;
        }
        if (f.seq == head && memcmp(f.id, head_id, SWLOG_HASH_BYTES) != 0) {
            rc = swlog_fail(err, CLIENT_EFEED, off, "the hub holds another "
                            "frame at seq %llu of feed %.16s… than %s: a "
                            "fork; ask the county office",
                            (unsigned long long)head, fhex, log_path);
            goto done;
        }
        if (f.seq <= start)
            continue;
        if (f.seq > local_seq)
            break;
        if (b->n == c->max_frames ||
            (b->n > 0 && b->body.len + len + SWLOG_ENVELOPE_BYTES >
                             c->max_bytes)) {
            if ((rc = send_batch(c, feed, b, r, err)) != SWLOG_OK)
                goto done;
        }
        if ((b->n == 0 ? SWLOG_FILE_HEADER_BYTES : b->body.len) + len +
                SWLOG_ENVELOPE_BYTES > c->max_bytes) {
            rc = swlog_fail(err, SWLOG_EBOUNDS, off, "frame seq %llu of %zu "
                            "bytes does not fit in a push of at most %zu "
                            "bytes", (unsigned long long)f.seq, len,
                            c->max_bytes);
            goto done;
        }
        if ((rc = push_body_add(&b->body, b->salt, body, len, err)) !=
            SWLOG_OK)
            goto done;
        b->seq[b->n] = f.seq;
        memcpy(b->id[b->n], f.id, SWLOG_HASH_BYTES);
        b->n++;
    }
    if (more < 0) {
        rc = more;
        goto done;
    }
    if (b->n > 0)
        rc = send_batch(c, feed, b, r, err);
done:
    swlog_log_close(log);
    if (b != NULL)
        swlog_buf_clear(&b->body);
    free(b);
    return rc;
}
