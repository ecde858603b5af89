/* Validation of one row on entry: the declaration's presence, type and
 * enumeration rules, V1–V9 through the single rules of validate_rules.c, and
 * the rules that read other rows. Messages never carry a P or S value. */
#include "validate.h"
#include "validate_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row ------------------------------------------------------------------ */

typedef struct row {
    const schema_table *t;
    const char *id;
    const char *const *v;
    const validate_ctx *ctx;
    const char *today;
    int errors;
} row;

static void report(row *r, int warning, const char *column, const char *rule,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(row *r, int warning, const char *column, const char *rule,
                   const char *fmt, ...)
{
    validate_issue is = {warning, r->t->name, column, rule, {0}};
    char text[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(is.msg, sizeof is.msg, "%s%s%s: %s", r->t->name,
             column != NULL ? "." : "", column != NULL ? column : "", text);
    if (!warning)
        r->errors++;
    if (r->ctx != NULL && r->ctx->sink != NULL)
        r->ctx->sink(&is, r->ctx->sink_ctx);
}

/* A rule function's result and reason, reported against a column. */
static void report_rc(row *r, const char *column, const char *rule, int rc,
                      const char *why)
{
    if (rc != 0)
        report(r, rc > 0, column, rule, "%s", why);
}

static const char *val(const row *r, const char *column)
{
    int i = schema_column_index(r->t, column);
    return i >= 0 ? r->v[i] : NULL;
}

static int valid_uuid(const char *s, int any_version)
{
    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-'
                 : !(validate__digit(s[i]) || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    /* SCHEMA §2.1: version 7 preferred, 4 accepted; RFC 9562 variant. */
    return any_version ||
           ((s[14] == '7' || s[14] == '4') && strchr("89ab", s[19]) != NULL);
}

static int parse_int(const char *s, long long *out)
{
    char *end;
    if (s == NULL || *s == '\0')
        return 0;
    *out = strtoll(s, &end, 10);
    return *end == '\0';
}

/* A JSON array of distinct enumeration ids: ["a","b"]. */
static int valid_list(const char *s, const char *const *values)
{
    const char *p = s;
    char seen[64][40];
    size_t n = 0;
    if (*p++ != '[')
        return 0;
    while (*p == ' ')
        p++;
    while (*p == '"') {
        const char *q = strchr(p + 1, '"');
        if (q == NULL || (size_t)(q - p - 1) >= sizeof seen[0] || n == 64)
            return 0;
        memcpy(seen[n], p + 1, (size_t)(q - p - 1));
        seen[n][q - p - 1] = '\0';
        if (!schema_enum_has(values, seen[n]))
            return 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(seen[i], seen[n]) == 0)
                return 0;
        n++;
        p = q + 1;
        while (*p == ' ')
            p++;
        if (*p == ',') {
            p++;
            while (*p == ' ')
                p++;
            if (*p != '"')
                return 0;
        }
    }
    return n > 0 && p[0] == ']' && p[1] == '\0';
}

static int list_has(const char *list, const char *id)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", id);
    return list != NULL && strstr(list, quoted) != NULL;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Whether a C(...) condition holds for this row. */
static int cond_holds(const row *r, const schema_cond *c)
{
    const char *v = val(r, c->column);
    switch (c->op) {
    case SCHEMA_C_EQ:
        return v != NULL && strcmp(v, c->value) == 0;
    case SCHEMA_C_NE:
        return v != NULL && strcmp(v, c->value) != 0;
    case SCHEMA_C_SET:
        return v != NULL;
    case SCHEMA_C_HAS:
        return list_has(v, c->value);
    case SCHEMA_C_MINOR: {
        int age = validate_age(v, r->today);
        return age >= 0 && age < 18;
    }
    case SCHEMA_C_SUBTYPES:
        return schema_category_subtypes(v) != NULL;
    case SCHEMA_C_NONE:
        break;
    }
    return 0;
}

static void check_dated(row *r, const schema_column *c, const char *date)
{
    if ((c->flags & SCHEMA_F_NOT_FUTURE) && strcmp(date, r->today) > 0)
        report(r, 0, c->name, "V7", "V7 is after today");
    if ((c->flags & SCHEMA_F_WORK) && strcmp(date, "2000-01-01") < 0)
        report(r, 0, c->name, "V7", "V7 a work record is not before "
                                    "2000-01-01");
}

static schema_division division_of(const row *r, const schema_column *c)
{
    if (c->level != SCHEMA_DIV_BY_LEVEL)
        return c->level;
    const char *level = val(r, "level");
    if (level != NULL && strcmp(level, "provincial_hub") == 0)
        return SCHEMA_DIV_PROVINCE;
    if (level != NULL && strcmp(level, "county_hub") == 0)
        return SCHEMA_DIV_COUNTY;
    return SCHEMA_DIV_TOWNSHIP;
}

static void check_value(row *r, const schema_column *c, const char *v)
{
    char why[160], norm[24];
    long long n = 0;
    int sens = c->sens != SCHEMA_PLAIN;
    if (c->type == SCHEMA_INTEGER && !parse_int(v, &n)) {
        report(r, 0, c->name, "type", "must be an integer");
        return;
    }
    switch (c->rule) {
    case SCHEMA_R_NONE:
        break;
    case SCHEMA_R_UUID:
        if (!valid_uuid(v, 1))
            report(r, 0, c->name, "ref", "must be a lowercase UUID");
        break;
    case SCHEMA_R_DATE:
        if (validate_date(v, why, sizeof why) != 0)
            report(r, 0, c->name, "V7", "V7 %s", why);
        else
            check_dated(r, c, v);
        break;
    case SCHEMA_R_TIME:
        if (!validate__time(v))
            report(r, 0, c->name, "V7", "V7 not a time HH:MM");
        break;
    case SCHEMA_R_INSTANT:
        if (!validate__instant(v)) {
            report(r, 0, c->name, "V7",
                   "V7 not an instant YYYY-MM-DDTHH:MM:SSZ");
        } else {
            char date[11];
            snprintf(date, sizeof date, "%.10s", v);
            check_dated(r, c, date);
        }
        break;
    case SCHEMA_R_BOOL:
        if (n != 0 && n != 1)
            report(r, 0, c->name, "type", "must be 0 or 1");
        break;
    case SCHEMA_R_RANGE:
        if (n < c->min || n > c->max)
            report(r, 0, c->name, "range", "must be in %lld..%lld", c->min,
                   c->max);
        break;
    case SCHEMA_R_YEAR:
        if (n < 1980 || n > 2100)
            report(r, 0, c->name, "range", "must be a year 1980..2100");
        break;
    case SCHEMA_R_MINUTES:
        if (n < 1 || n > 720)
            report(r, 0, c->name, "V9", "V9 a service lasts 1-720 minutes");
        break;
    case SCHEMA_R_ENUM:
        if (!schema_enum_has(c->values, v)) {
            if (sens)
                report(r, 0, c->name, "enum", "not an allowed value");
            else
                report(r, 0, c->name, "enum", "'%.40s' is not an allowed "
                                              "value", v);
        }
        break;
    case SCHEMA_R_ENUM_LIST:
        if (!valid_list(v, c->values))
            report(r, 0, c->name, "enum",
                   "must be a JSON array of distinct allowed values");
        break;
    case SCHEMA_R_ID_NUMBER: {
        const char *type = val(r, "id_type");
        report_rc(r, c->name, type != NULL ? "V2" : "V1",
                  validate_document(type != NULL ? type : "resident_id", v,
                                    type != NULL ? val(r, "birth_date") : NULL,
                                    type != NULL ? val(r, "gender") : NULL,
                                    r->today, why, sizeof why),
                  why);
        break;
    }
    case SCHEMA_R_PHONE: {
        int rc = validate_phone(v, norm, why, sizeof why);
        if (rc == 0 && strcmp(norm, v) != 0)
            report(r, 0, c->name, "V3", "V3 must be stored as E.164 (+86...)");
        report_rc(r, c->name, "V3", rc, why);
        break;
    }
    case SCHEMA_R_DIVISION:
        report_rc(r, c->name, "V4",
                  validate_division(v, division_of(r, c), why, sizeof why),
                  why);
        break;
    case SCHEMA_R_USCC:
        report_rc(r, c->name, "V5", validate_uscc(v, why, sizeof why), why);
        break;
    case SCHEMA_R_DISABILITY_CERT:
        report_rc(r, c->name, "V6",
                  validate_disability_cert(v, val(r, "id_number"), NULL, NULL,
                                           why, sizeof why),
                  why);
        break;
    case SCHEMA_R_FREE_TEXT:
        if (utf8_chars(v) > 2000)
            report(r, 0, c->name, "length", "at most 2,000 characters");
        break;
    }
}

/* The condition of a conditional column, in words, into buf. When the
 * column it reads is personal or sensitive, the words name that column and
 * not its value: the message exists only when the condition holds, so the
 * value would be revealed (SCHEMA §1: never in error messages). */
static const char *cond_text(const row *r, const schema_cond *c, char *buf,
                             size_t n)
{
    const schema_column *col = NULL;
    for (size_t i = 0; c->column != NULL && i < r->t->ncolumns; i++)
        if (strcmp(r->t->columns[i].name, c->column) == 0)
            col = &r->t->columns[i];
    if (c->op != SCHEMA_C_NONE && col != NULL && col->sens != SCHEMA_PLAIN) {
        snprintf(buf, n, "the row's %s calls for it", c->column);
        return buf;
    }
    switch (c->op) {
    case SCHEMA_C_EQ:
        snprintf(buf, n, "%s = %s", c->column, c->value);
        break;
    case SCHEMA_C_NE:
        snprintf(buf, n, "%s is not %s", c->column, c->value);
        break;
    case SCHEMA_C_SET:
        snprintf(buf, n, "%s is set", c->column);
        break;
    case SCHEMA_C_HAS:
        snprintf(buf, n, "%s has %s", c->column, c->value);
        break;
    case SCHEMA_C_MINOR:
        return "the person is under 18";
    case SCHEMA_C_SUBTYPES:
        return "the category has subtypes";
    case SCHEMA_C_NONE:
        return "";
    }
    return buf;
}

static void check_columns(row *r)
{
    for (size_t i = 0; i < r->t->ncolumns; i++) {
        const schema_column *c = &r->t->columns[i];
        const char *v = r->v[i];
        if (c->presence == SCHEMA_REQUIRED && v == NULL) {
            report(r, 0, c->name, "required", "is required");
            continue;
        }
        if (c->presence == SCHEMA_CONDITIONAL) {
            int holds = cond_holds(r, &c->when);
            char cb[96];
            if (holds && v == NULL) {
                report(r, 0, c->name, "required", "is required when %s",
                       cond_text(r, &c->when, cb, sizeof cb));
                continue;
            }
            if (!holds && v != NULL) {
                report(r, 0, c->name, "required", "must be empty unless %s",
                       cond_text(r, &c->when, cb, sizeof cb));
                continue;
            }
        }
        if (v != NULL)
            check_value(r, c, v);
    }
}

/* V7: every end >= its start (the declaration's spans). */
static void check_spans(row *r)
{
    for (size_t i = 0; i < r->t->nspans; i++) {
        const schema_span *s = &r->t->spans[i];
        const char *a = val(r, s->start), *b = val(r, s->end);
        if (a == NULL || b == NULL)
            continue;
        int cmp = strcmp(b, a);
        if (cmp < 0 || (s->strict && cmp == 0))
            report(r, 0, s->end, "V7", "V7 must be %s %s",
                   s->strict ? "after" : "on or after", s->start);
    }
}

/* Rules of one table that the declaration cannot say. */
static void check_specific(row *r)
{
    const char *name = r->t->name;
    if (strcmp(name, "client_categories") == 0) {
        const char *cat = val(r, "category"), *sub = val(r, "subtype");
        const char *const *subs = schema_category_subtypes(cat);
        if (sub != NULL && subs != NULL && !schema_enum_has(subs, sub))
            report(r, 0, "subtype", "enum",
                   "not a subtype of the row's category");
    }
    if (strcmp(name, "certificates") == 0) {
        const char *const *levels = schema_cert_levels(val(r, "cert_type"));
        const char *level = val(r, "level");
        if (levels != NULL && level != NULL && !schema_enum_has(levels, level))
            report(r, 0, "level", "enum",
                   "'%.40s' is not a level of this cert_type", level);
    }
}

/* Rules reading other rows --------------------------------------------- */

/* First column of the first row of sql with ?1 = key, into out: 1 if found,
 * 0 if not. A database error is not "not found": it is reported as an error
 * of the row (rule "db", naming what was being read) and returns -1, so a
 * row is never accepted because a check could not run. */
static int lookup(row *r, const char *what, const char *sql, const char *key,
                  char *out, size_t outsz)
{
    sqlite3 *db = r->ctx->db;
    sqlite3_stmt *st = NULL;
    int rc = sql != NULL ? sqlite3_prepare_v2(db, sql, -1, &st, NULL)
                         : SQLITE_NOMEM;
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW;
    if (found && out != NULL) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, outsz, "%s", t != NULL ? (const char *)t : "");
    }
    if (!found && rc != SQLITE_DONE) {
        /* SQLite's message names tables and columns, never bound values. */
        report(r, 0, NULL, "db", "cannot read %s to check this row: %s",
               what, sql != NULL ? sqlite3_errmsg(db) : "out of memory");
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

static void check_refs(row *r)
{
    for (size_t i = 0; i < r->t->ncolumns; i++) {
        const schema_column *c = &r->t->columns[i];
        if (c->ref == NULL || r->v[i] == NULL || !valid_uuid(r->v[i], 1))
            continue;
        char *sql = sqlite3_mprintf("SELECT 1 FROM \"%w\" WHERE id = ?1",
                                    c->ref);
        int found = lookup(r, c->ref, sql, r->v[i], NULL, 0);
        sqlite3_free(sql);
        if (found == 0)
            report(r, 0, c->name, "ref", "no %s row with this id", c->ref);
    }
}

/* V7: child events within their parent's span. */
static const struct {
    const char *table, *date, *fk, *parent, *start, *end;
} nested[] = {
    {"case_services", "service_date", "case_id", "cases", "opened_on",
     "closed_on"},
    {"case_assessments", "assessed_on", "case_id", "cases", "opened_on",
     "closed_on"},
    {"case_referrals", "referred_on", "case_id", "cases", "opened_on",
     "closed_on"},
    {"volunteer_services", "service_date", "activity_id",
     "volunteer_activities", "start_at", "end_at"},
    {"training_sessions", "session_date", "training_id", "trainings",
     "start_date", "end_date"},
};

static void check_nested(row *r)
{
    for (size_t i = 0; i < sizeof nested / sizeof nested[0]; i++) {
        if (strcmp(nested[i].table, r->t->name) != 0)
            continue;
        const char *d = val(r, nested[i].date), *fk = val(r, nested[i].fk);
        char start[40], end[40];
        if (d == NULL || fk == NULL)
            continue;
        char *sql = sqlite3_mprintf("SELECT substr(\"%w\", 1, 10) || '|' || "
                                    "coalesce(substr(\"%w\", 1, 10), '') "
                                    "FROM \"%w\" WHERE id = ?1",
                                    nested[i].start, nested[i].end,
                                    nested[i].parent);
        char both[40];
        int found = lookup(r, nested[i].parent, sql, fk, both, sizeof both);
        sqlite3_free(sql);
        if (found != 1 || strchr(both, '|') == NULL)
            continue;
        snprintf(start, sizeof start, "%.*s", (int)(strchr(both, '|') - both),
                 both);
        snprintf(end, sizeof end, "%s", strchr(both, '|') + 1);
        if (strcmp(d, start) < 0 || (end[0] != '\0' && strcmp(d, end) > 0))
            report(r, 0, nested[i].date, "V7",
                   "V7 outside the span of its %s row", nested[i].parent);
    }
}

/* V6 and V8 for a client's category, read from the client. */
static void check_category_client(row *r)
{
    char birth[16], cert[32], why[160];
    const char *client = val(r, "client_id"), *cat = val(r, "category");
    if (client == NULL || cat == NULL)
        return;
    if (lookup(r, "clients", "SELECT birth_date FROM clients WHERE id = ?1",
               client, birth, sizeof birth) == 1 &&
        val(r, "start_date") != NULL)
        report_rc(r, "start_date", "V8",
                  validate_category_age(cat, birth, val(r, "start_date"), why,
                                        sizeof why),
                  why);
    if (strcmp(cat, "disability") == 0 &&
        lookup(r, "clients",
               "SELECT disability_cert_no FROM clients WHERE id = ?1", client,
               cert, sizeof cert) == 1 &&
        cert[0] != '\0') {
        char idn[32];
        if (lookup(r, "clients", "SELECT id_number FROM clients WHERE id = ?1",
                   client, idn, sizeof idn) != 1)
            return;
        report_rc(r, "subtype", "V6",
                  validate_disability_cert(cert, idn, val(r, "subtype"),
                                           val(r, "grade"), why, sizeof why),
                  why);
    }
}

/* V9: one person's services of a day: total <= 720 (> 480 flagged), and
 * no overlap between timed case services. */
static void check_day(row *r)
{
    int cases = strcmp(r->t->name, "case_services") == 0;
    if (!cases && strcmp(r->t->name, "volunteer_services") != 0)
        return;
    const char *person = val(r, cases ? "worker_id" : "volunteer_id");
    const char *date = val(r, "service_date"), *mins = val(r, "minutes");
    long long m;
    if (person == NULL || date == NULL || !parse_int(mins, &m))
        return;
    char *sql = sqlite3_mprintf(
        "SELECT coalesce(sum(minutes), 0), coalesce(sum(CASE WHEN ?4 IS NOT "
        "NULL AND %s IS NOT NULL AND (unixepoch(?4) < "
        "unixepoch(%s) + minutes * 60) AND (unixepoch(%s) < "
        "unixepoch(?4) + ?5 * 60) THEN 1 END), 0) FROM "
        "\"%w\" WHERE \"%w\" = ?1 AND service_date = ?2 AND id IS NOT ?3",
        /* volunteer_services has no start_time: totals only. */
        cases ? "start_time" : "NULL", cases ? "start_time" : "NULL",
        cases ? "start_time" : "NULL",
        cases ? "case_services" : "volunteer_services",
        cases ? "worker_id" : "volunteer_id");
    sqlite3_stmt *st;
    if (sql == NULL ||
        sqlite3_prepare_v2(r->ctx->db, sql, -1, &st, NULL) != SQLITE_OK) {
        report(r, 0, NULL, "db", "cannot read the day's services to check "
               "V9: %s", sql != NULL ? sqlite3_errmsg(r->ctx->db)
                                     : "out of memory");
        sqlite3_free(sql);
        return;
    }
    sqlite3_free(sql);
    sqlite3_bind_text(st, 1, person, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->id, -1, SQLITE_STATIC);
    if (cases && val(r, "start_time") != NULL)
        sqlite3_bind_text(st, 4, val(r, "start_time"), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, m);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW)
        report(r, 0, NULL, "db", "cannot read the day's services to check "
               "V9: %s", sqlite3_errmsg(r->ctx->db));
    if (step == SQLITE_ROW) {
        long long total = sqlite3_column_int64(st, 0) + m;
        if (sqlite3_column_int64(st, 1) > 0)
            report(r, 0, "start_time", "V9",
                   "V9 overlaps another service of the same person");
        if (total > 720)
            report(r, 0, "minutes", "V9",
                   "V9 the person's services total %lld minutes that day, "
                   "over 720",
                   total);
        else if (total > 480)
            report(r, 1, "minutes", "V9",
                   "V9 the person's services total %lld minutes that day, "
                   "over 480 (review)",
                   total);
    }
    sqlite3_finalize(st);
}

int validate_row(const schema_table *t, const char *id,
                 const char *const *values, const validate_ctx *ctx)
{
    char today[11];
    row r = {t, id, values, ctx, NULL, 0};
    if (ctx != NULL && ctx->today != NULL) {
        r.today = ctx->today;
    } else {
        validate__today(today);
        r.today = today;
    }
    if (!valid_uuid(id, 0))
        report(&r, 0, "id", "id",
               "must be a lowercase UUID of version 7 (or 4)");
    check_columns(&r);
    check_spans(&r);
    check_specific(&r);
    if (ctx != NULL && ctx->db != NULL) {
        check_refs(&r);
        check_nested(&r);
        if (strcmp(t->name, "client_categories") == 0)
            check_category_client(&r);
        check_day(&r);
    }
    return r.errors;
}
