/* The key registry: certificate chains to the root, validity windows,
 * revocations and rotations (spec/SECURITY.md §1, §5). */
#include "hub_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"

/* Certificates, issuers and rotations followed at most this deep, and key
 * frames judged at most this many times for one frame (SECURITY §5). */
#define CHAIN_DEPTH_MAX 32
#define CHECK_BUDGET 4096

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

static int same(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, SWLOG_PUBKEY_BYTES) == 0;
}

/* One evaluation: a step budget shared by the whole recursion, so hostile
 * key frames (many certificates of one key) cannot make a check costly. */
typedef struct eval {
    const hub_keys *k;
    int budget;
} eval;

static const char *check(eval *e, const uint8_t *key, uint64_t seq,
                         uint64_t ms, uint64_t seen, int depth,
                         uint8_t *role, char *msg, size_t msglen);

/* Newest first: by HLC, then seq, then issuer, so the order (and the
 * verdict) does not depend on the order key frames were learnt in, and a
 * registry rebuilt at restart answers as the running one did. */
static int cert_cmp(const keyfeed_cert *a, const keyfeed_cert *b)
{
    if (a->hlc != b->hlc)
        return a->hlc < b->hlc ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return memcmp(a->issuer, b->issuer, SWLOG_PUBKEY_BYTES);
}

/* The newest certificate of holder older than *prev (NULL: any). */
static const keyfeed_cert *next_cert(const keyfeed *kf, const uint8_t *holder,
                                     const keyfeed_cert *prev)
{
    const keyfeed_cert *best = NULL;
    for (size_t i = 0; i < kf->ncerts; i++) {
        const keyfeed_cert *c = &kf->certs[i];
        if (!same(c->subject, holder) ||
            (prev != NULL && cert_cmp(c, prev) >= 0) ||
            (best != NULL && cert_cmp(c, best) <= 0))
            continue;
        best = c;
    }
    return best;
}

/* SECURITY §1.2: the rotation ending key's feed (the lowest seq if a
 * forked feed holds several), or NULL. */
static const keyfeed_rotation *rotation_of(const keyfeed *kf,
                                           const uint8_t *old_key)
{
    const keyfeed_rotation *r = NULL;
    for (size_t i = 0; i < kf->nrots; i++)
        if (same(kf->rots[i].old_key, old_key) &&
            (r == NULL || kf->rots[i].seq < r->seq))
            r = &kf->rots[i];
    return r;
}

/* The rotation naming key as successor (the lowest old key and seq if
 * several), or NULL. */
static const keyfeed_rotation *rotation_into(const keyfeed *kf,
                                             const uint8_t *new_key)
{
    const keyfeed_rotation *r = NULL;
    for (size_t i = 0; i < kf->nrots; i++) {
        const keyfeed_rotation *x = &kf->rots[i];
        if (!same(x->new_key, new_key))
            continue;
        int c = r == NULL ? -1 : memcmp(x->old_key, r->old_key, 32);
        if (r == NULL || c < 0 || (c == 0 && x->seq < r->seq))
            r = x;
    }
    return r;
}

/* SECURITY §5 step 5 for a frame (seq, ms, seen) of key whose certificate
 * was issued by issuer: the covering revocation, or NULL. Only a
 * revocation by that issuer, itself authorised, counts (§1.3). */
static const keyfeed_revocation *revocation(eval *e, const uint8_t *key,
                                            const uint8_t *issuer,
                                            uint64_t seq, uint64_t ms,
                                            uint64_t seen, int depth,
                                            int *by_seen)
{
    const keyfeed *kf = &e->k->kf;
    for (size_t i = 0; i < kf->nrevs; i++) {
        const keyfeed_revocation *v = &kf->revs[i];
        if (!same(v->subject, key) || !same(v->issuer, issuer))
            continue;
        int by_seq = v->from_seq != 0 && seq >= v->from_seq;
        int by_time = v->from_time != 0 && ms >= v->from_time;
        int late = v->reason == SWLOG_REASON_COMPROMISED &&
                   v->from_time != 0 && seen != 0 && seen >= v->from_time;
        if (!by_seq && !by_time && !late)
            continue;
        char m[8];
        uint8_t role;
        if (check(e, v->issuer, v->seq, v->hlc >> 16, 0, depth + 1, &role,
                  m, sizeof m) != NULL)
            continue;
        *by_seen = !by_seq && !by_time;
        return v;
    }
    return NULL;
}

/* Certificate c, judged for a frame (seq, ms, seen) of key (c's subject or
 * a successor of it by rotation): NULL when it authorises the frame. */
static const char *judge_cert(eval *e, const keyfeed_cert *c,
                              const uint8_t *key, uint64_t seq, uint64_t ms,
                              uint64_t seen, int depth, uint8_t *role,
                              char *msg, size_t msglen)
{
    char kh[17], ih[17];
    short_hex(key, kh);
    short_hex(c->issuer, ih);
    if (same(c->issuer, c->subject) || c->role == SWLOG_ROLE_ROOT) {
        snprintf(msg, msglen, "key %s...: only the root certifies itself",
                 kh);
        return "unknown_key";
    }
    char imsg[160];
    uint8_t irole = 0;
    if (check(e, c->issuer, c->seq, c->hlc >> 16, 0, depth + 1, &irole, imsg,
              sizeof imsg) != NULL) {
        snprintf(msg, msglen, "key %s...: its certificate (seq %llu of "
                              "issuer %s...) is not valid: %.100s",
                 kh, (unsigned long long)c->seq, ih, imsg);
        return "unknown_key";
    }
    /* SECURITY §1.1: the root certifies hubs, a county its stations. */
    int allowed = (irole == SWLOG_ROLE_ROOT &&
                   (c->role == SWLOG_ROLE_PROVINCE ||
                    c->role == SWLOG_ROLE_COUNTY)) ||
                  (irole == SWLOG_ROLE_COUNTY && c->role == SWLOG_ROLE_STATION);
    if (!allowed) {
        snprintf(msg, msglen, "key %s...: its certificate's issuer %s... "
                              "(role %u) may not certify role %u (SECURITY "
                              "§1.1)",
                 kh, ih, irole, c->role);
        return "unknown_key";
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
    int by_seen = 0;
    const keyfeed_revocation *v =
        revocation(e, key, c->issuer, seq, ms, seen, depth, &by_seen);
    if (v != NULL) {
        const char *why = keyfeed_reason_name(v->reason);
        if (by_seen)
            snprintf(msg, msglen, "key %s... was revoked (%s) by %s... from "
                                  "time %llu ms; the frame reached this hub "
                                  "after that, whatever time it claims",
                     kh, why ? why : "?", ih,
                     (unsigned long long)v->from_time);
        else
            snprintf(msg, msglen, "key %s... was revoked (%s) by %s... from "
                                  "seq %llu / time %llu ms (0: none); this "
                                  "frame is seq %llu at %llu ms",
                     kh, why ? why : "?", ih,
                     (unsigned long long)v->from_seq,
                     (unsigned long long)v->from_time,
                     (unsigned long long)seq, (unsigned long long)ms);
        return "key_revoked";
    }
    *role = c->role;
    return NULL;
}

static const char *check_root(const hub_keys *k, uint64_t ms, uint8_t *role,
                              char *msg, size_t msglen)
{
    for (size_t i = 0; i < k->kf.ncerts; i++) {
        const keyfeed_cert *c = &k->kf.certs[i];
        if (!same(c->issuer, k->root) || !same(c->subject, k->root) ||
            c->role != SWLOG_ROLE_ROOT)
            continue;
        if (ms < c->valid_from || ms >= c->valid_until) {
            snprintf(msg, msglen, "the root key: frame time %llu ms is "
                                  "outside its certificate's window [%llu, "
                                  "%llu)",
                     (unsigned long long)ms,
                     (unsigned long long)c->valid_from,
                     (unsigned long long)c->valid_until);
            return ms < c->valid_from ? "key_not_yet_valid" : "key_expired";
        }
        *role = SWLOG_ROLE_ROOT;
        return NULL;
    }
    snprintf(msg, msglen, "the root's self-signed certificate is not among "
                          "the hub's trusted logs");
    return "unknown_key";
}

/* SECURITY §5 for a frame (seq, ms) of key, seen by the hub at seen (0:
 * not known, for key frames judged inside the recursion). */
static const char *check(eval *e, const uint8_t *key, uint64_t seq,
                         uint64_t ms, uint64_t seen, int depth,
                         uint8_t *role, char *msg, size_t msglen)
{
    const hub_keys *k = e->k;
    char kh[17];
    short_hex(key, kh);
    if (depth > CHAIN_DEPTH_MAX || --e->budget < 0) {
        snprintf(msg, msglen, "key %s...: its certificates and rotations "
                              "form a loop or a chain too deep",
                 kh);
        return "unknown_key";
    }
    /* SECURITY §1.2: the rotation frame is the old key's last. */
    const keyfeed_rotation *end = rotation_of(&k->kf, key);
    if (end != NULL && seq > end->seq) {
        char nh[17];
        short_hex(end->new_key, nh);
        snprintf(msg, msglen, "key %s... handed its feed over to %s... at "
                              "seq %llu; seq %llu signed after that is not "
                              "valid: sign with the new key",
                 kh, nh, (unsigned long long)end->seq,
                 (unsigned long long)seq);
        return "key_rotated";
    }
    if (same(key, k->root))
        return check_root(k, ms, role, msg, msglen);
    const uint8_t *holder = key;
    for (int hops = 0;; hops++) {
        const char *first = NULL;
        char fmsg[200];
        for (const keyfeed_cert *c = next_cert(&k->kf, holder, NULL);
             c != NULL; c = next_cert(&k->kf, holder, c)) {
            char cmsg[200];
            const char *code = judge_cert(e, c, key, seq, ms, seen, depth,
                                          role, cmsg, sizeof cmsg);
            if (code == NULL)
                return NULL;
            if (first == NULL) {
                first = code;
                memcpy(fmsg, cmsg, sizeof fmsg);
            }
        }
        if (first != NULL) { /* the newest certificate's reason */
            snprintf(msg, msglen, "%s", fmsg);
            return first;
        }
        /* No certificate: a successor inherits its predecessor's, if the
         * rotation frame is itself authorised (SECURITY §5 step 3). */
        const keyfeed_rotation *r = rotation_into(&k->kf, holder);
        if (r == NULL || hops >= CHAIN_DEPTH_MAX)
            break;
        char rmsg[160], oh[17];
        uint8_t rrole;
        const char *code = check(e, r->old_key, r->seq, r->hlc >> 16, 0,
                                 depth + 1, &rrole, rmsg, sizeof rmsg);
        if (code != NULL) {
            short_hex(r->old_key, oh);
            snprintf(msg, msglen, "key %s... took over from %s... by a "
                                  "rotation that is not valid: %.110s",
                     kh, oh, rmsg);
            return code;
        }
        holder = r->old_key;
    }
    snprintf(msg, msglen,
             "key %s... has no certificate the hub knows of: have its "
             "county hub certify it and relay the certificate",
             kh);
    return "unknown_key";
}

const char *hub_keys_check(const hub_keys *k, const swlog_frame *f,
                           uint64_t now_ms, char *msg, size_t msglen)
{
    eval e = {k, CHECK_BUDGET};
    uint8_t role;
    return check(&e, f->signer, f->seq, f->hlc >> 16, now_ms, 0, &role, msg,
                 msglen);
}
