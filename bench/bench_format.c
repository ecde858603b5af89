/* bench_format: how fast the library verifies logs compared with what the
 * crypto of FORMAT §2 allows on this machine, and how many bytes a record
 * takes compared with SQLite's own session changeset. A benchmark, not a
 * test: it prints figures and goals and asserts nothing.
 *
 *   (a) limit: Ed25519 verifications/s and SHA-256 MB/s measured here give
 *       the best possible change-sets/s for a frame of a given size:
 *       1 / (t_verify + bytes_hashed / sha256_rate), bytes_hashed being the
 *       signed header and the payload plus their context strings (FORMAT
 *       §2.1, §4.1, §4.3);
 *   (b) the library: read a freshly written, fsynced log (page cache warm)
 *       through swlog_log_next (envelope, CRC), swlog_frame_decode with
 *       signatures (which validates every record and value strictly) and
 *       swlog_chains_add: full verification, the goal's figure. Beside it,
 *       the same plus a swlog_reader walk of every value, which is what a
 *       merge adds on top of verifying;
 *   (c) bytes on disk per record, against sqlite3session_changeset for the
 *       same rows inserted one transaction per change-set.
 *
 * usage: bench_format [--quick] [--dir DIR] */
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "swlog.h"

#define RUNS 5
#define NSIZES 3
static const unsigned sizes[NSIZES] = {1, 50, 500};

typedef struct config {
    int quick;
    const char *dir;
    double min_time; /* seconds per measurement */
    int runs;
} config;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, const swlog_error *err)
{
    fprintf(stderr, "bench_format: %s: %s (%s)\n", what,
            err != NULL ? err->msg : "",
            err != NULL ? swlog_code_name(err->code) : "");
    exit(2);
}

/* ---- synthetic rows: the clients table of the record model -------------- */

/* splitmix64: deterministic, so SQLite gets exactly the rows we log. */
static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨",
                                       "黄", "赵", "吴", "周", "徐", "孙"};
static const char *const given[] = {"伟", "芳", "娜", "秀英", "敏", "静",
                                    "丽", "强", "磊", "军",   "洋", "勇",
                                    "艳", "杰", "娟", "涛",   "明", "超"};
static const char *const towns[] = {"东镇街道", "水口镇", "池洞镇",
                                    "丁堡镇",   "钱排镇", "合水镇"};
static const char *const roads[] = {"新华路", "人民路", "建设路",
                                    "解放路", "中山路", "和平街"};
static const char *const notes[] = {
    "独居，子女在外务工，每周电话联系一次",
    "行动不便，需要上门送餐和定期探访",
    "低保对象，已协助办理临时救助申请",
    "留守儿童，由祖父母照顾，学习情况良好",
};
static const char *const living[] = {"alone", "spouse_only", "with_children",
                                     "with_grandparents"};

#define NCOLS 11
static const char *const colnames[NCOLS] = {
    "address", "birth_date", "birth_estimated", "gender",
    "hukou",   "id_type",    "living",          "name",
    "notes",   "phone",      "village_code"};

typedef struct row {
    uint8_t id[SWLOG_UUID_BYTES];
    char text[NCOLS][160];
    int64_t birth_estimated; /* the one INTEGER column */
} row;
#define COL_INT 2 /* birth_estimated */

static void make_row(uint64_t *s, uint64_t ms, row *r)
{
    uint64_t a = rnd(s), b = rnd(s);
    /* UUID v7 (RFC 9562): 48-bit ms, version, variant, random. */
    for (int i = 0; i < 6; i++)
        r->id[i] = (uint8_t)(ms >> (40 - 8 * i));
    for (int i = 6; i < 16; i++)
        r->id[i] = (uint8_t)(i < 11 ? a >> (8 * (i - 6)) : b >> (8 * (i - 11)));
    r->id[6] = (uint8_t)(0x70 | (r->id[6] & 0x0f));
    r->id[8] = (uint8_t)(0x80 | (r->id[8] & 0x3f));
    uint64_t x = rnd(s);
    snprintf(r->text[0], 160, "广东省茂名市信宜市%s%s%u号%u栋%u房",
             towns[x % 6], roads[x / 6 % 6], (unsigned)(x >> 8) % 300 + 1,
             (unsigned)(x >> 20) % 20 + 1, (unsigned)(x >> 28) % 900 + 101);
    snprintf(r->text[1], 160, "%04u-%02u-%02u", 1930 + (unsigned)(x >> 32) % 80,
             1 + (unsigned)(x >> 40) % 12, 1 + (unsigned)(x >> 44) % 28);
    r->birth_estimated = (int64_t)((x >> 50) % 8 == 0);
    snprintf(r->text[3], 160, "%s", (x >> 51) & 1 ? "male" : "female");
    snprintf(r->text[4], 160, "%s", (x >> 52) & 1 ? "rural" : "urban");
    snprintf(r->text[5], 160, "resident_id");
    snprintf(r->text[6], 160, "%s", living[(x >> 53) % 4]);
    uint64_t y = rnd(s);
    snprintf(r->text[7], 160, "%s%s%s", surnames[y % 12], given[y / 12 % 18],
             (y >> 16) & 1 ? given[(y >> 20) % 18] : "");
    snprintf(r->text[8], 160, "%s", notes[(y >> 24) % 4]);
    snprintf(r->text[9], 160, "+86138%08u", (unsigned)(y >> 32) % 100000000);
    snprintf(r->text[10], 160, "440983102%03u", 1 + (unsigned)(y >> 60) % 16);
    r->text[COL_INT][0] = '\0';
}

static size_t row_value_bytes(const row *r)
{
    size_t n = 8; /* the integer, as SQLite stores it at most */
    for (int c = 0; c < NCOLS; c++)
        if (c != COL_INT)
            n += strlen(r->text[c]);
    return n;
}

/* ---- (a) the physical limit ------------------------------------------- */

typedef struct limit {
    double verify_s; /* seconds per Ed25519 verification */
    double sha_bps;  /* SHA-256 bytes per second */
} limit;

/* One measurement of each primitive, each lasting at least min_time. */
static limit measure_limit_once(double min_time)
{
    static unsigned char pk[crypto_sign_PUBLICKEYBYTES],
        sk[crypto_sign_SECRETKEYBYTES], msg[46], sig[crypto_sign_BYTES];
    static unsigned char buf[65536];
    static int ready;
    unsigned char h[32];
    if (!ready) {
        crypto_sign_keypair(pk, sk);
        randombytes_buf(msg, sizeof msg);
        randombytes_buf(buf, sizeof buf);
        crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
        ready = 1;
    }
    limit l;
    long n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 64; i++)
            if (crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0)
                die("a good signature did not verify", NULL);
        n += 64;
    } while ((t = now() - t0) < min_time);
    l.verify_s = t / (double)n;
    n = 0;
    t0 = now();
    do {
        for (int i = 0; i < 16; i++) {
            crypto_hash_sha256(h, buf, sizeof buf);
            buf[0] ^= h[0];
        }
        n += 16;
    } while ((t = now() - t0) < min_time);
    l.sha_bps = (double)n * sizeof buf / t;
    return l;
}

static limit measure_limit(const config *cfg)
{
    double v[RUNS], s[RUNS];
    for (int r = 0; r < cfg->runs; r++) {
        limit l = measure_limit_once(cfg->min_time);
        v[r] = l.verify_s;
        s[r] = l.sha_bps;
    }
    limit l = {median(v, cfg->runs), median(s, cfg->runs)};
    return l;
}

/* FORMAT's best case for frames hashing `hashed` bytes each, in cs/s. */
static double limit_cs(limit l, double hashed)
{
    return 1 / (l.verify_s + hashed / l.sha_bps);
}

/* ---- (b) writing and verifying a log ---------------------------------- */

typedef struct logstat {
    uint64_t frames, records, file_bytes;
    uint64_t hashed_bytes; /* sum over frames of what FORMAT hashes */
    uint64_t value_bytes;  /* sum of row_value_bytes */
} logstat;

#define BASE_MS 1795392000000ull /* 2026-11-23T00:00:00Z */
#define GROUP_BYTES (4u << 20)   /* frames per append+fsync: up to 4 MiB */

static void flush_group(swlog_log *log, swlog_buf *bodies, size_t *lens,
                        size_t *n)
{
    const uint8_t *ptr[256];
    size_t off = 0;
    swlog_error err = {0};
    for (size_t i = 0; i < *n; i++) {
        ptr[i] = bodies->p + off;
        off += lens[i];
    }
    if (*n > 0 && swlog_log_append(log, ptr, lens, *n, &err) != SWLOG_OK)
        die("append", &err);
    bodies->len = 0;
    *n = 0;
}

static logstat write_log(const char *path, unsigned size, uint64_t nframes,
                         uint64_t seed)
{
    uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES], sd[32] = {7};
    swlog_error err = {0};
    swlog_log *log = NULL;
    logstat st;
    memset(&st, 0, sizeof st);
    swlog_key_from_seed(sd, pk, sk);
    unlink(path);
    if (swlog_log_open(path, SWLOG_APPEND | SWLOG_CREATE, &log, &err))
        die("create log", &err);
    swlog_cs *cs = swlog_cs_new();
    swlog_buf body, group;
    swlog_buf_init(&body);
    swlog_buf_init(&group);
    size_t lens[256], ngroup = 0;
    swlog_head head = {1, {0}, 0};
    row r;
    for (uint64_t f = 0; f < nframes; f++) {
        uint64_t ms = BASE_MS + f * 1000;
        head.hlc = ms << 16 | 5;
        swlog_cs_reset(cs);
        for (unsigned k = 0; k < size; k++) {
            make_row(&seed, ms, &r);
            st.value_bytes += row_value_bytes(&r);
            if (swlog_cs_upsert(cs, "clients", r.id, head.hlc - size + k,
                                &err) != SWLOG_OK)
                die("upsert", &err);
            for (int c = 0; c < NCOLS; c++) {
                swlog_value v = {SWLOG_TEXT, 0, 0, (const uint8_t *)r.text[c],
                                 strlen(r.text[c])};
                if (c == COL_INT) {
                    v.type = SWLOG_INT;
                    v.i = r.birth_estimated;
                    v.p = NULL;
                }
                if (swlog_cs_value(cs, colnames[c], 0, &v, &err) != SWLOG_OK)
                    die("value", &err);
            }
        }
        if (swlog_cs_seal(cs, sk, &head, 1, "worker-01", &body, &err))
            die("seal", &err);
        /* FORMAT §4.3: the next prev is this frame's id. */
        uint16_t hl = (uint16_t)(body.p[2] << 8 | body.p[3]);
        swlog_hash_ctx(SWLOG_CTX_FRAME_ID, body.p, hl, head.prev);
        head.seq++;
        st.hashed_bytes += body.len - SWLOG_SIG_BYTES +
                           sizeof SWLOG_CTX_FRAME_ID + sizeof SWLOG_CTX_PAYLOAD;
        if (swlog_buf_append(&group, body.p, body.len) != SWLOG_OK)
            die("out of memory", NULL);
        lens[ngroup++] = body.len;
        if (ngroup == 256 || group.len >= GROUP_BYTES)
            flush_group(log, &group, lens, &ngroup);
    }
    flush_group(log, &group, lens, &ngroup);
    swlog_log_close(log); /* every append was fsynced (FORMAT §8.4) */
    swlog_buf_clear(&body);
    swlog_buf_clear(&group);
    swlog_cs_free(cs);
    struct stat sb;
    if (stat(path, &sb) != 0)
        die("stat", NULL);
    st.frames = nframes;
    st.records = nframes * size;
    st.file_bytes = (uint64_t)sb.st_size;
    return st;
}

static volatile uint64_t sink;

/* One full verification pass; with walk, also read every value through a
 * swlog_reader. Returns the records verified. */
static uint64_t verify_pass(const char *path, swlog_reader *rd, int walk)
{
    swlog_error err = {0};
    swlog_log *log = NULL;
    swlog_chains *ch = swlog_chains_new();
    uint64_t records = 0, acc = 0;
    if (ch == NULL || swlog_log_open(path, SWLOG_READ, &log, &err))
        die("open log", &err);
    const uint8_t *b;
    size_t len;
    uint64_t off;
    int rc;
    while ((rc = swlog_log_next(log, &b, &len, &off, &err)) == 1) {
        swlog_frame f;
        swlog_record rec;
        swlog_column col;
        if (swlog_frame_decode(b, len, 0, &f, &err) != SWLOG_OK ||
            swlog_chains_add(ch, &f, &err) != SWLOG_OK)
            die("verify", &err);
        if (!walk) {
            records += f.u.changeset.record_count;
            continue;
        }
        if (swlog_reader_init(rd, &f, &err) != SWLOG_OK)
            die("reader", &err);
        while ((rc = swlog_reader_next(rd, &rec, &err)) == 1) {
            records++;
            acc += rec.hlc;
            while ((rc = swlog_reader_value(rd, &col, &err)) == 1)
                acc += col.value.len + (uint64_t)col.value.i;
            if (rc < 0)
                die("value", &err);
        }
        if (rc < 0)
            die("record", &err);
    }
    if (rc < 0 || swlog_log_torn(log) != 0)
        die("log", &err);
    swlog_log_close(log);
    swlog_chains_free(ch);
    sink = acc;
    return records;
}

typedef struct verify_result {
    double limit_cs, cs, ratio;       /* medians over the runs */
    double walk_cs, walk_ratio;       /* the same, reading every value too */
    int passes;
} verify_result;

static double timed_passes(const char *path, swlog_reader *rd, int walk,
                           int k)
{
    double t0 = now();
    for (int i = 0; i < k; i++)
        verify_pass(path, rd, walk);
    return now() - t0;
}

/* Each run measures the limit (a) and then the library (b) right after it,
 * so that the ratio compares figures taken under the same machine load
 * (shared machines drift by tens of percent within a minute). Each library
 * measurement repeats whole passes to last cfg->min_time. */
static verify_result measure_verify(const config *cfg, const char *path,
                                    const logstat *ls, swlog_reader *rd)
{
    double hashed = (double)ls->hashed_bytes / (double)ls->frames;
    double t0 = now();
    if (verify_pass(path, rd, 1) != ls->records) /* also warms the cache */
        die("records lost", NULL);
    double one = now() - t0;
    /* Whole passes only, enough of them to last cfg->min_time. */
    int k = 1 + (int)(cfg->min_time / (one > 1e-6 ? one : 1e-6));
    double lim[RUNS], cs[RUNS], ratio[RUNS], wcs[RUNS], wratio[RUNS];
    for (int r = 0; r < cfg->runs; r++) {
        lim[r] = limit_cs(measure_limit_once(cfg->min_time), hashed);
        cs[r] = (double)ls->frames * k / timed_passes(path, rd, 0, k);
        wcs[r] = (double)ls->frames * k / timed_passes(path, rd, 1, k);
        ratio[r] = cs[r] / lim[r];
        wratio[r] = wcs[r] / lim[r];
    }
    verify_result v = {median(lim, cfg->runs),  median(cs, cfg->runs),
                       median(ratio, cfg->runs), median(wcs, cfg->runs),
                       median(wratio, cfg->runs), k};
    return v;
}

/* ---- (c) SQLite's session changeset for the same rows ----------------- */

static void sql_ok(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        fprintf(stderr, "bench_format: sqlite %s: %s\n", what,
                sqlite3_errmsg(db));
        exit(2);
    }
}

/* Total changeset bytes for nframes groups of size rows, same seed. */
static uint64_t sqlite_bytes(unsigned size, uint64_t nframes, uint64_t seed)
{
    sqlite3 *db;
    sqlite3_stmt *ins;
    char sql[512];
    uint64_t total = 0;
    sql_ok(NULL, sqlite3_open(":memory:", &db), "open");
    int n = snprintf(sql, sizeof sql,
                     "CREATE TABLE clients(id TEXT PRIMARY "
                     "KEY NOT NULL");
    for (int c = 0; c < NCOLS; c++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, ", %s %s", colnames[c],
                      c == COL_INT ? "INTEGER" : "TEXT");
    snprintf(sql + n, sizeof sql - (size_t)n, ")");
    sql_ok(db, sqlite3_exec(db, sql, NULL, NULL, NULL), "create");
    sql_ok(db,
           sqlite3_prepare_v2(db,
                              "INSERT INTO clients VALUES(?,?,?,?,?,?,?,?,?,?,"
                              "?,?)",
                              -1, &ins, NULL),
           "prepare");
    row r;
    for (uint64_t f = 0; f < nframes; f++) {
        uint64_t ms = BASE_MS + f * 1000;
        sqlite3_session *s;
        sql_ok(db, sqlite3session_create(db, "main", &s), "session");
        sql_ok(db, sqlite3session_attach(s, "clients"), "attach");
        sql_ok(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
        for (unsigned k = 0; k < size; k++) {
            char uuid[37];
            make_row(&seed, ms, &r);
            swlog_uuid_format(r.id, uuid);
            sqlite3_bind_text(ins, 1, uuid, -1, SQLITE_TRANSIENT);
            for (int c = 0; c < NCOLS; c++) {
                if (c == COL_INT)
                    sqlite3_bind_int64(ins, c + 2, r.birth_estimated);
                else
                    sqlite3_bind_text(ins, c + 2, r.text[c], -1, SQLITE_STATIC);
            }
            sql_ok(db, sqlite3_step(ins), "insert");
            sqlite3_reset(ins);
        }
        sql_ok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
        int len;
        void *cs;
        sql_ok(db, sqlite3session_changeset(s, &len, &cs), "changeset");
        total += (uint64_t)len;
        sqlite3_free(cs);
        sqlite3session_delete(s);
    }
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return total;
}

/* ---- report ------------------------------------------------------------ */

/* The machine's load, printed beside the figures: shared machines are noisy
 * and a reader should see how busy this one was. */
static void print_load(const char *when)
{
    char line[128] = "unknown";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fgets(line, sizeof line, f) == NULL)
            snprintf(line, sizeof line, "unknown");
        fclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    printf("load average %s: %s\n", when, line);
}

static uint64_t frames_for(const config *cfg, unsigned size)
{
    /* About 10-50 MB per file: enough frames for steady figures; the
     * measurement repeats whole passes to reach its minimum time. */
    if (cfg->quick)
        return size == 1 ? 40 : size == 50 ? 8 : 2;
    return size == 1 ? 40000 : size == 50 ? 2000 : 200;
}

int main(int argc, char **argv)
{
    config cfg = {0, NULL, 0.5, RUNS};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            cfg.quick = 1;
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            cfg.dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench_format [--quick] [--dir DIR]\n");
            return 2;
        }
    }
    if (cfg.quick)
        cfg.min_time = 0.01, cfg.runs = 3;
    if (swlog_init() != SWLOG_OK)
        die("libsodium", NULL);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/bench_format-XXXXXX",
             cfg.dir != NULL ? cfg.dir
                             : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"));
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", NULL);

    printf("bench_format%s: swsync log verification and size\n",
           cfg.quick ? " --quick (smoke run: figures meaningless)" : "");
    printf("command: ");
    for (int i = 0; i < argc; i++)
        printf("%s%s", i ? " " : "", argv[i]);
    printf("\nlibsodium %s, SQLite %s, %ld CPUs online; medians of %d runs "
           "of >= %.2f s each\n",
           sodium_version_string(), sqlite3_libversion(),
           sysconf(_SC_NPROCESSORS_ONLN), cfg.runs, cfg.min_time);
    print_load("at start");
    putchar('\n');

    limit l = measure_limit(&cfg);
    printf("(a) physical limit on this machine\n");
    printf("    Ed25519 crypto_sign_verify_detached, 46-byte message: "
           "%.1f us each, %.0f/s\n",
           l.verify_s * 1e6, 1 / l.verify_s);
    printf("    SHA-256 crypto_hash_sha256 on 64 KiB buffers: %.1f MB/s\n\n",
           l.sha_bps / 1e6);

    swlog_reader *rd = malloc(sizeof *rd);
    if (rd == NULL)
        die("out of memory", NULL);
    double ratio_v[NSIZES], ratio_b[NSIZES];
    printf("(b) full verification of a log: open/next (CRC) + strict decode of"
           " every record\n    with signature + chains; \"+read\" also walks "
           "every value with swlog_reader\n"
           "    page cache warm (each file was just written and fsynced);"
           " limit re-measured\n    before each run, ratio = median of "
           "per-run ratios\n");
    printf("    %-7s %7s %6s %9s %9s %11s %11s %11s %6s %11s %6s\n", "rec/cs",
           "frames", "passes", "B/frame", "hashed B", "limit cs/s",
           "ours cs/s", "records/s", "ratio", "+read cs/s", "ratio");
    logstat ls[NSIZES];
    char path[NSIZES][600];
    for (int i = 0; i < NSIZES; i++) {
        uint64_t n = frames_for(&cfg, sizes[i]);
        snprintf(path[i], sizeof path[i], "%s/bench-%u.log", dir, sizes[i]);
        ls[i] = write_log(path[i], sizes[i], n, 1000 + (uint64_t)i);
        double hashed = (double)ls[i].hashed_bytes / (double)n;
        verify_result v = measure_verify(&cfg, path[i], &ls[i], rd);
        ratio_v[i] = v.ratio;
        printf("    %-7u %7llu %6d %9.0f %9.0f %11.0f %11.0f %11.0f %6.2f "
               "%11.0f %6.2f\n",
               sizes[i], (unsigned long long)n, v.passes,
               (double)(ls[i].file_bytes - SWLOG_FILE_HEADER_BYTES) / (double)n,
               hashed, v.limit_cs, v.cs, v.cs * sizes[i], v.ratio, v.walk_cs,
               v.walk_ratio);
        fflush(stdout);
    }
    printf("    goal: verification ratio >= 0.70 of the limit:");
    for (int i = 0; i < NSIZES; i++)
        printf(" %u: %s", sizes[i], ratio_v[i] >= 0.7 ? "met" : "NOT MET");
    printf("\n\n(c) bytes on disk per record vs SQLite session changeset "
           "(same rows, one transaction per change-set)\n");
    printf("    %-7s %12s %12s %12s %8s\n", "rec/cs", "value B/rec",
           "ours B/rec", "SQLite B/rec", "ratio");
    for (int i = 0; i < NSIZES; i++) {
        double recs = (double)ls[i].records;
        uint64_t sq = sqlite_bytes(sizes[i], ls[i].frames, 1000 + (uint64_t)i);
        double ours = (double)ls[i].file_bytes / recs;
        ratio_b[i] = ours / ((double)sq / recs);
        printf("    %-7u %12.1f %12.1f %12.1f %8.2f\n", sizes[i],
               (double)ls[i].value_bytes / recs, ours, (double)sq / recs,
               ratio_b[i]);
        unlink(path[i]);
    }
    printf("    goal: 50-record change-sets <= 1.10x SQLite: %s\n",
           ratio_b[1] <= 1.10 ? "met" : "NOT MET");
    printf("    (ours = whole file / records: envelope, CRC, signed header, "
           "signature and dictionary included)\n");
    print_load("at end");
    rmdir(dir);
    free(rd);
    return 0;
}
