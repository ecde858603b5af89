/* The serving hub's SQLite page cache, reserved at start (agent/hub/README.md
 * "Memory"): one mapping for every connection's pages, instead of a malloc
 * a page while the caches fill. */
#ifndef HUB_PAGECACHE_H
#define HUB_PAGECACHE_H

#include <stddef.h>

/* Pages reserved: the replica's cache (HUB_REPLICA_CACHE_KIB, 64 MiB) plus
 * 8 MiB for the store, the statistics and a pull's connections. Pages
 * beyond them come from malloc as before. */
#define HUB_PAGECACHE_BYTES ((size_t)72 << 20)

/* SQLite's page size in every hub database (the default, 4096). Larger
 * pages do not fit a slot and come from malloc. */
#define HUB_PAGECACHE_PAGE 4096

/* Map `bytes` (rounded down to whole slots), ask for transparent huge
 * pages, and give it to SQLite (SQLITE_CONFIG_PAGECACHE). Call before any
 * SQLite connection is opened or sqlite3_initialize() is called. Returns 0,
 * or -1 with nothing changed (SQLite then allocates pages itself). The
 * mapping lives until the process ends. */
int hub_pagecache_reserve(size_t bytes);

#endif
