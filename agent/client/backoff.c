/* Retry waits: exponential backoff with equal jitter and Retry-After
 * (PROTOCOL §6). */
#include "backoff.h"

void backoff_init(backoff *b, uint32_t base_ms, uint32_t max_ms)
{
    b->base_ms = base_ms ? base_ms : BACKOFF_BASE_MS;
    b->max_ms = max_ms ? max_ms : BACKOFF_MAX_MS;
    if (b->base_ms > b->max_ms)
        b->base_ms = b->max_ms;
    b->attempt = 0;
}

void backoff_reset(backoff *b)
{
    b->attempt = 0;
}

uint32_t backoff_next(backoff *b, uint32_t rnd, uint32_t retry_after_s)
{
    uint64_t d = b->base_ms;
    for (uint32_t i = 0; i < b->attempt && d < b->max_ms; i++)
        d *= 2;
    if (d > b->max_ms)
        d = b->max_ms;
    if (b->attempt < UINT32_MAX)
        b->attempt++;
    uint64_t wait = d / 2 + rnd % (d / 2 + 1);
    if (retry_after_s > 0) {
        if (retry_after_s > BACKOFF_MAX_RETRY_AFTER)
            retry_after_s = BACKOFF_MAX_RETRY_AFTER;
        uint64_t ra = (uint64_t)retry_after_s * 1000;
        ra += rnd % (ra / 10 + 1);
        if (ra > wait)
            wait = ra;
    }
    return (uint32_t)wait;
}
