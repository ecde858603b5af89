/* Test and benchmark helper for swsync-audit: writes a three-tier archive
 * (root, a provincial hub, a county hub, stations) through the library,
 * clean or with one tamper scenario, and prints the root public key.
 * Keys are test keys (FORMAT §12 seeds); the data is synthetic.
 *
 * usage: swsync_test_mkarchive DIR SCENARIO [--stations N]
 *            [--changesets M] [--records R] [--no-hubs]
 * Files: DIR/root.log, DIR/stations/s-NNN.log, DIR/county/ledger.log and
 * DIR/province/ledger.log (hub ledgers: the hub's leaves in storage order,
 * PROTOCOL §4.8, with the hub's own checkpoints, which are not leaves) and
 * DIR/stations/s-001.db (station 1's stored receipts, as its replica holds
 * them), or with --no-hubs DIR/county.log (the county's
 * certificates) instead of the ledgers. SCENARIO is one of: clean,
 * byte-changed, frame-removed, frames-swapped, hub-altered,
 * cp-drops-receipted, cp-inconsistent, wrong-issuer, after-revocation,
 * expired-cert, after-rotation, replayed-bundle, backup-fork, fork-short
 * (the restored station's copy ends below the hubs'), fork-in-file (a
 * bundle holding two frames 6 of station 2), unit-mismatch (station 4
 * numbers one case with station 5's unit code), cert-unit (the county
 * certifies station 3 with a unit code outside its own), receipt-dropped
 * (the county rewrites its history without a frame it receipted to station
 * 1 and re-signs its checkpoints), receipt-bad (a stored inclusion proof
 * damaged), backdated
 * (station 3 revoked as compromised from a time its round-5 frame claims
 * to precede but which the county's checkpoint of it follows). The trace row
 * 00000000-0000-7000-8000-00000000abcd gets a concurrent edit (stations 1
 * and 2) and its resolution. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "swlog.h"

#define BASE_MS 1795392000000ull /* 2026-11-23T00:00:00Z */
#define DAY_MS 86400000ull
#define MAX_STATIONS 1000

typedef struct key {
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    swlog_head head;
} key;

typedef struct frames {
    uint8_t **b;
    size_t *len;
    size_t n, cap;
} frames;

static const char *scenario;
static char units[MAX_STATIONS + 1][32]; /* each station's unit code */
static int is(const char *s)
{
    return strcmp(scenario, s) == 0;
}

static void die(const char *what, const swlog_error *err)
{
    fprintf(stderr, "mkarchive: %s: %s\n", what, err != NULL ? err->msg : "");
    exit(1);
}

static void key_init(unsigned i, key *k)
{
    char text[64];
    uint8_t seed[SWLOG_SEED_BYTES];
    int n = snprintf(text, sizeof text, "swsync test key %u", i);
    swlog_sha256((const uint8_t *)text, (size_t)n, seed);
    swlog_key_from_seed(seed, k->pk, k->sk);
    memset(&k->head, 0, sizeof k->head);
    k->head.seq = 1;
}

static uint64_t hlc_of(uint64_t ms)
{
    return ms << 16;
}

static void push(frames *fs, const uint8_t *b, size_t len)
{
    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 64;
        fs->b = realloc(fs->b, fs->cap * sizeof *fs->b);
        fs->len = realloc(fs->len, fs->cap * sizeof *fs->len);
        if (fs->b == NULL || fs->len == NULL)
            die("out of memory", NULL);
    }
    fs->b[fs->n] = malloc(len);
    if (fs->b[fs->n] == NULL)
        die("out of memory", NULL);
    memcpy(fs->b[fs->n], b, len);
    fs->len[fs->n++] = len;
}

static void frames_free(frames *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->b[i]);
    free(fs->b);
    free(fs->len);
    memset(fs, 0, sizeof *fs);
}

/* The frame just encoded in buf becomes k's head. */
static void advance(key *k, const swlog_buf *buf, uint64_t hlc)
{
    swlog_frame f;
    swlog_error err = {0};
    if (swlog_frame_decode(buf->p, buf->len, SWLOG_DECODE_NO_SIG, &f, &err))
        die("decode", &err);
    k->head.seq++;
    memcpy(k->head.prev, f.id, SWLOG_HASH_BYTES);
    k->head.hlc = hlc;
}

static void frame_id(const uint8_t *b, size_t len, uint8_t id[32])
{
    swlog_frame f;
    swlog_error err = {0};
    if (swlog_frame_decode(b, len, SWLOG_DECODE_NO_SIG, &f, &err))
        die("decode", &err);
    memcpy(id, f.id, 32);
}

static void cert(key *issuer, const key *subject, uint8_t role,
                 const char *unit, uint64_t until, frames *out)
{
    swlog_buf b;
    swlog_buf_init(&b);
    swlog_error err = {0};
    uint64_t hlc = hlc_of(BASE_MS - DAY_MS / 2) + issuer->head.seq;
    issuer->head.hlc = hlc;
    if (swlog_cert_encode(issuer->sk, &issuer->head, subject->pk, role,
                          BASE_MS - DAY_MS, until, unit, &b, &err))
        die("cert", &err);
    advance(issuer, &b, hlc);
    push(out, b.p, b.len);
    swlog_buf_clear(&b);
}

/* A log being written: file and salt. */
typedef struct out {
    FILE *f;
    uint8_t salt[SWLOG_SALT_BYTES];
} out;

static void out_open(out *o, const char *path)
{
    uint8_t hdr[SWLOG_FILE_HEADER_BYTES];
    swlog_random(o->salt, sizeof o->salt);
    swlog_file_header_encode(o->salt, hdr);
    o->f = fopen(path, "wb");
    if (o->f == NULL) {
        fprintf(stderr, "mkarchive: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fwrite(hdr, 1, sizeof hdr, o->f);
}

static void out_put(out *o, const uint8_t *b, size_t len)
{
    uint8_t head[SWLOG_ENVELOPE_HEAD_BYTES], crc[4];
    swlog_envelope_encode(o->salt, b, len, head, crc);
    fwrite(head, 1, sizeof head, o->f);
    fwrite(b, 1, len, o->f);
    fwrite(crc, 1, 4, o->f);
}

static void write_log(const char *path, const frames *fs)
{
    out o;
    out_open(&o, path);
    for (size_t i = 0; i < fs->n; i++)
        out_put(&o, fs->b[i], fs->len[i]);
    if (fclose(o.f) != 0) {
        fprintf(stderr, "mkarchive: %s: write failed\n", path);
        exit(1);
    }
}

static const uint8_t trace_row[16] = {0, 0, 0, 0, 0, 0, 0x70, 0,
                                      0x80, 0, 0, 0, 0, 0, 0xab, 0xcd};

/* Change-set number r (1-based) of station s. */
static void changeset(key *k, unsigned s, unsigned r, unsigned records,
                      const char *author, uint64_t *trace_hlc,
                      swlog_cs *cs, frames *out)
{
    uint64_t hlc = hlc_of(BASE_MS + (uint64_t)r * 60000 + s * 10);
    swlog_error err = {0};
    swlog_cs_reset(cs);
    for (unsigned i = 0; i < records; i++) {
        uint8_t row[16] = {0};
        row[0] = (uint8_t)(s >> 8), row[1] = (uint8_t)s;
        row[2] = (uint8_t)(r >> 8), row[3] = (uint8_t)r;
        row[4] = (uint8_t)(i >> 8), row[5] = (uint8_t)i;
        row[6] = 0x70, row[8] = 0x80;
        uint64_t replaced = 0;
        if (i == 0 && s <= 2 && r <= 3) { /* the traced row */
            memcpy(row, trace_row, 16);
            if (r == 2)
                replaced = trace_hlc[0];      /* both replace s1 r1 */
            if (r == 3 && s == 1)
                replaced = trace_hlc[1];      /* resolves s1 r2 */
            if (r == 3 && s == 2)
                continue;
            if (r == 1 && s == 2)
                continue;
        }
        if (swlog_cs_upsert(cs, "cases", row, hlc, &err))
            die("upsert", &err);
        /* SCHEMA §2 item 4: <unit_code>-<YYYY>-<device_tag>-<seq4>; in
         * unit-mismatch, station 4 numbers one case as another unit's. */
        char case_no[64];
        snprintf(case_no, sizeof case_no, "%s-2026-d1-%04u",
                 is("unit-mismatch") && s == 4 && r == 3 && i == 0
                     ? "4401-05"
                     : units[s],
                 (r * 100 + i) % 10000);
        swlog_value v0 = {SWLOG_TEXT, 0, 0, (const uint8_t *)case_no,
                          strlen(case_no)};
        if (swlog_cs_value(cs, "case_no", 0, &v0, &err))
            die("value", &err);
        char name[32], note[32];
        snprintf(name, sizeof name, "person %u-%u-%u", s, r, i);
        snprintf(note, sizeof note, "note %u", r * 7 + i);
        swlog_value v1 = {SWLOG_TEXT, 0, 0, (const uint8_t *)name,
                          strlen(name)};
        swlog_value v2 = {SWLOG_INT, (int64_t)(r * 1000 + i), 0, NULL, 0};
        swlog_value v3 = {SWLOG_TEXT, 0, 0, (const uint8_t *)note,
                          strlen(note)};
        if (swlog_cs_value(cs, "name", 0, &v1, &err) ||
            swlog_cs_value(cs, "visits", 0, &v2, &err) ||
            swlog_cs_value(cs, "zz_note", replaced, &v3, &err))
            die("value", &err);
    }
    if (s == 1 && r <= 2)
        trace_hlc[r - 1] = hlc;
    swlog_buf b;
    swlog_buf_init(&b);
    k->head.hlc = hlc;
    if (swlog_cs_seal(cs, k->sk, &k->head, 1, author, &b, &err))
        die("seal", &err);
    advance(k, &b, hlc);
    push(out, b.p, b.len);
    swlog_buf_clear(&b);
}

/* Append a hub checkpoint over ledger: all its frames so far but the
 * hub's own checkpoints (PROTOCOL §4.8). */
static void checkpoint(key *hub, frames *ledger, uint64_t hlc, int corrupt)
{
    size_t n = 0;
    uint8_t(*leaves)[32] = malloc((ledger->n + 1) * 32);
    if (leaves == NULL)
        die("out of memory", NULL);
    for (size_t i = 0; i < ledger->n; i++) {
        const uint8_t *b = ledger->b[i];
        if (b[0] == SWLOG_TYPE_CHECKPOINT && memcmp(b + 4, hub->pk, 32) == 0)
            continue;
        frame_id(b, ledger->len[i], leaves[n++]);
    }
    if (corrupt && n > 2)
        memset(leaves[n / 2], 0x5a, 32); /* another history */
    uint8_t root[32];
    swlog_error err = {0};
    if (swlog_merkle_root((const uint8_t(*)[32])leaves, n, root, &err))
        die("merkle", &err);
    free(leaves);
    swlog_buf b;
    swlog_buf_init(&b);
    hub->head.hlc = hlc;
    if (swlog_checkpoint_encode(hub->sk, &hub->head, n, root, &b, &err))
        die("checkpoint", &err);
    advance(hub, &b, hlc);
    push(ledger, b.p, b.len);
    swlog_buf_clear(&b);
}

/* Change the last byte of a change-set's payload (a digit of the last
 * record's note); with rehash, recompute the payload hash too, as a hub
 * that cannot re-sign would. */
static void alter(uint8_t *b, size_t len, int rehash)
{
    b[len - 1] = b[len - 1] == '1' ? '2' : '1';
    if (rehash) {
        uint16_t hl = (uint16_t)(b[2] << 8 | b[3]);
        uint32_t pl = (uint32_t)b[84] << 24 | (uint32_t)b[85] << 16 |
                      (uint32_t)b[86] << 8 | b[87];
        swlog_hash_ctx(SWLOG_CTX_PAYLOAD, b + hl + 64, pl, b + 88);
    }
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Receipts station 1 holds (PROTOCOL §4.4), as agent/client/state.c
 * stores them: the county's checkpoint after each round, and for each of
 * station 1's frames under it the leaf index and inclusion proof. */
typedef struct receipt {
    uint64_t seq, leaf, tree_size;
    uint8_t id[32], cp_id[32];
    uint8_t proof[SWLOG_MAX_PROOF][32];
    size_t proof_len;
    size_t cp; /* index into the stored checkpoints */
} receipt;
static receipt *rcpts;
static size_t nrcpts;
static frames rcpt_cps; /* the checkpoint frames */

static void take_receipts(const key *county, const key *station,
                          const frames *ledger)
{
    uint8_t(*leaves)[32] = malloc((ledger->n + 1) * 32);
    size_t *at = malloc((ledger->n + 1) * sizeof *at);
    size_t n = 0;
    if (leaves == NULL || at == NULL)
        die("out of memory", NULL);
    for (size_t i = 0; i < ledger->n; i++) {
        const uint8_t *b = ledger->b[i];
        if (b[0] == SWLOG_TYPE_CHECKPOINT && memcmp(b + 4, county->pk, 32) == 0)
            continue;
        at[n] = i;
        frame_id(b, ledger->len[i], leaves[n++]);
    }
    const uint8_t *cpb = ledger->b[ledger->n - 1];
    size_t cpl = ledger->len[ledger->n - 1];
    push(&rcpt_cps, cpb, cpl);
    uint64_t done = nrcpts > 0 ? rcpts[nrcpts - 1].seq : 0;
    for (size_t k = 0; k < n; k++) {
        const uint8_t *b = ledger->b[at[k]];
        if (memcmp(b + 4, station->pk, 32) != 0 || be64(b + 36) <= done)
            continue;
        receipt *r = realloc(rcpts, (nrcpts + 1) * sizeof *r);
        if (r == NULL)
            die("out of memory", NULL);
        rcpts = r;
        r = &rcpts[nrcpts++];
        memset(r, 0, sizeof *r);
        r->seq = be64(b + 36);
        r->leaf = k;
        r->tree_size = n;
        memcpy(r->id, leaves[k], 32);
        frame_id(cpb, cpl, r->cp_id);
        r->cp = rcpt_cps.n - 1;
        swlog_error err = {0};
        swlog_frame cf;
        if (swlog_merkle_inclusion((const uint8_t(*)[32])leaves, n, k,
                                   r->proof, &r->proof_len, &err) ||
            swlog_frame_decode(cpb, cpl, 0, &cf, &err))
            die("proof", &err);
        /* A station refuses a receipt whose proof fails (agent/client/
         * push.c): cp-inconsistent's last checkpoint gives none. */
        if (swlog_merkle_inclusion_verify(
                r->id, k, n, (const uint8_t(*)[32])r->proof, r->proof_len,
                cf.u.checkpoint.root, NULL) != SWLOG_OK)
            nrcpts--;
    }
    free(leaves);
    free(at);
}

static void write_receipts(const char *path, const key *county,
                           const key *station)
{
    sqlite3 *db;
    sqlite3_stmt *c = NULL, *r = NULL;
    char hub[65], feed[65], id[65];
    remove(path);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE TABLE _sw_checkpoints(hub TEXT NOT NULL, id TEXT "
                     "NOT NULL, tree_size INTEGER NOT NULL, body BLOB NOT "
                     "NULL, received_ms INTEGER, PRIMARY KEY(hub, id));"
                     "CREATE TABLE _sw_receipts(hub TEXT NOT NULL, feed TEXT "
                     "NOT NULL, seq INTEGER NOT NULL, frame_id TEXT NOT NULL,"
                     " checkpoint TEXT NOT NULL, leaf_index INTEGER NOT NULL,"
                     " tree_size INTEGER NOT NULL, proof BLOB NOT NULL, "
                     "PRIMARY KEY(hub, feed, seq)); BEGIN",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO _sw_checkpoints VALUES("
                               "?1, ?2, 0, ?3, 0)", -1, &c, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO _sw_receipts VALUES(?1, ?2, ?3, "
                               "?4, ?5, ?6, ?7, ?8)", -1, &r, NULL))
        die("receipts database", NULL);
    /* The hub column is the hub's URL (agent/client/README.md). */
    snprintf(hub, sizeof hub, "https://county.example:8443");
    (void)county;
    swlog_hex(station->pk, 32, feed);
    for (size_t i = 0; i < rcpt_cps.n; i++) {
        uint8_t cid[32];
        frame_id(rcpt_cps.b[i], rcpt_cps.len[i], cid);
        swlog_hex(cid, 32, id);
        sqlite3_bind_text(c, 1, hub, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(c, 2, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(c, 3, rcpt_cps.b[i], (int)rcpt_cps.len[i],
                          SQLITE_TRANSIENT);
        if (sqlite3_step(c) != SQLITE_DONE)
            die("storing a checkpoint", NULL);
        sqlite3_reset(c);
    }
    for (size_t i = 0; i < nrcpts; i++) {
        const receipt *x = &rcpts[i];
        sqlite3_bind_text(r, 1, hub, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(r, 2, feed, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(r, 3, (sqlite3_int64)x->seq);
        swlog_hex(x->id, 32, id);
        sqlite3_bind_text(r, 4, id, -1, SQLITE_TRANSIENT);
        swlog_hex(x->cp_id, 32, id);
        sqlite3_bind_text(r, 5, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(r, 6, (sqlite3_int64)x->leaf);
        sqlite3_bind_int64(r, 7, (sqlite3_int64)x->tree_size);
        sqlite3_bind_blob(r, 8, x->proof, (int)(x->proof_len * 32),
                          SQLITE_TRANSIENT);
        if (sqlite3_step(r) != SQLITE_DONE)
            die("storing a receipt", NULL);
        sqlite3_reset(r);
    }
    sqlite3_finalize(c);
    sqlite3_finalize(r);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_close(db) != SQLITE_OK)
        die("receipts database", NULL);
}

static void mkdirs(const char *dir, const char *sub)
{
    char p[4096];
    snprintf(p, sizeof p, "%s%s", dir, sub);
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "mkarchive: %s: %s\n", p, strerror(errno));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: swsync_test_mkarchive DIR SCENARIO [--stations N] "
              "[--changesets M] [--records R] [--no-hubs]\n",
              stderr);
        return 2;
    }
    const char *dir = argv[1];
    scenario = argv[2];
    unsigned ns = 6, nc = 8, nr = 3;
    int hubs = 1;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--stations") == 0 && i + 1 < argc)
            ns = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--changesets") == 0 && i + 1 < argc)
            nc = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            nr = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-hubs") == 0)
            hubs = 0;
        else {
            fprintf(stderr, "mkarchive: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (ns < 6 || ns > MAX_STATIONS || nc < 8 || nr < 1 || nr > 5000) {
        fputs("mkarchive: need 6..1000 stations, >= 8 change-sets, "
              "1..5000 records\n",
              stderr);
        return 2;
    }
    if (swlog_init() != SWLOG_OK)
        return 1;
    mkdirs(dir, "");
    mkdirs(dir, "/stations");
    if (hubs) {
        mkdirs(dir, "/county");
        mkdirs(dir, "/province");
    }

    key root, prov, county;
    key_init(100, &root);
    key_init(101, &prov);
    key_init(102, &county);
    key *st = calloc(ns + 1, sizeof *st);
    if (st == NULL)
        return 1;
    for (unsigned s = 1; s <= ns; s++)
        key_init(200 + s, &st[s]);
    key succ;
    key_init(305, &succ);

    uint64_t until = BASE_MS + 365 * DAY_MS;
    frames rootf = {0}, countyf = {0}, provf = {0};
    cert(&root, &root, SWLOG_ROLE_ROOT, "44", BASE_MS + 3650 * DAY_MS,
         &rootf);
    cert(&root, &prov, SWLOG_ROLE_PROVINCE, "4400", until, &rootf);
    cert(&root, &county, SWLOG_ROLE_COUNTY, "4401", until, &rootf);
    for (unsigned s = 1; s <= ns; s++) {
        char *unit = units[s];
        snprintf(units[s], sizeof units[s], "4401-%02u", s);
        if (is("cert-unit") && s == 3) /* outside the county's 4401 */
            snprintf(units[s], sizeof units[s], "4402-%02u", s);
        uint64_t u = until;
        if (is("expired-cert") && s == 4)
            u = BASE_MS + 6 * 60000; /* frames from round 6 on */
        if (is("wrong-issuer") && s == 2)
            cert(&prov, &st[s], SWLOG_ROLE_STATION, unit, u, &provf);
        else
            cert(&county, &st[s], SWLOG_ROLE_STATION, unit, u, &countyf);
    }
    if (is("after-revocation") || is("backdated")) {
        swlog_buf b;
        swlog_buf_init(&b);
        swlog_error err = {0};
        uint64_t hlc = hlc_of(BASE_MS + 30000);
        county.head.hlc = hlc;
        /* backdated: revoked from a time between station 3's round-5
         * frame's claimed time and the county's checkpoint of round 5 */
        uint64_t from_seq = is("backdated") ? 0 : 5;
        uint64_t from_time = is("backdated") ? BASE_MS + 320000 : 0;
        if (swlog_revocation_encode(county.sk, &county.head, st[3].pk,
                                    from_seq, from_time,
                                    SWLOG_REASON_COMPROMISED, &b, &err))
            die("revoke", &err);
        advance(&county, &b, hlc);
        push(&countyf, b.p, b.len);
        swlog_buf_clear(&b);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/root.log", dir);
    write_log(path, &rootf);

    /* Stations' own logs; the ledger receives each round's frames. */
    frames *sf = calloc(ns + 1, sizeof *sf);
    out *direct = NULL; /* --no-hubs: stations' frames go straight out */
    if (!hubs) {
        direct = calloc(ns + 1, sizeof *direct);
        for (unsigned s = 1; s <= ns; s++) {
            snprintf(path, sizeof path, "%s/stations/s-%03u.log", dir, s);
            out_open(&direct[s], path);
        }
    }
    frames cled = {0}, succf = {0};
    for (size_t i = 0; i < rootf.n; i++)
        push(&cled, rootf.b[i], rootf.len[i]);
    for (size_t i = 0; i < countyf.n; i++)
        push(&cled, countyf.b[i], countyf.len[i]);
    swlog_cs *cs = swlog_cs_new();
    uint64_t trace_hlc[2] = {0, 0};
    uint8_t *drop = NULL;
    size_t drop_len = 0;
    key county_start = county; /* for receipt-dropped's rewrite */
    for (unsigned r = 1; r <= nc; r++) {
        for (unsigned s = 1; s <= ns; s++) {
            size_t before = sf[s].n;
            if (is("after-rotation") && s == 5 && r == 5) {
                swlog_buf b;
                swlog_buf_init(&b);
                swlog_error err = {0};
                uint64_t hlc = hlc_of(BASE_MS + r * 60000ull + s * 10);
                st[s].head.hlc = hlc;
                if (swlog_rotation_encode(st[s].sk, succ.sk, &st[s].head, &b,
                                          &err))
                    die("rotate", &err);
                advance(&st[s], &b, hlc);
                push(&sf[s], b.p, b.len);
                swlog_buf_clear(&b);
            } else {
                changeset(&st[s], s, r, nr, "worker", trace_hlc, cs, &sf[s]);
            }
            if (is("after-rotation") && s == 5 && r == 6)
                changeset(&succ, 5, r, nr, "worker", trace_hlc, cs, &succf);
            if (!hubs) {
                for (size_t i = before; i < sf[s].n; i++) {
                    out_put(&direct[s], sf[s].b[i], sf[s].len[i]);
                    free(sf[s].b[i]);
                }
                sf[s].n = before;
                continue;
            }
            for (size_t i = before; i < sf[s].n; i++) {
                push(&cled, sf[s].b[i], sf[s].len[i]);
                if (is("hub-altered") && s == 1 && r == 3)
                    alter(cled.b[cled.n - 1], cled.len[cled.n - 1], 1);
            }
            if (s == 5 && r == 6 && succf.n > 0)
                push(&cled, succf.b[0], succf.len[0]);
        }
        if (hubs) {
            checkpoint(&county, &cled,
                       hlc_of(BASE_MS + r * 60000ull + 30000),
                       is("cp-inconsistent") && r == nc);
            take_receipts(&county, &st[1], &cled);
        }
    }
    if (hubs && is("receipt-dropped")) {
        /* The county rewrites its history without station 1's last frame,
         * signs its checkpoints again with the same seqs, and goes on:
         * only station 1's receipts still show the first history. */
        frames nl = {0};
        key c2 = county_start;
        for (size_t i = 0; i < cled.n; i++) {
            const uint8_t *b = cled.b[i];
            if (b[0] == SWLOG_TYPE_CHECKPOINT &&
                memcmp(b + 4, county.pk, 32) == 0)
                checkpoint(&c2, &nl, be64(b + 76), 0);
            else if (!(memcmp(b + 4, st[1].pk, 32) == 0 && be64(b + 36) == nc))
                push(&nl, b, cled.len[i]);
        }
        checkpoint(&c2, &nl, hlc_of(BASE_MS + (nc + 1) * 60000ull), 0);
        frames_free(&cled);
        cled = nl;
        county = c2;
    }
    if (hubs && is("receipt-bad") && nrcpts > 3 && rcpts[3].proof_len > 0)
        rcpts[3].proof[0][0] ^= 1; /* station 1's seq 4 */
    if (hubs && is("cp-drops-receipted")) {
        /* The hub removes station 1's last frame, which its last
         * checkpoint covered, and checkpoints again. */
        for (size_t i = cled.n; i-- > 0;) {
            swlog_frame f;
            swlog_error err = {0};
            swlog_frame_decode(cled.b[i], cled.len[i], SWLOG_DECODE_NO_SIG,
                               &f, &err);
            if (memcmp(f.signer, st[1].pk, 32) == 0) {
                drop = cled.b[i];
                drop_len = cled.len[i];
                memmove(&cled.b[i], &cled.b[i + 1],
                        (cled.n - i - 1) * sizeof *cled.b);
                memmove(&cled.len[i], &cled.len[i + 1],
                        (cled.n - i - 1) * sizeof *cled.len);
                cled.n--;
                break;
            }
        }
        checkpoint(&county, &cled, hlc_of(BASE_MS + (nc + 1) * 60000ull), 0);
    }
    (void)drop_len;
    free(drop);

    /* Tampering with station 1's own log, or station 6 restored from an
     * old backup (after round 5) signing seq 6.. again. */
    frames *s1 = &sf[1];
    if (is("byte-changed"))
        alter(s1->b[2], s1->len[2], 0);
    if (is("frame-removed")) {
        free(s1->b[3]);
        memmove(&s1->b[3], &s1->b[4], (s1->n - 4) * sizeof *s1->b);
        memmove(&s1->len[3], &s1->len[4], (s1->n - 4) * sizeof *s1->len);
        s1->n--;
    }
    if (is("frames-swapped")) {
        uint8_t *t = s1->b[3];
        size_t l = s1->len[3];
        s1->b[3] = s1->b[4], s1->len[3] = s1->len[4];
        s1->b[4] = t, s1->len[4] = l;
    }
    if (is("backup-fork") || is("fork-short")) {
        /* fork-short: the restored station signs two frames only, so its
         * copy ends below the hubs' copies. */
        key *k = &st[6];
        for (size_t i = 5; i < sf[6].n; i++)
            free(sf[6].b[i]);
        sf[6].n = 5;
        frame_id(sf[6].b[4], sf[6].len[4], k->head.prev);
        k->head.seq = 6;
        for (unsigned r = 6; r <= (is("fork-short") ? 7 : nc); r++)
            changeset(k, 6, r, nr, "restored", trace_hlc, cs, &sf[6]);
    }
    if (is("fork-in-file")) {
        /* A bundle of station 2's frames 1..6, then another frame 6. */
        frames fb = {0};
        key k2 = st[2];
        for (size_t i = 0; i < 6; i++)
            push(&fb, sf[2].b[i], sf[2].len[i]);
        frame_id(sf[2].b[4], sf[2].len[4], k2.head.prev);
        k2.head.seq = 6;
        changeset(&k2, 2, 6, nr, "restored", trace_hlc, cs, &fb);
        snprintf(path, sizeof path, "%s/bundle-fork.log", dir);
        write_log(path, &fb);
        frames_free(&fb);
    }
    swlog_cs_free(cs);

    for (unsigned s = 1; s <= ns && direct != NULL; s++)
        if (fclose(direct[s].f) != 0)
            die("write failed", NULL);
    for (unsigned s = 1; s <= ns && direct == NULL; s++) {
        snprintf(path, sizeof path, "%s/stations/s-%03u.log", dir, s);
        if (is("after-rotation") && s == 5)
            for (size_t i = 0; i < succf.n; i++)
                push(&sf[s], succf.b[i], succf.len[i]);
        write_log(path, &sf[s]);
    }
    if (is("replayed-bundle")) {
        frames old = {0};
        for (size_t i = 0; i < 4; i++)
            push(&old, sf[1].b[i], sf[1].len[i]);
        snprintf(path, sizeof path, "%s/bundle-old.log", dir);
        write_log(path, &old);
        frames_free(&old);
    }
    if (!hubs) {
        snprintf(path, sizeof path, "%s/county.log", dir);
        write_log(path, &countyf);
        if (provf.n > 0) {
            snprintf(path, sizeof path, "%s/province.log", dir);
            write_log(path, &provf);
        }
    } else {
        snprintf(path, sizeof path, "%s/county/ledger.log", dir);
        write_log(path, &cled);
        snprintf(path, sizeof path, "%s/stations/s-001.db", dir);
        write_receipts(path, &county, &st[1]);
        /* The province relays what the county holds, then checkpoints. */
        frames pled = {0};
        for (size_t i = 0; i < provf.n; i++)
            push(&pled, provf.b[i], provf.len[i]);
        for (size_t i = 0; i < cled.n; i++)
            push(&pled, cled.b[i], cled.len[i]);
        checkpoint(&prov, &pled, hlc_of(BASE_MS + (nc + 2) * 60000ull), 0);
        snprintf(path, sizeof path, "%s/province/ledger.log", dir);
        write_log(path, &pled);
        frames_free(&pled);
    }
    for (unsigned s = 0; s <= ns; s++)
        frames_free(&sf[s]);
    frames_free(&rootf);
    frames_free(&countyf);
    frames_free(&provf);
    frames_free(&cled);
    frames_free(&succf);
    frames_free(&rcpt_cps);
    free(rcpts);
    free(sf);
    free(st);
    free(direct);
    char hex[65];
    swlog_hex(root.pk, 32, hex);
    printf("%s\n", hex);
    return 0;
}
