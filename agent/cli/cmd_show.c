/* swsync-agent show: every column of one record, on the worker's own
 * terminal (personal and sensitive columns included: this is not a log). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rec.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] show TABLE ID [--json]\n"
    "\n"
    "Print every column of the record ID of TABLE, one a line, personal\n"
    "(P) and sensitive (S) columns included and marked: mind who can see\n"
    "the screen. Empty columns show as '-'. --json prints one JSON object\n"
    "(empty columns left out).\n"
    "\n"
    "Exit codes: 0 shown; 1 failed (database); 2 bad command line (unknown\n"
    "table or id).\n";

int cmd_show(int argc, char **argv)
{
    int json = 0;
    const cli_opt opts[] = {{"json", CLI_FLAG, &json}};
    const char *pos[2];
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    int rc = cli_parse("show", argc, argv, opts, 1, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 2)
        return cli_fail("show", CLI_EUSAGE, "give TABLE and ID (see --help)");
    const schema_table *t = rec_table("show", pos[0]);
    if (t == NULL)
        return CLI_EUSAGE;
    cli_station s;
    swlog_error e = {0};
    if (cli_station_load(dir, CLI_OPEN_KEY_OPTIONAL, &s, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err("show", &e, NULL);
    }
    rec_row r;
    if (rec_row_init(&r, t) != 0) {
        cli_station_close(&s);
        return cli_fail("show", CLI_EFAIL, "out of memory");
    }
    int found = rec_row_load("show", replica_db(s.r), &r, pos[1]);
    if (found < 0) {
        rc = CLI_EFAIL;
    } else if (found == 0) {
        rc = cli_fail("show", CLI_EUSAGE,
                      "no %s record with id '%.40s' (swsync-agent list %s "
                      "shows the ids)", t->name, pos[1], t->name);
    } else if (json) {
        rec_json_row(stdout, &r, 0);
        fputc('\n', stdout);
    } else {
        printf("%s %s  %s\n", t->name, t->label, r.id);
        for (size_t i = 0; i < t->ncolumns; i++) {
            const schema_column *c = &t->columns[i];
            printf("  %-22s %s %s\n", c->name,
                   c->sens == SCHEMA_PERSONAL    ? "P"
                   : c->sens == SCHEMA_SENSITIVE ? "S"
                                                 : " ",
                   r.v[i] != NULL ? r.v[i] : "-");
        }
    }
    rec_row_clear(&r);
    cli_station_close(&s);
    return rc;
}
