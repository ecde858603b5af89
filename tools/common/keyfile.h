/* Secret key files (FORMAT §13): one Ed25519 seed, plain or sealed under a
 * passphrase with Argon2id and XSalsa20-Poly1305 (libsodium's secretbox).
 *
 * Errors are swlog codes, with a one-line message in a caller-owned
 * swlog_error (never key bytes, never the passphrase), plus the KEYFILE_E*
 * codes below, which lie outside FORMAT §11's range so they are never taken
 * for a log error. Functions here never print. Secrets live in memory from
 * sodium_malloc (locked, guarded, wiped when freed). */
#ifndef KEYFILE_H
#define KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

/* FORMAT §13.1 */
#define KEYFILE_MAGIC "\x89SWKEY\r\n"
#define KEYFILE_MAGIC_BYTES 8
#define KEYFILE_VERSION 1
#define KEYFILE_PLAIN 1
#define KEYFILE_SEALED 2
#define KEYFILE_PLAIN_BYTES 76
#define KEYFILE_SEALED_BYTES 140
#define KEYFILE_SALT_BYTES 16
#define KEYFILE_NONCE_BYTES 24
#define KEYFILE_MAC_BYTES 16

/* FORMAT §13.2: Argon2id cost bounds. A file outside them is refused before
 * any memory is allocated for the key derivation. */
#define KEYFILE_OPS_MIN 1u
#define KEYFILE_OPS_MAX 16u
#define KEYFILE_MEM_MIN 8192u        /* bytes */
#define KEYFILE_MEM_MAX 1073741824u  /* bytes: 1 GiB */
#define KEYFILE_PASS_MAX 1024u       /* bytes in a passphrase */

enum keyfile_code {
    KEYFILE_EPASS = -101,  /* wrong passphrase (or a damaged sealed seed) */
    KEYFILE_EPERM = -102,  /* group or others may access the file */
    KEYFILE_EEXIST = -103, /* the output file exists: never overwritten */
    KEYFILE_ENOPASS = -104 /* sealed, but no passphrase was given */
};

/* Argon2id costs. The levels are libsodium's (FORMAT §13.2). */
typedef struct keyfile_kdf {
    uint32_t opslimit;
    uint32_t memlimit; /* bytes, a multiple of 1024 */
} keyfile_kdf;
/* "interactive", "moderate" or "sensitive": 1 and *out set, else 0. */
int keyfile_kdf_level(const char *name, keyfile_kdf *out);

/* A key pair in locked memory. Allocate with keyfile_key_new, release with
 * keyfile_key_free (which wipes it; NULL is fine). */
typedef struct keyfile_key {
    uint8_t pk[SWLOG_PUBKEY_BYTES];
    uint8_t sk[SWLOG_SECKEY_BYTES]; /* seed then public key (swlog.h) */
} keyfile_key;
keyfile_key *keyfile_key_new(void);
void keyfile_key_free(keyfile_key *k);

/* A fresh random key pair. */
int keyfile_generate(keyfile_key **out, swlog_error *err);

/* Encode k into buf (KEYFILE_SEALED_BYTES at least): sealed under pass when
 * kdf is not NULL (pass non-empty, at most KEYFILE_PASS_MAX bytes), else
 * plain. *len set. The caller wipes buf (it holds the seed when plain). */
int keyfile_encode(const keyfile_key *k, const keyfile_kdf *kdf,
                   const char *pass, size_t pass_len, uint8_t *buf,
                   size_t *len, swlog_error *err);
/* Decode buf[0..len). The public part (kind, pk) is checked and returned
 * first; the secret is decoded only when out is not NULL. A sealed file needs
 * pass (else KEYFILE_ENOPASS). Offsets in err are relative to buf. */
int keyfile_decode(const uint8_t *buf, size_t len, const char *pass,
                   size_t pass_len, int *kind,
                   uint8_t pk[SWLOG_PUBKEY_BYTES], keyfile_key **out,
                   swlog_error *err);

/* Write a new key file at path: created 0600 with O_EXCL and O_NOFOLLOW as a
 * temporary file beside it, fsynced, then linked into place, so a crash
 * leaves no half-written key under path and an existing file is never
 * replaced (KEYFILE_EEXIST). Arguments as keyfile_encode. */
int keyfile_save(const char *path, const keyfile_key *k,
                 const keyfile_kdf *kdf, const char *pass, size_t pass_len,
                 swlog_error *err);
/* Read a key file: refuses symbolic links, non-regular files and files that
 * group or others may read or write (KEYFILE_EPERM), then keyfile_decode. */
int keyfile_load(const char *path, const char *pass, size_t pass_len,
                 int *kind, uint8_t pk[SWLOG_PUBKEY_BYTES], keyfile_key **out,
                 swlog_error *err);

/* "SWLOG_EBOUNDS", "KEYFILE_EPASS", ... */
const char *keyfile_code_name(int code);

#endif
