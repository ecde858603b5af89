/* Log files: scanning envelopes, torn-tail recovery and durable appends:
 * FORMAT §3, §8.3 and §8.4. Frame bodies are not decoded here. */
#define _FILE_OFFSET_BITS 64
/* flock(2), a BSD interface glibc shows under _DEFAULT_SOURCE. */
#define _DEFAULT_SOURCE 1
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The most a read can need at once: one whole frame (FORMAT §3.2, §10). */
#define FRAME_MAX ((size_t)SWLOG_MAX_BODY + SWLOG_ENVELOPE_BYTES)
/* Reads fetch at least this much, so runs of small frames cost one pread. */
#define WINDOW_MIN ((size_t)65536)
/* The smallest frame: an envelope around a 1-byte body. */
#define FRAME_MIN ((uint64_t)SWLOG_ENVELOPE_BYTES + 1)

enum { AT_FRAMES, AT_END, AT_CORRUPT };

struct swlog_log {
    int fd;             /* -1 for a memory log */
    const uint8_t *mem; /* the bytes of a memory log */
    char *path;         /* for messages; "(memory)" for a memory log */
    int mode;
    uint64_t size; /* file size at open, then as our appends left it */
    uint8_t salt[SWLOG_SALT_BYTES];
    uint64_t pos; /* offset of the next frame to read */
    uint64_t end; /* just past the last whole frame */
    uint64_t torn;
    int state;
    swlog_error corrupt; /* repeated by every swlog_log_next after damage */
    int broken;          /* a failed append could not be undone */
    uint8_t *win; /* read window: file bytes [win_off, win_off+win_len) */
    size_t win_cap, win_len;
    uint64_t win_off;
};

static uint16_t load16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static int fail_sys(swlog_error *err, const swlog_log *log, uint64_t off,
                    const char *what, int e)
{
    char text[80];
    if (strerror_r(e, text, sizeof text) != 0)
        snprintf(text, sizeof text, "error %d", e);
    return swlog__fail(err, SWLOG_EIO, off, "%s: %s: %s", log->path, what,
                       text);
}

static int pread_full(int fd, uint8_t *p, size_t n, uint64_t off, size_t *got)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, p + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

/* Point *out at file bytes [off, off + n); the caller has checked that they
 * lie inside the file and that n <= FRAME_MAX. Valid until the next fetch. */
static int fetch(swlog_log *log, uint64_t off, size_t n, const uint8_t **out,
                 swlog_error *err)
{
    if (log->fd < 0) {
        *out = log->mem + off;
        return SWLOG_OK;
    }
    if (off >= log->win_off && off - log->win_off <= log->win_len &&
        n <= log->win_len - (off - log->win_off)) {
        *out = log->win + (off - log->win_off);
        return SWLOG_OK;
    }
    if (n > log->win_cap) {
        size_t cap = n > WINDOW_MIN ? n : WINDOW_MIN;
        uint8_t *w = realloc(log->win, cap);
        if (w == NULL)
            return swlog__fail(err, SWLOG_ENOMEM, off,
                               "%s: no memory for a %zu-byte read buffer",
                               log->path, cap);
        log->win = w;
        log->win_cap = cap;
    }
    uint64_t left = log->size - off;
    size_t want = left < log->win_cap ? (size_t)left : log->win_cap;
    size_t got;
    log->win_len = 0;
    if (pread_full(log->fd, log->win, want, off, &got) != 0)
        return fail_sys(err, log, off, "read", errno);
    if (got < n)
        return swlog__fail(err, SWLOG_EIO, off,
                           "%s: file shrank while being read", log->path);
    log->win_off = off;
    log->win_len = got;
    *out = log->win;
    return SWLOG_OK;
}

static int is_format_error(int rc)
{
    return rc == SWLOG_ESHORT || rc == SWLOG_EMAGIC || rc == SWLOG_ENONCANON ||
           rc == SWLOG_EBOUNDS || rc == SWLOG_ECRC;
}

/* FORMAT §3.3 steps 1-5 for the frame at x, in that order. */
static int read_frame(swlog_log *log, uint64_t x, const uint8_t **body,
                      uint32_t *len, swlog_error *err)
{
    uint64_t left = log->size - x;
    const uint8_t *p;
    if (left < SWLOG_ENVELOPE_HEAD_BYTES)
        return swlog__fail(err, SWLOG_ESHORT, x,
                           "%" PRIu64 " bytes left, an envelope needs 8", left);
    int rc = fetch(log, x, SWLOG_ENVELOPE_HEAD_BYTES, &p, err);
    if (rc != SWLOG_OK)
        return rc;
    if (p[0] != 0xf5 || p[1] != 0x1e)
        return swlog__fail(err, SWLOG_EMAGIC, x, "no frame marker");
    if (load16(p + 2) != 0)
        return swlog__fail(err, SWLOG_ENONCANON, x,
                           "envelope reserved field is not zero");
    uint32_t n = load32(p + 4);
    if (n == 0 || n > SWLOG_MAX_BODY)
        return swlog__fail(err, SWLOG_EBOUNDS, x,
                           "body_len %" PRIu32 ", allowed 1..%u", n,
                           SWLOG_MAX_BODY);
    if ((uint64_t)n + SWLOG_ENVELOPE_BYTES > left)
        return swlog__fail(err, SWLOG_ESHORT, x,
                           "frame of %" PRIu64 " bytes, %" PRIu64 " left",
                           (uint64_t)n + SWLOG_ENVELOPE_BYTES, left);
    rc = fetch(log, x, (size_t)n + SWLOG_ENVELOPE_BYTES, &p, err);
    if (rc != SWLOG_OK)
        return rc;
    uint32_t c = swlog_crc32c(0, log->salt, SWLOG_SALT_BYTES);
    c = swlog_crc32c(c, p, (size_t)n + SWLOG_ENVELOPE_HEAD_BYTES);
    uint32_t want = load32(p + SWLOG_ENVELOPE_HEAD_BYTES + n);
    if (c != want)
        return swlog__fail(err, SWLOG_ECRC, x,
                           "frame CRC %08" PRIx32 ", computed %08" PRIx32, want,
                           c);
    *body = p + SWLOG_ENVELOPE_HEAD_BYTES;
    *len = n;
    return SWLOG_OK;
}

/* ---- FORMAT §8.3: the search for a frame start after damage ----------
 *
 * Checking each candidate head by reading its body would cost up to
 * MAX_BODY per head, and a hostile file can hold a head every 6 bytes. So
 * the search reads every byte once, keeping one running CRC; a candidate
 * at y remembers the running CRC there, and when the stream reaches its
 * CRC field the frame's CRC follows by CRC algebra (zlib's crc32_combine):
 * crc(A || B) = x^(8|B|) * crc(A) + crc(B) over GF(2) modulo the
 * polynomial. Memory: the candidates pending at once, which lie within one
 * frame's length of each other (16 bytes each, one per 6 or more bytes). */

#define CRC32C_POLY 0x82f63b78u

/* a * b modulo the CRC polynomial, in the reflected bit order; a != 0. */
static uint32_t mulmod(uint32_t a, uint32_t b)
{
    uint32_t m = (uint32_t)1 << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ CRC32C_POLY : b >> 1;
    }
    return p;
}

/* x2n[k] = x^(2^k) modulo the polynomial. */
static void x2n_init(uint32_t x2n[32])
{
    uint32_t p = (uint32_t)1 << 30; /* x^1 */
    x2n[0] = p;
    for (int k = 1; k < 32; k++)
        x2n[k] = p = mulmod(p, p);
}

/* x^(8n) modulo the polynomial: the shift of a CRC by n bytes. */
static uint32_t x8n(const uint32_t x2n[32], uint64_t n)
{
    uint32_t p = (uint32_t)1 << 31; /* x^0 */
    for (unsigned k = 3; n != 0; n >>= 1, k++)
        if (n & 1)
            p = mulmod(x2n[k & 31], p);
    return p;
}

struct cand {
    uint64_t y;   /* the head's offset */
    uint32_t len; /* its body_len */
    uint32_t k;   /* crc(salt) XOR the running CRC at y */
};

struct cands {
    struct cand *v; /* a binary min-heap on the CRC field's offset */
    size_t n, cap;
};

static uint64_t cand_end(const struct cand *c)
{
    return c->y + SWLOG_ENVELOPE_HEAD_BYTES + c->len;
}

static int cands_push(struct cands *h, struct cand c)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct cand *v = realloc(h->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0 && cand_end(&h->v[(i - 1) / 2]) > cand_end(&c)) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = c;
    return 0;
}

static struct cand cands_pop(struct cands *h)
{
    struct cand top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && cand_end(&h->v[c + 1]) < cand_end(&h->v[c]))
            c++;
        if (cand_end(&h->v[c]) >= cand_end(&last))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n > 0)
        h->v[i] = last;
    return top;
}

/* A head at p (8 bytes readable) for a frame that fits the file: *len. */
static int head_ok(const swlog_log *log, const uint8_t *p, uint64_t y,
                   uint32_t *len)
{
    if (p[0] != 0xf5 || p[1] != 0x1e || p[2] != 0 || p[3] != 0)
        return 0;
    uint32_t n = load32(p + 4);
    if (n == 0 || n > SWLOG_MAX_BODY ||
        (uint64_t)n + SWLOG_ENVELOPE_BYTES > log->size - y)
        return 0;
    *len = n;
    return 1;
}

/* Is there a frame start at some y > x? 1 with the smallest in *found, 0
 * when none, or a system error. */
static int find_frame_start(swlog_log *log, uint64_t x, uint64_t *found,
                            swlog_error *err)
{
    uint32_t x2n[32];
    x2n_init(x2n);
    const uint32_t salt_crc = swlog_crc32c(0, log->salt, SWLOG_SALT_BYTES);
    struct cands h = {NULL, 0, 0};
    uint64_t best = UINT64_MAX;
    uint64_t c0 = x + 1, pos = c0; /* run = crc32c(file[x+1 .. pos)) */
    uint32_t run = 0;
    int rc = SWLOG_OK;
    while (c0 < log->size) {
        uint64_t left = log->size - c0;
        size_t n = left < WINDOW_MIN ? (size_t)left : WINDOW_MIN;
        const uint8_t *p;
        if ((rc = fetch(log, c0, n, &p, err)) != SWLOG_OK)
            goto done;
        int last = c0 + n == log->size;
        /* Offsets below lim are handled in this chunk; a head or CRC field
         * starting there lies wholly inside it (§3.2: heads are 8 bytes). */
        uint64_t lim = last ? log->size : c0 + n - 7;
        uint64_t scan = c0;
        for (;;) {
            uint64_t ny = UINT64_MAX;
            uint32_t len = 0;
            while (best == UINT64_MAX && scan < lim &&
                   log->size - scan >= FRAME_MIN) {
                const uint8_t *m =
                    memchr(p + (scan - c0), 0xf5, (size_t)(lim - scan));
                if (m == NULL)
                    break;
                scan = c0 + (uint64_t)(m - p);
                if (log->size - scan >= FRAME_MIN &&
                    head_ok(log, m, scan, &len)) {
                    ny = scan;
                    break;
                }
                scan++;
            }
            uint64_t ne = h.n > 0 ? cand_end(&h.v[0]) : UINT64_MAX;
            if (ne < lim && ne <= ny) {
                run = swlog_crc32c(run, p + (pos - c0), (size_t)(ne - pos));
                pos = ne;
                struct cand c = cands_pop(&h);
                uint64_t w = ne - c.y;
                uint32_t crc = run ^ mulmod(x8n(x2n, w), c.k);
                if (crc == load32(p + (ne - c0)) && c.y < best)
                    best = c.y;
                continue;
            }
            if (ny == UINT64_MAX)
                break;
            run = swlog_crc32c(run, p + (pos - c0), (size_t)(ny - pos));
            pos = ny;
            struct cand c = {ny, len, salt_crc ^ run};
            if (cands_push(&h, c) != 0) {
                rc = swlog__fail(err, SWLOG_ENOMEM, x,
                                 "%s: no memory to search after damage",
                                 log->path);
                goto done;
            }
            scan = ny + 1;
        }
        if (best != UINT64_MAX && h.n == 0)
            break;
        if (last)
            break;
        run = swlog_crc32c(run, p + (pos - c0), (size_t)(lim - pos));
        pos = c0 = lim;
    }
done:
    free(h.v);
    if (rc != SWLOG_OK)
        return rc;
    if (best == UINT64_MAX)
        return 0;
    *found = best;
    return 1;
}

int swlog_log_next(swlog_log *log, const uint8_t **body, size_t *len,
                   uint64_t *offset, swlog_error *err)
{
    if (log == NULL || body == NULL || len == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "swlog_log_next: NULL argument");
    if (log->state == AT_END)
        return 0;
    if (log->state == AT_CORRUPT)
        return swlog__fail(err, log->corrupt.code, log->corrupt.offset, "%s",
                           log->corrupt.msg);
    uint64_t x = log->pos;
    if (x == log->size) {
        log->state = AT_END;
        return 0;
    }
    swlog_error why = {0};
    const uint8_t *b = NULL;
    uint32_t n = 0;
    int rc = read_frame(log, x, &b, &n, &why);
    if (rc == SWLOG_OK) {
        *body = b;
        *len = n;
        if (offset != NULL)
            *offset = x;
        log->pos = x + n + SWLOG_ENVELOPE_BYTES;
        log->end = log->pos;
        return 1;
    }
    if (!is_format_error(rc))
        return swlog__fail(err, rc, why.offset, "%s", why.msg);
    uint64_t y = 0;
    rc = find_frame_start(log, x, &y, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        /* FORMAT §8.3: nothing valid follows, so an append was cut short. */
        log->torn = log->size - x;
        log->end = x;
        log->state = AT_END;
        return 0;
    }
    swlog__fail(&log->corrupt, SWLOG_ECORRUPT, x,
                "damage at %" PRIu64 ", valid frame at %" PRIu64 ": %s: %s", x,
                y, swlog_code_name(why.code), why.msg);
    log->state = AT_CORRUPT;
    return swlog__fail(err, SWLOG_ECORRUPT, x, "%s", log->corrupt.msg);
}

static swlog_log *log_alloc(const char *path)
{
    swlog_log *log = calloc(1, sizeof *log);
    if (log == NULL)
        return NULL;
    log->fd = -1;
    size_t n = strlen(path) + 1;
    log->path = malloc(n);
    if (log->path == NULL) {
        free(log);
        return NULL;
    }
    memcpy(log->path, path, n);
    return log;
}

void swlog_log_close(swlog_log *log)
{
    if (log == NULL)
        return;
    if (log->fd >= 0)
        close(log->fd);
    free(log->win);
    free(log->path);
    free(log);
}

static int read_header(swlog_log *log, swlog_error *err)
{
    uint8_t hdr[SWLOG_FILE_HEADER_BYTES];
    size_t n = log->size < sizeof hdr ? (size_t)log->size : sizeof hdr;
    if (n > 0) {
        const uint8_t *p;
        int rc = fetch(log, 0, n, &p, err);
        if (rc != SWLOG_OK)
            return rc;
        memcpy(hdr, p, n);
    }
    int rc = swlog_file_header_decode(hdr, n, log->salt, err);
    if (rc != SWLOG_OK)
        return rc;
    log->pos = log->end = SWLOG_FILE_HEADER_BYTES;
    log->state = AT_FRAMES;
    return SWLOG_OK;
}

int swlog_log_open_mem(const uint8_t *buf, size_t len, swlog_log **out,
                       swlog_error *err)
{
    if ((buf == NULL && len > 0) || out == NULL)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "swlog_log_open_mem: NULL argument");
    swlog_log *log = log_alloc("(memory)");
    if (log == NULL)
        return swlog__fail(err, SWLOG_ENOMEM, 0, "no memory for a log");
    log->mem = buf;
    log->size = len;
    log->mode = SWLOG_READ;
    int rc = read_header(log, err);
    if (rc != SWLOG_OK) {
        swlog_log_close(log);
        return rc;
    }
    *out = log;
    return SWLOG_OK;
}

static int fsync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (slash == NULL) {
        dir = malloc(2);
        if (dir != NULL)
            memcpy(dir, ".", 2);
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir != NULL) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (dir == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int write_full(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(fd, p + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            errno = EIO;
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

/* FORMAT §3.1: a new log appears whole or not at all, and never replaces
 * one that another process created meanwhile: the header goes to a unique
 * temporary file (mkstemp: O_EXCL, mode 0600, no symlink followed), is
 * fsynced, then linked to the log's name. link() refuses an existing name;
 * then the other creator's log is the one opened. File systems without
 * hard links (a FAT USB stick) fall back to rename after a check. */
static int create_file(swlog_log *log, swlog_error *err)
{
    size_t n = strlen(log->path);
    char *tmp = malloc(n + 8);
    if (tmp == NULL)
        return swlog__fail(err, SWLOG_ENOMEM, 0, "no memory for a path");
    memcpy(tmp, log->path, n);
    memcpy(tmp + n, ".XXXXXX", 8);
    uint8_t salt[SWLOG_SALT_BYTES], hdr[SWLOG_FILE_HEADER_BYTES];
    swlog_random(salt, sizeof salt);
    swlog_file_header_encode(salt, hdr);
    int rc = SWLOG_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = fail_sys(err, log, 0, "create", errno);
        free(tmp);
        return rc;
    }
    if (write_full(fd, hdr, sizeof hdr, 0) != 0) {
        rc = fail_sys(err, log, 0, "write header", errno);
        goto done;
    }
    if (fsync(fd) != 0) {
        rc = fail_sys(err, log, 0, "fsync header", errno);
        goto done;
    }
    if (link(tmp, log->path) != 0) {
        int e = errno;
        if (e == EEXIST)
            goto done; /* another process created it first: use theirs */
        if (e != EPERM && e != ENOTSUP && e != EOPNOTSUPP && e != EMLINK) {
            rc = fail_sys(err, log, 0, "link", e);
            goto done;
        }
        if (access(log->path, F_OK) == 0)
            goto done;
        if (rename(tmp, log->path) != 0) {
            rc = fail_sys(err, log, 0, "rename", errno);
            goto done;
        }
    }
    if (fsync_dir_of(log->path) != 0)
        rc = fail_sys(err, log, 0, "fsync directory", errno);
done:
    close(fd);
    unlink(tmp); /* after link() or rename(), only the temporary name */
    free(tmp);
    return rc;
}

static int lock_file(swlog_log *log, swlog_error *err)
{
    /* flock belongs to this open file, not to the process (unlike fcntl
     * locks, which any close() of the same file in the process drops): a
     * second writer, in this process or another, is refused. */
    if (flock(log->fd, LOCK_EX | LOCK_NB) == 0)
        return SWLOG_OK;
    if (errno == EWOULDBLOCK)
        return swlog__fail(err, SWLOG_EIO, 0,
                           "%s: another writer is appending to it",
                           log->path);
    return fail_sys(err, log, 0, "lock", errno);
}

/* FORMAT §8.3: scan every frame, refuse a corrupt file, cut a torn tail. */
static int scan_for_append(swlog_log *log, swlog_error *err)
{
    const uint8_t *b;
    size_t n;
    int rc;
    while ((rc = swlog_log_next(log, &b, &n, NULL, err)) == 1)
        ;
    if (rc < 0)
        return rc;
    if (log->torn > 0 &&
        ftruncate(log->fd, (off_t)log->end) != 0)
        return fail_sys(err, log, log->end, "cut torn tail", errno);
    /* Always: frames a writer wrote but was killed before fsyncing are
     * whole in the page cache and read back as valid. A writer that finds
     * them (a sealer recovering) may treat them as durable only once they
     * are (FORMAT §8.4), so the open makes them so. */
    if (fsync(log->fd) != 0)
        return fail_sys(err, log, log->end, "fsync", errno);
    log->size = log->pos = log->end;
    /* Appends need no read buffer; give back up to a frame's worth. */
    free(log->win);
    log->win = NULL;
    log->win_cap = log->win_len = 0;
    return SWLOG_OK;
}

/* Open a file log; at_end: for an append, the caller's recorded end
 * (UINT64_MAX: scan to it). */
static int open_file(const char *path, int mode, uint64_t at_end,
                     swlog_log **out, swlog_error *err)
{
    swlog_log *log = log_alloc(path);
    if (log == NULL)
        return swlog__fail(err, SWLOG_ENOMEM, 0, "no memory for a log");
    log->mode = mode;
    int rc = SWLOG_OK;
    if (mode == SWLOG_READ) {
        log->fd = open(path, O_RDONLY | O_CLOEXEC);
    } else {
        log->fd = open(path, O_RDWR | O_CLOEXEC);
        if (log->fd < 0 && errno == ENOENT && (mode & SWLOG_CREATE)) {
            rc = create_file(log, err);
            if (rc != SWLOG_OK)
                goto done;
            log->fd = open(path, O_RDWR | O_CLOEXEC);
        }
    }
    if (log->fd < 0) {
        rc = fail_sys(err, log, 0, "open", errno);
        goto done;
    }
    struct stat st;
    if (fstat(log->fd, &st) != 0) {
        rc = fail_sys(err, log, 0, "stat", errno);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = swlog__fail(err, SWLOG_EIO, 0, "%s: not a regular file", path);
        goto done;
    }
    log->size = (uint64_t)st.st_size;
    if (mode != SWLOG_READ && (rc = lock_file(log, err)) != SWLOG_OK)
        goto done;
    if ((rc = read_header(log, err)) != SWLOG_OK)
        goto done;
    if (mode != SWLOG_READ && at_end != UINT64_MAX) {
        /* Whole frames up to at_end, fsynced by the append that recorded
         * it: the file must end exactly there. */
        if (log->size != at_end || at_end < log->end)
            rc = swlog__fail(err, SWLOG_ECORRUPT, log->size,
                             "%s: %llu bytes, but its recorded end is %llu",
                             path, (unsigned long long)log->size,
                             (unsigned long long)at_end);
        else
            log->end = log->size = log->pos = at_end;
        free(log->win);
        log->win = NULL;
        log->win_cap = log->win_len = 0;
    } else if (mode != SWLOG_READ) {
        rc = scan_for_append(log, err);
    }
done:
    if (rc != SWLOG_OK) {
        swlog_log_close(log);
        return rc;
    }
    *out = log;
    return SWLOG_OK;
}

int swlog_log_open(const char *path, int mode, swlog_log **out,
                   swlog_error *err)
{
    if (path == NULL || out == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "swlog_log_open: NULL argument");
    if (mode != SWLOG_READ && mode != SWLOG_APPEND &&
        mode != (SWLOG_APPEND | SWLOG_CREATE))
        return swlog__fail(err, SWLOG_EARG, 0, "swlog_log_open: mode %d", mode);
    return open_file(path, mode, UINT64_MAX, out, err);
}

int swlog_log_open_end(const char *path, uint64_t end, swlog_log **out,
                       swlog_error *err)
{
    if (path == NULL || out == NULL || end == UINT64_MAX)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "swlog_log_open_end: bad argument");
    return open_file(path, SWLOG_APPEND, end, out, err);
}

uint64_t swlog_log_torn(const swlog_log *log)
{
    return log != NULL ? log->torn : 0;
}

uint64_t swlog_log_end(const swlog_log *log)
{
    return log != NULL ? log->end : 0;
}

const uint8_t *swlog_log_salt(const swlog_log *log)
{
    return log != NULL ? log->salt : NULL;
}

/* Undo a failed append: FORMAT §3 logs only ever hold whole frames. */
static void roll_back(swlog_log *log)
{
    if (ftruncate(log->fd, (off_t)log->end) != 0 || fsync(log->fd) != 0)
        log->broken = 1;
}

int swlog_log_append(swlog_log *log, const uint8_t *const *bodies,
                     const size_t *lens, size_t n, swlog_error *err)
{
    if (log == NULL || (n > 0 && (bodies == NULL || lens == NULL)))
        return swlog__fail(err, SWLOG_EARG, 0,
                           "swlog_log_append: NULL argument");
    if (log->fd < 0 || !(log->mode & SWLOG_APPEND))
        return swlog__fail(err, SWLOG_EARG, 0, "%s: not opened for appending",
                           log->path);
    if (log->broken)
        return swlog__fail(err, SWLOG_EIO, log->end,
                           "%s: an earlier failed append could not be "
                           "undone; reopen the log",
                           log->path);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (bodies[i] == NULL || lens[i] == 0 || lens[i] > SWLOG_MAX_BODY)
            return swlog__fail(err,
                               bodies[i] == NULL ? SWLOG_EARG : SWLOG_EBOUNDS,
                               0, "body %zu: %zu bytes, allowed 1..%u", i,
                               lens[i], SWLOG_MAX_BODY);
        if (total > SIZE_MAX - lens[i] - SWLOG_ENVELOPE_BYTES)
            return swlog__fail(err, SWLOG_EBOUNDS, 0,
                               "%zu bodies are too many for one append", n);
        total += lens[i] + SWLOG_ENVELOPE_BYTES;
    }
    if (n == 0)
        return SWLOG_OK;
    uint8_t *buf = malloc(total);
    if (buf == NULL)
        return swlog__fail(err, SWLOG_ENOMEM, log->end,
                           "no memory for a %zu-byte append", total);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *head = buf + at, *body = head + SWLOG_ENVELOPE_HEAD_BYTES;
        memcpy(body, bodies[i], lens[i]);
        swlog_envelope_encode(log->salt, body, lens[i], head, body + lens[i]);
        at += lens[i] + SWLOG_ENVELOPE_BYTES;
    }
    /* FORMAT §8.4: one write for the group, then the fsync that makes the
     * frames durable; on any failure the file goes back to its old end. */
    int rc = SWLOG_OK;
    if (write_full(log->fd, buf, total, log->end) != 0) {
        rc = fail_sys(err, log, log->end, "append", errno);
        roll_back(log);
    } else if (fsync(log->fd) != 0) {
        rc = fail_sys(err, log, log->end, "fsync", errno);
        roll_back(log);
    } else {
        log->end += total;
        log->size = log->pos = log->end;
    }
    free(buf);
    return rc;
}
