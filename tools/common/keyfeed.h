/* The key frames of logs (FORMAT §7.2-§7.4) gathered for the key tool, and
 * the head of a signer's own feed (FORMAT §8.1), so the next frame can be
 * linked to it. Every frame read is fully decoded and its signature
 * checked; a log that is not a valid chain is refused, never half-read. */
#ifndef KEYFEED_H
#define KEYFEED_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

typedef struct keyfeed_cert {
    uint8_t issuer[SWLOG_PUBKEY_BYTES], subject[SWLOG_PUBKEY_BYTES];
    uint8_t role;
    uint64_t seq, hlc, valid_from, valid_until;
    char unit[SWLOG_MAX_UNIT + 1];
} keyfeed_cert;

typedef struct keyfeed_rotation {
    uint8_t old_key[SWLOG_PUBKEY_BYTES], new_key[SWLOG_PUBKEY_BYTES];
    uint64_t seq, hlc;
} keyfeed_rotation;

typedef struct keyfeed_revocation {
    uint8_t issuer[SWLOG_PUBKEY_BYTES], subject[SWLOG_PUBKEY_BYTES];
    uint64_t seq, hlc, from_seq, from_time;
    uint8_t reason;
} keyfeed_revocation;

typedef struct keyfeed {
    keyfeed_cert *certs;
    size_t ncerts;
    keyfeed_rotation *rots;
    size_t nrots;
    keyfeed_revocation *revs;
    size_t nrevs;
    size_t frames; /* frames read, of every type */
    /* Filled by keyfeed_load with an owner: */
    swlog_head next;   /* where the owner's next frame goes; hlc: the last */
    int ended;         /* the owner's feed ended with a rotation */
    uint64_t torn;     /* bytes of torn tail after the last whole frame */
    uint64_t end;      /* offset after the last whole frame; 0: no file */
} keyfeed;

void keyfeed_init(keyfeed *kf);
void keyfeed_clear(keyfeed *kf);

/* Read the log at path and add its key frames to kf. With owner set, the
 * log must be owner's own feed: every frame signed by owner, starting at
 * seq 1, a valid chain; kf->next, ended and torn describe it. Without,
 * frames of any feeds are accepted if each feed's chain is valid. A missing
 * file with an owner is an empty feed only when may_create; else SWLOG_EIO
 * (errno ENOENT in the message). Messages name the frame's offset. */
int keyfeed_load(keyfeed *kf, const char *path, const uint8_t *owner,
                 int may_create, swlog_error *err);

/* The certificate that gives key its role: its own newest certificate, else
 * (following rotations back, FORMAT §7.3) that of the key it succeeded.
 * NULL when none is known. */
const keyfeed_cert *keyfeed_cert_of(const keyfeed *kf,
                                    const uint8_t key[SWLOG_PUBKEY_BYTES]);

/* "root", "province", "county", "station"; NULL for another code. */
const char *keyfeed_role_name(uint8_t role);
/* "unspecified", "compromised", "retired", "superseded"; NULL otherwise. */
const char *keyfeed_reason_name(uint8_t reason);
/* Parse the names above: the code, or 0. */
uint8_t keyfeed_role_parse(const char *name);
uint8_t keyfeed_reason_parse(const char *name);

#endif
