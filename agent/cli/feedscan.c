/* A read-only pass over the station's log (feedscan.h): FORMAT §8.1 chain
 * of the station's own feed, §8.3 torn tails and damage. Streams: one
 * frame at a time. */
#include "feedscan.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int feedscan_run(const char *path, const uint8_t pk[SWLOG_PUBKEY_BYTES],
                 feedscan *fs, swlog_error *err)
{
    uint64_t want = fs->want_seq;
    memset(fs, 0, sizeof *fs);
    fs->want_seq = want;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return SWLOG_OK;
        return swlog_fail(err, SWLOG_EIO, 0, "%s: %s", path,
                          strerror(errno));
    }
    fs->exists = 1;
    swlog_log *log = NULL;
    int rc = swlog_log_open(path, SWLOG_READ, &log, err);
    if (rc != SWLOG_OK)
        return rc;
    const uint8_t *body;
    size_t len;
    uint64_t off;
    swlog_error e = {0};
    while ((rc = swlog_log_next(log, &body, &len, &off, &e)) == 1) {
        swlog_frame f;
        swlog_error fe = {0};
        fs->frames++;
        if (swlog_frame_decode(body, len, 0, &f, &fe) != SWLOG_OK) {
            swlog_fail(&fs->problem, fe.code, off,
                       "frame at offset %llu: %s", (unsigned long long)off,
                       fe.msg);
            continue;
        }
        if (memcmp(f.signer, pk, SWLOG_PUBKEY_BYTES) != 0) {
            fs->foreign++;
            continue;
        }
        /* FORMAT §8.1: 1, 2, 3... each naming the one before. */
        if (f.seq != fs->last_seq + 1)
            swlog_fail(&fs->problem, SWLOG_ESEQ, off,
                       "frame at offset %llu: seq %llu follows seq %llu",
                       (unsigned long long)off, (unsigned long long)f.seq,
                       (unsigned long long)fs->last_seq);
        else if (fs->last_seq > 0 &&
                 memcmp(f.prev, fs->last_id, SWLOG_HASH_BYTES) != 0)
            swlog_fail(&fs->problem, SWLOG_ECHAIN, off,
                       "frame at offset %llu: seq %llu does not name the "
                       "frame before it", (unsigned long long)off,
                       (unsigned long long)f.seq);
        fs->own++;
        fs->last_seq = f.seq;
        memcpy(fs->last_id, f.id, SWLOG_HASH_BYTES);
        fs->last_hlc = f.hlc;
        if (want != 0 && f.seq == want) {
            fs->have_want = 1;
            memcpy(fs->want_id, f.id, SWLOG_HASH_BYTES);
            fs->want_hlc = f.hlc;
        }
    }
    if (rc < 0) {
        /* Damage inside the file (FORMAT §8.3): reported, not fatal. */
        swlog_fail(&fs->problem, e.code, e.offset, "%s", e.msg);
        rc = SWLOG_OK;
    }
    fs->torn = swlog_log_torn(log);
    swlog_log_close(log);
    return rc;
}
