/* The auditor's trust chain (spec/SECURITY.md §5, §8): the key frames of
 * every input (certificates, rotations, revocations, checkpoints; FORMAT
 * §7), gathered in a first pass, and the decision whether a key was
 * entitled to sign a frame at a given seq and time.
 *
 * Memory: one entry per distinct key frame (about 130 bytes) and a small
 * memo per certificate, rotation and revocation; nothing per change-set. */
#ifndef AUDIT_KEYS_H
#define AUDIT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

/* Where a frame was read: input number (index into the run's file list)
 * and the offset of its envelope. */
typedef struct audit_place {
    uint32_t file;
    uint64_t offset;
} audit_place;

/* Why a frame is not authorised (SECURITY §5); AUDIT_TRUST_OK when it is.
 * Values are the report's kinds (audit_report.h). */
enum audit_trust {
    AUDIT_TRUST_OK = 0,
    AUDIT_TRUST_NO_CERT,     /* no certificate leads to the root */
    AUDIT_TRUST_WRONG_ISSUER,/* issuer's role may not certify this role */
    AUDIT_TRUST_EXPIRED,     /* time at or after valid_until */
    AUDIT_TRUST_NOT_YET,     /* time before valid_from */
    AUDIT_TRUST_REVOKED,     /* covered by a revocation */
    AUDIT_TRUST_ROTATED,     /* signed after the key's rotation frame */
    AUDIT_TRUST_NOT_HUB,     /* a checkpoint by a key that is not a hub's */
};

typedef struct audit_verdict {
    int trust;            /* enum audit_trust */
    uint8_t role;         /* the signer's role when trusted */
    char unit[SWLOG_MAX_UNIT + 1]; /* its certificate's unit code, when
                                    * trusted ("" when unknown) */
    int has_ref;          /* the key frame responsible */
    audit_place ref;
    uint8_t ref_signer[SWLOG_PUBKEY_BYTES];
    uint64_t ref_seq;
    char why[200];        /* plain words, no key bytes beyond short ids */
} audit_verdict;

typedef struct audit_checkpoint {
    uint8_t hub[SWLOG_PUBKEY_BYTES];
    uint64_t seq, hlc, tree_size;
    uint8_t root[SWLOG_HASH_BYTES];
    audit_place at;
    int state; /* audit_hub's bookkeeping: 0 unchecked, 1 matches, 2 not */
    int receipt; /* read from a station's stored receipts */
} audit_checkpoint;

typedef struct audit_keys audit_keys;

/* Add a checkpoint a station stored with its receipts (PROTOCOL §4.4),
 * decoded with its signature. Unlike audit_keys_add it keeps a checkpoint
 * that differs from another of the same hub and seq (a hub that signed two
 * checkpoints with one seq: audit_keys_checkpoints lists both, sorted by
 * hub, seq, then copies from logs first); identical copies are kept once
 * by audit_keys_seal. SWLOG_OK or SWLOG_ENOMEM. */
int audit_keys_add_receipt(audit_keys *ks, const swlog_frame *f,
                           audit_place at);

audit_keys *audit_keys_new(const uint8_t root[SWLOG_PUBKEY_BYTES]);
void audit_keys_free(audit_keys *ks); /* NULL is fine */

/* Add a key frame (type 0x82-0x85) that decoded with its signature. The
 * same frame read twice is kept once; a second, different frame with the
 * same signer and seq (a fork, reported by the frame pass) is ignored.
 * SWLOG_OK or SWLOG_ENOMEM. */
int audit_keys_add(audit_keys *ks, const swlog_frame *f, audit_place at);

/* Index what was added; call once, before audit_keys_check. */
int audit_keys_seal(audit_keys *ks);

/* Decide whether signer may sign its frame seq at HLC hlc (SECURITY §5
 * steps 2-5, and §1.2: nothing after a rotation). seen_hlc: the HLC of the
 * first checkpoint of another key that covers the frame (§5 step 5's seen
 * time), 0 when none is known. Fills *v. */
void audit_keys_check(audit_keys *ks, const uint8_t signer[SWLOG_PUBKEY_BYTES],
                      uint64_t seq, uint64_t hlc, uint64_t seen_hlc,
                      audit_verdict *v);

/* The checkpoints gathered, sorted by hub key then seq. */
audit_checkpoint *audit_keys_checkpoints(audit_keys *ks, size_t *n);
size_t audit_keys_count(const audit_keys *ks); /* key frames held */

#endif
