/* Test helper: hand-craft a frame body with a valid signature around
 * arbitrary type fields and payload (FORMAT §4.1, §2.2), using libsodium
 * directly rather than the library's encoder, so tests can build bodies the
 * encoders refuse to make and cross-check the ones they do make. */
#ifndef CRAFT_H
#define CRAFT_H

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "swlog.h"

typedef struct craft {
    uint8_t type;
    uint8_t layout;        /* 0 means 1 */
    uint64_t seq;          /* 0 means 1 unless seq_zero */
    int seq_zero;
    uint8_t prev[32];
    uint64_t hlc;
    const uint8_t *fields; /* type fields after byte 120 */
    size_t nfields;
    const uint8_t *payload;
    size_t plen;
    long header_len;       /* -1: 120 + nfields */
    long long payload_len; /* -1: plen */
    int bad_hash;          /* flip a bit of payload_hash before signing */
    const uint8_t *signer; /* NULL: the key's own public key */
} craft;

static inline void craft_init(craft *c, uint8_t type)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    c->header_len = -1;
    c->payload_len = -1;
}

static inline void craft_store(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static inline void craft_hash_ctx(const char *ctx, const uint8_t *m,
                                  size_t len, uint8_t out[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)ctx, strlen(ctx) + 1);
    crypto_hash_sha256_update(&st, m, len);
    crypto_hash_sha256_final(&st, out);
}

/* Sign body[0..header_len) in place: the signature goes at header_len. */
static inline void craft_sign(uint8_t *body, size_t header_len,
                              const uint8_t sk[64])
{
    uint8_t msg[46];
    memcpy(msg, "swsync/sig/v1", 14); /* with its 0x00 */
    craft_hash_ctx("swsync/frame-id/v1", body, header_len, msg + 14);
    crypto_sign_detached(body + header_len, NULL, msg, sizeof msg, sk);
}

/* A malloc'd body; *len its length. Lengths in the header can lie (the
 * overrides); the bytes laid out are always fields then payload. */
/* noinline: gcc -O3 propagates one caller's constants into the copy below
 * and warns about a zero-length memcpy it has already ruled out. */
__attribute__((noinline, unused)) static uint8_t *
craft_body(const craft *c, const uint8_t sk[64],
                                  size_t *len)
{
    size_t hl = 120 + c->nfields;
    size_t n = hl + 64 + c->plen;
    uint8_t *b = calloc(1, n);
    if (b == NULL)
        abort();
    b[0] = c->type;
    b[1] = c->layout ? c->layout : 1;
    craft_store(b + 2, c->header_len >= 0 ? (uint64_t)c->header_len : hl, 2);
    memcpy(b + 4, c->signer ? c->signer : sk + 32, 32);
    craft_store(b + 36, c->seq_zero ? 0 : c->seq ? c->seq : 1, 8);
    memcpy(b + 44, c->prev, 32);
    craft_store(b + 76, c->hlc, 8);
    craft_store(b + 84,
                c->payload_len >= 0 ? (uint64_t)c->payload_len : c->plen, 4);
    craft_hash_ctx("swsync/payload/v1", c->payload, c->plen, b + 88);
    if (c->bad_hash)
        b[100] ^= 0x04;
    if (c->nfields)
        memcpy(b + 120, c->fields, c->nfields);
    if (c->plen)
        memcpy(b + hl + 64, c->payload, c->plen);
    /* Sign what the header says is the header, when it is in the body. */
    size_t shl = c->header_len >= 0 ? (size_t)c->header_len : hl;
    if (shl >= 120 && shl + 64 <= n)
        craft_sign(b, shl, sk);
    else
        craft_sign(b, hl, sk);
    *len = n;
    return b;
}

#endif
