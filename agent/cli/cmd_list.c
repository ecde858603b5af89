/* swsync-agent list: one line per record with its id and its plain columns
 * only, so a list never shows ID numbers, names or notes on screen
 * (personal and sensitive columns: agent/schema.c). Streams the rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rec.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] list TABLE [--where COLUMN=VALUE]\n"
    "         [--limit N] [--json]\n"
    "\n"
    "List the records of TABLE, oldest first, one a line: the id and the\n"
    "columns that are neither personal nor sensitive, as COLUMN=VALUE\n"
    "(empty ones left out). 'swsync-agent show TABLE ID' shows a whole\n"
    "record. --where keeps the records whose COLUMN equals VALUE (any\n"
    "column, e.g. id_number, which is still not shown). --limit N stops\n"
    "after N records. --json prints one JSON object a line.\n"
    "\n"
    "Exit codes: 0 listed (even none); 1 failed (database); 2 bad command\n"
    "line.\n";

int cmd_list(int argc, char **argv)
{
    int json = 0;
    const char *where = NULL, *limit = NULL;
    const cli_opt opts[] = {{"json", CLI_FLAG, &json},
                            {"where", CLI_VALUE, &where},
                            {"limit", CLI_VALUE, &limit}};
    const char *pos[1];
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    int rc = cli_parse("list", argc, argv, opts, 3, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_fail("list", CLI_EUSAGE, "give one TABLE (see --help)");
    const schema_table *t = rec_table("list", pos[0]);
    if (t == NULL)
        return CLI_EUSAGE;
    long long lim = -1;
    if (limit != NULL && (!cli_parse_int(limit, &lim) || lim < 0))
        return cli_fail("list", CLI_EUSAGE,
                        "--limit wants a number of records, not '%.40s'",
                        limit);
    char wcol[SWLOG_MAX_NAME + 1];
    const char *wval = NULL;
    int wi = -2;
    if (where != NULL) {
        if (cli_assignment(where, wcol, &wval) != 0)
            return cli_fail("list", CLI_EUSAGE,
                            "--where wants COLUMN=VALUE");
        wi = strcmp(wcol, "id") == 0 ? -1 : rec_column("list", t, wcol);
        if (wi == -1 && strcmp(wcol, "id") != 0)
            return CLI_EUSAGE;
    }
    cli_station s;
    swlog_error e = {0};
    if (cli_station_load(dir, CLI_OPEN_KEY_OPTIONAL, &s, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err("list", &e, NULL);
    }
    sqlite3 *db = replica_db(s.r);
    size_t cap = 128 + t->ncolumns * (SWLOG_MAX_NAME + 4);
    char *sql = malloc(cap);
    rec_row r;
    if (sql == NULL || rec_row_init(&r, t) != 0) {
        free(sql);
        cli_station_close(&s);
        return cli_fail("list", CLI_EFAIL, "out of memory");
    }
    size_t n = (size_t)snprintf(sql, cap, "SELECT id");
    for (size_t i = 0; i < t->ncolumns; i++)
        n += (size_t)snprintf(sql + n, cap - n, ",\"%s\"", t->columns[i].name);
    n += (size_t)snprintf(sql + n, cap - n, " FROM \"%s\"", t->name);
    if (where != NULL)
        n += (size_t)snprintf(sql + n, cap - n, " WHERE \"%s\" = ?",
                              wi < 0 ? "id" : t->columns[wi].name);
    /* UUIDv7 ids sort by creation time. */
    snprintf(sql + n, cap - n, " ORDER BY id LIMIT ?");
    sqlite3_stmt *st = NULL;
    rc = CLI_OK;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = cli_fail("list", CLI_EFAIL, "%s: %s", t->name,
                      sqlite3_errmsg(db));
        goto done;
    }
    int at = 1;
    if (where != NULL) {
        if (wi >= 0)
            rec_bind(st, at++, &t->columns[wi], wval);
        else
            sqlite3_bind_text(st, at++, wval, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, at, lim);
    long long rows = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(r.id, sizeof r.id, "%.36s",
                 (const char *)sqlite3_column_text(st, 0));
        for (size_t i = 0; i < t->ncolumns; i++) {
            const schema_column *c = &t->columns[i];
            int null = sqlite3_column_type(st, (int)i + 1) == SQLITE_NULL;
            rec_row_set(&r, (int)i,
                        null || c->sens != SCHEMA_PLAIN
                            ? NULL
                            : (const char *)sqlite3_column_text(st,
                                                                (int)i + 1));
        }
        if (json) {
            rec_json_row(stdout, &r, 1);
        } else {
            fputs(r.id, stdout);
            for (size_t i = 0; i < t->ncolumns; i++)
                if (r.v[i] != NULL)
                    printf("  %s=%s", t->columns[i].name, r.v[i]);
        }
        fputc('\n', stdout);
        rows++;
    }
    if (step != SQLITE_DONE)
        rc = cli_fail("list", CLI_EFAIL, "reading %s: %s", t->name,
                      sqlite3_errmsg(db));
    else if (!json && isatty(1))
        fprintf(stderr, "%lld %s record%s\n", rows, t->name,
                rows == 1 ? "" : "s");
done:
    sqlite3_finalize(st);
    rec_row_clear(&r);
    free(sql);
    cli_station_close(&s);
    return rc;
}
