/* swsync-example: write the log of a synthetic township station, using only
 * swlog.h (FORMAT §3-§5, §7.5, §9). A demo and a source of fuzz seeds.
 *
 * usage: swsync-example [--force] [--time MS] OUT.log
 *
 * The log holds one feed, signed by a fresh station key: three change-sets
 * of made-up social-work records (tables clients and cases; names such as
 * 测试甲 and identity numbers that only look valid), then a checkpoint
 * (FORMAT §7.5) over the ids of those three frames. Real checkpoints are
 * signed by hubs; here the station signs its own so the file shows every
 * kind of frame the demo needs in one feed.
 *
 * Times: every HLC (FORMAT §1.4) has the millisecond MS (default: now) and
 * a logical counter that orders the writes, so a key certified from a time
 * before MS covers every frame. --time makes two runs differ only in the
 * key, the salt and the signatures.
 *
 * Prints the station's public key and one line per frame written. Exit
 * status: 0 written, 1 a library error, 2 bad usage or OUT exists. */
#include "swlog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NFRAMES 4
/* HLC = ms << 16 | counter (§1.4); counters here stay below 2^16. */
static uint64_t base_ms;
#define HLC(tick) ((base_ms << 16) + (uint64_t)(tick))

static const char *const CLIENT_1 = "bc817689-dab6-45c2-a915-fc8d49b920a3";
static const char *const CLIENT_2 = "9aaaecfc-db59-4817-96ec-a1338bc2d8be";
static const char *const CLIENT_3 = "5f0c2a9e-7d41-4c3b-8e6a-2b9d14c7a0f3";
static const char *const CASE_1 = "f12e417c-274f-4de3-9d0f-00c9f0b2fd95";
static const char *const CASE_2 = "38b27cb0-de4a-4444-aae0-b20510327fd8";

static void usage(FILE *to)
{
    fputs("usage: swsync-example [--force] [--time MS] OUT.log\n"
          "Write a synthetic station log: a fresh station key, three\n"
          "change-sets of made-up clients and cases, and a checkpoint.\n"
          "--force replaces OUT.log if it exists. Every HLC has the\n"
          "millisecond MS (Unix time x 1000, default now) and a counter.\n",
          to);
}

static int fail(const char *what, const swlog_error *err)
{
    fprintf(stderr, "swsync-example: %s: %s (%s) at %" PRIu64 ": %s\n", what,
            swlog_code_name(err->code), swlog_code_text(err->code),
            err->offset, err->msg);
    return 1;
}

/* Start an upsert of table/row; the UUIDs above are well formed. */
static int upsert(swlog_cs *cs, const char *table, const char *row,
                  uint64_t hlc, swlog_error *err)
{
    uint8_t id[SWLOG_UUID_BYTES];
    if (swlog_uuid_parse(row, id) != SWLOG_OK)
        return SWLOG_EARG;
    return swlog_cs_upsert(cs, table, id, hlc, err);
}

static int delete(swlog_cs *cs, const char *table, const char *row,
                  uint64_t hlc, uint64_t replaced, swlog_error *err)
{
    uint8_t id[SWLOG_UUID_BYTES];
    if (swlog_uuid_parse(row, id) != SWLOG_OK)
        return SWLOG_EARG;
    return swlog_cs_delete(cs, table, id, hlc, replaced, err);
}

static int text(swlog_cs *cs, const char *column, uint64_t replaced,
                const char *s, swlog_error *err)
{
    swlog_value v = {.type = SWLOG_TEXT, .p = (const uint8_t *)s,
                     .len = strlen(s)};
    return swlog_cs_value(cs, column, replaced, &v, err);
}

static int integer(swlog_cs *cs, const char *column, uint64_t replaced,
                   int64_t i, swlog_error *err)
{
    swlog_value v = {.type = SWLOG_INT, .i = i};
    return swlog_cs_value(cs, column, replaced, &v, err);
}

static int real(swlog_cs *cs, const char *column, uint64_t replaced,
                double r, swlog_error *err)
{
    swlog_value v = {.type = SWLOG_REAL, .r = r};
    return swlog_cs_value(cs, column, replaced, &v, err);
}

static int null(swlog_cs *cs, const char *column, uint64_t replaced,
                swlog_error *err)
{
    swlog_value v = {.type = SWLOG_NULL};
    return swlog_cs_value(cs, column, replaced, &v, err);
}

/* Change-set n (1..3): what a social worker might record over a few days,
 * the days compressed into HLC counter ticks. Each step stops at the first
 * error (they return nonzero codes). */
static int fill(swlog_cs *cs, int n, swlog_error *e)
{
    swlog_cs_reset(cs);
    if (n == 1) {
        return upsert(cs, "clients", CLIENT_1, HLC(1), e) ||
               text(cs, "name", 0, "测试甲", e) ||
               text(cs, "id_number", 0, "110105198503070027", e) ||
               integer(cs, "birth_year", 0, 1985, e) ||
               text(cs, "category", 0, "低保", e) ||
               text(cs, "phone", 0, "13800000001", e) ||
               upsert(cs, "clients", CLIENT_2, HLC(3), e) ||
               text(cs, "name", 0, "测试乙", e) ||
               text(cs, "id_number", 0, "110105199206110031", e) ||
               integer(cs, "birth_year", 0, 1992, e) ||
               text(cs, "category", 0, "残疾人", e) ||
               upsert(cs, "cases", CASE_1, HLC(5), e) ||
               text(cs, "client_id", 0, CLIENT_1, e) ||
               text(cs, "status", 0, "open", e) ||
               text(cs, "summary", 0, "独居老人，需每周探访一次", e) ||
               integer(cs, "opened_ms", 0, (int64_t)base_ms, e);
    }
    if (n == 2) {
        return upsert(cs, "cases", CASE_1, HLC(24 * 60), e) ||
               text(cs, "status", HLC(5), "in_progress", e) ||
               real(cs, "service_hours", 0, 2.5, e) ||
               upsert(cs, "cases", CASE_2, HLC(24 * 60 + 10), e) ||
               text(cs, "client_id", 0, CLIENT_2, e) ||
               text(cs, "status", 0, "open", e) ||
               text(cs, "summary", 0, "申请康复辅具，待评估", e) ||
               integer(cs, "opened_ms", 0,
                       (int64_t)base_ms, e);
    }
    return upsert(cs, "clients", CLIENT_1, HLC(2 * 24 * 60), e) ||
           null(cs, "phone", HLC(1), e) ||
           delete(cs, "cases", CASE_2, HLC(2 * 24 * 60 + 1),
                  HLC(24 * 60 + 10), e) ||
           upsert(cs, "clients", CLIENT_3, HLC(2 * 24 * 60 + 2), e) ||
           text(cs, "name", 0, "测试丙", e) ||
           text(cs, "id_number", 0, "11010519770115004X", e) ||
           integer(cs, "birth_year", 0, 1977, e) ||
           text(cs, "category", 0, "退役军人", e);
}

int main(int argc, char **argv)
{
    const char *out_path = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else if (strcmp(argv[i], "--time") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long long t = strtoull(argv[++i], &end, 10);
            /* 48 bits of milliseconds (§1.4): until the year 10889. */
            if (errno != 0 || *end != '\0' || end == argv[i] ||
                t >= UINT64_C(1) << 48) {
                usage(stderr);
                return 2;
            }
            base_ms = t;
        } else if (argv[i][0] == '-' || out_path != NULL) {
            usage(stderr);
            return 2;
        } else {
            out_path = argv[i];
        }
    }
    if (out_path == NULL) {
        usage(stderr);
        return 2;
    }
    if (base_ms == 0) {
        struct timespec now;
        if (clock_gettime(CLOCK_REALTIME, &now) != 0) {
            fputs("swsync-example: no clock\n", stderr);
            return 1;
        }
        base_ms = (uint64_t)now.tv_sec * 1000u +
                  (uint64_t)now.tv_nsec / 1000000u;
    }
    if (access(out_path, F_OK) == 0) {
        if (!force) {
            fprintf(stderr, "swsync-example: %s exists (--force replaces "
                            "it)\n", out_path);
            return 2;
        }
        if (unlink(out_path) != 0) {
            fprintf(stderr, "swsync-example: cannot remove %s: %s\n",
                    out_path, strerror(errno));
            return 1;
        }
    }
    if (swlog_init() != SWLOG_OK) {
        fputs("swsync-example: libsodium failed to start\n", stderr);
        return 1;
    }

    int rc = 1;
    swlog_error err = {0};
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    uint8_t ids[NFRAMES][SWLOG_HASH_BYTES];
    swlog_buf body;
    swlog_cs *cs = swlog_cs_new();
    swlog_log *log = NULL;
    int created = 0; /* out_path is ours: removed again on failure */
    swlog_buf_init(&body);
    if (cs == NULL) {
        fputs("swsync-example: out of memory\n", stderr);
        goto done;
    }
    if (swlog_key_generate(pk, sk) != SWLOG_OK) {
        fputs("swsync-example: cannot generate a key\n", stderr);
        goto done;
    }
    char hex[2 * SWLOG_HASH_BYTES + 1];
    swlog_hex(pk, sizeof pk, hex);
    printf("station key %s\n", hex);

    if (swlog_log_open(out_path, SWLOG_APPEND | SWLOG_CREATE, &log, &err) !=
        SWLOG_OK) {
        rc = fail(out_path, &err);
        goto done;
    }
    created = 1;

    swlog_head h = {.seq = 1};
    for (int n = 1; n <= NFRAMES; n++) {
        const char *what;
        if (n <= 3) {
            h.hlc = HLC((n - 1) * 24 * 60 + 30);
            what = "change-set";
            if (fill(cs, n, &err) != 0 ||
                swlog_cs_seal(cs, sk, &h, 1, "测试社工A", &body, &err) !=
                    SWLOG_OK) {
                rc = fail(what, &err);
                goto done;
            }
        } else {
            uint8_t root[SWLOG_HASH_BYTES];
            h.hlc = HLC(3 * 24 * 60);
            what = "checkpoint";
            if (swlog_merkle_root((const uint8_t(*)[SWLOG_HASH_BYTES])ids,
                                  NFRAMES - 1, root, &err) != SWLOG_OK ||
                swlog_checkpoint_encode(sk, &h, NFRAMES - 1, root, &body,
                                        &err) != SWLOG_OK) {
                rc = fail(what, &err);
                goto done;
            }
        }
        /* Decode what was encoded: the id chains the next frame (§4.3). */
        swlog_frame f;
        if (swlog_frame_decode(body.p, body.len, 0, &f, &err) != SWLOG_OK) {
            rc = fail("decoding our own frame", &err);
            goto done;
        }
        const uint8_t *bodies[1] = {body.p};
        size_t lens[1] = {body.len};
        if (swlog_log_append(log, bodies, lens, 1, &err) != SWLOG_OK) {
            rc = fail(out_path, &err);
            goto done;
        }
        memcpy(ids[n - 1], f.id, SWLOG_HASH_BYTES);
        swlog_hex(f.id, SWLOG_HASH_BYTES, hex);
        printf("seq %" PRIu64 " %-10s %5zu bytes  id %s\n", h.seq, what,
               body.len, hex);
        memcpy(h.prev, f.id, SWLOG_HASH_BYTES);
        h.seq++;
    }
    printf("wrote %s\n", out_path);
    rc = 0;
done:
    swlog_log_close(log);
    if (rc != 0 && created && unlink(out_path) != 0)
        fprintf(stderr, "swsync-example: cannot remove the partial %s: %s\n",
                out_path, strerror(errno));
    swlog_cs_free(cs);
    swlog_buf_clear(&body);
    swlog_wipe(sk, sizeof sk);
    return rc;
}
