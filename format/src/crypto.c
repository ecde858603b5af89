/* Hashes, keys and signatures over libsodium: FORMAT §2.1-§2.3 and the
 * rotation signature of §7.3. */
#include "crypto_int.h"
#include "internal.h"

#include <sodium.h>
#include <string.h>

/* FORMAT §2: the sizes in swlog.h are libsodium's. */
_Static_assert(SWLOG_PUBKEY_BYTES == crypto_sign_PUBLICKEYBYTES,
               "FORMAT §2.2");
_Static_assert(SWLOG_SECKEY_BYTES == crypto_sign_SECRETKEYBYTES,
               "FORMAT §2.2");
_Static_assert(SWLOG_SEED_BYTES == crypto_sign_SEEDBYTES, "FORMAT §2.2");
_Static_assert(SWLOG_SIG_BYTES == crypto_sign_BYTES, "FORMAT §2.2");
_Static_assert(SWLOG_HASH_BYTES == crypto_hash_sha256_BYTES, "FORMAT §2.1");

/* FORMAT §2.2 and §7.3: lengths of the signed messages. */
#define SIG_CTX_LEN (sizeof SWLOG_CTX_SIG) /* 13 ASCII bytes + 0x00 */
#define SIG_MSG_LEN (SIG_CTX_LEN + SWLOG_HASH_BYTES)
#define ROT_CTX_LEN (sizeof SWLOG_CTX_ROTATE) /* 16 ASCII bytes + 0x00 */
#define ROT_MSG_LEN (ROT_CTX_LEN + 2 * SWLOG_PUBKEY_BYTES + 8)
_Static_assert(SIG_MSG_LEN == 46, "FORMAT §2.2");
_Static_assert(ROT_MSG_LEN == 89, "FORMAT §7.3");

int swlog_init(void)
{
    return sodium_init() < 0 ? SWLOG_EIO : SWLOG_OK;
}

int swlog_key_from_seed(const uint8_t seed[SWLOG_SEED_BYTES],
                        uint8_t pk[SWLOG_PUBKEY_BYTES],
                        uint8_t sk[SWLOG_SECKEY_BYTES])
{
    if (seed == NULL || pk == NULL || sk == NULL)
        return SWLOG_EARG;
    return crypto_sign_seed_keypair(pk, sk, seed) == 0 ? SWLOG_OK
                                                       : SWLOG_EARG;
}

int swlog_key_generate(uint8_t pk[SWLOG_PUBKEY_BYTES],
                       uint8_t sk[SWLOG_SECKEY_BYTES])
{
    if (pk == NULL || sk == NULL)
        return SWLOG_EARG;
    return crypto_sign_keypair(pk, sk) == 0 ? SWLOG_OK : SWLOG_EIO;
}

void swlog_wipe(void *p, size_t len)
{
    if (p != NULL)
        sodium_memzero(p, len);
}

void swlog_random(void *p, size_t len)
{
    if (p != NULL)
        randombytes_buf(p, len);
}

void swlog_sha256(const uint8_t *m, size_t len, uint8_t out[SWLOG_HASH_BYTES])
{
    crypto_hash_sha256(out, m, len);
}

void swlog_hash_ctx(const char *ctx, const uint8_t *m, size_t len,
                    uint8_t out[SWLOG_HASH_BYTES])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    /* FORMAT §2.1: the context's bytes and its terminating 0x00. */
    crypto_hash_sha256_update(&st, (const uint8_t *)ctx, strlen(ctx) + 1);
    if (len > 0)
        crypto_hash_sha256_update(&st, m, len);
    crypto_hash_sha256_final(&st, out);
}

const uint8_t *swlog__sk_pk(const uint8_t sk[SWLOG_SECKEY_BYTES])
{
    return sk + SWLOG_SEED_BYTES;
}

void swlog__frame_id(const uint8_t *header, size_t len,
                     uint8_t id[SWLOG_HASH_BYTES])
{
    swlog_hash_ctx(SWLOG_CTX_FRAME_ID, header, len, id);
}

static void sig_message(const uint8_t id[SWLOG_HASH_BYTES],
                        uint8_t msg[SIG_MSG_LEN])
{
    memcpy(msg, SWLOG_CTX_SIG, SIG_CTX_LEN);
    memcpy(msg + SIG_CTX_LEN, id, SWLOG_HASH_BYTES);
}

void swlog__frame_sign(const uint8_t sk[SWLOG_SECKEY_BYTES],
                       const uint8_t id[SWLOG_HASH_BYTES],
                       uint8_t sig[SWLOG_SIG_BYTES])
{
    uint8_t msg[SIG_MSG_LEN];
    sig_message(id, msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
}

int swlog__frame_verify(const uint8_t pk[SWLOG_PUBKEY_BYTES],
                        const uint8_t id[SWLOG_HASH_BYTES],
                        const uint8_t sig[SWLOG_SIG_BYTES])
{
    uint8_t msg[SIG_MSG_LEN];
    sig_message(id, msg);
    return crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0;
}

static void rotate_message(const uint8_t old_pk[SWLOG_PUBKEY_BYTES],
                           uint64_t seq,
                           const uint8_t new_pk[SWLOG_PUBKEY_BYTES],
                           uint8_t msg[ROT_MSG_LEN])
{
    size_t o = 0;
    memcpy(msg, SWLOG_CTX_ROTATE, ROT_CTX_LEN);
    o += ROT_CTX_LEN;
    memcpy(msg + o, old_pk, SWLOG_PUBKEY_BYTES);
    o += SWLOG_PUBKEY_BYTES;
    swlog__store_u64(msg + o, seq);
    o += 8;
    memcpy(msg + o, new_pk, SWLOG_PUBKEY_BYTES);
}

void swlog__rotate_sign(const uint8_t new_sk[SWLOG_SECKEY_BYTES],
                        const uint8_t old_pk[SWLOG_PUBKEY_BYTES], uint64_t seq,
                        uint8_t sig[SWLOG_SIG_BYTES])
{
    uint8_t msg[ROT_MSG_LEN];
    rotate_message(old_pk, seq, swlog__sk_pk(new_sk), msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, new_sk);
}

int swlog__rotate_verify(const uint8_t new_pk[SWLOG_PUBKEY_BYTES],
                         const uint8_t old_pk[SWLOG_PUBKEY_BYTES],
                         uint64_t seq, const uint8_t sig[SWLOG_SIG_BYTES])
{
    uint8_t msg[ROT_MSG_LEN];
    rotate_message(old_pk, seq, new_pk, msg);
    return crypto_sign_verify_detached(sig, msg, sizeof msg, new_pk) == 0;
}
