/* Reading and checking the receipts a station stored: PROTOCOL §4.4,
 * FORMAT §7.5 and §9.3, spec/SECURITY.md §8.9. */
#include "audit_receipts.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int audit_receipts_is_db(const char *path)
{
    static const char magic[16] = "SQLite format 3";
    struct stat st;
    char b[16];
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    return n == sizeof b && memcmp(b, magic, sizeof b) == 0;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* n bytes from 2n hex digits in column i of st; -1 when not exactly so. */
static int col_hex(sqlite3_stmt *st, int i, uint8_t *out, size_t n)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    if (s == NULL || (size_t)sqlite3_column_bytes(st, i) != 2 * n)
        return -1;
    for (size_t k = 0; k < n; k++) {
        int h = hexval(s[2 * k]), l = hexval(s[2 * k + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[k] = (uint8_t)(h << 4 | l);
    }
    return 0;
}

static int col_u64(sqlite3_stmt *st, int i, uint64_t *v)
{
    if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
        return -1;
    sqlite3_int64 x = sqlite3_column_int64(st, i);
    if (x < 0)
        return -1;
    *v = (uint64_t)x;
    return 0;
}

/* Opens path read-only; 1 when it has no receipt tables. */
static int open_db(const char *path, sqlite3 **db, swlog_error *err)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        swlog_fail(err, SWLOG_EIO, 0, "cannot open as SQLite: %s",
                   *db != NULL ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return SWLOG_EIO;
    }
    sqlite3_busy_timeout(*db, 2000);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(*db,
                                "SELECT count(*) FROM sqlite_master WHERE "
                                "type = 'table' AND name IN "
                                "('_sw_checkpoints', '_sw_receipts')",
                                -1, &st, NULL);
    int have = 0;
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int(st, 0);
    else
        rc = SQLITE_ERROR;
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        swlog_fail(err, SWLOG_EIO, 0, "cannot read its tables: %s",
                   sqlite3_errmsg(*db));
        sqlite3_close(*db);
        *db = NULL;
        return SWLOG_EIO;
    }
    if (have != 2) {
        sqlite3_close(*db);
        *db = NULL;
        return 1;
    }
    return SWLOG_OK;
}

/* Decode and judge the checkpoint of a row (columns body at ib, hub at
 * ih) into cp; f and buf hold the frame. */
static void read_cp(sqlite3_stmt *st, int ib, int ih, audit_rcpt_cp *cp,
                    swlog_frame *f, uint8_t *buf)
{
    swlog_error e = {0};
    cp->code = SWLOG_OK;
    cp->why[0] = '\0';
    cp->frame = NULL;
    int n = sqlite3_column_bytes(st, ib);
    const void *body = sqlite3_column_blob(st, ib);
    (void)ih; /* the hub column is the hub's URL (agent/client/README.md):
               * the key is the checkpoint's signer, judged by the caller */
    if (body == NULL || n <= 0 || (size_t)n > SWLOG_MAX_BODY) {
        cp->code = SWLOG_EBOUNDS;
        snprintf(cp->why, sizeof cp->why,
                 "the checkpoint frame is empty or longer than %u bytes",
                 SWLOG_MAX_BODY);
        return;
    }
    memcpy(buf, body, (size_t)n);
    int rc = swlog_frame_decode(buf, (size_t)n, 0, f, &e);
    if (rc != SWLOG_OK) {
        cp->code = rc;
        snprintf(cp->why, sizeof cp->why,
                 "the checkpoint frame is refused at byte %llu: %.80s (%s)",
                 (unsigned long long)e.offset, e.msg, swlog_code_name(rc));
        return;
    }
    if (f->type != SWLOG_TYPE_CHECKPOINT) {
        cp->code = SWLOG_EINVAL;
        snprintf(cp->why, sizeof cp->why,
                 "the stored frame is of type 0x%02x, not a checkpoint",
                 f->type);
        return;
    }
    memcpy(cp->hub, f->signer, SWLOG_PUBKEY_BYTES);
    cp->frame = f;
}

int audit_receipts_checkpoints(const char *path, audit_rcpt_cp_fn fn,
                               void *ctx, swlog_error *err)
{
    sqlite3 *db = NULL;
    int rc = open_db(path, &db, err);
    if (rc != SWLOG_OK)
        return rc;
    uint8_t *buf = malloc(SWLOG_MAX_BODY);
    sqlite3_stmt *st = NULL;
    if (buf == NULL) {
        rc = swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
        goto done;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT rowid, hub, body FROM _sw_checkpoints "
                           "ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = swlog_fail(err, SWLOG_EIO, 0, "cannot read _sw_checkpoints: %s",
                        sqlite3_errmsg(db));
        goto done;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        audit_rcpt_cp cp;
        swlog_frame f;
        memset(&cp, 0, sizeof cp);
        cp.row = sqlite3_column_int64(st, 0);
        read_cp(st, 2, 1, &cp, &f, buf);
        if ((rc = fn(ctx, &cp)) != 0)
            goto done;
    }
    if (s != SQLITE_DONE)
        rc = swlog_fail(err, SWLOG_EIO, 0, "reading _sw_checkpoints: %s",
                        sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(buf);
    return rc;
}

/* FORMAT §9.3: the receipt's frame at its leaf under the checkpoint. */
static void check_receipt(sqlite3_stmt *st, audit_rcpt *r)
{
    uint8_t proof[SWLOG_MAX_PROOF][SWLOG_HASH_BYTES];
    const swlog_frame *f = r->cp->frame;
    int n = sqlite3_column_bytes(st, 7);
    const void *p = sqlite3_column_blob(st, 7);
    if (r->cp->code != SWLOG_OK) {
        r->code = r->cp->code;
        snprintf(r->why, sizeof r->why, "its checkpoint (row %lld of "
                 "_sw_checkpoints) does not verify: %.100s",
                 (long long)r->cp->row, r->cp->why);
        return;
    }
    if (r->tree_size != f->u.checkpoint.tree_size) {
        r->code = SWLOG_EINVAL;
        snprintf(r->why, sizeof r->why,
                 "it states a tree of %llu frames, its signed checkpoint %llu",
                 (unsigned long long)r->tree_size,
                 (unsigned long long)f->u.checkpoint.tree_size);
        return;
    }
    if (n < 0 || n % SWLOG_HASH_BYTES != 0 ||
        (size_t)n > sizeof proof || (n > 0 && p == NULL)) {
        r->code = SWLOG_EBOUNDS;
        snprintf(r->why, sizeof r->why,
                 "its proof is not a list of at most %u hashes",
                 SWLOG_MAX_PROOF);
        return;
    }
    if (n > 0)
        memcpy(proof, p, (size_t)n);
    swlog_error e = {0};
    if (r->leaf >= r->tree_size ||
        swlog_merkle_inclusion_verify(
            r->frame_id, r->leaf, r->tree_size,
            (const uint8_t(*)[SWLOG_HASH_BYTES])proof,
            (size_t)n / SWLOG_HASH_BYTES, f->u.checkpoint.root,
            &e) != SWLOG_OK) {
        r->code = SWLOG_EHASH;
        snprintf(r->why, sizeof r->why,
                 "its inclusion proof does not put the frame at leaf %llu "
                 "of the checkpoint's %llu",
                 (unsigned long long)r->leaf,
                 (unsigned long long)r->tree_size);
        return;
    }
}

int audit_receipts_each(const char *path, audit_rcpt_fn fn, void *ctx,
                        swlog_error *err)
{
    sqlite3 *db = NULL;
    int rc = open_db(path, &db, err);
    if (rc != SWLOG_OK)
        return rc;
    uint8_t *buf = malloc(SWLOG_MAX_BODY);
    sqlite3_stmt *st = NULL;
    if (buf == NULL) {
        rc = swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
        goto done;
    }
    /* Grouped by checkpoint: each is decoded and verified once. */
    if (sqlite3_prepare_v2(
            db,
            "SELECT r.rowid, r.hub, r.feed, r.seq, r.frame_id, r.leaf_index,"
            " r.tree_size, r.proof, c.rowid, c.body, r.checkpoint "
            "FROM _sw_receipts r LEFT JOIN _sw_checkpoints c"
            " ON c.hub = r.hub AND c.id = r.checkpoint "
            "ORDER BY r.hub, r.checkpoint, r.feed, r.seq",
            -1, &st, NULL) != SQLITE_OK) {
        rc = swlog_fail(err, SWLOG_EIO, 0, "cannot read _sw_receipts: %s",
                        sqlite3_errmsg(db));
        goto done;
    }
    audit_rcpt_cp cp;
    swlog_frame f;
    int64_t cur = -1; /* rowid of the checkpoint in cp */
    int s;
    memset(&cp, 0, sizeof cp);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        audit_rcpt r;
        memset(&r, 0, sizeof r);
        r.row = sqlite3_column_int64(st, 0);
        int first = 0;
        if (sqlite3_column_type(st, 8) == SQLITE_NULL) {
            r.cp = NULL;
        } else {
            int64_t cr = sqlite3_column_int64(st, 8);
            if (cr != cur) {
                memset(&cp, 0, sizeof cp);
                cp.row = cr;
                read_cp(st, 9, 1, &cp, &f, buf);
                cur = cr;
                first = 1;
            }
            r.cp = &cp;
        }
        if (r.cp != NULL)
            memcpy(r.hub, cp.hub, sizeof r.hub);
        if (col_hex(st, 2, r.feed, sizeof r.feed) != 0 ||
            col_hex(st, 4, r.frame_id, sizeof r.frame_id) != 0 ||
            col_u64(st, 3, &r.seq) != 0 || col_u64(st, 5, &r.leaf) != 0 ||
            col_u64(st, 6, &r.tree_size) != 0) {
            r.code = SWLOG_EINVAL;
            snprintf(r.why, sizeof r.why, "the row is malformed (feed or "
                     "frame id not hex, or a number negative)");
        } else if (r.cp == NULL) {
            r.code = SWLOG_EINVAL;
            snprintf(r.why, sizeof r.why, "the checkpoint it names is not "
                     "stored in _sw_checkpoints");
        } else {
            check_receipt(st, &r);
        }
        if ((rc = fn(ctx, &r, first)) != 0)
            goto done;
    }
    if (s != SQLITE_DONE)
        rc = swlog_fail(err, SWLOG_EIO, 0, "reading _sw_receipts: %s",
                        sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(buf);
    return rc;
}
