/* RFC 9162 tree hashes and inclusion proofs (FORMAT §9) computed from the
 * complete subtree hashes the store keeps, so a root or a proof over n leaves
 * costs O(log² n) store lookups and no memory proportional to n. */
#ifndef HUB_MERKLE_H
#define HUB_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "hub_store.h"
#include "swlog.h"

/* SHA-256(0x00 || leaf) and SHA-256(0x01 || l || r). */
void hub_merkle_leaf_hash(const uint8_t leaf[SWLOG_HASH_BYTES],
                          uint8_t out[SWLOG_HASH_BYTES]);
void hub_merkle_node_hash(const uint8_t l[SWLOG_HASH_BYTES],
                          const uint8_t r[SWLOG_HASH_BYTES],
                          uint8_t out[SWLOG_HASH_BYTES]);
/* Root of the first n leaves (n <= hub_store_leaves). */
int hub_merkle_root(hub_store *s, uint64_t n, uint8_t root[SWLOG_HASH_BYTES],
                    swlog_error *err);
/* Audit path of leaf index in the tree of the first n leaves, at most
 * SWLOG_MAX_PROOF hashes into proof[]. */
int hub_merkle_path(hub_store *s, uint64_t index, uint64_t n,
                    uint8_t (*proof)[SWLOG_HASH_BYTES], size_t *len,
                    swlog_error *err);
/* RFC 9162 §2.1.4 consistency proof between the first m and the first n
 * leaves (0 < m <= n <= hub_store_leaves; FORMAT §9.4: empty when m = n),
 * at most SWLOG_MAX_PROOF hashes into proof[]. */
int hub_merkle_consistency(hub_store *s, uint64_t m, uint64_t n,
                           uint8_t (*proof)[SWLOG_HASH_BYTES], size_t *len,
                           swlog_error *err);

#endif
