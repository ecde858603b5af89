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

struct hub_nonces;
void hub__nonces_free(struct hub_nonces *n); /* NULL is fine */

#endif
