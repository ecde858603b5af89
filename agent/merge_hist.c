/* The merge's own tables (MERGE §4, §5): the history of merged writes and
 * the conflicts found between them, and the order of writes (MERGE §3). */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "merge_internal.h"

/* _sw_hist: every write merged (and local writes met by a merge, MERGE §6),
 * one row per (table, row, HLC, signer, frame) with that write's column
 * values (and delete) packed in `writes` (MERGE §4). The key with the
 * column names inside is the identity of a write, so a change-set merged
 * twice adds nothing.
 * _sw_conflicts: one row per pair (winner, loser) of MERGE §5. */
#define HIST_SQL                                                             \
    "CREATE TABLE _sw_hist("                                                 \
    " tbl TEXT NOT NULL, row_id TEXT NOT NULL, hlc INTEGER NOT NULL,"        \
    " signer BLOB NOT NULL, frame BLOB NOT NULL, writes BLOB NOT NULL,"      \
    " PRIMARY KEY(tbl, row_id, hlc, signer, frame)) WITHOUT ROWID;"
static const char conflicts_sql[] =
    "CREATE TABLE IF NOT EXISTS _sw_conflicts("
    " tbl TEXT NOT NULL, row_id TEXT NOT NULL, col TEXT NOT NULL,"
    " win_kind INTEGER NOT NULL, win_hlc INTEGER NOT NULL,"
    " win_signer BLOB NOT NULL, win_frame BLOB NOT NULL, win_value,"
    " lose_hlc INTEGER NOT NULL, lose_signer BLOB NOT NULL,"
    " lose_frame BLOB NOT NULL, lose_value,"
    " PRIMARY KEY(tbl, row_id, col, win_hlc, win_signer, win_frame,"
    " lose_hlc, lose_signer, lose_frame)) WITHOUT ROWID;";

enum { T_CONFLICTS = 1, T_HIST = 2, T_HIST_V1 = 4 };

/* Which merge tables exist, and in which layout of _sw_hist. */
static int tables_state(sqlite3 *db, sqlite3_stmt **look)
{
    sqlite3_stmt *st = look != NULL ? *look : NULL;
    if (st != NULL)
        sqlite3_reset(st);
    else if (sqlite3_prepare_v2(db, "SELECT name = '_sw_conflicts', sql LIKE "
                               "'%writes BLOB%' FROM sqlite_master WHERE "
                               "type = 'table' AND name IN ('_sw_hist', "
                               "'_sw_conflicts')",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    int state = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_int(st, 0))
            state |= T_CONFLICTS;
        else
            state |= sqlite3_column_int(st, 1) ? T_HIST : T_HIST_V1;
    }
    if (look != NULL) {
        sqlite3_reset(st);
        *look = st;
    } else {
        sqlite3_finalize(st);
    }
    return state;
}

int merge__pack(swlog_buf *w, const char *col, uint64_t rep,
                const uint8_t *enc, size_t enc_len)
{
    size_t n = strlen(col);
    int rc = merge__put_varint(w, n);
    if (rc == SWLOG_OK && n > 0)
        rc = swlog_buf_append(w, col, n);
    if (rc == SWLOG_OK)
        rc = merge__put_varint(w, rep);
    if (rc == SWLOG_OK)
        rc = swlog_buf_append(w, enc, enc_len);
    return rc;
}

/* The key of the group being packed by migrate_v1. */
typedef struct v1key {
    char *tbl, *row;
    sqlite3_int64 hlc;
    uint8_t signer[SWLOG_PUBKEY_BYTES], frame[SWLOG_HASH_BYTES];
} v1key;

static int v1_same(sqlite3_stmt *rd, const v1key *k)
{
    const char *t = (const char *)sqlite3_column_text(rd, 0);
    const char *r = (const char *)sqlite3_column_text(rd, 1);
    return k->tbl != NULL && t != NULL && r != NULL &&
           strcmp(t, k->tbl) == 0 && strcmp(r, k->row) == 0 &&
           sqlite3_column_int64(rd, 2) == k->hlc &&
           sqlite3_column_bytes(rd, 3) == SWLOG_PUBKEY_BYTES &&
           memcmp(sqlite3_column_blob(rd, 3), k->signer,
                  SWLOG_PUBKEY_BYTES) == 0 &&
           sqlite3_column_bytes(rd, 4) == SWLOG_HASH_BYTES &&
           memcmp(sqlite3_column_blob(rd, 4), k->frame, SWLOG_HASH_BYTES) ==
               0;
}

static int v1_flush(sqlite3 *db, sqlite3_stmt *wr, const v1key *k,
                    const swlog_buf *w, swlog_error *err)
{
    if (k->tbl == NULL)
        return SWLOG_OK;
    sqlite3_reset(wr);
    sqlite3_bind_text(wr, 1, k->tbl, -1, SQLITE_STATIC);
    sqlite3_bind_text(wr, 2, k->row, -1, SQLITE_STATIC);
    sqlite3_bind_int64(wr, 3, k->hlc);
    sqlite3_bind_blob(wr, 4, k->signer, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(wr, 5, k->frame, SWLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(wr, 6, w->p, (int)w->len, SQLITE_STATIC);
    int rc = sqlite3_step(wr);
    sqlite3_reset(wr);
    return rc == SQLITE_DONE ? SWLOG_OK
                             : error_sqlite(err, db, "merge: migrating "
                                                     "_sw_hist");
}

/* The version 1 history (one row per column write) packed into the
 * current layout, in the caller's transaction: a station's replica keeps
 * every write it ever merged. */
static int migrate_v1(sqlite3 *db, swlog_error *err)
{
    if (sqlite3_exec(db,
                     "ALTER TABLE _sw_hist RENAME TO _sw_hist_v1;" HIST_SQL,
                     NULL, NULL, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "merge: migrating _sw_hist");
    sqlite3_stmt *rd = NULL, *wr = NULL;
    int rc = SWLOG_OK;
    if (sqlite3_prepare_v2(db, "SELECT tbl, row_id, hlc, signer, frame, col, "
                               "rep, value FROM _sw_hist_v1 ORDER BY tbl, "
                               "row_id, hlc, signer, frame, col",
                           -1, &rd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO _sw_hist VALUES(?1, ?2, ?3, ?4, "
                               "?5, ?6)",
                           -1, &wr, NULL) != SQLITE_OK)
        rc = error_sqlite(err, db, "merge: migrating _sw_hist");
    swlog_buf w, enc;
    swlog_buf_init(&w);
    swlog_buf_init(&enc);
    v1key k = {0};
    int step = SQLITE_DONE;
    while (rc == SWLOG_OK && (step = sqlite3_step(rd)) == SQLITE_ROW) {
        if (!v1_same(rd, &k)) {
            rc = v1_flush(db, wr, &k, &w, err);
            if (rc != SWLOG_OK)
                break;
            if (sqlite3_column_bytes(rd, 3) != SWLOG_PUBKEY_BYTES ||
                sqlite3_column_bytes(rd, 4) != SWLOG_HASH_BYTES) {
                rc = error_set(err, SWLOG_ECORRUPT,
                               "merge: a _sw_hist row has a bad signer or "
                               "frame id");
                break;
            }
            free(k.tbl);
            free(k.row);
            k.tbl = strdup((const char *)sqlite3_column_text(rd, 0));
            k.row = strdup((const char *)sqlite3_column_text(rd, 1));
            if (k.tbl == NULL || k.row == NULL) {
                rc = error_set(err, SWLOG_ENOMEM, "out of memory");
                break;
            }
            k.hlc = sqlite3_column_int64(rd, 2);
            memcpy(k.signer, sqlite3_column_blob(rd, 3), SWLOG_PUBKEY_BYTES);
            memcpy(k.frame, sqlite3_column_blob(rd, 4), SWLOG_HASH_BYTES);
            w.len = 0;
        }
        swlog_value v;
        merge__from_sql(sqlite3_column_value(rd, 7), &v);
        const char *col = (const char *)sqlite3_column_text(rd, 5);
        if (merge__encode(&v, &enc) != SWLOG_OK ||
            merge__pack(&w, col != NULL ? col : "",
                        (uint64_t)sqlite3_column_int64(rd, 6), enc.p,
                        enc.len) != SWLOG_OK)
            rc = error_set(err, SWLOG_ENOMEM, "out of memory");
    }
    if (rc == SWLOG_OK && step != SQLITE_DONE)
        rc = error_sqlite(err, db, "merge: migrating _sw_hist");
    if (rc == SWLOG_OK)
        rc = v1_flush(db, wr, &k, &w, err);
    sqlite3_finalize(rd);
    sqlite3_finalize(wr);
    free(k.tbl);
    free(k.row);
    swlog_buf_clear(&w);
    swlog_buf_clear(&enc);
    if (rc == SWLOG_OK &&
        sqlite3_exec(db, "DROP TABLE _sw_hist_v1", NULL, NULL, NULL) !=
            SQLITE_OK)
        rc = error_sqlite(err, db, "merge: migrating _sw_hist");
    return rc;
}

int merge__tables(sqlite3 *db, sqlite3_stmt **look, swlog_error *err)
{
    int state = tables_state(db, look);
    if (state == (T_CONFLICTS | T_HIST))
        return SWLOG_OK;
    if ((state & T_HIST_V1) != 0) {
        int rc = migrate_v1(db, err);
        if (rc != SWLOG_OK)
            return rc;
    } else if ((state & T_HIST) == 0 &&
               sqlite3_exec(db, HIST_SQL, NULL, NULL, NULL) != SQLITE_OK) {
        return error_sqlite(err, db, "creating the merge tables");
    }
    if (sqlite3_exec(db, conflicts_sql, NULL, NULL, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "creating the merge tables");
    return SWLOG_OK;
}

int merge__tables_exist(sqlite3 *db)
{
    return (tables_state(db, NULL) & T_CONFLICTS) != 0;
}

int merge__put_varint(swlog_buf *b, uint64_t v)
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
        return merge__put_varint(out, z);
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
        rc = merge__put_varint(out, v->len);
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

int merge__order(const merge__write *a, const uint8_t *ea, size_t ea_len,
                 const merge__write *b, const uint8_t *eb, size_t eb_len)
{
    if (a->hlc != b->hlc)
        return a->hlc < b->hlc ? -1 : 1;
    int c = cmp_bytes(ea, ea_len, eb, eb_len);
    if (c == 0)
        c = cmp_bytes(a->signer, SWLOG_PUBKEY_BYTES, b->signer,
                      SWLOG_PUBKEY_BYTES);
    if (c == 0)
        c = cmp_bytes(a->frame, SWLOG_HASH_BYTES, b->frame, SWLOG_HASH_BYTES);
    return c;
}

/* A varint of at most 10 bytes at p[*off..len). */
static int get_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
    *v = 0;
    for (unsigned k = 0; k < 10 && *off < len; k++) {
        uint8_t b = p[(*off)++];
        *v |= (uint64_t)(b & 0x7f) << (7 * k);
        if ((b & 0x80) == 0)
            return SWLOG_OK;
    }
    return SWLOG_ECORRUPT;
}

int merge__unpack(const uint8_t *p, size_t len, size_t *off, merge__packed *e)
{
    if (*off >= len)
        return 0;
    uint64_t n, x;
    if (get_varint(p, len, off, &n) != SWLOG_OK || n > SWLOG_MAX_NAME ||
        n > len - *off)
        return SWLOG_ECORRUPT;
    e->col = (const char *)p + *off;
    e->col_len = (size_t)n;
    *off += (size_t)n;
    if (get_varint(p, len, off, &e->rep) != SWLOG_OK || *off >= len)
        return SWLOG_ECORRUPT;
    size_t start = *off;
    uint8_t tag = p[(*off)++];
    switch (tag) {
    case SWLOG_NULL:
        break;
    case SWLOG_INT:
        if (get_varint(p, len, off, &x) != SWLOG_OK)
            return SWLOG_ECORRUPT;
        break;
    case SWLOG_REAL:
        if (len - *off < 8)
            return SWLOG_ECORRUPT;
        *off += 8;
        break;
    case SWLOG_TEXT:
    case SWLOG_BLOB:
        if (get_varint(p, len, off, &x) != SWLOG_OK || x > len - *off)
            return SWLOG_ECORRUPT;
        *off += (size_t)x;
        break;
    default:
        return SWLOG_ECORRUPT;
    }
    e->enc = p + start;
    e->enc_len = *off - start;
    return 1;
}

void merge__decode(const merge__packed *e, swlog_value *out)
{
    memset(out, 0, sizeof *out);
    const uint8_t *p = e->enc;
    size_t off = 1;
    uint64_t x = 0;
    out->type = p[0];
    switch (p[0]) {
    case SWLOG_INT:
        get_varint(p, e->enc_len, &off, &x);
        out->i = (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
        break;
    case SWLOG_REAL:
        for (int k = 0; k < 8; k++)
            x = x << 8 | p[1 + k];
        memcpy(&out->r, &x, 8);
        break;
    case SWLOG_TEXT:
    case SWLOG_BLOB:
        get_varint(p, e->enc_len, &off, &x);
        out->p = p + off;
        out->len = (size_t)x;
        break;
    default:
        break;
    }
}

/* sw_hist_covers(writes, col, a, b): see merge.h. */
static void hist_covers(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const uint8_t *p = sqlite3_value_blob(argv[0]);
    size_t len = (size_t)sqlite3_value_bytes(argv[0]);
    const char *col = (const char *)sqlite3_value_text(argv[1]);
    size_t col_len = (size_t)sqlite3_value_bytes(argv[1]);
    uint64_t a = (uint64_t)sqlite3_value_int64(argv[2]);
    uint64_t b = (uint64_t)sqlite3_value_int64(argv[3]);
    if (col == NULL) {
        sqlite3_result_int(cx, 0);
        return;
    }
    size_t off = 0;
    merge__packed e;
    int r;
    while (p != NULL && (r = merge__unpack(p, len, &off, &e)) == 1)
        if (e.col_len == col_len && memcmp(e.col, col, col_len) == 0 &&
            e.rep >= a && e.rep >= b) {
            sqlite3_result_int(cx, 1);
            return;
        }
    if (p != NULL && r != 0) {
        sqlite3_result_null(cx);
        return;
    }
    sqlite3_result_int(cx, 0);
}

int merge_register_sql(sqlite3 *db, swlog_error *err)
{
    if (sqlite3_create_function(db, "sw_hist_covers", 4,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                hist_covers, NULL, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "registering sw_hist_covers");
    return SWLOG_OK;
}
