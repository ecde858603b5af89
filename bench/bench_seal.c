/* bench_seal: how fast agent/seal.c seals pending outbox entries (stream,
 * build, sign, append + fsync, mark), how long a 10,000-record seal takes,
 * and whether its peak memory grows with the number of records. A
 * benchmark, not a test: it prints figures and goals and asserts nothing.
 *
 * Baselines measured in the same run: raw Ed25519 signatures/s (libsodium,
 * 200-byte messages) and plain SQLite rows/s (one transaction, no triggers).
 * Each seal runs in a fresh forked child, so ru_maxrss is that child's: the
 * RSS before sealing (replica open) and the peak after are both shown.
 * A group (one log fsync, two SQLite commits) holds at most 20,000
 * records, so the peak is bounded by a group, not by the records pending.
 *
 * usage: bench_seal [--quick] [--dir DIR] [--big N]
 *   DIR default $TMPDIR or /tmp; N (default 100,000) = the larger seal. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "replica.h"
#include "seal.h"
#include "swlog.h"

#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_seal: %s: %s\n", what, msg);
    exit(1);
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void remove_files(const char *db, const char *log)
{
    char p[600];
    unlink(db);
    snprintf(p, sizeof p, "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db);
    unlink(p);
    if (log != NULL)
        unlink(log);
}

/* n captured client inserts, 5,000 per transaction (an import). */
static void populate(const char *db, size_t n)
{
    replica *r = NULL;
    swlog_error err = {0};
    if (replica_open(db, &r, &err) != SWLOG_OK)
        die("replica_open", err.msg);
    sqlite3 *d = replica_db(r);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d,
                           "INSERT INTO clients(id, owner_unit_id, name, "
                           "gender, birth_date, id_type, village_code, "
                           "birth_estimated, phone) VALUES(?1, '" OWNER
                           "', ?2, 'female', '1950-03-07', 'none', "
                           "'440983102001', 0, '13800000000')",
                           -1, &st, NULL) != SQLITE_OK)
        die("prepare", sqlite3_errmsg(d));
    for (size_t i = 0; i < n; i++) {
        if (i % 5000 == 0 && replica_begin(r, &err) != SWLOG_OK)
            die("begin", err.msg);
        char id[37], name[32];
        replica_uuid7_text(id);
        snprintf(name, sizeof name, "bench %zu", i);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            die("insert", sqlite3_errmsg(d));
        sqlite3_reset(st);
        if ((i % 5000 == 4999 || i == n - 1) &&
            replica_commit(r, &err) != SWLOG_OK)
            die("commit", err.msg);
    }
    sqlite3_finalize(st);
    replica_close(r);
}

typedef struct result {
    double seconds;
    uint64_t records, changesets, groups;
    long rss_before_kb, rss_peak_kb;
} result;

/* Seal everything pending in db, in a fresh child. */
static result seal_child(const char *db, const char *log)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        die("pipe", "failed");
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
        uint8_t seed[SWLOG_SEED_BYTES] = {7};
        swlog_key_from_seed(seed, pk, sk);
        replica *r = NULL;
        swlog_error err = {0};
        if (replica_open(db, &r, &err) != SWLOG_OK)
            die("replica_open", err.msg);
        result res = {0};
        res.rss_before_kb = maxrss_kb();
        seal_stats st = {0};
        sealer *s = NULL;
        double t0 = now();
        if (seal_open(r, log, sk, NULL, &s, &st, &err) != SWLOG_OK ||
            seal_run(s, &st, &err) != SWLOG_OK)
            die("seal", err.msg);
        res.seconds = now() - t0;
        seal_close(s);
        replica_close(r);
        res.rss_peak_kb = maxrss_kb();
        res.records = st.records;
        res.changesets = st.changesets;
        res.groups = st.groups;
        swlog_wipe(sk, sizeof sk);
        _exit(write(pfd[1], &res, sizeof res) == sizeof res ? 0 : 1);
    }
    close(pfd[1]);
    result res = {0};
    if (read(pfd[0], &res, sizeof res) != sizeof res)
        die("seal child", "no result");
    close(pfd[0]);
    int status;
    waitpid(pid, &status, 0);
    return res;
}

static double bench_sign(void)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t msg[200] = {1}, sig[crypto_sign_BYTES];
    crypto_sign_keypair(pk, sk);
    size_t n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 100; i++, n++) {
            msg[0] = (uint8_t)n;
            crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
        }
    } while ((t = now() - t0) < 0.3);
    sodium_memzero(sk, sizeof sk);
    return (double)n / t;
}

/* Plain SQLite: n rows of the same width in one transaction, fsync'd. */
static double bench_sqlite(const char *dir, size_t n)
{
    char db[512];
    snprintf(db, sizeof db, "%s/bench-seal-plain-%d.db", dir, (int)getpid());
    sqlite3 *d;
    if (sqlite3_open(db, &d) != SQLITE_OK)
        die("sqlite3_open", db);
    sqlite3_exec(d,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                 "CREATE TABLE t(id TEXT PRIMARY KEY, a, b, c, d, e, f, g, h)",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(d,
                       "INSERT INTO t VALUES(?1, '" OWNER "', ?2, 'female', "
                       "'1950-03-07', 'none', '440983102001', 0, "
                       "'13800000000')",
                       -1, &st, NULL);
    double t0 = now();
    sqlite3_exec(d, "BEGIN", NULL, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        char id[37], name[32];
        replica_uuid7_text(id);
        snprintf(name, sizeof name, "bench %zu", i);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_exec(d, "COMMIT", NULL, NULL, NULL);
    double t = now() - t0;
    sqlite3_finalize(st);
    sqlite3_close(d);
    remove_files(db, NULL);
    return (double)n / t;
}

int main(int argc, char **argv)
{
    int quick = 0;
    size_t big = 0;
    const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--big") == 0 && i + 1 < argc)
            big = strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr,
                    "usage: bench_seal [--quick] [--dir DIR] [--big N]\n");
            return 2;
        }
    }
    if (swlog_init() != SWLOG_OK)
        die("swlog_init", "libsodium");
    const size_t sizes[2] = {quick ? 2000 : 10000,
                             big > 0 ? big : quick ? 20000 : 100000};
    printf("bench_seal%s, files in %s\n", quick ? " (quick)" : "", dir);
    double sig = bench_sign();
    double plain = bench_sqlite(dir, sizes[0]);
    printf("baselines:\n");
    printf("  Ed25519 signatures/s (200 B)       %10.0f\n", sig);
    printf("  plain SQLite rows/s (1 tx, fsync)  %10.0f\n", plain);
    printf("seal (stream, build, sign, append + fsync, mark):\n");
    printf("  %8s %12s %10s %7s %6s %12s %12s\n", "records", "records/s",
           "seconds", "frames", "groups", "RSS open KiB", "RSS peak KiB");
    result res[2];
    for (int k = 0; k < 2; k++) {
        char db[512], log[512];
        snprintf(db, sizeof db, "%s/bench-seal-%d-%zu.db", dir, (int)getpid(),
                 sizes[k]);
        snprintf(log, sizeof log, "%s/bench-seal-%d-%zu.log", dir,
                 (int)getpid(), sizes[k]);
        populate(db, sizes[k]);
        res[k] = seal_child(db, log);
        remove_files(db, log);
        printf("  %8zu %12.0f %10.3f %7llu %6llu %12ld %12ld\n", sizes[k],
               (double)res[k].records / res[k].seconds, res[k].seconds,
               (unsigned long long)res[k].changesets,
               (unsigned long long)res[k].groups, res[k].rss_before_kb,
               res[k].rss_peak_kb);
    }
    double rate = (double)res[1].records / res[1].seconds;
    printf("seal vs baselines: %.2fx plain SQLite rows/s; signing takes "
           "%.1f ms of the %.0f ms of the %zu-record seal\n",
           rate / plain, 1e3 * (double)res[1].changesets / sig,
           1e3 * res[1].seconds, sizes[1]);
    printf("peak growth: %ld KiB for %zu records vs %ld KiB for %zu\n",
           res[1].rss_peak_kb - res[1].rss_before_kb, sizes[1],
           res[0].rss_peak_kb - res[0].rss_before_kb, sizes[0]);
    printf("goal: >= 50,000 records/s: %s; %zu-record seal < 1 s: %s\n",
           rate >= 50000 ? "met" : "NOT met",
           sizes[0], res[0].seconds < 1.0 ? "met" : "NOT met");
    return 0;
}
