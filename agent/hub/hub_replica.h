/* The hub's merged replica behind a narrow interface (spec/MERGE.md): a
 * county hub keeps it in SQLite (`replica.db`, replica_open and
 * merge_changeset, hub_replica_sqlite.c); a provincial hub may implement
 * these functions over PostgreSQL. Merging is idempotent, so a frame
 * merged again after a crash changes nothing.
 *
 * The replica is derived from the store (PROTOCOL §4.9): it records how
 * many of the store's Merkle leaves it has merged (its "merged leaves"),
 * in the same transaction as the merges, and a hub merges the leaves it
 * lacks from the feed files when it starts (hub__replica_catch_up). So its
 * commits need not be durable before a push is answered: the SQLite
 * replica commits without fsync (synchronous=NORMAL) and is fsynced at its
 * checkpoints. */
#ifndef HUB_REPLICA_H
#define HUB_REPLICA_H

#include "merge.h"
#include "swlog.h"

typedef struct hub_replica hub_replica;

/* legacy_leaves: the merged leaves to record for a replica made before
 * they were recorded (the hub kept it in step with the store); a replica
 * file that does not exist yet starts at 0, and is filled by catch-up. */
int hub_replica_open(const char *path, uint64_t legacy_leaves,
                     hub_replica **out, swlog_error *err);
void hub_replica_close(hub_replica *r); /* NULL is fine */
int hub_replica_begin(hub_replica *r, swlog_error *err);
int hub_replica_commit(hub_replica *r, swlog_error *err);
void hub_replica_rollback(hub_replica *r);
/* Merge change-set f inside the open transaction. On failure f's effects
 * are undone and the transaction stays usable for the next frame. */
int hub_replica_merge(hub_replica *r, const swlog_frame *f,
                      merge_stats *st, swlog_error *err);
/* The same for an f that passed hub_replica_check (the worker's merges of
 * a stored batch): the check is not made again, and no savepoint is kept,
 * so on failure the caller must roll the whole transaction back. */
int hub_replica_merge_checked(hub_replica *r, const swlog_frame *f,
                              swlog_error *err);

/* merge_check against the replica's model: the frame's own fault, before
 * anything is written (PROTOCOL §4.2 `unmergeable`). */
int hub_replica_check(hub_replica *r, const swlog_frame *f,
                      swlog_error *err);
/* The merged leaves, as committed; and setting them inside the open
 * transaction. */
int hub_replica_leaves(hub_replica *r, uint64_t *leaves, swlog_error *err);
int hub_replica_set_leaves(hub_replica *r, uint64_t leaves,
                           swlog_error *err);

/* The SQLite replica behind it (hub_author.c reads rows and versions). */
replica *hub_replica_handle(hub_replica *r);

#endif
