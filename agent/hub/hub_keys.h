/* The hub's key registry: who may sign frames it accepts (spec/SECURITY.md
 * §1 and §5). Built from the root public key, the trusted logs of the
 * configuration, the hub's own feed, and key frames accepted from pushed
 * feeds. A frame's signer must trace a certificate chain to the root with
 * the roles of SECURITY §1.1, the frame's time must lie in the window, and
 * no authorised revocation may cover it. */
#ifndef HUB_KEYS_H
#define HUB_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "keyfeed.h"
#include "swlog.h"

typedef struct hub_keys {
    keyfeed kf;
    uint8_t root[SWLOG_PUBKEY_BYTES];
} hub_keys;

/* Counts of the registry, to undo the key frames of a failed batch. */
typedef struct hub_keys_mark {
    size_t certs, rots, revs;
} hub_keys_mark;

void hub_keys_init(hub_keys *k, const uint8_t root[SWLOG_PUBKEY_BYTES]);
void hub_keys_clear(hub_keys *k);
/* Add the key frames of a log file (every frame verified, chains valid). */
int hub_keys_load_log(hub_keys *k, const char *path, swlog_error *err);
/* Add f if it is a certificate, rotation or revocation (others ignored). */
int hub_keys_add(hub_keys *k, const swlog_frame *f, swlog_error *err);
hub_keys_mark hub_keys_mark_get(const hub_keys *k);
void hub_keys_restore(hub_keys *k, hub_keys_mark m);

/* May f's signer sign f (SECURITY §5, with the hub's clock now_ms as the
 * seen time of f; key frames inside the evaluation have none)? NULL when
 * yes; else the PROTOCOL §4.5 error code (key_rotated, unknown_key,
 * key_not_yet_valid, key_expired, key_revoked) with a message in msg. The
 * verdict depends on the set of key frames held, not on the order they
 * were added, so the registry rebuilt at start answers as before. */
const char *hub_keys_check(const hub_keys *k, const swlog_frame *f,
                           uint64_t now_ms, char *msg, size_t msglen);

#endif
