/* Ledger export and the walk of leaves: ledger.h. */
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The feed file read last: leaves of one feed come in runs. */
typedef struct feed_file {
    uint8_t key[SWLOG_PUBKEY_BYTES];
    int fd;
    uint8_t salt[SWLOG_SALT_BYTES];
    char path[1200];
} feed_file;

static int feed_open(feed_file *ff, const char *data, const uint8_t *key,
                     swlog_error *err)
{
    if (ff->fd >= 0 && memcmp(ff->key, key, SWLOG_PUBKEY_BYTES) == 0)
        return SWLOG_OK;
    if (ff->fd >= 0)
        close(ff->fd);
    char hex[2 * SWLOG_PUBKEY_BYTES + 1];
    swlog_hex(key, SWLOG_PUBKEY_BYTES, hex);
    snprintf(ff->path, sizeof ff->path, "%s/feeds/%s.log", data, hex);
    memcpy(ff->key, key, SWLOG_PUBKEY_BYTES);
    ff->fd = open(ff->path, O_RDONLY | O_CLOEXEC);
    if (ff->fd < 0)
        return swlog_fail(err, SWLOG_EIO, 0, "%s: %s (hub.db names it)",
                          ff->path, strerror(errno));
    uint8_t hdr[SWLOG_FILE_HEADER_BYTES];
    if (pread(ff->fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
        swlog_file_header_decode(hdr, sizeof hdr, ff->salt, err) != SWLOG_OK) {
        close(ff->fd);
        ff->fd = -1;
        return swlog_fail(err, SWLOG_ECORRUPT, 0, "%s: no valid file header",
                          ff->path);
    }
    return SWLOG_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Read the frame at off into buf (SWLOG_MAX_BODY + envelope), check its
 * envelope and that it is (key, seq, id); *body, *len point into buf. */
static int frame_at(feed_file *ff, uint64_t off, uint64_t seq,
                    const uint8_t *id, uint8_t *buf, const uint8_t **body,
                    size_t *len, swlog_error *err)
{
    uint8_t *head = buf;
    if (pread(ff->fd, head, 8, (off_t)off) != 8)
        return swlog_fail(err, SWLOG_ECORRUPT, off, "%s: no frame at offset "
                          "%llu (seq %llu)", ff->path,
                          (unsigned long long)off, (unsigned long long)seq);
    uint32_t n = be32(head + 4);
    if (n == 0 || n > SWLOG_MAX_BODY ||
        pread(ff->fd, buf + 8, (size_t)n + 4, (off_t)off + 8) !=
            (ssize_t)n + 4)
        return swlog_fail(err, SWLOG_ECORRUPT, off, "%s: frame at offset %llu "
                          "is cut short or too long", ff->path,
                          (unsigned long long)off);
    uint8_t h2[SWLOG_ENVELOPE_HEAD_BYTES], crc[4];
    if (swlog_envelope_encode(ff->salt, buf + 8, n, h2, crc) != SWLOG_OK ||
        memcmp(h2, head, sizeof h2) != 0 || memcmp(crc, buf + 8 + n, 4) != 0)
        return swlog_fail(err, SWLOG_ECORRUPT, off, "%s: frame at offset %llu "
                          "fails its envelope check", ff->path,
                          (unsigned long long)off);
    swlog_frame f;
    swlog_error ferr = {0};
    if (swlog_frame_decode(buf + 8, n, SWLOG_DECODE_NO_SIG, &f, &ferr) !=
            SWLOG_OK ||
        memcmp(f.signer, ff->key, SWLOG_PUBKEY_BYTES) != 0 || f.seq != seq ||
        memcmp(f.id, id, SWLOG_HASH_BYTES) != 0)
        return swlog_fail(err, SWLOG_ECORRUPT, off, "%s: the frame at offset "
                          "%llu is not the one hub.db records (seq %llu)",
                          ff->path, (unsigned long long)off,
                          (unsigned long long)seq);
    *body = buf + 8;
    *len = n;
    return SWLOG_OK;
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

/* Output with a 64 KiB buffer; fsynced at the end. */
typedef struct out_file {
    int fd;
    uint8_t salt[SWLOG_SALT_BYTES];
    uint8_t buf[65536];
    size_t n;
    int failed;
} out_file;

static void out_put(out_file *o, const uint8_t *p, size_t n)
{
    if (o->failed)
        return;
    if (o->n + n > sizeof o->buf) {
        if (write_all(o->fd, o->buf, o->n) != 0)
            o->failed = errno ? errno : EIO;
        o->n = 0;
    }
    if (n > sizeof o->buf) {
        if (!o->failed && write_all(o->fd, p, n) != 0)
            o->failed = errno ? errno : EIO;
        return;
    }
    memcpy(o->buf + o->n, p, n);
    o->n += n;
}

/* Every leaf from `from` on, in order, its body checked against hub.db,
 * to fn (which stops the walk with a nonzero return, passed back); *n
 * gets the number of leaves walked. */
static int each_leaf(sqlite3 *db, const char *data, uint64_t from,
                     ledger_leaf_fn fn, void *ctx, uint64_t *walked,
                     swlog_error *err)
{
    sqlite3_stmt *st;
    /* Leaves are pushed frames (in feed files) and frames the hub
     * authored (hub_outbound, body in hub.db); a hub.db older than
     * authoring has only the first. */
    if (sqlite3_prepare_v2(db, "SELECT key, seq, id, leaf, offset, NULL "
                           "FROM frame WHERE leaf >= ?1 UNION ALL SELECT "
                           "signer, seq, id, leaf, 0, body FROM hub_outbound "
                           "WHERE leaf >= ?1 ORDER BY 4",
                           -1, &st, NULL) != SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT key, seq, id, leaf, offset, NULL "
                           "FROM frame WHERE leaf >= ?1 ORDER BY leaf", -1,
                           &st, NULL) != SQLITE_OK)
        return swlog_fail(err, SWLOG_EIO, 0, "%s/hub.db: %s", data,
                          sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
    uint8_t *buf = malloc((size_t)SWLOG_MAX_BODY + 12);
    feed_file ff = {.fd = -1};
    int rc = buf ? SWLOG_OK : swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    uint64_t n = from;
    int s = SQLITE_DONE;
    while (rc == SWLOG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *key = sqlite3_column_blob(st, 0);
        const uint8_t *id = sqlite3_column_blob(st, 2);
        if (key == NULL || sqlite3_column_bytes(st, 0) != SWLOG_PUBKEY_BYTES ||
            id == NULL || sqlite3_column_bytes(st, 2) != SWLOG_HASH_BYTES ||
            (uint64_t)sqlite3_column_int64(st, 3) != n) {
            rc = swlog_fail(err, SWLOG_ECORRUPT, 0, "%s/hub.db: leaf %llu is "
                            "missing or malformed", data,
                            (unsigned long long)n);
            break;
        }
        const uint8_t *body = NULL;
        size_t len = 0;
        if (sqlite3_column_type(st, 5) == SQLITE_BLOB) {
            swlog_frame f;
            body = sqlite3_column_blob(st, 5);
            len = (size_t)sqlite3_column_bytes(st, 5);
            if (swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &f,
                                   NULL) != SWLOG_OK ||
                memcmp(f.id, id, SWLOG_HASH_BYTES) != 0) {
                rc = swlog_fail(err, SWLOG_ECORRUPT, 0, "%s/hub.db: the "
                                "authored frame of leaf %llu is damaged",
                                data, (unsigned long long)n);
                break;
            }
        } else {
            rc = feed_open(&ff, data, key, err);
        }
        if (rc == SWLOG_OK && body == NULL)
            rc = frame_at(&ff, (uint64_t)sqlite3_column_int64(st, 4),
                          (uint64_t)sqlite3_column_int64(st, 1), id, buf,
                          &body, &len, err);
        if (rc != SWLOG_OK)
            break;
        rc = fn(ctx, n, body, len, err);
        n++;
    }
    if (rc == SWLOG_OK && s != SQLITE_DONE)
        rc = swlog_fail(err, SWLOG_EIO, 0, "%s/hub.db: %s", data,
                        sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (ff.fd >= 0)
        close(ff.fd);
    free(buf);
    *walked = n - from;
    return rc;
}

/* Open hub.db of data read-only, with one read transaction. */
static int open_store(const char *data, sqlite3 **out, swlog_error *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/hub.db", data);
    sqlite3 *db = NULL;
    if (access(path, R_OK) != 0)
        return swlog_fail(err, SWLOG_EIO, 0, "%s: %s (is %s a hub's data "
                          "folder?)", path, strerror(errno), data);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int rc = swlog_fail(err, SWLOG_EIO, 0, "%s: %s", path,
                            db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 5000);
    /* One read transaction: the leaves of one committed state. */
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = swlog_fail(err, SWLOG_EIO, 0, "%s: %s", path,
                            sqlite3_errmsg(db));
        sqlite3_close(db);
        return rc;
    }
    *out = db;
    return SWLOG_OK;
}

static void close_store(sqlite3 *db)
{
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
}

int ledger_leaves(const char *data, uint64_t from, ledger_leaf_fn fn,
                  void *ctx, uint64_t *walked, swlog_error *err)
{
    sqlite3 *db = NULL;
    *walked = 0;
    int rc = open_store(data, &db, err);
    if (rc != SWLOG_OK)
        return rc;
    rc = each_leaf(db, data, from, fn, ctx, walked, err);
    close_store(db);
    return rc;
}

static int export_leaf(void *ctx, uint64_t leaf, const uint8_t *body,
                       size_t len, swlog_error *err)
{
    out_file *o = ctx;
    (void)leaf;
    (void)err;
    uint8_t head[SWLOG_ENVELOPE_HEAD_BYTES], crc[4];
    swlog_envelope_encode(o->salt, body, len, head, crc);
    out_put(o, head, sizeof head);
    out_put(o, body, len);
    out_put(o, crc, sizeof crc);
    return SWLOG_OK;
}

int ledger_export(const char *data, const char *out, uint64_t *leaves,
                  swlog_error *err)
{
    *leaves = 0;
    char tmp[1200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", out) >= (int)sizeof tmp)
        return swlog_fail(err, SWLOG_EINVAL, 0, "%s: path too long", out);
    sqlite3 *db = NULL;
    int rc = open_store(data, &db, err);
    if (rc != SWLOG_OK)
        return rc;
    out_file *o = calloc(1, sizeof *o);
    if (o == NULL) {
        close_store(db);
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    }
    o->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o->fd < 0) {
        rc = swlog_fail(err, SWLOG_EIO, 0, "%s: %s", tmp, strerror(errno));
    } else {
        uint8_t hdr[SWLOG_FILE_HEADER_BYTES];
        swlog_random(o->salt, sizeof o->salt);
        swlog_file_header_encode(o->salt, hdr);
        out_put(o, hdr, sizeof hdr);
        rc = each_leaf(db, data, 0, export_leaf, o, leaves, err);
        if (rc == SWLOG_OK && !o->failed && o->n > 0 &&
            write_all(o->fd, o->buf, o->n) != 0)
            o->failed = errno ? errno : EIO;
        if (rc == SWLOG_OK && !o->failed && fsync(o->fd) != 0)
            o->failed = errno;
        if (close(o->fd) != 0 && rc == SWLOG_OK && !o->failed)
            o->failed = errno;
        if (rc == SWLOG_OK && o->failed)
            rc = swlog_fail(err, SWLOG_EIO, 0, "%s: %s", tmp,
                            strerror(o->failed));
        if (rc == SWLOG_OK && rename(tmp, out) != 0)
            rc = swlog_fail(err, SWLOG_EIO, 0, "rename %s to %s: %s", tmp, out,
                            strerror(errno));
        if (rc != SWLOG_OK)
            unlink(tmp);
        else {
            char dir[1200];
            snprintf(dir, sizeof dir, "%s", out);
            int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
        }
    }
    free(o);
    close_store(db);
    return rc;
}
