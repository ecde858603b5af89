/* A read-only pass over the station's log (FORMAT §3, §8): the last frame of
 * the station's own feed and whether the chain holds, for status (and the
 * sync client). Never opens the log for append, never changes it. */
#ifndef FEEDSCAN_H
#define FEEDSCAN_H

#include <stdint.h>

#include "swlog.h"

typedef struct feedscan {
    int exists;        /* the log file exists */
    uint64_t frames;   /* whole frames read */
    uint64_t own;      /* of those, frames of the station's feed */
    uint64_t foreign;  /* frames of other signers (none expected) */
    uint64_t last_seq; /* last own frame's seq (0: none) */
    uint8_t last_id[SWLOG_HASH_BYTES];
    uint64_t last_hlc; /* its frame HLC */
    uint64_t torn;     /* bytes of torn tail */
    /* The frame at seq want_seq (when asked), to compare with the replica's
     * head. */
    uint64_t want_seq;
    int have_want;
    uint8_t want_id[SWLOG_HASH_BYTES];
    uint64_t want_hlc;
    /* The first problem (damage, bad frame, broken chain): code and
     * message with the offset; SWLOG_OK when none. */
    swlog_error problem;
} feedscan;

/* Scan path for the feed of pk. fs->want_seq may be set before the call.
 * Returns SWLOG_OK when the file could be read to its end (problems in the
 * data go to fs->problem), else an I/O error in err. A missing file is
 * fs->exists = 0 and SWLOG_OK. */
int feedscan_run(const char *path, const uint8_t pk[SWLOG_PUBKEY_BYTES],
                 feedscan *fs, swlog_error *err);

#endif
