/* The hub's verbatim copies of feeds: one log file per signer,
 * `feeds/<signer hex>.log` (FORMAT §3), appended with swlog_log_append
 * (write + fsync). A cache keeps the most recently used files open; one
 * not in it is opened at the end the store recorded (swlog_log_open_end,
 * no scan), or scanned when the file's size differs. */
#ifndef HUB_FEEDS_H
#define HUB_FEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

#define HUB_FEEDS_CACHE 64 /* open feed files at most */

typedef struct hub_feeds hub_feeds;

/* dir is created (0700) if missing. */
int hub_feeds_open(const char *dir, hub_feeds **out, swlog_error *err);
void hub_feeds_close(hub_feeds *fs); /* NULL is fine */
/* Path of a feed's file into out (size at least 1024). */
void hub_feeds_path(const hub_feeds *fs, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                    char *out, size_t n);
/* Offset where the next frame of feed will start (creating its file).
 * known: the end the store recorded (hub_feed_head.end; 0 for a feed it
 * does not hold, UINT64_MAX: unknown). */
int hub_feeds_end(hub_feeds *fs, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                  uint64_t known, uint64_t *end, swlog_error *err);
/* Append n bodies at offset `at`, where the file must end (one write, one
 * fsync; all or nothing). */
int hub_feeds_append(hub_feeds *fs, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                     uint64_t at, const uint8_t *const *bodies,
                     const size_t *lens, size_t n, swlog_error *err);
/* Cut a feed's file back to len bytes (recovery of frames that were never
 * acknowledged and no longer verify), fsynced. */
int hub_feeds_truncate(hub_feeds *fs, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                       uint64_t len, swlog_error *err);
/* The feed folder. */
const char *hub_feeds_dir(const hub_feeds *fs);

#endif
