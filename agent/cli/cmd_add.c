/* swsync-agent add: one new record, validated (spec/SCHEMA.md §3), written
 * with a fresh UUIDv7 id under the operator (agent/README.md §Operator). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rec.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] add TABLE COLUMN=VALUE...\n"
    "         [--operator NAME]\n"
    "\n"
    "Add a record to TABLE (swsync-agent tables lists them) and print its\n"
    "new id. The row is validated first (required columns, enumerations,\n"
    "dates, resident ID numbers, phones, references: spec/SCHEMA.md §3);\n"
    "every problem is printed and nothing is written if any is an error.\n"
    "Phone numbers are stored as E.164 (+86...) and resident ID numbers in\n"
    "their 18-character form. owner_unit_id, when not given, is the\n"
    "org_units row whose unit_code is this station's unit (if there is\n"
    "exactly one).\n"
    "\n"
    "  --operator NAME  who records the change (else station.conf\n"
    "                   'operator', else \"" CLI_DEFAULT_OPERATOR "\")\n"
    "\n"
    "Example:\n"
    "  swsync-agent add clients name=张三 gender=male birth_date=1950-03-07\n"
    "      id_type=resident_id id_number=11010519500307001X\n"
    "      village_code=440983102001\n"
    "\n"
    "Exit codes: 0 added; 1 failed (database); 2 bad command line (unknown\n"
    "table or column); 3 refused by validation (nothing written).\n";

#define MAX_ARGS 256

/* The station's own org_units row: its id into out when exactly one row
 * has the station's unit code. */
static int own_unit(sqlite3 *db, const char *unit, char out[37])
{
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT id FROM org_units WHERE unit_code = ? "
                               "LIMIT 2",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (n++ == 0 && id != NULL)
            snprintf(out, 37, "%.36s", id);
    }
    sqlite3_finalize(st);
    return n == 1;
}

static int insert(cli_station *s, const rec_row *r, const char *op)
{
    const schema_table *t = r->t;
    sqlite3 *db = replica_db(s->r);
    swlog_error e = {0};
    size_t cap = 64 + t->ncolumns * (SWLOG_MAX_NAME + 8);
    char *sql = malloc(cap);
    if (sql == NULL)
        return cli_fail("add", CLI_EFAIL, "out of memory");
    size_t n = (size_t)snprintf(sql, cap, "INSERT INTO \"%s\"(id", t->name);
    for (size_t i = 0; i < t->ncolumns; i++)
        if (r->v[i] != NULL)
            n += (size_t)snprintf(sql + n, cap - n, ",\"%s\"",
                                  t->columns[i].name);
    n += (size_t)snprintf(sql + n, cap - n, ") VALUES(?");
    for (size_t i = 0; i < t->ncolumns; i++)
        if (r->v[i] != NULL)
            n += (size_t)snprintf(sql + n, cap - n, ",?");
    snprintf(sql + n, cap - n, ")");

    int rc = CLI_EFAIL;
    sqlite3_stmt *st = NULL;
    if (replica_set_operator(s->r, op, &e) != SWLOG_OK ||
        replica_begin(s->r, &e) != SWLOG_OK) {
        free(sql);
        return cli_fail_err("add", &e, "is another program writing the "
                                       "replica? Try again.");
    }
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        cli_fail("add", CLI_EFAIL, "%s: %s", t->name, sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    int at = 2;
    for (size_t i = 0; i < t->ncolumns; i++)
        if (r->v[i] != NULL)
            rec_bind(st, at++, &t->columns[i], r->v[i]);
    if (sqlite3_step(st) != SQLITE_DONE) {
        cli_fail("add", CLI_EFAIL, "writing %s: %s", t->name,
                 sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (replica_commit(s->r, &e) != SWLOG_OK) {
        cli_fail_err("add", &e, NULL);
        goto done;
    }
    rc = CLI_OK;
done:
    sqlite3_finalize(st);
    if (rc != CLI_OK)
        replica_rollback(s->r);
    free(sql);
    return rc;
}

int cmd_add(int argc, char **argv)
{
    const char *op = NULL;
    const cli_opt opts[] = {{"operator", CLI_VALUE, &op}};
    const char *pos[MAX_ARGS];
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    int rc = cli_parse("add", argc, argv, opts, 1, pos, MAX_ARGS, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos < 2)
        return cli_fail("add", CLI_EUSAGE,
                        "give TABLE and at least one COLUMN=VALUE (see "
                        "--help)");
    if (op != NULL && !cli_operator_ok(op))
        return cli_fail("add", CLI_EUSAGE,
                        "--operator: 1 to %u bytes, no control characters",
                        SWLOG_MAX_AUTHOR);
    const schema_table *t = rec_table("add", pos[0]);
    if (t == NULL)
        return CLI_EUSAGE;

    rec_row r;
    unsigned char cols[SCHEMA_MAX_COLUMNS] = {0};
    if (rec_row_init(&r, t) != 0)
        return cli_fail("add", CLI_EFAIL, "out of memory");
    rc = rec_assign("add", &r, (int)npos - 1, pos + 1, 0, cols);
    if (rc != CLI_OK) {
        rec_row_clear(&r);
        return rc;
    }

    cli_station s;
    swlog_error e = {0};
    if (cli_station_open(dir, &s, &e) != SWLOG_OK) {
        rec_row_clear(&r);
        cli_station_close(&s);
        return cli_fail_err("add", &e, NULL);
    }
    sqlite3 *db = replica_db(s.r);
    int oi = schema_column_index(t, "owner_unit_id");
    char owner[37];
    if (oi >= 0 && r.v[oi] == NULL && own_unit(db, s.unit, owner)) {
        rec_row_set(&r, oi, owner);
        cols[oi] = 1;
    }
    rec_normalise(&r, cols);
    replica_uuid7_text(r.id);
    int errors = rec_validate("add", &r, db);
    if (errors > 0) {
        rc = cli_fail("add", CLI_EINVALID,
                      "%d problem%s in the %s row: nothing was written", errors,
                      errors == 1 ? "" : "s", t->name);
    } else {
        rc = insert(&s, &r, cli_operator(&s, op));
        if (rc == CLI_OK)
            printf("%s\n", r.id);
    }
    rec_row_clear(&r);
    cli_station_close(&s);
    return rc;
}
