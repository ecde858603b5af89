/* libFuzzer target: what a hub does with a change-set a station made
 * (PROTOCOL §4.2, MERGE §7): swlog_frame_decode, merge_check against the
 * replica model, and, for a change-set the check passes, the merge itself
 * (merge_changeset_checked, as the hub's replica worker runs it) into a
 * replica, inside a transaction rolled back after each input.
 *
 * Input: one mode byte, then the body (the bits as in fuzz_frame.c):
 *   bit 0  decode with SWLOG_DECODE_NO_SIG (a signer can sign anything, so
 *          the merge must stand any body that decodes);
 *   bit 1  before decoding, set payload_len and payload_hash (§4.1) from
 *          the bytes after header_len + 64, so mutated payloads reach §5.
 * Properties checked (abort() on violation):
 *   - merge_check answers SWLOG_OK or an error code in range, with a
 *     terminated message;
 *   - the merge accepts every change-set merge_check accepted: the check
 *     is the only refusal the merge makes for what a frame holds (PROTOCOL
 *     §4.2), so a hub never stores a frame its replica cannot take;
 *   - the merge leaves the replica's transaction usable (the rollback and
 *     the next BEGIN succeed). */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merge.h"
#include "replica.h"
#include "fuzz_fix.h"
#include "swlog.h"

static replica *rep;
static char path[64] = "/tmp/swsync-fuzz-merge-XXXXXX";

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_merge: property violated: %s\n", what);
        abort();
    }
}

static void cleanup(void)
{
    char side[80];
    replica_close(rep);
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    swlog_error e = {0};
    int fd = mkstemp(path);
    if (fd < 0 || swlog_init() != SWLOG_OK)
        abort();
    close(fd);
    unlink(path); /* replica_open makes a new replica there */
    if (replica_open(path, &rep, &e) != SWLOG_OK) {
        fprintf(stderr, "fuzz_merge: %s\n", e.msg);
        abort();
    }
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    size_t len;
    uint8_t *body = fuzz_body(data, size, &len);
    if (body == NULL)
        return 0;
    swlog_frame f;
    swlog_error err = {0};
    if (swlog_frame_decode(body, len, (mode & 1) ? SWLOG_DECODE_NO_SIG : 0,
                           &f, &err) != SWLOG_OK ||
        !f.known || f.type != SWLOG_TYPE_CHANGESET) {
        free(body);
        return 0;
    }
    int c = merge_check(replica_model(rep), &f, &err);
    check(c == SWLOG_OK || (c < 0 && c >= SWLOG_CODE_MIN),
          "merge_check's code in range");
    check(memchr(err.msg, '\0', sizeof err.msg) != NULL,
          "merge_check's message terminated");
    if (c == SWLOG_OK) {
        check(replica_begin(rep, &err) == SWLOG_OK, "begin");
        int m = merge_changeset_checked(rep, &f, NULL, &err);
        if (m != SWLOG_OK)
            fprintf(stderr, "fuzz_merge: the merge refused a checked "
                            "change-set: %s\n", err.msg);
        check(m == SWLOG_OK, "the merge accepts what merge_check accepts");
        replica_rollback(rep);
    }
    free(body);
    return 0;
}
