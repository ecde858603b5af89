/* Feed files of the hub (hub_feeds.h): FORMAT §3 logs appended verbatim. */
#include "hub_feeds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../error.h"

typedef struct slot {
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    swlog_log *log;
    uint64_t used; /* tick of last use */
} slot;

struct hub_feeds {
    char dir[1024];
    slot slots[HUB_FEEDS_CACHE];
    uint64_t tick;
};

int hub_feeds_open(const char *dir, hub_feeds **out, swlog_error *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return error_set(err, SWLOG_EIO, "%s: %s", dir, strerror(errno));
    hub_feeds *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
    if (snprintf(fs->dir, sizeof fs->dir, "%s", dir) >= (int)sizeof fs->dir) {
        free(fs);
        return error_set(err, SWLOG_EARG, "feed folder path too long");
    }
    *out = fs;
    return SWLOG_OK;
}

void hub_feeds_close(hub_feeds *fs)
{
    if (fs == NULL)
        return;
    for (size_t i = 0; i < HUB_FEEDS_CACHE; i++)
        swlog_log_close(fs->slots[i].log);
    free(fs);
}

const char *hub_feeds_dir(const hub_feeds *fs)
{
    return fs->dir;
}

void hub_feeds_path(const hub_feeds *fs, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                    char *out, size_t n)
{
    char hex[2 * SWLOG_PUBKEY_BYTES + 1];
    swlog_hex(feed, SWLOG_PUBKEY_BYTES, hex);
    snprintf(out, n, "%s/%s.log", fs->dir, hex);
}

static void drop(slot *s)
{
    swlog_log_close(s->log);
    memset(s, 0, sizeof *s);
}

/* The feed's open log: from the cache, else opened at `known` (the end
 * the store recorded; UINT64_MAX or 0: unknown or new, scanned or
 * created). A file whose size is not the recorded end is scanned. */
static int get(hub_feeds *fs, const uint8_t *feed, uint64_t known,
               swlog_log **log, swlog_error *err)
{
    slot *victim = NULL;
    for (size_t i = 0; i < HUB_FEEDS_CACHE; i++) {
        slot *s = &fs->slots[i];
        if (s->log != NULL &&
            memcmp(s->feed, feed, SWLOG_PUBKEY_BYTES) == 0) {
            s->used = ++fs->tick;
            *log = s->log;
            return SWLOG_OK;
        }
        /* An empty slot first, else the least recently used. */
        if (victim == NULL ||
            (victim->log != NULL &&
             (s->log == NULL || s->used < victim->used)))
            victim = s;
    }
    drop(victim);
    char path[1200];
    hub_feeds_path(fs, feed, path, sizeof path);
    int rc = SWLOG_ECORRUPT;
    if (known != UINT64_MAX && known > 0)
        rc = swlog_log_open_end(path, known, &victim->log, NULL);
    if (rc != SWLOG_OK)
        rc = swlog_log_open(path, SWLOG_APPEND | SWLOG_CREATE, &victim->log,
                            err);
    if (rc != SWLOG_OK) {
        victim->log = NULL;
        return rc;
    }
    memcpy(victim->feed, feed, SWLOG_PUBKEY_BYTES);
    victim->used = ++fs->tick;
    *log = victim->log;
    return SWLOG_OK;
}

int hub_feeds_end(hub_feeds *fs, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                  uint64_t known, uint64_t *end, swlog_error *err)
{
    swlog_log *log;
    int rc = get(fs, feed, known, &log, err);
    if (rc == SWLOG_OK)
        *end = swlog_log_end(log);
    return rc;
}

int hub_feeds_append(hub_feeds *fs, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                     uint64_t at, const uint8_t *const *bodies,
                     const size_t *lens, size_t n, swlog_error *err)
{
    swlog_log *log;
    int rc = get(fs, feed, at, &log, err);
    if (rc == SWLOG_OK && swlog_log_end(log) != at) {
        char path[1200];
        hub_feeds_path(fs, feed, path, sizeof path);
        return error_set(err, SWLOG_ECORRUPT,
                         "%s: ends at %llu, but this batch's frames were "
                         "checked to start at %llu", path,
                         (unsigned long long)swlog_log_end(log),
                         (unsigned long long)at);
    }
    if (rc == SWLOG_OK)
        rc = swlog_log_append(log, bodies, lens, n, err);
    return rc;
}

int hub_feeds_truncate(hub_feeds *fs, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                       uint64_t len, swlog_error *err)
{
    for (size_t i = 0; i < HUB_FEEDS_CACHE; i++)
        if (fs->slots[i].log != NULL &&
            memcmp(fs->slots[i].feed, feed, SWLOG_PUBKEY_BYTES) == 0)
            drop(&fs->slots[i]);
    char path[1200];
    hub_feeds_path(fs, feed, path, sizeof path);
    int fd = open(path, O_WRONLY | O_NOFOLLOW);
    if (fd < 0)
        return error_set(err, SWLOG_EIO, "%s: %s", path, strerror(errno));
    int rc = SWLOG_OK;
    if (ftruncate(fd, (off_t)len) != 0 || fsync(fd) != 0)
        rc = error_set(err, SWLOG_EIO, "%s: cut to %llu: %s", path,
                       (unsigned long long)len, strerror(errno));
    close(fd);
    return rc;
}
