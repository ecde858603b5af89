/* Helper of test_pull.sh.
 *   pulltool headers KEYFILE HUBKEY AFTER LIMIT OFFSET_MS [NONCE|-] [CLAIM]
 *     the four X-Swsync-* header lines of a pull request signed with the
 *     key in KEYFILE, its time shifted by OFFSET_MS, with the given nonce
 *     (32 hex; "-" or absent: random) and claiming key CLAIM (64 hex;
 *     default: the signing key's own) -- forged requests for the tests.
 *   pulltool hash REPLICA.db
 *     merge_content_hash of a replica, 64 hex. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyfile.h"
#include "merge.h"
#include "pullauth.h"
#include "replica.h"

static int headers(char **argv, int argc)
{
    uint8_t pk[SWLOG_PUBKEY_BYTES], hub[SWLOG_PUBKEY_BYTES],
        claim[SWLOG_PUBKEY_BYTES], nonce[PULLAUTH_NONCE_BYTES];
    keyfile_key *k = NULL;
    int kind;
    swlog_error err = {0};
    if (keyfile_load(argv[2], NULL, 0, &kind, pk, &k, &err) != SWLOG_OK) {
        fprintf(stderr, "pulltool: %s: %s\n", argv[2], err.msg);
        return 1;
    }
    if (pullauth_unhex(argv[3], hub, sizeof hub) != 0)
        return 2;
    uint64_t after = strtoull(argv[4], NULL, 10);
    uint64_t limit = strtoull(argv[5], NULL, 10);
    long long off = strtoll(argv[6], NULL, 10);
    if (argc > 7 && strcmp(argv[7], "-") != 0) {
        if (pullauth_unhex(argv[7], nonce, sizeof nonce) != 0)
            return 2;
    } else {
        swlog_random(nonce, sizeof nonce);
    }
    memcpy(claim, k->pk, sizeof claim);
    if (argc > 8 && pullauth_unhex(argv[8], claim, sizeof claim) != 0)
        return 2;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)((long long)ts.tv_sec * 1000 +
                              ts.tv_nsec / 1000000 + off);
    char q[64], nhex[33], khex[65], shex[129], msg[PULLAUTH_MSG_MAX];
    uint8_t sig[PULLAUTH_SIG_BYTES];
    pullauth_query(after, limit, q);
    swlog_hex(nonce, sizeof nonce, nhex);
    swlog_hex(claim, sizeof claim, khex);
    size_t n = pullauth_message("GET", "/v1/pull", q, now, nhex, hub, claim,
                                msg);
    pullauth_sign(k->sk, msg, n, sig);
    swlog_hex(sig, sizeof sig, shex);
    printf("X-Swsync-Key: %s\nX-Swsync-Time: %" PRIu64
           "\nX-Swsync-Nonce: %s\nX-Swsync-Signature: %s\n",
           khex, now, nhex, shex);
    keyfile_key_free(k);
    return 0;
}

static int hash(const char *path)
{
    replica *r = NULL;
    swlog_error err = {0};
    uint8_t h[SWLOG_HASH_BYTES];
    char hex[2 * SWLOG_HASH_BYTES + 1];
    if (replica_open(path, &r, &err) != SWLOG_OK ||
        merge_content_hash(r, h, &err) != SWLOG_OK) {
        fprintf(stderr, "pulltool: %s: %s\n", path, err.msg);
        replica_close(r);
        return 1;
    }
    replica_close(r);
    swlog_hex(h, sizeof h, hex);
    printf("%s\n", hex);
    return 0;
}

int main(int argc, char **argv)
{
    if (swlog_init() != SWLOG_OK)
        return 1;
    if (argc >= 7 && strcmp(argv[1], "headers") == 0)
        return headers(argv, argc);
    if (argc == 3 && strcmp(argv[1], "hash") == 0)
        return hash(argv[2]);
    fprintf(stderr, "usage: pulltool headers KEYFILE HUBKEY AFTER LIMIT "
                    "OFFSET_MS [NONCE|-] [CLAIM]\n       pulltool hash "
                    "REPLICA.db\n");
    return 2;
}
