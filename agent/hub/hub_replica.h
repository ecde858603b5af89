/* The hub's merged replica behind a narrow interface (spec/MERGE.md): a
 * county hub keeps it in SQLite (`replica.db`, replica_open and
 * merge_changeset, hub_replica_sqlite.c); a provincial hub may implement
 * these five functions over PostgreSQL. Merging is idempotent, so a frame
 * merged again after a crash changes nothing. */
#ifndef HUB_REPLICA_H
#define HUB_REPLICA_H

#include "merge.h"
#include "swlog.h"

typedef struct hub_replica hub_replica;

int hub_replica_open(const char *path, hub_replica **out, swlog_error *err);
void hub_replica_close(hub_replica *r); /* NULL is fine */
int hub_replica_begin(hub_replica *r, swlog_error *err);
int hub_replica_commit(hub_replica *r, swlog_error *err);
void hub_replica_rollback(hub_replica *r);
/* Merge change-set f inside the open transaction. On failure f's effects
 * are undone and the transaction stays usable for the next frame. */
int hub_replica_merge(hub_replica *r, const swlog_frame *f,
                      merge_stats *st, swlog_error *err);

/* The SQLite replica behind it (hub_author.c reads rows and versions). */
replica *hub_replica_handle(hub_replica *r);

#endif
