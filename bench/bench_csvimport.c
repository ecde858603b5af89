/* Cost of CSV import: N `clients` rows (12 columns, valid resident IDs,
 * phones written 138xxxxxxxx, addresses with a quoted comma) imported with
 * csvimport_run into a fresh replica, against a baseline measured in the
 * same run: the same rows inserted into a fresh replica through one
 * prepared statement in one transaction (captured, not validated, no CSV).
 * Medians of several runs, wall time (the commit's fsync included), and
 * the peak RSS of the imports, each run in a forked child so that it is
 * theirs alone.
 *
 *   build-rel/bench/bench_csvimport [rows [runs]]     (default 100000 3)
 *
 * Files go to $TMPDIR (default /tmp) and are removed afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "csvimport.h"
#include "replica.h"
#include "schema.h"

#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define MAX_RUNS 15

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_csvimport: %s: %s\n", what, why);
    exit(1);
}

/* Row i's values, as the CSV holds them (ID number and phone written as a
 * person would type them: the importer normalises them). */
typedef struct row {
    char name[32], gender[8], birth[11], idn[19], phone[16], village[13],
        address[48];
} row;

static void make_row(unsigned long i, row *r)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6,
                              3, 7, 9, 10, 5, 8, 4, 2};
    unsigned y = 1930 + (unsigned)(i % 70), m = 1 + (unsigned)(i / 70 % 12),
             d = 1 + (unsigned)(i / 840 % 28);
    unsigned seq = (unsigned)(i % 1000);
    int male = (int)(seq & 1u);
    char body[18];
    snprintf(body, sizeof body, "440983%04u%02u%02u%03u", y, m, d, seq);
    int sum = 0;
    for (int k = 0; k < 17; k++)
        sum += (body[k] - '0') * w[k];
    snprintf(r->idn, sizeof r->idn, "%s%c", body, "10X98765432"[sum % 11]);
    snprintf(r->name, sizeof r->name, "Person %lu", i);
    snprintf(r->gender, sizeof r->gender, "%s", male ? "male" : "female");
    snprintf(r->birth, sizeof r->birth, "%04u-%02u-%02u", y, m, d);
    snprintf(r->phone, sizeof r->phone, "138%08lu", i % 100000000ul);
    snprintf(r->village, sizeof r->village, "4409831022%02lu", 1 + i % 99);
    snprintf(r->address, sizeof r->address, "Village road %lu, house %lu",
             i % 50, i);
}

static void write_csv(const char *path, unsigned long n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        die(path, "cannot create");
    fputs("owner_unit_id,name,gender,birth_date,id_type,id_number,phone,"
          "phone_owner,village_code,address,hukou,living\n",
          f);
    row r;
    for (unsigned long i = 0; i < n; i++) {
        make_row(i, &r);
        fprintf(f,
                OWNER ",%s,%s,%s,resident_id,%s,%s,self,%s,\"%s\",rural,"
                      "alone\n",
                r.name, r.gender, r.birth, r.idn, r.phone, r.village,
                r.address);
    }
    if (fclose(f) != 0)
        die(path, "write failed");
}

static replica *fresh(const char *path)
{
    char aux[600];
    unlink(path);
    snprintf(aux, sizeof aux, "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path);
    unlink(aux);
    replica *r = NULL;
    swlog_error err = {0};
    if (replica_open(path, &r, &err) != SWLOG_OK)
        die(path, err.msg);
    if (sqlite3_exec(replica_db(r),
                     "INSERT INTO org_units(id, level, name, unit_code, "
                     "division_code, division_code_year, status) VALUES('" OWNER
                     "', 'provincial_hub', 'P', '44', '440000', 2024, "
                     "'active')",
                     NULL, NULL, NULL) != SQLITE_OK)
        die("org_units", sqlite3_errmsg(replica_db(r)));
    return r;
}

/* The baseline: the same rows, stored forms, one statement, one commit. */
static double baseline(const char *db, unsigned long n)
{
    replica *r = fresh(db);
    sqlite3 *h = replica_db(r);
    sqlite3_stmt *st;
    swlog_error err = {0};
    double t0 = now_s();
    if (replica_begin(r, &err) != SWLOG_OK)
        die("begin", err.msg);
    if (sqlite3_prepare_v2(h,
                           "INSERT INTO clients(id, owner_unit_id, name, "
                           "gender, birth_date, id_type, id_number, phone, "
                           "phone_owner, village_code, address, hukou, "
                           "living) VALUES(?, '" OWNER "', ?, ?, ?, "
                           "'resident_id', ?, ?, 'self', ?, ?, 'rural', "
                           "'alone')",
                           -1, &st, NULL) != SQLITE_OK)
        die("prepare", sqlite3_errmsg(h));
    row rw;
    char id[37], phone[24];
    for (unsigned long i = 0; i < n; i++) {
        make_row(i, &rw);
        replica_uuid7_text(id);
        snprintf(phone, sizeof phone, "+86%s", rw.phone);
        const char *v[] = {id,     rw.name, rw.gender,  rw.birth,
                           rw.idn, phone,   rw.village, rw.address};
        for (int k = 0; k < 8; k++)
            sqlite3_bind_text(st, k + 1, v[k], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            die("insert", sqlite3_errmsg(h));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (replica_commit(r, &err) != SWLOG_OK)
        die("commit", err.msg);
    double t = now_s() - t0;
    replica_close(r);
    return t;
}

/* One import in a child: its time (written to a pipe) and its peak RSS. */
static double import_child(const char *db, const char *csv, unsigned long n,
                           long *rss_kb)
{
    int fd[2];
    if (pipe(fd) != 0)
        die("pipe", "failed");
    pid_t pid = fork();
    if (pid < 0)
        die("fork", "failed");
    if (pid == 0) {
        close(fd[0]);
        replica *r = fresh(db);
        FILE *in = fopen(csv, "rb");
        csvimport_result res;
        swlog_error err = {0};
        csvimport_opts o = {csv, NULL, NULL, NULL, NULL, NULL, 0};
        double t0 = now_s();
        int rc = csvimport_run(r, schema_find(schema_current(), "clients"),
                               in, &o, &res, &err);
        double t = now_s() - t0;
        if (rc != SWLOG_OK || res.inserted != n)
            die("import", err.msg);
        fclose(in);
        replica_close(r);
        if (write(fd[1], &t, sizeof t) != (ssize_t)sizeof t)
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    double t = -1;
    ssize_t got = read(fd[0], &t, sizeof t);
    close(fd[0]);
    int status;
    struct rusage ru;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof t)
        die("import child", "failed");
    /* The largest of the children waited for: the imports (the baseline
     * runs in this process). */
    getrusage(RUSAGE_CHILDREN, &ru);
    *rss_kb = ru.ru_maxrss;
    return t;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    if (n == 0 || n > CSVIMPORT_MAX_ROWS || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: bench_csvimport [rows (1..%u) [runs "
                        "(1..%d)]]\n",
                CSVIMPORT_MAX_ROWS, MAX_RUNS);
        return 2;
    }
    if (swlog_init() != SWLOG_OK)
        die("libsodium", "failed to start");
    const char *tmp = getenv("TMPDIR");
    char db[512], csv[512];
    snprintf(db, sizeof db, "%s/bench_csvimport-%d.db",
             tmp != NULL && tmp[0] ? tmp : "/tmp", (int)getpid());
    snprintf(csv, sizeof csv, "%s/bench_csvimport-%d.csv",
             tmp != NULL && tmp[0] ? tmp : "/tmp", (int)getpid());
    write_csv(csv, n);
    double ti[MAX_RUNS], tb[MAX_RUNS];
    long rss = 0, rss_max = 0;
    for (int i = 0; i < runs; i++) {
        tb[i] = baseline(db, n);
        ti[i] = import_child(db, csv, n, &rss);
        if (rss > rss_max)
            rss_max = rss;
    }
    double mi = median(ti, runs), mb = median(tb, runs);
    printf("bench_csvimport: %lu clients rows, %d runs, medians\n", n, runs);
    printf("  import (CSV, normalise, validate, captured insert): %.3f s, "
           "%.0f rows/s\n",
           mi, (double)n / mi);
    printf("  baseline (captured insert only):                    %.3f s, "
           "%.0f rows/s\n",
           mb, (double)n / mb);
    printf("  ratio import / baseline: %.2f\n", mi / mb);
    printf("  peak RSS of an import: %ld KiB\n", rss_max);
    char aux[600];
    unlink(csv);
    unlink(db);
    snprintf(aux, sizeof aux, "%s-wal", db);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", db);
    unlink(aux);
    return 0;
}
