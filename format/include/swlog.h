/* swlog: the swsync append-only log format (spec/FORMAT.md).
 *
 * The one public header of format/. Depends on libc only: a third party or an
 * auditor links libswlog and libsodium and includes nothing else. No function
 * here prints, exits or aborts; fallible functions return a swlog_code and
 * describe the failure in a caller-owned swlog_error (which may be NULL).
 * Call swlog_init() once before anything else. */
#ifndef SWLOG_H
#define SWLOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* FORMAT §2: primitive sizes. */
#define SWLOG_PUBKEY_BYTES 32
#define SWLOG_SECKEY_BYTES 64 /* libsodium layout: seed then public key */
#define SWLOG_SEED_BYTES 32
#define SWLOG_SIG_BYTES 64
#define SWLOG_HASH_BYTES 32
#define SWLOG_UUID_BYTES 16

/* FORMAT §3: files and envelopes. */
#define SWLOG_FILE_VERSION 1
#define SWLOG_SALT_BYTES 16
#define SWLOG_FILE_HEADER_BYTES 32
#define SWLOG_ENVELOPE_HEAD_BYTES 8
#define SWLOG_ENVELOPE_BYTES 12 /* head + trailing CRC */

/* FORMAT §4.1: the common signed header. */
#define SWLOG_LAYOUT 1
#define SWLOG_COMMON_HEADER_BYTES 120

/* FORMAT §10: limits, checked by decoders before any use. */
#define SWLOG_MAX_BODY 4194304u
#define SWLOG_MAX_HEADER 1024u
#define SWLOG_MAX_RECORDS 10000u
#define SWLOG_MAX_TABLES 64u
#define SWLOG_MAX_COLUMNS 128u
#define SWLOG_MAX_DICT_COLUMNS 1024u
#define SWLOG_MAX_NAME 64u
#define SWLOG_MAX_AUTHOR 64u
#define SWLOG_MAX_UNIT 32u
#define SWLOG_MAX_TEXT 65536u
#define SWLOG_MAX_BLOB 1048576u
#define SWLOG_MAX_PROOF 64u

/* FORMAT §11. Values are ABI: append new ones, never reuse. */
typedef enum swlog_code {
    SWLOG_OK = 0,
    SWLOG_EARG = -1,
    SWLOG_ENOMEM = -2,
    SWLOG_EIO = -3,
    SWLOG_ESHORT = -4,
    SWLOG_EBOUNDS = -5,
    SWLOG_ENONCANON = -6,
    SWLOG_ESIG = -7,
    SWLOG_ECHAIN = -8,
    SWLOG_EMAGIC = -9,
    SWLOG_ECRC = -10,
    SWLOG_EVERSION = -11,
    SWLOG_ECRITICAL = -12,
    SWLOG_ESEQ = -13,
    SWLOG_EFORK = -14,
    SWLOG_ECORRUPT = -15,
    SWLOG_EINVAL = -16,
    SWLOG_EHASH = -17,
    SWLOG_EPROOF = -18,
} swlog_code;
#define SWLOG_CODE_MIN (-18)

typedef struct swlog_error {
    swlog_code code;
    uint64_t offset; /* where in the input the problem starts */
    char msg[160];   /* one line; never key bytes or record values */
} swlog_error;

/* Record a failure in err (which may be NULL): the first failure wins, so a
 * detector describes it and callers pass it on. Returns code. For code
 * outside format/ that reports through swlog_error too (STYLE §3), which may
 * add codes of its own at -100 and below. The message must never hold key
 * bytes or personal data. */
int swlog_fail(swlog_error *err, int code, uint64_t offset, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));
int swlog_vfail(swlog_error *err, int code, uint64_t offset,
                const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* "SWLOG_ESIG"; "SWLOG_E?" for an unknown code. Never NULL. */
const char *swlog_code_name(int code);
/* "a signature does not verify" (FORMAT §11's words). Never NULL. */
const char *swlog_code_text(int code);
/* Parse "SWLOG_ESIG" or "ok"/"SWLOG_OK"; returns 1 and sets *code, else 0. */
int swlog_code_parse(const char *name, int *code);

/* Initialise libsodium. Returns SWLOG_OK, or SWLOG_EIO if it cannot start. */
int swlog_init(void);

/* ---- primitives (FORMAT §2) ------------------------------------------ */

/* Derive a key pair from a 32-byte seed (RFC 8032 private key). */
int swlog_key_from_seed(const uint8_t seed[SWLOG_SEED_BYTES],
                        uint8_t pk[SWLOG_PUBKEY_BYTES],
                        uint8_t sk[SWLOG_SECKEY_BYTES]);
/* Fresh random key pair. */
int swlog_key_generate(uint8_t pk[SWLOG_PUBKEY_BYTES],
                       uint8_t sk[SWLOG_SECKEY_BYTES]);
/* Wipe secret material (sodium_memzero). */
void swlog_wipe(void *p, size_t len);
/* Fill with random bytes. */
void swlog_random(void *p, size_t len);

/* FORMAT §2.1: H(ctx, m) = SHA-256(ctx || 0x00 || m). */
void swlog_hash_ctx(const char *ctx, const uint8_t *m, size_t len,
                    uint8_t out[SWLOG_HASH_BYTES]);
/* Plain SHA-256. */
void swlog_sha256(const uint8_t *m, size_t len, uint8_t out[SWLOG_HASH_BYTES]);
/* FORMAT §2.4: continue a CRC32C. Start with crc = 0; the result of one call
 * over a whole message is the standard CRC32C of it. */
uint32_t swlog_crc32c(uint32_t crc, const uint8_t *p, size_t len);

/* Context strings (FORMAT §2.3). */
#define SWLOG_CTX_FRAME_ID "swsync/frame-id/v1"
#define SWLOG_CTX_SIG "swsync/sig/v1"
#define SWLOG_CTX_PAYLOAD "swsync/payload/v1"
#define SWLOG_CTX_ROTATE "swsync/rotate/v1"

/* ---- growable byte buffer -------------------------------------------- */

typedef struct swlog_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
} swlog_buf;
void swlog_buf_init(swlog_buf *b);
void swlog_buf_clear(swlog_buf *b); /* frees; the buffer may be reused */
int swlog_buf_append(swlog_buf *b, const void *p, size_t len);

/* ---- frames (FORMAT §4-§7) ------------------------------------------- */

enum swlog_type {
    SWLOG_TYPE_CHANGESET = 0x81,
    SWLOG_TYPE_CERT = 0x82,
    SWLOG_TYPE_ROTATION = 0x83,
    SWLOG_TYPE_REVOCATION = 0x84,
    SWLOG_TYPE_CHECKPOINT = 0x85,
};
#define SWLOG_TYPE_CRITICAL 0x80

enum swlog_role { /* FORMAT §7.1 */
    SWLOG_ROLE_ROOT = 1,
    SWLOG_ROLE_PROVINCE = 2,
    SWLOG_ROLE_COUNTY = 3,
    SWLOG_ROLE_STATION = 4,
};
enum swlog_reason { /* FORMAT §7.4 */
    SWLOG_REASON_UNSPECIFIED = 1,
    SWLOG_REASON_COMPROMISED = 2,
    SWLOG_REASON_RETIRED = 3,
    SWLOG_REASON_SUPERSEDED = 4,
};

/* The position of a new frame in its signer's feed (FORMAT §4.1). */
typedef struct swlog_head {
    uint64_t seq;                     /* >= 1 */
    uint8_t prev[SWLOG_HASH_BYTES];   /* zero when seq == 1 */
    uint64_t hlc;
} swlog_head;

/* A decoded frame body. Pointers borrow from the decoded buffer. */
typedef struct swlog_frame {
    const uint8_t *body;
    size_t body_len;
    uint8_t type;
    int known; /* 1 when the type is one of enum swlog_type */
    uint16_t header_len;
    uint8_t signer[SWLOG_PUBKEY_BYTES];
    uint64_t seq;
    uint8_t prev[SWLOG_HASH_BYTES];
    uint64_t hlc;
    uint32_t payload_len;
    const uint8_t *payload;
    const uint8_t *sig;
    uint8_t id[SWLOG_HASH_BYTES]; /* FORMAT §4.3 */
    union {
        struct {
            uint32_t schema_version;
            uint32_t record_count;
            const uint8_t *author; /* not NUL-terminated */
            uint8_t author_len;
        } changeset;
        struct {
            uint8_t subject[SWLOG_PUBKEY_BYTES];
            uint8_t role;
            uint64_t valid_from, valid_until; /* milliseconds */
            char unit[SWLOG_MAX_UNIT + 1];    /* NUL-terminated copy */
        } cert;
        struct {
            uint8_t new_key[SWLOG_PUBKEY_BYTES];
            uint8_t new_sig[SWLOG_SIG_BYTES];
        } rotation;
        struct {
            uint8_t subject[SWLOG_PUBKEY_BYTES];
            uint64_t from_seq, from_time;
            uint8_t reason;
        } revocation;
        struct {
            uint64_t tree_size;
            uint8_t root[SWLOG_HASH_BYTES];
        } checkpoint;
    } u;
} swlog_frame;

/* Flags for swlog_frame_decode. */
#define SWLOG_DECODE_NO_SIG 1u /* check everything but the signatures */

/* Decode one frame body body[0..len) strictly (FORMAT §4-§7): layout, type
 * fields, the whole change-set payload, payload hash and, unless
 * SWLOG_DECODE_NO_SIG, the signature(s). An unknown non-critical type is
 * accepted with known = 0. On success fills *out (borrowing from body).
 * Allocates nothing. On failure *out is untouched and err->offset is
 * relative to body. */
int swlog_frame_decode(const uint8_t *body, size_t len, unsigned flags,
                       swlog_frame *out, swlog_error *err);

/* Encoders: build, sign and write a complete body into *out (replacing its
 * contents). The signer's public key is taken from sk. */
int swlog_cert_encode(const uint8_t sk[SWLOG_SECKEY_BYTES],
                      const swlog_head *h,
                      const uint8_t subject[SWLOG_PUBKEY_BYTES], uint8_t role,
                      uint64_t valid_from, uint64_t valid_until,
                      const char *unit, swlog_buf *out, swlog_error *err);
int swlog_rotation_encode(const uint8_t old_sk[SWLOG_SECKEY_BYTES],
                          const uint8_t new_sk[SWLOG_SECKEY_BYTES],
                          const swlog_head *h, swlog_buf *out,
                          swlog_error *err);
int swlog_revocation_encode(const uint8_t sk[SWLOG_SECKEY_BYTES],
                            const swlog_head *h,
                            const uint8_t subject[SWLOG_PUBKEY_BYTES],
                            uint64_t from_seq, uint64_t from_time,
                            uint8_t reason, swlog_buf *out, swlog_error *err);
int swlog_checkpoint_encode(const uint8_t sk[SWLOG_SECKEY_BYTES],
                            const swlog_head *h, uint64_t tree_size,
                            const uint8_t root[SWLOG_HASH_BYTES],
                            swlog_buf *out, swlog_error *err);

/* ---- change-sets (FORMAT §5) ----------------------------------------- */

enum swlog_kind { SWLOG_UPSERT = 1, SWLOG_DELETE = 2 };
enum swlog_vtype {
    SWLOG_NULL = 0,
    SWLOG_INT = 1,
    SWLOG_REAL = 2,
    SWLOG_TEXT = 3,
    SWLOG_BLOB = 4,
};

typedef struct swlog_value {
    uint8_t type;       /* enum swlog_vtype */
    int64_t i;          /* SWLOG_INT */
    double r;           /* SWLOG_REAL */
    const uint8_t *p;   /* SWLOG_TEXT, SWLOG_BLOB: borrowed bytes */
    size_t len;
} swlog_value;

/* Builder. It copies everything it is given; memory is bounded by the
 * format's limits, which it enforces (SWLOG_EBOUNDS) as records are added. */
typedef struct swlog_cs swlog_cs;
swlog_cs *swlog_cs_new(void);
void swlog_cs_free(swlog_cs *cs);  /* NULL is fine */
void swlog_cs_reset(swlog_cs *cs); /* empty it, keep its memory */
/* Start a record. For an upsert, add its values next with swlog_cs_value.
 * hlc is the record's own HLC; replaced_hlc (deletes) 0 when unknown. */
int swlog_cs_upsert(swlog_cs *cs, const char *table,
                    const uint8_t row_id[SWLOG_UUID_BYTES], uint64_t hlc,
                    swlog_error *err);
int swlog_cs_delete(swlog_cs *cs, const char *table,
                    const uint8_t row_id[SWLOG_UUID_BYTES], uint64_t hlc,
                    uint64_t replaced_hlc, swlog_error *err);
/* Add a column value to the current upsert. replaced_hlc 0 = none. A column
 * named twice in one record is SWLOG_EARG. */
int swlog_cs_value(swlog_cs *cs, const char *column, uint64_t replaced_hlc,
                   const swlog_value *v, swlog_error *err);
size_t swlog_cs_count(const swlog_cs *cs);
/* Upper bound of the body size swlog_cs_seal would produce now, so callers
 * can start a new change-set before SWLOG_MAX_BODY. */
size_t swlog_cs_size_bound(const swlog_cs *cs);
/* Encode and sign. h->hlc must be >= every record's hlc. */
int swlog_cs_seal(swlog_cs *cs, const uint8_t sk[SWLOG_SECKEY_BYTES],
                  const swlog_head *h, uint32_t schema_version,
                  const char *author, swlog_buf *out, swlog_error *err);

/* Reader over a decoded change-set frame. */
typedef struct swlog_record {
    uint8_t kind; /* enum swlog_kind */
    const uint8_t *table; /* name, not NUL-terminated */
    uint8_t table_len;
    uint8_t row_id[SWLOG_UUID_BYTES];
    uint64_t hlc;
    uint64_t replaced_hlc; /* deletes */
    uint32_t value_count;  /* upserts */
} swlog_record;
typedef struct swlog_column {
    const uint8_t *name;
    uint8_t name_len;
    uint64_t replaced_hlc;
    swlog_value value;
} swlog_column;
typedef struct swlog_reader {
    /* private */
    const uint8_t *body; /* error offsets are relative to it */
    const uint8_t *p, *end;
    uint64_t frame_hlc;
    uint32_t records_left, values_left;
    uint32_t rec_no, val_no; /* records read, values read of the last */
    uint16_t cur_table;
    uint16_t ntables;
    uint8_t validated; /* the frame decoder checked these bytes already */
    struct { const uint8_t *name; uint8_t len; uint16_t first, count; }
        tables[SWLOG_MAX_TABLES];
    struct { const uint8_t *name; uint8_t len; } cols[SWLOG_MAX_DICT_COLUMNS];
} swlog_reader;
/* f must be a successfully decoded change-set. */
int swlog_reader_init(swlog_reader *rd, const swlog_frame *f,
                      swlog_error *err);
/* 1 and *rec filled, 0 at the end, or an error code. */
int swlog_reader_next(swlog_reader *rd, swlog_record *rec, swlog_error *err);
/* The next value of the current upsert: 1, 0 at its end, or an error. */
int swlog_reader_value(swlog_reader *rd, swlog_column *col,
                       swlog_error *err);

/* ---- log files (FORMAT §3, §8.3, §8.4) -------------------------------- */

typedef struct swlog_log swlog_log;
enum swlog_mode {
    SWLOG_READ = 0,   /* read frames in order; never modifies the file */
    SWLOG_APPEND = 1, /* scan to the end, cut a torn tail, fsync, append */
    SWLOG_CREATE = 2, /* with SWLOG_APPEND: create the file if missing */
};
int swlog_log_open(const char *path, int mode, swlog_log **out,
                   swlog_error *err);
/* Open an existing log for appending at `end`, the offset after its last
 * frame as the caller recorded it once an append of it was fsynced (a hub's
 * store): no scan, so the cost does not grow with the file. The file's size
 * must be exactly `end` (SWLOG_ECORRUPT otherwise, nothing changed: open it
 * with swlog_log_open, which scans and cuts a torn tail). */
int swlog_log_open_end(const char *path, uint64_t end, swlog_log **out,
                       swlog_error *err);
/* Read-only view of a log held in memory (tests, fuzzing, uploads). The
 * buffer must outlive the log object. */
int swlog_log_open_mem(const uint8_t *buf, size_t len, swlog_log **out,
                       swlog_error *err);
void swlog_log_close(swlog_log *log); /* NULL is fine */
/* Next frame (envelope and CRC checked, body not decoded): returns 1 with
 * *body, *len (valid until the next call) and *offset (of the envelope),
 * 0 at the end (see swlog_log_torn), or an error: SWLOG_ECORRUPT when
 * damage is followed by valid frames (FORMAT §8.3). */
int swlog_log_next(swlog_log *log, const uint8_t **body, size_t *len,
                   uint64_t *offset, swlog_error *err);
/* Bytes of torn tail found when reading, or cut when opened for append. */
uint64_t swlog_log_torn(const swlog_log *log);
/* Offset just past the last whole frame read (or the end, in append mode). */
uint64_t swlog_log_end(const swlog_log *log);
/* The file's salt. */
const uint8_t *swlog_log_salt(const swlog_log *log);
/* Append n bodies with one write and one fsync (group commit, FORMAT §8.4).
 * All or nothing: on failure (e.g. a full disk) the file is cut back to its
 * previous end and SWLOG_EIO says why. */
int swlog_log_append(swlog_log *log, const uint8_t *const *bodies,
                     const size_t *lens, size_t n, swlog_error *err);

/* Byte-level helpers for writers of other containers. */
void swlog_file_header_encode(const uint8_t salt[SWLOG_SALT_BYTES],
                              uint8_t out[SWLOG_FILE_HEADER_BYTES]);
int swlog_file_header_decode(const uint8_t *buf, size_t len,
                             uint8_t salt[SWLOG_SALT_BYTES],
                             swlog_error *err);
/* Write the 8-byte envelope head and the 4-byte CRC for body under salt. */
int swlog_envelope_encode(const uint8_t salt[SWLOG_SALT_BYTES],
                          const uint8_t *body, size_t len,
                          uint8_t head[SWLOG_ENVELOPE_HEAD_BYTES],
                          uint8_t crc[4]);

/* ---- feeds: chains and forks (FORMAT §8.1, §8.2) ---------------------- */

/* Tracks the head of every feed seen, for chain checks across interleaved
 * feeds. Memory grows with the number of distinct feeds, not frames. */
typedef struct swlog_chains swlog_chains;
swlog_chains *swlog_chains_new(void);
void swlog_chains_free(swlog_chains *c);
/* Check f against the head held for its feed; on success f becomes the head.
 * A feed's first frame seen may have any seq. SWLOG_ESEQ, SWLOG_ECHAIN. */
int swlog_chains_add(swlog_chains *c, const swlog_frame *f,
                     swlog_error *err);
/* Head of a feed: 1 and *seq, *id set, or 0 when never seen. */
int swlog_chains_head(const swlog_chains *c,
                      const uint8_t key[SWLOG_PUBKEY_BYTES], uint64_t *seq,
                      uint8_t id[SWLOG_HASH_BYTES]);
size_t swlog_chains_count(const swlog_chains *c);
/* SWLOG_EFORK when a and b have the same signer and seq but different ids;
 * SWLOG_OK otherwise (including the same frame twice). */
int swlog_fork_check(const swlog_frame *a, const swlog_frame *b,
                     swlog_error *err);

/* ---- Merkle tree (FORMAT §9, RFC 9162) -------------------------------- */

/* Leaves are 32-byte values (frame ids). */
int swlog_merkle_root(const uint8_t (*leaves)[SWLOG_HASH_BYTES], uint64_t n,
                      uint8_t root[SWLOG_HASH_BYTES], swlog_error *err);
/* Audit path for leaf index of a tree of n leaves, into proof[], at most
 * SWLOG_MAX_PROOF entries; *proof_len set. */
int swlog_merkle_inclusion(const uint8_t (*leaves)[SWLOG_HASH_BYTES],
                           uint64_t n, uint64_t index,
                           uint8_t (*proof)[SWLOG_HASH_BYTES],
                           size_t *proof_len, swlog_error *err);
int swlog_merkle_inclusion_verify(const uint8_t leaf[SWLOG_HASH_BYTES],
                                  uint64_t index, uint64_t n,
                                  const uint8_t (*proof)[SWLOG_HASH_BYTES],
                                  size_t proof_len,
                                  const uint8_t root[SWLOG_HASH_BYTES],
                                  swlog_error *err);
/* Consistency proof between the first m leaves and all n (0 < m <= n). */
int swlog_merkle_consistency(const uint8_t (*leaves)[SWLOG_HASH_BYTES],
                             uint64_t n, uint64_t m,
                             uint8_t (*proof)[SWLOG_HASH_BYTES],
                             size_t *proof_len, swlog_error *err);
int swlog_merkle_consistency_verify(uint64_t m, uint64_t n,
                                    const uint8_t root_m[SWLOG_HASH_BYTES],
                                    const uint8_t root_n[SWLOG_HASH_BYTES],
                                    const uint8_t (*proof)[SWLOG_HASH_BYTES],
                                    size_t proof_len, swlog_error *err);

/* ---- text helpers ------------------------------------------------------ */

/* Lowercase hex of len bytes into out (2*len+1 bytes, NUL-terminated). */
void swlog_hex(const uint8_t *p, size_t len, char *out);
/* UUID text form (FORMAT §5.2): out has 37 bytes. */
void swlog_uuid_format(const uint8_t id[SWLOG_UUID_BYTES], char out[37]);
/* Parse the lowercase or uppercase 8-4-4-4-12 form: SWLOG_OK or SWLOG_EARG. */
int swlog_uuid_parse(const char *text, uint8_t id[SWLOG_UUID_BYTES]);

#ifdef __cplusplus
}
#endif
#endif
