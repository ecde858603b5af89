/* Test driver of the sync client (agent/client) without a station folder:
 * everything the station's configuration would give comes from options, so
 * tests/test_client_*.sh can push any logs to a (fake or real) hub.
 *
 * usage: swsync_test_push --url URL --ca FILE --state DB [--hub-key HEX]
 *          [--max-frames N] [--connect-timeout S] [--low-speed-time S]
 *          [--total-timeout S] [--run [--interval S]] LOG...
 *        swsync_test_push --state DB --status [--json]
 * Exit 0 when everything is acknowledged, 1 otherwise; the last line on
 * stderr is "result: <code name>". Prints one line per feed on stdout. */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_feed(void *ctx, const char *log_path,
                    const uint8_t feed[SWLOG_PUBKEY_BYTES],
                    const push_result *r, int rc, const swlog_error *err)
{
    char hex[65];
    (void)ctx;
    swlog_hex(feed, SWLOG_PUBKEY_BYTES, hex);
    printf("feed %s log %s local %llu hub %llu acked %llu sent %llu "
           "accepted %llu duplicate %llu batches %llu: %s%s%s\n",
           hex, log_path, (unsigned long long)r->local_seq,
           (unsigned long long)r->hub_seq, (unsigned long long)r->acked_seq,
           (unsigned long long)r->frames_sent,
           (unsigned long long)r->accepted,
           (unsigned long long)r->duplicate,
           (unsigned long long)r->batches, client_code_name(rc),
           rc ? " " : "", rc ? err->msg : "");
    fflush(stdout);
}

static void on_pass(void *ctx, int rc, const swlog_error *err,
                    const client_report *rep, uint32_t wait_ms)
{
    (void)ctx;
    printf("pass: %s feeds %zu ok %zu refused %zu failed %zu wait_ms %u%s%s\n",
           client_code_name(rc), rep->feeds, rep->feeds_ok,
           rep->feeds_refused, rep->feeds_failed, wait_ms, rc ? " " : "",
           rc ? err->msg : "");
    fflush(stdout);
}

static int usage(void)
{
    fprintf(stderr, "usage: swsync_test_push --url URL --ca FILE --state DB "
                    "[--hub-key HEX] [--max-frames N] [--connect-timeout S] "
                    "[--low-speed-time S] [--total-timeout S] "
                    "[--run [--interval S]] LOG...\n"
                    "       swsync_test_push --state DB --status [--json]\n");
    return 2;
}

int main(int argc, char **argv)
{
    client_config cfg = {0};
    const char *state_path = NULL;
    const char *logs[64];
    size_t nlogs = 0;
    int run = 0, status = 0, json = 0;
    unsigned interval = 60;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v != NULL && (i++, 1))
        if (OPT("--url"))
            cfg.hub_url = v;
        else if (OPT("--ca"))
            cfg.hub_ca = v;
        else if (OPT("--state"))
            state_path = v;
        else if (OPT("--hub-key"))
            cfg.hub_key_hex = v;
        else if (OPT("--max-frames"))
            cfg.max_frames = (size_t)atol(v);
        else if (OPT("--connect-timeout"))
            cfg.connect_timeout_s = atol(v);
        else if (OPT("--low-speed-time"))
            cfg.low_speed_time_s = atol(v);
        else if (OPT("--total-timeout"))
            cfg.total_timeout_s = atol(v);
        else if (OPT("--interval"))
            interval = (unsigned)atol(v);
        else if (strcmp(a, "--run") == 0)
            run = 1;
        else if (strcmp(a, "--status") == 0)
            status = 1;
        else if (strcmp(a, "--json") == 0)
            json = 1;
        else if (a[0] == '-')
            return usage();
        else if (nlogs < 64)
            logs[nlogs++] = a;
#undef OPT
    }
    if (state_path == NULL || (!status && (nlogs == 0 || !cfg.hub_url)))
        return usage();
    if (swlog_init() != SWLOG_OK)
        return 1;
    sqlite3 *db;
    if (sqlite3_open(state_path, &db) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s\n", state_path);
        return 1;
    }
    sqlite3_busy_timeout(db, 5000);
    swlog_error err = {0};
    int rc;
    if (status) {
        swlog_buf b;
        swlog_buf_init(&b);
        rc = json ? client_status_json(db, &b, &err)
                  : client_status_text(db, &b, &err);
        if (rc == SWLOG_OK)
            printf("%.*s\n", (int)b.len, (const char *)b.p);
        swlog_buf_clear(&b);
        sqlite3_close(db);
        return rc == SWLOG_OK ? 0 : 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: sleeps end at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    cfg.stop = &stop_flag;
    cfg.on_feed = on_feed;
    client *c;
    rc = client_new(&cfg, db, &c, &err);
    if (rc == SWLOG_OK) {
        if (run) {
            rc = client_run(c, logs, nlogs, interval, NULL, on_pass, NULL,
                            &err);
        } else {
            client_report rep;
            rc = client_sync(c, logs, nlogs, &rep, &err);
            printf("sync: feeds %zu ok %zu refused %zu failed %zu sent %llu "
                   "waiting %llu\n", rep.feeds, rep.feeds_ok,
                   rep.feeds_refused, rep.feeds_failed,
                   (unsigned long long)rep.frames_sent,
                   (unsigned long long)rep.waiting);
        }
        client_free(c);
    }
    sqlite3_close(db);
    if (rc != SWLOG_OK)
        fprintf(stderr, "error: %s\n", err.msg);
    fprintf(stderr, "result: %s\n", client_code_name(rc));
    return rc == SWLOG_OK ? 0 : 1;
}
