/* Printing of frames, records and problems for swsync-dump, in two forms:
 * dump_text_* for people, dump_json_* as JSON lines (one object a line).
 * Every function returns 0, or nonzero when the output cannot be written.
 * Record contents are printed on purpose (an operator or auditor inspects
 * their own data); problem messages never contain them. */
#ifndef DUMP_H
#define DUMP_H

#include <stdio.h>

#include "verify_loop.h"

/* "changeset", "cert", "rotation", "revocation", "checkpoint", "unknown". */
const char *dump_type_name(uint8_t type);
/* "root", "province", "county", "station", or "unknown". */
const char *dump_role_name(uint8_t role);
/* "unspecified", "compromised", "retired", "superseded", or "unknown". */
const char *dump_reason_name(uint8_t reason);
/* "null", "int", "real", "text", "blob", or "unknown". */
const char *dump_vtype_name(uint8_t type);

/* Human form. new_feed: print the full key of the frame's feed, the first
 * time it appears in a file; blobs longer than DUMP_TEXT_BLOB_MAX bytes are
 * cut, with their length. */
#define DUMP_TEXT_BLOB_MAX 32
int dump_text_open(FILE *out, const char *path,
                   const uint8_t salt[SWLOG_SALT_BYTES]);
int dump_text_frame(FILE *out, const verify_frame *vf, int new_feed);
int dump_text_end(FILE *out, const char *path, const verify_stats *st);

/* JSON lines: objects of "type" "file", "frame", "record" and "end"
 * (problems: problem.h). Integers beyond ±2^53 are decimal strings (fmt.h). */
int dump_json_open(FILE *out, const char *path,
                   const uint8_t salt[SWLOG_SALT_BYTES]);
int dump_json_frame(FILE *out, const verify_frame *vf);
int dump_json_end(FILE *out, const char *path, const verify_stats *st);

#endif
