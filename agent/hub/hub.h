/* The hub's logic without HTTP (spec/PROTOCOL.md §3-§4): opens the data
 * folder, recovers what a crash left, and answers requests as JSON or
 * frames bodies. Every function is safe to call from several threads: ingest
 * is serialised by one mutex. */
#ifndef HUB_H
#define HUB_H

#include <stddef.h>
#include <stdint.h>

#include "hub_config.h"
#include "swlog.h"

typedef struct hub hub;

/* Open the hub of cfg: the hub key (pass: its passphrase when sealed, else
 * NULL), the data folder (created), the key registry, then recovery of feed
 * files longer than the store records (agent/hub/README.md "Recovery") and
 * a checkpoint covering every leaf. */
int hub_open(const hub_config *cfg, const char *pass, hub **out,
             swlog_error *err);
void hub_close(hub *h); /* NULL is fine */
/* Commit the replica's transaction that batches left open (agent/hub/
 * README.md "Durability and recovery"): the server calls it every
 * replica_commit_ms, so replica.db's readers lag the answered batches by
 * at most that (or 8 batches). */
void hub_flush(hub *h);

/* Public key of the hub. */
const uint8_t *hub_pubkey(const hub *h);
/* Change-sets hub_open merged again into the replica (catch-up,
 * agent/hub/README.md "Durability and recovery"). */
uint64_t hub_caught_up(const hub *h);
/* Batches committed since the hub opened: pushes that arrive while one
 * runs share the next (agent/hub/README.md "Durability and recovery"). */
uint64_t hub_batches(const hub *h);

/* PROTOCOL §4: ingest a frames body. The JSON answer goes to out; returns
 * the HTTP status (200, 400, 409, 413, 500). */
unsigned hub_push(hub *h, const uint8_t *body, size_t len, swlog_buf *out);
/* PROTOCOL §4.1: head of the feed named by 64 hex characters. */
unsigned hub_head(hub *h, const char *hex, swlog_buf *out);
/* PROTOCOL §4.4: the newest checkpoint. */
unsigned hub_checkpoint(hub *h, swlog_buf *out);
/* PROTOCOL §4.7: the consistency proof between tree sizes from and to
 * (query values as received, NULL when absent); 200, 400 or 500. */
unsigned hub_consistency(hub *h, const char *from, const char *to,
                         swlog_buf *out);
/* PROTOCOL §3: /v1/hello. */
unsigned hub_hello(hub *h, swlog_buf *out);
/* PROTOCOL §4.6: frames of a feed with seq > after, at most limit, as a
 * frames body into out (*is_frames = 1) or a JSON error (*is_frames = 0). */
unsigned hub_frames(hub *h, const char *hex, uint64_t after, uint64_t limit,
                    swlog_buf *out, int *is_frames);

#endif
