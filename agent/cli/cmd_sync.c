/* swsync-agent sync and run: push the station's feed to its county hub
 * with the sync client (agent/client/README.md), once or for as long as
 * the process runs. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "pull.h"
#include "seal.h"

static const char sync_usage[] =
    "usage: swsync-agent [--dir DIR] sync [--seal] [--max-frames N]\n"
    "\n"
    "Send the station's signed frames (station.log) to the county hub named\n"
    "in station.conf (hub_url), over HTTPS verified against hub_ca: ask the\n"
    "hub how far it holds the feed, send what follows in batches of at most\n"
    "256 frames (--max-frames N for fewer), and keep each batch's receipt:\n"
    "a checkpoint signed by the hub with a proof that it holds every frame.\n"
    "A frame counts as delivered only once its receipt verifies. A cut\n"
    "link costs at most the batch in flight; sending again is harmless.\n"
    "\n"
    "  --seal          seal pending changes first (as swsync-agent seal)\n"
    "\n"
    "The hub's signing key is hub_key in station.conf; when that is empty,\n"
    "the key the hub names at first contact is pinned (the TLS certificate\n"
    "authenticates the hub) and any other key is refused afterwards.\n"
    "Timeouts: 20 s to connect, 30 s below 64 bytes/s, 15 min per request.\n"
    "A frame the hub refuses is kept with the hub's reason (swsync-agent\n"
    "status shows it); the frames after it wait for the county office.\n"
    "\n"
    "After the push it pulls what the county authored for this station\n"
    "(PROTOCOL §10): requests signed with the station key, every frame\n"
    "verified against the hub key and merged with the cursor in one\n"
    "transaction; frames are kept in inbox/ (agent/README.md \"Pull\").\n"
    "\n"
    "  --no-pull       push only\n"
    "\n"
    "Exit codes: 0 everything acknowledged; 1 something is not (no link,\n"
    "TLS, refused frame, bad receipt: the message says which and what to\n"
    "do; nothing is lost); 2 bad command line.\n";

static const char run_usage[] =
    "usage: swsync-agent [--dir DIR] run [--interval S] [--seal]\n"
    "\n"
    "Keep the station in sync until stopped (SIGTERM or Ctrl-C, honoured\n"
    "at once, even in the middle of a transfer): sync as `swsync-agent\n"
    "sync` does, then again when station.log grows or every S seconds\n"
    "(default 300). After a failure it waits 1 s, 2 s, 4 s ... up to 5\n"
    "minutes (with random jitter, and at least the hub's Retry-After)\n"
    "and tries again, forever; it never spins.\n"
    "\n"
    "  --interval S    seconds between syncs when nothing happens\n"
    "  --seal          seal pending changes before each sync\n"
    "  --no-pull       push only (else each sync also pulls, after the\n"
    "                  push)\n"
    "\n"
    "One line per sync on stdout. Exit codes: 0 stopped by a signal; 1 it\n"
    "could not start (configuration, key); 2 bad command line.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const char *hint(int code, long status)
{
    switch (code) {
    case CLIENT_ETLS:
        return "hub_ca in station.conf must be the CA file that signed the "
               "hub's certificate (ask the county office for it)";
    case CLIENT_ENET:
        return "the hub is not reachable now; nothing is lost: sync again "
               "later (swsync-agent run retries by itself)";
    case CLIENT_ESTOP:
        return "stopped; nothing is lost: sync again";
    case CLIENT_EREFUSED:
        return "the county office must look at this frame (swsync-agent "
               "status shows the hub's reason); the rest waits";
    case CLIENT_ERECEIPT:
        return "nothing was marked as delivered; tell the county office: "
               "the hub's receipts do not prove what it holds";
    case CLIENT_EFEED:
        return "do not seal or delete anything; keep station.log and "
               "replica.db and ask the county office";
    case CLIENT_EHTTP:
        return status == 503 ? "the hub is busy: try again later"
                             : "the hub refused the request; tell the "
                               "county office what it said";
    default:
        return NULL;
    }
}

static void on_feed(void *ctx, const char *log_path,
                    const uint8_t feed[SWLOG_PUBKEY_BYTES],
                    const push_result *r, int rc, const swlog_error *err)
{
    const char *cmd = ctx;
    char hex[2 * SWLOG_PUBKEY_BYTES + 1];
    (void)log_path;
    swlog_hex(feed, SWLOG_PUBKEY_BYTES, hex);
    if (rc == SWLOG_OK && r->frames_sent == 0 && strcmp(cmd, "run") == 0)
        return; /* run: a line only when something moved */
    if (rc == SWLOG_OK) {
        printf("feed %.16s: sent %" PRIu64 " frame%s (%" PRIu64 " new, %"
               PRIu64 " already held) in %" PRIu64 " batch%s; the hub "
               "acknowledges seq %" PRIu64 " of %" PRIu64 "\n",
               hex, r->frames_sent, r->frames_sent == 1 ? "" : "s",
               r->accepted, r->duplicate, r->batches,
               r->batches == 1 ? "" : "es", r->acked_seq, r->local_seq);
        fflush(stdout);
        return;
    }
    fprintf(stderr, "swsync-agent %s: feed %.16s: %s (%s)\n", cmd, hex,
            err->msg, client_code_name(rc));
    const char *h = hint(rc, r->last.status);
    if (h != NULL)
        fprintf(stderr, "  %s\n", h);
}

typedef struct run_ctx {
    cli_station *st;
    keyfile_key *key;
    int pull; /* pull after each push */
} run_ctx;

static int unhex32(const char *hex, uint8_t out[SWLOG_PUBKEY_BYTES])
{
    if (strlen(hex) != 2 * SWLOG_PUBKEY_BYTES)
        return -1;
    for (size_t i = 0; i < SWLOG_PUBKEY_BYTES; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* The hub key the pulled frames must be signed with: station.conf hub_key,
 * else the key pinned at first contact. */
static int trusted_hub_key(cli_station *s, uint8_t key[SWLOG_PUBKEY_BYTES])
{
    if (s->hub_key[0] != '\0')
        return unhex32(s->hub_key, key);
    sqlite3_stmt *st;
    int rc = -1;
    if (sqlite3_prepare_v2(replica_db(s->r), "SELECT hub_key FROM "
                           "_sw_sync_hub WHERE hub = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, s->hub_url, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        rc = unhex32((const char *)sqlite3_column_text(st, 0), key);
    sqlite3_finalize(st);
    return rc;
}

/* Pull after the push; prints one line (or the failure). */
static int do_pull(const char *cmd, run_ctx *rc)
{
    cli_station *s = rc->st;
    uint8_t hub[SWLOG_PUBKEY_BYTES];
    swlog_error e = {0};
    if (trusted_hub_key(s, hub) != 0) {
        printf("pull skipped: no hub key to trust yet (set hub_key in "
               "%s/station.conf, or push once to pin it)\n", s->dir);
        return 0;
    }
    if (rc->key == NULL && cli_station_key(s, &rc->key, &e) != SWLOG_OK) {
        cli_fail_err(cmd, &e, "pull requests are signed with the station "
                              "key");
        return -1;
    }
    char inbox[CLI_PATH_MAX];
    if (cli_path(inbox, s->dir, "inbox") != 0)
        return -1;
    pull_config pc = {0};
    pc.hub_url = s->hub_url;
    pc.hub_ca = s->hub_ca;
    pc.hub_key = hub;
    pc.station_pk = rc->key->pk;
    pc.station_sk = rc->key->sk;
    pc.inbox = inbox;
    pc.stop = &stop_flag;
    pull_result pr;
    int r = pull_run(s->r, &pc, &pr, &e);
    if (r == CLIENT_EHTTP && pr.status == 404) {
        /* A hub of before PROTOCOL §10: nothing to pull from it. */
        printf("pull skipped: the hub does not serve pulls (404)\n");
        return 0;
    }
    if (r != SWLOG_OK) {
        fprintf(stderr, "swsync-agent %s: pull: %s (%s)\n", cmd, e.msg,
                client_code_name(e.code));
        const char *h = hint(e.code, pr.status);
        if (h != NULL)
            fprintf(stderr, "  %s\n", h);
        return -1;
    }
    if (pr.st.imported > 0 || strcmp(cmd, "sync") == 0) {
        printf("pulled %" PRIu64 " frame%s from the hub in %" PRIu64
               " request%s (%" PRIu64 " bytes): %" PRIu64 " change-set%s "
               "merged, %" PRIu64 " value%s written, %" PRIu64
               " conflict%s; cursor %" PRIu64 " -> %" PRIu64 "\n",
               pr.st.imported, pr.st.imported == 1 ? "" : "s", pr.requests,
               pr.requests == 1 ? "" : "s", pr.bytes, pr.st.changesets,
               pr.st.changesets == 1 ? "" : "s", pr.st.merge.applied,
               pr.st.merge.applied == 1 ? "" : "s", pr.st.merge.conflicts,
               pr.st.merge.conflicts == 1 ? "" : "s", pr.cursor_before,
               pr.cursor);
        fflush(stdout);
    }
    return 0;
}

/* Seal what is pending (the sealer is opened per pass so that `seal` from
 * another terminal is never locked out for long). */
static int seal_pending(void *ctx, swlog_error *err)
{
    run_ctx *rc = ctx;
    sealer *sl = NULL;
    seal_stats st = {0};
    int r = seal_open(rc->st->r, rc->st->log_path, rc->key->sk, NULL, &sl,
                      NULL, err);
    if (r == SWLOG_OK)
        r = seal_run(sl, &st, err);
    seal_close(sl);
    if (r == SWLOG_OK && st.changesets > 0) {
        printf("sealed %" PRIu64 " record%s in %" PRIu64 " change-set%s\n",
               st.records, st.records == 1 ? "" : "s", st.changesets,
               st.changesets == 1 ? "" : "s");
        fflush(stdout);
    }
    return r;
}

static void on_pass(void *ctx, int rc, const swlog_error *err,
                    const client_report *rep, uint32_t wait_ms)
{
    char when[32];
    run_ctx *rx = ctx;
    if (rx->pull && !stop_flag)
        do_pull("run", rx);
    cli_time_text(cli_now_ms(), when);
    if (rc == SWLOG_OK)
        printf("%s: in sync (%zu feed%s); next sync in %u s or when new "
               "frames are sealed\n", when, rep->feeds,
               rep->feeds == 1 ? "" : "s", wait_ms / 1000);
    else
        printf("%s: %s (%s); %" PRIu64 " frame%s waiting; next try in "
               "%.1f s\n", when, err->msg, client_code_name(rc), rep->waiting,
               rep->waiting == 1 ? "" : "s", wait_ms / 1000.0);
    fflush(stdout);
}

static int common(const char *cmd, int argc, char **argv, int run)
{
    const char *dir = cli_dir(&argc, argv);
    const char *maxf = NULL, *interval = NULL;
    int seal = 0, no_pull = 0;
    cli_opt opts[] = {{"seal", CLI_FLAG, &seal},
                      {"no-pull", CLI_FLAG, &no_pull},
                      {"max-frames", CLI_VALUE, &maxf},
                      {"interval", CLI_VALUE, &interval}};
    size_t npos;
    int rc = cli_parse(cmd, argc, argv, opts, run ? 4 : 3, NULL, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    long long mf = 0, iv = 300;
    if (maxf != NULL && (!cli_parse_int(maxf, &mf) || mf < 1 ||
                         mf > PUSH_MAX_FRAMES))
        return cli_fail(cmd, CLI_EUSAGE, "--max-frames must be 1..%u",
                        PUSH_MAX_FRAMES);
    if (interval != NULL && (!cli_parse_int(interval, &iv) || iv < 1 ||
                             iv > 86400))
        return cli_fail(cmd, CLI_EUSAGE, "--interval must be 1..86400 "
                        "seconds");

    cli_station s;
    swlog_error e = {0};
    keyfile_key *k = NULL;
    client *c = NULL;
    if (cli_station_open(dir, &s, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err(cmd, &e, NULL);
    }
    rc = CLI_EFAIL;
    if (s.hub_url[0] == '\0' || s.hub_ca[0] == '\0') {
        cli_fail(cmd, CLI_EFAIL, "no hub configured: set hub_url and hub_ca "
                 "in %s/station.conf (the county office gives both)", s.dir);
        goto done;
    }
    run_ctx rctx = {&s, NULL, !no_pull};
    if (seal) {
        if (cli_station_key(&s, &k, &e) != SWLOG_OK) {
            cli_fail_err(cmd, &e, cli_seal_hint(e.code));
            goto done;
        }
        rctx.key = k;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waits end at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    client_config cfg = {0};
    cfg.hub_url = s.hub_url;
    cfg.hub_ca = s.hub_ca;
    cfg.hub_key_hex = s.hub_key;
    cfg.max_frames = (size_t)mf;
    cfg.stop = &stop_flag;
    cfg.on_feed = on_feed;
    cfg.ctx = (void *)cmd;
    if (client_new(&cfg, replica_db(s.r), &c, &e) != SWLOG_OK) {
        cli_fail_err(cmd, &e, NULL);
        goto done;
    }
    const char *logs[1] = {s.log_path};
    if (run) {
        printf("syncing %s with %s until stopped\n", s.log_path, s.hub_url);
        fflush(stdout);
        client_run(c, logs, 1, (uint32_t)iv, seal ? seal_pending : NULL,
                   on_pass, &rctx, &e);
        k = rctx.key; /* loaded by the first pull */
        printf("stopped\n");
        rc = CLI_OK;
        goto done;
    }
    if (seal && seal_pending(&rctx, &e) != SWLOG_OK) {
        cli_fail_err(cmd, &e, cli_seal_hint(e.code));
        goto done;
    }
    FILE *f = fopen(s.log_path, "rb");
    if (f == NULL) {
        printf("nothing sealed yet: nothing to send (swsync-agent seal)\n");
        rc = CLI_OK;
        if (rctx.pull && do_pull(cmd, &rctx) != 0)
            rc = CLI_EFAIL;
        k = rctx.key;
        goto done;
    }
    fclose(f);
    client_report rep;
    int r = client_sync(c, logs, 1, &rep, &e);
    if (r == SWLOG_OK) {
        rc = CLI_OK;
        if (rctx.pull && do_pull(cmd, &rctx) != 0)
            rc = CLI_EFAIL;
        k = rctx.key;
    } else if (rep.feeds == 0) {
        /* Before any feed (hello): on_feed said nothing yet. */
        fprintf(stderr, "swsync-agent %s: %s (%s)\n", cmd, e.msg,
                client_code_name(r));
        const char *h = hint(r, 0);
        if (h != NULL)
            fprintf(stderr, "  %s\n", h);
    }
done:
    client_free(c);
    keyfile_key_free(k);
    cli_station_close(&s);
    return rc;
}

int cmd_sync(int argc, char **argv)
{
    if (cli_want_help(argc, argv, sync_usage))
        return CLI_OK;
    return common("sync", argc, argv, 0);
}

int cmd_run(int argc, char **argv)
{
    if (cli_want_help(argc, argv, run_usage))
        return CLI_OK;
    return common("run", argc, argv, 1);
}
