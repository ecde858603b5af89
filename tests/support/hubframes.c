/* swsync_test_hubframes: frames and bundles for the hub's tests
 * (tests/test_hub.sh): sealed feeds of test keys (FORMAT §12), bundles
 * (FORMAT §3 files) of chosen frames, forged and damaged frames. Not a
 * product tool; the data is synthetic.
 *
 * usage: swsync_test_hubframes pub KEYNO
 *        swsync_test_hubframes seal DB LOG KEYNO N   (N change-sets)
 *        swsync_test_hubframes id LOG SEQ
 *        swsync_test_hubframes bundle OUT LOG FROM TO
 *        swsync_test_hubframes cat OUT BUNDLE...
 *        swsync_test_hubframes forge OUT KEYNO SEQ PREVHEX|0 MS [AUTHOR]
 *        swsync_test_hubframes mutate OUT IN sig|trail|signer KEYNO
 *        swsync_test_hubframes append LOG BUNDLE   (as a crash would leave)
 *        swsync_test_hubframes count FILE
 *        swsync_test_hubframes rotate OUT LOG OLDKEYNO NEWKEYNO MS
 *            (the rotation frame after LOG's last frame, FORMAT §7.3)
 *        swsync_test_hubframes consist LEDGER PROOFS [SIZE ROOTHEX]
 *            (PROOFS: lines "M N HASH..."; each RFC 9162 consistency proof
 *            checked by format/'s verifier against the roots of the
 *            ledger's first M and N leaves; SIZE ROOTHEX: also that root) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica.h"
#include "seal.h"
#include "testutil.h"

#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

static int die(const char *what, const swlog_error *err)
{
    fprintf(stderr, "hubframes: %s: %s: %s\n", what,
            swlog_code_name(err->code), err->msg);
    exit(1);
}

typedef struct bodies {
    uint8_t **p;
    size_t *len;
    size_t n;
} bodies;

static void add(bodies *b, const uint8_t *p, size_t len)
{
    b->p = realloc(b->p, (b->n + 1) * sizeof *b->p);
    b->len = realloc(b->len, (b->n + 1) * sizeof *b->len);
    if (b->p == NULL || b->len == NULL)
        abort();
    b->p[b->n] = malloc(len + 1);
    memcpy(b->p[b->n], p, len);
    b->len[b->n++] = len;
}

static void drop(bodies *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->p[i]);
    free(b->p);
    free(b->len);
    memset(b, 0, sizeof *b);
}

/* Every frame of a log or bundle file, optionally only seq in [from, to]. */
static void read_file(const char *path, bodies *b, uint64_t from,
                      uint64_t to)
{
    swlog_log *log;
    swlog_error err = {0};
    if (swlog_log_open(path, SWLOG_READ, &log, &err) != SWLOG_OK)
        die(path, &err);
    const uint8_t *body;
    size_t len;
    uint64_t off;
    int r;
    while ((r = swlog_log_next(log, &body, &len, &off, &err)) == 1) {
        swlog_frame f;
        if (swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &f, NULL) ==
                SWLOG_OK &&
            (f.seq < from || f.seq > to))
            continue;
        add(b, body, len);
    }
    if (r < 0)
        die(path, &err);
    swlog_log_close(log);
}

static void write_bundle(const char *path, const bodies *b)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL) {
        perror(path);
        exit(1);
    }
    uint8_t salt[SWLOG_SALT_BYTES], hdr[SWLOG_FILE_HEADER_BYTES];
    swlog_random(salt, sizeof salt);
    swlog_file_header_encode(salt, hdr);
    fwrite(hdr, 1, sizeof hdr, fp);
    for (size_t i = 0; i < b->n; i++) {
        uint8_t head[SWLOG_ENVELOPE_HEAD_BYTES], crc[4];
        swlog_envelope_encode(salt, b->p[i], b->len[i], head, crc);
        fwrite(head, 1, sizeof head, fp);
        fwrite(b->p[i], 1, b->len[i], fp);
        fwrite(crc, 1, sizeof crc, fp);
    }
    if (fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
}

static int seal(const char *db, const char *logp, unsigned keyno,
                unsigned long n)
{
    replica *r = NULL;
    swlog_error err = {0};
    if (replica_open(db, &r, &err) != SWLOG_OK)
        die("replica", &err);
    sqlite3 *h = replica_db(r);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h,
                           "INSERT INTO clients(id, owner_unit_id, name, "
                           "gender, birth_date, id_type, village_code, "
                           "birth_estimated) VALUES(?1, '" OWNER "', ?2, "
                           "'male', '1960-01-01', 'none', '440983102001', 0)",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "hubframes: %s\n", sqlite3_errmsg(h));
        return 1;
    }
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    test_key(keyno, pk, sk);
    seal_stats sst = {0};
    sealer *s = NULL;
    if (seal_open(r, logp, sk, NULL, &s, &sst, &err) != SWLOG_OK)
        die("seal", &err);
    /* One record a change-set: n frames. */
    for (unsigned long i = 0; i < n; i++) {
        if (replica_begin(r, &err) != SWLOG_OK)
            die("begin", &err);
        char id[37], name[32];
        replica_uuid7_text(id);
        snprintf(name, sizeof name, "record %lu", i);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "hubframes: %s\n", sqlite3_errmsg(h));
            return 1;
        }
        sqlite3_reset(st);
        if (replica_commit(r, &err) != SWLOG_OK)
            die("commit", &err);
        if (seal_run(s, &sst, &err) != SWLOG_OK)
            die("seal", &err);
    }
    sqlite3_finalize(st);
    seal_close(s);
    swlog_wipe(sk, sizeof sk);
    replica_close(r);
    printf("%llu\n", (unsigned long long)sst.changesets);
    return 0;
}

static int forge(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
    test_key((unsigned)atoi(argv[3]), pk, sk);
    swlog_head h;
    memset(&h, 0, sizeof h);
    h.seq = strtoull(argv[4], NULL, 10);
    if (strcmp(argv[5], "0") != 0) {
        size_t n;
        uint8_t *p = hex_decode(argv[5], &n);
        if (p == NULL || n != 32)
            return 2;
        memcpy(h.prev, p, 32);
        free(p);
    }
    h.hlc = strtoull(argv[6], NULL, 10) << 16;
    swlog_error err = {0};
    swlog_cs *cs = swlog_cs_new();
    uint8_t row[SWLOG_UUID_BYTES];
    replica_uuid7(row);
    swlog_value v = {SWLOG_TEXT, 0, 0, (const uint8_t *)"forged", 6};
    if (swlog_cs_upsert(cs, "clients", row, h.hlc, &err) != SWLOG_OK ||
        swlog_cs_value(cs, "name", 0, &v, &err) != SWLOG_OK)
        die("forge", &err);
    swlog_buf out;
    swlog_buf_init(&out);
    if (swlog_cs_seal(cs, sk, &h, 1, argc > 7 ? argv[7] : "forger", &out,
                      &err) != SWLOG_OK)
        die("forge", &err);
    bodies b = {0};
    add(&b, out.p, out.len);
    write_bundle(argv[2], &b);
    drop(&b);
    swlog_cs_free(cs);
    swlog_buf_clear(&out);
    return 0;
}

static int rotate(int argc, char **argv)
{
    if (argc != 7)
        return 2;
    bodies b = {0};
    read_file(argv[3], &b, 0, UINT64_MAX);
    swlog_frame f;
    if (b.n == 0 || swlog_frame_decode(b.p[b.n - 1], b.len[b.n - 1], 0, &f,
                                       NULL) != SWLOG_OK)
        return 1;
    uint8_t opk[SWLOG_PUBKEY_BYTES], osk[SWLOG_SECKEY_BYTES];
    uint8_t npk[SWLOG_PUBKEY_BYTES], nsk[SWLOG_SECKEY_BYTES];
    test_key((unsigned)atoi(argv[4]), opk, osk);
    test_key((unsigned)atoi(argv[5]), npk, nsk);
    swlog_head h;
    h.seq = f.seq + 1;
    memcpy(h.prev, f.id, sizeof h.prev);
    h.hlc = strtoull(argv[6], NULL, 10) << 16;
    drop(&b);
    swlog_buf out;
    swlog_buf_init(&out);
    swlog_error err = {0};
    if (swlog_rotation_encode(osk, nsk, &h, &out, &err) != SWLOG_OK)
        die("rotate", &err);
    add(&b, out.p, out.len);
    write_bundle(argv[2], &b);
    drop(&b);
    swlog_buf_clear(&out);
    return 0;
}

static int consist(int argc, char **argv)
{
    if (argc != 4 && argc != 6)
        return 2;
    bodies b = {0};
    read_file(argv[2], &b, 0, UINT64_MAX);
    uint8_t(*leaves)[SWLOG_HASH_BYTES] = calloc(b.n + 1, sizeof *leaves);
    if (leaves == NULL)
        abort();
    for (size_t i = 0; i < b.n; i++) {
        swlog_frame f;
        if (swlog_frame_decode(b.p[i], b.len[i], 0, &f, NULL) != SWLOG_OK)
            return 1;
        memcpy(leaves[i], f.id, SWLOG_HASH_BYTES);
    }
    swlog_error err = {0};
    uint8_t rm[SWLOG_HASH_BYTES], rn[SWLOG_HASH_BYTES];
    if (argc == 6) {
        uint64_t size = strtoull(argv[4], NULL, 10);
        size_t n;
        uint8_t *want = hex_decode(argv[5], &n);
        if (size > b.n || want == NULL || n != SWLOG_HASH_BYTES ||
            swlog_merkle_root((const uint8_t(*)[32])leaves, size, rn,
                              &err) != SWLOG_OK ||
            memcmp(rn, want, n) != 0) {
            fprintf(stderr, "consist: root of %llu leaves differs\n",
                    (unsigned long long)size);
            return 1;
        }
        free(want);
    }
    FILE *fp = fopen(argv[3], "r");
    if (fp == NULL) {
        perror(argv[3]);
        return 1;
    }
    char line[8192];
    unsigned long ok = 0, lines = 0;
    int rc = 0;
    while (fgets(line, sizeof line, fp) != NULL) {
        lines++;
        uint8_t path[SWLOG_MAX_PROOF][SWLOG_HASH_BYTES];
        size_t len = 0;
        char *save = NULL, *t = strtok_r(line, " \n", &save);
        uint64_t m = t ? strtoull(t, NULL, 10) : 0;
        t = strtok_r(NULL, " \n", &save);
        uint64_t n = t ? strtoull(t, NULL, 10) : 0;
        while ((t = strtok_r(NULL, " \n", &save)) != NULL &&
               len < SWLOG_MAX_PROOF) {
            size_t hl;
            uint8_t *hp = hex_decode(t, &hl);
            if (hp == NULL || hl != SWLOG_HASH_BYTES)
                return 1;
            memcpy(path[len++], hp, hl);
            free(hp);
        }
        swlog_error e = {0};
        if (n > b.n || m == 0 ||
            swlog_merkle_root((const uint8_t(*)[32])leaves, m, rm, &e) !=
                SWLOG_OK ||
            swlog_merkle_root((const uint8_t(*)[32])leaves, n, rn, &e) !=
                SWLOG_OK ||
            swlog_merkle_consistency_verify(m, n, rm, rn,
                                            (const uint8_t(*)[32])path, len,
                                            &e) != SWLOG_OK) {
            fprintf(stderr, "consist: proof %llu..%llu (%zu hashes) does "
                            "not verify: %s\n",
                    (unsigned long long)m, (unsigned long long)n, len, e.msg);
            rc = 1;
            continue;
        }
        ok++;
    }
    fclose(fp);
    printf("%lu of %lu proofs verified over %zu leaves\n", ok, lines, b.n);
    free(leaves);
    drop(&b);
    return rc != 0 || lines == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || swlog_init() != SWLOG_OK)
        return 2;
    const char *cmd = argv[1];
    if (strcmp(cmd, "pub") == 0 && argc == 3) {
        uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
        char hex[65];
        test_key((unsigned)atoi(argv[2]), pk, sk);
        swlog_hex(pk, sizeof pk, hex);
        puts(hex);
        return 0;
    }
    if (strcmp(cmd, "seal") == 0 && argc == 6)
        return seal(argv[2], argv[3], (unsigned)atoi(argv[4]),
                    strtoul(argv[5], NULL, 10));
    if (strcmp(cmd, "id") == 0 && argc == 4) {
        bodies b = {0};
        uint64_t seq = strtoull(argv[3], NULL, 10);
        read_file(argv[2], &b, seq, seq);
        swlog_frame f;
        if (b.n != 1 ||
            swlog_frame_decode(b.p[0], b.len[0], 0, &f, NULL) != SWLOG_OK)
            return 1;
        char hex[65];
        swlog_hex(f.id, 32, hex);
        puts(hex);
        drop(&b);
        return 0;
    }
    if (strcmp(cmd, "bundle") == 0 && argc == 6) {
        bodies b = {0};
        read_file(argv[3], &b, strtoull(argv[4], NULL, 10),
                  strtoull(argv[5], NULL, 10));
        write_bundle(argv[2], &b);
        drop(&b);
        return 0;
    }
    if (strcmp(cmd, "cat") == 0 && argc >= 4) {
        bodies b = {0};
        for (int i = 3; i < argc; i++)
            read_file(argv[i], &b, 0, UINT64_MAX);
        write_bundle(argv[2], &b);
        drop(&b);
        return 0;
    }
    if (strcmp(cmd, "append") == 0 && argc == 4) {
        bodies b = {0};
        read_file(argv[3], &b, 0, UINT64_MAX);
        swlog_log *log;
        swlog_error err = {0};
        if (swlog_log_open(argv[2], SWLOG_APPEND, &log, &err) != SWLOG_OK ||
            swlog_log_append(log, (const uint8_t *const *)b.p, b.len, b.n,
                             &err) != SWLOG_OK)
            die(argv[2], &err);
        swlog_log_close(log);
        drop(&b);
        return 0;
    }
    if (strcmp(cmd, "count") == 0 && argc == 3) {
        bodies b = {0};
        read_file(argv[2], &b, 0, UINT64_MAX);
        printf("%zu\n", b.n);
        drop(&b);
        return 0;
    }
    if (strcmp(cmd, "forge") == 0)
        return forge(argc, argv);
    if (strcmp(cmd, "rotate") == 0)
        return rotate(argc, argv);
    if (strcmp(cmd, "consist") == 0)
        return consist(argc, argv);
    if (strcmp(cmd, "mutate") == 0 && argc >= 5) {
        bodies b = {0};
        read_file(argv[3], &b, 0, UINT64_MAX);
        if (b.n == 0)
            return 1;
        if (strcmp(argv[4], "sig") == 0) {
            /* FORMAT §4.1: the signature follows the signed header. */
            size_t hl = (size_t)b.p[0][2] << 8 | b.p[0][3];
            if (hl + 64 > b.len[0])
                return 1;
            b.p[0][hl + 5] ^= 0x01;
        } else if (strcmp(argv[4], "trail") == 0) {
            b.p[0][b.len[0]] = 0;
            b.len[0]++;
        } else if (strcmp(argv[4], "signer") == 0 && argc == 6) {
            uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
            test_key((unsigned)atoi(argv[5]), pk, sk);
            memcpy(b.p[0] + 4, pk, sizeof pk);
        } else {
            return 2;
        }
        write_bundle(argv[2], &b);
        drop(&b);
        return 0;
    }
    fprintf(stderr, "hubframes: bad command line (see the file's top)\n");
    return 2;
}
