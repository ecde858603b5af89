/* libFuzzer target: a whole log file in memory (FORMAT §3, §8.3) through
 * swlog_log_open_mem and swlog_log_next to the end, each frame's body
 * through swlog_frame_decode.
 *
 * Input: one mode byte, then the file.
 *   bit 0  before reading, set the header CRC and, frame by frame while the
 *          envelopes parse, each frame's CRC (§3.1, §3.2) as a writer would:
 *          without it mutations rarely get past the CRC check;
 *   bit 1  also set each body's payload_len and payload_hash (§4.1) first;
 *   bit 2  decode bodies with signatures (else SWLOG_DECODE_NO_SIG).
 * Properties checked (abort() on violation): frames come back in file order,
 * inside the input and after the header; the end and the torn tail stay
 * inside the input; errors are codes of FORMAT §11 with in-range offsets. */
#include "fuzz_fix.h"
#include "swlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More frames than any input up to -max_len can hold (12 bytes each). */
#define MAX_STEPS 1000000u

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_log: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (swlog_init() != SWLOG_OK)
        abort();
    return 0;
}

static uint32_t load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void store_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* What a writer would have stored: header CRC, then per-frame CRCs. */
static void fix_file(uint8_t *f, size_t len, int payloads)
{
    if (len < SWLOG_FILE_HEADER_BYTES)
        return;
    store_u32(f + 28, swlog_crc32c(0, f, 28));
    const uint8_t *salt = f + 12;
    uint32_t salted = swlog_crc32c(0, salt, SWLOG_SALT_BYTES);
    size_t off = SWLOG_FILE_HEADER_BYTES;
    for (unsigned i = 0; i < MAX_STEPS && len - off >= 8; i++) {
        uint8_t *env = f + off;
        size_t blen = load_u32(env + 4);
        if (env[0] != 0xf5 || env[1] != 0x1e || blen == 0 ||
            blen > SWLOG_MAX_BODY || blen + 12 > len - off)
            return;
        if (payloads)
            fuzz_fix_payload(env + 8, blen);
        store_u32(env + 8 + blen, swlog_crc32c(salted, env, 8 + blen));
        off += 12 + blen;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    size_t len = size - 1;
    uint8_t *file = malloc(len ? len : 1);
    if (file == NULL)
        return 0;
    memcpy(file, data + 1, len);
    if (mode & 1)
        fix_file(file, len, (mode & 2) != 0);

    swlog_log *log = NULL;
    swlog_error err = {0};
    int r = swlog_log_open_mem(file, len, &log, &err);
    if (r != SWLOG_OK) {
        check(r < 0 && r >= SWLOG_CODE_MIN && err.code == r, "open error");
        check(err.offset <= len, "open error offset");
        check(log == NULL, "no log object on failure");
        free(file);
        return 0;
    }
    check(log != NULL, "log object");
    check(len >= SWLOG_FILE_HEADER_BYTES, "header accepted");

    unsigned flags = (mode & 4) ? 0 : SWLOG_DECODE_NO_SIG;
    uint64_t last = 0;
    for (unsigned i = 0; i < MAX_STEPS; i++) {
        const uint8_t *body;
        size_t blen;
        uint64_t off;
        swlog_error e = {0};
        r = swlog_log_next(log, &body, &blen, &off, &e);
        if (r != 1) {
            check(r == 0 || (r < 0 && r >= SWLOG_CODE_MIN && e.code == r),
                  "log_next result");
            check(r == 0 || e.offset <= len, "log_next error offset");
            break;
        }
        check(i + 1 < MAX_STEPS, "bounded number of frames");
        check(off >= SWLOG_FILE_HEADER_BYTES && off >= last, "frame order");
        check(blen >= 1 && blen <= SWLOG_MAX_BODY, "body_len bounds");
        check(off + 12 + blen <= len, "frame inside the file");
        last = off + 12 + blen;
        swlog_frame f;
        swlog_error fe = {0};
        if (swlog_frame_decode(body, blen, flags, &f, &fe) == SWLOG_OK)
            check(f.body_len == blen, "decoded body length");
    }
    check(swlog_log_end(log) <= len, "end inside the file");
    check(swlog_log_torn(log) <= len, "torn tail inside the file");
    swlog_log_close(log);
    free(file);
    return 0;
}
