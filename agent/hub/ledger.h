/* The hub's ledger for the auditor (spec/SECURITY.md §8.5, agent/hub/
 * README.md "Ledger"): every frame the hub accepted, in Merkle-leaf order,
 * as a FORMAT §3 log file, bodies verbatim from the feed files. Read from
 * the data folder alone: hub.db opened read-only (a running hub keeps
 * writing; one read transaction gives a consistent set of leaves). */
#ifndef LEDGER_H
#define LEDGER_H

#include <stdint.h>

#include "swlog.h"

/* Write the ledger of the hub whose data folder is data to out (a temporary
 * file beside it, fsynced, renamed into place; out is untouched on
 * failure). *leaves gets the number of frames written. Every frame is
 * checked against hub.db (signer, seq, id, envelope CRC): a feed file that
 * disagrees is SWLOG_ECORRUPT naming the file and offset. */
int ledger_export(const char *data, const char *out, uint64_t *leaves,
                  swlog_error *err);

#endif
