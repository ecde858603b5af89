/* The verification loop shared by swsync-verify, swsync-dump and (later) the
 * auditor: it reads one log file frame by frame, checks every frame
 * (envelope and CRC, strict decode, payload hash, signature, chains across
 * interleaved feeds, and optionally forks against other files), and calls
 * back for every frame and every problem. It prints nothing.
 *
 * Memory: streaming; one frame body at a time (the library's buffer), one
 * chain head per feed of the file, and the optional fork index. */
#ifndef VERIFY_LOOP_H
#define VERIFY_LOOP_H

#include <stdint.h>

#include "fork_index.h"
#include "peek.h"
#include "swlog.h"

/* Result of one file, ordered as the tools' exit codes are (see --help). */
enum verify_status {
    VERIFY_VALID = 0,   /* every frame valid, no torn tail */
    VERIFY_INVALID = 1, /* at least one problem with the data */
    VERIFY_IOERR = 2,   /* the file could not be read */
    VERIFY_TORN = 3,    /* valid, but ends in a torn tail (FORMAT §8.3) */
};

enum verify_severity { VERIFY_ERROR = 0, VERIFY_WARNING = 1 };

/* A problem: with a frame, or with the file (header, corruption, I/O, torn
 * tail). msg is one line from the library or the loop, never record values
 * nor key bytes (the feed is passed separately). */
typedef struct verify_problem {
    const char *path;
    uint64_t offset; /* file offset where the problem starts */
    int has_feed;    /* feed and seq known (read, maybe untrusted) */
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    uint64_t seq;
    int code;     /* swlog_code; SWLOG_OK for a torn tail */
    int severity; /* enum verify_severity */
    const char *msg;
    /* SWLOG_EFORK with a fork index that keeps places: where the other
     * frame (same feed and seq, another id) was read; other_file is the
     * verify_loop_opts.file_no of that run, UINT32_MAX when unknown. */
    int has_other;
    uint32_t other_file;
    uint64_t other_offset;
    uint8_t other_id[SWLOG_HASH_BYTES];
} verify_problem;

/* A frame whose envelope and CRC are intact, valid or not. */
typedef struct verify_frame {
    const char *path;
    uint64_t offset; /* of the frame's envelope */
    const uint8_t *body;
    size_t body_len;
    int code; /* SWLOG_OK, or the first problem found with this frame */
    /* Decoded content, or NULL when the body did not decode. When code is
     * SWLOG_ESIG the frame decoded without its signature: shown for the
     * record, not trusted. Valid during the callback only. */
    const swlog_frame *frame;
    int has_header; /* peek filled: the common header fields, untrusted */
    peek_header peek;
    int dup; /* with a fork index: the same frame (same id) was seen before,
              * in this run or an earlier one */
} verify_frame;

typedef struct verify_loop_cb {
    void *ctx;
    /* Each callback may be NULL; a nonzero return stops the loop (the file
     * then counts as VERIFY_IOERR: output could not be written). */
    int (*on_open)(void *ctx, const char *path,
                   const uint8_t salt[SWLOG_SALT_BYTES]);
    int (*on_frame)(void *ctx, const verify_frame *vf);
    int (*on_problem)(void *ctx, const verify_problem *p);
} verify_loop_cb;

typedef struct verify_loop_opts {
    int no_sig;        /* decode with SWLOG_DECODE_NO_SIG */
    int no_chains;     /* skip FORMAT §8.1 chain checks */
    fork_index *forks; /* NULL: no cross-file fork check (§8.2) */
    int fork_places;   /* record places in forks (fork_index_add_at) */
    uint32_t file_no;  /* this file's number in the places recorded */
    /* Called, when not NULL, for every frame that decoded and passed its
     * chain check, after the fork index: returns 0, 2 (a copy of a frame
     * seen before: verify_frame.dup is set), or SWLOG_ENOMEM (the run
     * stops). The auditor finds forks this way in flat memory. */
    int (*frame_check)(void *ctx, const swlog_frame *f, uint64_t offset);
    void *check_ctx;
} verify_loop_opts;

typedef struct verify_stats {
    uint64_t frames;     /* frames with an intact envelope */
    uint64_t bad_frames; /* of those, frames with a problem */
    uint64_t changesets, records;
    uint64_t feeds;
    uint64_t bytes;    /* bytes of whole frames read, header included */
    uint64_t torn;     /* bytes of torn tail (FORMAT §8.3) */
    uint64_t problems; /* errors reported (warnings excluded) */
    int status;        /* enum verify_status */
} verify_stats;

/* Verify one file. Fills *st and returns st->status. */
int verify_loop_file(const char *path, const verify_loop_opts *o,
                     const verify_loop_cb *cb, verify_stats *st);

/* Exit status for several files: VERIFY_INVALID if any file had a problem,
 * else VERIFY_IOERR if any could not be read, else VERIFY_TORN if any had a
 * torn tail, else VERIFY_VALID. A data problem outranks an unreadable file
 * because it is what an auditor must not miss. */
int verify_loop_combine(int a, int b);

#endif
