/* swsync-agent change: new values for some columns of one record; the whole
 * row is validated, and only the given columns are written, so capture
 * records exactly those (agent/README.md "Capture"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rec.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] change TABLE ID COLUMN=VALUE...\n"
    "         [--operator NAME]\n"
    "\n"
    "Change columns of the record ID of TABLE. COLUMN= (nothing after '=')\n"
    "empties the column (NULL). The whole row as it would be is validated\n"
    "(spec/SCHEMA.md §3): every problem is printed and nothing is written\n"
    "if any is an error. Only the given columns are written, so only they\n"
    "are recorded in the station's log.\n"
    "\n"
    "  --operator NAME  who records the change (else station.conf\n"
    "                   'operator', else \"" CLI_DEFAULT_OPERATOR "\")\n"
    "\n"
    "Exit codes: 0 changed; 1 failed (database); 2 bad command line\n"
    "(unknown table, column or id); 3 refused by validation (nothing\n"
    "written).\n";

#define MAX_ARGS 256

static int update(cli_station *s, const rec_row *r, const unsigned char *cols)
{
    const schema_table *t = r->t;
    sqlite3 *db = replica_db(s->r);
    size_t cap = 64 + t->ncolumns * (SWLOG_MAX_NAME + 8);
    char *sql = malloc(cap);
    if (sql == NULL)
        return cli_fail("change", CLI_EFAIL, "out of memory");
    size_t n = (size_t)snprintf(sql, cap, "UPDATE \"%s\" SET ", t->name);
    int first = 1;
    for (size_t i = 0; i < t->ncolumns; i++)
        if (cols[i]) {
            n += (size_t)snprintf(sql + n, cap - n, "%s\"%s\" = ?",
                                  first ? "" : ", ", t->columns[i].name);
            first = 0;
        }
    snprintf(sql + n, cap - n, " WHERE id = ?");
    sqlite3_stmt *st = NULL;
    int rc = CLI_EFAIL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        cli_fail("change", CLI_EFAIL, "%s: %s", t->name, sqlite3_errmsg(db));
        goto done;
    }
    int at = 1;
    for (size_t i = 0; i < t->ncolumns; i++)
        if (cols[i])
            rec_bind(st, at++, &t->columns[i], r->v[i]);
    sqlite3_bind_text(st, at, r->id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        cli_fail("change", CLI_EFAIL, "writing %s: %s", t->name,
                 sqlite3_errmsg(db));
        goto done;
    }
    rc = CLI_OK;
done:
    sqlite3_finalize(st);
    free(sql);
    return rc;
}

int cmd_change(int argc, char **argv)
{
    const char *op = NULL;
    const cli_opt opts[] = {{"operator", CLI_VALUE, &op}};
    const char *pos[MAX_ARGS];
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    int rc = cli_parse("change", argc, argv, opts, 1, pos, MAX_ARGS, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos < 3)
        return cli_fail("change", CLI_EUSAGE,
                        "give TABLE, ID and at least one COLUMN=VALUE (see "
                        "--help)");
    if (op != NULL && !cli_operator_ok(op))
        return cli_fail("change", CLI_EUSAGE,
                        "--operator: 1 to %u bytes, no control characters",
                        SWLOG_MAX_AUTHOR);
    const schema_table *t = rec_table("change", pos[0]);
    if (t == NULL)
        return CLI_EUSAGE;
    /* Check the arguments before opening anything. */
    rec_row probe;
    unsigned char cols[SCHEMA_MAX_COLUMNS] = {0};
    if (rec_row_init(&probe, t) != 0)
        return cli_fail("change", CLI_EFAIL, "out of memory");
    rc = rec_assign("change", &probe, (int)npos - 2, pos + 2, 1, cols);
    rec_row_clear(&probe);
    if (rc != CLI_OK)
        return rc;

    cli_station s;
    swlog_error e = {0};
    if (cli_station_open(dir, &s, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err("change", &e, NULL);
    }
    rec_row r;
    if (rec_row_init(&r, t) != 0) {
        cli_station_close(&s);
        return cli_fail("change", CLI_EFAIL, "out of memory");
    }
    memset(cols, 0, sizeof cols);
    rc = CLI_EFAIL;
    /* Read, validate and write in one transaction: no other writer can
     * change the row in between. */
    if (replica_set_operator(s.r, cli_operator(&s, op), &e) != SWLOG_OK ||
        replica_begin(s.r, &e) != SWLOG_OK) {
        cli_fail_err("change", &e, "is another program writing the "
                                   "replica? Try again.");
        goto out;
    }
    int found = rec_row_load("change", replica_db(s.r), &r, pos[1]);
    if (found <= 0) {
        if (found == 0)
            rc = cli_fail("change", CLI_EUSAGE,
                          "no %s record with id '%.40s' (swsync-agent list "
                          "%s shows the ids)", t->name, pos[1], t->name);
        goto rollback;
    }
    rc = rec_assign("change", &r, (int)npos - 2, pos + 2, 1, cols);
    if (rc != CLI_OK)
        goto rollback;
    rec_normalise(&r, cols);
    int errors = rec_validate("change", &r, replica_db(s.r));
    if (errors > 0) {
        rc = cli_fail("change", CLI_EINVALID,
                      "%d problem%s in the %s row: nothing was written", errors,
                      errors == 1 ? "" : "s", t->name);
        goto rollback;
    }
    rc = update(&s, &r, cols);
    if (rc != CLI_OK)
        goto rollback;
    if (replica_commit(s.r, &e) != SWLOG_OK) {
        rc = cli_fail_err("change", &e, NULL);
        goto rollback;
    }
    printf("%s\n", r.id);
    goto out;
rollback:
    replica_rollback(s.r);
out:
    rec_row_clear(&r);
    cli_station_close(&s);
    return rc;
}
