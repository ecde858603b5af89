/* Authenticated pulls: pullauth.h. */
#include "pullauth.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

void pullauth_query(uint64_t after, uint64_t limit, char out[64])
{
    snprintf(out, 64, "after=%" PRIu64 "&limit=%" PRIu64, after, limit);
}

size_t pullauth_message(const char *method, const char *path,
                        const char *query, uint64_t time_ms,
                        const char *nonce_hex, const uint8_t *hub_key,
                        const uint8_t *station_key,
                        char out[PULLAUTH_MSG_MAX])
{
    char hk[2 * SWLOG_PUBKEY_BYTES + 1], sk[2 * SWLOG_PUBKEY_BYTES + 1];
    swlog_hex(hub_key, SWLOG_PUBKEY_BYTES, hk);
    swlog_hex(station_key, SWLOG_PUBKEY_BYTES, sk);
    int n = snprintf(out, PULLAUTH_MSG_MAX, "%s\n%s\n%s\n%s\n%" PRIu64
                     "\n%s\n%s\n%s\n", PULLAUTH_CONTEXT, method, path, query,
                     time_ms, nonce_hex, hk, sk);
    if (n < 0 || n >= PULLAUTH_MSG_MAX)
        return 0;
    return (size_t)n;
}

void pullauth_sign(const uint8_t sk[SWLOG_SECKEY_BYTES], const char *msg,
                   size_t len, uint8_t sig[PULLAUTH_SIG_BYTES])
{
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, len, sk);
}

int pullauth_verify(const uint8_t pk[SWLOG_PUBKEY_BYTES], const char *msg,
                    size_t len, const uint8_t sig[PULLAUTH_SIG_BYTES])
{
    return crypto_sign_verify_detached(sig, (const unsigned char *)msg, len,
                                       pk) == 0;
}

int pullauth_unhex(const char *hex, uint8_t *out, size_t n)
{
    if (hex == NULL || strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 0;
}
