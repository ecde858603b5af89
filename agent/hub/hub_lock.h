/* The data folder's lock, DATA/hub.lock: a running hub (and every command
 * that writes the folder) holds it exclusively from hub_open to hub_close,
 * so two never write one folder; readers beside a running hub
 * (content-hash) only ask whether it is held. */
#ifndef HUB_LOCK_H
#define HUB_LOCK_H

#include "swlog.h"

/* Take the exclusive lock (creating hub.lock 0600); *fd holds it until
 * closed. SWLOG_EIO naming the folder when another process holds it. */
int hub_lock_data(const char *data, int *fd, swlog_error *err);
/* 1 when another process holds the lock now, else 0 (also when hub.lock
 * does not exist). Creates nothing. */
int hub_lock_held(const char *data);

#endif
