/* swsync-agent tables: the record model (spec/SCHEMA.md) in brief, so a
 * worker knows the names add, change and list take. Needs no folder. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "schema.h"

static const char usage[] =
    "usage: swsync-agent tables [TABLE]\n"
    "\n"
    "List the tables of the record model with their labels and columns.\n"
    "With TABLE, list that table's columns one a line: type, presence\n"
    "(R required, O optional, C conditional), sensitivity (P personal,\n"
    "S sensitive: shown by show, never by list), and what it refers to.\n"
    "Needs no station folder.\n"
    "\n"
    "Exit codes: 0 done; 2 bad command line (unknown TABLE).\n";

static const char *presence(schema_presence p)
{
    return p == SCHEMA_REQUIRED ? "R" : p == SCHEMA_CONDITIONAL ? "C" : "O";
}

static const char *sens(schema_sensitivity s)
{
    return s == SCHEMA_PERSONAL ? "P" : s == SCHEMA_SENSITIVE ? "S" : "-";
}

int cmd_tables(int argc, char **argv)
{
    const char *pos[1];
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    (void)cli_dir(&argc, argv);
    int rc = cli_parse("tables", argc, argv, NULL, 0, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    const schema_model *m = schema_current();
    if (npos == 1) {
        const schema_table *t = schema_find(m, pos[0]);
        if (t == NULL)
            return cli_fail("tables", CLI_EUSAGE,
                            "no table '%.64s' (swsync-agent tables lists "
                            "them)", pos[0]);
        printf("%s  %s\n", t->name, t->label);
        printf("  %-24s %-7s %s %s %s\n", "id", "TEXT", "R", "-",
               "(set by add)");
        for (size_t i = 0; i < t->ncolumns; i++) {
            const schema_column *c = &t->columns[i];
            printf("  %-24s %-7s %s %s", c->name,
                   c->type == SCHEMA_INTEGER ? "INTEGER" : "TEXT",
                   presence(c->presence), sens(c->sens));
            if (c->ref != NULL)
                printf(" -> %s", c->ref);
            if (c->values != NULL) {
                fputs(" {", stdout);
                for (size_t j = 0; c->values[j] != NULL; j++)
                    printf("%s%s", j ? "," : "", c->values[j]);
                fputs("}", stdout);
            }
            fputc('\n', stdout);
        }
        return CLI_OK;
    }
    for (size_t i = 0; i < m->ntables; i++) {
        const schema_table *t = &m->tables[i];
        size_t p = 0, req = 0;
        for (size_t j = 0; j < t->ncolumns; j++) {
            p += t->columns[j].sens != SCHEMA_PLAIN;
            req += t->columns[j].presence == SCHEMA_REQUIRED;
        }
        /* The label last: CJK text is wider than its bytes. */
        printf("%-24s %2zu columns, %2zu required, %2zu personal or "
               "sensitive  %s\n",
               t->name, t->ncolumns, req, p, t->label);
    }
    return CLI_OK;
}
