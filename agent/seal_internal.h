/* Shared by seal.c (packing, the steps of a group, the API) and
 * seal_recover.c (recovery): the sealer's state and the steps recovery
 * reuses. Not part of the agent's API. */
#ifndef SEAL_INTERNAL_H
#define SEAL_INTERNAL_H

#include <sqlite3.h>

#include "capture.h"
#include "seal.h"

#define DEFAULT_GROUP_RECORDS 20000u
#define DEFAULT_GROUP_SETS 16u
/* Room kept below MAX_BODY for the signed header, signature and slack. */
#define BODY_ROOM (SWLOG_MAX_BODY - SWLOG_MAX_HEADER - 4096u)
#define GROUP_BYTES (16u << 20)
#define STOP 1 /* a capture_fn return: the group is full */

typedef struct cs_meta {
    uint64_t seq, lo, hi, frame_hlc;
    uint32_t count, sv;
    char author[SWLOG_MAX_AUTHOR + 1];
    uint8_t id[SWLOG_HASH_BYTES];
    const char *tables[SWLOG_MAX_TABLES]; /* the model's names */
    size_t ntables, dictcols;
} cs_meta;

struct sealer {
    replica *r;
    sqlite3 *db;
    const schema_model *m;
    char *path;
    swlog_log *log;
    uint8_t sk[SWLOG_SECKEY_BYTES];
    uint8_t pk[SWLOG_PUBKEY_BYTES];
    seal_options opt;
    uint64_t next_seq, head_seq;
    uint8_t head_id[SWLOG_HASH_BYTES];
    int broken; /* a step failed: recover before the next group */
    size_t cap; /* builders, metas, bodies allocated */
    swlog_cs **cs;
    cs_meta *meta;
    swlog_buf *bodies;
    const uint8_t **bp;
    size_t *bl;
};

typedef struct fill {
    sealer *s;
    size_t n;          /* change-sets opened (the last one is current) */
    int rebuild;       /* recovery: all entries go to change-set n - 1 */
    uint64_t cursor;   /* hlc of the last entry taken */
    size_t closed_bytes; /* size bounds of the change-sets before n - 1 */
    swlog_error *err;
} fill;

int seal__prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st,
                  const char *what, swlog_error *err);
int seal__done_stmt(sqlite3 *db, sqlite3_stmt *st, const char *what,
                    swlog_error *err);
int seal__pool_reserve(sealer *s, size_t n, swlog_error *err);
/* capture_fn: add an entry to the current change-set of a fill (ctx). */
int seal__take_entry(const capture_entry *e, void *ctx);
/* Sign change-sets 0..n-1 chained after the head; fills bp/bl and ids. */
int seal__sign_all(sealer *s, size_t n, swlog_error *err);
/* Append bodies from..n-1 with one fsync. */
int seal__append(sealer *s, size_t from, size_t n, swlog_error *err);
/* Step 4 for change-sets 0..n-1, all in the log. */
int seal__mark(sealer *s, size_t n, swlog_error *err);
void seal__fault(int step);
/* Reopen the log and finish any reservation (seal_recover.c). */
int seal__recover(sealer *s, seal_stats *st, swlog_error *err);

#endif
