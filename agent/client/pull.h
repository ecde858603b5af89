/* The station's pull (spec/PROTOCOL.md §10, agent/README.md "Pull"): fetch
 * the change-sets its county hub authored for it (or for every station of
 * the county) after its cursor, with requests signed by the station key;
 * import each answer as a bundle is imported (bundle.h: strict decode,
 * signature by the trusted hub key, increasing seq, merge with the cursor
 * in one SQLite transaction, frames kept in inbox/). */
#ifndef PULL_H
#define PULL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "replica.h"
#include "swlog.h"

#define PULL_MAX_ROUNDS 100000u /* requests in one pull */
#define PULL_MAX_ANSWER (16u * 1024u * 1024u + 65536u) /* bytes of one */

typedef struct pull_config {
    const char *hub_url, *hub_ca;
    const uint8_t *hub_key;     /* trusted signer of the frames */
    const uint8_t *station_pk;  /* the station's feed key ... */
    const uint8_t *station_sk;  /* ... and its secret, to sign requests */
    const char *inbox;          /* where pulled frames are kept (or NULL) */
    uint32_t limit;             /* frames per request; 0 = the hub's max */
    volatile sig_atomic_t *stop;
} pull_config;

typedef struct pull_result {
    uint64_t requests, bytes;   /* HTTPS requests and answer bytes */
    uint64_t cursor_before, cursor; /* hub feed seq merged up to */
    bundle_stats st;            /* summed over the answers */
    long status;                /* the last HTTP status (0: no answer) */
} pull_result;

/* Pull until the hub has nothing more after the cursor. Each answer is
 * merged and the cursor moved in one transaction, so a stop or crash
 * between answers loses nothing and merges nothing twice. Also records
 * the try in _sw_pull_state (for status). */
int pull_run(replica *r, const pull_config *cfg, pull_result *res,
             swlog_error *err);

/* "cursor N, last pull ..." lines for status (appends to out). */
int pull_status_text(replica *r, swlog_buf *out, swlog_error *err);

#endif
