/* Hub checks of the audit (spec/SECURITY.md §8.5): a hub's checkpoints
 * (FORMAT §7.5) against its ledger, the hub's leaves in storage order
 * (FORMAT §9.1), recomputed as the ledger streams past; and the order of
 * successive checkpoints of each hub.
 *
 * Memory: a compact Merkle range (at most 64 hashes) per ledger being read
 * and one pointer per checkpoint of the ledger's hub; nothing per leaf. */
#ifndef AUDIT_HUB_H
#define AUDIT_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "audit_keys.h"
#include "swlog.h"

/* RFC 9162 tree hash of a stream of leaves, in O(log n) memory: the
 * perfect subtrees of the leaves so far, largest first. */
typedef struct audit_mtree {
    uint8_t h[64][SWLOG_HASH_BYTES];
    uint8_t height[64];
    int n;
    uint64_t count;
} audit_mtree;

void audit_mtree_init(audit_mtree *t);
void audit_mtree_add(audit_mtree *t, const uint8_t leaf[SWLOG_HASH_BYTES]);
/* MTH of the leaves added so far (FORMAT §9.2). */
void audit_mtree_root(const audit_mtree *t, uint8_t root[SWLOG_HASH_BYTES]);

/* Checkpoint states set here (audit_checkpoint.state). */
enum audit_cp_state {
    AUDIT_CP_UNCHECKED = 0, /* no ledger of its hub was given */
    AUDIT_CP_MATCHES = 1,   /* root = MTH of the ledger's first tree_size */
    AUDIT_CP_DIFFERS = 2,   /* the ledger's prefix has another root */
    AUDIT_CP_BEYOND = 3,    /* tree_size exceeds the ledger's leaves */
};

typedef struct audit_ledger {
    audit_checkpoint **cps; /* of the ledger's hubs, by tree_size */
    size_t ncps, next;
    audit_mtree t;
    uint8_t hub[SWLOG_PUBKEY_BYTES];
    uint64_t seen_hlc; /* after audit_ledger_leaf: the HLC of the first
                        * checkpoint covering that leaf, 0 when none */
} audit_ledger;

/* Start reading a ledger of hub (the signer of the ledger's last
 * checkpoint frame: a hub checkpoints after every batch it accepts, so its
 * own checkpoint ends its ledger; relayed checkpoints of other hubs come
 * before it). Every checkpoint of that hub is compared with it. */
int audit_ledger_begin(audit_ledger *l, audit_keys *ks,
                       const uint8_t hub[SWLOG_PUBKEY_BYTES]);
/* The next leaf (a frame id, in the order the file holds the frames). */
void audit_ledger_leaf(audit_ledger *l, const uint8_t id[SWLOG_HASH_BYTES]);
/* The ledger ended: checkpoints larger than it are AUDIT_CP_BEYOND. */
void audit_ledger_end(audit_ledger *l);

#endif
