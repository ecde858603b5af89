/* The content hash of a replica: spec/MERGE.md §10. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "merge_internal.h"

#define CONTENT_CTX "swsync/merge-content/v1"

typedef struct hasher {
    crypto_hash_sha256_state h;
    swlog_buf enc;
} hasher;

static void put_u8(hasher *x, uint8_t v)
{
    crypto_hash_sha256_update(&x->h, &v, 1);
}

static void put_u64(hasher *x, uint64_t v)
{
    uint8_t b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(v >> (56 - 8 * k));
    crypto_hash_sha256_update(&x->h, b, 8);
}

static void put_bytes(hasher *x, const void *p, size_t len)
{
    uint8_t b[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16),
                    (uint8_t)(len >> 8), (uint8_t)len};
    crypto_hash_sha256_update(&x->h, b, 4);
    if (len > 0)
        crypto_hash_sha256_update(&x->h, p, len);
}

static void put_text(hasher *x, const char *s)
{
    put_bytes(x, s, s != NULL ? strlen(s) : 0);
}

static int put_value(hasher *x, sqlite3_value *sv)
{
    swlog_value v;
    merge__from_sql(sv, &v);
    if (merge__encode(&v, &x->enc) != SWLOG_OK)
        return SWLOG_ENOMEM;
    put_bytes(x, x->enc.p, x->enc.len);
    return SWLOG_OK;
}

static int cmp_table(const void *a, const void *b)
{
    const schema_table *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Run sql and hash each row: a tag, then every column (integers as u64,
 * others as their value encoding). ints[i] says column i is an HLC. */
static int hash_rows(sqlite3 *db, hasher *x, const char *sql, uint8_t tag,
                     const unsigned char *ints, swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "content hash");
    int step = SQLITE_DONE, n = sqlite3_column_count(st), rc = SWLOG_OK;
    while (rc == SWLOG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        put_u8(x, tag);
        for (int i = 0; rc == SWLOG_OK && i < n; i++) {
            if (ints[i])
                put_u64(x, (uint64_t)sqlite3_column_int64(st, i));
            else
                rc = put_value(x, sqlite3_column_value(st, i));
        }
    }
    if (rc == SWLOG_ENOMEM)
        error_set(err, rc, "content hash: out of memory");
    else if (step != SQLITE_DONE)
        rc = error_sqlite(err, db, "content hash");
    sqlite3_finalize(st);
    return rc;
}

static int hash_table(sqlite3 *db, hasher *x, const schema_table *t,
                      swlog_error *err)
{
    unsigned char ints[2 * SCHEMA_MAX_COLUMNS + 2] = {0};
    put_u8(x, 'S');
    put_text(x, t->name);
    put_u64(x, t->ncolumns);
    for (size_t i = 0; i < t->ncolumns; i++)
        put_text(x, t->columns[i].name);
    /* Live rows by id: the id, every value, every value's version. */
    sqlite3_str *s = sqlite3_str_new(db);
    sqlite3_str_appendall(s, "SELECT r.id");
    for (size_t i = 0; i < t->ncolumns; i++)
        sqlite3_str_appendf(s, ", r.\"%w\"", t->columns[i].name);
    for (size_t i = 0; i < t->ncolumns; i++) {
        sqlite3_str_appendf(s, ", coalesce(v.\"%w\", v._born, 0)",
                            t->columns[i].name);
        ints[1 + t->ncolumns + i] = 1;
    }
    sqlite3_str_appendf(s, " FROM \"%w\" r LEFT JOIN \"_sw_v_%w\" v ON v.id "
                           "= r.id ORDER BY r.id",
                        t->name, t->name);
    char *sql = sqlite3_str_finish(s);
    if (sql == NULL)
        return error_set(err, SWLOG_ENOMEM, "content hash: out of memory");
    int rc = hash_rows(db, x, sql, 'R', ints, err);
    sqlite3_free(sql);
    if (rc != SWLOG_OK)
        return rc;
    /* Tombstones by id. */
    static const unsigned char tomb[2] = {0, 1};
    sql = sqlite3_mprintf("SELECT id, _dead FROM \"_sw_v_%w\" WHERE _dead "
                          "IS NOT NULL ORDER BY id",
                          t->name);
    if (sql == NULL)
        return error_set(err, SWLOG_ENOMEM, "content hash: out of memory");
    rc = hash_rows(db, x, sql, 'T', tomb, err);
    sqlite3_free(sql);
    return rc;
}

int merge_content_hash(replica *r, uint8_t out[SWLOG_HASH_BYTES],
                       swlog_error *err)
{
    sqlite3 *db = replica_db(r);
    const schema_model *m = replica_model(r);
    const schema_table **order = calloc(m->ntables + 1, sizeof *order);
    if (order == NULL)
        return error_set(err, SWLOG_ENOMEM, "content hash: out of memory");
    for (size_t i = 0; i < m->ntables; i++)
        order[i] = &m->tables[i];
    qsort(order, m->ntables, sizeof *order, cmp_table);
    hasher x;
    crypto_hash_sha256_init(&x.h);
    swlog_buf_init(&x.enc);
    crypto_hash_sha256_update(&x.h, (const uint8_t *)CONTENT_CTX,
                              sizeof CONTENT_CTX); /* with its 0x00 */
    int rc = SWLOG_OK;
    for (size_t i = 0; rc == SWLOG_OK && i < m->ntables; i++)
        rc = hash_table(db, &x, order[i], err);
    /* Conflicts, in the order of their identity (MERGE §5.3). */
    static const unsigned char cints[12] = {0, 0, 0, 1, 1, 0, 0, 0,
                                            1, 0, 0, 0};
    if (rc == SWLOG_OK && merge__tables_exist(db))
        rc = hash_rows(db, &x,
                       "SELECT tbl, row_id, col, win_kind, win_hlc, "
                       "win_signer, win_frame, win_value, lose_hlc, "
                       "lose_signer, lose_frame, lose_value FROM "
                       "_sw_conflicts ORDER BY tbl, row_id, col, win_hlc, "
                       "win_signer, win_frame, lose_hlc, lose_signer, "
                       "lose_frame",
                       'C', cints, err);
    if (rc == SWLOG_OK)
        crypto_hash_sha256_final(&x.h, out);
    swlog_buf_clear(&x.enc);
    free(order);
    return rc;
}
