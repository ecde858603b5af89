/* Conflicts waiting for review and their short ids (hub_conflicts.h). */
#include "hub_conflicts.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "merge.h"

static int have_tables(sqlite3 *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE "
                               "type = 'table' AND name IN ('_sw_hist', "
                               "'_sw_conflicts')",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    /* HUB_CONFLICTS_PENDING reads the packed history (MERGE §4). */
    swlog_error e = {0};
    return n == 2 && merge_register_sql(db, &e) == SWLOG_OK;
}

/* Identity bytes (MERGE §5.3), each field length-prefixed. */
static int id_add(swlog_buf *b, const void *p, size_t n)
{
    uint8_t l[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                    (uint8_t)n};
    if (swlog_buf_append(b, l, 4) != SWLOG_OK)
        return -1;
    return n == 0 ? 0 : swlog_buf_append(b, p, n) == SWLOG_OK ? 0 : -1;
}

static int id_add_u64(swlog_buf *b, uint64_t v)
{
    uint8_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)(v >> (56 - 8 * i));
    return id_add(b, t, 8);
}

static void copy_blob(uint8_t *dst, size_t cap, sqlite3_stmt *st, int col)
{
    memset(dst, 0, cap);
    const void *p = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (p != NULL)
        memcpy(dst, p, n < cap ? n : cap);
}

int hub_conflicts_each(sqlite3 *db, int (*cb)(void *, const hub_conflict *),
                       void *ctx, swlog_error *err)
{
    if (db == NULL || !have_tables(db))
        return SWLOG_OK;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT tbl, row_id, col, win_kind, win_hlc, "
                           "win_signer, win_frame, win_value, lose_hlc, "
                           "lose_signer, lose_frame, lose_value FROM "
                           "_sw_conflicts c WHERE " HUB_CONFLICTS_PENDING
                           " ORDER BY tbl, row_id, col, win_hlc, lose_hlc "
                           "LIMIT ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "listing conflicts");
    sqlite3_bind_int(st, 1, HUB_CONFLICTS_MAX_SCAN);
    swlog_buf b;
    swlog_buf_init(&b);
    int rc = SWLOG_OK, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        hub_conflict c;
        memset(&c, 0, sizeof c);
        const char *t = (const char *)sqlite3_column_text(st, 0);
        const char *r = (const char *)sqlite3_column_text(st, 1);
        const char *k = (const char *)sqlite3_column_text(st, 2);
        snprintf(c.tbl, sizeof c.tbl, "%s", t ? t : "");
        snprintf(c.row_id, sizeof c.row_id, "%s", r ? r : "");
        snprintf(c.col, sizeof c.col, "%s", k ? k : "");
        c.win_kind = sqlite3_column_int(st, 3);
        c.win_hlc = (uint64_t)sqlite3_column_int64(st, 4);
        copy_blob(c.win_signer, sizeof c.win_signer, st, 5);
        copy_blob(c.win_frame, sizeof c.win_frame, st, 6);
        c.win_value = sqlite3_column_value(st, 7);
        c.lose_hlc = (uint64_t)sqlite3_column_int64(st, 8);
        copy_blob(c.lose_signer, sizeof c.lose_signer, st, 9);
        copy_blob(c.lose_frame, sizeof c.lose_frame, st, 10);
        c.lose_value = sqlite3_column_value(st, 11);
        b.len = 0;
        int bad = id_add(&b, c.tbl, strlen(c.tbl)) ||
                  id_add(&b, c.row_id, strlen(c.row_id)) ||
                  id_add(&b, c.col, strlen(c.col)) ||
                  id_add_u64(&b, c.win_hlc) ||
                  id_add(&b, sqlite3_column_blob(st, 5),
                         (size_t)sqlite3_column_bytes(st, 5)) ||
                  id_add(&b, sqlite3_column_blob(st, 6),
                         (size_t)sqlite3_column_bytes(st, 6)) ||
                  id_add_u64(&b, c.lose_hlc) ||
                  id_add(&b, sqlite3_column_blob(st, 9),
                         (size_t)sqlite3_column_bytes(st, 9)) ||
                  id_add(&b, sqlite3_column_blob(st, 10),
                         (size_t)sqlite3_column_bytes(st, 10));
        if (bad) {
            rc = error_set(err, SWLOG_ENOMEM, "out of memory");
            break;
        }
        uint8_t h[SWLOG_HASH_BYTES];
        swlog_sha256(b.p, b.len, h);
        for (int i = 0; i < HUB_CONFLICT_ID_HEX / 2; i++)
            snprintf(c.id + 2 * i, 3, "%02x", h[i]);
        if (cb(ctx, &c) != 0)
            break;
    }
    if (rc == SWLOG_OK && s != SQLITE_ROW && s != SQLITE_DONE)
        rc = error_sqlite(err, db, "listing conflicts");
    swlog_buf_clear(&b);
    sqlite3_finalize(st);
    return rc;
}

uint64_t hub_conflicts_pending(sqlite3 *db, const uint8_t *feed)
{
    if (db == NULL || !have_tables(db))
        return 0;
    sqlite3_stmt *st;
    const char *sql =
        feed ? "SELECT count(*) FROM _sw_conflicts c WHERE (win_signer = ?1 "
               "OR lose_signer = ?1) AND " HUB_CONFLICTS_PENDING
             : "SELECT count(*) FROM _sw_conflicts c WHERE "
               HUB_CONFLICTS_PENDING;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (feed != NULL)
        sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    uint64_t n = sqlite3_step(st) == SQLITE_ROW
                     ? (uint64_t)sqlite3_column_int64(st, 0)
                     : 0;
    sqlite3_finalize(st);
    return n;
}
