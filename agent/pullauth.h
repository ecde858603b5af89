/* Authenticated pulls (spec/PROTOCOL.md §10.2): the string a station signs
 * with its feed key for one request, and its check. Shared by the client
 * (agent/client/pull.c) and the hub (agent/hub/hub_pull.c), so both build
 * exactly the same bytes. */
#ifndef PULLAUTH_H
#define PULLAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

#define PULLAUTH_CONTEXT "swsync-pull-v1"
#define PULLAUTH_NONCE_BYTES 16
#define PULLAUTH_SIG_BYTES 64
/* The longest message: context, method, path, query, time, nonce, keys. */
#define PULLAUTH_MSG_MAX 512

/* The canonical query of a pull: "after=N&limit=M" (decimal, no zeros in
 * front). out has room for 64 bytes. */
void pullauth_query(uint64_t after, uint64_t limit, char out[64]);
/* The signed string: context, method, path, query, time_ms, nonce (32
 * lowercase hex), hub key, station key (64 lowercase hex each), each
 * followed by '\n'. Returns its length, 0 when it does not fit. */
size_t pullauth_message(const char *method, const char *path,
                        const char *query, uint64_t time_ms,
                        const char *nonce_hex, const uint8_t *hub_key,
                        const uint8_t *station_key,
                        char out[PULLAUTH_MSG_MAX]);
void pullauth_sign(const uint8_t sk[SWLOG_SECKEY_BYTES], const char *msg,
                   size_t len, uint8_t sig[PULLAUTH_SIG_BYTES]);
/* 1 when sig is station_key's signature of msg. */
int pullauth_verify(const uint8_t pk[SWLOG_PUBKEY_BYTES], const char *msg,
                    size_t len, const uint8_t sig[PULLAUTH_SIG_BYTES]);
/* Lowercase hex of exactly n bytes into out: 0, else -1. */
int pullauth_unhex(const char *hex, uint8_t *out, size_t n);

#endif
