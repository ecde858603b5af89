/* Feed heads for chain checks over interleaved feeds, and fork detection:
 * FORMAT §8.1 and §8.2. */
#include "internal.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    uint8_t key[SWLOG_PUBKEY_BYTES];
    uint8_t id[SWLOG_HASH_BYTES];
    uint64_t seq;
    int used;
};

struct swlog_chains {
    struct slot *slots;
    size_t cap; /* a power of two */
    size_t count;
    /* Signer keys come from untrusted files, and an attacker can grind keys
     * whose plain prefixes collide; a keyed hash keeps probes short. */
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

static size_t slot_of(const swlog_chains *c, const uint8_t *key)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, SWLOG_PUBKEY_BYTES, c->hash_key);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof h; i++)
        v = v << 8 | h[i];
    return (size_t)v & (c->cap - 1);
}

/* The slot holding key, or the empty slot where it belongs. */
static struct slot *find(const swlog_chains *c, const uint8_t *key)
{
    size_t i = slot_of(c, key);
    while (c->slots[i].used &&
           memcmp(c->slots[i].key, key, SWLOG_PUBKEY_BYTES) != 0)
        i = (i + 1) & (c->cap - 1);
    return &c->slots[i];
}

swlog_chains *swlog_chains_new(void)
{
    swlog_chains *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->cap = 16;
    c->slots = calloc(c->cap, sizeof *c->slots);
    if (c->slots == NULL) {
        free(c);
        return NULL;
    }
    randombytes_buf(c->hash_key, sizeof c->hash_key);
    return c;
}

void swlog_chains_free(swlog_chains *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    free(c);
}

static int grow(swlog_chains *c)
{
    if (c->cap > SIZE_MAX / 2 / sizeof *c->slots)
        return SWLOG_ENOMEM;
    swlog_chains bigger = *c;
    bigger.cap = c->cap * 2;
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (bigger.slots == NULL)
        return SWLOG_ENOMEM;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].used)
            *find(&bigger, c->slots[i].key) = c->slots[i];
    free(c->slots);
    *c = bigger;
    return SWLOG_OK;
}

int swlog_chains_add(swlog_chains *c, const swlog_frame *f, swlog_error *err)
{
    if (c == NULL || f == NULL)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "swlog_chains_add: NULL argument");
    struct slot *s = find(c, f->signer);
    if (s->used) {
        /* FORMAT §8.1: the next frame of a feed is exactly seq + 1; a repeat
         * (even of the same frame, §8.2) is out of order too. */
        if (s->seq == UINT64_MAX || f->seq != s->seq + 1)
            return swlog__fail(err, SWLOG_ESEQ, 0,
                               "feed holds seq %" PRIu64
                               ", next frame has seq %" PRIu64,
                               s->seq, f->seq);
        if (memcmp(f->prev, s->id, SWLOG_HASH_BYTES) != 0)
            return swlog__fail(err, SWLOG_ECHAIN, 0,
                               "seq %" PRIu64
                               ": prev is not the id of frame %" PRIu64,
                               f->seq, s->seq);
        s->seq = f->seq;
        memcpy(s->id, f->id, SWLOG_HASH_BYTES);
        return SWLOG_OK;
    }
    /* Keep the load at most 1/2 so probe runs stay short. */
    if ((c->count + 1) * 2 > c->cap) {
        if (grow(c) != SWLOG_OK)
            return swlog__fail(err, SWLOG_ENOMEM, 0, "no memory for %zu feeds",
                               c->count + 1);
        s = find(c, f->signer);
    }
    memcpy(s->key, f->signer, SWLOG_PUBKEY_BYTES);
    memcpy(s->id, f->id, SWLOG_HASH_BYTES);
    s->seq = f->seq;
    s->used = 1;
    c->count++;
    return SWLOG_OK;
}

int swlog_chains_head(const swlog_chains *c,
                      const uint8_t key[SWLOG_PUBKEY_BYTES], uint64_t *seq,
                      uint8_t id[SWLOG_HASH_BYTES])
{
    if (c == NULL || key == NULL)
        return 0;
    const struct slot *s = find(c, key);
    if (!s->used)
        return 0;
    if (seq != NULL)
        *seq = s->seq;
    if (id != NULL)
        memcpy(id, s->id, SWLOG_HASH_BYTES);
    return 1;
}

size_t swlog_chains_count(const swlog_chains *c)
{
    return c != NULL ? c->count : 0;
}

int swlog_fork_check(const swlog_frame *a, const swlog_frame *b,
                     swlog_error *err)
{
    if (a == NULL || b == NULL)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "swlog_fork_check: NULL argument");
    /* FORMAT §8.2: the same id twice is one frame, not two histories. */
    if (memcmp(a->signer, b->signer, SWLOG_PUBKEY_BYTES) == 0 &&
        a->seq == b->seq && memcmp(a->id, b->id, SWLOG_HASH_BYTES) != 0)
        return swlog__fail(err, SWLOG_EFORK, 0,
                           "two different frames with seq %" PRIu64, a->seq);
    return SWLOG_OK;
}
