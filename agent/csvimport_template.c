/* The CSV template of a table (csvimport_template): its header line and a
 * `#` guide line saying, under each column, what the importer expects. */
#include "csvimport.h"

#include <sqlite3.h>
#include <string.h>

#include "error.h"

static void cond_words(sqlite3_str *s, const schema_cond *c)
{
    switch (c->op) {
    case SCHEMA_C_EQ:
        sqlite3_str_appendf(s, "%s = %s", c->column, c->value);
        break;
    case SCHEMA_C_NE:
        sqlite3_str_appendf(s, "%s is not %s", c->column, c->value);
        break;
    case SCHEMA_C_SET:
        sqlite3_str_appendf(s, "%s is set", c->column);
        break;
    case SCHEMA_C_HAS:
        sqlite3_str_appendf(s, "%s has %s", c->column, c->value);
        break;
    case SCHEMA_C_MINOR:
        sqlite3_str_appendall(s, "the person is under 18");
        break;
    case SCHEMA_C_SUBTYPES:
        sqlite3_str_appendf(s, "the %s has subtypes", c->column);
        break;
    case SCHEMA_C_NONE:
        break;
    }
}

static void values_words(sqlite3_str *s, const char *const *v,
                         const char *sep)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        sqlite3_str_appendf(s, "%s%s", i ? sep : "", v[i]);
}

static const char *division_words(schema_division d)
{
    switch (d) {
    case SCHEMA_DIV_PROVINCE:
        return "province code NN0000";
    case SCHEMA_DIV_COUNTY:
        return "county code (6 digits)";
    case SCHEMA_DIV_TOWNSHIP:
        return "township code (12 digits ending 000)";
    case SCHEMA_DIV_VILLAGE:
        return "village code (12 digits)";
    case SCHEMA_DIV_BY_LEVEL:
        break;
    }
    return "division code of the unit's level (province 6, county 6, "
           "township 12 digits)";
}

/* What column c takes, in words without `,` `"` or line ends. */
static void column_guide(sqlite3_str *s, const schema_column *c)
{
    if (c->presence == SCHEMA_REQUIRED) {
        sqlite3_str_appendall(s, "required");
    } else if (c->presence == SCHEMA_CONDITIONAL) {
        sqlite3_str_appendall(s, "required when ");
        cond_words(s, &c->when);
        sqlite3_str_appendall(s, " (else empty)");
    } else {
        sqlite3_str_appendall(s, "optional");
    }
    sqlite3_str_appendall(s, ": ");
    switch (c->rule) {
    case SCHEMA_R_NONE:
        sqlite3_str_appendall(s, c->type == SCHEMA_INTEGER ? "integer"
                                                           : "text");
        break;
    case SCHEMA_R_UUID:
        if (c->ref != NULL)
            sqlite3_str_appendf(s, "id of a %s row", c->ref);
        else
            sqlite3_str_appendall(s, "UUID");
        break;
    case SCHEMA_R_DATE:
        sqlite3_str_appendall(s, "date YYYY-MM-DD");
        break;
    case SCHEMA_R_TIME:
        sqlite3_str_appendall(s, "time HH:MM");
        break;
    case SCHEMA_R_INSTANT:
        sqlite3_str_appendall(s, "UTC time YYYY-MM-DDTHH:MM:SSZ");
        break;
    case SCHEMA_R_BOOL:
        sqlite3_str_appendall(s, "0 or 1");
        break;
    case SCHEMA_R_RANGE:
        sqlite3_str_appendf(s, "integer %lld..%lld", c->min, c->max);
        break;
    case SCHEMA_R_YEAR:
        sqlite3_str_appendall(s, "year 1980..2100");
        break;
    case SCHEMA_R_MINUTES:
        sqlite3_str_appendall(s, "minutes 1..720");
        break;
    case SCHEMA_R_ENUM:
        sqlite3_str_appendall(s, "one of ");
        values_words(s, c->values, " | ");
        break;
    case SCHEMA_R_ENUM_LIST:
        sqlite3_str_appendall(s, "one or more of ");
        values_words(s, c->values, " | ");
        sqlite3_str_appendall(s, " separated by ;");
        break;
    case SCHEMA_R_ID_NUMBER:
        sqlite3_str_appendall(s, "document number (resident ID: 18 "
                                 "characters; spaces and full-width digits "
                                 "are folded)");
        break;
    case SCHEMA_R_PHONE:
        sqlite3_str_appendall(s, "mobile or landline with area code (stored "
                                 "as +86...)");
        break;
    case SCHEMA_R_DIVISION:
        sqlite3_str_appendall(s, division_words(c->level));
        break;
    case SCHEMA_R_USCC:
        sqlite3_str_appendall(s, "unified social credit code (18 "
                                 "characters)");
        break;
    case SCHEMA_R_DISABILITY_CERT:
        sqlite3_str_appendall(s, "disability certificate number (20 "
                                 "characters)");
        break;
    case SCHEMA_R_FREE_TEXT:
        sqlite3_str_appendall(s, "text of at most 2000 characters");
        break;
    }
    if (c->flags & SCHEMA_F_NOT_FUTURE)
        sqlite3_str_appendall(s, "; not after today");
    if (c->flags & SCHEMA_F_WORK)
        sqlite3_str_appendall(s, "; not before 2000-01-01");
    if (c->sens == SCHEMA_PERSONAL)
        sqlite3_str_appendall(s, "; personal");
    else if (c->sens == SCHEMA_SENSITIVE)
        sqlite3_str_appendall(s, "; sensitive");
}

int csvimport_template(const schema_table *t, FILE *out, swlog_error *err)
{
    if (t == NULL || out == NULL)
        return error_set(err, SWLOG_EARG, "template: no table or output");
    sqlite3_str *s = sqlite3_str_new(NULL);
    /* A byte order mark: spreadsheet programs then read UTF-8, not the
     * local code page (the importer skips it). */
    sqlite3_str_appendall(s, "\xEF\xBB\xBFid");
    for (size_t k = 0; k < t->ncolumns; k++)
        sqlite3_str_appendf(s, ",%s", t->columns[k].name);
    /* The guide: one cell under each column, quoted (the words hold no
     * quote), the first starting with # so that import skips the line. */
    sqlite3_str_appendf(s, "\r\n# %s (%s) - optional: UUID; empty = a new "
                           "one. Lines starting with # are skipped",
                        t->name, t->label);
    for (size_t k = 0; k < t->ncolumns; k++) {
        sqlite3_str_appendall(s, ",\"");
        column_guide(s, &t->columns[k]);
        sqlite3_str_appendall(s, "\"");
    }
    sqlite3_str_appendall(s, "\r\n");
    int sqrc = sqlite3_str_errcode(s);
    int n = sqlite3_str_length(s);
    char *text = sqlite3_str_finish(s);
    int rc = SWLOG_OK;
    if (sqrc != SQLITE_OK || text == NULL)
        rc = error_set(err, SWLOG_ENOMEM, "template: out of memory");
    else if (fwrite(text, 1, (size_t)n, out) != (size_t)n || fflush(out) != 0)
        rc = error_set(err, SWLOG_EIO, "template: write failed");
    sqlite3_free(text);
    return rc;
}
