/* The station's replica: a SQLite database holding the record model
 * (spec/SCHEMA.md), with change capture installed, migrated forward in place
 * to the model this build was written against. */
#ifndef REPLICA_H
#define REPLICA_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "swlog.h"

typedef struct replica replica;

/* A step run when migrating to version `to`, after the tables and columns
 * the declaration adds at that version exist (schema_column.since). For data
 * transforms only; adding a table or a column needs no step. */
typedef struct replica_migration {
    unsigned to;
    int (*apply)(sqlite3 *db, swlog_error *err);
} replica_migration;

/* Statement journal size kept in memory (README §Cost of capture). */
#define REPLICA_STMT_SPILL (1024 * 1024)

/* NOT USED by the shipped programs: with SQLite 3.40 (Debian 12), a spill
 * above 128 KiB makes any statement whose journal outgrows it fail with
 * SQLITE_FULL "database or disk is full" (a 20,000-row UPDATE, a merge of a
 * change-set into a replica of a few hundred rows; reproduced outside
 * swsync with a plain table: 131,072 bytes works, 140,000 fails). Kept for
 * bench_capture's measurement and check_replica_init; README "Cost of
 * capture".
 * Optional, once, first thing in main() before any other SQLite use: keep
 * statement journals of up to REPLICA_STMT_SPILL bytes in one memory buffer
 * (SQLITE_CONFIG_STMTJRNL_SPILL, process-wide), and let replicas opened
 * afterwards use temp_store=FILE. Captured writes in a transaction then
 * cost ~25% less CPU (bench_capture). Fails with SWLOG_EINVAL once SQLite
 * is initialised; replicas then keep temp_store=MEMORY and work alike. */
int replica_process_init(swlog_error *err);

/* Open or create the replica at path for the current model. A replica of an
 * older version is migrated forward in one transaction; a newer one is
 * refused (SWLOG_EVERSION). On success *out owns the connection. */
int replica_open(const char *path, replica **out, swlog_error *err);
/* Open an existing replica read-only for the current model, as it is: no
 * migration, no pragma that writes (a reader beside the process that owns
 * it and has migrated it, e.g. `swsync-hub content-hash` beside a running
 * hub). */
int replica_open_read(const char *path, replica **out, swlog_error *err);
/* The same for any model and migration list (tests: a synthetic v2). */
int replica_open_model(const char *path, const schema_model *m,
                       const replica_migration *steps, size_t nsteps,
                       replica **out, swlog_error *err);
void replica_close(replica *r); /* NULL does nothing */

sqlite3 *replica_db(replica *r);
const schema_model *replica_model(replica *r);
/* The merge's state kept with the connection between change-sets (its
 * prepared statements, agent/merge.c); replica_close calls drop on it. */
void *replica_merge_cache(replica *r);
void replica_set_merge_cache(replica *r, void *cache, void (*drop)(void *));
/* The version recorded in the replica (its _sw_meta). */
int replica_schema_version(sqlite3 *db, unsigned *version, swlog_error *err);

/* The operator recorded on changes made in replica_begin()…commit() on this
 * handle (README §Operator). NULL restores the default. Copied. */
int replica_set_operator(replica *r, const char *name, swlog_error *err);
/* BEGIN IMMEDIATE and publish this handle's operator to the triggers. */
int replica_begin(replica *r, swlog_error *err);
/* Reset the published operator, then COMMIT. */
int replica_commit(replica *r, swlog_error *err);
void replica_rollback(replica *r);

/* A UUIDv7 (RFC 9562, SCHEMA §2.1): 48-bit Unix ms, then 74 bits from
 * libsodium's randombytes. text gets the lowercase 8-4-4-4-12 form. */
void replica_uuid7(uint8_t id[16]);
void replica_uuid7_text(char text[37]);

#endif
