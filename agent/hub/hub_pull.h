/* The pull endpoint (spec/PROTOCOL.md §10): GET /v1/pull?after=N&limit=M
 * answers the change-sets the hub authored in its own feed for the
 * requesting station (its unit, or "*": every station of the county) with
 * seq > N, as a frames body. The request is authenticated with the
 * station's feed key (pullauth.h): the key must be certified by this hub
 * as a station, valid now and not revoked; the time within
 * HUB_PULL_WINDOW_MS of the hub's clock; the nonce not seen before within
 * the window. */
#ifndef HUB_PULL_H
#define HUB_PULL_H

#include <stdint.h>

#include "hub.h"
#include "swlog.h"

#define HUB_PULL_WINDOW_MS 300000u /* ±5 minutes */
#define HUB_PULL_NONCES 8192u      /* nonces remembered within the window */

/* The request as the HTTP layer found it (NULL: absent). */
typedef struct hub_pull_req {
    const char *key, *time, *nonce, *sig; /* X-Swsync-Key, -Time, -Nonce,
                                             -Signature headers */
    const char *after, *limit;            /* query arguments */
} hub_pull_req;

/* The answer: a frames body (*is_frames = 1, status 200) or a PROTOCOL §2
 * JSON error: 400 bad_request, 401 unauthorized, 403 forbidden, 500
 * internal, 503 busy (the nonce cache is full). */
unsigned hub_pull(hub *h, const hub_pull_req *q, swlog_buf *out,
                  int *is_frames);

/* The frames a pull by station key would be answered, without a request
 * (swsync-hub import-bundle's reply, PROTOCOL §9.1, where the station was
 * authenticated by the signatures of its bundle): a frames body in out
 * with the hub's frames of seq > after addressed to the key's unit or to
 * "*", in increasing seq, at most max_frames and max_bytes of body (the
 * first frame only when it fits). *n frames; *more = 1 when frames were
 * left out. SWLOG_EINVAL with a message when the key is not a station key
 * certified by this hub and valid now (no frames for it). */
int hub_pull_frames(hub *h, const uint8_t key[SWLOG_PUBKEY_BYTES],
                    uint64_t after, uint64_t max_frames, uint64_t max_bytes,
                    swlog_buf *out, uint64_t *n, int *more, swlog_error *err);

struct hub_nonces;
void hub__nonces_free(struct hub_nonces *n); /* NULL is fine */

#endif
