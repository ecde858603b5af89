/* Failure reporting for agent/ (STYLE §3). */
#include "error.h"

#include <stdarg.h>

int error_set(swlog_error *err, swlog_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = swlog_vfail(err, code, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int error_sqlite(swlog_error *err, sqlite3 *db, const char *what)
{
    return error_set(err, SWLOG_EIO, "%s: %s", what,
                     db != NULL ? sqlite3_errmsg(db) : "no database");
}
