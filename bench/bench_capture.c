/* Cost of change capture: the same writes of model rows to a replica without
 * capture (plain tables from the declaration) and with capture (a replica
 * from replica_open), as medians of several runs and their ratio.
 *
 *   build/bench/bench_capture [rows] [runs]
 *   build/bench/bench_capture rows 1 MODE VARIANT   (one run of one cell)
 *
 * The database goes to $TMPDIR (default /tmp): TMPDIR=/dev/shm takes the
 * disk out and leaves the CPU cost of SQLite and the triggers alone.
 *
 * Besides plain and capture, two yardsticks on the plain tables show the
 * floor any trigger-based capture stands on: an empty trigger (a trigger
 * whose body writes nothing) and a copy trigger (the row's values copied to
 * a shadow table without keys). empty-nosj is the empty trigger on tables
 * whose key says ON CONFLICT FAIL, so SQLite keeps no statement journal:
 * the difference to empty is that journal. capture-mem is capture in a
 * process that did not call replica_process_init() (temp_store=MEMORY).
 * The one-cell form (MODE 0-2 as listed, VARIANT plain|empty-nosj|empty|
 * copy|capture|capture-mem) is for instruction counts:
 *   valgrind --tool=callgrind --collect-atstart=no \
 *     --toggle-collect=timed_insert --toggle-collect=timed_update \
 *     build/bench/bench_capture 2000 1 0 capture
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "replica.h"
#include "schema.h"

/* Batched modes measure the process's CPU time (user + system, so the
 * write() calls into the WAL count): on a shared machine it moves far less
 * than wall time. The fsync'd mode measures wall time, since waiting for the
 * disk is its cost. */
static clockid_t clock_id = CLOCK_PROCESS_CPUTIME_ID;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int ok, sqlite3 *db, const char *what)
{
    if (!ok) {
        fprintf(stderr, "bench_capture: %s: %s\n", what,
                db != NULL ? sqlite3_errmsg(db) : "");
        exit(1);
    }
}

static char (*ids)[37];

static void exec(sqlite3 *db, const char *sql)
{
    must(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, db, sql);
}


enum variant { PLAIN, EMPTY_NOSJ, EMPTY, COPY, CAPTURE, CAPTURE_MEM,
               NVARIANTS };
static const char *const variant_names[] = {
    "plain", "empty-nosj", "empty", "copy", "capture", "capture-mem"};

/* What replica_open chose for temp_store (FILE after replica_process_init):
 * the yardsticks use the same. */
static const char *temp_store = "MEMORY";

/* The copy trigger: every column of clients,
 * from NEW, into a shadow table without keys or indexes. */
static void copy_trigger(sqlite3 *db)
{
    const schema_table *t = schema_find(schema_current(), "clients");
    sqlite3_str *s = sqlite3_str_new(db);
    sqlite3_str_appendall(s, "CREATE TABLE shadow AS SELECT * FROM clients "
                             "WHERE 0;");
    static const char *const ev[] = {"INSERT", "UPDATE"};
    for (int k = 0; k < 2; k++) {
        sqlite3_str_appendf(s, "CREATE TRIGGER cp%d AFTER %s ON clients BEGIN "
                               "INSERT INTO shadow VALUES(NEW.id",
                            k, ev[k]);
        for (size_t i = 0; i < t->ncolumns; i++)
            sqlite3_str_appendf(s, ", NEW.\"%w\"", t->columns[i].name);
        sqlite3_str_appendall(s, "); END;");
    }
    char *sql = sqlite3_str_finish(s);
    must(sql != NULL && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
         db, "copy trigger");
    sqlite3_free(sql);
}

/* A database for one variant: the model's tables with the replica's
 * pragmas; EMPTY adds triggers that write nothing, COPY the simplest
 * capture one could write (a trigger copying the row to a shadow table):
 * yardsticks for what any trigger costs. */
static sqlite3 *open_variant(const char *path, enum variant v,
                             replica **rep)
{
    unlink(path);
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    *rep = NULL;
    if (v == CAPTURE || v == CAPTURE_MEM) {
        swlog_error err = {0};
        must(replica_open(path, rep, &err) == SWLOG_OK, NULL, err.msg);
        /* CAPTURE_MEM: what a process that did not call
         * replica_process_init gets (the statement journal in 1 KiB
         * chunks): the figure before that setting existed. */
        if (v == CAPTURE_MEM)
            exec(replica_db(*rep), "PRAGMA temp_store = MEMORY");
        return replica_db(*rep);
    }
    sqlite3 *db;
    must(sqlite3_open(path, &db) == SQLITE_OK, db, "open");
    char *pragmas = sqlite3_mprintf("PRAGMA journal_mode=WAL; PRAGMA "
                                    "synchronous=FULL; PRAGMA temp_store=%s",
                                    temp_store);
    must(pragmas != NULL &&
             sqlite3_exec(db, pragmas, NULL, NULL, NULL) == SQLITE_OK,
         db, "pragmas");
    sqlite3_free(pragmas);
    const schema_model *m = schema_current();
    for (size_t i = 0; i < m->ntables; i++) {
        char *sql = schema_create_sql(&m->tables[i]);
        /* EMPTY_NOSJ: the key's conflict clause FAIL instead of the
         * default ABORT, and nothing in the trigger that may abort: SQLite
         * then keeps no statement journal. Not an option for capture (its
         * clock calls a SQL function, and any function call makes SQLite
         * keep one); it shows what the journal costs. */
        char *key = v == EMPTY_NOSJ ? strstr(sql, "PRIMARY KEY NOT NULL")
                                    : NULL;
        if (key != NULL) {
            *key = '\0';
            char *fail = sqlite3_mprintf("%sPRIMARY KEY ON CONFLICT FAIL NOT "
                                         "NULL ON CONFLICT FAIL%s",
                                         sql, key + strlen("PRIMARY KEY NOT "
                                                           "NULL"));
            sqlite3_free(sql);
            sql = fail;
        }
        must(sql != NULL &&
                 sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
             db, "ddl");
        sqlite3_free(sql);
    }
    if (v == EMPTY || v == EMPTY_NOSJ)
        must(sqlite3_exec(db,
                          "CREATE TRIGGER e0 AFTER INSERT ON clients BEGIN "
                          "SELECT 1; END; CREATE TRIGGER e1 AFTER UPDATE ON "
                          "clients BEGIN SELECT 1; END",
                          NULL, NULL, NULL) == SQLITE_OK,
             db, "empty trigger");
    if (v == COPY)
        copy_trigger(db);
    return db;
}

/* Insert rows [0, n) in transactions of `batch` rows; seconds taken. */
static double insert_rows(sqlite3 *db, int n, int batch)
{
    sqlite3_stmt *st;
    must(sqlite3_prepare_v2(
             db,
             "INSERT INTO clients(id, owner_unit_id, name, gender, "
             "birth_date, id_type, id_number, phone, phone_owner, "
             "village_code, address, hukou, living) VALUES(?1, ?2, ?3, ?4, "
             "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
             -1, &st, NULL) == SQLITE_OK,
         db, "prepare insert");
    char name[32], addr[64];
    /* The first prepare after opening reads the schema and codes the
     * triggers: a once-per-connection cost, kept out of the per-row figure. */
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        if (i % batch == 0)
            exec(db, "BEGIN");
        snprintf(name, sizeof name, "Client %d", i);
        snprintf(addr, sizeof addr, "Room %d, Building %d", i % 700, i % 31);
        sqlite3_bind_text(st, 1, ids[i], 36, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, i % 2 ? "male" : "female", -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 5, "1950-03-07", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, "resident_id", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, "11010519500307002X", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, "+8613812345678", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, "self", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, "440983102001", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 11, addr, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 12, "rural", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 13, "alone", -1, SQLITE_STATIC);
        must(sqlite3_step(st) == SQLITE_DONE, db, "insert");
        sqlite3_reset(st);
        if (i % batch == batch - 1 || i == n - 1)
            exec(db, "COMMIT");
    }
    double t = now_s() - t0;
    sqlite3_finalize(st);
    return t;
}

/* Update one column of rows [0, n) in transactions of `batch` rows. */
static double update_rows(sqlite3 *db, int n, int batch)
{
    sqlite3_stmt *st;
    must(sqlite3_prepare_v2(db, "UPDATE clients SET phone = ?2 WHERE id = ?1",
                            -1, &st, NULL) == SQLITE_OK,
         db, "prepare update");
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        if (i % batch == 0)
            exec(db, "BEGIN");
        sqlite3_bind_text(st, 1, ids[i], 36, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, "+8613900000000", -1, SQLITE_STATIC);
        must(sqlite3_step(st) == SQLITE_DONE, db, "update");
        sqlite3_reset(st);
        if (i % batch == batch - 1 || i == n - 1)
            exec(db, "COMMIT");
    }
    double t = now_s() - t0;
    sqlite3_finalize(st);
    return t;
}

/* The measured calls, not inlined: callgrind collects inside these only
 * (the update mode's preparatory inserts stay out). */
__attribute__((noinline)) static double timed_insert(sqlite3 *db, int n,
                                                     int batch)
{
    return insert_rows(db, n, batch);
}

__attribute__((noinline)) static double timed_update(sqlite3 *db, int n,
                                                     int batch)
{
    return update_rows(db, n, batch);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define MAXRUNS 15

static const struct {
    const char *what;
    int rows_div, batch, update;
} modes[] = {
    {"insert, 500 rows per transaction (import)", 1, 500, 0},
    {"update 1 column, 500 rows per transaction", 1, 500, 1},
    {"insert, 1 row per transaction, fsync (CLI)", 20, 1, 0},
};
#define NMODES (sizeof modes / sizeof modes[0])

/* One run of one mode and variant: seconds (CPU or wall, see clock_id). */
static double run_one(const char *path, size_t k, int n, enum variant v)
{
    clock_id = modes[k].batch > 1 ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
    replica *rep;
    sqlite3 *db = open_variant(path, v, &rep);
    double t;
    if (modes[k].update) {
        insert_rows(db, n, 500);
        t = timed_update(db, n, modes[k].batch);
    } else {
        t = timed_insert(db, n, modes[k].batch);
    }
    if (rep != NULL)
        replica_close(rep);
    else
        sqlite3_close(db);
    return t;
}

int main(int argc, char **argv)
{
    int rows = argc > 1 ? atoi(argv[1]) : 20000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    int one_mode = -1, one_variant = -1;
    if (argc == 5) {
        one_mode = atoi(argv[3]);
        for (int v = 0; v < NVARIANTS; v++)
            if (strcmp(argv[4], variant_names[v]) == 0)
                one_variant = v;
    }
    if (rows < 100 || runs < 1 || runs > MAXRUNS ||
        (argc == 5 && (one_mode < 0 || one_mode >= (int)NMODES ||
                       one_variant < 0)) ||
        (argc != 5 && argc > 3)) {
        fprintf(stderr, "usage: bench_capture [rows>=100] [runs 1-15]\n"
                        "       bench_capture rows 1 MODE(0-%d) "
                        "plain|empty-nosj|empty|copy|capture|capture-mem\n",
                (int)NMODES - 1);
        return 2;
    }
    /* As swsync-agent does first thing (README §Cost of capture). */
    swlog_error err = {0};
    if (replica_process_init(&err) == SWLOG_OK)
        temp_store = "FILE";
    ids = malloc((size_t)rows * sizeof *ids);
    for (int i = 0; i < rows; i++)
        replica_uuid7_text(ids[i]);
    /* A device makes its ids over time, so they arrive in UUIDv7 order
     * (SCHEMA §2.1 chose v7 for index locality); made in one tight loop
     * they share a millisecond and would arrive in random order. */
    qsort(ids, (size_t)rows, sizeof ids[0], cmp_id);
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char path[256];
    snprintf(path, sizeof path, "%s/bench_capture.db", tmp);

    if (one_mode >= 0) {
        int n = rows / modes[one_mode].rows_div;
        double t = run_one(path, (size_t)one_mode, n,
                           (enum variant)one_variant);
        printf("%s, %s: %.2f us/row\n", modes[one_mode].what,
               variant_names[one_variant], t * 1e6 / n);
        free(ids);
        return 0;
    }
    printf("bench_capture: SQLite %s, %d rows, median of %d runs, "
           "synchronous=FULL, WAL\n",
           sqlite3_libversion(), rows, runs);
    printf("%-44s %-4s %-18s %-16s %-16s %-16s %-16s %s\n", "mode", "time",
           "plain", "empty, no stmt j.", "empty trigger", "copy trigger",
           "capture", "capture, temp_store=MEMORY");
    for (size_t k = 0; k < NMODES; k++) {
        int n = rows / modes[k].rows_div;
        double med[NVARIANTS], t[NVARIANTS][MAXRUNS];
        /* Variants interleave within each run, so a noisy neighbour slows
         * all of them alike. */
        for (int r = 0; r < runs; r++)
            for (int v = 0; v < NVARIANTS; v++)
                t[v][r] = run_one(path, k, n, (enum variant)v);
        for (int v = 0; v < NVARIANTS; v++) {
            qsort(t[v], (size_t)runs, sizeof t[v][0], cmp);
            med[v] = t[v][runs / 2];
        }
        printf("%-44s %s %7.2f us/row  ", modes[k].what,
               modes[k].batch > 1 ? "cpu " : "wall", med[PLAIN] * 1e6 / n);
        for (int v = EMPTY_NOSJ; v < NVARIANTS; v++)
            printf("%7.2f (%.2fx)  ", med[v] * 1e6 / n, med[v] / med[PLAIN]);
        printf("\n");
    }
    free(ids);
    return 0;
}
