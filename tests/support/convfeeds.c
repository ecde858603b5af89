/* swsync_test_convfeeds: station feeds that edit the same records
 * concurrently, for tests/test_hub_converge.sh (issue 4: convergence across
 * hubs). Writes four FORMAT §3 logs, conv1.log .. conv4.log in DIR, signed
 * by test keys 1..4 (FORMAT §12), change-sets built with swlog_cs_* so the
 * row ids and replaced HLCs are chosen:
 *
 *   station 1: creates rows R1..R4, then edits R1.name and R3.village_code,
 *              creates R5;
 *   station 2: edits R1.name (replaced = R1's birth, like station 1 and 3:
 *              none saw the others), deletes R2 (replaced = its birth),
 *              edits R4.name at the same HLC as station 3 (a tie);
 *   station 3: edits R2.name (races station 2's delete), R1.name, R4.name
 *              (tie), R3.village_code;
 *   station 4: creates R6, edits R5 having seen its birth (no conflict).
 *
 * HLCs start at BASE_MS (milliseconds since 1970; the caller passes a time
 * shortly in the past, so hubs accept them: PROTOCOL §4.2 clock skew).
 * Expected conflicts (MERGE §5): R1.name 3 pairs, R2 delete over R2.name 1,
 * R4.name 1, R3.village_code 1: 6 rows of _sw_conflicts. Synthetic data.
 *
 * usage: swsync_test_convfeeds DIR BASE_MS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "swlog.h"
#include "testutil.h"

#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define NFEEDS 4

static const char *const rows[] = {
    "0190a1b2-0000-7000-8000-000000000001",
    "0190a1b2-0000-7000-8000-000000000002",
    "0190a1b2-0000-7000-8000-000000000003",
    "0190a1b2-0000-7000-8000-000000000004",
    "0190a1b2-0000-7000-8000-000000000005",
    "0190a1b2-0000-7000-8000-000000000006",
};

static uint64_t base_ms;
static swlog_cs *cs;

static void die(const char *what, const swlog_error *err)
{
    fprintf(stderr, "convfeeds: %s: %s: %s\n", what,
            swlog_code_name(err->code), err->msg);
    exit(1);
}

static uint64_t H(unsigned off_ms)
{
    return (base_ms + off_ms) << 16;
}

static void row_id(unsigned r, uint8_t id[SWLOG_UUID_BYTES])
{
    if (swlog_uuid_parse(rows[r - 1], id) != SWLOG_OK) {
        fprintf(stderr, "convfeeds: bad row id %s\n", rows[r - 1]);
        exit(1);
    }
}

static void text(const char *col, uint64_t rep, const char *s)
{
    swlog_error err = {0};
    swlog_value v = {.type = SWLOG_TEXT, .p = (const uint8_t *)s,
                     .len = strlen(s)};
    if (swlog_cs_value(cs, col, rep, &v, &err) != SWLOG_OK)
        die(col, &err);
}

static void upsert(unsigned r, uint64_t hlc)
{
    uint8_t id[SWLOG_UUID_BYTES];
    swlog_error err = {0};
    row_id(r, id);
    if (swlog_cs_upsert(cs, "clients", id, hlc, &err) != SWLOG_OK)
        die("upsert", &err);
}

/* A whole new client (every required column, SCHEMA). */
static void create(unsigned r, uint64_t hlc, const char *name)
{
    swlog_error err = {0};
    upsert(r, hlc);
    text("owner_unit_id", 0, OWNER);
    text("name", 0, name);
    text("gender", 0, "female");
    text("birth_date", 0, "1950-05-05");
    text("id_type", 0, "none");
    text("village_code", 0, "440983102001");
    swlog_value z = {.type = SWLOG_INT, .i = 0};
    if (swlog_cs_value(cs, "birth_estimated", 0, &z, &err) != SWLOG_OK)
        die("birth_estimated", &err);
}

static void del(unsigned r, uint64_t hlc, uint64_t rep)
{
    uint8_t id[SWLOG_UUID_BYTES];
    swlog_error err = {0};
    row_id(r, id);
    if (swlog_cs_delete(cs, "clients", id, hlc, rep, &err) != SWLOG_OK)
        die("delete", &err);
}

/* The open log of one feed and its chain head. */
typedef struct feed {
    swlog_log *log;
    unsigned key;
    uint64_t seq;
    uint8_t prev[SWLOG_HASH_BYTES];
} feed;

static feed feeds[NFEEDS];

/* Seal the change-set built so far as the feed's next frame at hlc. */
static void seal(unsigned station, uint64_t hlc)
{
    feed *fd = &feeds[station - 1];
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    swlog_error err = {0};
    swlog_head h;
    memset(&h, 0, sizeof h);
    h.seq = fd->seq + 1;
    memcpy(h.prev, fd->prev, sizeof h.prev);
    h.hlc = hlc;
    test_key(fd->key, pk, sk);
    swlog_buf out;
    swlog_buf_init(&out);
    if (swlog_cs_seal(cs, sk, &h, SCHEMA_VERSION, "converge test", &out,
                      &err) != SWLOG_OK)
        die("seal", &err);
    swlog_wipe(sk, sizeof sk);
    swlog_frame f;
    if (swlog_frame_decode(out.p, out.len, 0, &f, &err) != SWLOG_OK)
        die("decode", &err);
    memcpy(fd->prev, f.id, sizeof fd->prev);
    fd->seq = h.seq;
    const uint8_t *bp = out.p;
    size_t bl = out.len;
    if (swlog_log_append(fd->log, &bp, &bl, 1, &err) != SWLOG_OK)
        die("append", &err);
    swlog_buf_clear(&out);
    swlog_cs_reset(cs);
}

int main(int argc, char **argv)
{
    if (argc != 3 || swlog_init() != SWLOG_OK) {
        fprintf(stderr, "usage: swsync_test_convfeeds DIR BASE_MS\n");
        return 2;
    }
    base_ms = strtoull(argv[2], NULL, 10);
    if (base_ms < 1000000000000ull) {
        fprintf(stderr, "convfeeds: BASE_MS %s is not a time in ms\n",
                argv[2]);
        return 2;
    }
    cs = swlog_cs_new();
    if (cs == NULL)
        return 1;
    for (unsigned i = 0; i < NFEEDS; i++) {
        char path[4096];
        swlog_error err = {0};
        snprintf(path, sizeof path, "%s/conv%u.log", argv[1], i + 1);
        remove(path);
        if (swlog_log_open(path, SWLOG_APPEND | SWLOG_CREATE, &feeds[i].log,
                           &err) != SWLOG_OK)
            die(path, &err);
        feeds[i].key = i + 1;
    }
    const uint64_t born = H(1);

    /* station 1 */
    for (unsigned r = 1; r <= 4; r++)
        create(r, born, "original");
    seal(1, born);
    upsert(1, H(10));
    text("name", born, "edit by station 1");
    seal(1, H(10));
    create(5, H(20), "second");
    upsert(3, H(20));
    text("village_code", born, "440983102011");
    seal(1, H(20));

    /* station 2 */
    upsert(1, H(12));
    text("name", born, "edit by station 2");
    seal(2, H(12));
    del(2, H(15), born);
    seal(2, H(15));
    upsert(4, H(25));
    text("name", born, "tie by station 2");
    upsert(1, H(25));
    text("gender", born, "male");
    seal(2, H(25));

    /* station 3 */
    upsert(2, H(11));
    text("name", born, "edit racing the delete");
    seal(3, H(11));
    upsert(1, H(13));
    text("name", born, "edit by station 3");
    seal(3, H(13));
    upsert(4, H(25));
    text("name", born, "tie by station 3");
    seal(3, H(25));
    upsert(3, H(30));
    text("village_code", born, "440983102033");
    seal(3, H(30));

    /* station 4 */
    create(6, H(5), "third");
    seal(4, H(5));
    upsert(5, H(40));
    text("name", H(20), "seen and edited by station 4");
    seal(4, H(40));
    upsert(6, H(41));
    text("birth_date", H(5), "1951-06-06");
    seal(4, H(41));

    for (unsigned i = 0; i < NFEEDS; i++) {
        char hex[65];
        uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
        test_key(feeds[i].key, pk, sk);
        swlog_wipe(sk, sizeof sk);
        swlog_hex(pk, sizeof pk, hex);
        printf("conv%u.log %s %llu\n", i + 1, hex,
               (unsigned long long)feeds[i].seq);
        swlog_log_close(feeds[i].log);
    }
    swlog_cs_free(cs);
    return 0;
}
