/* Sealing: outbox entries become signed change-sets (FORMAT §5) appended to
 * the station's log (FORMAT §8.4), crash-safe by a reservation persisted in
 * the replica before signing. Design and recovery argument: README
 * §Sealing and seal.c. */
#ifndef SEAL_H
#define SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "replica.h"
#include "swlog.h"

/* Bounds of one change-set and of one group commit (several change-sets
 * reserved in one transaction, appended with one fsync, marked in one
 * transaction). 0 = the default. Memory is bounded by one group. */
typedef struct seal_stats {
    uint64_t records;    /* outbox entries sealed by this call */
    uint64_t changesets; /* frames appended by this call */
    uint64_t groups;     /* fsync'd appends */
    uint64_t recovered;  /* frames of an unfinished seal completed */
} seal_stats;

typedef struct seal_options {
    size_t max_records;   /* per change-set; default and cap MAX_RECORDS */
    size_t group_records; /* per group; default 20,000 */
    size_t group_sets;    /* change-sets per group; default 16 */
    /* Optional: called by seal_run after each group is marked, with what
     * this seal_run call has sealed so far (e.g. a progress line). */
    void (*progress)(const seal_stats *so_far, void *ctx);
    void *progress_ctx;
} seal_options;

typedef struct sealer sealer;

/* Open the sealer of r's outbox into the log at log_path (created if
 * missing), signing with sk (FORMAT §2.2 layout; copied, wiped at close).
 * Recovers an unfinished seal first (see seal.c): the replica's feed state
 * and the log are compared and any reserved change-set is re-signed
 * byte-identically and appended, then marked. Refuses (never "repairs") a
 * log that disagrees with the replica: SWLOG_ECHAIN (log behind), SWLOG_ESEQ
 * (log ahead), SWLOG_EFORK (different frame under a reserved seq).
 * st (may be NULL) receives what recovery did. The sealer keeps the log
 * locked until seal_close. */
int seal_open(replica *r, const char *log_path,
              const uint8_t sk[SWLOG_SECKEY_BYTES], const seal_options *opt,
              sealer **out, seal_stats *st, swlog_error *err);
/* Seal every entry pending now. st (may be NULL) accumulates. After a
 * failure (e.g. SWLOG_EIO for a full disk) nothing is marked that is not in
 * the log; calling seal_run again recovers and continues. */
int seal_run(sealer *s, seal_stats *st, swlog_error *err);
void seal_close(sealer *s); /* NULL does nothing */

/* The feed state as persisted: next sequence number to reserve and the
 * head (last marked frame; seq 0 and a zero id when none). */
int seal_feed(sealer *s, uint64_t *next_seq, uint64_t *head_seq,
              uint8_t head_id[SWLOG_HASH_BYTES], swlog_error *err);

/* Tests only: a hook called after each step of a group; it may _exit() to
 * simulate a crash at that point. NULL removes it. Process-wide. */
enum seal_step {
    SEAL_STEP_RESERVED = 1, /* reservation committed, nothing signed */
    SEAL_STEP_SIGNED = 2,   /* frames signed in memory, not appended */
    SEAL_STEP_APPENDED = 3, /* frames appended and fsync'd, not marked */
    SEAL_STEP_MARKED = 4,   /* entries marked sealed, head advanced */
};
typedef void (*seal_fault_fn)(int step, void *ctx);
void seal_set_fault(seal_fault_fn fn, void *ctx);

#endif
