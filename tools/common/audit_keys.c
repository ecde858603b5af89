/* The auditor's key store and trust decision: spec/SECURITY.md §1.1-§1.3,
 * §5 and §8.3, over the key frames of FORMAT §7. */
#include "audit_keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedmap.h"
#include "fmt.h"
#include "keyfeed.h"

/* A rotation or certificate chain deeper than this is refused as a loop;
 * real chains are root -> hub -> station plus a key's rotations. */
#define DEPTH_MAX 32

/* One key frame. subject: the certified, rotated-to or revoked key. */
typedef struct kframe {
    uint8_t type;
    uint8_t signer[SWLOG_PUBKEY_BYTES], subject[SWLOG_PUBKEY_BYTES];
    uint8_t role, reason;
    char unit[SWLOG_MAX_UNIT + 1]; /* cert: the subject's unit code */
    uint64_t seq, hlc;
    uint64_t a, b; /* cert: valid_from, valid_until; rev: from_seq, time */
    audit_place at;
    /* Memo: is this frame authorised as a frame of its signer? */
    uint8_t state; /* 0 not yet decided, 1 being decided, 2 decided */
    uint8_t signer_role;
    int8_t trust;
    char why[200];
} kframe;

struct audit_keys {
    uint8_t root[SWLOG_PUBKEY_BYTES];
    kframe *k;
    size_t n, cap;
    audit_checkpoint *cp;
    size_t ncp, capcp;
    feedmap *seen; /* H(signer, seq) -> nothing: one frame per position */
    /* Indexes into k, sorted by key then seq. */
    uint32_t *certs, *rots_old, *rots_new, *revs;
    size_t ncerts, nrots, nrevs;
};

audit_keys *audit_keys_new(const uint8_t root[SWLOG_PUBKEY_BYTES])
{
    audit_keys *ks = calloc(1, sizeof *ks);
    if (ks == NULL)
        return NULL;
    memcpy(ks->root, root, SWLOG_PUBKEY_BYTES);
    if ((ks->seen = feedmap_new(1)) == NULL) {
        free(ks);
        return NULL;
    }
    return ks;
}

void audit_keys_free(audit_keys *ks)
{
    if (ks == NULL)
        return;
    free(ks->k);
    free(ks->cp);
    free(ks->certs);
    free(ks->rots_old);
    free(ks->rots_new);
    free(ks->revs);
    feedmap_free(ks->seen);
    free(ks);
}

static void *grow(void *arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return arr;
    size_t c = *cap < 64 ? 64 : *cap * 2;
    void *p = realloc(arr, c * sz);
    if (p != NULL)
        *cap = c;
    return p;
}

static int add_cp(audit_keys *ks, const swlog_frame *f, audit_place at,
                  int receipt)
{
    audit_checkpoint *cp = grow(ks->cp, &ks->capcp, ks->ncp, sizeof *cp);
    if (cp == NULL)
        return SWLOG_ENOMEM;
    ks->cp = cp;
    cp = &ks->cp[ks->ncp++];
    memset(cp, 0, sizeof *cp);
    memcpy(cp->hub, f->signer, SWLOG_PUBKEY_BYTES);
    cp->seq = f->seq;
    cp->hlc = f->hlc;
    cp->tree_size = f->u.checkpoint.tree_size;
    memcpy(cp->root, f->u.checkpoint.root, SWLOG_HASH_BYTES);
    cp->at = at;
    cp->receipt = receipt;
    return SWLOG_OK;
}

int audit_keys_add_receipt(audit_keys *ks, const swlog_frame *f,
                           audit_place at)
{
    if (f->type != SWLOG_TYPE_CHECKPOINT)
        return SWLOG_EARG;
    return add_cp(ks, f, at, 1);
}

int audit_keys_add(audit_keys *ks, const swlog_frame *f, audit_place at)
{
    uint8_t pos[SWLOG_PUBKEY_BYTES + 8], key[SWLOG_HASH_BYTES];
    memcpy(pos, f->signer, SWLOG_PUBKEY_BYTES);
    for (int i = 0; i < 8; i++)
        pos[SWLOG_PUBKEY_BYTES + i] = (uint8_t)(f->seq >> (56 - 8 * i));
    swlog_sha256(pos, sizeof pos, key);
    int created = 0;
    if (feedmap_put(ks->seen, key, &created) == NULL)
        return SWLOG_ENOMEM;
    if (!created)
        return SWLOG_OK;
    if (f->type == SWLOG_TYPE_CHECKPOINT)
        return add_cp(ks, f, at, 0);
    kframe *k = grow(ks->k, &ks->cap, ks->n, sizeof *k);
    if (k == NULL)
        return SWLOG_ENOMEM;
    ks->k = k;
    k = &ks->k[ks->n++];
    memset(k, 0, sizeof *k);
    k->type = f->type;
    memcpy(k->signer, f->signer, SWLOG_PUBKEY_BYTES);
    k->seq = f->seq;
    k->hlc = f->hlc;
    k->at = at;
    if (f->type == SWLOG_TYPE_CERT) {
        memcpy(k->subject, f->u.cert.subject, SWLOG_PUBKEY_BYTES);
        k->role = f->u.cert.role;
        memcpy(k->unit, f->u.cert.unit, sizeof k->unit);
        k->unit[SWLOG_MAX_UNIT] = '\0';
        k->a = f->u.cert.valid_from;
        k->b = f->u.cert.valid_until;
    } else if (f->type == SWLOG_TYPE_ROTATION) {
        memcpy(k->subject, f->u.rotation.new_key, SWLOG_PUBKEY_BYTES);
    } else {
        memcpy(k->subject, f->u.revocation.subject, SWLOG_PUBKEY_BYTES);
        k->a = f->u.revocation.from_seq;
        k->b = f->u.revocation.from_time;
        k->reason = f->u.revocation.reason;
    }
    return SWLOG_OK;
}

/* qsort has no context argument: the sorts below run one at a time. */
static const kframe *sort_k;
static int sort_by_old; /* rotations: by signer instead of subject */

static int cmp_idx(const void *a, const void *b)
{
    const kframe *x = &sort_k[*(const uint32_t *)a];
    const kframe *y = &sort_k[*(const uint32_t *)b];
    int c = sort_by_old ? memcmp(x->signer, y->signer, SWLOG_PUBKEY_BYTES)
                        : memcmp(x->subject, y->subject, SWLOG_PUBKEY_BYTES);
    if (c != 0)
        return c;
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int cmp_cp(const void *a, const void *b)
{
    const audit_checkpoint *x = a, *y = b;
    int c = memcmp(x->hub, y->hub, SWLOG_PUBKEY_BYTES);
    if (c != 0)
        return c;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    if (x->receipt != y->receipt)
        return x->receipt - y->receipt;
    if (x->at.file != y->at.file)
        return x->at.file < y->at.file ? -1 : 1;
    return x->at.offset < y->at.offset ? -1 : x->at.offset > y->at.offset;
}

static int same_cp(const audit_checkpoint *x, const audit_checkpoint *y)
{
    return memcmp(x->hub, y->hub, SWLOG_PUBKEY_BYTES) == 0 &&
           x->seq == y->seq && x->hlc == y->hlc &&
           x->tree_size == y->tree_size &&
           memcmp(x->root, y->root, SWLOG_HASH_BYTES) == 0;
}

static uint32_t *index_of(audit_keys *ks, uint8_t type, int by_old,
                          size_t *count)
{
    size_t n = 0;
    for (size_t i = 0; i < ks->n; i++)
        n += ks->k[i].type == type;
    uint32_t *ix = malloc((n + 1) * sizeof *ix);
    if (ix == NULL)
        return NULL;
    n = 0;
    for (size_t i = 0; i < ks->n; i++)
        if (ks->k[i].type == type)
            ix[n++] = (uint32_t)i;
    sort_k = ks->k;
    sort_by_old = by_old;
    qsort(ix, n, sizeof *ix, cmp_idx);
    *count = n;
    return ix;
}

int audit_keys_seal(audit_keys *ks)
{
    size_t dummy;
    ks->certs = index_of(ks, SWLOG_TYPE_CERT, 0, &ks->ncerts);
    ks->rots_old = index_of(ks, SWLOG_TYPE_ROTATION, 1, &ks->nrots);
    ks->rots_new = index_of(ks, SWLOG_TYPE_ROTATION, 0, &dummy);
    ks->revs = index_of(ks, SWLOG_TYPE_REVOCATION, 0, &ks->nrevs);
    if (ks->certs == NULL || ks->rots_old == NULL || ks->rots_new == NULL ||
        ks->revs == NULL)
        return SWLOG_ENOMEM;
    if (ks->ncp > 0)
        qsort(ks->cp, ks->ncp, sizeof *ks->cp, cmp_cp);
    /* A checkpoint held by the hub's log and by stations is one. */
    size_t m = 0;
    for (size_t i = 0; i < ks->ncp; i++) {
        int dup = 0;
        for (size_t j = m; j-- > 0 && ks->cp[j].seq == ks->cp[i].seq &&
                           memcmp(ks->cp[j].hub, ks->cp[i].hub,
                                  SWLOG_PUBKEY_BYTES) == 0;)
            if (same_cp(&ks->cp[j], &ks->cp[i]))
                dup = 1;
        if (!dup)
            ks->cp[m++] = ks->cp[i];
    }
    ks->ncp = m;
    return SWLOG_OK;
}

/* First index in ix[0..n) whose key (subject, or signer when by_old) is
 * key; n when none. */
static size_t first_of(const audit_keys *ks, const uint32_t *ix, size_t n,
                       int by_old, const uint8_t *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const kframe *k = &ks->k[ix[mid]];
        const uint8_t *v = by_old ? k->signer : k->subject;
        if (memcmp(v, key, SWLOG_PUBKEY_BYTES) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int is_key(const kframe *k, int by_old, const uint8_t *key)
{
    return memcmp(by_old ? k->signer : k->subject, key, SWLOG_PUBKEY_BYTES) ==
           0;
}

static void set(audit_verdict *v, int trust, const kframe *ref,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set(audit_verdict *v, int trust, const kframe *ref,
                const char *fmt, ...)
{
    v->trust = trust;
    v->has_ref = ref != NULL;
    if (ref != NULL) {
        v->ref = ref->at;
        memcpy(v->ref_signer, ref->signer, SWLOG_PUBKEY_BYTES);
        v->ref_seq = ref->seq;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
}

static void check(audit_keys *ks, const uint8_t *signer, uint64_t seq,
                  uint64_t hlc, uint64_t seen, int depth, audit_verdict *v);

/* Is key frame k authorised as a frame of its signer? Memoised. */
static const kframe *authorise(audit_keys *ks, kframe *k, int depth)
{
    if (k->state == 2)
        return k;
    if (k->state == 1 || depth > DEPTH_MAX) {
        k->trust = AUDIT_TRUST_NO_CERT;
        snprintf(k->why, sizeof k->why, "its signer's certificates form a "
                                        "loop or a chain too deep");
        return k;
    }
    k->state = 1;
    audit_verdict vi;
    check(ks, k->signer, k->seq, k->hlc, 0, depth + 1, &vi);
    k->trust = (int8_t)vi.trust;
    k->signer_role = vi.role;
    memcpy(k->why, vi.why, sizeof k->why);
    k->why[sizeof k->why - 1] = '\0';
    k->state = 2;
    return k;
}

static const char *role_word(uint8_t role)
{
    const char *w = keyfeed_role_name(role);
    return w != NULL ? w : "unknown-role";
}

/* Certificate c, as evaluated for a frame (seq, ms) of key `key` (the
 * subject of c, or a successor of it by rotation). */
static int eval_cert(audit_keys *ks, kframe *c, const uint8_t *key,
                     uint64_t seq, uint64_t ms, uint64_t seen, int depth,
                     audit_verdict *v)
{
    char is[FMT_KEY_SHORT_BYTES];
    fmt_key_short(c->signer, is);
    if (memcmp(c->signer, c->subject, SWLOG_PUBKEY_BYTES) == 0) {
        set(v, AUDIT_TRUST_NO_CERT, c,
            "its only certificate is self-signed, and it is not the root "
            "key given to the audit");
        return 0;
    }
    if (c->role == SWLOG_ROLE_ROOT) {
        set(v, AUDIT_TRUST_WRONG_ISSUER, c,
            "its certificate claims the root role but is signed by %s; a "
            "root certificate must be self-signed (SECURITY §1.1)",
            is);
        return 0;
    }
    const kframe *ci = authorise(ks, c, depth);
    if (ci->trust != AUDIT_TRUST_OK) {
        set(v, AUDIT_TRUST_NO_CERT, c,
            "its certificate (seq %" PRIu64 " of issuer %s) is not valid: %s",
            c->seq, is, ci->why);
        return 0;
    }
    int allowed = (ci->signer_role == SWLOG_ROLE_ROOT &&
                   (c->role == SWLOG_ROLE_PROVINCE ||
                    c->role == SWLOG_ROLE_COUNTY)) ||
                  (ci->signer_role == SWLOG_ROLE_COUNTY &&
                   c->role == SWLOG_ROLE_STATION);
    if (!allowed) {
        set(v, AUDIT_TRUST_WRONG_ISSUER, c,
            "its %s certificate was issued by %s, a %s key, which may not "
            "certify a %s (SECURITY §1.1)",
            role_word(c->role), is, role_word(ci->signer_role),
            role_word(c->role));
        return 0;
    }
    char t[FMT_TIME_BYTES], w[FMT_TIME_BYTES];
    fmt_ms(ms, t);
    if (ms < c->a) {
        fmt_ms(c->a, w);
        set(v, AUDIT_TRUST_NOT_YET, c,
            "signed at %s, before its certificate is valid (from %s)", t, w);
        return 0;
    }
    if (ms >= c->b) {
        fmt_ms(c->b, w);
        set(v, AUDIT_TRUST_EXPIRED, c,
            "signed at %s, after its certificate expired (valid until %s)", t,
            w);
        return 0;
    }
    for (size_t i = first_of(ks, ks->revs, ks->nrevs, 0, key);
         i < ks->nrevs && is_key(&ks->k[ks->revs[i]], 0, key); i++) {
        kframe *r = &ks->k[ks->revs[i]];
        if (memcmp(r->signer, c->signer, SWLOG_PUBKEY_BYTES) != 0)
            continue; /* SECURITY §1.3: only the issuer may revoke */
        if (authorise(ks, r, depth)->trust != AUDIT_TRUST_OK)
            continue;
        int by_seq = r->a != 0 && seq >= r->a;
        int by_time = r->b != 0 && ms >= r->b;
        /* §5 step 5: a thief can back-date; a hub's checkpoint cannot. */
        int by_seen = r->reason == SWLOG_REASON_COMPROMISED && r->b != 0 &&
                      seen != 0 && seen >= r->b;
        if (by_seq || by_time || by_seen) {
            const char *reason = keyfeed_reason_name(r->reason);
            if (by_seq)
                set(v, AUDIT_TRUST_REVOKED, r,
                    "signed after its key was revoked (reason %s) from seq "
                    "%" PRIu64 " by %s",
                    reason != NULL ? reason : "?", r->a, is);
            else if (by_time) {
                fmt_ms(r->b, w);
                set(v, AUDIT_TRUST_REVOKED, r,
                    "signed at %s, after its key was revoked (reason %s) "
                    "from %s by %s",
                    t, reason != NULL ? reason : "?", w, is);
            } else {
                char sn[FMT_TIME_BYTES];
                fmt_ms(r->b, w);
                fmt_ms(seen, sn);
                set(v, AUDIT_TRUST_REVOKED, r,
                    "claims %s but first reached a hub at %s, after its key "
                    "was revoked as compromised from %s by %s",
                    t, sn, w, is);
            }
            return 0;
        }
    }
    v->trust = AUDIT_TRUST_OK;
    v->role = c->role;
    memcpy(v->unit, c->unit, sizeof v->unit);
    v->has_ref = 0;
    v->why[0] = '\0';
    return 1;
}

/* Certificates of holder (key itself, or a predecessor by rotation) judged
 * for a frame (seq, ms) of key. */
static void eval_holder(audit_keys *ks, const uint8_t *key,
                        const uint8_t *holder, uint64_t seq, uint64_t ms,
                        uint64_t seen, int depth, audit_verdict *v)
{
    if (depth > DEPTH_MAX) {
        set(v, AUDIT_TRUST_NO_CERT, NULL,
            "its rotations form a loop or a chain too deep");
        return;
    }
    size_t i = first_of(ks, ks->certs, ks->ncerts, 0, holder);
    int any = 0;
    audit_verdict best;
    memset(&best, 0, sizeof best);
    /* Newest certificate first: a renewed certificate decides. */
    size_t end = i;
    while (end < ks->ncerts && is_key(&ks->k[ks->certs[end]], 0, holder))
        end++;
    for (size_t j = end; j-- > i;) {
        audit_verdict t;
        memset(&t, 0, sizeof t);
        if (eval_cert(ks, &ks->k[ks->certs[j]], key, seq, ms, seen, depth,
                      &t)) {
            *v = t;
            return;
        }
        if (!any)
            best = t;
        any = 1;
    }
    if (any) {
        *v = best;
        return;
    }
    /* No certificate: maybe a successor by rotation (SECURITY §1.2). */
    size_t r = first_of(ks, ks->rots_new, ks->nrots, 0, holder);
    if (r < ks->nrots && is_key(&ks->k[ks->rots_new[r]], 0, holder)) {
        kframe *rot = &ks->k[ks->rots_new[r]];
        const kframe *ra = authorise(ks, rot, depth);
        if (ra->trust != AUDIT_TRUST_OK) {
            char ok[FMT_KEY_SHORT_BYTES];
            fmt_key_short(rot->signer, ok);
            set(v, AUDIT_TRUST_NO_CERT, rot,
                "it took over from %s by a rotation that is not valid: %s",
                ok, ra->why);
            return;
        }
        eval_holder(ks, key, rot->signer, seq, ms, seen, depth + 1, v);
        return;
    }
    set(v, AUDIT_TRUST_NO_CERT, NULL,
        "no certificate of this key, nor of a key it took over from, was "
        "found in the inputs");
}

static void check(audit_keys *ks, const uint8_t *signer, uint64_t seq,
                  uint64_t hlc, uint64_t seen_hlc, int depth,
                  audit_verdict *v)
{
    uint64_t seen = seen_hlc >> 16;
    uint64_t ms = hlc >> 16; /* FORMAT §1.4 */
    memset(v, 0, sizeof *v);
    /* SECURITY §1.2: the rotation frame is the old key's last. */
    size_t r = first_of(ks, ks->rots_old, ks->nrots, 1, signer);
    if (r < ks->nrots && is_key(&ks->k[ks->rots_old[r]], 1, signer)) {
        kframe *rot = &ks->k[ks->rots_old[r]];
        for (size_t j = r; j < ks->nrots &&
                           is_key(&ks->k[ks->rots_old[j]], 1, signer);
             j++)
            if (ks->k[ks->rots_old[j]].seq < rot->seq)
                rot = &ks->k[ks->rots_old[j]];
        if (seq > rot->seq) {
            set(v, AUDIT_TRUST_ROTATED, rot,
                "signed by a key after it handed its feed over to a new key "
                "(rotation at seq %" PRIu64 ")",
                rot->seq);
            return;
        }
    }
    if (memcmp(signer, ks->root, SWLOG_PUBKEY_BYTES) == 0) {
        for (size_t i = first_of(ks, ks->certs, ks->ncerts, 0, signer);
             i < ks->ncerts && is_key(&ks->k[ks->certs[i]], 0, signer); i++) {
            kframe *c = &ks->k[ks->certs[i]];
            if (memcmp(c->signer, signer, SWLOG_PUBKEY_BYTES) != 0 ||
                c->role != SWLOG_ROLE_ROOT)
                continue;
            char t[FMT_TIME_BYTES], w[FMT_TIME_BYTES];
            fmt_ms(ms, t);
            if (ms < c->a || ms >= c->b) {
                fmt_ms(ms < c->a ? c->a : c->b, w);
                set(v, ms < c->a ? AUDIT_TRUST_NOT_YET : AUDIT_TRUST_EXPIRED,
                    c, "signed at %s, outside the root certificate's window "
                       "(%s %s)",
                    t, ms < c->a ? "from" : "until", w);
                return;
            }
            v->trust = AUDIT_TRUST_OK;
            v->role = SWLOG_ROLE_ROOT;
            memcpy(v->unit, c->unit, sizeof v->unit);
            return;
        }
        set(v, AUDIT_TRUST_NO_CERT, NULL,
            "the root key's self-signed certificate (seq 1 of its feed) is "
            "not in the inputs");
        return;
    }
    eval_holder(ks, signer, signer, seq, ms, seen, depth, v);
}

void audit_keys_check(audit_keys *ks, const uint8_t signer[SWLOG_PUBKEY_BYTES],
                      uint64_t seq, uint64_t hlc, uint64_t seen_hlc,
                      audit_verdict *v)
{
    check(ks, signer, seq, hlc, seen_hlc, 0, v);
}

audit_checkpoint *audit_keys_checkpoints(audit_keys *ks, size_t *n)
{
    *n = ks->ncp;
    return ks->cp;
}

size_t audit_keys_count(const audit_keys *ks)
{
    return ks->n + ks->ncp;
}
