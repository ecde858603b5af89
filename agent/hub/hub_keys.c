/* The key registry: certificate chains to the root, validity windows,
 * revocations and rotations (spec/SECURITY.md §1, §5). */
#include "hub_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"

#define CHAIN_DEPTH_MAX 8

void hub_keys_init(hub_keys *k, const uint8_t root[SWLOG_PUBKEY_BYTES])
{
    keyfeed_init(&k->kf);
    memcpy(k->root, root, SWLOG_PUBKEY_BYTES);
}

void hub_keys_clear(hub_keys *k)
{
    keyfeed_clear(&k->kf);
}

int hub_keys_load_log(hub_keys *k, const char *path, swlog_error *err)
{
    return keyfeed_load(&k->kf, path, NULL, 0, err);
}

static void *grow(void **arr, size_t *n, size_t sz)
{
    void *p = realloc(*arr, (*n + 1) * sz);
    if (p == NULL)
        return NULL;
    *arr = p;
    return (char *)p + (*n)++ * sz;
}

int hub_keys_add(hub_keys *k, const swlog_frame *f, swlog_error *err)
{
    keyfeed *kf = &k->kf;
    if (f->type == SWLOG_TYPE_CERT) {
        keyfeed_cert *c = grow((void **)&kf->certs, &kf->ncerts, sizeof *c);
        if (c == NULL)
            return error_set(err, SWLOG_ENOMEM, "out of memory");
        memcpy(c->issuer, f->signer, SWLOG_PUBKEY_BYTES);
        memcpy(c->subject, f->u.cert.subject, SWLOG_PUBKEY_BYTES);
        c->role = f->u.cert.role;
        c->seq = f->seq;
        c->hlc = f->hlc;
        c->valid_from = f->u.cert.valid_from;
        c->valid_until = f->u.cert.valid_until;
        memcpy(c->unit, f->u.cert.unit, sizeof c->unit);
    } else if (f->type == SWLOG_TYPE_ROTATION) {
        keyfeed_rotation *r = grow((void **)&kf->rots, &kf->nrots, sizeof *r);
        if (r == NULL)
            return error_set(err, SWLOG_ENOMEM, "out of memory");
        memcpy(r->old_key, f->signer, SWLOG_PUBKEY_BYTES);
        memcpy(r->new_key, f->u.rotation.new_key, SWLOG_PUBKEY_BYTES);
        r->seq = f->seq;
        r->hlc = f->hlc;
    } else if (f->type == SWLOG_TYPE_REVOCATION) {
        keyfeed_revocation *v =
            grow((void **)&kf->revs, &kf->nrevs, sizeof *v);
        if (v == NULL)
            return error_set(err, SWLOG_ENOMEM, "out of memory");
        memcpy(v->issuer, f->signer, SWLOG_PUBKEY_BYTES);
        memcpy(v->subject, f->u.revocation.subject, SWLOG_PUBKEY_BYTES);
        v->seq = f->seq;
        v->hlc = f->hlc;
        v->from_seq = f->u.revocation.from_seq;
        v->from_time = f->u.revocation.from_time;
        v->reason = f->u.revocation.reason;
    }
    return SWLOG_OK;
}

hub_keys_mark hub_keys_mark_get(const hub_keys *k)
{
    hub_keys_mark m = {k->kf.ncerts, k->kf.nrots, k->kf.nrevs};
    return m;
}

void hub_keys_restore(hub_keys *k, hub_keys_mark m)
{
    if (m.certs < k->kf.ncerts)
        k->kf.ncerts = m.certs;
    if (m.rots < k->kf.nrots)
        k->kf.nrots = m.rots;
    if (m.revs < k->kf.nrevs)
        k->kf.nrevs = m.revs;
}

static void short_hex(const uint8_t *key, char out[17])
{
    swlog_hex(key, 8, out);
}

/* The key whose certificate key inherits (itself unless rotated into). */
static const uint8_t *cert_holder(const keyfeed *kf, const uint8_t *key,
                                  const keyfeed_cert *c)
{
    (void)kf;
    return c != NULL ? c->subject : key;
}

static int revoked(const hub_keys *k, const uint8_t *issuer,
                   const uint8_t *subject, uint64_t seq, uint64_t ms,
                   uint64_t now_ms, const uint8_t *signer)
{
    for (size_t i = 0; i < k->kf.nrevs; i++) {
        const keyfeed_revocation *v = &k->kf.revs[i];
        if (memcmp(v->issuer, issuer, SWLOG_PUBKEY_BYTES) != 0 ||
            (memcmp(v->subject, subject, SWLOG_PUBKEY_BYTES) != 0 &&
             memcmp(v->subject, signer, SWLOG_PUBKEY_BYTES) != 0))
            continue;
        if (v->from_seq != 0 && seq >= v->from_seq)
            return 1;
        if (v->from_time != 0 && ms >= v->from_time)
            return 1;
        /* SECURITY §5 step 5: the hub's receipt time is the seen time. */
        if (v->reason == SWLOG_REASON_COMPROMISED && v->from_time != 0 &&
            now_ms >= v->from_time)
            return 1;
    }
    return 0;
}

static const char *check(const hub_keys *k, const uint8_t *key, uint64_t seq,
                         uint64_t ms, uint64_t now_ms, int depth, char *msg,
                         size_t msglen)
{
    char kh[17];
    short_hex(key, kh);
    if (depth > CHAIN_DEPTH_MAX) {
        snprintf(msg, msglen, "key %s...: certificate chain too long", kh);
        return "unknown_key";
    }
    const keyfeed_cert *c = NULL;
    if (memcmp(key, k->root, SWLOG_PUBKEY_BYTES) == 0) {
        for (size_t i = 0; i < k->kf.ncerts && c == NULL; i++)
            if (memcmp(k->kf.certs[i].issuer, k->root, 32) == 0 &&
                memcmp(k->kf.certs[i].subject, k->root, 32) == 0 &&
                k->kf.certs[i].role == SWLOG_ROLE_ROOT)
                c = &k->kf.certs[i];
        if (c == NULL) {
            snprintf(msg, msglen, "the root's self-signed certificate is "
                                  "not among the hub's trusted logs");
            return "unknown_key";
        }
    } else {
        c = keyfeed_cert_of(&k->kf, key);
        if (c == NULL) {
            snprintf(msg, msglen,
                     "key %s... has no certificate the hub knows of: have "
                     "its county hub certify it and relay the certificate",
                     kh);
            return "unknown_key";
        }
        if (memcmp(c->issuer, c->subject, SWLOG_PUBKEY_BYTES) == 0 ||
            c->role == SWLOG_ROLE_ROOT) {
            snprintf(msg, msglen, "key %s...: only the root certifies itself",
                     kh);
            return "unknown_key";
        }
        /* SECURITY §1.1: the root certifies hubs, a county its stations. */
        int issuer_is_root = memcmp(c->issuer, k->root, 32) == 0;
        const keyfeed_cert *ic =
            issuer_is_root ? NULL : keyfeed_cert_of(&k->kf, c->issuer);
        int allowed =
            ((c->role == SWLOG_ROLE_PROVINCE || c->role == SWLOG_ROLE_COUNTY)
             && issuer_is_root) ||
            (c->role == SWLOG_ROLE_STATION && ic != NULL &&
             ic->role == SWLOG_ROLE_COUNTY);
        if (!allowed) {
            snprintf(msg, msglen, "key %s...: its certificate's issuer may not "
                                  "certify role %u (SECURITY §1.1)",
                     kh, c->role);
            return "unknown_key";
        }
        char imsg[160];
        if (check(k, c->issuer, c->seq, c->hlc >> 16, now_ms, depth + 1, imsg,
                  sizeof imsg) != NULL) {
            snprintf(msg, msglen, "key %s...: its certificate's issuer is not "
                                  "valid: %.100s", kh, imsg);
            return "unknown_key";
        }
    }
    if (ms < c->valid_from) {
        snprintf(msg, msglen, "key %s...: frame time %llu ms is before the "
                              "certificate's valid_from %llu",
                 kh, (unsigned long long)ms,
                 (unsigned long long)c->valid_from);
        return "key_not_yet_valid";
    }
    if (ms >= c->valid_until) {
        snprintf(msg, msglen, "key %s...: frame time %llu ms is at or after "
                              "the certificate's valid_until %llu",
                 kh, (unsigned long long)ms,
                 (unsigned long long)c->valid_until);
        return "key_expired";
    }
    if (memcmp(key, k->root, SWLOG_PUBKEY_BYTES) != 0 &&
        revoked(k, c->issuer, cert_holder(&k->kf, key, c), seq, ms, now_ms,
                key)) {
        snprintf(msg, msglen, "key %s... is revoked for seq %llu by its "
                              "issuer", kh, (unsigned long long)seq);
        return "key_revoked";
    }
    return NULL;
}

const char *hub_keys_check(const hub_keys *k, const swlog_frame *f,
                           uint64_t now_ms, char *msg, size_t msglen)
{
    return check(k, f->signer, f->seq, f->hlc >> 16, now_ms, 0, msg, msglen);
}
