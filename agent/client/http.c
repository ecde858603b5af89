/* HTTPS transport of the sync client (PROTOCOL §1, §2, §6) on libcurl:
 * one easy handle reused (keep-alive), verification always on. */
#include "http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct http_client {
    CURL *curl;
    char *ca_file;
    http_opts o;
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct upload {
    const uint8_t *p;
    size_t len, pos;
} upload;

typedef struct download {
    char *p;
    size_t len, cap, max;
    int too_big;
} download;

static int curl_users;

void http_resp_clear(http_resp *r)
{
    if (r == NULL)
        return;
    free(r->body);
    memset(r, 0, sizeof *r);
}

static size_t read_cb(char *buf, size_t size, size_t n, void *ctx)
{
    upload *u = ctx;
    size_t want = size * n, left = u->len - u->pos;
    if (want > left)
        want = left;
    memcpy(buf, u->p + u->pos, want);
    u->pos += want;
    return want;
}

/* libcurl rewinds the body when it re-sends a request on a new connection
 * (keep-alive closed by the hub) or after an auth/redirect round: without
 * this the re-sent body would be empty. */
static int seek_cb(void *ctx, curl_off_t offset, int origin)
{
    upload *u = ctx;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > u->len)
        return CURL_SEEKFUNC_FAIL;
    u->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *data, size_t size, size_t n, void *ctx)
{
    download *d = ctx;
    size_t len = size * n;
    if (len > d->max - d->len) {
        d->too_big = 1;
        return 0; /* libcurl aborts with CURLE_WRITE_ERROR */
    }
    if (d->len + len + 1 > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + len + 1)
            cap *= 2;
        char *p = realloc(d->p, cap);
        if (p == NULL)
            return 0;
        d->p = p;
        d->cap = cap;
    }
    memcpy(d->p + d->len, data, len);
    d->len += len;
    d->p[d->len] = '\0';
    return len;
}

static int xfer_cb(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                   curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    volatile sig_atomic_t *stop = ctx;
    return stop != NULL && *stop ? 1 : 0;
}

int http_new(const http_opts *o, http_client **out, swlog_error *err)
{
    if (o == NULL || o->ca_file == NULL || o->ca_file[0] == '\0')
        return swlog_fail(err, SWLOG_EARG, 0, "no CA file for the hub is "
                          "configured (hub_ca): HTTPS needs one");
    if (curl_users++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        curl_users--;
        return swlog_fail(err, SWLOG_EIO, 0, "libcurl failed to start");
    }
    http_client *h = calloc(1, sizeof *h);
    if (h == NULL || (h->ca_file = strdup(o->ca_file)) == NULL ||
        (h->curl = curl_easy_init()) == NULL) {
        if (h != NULL)
            free(h->ca_file);
        free(h);
        if (--curl_users == 0)
            curl_global_cleanup();
        return swlog_fail(err, SWLOG_ENOMEM, 0, "cannot start libcurl");
    }
    h->o = *o;
    h->o.ca_file = h->ca_file;
    if (h->o.connect_timeout_s <= 0)
        h->o.connect_timeout_s = 20;
    if (h->o.low_speed_bytes <= 0)
        h->o.low_speed_bytes = 64;
    if (h->o.low_speed_time_s <= 0)
        h->o.low_speed_time_s = 30;
    if (h->o.total_timeout_s <= 0)
        h->o.total_timeout_s = 900;
    *out = h;
    return SWLOG_OK;
}

void http_free(http_client *h)
{
    if (h == NULL)
        return;
    curl_easy_cleanup(h->curl);
    free(h->ca_file);
    free(h);
    if (--curl_users == 0)
        curl_global_cleanup();
}

/* Every option, set again before each request (curl_easy_reset keeps the
 * connection cache, so keep-alive survives). Verification is set here and
 * nowhere else, always on: there is no way to turn it off. */
static int setup(http_client *h, const char *url, upload *up, download *dl)
{
    CURL *c = h->curl;
    CURLcode rc = CURLE_OK;
    curl_easy_reset(c);
#define SET(opt, val)                                                       \
    do {                                                                    \
        if (rc == CURLE_OK)                                                 \
            rc = curl_easy_setopt(c, opt, val);                             \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_CAINFO, h->ca_file);
    SET(CURLOPT_CAPATH, (char *)NULL); /* only the configured CA */
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT, h->o.connect_timeout_s);
    SET(CURLOPT_LOW_SPEED_LIMIT, h->o.low_speed_bytes);
    SET(CURLOPT_LOW_SPEED_TIME, h->o.low_speed_time_s);
    SET(CURLOPT_TIMEOUT, h->o.total_timeout_s);
    SET(CURLOPT_ERRORBUFFER, h->errbuf);
    SET(CURLOPT_USERAGENT, "swsync-agent/0.1");
    SET(CURLOPT_WRITEFUNCTION, write_cb);
    SET(CURLOPT_WRITEDATA, dl);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, xfer_cb);
    SET(CURLOPT_XFERINFODATA, (void *)h->o.stop);
    if (up != NULL) {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_READFUNCTION, read_cb);
        SET(CURLOPT_READDATA, up);
        SET(CURLOPT_SEEKFUNCTION, seek_cb);
        SET(CURLOPT_SEEKDATA, up);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)up->len);
    } else {
        SET(CURLOPT_HTTPGET, 1L);
    }
#undef SET
    return rc == CURLE_OK ? 0 : -1;
}

/* The hub's {"error": ..., "message": ...} (PROTOCOL §2), when present. */
static void read_error_body(http_resp *r)
{
    json_doc d;
    if (r->body == NULL ||
        json_parse(&d, r->body, r->len, NULL) != SWLOG_OK)
        return;
    if (json_string(&d, json_member(&d, 0, "error"), r->error,
                    sizeof r->error) != SWLOG_OK)
        r->error[0] = '\0';
    if (json_string(&d, json_member(&d, 0, "message"), r->message,
                    sizeof r->message) != SWLOG_OK)
        r->message[0] = '\0';
    json_clear(&d);
}

static int request(http_client *h, const char *url, const char *content_type,
                   const uint8_t *body, size_t len,
                   const char *const *extra, size_t nextra, size_t max_resp,
                   http_resp *resp, swlog_error *err);

int http_request(http_client *h, const char *url, const char *content_type,
                 const uint8_t *body, size_t len, size_t max_resp,
                 http_resp *resp, swlog_error *err)
{
    return request(h, url, content_type, body, len, NULL, 0, max_resp, resp,
                   err);
}

int http_get_with(http_client *h, const char *url, const char *const *headers,
                  size_t nheaders, size_t max_resp, http_resp *resp,
                  swlog_error *err)
{
    return request(h, url, NULL, NULL, 0, headers, nheaders, max_resp, resp,
                   err);
}

static int request(http_client *h, const char *url, const char *content_type,
                   const uint8_t *body, size_t len,
                   const char *const *extra, size_t nextra, size_t max_resp,
                   http_resp *resp, swlog_error *err)
{
    upload up = {body, len, 0};
    download dl = {0};
    struct curl_slist *hdrs = NULL;
    int ret = SWLOG_OK;
    memset(resp, 0, sizeof *resp);
    dl.max = max_resp;
    h->errbuf[0] = '\0';
    if (setup(h, url, body != NULL ? &up : NULL, &dl) != 0)
        return swlog_fail(err, SWLOG_EARG, 0, "libcurl refused an option "
                          "for %s", url);
    if (body != NULL) {
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        struct curl_slist *a = curl_slist_append(NULL, ct);
        struct curl_slist *b = a ? curl_slist_append(a, "Expect:") : NULL;
        if (b == NULL) {
            curl_slist_free_all(a);
            return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
        }
        hdrs = b;
    }
    for (size_t i = 0; i < nextra; i++) {
        struct curl_slist *a = curl_slist_append(hdrs, extra[i]);
        if (a == NULL) {
            curl_slist_free_all(hdrs);
            return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
        }
        hdrs = a;
    }
    if (hdrs != NULL)
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(h->curl);
    curl_slist_free_all(hdrs);
    const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);
    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        ret = swlog_fail(err, CLIENT_ESTOP, 0, "stopped during the transfer "
                         "to %s", url);
    } else if (cc == CURLE_PEER_FAILED_VERIFICATION ||
               cc == CURLE_SSL_CACERT_BADFILE) {
        ret = swlog_fail(err, CLIENT_ETLS, 0, "TLS: hub certificate not "
                         "trusted: %s (CA file %s; %s)", why, h->ca_file, url);
    } else if (cc == CURLE_WRITE_ERROR && dl.too_big) {
        ret = swlog_fail(err, CLIENT_EPROTO, 0, "the answer of %s is larger "
                         "than %zu bytes", url, max_resp);
    } else if (cc != CURLE_OK) {
        /* A handshake cut short (CURLE_SSL_CONNECT_ERROR) is a link
         * failure like any other cut; only a certificate that does not
         * verify is CLIENT_ETLS. */
        ret = swlog_fail(err, CLIENT_ENET, 0, "%s: %s", url, why);
    }
    if (ret != SWLOG_OK) {
        free(dl.p);
        return ret;
    }
    long status = 0;
    curl_off_t ra = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
        ra > 0)
        resp->retry_after_s = ra > 86400 ? 86400 : (uint32_t)ra;
    resp->status = status;
    resp->body = dl.p;
    resp->len = dl.len;
    if (status < 200 || status > 299) {
        read_error_body(resp);
        return swlog_fail(err, CLIENT_EHTTP, 0, "hub answered %ld %s: %s",
                          status, resp->error[0] ? resp->error : "(no code)",
                          resp->message[0] ? resp->message : "(no message)");
    }
    return SWLOG_OK;
}
