/* The sync client: hello, feeds of each log, passes and waits (PROTOCOL
 * §3, §4, §6). */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backoff.h"
#include "json.h"

struct client {
    client_config cfg;
    char *url, *key_hex;
    http_client *http;
    state *st;
    sqlite3 *db;
};

const char *client_code_name(int code)
{
    switch (code) {
    case CLIENT_ENET: return "CLIENT_ENET";
    case CLIENT_ETLS: return "CLIENT_ETLS";
    case CLIENT_EHTTP: return "CLIENT_EHTTP";
    case CLIENT_ESTOP: return "CLIENT_ESTOP";
    case CLIENT_EPROTO: return "CLIENT_EPROTO";
    case CLIENT_ERECEIPT: return "CLIENT_ERECEIPT";
    case CLIENT_EREFUSED: return "CLIENT_EREFUSED";
    case CLIENT_EFEED: return "CLIENT_EFEED";
    default: return swlog_code_name(code);
    }
}

int client_code_transient(int code, long http_status)
{
    if (code == CLIENT_ENET)
        return 1;
    if (code == CLIENT_EHTTP)
        return http_status == 408 || http_status == 429 ||
               http_status >= 500;
    return 0;
}

int64_t client_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_key(const char *hex, uint8_t key[SWLOG_PUBKEY_BYTES])
{
    if (hex == NULL || strlen(hex) != 2 * SWLOG_PUBKEY_BYTES)
        return -1;
    for (size_t i = 0; i < 2 * SWLOG_PUBKEY_BYTES; i++) {
        char ch = hex[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        key[i / 2] = (uint8_t)(i % 2 ? key[i / 2] | v : v << 4);
    }
    return 0;
}

int client_new(const client_config *cfg, sqlite3 *state_db, client **out,
               swlog_error *err)
{
    uint8_t k[SWLOG_PUBKEY_BYTES];
    if (cfg->hub_url == NULL || strncmp(cfg->hub_url, "https://", 8) != 0)
        return swlog_fail(err, SWLOG_EARG, 0, "the hub URL must start with "
                          "https:// (PROTOCOL §1), not \"%.60s\"",
                          cfg->hub_url ? cfg->hub_url : "");
    if (strlen(cfg->hub_url) > 1000)
        return swlog_fail(err, SWLOG_EARG, 0, "the hub URL is longer than "
                          "1000 bytes");
    if (cfg->hub_key_hex != NULL && cfg->hub_key_hex[0] != '\0' &&
        parse_key(cfg->hub_key_hex, k) != 0)
        return swlog_fail(err, SWLOG_EARG, 0, "hub_key must be 64 lowercase "
                          "hex digits (the hub's public signing key)");
    client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    c->cfg = *cfg;
    c->db = state_db;
    c->url = strdup(cfg->hub_url);
    c->key_hex = strdup(cfg->hub_key_hex ? cfg->hub_key_hex : "");
    int rc = SWLOG_OK;
    if (c->url == NULL || c->key_hex == NULL) {
        rc = swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
        goto fail;
    }
    size_t n = strlen(c->url);
    while (n > 8 && c->url[n - 1] == '/')
        c->url[--n] = '\0';
    http_opts o = {cfg->hub_ca, cfg->connect_timeout_s, cfg->low_speed_bytes,
                   cfg->low_speed_time_s, cfg->total_timeout_s, cfg->stop};
    if ((rc = http_new(&o, &c->http, err)) != SWLOG_OK ||
        (rc = state_open(state_db, c->url, &c->st, err)) != SWLOG_OK)
        goto fail;
    *out = c;
    return SWLOG_OK;
fail:
    client_free(c);
    return rc;
}

void client_free(client *c)
{
    if (c == NULL)
        return;
    http_free(c->http);
    state_close(c->st);
    free(c->url);
    free(c->key_hex);
    free(c);
}

/* GET /v1/hello: protocol 1, the hub's key (checked against the
 * configured or pinned one, or pinned now), its limits. */
static int hello(client *c, push_ctx *p, uint32_t *retry_after,
                 swlog_error *err)
{
    char url[1200];
    http_resp resp = {0};
    json_doc d;
    uint8_t key[SWLOG_PUBKEY_BYTES], want[SWLOG_PUBKEY_BYTES];
    uint64_t proto = 0, v;
    snprintf(url, sizeof url, "%s/v1/hello", c->url);
    int rc = http_request(c->http, url, NULL, NULL, 0, HTTP_MAX_JSON, &resp,
                          err);
    if (rc != SWLOG_OK) {
        *retry_after = resp.retry_after_s;
        http_resp_clear(&resp);
        return rc;
    }
    if (json_parse(&d, resp.body ? resp.body : "", resp.len, err) !=
        SWLOG_OK) {
        http_resp_clear(&resp);
        return swlog_fail(err, CLIENT_EPROTO, 0, "%s: not JSON", url);
    }
    if (json_u64(&d, json_member(&d, 0, "protocol"), &proto) || proto != 1 ||
        json_hex(&d, json_member(&d, 0, "hub"), key, sizeof key)) {
        rc = swlog_fail(err, CLIENT_EPROTO, 0, "%s: the hub does not speak "
                        "protocol 1 or names no key", url);
        goto done;
    }
    p->max_frames = c->cfg.max_frames ? c->cfg.max_frames : PUSH_MAX_FRAMES;
    p->max_bytes = c->cfg.max_bytes ? c->cfg.max_bytes : PUSH_MAX_BYTES;
    if (p->max_frames > PUSH_MAX_FRAMES)
        p->max_frames = PUSH_MAX_FRAMES;
    if (p->max_bytes > PUSH_MAX_BYTES)
        p->max_bytes = PUSH_MAX_BYTES;
    if (json_u64(&d, json_member(&d, 0, "max_push_frames"), &v) == SWLOG_OK &&
        v > 0 && v < p->max_frames)
        p->max_frames = (size_t)v;
    if (json_u64(&d, json_member(&d, 0, "max_push_bytes"), &v) == SWLOG_OK &&
        v > 0 && v < p->max_bytes)
        p->max_bytes = (size_t)v;
    if (c->key_hex[0] != '\0') {
        parse_key(c->key_hex, want);
    } else {
        int pinned = state_hub_key(c->st, want, err);
        if (pinned < 0) {
            rc = pinned;
            goto done;
        }
        /* First contact: pin the key the hub names. The TLS certificate,
         * verified against the configured CA, authenticates the hub that
         * names it; from then on a different key is refused. */
        if (pinned == 0) {
            if ((rc = state_pin_hub_key(c->st, key, client_now_ms(), err)) !=
                SWLOG_OK)
                goto done;
            memcpy(want, key, sizeof want);
        }
    }
    if (memcmp(want, key, sizeof key) != 0) {
        char got[65], exp[65];
        swlog_hex(key, 32, got);
        swlog_hex(want, 32, exp);
        rc = swlog_fail(err, CLIENT_ERECEIPT, 0, "the hub at %s signs with "
                        "key %.16s…, but %.16s… is expected (hub_key in the "
                        "configuration, or pinned at first contact)", c->url,
                        got, exp);
        goto done;
    }
    memcpy(p->hub_key, key, sizeof key);
done:
    json_clear(&d);
    http_resp_clear(&resp);
    return rc;
}

typedef struct feed_ent {
    uint8_t pk[SWLOG_PUBKEY_BYTES];
    uint64_t last;
} feed_ent;

/* The feeds of a log and the last seq of each, from the common header of
 * each frame (FORMAT §4.1: signer at 4, seq at 36). */
static int log_feeds(const char *path, feed_ent **out, size_t *n,
                     swlog_error *err)
{
    swlog_log *log;
    feed_ent *v = NULL;
    size_t cnt = 0, cap = 0;
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT) {
        *out = NULL; /* nothing sealed yet: no feed to push */
        *n = 0;
        return SWLOG_OK;
    }
    int rc = swlog_log_open(path, SWLOG_READ, &log, err), more;
    if (rc != SWLOG_OK)
        return rc;
    const uint8_t *body;
    size_t len;
    uint64_t off;
    while ((more = swlog_log_next(log, &body, &len, &off, err)) == 1) {
        if (len < SWLOG_COMMON_HEADER_BYTES)
            continue; /* push_feed reports it when it gets there */
        uint64_t seq = 0;
        for (int i = 0; i < 8; i++)
            seq = seq << 8 | body[36 + i];
        size_t i;
        for (i = 0; i < cnt; i++)
            if (memcmp(v[i].pk, body + 4, SWLOG_PUBKEY_BYTES) == 0)
                break;
        if (i == cnt) {
            if (cnt == CLIENT_MAX_FEEDS) {
                rc = swlog_fail(err, SWLOG_EBOUNDS, off, "%s holds more than "
                                "%u feeds", path, CLIENT_MAX_FEEDS);
                break;
            }
            if (cnt == cap) {
                cap = cap ? cap * 2 : 8;
                feed_ent *nv = realloc(v, cap * sizeof *nv);
                if (nv == NULL) {
                    rc = swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
                    break;
                }
                v = nv;
            }
            memcpy(v[cnt].pk, body + 4, SWLOG_PUBKEY_BYTES);
            v[cnt++].last = 0;
        }
        if (seq > v[i].last)
            v[i].last = seq;
    }
    if (rc == SWLOG_OK && more < 0)
        rc = more;
    swlog_log_close(log);
    if (rc != SWLOG_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *n = cnt;
    return SWLOG_OK;
}

static int stopped(const client *c)
{
    return c->cfg.stop != NULL && *c->cfg.stop;
}

int client_sync(client *c, const char *const *logs, size_t nlogs,
                client_report *rep, swlog_error *err)
{
    push_ctx p = {0};
    int first = SWLOG_OK;
    memset(rep, 0, sizeof *rep);
    p.http = c->http;
    p.st = c->st;
    p.base_url = c->url;
    p.now_ms = client_now_ms();
    int rc = hello(c, &p, &rep->retry_after_s, err);
    if (rc != SWLOG_OK) {
        rep->hub_unreachable = 1;
        return rc;
    }
    for (size_t l = 0; l < nlogs && !rep->hub_unreachable; l++) {
        feed_ent *feeds = NULL;
        size_t nf = 0;
        swlog_error lerr = {0};
        if ((rc = log_feeds(logs[l], &feeds, &nf, &lerr)) != SWLOG_OK) {
            if (first == SWLOG_OK)
                first = swlog_fail(err, rc, lerr.offset, "%s", lerr.msg);
            continue;
        }
        for (size_t i = 0; i < nf; i++) {
            push_result r;
            swlog_error ferr = {0};
            memset(&r, 0, sizeof r);
            if (stopped(c)) {
                rc = swlog_fail(&ferr, CLIENT_ESTOP, 0, "stopped");
                rep->hub_unreachable = 1;
            } else {
                p.now_ms = client_now_ms();
                rc = push_feed(&p, logs[l], feeds[i].pk, feeds[i].last, &r,
                               &ferr);
            }
            rep->feeds++;
            rep->frames_sent += r.frames_sent;
            rep->accepted += r.accepted;
            rep->duplicate += r.duplicate;
            if (r.local_seq > r.acked_seq)
                rep->waiting += r.local_seq - r.acked_seq;
            if (rc == SWLOG_OK)
                rep->feeds_ok++;
            else if (rc == CLIENT_EREFUSED)
                rep->feeds_refused++;
            else
                rep->feeds_failed++;
            if (rc == CLIENT_ENET || rc == CLIENT_ETLS ||
                rc == CLIENT_ESTOP ||
                (rc == CLIENT_EHTTP &&
                 client_code_transient(rc, r.last.status))) {
                rep->hub_unreachable = 1;
                if (r.last.retry_after_s > rep->retry_after_s)
                    rep->retry_after_s = r.last.retry_after_s;
            }
            /* The state is the station's memory of this try; a failure to
             * write it is reported but does not hide the push's own. */
            swlog_error serr = {0};
            if (rc != CLIENT_ESTOP &&
                state_note(c->st, feeds[i].pk, r.local_seq, r.hub_seq,
                           rc == SWLOG_OK ? NULL : ferr.msg, client_now_ms(),
                           &serr) != SWLOG_OK &&
                rc == SWLOG_OK)
                rc = swlog_fail(&ferr, serr.code, 0, "%s", serr.msg);
            if (c->cfg.on_feed != NULL)
                c->cfg.on_feed(c->cfg.ctx, logs[l], feeds[i].pk, &r, rc,
                               &ferr);
            if (rc != SWLOG_OK && first == SWLOG_OK)
                first = swlog_fail(err, rc, ferr.offset, "%s", ferr.msg);
            http_resp_clear(&r.last);
            if (rep->hub_unreachable)
                break;
        }
        free(feeds);
    }
    return first;
}

/* Size and modification time of every log, to notice new frames. */
static uint64_t logs_stamp(const char *const *logs, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (stat(logs[i], &sb) != 0)
            continue;
        h = (h ^ (uint64_t)sb.st_size) * 1099511628211ull;
        h = (h ^ (uint64_t)sb.st_mtime) * 1099511628211ull;
    }
    return h;
}

int client_run(client *c, const char *const *logs, size_t nlogs,
               uint32_t interval_s, client_prepare_fn prepare,
               client_pass_fn on_pass, void *ctx, swlog_error *err)
{
    backoff b;
    backoff_init(&b, 0, 0);
    (void)err;
    while (!stopped(c)) {
        client_report rep;
        swlog_error perr = {0};
        int rc = SWLOG_OK;
        if (prepare != NULL)
            rc = prepare(ctx, &perr);
        uint64_t stamp = logs_stamp(logs, nlogs);
        int src = client_sync(c, logs, nlogs, &rep, &perr);
        if (rc == SWLOG_OK)
            rc = src;
        if (stopped(c))
            break;
        uint32_t wait_ms;
        int watch = 0;
        if (src == SWLOG_OK ||
            (!rep.hub_unreachable && rep.feeds_failed == 0)) {
            /* Everything sent (refused frames wait for a person): sleep
             * until the interval passes or a log grows. */
            backoff_reset(&b);
            wait_ms = interval_s * 1000u;
            watch = 1;
        } else {
            uint32_t rnd;
            swlog_random(&rnd, sizeof rnd);
            wait_ms = backoff_next(&b, rnd, rep.retry_after_s);
        }
        if (on_pass != NULL)
            on_pass(ctx, rc, &perr, &rep, wait_ms);
        int64_t until = client_now_ms() + wait_ms;
        while (!stopped(c) && client_now_ms() < until) {
            struct timespec ts = {0, 250 * 1000000L};
            nanosleep(&ts, NULL); /* EINTR on a signal: checked above */
            if (watch && logs_stamp(logs, nlogs) != stamp)
                break;
        }
    }
    return SWLOG_OK;
}

int client_status_text(sqlite3 *db, swlog_buf *out, swlog_error *err)
{
    return state_status_text(db, client_now_ms(), out, err);
}

int client_status_json(sqlite3 *db, swlog_buf *out, swlog_error *err)
{
    return state_status_json(db, out, err);
}
