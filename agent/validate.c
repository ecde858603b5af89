/* Validation on entry: SCHEMA §3 rules V1–V9 and the declaration's presence,
 * enumeration and type rules. Messages never carry a P or S value. */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int why_set(char *why, size_t whysz, int result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int why_set(char *why, size_t whysz, int result, const char *fmt, ...)
{
    if (why != NULL && whysz > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whysz, fmt, ap);
        va_end(ap);
    }
    return result;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int validate_date(const char *d, char *why, size_t whysz)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d == NULL || strlen(d) != 10 || d[4] != '-' || d[7] != '-' ||
        !all_digits(d, 4) || !all_digits(d + 5, 2) || !all_digits(d + 8, 2))
        return why_set(why, whysz, -1, "not a date YYYY-MM-DD");
    int y = num(d, 4), m = num(d + 5, 2), day = num(d + 8, 2);
    if (m < 1 || m > 12 || day < 1 ||
        day > mdays[m - 1] + (m == 2 && leap(y)))
        return why_set(why, whysz, -1, "not a calendar date");
    return 0;
}

static int valid_time(const char *t)
{
    return t != NULL && strlen(t) == 5 && t[2] == ':' && all_digits(t, 2) &&
           all_digits(t + 3, 2) && num(t, 2) < 24 && num(t + 3, 2) < 60;
}

/* RFC 3339 UTC with seconds and an optional fraction: YYYY-MM-DDTHH:MM:SS[.f]Z */
static int valid_instant(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    char date[11];
    if (n < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[n - 1] != 'Z')
        return 0;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (validate_date(date, NULL, 0) != 0 || !all_digits(s + 11, 2) ||
        !all_digits(s + 14, 2) || !all_digits(s + 17, 2) ||
        num(s + 11, 2) > 23 || num(s + 14, 2) > 59 || num(s + 17, 2) > 60)
        return 0;
    if (n == 20)
        return 1;
    return s[19] == '.' && n > 21 && all_digits(s + 20, n - 21);
}

int validate_age(const char *birth, const char *on)
{
    if (validate_date(birth, NULL, 0) != 0 || validate_date(on, NULL, 0) != 0)
        return -1;
    int age = num(on, 4) - num(birth, 4);
    /* Compare MM-DD as text: a birthday not reached yet this year. */
    if (strcmp(on + 5, birth + 5) < 0)
        age--;
    return age;
}

/* SCHEMA §1: dates are calendar dates in China Standard Time. */
static void today_cst(char out[11])
{
    time_t t = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* V1 ---------------------------------------------------------------------- */

static const int id_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6,
                                   3, 7, 9, 10, 5, 8, 4, 2};

/* Spaces dropped, full-width digits and X (U+FF10..FF19, U+FF38, U+FF58)
 * folded to ASCII, x to X. 0 when the result fits out[19]. */
static int id_normalise(const char *in, char out[19])
{
    size_t k = 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p) {
        char c;
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) { /* U+3000 */
            p += 3;
            continue;
        }
        if (p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x90 && p[2] <= 0x99) {
            c = (char)('0' + (p[2] - 0x90));
            p += 3;
        } else if (p[0] == 0xEF && ((p[1] == 0xBC && p[2] == 0xB8) ||
                                    (p[1] == 0xBD && p[2] == 0x98))) {
            c = 'X';
            p += 3;
        } else {
            c = *p == 'x' ? 'X' : (char)*p;
            p++;
        }
        if (k == 18)
            return -1;
        out[k++] = c;
    }
    out[k] = '\0';
    return 0;
}

static int province_known(int p)
{
    return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) ||
           (p >= 31 && p <= 37) || (p >= 41 && p <= 46) ||
           (p >= 50 && p <= 54) || (p >= 61 && p <= 65) ||
           (p >= 81 && p <= 83);
}

int validate_resident_id(const char *in, int hmt, const char *birth_date,
                         const char *gender, const char *today, char out[19],
                         char *why, size_t whysz)
{
    char today_buf[11], birth[11];
    if (in == NULL || id_normalise(in, out) != 0 || strlen(out) != 18)
        return why_set(why, whysz, -1, "V1 must be 18 characters");
    if (!all_digits(out, 17) || !(is_digit(out[17]) || out[17] == 'X'))
        return why_set(why, whysz, -1,
                       "V1 must be 17 digits then a digit or X");
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (out[i] - '0') * id_weights[i];
    char expect = "10X98765432"[sum % 11];
    if (out[17] != expect)
        return why_set(why, whysz, -1, "V1 check character is %c, expected %c",
                       out[17], expect);
    if (today == NULL) {
        today_cst(today_buf);
        today = today_buf;
    }
    snprintf(birth, sizeof birth, "%.4s-%.2s-%.2s", out + 6, out + 10,
             out + 12);
    if (validate_date(birth, NULL, 0) != 0 || strcmp(birth, "1890-01-01") < 0 ||
        strcmp(birth, today) > 0)
        return why_set(why, whysz, -1,
                       "V1 digits 7-14 are not a birth date in "
                       "1890-01-01..today");
    if (birth_date != NULL && strcmp(birth, birth_date) != 0)
        return why_set(why, whysz, -1,
                       "V1 birth date in the number differs from birth_date");
    const char *sex = (out[16] - '0') % 2 ? "male" : "female";
    if (gender != NULL && strcmp(gender, sex) != 0)
        return why_set(why, whysz, -1,
                       "V1 sex digit (17th) does not match gender");
    int prov = num(out, 2);
    if (hmt && (prov < 81 || prov > 83))
        return why_set(why, whysz, -1,
                       "V1 a residence permit number starts with 81, 82 or "
                       "83");
    if (!province_known(prov))
        return why_set(why, whysz, 1, "V1 province prefix is not a known "
                                      "province (warning)");
    return 0;
}

/* V2 ---------------------------------------------------------------------- */

static int upper_alnum(const char *s, size_t lo, size_t hi)
{
    size_t n = strlen(s);
    if (n < lo || n > hi)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]) && !(s[i] >= 'A' && s[i] <= 'Z'))
            return 0;
    return 1;
}

int validate_document(const char *id_type, const char *number,
                      const char *birth_date, const char *gender,
                      const char *today, char *why, size_t whysz)
{
    char norm[19];
    if (id_type == NULL)
        return why_set(why, whysz, -1, "V2 id_type is missing");
    if (strcmp(id_type, "none") == 0)
        return number == NULL
                   ? 0
                   : why_set(why, whysz, -1,
                             "V2 id_type none requires no number");
    if (number == NULL)
        return why_set(why, whysz, -1, "V2 a number is required for %s",
                       id_type);
    if (strcmp(id_type, "resident_id") == 0 ||
        strcmp(id_type, "hmt_residence_permit") == 0) {
        int rc = validate_resident_id(number, id_type[0] == 'h', birth_date,
                                      gender, today, norm, why, whysz);
        /* Stored values are normalised (SCHEMA §3 V1). */
        if (rc >= 0 && strcmp(norm, number) != 0)
            return why_set(why, whysz, -1, "V1 number is not normalised");
        return rc;
    }
    if (strcmp(id_type, "foreign_permanent_resident") == 0)
        return upper_alnum(number, 18, 18) && number[0] == '9'
                   ? 0
                   : why_set(why, whysz, -1,
                             "V2 a foreign permanent resident card number is "
                             "18 characters starting with 9");
    return upper_alnum(number, 5, 20)
               ? 0
               : why_set(why, whysz, -1,
                         "V2 a passport or permit number is 5-20 characters "
                         "0-9 A-Z");
}

/* V3 ---------------------------------------------------------------------- */

int validate_phone(const char *in, char out[24], char *why, size_t whysz)
{
    char d[32];
    size_t k = 0;
    for (const char *p = in != NULL ? in : ""; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (k + 1 >= sizeof d)
            return why_set(why, whysz, -1, "V3 too long for a phone number");
        d[k++] = *p;
    }
    d[k] = '\0';
    const char *n = d;
    if (strncmp(n, "+86", 3) == 0)
        n += 3;
    else if (strncmp(n, "0086", 4) == 0)
        n += 4;
    size_t len = strlen(n);
    if (len == 11 && n[0] == '1' && n[1] >= '3' && n[1] <= '9' &&
        all_digits(n, 11)) {
        snprintf(out, 24, "+86%s", n);
        return 0;
    }
    /* Landline: 0, area code of 2-3 digits (first not 0), 7-8 digits, and
     * an optional extension after the 10-12 digits: accept the shortest
     * area code that leaves a valid subscriber number. */
    if (len >= 10 && n[0] == '0' && n[1] >= '1' && n[1] <= '9' &&
        all_digits(n, len)) {
        if (len > 17)
            return why_set(why, whysz, -1, "V3 landline number too long");
        snprintf(out, 24, "+86%s", n + 1);
        return 0;
    }
    return why_set(why, whysz, -1,
                   "V3 not a mobile (1[3-9] and 9 digits) or landline (0, "
                   "area code, 7-8 digits) number");
}

/* V4 ---------------------------------------------------------------------- */

int validate_division(const char *c, schema_division level, char *why,
                      size_t whysz)
{
    size_t n = c != NULL ? strlen(c) : 0;
    switch (level) {
    case SCHEMA_DIV_PROVINCE:
        if (n == 6 && all_digits(c, 6) && c[0] != '0' &&
            strcmp(c + 2, "0000") == 0)
            return 0;
        return why_set(why, whysz, -1, "V4 a province code is NN0000");
    case SCHEMA_DIV_COUNTY:
        if (n == 6 && all_digits(c, 6) && c[0] != '0')
            return 0;
        return why_set(why, whysz, -1, "V4 a county code is 6 digits");
    case SCHEMA_DIV_TOWNSHIP:
        if (n == 12 && all_digits(c, 12) && strcmp(c + 9, "000") == 0 &&
            num(c + 6, 3) >= 1 && num(c + 6, 3) <= 599)
            return 0;
        return why_set(why, whysz, -1,
                       "V4 a township code is 12 digits ending 000, digits "
                       "7-9 in 001-599");
    case SCHEMA_DIV_VILLAGE:
        if (n == 12 && all_digits(c, 12) && num(c + 9, 3) >= 1 &&
            num(c + 9, 3) <= 599)
            return 0;
        return why_set(why, whysz, -1,
                       "V4 a village code is 12 digits, digits 10-12 in "
                       "001-599");
    case SCHEMA_DIV_BY_LEVEL:
        break;
    }
    return why_set(why, whysz, -1, "V4 unknown division level");
}

/* V5 ---------------------------------------------------------------------- */

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

int validate_uscc(const char *code, char *why, size_t whysz)
{
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20,
                              29, 25, 13, 8, 24, 10, 30, 28};
    if (code == NULL || strlen(code) != 18)
        return why_set(why, whysz, -1, "V5 must be 18 characters");
    int sum = 0, v[18];
    for (int i = 0; i < 18; i++) {
        const char *p = code[i] != '\0' ? strchr(uscc_alphabet, code[i]) : NULL;
        if (p == NULL)
            return why_set(why, whysz, -1,
                           "V5 character %d is outside 0-9 A-H J-N P-R T U "
                           "W-Y",
                           i + 1);
        v[i] = (int)(p - uscc_alphabet);
        if (i < 17)
            sum += v[i] * w[i];
    }
    if (!all_digits(code + 2, 6) || code[2] == '0')
        return why_set(why, whysz, -1,
                       "V5 characters 3-8 are not a county-or-above code");
    char expect = uscc_alphabet[(31 - sum % 31) % 31];
    if (code[17] != expect)
        return why_set(why, whysz, -1, "V5 check character is %c, expected %c",
                       code[17], expect);
    return 0;
}

/* V6 ---------------------------------------------------------------------- */

/* The category digit of a disability certificate (GB/T 26341 order). */
static const char *const disability_digit[] = {
    "visual", "hearing", "speech", "physical", "intellectual", "mental",
    "multiple"};

int validate_disability_cert(const char *cert, const char *id_number,
                             const char *subtype, const char *grade,
                             char *why, size_t whysz)
{
    if (cert == NULL || strlen(cert) != 20)
        return why_set(why, whysz, -1, "V6 must be 20 characters");
    if (id_number == NULL || strncmp(cert, id_number, 18) != 0)
        return why_set(why, whysz, -1,
                       "V6 first 18 characters differ from the holder's ID "
                       "number");
    if (cert[18] < '1' || cert[18] > '7' || cert[19] < '1' || cert[19] > '4')
        return why_set(why, whysz, -1,
                       "V6 must end with a category 1-7 and a grade 1-4");
    if (subtype != NULL &&
        strcmp(disability_digit[cert[18] - '1'], subtype) != 0)
        return why_set(why, whysz, -1,
                       "V6 category digit does not match the subtype");
    if (grade != NULL && (grade[0] != cert[19] || grade[1] != '\0'))
        return why_set(why, whysz, -1, "V6 grade digit does not match grade");
    return 0;
}

/* V8 ---------------------------------------------------------------------- */

int validate_category_age(const char *category, const char *birth_date,
                          const char *start_date, char *why, size_t whysz)
{
    int age = validate_age(birth_date, start_date);
    if (category == NULL || age < 0)
        return why_set(why, whysz, -1,
                       "V8 age on start_date cannot be computed");
    if (strncmp(category, "elderly_", 8) == 0 && age < 60)
        return why_set(why, whysz, -1,
                       "V8 elderly categories need age >= 60 on start_date");
    if (strcmp(category, "left_behind_child") == 0 && age >= 16)
        return why_set(why, whysz, -1,
                       "V8 left_behind_child needs age < 16 on start_date");
    if ((strcmp(category, "orphan") == 0 ||
         strcmp(category, "de_facto_unattended") == 0 ||
         strcmp(category, "child_in_difficulty") == 0) &&
        age >= 18)
        return why_set(why, whysz, -1, "V8 %s needs age < 18 on start_date",
                       category);
    return 0;
}

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
                 : !(is_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'f')))
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
        if (!valid_time(v))
            report(r, 0, c->name, "V7", "V7 not a time HH:MM");
        break;
    case SCHEMA_R_INSTANT:
        if (!valid_instant(v)) {
            report(r, 0, c->name, "V7", "V7 not an instant YYYY-MM-DDTHH:MM:SSZ");
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

static const char *cond_text(const schema_cond *c)
{
    static char buf[96];
    switch (c->op) {
    case SCHEMA_C_EQ:
        snprintf(buf, sizeof buf, "%s = %s", c->column, c->value);
        break;
    case SCHEMA_C_NE:
        snprintf(buf, sizeof buf, "%s is not %s", c->column, c->value);
        break;
    case SCHEMA_C_SET:
        snprintf(buf, sizeof buf, "%s is set", c->column);
        break;
    case SCHEMA_C_HAS:
        snprintf(buf, sizeof buf, "%s has %s", c->column, c->value);
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
            if (holds && v == NULL) {
                report(r, 0, c->name, "required", "is required when %s",
                       cond_text(&c->when));
                continue;
            }
            if (!holds && v != NULL) {
                report(r, 0, c->name, "required", "must be empty unless %s",
                       cond_text(&c->when));
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
            report(r, 0, s->end, "V7", "V7 must be %s %s", s->strict ? "after"
                                                                   : "on or after",
                   s->start);
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

/* Rules reading other rows ---------------------------------------------------- */

/* First column of the first row of sql with ?1 = key, into out; 1 if found. */
static int lookup(sqlite3 *db, const char *sql, const char *key, char *out,
                  size_t outsz)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found && out != NULL) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, outsz, "%s", t != NULL ? (const char *)t : "");
        if (t == NULL)
            out[0] = '\0';
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
        int found = sql != NULL && lookup(r->ctx->db, sql, r->v[i], NULL, 0);
        sqlite3_free(sql);
        if (!found)
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
        int found = sql != NULL && lookup(r->ctx->db, sql, fk, both,
                                          sizeof both);
        sqlite3_free(sql);
        if (!found || strchr(both, '|') == NULL)
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
    if (lookup(r->ctx->db, "SELECT birth_date FROM clients WHERE id = ?1",
               client, birth, sizeof birth) &&
        val(r, "start_date") != NULL)
        report_rc(r, "start_date", "V8",
                  validate_category_age(cat, birth, val(r, "start_date"), why,
                                        sizeof why),
                  why);
    if (strcmp(cat, "disability") == 0 &&
        lookup(r->ctx->db,
               "SELECT disability_cert_no FROM clients WHERE id = ?1", client,
               cert, sizeof cert) &&
        cert[0] != '\0') {
        char idn[32];
        lookup(r->ctx->db, "SELECT id_number FROM clients WHERE id = ?1",
               client, idn, sizeof idn);
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
        "NULL AND start_time IS NOT NULL AND (unixepoch(?4) < "
        "unixepoch(start_time) + minutes * 60) AND (unixepoch(start_time) < "
        "unixepoch(?4) + ?5 * 60) THEN 1 END), 0) FROM "
        "\"%w\" WHERE \"%w\" = ?1 AND service_date = ?2 AND id IS NOT ?3",
        cases ? "case_services" : "volunteer_services",
        cases ? "worker_id" : "volunteer_id");
    sqlite3_stmt *st;
    if (sql == NULL ||
        sqlite3_prepare_v2(r->ctx->db, sql, -1, &st, NULL) != SQLITE_OK) {
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
    if (sqlite3_step(st) == SQLITE_ROW) {
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
        today_cst(today);
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
