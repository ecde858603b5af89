/* Merkle tree hashes, inclusion and consistency proofs exactly as RFC 9162
 * §2.1 defines them: FORMAT §9. */
#include "internal.h"

#include <inttypes.h>
#include <sodium.h>
#include <string.h>

typedef uint8_t hash[SWLOG_HASH_BYTES];

/* Deep enough for any tree of up to 2^64 - 1 leaves. */
#define MAX_DEPTH 64

static void leaf_hash(const uint8_t *d, uint8_t *out)
{
    static const uint8_t prefix = 0x00;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, d, SWLOG_HASH_BYTES);
    crypto_hash_sha256_final(&st, out);
}

/* out may alias l or r. */
static void node_hash(const uint8_t *l, const uint8_t *r, uint8_t *out)
{
    static const uint8_t prefix = 0x01;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, l, SWLOG_HASH_BYTES);
    crypto_hash_sha256_update(&st, r, SWLOG_HASH_BYTES);
    crypto_hash_sha256_final(&st, out);
}

/* RFC 9162 §2.1.1's k: the largest power of two smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

/* MTH(D[n]) in one pass: the stack holds the perfect subtrees completed so
 * far, largest first, like the set bits of a binary counter. */
static void mth(const uint8_t (*d)[SWLOG_HASH_BYTES], uint64_t n, uint8_t *out)
{
    if (n == 0) {
        crypto_hash_sha256(out, NULL, 0);
        return;
    }
    hash stack[MAX_DEPTH + 1];
    size_t top = 0;
    for (uint64_t i = 0; i < n; i++) {
        leaf_hash(d[i], stack[top++]);
        /* Each trailing one bit of i closes a pair of equal subtrees. */
        for (uint64_t c = i; c & 1; c >>= 1) {
            node_hash(stack[top - 2], stack[top - 1], stack[top - 2]);
            top--;
        }
    }
    /* What is left are the set bits of n; RFC 9162 puts the largest power
     * of two on the left at every level, so they join right to left. */
    while (top > 1) {
        node_hash(stack[top - 2], stack[top - 1], stack[top - 2]);
        top--;
    }
    memcpy(out, stack[0], SWLOG_HASH_BYTES);
}

int swlog_merkle_root(const uint8_t (*leaves)[SWLOG_HASH_BYTES], uint64_t n,
                      uint8_t root[SWLOG_HASH_BYTES], swlog_error *err)
{
    if ((leaves == NULL && n > 0) || root == NULL)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "swlog_merkle_root: NULL argument");
    mth(leaves, n, root);
    return SWLOG_OK;
}

/* Proofs are built top-down, so the siblings found are written out in
 * reverse: RFC 9162 lists the hash nearest the leaves first. */
static int emit(hash *sib, size_t nsib, const uint8_t *first,
                uint8_t (*proof)[SWLOG_HASH_BYTES], size_t *proof_len,
                swlog_error *err)
{
    size_t len = nsib + (first != NULL);
    if (len > SWLOG_MAX_PROOF)
        return swlog__fail(err, SWLOG_EBOUNDS, 0,
                           "proof of %zu hashes, maximum %u", len,
                           SWLOG_MAX_PROOF);
    size_t at = 0;
    if (first != NULL)
        memcpy(proof[at++], first, SWLOG_HASH_BYTES);
    for (size_t i = nsib; i > 0; i--)
        memcpy(proof[at++], sib[i - 1], SWLOG_HASH_BYTES);
    *proof_len = len;
    return SWLOG_OK;
}

int swlog_merkle_inclusion(const uint8_t (*leaves)[SWLOG_HASH_BYTES],
                           uint64_t n, uint64_t index,
                           uint8_t (*proof)[SWLOG_HASH_BYTES],
                           size_t *proof_len, swlog_error *err)
{
    if (leaves == NULL || proof == NULL || proof_len == NULL)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "swlog_merkle_inclusion: NULL argument");
    if (index >= n)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "leaf %" PRIu64 " of a tree of %" PRIu64, index, n);
    /* RFC 9162 §2.1.3.1, PATH(m, D[n]) unrolled: descend towards leaf m,
     * taking the hash of the other side at each level. */
    hash sib[MAX_DEPTH];
    size_t nsib = 0;
    uint64_t lo = 0, size = n, m = index;
    while (size > 1) {
        uint64_t k = split_point(size);
        if (m < k) {
            mth(leaves + lo + k, size - k, sib[nsib++]);
            size = k;
        } else {
            mth(leaves + lo, k, sib[nsib++]);
            lo += k;
            m -= k;
            size -= k;
        }
    }
    return emit(sib, nsib, NULL, proof, proof_len, err);
}

int swlog_merkle_inclusion_verify(const uint8_t leaf[SWLOG_HASH_BYTES],
                                  uint64_t index, uint64_t n,
                                  const uint8_t (*proof)[SWLOG_HASH_BYTES],
                                  size_t proof_len,
                                  const uint8_t root[SWLOG_HASH_BYTES],
                                  swlog_error *err)
{
    if (leaf == NULL || root == NULL || (proof == NULL && proof_len > 0))
        return swlog__fail(err, SWLOG_EARG, 0,
                           "swlog_merkle_inclusion_verify: NULL argument");
    if (index >= n)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "leaf %" PRIu64 " of a tree of %" PRIu64, index, n);
    if (proof_len > SWLOG_MAX_PROOF)
        return swlog__fail(err, SWLOG_EBOUNDS, 0,
                           "proof of %zu hashes, maximum %u", proof_len,
                           SWLOG_MAX_PROOF);
    /* RFC 9162 §2.1.3.2, step by step. */
    uint64_t fn = index, sn = n - 1;
    hash r;
    leaf_hash(leaf, r);
    for (size_t i = 0; i < proof_len; i++) {
        if (sn == 0)
            return swlog__fail(err, SWLOG_EPROOF, 0,
                               "inclusion proof has %zu hashes too many",
                               proof_len - i);
        if ((fn & 1) || fn == sn) {
            node_hash(proof[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return swlog__fail(err, SWLOG_EPROOF, 0,
                           "inclusion proof is missing hashes");
    if (memcmp(r, root, SWLOG_HASH_BYTES) != 0)
        return swlog__fail(err, SWLOG_EPROOF, 0,
                           "inclusion proof of leaf %" PRIu64
                           " does not lead to the root",
                           index);
    return SWLOG_OK;
}

int swlog_merkle_consistency(const uint8_t (*leaves)[SWLOG_HASH_BYTES],
                             uint64_t n, uint64_t m,
                             uint8_t (*proof)[SWLOG_HASH_BYTES],
                             size_t *proof_len, swlog_error *err)
{
    if (leaves == NULL || proof == NULL || proof_len == NULL)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "swlog_merkle_consistency: NULL argument");
    if (m == 0 || m > n)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "consistency of %" PRIu64 " leaves with %" PRIu64, m,
                           n);
    /* RFC 9162 §2.1.4.1, SUBPROOF(m, D[n], true) unrolled. b turns false
     * once the old tree's edge leaves the left subtree, and then the old
     * tree's last complete subtree must be named at the bottom. */
    hash sib[MAX_DEPTH], last;
    size_t nsib = 0;
    uint64_t lo = 0, size = n;
    int b = 1;
    while (m != size) {
        uint64_t k = split_point(size);
        if (m <= k) {
            mth(leaves + lo + k, size - k, sib[nsib++]);
            size = k;
        } else {
            mth(leaves + lo, k, sib[nsib++]);
            lo += k;
            m -= k;
            size -= k;
            b = 0;
        }
    }
    if (!b)
        mth(leaves + lo, size, last);
    return emit(sib, nsib, b ? NULL : last, proof, proof_len, err);
}

int swlog_merkle_consistency_verify(uint64_t m, uint64_t n,
                                    const uint8_t root_m[SWLOG_HASH_BYTES],
                                    const uint8_t root_n[SWLOG_HASH_BYTES],
                                    const uint8_t (*proof)[SWLOG_HASH_BYTES],
                                    size_t proof_len, swlog_error *err)
{
    if (root_m == NULL || root_n == NULL || (proof == NULL && proof_len > 0))
        return swlog__fail(err, SWLOG_EARG, 0,
                           "swlog_merkle_consistency_verify: NULL argument");
    if (m == 0 || m > n)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "consistency of %" PRIu64 " leaves with %" PRIu64, m,
                           n);
    if (proof_len > SWLOG_MAX_PROOF)
        return swlog__fail(err, SWLOG_EBOUNDS, 0,
                           "proof of %zu hashes, maximum %u", proof_len,
                           SWLOG_MAX_PROOF);
    /* FORMAT §9.4: equal sizes have the empty proof, and equal roots. */
    if (m == n) {
        if (proof_len != 0)
            return swlog__fail(err, SWLOG_EPROOF, 0,
                               "consistency proof for equal sizes must be "
                               "empty");
        if (memcmp(root_m, root_n, SWLOG_HASH_BYTES) != 0)
            return swlog__fail(err, SWLOG_EPROOF, 0,
                               "equal sizes with different roots");
        return SWLOG_OK;
    }
    /* RFC 9162 §2.1.4.2, step by step. */
    if (proof_len == 0)
        return swlog__fail(err, SWLOG_EPROOF, 0, "empty consistency proof");
    /* Step 2: a power-of-two old tree is itself a node of the new one, so
     * the proof leaves it out and the verifier puts root_m first. */
    int pow2 = (m & (m - 1)) == 0;
    size_t total = proof_len + (size_t)pow2;
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    hash fr, sr;
    memcpy(fr, pow2 ? root_m : proof[0], SWLOG_HASH_BYTES);
    memcpy(sr, fr, SWLOG_HASH_BYTES);
    for (size_t i = 1; i < total; i++) {
        const uint8_t *c = proof[i - (size_t)pow2];
        if (sn == 0)
            return swlog__fail(err, SWLOG_EPROOF, 0,
                               "consistency proof has %zu hashes too many",
                               total - i);
        if ((fn & 1) || fn == sn) {
            node_hash(c, fr, fr);
            node_hash(c, sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node_hash(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return swlog__fail(err, SWLOG_EPROOF, 0,
                           "consistency proof is missing hashes");
    if (memcmp(fr, root_m, SWLOG_HASH_BYTES) != 0)
        return swlog__fail(err, SWLOG_EPROOF, 0,
                           "consistency proof does not lead to the old root");
    if (memcmp(sr, root_n, SWLOG_HASH_BYTES) != 0)
        return swlog__fail(err, SWLOG_EPROOF, 0,
                           "consistency proof does not lead to the new root");
    return SWLOG_OK;
}
