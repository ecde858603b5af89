/* swsync-agent import and template: rows of one table from a CSV file, all
 * or nothing (agent/csvimport.h; agent/README.md "CSV import"), and the
 * CSV template to fill for it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "csvimport.h"
#include "schema.h"

static const char import_usage[] =
    "usage: swsync-agent import TABLE FILE [--update] [--operator NAME]\n"
    "                           [--dir DIR]\n"
    "\n"
    "Add the rows of a CSV file (UTF-8, comma-separated, first line the\n"
    "column names; swsync-agent template TABLE writes one to fill) to\n"
    "TABLE of the station's replica. FILE - reads standard input.\n"
    "\n"
    "Every line is checked as entry checks it (required columns,\n"
    "enumerations, dates, ID numbers, phones, references; references may\n"
    "name rows of earlier lines of the same file). If any line is refused,\n"
    "nothing is written, and each refused line is listed as\n"
    "  FILE:LINE: column: what is wrong\n"
    "(never the value of a personal column). Otherwise all rows are\n"
    "written in one transaction, recorded under the operator, and sealed\n"
    "and synced like any other change. Import only adds rows: an id that\n"
    "exists already is refused, unless --update. Lines starting with # are\n"
    "comments.\n"
    "\n"
    "  --update         a line whose id is in TABLE changes that row: the\n"
    "                   columns of the header take the line's values (an\n"
    "                   empty field clears one), the others stay; the row\n"
    "                   is checked as it would then be. The header need not\n"
    "                   name every required column (new rows still need\n"
    "                   them). Lines without an id, or with a new one, add\n"
    "                   rows.\n"
    "  --operator NAME  who is recorded as making the changes (default:\n"
    "                   station.conf's operator, else \"station\")\n"
    "  --dir DIR        the station folder (else $SWSYNC_DIR, else .)\n"
    "\n"
    "A progress line is shown on a terminal.\n"
    "\n"
    "Exit codes: 0 imported; 1 failed (I/O, database: nothing written);\n"
    "2 bad command line; 3 lines refused (nothing written).\n";

static const char template_usage[] =
    "usage: swsync-agent template TABLE [--out FILE]\n"
    "\n"
    "Write the CSV template of TABLE for swsync-agent import: the header\n"
    "line (id and the table's columns) and a guide line, starting with #,\n"
    "that says under each column whether it is required and what it takes\n"
    "(formats, allowed values, lists separated by ;). The file starts with\n"
    "a UTF-8 byte order mark so that spreadsheet programs read it as\n"
    "UTF-8. Leave id empty to have one made. Needs no station folder.\n"
    "\n"
    "  --out FILE   write FILE (refused if it exists) instead of standard\n"
    "               output\n"
    "\n"
    "Exit codes: 0 written; 1 write failed; 2 bad command line.\n";

typedef struct sink_ctx {
    const char *source;
    cli_progress *progress;
} sink_ctx;

static void print_issue(const csvimport_issue *is, void *ctx)
{
    sink_ctx *s = ctx;
    if (s->progress->tty) {
        fputs("\r\033[K", stderr);
    }
    fprintf(stderr, "%s:%llu: %s%s%s%s\n", s->source,
            (unsigned long long)is->line,
            is->column != NULL ? is->column : "",
            is->column != NULL ? ": " : "", is->warning ? "warning: " : "",
            is->msg);
}

static void show_progress(uint64_t lines, uint64_t bytes, void *ctx)
{
    (void)bytes;
    cli_progress_update(ctx, lines);
}

int cmd_import(int argc, char **argv)
{
    const char *pos[2], *op = NULL;
    int update = 0;
    size_t npos;
    if (cli_want_help(argc, argv, import_usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    cli_opt opts[] = {{"operator", CLI_VALUE, &op},
                      {"update", CLI_FLAG, &update}};
    int rc = cli_parse("import", argc, argv, opts, 2, pos, 2, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 2)
        return cli_fail("import", CLI_EUSAGE,
                        "give TABLE and FILE (swsync-agent import --help)");
    const schema_table *t = schema_find(schema_current(), pos[0]);
    if (t == NULL)
        return cli_fail("import", CLI_EUSAGE,
                        "no table '%.64s' (swsync-agent tables lists them)",
                        pos[0]);
    int use_stdin = strcmp(pos[1], "-") == 0;
    const char *source = use_stdin ? "stdin" : pos[1];
    FILE *in = use_stdin ? stdin : fopen(pos[1], "rb");
    if (in == NULL)
        return cli_fail("import", CLI_EFAIL, "%s: %s", pos[1],
                        strerror(errno));

    cli_station st;
    swlog_error err = {0};
    rc = cli_station_load(dir, CLI_OPEN_KEY_OPTIONAL, &st, &err);
    if (rc == SWLOG_OK)
        rc = replica_set_operator(st.r, cli_operator(&st, op), &err);
    if (rc != SWLOG_OK) {
        cli_station_close(&st);
        if (!use_stdin)
            fclose(in);
        return cli_fail_err("import", &err, NULL);
    }

    cli_progress prog;
    char what[96];
    snprintf(what, sizeof what, "importing %.40s, lines", source);
    cli_progress_start(&prog, what, 0);
    sink_ctx sc = {source, &prog};
    csvimport_opts io = {source,        NULL,  print_issue, &sc,
                         show_progress, &prog, update};
    csvimport_result res;
    rc = csvimport_run(st.r, t, in, &io, &res, &err);
    cli_progress_end(&prog);
    cli_station_close(&st);
    if (!use_stdin)
        fclose(in);
    if (rc == SWLOG_EINVAL) {
        fprintf(stderr, "swsync-agent import: %s\n", err.msg);
        return CLI_EINVALID;
    }
    if (rc != SWLOG_OK)
        return cli_fail_err("import", &err,
                            "nothing was written; fix the cause and run the "
                            "import again");
    printf("imported %llu %s rows from %s", (unsigned long long)res.inserted,
           t->name, source);
    if (update)
        printf(", updated %llu", (unsigned long long)res.updated);
    if (res.warnings > 0)
        printf(" (%llu warnings to review)",
               (unsigned long long)res.warnings);
    printf("\n");
    return CLI_OK;
}

int cmd_template(int argc, char **argv)
{
    const char *pos[1], *out = NULL;
    size_t npos;
    if (cli_want_help(argc, argv, template_usage))
        return CLI_OK;
    (void)cli_dir(&argc, argv);
    cli_opt opts[] = {{"out", CLI_VALUE, &out}};
    int rc = cli_parse("template", argc, argv, opts, 1, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_fail("template", CLI_EUSAGE,
                        "give TABLE (swsync-agent template --help)");
    const schema_table *t = schema_find(schema_current(), pos[0]);
    if (t == NULL)
        return cli_fail("template", CLI_EUSAGE,
                        "no table '%.64s' (swsync-agent tables lists them)",
                        pos[0]);
    FILE *f = stdout;
    if (out != NULL) {
        /* Never over a file: it may be a filled-in template. */
        f = fopen(out, "wbx");
        if (f == NULL)
            return cli_fail("template", CLI_EFAIL, "%s: %s%s", out,
                            strerror(errno),
                            errno == EEXIST ? " (choose another name)" : "");
    }
    swlog_error err = {0};
    rc = csvimport_template(t, f, &err);
    if (f != stdout && fclose(f) != 0 && rc == SWLOG_OK)
        rc = swlog_fail(&err, SWLOG_EIO, 0, "%s: %s", out, strerror(errno));
    if (rc != SWLOG_OK)
        return cli_fail_err("template", &err, NULL);
    return CLI_OK;
}
