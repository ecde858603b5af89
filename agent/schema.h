/* The record model (spec/SCHEMA.md), declared once: tables, columns, types,
 * presence, enumerations, sensitivity, references and validation rules.
 * DDL, change capture, sealing, merging and validation all read this
 * declaration, so adding a table or column is a schema change, not new sync
 * code. */
#ifndef SCHEMA_H
#define SCHEMA_H

#include <stddef.h>

/* SCHEMA §9.2: the version a change-set names (FORMAT §5.1 schema_version). */
#define SCHEMA_VERSION 1
/* Capture records changed columns as bits of a 64-bit mask (agent/capture.c). */
#define SCHEMA_MAX_COLUMNS 62

typedef enum schema_type { SCHEMA_TEXT, SCHEMA_INTEGER } schema_type;

typedef enum schema_presence {
    SCHEMA_OPTIONAL,
    SCHEMA_REQUIRED,
    SCHEMA_CONDITIONAL /* required when `when` holds, NULL otherwise */
} schema_presence;

typedef enum schema_sensitivity {
    SCHEMA_PLAIN,
    SCHEMA_PERSONAL, /* P */
    SCHEMA_SENSITIVE /* S: never in logs, messages or error text */
} schema_sensitivity;

/* What a column's value must look like (SCHEMA §3 rules V1–V9). */
typedef enum schema_rule {
    SCHEMA_R_NONE,
    SCHEMA_R_UUID,      /* §2: a reference or a label-free id */
    SCHEMA_R_DATE,      /* YYYY-MM-DD (V7 with the column flags) */
    SCHEMA_R_TIME,      /* HH:MM */
    SCHEMA_R_INSTANT,   /* RFC 3339 UTC ...Z */
    SCHEMA_R_BOOL,      /* INTEGER 0/1 */
    SCHEMA_R_RANGE,     /* INTEGER in [min, max] */
    SCHEMA_R_ENUM,      /* one of enum_values */
    SCHEMA_R_ENUM_LIST, /* JSON array of enum_values, no repeats, not empty */
    SCHEMA_R_ID_NUMBER, /* V1/V2, by the row's id_type (or resident ID) */
    SCHEMA_R_PHONE,     /* V3, stored E.164 */
    SCHEMA_R_DIVISION,  /* V4, level in `level` */
    SCHEMA_R_USCC,      /* V5 */
    SCHEMA_R_DISABILITY_CERT, /* V6 */
    SCHEMA_R_MINUTES,   /* V9: a service record lasts 1–720 minutes */
    SCHEMA_R_FREE_TEXT, /* SCHEMA §1: at most 2,000 characters */
    SCHEMA_R_YEAR       /* INTEGER 1980–2100 */
} schema_rule;

/* V4 levels; SCHEMA_DIV_BY_LEVEL takes the level from org_units.level. */
typedef enum schema_division {
    SCHEMA_DIV_PROVINCE,
    SCHEMA_DIV_COUNTY,
    SCHEMA_DIV_TOWNSHIP,
    SCHEMA_DIV_VILLAGE,
    SCHEMA_DIV_BY_LEVEL
} schema_division;

/* Column flags for V7. */
#define SCHEMA_F_NOT_FUTURE 0x1u /* not after today at the recording unit */
#define SCHEMA_F_WORK 0x2u       /* a work record: not before 2000-01-01 */

/* The condition of a C(...) column. */
typedef enum schema_cond_op {
    SCHEMA_C_NONE,
    SCHEMA_C_EQ,       /* column = value */
    SCHEMA_C_NE,       /* column is set and != value */
    SCHEMA_C_SET,      /* column IS NOT NULL */
    SCHEMA_C_HAS,      /* JSON list column contains value */
    SCHEMA_C_MINOR,    /* the person (birth_date of this row) is under 18 */
    SCHEMA_C_SUBTYPES  /* the row's category has subtypes */
} schema_cond_op;

typedef struct schema_cond {
    schema_cond_op op;
    const char *column;
    const char *value; /* text form; integers as decimal */
} schema_cond;

typedef struct schema_column {
    const char *name;
    schema_type type;
    schema_presence presence;
    schema_sensitivity sens;
    schema_rule rule;
    const char *const *values; /* ENUM / ENUM_LIST: NULL-terminated ids */
    const char *ref;           /* referenced table (ids only, SCHEMA §2.3) */
    schema_cond when;          /* SCHEMA_CONDITIONAL only */
    long long min, max;        /* SCHEMA_R_RANGE */
    schema_division level;     /* SCHEMA_R_DIVISION */
    unsigned flags;            /* SCHEMA_F_* */
    unsigned since;            /* schema version that added the column */
} schema_column;

/* V7 "every end >= its start": an ordered pair of columns of one row. */
typedef struct schema_span {
    const char *start, *end;
    int strict; /* end > start */
} schema_span;

typedef struct schema_table {
    const char *name;
    const char *label; /* 中文 name, for people */
    /* Declared columns, in their fixed order (capture stores values by
     * position: columns are only ever appended). `id TEXT PRIMARY KEY` is
     * implicit and not listed. */
    const schema_column *columns;
    size_t ncolumns;
    const schema_span *spans;
    size_t nspans;
    unsigned since;
} schema_table;

/* A version of the model: its tables, parents before children. Tests build
 * synthetic later versions by copying the current one and appending. */
typedef struct schema_model {
    unsigned version;
    const schema_table *tables;
    size_t ntables;
} schema_model;

/* The model this build was written against (version SCHEMA_VERSION). */
const schema_model *schema_current(void);
const schema_table *schema_find(const schema_model *m, const char *name);
/* Index of a column within its table, or -1. */
int schema_column_index(const schema_table *t, const char *name);
/* Largest ncolumns over all tables (the outbox's value width). */
size_t schema_max_columns(const schema_model *m);

/* 1 if value is one of the NULL-terminated ids. */
int schema_enum_has(const char *const *values, const char *value);
/* Subtype ids of a category, or NULL when it has none (SCHEMA §4). */
const char *const *schema_category_subtypes(const char *category);
/* Allowed certificate levels for a cert_type, or NULL (SCHEMA §8). */
const char *const *schema_cert_levels(const char *cert_type);

/* The SQL that creates table t (STRICT, with indexes on owner_unit_id and
 * every reference). Returns a string from sqlite3_mprintf (free with
 * sqlite3_free), or NULL when out of memory. */
char *schema_create_sql(const schema_table *t);

/* Self-check of the declaration (names are identifiers, enumerations are
 * present where needed, references name declared tables, at most
 * SCHEMA_MAX_COLUMNS columns): 0 when sound, else -1 with msg set. */
int schema_check(const schema_model *m, char *msg, size_t msgsz);

#endif
