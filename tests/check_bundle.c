/* Importing bundles at a station (agent/bundle.c): a good bundle merges and
 * is kept in inbox/; twice changes nothing; damage, untrusted signers,
 * decreasing seqs and forks are refused whole with the file, offset, feed and seq. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "merge.h"
#include "mergeutil.h"
#include "replica.h"
#include "testutil.h"

#define X "0190a1b2-c3d4-7e5f-8a9b-000000000001"
#define Y "0190a1b2-c3d4-7e5f-8a9b-000000000002"
#define HUB 5
#define STATION 6
#define STRANGER 7

static uint8_t hub_pk[SWLOG_PUBKEY_BYTES], station_pk[SWLOG_PUBKEY_BYTES];
static char dir[512], inbox[600];
static replica *rep;

/* The hub's feed: 1 change-set, 2 certificate, 3 change-set, 4
 * checkpoint, 5 a change-set; plus a fork of 2. */
static swlog_buf hubf[6];
static uint8_t ids[6][SWLOG_HASH_BYTES];
static swlog_buf own1; /* the station's own seq 1 */

static uint64_t base;
static uint64_t h(unsigned n) { return base + ((uint64_t)n << 16); }

static void take(swlog_buf *dst, size_t k, const swlog_buf *src)
{
    swlog_frame f;
    swlog_error err = {0};
    swlog_buf_init(dst);
    ck_assert_int_eq(swlog_buf_append(dst, src->p, src->len), 0);
    ck_assert_msg(swlog_frame_decode(dst->p, dst->len, 0, &f, &err) == 0,
                  "%s", err.msg);
    if (k < 6)
        memcpy(ids[k], f.id, SWLOG_HASH_BYTES);
}

static void build(void)
{
    uint8_t sk[SWLOG_SECKEY_BYTES], pk[SWLOG_PUBKEY_BYTES];
    swlog_error err = {0};
    mu_cs cs;
    base = mu_now_hlc() - (3600000ull << 16);
    test_key(HUB, hub_pk, sk);
    test_key(STATION, station_pk, sk);
    test_key(HUB, pk, sk);

    mu_begin();
    mu_upsert("clients", X, h(1));
    mu_text("name", 0, "anna");
    mu_seal(&cs, HUB, 1, NULL, h(1), 1);
    take(&hubf[0], 0, &cs.body);
    mu_free(&cs);

    swlog_head hd = {.seq = 2, .hlc = h(2)};
    memcpy(hd.prev, ids[0], SWLOG_HASH_BYTES);
    swlog_buf b;
    swlog_buf_init(&b);
    ck_assert_int_eq(swlog_cert_encode(sk, &hd, station_pk,
                                       SWLOG_ROLE_STATION, 1, 4000000000000ull,
                                       "440983102000-01", &b, &err),
                     0);
    take(&hubf[1], 1, &b);

    mu_begin();
    mu_upsert("clients", X, h(3));
    mu_text("name", h(1), "anne");
    mu_upsert("clients", Y, h(3));
    mu_text("name", 0, "yan");
    mu_seal(&cs, HUB, 3, ids[1], h(3), 1);
    take(&hubf[2], 2, &cs.body);
    mu_free(&cs);

    uint8_t root[SWLOG_HASH_BYTES] = {1};
    hd = (swlog_head){.seq = 4, .hlc = h(4)};
    memcpy(hd.prev, ids[2], SWLOG_HASH_BYTES);
    ck_assert_int_eq(swlog_checkpoint_encode(sk, &hd, 3, root, &b, &err), 0);
    take(&hubf[3], 3, &b);

    mu_begin();
    mu_delete("clients", Y, h(5), h(3));
    mu_seal(&cs, HUB, 5, ids[3], h(5), 1);
    take(&hubf[4], 4, &cs.body);
    mu_free(&cs);

    /* A fork of seq 2: another certificate under the same seq. */
    hd = (swlog_head){.seq = 2, .hlc = h(2)};
    memcpy(hd.prev, ids[0], SWLOG_HASH_BYTES);
    ck_assert_int_eq(swlog_cert_encode(sk, &hd, station_pk,
                                       SWLOG_ROLE_STATION, 2, 4000000000000ull,
                                       "440983102000-01", &b, &err),
                     0);
    take(&hubf[5], 5, &b);

    mu_begin();
    mu_upsert("clients", Y, h(2));
    mu_text("name", 0, "own");
    mu_seal(&cs, STATION, 1, NULL, h(2), 1);
    take(&own1, 6, &cs.body);
    mu_free(&cs);
    swlog_buf_clear(&b);
    swlog_wipe(sk, sizeof sk);
}

static void setup(void)
{
    static int n;
    swlog_error err = {0};
    snprintf(dir, sizeof dir, "%s/bundle-%d-%d", test_tmpdir(), (int)getpid(),
             n++);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(inbox, sizeof inbox, "%s/inbox", dir);
    char path[700];
    snprintf(path, sizeof path, "%s/replica.db", dir);
    ck_assert_msg(replica_open(path, &rep, &err) == SWLOG_OK, "%s", err.msg);
    build();
}

static void teardown(void)
{
    replica_close(rep);
    rep = NULL;
    for (size_t i = 0; i < 6; i++)
        swlog_buf_clear(&hubf[i]);
    swlog_buf_clear(&own1);
}

/* Write a bundle of the given frames; returns its path (static). */
static const char *bundle(const char *name, const swlog_buf *const *f,
                          size_t n)
{
    static char p[800];
    swlog_log *log = NULL;
    swlog_error err = {0};
    snprintf(p, sizeof p, "%s/%s", dir, name);
    unlink(p);
    ck_assert_msg(swlog_log_open(p, SWLOG_APPEND | SWLOG_CREATE, &log,
                                 &err) == 0,
                  "%s", err.msg);
    const uint8_t *bodies[8];
    size_t lens[8];
    for (size_t i = 0; i < n; i++) {
        bodies[i] = f[i]->p;
        lens[i] = f[i]->len;
    }
    if (n > 0)
        ck_assert_int_eq(swlog_log_append(log, bodies, lens, n, &err), 0);
    swlog_log_close(log);
    return p;
}

static int import(const char *p, bundle_stats *st, swlog_error *err)
{
    bundle_options o = {.trusted = hub_pk, .ntrusted = 1,
                        .self = station_pk, .inbox = inbox};
    return bundle_import(rep, p, &o, st, err);
}

static long long count(const char *q)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(replica_db(rep), q, -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void content(uint8_t out[SWLOG_HASH_BYTES])
{
    swlog_error err = {0};
    ck_assert_int_eq(merge_content_hash(rep, out, &err), 0);
}

static uint64_t head(void)
{
    uint64_t seq;
    uint8_t id[SWLOG_HASH_BYTES];
    swlog_error err = {0};
    ck_assert_int_eq(bundle_head(rep, hub_pk, &seq, id, &err), 0);
    return seq;
}

static uint64_t inbox_frames(void)
{
    char hex[65], p[800];
    swlog_hex(hub_pk, 32, hex);
    snprintf(p, sizeof p, "%s/%s.log", inbox, hex);
    swlog_log *log = NULL;
    if (swlog_log_open(p, SWLOG_READ, &log, NULL) != SWLOG_OK)
        return 0;
    const uint8_t *b;
    size_t len;
    uint64_t off, n = 0;
    while (swlog_log_next(log, &b, &len, &off, NULL) == 1)
        n++;
    swlog_log_close(log);
    return n;
}

START_TEST(good_bundle_merges_and_twice_changes_nothing)
{
    const swlog_buf *fr[] = {&hubf[0], &hubf[1], &own1, &hubf[2], &hubf[3],
                             &hubf[4]};
    const char *p = bundle("good.swb", fr, 6);
    bundle_stats st = {0};
    swlog_error err = {0};
    ck_assert_msg(import(p, &st, &err) == SWLOG_OK, "%s", err.msg);
    ck_assert_uint_eq(st.frames, 6);
    ck_assert_uint_eq(st.imported, 5);
    ck_assert_uint_eq(st.own, 1);
    ck_assert_uint_eq(st.changesets, 3);
    ck_assert_uint_eq(st.merge.records, 4);
    ck_assert_int_eq(count("SELECT count(*) FROM clients WHERE name = "
                           "'anne'"),
                     1);
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 1);
    ck_assert_int_eq(count("SELECT count(*) FROM _sw_outbox"), 0);
    ck_assert_uint_eq(head(), 5);
    ck_assert_uint_eq(inbox_frames(), 5);
    uint8_t a[SWLOG_HASH_BYTES], b[SWLOG_HASH_BYTES];
    content(a);
    bundle_stats again = {0};
    ck_assert_msg(import(p, &again, &err) == SWLOG_OK, "%s", err.msg);
    ck_assert_uint_eq(again.imported, 0);
    ck_assert_uint_eq(again.duplicates, 5);
    ck_assert_uint_eq(again.changesets, 0);
    content(b);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_uint_eq(inbox_frames(), 5);
}
END_TEST

START_TEST(flipped_byte_is_refused_with_its_offset)
{
    const swlog_buf *fr[] = {&hubf[0], &hubf[1], &hubf[2]};
    const char *p = bundle("flip.swb", fr, 3);
    /* Frame 2 starts after the header and frame 1's envelope. */
    uint64_t at = SWLOG_FILE_HEADER_BYTES + hubf[0].len + SWLOG_ENVELOPE_BYTES;
    FILE *f = fopen(p, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, (long)(at + 40), SEEK_SET), 0);
    int c = fgetc(f);
    ck_assert_int_eq(fseek(f, (long)(at + 40), SEEK_SET), 0);
    fputc(c ^ 0x01, f);
    fclose(f);
    uint8_t before[SWLOG_HASH_BYTES], after[SWLOG_HASH_BYTES];
    content(before);
    swlog_error err = {0};
    int rc = import(p, NULL, &err);
    ck_assert_int_ne(rc, SWLOG_OK);
    ck_assert_uint_eq(err.offset, at);
    char want[64];
    snprintf(want, sizeof want, "offset %llu", (unsigned long long)at);
    ck_assert_msg(strstr(err.msg, want) != NULL && strstr(err.msg,
                                                          "flip.swb"),
                  "%s", err.msg);
    content(after);
    ck_assert_mem_eq(before, after, sizeof before);
    ck_assert_uint_eq(head(), 0);
    ck_assert_uint_eq(inbox_frames(), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 0);
}
END_TEST

START_TEST(torn_tail_is_refused)
{
    const swlog_buf *fr[] = {&hubf[0], &hubf[1]};
    const char *p = bundle("torn.swb", fr, 2);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq(truncate(p, sb.st_size - 5), 0);
    swlog_error err = {0};
    ck_assert_int_eq(import(p, NULL, &err), SWLOG_ESHORT);
    ck_assert_ptr_nonnull(strstr(err.msg, "torn"));
    ck_assert_uint_eq(head(), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 0);
}
END_TEST

START_TEST(untrusted_signer_is_refused)
{
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    test_key(STRANGER, pk, sk);
    mu_cs cs;
    mu_begin();
    mu_upsert("clients", Y, h(9));
    mu_text("name", 0, "mallory");
    mu_seal(&cs, STRANGER, 1, NULL, h(9), 1);
    const swlog_buf *fr[] = {&hubf[0], &cs.body};
    const char *p = bundle("stranger.swb", fr, 2);
    swlog_error err = {0};
    ck_assert_int_eq(import(p, NULL, &err), SWLOG_ESIG);
    ck_assert_msg(strstr(err.msg, "not trusted") != NULL &&
                      strstr(err.msg, "seq 1") != NULL,
                  "%s", err.msg);
    ck_assert_uint_eq(head(), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 0);
    mu_free(&cs);
}
END_TEST

/* The hub feed's cursor rule (agent/README.md "Pull"): a station gets the
 * subset of the hub's frames addressed to it, so seqs increase with gaps;
 * frames at or below the cursor are duplicates; decreasing seqs refused. */
START_TEST(subset_with_gaps_moves_the_cursor)
{
    const swlog_buf *first[] = {&hubf[0], &hubf[1]};
    swlog_error err = {0};
    ck_assert_msg(import(bundle("a.swb", first, 2), NULL, &err) == 0, "%s",
                  err.msg);
    ck_assert_uint_eq(head(), 2);
    const swlog_buf *later[] = {&hubf[3], &hubf[4]};
    bundle_stats st = {0};
    ck_assert_msg(import(bundle("c.swb", later, 2), &st, &err) == 0, "%s",
                  err.msg);
    ck_assert_uint_eq(st.imported, 2);
    ck_assert_uint_eq(head(), 5);
    /* Seq 3 now lies below the cursor: a duplicate, nothing merged. */
    uint8_t before[SWLOG_HASH_BYTES], after[SWLOG_HASH_BYTES];
    content(before);
    const swlog_buf *old[] = {&hubf[2]};
    memset(&st, 0, sizeof st);
    ck_assert_msg(import(bundle("b.swb", old, 1), &st, &err) == 0, "%s",
                  err.msg);
    ck_assert_uint_eq(st.imported, 0);
    ck_assert_uint_eq(st.duplicates, 1);
    content(after);
    ck_assert_mem_eq(before, after, sizeof before);
    /* Decreasing seqs in one bundle are refused whole. */
    const swlog_buf *back[] = {&hubf[4], &hubf[3]};
    ck_assert_int_eq(import(bundle("d.swb", back, 2), NULL, &err),
                     SWLOG_ESEQ);
    ck_assert_msg(strstr(err.msg, "increasing") != NULL &&
                      strstr(err.msg, "seq 4") != NULL,
                  "%s", err.msg);
    ck_assert_uint_eq(head(), 5);
    ck_assert_uint_eq(inbox_frames(), 4);
}
END_TEST

START_TEST(fork_is_refused)
{
    const swlog_buf *first[] = {&hubf[0], &hubf[1]};
    swlog_error err = {0};
    ck_assert_msg(import(bundle("a.swb", first, 2), NULL, &err) == 0, "%s",
                  err.msg);
    const swlog_buf *forked[] = {&hubf[0], &hubf[5]};
    ck_assert_int_eq(import(bundle("f.swb", forked, 2), NULL, &err),
                     SWLOG_EFORK);
    ck_assert_ptr_nonnull(strstr(err.msg, "fork"));
    ck_assert_uint_eq(head(), 2);
}
END_TEST

START_TEST(not_a_bundle_is_refused)
{
    char p[800];
    snprintf(p, sizeof p, "%s/junk.swb", dir);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("this is not a bundle at all, just some text", f);
    fclose(f);
    swlog_error err = {0};
    ck_assert_int_eq(import(p, NULL, &err), SWLOG_EMAGIC);
    ck_assert_ptr_nonnull(strstr(err.msg, "junk.swb"));
}
END_TEST

Suite *bundle_suite(void)
{
    Suite *s = suite_create("bundle");
    TCase *tc = tcase_create("import");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, good_bundle_merges_and_twice_changes_nothing);
    tcase_add_test(tc, flipped_byte_is_refused_with_its_offset);
    tcase_add_test(tc, torn_tail_is_refused);
    tcase_add_test(tc, untrusted_signer_is_refused);
    tcase_add_test(tc, subset_with_gaps_moves_the_cursor);
    tcase_add_test(tc, fork_is_refused);
    tcase_add_test(tc, not_a_bundle_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(bundle_suite());
}
