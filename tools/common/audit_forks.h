/* Forks between copies of a feed, and which frames are copies, in memory
 * that grows with the copies of feeds and not with frames (spec/SECURITY.md
 * §8.1, §8.2).
 *
 * The key pass hands every frame header to audit_forks_scan(); it splits
 * each file's frames of each feed into *segments*: runs of consecutive seqs
 * that link by prev (FORMAT §8.1). The last seq of every segment is an
 * *anchor* of its feed. Two segments of one feed that overlap both hold the
 * lower of their last seqs, an anchor, and agree there if and only if they
 * agree on every seq of the overlap below it (each frame's id covers the id
 * of the one before). So the frame pass compares ids at the anchors only
 * (audit_forks_frame); a difference is a fork, located afterwards at its
 * first seq by reading just the two segments again, side by side
 * (audit_forks_locate). A frame inside a segment read earlier in the frame
 * pass is a copy (judged and counted once), unless that segment had a
 * problem at that seq.
 *
 * Memory: per segment ~100 bytes, at most AUDIT_FORKS_SEGS segments per
 * feed per file (further breaks merge into the last one, which then only
 * anchors: a file that broken is reported for its order anyway); per
 * anchor ~110 bytes; per fork found, 96 bytes, at most AUDIT_FORKS_MAX. */
#ifndef AUDIT_FORKS_H
#define AUDIT_FORKS_H

#include <stddef.h>
#include <stdint.h>

#include "peek.h"
#include "swlog.h"

#define AUDIT_FORKS_SEGS 8
#define AUDIT_FORKS_MAX 10000

typedef struct audit_forks audit_forks;

/* A fork between two copies: the earlier-read copy a (file_a, its frame at
 * seq_lo at off_a) and the later one b. seq_lo is the first seq where they
 * differ (after audit_forks_locate; before, the anchor), seq_hi the anchor
 * where the difference was seen. */
typedef struct audit_fork {
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    uint64_t seq_lo, seq_hi;
    uint32_t file_a, file_b;
    uint64_t off_a, off_b; /* of the frames at seq_lo (located) */
    uint64_t anchor_a, anchor_b; /* of the frames at seq_hi */
    uint8_t id_a[8], id_b[8]; /* first bytes of the ids at seq_lo */
} audit_fork;

audit_forks *audit_forks_new(void);
void audit_forks_free(audit_forks *af); /* NULL is fine */

/* Key pass: call audit_forks_scan() for every frame whose header could be
 * read (peek_frame with has_id), file by file, in any file order; a new
 * file number ends the segments of the one before. SWLOG_OK or
 * SWLOG_ENOMEM. */
int audit_forks_scan(audit_forks *af, uint32_t file, const peek_header *h,
                     uint64_t offset);

/* Between the passes: rank[file] is the file's place in the frame pass
 * order. Marks the anchors. SWLOG_OK or SWLOG_ENOMEM. */
int audit_forks_seal(audit_forks *af, const uint32_t *rank, uint32_t nfiles);

/* Frame pass, for a frame that decoded and linked: 2 when it is a copy of
 * a frame read before, else 0; a fork at an anchor is recorded. */
int audit_forks_frame(audit_forks *af, const swlog_frame *f, uint32_t file,
                      uint64_t offset);
/* A frame of feed at seq in file had a problem: segments covering it no
 * longer make later copies of that seq duplicates. */
void audit_forks_bad(audit_forks *af, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                     uint64_t seq, uint32_t file, uint64_t offset);

/* Forks found (at most AUDIT_FORKS_MAX kept; *more counts the others). */
audit_fork *audit_forks_list(audit_forks *af, size_t *n, uint64_t *more);

/* Find the first seq where the two copies of fork k differ, by reading the
 * two segments again (files[] by number): sets seq_lo, off_a, off_b, id_a,
 * id_b. Memory: two frames at a time. SWLOG_OK, or the error reading a
 * file (then the fork stays reported at its anchor). */
int audit_forks_locate(audit_forks *af, size_t k, const char *const *files);

/* Segments and anchors held, for the memory figures. */
size_t audit_forks_segments(const audit_forks *af);
size_t audit_forks_anchors(const audit_forks *af);

#endif
