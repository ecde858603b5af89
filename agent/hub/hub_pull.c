/* The pull endpoint: hub_pull.h. */
#include "hub_pull.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_internal.h"
#include "hub_json.h"
#include "pullauth.h"

typedef struct nonce_entry {
    uint8_t key[SWLOG_PUBKEY_BYTES];
    uint8_t nonce[PULLAUTH_NONCE_BYTES];
    uint64_t t_ms; /* the request's time; 0 = free slot */
} nonce_entry;

struct hub_nonces {
    nonce_entry e[HUB_PULL_NONCES];
};

void hub__nonces_free(struct hub_nonces *n)
{
    free(n);
}

static unsigned fail(swlog_buf *out, unsigned status, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static unsigned fail(swlog_buf *out, unsigned status, const char *code,
                     const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    out->len = 0;
    hub_json_error(out, code, msg);
    return status;
}

/* A decimal below 2^53, nothing else. */
static int parse_u53(const char *s, uint64_t *v)
{
    if (s == NULL || *s == '\0' || strlen(s) > 16)
        return -1;
    uint64_t x = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (x >= (1ull << 53))
        return -1;
    *v = x;
    return 0;
}

/* Remember (key, nonce) of a request at t_ms: 0 new, 1 a replay, -1 the
 * cache is full of nonces still inside the window. */
static int nonce_seen(hub *h, const uint8_t *key, const uint8_t *nonce,
                      uint64_t t_ms, uint64_t now)
{
    if (h->nonces == NULL && (h->nonces = calloc(1, sizeof *h->nonces)) ==
                                 NULL)
        return -1;
    nonce_entry *free_slot = NULL;
    for (size_t i = 0; i < HUB_PULL_NONCES; i++) {
        nonce_entry *e = &h->nonces->e[i];
        if (e->t_ms != 0 && e->t_ms + HUB_PULL_WINDOW_MS < now)
            e->t_ms = 0; /* outside the window: its time alone refuses it */
        if (e->t_ms == 0) {
            if (free_slot == NULL)
                free_slot = e;
            continue;
        }
        if (memcmp(e->nonce, nonce, PULLAUTH_NONCE_BYTES) == 0 &&
            memcmp(e->key, key, SWLOG_PUBKEY_BYTES) == 0)
            return 1;
    }
    if (free_slot == NULL)
        return -1;
    memcpy(free_slot->key, key, SWLOG_PUBKEY_BYTES);
    memcpy(free_slot->nonce, nonce, PULLAUTH_NONCE_BYTES);
    free_slot->t_ms = t_ms ? t_ms : 1;
    return 0;
}

/* The unit of a station key certified by this hub, valid now: NULL with a
 * message in msg when it is not. */
static const char *station_unit(hub *h, const uint8_t *key, uint64_t now,
                                char *msg, size_t cap)
{
    const keyfeed_cert *c = keyfeed_cert_of(&h->keys.kf, key);
    if (c == NULL || c->role != SWLOG_ROLE_STATION ||
        memcmp(c->issuer, h->pk, SWLOG_PUBKEY_BYTES) != 0) {
        snprintf(msg, cap, "the key is not a station key certified by this "
                           "hub: pulls are served to this county's stations "
                           "only");
        return NULL;
    }
    swlog_frame f;
    memset(&f, 0, sizeof f);
    memcpy(f.signer, key, SWLOG_PUBKEY_BYTES);
    f.seq = UINT64_MAX; /* any revocation from a seq covers a pull */
    f.hlc = now << 16;
    char kmsg[200];
    const char *code = hub_keys_check(&h->keys, &f, now, kmsg, sizeof kmsg);
    if (code != NULL) {
        snprintf(msg, cap, "%s: %s", code, kmsg);
        return NULL;
    }
    return c->unit;
}

typedef struct serve_ctx {
    swlog_buf *out;
    const uint8_t *salt;
    uint64_t limit, n, max_bytes;
    int failed;
    int strict; /* 1: even the first frame within max_bytes */
    int more;   /* a frame was left out */
} serve_ctx;

static int serve_one(void *ctx, uint64_t seq, const char *recipient,
                     const uint8_t *body, size_t len)
{
    serve_ctx *c = ctx;
    (void)seq;
    (void)recipient;
    if (c->n >= c->limit ||
        ((c->n > 0 || c->strict) &&
         c->out->len + len + SWLOG_ENVELOPE_BYTES > c->max_bytes)) {
        c->more = 1;
        return 1;
    }
    uint8_t head[SWLOG_ENVELOPE_HEAD_BYTES], crc[4];
    swlog_envelope_encode(c->salt, body, len, head, crc);
    if (swlog_buf_append(c->out, head, sizeof head) != SWLOG_OK ||
        swlog_buf_append(c->out, body, len) != SWLOG_OK ||
        swlog_buf_append(c->out, crc, sizeof crc) != SWLOG_OK) {
        c->failed = 1;
        return 1;
    }
    c->n++;
    return 0;
}

unsigned hub_pull(hub *h, const hub_pull_req *q, swlog_buf *out,
                  int *is_frames)
{
    *is_frames = 0;
    uint64_t after, req_limit = 0, limit, t_ms;
    if (parse_u53(q->after, &after) != 0 ||
        (q->limit != NULL && parse_u53(q->limit, &req_limit) != 0))
        return fail(out, 400, "bad_request",
                    "a pull needs after=N (the last seq of the hub's feed "
                    "the station merged) and may give limit=M, decimal "
                    "(PROTOCOL §10.1)");
    limit = req_limit;
    if (limit == 0 || limit > h->cfg.max_push_frames)
        limit = h->cfg.max_push_frames;
    uint8_t key[SWLOG_PUBKEY_BYTES], nonce[PULLAUTH_NONCE_BYTES],
        sig[PULLAUTH_SIG_BYTES];
    if (pullauth_unhex(q->key, key, sizeof key) != 0 ||
        parse_u53(q->time, &t_ms) != 0 ||
        pullauth_unhex(q->nonce, nonce, sizeof nonce) != 0 ||
        pullauth_unhex(q->sig, sig, sizeof sig) != 0)
        return fail(out, 401, "unauthorized",
                    "a pull must carry X-Swsync-Key (64 hex), X-Swsync-Time "
                    "(ms), X-Swsync-Nonce (32 hex) and X-Swsync-Signature "
                    "(128 hex) (PROTOCOL §10.2)");
    uint64_t now = hub__now_ms();
    uint64_t off = now > t_ms ? now - t_ms : t_ms - now;
    if (off > HUB_PULL_WINDOW_MS)
        return fail(out, 401, "unauthorized",
                    "request time is %" PRIu64 " ms %s the hub's clock (at "
                    "most %u): check the station's clock, or a stale request "
                    "was replayed", off, t_ms < now ? "behind" : "ahead of",
                    HUB_PULL_WINDOW_MS);
    char query[64], msg[PULLAUTH_MSG_MAX], nhex[2 * PULLAUTH_NONCE_BYTES + 1];
    if (q->limit != NULL)
        pullauth_query(after, req_limit, query);
    else /* the query as sent: after only */
        snprintf(query, sizeof query, "after=%" PRIu64, after);
    swlog_hex(nonce, sizeof nonce, nhex);
    size_t mlen = pullauth_message("GET", "/v1/pull", query, t_ms, nhex,
                                   h->pk, key, msg);
    if (mlen == 0 || !pullauth_verify(key, msg, mlen, sig))
        return fail(out, 401, "unauthorized",
                    "the request signature does not verify for key %.16s...: "
                    "sign it with that station key (PROTOCOL §10.2)",
                    q->key);
    char why[300];
    pthread_mutex_lock(&h->mu);
    const char *unit = station_unit(h, key, now, why, sizeof why);
    if (unit == NULL) {
        pthread_mutex_unlock(&h->mu);
        return fail(out, 403, "forbidden", "key %.16s...: %s", q->key, why);
    }
    int seen = nonce_seen(h, key, nonce, t_ms, now);
    if (seen != 0) {
        pthread_mutex_unlock(&h->mu);
        if (seen > 0)
            return fail(out, 401, "unauthorized",
                        "this request (nonce %.8s...) was already answered: "
                        "a replay; every pull needs a fresh nonce", nhex);
        out->len = 0;
        hub_json_error(out, "busy", "too many pulls within the window: "
                                    "retry later");
        return 503;
    }
    uint8_t salt[SWLOG_SALT_BYTES], hdr[SWLOG_FILE_HEADER_BYTES];
    swlog_random(salt, sizeof salt);
    swlog_file_header_encode(salt, hdr);
    out->len = 0;
    swlog_buf_append(out, hdr, sizeof hdr);
    serve_ctx c = {out, salt, limit, 0, h->cfg.max_push_bytes, 0, 0, 0};
    swlog_error err = {0};
    int rc = hub_store_outbound(h->store, after, unit, serve_one, &c, &err);
    pthread_mutex_unlock(&h->mu);
    if (rc < 0 || c.failed)
        return fail(out, 500, "internal", "reading authored frames: %s",
                    c.failed ? "out of memory" : err.msg);
    *is_frames = 1;
    return 200;
}

int hub_pull_frames(hub *h, const uint8_t key[SWLOG_PUBKEY_BYTES],
                    uint64_t after, uint64_t max_frames, uint64_t max_bytes,
                    swlog_buf *out, uint64_t *n, int *more, swlog_error *err)
{
    *n = 0;
    *more = 0;
    char why[300];
    uint8_t salt[SWLOG_SALT_BYTES], hdr[SWLOG_FILE_HEADER_BYTES];
    swlog_random(salt, sizeof salt);
    swlog_file_header_encode(salt, hdr);
    out->len = 0;
    if (swlog_buf_append(out, hdr, sizeof hdr) != SWLOG_OK)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    pthread_mutex_lock(&h->mu);
    const char *unit = station_unit(h, key, hub__now_ms(), why, sizeof why);
    if (unit == NULL) {
        pthread_mutex_unlock(&h->mu);
        return swlog_fail(err, SWLOG_EINVAL, 0, "%s", why);
    }
    serve_ctx c = {out, salt, max_frames, 0, max_bytes, 0, 1, 0};
    int rc = hub_store_outbound(h->store, after, unit, serve_one, &c, err);
    pthread_mutex_unlock(&h->mu);
    if (c.failed)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    if (rc < 0)
        return err->code != SWLOG_OK ? err->code : SWLOG_EIO;
    *n = c.n;
    *more = c.more;
    return SWLOG_OK;
}
