/* Gathering key frames and a feed's head from logs: FORMAT §7 and §8.1. */
#include "keyfeed.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A rotation chain longer than this is refused as a loop (FORMAT §7.3 makes
 * each key rotate at most once, so a real chain is a key's lifetime). */
#define ROTATION_DEPTH_MAX 64

static const char *const roles[] = {NULL, "root", "province", "county",
                                     "station"};
static const char *const reasons[] = {NULL, "unspecified", "compromised",
                                      "retired", "superseded"};

const char *keyfeed_role_name(uint8_t role)
{
    return role >= 1 && role <= 4 ? roles[role] : NULL;
}

const char *keyfeed_reason_name(uint8_t reason)
{
    return reason >= 1 && reason <= 4 ? reasons[reason] : NULL;
}

uint8_t keyfeed_role_parse(const char *name)
{
    for (uint8_t i = 1; i <= 4; i++)
        if (strcmp(name, roles[i]) == 0)
            return i;
    return 0;
}

uint8_t keyfeed_reason_parse(const char *name)
{
    for (uint8_t i = 1; i <= 4; i++)
        if (strcmp(name, reasons[i]) == 0)
            return i;
    return 0;
}

void keyfeed_init(keyfeed *kf)
{
    memset(kf, 0, sizeof *kf);
    kf->next.seq = 1;
}

void keyfeed_clear(keyfeed *kf)
{
    free(kf->certs);
    free(kf->rots);
    free(kf->revs);
    keyfeed_init(kf);
}

/* Grow an array of n elements of size sz by one; NULL when out of memory. */
static void *grow(void **arr, size_t *n, size_t sz)
{
    void *p = realloc(*arr, (*n + 1) * sz);
    if (p == NULL)
        return NULL;
    *arr = p;
    return (char *)p + (*n)++ * sz;
}

static int add_frame(keyfeed *kf, const swlog_frame *f, swlog_error *err)
{
    void *slot = NULL;
    if (f->type == SWLOG_TYPE_CERT) {
        keyfeed_cert *c = slot =
            grow((void **)&kf->certs, &kf->ncerts, sizeof *c);
        if (c != NULL) {
            memcpy(c->issuer, f->signer, SWLOG_PUBKEY_BYTES);
            memcpy(c->subject, f->u.cert.subject, SWLOG_PUBKEY_BYTES);
            c->role = f->u.cert.role;
            c->seq = f->seq;
            c->hlc = f->hlc;
            c->valid_from = f->u.cert.valid_from;
            c->valid_until = f->u.cert.valid_until;
            memcpy(c->unit, f->u.cert.unit, sizeof c->unit);
        }
    } else if (f->type == SWLOG_TYPE_ROTATION) {
        keyfeed_rotation *r = slot =
            grow((void **)&kf->rots, &kf->nrots, sizeof *r);
        if (r != NULL) {
            memcpy(r->old_key, f->signer, SWLOG_PUBKEY_BYTES);
            memcpy(r->new_key, f->u.rotation.new_key, SWLOG_PUBKEY_BYTES);
            r->seq = f->seq;
            r->hlc = f->hlc;
        }
    } else if (f->type == SWLOG_TYPE_REVOCATION) {
        keyfeed_revocation *v = slot =
            grow((void **)&kf->revs, &kf->nrevs, sizeof *v);
        if (v != NULL) {
            memcpy(v->issuer, f->signer, SWLOG_PUBKEY_BYTES);
            memcpy(v->subject, f->u.revocation.subject, SWLOG_PUBKEY_BYTES);
            v->seq = f->seq;
            v->hlc = f->hlc;
            v->from_seq = f->u.revocation.from_seq;
            v->from_time = f->u.revocation.from_time;
            v->reason = f->u.revocation.reason;
        }
    } else {
        return SWLOG_OK;
    }
    if (slot == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    return SWLOG_OK;
}

/* The checks that make a log the owner's own feed (FORMAT §8.1). */
static int own_frame(keyfeed *kf, const char *path, const swlog_frame *f,
                     uint64_t at, const uint8_t *owner, swlog_error *err)
{
    char hex[2 * SWLOG_PUBKEY_BYTES + 1];
    if (memcmp(f->signer, owner, SWLOG_PUBKEY_BYTES) != 0) {
        swlog_hex(f->signer, 8, hex);
        return swlog_fail(err, SWLOG_EINVAL, at,
                    "%s: the frame at offset %" PRIu64 " is signed by "
                    "%s..., another key: this is not the key's own log",
                    path, at, hex);
    }
    if (kf->ended)
        return swlog_fail(err, SWLOG_ESEQ, at,
                    "%s: the frame at offset %" PRIu64 " follows the "
                    "rotation that ended this feed",
                    path, at);
    if (f->seq != kf->next.seq)
        return swlog_fail(err, SWLOG_ESEQ, at,
                    "%s: the frame at offset %" PRIu64 " has seq %" PRIu64
                    ", expected %" PRIu64 " (the key's own log starts at 1)",
                    path, at, f->seq, kf->next.seq);
    kf->next.seq = f->seq + 1;
    memcpy(kf->next.prev, f->id, SWLOG_HASH_BYTES);
    kf->next.hlc = f->hlc;
    kf->ended = f->type == SWLOG_TYPE_ROTATION;
    return SWLOG_OK;
}

static int scan(keyfeed *kf, swlog_log *log, const char *path,
                const uint8_t *owner, swlog_error *err)
{
    swlog_chains *ch = swlog_chains_new();
    if (ch == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    const uint8_t *body;
    size_t len;
    uint64_t at = 0;
    int rc;
    swlog_error why = {0};
    while ((rc = swlog_log_next(log, &body, &len, &at, &why)) == 1) {
        swlog_frame f;
        rc = swlog_frame_decode(body, len, 0, &f, &why);
        if (rc != SWLOG_OK) {
            rc = swlog_fail(err, rc, at + 8 + why.offset,
                      "%s: frame at offset %" PRIu64 ": %s: %s", path, at,
                      swlog_code_name(rc), why.msg);
            break;
        }
        if ((rc = swlog_chains_add(ch, &f, &why)) != SWLOG_OK) {
            rc = swlog_fail(err, rc, at, "%s: frame at offset %" PRIu64 ": %s: %s",
                      path, at, swlog_code_name(rc), why.msg);
            break;
        }
        if (owner != NULL &&
            (rc = own_frame(kf, path, &f, at, owner, err)) != SWLOG_OK)
            break;
        if ((rc = add_frame(kf, &f, err)) != SWLOG_OK)
            break;
        kf->frames++;
    }
    if (rc < 0 && why.code != SWLOG_OK && err != NULL &&
        err->code == SWLOG_OK)
        swlog_fail(err, rc, why.offset, "%s: %s: %s", path, swlog_code_name(rc),
             why.msg);
    swlog_chains_free(ch);
    return rc < 0 ? rc : SWLOG_OK;
}

int keyfeed_load(keyfeed *kf, const char *path, const uint8_t *owner,
                 int may_create, swlog_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT && owner != NULL && may_create)
            return SWLOG_OK;
        return swlog_fail(err, SWLOG_EIO, 0, "%s: %s", path, strerror(errno));
    }
    swlog_log *log = NULL;
    swlog_error why = {0};
    int rc = swlog_log_open(path, SWLOG_READ, &log, &why);
    if (rc != SWLOG_OK)
        return swlog_fail(err, rc, why.offset, "%s: not a readable log: %s: %s",
                    path, swlog_code_name(rc), why.msg);
    rc = scan(kf, log, path, owner, err);
    if (rc == SWLOG_OK && owner != NULL) {
        kf->torn = swlog_log_torn(log);
        kf->end = swlog_log_end(log);
    }
    swlog_log_close(log);
    return rc;
}

static const keyfeed_cert *cert_of(const keyfeed *kf, const uint8_t *key,
                                   int depth)
{
    for (size_t i = kf->ncerts; i-- > 0;)
        if (memcmp(kf->certs[i].subject, key, SWLOG_PUBKEY_BYTES) == 0)
            return &kf->certs[i];
    if (depth >= ROTATION_DEPTH_MAX)
        return NULL;
    for (size_t i = kf->nrots; i-- > 0;)
        if (memcmp(kf->rots[i].new_key, key, SWLOG_PUBKEY_BYTES) == 0)
            return cert_of(kf, kf->rots[i].old_key, depth + 1);
    return NULL;
}

const keyfeed_cert *keyfeed_cert_of(const keyfeed *kf,
                                    const uint8_t key[SWLOG_PUBKEY_BYTES])
{
    return cert_of(kf, key, 0);
}
