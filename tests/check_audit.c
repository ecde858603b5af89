/* Check suite for the auditor's modules: the streaming Merkle tree of
 * audit_hub against the library's (FORMAT §9.2), ledgers and checkpoints,
 * and trust verdicts of audit_keys (spec/SECURITY.md §5). */
#include "testutil.h"

#include <string.h>

#include "audit_forks.h"
#include "audit_hub.h"
#include "audit_keys.h"
#include "fork_index.h"

#define MS 1795392000000ull

static void leaf(uint64_t i, uint8_t out[32])
{
    uint8_t in[8];
    for (int k = 0; k < 8; k++)
        in[k] = (uint8_t)(i >> (8 * k));
    swlog_sha256(in, sizeof in, out);
}

START_TEST(mtree_matches_library)
{
    static uint8_t leaves[300][32];
    audit_mtree t;
    audit_mtree_init(&t);
    for (uint64_t n = 0; n <= 300; n++) {
        uint8_t a[32], b[32];
        audit_mtree_root(&t, a);
        ck_assert_int_eq(swlog_merkle_root((const uint8_t(*)[32])leaves, n,
                                           b, NULL),
                         SWLOG_OK);
        ck_assert_mem_eq(a, b, 32);
        ck_assert_uint_eq(t.count, n);
        if (n < 300) {
            leaf(n, leaves[n]);
            audit_mtree_add(&t, leaves[n]);
        }
    }
}
END_TEST

/* Frames signed with test keys, decoded for audit_keys_add. */
typedef struct fr {
    swlog_buf b;
    swlog_frame f;
} fr;

static void key(unsigned i, uint8_t pk[32], uint8_t sk[64])
{
    test_key(i, pk, sk);
}

static void mkcert(fr *x, unsigned issuer, uint64_t seq, unsigned subject,
                   uint8_t role, uint64_t until)
{
    uint8_t ipk[32], isk[64], spk[32], ssk[64];
    key(issuer, ipk, isk);
    key(subject, spk, ssk);
    swlog_head h;
    memset(&h, 0, sizeof h);
    h.seq = seq;
    if (seq > 1)
        memset(h.prev, 1, 32); /* chains are not audit_keys' business */
    h.hlc = (MS - 1000) << 16;
    swlog_buf_init(&x->b);
    ck_assert_int_eq(swlog_cert_encode(isk, &h, spk, role, MS - 86400000,
                                       until, "44", &x->b, NULL),
                     SWLOG_OK);
    ck_assert_int_eq(swlog_frame_decode(x->b.p, x->b.len, 0, &x->f, NULL),
                     SWLOG_OK);
}

static void mkrev(fr *x, unsigned issuer, uint64_t seq, unsigned subject,
                  uint64_t from_seq)
{
    uint8_t ipk[32], isk[64], spk[32], ssk[64];
    key(issuer, ipk, isk);
    key(subject, spk, ssk);
    swlog_head h;
    memset(&h, 0, sizeof h);
    h.seq = seq;
    memset(h.prev, 1, 32);
    h.hlc = MS << 16;
    swlog_buf_init(&x->b);
    ck_assert_int_eq(swlog_revocation_encode(isk, &h, spk, from_seq, 0,
                                             SWLOG_REASON_RETIRED, &x->b,
                                             NULL),
                     SWLOG_OK);
    ck_assert_int_eq(swlog_frame_decode(x->b.p, x->b.len, 0, &x->f, NULL),
                     SWLOG_OK);
}

static int verdict(audit_keys *ks, unsigned k, uint64_t seq, uint64_t ms)
{
    uint8_t pk[32], sk[64];
    key(k, pk, sk);
    audit_verdict v;
    audit_keys_check(ks, pk, seq, ms << 16, 0, &v);
    return v.trust;
}

START_TEST(trust_chain_rules)
{
    uint8_t root[32], sk[64];
    key(1, root, sk);
    audit_keys *ks = audit_keys_new(root);
    ck_assert_ptr_nonnull(ks);
    fr f[8];
    uint64_t until = MS + 86400000;
    mkcert(&f[0], 1, 1, 1, SWLOG_ROLE_ROOT, MS + 10 * 86400000ull);
    mkcert(&f[1], 1, 2, 2, SWLOG_ROLE_COUNTY, until);
    mkcert(&f[2], 2, 1, 3, SWLOG_ROLE_STATION, until);
    mkcert(&f[3], 1, 3, 4, SWLOG_ROLE_STATION, until); /* root -> station */
    mkcert(&f[4], 3, 1, 5, SWLOG_ROLE_STATION, until); /* station -> st. */
    mkrev(&f[5], 2, 2, 3, 10);
    mkrev(&f[6], 3, 2, 3, 2); /* by the subject itself: void */
    for (int i = 0; i < 7; i++) {
        audit_place at = {0, (uint64_t)i};
        ck_assert_int_eq(audit_keys_add(ks, &f[i].f, at), SWLOG_OK);
        ck_assert_int_eq(audit_keys_add(ks, &f[i].f, at), SWLOG_OK); /* dup */
    }
    ck_assert_uint_eq(audit_keys_count(ks), 7);
    ck_assert_int_eq(audit_keys_seal(ks), SWLOG_OK);
    ck_assert_int_eq(verdict(ks, 1, 5, MS), AUDIT_TRUST_OK);
    ck_assert_int_eq(verdict(ks, 2, 5, MS), AUDIT_TRUST_OK);
    ck_assert_int_eq(verdict(ks, 3, 9, MS), AUDIT_TRUST_OK);
    ck_assert_int_eq(verdict(ks, 3, 10, MS), AUDIT_TRUST_REVOKED);
    ck_assert_int_eq(verdict(ks, 3, 1, MS + 86400000), AUDIT_TRUST_EXPIRED);
    ck_assert_int_eq(verdict(ks, 3, 1, MS - 2 * 86400000ull),
                     AUDIT_TRUST_NOT_YET);
    ck_assert_int_eq(verdict(ks, 4, 1, MS), AUDIT_TRUST_WRONG_ISSUER);
    ck_assert_int_eq(verdict(ks, 5, 1, MS), AUDIT_TRUST_WRONG_ISSUER);
    ck_assert_int_eq(verdict(ks, 6, 1, MS), AUDIT_TRUST_NO_CERT);
    for (int i = 0; i < 7; i++)
        swlog_buf_clear(&f[i].b);
    audit_keys_free(ks);

    /* Another root: nothing is trusted. */
    key(9, root, sk);
    ks = audit_keys_new(root);
    mkcert(&f[0], 1, 1, 1, SWLOG_ROLE_ROOT, until);
    audit_place at = {0, 0};
    ck_assert_int_eq(audit_keys_add(ks, &f[0].f, at), SWLOG_OK);
    ck_assert_int_eq(audit_keys_seal(ks), SWLOG_OK);
    ck_assert_int_eq(verdict(ks, 1, 1, MS), AUDIT_TRUST_NO_CERT);
    ck_assert_int_eq(verdict(ks, 9, 1, MS), AUDIT_TRUST_NO_CERT);
    swlog_buf_clear(&f[0].b);
    audit_keys_free(ks);
}
END_TEST

START_TEST(ledger_marks_checkpoints)
{
    uint8_t root[32], sk[64], hub[32];
    key(1, root, sk);
    key(2, hub, sk);
    audit_keys *ks = audit_keys_new(root);
    static uint8_t leaves[20][32];
    for (int i = 0; i < 20; i++)
        leaf((uint64_t)i, leaves[i]);
    /* sizes 0, 5, 12 right; 15 wrong; 30 beyond the ledger */
    const uint64_t sizes[] = {0, 5, 12, 15, 30};
    fr f[5];
    for (int i = 0; i < 5; i++) {
        uint8_t r[32];
        ck_assert_int_eq(swlog_merkle_root((const uint8_t(*)[32])leaves,
                                           sizes[i] > 20 ? 20 : sizes[i], r,
                                           NULL),
                         SWLOG_OK);
        if (i == 3)
            r[0] ^= 1;
        swlog_head h;
        memset(&h, 0, sizeof h);
        h.seq = (uint64_t)i + 1;
        if (i > 0)
            memset(h.prev, 1, 32);
        h.hlc = MS << 16;
        swlog_buf_init(&f[i].b);
        ck_assert_int_eq(swlog_checkpoint_encode(sk, &h, sizes[i], r, &f[i].b,
                                                 NULL),
                         SWLOG_OK);
        ck_assert_int_eq(swlog_frame_decode(f[i].b.p, f[i].b.len, 0, &f[i].f,
                                            NULL),
                         SWLOG_OK);
        audit_place at = {0, (uint64_t)i};
        ck_assert_int_eq(audit_keys_add(ks, &f[i].f, at), SWLOG_OK);
    }
    ck_assert_int_eq(audit_keys_seal(ks), SWLOG_OK);
    audit_ledger l;
    ck_assert_int_eq(audit_ledger_begin(&l, ks, hub), SWLOG_OK);
    for (int i = 0; i < 20; i++)
        audit_ledger_leaf(&l, leaves[i]);
    audit_ledger_end(&l);
    size_t n;
    audit_checkpoint *cp = audit_keys_checkpoints(ks, &n);
    ck_assert_uint_eq(n, 5);
    const int want[] = {AUDIT_CP_MATCHES, AUDIT_CP_MATCHES, AUDIT_CP_MATCHES,
                        AUDIT_CP_DIFFERS, AUDIT_CP_BEYOND};
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(cp[i].state, want[cp[i].seq - 1]);
    for (int i = 0; i < 5; i++)
        swlog_buf_clear(&f[i].b);
    audit_keys_free(ks);
}
END_TEST

START_TEST(fork_index_places)
{
    fork_index *fi = fork_index_new();
    uint8_t feed[32] = {7}, a[32] = {1}, b[32] = {2}, first[32];
    uint32_t file = 0;
    uint64_t off = 0;
    /* One entry without a place, then entries with places: the early one
     * answers "unknown place", the others their own. */
    ck_assert_int_eq(fork_index_add(fi, feed, 1, a, first), 0);
    for (uint64_t s = 2; s < 3000; s++)
        ck_assert_int_eq(fork_index_add_at(fi, feed, s, a, 5, s * 10, first,
                                           &file, &off),
                         0);
    ck_assert_int_eq(fork_index_add_at(fi, feed, 1, a, 6, 1, first, &file,
                                       &off),
                     2);
    ck_assert_int_eq(fork_index_add_at(fi, feed, 1, b, 6, 1, first, &file,
                                       &off),
                     1);
    ck_assert_uint_eq(file, UINT32_MAX);
    ck_assert_int_eq(fork_index_add_at(fi, feed, 2999, b, 6, 1, first, &file,
                                       &off),
                     1);
    ck_assert_mem_eq(first, a, 32);
    ck_assert_uint_eq(file, 5);
    ck_assert_uint_eq(off, 29990);
    ck_assert_int_eq(fork_index_add(fi, feed, 2999, a, first), 0);
    ck_assert_int_eq(fork_index_add(fi, feed, 2999, b, first), 1);
    fork_index_free(fi);
}
END_TEST

/* A synthetic feed for audit_forks: frame ids are chained by construction
 * (id of seq s in history h), so only seq, prev and id matter. */
static void fid(int h, uint64_t s, uint8_t id[32])
{
    memset(id, 0, 32);
    if (s == 0)
        return;
    id[0] = (uint8_t)h;
    for (int k = 0; k < 8; k++)
        id[1 + k] = (uint8_t)(s >> (8 * k));
}

/* History h forks from history 0 at seq fork_at (h = 0: never). */
static int hist(int h, uint64_t s, uint64_t fork_at)
{
    return h != 0 && s >= fork_at ? h : 0;
}

static void hdr(peek_header *p, const uint8_t *feed, int h, uint64_t s,
                uint64_t fork_at)
{
    memset(p, 0, sizeof *p);
    memcpy(p->signer, feed, 32);
    p->seq = s;
    fid(hist(h, s - 1, fork_at), s - 1, p->prev);
    fid(hist(h, s, fork_at), s, p->id);
    p->has_id = 1;
}

static int frame_at(audit_forks *af, const uint8_t *feed, int h, uint64_t s,
                    uint64_t fork_at, uint32_t file, uint64_t off)
{
    swlog_frame f;
    memset(&f, 0, sizeof f);
    memcpy(f.signer, feed, 32);
    f.seq = s;
    fid(hist(h, s, fork_at), s, f.id);
    return audit_forks_frame(af, &f, file, off);
}

/* Three copies of one feed of 20,000 frames: file 0 holds 1..20000, file 1
 * holds 5..12000 of the same history, file 2 holds 1..9000 of a history
 * that forks at 7000. Segments and anchors stay at one per copy; the
 * fork is found at the anchor 9000, copies are copies. */
START_TEST(forks_flat_memory)
{
    audit_forks *af = audit_forks_new();
    ck_assert_ptr_nonnull(af);
    uint8_t feed[32] = {9};
    const uint64_t lo[3] = {1, 5, 1}, hi[3] = {20000, 12000, 9000};
    const int h[3] = {0, 0, 2};
    peek_header p;
    for (uint32_t file = 0; file < 3; file++)
        for (uint64_t s = lo[file]; s <= hi[file]; s++) {
            hdr(&p, feed, h[file], s, 7000);
            ck_assert_int_eq(audit_forks_scan(af, file, &p, s * 100),
                             SWLOG_OK);
        }
    ck_assert_uint_eq(audit_forks_segments(af), 3);
    uint32_t rank[3] = {0, 1, 2};
    ck_assert_int_eq(audit_forks_seal(af, rank, 3), SWLOG_OK);
    ck_assert_uint_eq(audit_forks_anchors(af), 3);
    int dups[3] = {0, 0, 0};
    for (uint32_t file = 0; file < 3; file++)
        for (uint64_t s = lo[file]; s <= hi[file]; s++)
            dups[file] += frame_at(af, feed, h[file], s, 7000, file,
                                   s * 100) == 2;
    ck_assert_int_eq(dups[0], 0);
    ck_assert_int_eq(dups[1], 12000 - 5 + 1);
    ck_assert_int_eq(dups[2], 9000);
    size_t n;
    uint64_t more;
    audit_fork *fk = audit_forks_list(af, &n, &more);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(more, 0);
    ck_assert_uint_eq(fk[0].seq_hi, 9000);
    ck_assert_uint_eq(fk[0].file_a, 0);
    ck_assert_uint_eq(fk[0].file_b, 2);
    ck_assert_uint_eq(fk[0].anchor_b, 900000);
    audit_forks_free(af);
}
END_TEST

/* A copy whose frame had a problem does not make later copies of that seq
 * duplicates; a run broken more than AUDIT_FORKS_SEGS times in one file
 * stops adding segments. */
START_TEST(forks_bad_and_cap)
{
    audit_forks *af = audit_forks_new();
    uint8_t feed[32] = {3};
    peek_header p;
    for (uint32_t file = 0; file < 2; file++)
        for (uint64_t s = 1; s <= 10; s++) {
            hdr(&p, feed, 0, s, 0);
            audit_forks_scan(af, file, &p, s);
        }
    for (uint64_t s = 1; s <= 200; s += 2) { /* every other frame: gaps */
        hdr(&p, feed, 0, s, 0);
        audit_forks_scan(af, 2, &p, s);
    }
    ck_assert_uint_eq(audit_forks_segments(af), 2 + AUDIT_FORKS_SEGS);
    uint32_t rank[3] = {0, 1, 2};
    ck_assert_int_eq(audit_forks_seal(af, rank, 3), SWLOG_OK);
    ck_assert_int_eq(frame_at(af, feed, 0, 4, 0, 0, 4), 0);
    audit_forks_bad(af, feed, 4, 0, 4);
    ck_assert_int_eq(frame_at(af, feed, 0, 4, 0, 1, 4), 0);
    ck_assert_int_eq(frame_at(af, feed, 0, 5, 0, 1, 5), 2);
    audit_forks_free(af);
    audit_forks_free(NULL);
}
END_TEST

/* One file holding a feed twice over (1..8, then another 6..8): two
 * segments of one file, compared at their anchor 8 like copies. */
START_TEST(forks_inside_one_file)
{
    audit_forks *af = audit_forks_new();
    uint8_t feed[32] = {5};
    peek_header p;
    for (uint64_t s = 1; s <= 8; s++) {
        hdr(&p, feed, 0, s, 6);
        audit_forks_scan(af, 0, &p, s);
    }
    for (uint64_t s = 6; s <= 8; s++) {
        hdr(&p, feed, 2, s, 6);
        audit_forks_scan(af, 0, &p, 100 + s);
    }
    ck_assert_uint_eq(audit_forks_segments(af), 2);
    uint32_t rank[1] = {0};
    ck_assert_int_eq(audit_forks_seal(af, rank, 1), SWLOG_OK);
    for (uint64_t s = 1; s <= 8; s++)
        ck_assert_int_eq(frame_at(af, feed, 0, s, 6, 0, s), 0);
    for (uint64_t s = 6; s <= 8; s++)
        frame_at(af, feed, 2, s, 6, 0, 100 + s);
    size_t n;
    uint64_t more;
    audit_fork *fk = audit_forks_list(af, &n, &more);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(fk[0].seq_hi, 8);
    ck_assert_uint_eq(fk[0].anchor_a, 8);
    ck_assert_uint_eq(fk[0].anchor_b, 108);
    audit_forks_free(af);
}
END_TEST

Suite *audit_suite(void)
{
    Suite *s = suite_create("audit");
    TCase *tc = tcase_create("audit");
    tcase_add_test(tc, mtree_matches_library);
    tcase_add_test(tc, trust_chain_rules);
    tcase_add_test(tc, ledger_marks_checkpoints);
    tcase_add_test(tc, fork_index_places);
    tcase_add_test(tc, forks_flat_memory);
    tcase_add_test(tc, forks_bad_and_cap);
    tcase_add_test(tc, forks_inside_one_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(audit_suite());
}
