/* Waits between retries: exponential backoff with jitter, bounded, and
 * honouring the hub's Retry-After (PROTOCOL §6). Pure arithmetic: the
 * random number is the caller's, so the schedule is testable. */
#ifndef BACKOFF_H
#define BACKOFF_H

#include <stdint.h>

#define BACKOFF_BASE_MS 1000u           /* first wait, before jitter */
#define BACKOFF_MAX_MS 300000u          /* 5 minutes: the longest wait */
#define BACKOFF_MAX_RETRY_AFTER 3600u   /* seconds of Retry-After obeyed */

typedef struct backoff {
    uint32_t base_ms, max_ms;
    uint32_t attempt; /* failures since the last success */
} backoff;

/* 0 for base_ms or max_ms means the default above. */
void backoff_init(backoff *b, uint32_t base_ms, uint32_t max_ms);
/* After a success: the next failure waits base_ms again. */
void backoff_reset(backoff *b);
/* After a failure: the wait in milliseconds before the next attempt.
 * d = min(max_ms, base_ms * 2^attempt); the wait is d/2 + rnd % (d/2 + 1)
 * ("equal jitter": never less than half, spread so that many stations cut
 * by the same outage do not return together). retry_after_s > 0 (the
 * hub's Retry-After) raises the wait to at least that many seconds (at most
 * BACKOFF_MAX_RETRY_AFTER), plus up to 10% jitter. */
uint32_t backoff_next(backoff *b, uint32_t rnd, uint32_t retry_after_s);

#endif
