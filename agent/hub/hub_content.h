/* `swsync-hub content-hash` (agent/hub/README.md "Content hash"): the
 * replica's content hash (MERGE §10) read beside how many of hub.db's
 * leaves it has merged, so a hash is never taken for more than it is. */
#ifndef HUB_CONTENT_H
#define HUB_CONTENT_H

#include <stdint.h>

#include "swlog.h"

typedef struct hub_content {
    uint8_t hash[SWLOG_HASH_BYTES];
    uint64_t merged; /* leaves the replica has merged (_hub_state) */
    uint64_t leaves; /* leaves hub.db holds */
    int running;     /* a swsync-hub holds the data folder (hub.lock) */
} hub_content;

/* How often hub_content_read looks at the two leaf counts while waiting. */
#define HUB_CONTENT_PAUSE_MS 50

/* DATA/replica.db's hash and merged leaves, read in one read transaction,
 * and DATA/hub.db's leaves (read-only, once, at the call). Beside a running
 * hub, first waits up to wait_ms (looking every HUB_CONTENT_PAUSE_MS) until
 * the replica has merged every leaf hub.db held then, reading only the
 * replica's count meanwhile; then hashes once. out->merged < out->leaves after it says the replica
 * is still behind. Writes nothing. */
int hub_content_read(const char *data, unsigned wait_ms, hub_content *out,
                     swlog_error *err);

#endif
