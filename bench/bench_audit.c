/* Baseline for swsync-audit's figures (bench/bench_audit.sh): the raw
 * Ed25519 verify rate (libsodium, strict, FORMAT §2.2), SHA-256 and CRC32C
 * throughput on this machine, single-threaded as the auditor is, and the
 * physical limit they set for an archive of frames of BYTES bytes holding
 * RECORDS records each: one signature check, SHA-256 over the body (payload
 * hash and frame id) and CRC32C over it (FORMAT §3.2) per frame.
 *
 * usage: bench_audit BYTES_PER_FRAME RECORDS_PER_FRAME
 * Times are CPU time of this process (machines here are shared and
 * noisy); compare with the auditor's CPU time.
 * prints: verify_per_s sha256_mb_s crc32c_mb_s limit_records_per_s */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "swlog.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); /* CPU: the machine is shared */
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: bench_audit BYTES_PER_FRAME RECORDS_PER_FRAME\n",
              stderr);
        return 2;
    }
    double bytes = atof(argv[1]), records = atof(argv[2]);
    if (swlog_init() != SWLOG_OK || bytes <= 0 || records <= 0)
        return 2;
    /* Ed25519: verify real frames' signatures (a change-set body) through
     * the library, so the figure is what the auditor pays per frame. */
    uint8_t pk[32], sk[64];
    swlog_key_generate(pk, sk);
    swlog_cs *cs = swlog_cs_new();
    uint8_t row[16] = {1};
    swlog_value v = {SWLOG_INT, 1, 0, NULL, 0};
    swlog_cs_upsert(cs, "t", row, 1, NULL);
    swlog_cs_value(cs, "c", 0, &v, NULL);
    swlog_head h = {1, {0}, 1};
    swlog_buf b;
    swlog_buf_init(&b);
    if (swlog_cs_seal(cs, sk, &h, 1, "a", &b, NULL) != SWLOG_OK)
        return 1;
    swlog_frame f;
    /* The signature share: full decode minus decode without signature. */
    int n = 0;
    double t0 = now(), t_sig, t_nosig;
    while (now() - t0 < 1.0 || n < 1000) {
        for (int i = 0; i < 200; i++)
            if (swlog_frame_decode(b.p, b.len, 0, &f, NULL) != SWLOG_OK)
                return 1;
        n += 200;
    }
    t_sig = (now() - t0) / n;
    t0 = now();
    for (int i = 0; i < n; i++)
        swlog_frame_decode(b.p, b.len, SWLOG_DECODE_NO_SIG, &f, NULL);
    t_nosig = (now() - t0) / n;
    double t_verify = t_sig - t_nosig;

    size_t len = 1 << 20;
    uint8_t *buf = malloc(len), out[32];
    if (buf == NULL)
        return 1;
    memset(buf, 0xa5, len);
    int reps = 0;
    t0 = now();
    while (now() - t0 < 1.0 || reps < 16) {
        swlog_sha256(buf, len, out);
        reps++;
    }
    double sha = (double)len * reps / (now() - t0);
    reps = 0;
    uint32_t crc = 0;
    t0 = now();
    while (now() - t0 < 1.0 || reps < 16) {
        crc = swlog_crc32c(crc, buf, len);
        reps++;
    }
    double crcr = (double)len * reps / (now() - t0);
    double per_frame = t_verify + bytes / sha + bytes / crcr;
    printf("%.0f %.1f %.1f %.0f\n", 1.0 / t_verify, sha / 1e6, crcr / 1e6,
           records / per_frame);
    if (crc == 1)
        putchar('\n'); /* keep the CRC loop */
    free(buf);
    swlog_buf_clear(&b);
    swlog_cs_free(cs);
    return 0;
}
