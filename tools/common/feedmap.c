/* Per-feed map under a keyed hash: see feedmap.h. */
#include "feedmap.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 256

struct feedmap {
    uint8_t *e;     /* entries: key, then value, entry_size bytes each */
    size_t n, cap;  /* entries used, allocated */
    size_t value_size, entry_size;
    uint32_t *slot; /* entry index + 1; 0 = empty */
    size_t nslots;  /* power of two, or 0 before the first put */
    uint8_t key[crypto_shorthash_KEYBYTES];
};

feedmap *feedmap_new(size_t value_size)
{
    if (value_size > VALUE_MAX || sodium_init() < 0)
        return NULL;
    feedmap *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->value_size = value_size;
    m->entry_size = SWLOG_PUBKEY_BYTES + (value_size + 7) / 8 * 8;
    crypto_shorthash_keygen(m->key);
    return m;
}

void feedmap_free(feedmap *m)
{
    if (m == NULL)
        return;
    free(m->e);
    free(m->slot);
    free(m);
}

void feedmap_clear(feedmap *m)
{
    m->n = 0;
    if (m->slot != NULL)
        memset(m->slot, 0, m->nslots * sizeof *m->slot);
}

size_t feedmap_count(const feedmap *m)
{
    return m->n;
}

static uint8_t *entry(const feedmap *m, size_t k)
{
    return m->e + k * m->entry_size;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find(const feedmap *m, const uint8_t *key)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, SWLOG_PUBKEY_BYTES, m->key);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof h; i++)
        v = v << 8 | h[i];
    size_t mask = m->nslots - 1, i = (size_t)v & mask;
    while (m->slot[i] != 0 &&
           memcmp(entry(m, m->slot[i] - 1), key, SWLOG_PUBKEY_BYTES) != 0)
        i = (i + 1) & mask;
    return i;
}

void *feedmap_get(const feedmap *m, const uint8_t key[SWLOG_PUBKEY_BYTES])
{
    if (m->n == 0)
        return NULL;
    size_t i = find(m, key);
    return m->slot[i] == 0
               ? NULL
               : entry(m, m->slot[i] - 1) + SWLOG_PUBKEY_BYTES;
}

static int rehash(feedmap *m, size_t nslots)
{
    uint32_t *s = calloc(nslots, sizeof *s);
    if (s == NULL)
        return -1;
    free(m->slot);
    m->slot = s;
    m->nslots = nslots;
    for (size_t k = 0; k < m->n; k++)
        m->slot[find(m, entry(m, k))] = (uint32_t)(k + 1);
    return 0;
}

void *feedmap_put(feedmap *m, const uint8_t key[SWLOG_PUBKEY_BYTES],
                  int *created)
{
    if (created != NULL)
        *created = 0;
    void *v = feedmap_get(m, key);
    if (v != NULL)
        return v;
    if (m->n == m->cap) {
        size_t cap = m->cap < 64 ? 64 : m->cap + m->cap / 2;
        if (cap >= UINT32_MAX / 2)
            return NULL;
        uint8_t *e = realloc(m->e, cap * m->entry_size);
        if (e == NULL)
            return NULL;
        m->e = e;
        m->cap = cap;
    }
    if (2 * (m->n + 1) > m->nslots &&
        rehash(m, m->nslots == 0 ? 128 : m->nslots * 2) != 0)
        return NULL;
    uint8_t *e = entry(m, m->n);
    memcpy(e, key, SWLOG_PUBKEY_BYTES);
    memset(e + SWLOG_PUBKEY_BYTES, 0, m->entry_size - SWLOG_PUBKEY_BYTES);
    m->slot[find(m, key)] = (uint32_t)(m->n + 1);
    m->n++;
    if (created != NULL)
        *created = 1;
    return e + SWLOG_PUBKEY_BYTES;
}
