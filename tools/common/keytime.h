/* UTC times for the key tool: parsing the ISO 8601 forms operators type,
 * printing FORMAT §1.4 milliseconds, and the clock. */
#ifndef KEYTIME_H
#define KEYTIME_H

#include <stdint.h>

/* "2026-03-01" (midnight UTC), "2026-03-01T08:30Z" or
 * "2026-03-01T08:30:00Z"; years 1970..9999. Returns 1 and *ms, else 0. */
int keytime_parse(const char *text, uint64_t *ms);

/* "2026-03-01T08:30:00Z" ("…00.250Z" when there are milliseconds). */
/* The size of fmt.h's FMT_TIME_BYTES: keytime_format prints through fmt_ms. */
#define KEYTIME_BYTES 64
void keytime_format(uint64_t ms, char out[KEYTIME_BYTES]);

/* Milliseconds since the epoch, from the system clock. */
uint64_t keytime_now(void);

#define KEYTIME_DAY_MS 86400000ull

#endif
