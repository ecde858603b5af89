/* Library-internal signing helpers of format/: the frame signature of
 * FORMAT §2.2 and the rotation acceptance of FORMAT §7.3. */
#ifndef SWLOG_CRYPTO_INT_H
#define SWLOG_CRYPTO_INT_H

#include "swlog.h"

#include <stdint.h>

/* FORMAT §4.3: frame_id = H("swsync/frame-id/v1", signed_header). */
void swlog__frame_id(const uint8_t *header, size_t len,
                     uint8_t id[SWLOG_HASH_BYTES]);
/* FORMAT §2.2: Ed25519 over "swsync/sig/v1" || 0x00 || frame_id. */
void swlog__frame_sign(const uint8_t sk[SWLOG_SECKEY_BYTES],
                       const uint8_t id[SWLOG_HASH_BYTES],
                       uint8_t sig[SWLOG_SIG_BYTES]);
/* 1 when sig verifies under pk (libsodium's strict rule), else 0. */
int swlog__frame_verify(const uint8_t pk[SWLOG_PUBKEY_BYTES],
                        const uint8_t id[SWLOG_HASH_BYTES],
                        const uint8_t sig[SWLOG_SIG_BYTES]);

/* FORMAT §7.3: new_sig over "swsync/rotate/v1" || 0x00 || old || seq ||
 * new; new_sk signs, and its public half is the new key. */
void swlog__rotate_sign(const uint8_t new_sk[SWLOG_SECKEY_BYTES],
                        const uint8_t old_pk[SWLOG_PUBKEY_BYTES], uint64_t seq,
                        uint8_t sig[SWLOG_SIG_BYTES]);
int swlog__rotate_verify(const uint8_t new_pk[SWLOG_PUBKEY_BYTES],
                         const uint8_t old_pk[SWLOG_PUBKEY_BYTES],
                         uint64_t seq, const uint8_t sig[SWLOG_SIG_BYTES]);

/* The public key held in the second half of a libsodium secret key. */
const uint8_t *swlog__sk_pk(const uint8_t sk[SWLOG_SECKEY_BYTES]);

#endif
