/* swsync-hub: the county (or provincial) hub's HTTPS server (PROTOCOL.md,
 * agent/hub/README.md). Runs until SIGTERM or SIGINT, then stops accepting,
 * lets requests in flight finish and closes cleanly. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hub.h"
#include "replica.h"
#include "hub_config.h"
#include "hub_http.h"
#include "keyfile.h"

static const char usage[] =
    "usage: swsync-hub --config HUB.CONF [--port-file FILE] [--check]\n"
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
    "\n"
    "Exit codes: 0 stopped cleanly; 1 failure at start (message says what);\n"
    "2 bad command line.\n";

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
    const char *conf = NULL, *port_file = NULL;
    int check = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            conf = argv[++i];
        } else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
            port_file = argv[++i];
        } else if (strcmp(argv[i], "--check") == 0) {
            check = 1;
        } else {
            fprintf(stderr, "swsync-hub: unknown argument '%.60s'\n%s",
                    argv[i], usage);
            return 2;
        }
    }
    if (conf == NULL) {
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
     * spill (temp_store=FILE), merging a 50-record change-set into a
     * replica of a few hundred rows failed with SQLITE_FULL "database or
     * disk is full" (SQLite 3.40 on Debian 12; found by bench/bench_hub.sh,
     * kept from coming back by tests/test_bench_hub_smoke.sh). Statement
     * journals stay in memory (temp_store=MEMORY). */
    hub_config_defaults(&cfg);
    if (hub_config_load(&cfg, conf, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: %s\n", err.msg);
        return 1;
    }
    const char *pass = NULL;
    if (cfg.passphrase_env[0] != '\0' &&
        (pass = getenv(cfg.passphrase_env)) == NULL) {
        fprintf(stderr, "swsync-hub: %s: passphrase_env names %s, which is "
                        "not set\n", conf, cfg.passphrase_env);
        return 1;
    }
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
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    fprintf(stderr, "swsync-hub: signal %d: no new connections; waiting up "
                    "to %u s for requests in flight\n", sig,
            cfg.shutdown_grace);
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
