/* What the hub observes about its stations and requests, for the pages and
 * /metrics (agent/hub/README.md "Pages and metrics"): per feed the last
 * contact, the highest seq offered, frames and records accepted, refusals by
 * reason and the largest clock skew, kept in stations.db in the data folder
 * (advisory bookkeeping: losing it loses no frame); request counts and a
 * latency histogram per endpoint class in memory. It learns from the pushes
 * the HTTP layer hands it (the body and the hub's JSON answer), so ingest
 * itself is untouched. Thread-safe: one mutex. */
#ifndef HUB_STATS_H
#define HUB_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

typedef struct hub_stats hub_stats;

/* Endpoint classes of the latency histogram. */
enum hub_stats_class {
    HUB_STATS_PUSH,
    HUB_STATS_API,     /* other /v1/ GETs */
    HUB_STATS_PAGE,    /* /, /stations, /stations/<feed> */
    HUB_STATS_METRICS, /* /metrics */
    HUB_STATS_HEALTH,  /* /healthz */
    HUB_STATS_OTHER,
    HUB_STATS_NCLASS
};
extern const char *const hub_stats_class_names[HUB_STATS_NCLASS];
#define HUB_STATS_NBUCKET 11
extern const double hub_stats_buckets[HUB_STATS_NBUCKET]; /* seconds */

/* The refusal reasons counted per feed (PROTOCOL §4.5 codes); anything
 * else is counted as "other", so label sets stay bounded. */
#define HUB_STATS_NREASON 17
extern const char *const hub_stats_reasons[HUB_STATS_NREASON];

/* A station as observed (stations.db). */
typedef struct hub_stats_station {
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    uint64_t last_seen_ms;    /* 0: never */
    uint64_t offered_max_seq; /* highest seq in any push, held or not */
    uint64_t accepted, records, refused, forks;
    int64_t skew_max_ms; /* max(frame time - receive time); INT64_MIN: none */
} hub_stats_station;

/* In-memory counters since the hub started. */
typedef struct hub_stats_mem {
    uint64_t pushes, pushes_failed; /* failed: status other than 200/409 */
    uint64_t accepted, duplicate, refused, forks, records;
    uint64_t req_count[HUB_STATS_NCLASS];
    double req_sum[HUB_STATS_NCLASS];
    uint64_t req_bucket[HUB_STATS_NCLASS][HUB_STATS_NBUCKET]; /* cumulative */
    uint64_t started_ms;
} hub_stats_mem;

/* Open (create) data/stations.db. */
int hub_stats_open(const char *data_dir, hub_stats **out, swlog_error *err);
void hub_stats_close(hub_stats *s); /* NULL is fine */

/* A push of body (a frames body, len bytes) received at recv_ms got HTTP
 * status and JSON answer (hub_push's). Only frames whose signature the hub
 * checked (any outcome but a decode error) count for their feed; others
 * count as refusals of feed "unknown". Failures to record are ignored (the
 * push itself is done). */
void hub_stats_push(hub_stats *s, const uint8_t *body, size_t len,
                    unsigned status, const uint8_t *answer, size_t alen,
                    uint64_t recv_ms);
/* A request of class cls took seconds. */
void hub_stats_request(hub_stats *s, int cls, double seconds);
/* Copy of the in-memory counters. */
void hub_stats_mem_get(hub_stats *s, hub_stats_mem *m);

/* The stations observed (at most max, by feed); *n gets the count. The
 * caller frees *out. */
int hub_stats_stations(hub_stats *s, hub_stats_station **out, size_t *n,
                       size_t max, swlog_error *err);
/* One station: 1 when observed, 0 when not. */
int hub_stats_station_get(hub_stats *s, const uint8_t *feed,
                          hub_stats_station *st, swlog_error *err);
/* Refusal counts: fn(feed or NULL for "unknown", reason, n) for every
 * non-zero count, at most max rows. */
int hub_stats_refusals(hub_stats *s,
                       void (*fn)(void *ctx, const uint8_t *feed,
                                  const char *reason, uint64_t n),
                       void *ctx, size_t max, swlog_error *err);

#endif
