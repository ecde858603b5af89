/* Change-sets the county authors in the hub's own feed (agent/hub/README.md
 * "County-authored changes", DESIGN "Scope"): signed with the hub key,
 * addressed to ONE station (the unit owning the rows) or to every station
 * of the county ("*": rows owned by the hub's own unit), with the
 * durability of a push (PROTOCOL §4.9): merged into the hub replica and
 * recorded with its addressee and Merkle leaf (hub_store_outbound_add) in
 * one go, appended verbatim to the hub's feed (fsync), then a checkpoint.
 * Stations fetch them with an authenticated pull (PROTOCOL §10). The data
 * folder must not be used by a running hub at the same time: hub_open
 * takes an exclusive lock on DATA/hub.lock (hub_lock.h). */
#ifndef HUB_AUTHOR_H
#define HUB_AUTHOR_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "schema.h"
#include "swlog.h"

/* Frames, records and the addressees of one authoring command. */
typedef struct hub_author_out {
    unsigned frames;           /* change-sets authored */
    uint64_t records;          /* records in them */
    uint64_t first_seq, last_seq; /* in the hub's feed */
    char to[SWLOG_MAX_UNIT + 1];   /* the main addressee ("*" = all) */
    char old[SWLOG_MAX_UNIT + 1];  /* transfer: the station told once */
} hub_author_out;

/* The hub replica, to read and validate rows before authoring. */
sqlite3 *hub_author_db(hub *h);

/* Write the given columns (cols[i] nonzero) of row id of table t, values
 * as text by column position (NULL = SQL NULL, integers in decimal), as
 * one change-set addressed to the station owning the row (its
 * owner_unit_id after the change), or to "*" when the owner is the hub's
 * own unit (county-wide rows). A row not in the replica is created with
 * the given columns. The caller validated the row (validate.h). */
int hub_author_change(hub *h, const schema_table *t, const char *id,
                      const char *const *values, const unsigned char *cols,
                      const char *author, hub_author_out *out,
                      swlog_error *err);

/* Transfer case case_id to the station with unit code to_unit: the case,
 * every row of another table whose case_id is the case, the case's client
 * and the client's rows in tables with a client_id other than cases and
 * case_services, with owner_unit_id changed to the new unit. The new
 * station receives the full current state of these rows (every column);
 * the old one receives the owner change of each row, once; later changes
 * go to the new owner only. */
int hub_author_transfer(hub *h, const char *case_id, const char *to_unit,
                        const char *author, hub_author_out *out,
                        swlog_error *err);

/* At hub_open: authored frames recorded in hub.db but missing from the
 * hub's feed (a crash between the commit and the append) are merged again
 * (a no-op when already merged) and appended, in seq order. */
int hub__author_recover(hub *h, swlog_error *err);

#endif
