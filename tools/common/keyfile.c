/* Secret key files: encoding, sealing and safe storage, FORMAT §13. */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

_Static_assert(KEYFILE_SALT_BYTES == crypto_pwhash_argon2id_SALTBYTES,
               "FORMAT §13.2");
_Static_assert(KEYFILE_NONCE_BYTES == crypto_secretbox_NONCEBYTES,
               "FORMAT §13.2");
_Static_assert(KEYFILE_MAC_BYTES == crypto_secretbox_MACBYTES, "FORMAT §13.2");
_Static_assert(crypto_secretbox_KEYBYTES == 32, "FORMAT §13.2");
_Static_assert(KEYFILE_OPS_MIN >= crypto_pwhash_argon2id_OPSLIMIT_MIN,
               "FORMAT §13.2");
_Static_assert(KEYFILE_MEM_MIN >= crypto_pwhash_argon2id_MEMLIMIT_MIN,
               "FORMAT §13.2");

/* FORMAT §13.1 offsets. */
enum {
    AT_VERSION = 8,
    AT_KIND = 10,
    AT_RESERVED = 11,
    AT_PK = 12,
    AT_SEED = 44, /* plain */
    AT_OPS = 44,  /* sealed */
    AT_MEM = 48,
    AT_SALT = 52,
    AT_NONCE = 68,
    AT_BOX = 92,
    BOX_BYTES = SWLOG_SEED_BYTES + KEYFILE_MAC_BYTES
};
_Static_assert(AT_BOX + BOX_BYTES == KEYFILE_SEALED_BYTES, "FORMAT §13.1");
_Static_assert(AT_SEED + SWLOG_SEED_BYTES == KEYFILE_PLAIN_BYTES,
               "FORMAT §13.1");

/* The largest file we read: anything longer is refused unread. */
#define READ_MAX 4096

static int fail_sys(swlog_error *err, const char *what, int e)
{
    return swlog_fail(err, SWLOG_EIO, 0, "%s: %s", what, strerror(e));
}

const char *keyfile_code_name(int code)
{
    switch (code) {
    case KEYFILE_EPASS:
        return "KEYFILE_EPASS";
    case KEYFILE_EPERM:
        return "KEYFILE_EPERM";
    case KEYFILE_EEXIST:
        return "KEYFILE_EEXIST";
    case KEYFILE_ENOPASS:
        return "KEYFILE_ENOPASS";
    default:
        return swlog_code_name(code);
    }
}

int keyfile_kdf_level(const char *name, keyfile_kdf *out)
{
    static const struct {
        const char *name;
        uint32_t ops, mem;
    } levels[] = {
        {"interactive", crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
         crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE},
        {"moderate", crypto_pwhash_argon2id_OPSLIMIT_MODERATE,
         crypto_pwhash_argon2id_MEMLIMIT_MODERATE},
        {"sensitive", crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE,
         crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE},
    };
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(name, levels[i].name) == 0) {
            out->opslimit = levels[i].ops;
            out->memlimit = levels[i].mem;
            return 1;
        }
    return 0;
}

keyfile_key *keyfile_key_new(void)
{
    keyfile_key *k = sodium_malloc(sizeof *k);
    if (k != NULL)
        sodium_memzero(k, sizeof *k);
    return k;
}

void keyfile_key_free(keyfile_key *k)
{
    sodium_free(k); /* wipes, unlocks, unmaps; NULL is fine */
}

int keyfile_generate(keyfile_key **out, swlog_error *err)
{
    keyfile_key *k = keyfile_key_new();
    if (k == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "no locked memory for a key");
    crypto_sign_keypair(k->pk, k->sk);
    *out = k;
    return SWLOG_OK;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static int kdf_check(uint32_t ops, uint32_t mem, swlog_error *err)
{
    if (ops < KEYFILE_OPS_MIN || ops > KEYFILE_OPS_MAX)
        return swlog_fail(err, SWLOG_EBOUNDS, AT_OPS,
                    "Argon2id opslimit %" PRIu32 ", allowed %u..%u", ops,
                    KEYFILE_OPS_MIN, KEYFILE_OPS_MAX);
    if (mem < KEYFILE_MEM_MIN || mem > KEYFILE_MEM_MAX)
        return swlog_fail(err, SWLOG_EBOUNDS, AT_MEM,
                    "Argon2id memlimit %" PRIu32 " bytes, allowed %u..%u",
                    mem, KEYFILE_MEM_MIN, KEYFILE_MEM_MAX);
    if (mem % 1024 != 0)
        return swlog_fail(err, SWLOG_ENONCANON, AT_MEM,
                    "Argon2id memlimit %" PRIu32 " is not a multiple of 1024",
                    mem);
    return SWLOG_OK;
}

/* Argon2id of the passphrase into a locked 32-byte secretbox key. */
static int derive(const char *pass, size_t pass_len, const uint8_t *salt,
                  uint32_t ops, uint32_t mem, uint8_t **key, swlog_error *err)
{
    uint8_t *k = sodium_malloc(crypto_secretbox_KEYBYTES);
    if (k == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "no locked memory for a key");
    if (crypto_pwhash(k, crypto_secretbox_KEYBYTES, pass, pass_len, salt, ops,
                      mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_free(k);
        return swlog_fail(err, SWLOG_ENOMEM, AT_MEM,
                    "Argon2id could not get %" PRIu32 " bytes of memory",
                    mem);
    }
    *key = k;
    return SWLOG_OK;
}

int keyfile_encode(const keyfile_key *k, const keyfile_kdf *kdf,
                   const char *pass, size_t pass_len, uint8_t *buf,
                   size_t *len, swlog_error *err)
{
    if (k == NULL || buf == NULL || len == NULL)
        return swlog_fail(err, SWLOG_EARG, 0, "keyfile_encode: NULL argument");
    if (kdf != NULL) {
        if (pass == NULL || pass_len == 0 || pass_len > KEYFILE_PASS_MAX)
            return swlog_fail(err, SWLOG_EARG, 0,
                        "a passphrase must have 1..%u bytes",
                        KEYFILE_PASS_MAX);
        int rc = kdf_check(kdf->opslimit, kdf->memlimit, err);
        if (rc != SWLOG_OK)
            return rc;
    }
    memcpy(buf, KEYFILE_MAGIC, KEYFILE_MAGIC_BYTES);
    buf[AT_VERSION] = 0;
    buf[AT_VERSION + 1] = KEYFILE_VERSION;
    buf[AT_KIND] = kdf != NULL ? KEYFILE_SEALED : KEYFILE_PLAIN;
    buf[AT_RESERVED] = 0;
    memcpy(buf + AT_PK, k->pk, SWLOG_PUBKEY_BYTES);
    if (kdf == NULL) {
        memcpy(buf + AT_SEED, k->sk, SWLOG_SEED_BYTES);
        *len = KEYFILE_PLAIN_BYTES;
        return SWLOG_OK;
    }
    put32(buf + AT_OPS, kdf->opslimit);
    put32(buf + AT_MEM, kdf->memlimit);
    randombytes_buf(buf + AT_SALT, KEYFILE_SALT_BYTES);
    randombytes_buf(buf + AT_NONCE, KEYFILE_NONCE_BYTES);
    uint8_t *key = NULL;
    int rc = derive(pass, pass_len, buf + AT_SALT, kdf->opslimit,
                    kdf->memlimit, &key, err);
    if (rc != SWLOG_OK)
        return rc;
    crypto_secretbox_easy(buf + AT_BOX, k->sk, SWLOG_SEED_BYTES,
                          buf + AT_NONCE, key);
    sodium_free(key);
    *len = KEYFILE_SEALED_BYTES;
    return SWLOG_OK;
}

/* FORMAT §13.3: the fixed fields, in order. */
static int decode_head(const uint8_t *buf, size_t len, int *kind,
                       swlog_error *err)
{
    if (len < KEYFILE_MAGIC_BYTES)
        return swlog_fail(err, SWLOG_ESHORT, 0, "%zu bytes: too short for a key "
                                          "file", len);
    if (memcmp(buf, KEYFILE_MAGIC, KEYFILE_MAGIC_BYTES) != 0)
        return swlog_fail(err, SWLOG_EMAGIC, 0, "not a swsync key file (bad magic)");
    if (len < AT_PK)
        return swlog_fail(err, SWLOG_ESHORT, 0, "%zu bytes: too short for a key "
                                          "file", len);
    unsigned version = (unsigned)buf[AT_VERSION] << 8 | buf[AT_VERSION + 1];
    if (version != KEYFILE_VERSION)
        return swlog_fail(err, SWLOG_EVERSION, AT_VERSION,
                    "key file version %u; this program reads version %d",
                    version, KEYFILE_VERSION);
    uint8_t k = buf[AT_KIND];
    if (k != KEYFILE_PLAIN && k != KEYFILE_SEALED)
        return swlog_fail(err, SWLOG_EINVAL, AT_KIND, "unknown key file kind %u",
                    (unsigned)k);
    if (buf[AT_RESERVED] != 0)
        return swlog_fail(err, SWLOG_ENONCANON, AT_RESERVED,
                    "reserved byte is not zero");
    size_t want = k == KEYFILE_PLAIN ? KEYFILE_PLAIN_BYTES
                                     : KEYFILE_SEALED_BYTES;
    if (len < want)
        return swlog_fail(err, SWLOG_ESHORT, 0,
                    "%zu bytes, a %s key file has %zu", len,
                    k == KEYFILE_PLAIN ? "plain" : "sealed", want);
    if (len > want)
        return swlog_fail(err, SWLOG_ENONCANON, want,
                    "%zu bytes after the end of the key", len - want);
    if (k == KEYFILE_SEALED) {
        int rc = kdf_check(get32(buf + AT_OPS), get32(buf + AT_MEM), err);
        if (rc != SWLOG_OK)
            return rc;
    }
    *kind = k;
    return SWLOG_OK;
}

/* The seed's own public key must be the one the file names. */
static int finish(const uint8_t *buf, const uint8_t *seed, keyfile_key *k,
                  swlog_error *err)
{
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    if (sodium_memcmp(k->pk, buf + AT_PK, SWLOG_PUBKEY_BYTES) != 0)
        return swlog_fail(err, SWLOG_EINVAL, AT_PK,
                    "the public key does not match the secret key: the file "
                    "is damaged");
    return SWLOG_OK;
}

int keyfile_decode(const uint8_t *buf, size_t len, const char *pass,
                   size_t pass_len, int *kind,
                   uint8_t pk[SWLOG_PUBKEY_BYTES], keyfile_key **out,
                   swlog_error *err)
{
    if (buf == NULL && len > 0)
        return swlog_fail(err, SWLOG_EARG, 0, "keyfile_decode: NULL argument");
    int k = 0;
    int rc = decode_head(buf, len, &k, err);
    if (rc != SWLOG_OK || out == NULL)
        goto done;
    if (k == KEYFILE_SEALED && (pass == NULL || pass_len == 0)) {
        rc = swlog_fail(err, KEYFILE_ENOPASS, 0,
                  "the key is sealed with a passphrase and none was given");
        goto done;
    }
    keyfile_key *key = keyfile_key_new();
    uint8_t *seed = sodium_malloc(SWLOG_SEED_BYTES);
    uint8_t *box_key = NULL;
    if (key == NULL || seed == NULL) {
        rc = swlog_fail(err, SWLOG_ENOMEM, 0, "no locked memory for a key");
        goto unlock;
    }
    if (k == KEYFILE_PLAIN) {
        memcpy(seed, buf + AT_SEED, SWLOG_SEED_BYTES);
    } else {
        rc = derive(pass, pass_len, buf + AT_SALT, get32(buf + AT_OPS),
                    get32(buf + AT_MEM), &box_key, err);
        if (rc != SWLOG_OK)
            goto unlock;
        if (crypto_secretbox_open_easy(seed, buf + AT_BOX, BOX_BYTES,
                                       buf + AT_NONCE, box_key) != 0) {
            rc = swlog_fail(err, KEYFILE_EPASS, AT_BOX,
                      "wrong passphrase (or the sealed key is damaged)");
            goto unlock;
        }
    }
    rc = finish(buf, seed, key, err);
unlock:
    sodium_free(box_key);
    sodium_free(seed);
    if (rc == SWLOG_OK)
        *out = key;
    else
        keyfile_key_free(key);
done:
    if (rc == SWLOG_OK) {
        if (kind != NULL)
            *kind = k;
        if (pk != NULL)
            memcpy(pk, buf + AT_PK, SWLOG_PUBKEY_BYTES);
    }
    return rc;
}

/* fsync the directory holding path, so a rename or link in it is durable. */
static int fsync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 0 : (slash == path ? 1 : (size_t)(slash - path));
    if (n >= sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (n == 0)
        memcpy(dir, ".", 2);
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Create tmp 0600, write, fsync; never follows a link or reuses a file. */
static int write_tmp(const char *tmp, const uint8_t *p, size_t n, int *made,
                     swlog_error *err)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
    if (fd < 0)
        return fail_sys(err, "create a temporary file", errno);
    *made = 1;
    int rc = SWLOG_OK;
    if (fchmod(fd, 0600) != 0)
        rc = fail_sys(err, "chmod 600", errno);
    else if (write_all(fd, p, n) != 0)
        rc = fail_sys(err, "write", errno);
    else if (fsync(fd) != 0)
        rc = fail_sys(err, "fsync", errno);
    if (close(fd) != 0 && rc == SWLOG_OK)
        rc = fail_sys(err, "close", errno);
    return rc;
}

/* Move tmp to path without replacing an existing path. link() does that
 * atomically; file systems without hard links get a check then rename. */
static int install(const char *tmp, const char *path, swlog_error *err)
{
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return SWLOG_OK;
    }
    int e = errno;
    struct stat st;
    if (e == EEXIST || lstat(path, &st) == 0)
        return swlog_fail(err, KEYFILE_EEXIST, 0,
                    "the file exists; a key file is never overwritten");
    if (e != EPERM && e != ENOTSUP && e != EOPNOTSUPP && e != EXDEV &&
        e != EMLINK)
        return fail_sys(err, "link into place", e);
    if (rename(tmp, path) != 0)
        return fail_sys(err, "rename into place", errno);
    return SWLOG_OK;
}

int keyfile_save(const char *path, const keyfile_key *k,
                 const keyfile_kdf *kdf, const char *pass, size_t pass_len,
                 swlog_error *err)
{
    if (path == NULL || k == NULL)
        return swlog_fail(err, SWLOG_EARG, 0, "keyfile_save: NULL argument");
    char tmp[4096];
    uint8_t rnd[4];
    randombytes_buf(rnd, sizeof rnd);
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-%02x%02x%02x%02x", path, rnd[0],
                     rnd[1], rnd[2], rnd[3]);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return swlog_fail(err, SWLOG_EARG, 0, "path too long");
    uint8_t *buf = sodium_malloc(KEYFILE_SEALED_BYTES);
    if (buf == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "no locked memory for a key file");
    size_t len = 0;
    int made = 0;
    int rc = keyfile_encode(k, kdf, pass, pass_len, buf, &len, err);
    if (rc == SWLOG_OK)
        rc = write_tmp(tmp, buf, len, &made, err);
    sodium_free(buf);
    if (rc == SWLOG_OK)
        rc = install(tmp, path, err);
    if (rc != SWLOG_OK && made)
        unlink(tmp); /* a half-written key never stays behind */
    if (rc == SWLOG_OK && fsync_dir(path) != 0)
        rc = fail_sys(err, "fsync the directory", errno);
    return rc;
}

int keyfile_load(const char *path, const char *pass, size_t pass_len,
                 int *kind, uint8_t pk[SWLOG_PUBKEY_BYTES], keyfile_key **out,
                 swlog_error *err)
{
    if (path == NULL)
        return swlog_fail(err, SWLOG_EARG, 0, "keyfile_load: NULL argument");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ELOOP)
        return swlog_fail(err, SWLOG_EIO, 0,
                    "is a symbolic link; give the key file's real path");
    if (fd < 0)
        return fail_sys(err, "open", errno);
    int rc = SWLOG_OK;
    uint8_t *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = fail_sys(err, "stat", errno);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = swlog_fail(err, SWLOG_EIO, 0, "not a regular file");
        goto done;
    }
    if ((st.st_mode & 077) != 0) {
        rc = swlog_fail(err, KEYFILE_EPERM, 0,
                  "mode %04o lets group or others access this secret key; "
                  "run: chmod 600 %s",
                  (unsigned)(st.st_mode & 07777), path);
        goto done;
    }
    if (st.st_size > READ_MAX) {
        rc = swlog_fail(err, SWLOG_EBOUNDS, 0,
                  "%lld bytes: far too large for a key file",
                  (long long)st.st_size);
        goto done;
    }
    buf = sodium_malloc(READ_MAX + 1);
    if (buf == NULL) {
        rc = swlog_fail(err, SWLOG_ENOMEM, 0, "no locked memory for a key file");
        goto done;
    }
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, READ_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = fail_sys(err, "read", errno);
            goto done;
        }
        if (r == 0 || (len += (size_t)r) > READ_MAX)
            break;
    }
    if (len > READ_MAX)
        rc = swlog_fail(err, SWLOG_EBOUNDS, 0, "far too large for a key file");
    else
        rc = keyfile_decode(buf, len, pass, pass_len, kind, pk, out, err);
done:
    sodium_free(buf);
    close(fd);
    return rc;
}
