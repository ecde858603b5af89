/* HTTPS requests to a hub through one reused libcurl easy handle: the
 * certificate always verified against the configured CA, timeouts,
 * rewindable request bodies, bounded answers, a stop flag. */
#ifndef HTTP_H
#define HTTP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "client_codes.h"
#include "swlog.h"

#define HTTP_MAX_JSON 1048576u /* bytes of a JSON answer we read */

typedef struct http_opts {
    const char *ca_file;     /* PEM file of the CA that signs the hub */
    long connect_timeout_s;  /* 0 = 20 */
    long low_speed_bytes;    /* 0 = 64: below this many bytes/s ... */
    long low_speed_time_s;   /* 0 = 30: ... for this long, give up */
    long total_timeout_s;    /* 0 = 900: one request, start to end */
    volatile sig_atomic_t *stop; /* nonzero: abort the transfer (may be NULL) */
} http_opts;

typedef struct http_resp {
    long status;            /* HTTP status; 0 when no answer came */
    char *body;             /* NUL-terminated, owned; NULL when empty */
    size_t len;
    uint32_t retry_after_s; /* Retry-After, 0 when absent */
    char error[48];         /* the hub's "error" code, "" when none */
    char message[200];      /* the hub's "message", "" when none */
} http_resp;
void http_resp_clear(http_resp *r); /* frees body; idempotent */

typedef struct http_client http_client;

/* Copies what it needs from o (ca_file included). */
int http_new(const http_opts *o, http_client **out, swlog_error *err);
void http_free(http_client *h); /* NULL is fine */

/* One request: GET when body is NULL, else POST of body[0..len) with
 * content_type (the body is re-sent from its start whenever libcurl
 * rewinds). Answers of more than max_resp bytes are cut off with
 * CLIENT_EPROTO. A 2xx answer: SWLOG_OK with *resp filled. A non-2xx
 * answer: CLIENT_EHTTP, *resp filled (status, error, message, Retry-After)
 * and err saying "hub answered 503 busy: ...". No answer: CLIENT_ENET,
 * CLIENT_ETLS or CLIENT_ESTOP with curl's words in err. */
int http_request(http_client *h, const char *url, const char *content_type,
                 const uint8_t *body, size_t len, size_t max_resp,
                 http_resp *resp, swlog_error *err);

/* A GET with extra request headers ("Name: value" lines), answered as
 * http_request answers. */
int http_get_with(http_client *h, const char *url, const char *const *headers,
                  size_t nheaders, size_t max_resp, http_resp *resp,
                  swlog_error *err);

#endif
