/* Remembers, for every (feed, seq) seen, the id of the first frame seen with
 * it, to find forks across several files (FORMAT §8.2).
 *
 * Memory: one 72-byte entry (32-byte key, 32-byte id, 8-byte seq) per
 * distinct (feed, seq), in an array grown by half again when full, plus a
 * 4-byte slot per entry at a load factor of at most 1/2 in the hash table:
 * about 80 to 125 bytes per frame, so 1 million frames take ~80-125 MB.
 * Callers that check one file only need no index at all: within a file,
 * swlog_chains already refuses a repeated seq (SWLOG_ESEQ). */
#ifndef FORK_INDEX_H
#define FORK_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

typedef struct fork_index fork_index;

fork_index *fork_index_new(void);
void fork_index_free(fork_index *fi); /* NULL is fine */

/* Record that frame id was seen as seq of feed. Returns 0 when (feed, seq)
 * is new or was seen with the same id, 1 when it was seen with another id
 * (a fork; *first_id set to that id), or SWLOG_ENOMEM. */
int fork_index_add(fork_index *fi, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                   uint64_t seq, const uint8_t id[SWLOG_HASH_BYTES],
                   uint8_t first_id[SWLOG_HASH_BYTES]);

/* The same, also remembering where the frame was read (an input number
 * and a file offset) so a fork can be reported with both frames' places.
 * Returns 0 when (feed, seq) is new, 2 when it was seen with the same id
 * (a copy of a frame already held), 1 for a fork (*first_id, *first_file
 * and *first_offset set), or SWLOG_ENOMEM. An index used this way costs
 * 12 more bytes per entry (the places live in a parallel array). */
int fork_index_add_at(fork_index *fi, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                      uint64_t seq, const uint8_t id[SWLOG_HASH_BYTES],
                      uint32_t file, uint64_t offset,
                      uint8_t first_id[SWLOG_HASH_BYTES],
                      uint32_t *first_file, uint64_t *first_offset);

/* Anchors (SECURITY §8.1): mark (feed, seq) as a place to compare, with no
 * id yet. SWLOG_OK (also when already marked) or SWLOG_ENOMEM. */
int fork_index_mark(fork_index *fi, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                    uint64_t seq);

/* Like fork_index_add_at, but only for (feed, seq) marked before: returns 3
 * and changes nothing when it is not marked; the first frame checked at a
 * marked place sets its id (0). Never allocates. */
int fork_index_check_at(fork_index *fi, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                        uint64_t seq, const uint8_t id[SWLOG_HASH_BYTES],
                        uint32_t file, uint64_t offset,
                        uint8_t first_id[SWLOG_HASH_BYTES],
                        uint32_t *first_file, uint64_t *first_offset);

size_t fork_index_count(const fork_index *fi);
/* Bytes of heap the index holds now. */
size_t fork_index_bytes(const fork_index *fi);

#endif
