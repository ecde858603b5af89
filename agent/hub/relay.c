/* Relay upward: relay.h, agent/hub/README.md "Relay". */
#include "relay.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backoff.h"

/* The logs of one pass: own_log, then feeds/<64 hex>.log sorted by name. */
typedef struct relay_logs {
    char **path;
    size_t n, cap;
} relay_logs;

static void logs_free(relay_logs *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->path[i]);
    free(l->path);
    memset(l, 0, sizeof *l);
}

static int logs_add(relay_logs *l, const char *a, const char *b,
                    swlog_error *err)
{
    if (l->n == RELAY_MAX_LOGS)
        return swlog_fail(err, SWLOG_EBOUNDS, 0, "more than %u feed files "
                          "to relay", RELAY_MAX_LOGS);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **np = realloc(l->path, cap * sizeof *np);
        if (np == NULL)
            return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
        l->path = np;
        l->cap = cap;
    }
    size_t len = strlen(a) + (b ? strlen(b) + 1 : 0) + 1;
    char *p = malloc(len);
    if (p == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    if (b != NULL)
        snprintf(p, len, "%s/%s", a, b);
    else
        snprintf(p, len, "%s", a);
    l->path[l->n++] = p;
    return SWLOG_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int feed_file_name(const char *s)
{
    size_t n = strlen(s);
    if (n != 68 || strcmp(s + 64, ".log") != 0)
        return 0;
    for (size_t i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", s[i]))
            return 0;
    return 1;
}

static int logs_list(const hub_config *cfg, relay_logs *l, swlog_error *err)
{
    char dir[HUB_CONFIG_PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/feeds", cfg->data);
    int rc = logs_add(l, cfg->own_log, NULL, err);
    if (rc != SWLOG_OK)
        return rc;
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return SWLOG_OK; /* nothing received yet */
        return swlog_fail(err, SWLOG_EIO, 0, "%s: %s", dir, strerror(errno));
    }
    struct dirent *e;
    size_t first = l->n;
    while (rc == SWLOG_OK && (e = readdir(d)) != NULL)
        if (feed_file_name(e->d_name))
            rc = logs_add(l, dir, e->d_name, err);
    closedir(d);
    if (rc == SWLOG_OK)
        qsort(l->path + first, l->n - first, sizeof *l->path, by_name);
    return rc;
}

static int open_client(const hub_config *cfg, volatile sig_atomic_t *stop,
                       client_feed_fn on_feed, void *ctx, sqlite3 **db,
                       client **c, swlog_error *err)
{
    char path[HUB_CONFIG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/relay.db", cfg->data);
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        int rc = swlog_fail(err, SWLOG_EIO, 0, "%s: %s", path,
                            *db ? sqlite3_errmsg(*db) : "cannot open");
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*db, 5000);
    client_config cc = {0};
    cc.hub_url = cfg->upstream_url;
    cc.hub_ca = cfg->upstream_ca;
    cc.hub_key_hex = cfg->upstream_key;
    cc.stop = stop;
    cc.on_feed = on_feed;
    cc.ctx = ctx;
    int rc = client_new(&cc, *db, c, err);
    if (rc != SWLOG_OK) {
        sqlite3_close(*db);
        *db = NULL;
    }
    return rc;
}

static int one_pass(const hub_config *cfg, client *c, client_report *rep,
                    size_t *nlogs, swlog_error *err)
{
    relay_logs l = {0};
    int rc = logs_list(cfg, &l, err);
    if (rc == SWLOG_OK)
        rc = client_sync(c, (const char *const *)l.path, l.n, rep, err);
    if (nlogs != NULL)
        *nlogs = l.n;
    logs_free(&l);
    return rc;
}

int relay_pass(const hub_config *cfg, volatile sig_atomic_t *stop,
               client_feed_fn on_feed, void *ctx, client_report *rep,
               size_t *nlogs, swlog_error *err)
{
    memset(rep, 0, sizeof *rep);
    if (nlogs != NULL)
        *nlogs = 0;
    if (cfg->upstream_url[0] == '\0')
        return swlog_fail(err, SWLOG_EINVAL, 0, "no upstream_url in the "
                          "configuration: this hub relays to nobody");
    sqlite3 *db = NULL;
    client *c = NULL;
    int rc = open_client(cfg, stop, on_feed, ctx, &db, &c, err);
    if (rc == SWLOG_OK)
        rc = one_pass(cfg, c, rep, nlogs, err);
    client_free(c);
    sqlite3_close(db);
    return rc;
}

struct relay {
    const hub_config *cfg;
    volatile sig_atomic_t stop;
    pthread_t th;
};

/* Size and time of the hub's own feed: it grows by a checkpoint after
 * every batch the hub accepts, so a change means something to relay. */
static void own_stamp(const hub_config *cfg, long long out[3])
{
    struct stat sb;
    if (stat(cfg->own_log, &sb) != 0) {
        out[0] = out[1] = out[2] = -1;
        return;
    }
    out[0] = (long long)sb.st_size;
    out[1] = (long long)sb.st_mtim.tv_sec;
    out[2] = (long long)sb.st_mtim.tv_nsec;
}

static void *relay_main(void *arg)
{
    relay *r = arg;
    const hub_config *cfg = r->cfg;
    backoff bo;
    backoff_init(&bo, 0, 0);
    sqlite3 *db = NULL;
    client *c = NULL;
    while (!r->stop) {
        swlog_error err = {0};
        client_report rep = {0};
        size_t nlogs = 0;
        long long before[3];
        own_stamp(cfg, before);
        int rc = c != NULL ? SWLOG_OK
                           : open_client(cfg, &r->stop, NULL, NULL, &db, &c,
                                         &err);
        if (rc == SWLOG_OK)
            rc = one_pass(cfg, c, &rep, &nlogs, &err);
        if (r->stop)
            break;
        uint32_t wait_ms;
        /* A refused frame waits for a person, not for a retry: the other
         * feeds go on at the normal pace. */
        int settled = rc == SWLOG_OK ||
                      (rc == CLIENT_EREFUSED && !rep.hub_unreachable);
        if (settled) {
            backoff_reset(&bo);
            wait_ms = cfg->relay_interval * 1000u;
            if (rep.accepted > 0 || rc != SWLOG_OK)
                fprintf(stderr, "swsync-hub: relay to %s: %zu files, %zu "
                        "feeds, %llu frames accepted, %zu feeds refused%s\n",
                        cfg->upstream_url, nlogs, rep.feeds,
                        (unsigned long long)rep.accepted, rep.feeds_refused,
                        rc != SWLOG_OK ? " (see swsync-hub relay)" : "");
        } else {
            uint32_t rnd;
            swlog_random((uint8_t *)&rnd, sizeof rnd);
            wait_ms = backoff_next(&bo, rnd, rep.retry_after_s);
            fprintf(stderr, "swsync-hub: relay to %s failed (%s: %s); next "
                    "try in %u s\n", cfg->upstream_url, client_code_name(rc),
                    err.msg, (wait_ms + 999) / 1000);
            if (rc != CLIENT_ENET && rc != CLIENT_EHTTP && rc != CLIENT_ETLS) {
                client_free(c); /* start afresh: e.g. relay.db trouble */
                sqlite3_close(db);
                c = NULL;
                db = NULL;
            }
        }
        /* Wait in 200 ms slices: stop at once; pass early when the hub's
         * own feed moved (it accepted a batch). */
        struct timespec slice = {0, 200000000};
        for (uint32_t waited = 0; waited < wait_ms && !r->stop;
             waited += 200) {
            long long now[3];
            own_stamp(cfg, now);
            if (settled && memcmp(now, before, sizeof now) != 0)
                break;
            nanosleep(&slice, NULL);
        }
    }
    client_free(c);
    sqlite3_close(db);
    return NULL;
}

int relay_start(const hub_config *cfg, relay **out, swlog_error *err)
{
    relay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    r->cfg = cfg;
    int e = pthread_create(&r->th, NULL, relay_main, r);
    if (e != 0) {
        free(r);
        return swlog_fail(err, SWLOG_EIO, 0, "relay thread: %s",
                          strerror(e));
    }
    *out = r;
    return SWLOG_OK;
}

void relay_stop(relay *r)
{
    if (r == NULL)
        return;
    r->stop = 1;
    pthread_join(r->th, NULL);
    free(r);
}
