/* Failure reporting for agent/: the swlog_error convention of STYLE §3
 * (first failure wins, caller-owned message, never personal data). */
#ifndef ERROR_H
#define ERROR_H

#include <sqlite3.h>

#include "swlog.h"

int error_set(swlog_error *err, swlog_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* SWLOG_EIO with what failed and SQLite's message (which names objects,
 * never bound values). */
int error_sqlite(swlog_error *err, sqlite3 *db, const char *what);

#endif
