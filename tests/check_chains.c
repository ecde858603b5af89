/* Feed chains and forks (FORMAT §8.1, §8.2) over hand-made frames. */
#include "testutil.h"

#include <string.h>

/* Frame seq of feed `feed`: id derived from (feed, seq, variant), prev the
 * id of seq - 1 of the same variant. */
static void make_frame(swlog_frame *f, unsigned feed, uint64_t seq,
                       unsigned variant)
{
    memset(f, 0, sizeof *f);
    memset(f->signer, 0, sizeof f->signer);
    f->signer[0] = (uint8_t)feed;
    f->signer[31] = (uint8_t)(feed >> 8);
    f->seq = seq;
    uint8_t in[16];
    memset(in, 0, sizeof in);
    in[0] = (uint8_t)feed;
    in[1] = (uint8_t)(feed >> 8);
    in[2] = (uint8_t)variant;
    for (int j = 0; j < 8; j++)
        in[8 + j] = (uint8_t)(seq >> (56 - 8 * j));
    swlog_sha256(in, sizeof in, f->id);
    if (seq > 1) {
        for (int j = 0; j < 8; j++)
            in[8 + j] = (uint8_t)((seq - 1) >> (56 - 8 * j));
        swlog_sha256(in, sizeof in, f->prev);
    }
}

START_TEST(interleaved_feeds)
{
    swlog_chains *c = swlog_chains_new();
    ck_assert_ptr_nonnull(c);
    swlog_frame f;
    /* Three feeds, interleaved; feed 2 starts mid-feed at seq 40. */
    uint64_t next[3] = {1, 40, 1};
    for (int round = 0; round < 30; round++)
        for (unsigned feed = 0; feed < 3; feed++) {
            if ((round + feed) % 3 == 0)
                continue;
            make_frame(&f, feed + 1, next[feed]++, 0);
            ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_OK);
        }
    ck_assert_uint_eq(swlog_chains_count(c), 3);
    for (unsigned feed = 0; feed < 3; feed++) {
        uint64_t seq;
        uint8_t id[32];
        make_frame(&f, feed + 1, next[feed] - 1, 0);
        ck_assert_int_eq(swlog_chains_head(c, f.signer, &seq, id), 1);
        ck_assert_uint_eq(seq, next[feed] - 1);
        ck_assert_mem_eq(id, f.id, 32);
    }
    make_frame(&f, 99, 1, 0);
    ck_assert_int_eq(swlog_chains_head(c, f.signer, NULL, NULL), 0);
    swlog_chains_free(c);
}
END_TEST

START_TEST(gaps_and_repeats)
{
    swlog_chains *c = swlog_chains_new();
    swlog_frame f;
    make_frame(&f, 1, 5, 0);
    ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_OK);
    /* Repeat of the same frame: ESEQ (FORMAT §8.2, inside one file). */
    swlog_error err = {0};
    ck_assert_int_eq(swlog_chains_add(c, &f, &err), SWLOG_ESEQ);
    ck_assert_int_eq(err.code, SWLOG_ESEQ);
    /* Gap, and going back. */
    make_frame(&f, 1, 7, 0);
    ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_ESEQ);
    make_frame(&f, 1, 4, 0);
    ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_ESEQ);
    /* Refusals leave the head alone: 6 still fits. */
    make_frame(&f, 1, 6, 0);
    ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_OK);
    uint64_t seq;
    ck_assert_int_eq(swlog_chains_head(c, f.signer, &seq, NULL), 1);
    ck_assert_uint_eq(seq, 6);
    swlog_chains_free(c);
}
END_TEST

START_TEST(broken_prev)
{
    swlog_chains *c = swlog_chains_new();
    swlog_frame f;
    make_frame(&f, 1, 1, 0);
    ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_OK);
    make_frame(&f, 1, 2, 0);
    f.prev[7] ^= 1;
    ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_ECHAIN);
    /* A frame of another history (variant 1) links to another id. */
    make_frame(&f, 1, 2, 1);
    ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_ECHAIN);
    make_frame(&f, 1, 2, 0);
    ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_OK);
    swlog_chains_free(c);
}
END_TEST

START_TEST(seq_at_the_top)
{
    swlog_chains *c = swlog_chains_new();
    swlog_frame f;
    make_frame(&f, 1, UINT64_MAX, 0);
    ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_OK);
    make_frame(&f, 1, 0, 0);
    ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_ESEQ);
    swlog_chains_free(c);
}
END_TEST

/* Enough feeds to make the table grow several times. */
START_TEST(many_feeds)
{
    swlog_chains *c = swlog_chains_new();
    swlog_frame f;
    for (unsigned feed = 0; feed < 5000; feed++) {
        make_frame(&f, feed, 1, 0);
        ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_OK);
    }
    for (unsigned feed = 0; feed < 5000; feed += 3) {
        make_frame(&f, feed, 2, 0);
        ck_assert_int_eq(swlog_chains_add(c, &f, NULL), SWLOG_OK);
    }
    ck_assert_uint_eq(swlog_chains_count(c), 5000);
    for (unsigned feed = 0; feed < 5000; feed++) {
        uint64_t seq;
        make_frame(&f, feed, 1, 0);
        ck_assert_int_eq(swlog_chains_head(c, f.signer, &seq, NULL), 1);
        ck_assert_uint_eq(seq, feed % 3 == 0 ? 2 : 1);
    }
    swlog_chains_free(c);
    swlog_chains_free(NULL);
}
END_TEST

START_TEST(forks)
{
    swlog_frame a, b;
    make_frame(&a, 1, 3, 0);
    make_frame(&b, 1, 3, 1);
    swlog_error err = {0};
    ck_assert_int_eq(swlog_fork_check(&a, &b, &err), SWLOG_EFORK);
    ck_assert_int_eq(err.code, SWLOG_EFORK);
    /* The same frame twice is not a fork. */
    ck_assert_int_eq(swlog_fork_check(&a, &a, NULL), SWLOG_OK);
    /* Other seq, other feed: not a fork. */
    make_frame(&b, 1, 4, 1);
    ck_assert_int_eq(swlog_fork_check(&a, &b, NULL), SWLOG_OK);
    make_frame(&b, 2, 3, 1);
    ck_assert_int_eq(swlog_fork_check(&a, &b, NULL), SWLOG_OK);
    ck_assert_int_eq(swlog_fork_check(&a, NULL, NULL), SWLOG_EARG);
}
END_TEST

Suite *chains_suite(void)
{
    Suite *s = suite_create("chains");
    TCase *tc = tcase_create("chains");
    tcase_add_test(tc, interleaved_feeds);
    tcase_add_test(tc, gaps_and_repeats);
    tcase_add_test(tc, broken_prev);
    tcase_add_test(tc, seq_at_the_top);
    tcase_add_test(tc, many_feeds);
    tcase_add_test(tc, forks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(chains_suite());
}
