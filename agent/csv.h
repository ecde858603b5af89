/* A strict, streaming reader of RFC 4180 CSV in UTF-8, one record at a time.
 *
 * Accepted: fields separated by `,`; records ended by CRLF or LF (the last
 * one may lack it); fields in double quotes holding `,`, CR, LF and `""`
 * (one quote); a UTF-8 byte order mark at the very start (skipped); a line
 * whose first byte is `#` is a comment (skipped to its LF; quote a first
 * value that starts with `#`); an empty line is skipped.
 *
 * Refused (SWLOG_EINVAL, with line and column): a quote inside an unquoted
 * field, anything but `,` or a line end after a closing quote, a quote left
 * open at the end of the input, a CR not followed by LF outside quotes, a
 * NUL byte, bytes that are not UTF-8 (overlong forms, surrogates, past
 * U+10FFFF, truncated sequences). Limits (SWLOG_EBOUNDS): a record longer
 * than max_record bytes or with more than max_fields fields; both are
 * checked before anything is allocated for them. Any error ends reading:
 * after a syntax error a file cannot be split into records reliably.
 *
 * Memory is bounded by one record (at most max_record + max_fields bytes of
 * record buffer, plus a 64 KiB read buffer), never by the input. */
#ifndef CSV_H
#define CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "swlog.h"

typedef struct csv_reader csv_reader;

/* One record. field[i] is NUL-terminated (len[i] bytes, which may include
 * CR and LF of a quoted field but never NUL); both arrays and the strings
 * are owned by the reader and valid until the next csv_next or csv_free.
 * line is the 1-based physical line where the record starts. */
typedef struct csv_record {
    size_t nfields;
    char *const *field;
    const size_t *len;
    uint64_t line;
} csv_record;

/* A reader of in (not closed by csv_free). max_record >= 1, max_fields
 * >= 1. SWLOG_ENOMEM or SWLOG_EARG on failure. */
int csv_new(FILE *in, size_t max_record, size_t max_fields, csv_reader **out,
            swlog_error *err);
void csv_free(csv_reader *r); /* NULL does nothing */

/* The next record into *rec: 1 when a record was read, 0 at the end of the
 * input, else an error code (SWLOG_EINVAL syntax or encoding, SWLOG_EBOUNDS
 * limits, SWLOG_EIO read failure, SWLOG_ENOMEM) with "line L, column C:
 * what" in err (err->offset = byte offset). After an error every later
 * call returns the same code. */
int csv_next(csv_reader *r, csv_record *rec, swlog_error *err);

/* Where the last error was: 1-based physical line and column (in
 * characters), 0 when there was none. */
uint64_t csv_error_line(const csv_reader *r);
uint64_t csv_error_column(const csv_reader *r);
/* Bytes of input consumed so far (for progress). */
uint64_t csv_bytes(const csv_reader *r);

#endif
