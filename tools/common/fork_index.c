/* A hash index from (feed, seq) to the first frame id seen, for cross-file
 * fork detection (FORMAT §8.2). */
#include "fork_index.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    uint8_t id[SWLOG_HASH_BYTES];
    uint64_t seq;
} entry;

_Static_assert(sizeof(entry) == 72, "documented in fork_index.h");

/* Where an entry's frame was read (fork_index_add_at only). */
typedef struct place {
    uint32_t file;
    uint32_t off_hi, off_lo; /* 12 bytes, not 16 */
} place;

struct fork_index {
    entry *e;
    place *pl; /* parallel to e, allocated by the first add_at */
    size_t n, cap;
    uint32_t *slot; /* entry index + 1; 0 = empty */
    size_t nslots;  /* power of two */
    uint8_t key[crypto_shorthash_KEYBYTES]; /* random per index */
};

/* SipHash-2-4 (libsodium's crypto_shorthash) under a random key per index:
 * public keys and sequence numbers in an archive are chosen by whoever
 * wrote it, and keys with chosen low bits are cheap to generate, so an
 * unkeyed hash would let a hostile archive turn every lookup into a scan of
 * one long probe run (quadratic time). */
static uint64_t hash(const fork_index *fi,
                     const uint8_t feed[SWLOG_PUBKEY_BYTES], uint64_t seq)
{
    uint8_t in[SWLOG_PUBKEY_BYTES + 8], out[crypto_shorthash_BYTES];
    memcpy(in, feed, SWLOG_PUBKEY_BYTES);
    for (int i = 0; i < 8; i++)
        in[SWLOG_PUBKEY_BYTES + i] = (uint8_t)(seq >> (8 * i));
    crypto_shorthash(out, in, sizeof in, fi->key);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | out[i];
    return h;
}

fork_index *fork_index_new(void)
{
    if (sodium_init() < 0)
        return NULL;
    fork_index *fi = calloc(1, sizeof(fork_index));
    if (fi != NULL)
        crypto_shorthash_keygen(fi->key);
    return fi;
}

void fork_index_free(fork_index *fi)
{
    if (fi == NULL)
        return;
    free(fi->e);
    free(fi->pl);
    free(fi->slot);
    free(fi);
}

static size_t find(const fork_index *fi, const uint8_t *feed, uint64_t seq)
{
    size_t mask = fi->nslots - 1;
    size_t i = (size_t)hash(fi, feed, seq) & mask;
    while (fi->slot[i] != 0) {
        const entry *e = &fi->e[fi->slot[i] - 1];
        if (e->seq == seq && memcmp(e->feed, feed, SWLOG_PUBKEY_BYTES) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static int rehash(fork_index *fi, size_t nslots)
{
    uint32_t *s = calloc(nslots, sizeof *s);
    if (s == NULL)
        return SWLOG_ENOMEM;
    free(fi->slot);
    fi->slot = s;
    fi->nslots = nslots;
    for (size_t k = 0; k < fi->n; k++)
        fi->slot[find(fi, fi->e[k].feed, fi->e[k].seq)] = (uint32_t)(k + 1);
    return SWLOG_OK;
}

static int grow(fork_index *fi, int want_places)
{
    if (want_places && fi->pl == NULL && fi->cap > 0) {
        fi->pl = malloc(fi->cap * sizeof *fi->pl);
        if (fi->pl == NULL)
            return SWLOG_ENOMEM;
        for (size_t k = 0; k < fi->cap; k++)
            fi->pl[k].file = UINT32_MAX; /* added without a place */
    }
    if (fi->n == fi->cap) {
        size_t cap = fi->cap < 1024 ? 1024 : fi->cap + fi->cap / 2;
        if (cap >= UINT32_MAX)
            return SWLOG_ENOMEM;
        entry *e = realloc(fi->e, cap * sizeof *e);
        if (e == NULL)
            return SWLOG_ENOMEM;
        fi->e = e;
        if (fi->pl != NULL || want_places) {
            place *pl = realloc(fi->pl, cap * sizeof *pl);
            if (pl == NULL)
                return SWLOG_ENOMEM; /* e grew; cap unchanged: harmless */
            fi->pl = pl;
        }
        fi->cap = cap;
    }
    if ((fi->n + 1) * 2 > fi->nslots)
        return rehash(fi, fi->nslots == 0 ? 2048 : fi->nslots * 2);
    return SWLOG_OK;
}

static int add(fork_index *fi, const uint8_t *feed, uint64_t seq,
               const uint8_t *id, int with_place, uint32_t file,
               uint64_t offset, uint8_t *first_id, uint32_t *first_file,
               uint64_t *first_offset)
{
    if (fi->nslots != 0) {
        size_t i = find(fi, feed, seq);
        if (fi->slot[i] != 0) {
            const entry *e = &fi->e[fi->slot[i] - 1];
            if (memcmp(e->id, id, SWLOG_HASH_BYTES) == 0)
                return 2;
            memcpy(first_id, e->id, SWLOG_HASH_BYTES);
            if (first_file != NULL) {
                const place *p =
                    fi->pl != NULL ? &fi->pl[fi->slot[i] - 1] : NULL;
                *first_file = p != NULL ? p->file : UINT32_MAX;
                *first_offset = p != NULL ? (uint64_t)p->off_hi << 32 |
                                                p->off_lo
                                          : 0;
            }
            return 1;
        }
    }
    int rc = grow(fi, with_place);
    if (rc != SWLOG_OK)
        return rc;
    if (fi->pl != NULL) {
        place *p = &fi->pl[fi->n];
        p->file = with_place ? file : UINT32_MAX;
        p->off_hi = (uint32_t)(offset >> 32);
        p->off_lo = (uint32_t)offset;
    }
    entry *e = &fi->e[fi->n];
    memcpy(e->feed, feed, SWLOG_PUBKEY_BYTES);
    memcpy(e->id, id, SWLOG_HASH_BYTES);
    e->seq = seq;
    fi->slot[find(fi, feed, seq)] = (uint32_t)(fi->n + 1);
    fi->n++;
    return 0;
}

int fork_index_add(fork_index *fi, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                   uint64_t seq, const uint8_t id[SWLOG_HASH_BYTES],
                   uint8_t first_id[SWLOG_HASH_BYTES])
{
    int rc = add(fi, feed, seq, id, 0, 0, 0, first_id, NULL, NULL);
    return rc == 2 ? 0 : rc;
}

int fork_index_add_at(fork_index *fi, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                      uint64_t seq, const uint8_t id[SWLOG_HASH_BYTES],
                      uint32_t file, uint64_t offset,
                      uint8_t first_id[SWLOG_HASH_BYTES],
                      uint32_t *first_file, uint64_t *first_offset)
{
    return add(fi, feed, seq, id, 1, file, offset, first_id, first_file,
               first_offset);
}

/* A marked entry with no frame yet: its place says so. */
#define UNSET (UINT32_MAX - 1)

int fork_index_mark(fork_index *fi, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                    uint64_t seq)
{
    static const uint8_t zero[SWLOG_HASH_BYTES];
    uint8_t first[SWLOG_HASH_BYTES];
    uint32_t ff;
    uint64_t fo;
    int rc = add(fi, feed, seq, zero, 1, UNSET, 0, first, &ff, &fo);
    return rc == SWLOG_ENOMEM ? rc : SWLOG_OK;
}

int fork_index_check_at(fork_index *fi, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                        uint64_t seq, const uint8_t id[SWLOG_HASH_BYTES],
                        uint32_t file, uint64_t offset,
                        uint8_t first_id[SWLOG_HASH_BYTES],
                        uint32_t *first_file, uint64_t *first_offset)
{
    if (fi->nslots == 0 || fi->pl == NULL)
        return 3;
    size_t i = find(fi, feed, seq);
    if (fi->slot[i] == 0)
        return 3;
    size_t k = fi->slot[i] - 1;
    entry *e = &fi->e[k];
    place *p = &fi->pl[k];
    if (p->file == UNSET) {
        memcpy(e->id, id, SWLOG_HASH_BYTES);
        p->file = file;
        p->off_hi = (uint32_t)(offset >> 32);
        p->off_lo = (uint32_t)offset;
        return 0;
    }
    if (memcmp(e->id, id, SWLOG_HASH_BYTES) == 0)
        return 2;
    memcpy(first_id, e->id, SWLOG_HASH_BYTES);
    *first_file = p->file;
    *first_offset = (uint64_t)p->off_hi << 32 | p->off_lo;
    return 1;
}

size_t fork_index_count(const fork_index *fi)
{
    return fi->n;
}

size_t fork_index_bytes(const fork_index *fi)
{
    return sizeof *fi + fi->cap * sizeof(entry) +
           (fi->pl != NULL ? fi->cap * sizeof(place) : 0) +
           fi->nslots * sizeof(uint32_t);
}
