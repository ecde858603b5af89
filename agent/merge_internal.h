/* Shared state of the merge files (merge.c, merge_hist.c, merge_hash.c):
 * the engine's merge tables and the total order of writes (MERGE §3). */
#ifndef MERGE_INTERNAL_H
#define MERGE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "merge.h"
#include "schema.h"
#include "swlog.h"

/* A write as the history and the conflict rules see it (MERGE §4): one
 * column value of an upsert (kind 1) or a delete (kind 2). Exactly one of
 * xv (a value decoded from a frame) and sv (a value read from SQLite) is
 * set for upserts; deletes have neither. */
typedef struct merge__write {
    int kind;
    uint64_t hlc, rep;
    const uint8_t *signer; /* 32 bytes; zero for a local write (MERGE §6) */
    const uint8_t *frame;  /* 32 bytes; zero for a local write */
    const swlog_value *xv;
    sqlite3_value *sv;
} merge__write;

/* Create _sw_hist and _sw_conflicts if missing, or migrate a _sw_hist of
 * the version 1 layout (inside the caller's transaction). *look (may be
 * NULL) keeps the look-up statement for the next call; finalize it. */
int merge__tables(sqlite3 *db, sqlite3_stmt **look, swlog_error *err);
/* 1 when the engine tables exist (read-only callers), 0 when not. */
int merge__tables_exist(sqlite3 *db);

/* FORMAT §5.4 encoding of a value's type and data (tag bit 3 clear): the
 * second key of the order of writes. */
int merge__encode(const swlog_value *v, swlog_buf *out);
/* The swlog_value view of an SQLite value (text and blob borrowed). */
void merge__from_sql(sqlite3_value *sv, swlog_value *out);
/* Bind a write's value. */
int merge__bind_value(sqlite3_stmt *st, int i, const merge__write *w);

/* Compare two writes of one column by MERGE §3: HLC, then the value's
 * encoding, then signer, then frame id. ea/eb hold their encodings. */
int merge__order(const merge__write *a, const uint8_t *ea, size_t ea_len,
                 const merge__write *b, const uint8_t *eb, size_t eb_len);

/* One write packed in a _sw_hist row's `writes` (MERGE §4): column name
 * ('' for a delete), replaced HLC, the value's encoding (merge__encode). */
typedef struct merge__packed {
    const char *col; /* not NUL-terminated */
    size_t col_len;
    uint64_t rep;
    const uint8_t *enc;
    size_t enc_len;
} merge__packed;

int merge__put_varint(swlog_buf *b, uint64_t v);
/* Append a packed write to w. */
int merge__pack(swlog_buf *w, const char *col, uint64_t rep,
                const uint8_t *enc, size_t enc_len);
/* The packed write of p[*off..len): 1 (and *off past it), 0 at the end,
 * SWLOG_ECORRUPT when damaged. */
int merge__unpack(const uint8_t *p, size_t len, size_t *off,
                  merge__packed *e);
/* The value of a packed write checked by merge__unpack (text borrowed). */
void merge__decode(const merge__packed *e, swlog_value *out);

#endif
