/* Log files (FORMAT §3, §8.3, §8.4): round trips, torn tails at every
 * offset, corruption, bad headers, foreign frames, a full disk, and
 * read-only opens that leave the file alone. Bodies are arbitrary bytes:
 * the log layer does not decode them. */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- building log images by hand ------------------------------------- */

static void fill_body(uint8_t *p, size_t len, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

static uint8_t *body_new(size_t len, unsigned seed)
{
    uint8_t *p = malloc(len);
    ck_assert_ptr_nonnull(p);
    fill_body(p, len, seed);
    return p;
}

static void salt_of(unsigned i, uint8_t salt[SWLOG_SALT_BYTES])
{
    for (int j = 0; j < SWLOG_SALT_BYTES; j++)
        salt[j] = (uint8_t)(i * 31 + (unsigned)j);
}

static void img_header(swlog_buf *b, const uint8_t *salt)
{
    uint8_t h[SWLOG_FILE_HEADER_BYTES];
    swlog_file_header_encode(salt, h);
    ck_assert_int_eq(swlog_buf_append(b, h, sizeof h), SWLOG_OK);
}

/* Append one frame; returns its offset. */
static size_t img_frame(swlog_buf *b, const uint8_t *salt, size_t len,
                        unsigned seed)
{
    size_t at = b->len;
    uint8_t *body = body_new(len, seed), head[8], crc[4];
    ck_assert_int_eq(swlog_envelope_encode(salt, body, len, head, crc),
                     SWLOG_OK);
    ck_assert_int_eq(swlog_buf_append(b, head, 8), SWLOG_OK);
    ck_assert_int_eq(swlog_buf_append(b, body, len), SWLOG_OK);
    ck_assert_int_eq(swlog_buf_append(b, crc, 4), SWLOG_OK);
    free(body);
    return at;
}

/* One path at a time: the buffer is reused by the next call. */
static const char *tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    return path;
}

static void write_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *p = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static off_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

/* Read every frame; check body i against (lens[i], seeds[i]). Returns the
 * final return value of swlog_log_next (0 or an error). */
static int read_expect(swlog_log *log, size_t n, const size_t *lens,
                       const unsigned *seeds, swlog_error *err)
{
    const uint8_t *body;
    size_t len;
    uint64_t off;
    for (size_t i = 0; i < n; i++) {
        int rc = swlog_log_next(log, &body, &len, &off, err);
        ck_assert_msg(rc == 1, "frame %zu: rc %d (%s)", i, rc,
                      err != NULL ? err->msg : "");
        ck_assert_uint_eq(len, lens[i]);
        uint8_t *want = body_new(lens[i], seeds[i]);
        ck_assert_mem_eq(body, want, len);
        free(want);
    }
    return swlog_log_next(log, &body, &len, &off, err);
}

/* ---- round trips ------------------------------------------------------- */

/* Entries of path's folder named "<log name>.<anything>": the temporary
 * files of FORMAT §3.1 creation. */
static int leftovers(const char *path)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    ck_assert_ptr_nonnull(slash);
    *slash = '\0';
    const char *base = slash + 1 - dir + path;
    size_t n = strlen(base);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, base, n) == 0 && e->d_name[n] == '.')
            found++;
    closedir(d);
    return found;
}

/* One writer per log: a second SWLOG_APPEND open is refused, in this
 * process too, and a reader opening and closing the file does not drop the
 * writer's lock (FORMAT §8.4). */
START_TEST(one_writer_at_a_time)
{
    const char *path = tmp_path("locked.log");
    swlog_log *w = NULL, *w2 = NULL, *r = NULL;
    swlog_error err = {0};
    ck_assert_int_eq(swlog_log_open(path, SWLOG_APPEND | SWLOG_CREATE, &w,
                                    &err), SWLOG_OK);
    ck_assert_int_eq(swlog_log_open(path, SWLOG_APPEND, &w2, &err),
                     SWLOG_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "another writer"));
    ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &r, NULL), SWLOG_OK);
    swlog_log_close(r);
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(swlog_log_open(path, SWLOG_APPEND, &w2, &err),
                     SWLOG_EIO);
    swlog_log_close(w);
    ck_assert_int_eq(swlog_log_open(path, SWLOG_APPEND, &w2, NULL),
                     SWLOG_OK);
    swlog_log_close(w2);
}
END_TEST

START_TEST(create_append_reopen_read)
{
    const char *path = tmp_path("round.log");
    swlog_log *log;
    swlog_error err = {0};
    ck_assert_int_eq(swlog_log_open(path, SWLOG_APPEND, &log, &err),
                     SWLOG_EIO); /* missing, and no SWLOG_CREATE */
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(
        swlog_log_open(path, SWLOG_APPEND | SWLOG_CREATE, &log, &err),
        SWLOG_OK);
    ck_assert_uint_eq(swlog_log_end(log), 32);
    ck_assert_int_eq(leftovers(path), 0); /* no temporary name remains */

    size_t lens[6] = {1, 100, 70000, 3, 5000, 12};
    unsigned seeds[6] = {1, 2, 3, 4, 5, 6};
    uint8_t *bodies[6];
    for (int i = 0; i < 6; i++)
        bodies[i] = body_new(lens[i], seeds[i]);
    /* Groups of 1, 3 and 0 frames, then 2 more after a reopen. */
    ck_assert_int_eq(
        swlog_log_append(log, (const uint8_t *const *)bodies, lens, 1, &err),
        SWLOG_OK);
    ck_assert_int_eq(swlog_log_append(log, (const uint8_t *const *)bodies + 1,
                                      lens + 1, 3, &err),
                     SWLOG_OK);
    ck_assert_int_eq(swlog_log_append(log, NULL, NULL, 0, &err), SWLOG_OK);
    uint64_t end = 32;
    for (int i = 0; i < 4; i++)
        end += lens[i] + 12;
    ck_assert_uint_eq(swlog_log_end(log), end);
    ck_assert_uint_eq((uint64_t)file_size(path), end);
    uint8_t salt[16];
    memcpy(salt, swlog_log_salt(log), 16);
    swlog_log_close(log);

    ck_assert_int_eq(swlog_log_open(path, SWLOG_APPEND, &log, &err), SWLOG_OK);
    ck_assert_uint_eq(swlog_log_torn(log), 0);
    ck_assert_uint_eq(swlog_log_end(log), end);
    ck_assert_mem_eq(swlog_log_salt(log), salt, 16);
    ck_assert_int_eq(swlog_log_append(log, (const uint8_t *const *)bodies + 4,
                                      lens + 4, 2, &err),
                     SWLOG_OK);
    swlog_log_close(log);

    ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, &err), SWLOG_OK);
    ck_assert_mem_eq(swlog_log_salt(log), salt, 16);
    ck_assert_int_eq(read_expect(log, 6, lens, seeds, &err), 0);
    ck_assert_uint_eq(swlog_log_torn(log), 0);
    ck_assert_uint_eq(swlog_log_end(log), (uint64_t)file_size(path));
    /* The end stays the end. */
    const uint8_t *b;
    size_t l;
    ck_assert_int_eq(swlog_log_next(log, &b, &l, NULL, &err), 0);
    swlog_log_close(log);

    /* The same bytes through the memory source. */
    size_t flen;
    uint8_t *file = read_file(path, &flen);
    ck_assert_int_eq(swlog_log_open_mem(file, flen, &log, &err), SWLOG_OK);
    ck_assert_int_eq(read_expect(log, 6, lens, seeds, &err), 0);
    swlog_log_close(log);
    /* The header is the one FORMAT §3.1 describes. */
    uint8_t want_hdr[32];
    swlog_file_header_encode(salt, want_hdr);
    ck_assert_mem_eq(file, want_hdr, 32);
    free(file);
    for (int i = 0; i < 6; i++)
        free(bodies[i]);
    swlog_log_close(NULL);
}
END_TEST

/* swlog_log_open_end: an append at the recorded end without a scan; a
 * file of another size is refused with nothing changed. */
START_TEST(open_at_recorded_end)
{
    const char *path = tmp_path("atend.log");
    swlog_log *log;
    swlog_error err = {0};
    ck_assert_int_eq(swlog_log_open_end(path, 32, &log, &err), SWLOG_EIO);
    ck_assert_int_eq(
        swlog_log_open(path, SWLOG_APPEND | SWLOG_CREATE, &log, &err),
        SWLOG_OK);
    size_t lens[3] = {10, 2000, 7};
    unsigned seeds[3] = {7, 8, 9};
    uint8_t *bodies[3];
    for (int i = 0; i < 3; i++)
        bodies[i] = body_new(lens[i], seeds[i]);
    ck_assert_int_eq(
        swlog_log_append(log, (const uint8_t *const *)bodies, lens, 2, &err),
        SWLOG_OK);
    uint64_t end = swlog_log_end(log);
    ck_assert_uint_eq(end, 32 + 10 + 12 + 2000 + 12);
    swlog_log_close(log);

    /* Other ends than the file's: refused, the file unchanged. */
    uint64_t bad[4] = {0, 31, end - 1, end + 1};
    for (int i = 0; i < 4; i++) {
        memset(&err, 0, sizeof err);
        ck_assert_int_eq(swlog_log_open_end(path, bad[i], &log, &err),
                         SWLOG_ECORRUPT);
        ck_assert_ptr_nonnull(strstr(err.msg, "recorded end"));
        ck_assert_uint_eq((uint64_t)file_size(path), end);
    }
    ck_assert_int_eq(swlog_log_open_end(path, UINT64_MAX, &log, &err),
                     SWLOG_EARG);

    /* At the right end: appends, and the log reads back whole. */
    ck_assert_int_eq(swlog_log_open_end(path, end, &log, &err), SWLOG_OK);
    ck_assert_uint_eq(swlog_log_end(log), end);
    ck_assert_int_eq(swlog_log_append(log, (const uint8_t *const *)bodies + 2,
                                      lens + 2, 1, &err),
                     SWLOG_OK);
    ck_assert_uint_eq(swlog_log_end(log), end + 7 + 12);
    swlog_log_close(log);
    ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, &err), SWLOG_OK);
    ck_assert_int_eq(read_expect(log, 3, lens, seeds, &err), 0);
    ck_assert_uint_eq(swlog_log_torn(log), 0);
    swlog_log_close(log);

    /* A writer holds the file: a second open at its end is refused. */
    swlog_log *w;
    ck_assert_int_eq(swlog_log_open(path, SWLOG_APPEND, &w, &err), SWLOG_OK);
    ck_assert_int_ne(swlog_log_open_end(path, swlog_log_end(w), &log, &err),
                     SWLOG_OK);
    swlog_log_close(w);
    for (int i = 0; i < 3; i++)
        free(bodies[i]);
}
END_TEST

START_TEST(offsets_and_header_only)
{
    uint8_t salt[16];
    salt_of(1, salt);
    swlog_buf b;
    swlog_buf_init(&b);
    img_header(&b, salt);
    swlog_log *log;
    ck_assert_int_eq(swlog_log_open_mem(b.p, b.len, &log, NULL), SWLOG_OK);
    const uint8_t *body;
    size_t len;
    uint64_t off;
    ck_assert_int_eq(swlog_log_next(log, &body, &len, &off, NULL), 0);
    ck_assert_uint_eq(swlog_log_end(log), 32);
    ck_assert_uint_eq(swlog_log_torn(log), 0);
    swlog_log_close(log);

    size_t at[3];
    at[0] = img_frame(&b, salt, 10, 1);
    at[1] = img_frame(&b, salt, 20, 2);
    at[2] = img_frame(&b, salt, 30, 3);
    ck_assert_int_eq(swlog_log_open_mem(b.p, b.len, &log, NULL), SWLOG_OK);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(swlog_log_next(log, &body, &len, &off, NULL), 1);
        ck_assert_uint_eq(off, at[i]);
        ck_assert_ptr_eq(body, b.p + at[i] + 8);
        ck_assert_uint_eq(swlog_log_end(log), at[i] + len + 12);
    }
    swlog_log_close(log);
    swlog_buf_clear(&b);
}
END_TEST

START_TEST(append_bounds_and_modes)
{
    const char *path = tmp_path("bounds.log");
    swlog_log *log;
    swlog_error err = {0};
    ck_assert_int_eq(swlog_log_open(path, SWLOG_CREATE, &log, &err),
                     SWLOG_EARG);
    ck_assert_int_eq(swlog_log_open(path, 7, &log, NULL), SWLOG_EARG);
    ck_assert_int_eq(
        swlog_log_open(path, SWLOG_APPEND | SWLOG_CREATE, &log, NULL),
        SWLOG_OK);
    uint8_t *big = body_new(SWLOG_MAX_BODY + 1, 9);
    const uint8_t *bodies[2] = {big, big};
    size_t lens[2] = {10, SWLOG_MAX_BODY + 1};
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(swlog_log_append(log, bodies, lens, 2, &err),
                     SWLOG_EBOUNDS);
    lens[1] = 0;
    ck_assert_int_eq(swlog_log_append(log, bodies, lens, 2, NULL),
                     SWLOG_EBOUNDS);
    ck_assert_uint_eq((uint64_t)file_size(path), 32);
    /* Exactly MAX_BODY is fine, and reads back. */
    lens[0] = SWLOG_MAX_BODY;
    ck_assert_int_eq(swlog_log_append(log, bodies, lens, 1, NULL), SWLOG_OK);
    swlog_log_close(log);

    ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, NULL), SWLOG_OK);
    unsigned seed = 9;
    ck_assert_int_eq(read_expect(log, 1, lens, &seed, NULL), 0);
    /* A read-only log refuses appends. */
    ck_assert_int_eq(swlog_log_append(log, bodies, lens, 1, NULL), SWLOG_EARG);
    swlog_log_close(log);
    free(big);
}
END_TEST

/* A file with more frames than one read window, and a big frame across a
 * window edge. */
START_TEST(many_frames_stream)
{
    const char *path = tmp_path("many.log");
    swlog_log *log;
    ck_assert_int_eq(
        swlog_log_open(path, SWLOG_APPEND | SWLOG_CREATE, &log, NULL),
        SWLOG_OK);
    enum { N = 400 };
    size_t lens[N];
    unsigned seeds[N];
    for (unsigned i = 0; i < N; i++) {
        lens[i] = i == 200 ? 300000 : 1 + (i * 7919) % 2000;
        seeds[i] = 1000 + i;
        uint8_t *body = body_new(lens[i], seeds[i]);
        const uint8_t *bp = body;
        ck_assert_int_eq(swlog_log_append(log, &bp, &lens[i], 1, NULL),
                         SWLOG_OK);
        free(body);
    }
    swlog_log_close(log);
    ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, NULL), SWLOG_OK);
    ck_assert_int_eq(read_expect(log, N, lens, seeds, NULL), 0);
    ck_assert_uint_eq(swlog_log_torn(log), 0);
    swlog_log_close(log);
}
END_TEST

/* ---- torn tails ---------------------------------------------------------- */

/* Cut the last frame at every byte: the frames before it survive, read mode
 * reports the torn bytes (memory and file), append mode cuts them. */
START_TEST(truncate_last_frame_everywhere)
{
    uint8_t salt[16];
    salt_of(2, salt);
    swlog_buf b;
    swlog_buf_init(&b);
    img_header(&b, salt);
    size_t lens[3] = {17, 250, 45};
    unsigned seeds[3] = {11, 12, 13};
    size_t at3 = 0;
    for (int i = 0; i < 3; i++)
        at3 = img_frame(&b, salt, lens[i], seeds[i]);
    const char *path = tmp_path("torn.log");
    for (size_t cut = at3; cut < b.len; cut++) {
        swlog_log *log;
        swlog_error err = {0};
        ck_assert_int_eq(swlog_log_open_mem(b.p, cut, &log, &err), SWLOG_OK);
        ck_assert_int_eq(read_expect(log, 2, lens, seeds, &err), 0);
        ck_assert_uint_eq(swlog_log_torn(log), cut - at3);
        ck_assert_uint_eq(swlog_log_end(log), at3);
        swlog_log_close(log);

        write_file(path, b.p, cut);
        ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, &err),
                         SWLOG_OK);
        ck_assert_int_eq(read_expect(log, 2, lens, seeds, &err), 0);
        ck_assert_uint_eq(swlog_log_torn(log), cut - at3);
        swlog_log_close(log);
        ck_assert_uint_eq((uint64_t)file_size(path), cut);

        ck_assert_int_eq(swlog_log_open(path, SWLOG_APPEND, &log, &err),
                         SWLOG_OK);
        ck_assert_uint_eq(swlog_log_torn(log), cut - at3);
        ck_assert_uint_eq(swlog_log_end(log), at3);
        ck_assert_uint_eq((uint64_t)file_size(path), at3);
        uint8_t *nb = body_new(33, 99);
        const uint8_t *nbp = nb;
        size_t nl = 33;
        ck_assert_int_eq(swlog_log_append(log, &nbp, &nl, 1, &err), SWLOG_OK);
        free(nb);
        swlog_log_close(log);

        size_t lens2[3] = {lens[0], lens[1], 33};
        unsigned seeds2[3] = {seeds[0], seeds[1], 99};
        ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, &err),
                         SWLOG_OK);
        ck_assert_int_eq(read_expect(log, 3, lens2, seeds2, &err), 0);
        ck_assert_uint_eq(swlog_log_torn(log), 0);
        swlog_log_close(log);
    }
    swlog_buf_clear(&b);
}
END_TEST

/* Any byte of the last frame flipped: a torn tail, not corruption. */
START_TEST(damaged_last_frame_is_torn)
{
    uint8_t salt[16];
    salt_of(3, salt);
    swlog_buf b;
    swlog_buf_init(&b);
    img_header(&b, salt);
    size_t lens[3] = {40, 41, 42};
    unsigned seeds[3] = {21, 22, 23};
    size_t at3 = 0;
    for (int i = 0; i < 3; i++)
        at3 = img_frame(&b, salt, lens[i], seeds[i]);
    for (size_t pos = at3; pos < b.len; pos++) {
        b.p[pos] ^= 0x20;
        swlog_log *log;
        ck_assert_int_eq(swlog_log_open_mem(b.p, b.len, &log, NULL), SWLOG_OK);
        ck_assert_int_eq(read_expect(log, 2, lens, seeds, NULL), 0);
        ck_assert_uint_eq(swlog_log_torn(log), b.len - at3);
        ck_assert_uint_eq(swlog_log_end(log), at3);
        swlog_log_close(log);
        b.p[pos] ^= 0x20;
    }
    swlog_buf_clear(&b);
}
END_TEST

/* ---- corruption ---------------------------------------------------------- */

static void expect_corrupt(const uint8_t *p, size_t len, size_t good,
                           const size_t *lens, const unsigned *seeds,
                           uint64_t x, uint64_t y, const char *reason)
{
    swlog_log *log;
    swlog_error err = {0};
    ck_assert_int_eq(swlog_log_open_mem(p, len, &log, &err), SWLOG_OK);
    ck_assert_int_eq(read_expect(log, good, lens, seeds, &err), SWLOG_ECORRUPT);
    ck_assert_int_eq(err.code, SWLOG_ECORRUPT);
    ck_assert_uint_eq(err.offset, x);
    char want[64];
    snprintf(want, sizeof want, "valid frame at %llu", (unsigned long long)y);
    ck_assert_msg(strstr(err.msg, want) != NULL, "message \"%s\" lacks \"%s\"",
                  err.msg, want);
    if (reason != NULL)
        ck_assert_msg(strstr(err.msg, reason) != NULL,
                      "message \"%s\" lacks \"%s\"", err.msg, reason);
    /* The error sticks: damage is never skipped in silence. */
    const uint8_t *b;
    size_t l;
    swlog_error again = {0};
    ck_assert_int_eq(swlog_log_next(log, &b, &l, NULL, &again), SWLOG_ECORRUPT);
    ck_assert_uint_eq(again.offset, x);
    swlog_log_close(log);
}

/* Every byte of a middle frame flipped in turn, valid frames after it. */
START_TEST(damaged_middle_frame_is_corrupt)
{
    uint8_t salt[16];
    salt_of(4, salt);
    swlog_buf b;
    swlog_buf_init(&b);
    img_header(&b, salt);
    size_t lens[4] = {30, 60, 25, 35};
    unsigned seeds[4] = {31, 32, 33, 34};
    size_t at[4];
    for (int i = 0; i < 4; i++)
        at[i] = img_frame(&b, salt, lens[i], seeds[i]);
    for (size_t pos = at[1]; pos < at[2]; pos++) {
        b.p[pos] ^= 0x01;
        expect_corrupt(b.p, b.len, 1, lens, seeds, at[1], at[2], NULL);
        b.p[pos] ^= 0x01;
    }
    /* The reason is named: a CRC flip, a huge length, a length past the
     * end of the file, a bad marker, a reserved bit. */
    b.p[at[1] + 20] ^= 0xff;
    expect_corrupt(b.p, b.len, 1, lens, seeds, at[1], at[2], "SWLOG_ECRC");
    b.p[at[1] + 20] ^= 0xff;
    b.p[at[1] + 5] = 0x7f;
    expect_corrupt(b.p, b.len, 1, lens, seeds, at[1], at[2], "SWLOG_EBOUNDS");
    b.p[at[1] + 5] = 0x00;
    b.p[at[1] + 6] = 0x7f;
    expect_corrupt(b.p, b.len, 1, lens, seeds, at[1], at[2], "SWLOG_ESHORT");
    b.p[at[1] + 6] = 0x00;
    b.p[at[1] + 1] = 0x1f;
    expect_corrupt(b.p, b.len, 1, lens, seeds, at[1], at[2], "SWLOG_EMAGIC");
    b.p[at[1] + 1] = 0x1e;
    b.p[at[1] + 3] = 0x01;
    expect_corrupt(b.p, b.len, 1, lens, seeds, at[1], at[2], "SWLOG_ENONCANON");
    b.p[at[1] + 3] = 0x00;

    /* The first frame damaged: corrupt at 32. */
    b.p[at[0] + 9] ^= 0x40;
    expect_corrupt(b.p, b.len, 0, lens, seeds, at[0], at[1], NULL);
    b.p[at[0] + 9] ^= 0x40;

    /* A writer refuses it, and leaves it as it was. */
    b.p[at[2] + 12] ^= 0x04;
    const char *path = tmp_path("corrupt.log");
    write_file(path, b.p, b.len);
    swlog_log *log;
    swlog_error err = {0};
    ck_assert_int_eq(swlog_log_open(path, SWLOG_APPEND, &log, &err),
                     SWLOG_ECORRUPT);
    ck_assert_uint_eq(err.offset, at[2]);
    size_t flen;
    uint8_t *file = read_file(path, &flen);
    ck_assert_uint_eq(flen, b.len);
    ck_assert_mem_eq(file, b.p, flen);
    free(file);
    swlog_buf_clear(&b);
}
END_TEST

/* Junk of about one read window between the damage and the next frame, so
 * the search crosses chunk edges at every alignment (memory and file). */
START_TEST(search_crosses_windows)
{
    uint8_t salt[16];
    salt_of(5, salt);
    size_t lens[1] = {50};
    unsigned seeds[1] = {41};
    const char *path = tmp_path("gap.log");
    for (size_t gap = 65536 - 12; gap <= 65536 + 12; gap++) {
        swlog_buf b;
        swlog_buf_init(&b);
        img_header(&b, salt);
        img_frame(&b, salt, lens[0], seeds[0]);
        size_t x = b.len;
        uint8_t *junk = calloc(1, gap);
        ck_assert_ptr_nonnull(junk);
        ck_assert_int_eq(swlog_buf_append(&b, junk, gap), SWLOG_OK);
        free(junk);
        size_t y = img_frame(&b, salt, 20, 42);
        expect_corrupt(b.p, b.len, 1, lens, seeds, x, y, "SWLOG_EMAGIC");

        write_file(path, b.p, b.len);
        swlog_log *log;
        swlog_error err = {0};
        ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, &err),
                         SWLOG_OK);
        ck_assert_int_eq(read_expect(log, 1, lens, seeds, &err),
                         SWLOG_ECORRUPT);
        ck_assert_uint_eq(err.offset, x);
        swlog_log_close(log);

        /* Without the frame after it, the junk is a torn tail. */
        ck_assert_int_eq(swlog_log_open_mem(b.p, y, &log, &err), SWLOG_OK);
        ck_assert_int_eq(read_expect(log, 1, lens, seeds, &err), 0);
        ck_assert_uint_eq(swlog_log_torn(log), y - x);
        swlog_log_close(log);
        swlog_buf_clear(&b);
    }
}
END_TEST

/* ---- the search after damage, against a naive reference ----------------- */

static uint32_t rng_next(uint64_t *st)
{
    *st = *st * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*st >> 33);
}

/* FORMAT §8.3 read literally: the first y > x where a whole envelope with a
 * matching CRC begins, or 0. */
static size_t naive_search(const uint8_t *p, size_t len, const uint8_t *salt,
                           size_t x)
{
    for (size_t y = x + 1; y + 13 <= len; y++) {
        if (p[y] != 0xf5 || p[y + 1] != 0x1e || p[y + 2] || p[y + 3])
            continue;
        uint32_t n = (uint32_t)p[y + 4] << 24 | (uint32_t)p[y + 5] << 16 |
                     (uint32_t)p[y + 6] << 8 | p[y + 7];
        if (n == 0 || n > SWLOG_MAX_BODY || n + 12 > len - y)
            continue;
        uint32_t c = swlog_crc32c(0, salt, 16);
        c = swlog_crc32c(c, p + y, 8 + (size_t)n);
        const uint8_t *q = p + y + 8 + n;
        if (c == ((uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
                  (uint32_t)q[2] << 8 | q[3]))
            return y;
    }
    return 0;
}

/* Write a valid frame of salt around the body already at p[8..8+n). */
static void seal_in_place(uint8_t *p, uint32_t n, const uint8_t *salt)
{
    uint8_t head[8], crc[4];
    ck_assert_int_eq(swlog_envelope_encode(salt, p + 8, n, head, crc),
                     SWLOG_OK);
    memcpy(p, head, 8);
    memcpy(p + 8 + n, crc, 4);
}

/* Random junk after a damaged frame, sown with fake heads (long and short
 * claimed bodies, overlapping), frames of another salt, and sometimes real
 * frames, some nested inside the bodies of others. */
START_TEST(search_matches_naive)
{
    uint64_t st = 0x9e3779b97f4a7c15u * (uint64_t)(_i + 1);
    uint8_t salt[16], other[16];
    salt_of(20, salt);
    salt_of(21, other);
    size_t junk = 1 + rng_next(&st) % 300000;
    swlog_buf b;
    swlog_buf_init(&b);
    img_header(&b, salt);
    img_frame(&b, salt, 10, 5);
    size_t x = b.len;
    uint8_t *j = malloc(junk);
    ck_assert_ptr_nonnull(j);
    for (size_t i = 0; i < junk; i++)
        j[i] = (uint8_t)rng_next(&st);
    j[0] = 0; /* the frame at x is damaged */
    /* Fakes first, so real frames sown after them stay whole (and hold
     * fakes in their bodies). */
    unsigned heads = rng_next(&st) % 400;
    unsigned reals = _i % 3 == 0 ? 1 + rng_next(&st) % 4 : 0;
    for (unsigned h = 0; h < heads + reals; h++) {
        size_t at = 1 + rng_next(&st) % junk;
        if (at + 13 > junk)
            continue;
        uint32_t room = (uint32_t)(junk - at - 12);
        uint32_t kind = rng_next(&st) % 10;
        uint32_t n = kind < 5 ? 1 + rng_next(&st) % room
                              : 1 + rng_next(&st) % (room < 300 ? room : 300);
        if (h >= heads)
            seal_in_place(j + at, n, salt);
        else if (kind == 9)
            seal_in_place(j + at, n, other);
        else {
            j[at] = 0xf5;
            j[at + 1] = 0x1e;
            j[at + 2] = j[at + 3] = 0;
            j[at + 4] = (uint8_t)(n >> 24);
            j[at + 5] = (uint8_t)(n >> 16);
            j[at + 6] = (uint8_t)(n >> 8);
            j[at + 7] = (uint8_t)n;
        }
    }
    ck_assert_int_eq(swlog_buf_append(&b, j, junk), SWLOG_OK);
    free(j);
    size_t want = naive_search(b.p, b.len, salt, x);

    const char *path = tmp_path("search.log");
    write_file(path, b.p, b.len);
    for (int src = 0; src < 2; src++) {
        swlog_log *log;
        swlog_error err = {0};
        if (src == 0)
            ck_assert_int_eq(swlog_log_open_mem(b.p, b.len, &log, &err),
                             SWLOG_OK);
        else
            ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, &err),
                             SWLOG_OK);
        size_t lens[1] = {10};
        unsigned seeds[1] = {5};
        int rc = read_expect(log, 1, lens, seeds, &err);
        if (want == 0) {
            ck_assert_int_eq(rc, 0);
            ck_assert_uint_eq(swlog_log_torn(log), junk);
        } else {
            ck_assert_int_eq(rc, SWLOG_ECORRUPT);
            char w[64];
            snprintf(w, sizeof w, "valid frame at %zu:", want);
            ck_assert_msg(strstr(err.msg, w) != NULL, "\"%s\" lacks \"%s\"",
                          err.msg, w);
        }
        swlog_log_close(log);
    }
    swlog_buf_clear(&b);
}
END_TEST

/* A long frame whose body holds a short valid frame: the short one's CRC is
 * met first, but the long one starts first and is the one named. */
START_TEST(search_names_the_first_start)
{
    uint8_t salt[16];
    salt_of(22, salt);
    swlog_buf b;
    swlog_buf_init(&b);
    img_header(&b, salt);
    img_frame(&b, salt, 10, 5);
    size_t x = b.len;
    enum { OUTER = 150000, INNER = 40 };
    uint8_t *j = calloc(1, 3 + OUTER + 12);
    ck_assert_ptr_nonnull(j);
    fill_body(j + 3 + 8, OUTER, 77);
    seal_in_place(j + 3 + 8 + 1000, INNER, salt);
    seal_in_place(j + 3, OUTER, salt);
    ck_assert_int_eq(swlog_buf_append(&b, j, 3 + OUTER + 12), SWLOG_OK);
    free(j);
    size_t lens[1] = {10};
    unsigned seeds[1] = {5};
    expect_corrupt(b.p, b.len, 1, lens, seeds, x, x + 3, "SWLOG_EMAGIC");
    swlog_buf_clear(&b);
}
END_TEST

/* The hostile case the streaming search exists for: a head every 8 bytes,
 * each claiming a body to near the end of the file. Linear time, so this
 * takes well under a second (a per-head CRC would take minutes). */
START_TEST(search_is_linear)
{
    enum { S = 4 << 20 };
    uint8_t salt[16];
    salt_of(23, salt);
    uint8_t *p = calloc(1, S);
    ck_assert_ptr_nonnull(p);
    swlog_file_header_encode(salt, p);
    for (size_t y = 40; y + 8 <= S / 2; y += 8) {
        uint32_t n = S / 2 - 12;
        p[y] = 0xf5;
        p[y + 1] = 0x1e;
        p[y + 4] = (uint8_t)(n >> 24);
        p[y + 5] = (uint8_t)(n >> 16);
        p[y + 6] = (uint8_t)(n >> 8);
        p[y + 7] = (uint8_t)n;
    }
    swlog_log *log;
    ck_assert_int_eq(swlog_log_open_mem(p, S, &log, NULL), SWLOG_OK);
    const uint8_t *body;
    size_t len;
    ck_assert_int_eq(swlog_log_next(log, &body, &len, NULL, NULL), 0);
    ck_assert_uint_eq(swlog_log_torn(log), S - 32);
    swlog_log_close(log);
    free(p);
}
END_TEST

/* Frames from a file with another salt fail the CRC (FORMAT §3.1). */
START_TEST(foreign_frames_refused)
{
    uint8_t salt_a[16], salt_b[16];
    salt_of(6, salt_a);
    salt_of(7, salt_b);
    swlog_buf a, other;
    swlog_buf_init(&a);
    swlog_buf_init(&other);
    img_header(&a, salt_a);
    img_frame(&a, salt_a, 64, 51);
    size_t x = a.len;
    /* The same body under the other salt, then nothing: torn. */
    img_frame(&other, salt_b, 64, 52);
    ck_assert_int_eq(swlog_buf_append(&a, other.p, other.len), SWLOG_OK);
    size_t lens[1] = {64};
    unsigned seeds[1] = {51};
    swlog_log *log;
    ck_assert_int_eq(swlog_log_open_mem(a.p, a.len, &log, NULL), SWLOG_OK);
    ck_assert_int_eq(read_expect(log, 1, lens, seeds, NULL), 0);
    ck_assert_uint_eq(swlog_log_torn(log), other.len);
    swlog_log_close(log);
    /* ... and followed by a frame of this file: corrupt at the stranger. */
    size_t y = img_frame(&a, salt_a, 10, 53);
    expect_corrupt(a.p, a.len, 1, lens, seeds, x, y, "SWLOG_ECRC");
    /* A header of salt A over frames of salt B holds no valid frame. */
    swlog_buf c;
    swlog_buf_init(&c);
    img_header(&c, salt_a);
    for (unsigned i = 0; i < 3; i++)
        img_frame(&c, salt_b, 20 + i, 60 + i);
    ck_assert_int_eq(swlog_log_open_mem(c.p, c.len, &log, NULL), SWLOG_OK);
    ck_assert_int_eq(read_expect(log, 0, NULL, NULL, NULL), 0);
    ck_assert_uint_eq(swlog_log_torn(log), c.len - 32);
    swlog_log_close(log);
    swlog_buf_clear(&a);
    swlog_buf_clear(&other);
    swlog_buf_clear(&c);
}
END_TEST

/* ---- headers ------------------------------------------------------------- */

static void fix_header_crc(uint8_t *h)
{
    uint32_t c = swlog_crc32c(0, h, 28);
    h[28] = (uint8_t)(c >> 24);
    h[29] = (uint8_t)(c >> 16);
    h[30] = (uint8_t)(c >> 8);
    h[31] = (uint8_t)c;
}

static int open_mem_code(const uint8_t *p, size_t len, uint64_t *at)
{
    swlog_log *log = NULL;
    swlog_error err = {0};
    int rc = swlog_log_open_mem(p, len, &log, &err);
    ck_assert_int_eq(err.code, rc);
    if (at != NULL)
        *at = err.offset;
    swlog_log_close(log);
    return rc;
}

START_TEST(bad_headers)
{
    uint8_t salt[16], h[40], out[16];
    salt_of(8, salt);
    swlog_file_header_encode(salt, h);
    static const uint8_t magic[8] = {0x89, 'S', 'W', 'L', 'O', 'G', 13, 10};
    ck_assert_mem_eq(h, magic, 8);
    ck_assert_int_eq(h[8], 0);
    ck_assert_int_eq(h[9], 1);
    ck_assert_int_eq(swlog_file_header_decode(h, 32, out, NULL), SWLOG_OK);
    ck_assert_mem_eq(out, salt, 16);
    uint64_t at;
    for (size_t n = 0; n < 32; n++) {
        ck_assert_int_eq(open_mem_code(h, n, &at), SWLOG_ESHORT);
        ck_assert_int_eq(swlog_file_header_decode(h, n, out, NULL),
                         SWLOG_ESHORT);
    }
    /* Every magic byte. */
    for (size_t i = 0; i < 8; i++) {
        h[i] ^= 0x02;
        ck_assert_int_eq(open_mem_code(h, 32, &at), SWLOG_EMAGIC);
        ck_assert_uint_eq(at, 0);
        h[i] ^= 0x02;
    }
    /* Version 2 and 0, with a CRC to match. */
    uint8_t v[32];
    memcpy(v, h, 32);
    v[9] = 2;
    fix_header_crc(v);
    ck_assert_int_eq(open_mem_code(v, 32, &at), SWLOG_EVERSION);
    ck_assert_uint_eq(at, 8);
    v[9] = 0;
    fix_header_crc(v);
    ck_assert_int_eq(open_mem_code(v, 32, &at), SWLOG_EVERSION);
    /* Reserved bits, each byte, with a CRC to match. */
    for (size_t i = 10; i < 12; i++) {
        memcpy(v, h, 32);
        v[i] = 0x80;
        fix_header_crc(v);
        ck_assert_int_eq(open_mem_code(v, 32, &at), SWLOG_ENONCANON);
        ck_assert_uint_eq(at, 10);
    }
    /* Salt and CRC bytes. */
    for (size_t i = 12; i < 32; i++) {
        h[i] ^= 0x10;
        ck_assert_int_eq(open_mem_code(h, 32, &at), SWLOG_ECRC);
        ck_assert_uint_eq(at, 28);
        h[i] ^= 0x10;
    }
    /* Precedence (FORMAT §3.1): version before reserved before CRC. */
    memcpy(v, h, 32);
    v[9] = 3;
    v[11] = 1;
    ck_assert_int_eq(open_mem_code(v, 32, NULL), SWLOG_EVERSION);
    memcpy(v, h, 32);
    v[11] = 1;
    ck_assert_int_eq(open_mem_code(v, 32, NULL), SWLOG_ENONCANON);

    /* Through a file too; and an empty file. */
    const char *path = tmp_path("badhdr.log");
    memcpy(v, h, 32);
    v[9] = 2;
    fix_header_crc(v);
    write_file(path, v, 32);
    swlog_log *log;
    ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, NULL),
                     SWLOG_EVERSION);
    ck_assert_int_eq(swlog_log_open(path, SWLOG_APPEND, &log, NULL),
                     SWLOG_EVERSION);
    write_file(path, v, 0);
    ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, NULL),
                     SWLOG_ESHORT);
    ck_assert_int_eq(
        swlog_log_open(path, SWLOG_APPEND | SWLOG_CREATE, &log, NULL),
        SWLOG_ESHORT);
    ck_assert_int_eq(file_size(path), 0);
}
END_TEST

START_TEST(envelope_layout)
{
    uint8_t salt[16], head[8], crc[4], body[5] = {1, 2, 3, 4, 5};
    salt_of(9, salt);
    ck_assert_int_eq(swlog_envelope_encode(salt, body, 5, head, crc), SWLOG_OK);
    static const uint8_t want_head[8] = {0xf5, 0x1e, 0, 0, 0, 0, 0, 5};
    ck_assert_mem_eq(head, want_head, 8);
    uint8_t all[16 + 8 + 5];
    memcpy(all, salt, 16);
    memcpy(all + 16, head, 8);
    memcpy(all + 24, body, 5);
    uint32_t c = swlog_crc32c(0, all, sizeof all);
    uint8_t want_crc[4] = {(uint8_t)(c >> 24), (uint8_t)(c >> 16),
                           (uint8_t)(c >> 8), (uint8_t)c};
    ck_assert_mem_eq(crc, want_crc, 4);
    ck_assert_int_eq(swlog_envelope_encode(salt, body, 0, head, crc),
                     SWLOG_EBOUNDS);
}
END_TEST

/* ---- a full disk ----------------------------------------------------------
 */

/* Run in a child: RLIMIT_FSIZE stands in for a full disk, with SIGXFSZ
 * ignored so the write fails with EFBIG instead of killing us. */
static int full_disk_child(const char *path, uint64_t size)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 10;
    struct rlimit low = rl;
    low.rlim_cur = (rlim_t)(size + 100);
    if (setrlimit(RLIMIT_FSIZE, &low) != 0)
        return 11;
    swlog_log *log;
    swlog_error err = {0};
    if (swlog_log_open(path, SWLOG_APPEND, &log, &err) != SWLOG_OK)
        return 12;
    uint8_t *big = body_new(500, 71), *small = body_new(50, 72);
    const uint8_t *bodies[2] = {small, big};
    size_t lens[2] = {50, 500};
    /* A group that does not fit: nothing of it may stay. */
    if (swlog_log_append(log, bodies, lens, 2, &err) != SWLOG_EIO)
        return 13;
    if (strstr(err.msg, path) == NULL || strstr(err.msg, "too large") == NULL)
        return 14;
    if (swlog_log_end(log) != size)
        return 15;
    struct stat st;
    if (stat(path, &st) != 0 || (uint64_t)st.st_size != size)
        return 16;
    /* What fits still goes in. */
    if (swlog_log_append(log, bodies, lens, 1, NULL) != SWLOG_OK)
        return 17;
    /* Space comes back. */
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 18;
    if (swlog_log_append(log, bodies + 1, lens + 1, 1, NULL) != SWLOG_OK)
        return 19;
    swlog_log_close(log);
    free(big);
    free(small);
    return 0;
}

START_TEST(full_disk_leaves_file_unchanged)
{
    const char *path = tmp_path("full.log");
    swlog_log *log;
    ck_assert_int_eq(
        swlog_log_open(path, SWLOG_APPEND | SWLOG_CREATE, &log, NULL),
        SWLOG_OK);
    uint8_t *first = body_new(80, 70);
    const uint8_t *fp = first;
    size_t fl = 80;
    ck_assert_int_eq(swlog_log_append(log, &fp, &fl, 1, NULL), SWLOG_OK);
    swlog_log_close(log);
    free(first);
    uint64_t size = (uint64_t)file_size(path);

    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(full_disk_child(path, size));
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child failed at step %d", WEXITSTATUS(status));

    size_t lens[3] = {80, 50, 500};
    unsigned seeds[3] = {70, 72, 71};
    ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, NULL), SWLOG_OK);
    ck_assert_int_eq(read_expect(log, 3, lens, seeds, NULL), 0);
    ck_assert_uint_eq(swlog_log_torn(log), 0);
    swlog_log_close(log);
}
END_TEST

/* ---- read mode never writes ---------------------------------------------- */

START_TEST(read_mode_never_modifies)
{
    uint8_t salt[16];
    salt_of(10, salt);
    swlog_buf b;
    swlog_buf_init(&b);
    img_header(&b, salt);
    size_t lens[3] = {20, 30, 40};
    unsigned seeds[3] = {81, 82, 83};
    size_t at[3];
    for (int i = 0; i < 3; i++)
        at[i] = img_frame(&b, salt, lens[i], seeds[i]);
    const char *path = tmp_path("ro.log");
    /* A torn tail, then a corrupt middle: reading changes neither. */
    for (int variant = 0; variant < 2; variant++) {
        size_t len = variant == 0 ? b.len - 7 : b.len;
        if (variant == 1)
            b.p[at[1] + 10] ^= 1;
        write_file(path, b.p, len);
        struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
        ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
        struct stat before, after;
        ck_assert_int_eq(stat(path, &before), 0);
        swlog_log *log;
        ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, NULL),
                         SWLOG_OK);
        int rc = read_expect(log, 1, lens, seeds, NULL);
        if (variant == 0) {
            const uint8_t *bb;
            size_t l;
            ck_assert_int_eq(rc, 1);
            ck_assert_int_eq(swlog_log_next(log, &bb, &l, NULL, NULL), 0);
            ck_assert_uint_eq(swlog_log_torn(log), lens[2] + 12 - 7);
        } else {
            ck_assert_int_eq(rc, SWLOG_ECORRUPT);
        }
        swlog_log_close(log);
        ck_assert_int_eq(stat(path, &after), 0);
        ck_assert_int_eq(after.st_size, before.st_size);
        ck_assert_int_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
        ck_assert_int_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
        size_t flen;
        uint8_t *file = read_file(path, &flen);
        ck_assert_uint_eq(flen, len);
        ck_assert_mem_eq(file, b.p, len);
        free(file);
    }
    /* A read-only file opens for reading. */
    ck_assert_int_eq(chmod(path, 0444), 0);
    swlog_log *log;
    ck_assert_int_eq(swlog_log_open(path, SWLOG_READ, &log, NULL), SWLOG_OK);
    swlog_log_close(log);
    swlog_buf_clear(&b);
}
END_TEST

Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("roundtrip");
    tcase_add_test(tc, create_append_reopen_read);
    tcase_add_test(tc, one_writer_at_a_time);
    tcase_add_test(tc, open_at_recorded_end);
    tcase_add_test(tc, offsets_and_header_only);
    tcase_add_test(tc, append_bounds_and_modes);
    tcase_add_test(tc, many_frames_stream);
    suite_add_tcase(s, tc);
    tc = tcase_create("damage");
    tcase_add_test(tc, truncate_last_frame_everywhere);
    tcase_add_test(tc, damaged_last_frame_is_torn);
    tcase_add_test(tc, damaged_middle_frame_is_corrupt);
    tcase_add_test(tc, search_crosses_windows);
    tcase_add_test(tc, foreign_frames_refused);
    tcase_add_loop_test(tc, search_matches_naive, 0, 60);
    tcase_add_test(tc, search_names_the_first_start);
    tcase_add_test(tc, search_is_linear);
    suite_add_tcase(s, tc);
    tc = tcase_create("files");
    tcase_add_test(tc, bad_headers);
    tcase_add_test(tc, envelope_layout);
    tcase_add_test(tc, full_disk_leaves_file_unchanged);
    tcase_add_test(tc, read_mode_never_modifies);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(log_suite());
}
