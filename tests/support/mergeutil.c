/* Hand-built change-sets for tests (mergeutil.h). */
#include "mergeutil.h"

#include <check.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

static swlog_cs *builder;

void mu_begin(void)
{
    if (builder == NULL)
        builder = swlog_cs_new();
    ck_assert_ptr_nonnull(builder);
    swlog_cs_reset(builder);
}

void mu_upsert(const char *table, const char *row, uint64_t hlc)
{
    uint8_t id[SWLOG_UUID_BYTES];
    swlog_error err = {0};
    ck_assert_int_eq(swlog_uuid_parse(row, id), SWLOG_OK);
    ck_assert_msg(swlog_cs_upsert(builder, table, id, hlc, &err) == SWLOG_OK,
                  "%s", err.msg);
}

static void value(const char *col, uint64_t rep, const swlog_value *v)
{
    swlog_error err = {0};
    ck_assert_msg(swlog_cs_value(builder, col, rep, v, &err) == SWLOG_OK,
                  "%s", err.msg);
}

void mu_text(const char *col, uint64_t rep, const char *text)
{
    swlog_value v = {.type = SWLOG_TEXT, .p = (const uint8_t *)text,
                     .len = strlen(text)};
    value(col, rep, &v);
}

void mu_int(const char *col, uint64_t rep, int64_t i)
{
    swlog_value v = {.type = SWLOG_INT, .i = i};
    value(col, rep, &v);
}

void mu_null(const char *col, uint64_t rep)
{
    swlog_value v = {.type = SWLOG_NULL};
    value(col, rep, &v);
}

void mu_real(const char *col, uint64_t rep, double r)
{
    swlog_value v = {.type = SWLOG_REAL, .r = r};
    value(col, rep, &v);
}

void mu_delete(const char *table, const char *row, uint64_t hlc, uint64_t rep)
{
    uint8_t id[SWLOG_UUID_BYTES];
    swlog_error err = {0};
    ck_assert_int_eq(swlog_uuid_parse(row, id), SWLOG_OK);
    ck_assert_msg(swlog_cs_delete(builder, table, id, hlc, rep, &err) ==
                      SWLOG_OK,
                  "%s", err.msg);
}

void mu_seal(mu_cs *out, unsigned key, uint64_t seq,
             const uint8_t prev[SWLOG_HASH_BYTES], uint64_t frame_hlc,
             uint32_t schema_version)
{
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    swlog_error err = {0};
    swlog_head h = {.seq = seq, .hlc = frame_hlc};
    if (prev != NULL)
        memcpy(h.prev, prev, SWLOG_HASH_BYTES);
    test_key(key, pk, sk);
    swlog_buf_init(&out->body);
    ck_assert_msg(swlog_cs_seal(builder, sk, &h, schema_version, "tester",
                                &out->body, &err) == SWLOG_OK,
                  "%s", err.msg);
    ck_assert_msg(swlog_frame_decode(out->body.p, out->body.len, 0, &out->f,
                                     &err) == SWLOG_OK,
                  "%s", err.msg);
}

void mu_free(mu_cs *c)
{
    swlog_buf_clear(&c->body);
}

uint64_t mu_now_hlc(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return ms << 16;
}
