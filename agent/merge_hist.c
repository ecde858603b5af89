/* The merge's own tables (MERGE §4, §5): the history of merged writes and
 * the conflicts found between them, and the order of writes (MERGE §3). */
#include <string.h>

#include "error.h"
#include "merge_internal.h"

/* _sw_hist: every write merged (and local writes met by a merge, MERGE §6),
 * one row per column value or delete (col = ''). Its key is the identity
 * of a write, so a change-set merged twice adds nothing.
 * _sw_conflicts: one row per pair (winner, loser) of MERGE §5. */
static const char tables_sql[] =
    "CREATE TABLE IF NOT EXISTS _sw_hist("
    " tbl TEXT NOT NULL, row_id TEXT NOT NULL, col TEXT NOT NULL,"
    " hlc INTEGER NOT NULL, signer BLOB NOT NULL, frame BLOB NOT NULL,"
    " rep INTEGER NOT NULL, value,"
    " PRIMARY KEY(tbl, row_id, col, hlc, signer, frame)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _sw_conflicts("
    " tbl TEXT NOT NULL, row_id TEXT NOT NULL, col TEXT NOT NULL,"
    " win_kind INTEGER NOT NULL, win_hlc INTEGER NOT NULL,"
    " win_signer BLOB NOT NULL, win_frame BLOB NOT NULL, win_value,"
    " lose_hlc INTEGER NOT NULL, lose_signer BLOB NOT NULL,"
    " lose_frame BLOB NOT NULL, lose_value,"
    " PRIMARY KEY(tbl, row_id, col, win_hlc, win_signer, win_frame,"
    " lose_hlc, lose_signer, lose_frame)) WITHOUT ROWID;";

int merge__tables(sqlite3 *db, swlog_error *err)
{
    if (merge__tables_exist(db))
        return SWLOG_OK;
    if (sqlite3_exec(db, tables_sql, NULL, NULL, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "creating the merge tables");
    return SWLOG_OK;
}

int merge__tables_exist(sqlite3 *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE "
                               "type = 'table' AND name IN ('_sw_hist', "
                               "'_sw_conflicts')",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return n == 2;
}

static int put_varint(swlog_buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v != 0)
            t[n] |= 0x80;
        n++;
    } while (v != 0);
    return swlog_buf_append(b, t, n);
}

int merge__encode(const swlog_value *v, swlog_buf *out)
{
    out->len = 0;
    uint8_t tag = v->type;
    int rc = swlog_buf_append(out, &tag, 1);
    if (rc != SWLOG_OK)
        return rc;
    switch (v->type) {
    case SWLOG_INT: {
        uint64_t u = (uint64_t)v->i;
        uint64_t z = (u << 1) ^ (v->i < 0 ? UINT64_MAX : 0);
        return put_varint(out, z);
    }
    case SWLOG_REAL: {
        uint64_t u;
        uint8_t be[8];
        memcpy(&u, &v->r, 8);
        for (int k = 0; k < 8; k++)
            be[k] = (uint8_t)(u >> (56 - 8 * k));
        return swlog_buf_append(out, be, 8);
    }
    case SWLOG_TEXT:
    case SWLOG_BLOB:
        rc = put_varint(out, v->len);
        return rc != SWLOG_OK || v->len == 0
                   ? rc
                   : swlog_buf_append(out, v->p, v->len);
    default:
        return SWLOG_OK;
    }
}

void merge__from_sql(sqlite3_value *sv, swlog_value *out)
{
    memset(out, 0, sizeof *out);
    switch (sqlite3_value_type(sv)) {
    case SQLITE_INTEGER:
        out->type = SWLOG_INT;
        out->i = sqlite3_value_int64(sv);
        break;
    case SQLITE_FLOAT:
        out->type = SWLOG_REAL;
        out->r = sqlite3_value_double(sv);
        break;
    case SQLITE_TEXT:
        out->type = SWLOG_TEXT;
        out->p = sqlite3_value_text(sv);
        out->len = (size_t)sqlite3_value_bytes(sv);
        break;
    case SQLITE_BLOB:
        out->type = SWLOG_BLOB;
        out->p = sqlite3_value_blob(sv);
        out->len = (size_t)sqlite3_value_bytes(sv);
        break;
    default:
        out->type = SWLOG_NULL;
    }
}

int merge__bind_value(sqlite3_stmt *st, int i, const merge__write *w)
{
    if (w->sv != NULL)
        return sqlite3_bind_value(st, i, w->sv);
    if (w->xv == NULL)
        return sqlite3_bind_null(st, i);
    const swlog_value *v = w->xv;
    switch (v->type) {
    case SWLOG_INT:
        return sqlite3_bind_int64(st, i, v->i);
    case SWLOG_REAL:
        return sqlite3_bind_double(st, i, v->r);
    case SWLOG_TEXT:
        return sqlite3_bind_text(st, i, (const char *)v->p, (int)v->len,
                                 SQLITE_TRANSIENT);
    case SWLOG_BLOB:
        return sqlite3_bind_blob(st, i, v->p, (int)v->len, SQLITE_TRANSIENT);
    default:
        return sqlite3_bind_null(st, i);
    }
}

static int cmp_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

int merge__order(const merge__write *a, const swlog_buf *ea,
                 const merge__write *b, const swlog_buf *eb)
{
    if (a->hlc != b->hlc)
        return a->hlc < b->hlc ? -1 : 1;
    int c = cmp_bytes(ea->p, ea->len, eb->p, eb->len);
    if (c == 0)
        c = cmp_bytes(a->signer, SWLOG_PUBKEY_BYTES, b->signer,
                      SWLOG_PUBKEY_BYTES);
    if (c == 0)
        c = cmp_bytes(a->frame, SWLOG_HASH_BYTES, b->frame, SWLOG_HASH_BYTES);
    return c;
}
