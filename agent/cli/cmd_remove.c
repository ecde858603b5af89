/* swsync-agent remove: delete one record (captured as a delete, FORMAT §5),
 * refusing while other records refer to it unless --force. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rec.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] remove TABLE ID [--operator NAME]\n"
    "         [--force]\n"
    "\n"
    "Delete the record ID of TABLE. The deletion is recorded (and sealed\n"
    "and synced like any change); earlier values stay in the station's\n"
    "log. Refused while records of other tables refer to it, unless\n"
    "--force.\n"
    "\n"
    "Exit codes: 0 removed; 1 failed (database); 2 bad command line\n"
    "(unknown table or id); 3 refused: other records refer to it.\n";

/* Count the rows that refer to id through a declared reference. Prints
 * each referring table. */
static long long referrers(sqlite3 *db, const schema_table *target,
                           const char *id)
{
    const schema_model *m = schema_current();
    long long total = 0;
    for (size_t i = 0; i < m->ntables; i++) {
        const schema_table *t = &m->tables[i];
        for (size_t j = 0; j < t->ncolumns; j++) {
            const schema_column *c = &t->columns[j];
            if (c->ref == NULL || strcmp(c->ref, target->name) != 0)
                continue;
            char sql[256];
            snprintf(sql, sizeof sql,
                     "SELECT count(*) FROM \"%s\" WHERE \"%s\" = ?", t->name,
                     c->name);
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                continue;
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW) {
                long long n = sqlite3_column_int64(st, 0);
                if (n > 0)
                    fprintf(stderr, "  %lld %s row%s (%s)\n", n, t->name,
                            n == 1 ? "" : "s", c->name);
                total += n;
            }
            sqlite3_finalize(st);
        }
    }
    return total;
}

int cmd_remove(int argc, char **argv)
{
    const char *op = NULL;
    int force = 0;
    const cli_opt opts[] = {{"operator", CLI_VALUE, &op},
                            {"force", CLI_FLAG, &force}};
    const char *pos[2];
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    int rc = cli_parse("remove", argc, argv, opts, 2, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 2)
        return cli_fail("remove", CLI_EUSAGE, "give TABLE and ID (see "
                                              "--help)");
    if (op != NULL && !cli_operator_ok(op))
        return cli_fail("remove", CLI_EUSAGE,
                        "--operator: 1 to %u bytes, no control characters",
                        SWLOG_MAX_AUTHOR);
    const schema_table *t = rec_table("remove", pos[0]);
    if (t == NULL)
        return CLI_EUSAGE;
    cli_station s;
    swlog_error e = {0};
    if (cli_station_open(dir, &s, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err("remove", &e, NULL);
    }
    sqlite3 *db = replica_db(s.r);
    rc = CLI_EFAIL;
    if (replica_set_operator(s.r, cli_operator(&s, op), &e) != SWLOG_OK ||
        replica_begin(s.r, &e) != SWLOG_OK) {
        cli_fail_err("remove", &e, "is another program writing the "
                                   "replica? Try again.");
        goto out;
    }
    if (!force) {
        long long n = referrers(db, t, pos[1]);
        if (n > 0) {
            rc = cli_fail("remove", CLI_EINVALID,
                          "%lld record%s above refer to this %s record: "
                          "change or remove them first, or give --force",
                          n, n == 1 ? "" : "s", t->name);
            goto rollback;
        }
    }
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE id = ?", t->name);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        cli_fail("remove", CLI_EFAIL, "%s: %s", t->name, sqlite3_errmsg(db));
        goto rollback;
    }
    sqlite3_bind_text(st, 1, pos[1], -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        cli_fail("remove", CLI_EFAIL, "deleting from %s: %s", t->name,
                 sqlite3_errmsg(db));
        goto rollback;
    }
    if (sqlite3_changes(db) != 1) {
        rc = cli_fail("remove", CLI_EUSAGE,
                      "no %s record with id '%.40s' (swsync-agent list %s "
                      "shows the ids)", t->name, pos[1], t->name);
        goto rollback;
    }
    if (replica_commit(s.r, &e) != SWLOG_OK) {
        cli_fail_err("remove", &e, NULL);
        goto rollback;
    }
    printf("removed %s %s\n", t->name, pos[1]);
    rc = CLI_OK;
    goto out;
rollback:
    replica_rollback(s.r);
out:
    cli_station_close(&s);
    return rc;
}
