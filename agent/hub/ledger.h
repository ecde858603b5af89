/* The hub's ledger for the auditor (spec/SECURITY.md §8.5, agent/hub/
 * README.md "Ledger"): every frame the hub accepted, in Merkle-leaf order,
 * as a FORMAT §3 log file, bodies verbatim from the feed files. Read from
 * the data folder alone: hub.db opened read-only (a running hub keeps
 * writing; one read transaction gives a consistent set of leaves). */
#ifndef LEDGER_H
#define LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

/* Write the ledger of the hub whose data folder is data to out (a temporary
 * file beside it, fsynced, renamed into place; out is untouched on
 * failure). *leaves gets the number of frames written. Every frame is
 * checked against hub.db (signer, seq, id, envelope CRC): a feed file that
 * disagrees is SWLOG_ECORRUPT naming the file and offset. */
int ledger_export(const char *data, const char *out, uint64_t *leaves,
                  swlog_error *err);

/* Walk the hub's leaves from leaf `from` on, in leaf order, each frame's
 * body read and checked as for the ledger, to fn; a nonzero return of fn
 * stops the walk and is returned. *walked gets the number of leaves given
 * to fn. hub.db is read in one read transaction. */
typedef int (*ledger_leaf_fn)(void *ctx, uint64_t leaf, const uint8_t *body,
                              size_t len, swlog_error *err);
int ledger_leaves(const char *data, uint64_t from, ledger_leaf_fn fn,
                  void *ctx, uint64_t *walked, swlog_error *err);

#endif
