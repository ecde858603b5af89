/* The data folder's lock: hub_lock.h. */
#define _DEFAULT_SOURCE 1 /* flock */
#include "hub_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../error.h"

static void lock_path(char *p, size_t n, const char *data)
{
    snprintf(p, n, "%s/hub.lock", data);
}

int hub_lock_data(const char *data, int *fd, swlog_error *err)
{
    char p[4200];
    lock_path(p, sizeof p, data);
    int f = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0)
        return error_set(err, SWLOG_EIO, "%s: %s", p, strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(f);
        if (e == EWOULDBLOCK)
            return error_set(err, SWLOG_EIO,
                             "%s is in use by another swsync-hub (a running "
                             "hub or command): stop it first, then try "
                             "again", data);
        return error_set(err, SWLOG_EIO, "%s: %s", p, strerror(e));
    }
    *fd = f;
    return SWLOG_OK;
}

int hub_lock_held(const char *data)
{
    char p[4200];
    lock_path(p, sizeof p, data);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    /* A shared lock is refused only while someone holds it exclusively;
     * released at close. */
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}
