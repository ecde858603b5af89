/* The hub's key registry (agent/hub/hub_keys.c) against spec/SECURITY.md
 * §5 and §5.1: roles, windows, revocations (only by the certificate's
 * issuer, only when authorised, seen time for the judged frame alone),
 * rotations (key_rotated after the handover, inheritance only through an
 * authorised rotation), and verdicts independent of the order key frames
 * were learnt in. Key frames are real encoded and decoded frames. */
#include <stdio.h>
#include <string.h>

#include "hub_keys.h"
#include "testutil.h"

#define T0 1700000000000ull /* ms */
#define DAY 86400000ull
#define MAXK 64

typedef struct feed {
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    uint64_t seq;
    uint8_t prev[SWLOG_HASH_BYTES];
} feed;

/* Every key frame made, so a registry can be rebuilt in any order. */
static swlog_buf kfs[MAXK];
static size_t nkf;

static void feed_init(feed *f, unsigned no)
{
    memset(f, 0, sizeof *f);
    test_key(no, f->pk, f->sk);
}

static swlog_head next_head(feed *f, uint64_t ms)
{
    swlog_head h;
    h.seq = ++f->seq;
    memcpy(h.prev, f->prev, sizeof h.prev);
    h.hlc = ms << 16;
    return h;
}

static void keep(hub_keys *k, feed *f, swlog_buf *b)
{
    swlog_frame fr;
    ck_assert_int_eq(swlog_frame_decode(b->p, b->len, 0, &fr, NULL),
                     SWLOG_OK);
    memcpy(f->prev, fr.id, sizeof f->prev);
    ck_assert_int_eq(hub_keys_add(k, &fr, NULL), SWLOG_OK);
    ck_assert_uint_lt(nkf, MAXK);
    kfs[nkf++] = *b;
}

static void cert(hub_keys *k, feed *issuer, const feed *subject, uint8_t role,
                 uint64_t from, uint64_t until, uint64_t ms)
{
    swlog_head h = next_head(issuer, ms);
    swlog_buf b;
    swlog_buf_init(&b);
    ck_assert_int_eq(swlog_cert_encode(issuer->sk, &h, subject->pk, role,
                                       from, until, "4401", &b, NULL),
                     SWLOG_OK);
    keep(k, issuer, &b);
}

static void rot(hub_keys *k, feed *old, const feed *nw, uint64_t ms)
{
    swlog_head h = next_head(old, ms);
    swlog_buf b;
    swlog_buf_init(&b);
    ck_assert_int_eq(swlog_rotation_encode(old->sk, nw->sk, &h, &b, NULL),
                     SWLOG_OK);
    keep(k, old, &b);
}

static void rev(hub_keys *k, feed *issuer, const feed *subject,
                uint64_t from_seq, uint64_t from_time, uint8_t reason,
                uint64_t ms)
{
    swlog_head h = next_head(issuer, ms);
    swlog_buf b;
    swlog_buf_init(&b);
    ck_assert_int_eq(swlog_revocation_encode(issuer->sk, &h, subject->pk,
                                             from_seq, from_time, reason, &b,
                                             NULL),
                     SWLOG_OK);
    keep(k, issuer, &b);
}

/* The verdict on a frame (seq, ms) of f received at now: "ok" or a code. */
static const char *v(const hub_keys *k, const feed *f, uint64_t seq,
                     uint64_t ms, uint64_t now)
{
    swlog_frame fr;
    memset(&fr, 0, sizeof fr);
    memcpy(fr.signer, f->pk, SWLOG_PUBKEY_BYTES);
    fr.seq = seq;
    fr.hlc = ms << 16;
    char msg[200] = "";
    const char *code = hub_keys_check(k, &fr, now, msg, sizeof msg);
    if (code != NULL)
        ck_assert_msg(msg[0] != '\0', "%s without a message", code);
    return code != NULL ? code : "ok";
}

static void drop_all(void)
{
    for (size_t i = 0; i < nkf; i++)
        swlog_buf_clear(&kfs[i]);
    nkf = 0;
}

/* Root (1) -> county C (2), county D (3); C -> stations S (10), S' (11). */
typedef struct world {
    hub_keys k;
    feed root, c, d, s, s2;
} world;

static void world_init(world *w)
{
    nkf = 0;
    feed_init(&w->root, 1);
    feed_init(&w->c, 2);
    feed_init(&w->d, 3);
    feed_init(&w->s, 10);
    feed_init(&w->s2, 11);
    hub_keys_init(&w->k, w->root.pk);
    cert(&w->k, &w->root, &w->root, SWLOG_ROLE_ROOT, T0, T0 + 3650 * DAY,
         T0);
    cert(&w->k, &w->root, &w->c, SWLOG_ROLE_COUNTY, T0, T0 + 1000 * DAY,
         T0 + 1);
    cert(&w->k, &w->root, &w->d, SWLOG_ROLE_COUNTY, T0, T0 + 1000 * DAY,
         T0 + 2);
    cert(&w->k, &w->c, &w->s, SWLOG_ROLE_STATION, T0 + DAY, T0 + 100 * DAY,
         T0 + 3);
}

static void world_clear(world *w)
{
    hub_keys_clear(&w->k);
    drop_all();
}

START_TEST(roles_and_windows)
{
    world w;
    world_init(&w);
    uint64_t now = T0 + 10 * DAY;
    ck_assert_str_eq(v(&w.k, &w.s, 1, T0 + 2 * DAY, now), "ok");
    ck_assert_str_eq(v(&w.k, &w.c, 1, T0 + 2 * DAY, now), "ok");
    ck_assert_str_eq(v(&w.k, &w.root, 9, T0 + 2 * DAY, now), "ok");
    ck_assert_str_eq(v(&w.k, &w.s, 1, T0 + DAY - 1, now),
                     "key_not_yet_valid");
    ck_assert_str_eq(v(&w.k, &w.s, 1, T0 + 100 * DAY, now), "key_expired");
    ck_assert_str_eq(v(&w.k, &w.s2, 1, T0 + 2 * DAY, now), "unknown_key");
    ck_assert_str_eq(v(&w.k, &w.root, 1, T0 + 3650 * DAY, now),
                     "key_expired");
    /* SECURITY §1.1: a county does not certify a county, the root does
     * not certify a station, a station certifies nothing. */
    feed e, x, y;
    feed_init(&e, 20);
    feed_init(&x, 21);
    feed_init(&y, 22);
    cert(&w.k, &w.c, &e, SWLOG_ROLE_COUNTY, T0, T0 + 100 * DAY, T0 + 4);
    cert(&w.k, &w.root, &x, SWLOG_ROLE_STATION, T0, T0 + 100 * DAY, T0 + 5);
    cert(&w.k, &w.s, &y, SWLOG_ROLE_STATION, T0 + DAY, T0 + 100 * DAY,
         T0 + DAY + 6);
    ck_assert_str_eq(v(&w.k, &e, 1, T0 + 2 * DAY, now), "unknown_key");
    ck_assert_str_eq(v(&w.k, &x, 1, T0 + 2 * DAY, now), "unknown_key");
    ck_assert_str_eq(v(&w.k, &y, 1, T0 + 2 * DAY, now), "unknown_key");
    /* A renewed certificate: the older one still covers older frames. */
    cert(&w.k, &w.c, &w.s, SWLOG_ROLE_STATION, T0 + 100 * DAY,
         T0 + 200 * DAY, T0 + 99 * DAY);
    ck_assert_str_eq(v(&w.k, &w.s, 1, T0 + 150 * DAY, now), "ok");
    ck_assert_str_eq(v(&w.k, &w.s, 1, T0 + 50 * DAY, now), "ok");
    ck_assert_str_eq(v(&w.k, &w.s, 1, T0 + 200 * DAY, now), "key_expired");
    world_clear(&w);
}
END_TEST

START_TEST(revocations)
{
    world w;
    world_init(&w);
    uint64_t t = T0 + 2 * DAY, now = T0 + 10 * DAY;
    /* By another county: not the issuer, no effect (SECURITY §1.3). */
    rev(&w.k, &w.d, &w.s, 1, 0, SWLOG_REASON_COMPROMISED, T0 + 5);
    ck_assert_str_eq(v(&w.k, &w.s, 1, t, now), "ok");
    /* By the issuer from seq 5. */
    rev(&w.k, &w.c, &w.s, 5, 0, SWLOG_REASON_RETIRED, T0 + 6);
    ck_assert_str_eq(v(&w.k, &w.s, 4, t, now), "ok");
    ck_assert_str_eq(v(&w.k, &w.s, 5, t, now), "key_revoked");
    /* A revocation of another key by the same issuer does not reach S. */
    cert(&w.k, &w.c, &w.s2, SWLOG_ROLE_STATION, T0 + DAY, T0 + 100 * DAY,
         T0 + 7);
    rev(&w.k, &w.c, &w.s2, 0, T0 + 20 * DAY, SWLOG_REASON_COMPROMISED,
        T0 + 8);
    ck_assert_str_eq(v(&w.k, &w.s, 4, T0 + 30 * DAY, now), "ok");
    /* From a time: the claimed time, and for compromised the seen time. */
    ck_assert_str_eq(v(&w.k, &w.s2, 1, T0 + 20 * DAY, now), "key_revoked");
    ck_assert_str_eq(v(&w.k, &w.s2, 1, T0 + 19 * DAY, now), "ok");
    ck_assert_str_eq(v(&w.k, &w.s2, 1, T0 + 19 * DAY, T0 + 20 * DAY),
                     "key_revoked");
    world_clear(&w);
}
END_TEST

START_TEST(revoked_issuer)
{
    world w;
    world_init(&w);
    /* The root revokes county C as compromised from a time T: its
     * certificates made before T stay valid even when the hub's clock is
     * past T (the seen time is the judged frame's only); those after are
     * void; C's own frames received after T are refused. */
    uint64_t cut = T0 + 50 * DAY;
    feed late;
    feed_init(&late, 12);
    cert(&w.k, &w.c, &late, SWLOG_ROLE_STATION, T0 + DAY, T0 + 100 * DAY,
         cut + 1);
    rev(&w.k, &w.root, &w.c, 0, cut, SWLOG_REASON_COMPROMISED, T0 + 9);
    uint64_t now = cut + 10 * DAY;
    ck_assert_str_eq(v(&w.k, &w.s, 1, T0 + 2 * DAY, now), "ok");
    ck_assert_str_eq(v(&w.k, &late, 1, T0 + 2 * DAY, now), "unknown_key");
    ck_assert_str_eq(v(&w.k, &w.c, 9, T0 + 2 * DAY, now), "key_revoked");
    /* A revocation by a county that was itself revoked before it signed
     * it counts for nothing. */
    rev(&w.k, &w.root, &w.d, 6, 0, SWLOG_REASON_COMPROMISED, T0 + 10);
    feed ds;
    feed_init(&ds, 13);
    cert(&w.k, &w.d, &ds, SWLOG_ROLE_STATION, T0 + DAY, T0 + 100 * DAY,
         T0 + 11); /* D's seq 1: valid */
    for (int i = 0; i < 4; i++) /* D's seq 2..5: certificates of others */
        cert(&w.k, &w.d, &late, SWLOG_ROLE_STATION, T0 + DAY, T0 + DAY + 1,
             T0 + 12);
    rev(&w.k, &w.d, &ds, 1, 0, SWLOG_REASON_RETIRED, T0 + 13); /* seq 6 */
    ck_assert_str_eq(v(&w.k, &ds, 1, T0 + 2 * DAY, now), "ok");
    world_clear(&w);
}
END_TEST

START_TEST(rotations)
{
    world w;
    world_init(&w);
    uint64_t t = T0 + 2 * DAY, now = T0 + 10 * DAY;
    feed s2, s3;
    feed_init(&s2, 30);
    feed_init(&s3, 31);
    ck_assert_str_eq(v(&w.k, &s2, 1, t, now), "unknown_key");
    w.s.seq = 2; /* S signed seq 1 and 2; the rotation is its seq 3 */
    rot(&w.k, &w.s, &s2, t);
    ck_assert_str_eq(v(&w.k, &w.s, 3, t, now), "ok");
    ck_assert_str_eq(v(&w.k, &w.s, 4, t, now), "key_rotated");
    ck_assert_str_eq(v(&w.k, &s2, 1, t, now), "ok");
    /* The successor keeps the window it inherits. */
    ck_assert_str_eq(v(&w.k, &s2, 1, T0 + 100 * DAY, now), "key_expired");
    rot(&w.k, &s2, &s3, t); /* S2's seq 1 */
    ck_assert_str_eq(v(&w.k, &s2, 2, t, now), "key_rotated");
    ck_assert_str_eq(v(&w.k, &s3, 7, t, now), "ok");
    /* The issuer revokes S3 (a successor: the inherited certificate's
     * issuer revokes it). */
    rev(&w.k, &w.c, &s3, 7, 0, SWLOG_REASON_SUPERSEDED, T0 + 5);
    ck_assert_str_eq(v(&w.k, &s3, 6, t, now), "ok");
    ck_assert_str_eq(v(&w.k, &s3, 7, t, now), "key_revoked");
    /* S revoked at its rotation's seq: no successor inherits anything. */
    rev(&w.k, &w.c, &w.s, 3, 0, SWLOG_REASON_COMPROMISED, T0 + 6);
    ck_assert_str_eq(v(&w.k, &w.s, 2, t, now), "ok");
    ck_assert_str_eq(v(&w.k, &w.s, 3, t, now), "key_revoked");
    ck_assert_str_eq(v(&w.k, &s2, 1, t, now), "key_revoked");
    ck_assert_str_eq(v(&w.k, &s3, 1, t, now), "key_revoked");
    world_clear(&w);
}
END_TEST

/* Two registries of the same key frames added in opposite orders, and
 * after hub_keys_restore of a batch, give the same verdicts. */
START_TEST(order_does_not_matter)
{
    world w;
    world_init(&w);
    feed s2, s3;
    feed_init(&s2, 30);
    feed_init(&s3, 31);
    w.s.seq = 2;
    rot(&w.k, &w.s, &s2, T0 + 2 * DAY);
    cert(&w.k, &w.c, &w.s2, SWLOG_ROLE_STATION, T0 + DAY, T0 + 100 * DAY,
         T0 + 7);
    cert(&w.k, &w.c, &w.s2, SWLOG_ROLE_STATION, T0 + 5 * DAY,
         T0 + 300 * DAY, T0 + 8);
    rev(&w.k, &w.c, &s2, 4, 0, SWLOG_REASON_RETIRED, T0 + 9);
    rev(&w.k, &w.root, &w.d, 0, T0 + 5 * DAY, SWLOG_REASON_COMPROMISED,
        T0 + 10);
    hub_keys back;
    hub_keys_init(&back, w.root.pk);
    for (size_t i = nkf; i-- > 0;) {
        swlog_frame fr;
        ck_assert_int_eq(swlog_frame_decode(kfs[i].p, kfs[i].len, 0, &fr,
                                            NULL),
                         SWLOG_OK);
        ck_assert_int_eq(hub_keys_add(&back, &fr, NULL), SWLOG_OK);
    }
    const feed *keys[] = {&w.root, &w.c, &w.d, &w.s, &w.s2, &s2, &s3};
    unsigned n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        for (uint64_t seq = 1; seq <= 5; seq++)
            for (uint64_t day = 0; day <= 400; day += 3)
                for (int late = 0; late < 2; late++) {
                    uint64_t ms = T0 + day * DAY;
                    uint64_t now = late ? ms + 300 * DAY : ms;
                    ck_assert_str_eq(v(&w.k, keys[i], seq, ms, now),
                                     v(&back, keys[i], seq, ms, now));
                    n++;
                }
    ck_assert_uint_gt(n, 1000);
    /* A batch that taught a rotation, rolled back, forgets it. */
    hub_keys_mark m = hub_keys_mark_get(&w.k);
    ck_assert_str_eq(v(&w.k, &s3, 1, T0 + 2 * DAY, T0), "unknown_key");
    rot(&w.k, &s2, &s3, T0 + 2 * DAY);
    ck_assert_str_eq(v(&w.k, &s3, 1, T0 + 2 * DAY, T0), "ok");
    hub_keys_restore(&w.k, m);
    ck_assert_str_eq(v(&w.k, &s3, 1, T0 + 2 * DAY, T0), "unknown_key");
    hub_keys_clear(&back);
    world_clear(&w);
}
END_TEST

static Suite *hub_keys_suite(void)
{
    Suite *s = suite_create("hub_keys");
    TCase *tc = tcase_create("check");
    tcase_add_test(tc, roles_and_windows);
    tcase_add_test(tc, revocations);
    tcase_add_test(tc, revoked_issuer);
    tcase_add_test(tc, rotations);
    tcase_add_test(tc, order_does_not_matter);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(hub_keys_suite());
}
