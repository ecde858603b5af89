/* Validation on entry: the rules V1–V9 of spec/SCHEMA.md §3, and the
 * declaration's presence, enumeration and type rules, for one row. Messages
 * name the table, the column and the rule, and never contain the value of a
 * personal (P) or sensitive (S) column. */
#ifndef VALIDATE_H
#define VALIDATE_H

#include <sqlite3.h>
#include <stddef.h>

#include "schema.h"

typedef struct validate_issue {
    int warning;        /* 1: flagged for review, not refused */
    const char *table;
    const char *column; /* NULL for a row-level finding */
    const char *rule;   /* "V1".."V9", "required", "enum", "type", "ref"... */
    char msg[200];      /* "clients.id_number: V1 check character ..." */
} validate_issue;

typedef void (*validate_sink)(const validate_issue *issue, void *ctx);

typedef struct validate_ctx {
    /* YYYY-MM-DD "today at the recording unit"; NULL = now in UTC+8. */
    const char *today;
    /* Optional: the replica, for rules that read other rows (references,
     * V6/V8 via the client, V7 child within parent, V9 daily totals). */
    sqlite3 *db;
    validate_sink sink; /* every finding; may be NULL */
    void *sink_ctx;
} validate_ctx;

/* Validate one row of t. values[i] is the text form of t->columns[i] as it
 * would be stored (integers in decimal, NULL for SQL NULL); id is the row's
 * id. Returns the number of errors (warnings are not counted). */
int validate_row(const schema_table *t, const char *id,
                 const char *const *values, const validate_ctx *ctx);

/* The single rules, for the CLI and CSV import. Each returns 0 when valid,
 * 1 when valid with a warning, -1 when invalid, and writes the reason
 * (without the value) to why. */

/* V1: normalise (spaces, full-width, x -> X) into out[19]; then format,
 * check character, birth date (1890-01-01..today, equal to birth_date if not
 * NULL), sex digit (equal to gender if not NULL), province prefix (warning).
 * hmt: the hmt_residence_permit form (prefix 81/82/83 required). */
int validate_resident_id(const char *in, int hmt, const char *birth_date,
                         const char *gender, const char *today, char out[19],
                         char *why, size_t whysz);
/* V2: a document number by id_type (V1 for the resident forms). */
int validate_document(const char *id_type, const char *number,
                      const char *birth_date, const char *gender,
                      const char *today, char *why, size_t whysz);
/* V3: normalise a phone number to E.164 in out[24]. */
int validate_phone(const char *in, char out[24], char *why, size_t whysz);
/* V4: a division code of a level. */
int validate_division(const char *code, schema_division level, char *why,
                      size_t whysz);
/* V5: a unified social credit code. */
int validate_uscc(const char *code, char *why, size_t whysz);
/* V6: a disability certificate number against the holder's ID number, and
 * (when not NULL) the disability subtype and grade it must encode. */
int validate_disability_cert(const char *cert, const char *id_number,
                             const char *subtype, const char *grade,
                             char *why, size_t whysz);
/* V7: a real calendar date YYYY-MM-DD. */
int validate_date(const char *date, char *why, size_t whysz);
/* V8: the age a category requires, on the category's start date. */
int validate_category_age(const char *category, const char *birth_date,
                          const char *start_date, char *why, size_t whysz);
/* Completed years between two valid dates (b >= a), or -1. */
int validate_age(const char *birth_date, const char *on_date);

#endif
