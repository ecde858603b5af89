/* HTTPS layer of the hub: routing, body limits, memory budget (PROTOCOL
 * §2, §3, §5). The answers themselves come from hub.h. */
#include "hub_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../error.h"
#include "hub_json.h"
#include "hub_page.h"
#include "hub_pull.h"
#include "hub_stats.h"

#define CT_JSON "application/json; charset=utf-8"
#define CT_FRAMES "application/x-swsync-frames"
#define RETRY_AFTER "5"

struct hub_http {
    hub *h;
    struct MHD_Daemon *d;
    uint64_t max_body, budget;
    pthread_mutex_t mu;
    uint64_t reserved; /* bytes of request bodies held now */
    char *cert, *key;  /* PEM text, freed at stop */
    int quiesced_fd;   /* the listen socket after quiesce, closed at stop */
    hub_stats *stats;  /* pages and /metrics (hub_stats.h) */
};

enum { REQ_GET, REQ_PUSH };

typedef struct req {
    int kind;
    uint8_t *buf;
    size_t len, want;
    uint64_t reserved;
    int overflow;
    int cls;         /* enum hub_stats_class */
    struct timespec t0; /* when the request arrived */
} req;

static int url_class(const char *url)
{
    if (strcmp(url, "/v1/push") == 0)
        return HUB_STATS_PUSH;
    if (strncmp(url, "/v1/", 4) == 0)
        return HUB_STATS_API;
    if (strcmp(url, "/metrics") == 0)
        return HUB_STATS_METRICS;
    if (strcmp(url, "/healthz") == 0)
        return HUB_STATS_HEALTH;
    if (hub_page_is_path(url))
        return HUB_STATS_PAGE;
    return HUB_STATS_OTHER;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
                              const char *type, const void *p, size_t len,
                              int retry)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)p, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (retry)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result answer_buf(struct MHD_Connection *c, unsigned status,
                                  swlog_buf *b, const char *type)
{
    enum MHD_Result rc = answer(c, status, type, b->p ? b->p : (uint8_t *)"",
                                b->len, 0);
    swlog_buf_clear(b);
    return rc;
}

static enum MHD_Result error(struct MHD_Connection *c, unsigned status,
                             const char *code, const char *msg)
{
    swlog_buf b;
    swlog_buf_init(&b);
    hub_json_error(&b, code, msg);
    enum MHD_Result rc = answer(c, status, CT_JSON, b.p, b.len,
                                status == 503);
    swlog_buf_clear(&b);
    return rc;
}

static void release(hub_http *s, req *q)
{
    if (q->reserved) {
        pthread_mutex_lock(&s->mu);
        s->reserved -= q->reserved;
        pthread_mutex_unlock(&s->mu);
        q->reserved = 0;
    }
    free(q->buf);
    q->buf = NULL;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode why)
{
    (void)c;
    (void)why;
    req *q = *con_cls;
    if (q != NULL) {
        hub_http *s = cls;
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        hub_stats_request(s->stats, q->cls,
                          (double)(t1.tv_sec - q->t0.tv_sec) +
                              (double)(t1.tv_nsec - q->t0.tv_nsec) / 1e9);
        release(cls, q);
        free(q);
        *con_cls = NULL;
    }
}

/* First call of a push: check the headers and reserve the body's memory.
 * Returns 0 to go on, else the status already queued (or MHD_NO). */
static int push_start(hub_http *s, struct MHD_Connection *c, req *q,
                      enum MHD_Result *res)
{
    char msg[200];
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct == NULL || strncmp(ct, CT_FRAMES, strlen(CT_FRAMES)) != 0) {
        *res = error(c, 415, "unsupported_media_type",
                     "a push body is Content-Type: " CT_FRAMES
                     " (PROTOCOL §1)");
        return 1;
    }
    const char *cl = MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL) {
        *res = error(c, 411, "length_required",
                     "a push needs a Content-Length header (PROTOCOL §4)");
        return 1;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno != 0 || end == cl || *end != '\0' || n > s->max_body) {
        snprintf(msg, sizeof msg,
                 "push body of %.20s bytes exceeds %llu (PROTOCOL §5): "
                 "send fewer frames per push", cl,
                 (unsigned long long)s->max_body);
        *res = error(c, 413, "too_large", msg);
        return 1;
    }
    if (n > s->budget) { /* could never fit: not worth a retry */
        snprintf(msg, sizeof msg,
                 "push body of %llu bytes exceeds the hub's memory budget "
                 "of %llu: send fewer frames per push", n,
                 (unsigned long long)s->budget);
        *res = error(c, 413, "too_large", msg);
        return 1;
    }
    pthread_mutex_lock(&s->mu);
    int ok = s->reserved + n <= s->budget;
    if (ok)
        s->reserved += n;
    pthread_mutex_unlock(&s->mu);
    if (!ok) {
        *res = error(c, 503, "busy",
                     "the hub's memory for request bodies is in use: "
                     "retry after " RETRY_AFTER " seconds");
        return 1;
    }
    q->reserved = n;
    q->want = (size_t)n;
    q->buf = malloc(n ? (size_t)n : 1);
    if (q->buf == NULL) {
        *res = error(c, 503, "busy", "the hub is out of memory: retry later");
        return 1;
    }
    return 0;
}

static int starts(const char *url, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(url, prefix, n) != 0)
        return 0;
    *rest = url + n;
    return 1;
}

/* PROTOCOL §4.7's query: from and to once each, nothing else. */
typedef struct qargs {
    const char *from, *to;
    int bad;
} qargs;

static enum MHD_Result qarg(void *cls, enum MHD_ValueKind kind,
                            const char *key, const char *value)
{
    (void)kind;
    qargs *a = cls;
    const char **slot = strcmp(key, "from") == 0 ? &a->from
                        : strcmp(key, "to") == 0 ? &a->to
                                                 : NULL;
    if (slot == NULL || *slot != NULL)
        a->bad = 1;
    else
        *slot = value != NULL ? value : "";
    return MHD_YES;
}

static enum MHD_Result pull(hub_http *s, struct MHD_Connection *c,
                            swlog_buf *b);

static enum MHD_Result get(hub_http *s, struct MHD_Connection *c,
                           const char *url)
{
    swlog_buf b;
    swlog_buf_init(&b);
    const char *rest;
    if (strcmp(url, "/healthz") == 0)
        return answer(c, 200, "text/plain; charset=utf-8", "ok\n", 3, 0);
    if (strcmp(url, "/v1/hello") == 0)
        return answer_buf(c, hub_hello(s->h, &b), &b, CT_JSON);
    if (hub_page_is_path(url)) { /* pages and /metrics (hub_page.h) */
        const char *type;
        unsigned st = hub_page_get(s->h, s->stats, url, &b, &type);
        return answer_buf(c, st, &b, type);
    }
    if (strcmp(url, "/v1/checkpoint") == 0)
        return answer_buf(c, hub_checkpoint(s->h, &b), &b, CT_JSON);
    if (strcmp(url, "/v1/consistency") == 0) {
        qargs a = {NULL, NULL, 0};
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, qarg, &a);
        if (a.bad)
            return error(c, 400, "bad_request",
                         "the query takes from and to, once each "
                         "(PROTOCOL §4.7)");
        return answer_buf(c, hub_consistency(s->h, a.from, a.to, &b), &b,
                          CT_JSON);
    }
    if (strcmp(url, "/v1/pull") == 0)
        return pull(s, c, &b);
    if (starts(url, "/v1/feeds/", &rest)) {
        char hex[65];
        size_t n = strcspn(rest, "/");
        if (n != 64)
            return error(c, 400, "bad_request",
                         "the feed must be 64 lowercase hex characters");
        memcpy(hex, rest, 64);
        hex[64] = '\0';
        if (rest[64] == '\0')
            return answer_buf(c, hub_head(s->h, hex, &b), &b, CT_JSON);
        /* PROTOCOL §4.6: frames hold personal data; they are served
         * only once pulls are authenticated with the station's key. */
        if (strcmp(rest + 64, "/frames") == 0)
            return error(c, 501, "not_implemented",
                         "reading frames needs station authentication, "
                         "not served yet (PROTOCOL §4.6)");
    }
    return error(c, 404, "not_found", "no such endpoint (PROTOCOL §3)");
}

/* PROTOCOL §10: authenticated pull of the frames the hub authored for
 * the requesting station (hub_pull.h). */
static enum MHD_Result pull(hub_http *s, struct MHD_Connection *c,
                            swlog_buf *b)
{
    hub_pull_req q = {
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Swsync-Key"),
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Swsync-Time"),
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Swsync-Nonce"),
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Swsync-Signature"),
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after"),
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit")};
    int frames = 0;
    unsigned st = hub_pull(s->h, &q, b, &frames);
    if (st == 503) { /* the nonce cache is full: Retry-After */
        enum MHD_Result r = answer(c, st, CT_JSON, b->p, b->len, 1);
        swlog_buf_clear(b);
        return r;
    }
    return answer_buf(c, st, b, frames ? CT_FRAMES : CT_JSON);
}

static int known_path(const char *url)
{
    const char *rest;
    return strcmp(url, "/healthz") == 0 || strcmp(url, "/v1/hello") == 0 ||
           strcmp(url, "/v1/checkpoint") == 0 ||
           strcmp(url, "/v1/consistency") == 0 ||
           strcmp(url, "/v1/pull") == 0 ||
           strcmp(url, "/v1/push") == 0 || starts(url, "/v1/feeds/", &rest) ||
           hub_page_is_path(url);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    hub_http *s = cls;
    req *q = *con_cls;
    if (q == NULL) {
        q = calloc(1, sizeof *q);
        if (q == NULL)
            return MHD_NO;
        *con_cls = q;
        q->cls = url_class(url);
        clock_gettime(CLOCK_MONOTONIC, &q->t0);
        int is_push = strcmp(url, "/v1/push") == 0;
        if (is_push && strcmp(method, "POST") == 0) {
            q->kind = REQ_PUSH;
            enum MHD_Result res;
            if (push_start(s, c, q, &res))
                return res;
            return MHD_YES;
        }
        q->kind = REQ_GET;
        if (strcmp(method, "GET") != 0 || is_push) {
            if (known_path(url))
                return error(c, 405, "method_not_allowed",
                             is_push ? "push with POST" : "use GET");
            return error(c, 404, "not_found",
                         "no such endpoint (PROTOCOL §3)");
        }
        return MHD_YES;
    }
    if (q->kind == REQ_GET) {
        if (*upload_size != 0) {
            *upload_size = 0; /* a GET body is ignored */
            return MHD_YES;
        }
        return get(s, c, url);
    }
    if (*upload_size != 0) {
        size_t n = *upload_size;
        if (n > q->want - q->len)
            q->overflow = 1;
        else {
            memcpy(q->buf + q->len, upload, n);
            q->len += n;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->overflow || q->len != q->want)
        return error(c, 400, "bad_body",
                     "the body does not match its Content-Length");
    swlog_buf b;
    swlog_buf_init(&b);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t recv_ms = (uint64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    unsigned st = hub_push(s->h, q->buf, q->len, &b);
    hub_stats_push(s->stats, q->buf, q->len, st, b.p, b.len, recv_ms);
    release(s, q);
    return answer_buf(c, st, &b, CT_JSON);
}

static char *slurp(const char *path, swlog_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        error_set(err, SWLOG_EIO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *p = malloc(65537);
    size_t n = p ? fread(p, 1, 65536, fp) : 0;
    int big = p && n == 65536 && fgetc(fp) != EOF;
    fclose(fp);
    if (p == NULL || big || n == 0) {
        free(p);
        error_set(err, SWLOG_EINVAL, "%s: empty, unreadable or above 64 KiB",
                  path);
        return NULL;
    }
    p[n] = '\0';
    return p;
}

int hub_http_start(hub *h, const hub_config *cfg, hub_http **out,
                   unsigned *port, swlog_error *err)
{
    hub_http *s = calloc(1, sizeof *s);
    if (s == NULL)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
    s->h = h;
    s->quiesced_fd = -1;
    s->max_body = cfg->max_push_bytes;
    s->budget = cfg->memory_budget;
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
                     MHD_USE_ITC;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, cfg->listen, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)cfg->port);
        sa = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, cfg->listen, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)cfg->port);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        hub_http_stop(s);
        return error_set(err, SWLOG_EINVAL,
                         "listen: '%s' is not an IPv4 or IPv6 address",
                         cfg->listen);
    }
    if (hub_stats_open(cfg->data, &s->stats, err) != SWLOG_OK) {
        hub_http_stop(s);
        return err ? err->code : SWLOG_EIO;
    }
    s->cert = slurp(cfg->tls_cert, err);
    s->key = s->cert ? slurp(cfg->tls_key, err) : NULL;
    if (s->key == NULL) {
        hub_http_stop(s);
        return err ? err->code : SWLOG_EIO;
    }
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_HTTPS_MEM_CERT, s->cert, MHD_OPTION_HTTPS_MEM_KEY, s->key,
        MHD_OPTION_HTTPS_PRIORITIES,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
    if (s->d == NULL) {
        hub_http_stop(s);
        return error_set(err, SWLOG_EIO,
                         "cannot listen on %s port %u with TLS (port in use, "
                         "or the certificate and key do not match)",
                         cfg->listen, cfg->port);
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : cfg->port;
    *out = s;
    return SWLOG_OK;
}

void hub_http_quiesce(hub_http *s)
{
    if (s->quiesced_fd < 0)
        s->quiesced_fd = (int)MHD_quiesce_daemon(s->d);
}

unsigned hub_http_connections(hub_http *s)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info ? info->num_connections : 0;
}

void hub_http_stop(hub_http *s)
{
    if (s == NULL)
        return;
    if (s->d != NULL)
        MHD_stop_daemon(s->d);
    /* MHD's threads may use a quiesced socket until they are stopped. */
    if (s->quiesced_fd >= 0)
        close(s->quiesced_fd);
    hub_stats_close(s->stats);
    if (s->key != NULL) {
        swlog_wipe(s->key, strlen(s->key));
        free(s->key);
    }
    free(s->cert);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
