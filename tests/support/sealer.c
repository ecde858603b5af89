/* swsync_test_sealer: a replica and its log for scripts (test_sealer.sh,
 * manual crash runs): write N captured client records and/or seal them with
 * test key 1 (FORMAT §12), printing what sealing did. Not a product tool.
 *
 * usage: swsync_test_sealer DB LOG [--write N] [--seal] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica.h"
#include "seal.h"
#include "testutil.h"

#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

static int report(const char *what, const swlog_error *err)
{
    fprintf(stderr, "sealer: %s: %s: %s\n", what, swlog_code_name(err->code),
            err->msg);
    return 1;
}

static int write_records(replica *r, unsigned long n)
{
    swlog_error err = {0};
    sqlite3 *db = replica_db(r);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO clients(id, owner_unit_id, name, "
                           "gender, birth_date, id_type, village_code, "
                           "birth_estimated) VALUES(?1, '" OWNER "', ?2, "
                           "'male', '1960-01-01', 'none', '440983102001', 0)",
                           -1, &st, NULL) != SQLITE_OK)
        return 1;
    for (unsigned long i = 0; i < n; i++) {
        if (i % 1000 == 0 && replica_begin(r, &err) != SWLOG_OK)
            return report("begin", &err);
        char id[37], name[32];
        replica_uuid7_text(id);
        snprintf(name, sizeof name, "record %lu", i);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            return 1;
        sqlite3_reset(st);
        if ((i % 1000 == 999 || i + 1 == n) &&
            replica_commit(r, &err) != SWLOG_OK)
            return report("commit", &err);
    }
    sqlite3_finalize(st);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || swlog_init() != SWLOG_OK) {
        fprintf(stderr, "usage: swsync_test_sealer DB LOG [--write N] "
                        "[--seal]\n");
        return 2;
    }
    replica *r = NULL;
    swlog_error err = {0};
    if (replica_open(argv[1], &r, &err) != SWLOG_OK)
        return report("replica", &err);
    int rc = 0;
    for (int i = 3; rc == 0 && i < argc; i++) {
        if (strcmp(argv[i], "--write") == 0 && i + 1 < argc) {
            rc = write_records(r, strtoul(argv[++i], NULL, 10));
        } else if (strcmp(argv[i], "--seal") == 0) {
            uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
            test_key(1, pk, sk);
            seal_stats st = {0};
            sealer *s = NULL;
            if (seal_open(r, argv[2], sk, NULL, &s, &st, &err) != SWLOG_OK ||
                seal_run(s, &st, &err) != SWLOG_OK)
                rc = report("seal", &err);
            seal_close(s);
            swlog_wipe(sk, sizeof sk);
            if (rc == 0)
                printf("sealed %llu records in %llu change-sets "
                       "(recovered %llu)\n",
                       (unsigned long long)st.records,
                       (unsigned long long)st.changesets,
                       (unsigned long long)st.recovered);
        } else {
            fprintf(stderr, "sealer: unknown argument\n");
            rc = 2;
        }
    }
    replica_close(r);
    return rc;
}
