/* Records for swsync-agent's add, change, show, list and remove (rec.h). */
#include "rec.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "validate.h"

const schema_table *rec_table(const char *cmd, const char *name)
{
    const schema_model *m = schema_current();
    const schema_table *t = schema_find(m, name);
    if (t != NULL)
        return t;
    fprintf(stderr, "swsync-agent %s: no table '%.64s'. Tables:", cmd, name);
    for (size_t i = 0; i < m->ntables; i++)
        fprintf(stderr, "%s %s", i ? "," : "", m->tables[i].name);
    fputs("\n  (swsync-agent tables TABLE lists a table's columns)\n", stderr);
    return NULL;
}

int rec_column(const char *cmd, const schema_table *t, const char *name)
{
    int i = schema_column_index(t, name);
    if (i >= 0)
        return i;
    fprintf(stderr, "swsync-agent %s: %s has no column '%.64s'. Columns:",
            cmd, t->name, name);
    for (size_t j = 0; j < t->ncolumns; j++)
        fprintf(stderr, "%s %s", j ? "," : "", t->columns[j].name);
    fputc('\n', stderr);
    return -1;
}

int rec_row_init(rec_row *r, const schema_table *t)
{
    memset(r, 0, sizeof *r);
    r->t = t;
    r->v = calloc(t->ncolumns > 0 ? t->ncolumns : 1, sizeof *r->v);
    return r->v != NULL ? 0 : -1;
}

void rec_row_clear(rec_row *r)
{
    if (r->v != NULL)
        for (size_t i = 0; i < r->t->ncolumns; i++)
            free(r->v[i]);
    free(r->v);
    r->v = NULL;
}

int rec_row_set(rec_row *r, int i, const char *value)
{
    char *c = NULL;
    if (value != NULL && (c = strdup(value)) == NULL)
        return -1;
    free(r->v[i]);
    r->v[i] = c;
    return 0;
}

int rec_row_load(const char *cmd, sqlite3 *db, rec_row *r, const char *id)
{
    const schema_table *t = r->t;
    size_t cap = 64 + t->ncolumns * (SWLOG_MAX_NAME + 4);
    char *sql = malloc(cap);
    if (sql == NULL)
        return -1;
    size_t n = (size_t)snprintf(sql, cap, "SELECT id");
    for (size_t i = 0; i < t->ncolumns; i++)
        n += (size_t)snprintf(sql + n, cap - n, ",\"%s\"", t->columns[i].name);
    snprintf(sql + n, cap - n, " FROM \"%s\" WHERE id = ?", t->name);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "swsync-agent %s: reading %s: %s\n", cmd, t->name,
                sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int found = 0;
    if (rc == SQLITE_ROW) {
        found = 1;
        snprintf(r->id, sizeof r->id, "%s",
                 (const char *)sqlite3_column_text(st, 0));
        for (size_t i = 0; i < t->ncolumns; i++) {
            const char *v = sqlite3_column_type(st, (int)i + 1) == SQLITE_NULL
                                ? NULL
                                : (const char *)sqlite3_column_text(
                                      st, (int)i + 1);
            if (rec_row_set(r, (int)i, v) != 0) {
                found = -1;
                break;
            }
        }
    } else if (rc != SQLITE_DONE) {
        fprintf(stderr, "swsync-agent %s: reading %s: %s\n", cmd, t->name,
                sqlite3_errmsg(db));
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

int rec_assign(const char *cmd, rec_row *r, int nargs, const char *const *args,
               int allow_null, unsigned char *cols)
{
    for (int a = 0; a < nargs; a++) {
        char col[SWLOG_MAX_NAME + 1];
        const char *v;
        if (cli_assignment(args[a], col, &v) != 0)
            return cli_fail(cmd, CLI_EUSAGE,
                            "'%.40s' is not COLUMN=VALUE (quote values with "
                            "spaces: name='...')", args[a]);
        if (strcmp(col, "id") == 0)
            return cli_fail(cmd, CLI_EUSAGE,
                            "id is set by swsync-agent add and never "
                            "changes (spec/SCHEMA.md §2)");
        int i = rec_column(cmd, r->t, col);
        if (i < 0)
            return CLI_EUSAGE;
        const schema_column *c = &r->t->columns[i];
        if (cols[i])
            return cli_fail(cmd, CLI_EUSAGE, "%s given twice", col);
        cols[i] = 1;
        if (v[0] == '\0') {
            if (!allow_null)
                return cli_fail(cmd, CLI_EUSAGE,
                                "%s= is empty: leave the column out instead",
                                col);
            rec_row_set(r, i, NULL);
            continue;
        }
        if (strlen(v) > SWLOG_MAX_TEXT)
            return cli_fail(cmd, CLI_EINVALID,
                            "%s: longer than %u bytes", col, SWLOG_MAX_TEXT);
        long long n;
        if (c->type == SCHEMA_INTEGER && !cli_parse_int(v, &n)) {
            if (c->sens != SCHEMA_PLAIN)
                return cli_fail(cmd, CLI_EINVALID,
                                "%s.%s must be an integer (digits only)",
                                r->t->name, col);
            return cli_fail(cmd, CLI_EINVALID,
                            "%s.%s must be an integer, not '%.40s'",
                            r->t->name, col, v);
        }
        if (rec_row_set(r, i, v) != 0)
            return cli_fail(cmd, CLI_EFAIL, "out of memory");
    }
    return CLI_OK;
}

void rec_normalise(rec_row *r, const unsigned char *cols)
{
    char why[160];
    int it = schema_column_index(r->t, "id_type");
    const char *type = it >= 0 ? r->v[it] : NULL;
    for (size_t i = 0; i < r->t->ncolumns; i++) {
        const schema_column *c = &r->t->columns[i];
        if (!cols[i] || r->v[i] == NULL)
            continue;
        if (c->rule == SCHEMA_R_PHONE) {
            char out[24];
            if (validate_phone(r->v[i], out, why, sizeof why) >= 0)
                rec_row_set(r, (int)i, out);
        } else if (c->rule == SCHEMA_R_ID_NUMBER &&
                   (type == NULL || strcmp(type, "resident_id") == 0 ||
                    strcmp(type, "hmt_residence_permit") == 0)) {
            char out[19] = {0};
            int hmt = type != NULL && strcmp(type, "hmt_residence_permit") == 0;
            /* Only a number that validates replaces the input; validation
             * then reports the rest against the row. */
            if (validate_resident_id(r->v[i], hmt, NULL, NULL, NULL, out, why,
                                     sizeof why) >= 0)
                rec_row_set(r, (int)i, out);
        }
    }
}

typedef struct sink_ctx {
    const char *cmd;
} sink_ctx;

static void sink(const validate_issue *is, void *ctx)
{
    const sink_ctx *s = ctx;
    fprintf(stderr, "swsync-agent %s: %s: %s\n", s->cmd,
            is->warning ? "warning" : "error", is->msg);
}

int rec_validate(const char *cmd, const rec_row *r, sqlite3 *db)
{
    sink_ctx s = {cmd};
    validate_ctx ctx = {NULL, db, sink, &s};
    return validate_row(r->t, r->id, (const char *const *)r->v, &ctx);
}

int rec_bind(sqlite3_stmt *st, int at, const schema_column *c,
             const char *value)
{
    long long n;
    if (value == NULL)
        return sqlite3_bind_null(st, at);
    if (c->type == SCHEMA_INTEGER && cli_parse_int(value, &n))
        return sqlite3_bind_int64(st, at, n);
    return sqlite3_bind_text(st, at, value, -1, SQLITE_TRANSIENT);
}

void rec_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p == '\r')
            fputs("\\r", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void rec_json_row(FILE *f, const rec_row *r, int plain_only)
{
    fputs("{\"table\":", f);
    rec_json_str(f, r->t->name);
    fputs(",\"id\":", f);
    rec_json_str(f, r->id);
    for (size_t i = 0; i < r->t->ncolumns; i++) {
        const schema_column *c = &r->t->columns[i];
        if (r->v[i] == NULL || (plain_only && c->sens != SCHEMA_PLAIN))
            continue;
        fputc(',', f);
        rec_json_str(f, c->name);
        fputc(':', f);
        long long n;
        if (c->type == SCHEMA_INTEGER && cli_parse_int(r->v[i], &n))
            fprintf(f, "%lld", n);
        else
            rec_json_str(f, r->v[i]);
    }
    fputc('}', f);
}
