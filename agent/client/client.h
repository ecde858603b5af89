/* The push client shared by stations and hubs (agent/client/README.md):
 * push every feed found in a set of log files to one hub, verifying and
 * keeping its receipts, once (client_sync) or for as long as the process
 * runs (client_run). A station passes its station.log; a county hub passes
 * every feed file it holds, its own included, and relays them unchanged. */
#ifndef CLIENT_H
#define CLIENT_H

#include <signal.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "client_codes.h"
#include "push.h"
#include "swlog.h"

#define CLIENT_MAX_FEEDS 4096u /* feeds in one log file */

/* Called after each feed's push (rc its result, err its failure) so a
 * command can print a line; NULL for none. */
typedef void (*client_feed_fn)(void *ctx, const char *log_path,
                               const uint8_t feed[SWLOG_PUBKEY_BYTES],
                               const push_result *r, int rc,
                               const swlog_error *err);

typedef struct client_config {
    const char *hub_url;     /* "https://host:port", no path */
    const char *hub_ca;      /* CA file that signs the hub's certificate */
    const char *hub_key_hex; /* the hub's signing key; NULL or "" = pin the
                              * key /v1/hello names on first contact */
    long connect_timeout_s, low_speed_bytes, low_speed_time_s,
        total_timeout_s; /* 0 = http.h's defaults */
    size_t max_frames, max_bytes; /* per batch; 0 = PROTOCOL §5 / hello */
    volatile sig_atomic_t *stop;  /* set by SIGTERM/SIGINT handlers */
    client_feed_fn on_feed;
    void *ctx;
} client_config;

typedef struct client_report {
    size_t feeds, feeds_ok, feeds_failed, feeds_refused;
    uint64_t frames_sent, accepted, duplicate, waiting;
    uint32_t retry_after_s; /* the largest Retry-After the hub asked for */
    int hub_unreachable;    /* the pass stopped: no point trying others */
} client_report;

typedef struct client client;

/* state_db holds the state tables (state.h); it stays the caller's. */
int client_new(const client_config *cfg, sqlite3 *state_db, client **out,
               swlog_error *err);
void client_free(client *c); /* NULL is fine */

/* One pass: /v1/hello (protocol, the hub's key and limits), then every feed
 * of every log. A feed the hub refuses or that fails otherwise is recorded
 * in the state and the others go on; a transport failure (no answer, TLS,
 * 5xx, 408) or a stop ends the pass. SWLOG_OK when every feed is fully
 * acknowledged; else the first failure's code, described in err. */
int client_sync(client *c, const char *const *logs, size_t nlogs,
                client_report *rep, swlog_error *err);

/* Called before each pass of client_run (e.g. to seal new changes); a
 * failure is reported through on_pass and the pass goes on. */
typedef int (*client_prepare_fn)(void *ctx, swlog_error *err);
/* Called after each pass with its result and the wait chosen. */
typedef void (*client_pass_fn)(void *ctx, int rc, const swlog_error *err,
                               const client_report *rep, uint32_t wait_ms);

/* Sync until *cfg->stop is set: after a pass that left nothing failing,
 * wait interval_s seconds or until a log file grows; after a failure, wait
 * by exponential backoff with jitter (backoff.h, Retry-After honoured).
 * Sleeps, never spins. Returns SWLOG_OK when stopped. */
int client_run(client *c, const char *const *logs, size_t nlogs,
               uint32_t interval_s, client_prepare_fn prepare,
               client_pass_fn on_pass, void *ctx, swlog_error *err);

/* Sync state in words and as one JSON object, for `status`: see
 * state_status_text / state_status_json (appends to out). */
int client_status_text(sqlite3 *db, swlog_buf *out, swlog_error *err);
int client_status_json(sqlite3 *db, swlog_buf *out, swlog_error *err);

/* Milliseconds since the epoch (wall clock). */
int64_t client_now_ms(void);

#endif
