/* Tree hashes, audit and consistency paths over stored complete subtrees:
 * FORMAT §9, RFC 9162 §2.1. Every left part of RFC 9162's split is a
 * complete subtree aligned on its size, which is what the store keeps. */
#include "hub_merkle.h"

#include <string.h>

#include "../error.h"

void hub_merkle_leaf_hash(const uint8_t leaf[SWLOG_HASH_BYTES],
                          uint8_t out[SWLOG_HASH_BYTES])
{
    uint8_t m[1 + SWLOG_HASH_BYTES];
    m[0] = 0x00;
    memcpy(m + 1, leaf, SWLOG_HASH_BYTES);
    swlog_sha256(m, sizeof m, out);
}

void hub_merkle_node_hash(const uint8_t l[SWLOG_HASH_BYTES],
                          const uint8_t r[SWLOG_HASH_BYTES],
                          uint8_t out[SWLOG_HASH_BYTES])
{
    uint8_t m[1 + 2 * SWLOG_HASH_BYTES];
    m[0] = 0x01;
    memcpy(m + 1, l, SWLOG_HASH_BYTES);
    memcpy(m + 1 + SWLOG_HASH_BYTES, r, SWLOG_HASH_BYTES);
    swlog_sha256(m, sizeof m, out);
}

/* Largest power of two smaller than n (n > 1). */
static uint64_t split(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

static int is_pow2(uint64_t n, unsigned *level)
{
    if (n == 0 || (n & (n - 1)) != 0)
        return 0;
    unsigned l = 0;
    while ((1ull << l) < n)
        l++;
    *level = l;
    return 1;
}

/* MTH(D[lo : lo+n]) for n >= 1, where every left part is aligned. */
static int range_hash(hub_store *s, uint64_t lo, uint64_t n,
                      uint8_t out[SWLOG_HASH_BYTES], swlog_error *err)
{
    unsigned level;
    if (is_pow2(n, &level) && lo % n == 0)
        return hub_store_node(s, level, lo >> level, out, err);
    uint64_t k = split(n);
    uint8_t l[SWLOG_HASH_BYTES], r[SWLOG_HASH_BYTES];
    int rc = range_hash(s, lo, k, l, err);
    if (rc == SWLOG_OK)
        rc = range_hash(s, lo + k, n - k, r, err);
    if (rc == SWLOG_OK)
        hub_merkle_node_hash(l, r, out);
    return rc;
}

int hub_merkle_root(hub_store *s, uint64_t n, uint8_t root[SWLOG_HASH_BYTES],
                    swlog_error *err)
{
    if (n > hub_store_leaves(s))
        return error_set(err, SWLOG_EARG, "tree size %llu beyond %llu leaves",
                         (unsigned long long)n,
                         (unsigned long long)hub_store_leaves(s));
    if (n == 0) {
        static const uint8_t none[1] = {0};
        swlog_sha256(none, 0, root);
        return SWLOG_OK;
    }
    return range_hash(s, 0, n, root, err);
}

/* PATH(m, D[lo : lo+n]) of RFC 9162 §2.1.3.1, appended leaf side first. */
static int path(hub_store *s, uint64_t m, uint64_t lo, uint64_t n,
                uint8_t (*proof)[SWLOG_HASH_BYTES], size_t *len,
                swlog_error *err)
{
    if (n == 1)
        return SWLOG_OK;
    uint64_t k = split(n);
    int rc;
    uint8_t h[SWLOG_HASH_BYTES];
    if (m < lo + k) {
        rc = path(s, m, lo, k, proof, len, err);
        if (rc == SWLOG_OK)
            rc = range_hash(s, lo + k, n - k, h, err);
    } else {
        rc = path(s, m, lo + k, n - k, proof, len, err);
        if (rc == SWLOG_OK)
            rc = range_hash(s, lo, k, h, err);
    }
    if (rc != SWLOG_OK)
        return rc;
    if (*len >= SWLOG_MAX_PROOF)
        return error_set(err, SWLOG_EBOUNDS, "proof longer than %u",
                         SWLOG_MAX_PROOF);
    memcpy(proof[(*len)++], h, SWLOG_HASH_BYTES);
    return SWLOG_OK;
}

int hub_merkle_path(hub_store *s, uint64_t index, uint64_t n,
                    uint8_t (*proof)[SWLOG_HASH_BYTES], size_t *len,
                    swlog_error *err)
{
    if (index >= n || n > hub_store_leaves(s))
        return error_set(err, SWLOG_EARG, "leaf %llu of a tree of %llu",
                         (unsigned long long)index, (unsigned long long)n);
    *len = 0;
    return path(s, index, 0, n, proof, len, err);
}

/* SUBPROOF(m, D[lo : lo+n], b) of RFC 9162 §2.1.4.1, appended in order. */
static int subproof(hub_store *s, uint64_t m, uint64_t lo, uint64_t n,
                    int whole, uint8_t (*proof)[SWLOG_HASH_BYTES],
                    size_t *len, swlog_error *err)
{
    uint8_t h[SWLOG_HASH_BYTES];
    int rc;
    if (m == n) {
        if (whole) /* the verifier knows MTH(D[0:m]) */
            return SWLOG_OK;
        rc = range_hash(s, lo, n, h, err);
    } else {
        uint64_t k = split(n);
        if (m <= k) {
            rc = subproof(s, m, lo, k, whole, proof, len, err);
            if (rc == SWLOG_OK)
                rc = range_hash(s, lo + k, n - k, h, err);
        } else {
            rc = subproof(s, m - k, lo + k, n - k, 0, proof, len, err);
            if (rc == SWLOG_OK)
                rc = range_hash(s, lo, k, h, err);
        }
    }
    if (rc != SWLOG_OK)
        return rc;
    if (*len >= SWLOG_MAX_PROOF)
        return error_set(err, SWLOG_EBOUNDS, "proof longer than %u",
                         SWLOG_MAX_PROOF);
    memcpy(proof[(*len)++], h, SWLOG_HASH_BYTES);
    return SWLOG_OK;
}

int hub_merkle_consistency(hub_store *s, uint64_t m, uint64_t n,
                           uint8_t (*proof)[SWLOG_HASH_BYTES], size_t *len,
                           swlog_error *err)
{
    if (m == 0 || m > n || n > hub_store_leaves(s))
        return error_set(err, SWLOG_EARG,
                         "consistency from %llu to %llu of %llu leaves",
                         (unsigned long long)m, (unsigned long long)n,
                         (unsigned long long)hub_store_leaves(s));
    *len = 0;
    if (m == n) /* FORMAT §9.4: the empty proof */
        return SWLOG_OK;
    return subproof(s, m, 0, n, 1, proof, len, err);
}
