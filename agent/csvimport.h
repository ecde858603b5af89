/* CSV import of one table's rows into the replica (RFC 4180 text, UTF-8,
 * a header line naming columns of the declaration). Every line is
 * validated (validate_row); any error in any line means nothing is
 * written, and every bad line is reported with its line number, column and
 * rule, never with the value of a personal or sensitive column. A valid
 * file is written in one transaction under the handle's operator, so it is
 * captured like any other write. Limits: see CSVIMPORT_MAX_*.
 *
 * The rules in full are in agent/README.md "CSV import"; in brief: lines
 * starting with # are comments; empty lines and lines of empty fields are
 * skipped; the header names columns in any order, `id` optional (a UUIDv7
 * is made when absent or empty); an empty field is NULL; values are
 * normalised as entry stores them (V1 ID numbers, V3 phones to E.164,
 * lowercase UUIDs, strict integers, lists written a;b); import adds rows
 * (an id in the table, of a deleted row, or repeated in the file is
 * refused) unless opts->update, which lets a line change the row of an
 * existing id; references may name rows of earlier lines. Reading stops at a
 * CSV syntax error or after CSVIMPORT_MAX_REPORTED bad lines. Memory is
 * bounded by one record, not by the file. */
#ifndef CSVIMPORT_H
#define CSVIMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "replica.h"
#include "schema.h"
#include "swlog.h"

#define CSVIMPORT_MAX_LINE 1048576u   /* bytes in one record (line) */
#define CSVIMPORT_MAX_FIELDS 64u      /* fields in one record */
#define CSVIMPORT_MAX_ROWS 1000000u   /* data lines in one file */
#define CSVIMPORT_MAX_REPORTED 1000u  /* bad-line reports before giving up */

/* One problem found in the input. line is the 1-based physical line where
 * the record starts (the header is line 1; comments count); column NULL for
 * a whole-line problem; column and rule are valid during the sink call
 * only. rule: validate's ("required", "enum", "V1".."V9", "ref", "type",
 * "id"...) or the importer's ("header", "fields", "csv", "limit"). msg
 * never holds a P or S value, and does not repeat the table and column. */
typedef struct csvimport_issue {
    uint64_t line;
    const char *column;
    const char *rule;
    int warning;
    char msg[240];
} csvimport_issue;

typedef void (*csvimport_sink)(const csvimport_issue *issue, void *ctx);
/* Called every CSVIMPORT_PROGRESS_EVERY data lines and once at the end
 * with the line reached and the bytes read so far (for a progress line);
 * may be NULL. */
#define CSVIMPORT_PROGRESS_EVERY 4096u
typedef void (*csvimport_progress)(uint64_t lines, uint64_t bytes, void *ctx);

typedef struct csvimport_opts {
    const char *source;   /* the file name, for messages */
    const char *today;    /* YYYY-MM-DD; NULL = today in UTC+8 */
    csvimport_sink sink;
    void *sink_ctx;
    csvimport_progress progress;
    void *progress_ctx;
    /* 0: import only adds rows (an id already in the table is refused).
     * 1: a line whose id is in the table (from before this import) changes
     * that row: the columns the header names take the line's values (an
     * empty field sets NULL), the others keep theirs, and the row as it
     * would then be is validated; the header need not name every required
     * column (new rows still need them, line by line). Deleted rows' ids
     * and ids repeated within the file are refused in both modes. */
    int update;
} csvimport_opts;

typedef struct csvimport_result {
    uint64_t rows;     /* data lines read */
    uint64_t inserted; /* rows added (0 on any error) */
    uint64_t updated;  /* rows changed, update mode (0 on any error) */
    uint64_t errors;   /* issues that refused the file */
    uint64_t warnings;
} csvimport_result;

/* Import in into table t of r. Returns 0 when every line was valid and all
 * were written; SWLOG_EINVAL (with a summary in err) when any line was bad
 * and nothing was written; other codes for I/O or database failures, also
 * with nothing written. */
int csvimport_run(replica *r, const schema_table *t, FILE *in,
                  const csvimport_opts *opt, csvimport_result *res,
                  swlog_error *err);

/* Write the template of t: a UTF-8 byte order mark, the header line (id,
 * then the columns in declaration order) and one guide line starting with
 * "# " that csvimport_run skips, holding under each column whether it is
 * required (or when), its format or allowed values, and its sensitivity.
 * CRLF line ends, as spreadsheet programs write. */
int csvimport_template(const schema_table *t, FILE *out, swlog_error *err);

#endif
