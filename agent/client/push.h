/* Push of one feed to a hub (PROTOCOL §4): ask the hub's head, send the
 * frames after it from a log file in bounded batches, verify each receipt,
 * store it, and only then move the acknowledged mark. */
#ifndef PUSH_H
#define PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "state.h"
#include "swlog.h"

#define PUSH_MAX_FRAMES 256u       /* PROTOCOL §5 MAX_PUSH_FRAMES */
#define PUSH_MAX_BYTES 16777216u   /* PROTOCOL §5 MAX_PUSH_BYTES */
#define PUSH_MAX_CHECKPOINT 4096u  /* bytes of a receipt's checkpoint body */

typedef struct push_ctx {
    http_client *http;
    state *st;
    const char *base_url;                 /* "https://hub:8443", no slash */
    uint8_t hub_key[SWLOG_PUBKEY_BYTES];  /* who must sign receipts */
    size_t max_frames, max_bytes;         /* per batch, within §5 */
    int64_t now_ms;                       /* for the state's times */
} push_ctx;

typedef struct push_result {
    uint64_t local_seq;  /* last seq of the feed in the log */
    uint64_t hub_seq;    /* the hub's head after the push */
    uint64_t acked_seq;  /* the acknowledged mark after the push */
    uint64_t batches, frames_sent, accepted, duplicate;
    uint64_t refused_seq; /* first refused frame, 0 when none */
    http_resp last;      /* status/Retry-After/error of the last answer */
} push_result;

/* Push feed's frames from the log at log_path (which may hold other feeds
 * too); local_seq is the feed's last seq in that log. SWLOG_OK when the
 * hub acknowledged everything; CLIENT_EREFUSED when it refused a frame
 * (recorded in the state with its reason; later frames of the feed wait);
 * transport and protocol codes otherwise (client_codes.h). *r is filled
 * as far as the push went (free r->last with http_resp_clear). */
int push_feed(push_ctx *c, const char *log_path,
              const uint8_t feed[SWLOG_PUBKEY_BYTES], uint64_t local_seq,
              push_result *r, swlog_error *err);

/* Batch building, exposed for tests: append body[0..len) as one frame of
 * a frames body (FORMAT §3: the file header is written first, when out is
 * empty). */
int push_body_add(swlog_buf *out, const uint8_t salt[SWLOG_SALT_BYTES],
                  const uint8_t *body, size_t len, swlog_error *err);

/* Parse and verify a push answer for the n frames (seq[i], id[i]) of feed
 * that were sent: results in order, the checkpoint signed by hub_key, every
 * inclusion proof against its root. Fills items[0..*n_ok) for the leading
 * accepted/duplicate frames, and *bad (index of the first frame not
 * accepted, n when none) with its status/error/message. Pure: no I/O. */
typedef struct push_answer {
    size_t n_ok, bad;
    char status[16], error[48], message[200];
    uint64_t accepted, duplicate;
    const uint8_t *ckpt; /* into the decoded buffer ckpt_buf */
    size_t ckpt_len;
    uint8_t ckpt_buf[PUSH_MAX_CHECKPOINT];
    uint8_t ckpt_id[SWLOG_HASH_BYTES];
    uint64_t tree_size;
} push_answer;
int push_answer_verify(const char *json, size_t len,
                       const uint8_t feed[SWLOG_PUBKEY_BYTES],
                       const uint64_t *seq,
                       const uint8_t (*id)[SWLOG_HASH_BYTES], size_t n,
                       const uint8_t hub_key[SWLOG_PUBKEY_BYTES],
                       state_item *items, push_answer *a, swlog_error *err);

#endif
