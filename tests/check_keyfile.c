/* Key files (FORMAT §13): round trips, passphrases, tampering, hostile
 * Argon2id costs, file modes; and passphrase input from a descriptor. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"
#include "passphrase.h"

/* The cheapest costs the format allows: tests derive keys by the hundred. */
static const keyfile_kdf cheap = {KEYFILE_OPS_MIN, KEYFILE_MEM_MIN};
static const char pass[] = "correct horse battery staple";

static keyfile_key *make_key(void)
{
    keyfile_key *k = NULL;
    ck_assert_int_eq(keyfile_generate(&k, NULL), SWLOG_OK);
    return k;
}

static size_t encode(const keyfile_key *k, const keyfile_kdf *kdf,
                     uint8_t buf[KEYFILE_SEALED_BYTES])
{
    size_t len = 0;
    ck_assert_int_eq(keyfile_encode(k, kdf, pass, strlen(pass), buf, &len,
                                    NULL),
                     SWLOG_OK);
    return len;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static const char *path_in_tmp(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    return path;
}

START_TEST(round_trip_plain)
{
    keyfile_key *k = make_key(), *back = NULL;
    uint8_t buf[KEYFILE_SEALED_BYTES], pk[SWLOG_PUBKEY_BYTES];
    size_t len = encode(k, NULL, buf);
    ck_assert_uint_eq(len, KEYFILE_PLAIN_BYTES);
    ck_assert_mem_eq(buf, "\x89SWKEY\r\n\x00\x01\x01\x00", 12);
    int kind = 0;
    ck_assert_int_eq(keyfile_decode(buf, len, NULL, 0, &kind, pk, &back,
                                    NULL),
                     SWLOG_OK);
    ck_assert_int_eq(kind, KEYFILE_PLAIN);
    ck_assert_mem_eq(pk, k->pk, SWLOG_PUBKEY_BYTES);
    ck_assert_mem_eq(back->sk, k->sk, SWLOG_SECKEY_BYTES);
    ck_assert_mem_eq(back->pk, k->pk, SWLOG_PUBKEY_BYTES);
    keyfile_key_free(back);
    keyfile_key_free(k);
}
END_TEST

START_TEST(round_trip_sealed)
{
    keyfile_key *k = make_key(), *back = NULL;
    uint8_t buf[KEYFILE_SEALED_BYTES], pk[SWLOG_PUBKEY_BYTES];
    size_t len = encode(k, &cheap, buf);
    ck_assert_uint_eq(len, KEYFILE_SEALED_BYTES);
    ck_assert_uint_eq(buf[10], KEYFILE_SEALED);
    /* The seed never appears in the clear. */
    for (size_t i = 0; i + 8 <= len; i++)
        ck_assert(memcmp(buf + i, k->sk, 8) != 0);
    int kind = 0;
    ck_assert_int_eq(keyfile_decode(buf, len, pass, strlen(pass), &kind, pk,
                                    &back, NULL),
                     SWLOG_OK);
    ck_assert_int_eq(kind, KEYFILE_SEALED);
    ck_assert_mem_eq(back->sk, k->sk, SWLOG_SECKEY_BYTES);
    /* The public part reads without the passphrase. */
    memset(pk, 0, sizeof pk);
    ck_assert_int_eq(keyfile_decode(buf, len, NULL, 0, &kind, pk, NULL, NULL),
                     SWLOG_OK);
    ck_assert_mem_eq(pk, k->pk, SWLOG_PUBKEY_BYTES);
    keyfile_key_free(back);
    keyfile_key_free(k);
}
END_TEST

START_TEST(sealing_twice_differs)
{
    keyfile_key *k = make_key();
    uint8_t a[KEYFILE_SEALED_BYTES], b[KEYFILE_SEALED_BYTES];
    encode(k, &cheap, a);
    encode(k, &cheap, b);
    /* Fresh salt and nonce each time. */
    ck_assert(memcmp(a + 52, b + 52, 40) != 0);
    keyfile_key_free(k);
}
END_TEST

START_TEST(wrong_or_missing_passphrase)
{
    keyfile_key *k = make_key(), *back = NULL;
    uint8_t buf[KEYFILE_SEALED_BYTES];
    size_t len = encode(k, &cheap, buf);
    swlog_error err = {0};
    ck_assert_int_eq(keyfile_decode(buf, len, "wrong", 5, NULL, NULL, &back,
                                    &err),
                     KEYFILE_EPASS);
    ck_assert_ptr_null(back);
    ck_assert_ptr_nonnull(strstr(err.msg, "wrong passphrase"));
    ck_assert_ptr_null(strstr(err.msg, "wrong\""));
    swlog_error e2 = {0};
    ck_assert_int_eq(keyfile_decode(buf, len, NULL, 0, NULL, NULL, &back,
                                    &e2),
                     KEYFILE_ENOPASS);
    ck_assert_ptr_null(back);
    /* A prefix of the right passphrase is another passphrase. */
    ck_assert_int_eq(keyfile_decode(buf, len, pass, strlen(pass) - 1, NULL,
                                    NULL, &back, NULL),
                     KEYFILE_EPASS);
    keyfile_key_free(k);
}
END_TEST

/* Every byte flipped, in both kinds: refused, nothing returned. */
static void flip_every_byte(const keyfile_kdf *kdf)
{
    keyfile_key *k = make_key();
    uint8_t buf[KEYFILE_SEALED_BYTES];
    size_t len = encode(k, kdf, buf);
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0xff;
        keyfile_key *back = NULL;
        swlog_error err = {0};
        int rc = keyfile_decode(buf, len, pass, strlen(pass), NULL, NULL,
                                &back, &err);
        ck_assert_msg(rc != SWLOG_OK, "byte %zu flipped was accepted", i);
        ck_assert_int_eq(err.code, rc);
        ck_assert_ptr_null(back);
        ck_assert(err.offset <= len);
        buf[i] ^= 0xff;
    }
    keyfile_key *back = NULL;
    ck_assert_int_eq(keyfile_decode(buf, len, pass, strlen(pass), NULL, NULL,
                                    &back, NULL),
                     SWLOG_OK);
    keyfile_key_free(back);
    keyfile_key_free(k);
}

START_TEST(tampered_plain_refused)
{
    flip_every_byte(NULL);
}
END_TEST

START_TEST(tampered_sealed_refused)
{
    flip_every_byte(&cheap);
}
END_TEST

START_TEST(truncated_and_extended_refused)
{
    keyfile_key *k = make_key();
    for (int sealed = 0; sealed < 2; sealed++) {
        uint8_t buf[KEYFILE_SEALED_BYTES + 1];
        size_t len = encode(k, sealed ? &cheap : NULL, buf);
        for (size_t n = 0; n < len; n++) {
            swlog_error err = {0};
            int rc = keyfile_decode(buf, n, pass, strlen(pass), NULL, NULL,
                                    NULL, &err);
            ck_assert_int_eq(rc, SWLOG_ESHORT);
        }
        buf[len] = 0;
        swlog_error err = {0};
        ck_assert_int_eq(keyfile_decode(buf, len + 1, pass, strlen(pass),
                                        NULL, NULL, NULL, &err),
                         SWLOG_ENONCANON);
        ck_assert_uint_eq(err.offset, len);
    }
    keyfile_key_free(k);
}
END_TEST

START_TEST(header_fields_refused)
{
    keyfile_key *k = make_key();
    uint8_t buf[KEYFILE_SEALED_BYTES];
    size_t len = encode(k, NULL, buf);
    static const struct {
        size_t at;
        uint8_t value;
        int code;
    } cases[] = {
        {0, 0x88, SWLOG_EMAGIC},   {7, '\r', SWLOG_EMAGIC},
        {9, 2, SWLOG_EVERSION},    {8, 1, SWLOG_EVERSION},
        {10, 0, SWLOG_EINVAL},     {10, 3, SWLOG_EINVAL},
        {11, 1, SWLOG_ENONCANON}, {12, 0, SWLOG_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t t[KEYFILE_SEALED_BYTES];
        memcpy(t, buf, len);
        t[cases[i].at] = cases[i].value == t[cases[i].at]
                             ? (uint8_t)(cases[i].value + 1)
                             : cases[i].value;
        keyfile_key *back = NULL;
        swlog_error err = {0};
        ck_assert_int_eq(keyfile_decode(t, len, NULL, 0, NULL, NULL, &back,
                                        &err),
                         cases[i].code);
        ck_assert_ptr_null(back);
    }
    /* Kind 2 on a plain-sized file is short; kind 1 on a sealed one long. */
    uint8_t t[KEYFILE_SEALED_BYTES];
    memcpy(t, buf, len);
    t[10] = KEYFILE_SEALED;
    ck_assert_int_eq(keyfile_decode(t, len, pass, strlen(pass), NULL, NULL,
                                    NULL, NULL),
                     SWLOG_ESHORT);
    keyfile_key_free(k);
}
END_TEST

/* FORMAT §13.2: costs outside the bounds are refused before Argon2id runs,
 * so a hostile file cannot make us allocate gigabytes or spin for hours. */
START_TEST(hostile_argon2_costs_refused)
{
    keyfile_key *k = make_key();
    uint8_t buf[KEYFILE_SEALED_BYTES];
    size_t len = encode(k, &cheap, buf);
    static const struct {
        uint32_t ops, mem;
        int code;
        uint64_t at;
    } cases[] = {
        {0, KEYFILE_MEM_MIN, SWLOG_EBOUNDS, 44},
        {KEYFILE_OPS_MAX + 1, KEYFILE_MEM_MIN, SWLOG_EBOUNDS, 44},
        {0xffffffffu, KEYFILE_MEM_MIN, SWLOG_EBOUNDS, 44},
        {1, 0, SWLOG_EBOUNDS, 48},
        {1, KEYFILE_MEM_MIN - 1024, SWLOG_EBOUNDS, 48},
        {1, KEYFILE_MEM_MAX + 1024, SWLOG_EBOUNDS, 48},
        {1, 0xfffffc00u, SWLOG_EBOUNDS, 48},
        {1, KEYFILE_MEM_MIN + 1, SWLOG_ENONCANON, 48},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t t[KEYFILE_SEALED_BYTES];
        memcpy(t, buf, len);
        put32(t + 44, cases[i].ops);
        put32(t + 48, cases[i].mem);
        swlog_error err = {0};
        ck_assert_int_eq(keyfile_decode(t, len, pass, strlen(pass), NULL,
                                        NULL, NULL, &err),
                         cases[i].code);
        ck_assert_uint_eq(err.offset, cases[i].at);
        /* The public part is refused too: the file is not well formed. */
        ck_assert_int_eq(keyfile_decode(t, len, NULL, 0, NULL, NULL, NULL,
                                        NULL),
                         cases[i].code);
    }
    /* The encoder keeps to the same bounds. */
    keyfile_kdf big = {1, KEYFILE_MEM_MAX + 1024};
    size_t n;
    ck_assert_int_eq(keyfile_encode(k, &big, pass, strlen(pass), buf, &n,
                                    NULL),
                     SWLOG_EBOUNDS);
    keyfile_kdf many = {KEYFILE_OPS_MAX + 1, KEYFILE_MEM_MIN};
    ck_assert_int_eq(keyfile_encode(k, &many, pass, strlen(pass), buf, &n,
                                    NULL),
                     SWLOG_EBOUNDS);
    ck_assert_int_eq(keyfile_encode(k, &cheap, "", 0, buf, &n, NULL),
                     SWLOG_EARG);
    keyfile_key_free(k);
}
END_TEST

START_TEST(kdf_levels)
{
    keyfile_kdf kdf;
    const char *names[] = {"interactive", "moderate", "sensitive"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(keyfile_kdf_level(names[i], &kdf), 1);
        ck_assert(kdf.opslimit >= KEYFILE_OPS_MIN &&
                  kdf.opslimit <= KEYFILE_OPS_MAX);
        ck_assert(kdf.memlimit >= KEYFILE_MEM_MIN &&
                  kdf.memlimit <= KEYFILE_MEM_MAX);
    }
    ck_assert_int_eq(keyfile_kdf_level("extreme", &kdf), 0);
}
END_TEST

START_TEST(save_load_and_modes)
{
    keyfile_key *k = make_key(), *back = NULL;
    const char *path = path_in_tmp("a.key");
    mode_t old = umask(0); /* the file is 0600 whatever the umask says */
    ck_assert_int_eq(keyfile_save(path, k, &cheap, pass, strlen(pass), NULL),
                     SWLOG_OK);
    umask(old);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(keyfile_load(path, pass, strlen(pass), NULL, NULL, &back,
                                  NULL),
                     SWLOG_OK);
    ck_assert_mem_eq(back->sk, k->sk, SWLOG_SECKEY_BYTES);
    keyfile_key_free(back);
    back = NULL;
    /* Never overwritten. */
    swlog_error err = {0};
    ck_assert_int_eq(keyfile_save(path, k, NULL, NULL, 0, &err),
                     KEYFILE_EEXIST);
    /* Group or others may not even read it. */
    static const mode_t bad[] = {0644, 0640, 0604, 0660, 0602, 0620, 0700 | 04};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(chmod(path, bad[i]), 0);
        swlog_error e = {0};
        uint8_t pk[SWLOG_PUBKEY_BYTES];
        ck_assert_int_eq(keyfile_load(path, pass, strlen(pass), NULL, pk,
                                      &back, &e),
                         KEYFILE_EPERM);
        ck_assert_ptr_null(back);
        ck_assert_ptr_nonnull(strstr(e.msg, "chmod 600"));
    }
    ck_assert_int_eq(chmod(path, 0400), 0);
    ck_assert_int_eq(keyfile_load(path, NULL, 0, NULL, NULL, NULL, NULL),
                     SWLOG_OK);
    keyfile_key_free(k);
}
END_TEST

START_TEST(symlinks_and_odd_files_refused)
{
    keyfile_key *k = make_key();
    const char *p = path_in_tmp("real.key");
    char real[512], link_path[512];
    snprintf(real, sizeof real, "%s", p);
    snprintf(link_path, sizeof link_path, "%s/link.key", test_tmpdir());
    ck_assert_int_eq(keyfile_save(real, k, NULL, NULL, 0, NULL), SWLOG_OK);
    ck_assert_int_eq(symlink(real, link_path), 0);
    swlog_error err = {0};
    ck_assert_int_eq(keyfile_load(link_path, NULL, 0, NULL, NULL, NULL, &err),
                     SWLOG_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "symbolic link"));
    /* Saving through a dangling link never writes where it points. */
    char dangling[512], target[512];
    snprintf(dangling, sizeof dangling, "%s/dangling.key", test_tmpdir());
    snprintf(target, sizeof target, "%s/target.key", test_tmpdir());
    ck_assert_int_eq(symlink(target, dangling), 0);
    ck_assert_int_eq(keyfile_save(dangling, k, NULL, NULL, 0, NULL),
                     KEYFILE_EEXIST);
    ck_assert_int_eq(access(target, F_OK), -1);
    /* A directory, and a missing file. */
    ck_assert_int_eq(keyfile_load(test_tmpdir(), NULL, 0, NULL, NULL, NULL,
                                  NULL),
                     SWLOG_EIO);
    ck_assert_int_eq(keyfile_load(path_in_tmp("none.key"), NULL, 0, NULL,
                                  NULL, NULL, NULL),
                     SWLOG_EIO);
    /* A large file is refused unread. */
    const char *big = path_in_tmp("big.key");
    FILE *f = fopen(big, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 5000; i++)
        fputc(0, f);
    fclose(f);
    chmod(big, 0600);
    ck_assert_int_eq(keyfile_load(big, NULL, 0, NULL, NULL, NULL, NULL),
                     SWLOG_EBOUNDS);
    keyfile_key_free(k);
}
END_TEST

START_TEST(passphrase_lines_from_a_descriptor)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    const char text[] = "first one\nsecond\r\n\n";
    ck_assert_int_eq(write(fds[1], text, sizeof text - 1),
                     (ssize_t)(sizeof text - 1));
    close(fds[1]);
    passphrase_src src = {NULL, fds[0]};
    char *p = NULL;
    size_t n = 0;
    ck_assert_int_eq(passphrase_get(&src, "x", 0, &p, &n, NULL), SWLOG_OK);
    ck_assert_str_eq(p, "first one");
    ck_assert_uint_eq(n, 9);
    passphrase_free(p);
    ck_assert_int_eq(passphrase_get(&src, "x", 0, &p, &n, NULL), SWLOG_OK);
    ck_assert_str_eq(p, "second");
    passphrase_free(p);
    /* An empty line, then the end: both refused. */
    ck_assert_int_eq(passphrase_get(&src, "x", 0, &p, &n, NULL), SWLOG_EARG);
    ck_assert_int_eq(passphrase_get(&src, "x", 0, &p, &n, NULL), SWLOG_EARG);
    close(fds[0]);
}
END_TEST

START_TEST(passphrase_from_environment)
{
    passphrase_src src = {"SWSYNC_TEST_PASS", -1};
    char *p = NULL;
    size_t n = 0;
    unsetenv("SWSYNC_TEST_PASS");
    swlog_error err = {0};
    ck_assert_int_eq(passphrase_get(&src, "x", 0, &p, &n, &err), SWLOG_EARG);
    /* The option's value is not echoed: it may be a passphrase typed in
     * the wrong place. */
    ck_assert_ptr_nonnull(strstr(err.msg, "--passphrase-env"));
    ck_assert_ptr_null(strstr(err.msg, "SWSYNC_TEST_PASS"));
    setenv("SWSYNC_TEST_PASS", "s3cret", 1);
    ck_assert_int_eq(passphrase_get(&src, "x", 0, &p, &n, NULL), SWLOG_OK);
    ck_assert_str_eq(p, "s3cret");
    passphrase_free(p);
    char *big = malloc(KEYFILE_PASS_MAX + 2);
    memset(big, 'a', KEYFILE_PASS_MAX + 1);
    big[KEYFILE_PASS_MAX + 1] = '\0';
    setenv("SWSYNC_TEST_PASS", big, 1);
    ck_assert_int_eq(passphrase_get(&src, "x", 0, &p, &n, NULL), SWLOG_EARG);
    free(big);
}
END_TEST

static Suite *keyfile_suite(void)
{
    Suite *s = suite_create("keyfile");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, round_trip_plain);
    tcase_add_test(tc, round_trip_sealed);
    tcase_add_test(tc, sealing_twice_differs);
    tcase_add_test(tc, wrong_or_missing_passphrase);
    tcase_add_test(tc, tampered_plain_refused);
    tcase_add_test(tc, tampered_sealed_refused);
    tcase_add_test(tc, truncated_and_extended_refused);
    tcase_add_test(tc, header_fields_refused);
    tcase_add_test(tc, hostile_argon2_costs_refused);
    tcase_add_test(tc, kdf_levels);
    suite_add_tcase(s, tc);
    TCase *io = tcase_create("files");
    tcase_add_test(io, save_load_and_modes);
    tcase_add_test(io, symlinks_and_odd_files_refused);
    tcase_add_test(io, passphrase_lines_from_a_descriptor);
    tcase_add_test(io, passphrase_from_environment);
    suite_add_tcase(s, io);
    return s;
}

int main(void)
{
    return check_run(keyfile_suite());
}
