/* The hub's HTTPS server on libmicrohttpd (PROTOCOL §1-§3): TLS only,
 * a thread per connection, request bodies bounded per request and in total
 * (PROTOCOL §5), slow clients timed out. */
#ifndef HUB_HTTP_H
#define HUB_HTTP_H

#include "hub.h"
#include "hub_config.h"
#include "swlog.h"

typedef struct hub_http hub_http;

/* Listen on cfg's address and port with cfg's certificate and key.
 * *port gets the port bound (useful with port 0). */
int hub_http_start(hub *h, const hub_config *cfg, hub_http **out,
                   unsigned *port, swlog_error *err);
/* Stop accepting connections; requests in flight go on. */
void hub_http_quiesce(hub_http *s);
/* Connections open now. */
unsigned hub_http_connections(hub_http *s);
/* Stop (closing what is left) and free. NULL is fine. */
void hub_http_stop(hub_http *s);

#endif
