/* Building change-set frames by hand for the merge and bundle suites:
 * records from test keys (FORMAT §12) with chosen HLCs and replaced HLCs. */
#ifndef MERGEUTIL_H
#define MERGEUTIL_H

#include <stdint.h>

#include "swlog.h"

/* A sealed and decoded change-set; f borrows from body. */
typedef struct mu_cs {
    swlog_buf body;
    swlog_frame f;
} mu_cs;

/* Start a change-set, add records and values, then seal it under test key
 * `key` at (seq, prev, frame_hlc). Row ids are text UUIDs. */
void mu_begin(void);
void mu_upsert(const char *table, const char *row, uint64_t hlc);
void mu_text(const char *col, uint64_t rep, const char *text);
void mu_int(const char *col, uint64_t rep, int64_t v);
void mu_null(const char *col, uint64_t rep);
void mu_real(const char *col, uint64_t rep, double v);
void mu_delete(const char *table, const char *row, uint64_t hlc,
               uint64_t rep);
void mu_seal(mu_cs *out, unsigned key, uint64_t seq,
             const uint8_t prev[SWLOG_HASH_BYTES], uint64_t frame_hlc,
             uint32_t schema_version);
void mu_free(mu_cs *c);

/* The wall clock now, as an HLC (ms << 16). */
uint64_t mu_now_hlc(void);

#endif
