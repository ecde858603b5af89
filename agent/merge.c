/* Merging a change-set into a replica: spec/MERGE.md §2-§8 (last writer
 * wins per column, tombstones, conflicts from the history of writes, merged
 * writes kept out of the outbox, the clock). */
#include "merge.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "error.h"
#include "merge_internal.h"

static const uint8_t ZERO[SWLOG_HASH_BYTES];

/* Statements used for every record, prepared once per change-set. */
enum {
    S_SCAN,     /* history of one column and the row's deletes */
    S_SCAN_ROW, /* history of every column of a row */
    S_HAS,      /* a write's identity already merged? */
    S_HLC,      /* a column write of the row with this HLC? */
    S_DEAD,     /* a delete of the row with this HLC? */
    S_BELOW,    /* newest write of a column older than an HLC */
    S_PUT,      /* add a write to the history */
    S_CONF,     /* record a conflict */
    S_COUNT
};

static const char *const static_sql[S_COUNT] = {
    "SELECT col, hlc, signer, frame, rep, value FROM _sw_hist WHERE tbl = ?1 "
    "AND row_id = ?2 AND (col = ?3 OR col = '')",
    "SELECT col, hlc, signer, frame, rep, value FROM _sw_hist WHERE tbl = ?1 "
    "AND row_id = ?2 AND col <> ''",
    "SELECT 1 FROM _sw_hist WHERE tbl = ?1 AND row_id = ?2 AND col = ?3 AND "
    "hlc = ?4 AND signer = ?5 AND frame = ?6",
    "SELECT 1 FROM _sw_hist WHERE tbl = ?1 AND row_id = ?2 AND col <> '' AND "
    "hlc = ?3 LIMIT 1",
    "SELECT 1 FROM _sw_hist WHERE tbl = ?1 AND row_id = ?2 AND col = '' AND "
    "hlc = ?3 LIMIT 1",
    "SELECT max(hlc) FROM _sw_hist WHERE tbl = ?1 AND row_id = ?2 AND col = "
    "?3 AND hlc < ?4",
    "INSERT INTO _sw_hist(tbl, row_id, col, hlc, signer, frame, rep, value) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    "INSERT OR IGNORE INTO _sw_conflicts(tbl, row_id, col, win_kind, "
    "win_hlc, win_signer, win_frame, win_value, lose_hlc, lose_signer, "
    "lose_frame, lose_value) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12)",
};

/* The version row and the row of one record, read before it is merged. */
typedef struct rowstate {
    int have_v, dead_set, exists;
    uint64_t born, dead;
    uint64_t vers[SCHEMA_MAX_COLUMNS];
    unsigned char vset[SCHEMA_MAX_COLUMNS];
    sqlite3_stmt *row; /* positioned on the row while exists */
} rowstate;

/* Statements built per table (and per set of columns written), kept for
 * the change-set: preparing an UPDATE or INSERT compiles the capture
 * trigger with it, which costs more than running it. */
enum { K_VSEL, K_RSEL, K_VPUT, K_DEL, K_UPD, K_INS };
#define CACHE_SLOTS 64

typedef struct cached {
    const schema_table *t;
    int kind;
    uint64_t mask;
    sqlite3_stmt *st;
} cached;

typedef struct mctx {
    cached cache[CACHE_SLOTS];
    size_t ncache, evict;
    sqlite3 *db;
    const schema_model *m;
    const swlog_frame *f;
    merge_stats *st;
    swlog_error *err;
    sqlite3_stmt *s[S_COUNT];
    swlog_buf ev, ew; /* encodings of the incoming and a held write */
    const schema_table *t;
    char row_id[37];
} mctx;

static int prepare(mctx *c, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) != SQLITE_OK)
        return error_sqlite(c->err, c->db, "merge: preparing a statement");
    return SWLOG_OK;
}

/* The cached statement of (table, kind, mask), reset; NULL when none. */
static sqlite3_stmt *lookup(mctx *c, int kind, uint64_t mask)
{
    for (size_t i = 0; i < c->ncache; i++) {
        cached *e = &c->cache[i];
        if (e->t == c->t && e->kind == kind && e->mask == mask) {
            sqlite3_reset(e->st);
            sqlite3_clear_bindings(e->st);
            return e->st;
        }
    }
    return NULL;
}

/* Prepare sql (an sqlite3_str, finished here) and keep it in the cache. */
static int store(mctx *c, int kind, uint64_t mask, sqlite3_str *s,
                 sqlite3_stmt **out)
{
    char *sql = sqlite3_str_finish(s);
    if (sql == NULL)
        return error_set(c->err, SWLOG_ENOMEM, "merge: out of memory");
    int rc = prepare(c, sql, out);
    sqlite3_free(sql);
    if (rc != SWLOG_OK)
        return rc;
    size_t slot = c->ncache;
    if (slot == CACHE_SLOTS) {
        /* Round robin over the statements not running now. */
        for (size_t k = 0; k < CACHE_SLOTS; k++) {
            slot = (c->evict + k) % CACHE_SLOTS;
            if (!sqlite3_stmt_busy(c->cache[slot].st))
                break;
        }
        c->evict = (slot + 1) % CACHE_SLOTS;
        sqlite3_finalize(c->cache[slot].st);
    } else {
        c->ncache++;
    }
    c->cache[slot] = (cached){c->t, kind, mask, *out};
    return SWLOG_OK;
}

static sqlite3_stmt *use(mctx *c, int k)
{
    sqlite3_reset(c->s[k]);
    sqlite3_clear_bindings(c->s[k]);
    sqlite3_bind_text(c->s[k], 1, c->t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->s[k], 2, c->row_id, -1, SQLITE_STATIC);
    return c->s[k];
}

static int step_done(mctx *c, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SWLOG_OK : error_sqlite(c->err, c->db, what);
}

/* 1 when a query with parameters bound has a row, 0 when not, or < 0. */
static int has_row(mctx *c, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : error_sqlite(c->err, c->db, what);
}

/* ---- pass 1: every table and column declared, every type allowed ---- */

static int check_frame(mctx *c)
{
    swlog_reader rd;
    swlog_record rec;
    swlog_column col;
    int rc = swlog_reader_init(&rd, c->f, c->err);
    unsigned sv = c->f->u.changeset.schema_version;
    int code = sv > c->m->version ? SWLOG_EVERSION : SWLOG_EINVAL;
    uint32_t n = 0;
    while (rc == SWLOG_OK && (rc = swlog_reader_next(&rd, &rec, c->err)) == 1) {
        char name[SWLOG_MAX_NAME + 1];
        n++;
        memcpy(name, rec.table, rec.table_len);
        name[rec.table_len] = '\0';
        const schema_table *t = schema_find(c->m, name);
        if (t == NULL)
            return swlog_fail(c->err, code, 0,
                              "record %" PRIu32 ": table %s is not declared "
                              "by schema version %u (the change-set names "
                              "version %u) (MERGE §7)",
                              n, name, c->m->version, sv);
        while ((rc = swlog_reader_value(&rd, &col, c->err)) == 1) {
            char cn[SWLOG_MAX_NAME + 1];
            memcpy(cn, col.name, col.name_len);
            cn[col.name_len] = '\0';
            int i = schema_column_index(t, cn);
            if (i < 0)
                return swlog_fail(c->err, code, 0,
                                  "record %" PRIu32 ": column %s.%s is not "
                                  "declared by schema version %u (the "
                                  "change-set names version %u) (MERGE §7)",
                                  n, name, cn, c->m->version, sv);
            int want = t->columns[i].type == SCHEMA_INTEGER ? SWLOG_INT
                                                            : SWLOG_TEXT;
            if (col.value.type != SWLOG_NULL && col.value.type != want)
                return swlog_fail(c->err, SWLOG_EINVAL, 0,
                                  "record %" PRIu32 ": column %s.%s holds a "
                                  "value of type %u where the model wants "
                                  "%s (MERGE §7)",
                                  n, name, cn, (unsigned)col.value.type,
                                  want == SWLOG_INT ? "integer" : "text");
        }
        if (rc == 0)
            rc = SWLOG_OK;
    }
    return rc < 0 ? rc : SWLOG_OK;
}

/* ---- reading a row's state ------------------------------------------- */

static int read_state(mctx *c, rowstate *rs)
{
    const schema_table *t = c->t;
    int rc = SWLOG_OK;
    sqlite3_stmt *st = lookup(c, K_VSEL, 0);
    if (st == NULL) {
        sqlite3_str *s = sqlite3_str_new(c->db);
        sqlite3_str_appendall(s, "SELECT _born, _dead");
        for (size_t i = 0; i < t->ncolumns; i++)
            sqlite3_str_appendf(s, ", \"%w\"", t->columns[i].name);
        sqlite3_str_appendf(s, " FROM \"_sw_v_%w\" WHERE id = ?1", t->name);
        rc = store(c, K_VSEL, 0, s, &st);
    }
    if (rc != SWLOG_OK)
        return rc;
    memset(rs, 0, sizeof *rs);
    sqlite3_bind_text(st, 1, c->row_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        rs->have_v = 1;
        rs->born = (uint64_t)sqlite3_column_int64(st, 0);
        rs->dead_set = sqlite3_column_type(st, 1) != SQLITE_NULL;
        rs->dead = (uint64_t)sqlite3_column_int64(st, 1);
        for (size_t i = 0; i < t->ncolumns; i++) {
            rs->vset[i] = sqlite3_column_type(st, 2 + (int)i) != SQLITE_NULL;
            rs->vers[i] = (uint64_t)sqlite3_column_int64(st, 2 + (int)i);
        }
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return error_sqlite(c->err, c->db, "merge: reading a version row");

    st = lookup(c, K_RSEL, 0);
    if (st == NULL) {
        sqlite3_str *s = sqlite3_str_new(c->db);
        sqlite3_str_appendall(s, "SELECT id");
        for (size_t i = 0; i < t->ncolumns; i++)
            sqlite3_str_appendf(s, ", \"%w\"", t->columns[i].name);
        sqlite3_str_appendf(s, " FROM \"%w\" WHERE id = ?1", t->name);
        rc = store(c, K_RSEL, 0, s, &st);
    }
    if (rc != SWLOG_OK)
        return rc;
    rs->row = st;
    sqlite3_bind_text(st, 1, c->row_id, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return error_sqlite(c->err, c->db, "merge: reading a row");
    rs->exists = step == SQLITE_ROW;
    return SWLOG_OK;
}

static uint64_t version_of(const rowstate *rs, size_t i)
{
    if (!rs->have_v)
        return 0;
    return rs->vset[i] ? rs->vers[i] : rs->born;
}

/* ---- the history (MERGE §4) ------------------------------------------ */

static int hist_put(mctx *c, const char *col, const merge__write *w)
{
    sqlite3_stmt *st = use(c, S_PUT);
    sqlite3_bind_text(st, 3, col, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)w->hlc);
    sqlite3_bind_blob(st, 5, w->signer, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, w->frame, SWLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)w->rep);
    merge__bind_value(st, 8, w);
    return step_done(c, st, "merge: adding to the history");
}

static int hist_has(mctx *c, const char *col, const merge__write *w)
{
    sqlite3_stmt *st = use(c, S_HAS);
    sqlite3_bind_text(st, 3, col, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)w->hlc);
    sqlite3_bind_blob(st, 5, w->signer, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, w->frame, SWLOG_HASH_BYTES, SQLITE_STATIC);
    return has_row(c, st, "merge: reading the history");
}

/* MERGE §6: a local write (made in this replica, so not in the history)
 * enters the history the first time a merge meets its column, with a zero
 * signer and frame, the value it holds and, as replaced HLC, the newest
 * write of the column held before it. */
static int local_column(mctx *c, rowstate *rs, size_t i)
{
    uint64_t cv = version_of(rs, i);
    if (cv == 0)
        return SWLOG_OK;
    sqlite3_stmt *st = use(c, S_HLC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)cv);
    int rc = has_row(c, st, "merge: reading the history");
    if (rc != 0)
        return rc < 0 ? rc : SWLOG_OK;
    const char *col = c->t->columns[i].name;
    st = use(c, S_BELOW);
    sqlite3_bind_text(st, 3, col, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)cv);
    uint64_t rep = 0;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rep = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_ROW)
        return error_sqlite(c->err, c->db, "merge: reading the history");
    if (rs->born < cv && rs->born > rep)
        rep = rs->born;
    merge__write w = {.kind = SWLOG_UPSERT, .hlc = cv, .rep = rep,
                      .signer = ZERO, .frame = ZERO};
    if (rs->exists)
        w.sv = sqlite3_column_value(rs->row, 1 + (int)i);
    return hist_put(c, col, &w);
}

static int local_delete(mctx *c, rowstate *rs)
{
    if (!rs->have_v || !rs->dead_set || rs->dead == 0)
        return SWLOG_OK;
    sqlite3_stmt *st = use(c, S_DEAD);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)rs->dead);
    int rc = has_row(c, st, "merge: reading the history");
    if (rc != 0)
        return rc < 0 ? rc : SWLOG_OK;
    /* The capture trigger's replaced HLC: the newest version of the row. */
    uint64_t rep = rs->born;
    for (size_t i = 0; i < c->t->ncolumns; i++)
        if (rs->vset[i] && rs->vers[i] > rep && rs->vers[i] < rs->dead)
            rep = rs->vers[i];
    merge__write w = {.kind = SWLOG_DELETE, .hlc = rs->dead, .rep = rep,
                      .signer = ZERO, .frame = ZERO};
    return hist_put(c, "", &w);
}

/* ---- conflicts (MERGE §5) -------------------------------------------- */

static int conflict(mctx *c, const char *col, const merge__write *win,
                    const merge__write *lose)
{
    sqlite3_stmt *st = use(c, S_CONF);
    sqlite3_bind_text(st, 3, col, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, win->kind);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)win->hlc);
    sqlite3_bind_blob(st, 6, win->signer, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, win->frame, SWLOG_HASH_BYTES, SQLITE_STATIC);
    merge__bind_value(st, 8, win);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)lose->hlc);
    sqlite3_bind_blob(st, 10, lose->signer, SWLOG_PUBKEY_BYTES,
                      SQLITE_STATIC);
    sqlite3_bind_blob(st, 11, lose->frame, SWLOG_HASH_BYTES, SQLITE_STATIC);
    merge__bind_value(st, 12, lose);
    int rc = step_done(c, st, "merge: recording a conflict");
    if (rc == SWLOG_OK && sqlite3_changes(c->db) > 0 && c->st != NULL)
        c->st->conflicts++;
    return rc;
}

/* A history row as a write; its blobs must be 32 bytes (the engine wrote
 * them), anything else is a damaged replica. */
static int held_write(mctx *c, sqlite3_stmt *st, merge__write *w)
{
    if (sqlite3_column_bytes(st, 2) != SWLOG_PUBKEY_BYTES ||
        sqlite3_column_bytes(st, 3) != SWLOG_HASH_BYTES)
        return error_set(c->err, SWLOG_ECORRUPT,
                         "merge: a _sw_hist row of %s has a bad signer or "
                         "frame id",
                         c->t->name);
    const char *col = (const char *)sqlite3_column_text(st, 0);
    w->kind = col != NULL && col[0] == '\0' ? SWLOG_DELETE : SWLOG_UPSERT;
    w->hlc = (uint64_t)sqlite3_column_int64(st, 1);
    w->signer = sqlite3_column_blob(st, 2);
    w->frame = sqlite3_column_blob(st, 3);
    w->rep = (uint64_t)sqlite3_column_int64(st, 4);
    w->xv = NULL;
    w->sv = w->kind == SWLOG_UPSERT ? sqlite3_column_value(st, 5) : NULL;
    return SWLOG_OK;
}

/* Compare the incoming column write v with every held write of its column
 * and every delete of its row: record the conflicts, and say whether v is
 * the newest write of the column (*wins). */
static int scan_column(mctx *c, const char *col, const merge__write *v,
                       int *wins)
{
    swlog_value tmp;
    *wins = 1;
    if (merge__encode(v->xv, &c->ev) != SWLOG_OK)
        return error_set(c->err, SWLOG_ENOMEM, "merge: out of memory");
    sqlite3_stmt *st = use(c, S_SCAN);
    sqlite3_bind_text(st, 3, col, -1, SQLITE_STATIC);
    int step = SQLITE_DONE, rc = SWLOG_OK;
    while (rc == SWLOG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        merge__write w;
        rc = held_write(c, st, &w);
        if (rc != SWLOG_OK)
            break;
        if (w.kind == SWLOG_DELETE) {
            *wins = 0; /* MERGE §3.2: a tombstone is final */
            if (w.rep < v->hlc)
                rc = conflict(c, col, &w, v);
            continue;
        }
        merge__from_sql(w.sv, &tmp);
        if (merge__encode(&tmp, &c->ew) != SWLOG_OK) {
            rc = error_set(c->err, SWLOG_ENOMEM, "merge: out of memory");
            break;
        }
        int o = merge__order(v, &c->ev, &w, &c->ew);
        /* MERGE §5.1: writes of the same value lose nothing. */
        int same = c->ev.len == c->ew.len &&
                   memcmp(c->ev.p, c->ew.p, c->ev.len) == 0;
        if (o > 0 && v->rep < w.hlc && !same)
            rc = conflict(c, col, v, &w);
        else if (o < 0) {
            *wins = 0;
            if (w.rep < v->hlc && !same)
                rc = conflict(c, col, &w, v);
        }
    }
    if (rc == SWLOG_OK && step != SQLITE_DONE)
        rc = error_sqlite(c->err, c->db, "merge: reading the history");
    sqlite3_reset(st);
    return rc;
}

/* ---- writing --------------------------------------------------------- */

static int put_version(mctx *c, const rowstate *rs)
{
    const schema_table *t = c->t;
    int rc = SWLOG_OK;
    sqlite3_stmt *st = lookup(c, K_VPUT, 0);
    if (st == NULL) {
        sqlite3_str *s = sqlite3_str_new(c->db);
        sqlite3_str_appendf(s, "INSERT OR REPLACE INTO \"_sw_v_%w\"(id, "
                               "_born, _dead",
                            t->name);
        for (size_t i = 0; i < t->ncolumns; i++)
            sqlite3_str_appendf(s, ", \"%w\"", t->columns[i].name);
        sqlite3_str_appendall(s, ") VALUES(?1, ?2, ?3");
        for (size_t i = 0; i < t->ncolumns; i++)
            sqlite3_str_appendf(s, ", ?%d", 4 + (int)i);
        sqlite3_str_appendall(s, ")");
        rc = store(c, K_VPUT, 0, s, &st);
    }
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_text(st, 1, c->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)rs->born);
    if (rs->dead_set)
        sqlite3_bind_int64(st, 3, (sqlite3_int64)rs->dead);
    for (size_t i = 0; i < t->ncolumns; i++)
        if (rs->vset[i])
            sqlite3_bind_int64(st, 4 + (int)i, (sqlite3_int64)rs->vers[i]);
    return step_done(c, st, "merge: writing a version row");
}

/* Write the winning values of an upsert: an UPDATE of the row, or an
 * INSERT creating it. The triggers capture it; merge_changeset removes
 * those outbox entries (MERGE §8). */
static int write_values(mctx *c, int exists, const size_t *idx,
                        const swlog_value *vals, size_t n)
{
    const schema_table *t = c->t;
    uint64_t mask = 0;
    for (size_t k = 0; k < n; k++)
        mask |= (uint64_t)1 << idx[k];
    int kind = exists ? K_UPD : K_INS, rc = SWLOG_OK;
    sqlite3_stmt *st = lookup(c, kind, mask);
    if (st == NULL) {
        sqlite3_str *s = sqlite3_str_new(c->db);
        if (exists) {
            sqlite3_str_appendf(s, "UPDATE \"%w\" SET ", t->name);
            for (size_t k = 0; k < n; k++)
                sqlite3_str_appendf(s, "%s\"%w\" = ?%d", k > 0 ? ", " : "",
                                    t->columns[idx[k]].name, 2 + (int)k);
            sqlite3_str_appendall(s, " WHERE id = ?1");
        } else {
            sqlite3_str_appendf(s, "INSERT INTO \"%w\"(id", t->name);
            for (size_t k = 0; k < n; k++)
                sqlite3_str_appendf(s, ", \"%w\"", t->columns[idx[k]].name);
            sqlite3_str_appendall(s, ") VALUES(?1");
            for (size_t k = 0; k < n; k++)
                sqlite3_str_appendf(s, ", ?%d", 2 + (int)k);
            sqlite3_str_appendall(s, ")");
        }
        rc = store(c, kind, mask, s, &st);
    }
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_text(st, 1, c->row_id, -1, SQLITE_STATIC);
    for (size_t k = 0; k < n; k++) {
        merge__write w = {.kind = SWLOG_UPSERT, .xv = &vals[k]};
        merge__bind_value(st, 2 + (int)k, &w);
    }
    return step_done(c, st, "merge: writing a row");
}

/* ---- records --------------------------------------------------------- */

static int merge_upsert(mctx *c, swlog_reader *rd, const swlog_record *rec,
                        rowstate *rs)
{
    size_t idx[SCHEMA_MAX_COLUMNS];
    swlog_value vals[SCHEMA_MAX_COLUMNS];
    size_t nwin = 0;
    swlog_column col;
    int rc;
    int dead = rs->dead_set;
    while ((rc = swlog_reader_value(rd, &col, c->err)) == 1) {
        char cn[SWLOG_MAX_NAME + 1];
        memcpy(cn, col.name, col.name_len);
        cn[col.name_len] = '\0';
        int i = schema_column_index(c->t, cn); /* checked by pass 1 */
        merge__write v = {.kind = SWLOG_UPSERT, .hlc = rec->hlc,
                          .rep = col.replaced_hlc, .signer = c->f->signer,
                          .frame = c->f->id, .xv = &col.value};
        rc = hist_has(c, cn, &v);
        if (rc != 0) {
            if (rc < 0)
                return rc;
            continue; /* this write was merged before */
        }
        rc = local_column(c, rs, (size_t)i);
        int wins = 0;
        if (rc == SWLOG_OK)
            rc = scan_column(c, cn, &v, &wins);
        if (rc == SWLOG_OK)
            rc = hist_put(c, cn, &v);
        if (rc != SWLOG_OK)
            return rc;
        if (wins && !dead) {
            idx[nwin] = (size_t)i;
            vals[nwin++] = col.value;
            rs->vset[i] = 1;
            rs->vers[i] = rec->hlc;
            if (c->st != NULL)
                c->st->applied++;
        } else if (c->st != NULL) {
            c->st->stale++;
        }
    }
    if (rc < 0)
        return rc;
    if (dead)
        return SWLOG_OK;
    /* MERGE §3.3: a row's birth is its oldest upsert. A row that exists
     * without a version row predates capture: its versions stay unknown. */
    uint64_t born = rs->have_v ? rs->born : rs->exists ? 0 : rec->hlc;
    if (born != 0 && rec->hlc < born)
        born = rec->hlc;
    if (nwin == 0 && born == rs->born)
        return SWLOG_OK;
    int exists = rs->exists;
    sqlite3_reset(rs->row); /* no open read of the table while writing it */
    rs->row = NULL;
    rs->exists = 0;
    if (nwin > 0 && (rc = write_values(c, exists, idx, vals, nwin)) != SWLOG_OK)
        return rc;
    if (nwin == 0 && !exists && !rs->have_v)
        return SWLOG_OK;
    rs->born = born;
    return put_version(c, rs);
}

static int merge_delete(mctx *c, const swlog_record *rec, rowstate *rs)
{
    merge__write d = {.kind = SWLOG_DELETE, .hlc = rec->hlc,
                      .rep = rec->replaced_hlc, .signer = c->f->signer,
                      .frame = c->f->id};
    int rc = hist_has(c, "", &d);
    if (rc != 0)
        return rc < 0 ? rc : SWLOG_OK;
    for (size_t i = 0; i < c->t->ncolumns; i++)
        if ((rc = local_column(c, rs, i)) != SWLOG_OK)
            return rc;
    /* MERGE §5.2: the delete against every column write of the row it had
     * not seen. */
    sqlite3_stmt *st = use(c, S_SCAN_ROW);
    int step = SQLITE_DONE;
    while (rc == SWLOG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        merge__write w;
        rc = held_write(c, st, &w);
        if (rc == SWLOG_OK && d.rep < w.hlc)
            rc = conflict(c, (const char *)sqlite3_column_text(st, 0), &d,
                          &w);
    }
    if (rc == SWLOG_OK && step != SQLITE_DONE)
        rc = error_sqlite(c->err, c->db, "merge: reading the history");
    sqlite3_reset(st);
    if (rc == SWLOG_OK)
        rc = hist_put(c, "", &d);
    if (rc != SWLOG_OK)
        return rc;
    int exists = rs->exists;
    sqlite3_reset(rs->row);
    rs->row = NULL;
    rs->exists = 0;
    if (exists) {
        sqlite3_stmt *del = lookup(c, K_DEL, 0);
        if (del == NULL) {
            sqlite3_str *s = sqlite3_str_new(c->db);
            sqlite3_str_appendf(s, "DELETE FROM \"%w\" WHERE id = ?1",
                                c->t->name);
            rc = store(c, K_DEL, 0, s, &del);
            if (rc != SWLOG_OK)
                return rc;
        }
        sqlite3_bind_text(del, 1, c->row_id, -1, SQLITE_STATIC);
        rc = step_done(c, del, "merge: deleting a row");
        if (rc != SWLOG_OK)
            return rc;
    }
    if (c->st != NULL) {
        if (rs->dead_set && rs->dead >= rec->hlc)
            c->st->stale++;
        else
            c->st->applied++;
    }
    /* MERGE §3.2: the tombstone's HLC is the newest delete's. */
    if (!rs->dead_set || rs->dead < rec->hlc)
        rs->dead = rec->hlc;
    rs->dead_set = 1;
    if (!rs->have_v)
        rs->born = 0;
    return put_version(c, rs);
}

static int merge_record(mctx *c, swlog_reader *rd, const swlog_record *rec)
{
    char name[SWLOG_MAX_NAME + 1];
    memcpy(name, rec->table, rec->table_len);
    name[rec->table_len] = '\0';
    c->t = schema_find(c->m, name); /* checked by pass 1 */
    swlog_uuid_format(rec->row_id, c->row_id);
    rowstate rs = {0};
    int rc = read_state(c, &rs);
    if (rc == SWLOG_OK)
        rc = local_delete(c, &rs);
    if (rc == SWLOG_OK)
        rc = rec->kind == SWLOG_DELETE ? merge_delete(c, rec, &rs)
                                       : merge_upsert(c, rd, rec, &rs);
    if (rs.row != NULL)
        sqlite3_reset(rs.row);
    return rc;
}

/* ---- the change-set -------------------------------------------------- */

static int one_int(mctx *c, const char *sql, int64_t arg, int nargs,
                   uint64_t *out)
{
    sqlite3_stmt *st;
    int rc = prepare(c, sql, &st);
    if (rc != SWLOG_OK)
        return rc;
    if (nargs > 0)
        sqlite3_bind_int64(st, 1, arg);
    int step = sqlite3_step(st);
    if (out != NULL && step == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return error_sqlite(c->err, c->db, "merge");
    return SWLOG_OK;
}

/* The replica's wall clock as an HLC (agent/README.md §Clock). */
#define WALL_HLC_SQL                                                         \
    "SELECT ((CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS "   \
    "INTEGER) + offset_ms) << 16) FROM _sw_state"

int merge_ahead(replica *r, uint64_t hlc, uint64_t *ahead_ms,
                uint64_t *bound, swlog_error *err)
{
    mctx c = {.db = replica_db(r), .err = err};
    uint64_t wall = 0;
    int rc = one_int(&c, WALL_HLC_SQL, 0, 0, &wall);
    if (rc != SWLOG_OK)
        return rc;
    uint64_t lim = wall + ((uint64_t)MERGE_MAX_AHEAD_MS << 16);
    if (bound != NULL)
        *bound = lim;
    if (ahead_ms != NULL)
        *ahead_ms = hlc > lim ? (hlc >> 16) - (wall >> 16) : 0;
    return SWLOG_OK;
}

int merge_changeset(replica *r, const swlog_frame *f, merge_stats *st,
                    swlog_error *err)
{
    if (r == NULL || f == NULL || f->type != SWLOG_TYPE_CHANGESET)
        return swlog_fail(err, SWLOG_EARG, 0,
                          "merge: not a decoded change-set frame");
    mctx c = {.db = replica_db(r), .m = replica_model(r), .f = f, .st = st,
              .err = err};
    if (sqlite3_get_autocommit(c.db))
        return swlog_fail(err, SWLOG_EARG, 0,
                          "merge: must run inside the caller's transaction "
                          "(replica_begin)");
    swlog_buf_init(&c.ev);
    swlog_buf_init(&c.ew);
    uint64_t before = 0, bound = 0, ahead = 0;
    int rc = check_frame(&c);
    if (rc == SWLOG_OK)
        rc = merge__tables(c.db, err);
    for (int k = 0; rc == SWLOG_OK && k < S_COUNT; k++)
        rc = prepare(&c, static_sql[k], &c.s[k]);
    if (rc == SWLOG_OK)
        rc = one_int(&c, "SELECT coalesce(max(hlc), 0) FROM _sw_outbox", 0,
                     0, &before);
    swlog_reader rd;
    swlog_record rec;
    if (rc == SWLOG_OK)
        rc = swlog_reader_init(&rd, f, err);
    while (rc == SWLOG_OK && (rc = swlog_reader_next(&rd, &rec, err)) == 1) {
        if (st != NULL)
            st->records++;
        rc = merge_record(&c, &rd, &rec);
    }
    if (rc == 0)
        rc = SWLOG_OK;
    /* MERGE §8: the triggers captured the merge's writes; they are not
     * local changes. Everything above `before` was written by this merge:
     * the caller holds the write lock (BEGIN IMMEDIATE). */
    if (rc == SWLOG_OK)
        rc = one_int(&c, "DELETE FROM _sw_outbox WHERE hlc > ?1",
                     (int64_t)before, 1, NULL);
    /* MERGE §9: the clock moves past the frame, at most to wall + bound. */
    if (rc == SWLOG_OK)
        rc = merge_ahead(r, f->hlc, &ahead, &bound, err);
    if (rc == SWLOG_OK) {
        if (ahead > 0 && st != NULL)
            st->future++;
        rc = capture_clock_observe(c.db, f->hlc < bound ? f->hlc : bound,
                                   err);
    }
    for (int k = 0; k < S_COUNT; k++)
        sqlite3_finalize(c.s[k]);
    for (size_t k = 0; k < c.ncache; k++)
        sqlite3_finalize(c.cache[k].st);
    swlog_buf_clear(&c.ev);
    swlog_buf_clear(&c.ew);
    return rc;
}
