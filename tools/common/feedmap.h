/* A map from a feed's public key to a small fixed-size value, for per-feed
 * state of the tools (verify_loop's rebased feeds, swsync-dump's feeds
 * already introduced). Open addressing under SipHash-2-4 with a random key
 * per map, so keys chosen by whoever wrote an archive cannot make lookups
 * slow: time per lookup stays constant on average however many feeds a
 * hostile file holds.
 *
 * Memory: per key, 32 bytes + the value rounded up to 8, in an array grown
 * by half again when full, plus a 4-byte slot per entry at a load factor of
 * at most 1/2. */
#ifndef FEEDMAP_H
#define FEEDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

typedef struct feedmap feedmap;

/* value_size bytes of value per key (at most 256). NULL: out of memory. */
feedmap *feedmap_new(size_t value_size);
void feedmap_free(feedmap *m); /* NULL is fine */
/* Forget every key; keeps the memory. */
void feedmap_clear(feedmap *m);
size_t feedmap_count(const feedmap *m);

/* The value of key, or NULL when absent. Valid until the next put. */
void *feedmap_get(const feedmap *m, const uint8_t key[SWLOG_PUBKEY_BYTES]);
/* The value of key, added zero-filled if absent (*created = 1, else 0;
 * created may be NULL). NULL when out of memory (the map is unchanged).
 * Valid until the next put. */
void *feedmap_put(feedmap *m, const uint8_t key[SWLOG_PUBKEY_BYTES],
                  int *created);

#endif
