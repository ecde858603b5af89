/* Shared helpers for the Check suites: running a suite, test keys, hex, and
 * reading spec/vectors/vectors.txt. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

/* main() of every suite: swlog_init, run, exit status from failures. */
int check_run(Suite *s);

/* Test key i of FORMAT §12: seed = SHA-256("swsync test key " || i). */
void test_key(unsigned i, uint8_t pk[SWLOG_PUBKEY_BYTES],
              uint8_t sk[SWLOG_SECKEY_BYTES]);

/* Decode lowercase hex into a malloc'd buffer; returns NULL on bad hex. */
uint8_t *hex_decode(const char *hex, size_t *len);

/* Path of a file in the source tree (static buffer, for tests only). */
const char *source_path(const char *rel);

/* A temporary directory made for this process; removed by nobody (CTest
 * runs in the build tree and these are small). */
const char *test_tmpdir(void);

/* spec/vectors/vectors.txt: blocks of "key value" lines (FORMAT §12.1). */
typedef struct vec {
    char name[128];
    char kind[32];
    int expect;            /* swlog_code */
    long long expect_at;   /* -1 when no @OFFSET */
    size_t nfields;
    char **keys;
    char **values;         /* repeated keys (desc) keep their order */
} vec;

/* Load (once) and return the vectors of one kind, in file order. */
size_t vec_count(const char *kind);
const vec *vec_get(const char *kind, size_t i);
const vec *vec_by_name(const char *name);
/* First value of key, or NULL. */
const char *vec_field(const vec *v, const char *key);

#endif
