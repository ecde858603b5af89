/* swsync-hub: the county (or provincial) hub's HTTPS server (PROTOCOL.md,
 * agent/hub/README.md). Runs until SIGTERM or SIGINT, then stops accepting,
 * lets requests in flight finish and closes cleanly. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "author_cmd.h"
#include "conflict_cmd.h"
#include "hub.h"
#include "import_bundle.h"
#include "replica.h"
#include "hub_config.h"
#include "hub_content.h"
#include "hub_http.h"
#include "hub_pagecache.h"
#include "keyfile.h"
#include "ledger.h"
#include "merge.h"
#include "relay.h"

static const char usage[] =
    "usage: swsync-hub --config HUB.CONF [--port-file FILE] [--check]\n"
    "       swsync-hub relay --config HUB.CONF\n"
    "       swsync-hub ledger --config HUB.CONF --out FILE\n"
    "       swsync-hub content-hash --config HUB.CONF\n"
    "       swsync-hub change --config HUB.CONF [--operator NAME] TABLE ID\n"
    "                  COLUMN=VALUE...\n"
    "       swsync-hub add --config HUB.CONF [--operator NAME] TABLE\n"
    "                  COLUMN=VALUE...\n"
    "       swsync-hub transfer --config HUB.CONF [--operator NAME] CASE_ID\n"
    "                  --to UNIT_CODE\n"
    "       swsync-hub import-bundle --config HUB.CONF FILE --reply OUT\n"
    "       swsync-hub conflicts --config HUB.CONF [--json] [--reveal]\n"
    "       swsync-hub resolve --config HUB.CONF [--operator NAME] ID\n"
    "                  --keep winner|loser|VALUE\n"
    "\n"
    "Serve the swsync sync protocol (spec/PROTOCOL.md) over HTTPS: verify\n"
    "pushed frames, store them verbatim in the data folder, merge them into\n"
    "the hub replica, and answer each batch with a signed receipt.\n"
    "\n"
    "  --config FILE     the hub's configuration (below)\n"
    "  --port-file FILE  write the port bound, once listening (port = 0\n"
    "                    in the configuration picks a free one)\n"
    "  --check           open the data folder (running recovery), then exit\n"
    "\n"
    "With upstream_url set, the serving hub also relays every feed it holds\n"
    "to that hub (agent/hub/README.md \"Relay\").\n"
    "\n"
    "  relay             one relay pass now (the hub may be running), then\n"
    "                    exit: 0 all acknowledged, 3 a frame refused\n"
    "                    upstream, 4 upstream unreachable or failing\n"
    "  ledger --out FILE the accepted frames in Merkle-leaf order as a log\n"
    "                    file for swsync-audit --ledger (SECURITY.md 8.5)\n"
    "  content-hash      the hub replica's merge_content_hash, 64 hex\n"
    "\n"
    "County-authored changes (the hub must be stopped: they take the data\n"
    "folder's lock; agent/hub/README.md \"County-authored changes\"): each\n"
    "is a change-set signed with the hub key in the hub's own feed, merged\n"
    "into the hub replica, addressed to the station owning the rows (or to\n"
    "every station of the county for rows owned by the hub's unit), and\n"
    "fetched by that station with an authenticated pull (PROTOCOL §10).\n"
    "  change TABLE ID COLUMN=VALUE...  new values for columns of a row of\n"
    "                    the hub replica, validated as at a station\n"
    "                    (COLUMN= empties it); exit 3 when refused\n"
    "  add TABLE COLUMN=VALUE...        a new row (its id is printed)\n"
    "  transfer CASE_ID --to UNIT_CODE  the case, its child rows, its client\n"
    "                    and the client's categories move to that station:\n"
    "                    it receives their full state; the old owner is\n"
    "                    told the new owner once, then nothing more\n"
    "  --operator NAME   the author recorded in the change-sets (county)\n"
    "  conflicts         the conflicts waiting for review (MERGE 5.5), each\n"
    "                    with its short ID; values of personal and sensitive\n"
    "                    columns are hidden unless --reveal (the operator\n"
    "                    may see them; never paste them into tickets)\n"
    "  resolve ID --keep winner|loser|VALUE  write the chosen value to the\n"
    "                    conflict's column as a change-set in the hub's feed,\n"
    "                    sent to the row's station by pull; the conflict\n"
    "                    leaves the list everywhere that merges it (exit 2:\n"
    "                    unknown ID or a deleted row, 3: value refused)\n"
    "\n"
    "Configuration, `key = value` lines, `#` comments; relative paths are\n"
    "taken from the configuration file's folder:\n"
    "  tls_cert, tls_key    PEM certificate (chain) and unencrypted key\n"
    "  hub_key              the hub's signing key file (swsync-keys new)\n"
    "  passphrase_env       environment variable holding hub_key's\n"
    "                       passphrase, when it is sealed\n"
    "  data                 data folder (created): hub.db, replica.db,\n"
    "                       feeds/, hub.log\n"
    "  own_log              the hub key's feed (default DATA/hub.log): its\n"
    "                       certificates (swsync-keys certify) and checkpoints\n"
    "  root_key             the province root's public key, 64 hex\n"
    "  trust_log            a log of key frames to trust, e.g. the root's\n"
    "                       (repeat the key for more; at most 16)\n"
    "  unit                 the hub's unit code, shown in /v1/hello\n"
    "  listen, port         address (default 127.0.0.1) and port (8443)\n"
    "  max_push_bytes       body bytes per push (16777216)\n"
    "  max_push_frames      frames per push (256)\n"
    "  memory_budget        request body bytes held at once (67108864)\n"
    "  connection_limit     connections at once (64)\n"
    "  connection_timeout   seconds a connection may stay idle (30)\n"
    "  max_clock_skew_ms    how far a frame's time may be ahead (600000)\n"
    "  max_parked           refused frames kept as evidence (1000)\n"
    "  shutdown_grace       seconds SIGTERM waits for requests (20)\n"
    "  upstream_url         relay to this hub, https://host:port\n"
    "  upstream_ca          CA file of the upstream hub's certificate\n"
    "  upstream_key         its signing key, 64 hex (else pinned at first\n"
    "                       contact, in DATA/relay.db)\n"
    "  relay_interval       seconds between relay passes (60; sooner when\n"
    "                       this hub accepts frames)\n"
    "\n"
    "Exit codes: 0 stopped cleanly (or done); 1 failure (message says what);\n"
    "2 bad command line; relay: 3 and 4 as above.\n";

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void relay_feed_line(void *ctx, const char *log_path,
                            const uint8_t feed[SWLOG_PUBKEY_BYTES],
                            const push_result *r, int rc,
                            const swlog_error *err)
{
    (void)ctx;
    (void)r;
    char hex[65];
    swlog_hex(feed, SWLOG_PUBKEY_BYTES, hex);
    if (rc != SWLOG_OK)
        fprintf(stderr, "swsync-hub: relay: %s feed %.16s…: %s: %s\n",
                log_path, hex, client_code_name(rc), err->msg);
}

static int cmd_relay(const hub_config *cfg)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    client_report rep;
    size_t nlogs = 0;
    swlog_error err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = relay_pass(cfg, &g_stop, relay_feed_line, NULL, &rep, &nlogs,
                        &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("relay to %s: %zu files, feeds %zu ok %zu refused %zu failed %zu, "
           "frames sent %llu accepted %llu duplicate %llu, %.3f s\n",
           cfg->upstream_url, nlogs, rep.feeds, rep.feeds_ok,
           rep.feeds_refused, rep.feeds_failed,
           (unsigned long long)rep.frames_sent,
           (unsigned long long)rep.accepted,
           (unsigned long long)rep.duplicate, s);
    printf("result: %s\n", client_code_name(rc));
    if (rc == SWLOG_OK)
        return 0;
    fprintf(stderr, "swsync-hub: relay: %s\n", err.msg);
    if (cfg->upstream_url[0] == '\0')
        return 1;
    if (rc == CLIENT_EREFUSED || rc == CLIENT_EFEED)
        return 3;
    return 4;
}

static int cmd_ledger(const hub_config *cfg, const char *out)
{
    uint64_t n = 0;
    swlog_error err = {0};
    if (ledger_export(cfg->data, out, &n, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: ledger: %s\n", err.msg);
        return 1;
    }
    printf("%s: %llu frames in leaf order\n", out, (unsigned long long)n);
    return 0;
}

/* How long content-hash waits for a running hub to commit what it merged
 * (it does every replica_commit_ms, 100 by default). */
#define CONTENT_WAIT_MS 5000

static int cmd_content_hash(const hub_config *cfg)
{
    char path[HUB_CONFIG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/replica.db", cfg->data);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "swsync-hub: content-hash: %s: %s (is data a hub's "
                        "data folder?)\n", path, strerror(errno));
        return 1;
    }
    hub_content c;
    swlog_error err = {0};
    if (hub_content_read(cfg->data, CONTENT_WAIT_MS, &c, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: content-hash: %s\n", err.msg);
        return 1;
    }
    if (c.merged < c.leaves)
        fprintf(stderr,
                "swsync-hub: content-hash: replica.db has merged %llu of "
                "hub.db's %llu leaves; this is the hash of those (%s)\n",
                (unsigned long long)c.merged, (unsigned long long)c.leaves,
                c.running ? "the running hub is still merging"
                          : "the hub merges the rest at its next start");
    char hex[2 * SWLOG_HASH_BYTES + 1];
    swlog_hex(c.hash, sizeof c.hash, hex);
    printf("%s\n", hex);
    return 0;
}

static int write_port(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (fp == NULL)
        return -1;
    fprintf(fp, "%u\n", port);
    if (fclose(fp) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf = NULL, *port_file = NULL, *out = NULL, *sub = NULL;
    int check = 0, first = 1;
    /* Before any connection: SQLite's allocation statistics take a global
     * mutex on every malloc and free, a few percent of a merge, and the
     * hub never reads them (sqlite3_memory_used). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (argc > 1 && (strcmp(argv[1], "change") == 0 ||
                     strcmp(argv[1], "add") == 0 ||
                     strcmp(argv[1], "transfer") == 0)) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0) {
                fputs(usage, stdout);
                return 0;
            }
        return author_cmd_main(argc, argv);
    }
    if (argc > 1 && (strcmp(argv[1], "conflicts") == 0 ||
                     strcmp(argv[1], "resolve") == 0)) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0) {
                fputs(usage, stdout);
                return 0;
            }
        return conflict_cmd_main(argc, argv);
    }
    if (argc > 1 && strcmp(argv[1], "import-bundle") == 0)
        return import_bundle_main(argc - 1, argv + 1);
    if (argc > 1 && (strcmp(argv[1], "relay") == 0 ||
                     strcmp(argv[1], "ledger") == 0 ||
                     strcmp(argv[1], "content-hash") == 0)) {
        sub = argv[1];
        first = 2;
    }
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            conf = argv[++i];
        } else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
            port_file = argv[++i];
        } else if (sub != NULL && strcmp(sub, "ledger") == 0 &&
                   strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (sub == NULL && strcmp(argv[i], "--check") == 0) {
            check = 1;
        } else {
            fprintf(stderr, "swsync-hub: unknown argument '%.60s'\n%s",
                    argv[i], usage);
            return 2;
        }
    }
    if (conf == NULL || (sub != NULL && strcmp(sub, "ledger") == 0 &&
                         out == NULL) ||
        (sub != NULL && (port_file != NULL))) {
        fputs(usage, stderr);
        return 2;
    }
    if (swlog_init() != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: libsodium failed to start\n");
        return 1;
    }
    hub_config cfg;
    swlog_error err = {0};
    /* No replica_process_init() here: with its raised statement-journal
     * spill, SQLite 3.40 fails a statement whose journal passes the spill
     * (merging a 50-record change-set into a replica of a few hundred rows)
     * with SQLITE_FULL; agent/README.md "Cost of capture". */
    hub_config_defaults(&cfg);
    if (hub_config_load(&cfg, conf, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: %s\n", err.msg);
        return 1;
    }
    if (sub != NULL && strcmp(sub, "relay") == 0)
        return cmd_relay(&cfg);
    if (sub != NULL && strcmp(sub, "ledger") == 0)
        return cmd_ledger(&cfg, out);
    if (sub != NULL)
        return cmd_content_hash(&cfg);
    const char *pass = NULL;
    if (cfg.passphrase_env[0] != '\0' &&
        (pass = getenv(cfg.passphrase_env)) == NULL) {
        fprintf(stderr, "swsync-hub: %s: passphrase_env names %s, which is "
                        "not set\n", conf, cfg.passphrase_env);
        return 1;
    }
    /* The page cache for every connection, reserved before the first one
     * opens (README "Limits and memory"); on failure SQLite allocates pages itself. */
    (void)hub_pagecache_reserve(HUB_PAGECACHE_BYTES);
    /* Block the stop signals before any thread starts, so only sigwait
     * below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    hub *h = NULL;
    if (hub_open(&cfg, pass, &h, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: %s (%s)\n", err.msg,
                keyfile_code_name(err.code));
        return 1;
    }
    char pkhex[65];
    swlog_hex(hub_pubkey(h), SWLOG_PUBKEY_BYTES, pkhex);
    if (hub_caught_up(h) > 0)
        fprintf(stderr, "swsync-hub: replica.db was behind hub.db: %llu "
                        "change-sets merged again from the feed files\n",
                (unsigned long long)hub_caught_up(h));
    if (check) {
        printf("swsync-hub: %s: data folder %s opened, hub key %s\n", conf,
               cfg.data, pkhex);
        hub_close(h);
        return 0;
    }
    hub_http *s = NULL;
    unsigned port = 0;
    if (hub_http_start(h, &cfg, &s, &port, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: %s\n", err.msg);
        hub_close(h);
        return 1;
    }
    if (port_file != NULL && write_port(port_file, port) != 0) {
        fprintf(stderr, "swsync-hub: cannot write %s: %s\n", port_file,
                strerror(errno));
        hub_http_stop(s);
        hub_close(h);
        return 1;
    }
    fprintf(stderr, "swsync-hub: listening on https://%s:%u/, hub key %s\n",
            cfg.listen, port, pkhex);
    relay *rl = NULL;
    if (cfg.upstream_url[0] != '\0') {
        if (relay_start(&cfg, &rl, &err) != SWLOG_OK) {
            fprintf(stderr, "swsync-hub: %s\n", err.msg);
            hub_http_stop(s);
            hub_close(h);
            return 1;
        }
        fprintf(stderr, "swsync-hub: relaying to %s every %u s\n",
                cfg.upstream_url, cfg.relay_interval);
    }
    /* Until a stop signal: every replica_commit_ms commit what batches
     * left in the replica's open transaction. */
    int sig = -1;
    struct timespec flush_every = {cfg.replica_commit_ms / 1000,
                                   (long)(cfg.replica_commit_ms % 1000) *
                                       1000000L};
    while (sig < 0) {
        sig = sigtimedwait(&stop, NULL, &flush_every);
        if (sig < 0 && errno == EAGAIN)
            hub_flush(h);
    }
    fprintf(stderr, "swsync-hub: signal %d: no new connections; waiting up "
                    "to %u s for requests in flight\n", sig,
            cfg.shutdown_grace);
    relay_stop(rl); /* an upload in flight is cut within about a second */
    hub_http_quiesce(s);
    struct timespec tick = {0, 50000000};
    for (unsigned i = 0; i < cfg.shutdown_grace * 20u &&
                         hub_http_connections(s) > 0; i++)
        nanosleep(&tick, NULL);
    hub_http_stop(s);
    hub_close(h);
    fprintf(stderr, "swsync-hub: stopped\n");
    return 0;
}
