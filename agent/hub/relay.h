/* Relay upward (agent/hub/README.md "Relay"): a county hub pushes every feed
 * it holds -- its own feed first (its certificates of the stations' keys),
 * then each feeds/<signer>.log -- to the hub named by upstream_url, frames
 * unchanged, with the push client (agent/client). The client's state tables
 * (marks, the province's receipts and checkpoints) live in DATA/relay.db,
 * apart from hub.db so the relay never waits on the hub's writer. */
#ifndef RELAY_H
#define RELAY_H

#include <signal.h>
#include <stddef.h>

#include "client.h"
#include "hub_config.h"

#define RELAY_MAX_LOGS 65536u /* feed files relayed in one pass */

typedef struct relay relay;

/* One pass: every log, once. rep and *nlogs describe it; SWLOG_OK when the
 * upstream hub acknowledged every frame, else client_sync's code. on_feed
 * (NULL for none) is told each feed's result. */
int relay_pass(const hub_config *cfg, volatile sig_atomic_t *stop,
               client_feed_fn on_feed, void *ctx, client_report *rep,
               size_t *nlogs, swlog_error *err);

/* The relay thread of a serving hub: a pass every relay_interval seconds
 * (sooner when a feed file changed), backoff with jitter after a failure,
 * the folder listed again each pass. Each pass with news or a failure is
 * told on stderr. cfg must outlive the thread. */
int relay_start(const hub_config *cfg, relay **out, swlog_error *err);
/* Set the stop flag (an upload in flight is cut within about a second),
 * join the thread, free. NULL is fine. */
void relay_stop(relay *r);

#endif
