/* `swsync-audit trace ROWID`: every change-set record of one row across
 * all inputs (spec/SECURITY.md §8.7), kept while the frame pass streams,
 * then printed in HLC order with concurrent edits and what resolved them.
 *
 * Memory: one entry per record of that row (bounded by
 * AUDIT_TRACE_MAX_RECORDS; more are counted, not kept). */
#ifndef AUDIT_TRACE_H
#define AUDIT_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "audit_keys.h"
#include "swlog.h"

#define AUDIT_TRACE_MAX_RECORDS 100000

typedef struct audit_trace audit_trace;

/* values: also keep the values (shown only with --values). */
audit_trace *audit_trace_new(const uint8_t row[SWLOG_UUID_BYTES], int values);
void audit_trace_free(audit_trace *t);

/* Look through a decoded change-set for the row. trust: the frame's
 * verdict (AUDIT_TRUST_OK or why not). SWLOG_OK or an error. */
int audit_trace_frame(audit_trace *t, const swlog_frame *f, audit_place at,
                      int trust);

/* Print the history; files names the inputs. Returns ferror(out). */
int audit_trace_print(FILE *out, audit_trace *t, const char *const *files,
                      uint32_t nfiles, int json);

#endif
