/* CSV import of one table (csvimport.h; agent/README.md "CSV import"): the
 * header mapped onto the declaration, each line normalised as entry stores
 * it and checked by validate_row, all lines written in one transaction or
 * none. */
#include "csvimport.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "error.h"
#include "validate.h"

#define ID_FIELD (-1)

typedef struct imp {
    replica *r;
    sqlite3 *db;
    const schema_table *t;
    const csvimport_opts *opt;
    csvimport_result *res;
    /* header: field i holds column map[i] (ID_FIELD for id) */
    int map[CSVIMPORT_MAX_FIELDS];
    size_t nheader;
    int id_field; /* field of id, or -1 */
    sqlite3_stmt *ins, *find, *dead;
    sqlite3_stmt *get, *upd; /* update mode: the row, its change */
    sqlite3_stmt *changed;   /* update mode: changed by this import? */
    sqlite3_int64 start_hlc; /* the clock when the import began */
    int update;
    int named[SCHEMA_MAX_COLUMNS]; /* the header names column k */
    uint64_t inserted, updated;
    sqlite3_int64 first_new_rowid; /* rows from this file have rowid >= */
    /* the line being checked */
    uint64_t line;
    uint64_t bad_cols; /* columns that already have an error this line */
    int line_errors;
    uint64_t bad_lines;
    uint64_t reported;
    uint64_t first_bad_line;
    char first_bad_col[64];
} imp;

/* Issues ------------------------------------------------------------------ */

static void issue(imp *m, const char *column, const char *rule, int warning,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void issue(imp *m, const char *column, const char *rule, int warning,
                  const char *fmt, ...)
{
    csvimport_issue is = {m->line, column, rule, warning, {0}};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is.msg, sizeof is.msg, fmt, ap);
    va_end(ap);
    if (warning) {
        m->res->warnings++;
    } else {
        m->res->errors++;
        if (m->line_errors++ == 0) {
            m->bad_lines++;
            if (m->first_bad_line == 0) {
                m->first_bad_line = m->line;
                snprintf(m->first_bad_col, sizeof m->first_bad_col, "%s",
                         column != NULL ? column : "");
            }
        }
    }
    /* The "limit" issue that ends reading is always told. */
    if ((m->reported < CSVIMPORT_MAX_REPORTED || strcmp(rule, "limit") == 0) &&
        m->opt != NULL && m->opt->sink != NULL) {
        m->reported++;
        m->opt->sink(&is, m->opt->sink_ctx);
    }
}

static int column_bit(const imp *m, const char *column)
{
    int k = column != NULL ? schema_column_index(m->t, column) : -1;
    return k >= 0 && k < 64 ? k : -1;
}

/* validate_row's findings, as issues of this line. "table.column: " is
 * left off the message: the issue names the column. A column the importer
 * already refused is not reported twice. */
static void from_validate(const validate_issue *vi, void *ctx)
{
    imp *m = ctx;
    int bit = column_bit(m, vi->column);
    if (bit >= 0 && (m->bad_cols >> bit & 1u))
        return;
    const char *msg = vi->msg;
    size_t tl = strlen(vi->table);
    if (strncmp(msg, vi->table, tl) == 0) {
        const char *p = msg + tl;
        if (vi->column != NULL && *p == '.' &&
            strncmp(p + 1, vi->column, strlen(vi->column)) == 0)
            p += 1 + strlen(vi->column);
        if (p[0] == ':' && p[1] == ' ')
            msg = p + 2;
    }
    issue(m, vi->column, vi->rule, vi->warning, "%s", msg);
}

static void column_error(imp *m, const schema_column *c, const char *rule,
                         const char *msg)
{
    int bit = column_bit(m, c->name);
    if (bit >= 0)
        m->bad_cols |= (uint64_t)1 << bit;
    issue(m, c->name, rule, 0, "%s", msg);
}

/* Header --------------------------------------------------------------- */

static char *trim(char *s, size_t *len)
{
    size_t n = *len;
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    s[n] = '\0';
    *len = n;
    return s;
}

/* Only a name shaped like a column name is repeated in a message: a file
 * without a header has data on its first line, possibly personal. */
static int name_shaped(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z') || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int read_header(imp *m, const csv_record *h)
{
    size_t seen[SCHEMA_MAX_COLUMNS + 1] = {0}; /* 1 + field, 0 = not yet */
    m->id_field = -1;
    m->nheader = h->nfields;
    for (size_t i = 0; i < h->nfields; i++) {
        size_t len = h->len[i];
        char *name = trim(h->field[i], &len);
        int k = strcmp(name, "id") == 0 ? ID_FIELD
                                        : schema_column_index(m->t, name);
        if (k == -1 && strcmp(name, "id") != 0) {
            if (len == 0)
                issue(m, NULL, "header", 0,
                      "header field %zu is empty (a column without a name; "
                      "delete the empty column)",
                      i + 1);
            else if (name_shaped(name))
                issue(m, NULL, "header", 0,
                      "header field %zu: %s is not a column of %s (see "
                      "swsync-agent template %s)",
                      i + 1, name, m->t->name, m->t->name);
            else
                issue(m, NULL, "header", 0,
                      "header field %zu is not a column name of %s (is the "
                      "first line the header? see swsync-agent template %s)",
                      i + 1, m->t->name, m->t->name);
            continue;
        }
        int slot = k == ID_FIELD ? SCHEMA_MAX_COLUMNS : k;
        if (seen[slot] != 0) {
            issue(m, k == ID_FIELD ? "id" : m->t->columns[k].name, "header",
                  0, "header names the column twice (fields %zu and %zu)",
                  seen[slot], i + 1);
            continue;
        }
        seen[slot] = i + 1;
        m->map[i] = k;
        if (k == ID_FIELD)
            m->id_field = (int)i;
        else
            m->named[k] = 1;
    }
    /* Update mode: lines may change a few columns of existing rows; new
     * rows still need every required column, checked line by line. */
    for (size_t k = 0; k < m->t->ncolumns && !m->update; k++)
        if (m->t->columns[k].presence == SCHEMA_REQUIRED && !seen[k])
            issue(m, m->t->columns[k].name, "header", 0,
                  "required column missing from the header");
    return m->res->errors == 0 ? SWLOG_OK : SWLOG_EINVAL;
}

/* Statements ------------------------------------------------------------ */

/* Update mode: reading a row's columns, and setting those the header
 * names (none: upd stays NULL and such lines change nothing). */
static int prepare_update(imp *m, swlog_error *err)
{
    const schema_table *t = m->t;
    sqlite3_str *g = sqlite3_str_new(m->db), *u = sqlite3_str_new(m->db);
    int n = 0;
    sqlite3_str_appendall(g, "SELECT ");
    sqlite3_str_appendf(u, "UPDATE \"%w\" SET ", t->name);
    for (size_t k = 0; k < t->ncolumns; k++) {
        sqlite3_str_appendf(g, "%s\"%w\"", k ? ", " : "", t->columns[k].name);
        if (m->named[k])
            sqlite3_str_appendf(u, "%s\"%w\" = ?%d", n++ ? ", " : "",
                                t->columns[k].name, (int)k + 2);
    }
    sqlite3_str_appendf(g, " FROM \"%w\" WHERE id = ?1", t->name);
    sqlite3_str_appendall(u, " WHERE id = ?1");
    /* A row this import changed already has a column version (capture's
     * _sw_v_<table>, README "Versions") past the clock at its start. */
    sqlite3_str *c = sqlite3_str_new(m->db);
    sqlite3_str_appendall(c, "SELECT max(0");
    for (size_t k = 0; k < t->ncolumns; k++)
        sqlite3_str_appendf(c, ", coalesce(\"%w\", 0)", t->columns[k].name);
    sqlite3_str_appendf(c, ") > ?2 FROM \"_sw_v_%w\" WHERE id = ?1",
                        t->name);
    char *get = sqlite3_str_finish(g), *upd = sqlite3_str_finish(u);
    char *chg = sqlite3_str_finish(c);
    sqlite3_stmt *st = NULL;
    int rc = SWLOG_OK;
    if (get == NULL || upd == NULL || chg == NULL)
        rc = error_set(err, SWLOG_ENOMEM, "import: out of memory");
    else if (sqlite3_prepare_v2(m->db, get, -1, &m->get, NULL) != SQLITE_OK ||
             (n > 0 &&
              sqlite3_prepare_v2(m->db, upd, -1, &m->upd, NULL) != SQLITE_OK))
        rc = error_sqlite(err, m->db, "import: preparing statements");
    else if (sqlite3_prepare_v2(m->db, chg, -1, &m->changed, NULL) ==
                 SQLITE_OK &&
             sqlite3_prepare_v2(m->db, "SELECT last FROM _sw_state", -1, &st,
                                NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW)
        m->start_hlc = sqlite3_column_int64(st, 0);
    else { /* no capture installed: repeated updates cannot be told */
        sqlite3_finalize(m->changed);
        m->changed = NULL;
    }
    sqlite3_finalize(st);
    sqlite3_free(get);
    sqlite3_free(upd);
    sqlite3_free(chg);
    return rc;
}

static int prepare(imp *m, swlog_error *err)
{
    const schema_table *t = m->t;
    sqlite3_str *s = sqlite3_str_new(m->db);
    sqlite3_str_appendf(s, "INSERT INTO \"%w\"(id", t->name);
    for (size_t k = 0; k < t->ncolumns; k++)
        sqlite3_str_appendf(s, ", \"%w\"", t->columns[k].name);
    sqlite3_str_appendall(s, ") VALUES(?");
    for (size_t k = 0; k < t->ncolumns; k++)
        sqlite3_str_appendall(s, ", ?");
    sqlite3_str_appendall(s, ")");
    char *ins = sqlite3_str_finish(s);
    char *find = sqlite3_mprintf("SELECT rowid FROM \"%w\" WHERE id = ?1",
                                 t->name);
    char *dead = sqlite3_mprintf("SELECT 1 FROM \"_sw_v_%w\" WHERE id = ?1 "
                                 "AND _dead IS NOT NULL",
                                 t->name);
    char *last = sqlite3_mprintf("SELECT coalesce(max(rowid), 0) + 1 FROM "
                                 "\"%w\"",
                                 t->name);
    int rc = SWLOG_OK;
    sqlite3_stmt *st = NULL;
    if (ins == NULL || find == NULL || dead == NULL || last == NULL)
        rc = error_set(err, SWLOG_ENOMEM, "import: out of memory");
    else if (sqlite3_prepare_v2(m->db, ins, -1, &m->ins, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(m->db, find, -1, &m->find, NULL) !=
                 SQLITE_OK ||
             sqlite3_prepare_v2(m->db, last, -1, &st, NULL) != SQLITE_OK)
        rc = error_sqlite(err, m->db, "import: preparing statements");
    else if (sqlite3_step(st) != SQLITE_ROW)
        rc = error_sqlite(err, m->db, "import: reading the table");
    else
        m->first_new_rowid = sqlite3_column_int64(st, 0);
    if (rc == SWLOG_OK && m->update)
        rc = prepare_update(m, err);
    /* The version table exists once capture is installed; without it no
     * tombstone can be checked. */
    if (rc == SWLOG_OK &&
        sqlite3_prepare_v2(m->db, dead, -1, &m->dead, NULL) != SQLITE_OK)
        m->dead = NULL;
    sqlite3_finalize(st);
    sqlite3_free(ins);
    sqlite3_free(find);
    sqlite3_free(dead);
    sqlite3_free(last);
    return rc;
}

/* Values ------------------------------------------------------------------ */

/* Strict decimal: -?[0-9]+ within 64 bits, written back without leading
 * zeros. 0 when it is not such a number. */
static int canon_int(const char *s, char out[24])
{
    const char *p = s;
    int neg = *p == '-';
    unsigned long long v = 0;
    if (neg)
        p++;
    if (*p == '\0')
        return 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        unsigned d = (unsigned)(*p - '0');
        if (v > (9223372036854775807ull - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    snprintf(out, 24, "%s%llu", neg && v != 0 ? "-" : "", v);
    return 1;
}

/* "a;b" -> ["a","b"] (items trimmed); a value starting with [ is kept as
 * JSON. NULL (kept as it is) when an item is empty or holds " or \. */
static char *list_json(const char *s)
{
    if (*s == '[')
        return NULL;
    sqlite3_str *j = sqlite3_str_new(NULL);
    sqlite3_str_appendchar(j, 1, '[');
    for (const char *p = s;;) {
        const char *e = strchr(p, ';');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
        int first = p == s;
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 0 || memchr(p, '"', n) != NULL || memchr(p, '\\', n)) {
            sqlite3_free(sqlite3_str_finish(j));
            return NULL;
        }
        sqlite3_str_appendf(j, "%s\"%.*s\"", first ? "" : ",", (int)n, p);
        if (e == NULL)
            break;
        p = e + 1;
    }
    sqlite3_str_appendchar(j, 1, ']');
    if (sqlite3_str_errcode(j) != SQLITE_OK) {
        sqlite3_free(sqlite3_str_finish(j));
        return NULL;
    }
    return sqlite3_str_finish(j);
}

typedef struct line_vals {
    const char *v[SCHEMA_MAX_COLUMNS];
    char num[SCHEMA_MAX_COLUMNS][24];
    char *owned[SCHEMA_MAX_COLUMNS]; /* sqlite3_free'd after the line */
    char id[37];
} line_vals;

static void lower_ascii(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* One field into the value of column k, normalised as entry stores it. */
static void take_value(imp *m, line_vals *lv, size_t k, char *f, size_t len)
{
    const schema_column *c = &m->t->columns[k];
    size_t blank = 0;
    while (blank < len && (f[blank] == ' ' || f[blank] == '\t'))
        blank++;
    if (blank == len) {
        lv->v[k] = NULL; /* an empty (or blank) field is NULL */
        return;
    }
    /* Free text keeps its spaces and line breaks; elsewhere a line break
     * or control character is a mistake (a cell's Alt+Enter), refused
     * rather than changed. */
    if (c->rule != SCHEMA_R_FREE_TEXT) {
        f = trim(f, &len);
        for (const char *p = f; *p; p++)
            if ((unsigned char)*p < 0x20 && *p != '\t') {
                column_error(m, c, "text",
                             "holds a line break or control character "
                             "(only free-text columns may)");
                return;
            }
    }
    lv->v[k] = f;
    if (c->type == SCHEMA_INTEGER) {
        if (canon_int(f, lv->num[k]))
            lv->v[k] = lv->num[k];
        else
            column_error(m, c, "type", "must be an integer (digits, an "
                                       "optional leading -)");
        return;
    }
    switch (c->rule) {
    case SCHEMA_R_UUID:
        lower_ascii(f);
        break;
    case SCHEMA_R_PHONE: {
        char why[160];
        if (validate_phone(f, lv->num[k], why, sizeof why) == 0)
            lv->v[k] = lv->num[k];
        break;
    }
    case SCHEMA_R_ENUM_LIST:
        lv->owned[k] = list_json(f);
        if (lv->owned[k] != NULL)
            lv->v[k] = lv->owned[k];
        break;
    default:
        break;
    }
}

/* V1 normalisation of resident-form ID numbers, once id_type is known. */
static void normalise_ids(imp *m, line_vals *lv)
{
    int ti = schema_column_index(m->t, "id_type");
    const char *type = ti >= 0 ? lv->v[ti] : "resident_id";
    for (size_t k = 0; k < m->t->ncolumns; k++) {
        if (m->t->columns[k].rule != SCHEMA_R_ID_NUMBER || lv->v[k] == NULL ||
            type == NULL)
            continue;
        int hmt = strcmp(type, "hmt_residence_permit") == 0;
        char norm[19], why[160];
        if ((hmt || strcmp(type, "resident_id") == 0) &&
            validate_resident_id(lv->v[k], hmt, NULL, NULL,
                                 m->opt != NULL ? m->opt->today : NULL, norm,
                                 why, sizeof why) >= 0) {
            memcpy(lv->num[k], norm, sizeof norm);
            lv->v[k] = lv->num[k];
        }
    }
}

/* Update mode: whether an earlier line of this import changed row id. */
static int changed_here(imp *m, const char *id)
{
    if (m->changed == NULL)
        return 0;
    sqlite3_reset(m->changed);
    sqlite3_bind_text(m->changed, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(m->changed, 2, m->start_hlc);
    int yes = sqlite3_step(m->changed) == SQLITE_ROW &&
              sqlite3_column_int(m->changed, 0) == 1;
    sqlite3_reset(m->changed);
    return yes;
}

/* Whether the row's id may be added: not in the table (from before, or an
 * earlier line), not a deleted row's; in update mode a row from before
 * the import may be changed (*existing = 1). SWLOG_OK or a database
 * error. */
static int check_id(imp *m, const char *id, int *existing, swlog_error *err)
{
    int rc;
    *existing = 0;
    sqlite3_reset(m->find);
    sqlite3_bind_text(m->find, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(m->find);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_int64(m->find, 0) >= m->first_new_rowid)
            issue(m, "id", "id", 0,
                  "the same id is on an earlier line of this file");
        else if (m->update && changed_here(m, id))
            issue(m, "id", "id", 0,
                  "the same id is on an earlier line of this file");
        else if (m->update)
            *existing = 1;
        else
            issue(m, "id", "id", 0,
                  "a %s row with this id exists already (import adds rows; "
                  "update mode changes existing ones)",
                  m->t->name);
    } else if (rc != SQLITE_DONE) {
        return error_sqlite(err, m->db, "import: looking up an id");
    } else if (m->dead != NULL) {
        sqlite3_reset(m->dead);
        sqlite3_bind_text(m->dead, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(m->dead);
        if (rc == SQLITE_ROW)
            issue(m, "id", "id", 0,
                  "this id belonged to a deleted %s row (ids are never "
                  "reused)",
                  m->t->name);
        else if (rc != SQLITE_DONE)
            return error_sqlite(err, m->db, "import: looking up an id");
    }
    sqlite3_reset(m->find);
    if (m->dead != NULL)
        sqlite3_reset(m->dead);
    return SWLOG_OK;
}

/* The row of an existing id into lv: the columns the header does not
 * name keep their stored values. */
static int load_existing(imp *m, line_vals *lv, swlog_error *err)
{
    sqlite3_stmt *st = m->get;
    int rc = SWLOG_OK;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, lv->id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return error_sqlite(err, m->db, "import: reading a row to update");
    }
    for (size_t k = 0; k < m->t->ncolumns && rc == SWLOG_OK; k++) {
        const unsigned char *v = sqlite3_column_text(st, (int)k);
        if (m->named[k] || v == NULL)
            continue;
        lv->owned[k] = sqlite3_mprintf("%s", (const char *)v);
        if (lv->owned[k] == NULL)
            rc = error_set(err, SWLOG_ENOMEM, "import: out of memory");
        lv->v[k] = lv->owned[k];
    }
    sqlite3_reset(st);
    return rc;
}

/* Insert a new row, or (existing) set the named columns of the row. */
static int write_row(imp *m, const line_vals *lv, int existing,
                     swlog_error *err)
{
    sqlite3_stmt *st = existing ? m->upd : m->ins;
    if (st == NULL) /* an update naming no column: nothing to change */
        return SWLOG_OK;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, lv->id, -1, SQLITE_STATIC);
    for (size_t k = 0; k < m->t->ncolumns; k++) {
        int p = (int)k + 2;
        if (existing && !m->named[k])
            continue; /* not a parameter of the update */
        if (lv->v[k] == NULL)
            sqlite3_bind_null(st, p);
        else if (m->t->columns[k].type == SCHEMA_INTEGER)
            sqlite3_bind_int64(st, p, strtoll(lv->v[k], NULL, 10));
        else
            sqlite3_bind_text(st, p, lv->v[k], -1, SQLITE_STATIC);
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return error_sqlite(err, m->db, existing ? "import: updating a row"
                                                 : "import: inserting a row");
    if (existing)
        m->updated++;
    else
        m->inserted++;
    return SWLOG_OK;
}

/* One data line: values, checks, and the insert when it is valid. */
static int do_line(imp *m, const csv_record *rec, swlog_error *err)
{
    line_vals lv;
    int rc = SWLOG_OK;
    memset(lv.v, 0, sizeof lv.v);
    memset(lv.owned, 0, sizeof lv.owned);
    m->line = rec->line;
    m->bad_cols = 0;
    m->line_errors = 0;
    if (rec->nfields != m->nheader) {
        issue(m, NULL, "fields", 0, "%zu fields, the header has %zu",
              rec->nfields, m->nheader);
        return SWLOG_OK;
    }
    lv.id[0] = '\0';
    for (size_t i = 0; i < rec->nfields; i++) {
        if (m->map[i] == ID_FIELD) {
            size_t len = rec->len[i];
            char *f = trim(rec->field[i], &len);
            if (len > 36) { /* validate_row refuses it */
                snprintf(lv.id, sizeof lv.id, "-");
                continue;
            }
            memcpy(lv.id, f, len + 1);
            lower_ascii(lv.id);
            if (len == 0)
                replica_uuid7_text(lv.id);
        } else {
            take_value(m, &lv, (size_t)m->map[i], rec->field[i],
                       rec->len[i]);
        }
    }
    if (m->id_field < 0)
        replica_uuid7_text(lv.id);
    int existing = 0;
    rc = check_id(m, lv.id, &existing, err);
    if (rc == SWLOG_OK && existing)
        rc = load_existing(m, &lv, err);
    if (rc == SWLOG_OK) {
        normalise_ids(m, &lv);
        validate_ctx vc = {m->opt != NULL ? m->opt->today : NULL, m->db,
                           from_validate, m};
        validate_row(m->t, lv.id, lv.v, &vc);
        if (m->line_errors == 0)
            rc = write_row(m, &lv, existing, err);
    }
    for (size_t k = 0; k < SCHEMA_MAX_COLUMNS; k++)
        sqlite3_free(lv.owned[k]);
    return rc;
}

/* The run ------------------------------------------------------------------ */

/* A line of empty fields only (",,,,"), as spreadsheet programs write for
 * an empty row: skipped like an empty line. */
static int all_empty(const csv_record *rec)
{
    for (size_t i = 0; i < rec->nfields; i++)
        for (const char *p = rec->field[i]; *p; p++)
            if (*p != ' ' && *p != '\t')
                return 0;
    return 1;
}

static int read_all(imp *m, csv_reader *cr, swlog_error *err)
{
    csv_record rec;
    swlog_error perr = {0};
    int rc = csv_next(cr, &rec, &perr);
    if (rc == 0) {
        m->line = 1;
        issue(m, NULL, "header", 0,
              "the file is empty: its first line must name the columns");
        return SWLOG_EINVAL;
    }
    if (rc == 1) {
        m->line = rec.line;
        rc = read_header(m, &rec);
        if (rc != SWLOG_OK)
            return rc;
        if ((rc = prepare(m, err)) != SWLOG_OK)
            return rc;
        while ((rc = csv_next(cr, &rec, &perr)) == 1) {
            if (all_empty(&rec))
                continue;
            if (m->res->rows == CSVIMPORT_MAX_ROWS) {
                m->line = rec.line;
                issue(m, NULL, "limit", 0,
                      "more than %u data lines: split the file",
                      CSVIMPORT_MAX_ROWS);
                return SWLOG_EINVAL;
            }
            m->res->rows++;
            if ((rc = do_line(m, &rec, err)) != SWLOG_OK)
                return rc;
            if (m->bad_lines >= CSVIMPORT_MAX_REPORTED) {
                issue(m, NULL, "limit", 0,
                      "%u bad lines: reading stopped here",
                      CSVIMPORT_MAX_REPORTED);
                return SWLOG_EINVAL;
            }
            if (m->opt != NULL && m->opt->progress != NULL &&
                m->res->rows % CSVIMPORT_PROGRESS_EVERY == 0)
                m->opt->progress(rec.line, csv_bytes(cr),
                                 m->opt->progress_ctx);
        }
    }
    if (rc == 0)
        return SWLOG_OK;
    if (rc == SWLOG_EIO || rc == SWLOG_ENOMEM)
        return swlog_fail(err, rc, perr.offset, "%s: %s",
                          m->opt != NULL && m->opt->source != NULL
                              ? m->opt->source
                              : "import",
                          perr.msg);
    /* A syntax or limit error: the message is the reader's (it never
     * holds field text); the line is where it was found. */
    m->line = csv_error_line(cr);
    const char *what = strstr(perr.msg, ": ");
    issue(m, NULL, rc == SWLOG_EBOUNDS ? "limit" : "csv", 0,
          "column %llu: %s", (unsigned long long)csv_error_column(cr),
          what != NULL ? what + 2 : perr.msg);
    return SWLOG_EINVAL;
}

int csvimport_run(replica *r, const schema_table *t, FILE *in,
                  const csvimport_opts *opt, csvimport_result *res,
                  swlog_error *err)
{
    csvimport_result local;
    if (res == NULL)
        res = &local;
    memset(res, 0, sizeof *res);
    if (r == NULL || t == NULL || in == NULL)
        return error_set(err, SWLOG_EARG, "import: no replica, table or "
                                          "input");
    if (t->ncolumns > SCHEMA_MAX_COLUMNS ||
        t->ncolumns + 1 > CSVIMPORT_MAX_FIELDS)
        return error_set(err, SWLOG_EARG, "import: %s has too many columns",
                         t->name);
    imp m;
    memset(&m, 0, sizeof m);
    m.r = r;
    m.db = replica_db(r);
    m.t = t;
    m.opt = opt;
    m.res = res;
    m.update = opt != NULL && opt->update;
    const char *src = opt != NULL && opt->source != NULL ? opt->source
                                                         : "input";
    csv_reader *cr = NULL;
    int rc = csv_new(in, CSVIMPORT_MAX_LINE, CSVIMPORT_MAX_FIELDS, &cr, err);
    if (rc != SWLOG_OK)
        return rc;
    rc = replica_begin(r, err);
    if (rc == SWLOG_OK) {
        rc = read_all(&m, cr, err);
        sqlite3_finalize(m.ins);
        sqlite3_finalize(m.find);
        sqlite3_finalize(m.dead);
        sqlite3_finalize(m.get);
        sqlite3_finalize(m.upd);
        sqlite3_finalize(m.changed);
        if (rc == SWLOG_OK && res->errors > 0)
            rc = SWLOG_EINVAL;
        if (rc == SWLOG_OK) {
            rc = replica_commit(r, err);
        } else {
            replica_rollback(r);
        }
    }
    if (rc == SWLOG_OK) {
        res->inserted = m.inserted;
        res->updated = m.updated;
        if (opt != NULL && opt->progress != NULL)
            opt->progress(m.line, csv_bytes(cr), opt->progress_ctx);
    } else if (rc == SWLOG_EINVAL) {
        if (m.first_bad_line != 0)
            error_set(err, SWLOG_EINVAL,
                      "%s: %llu error(s) on %llu line(s), first on line "
                      "%llu%s%s; nothing imported",
                      src, (unsigned long long)res->errors,
                      (unsigned long long)m.bad_lines,
                      (unsigned long long)m.first_bad_line,
                      m.first_bad_col[0] ? ", column " : "",
                      m.first_bad_col);
        else
            error_set(err, SWLOG_EINVAL, "%s: refused; nothing imported",
                      src);
    }
    if (rc != SWLOG_OK)
        res->inserted = res->updated = 0;
    csv_free(cr);
    return rc;
}
