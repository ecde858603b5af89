/* The hub: opening, recovery, checkpoints and the read-only answers
 * (PROTOCOL §3, §4.1, §4.4, §4.6). Ingest is in hub_push.c. */
#include "hub_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../error.h"
#include "hub_author.h"
#include "hub_json.h"
#include "hub_lock.h"
#include "hub_pull.h"
#include "hub_merkle.h"

uint64_t hub__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const uint8_t *hub_pubkey(const hub *h)
{
    return h->key->pk;
}

uint64_t hub_batches(const hub *h)
{
    return __atomic_load_n(&h->batches, __ATOMIC_RELAXED);
}

uint64_t hub_caught_up(const hub *h)
{
    return h->caught_up;
}

/* The hub's own feed: the newest checkpoint in it, read once at start. */
static int read_own_checkpoint(hub *h, swlog_error *err)
{
    struct stat sb;
    if (stat(h->cfg.own_log, &sb) != 0)
        return SWLOG_OK;
    swlog_log *log;
    int rc = swlog_log_open(h->cfg.own_log, SWLOG_READ, &log, err);
    if (rc != SWLOG_OK)
        return rc;
    const uint8_t *body;
    size_t len;
    uint64_t off;
    int r;
    while ((r = swlog_log_next(log, &body, &len, &off, err)) == 1) {
        swlog_frame f;
        if (swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &f, NULL) ==
                SWLOG_OK &&
            f.type == SWLOG_TYPE_CHECKPOINT) {
            h->cp.len = 0;
            if (swlog_buf_append(&h->cp, body, len) != SWLOG_OK) {
                r = error_set(err, SWLOG_ENOMEM, "out of memory");
                break;
            }
            h->cp_size = f.u.checkpoint.tree_size;
            memcpy(h->cp_root, f.u.checkpoint.root, SWLOG_HASH_BYTES);
            h->have_cp = 1;
        }
    }
    swlog_log_close(log);
    return r < 0 ? r : SWLOG_OK;
}

int hub__checkpoint_sign(hub *h, swlog_error *err)
{
    uint64_t n = hub_store_leaves(h->store);
    if (h->have_cp && h->cp_size == n)
        return SWLOG_OK;
    uint8_t root[SWLOG_HASH_BYTES];
    int rc = hub_merkle_root(h->store, n, root, err);
    if (rc != SWLOG_OK)
        return rc;
    swlog_head head = h->own_next;
    uint64_t hlc = hub__now_ms() << 16;
    head.hlc = hlc > h->own_next.hlc ? hlc : h->own_next.hlc + 1;
    swlog_buf body;
    swlog_buf_init(&body);
    rc = swlog_checkpoint_encode(h->key->sk, &head, n, root, &body, err);
    swlog_frame f;
    if (rc == SWLOG_OK)
        rc = swlog_frame_decode(body.p, body.len, SWLOG_DECODE_NO_SIG, &f,
                                err);
    if (rc == SWLOG_OK) {
        const uint8_t *bodies[1] = {body.p};
        size_t lens[1] = {body.len};
        rc = swlog_log_append(h->own, bodies, lens, 1, err);
    }
    if (rc == SWLOG_OK) {
        h->own_next.seq = head.seq + 1;
        memcpy(h->own_next.prev, f.id, SWLOG_HASH_BYTES);
        h->own_next.hlc = head.hlc;
        swlog_buf_clear(&h->cp);
        h->cp = body;
        h->cp_size = n;
        memcpy(h->cp_root, root, SWLOG_HASH_BYTES);
        h->have_cp = 1;
    } else {
        swlog_buf_clear(&body);
    }
    return rc;
}

static int is_hex64(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return 0;
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (v < 0)
            return 0;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 1;
}

int hub__parse_feed(const char *hex, uint8_t feed[SWLOG_PUBKEY_BYTES])
{
    return is_hex64(hex, feed);
}

/* Recovery of one feed file: frames beyond the store's head were written
 * but their batch never committed (or never answered). They are verified
 * and ingested again; from the first that no longer passes, the file is
 * cut back (those bytes were never acknowledged). */
static int recover_feed(hub *h, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                        swlog_error *err)
{
    hub_feed_head head;
    int rc = hub_store_head(h->store, feed, &head, err);
    if (rc != SWLOG_OK)
        return rc;
    char path[1200];
    hub_feeds_path(h->feeds, feed, path, sizeof path);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return SWLOG_OK;
    if (head.seq > 0 && (uint64_t)sb.st_size == head.end)
        return SWLOG_OK;
    swlog_log *log;
    rc = swlog_log_open(path, SWLOG_READ, &log, err);
    if (rc != SWLOG_OK)
        return rc;
    const uint8_t *body;
    size_t len;
    uint64_t off, cut = 0;
    int r, began = 0;
    hub_keys_mark mark = hub_keys_mark_get(&h->keys);
    while ((r = swlog_log_next(log, &body, &len, &off, err)) == 1) {
        swlog_frame f;
        if (swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &f, NULL) !=
            SWLOG_OK || f.seq <= head.seq)
            continue;
        if (!began) {
            rc = hub__batch_begin(h, err);
            if (rc != SWLOG_OK)
                break;
            began = 1;
        }
        hub_outcome o;
        rc = hub__ingest_frame(h, body, len, (int64_t)off, &o, err);
        if (rc != SWLOG_OK)
            break;
        if (o.status != HUB_ACCEPTED) {
            cut = off;
            h->recovered_cut++;
            break;
        }
        h->recovered++;
    }
    swlog_log_close(log);
    if (r < 0 && rc == SWLOG_OK)
        rc = r;
    if (began) {
        if (rc == SWLOG_OK)
            rc = hub__batch_commit(h, err);
        else
            hub__batch_rollback(h, mark);
        hub__replica_flush(h);
    }
    if (rc == SWLOG_OK && cut > 0)
        rc = hub_feeds_truncate(h->feeds, feed, cut, err);
    return rc;
}

int hub__recover(hub *h, swlog_error *err)
{
    DIR *d = opendir(hub_feeds_dir(h->feeds));
    if (d == NULL)
        return error_set(err, SWLOG_EIO, "%s: %s", hub_feeds_dir(h->feeds),
                         strerror(errno));
    struct dirent *e;
    int rc = SWLOG_OK;
    while (rc == SWLOG_OK && (e = readdir(d)) != NULL) {
        char hex[65];
        uint8_t feed[SWLOG_PUBKEY_BYTES];
        if (strlen(e->d_name) != 68 || strcmp(e->d_name + 64, ".log") != 0)
            continue;
        memcpy(hex, e->d_name, 64);
        hex[64] = '\0';
        if (is_hex64(hex, feed))
            rc = recover_feed(h, feed, err);
    }
    closedir(d);
    if (rc == SWLOG_OK)
        rc = hub__checkpoint_sign(h, err);
    return rc;
}

static int keyframe_cb(void *ctx, const uint8_t *body, size_t len)
{
    hub *h = ctx;
    swlog_frame f;
    if (swlog_frame_decode(body, len, 0, &f, NULL) != SWLOG_OK)
        return SWLOG_ECORRUPT;
    return hub_keys_add(&h->keys, &f, NULL);
}

static int make_dir(const char *path, swlog_error *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return error_set(err, SWLOG_EIO, "%s: %s", path, strerror(errno));
    return SWLOG_OK;
}

int hub_open(const hub_config *cfg, const char *pass, hub **out,
             swlog_error *err)
{
    hub *h = calloc(1, sizeof *h);
    if (h == NULL)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
    h->cfg = *cfg;
    h->lock_fd = -1;
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->rw_mu, NULL);
    pthread_cond_init(&h->rw_cv, NULL);
    pthread_mutex_init(&h->gq_mu, NULL);
    pthread_cond_init(&h->gq_cv, NULL);
    swlog_buf_init(&h->cp);
    hub_keys_init(&h->keys, cfg->root);
    char path[HUB_CONFIG_PATH_MAX + 32];
    int kind, rc = keyfile_load(cfg->hub_key, pass, pass ? strlen(pass) : 0,
                                &kind, h->pk, &h->key, err);
    if (rc == SWLOG_OK)
        rc = make_dir(cfg->data, err);
    if (rc == SWLOG_OK)
        rc = hub_lock_data(cfg->data, &h->lock_fd, err);
    if (rc == SWLOG_OK) {
        snprintf(path, sizeof path, "%s/hub.db", cfg->data);
        rc = hub_store_open(path, &h->store, err);
    }
    if (rc == SWLOG_OK) {
        snprintf(path, sizeof path, "%s/replica.db", cfg->data);
        rc = hub_replica_open(path, hub_store_leaves(h->store), &h->rep,
                              err);
    }
    if (rc == SWLOG_OK) {
        snprintf(path, sizeof path, "%s/feeds", cfg->data);
        rc = hub_feeds_open(path, &h->feeds, err);
    }
    /* Before any recovery adds leaves: the replica merges what the store
     * held at the last stop and it lacks (hub_replica.h). */
    if (rc == SWLOG_OK)
        rc = hub__replica_catch_up(h, err);
    /* The hub's own feed first, as its owner: its next head, and the
     * certificates it issued (a county's stations). */
    if (rc == SWLOG_OK) {
        rc = keyfeed_load(&h->keys.kf, cfg->own_log, h->key->pk, 1, err);
        h->own_next = h->keys.kf.next;
        if (rc == SWLOG_OK && h->keys.kf.ended)
            rc = error_set(err, SWLOG_EINVAL,
                           "%s: the hub key's feed ended with a rotation: "
                           "configure the successor key", cfg->own_log);
    }
    for (size_t i = 0; rc == SWLOG_OK && i < cfg->ntrust; i++)
        rc = hub_keys_load_log(&h->keys, cfg->trust_log[i], err);
    if (rc == SWLOG_OK)
        rc = hub_store_keyframes(h->store, keyframe_cb, h, err);
    if (rc == SWLOG_OK)
        rc = read_own_checkpoint(h, err);
    if (rc == SWLOG_OK)
        rc = swlog_log_open(cfg->own_log, SWLOG_APPEND | SWLOG_CREATE,
                            &h->own, err);
    if (rc == SWLOG_OK)
        rc = hub__author_recover(h, err);
    if (rc == SWLOG_OK)
        rc = hub__recover(h, err);
    if (rc != SWLOG_OK) {
        hub_close(h);
        return rc;
    }
    *out = h;
    return SWLOG_OK;
}

void hub_close(hub *h)
{
    if (h == NULL)
        return;
    hub__replica_flush(h);
    hub__worker_stop(h);
    swlog_log_close(h->own);
    hub_feeds_close(h->feeds);
    hub_replica_close(h->rep);
    hub_store_close(h->store);
    hub_keys_clear(&h->keys);
    keyfile_key_free(h->key);
    swlog_buf_clear(&h->cp);
    free(h->pend);
    hub__nonces_free(h->nonces);
    if (h->lock_fd >= 0)
        close(h->lock_fd);
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->rw_mu);
    pthread_cond_destroy(&h->rw_cv);
    pthread_mutex_destroy(&h->gq_mu);
    pthread_cond_destroy(&h->gq_cv);
    free(h);
}

void hub_flush(hub *h)
{
    pthread_mutex_lock(&h->mu);
    hub__replica_flush_soon(h);
    pthread_mutex_unlock(&h->mu);
}

unsigned hub_head(hub *h, const char *hex, swlog_buf *out)
{
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    if (!is_hex64(hex, feed)) {
        hub_json_error(out, "bad_request",
                       "the feed must be 64 lowercase hex characters "
                       "(a signer's public key, PROTOCOL §4.1)");
        return 400;
    }
    hub_feed_head hd;
    swlog_error err = {0};
    pthread_mutex_lock(&h->mu);
    int rc = hub_store_head(h->store, feed, &hd, &err);
    pthread_mutex_unlock(&h->mu);
    if (rc != SWLOG_OK) {
        hub_json_error(out, "internal", err.msg);
        return 500;
    }
    hub_json_printf(out, "{\"feed\":\"%s\",\"seq\":%llu,\"id\":", hex,
                    (unsigned long long)hd.seq);
    hub_json_hex(out, hd.id, SWLOG_HASH_BYTES);
    hub_json_printf(out, ",\"frozen\":%s}\n", hd.frozen ? "true" : "false");
    return 200;
}

unsigned hub_checkpoint(hub *h, swlog_buf *out)
{
    pthread_mutex_lock(&h->mu);
    int rc = hub__receipt_head(h, out);
    pthread_mutex_unlock(&h->mu);
    if (rc != SWLOG_OK)
        return 500;
    return swlog_buf_append(out, "}\n", 2) == SWLOG_OK ? 200 : 500;
}

int hub__receipt_head(hub *h, swlog_buf *out)
{
    if (!h->have_cp)
        return hub_json_error(out, "internal", "no checkpoint yet") ==
                       SWLOG_OK
                   ? SWLOG_EIO
                   : SWLOG_ENOMEM;
    int rc = hub_json_printf(out, "{\"hub\":");
    if (rc == SWLOG_OK)
        rc = hub_json_hex(out, h->key->pk, SWLOG_PUBKEY_BYTES);
    if (rc == SWLOG_OK)
        rc = hub_json_printf(out, ",\"checkpoint\":");
    if (rc == SWLOG_OK)
        rc = hub_json_hex(out, h->cp.p, h->cp.len);
    if (rc == SWLOG_OK)
        rc = hub_json_printf(out, ",\"tree_size\":%llu,\"root\":",
                             (unsigned long long)h->cp_size);
    if (rc == SWLOG_OK)
        rc = hub_json_hex(out, h->cp_root, SWLOG_HASH_BYTES);
    return rc;
}

unsigned hub_hello(hub *h, swlog_buf *out)
{
    hub_json_printf(out, "{\"protocol\":1,\"hub\":");
    hub_json_hex(out, h->key->pk, SWLOG_PUBKEY_BYTES);
    hub_json_printf(out, ",\"unit\":");
    hub_json_str(out, h->cfg.unit);
    hub_json_printf(out,
                    ",\"time_ms\":%llu,\"max_push_bytes\":%llu,"
                    "\"max_push_frames\":%u,\"max_clock_skew_ms\":%llu}\n",
                    (unsigned long long)hub__now_ms(),
                    (unsigned long long)h->cfg.max_push_bytes,
                    h->cfg.max_push_frames,
                    (unsigned long long)h->cfg.max_clock_skew_ms);
    return 200;
}

unsigned hub_frames(hub *h, const char *hex, uint64_t after, uint64_t limit,
                    swlog_buf *out, int *is_frames)
{
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    *is_frames = 0;
    if (!is_hex64(hex, feed)) {
        hub_json_error(out, "bad_request",
                       "the feed must be 64 lowercase hex characters");
        return 400;
    }
    if (limit == 0 || limit > h->cfg.max_push_frames)
        limit = h->cfg.max_push_frames;
    swlog_error err = {0};
    hub_feed_head hd;
    pthread_mutex_lock(&h->mu);
    int rc = hub_store_head(h->store, feed, &hd, &err);
    pthread_mutex_unlock(&h->mu);
    if (rc != SWLOG_OK) {
        hub_json_error(out, "internal", err.msg);
        return 500;
    }
    uint8_t salt[SWLOG_SALT_BYTES], hdr[SWLOG_FILE_HEADER_BYTES];
    swlog_random(salt, sizeof salt);
    swlog_file_header_encode(salt, hdr);
    swlog_buf_append(out, hdr, sizeof hdr);
    *is_frames = 1;
    if (hd.seq <= after)
        return 200;
    char path[1200];
    hub_feeds_path(h->feeds, feed, path, sizeof path);
    swlog_log *log;
    /* Frames up to the committed head only: bytes past it are not yet
     * acknowledged (recovery may still cut them). */
    if (swlog_log_open(path, SWLOG_READ, &log, &err) != SWLOG_OK) {
        out->len = 0;
        *is_frames = 0;
        hub_json_error(out, "internal", err.msg);
        return 500;
    }
    const uint8_t *body;
    size_t len;
    uint64_t off, n = 0;
    while (n < limit && swlog_log_next(log, &body, &len, &off, &err) == 1) {
        swlog_frame f;
        if (swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &f, NULL) !=
                SWLOG_OK ||
            f.seq <= after)
            continue;
        if (f.seq > hd.seq ||
            out->len + len + SWLOG_ENVELOPE_BYTES > h->cfg.max_push_bytes)
            break;
        uint8_t head[SWLOG_ENVELOPE_HEAD_BYTES], crc[4];
        swlog_envelope_encode(salt, body, len, head, crc);
        if (swlog_buf_append(out, head, sizeof head) != SWLOG_OK ||
            swlog_buf_append(out, body, len) != SWLOG_OK ||
            swlog_buf_append(out, crc, sizeof crc) != SWLOG_OK)
            break;
        n++;
    }
    swlog_log_close(log);
    return 200;
}
