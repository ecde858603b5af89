/* The hub's own pages (agent/hub/README.md "Pages and metrics", PROTOCOL
 * §3): GET / and /stations list the stations, GET /stations/<feed hex> shows
 * one, GET /metrics is the Prometheus text format 0.0.4. Server-rendered
 * HTML5 without external assets; counts, codes and reasons only, never
 * record values. */
#ifndef HUB_PAGE_H
#define HUB_PAGE_H

#include "hub.h"
#include "hub_stats.h"
#include "swlog.h"

#define HUB_PAGE_CT_HTML "text/html; charset=utf-8"
#define HUB_PAGE_CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

/* Is url one of the page or metrics paths? */
int hub_page_is_path(const char *url);
/* Answer GET url into out with *type; returns the HTTP status (200, 400,
 * 404, 500). */
unsigned hub_page_get(hub *h, hub_stats *stats, const char *url,
                      swlog_buf *out, const char **type);

#endif
