/* The serving hub's page cache, reserved at start (hub_pagecache.h). */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include "hub_pagecache.h"

#include <sqlite3.h>
#include <sys/mman.h>

int hub_pagecache_reserve(size_t bytes)
{
    int hdr = 0;
    if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &hdr) != SQLITE_OK ||
        hdr <= 0)
        return -1;
    /* A slot: the page and SQLite's header for it, 8-byte aligned. */
    size_t slot = ((size_t)HUB_PAGECACHE_PAGE + (size_t)hdr + 7) & ~(size_t)7;
    size_t n = bytes / slot;
    if (n == 0 || n > 0x7fffffff)
        return -1;
    void *p = mmap(NULL, n * slot, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
#ifdef MADV_HUGEPAGE
    /* Advice only: without transparent huge pages the slots are faulted in
     * 4 KiB pages, once, when SQLite links them at its start. */
    (void)madvise(p, n * slot, MADV_HUGEPAGE);
#endif
    if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, p, (int)slot, (int)n) !=
        SQLITE_OK) {
        munmap(p, n * slot);
        return -1;
    }
    return 0;
}
