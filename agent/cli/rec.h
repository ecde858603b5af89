/* Records for swsync-agent's add, change, show, list and remove: looking
 * tables and columns up with helpful errors, reading a row as text values,
 * normalising and validating input, JSON output. */
#ifndef REC_H
#define REC_H

#include <sqlite3.h>
#include <stdio.h>

#include "schema.h"

/* The table named name, or NULL after printing an error listing the
 * tables (exit CLI_EUSAGE). */
const schema_table *rec_table(const char *cmd, const char *name);
/* Index of column name in t, or -1 after printing an error listing t's
 * columns. */
int rec_column(const char *cmd, const schema_table *t, const char *name);

/* A row as text values by column position (NULL for SQL NULL; integers in
 * decimal): what validate_row takes. */
typedef struct rec_row {
    const schema_table *t;
    char id[37];
    char **v; /* t->ncolumns entries, each malloc'd or NULL */
} rec_row;
int rec_row_init(rec_row *r, const schema_table *t); /* -1: no memory */
void rec_row_clear(rec_row *r);
/* v[i] := copy of value (NULL = SQL NULL); -1 when out of memory. */
int rec_row_set(rec_row *r, int i, const char *value);
/* Read row id of r->t: 1 found, 0 no such row, -1 SQLite error (printed). */
int rec_row_load(const char *cmd, sqlite3 *db, rec_row *r, const char *id);

/* Parse the col=value arguments into r (cols[] gets 1 where given).
 * allow_null: "col=" means NULL (change); otherwise "col=" is an error.
 * Integers strictly; phone numbers and resident ID numbers normalised.
 * Returns CLI_OK or an exit code after printing the problem. */
int rec_assign(const char *cmd, rec_row *r, int nargs, const char *const *args,
               int allow_null, unsigned char *cols);
/* Normalise the given columns (cols[i] set) in place: phones to E.164 and
 * resident ID numbers to their 18-character form, when they validate. */
void rec_normalise(rec_row *r, const unsigned char *cols);

/* validate_row with every issue printed on stderr ("error:"/"warning:"),
 * using db for references. Returns the number of errors. */
int rec_validate(const char *cmd, const rec_row *r, sqlite3 *db);

/* Bind a column's text value as the column's type (INTEGER or TEXT). */
int rec_bind(sqlite3_stmt *st, int at, const schema_column *c,
             const char *value);

/* A JSON string (with quotes) on f. */
void rec_json_str(FILE *f, const char *s);
/* One row as a JSON object: "table", "id", then the columns (integers as
 * numbers, NULLs omitted); plain_only skips P and S columns. */
void rec_json_row(FILE *f, const rec_row *r, int plain_only);

#endif
