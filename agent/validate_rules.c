/* The single validation rules of SCHEMA §3 (V1–V8 and the formats of dates,
 * times and instants); agent/validate.c applies them to rows. */
#include "validate.h"
#include "validate_internal.h"

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

int validate__digit(char c) { return c >= '0' && c <= '9'; }

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!validate__digit(s[i]))
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

int validate__time(const char *t)
{
    return t != NULL && strlen(t) == 5 && t[2] == ':' && all_digits(t, 2) &&
           all_digits(t + 3, 2) && num(t, 2) < 24 && num(t + 3, 2) < 60;
}

/* RFC 3339 UTC with seconds, optional fraction: YYYY-MM-DDTHH:MM:SS[.f]Z */
int validate__instant(const char *s)
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
void validate__today(char out[11])
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
    if (!all_digits(out, 17) || !(validate__digit(out[17]) || out[17] == 'X'))
        return why_set(why, whysz, -1,
                       "V1 must be 17 digits then a digit or X");
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (out[i] - '0') * id_weights[i];
    char expect = "10X98765432"[sum % 11];
    if (out[17] != expect)
        /* The characters themselves would give away part of the number. */
        return why_set(why, whysz, -1,
                       "V1 check character does not match the other 17 "
                       "digits");
    if (today == NULL) {
        validate__today(today_buf);
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
        if (!validate__digit(s[i]) && !(s[i] >= 'A' && s[i] <= 'Z'))
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
        snprintf(out, 24, "+86%.11s", n);
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
    /* One message for every category: naming the category, or the rule
     * that only it has, would reveal it (it is sensitive, SCHEMA §4). */
    int minor_only = strcmp(category, "left_behind_child") == 0
                         ? age >= 16
                         : (strcmp(category, "orphan") == 0 ||
                            strcmp(category, "de_facto_unattended") == 0 ||
                            strcmp(category, "child_in_difficulty") == 0) &&
                               age >= 18;
    if ((strncmp(category, "elderly_", 8) == 0 && age < 60) || minor_only)
        return why_set(why, whysz, -1,
                       "V8 age on start_date does not fit the category "
                       "(elderly >= 60, left-behind children < 16, other "
                       "children's categories < 18)");
    return 0;
}

