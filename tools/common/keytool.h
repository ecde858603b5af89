/* Steps shared by the swsync-keys commands: error reports and exit codes,
 * option parsing, loading a secret key with its passphrase, and appending
 * one signed frame to a feed that was checked just before. */
#ifndef KEYTOOL_H
#define KEYTOOL_H

#include <stddef.h>
#include <stdint.h>

#include "keyfeed.h"
#include "keyfile.h"
#include "passphrase.h"
#include "swlog.h"

/* Exit codes of swsync-keys (spec/SECURITY.md "The key tool"). */
enum {
    KT_OK = 0,
    KT_ESYS = 1,   /* the system failed us: I/O, memory */
    KT_EUSAGE = 2, /* the command line is wrong */
    KT_EKEY = 3,   /* a key file was refused: missing, mode, passphrase */
    KT_ELOG = 4,   /* a log was refused: not a valid feed, torn, corrupt */
    KT_ERULE = 5   /* refused by the key rules: roles, ended or revoked */
};

/* Print "swsync-keys: what: message" to stderr; returns code. what may be
 * NULL. */
int kt_report(int code, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The exit code for a library error code. */
int kt_exit_for(int swlog_or_keyfile_code, int default_code);

/* Options: "--name VALUE", "--name=VALUE", flags, and repeatable lists. */
#define KT_LIST_MAX 16
typedef struct kt_list {
    const char *v[KT_LIST_MAX];
    size_t n;
} kt_list;
typedef struct kt_opt {
    const char *name; /* without the leading "--" */
    int kind;         /* KT_VALUE, KT_FLAG, KT_LIST */
    void *dst;        /* const char **, int *, kt_list * */
} kt_opt;
enum { KT_VALUE, KT_FLAG, KT_LIST };
/* Parse argv[0..argc) against opts; the rest go to pos (at most npos_max).
 * Returns KT_OK or KT_EUSAGE (reported, naming cmd). */
int kt_parse(const char *cmd, int argc, char **argv, const kt_opt *opts,
             size_t nopts, const char **pos, size_t npos_max, size_t *npos);
/* Unsigned decimal; 1 on success. */
int kt_u64(const char *text, uint64_t *v);

/* The passphrase options of one key. */
typedef struct kt_pass {
    const char *env, *fd;
    int prompt;
} kt_pass;

/* The public key of a key file (no passphrase needed), or of 64 hex
 * digits when allow_hex. Reports and returns an exit code. */
int kt_public(const char *arg, int allow_hex, uint8_t pk[SWLOG_PUBKEY_BYTES]);
/* Load a secret key, asking for its passphrase when it is sealed. */
int kt_secret(const char *path, const kt_pass *pass, keyfile_key **out);

/* Read the owner's own log into kf (a missing file is an empty feed only
 * when may_create), refuse a torn tail unless cut_torn. */
int kt_own_log(keyfeed *kf, const char *path,
               const uint8_t owner[SWLOG_PUBKEY_BYTES], int may_create,
               int cut_torn);
/* Add other logs' key frames to kf. */
int kt_context_logs(keyfeed *kf, const kt_list *logs);

/* The next frame's position in the owner's feed: kf->next with an HLC of
 * now, and never below the last frame's. */
void kt_head(const keyfeed *kf, swlog_head *h);
/* Append body to path, which kf described: refuses if the log changed
 * since (another writer). */
int kt_append(const char *path, const keyfeed *kf, const swlog_buf *body);

/* 64 hex digits of key into out (65 bytes). */
void kt_hex(const uint8_t key[SWLOG_PUBKEY_BYTES], char out[65]);

#endif
