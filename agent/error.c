/* Failure reporting for agent/ (STYLE §3). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int error_set(swlog_error *err, swlog_code code, const char *fmt, ...)
{
    if (err != NULL && err->code == SWLOG_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
        err->offset = 0;
    }
    return code;
}

int error_sqlite(swlog_error *err, sqlite3 *db, const char *what)
{
    return error_set(err, SWLOG_EIO, "%s: %s", what,
                     db != NULL ? sqlite3_errmsg(db) : "no database");
}
