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
    S_LOAD, /* the history of one row */
    S_PUT,  /* write one history row back */
    S_CONF, /* record a conflict */
    S_FLAG,  /* _sw_state.merging: capture skips merged writes (§8.1) */
    S_TICKS, /* the clock ticks of the rows written (MERGE §8.1) */
    S_WALL,  /* the replica's wall clock as an HLC (MERGE §9) */
    S_COUNT
};

static const char *const static_sql[S_COUNT] = {
    "SELECT hlc, signer, frame, writes FROM _sw_hist WHERE tbl = ?1 AND "
    "row_id = ?2",
    "INSERT OR REPLACE INTO _sw_hist(tbl, row_id, hlc, signer, frame, "
    "writes) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    "INSERT OR IGNORE INTO _sw_conflicts(tbl, row_id, col, win_kind, "
    "win_hlc, win_signer, win_frame, win_value, lose_hlc, lose_signer, "
    "lose_frame, lose_value) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12)",
    CAPTURE_MERGING_SQL,
    CAPTURE_TICKS_SQL,
    /* agent/README.md §Clock */
    "SELECT " CAPTURE_WALL_HLC " FROM _sw_state",
};

/* The canonical encoding of NULL (MERGE §3.1): a delete's packed value. */
static const uint8_t NULL_ENC[1] = {SWLOG_NULL};

/* One _sw_hist row of the record's row, held in memory while the record is
 * merged (MERGE §4): read once, searched for every column, written back
 * when the merge added to it. */
typedef struct hrow {
    uint64_t hlc;
    uint8_t signer[SWLOG_PUBKEY_BYTES], frame[SWLOG_HASH_BYTES];
    swlog_buf w; /* packed writes */
    size_t seen; /* bytes of w that hist_has and scan_column search */
    int dirty;
} hrow;

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

/* The statements, kept with the replica between change-sets
 * (replica_merge_cache): preparing them for each change-set cost a tenth
 * of a hub's ingest. Reset whenever not running. */
typedef struct mcache {
    cached cache[CACHE_SLOTS];
    size_t ncache, evict;
    sqlite3_stmt *s[S_COUNT]; /* prepared on first use */
    sqlite3_stmt *tables;     /* merge__tables' look-up */
} mcache;

/* Column names of a change-set point into its dictionary (FORMAT §5.3),
 * so the same pointer comes back in every record: its schema index is
 * remembered instead of searched again by name. */
#define COL_MEMO 64
typedef struct colmemo {
    const schema_table *t;
    const uint8_t *name;
    size_t len;
    int idx;
} colmemo;

typedef struct mctx {
    mcache *k;
    sqlite3 *db;
    const schema_model *m;
    const swlog_frame *f;
    merge_stats *st;
    swlog_error *err;
    swlog_buf ev, ew; /* encodings of the incoming and a local write */
    hrow *h;          /* the history of the record's row */
    size_t nh, caph;
    const schema_table *t;
    char row_id[37];
    uint64_t ticks; /* rows written: the capture triggers' clock ticks */
    colmemo memo[COL_MEMO];
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
    for (size_t i = 0; i < c->k->ncache; i++) {
        cached *e = &c->k->cache[i];
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
    mcache *m = c->k;
    size_t slot = m->ncache;
    if (slot == CACHE_SLOTS) {
        /* Round robin over the statements not running now. */
        for (size_t k = 0; k < CACHE_SLOTS; k++) {
            slot = (m->evict + k) % CACHE_SLOTS;
            if (!sqlite3_stmt_busy(m->cache[slot].st))
                break;
        }
        m->evict = (slot + 1) % CACHE_SLOTS;
        sqlite3_finalize(m->cache[slot].st);
    } else {
        m->ncache++;
    }
    m->cache[slot] = (cached){c->t, kind, mask, *out};
    return SWLOG_OK;
}

static sqlite3_stmt *use(mctx *c, int k)
{
    sqlite3_stmt *st = c->k->s[k];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_text(st, 1, c->t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->row_id, -1, SQLITE_STATIC);
    return st;
}

static void mcache_drop(void *p)
{
    mcache *m = p;
    if (m == NULL)
        return;
    for (int k = 0; k < S_COUNT; k++)
        sqlite3_finalize(m->s[k]);
    for (size_t k = 0; k < m->ncache; k++)
        sqlite3_finalize(m->cache[k].st);
    sqlite3_finalize(m->tables);
    free(m);
}

/* r's statement cache, made when new. */
static int mcache_get(mctx *c, replica *r)
{
    c->k = replica_merge_cache(r);
    if (c->k != NULL)
        return SWLOG_OK;
    mcache *m = calloc(1, sizeof *m);
    if (m == NULL)
        return error_set(c->err, SWLOG_ENOMEM, "merge: out of memory");
    replica_set_merge_cache(r, m, mcache_drop);
    c->k = m;
    return SWLOG_OK;
}

/* Prepare the static statements from..to-1 not prepared yet. */
static int mcache_ready(mctx *c, int from, int to)
{
    for (int k = from; k < to; k++)
        if (c->k->s[k] == NULL &&
            sqlite3_prepare_v2(c->db, static_sql[k], -1, &c->k->s[k], NULL) !=
                SQLITE_OK)
            return error_sqlite(c->err, c->db, "merge: preparing a "
                                               "statement");
    return SWLOG_OK;
}

/* Every cached statement reset: none holds a read open after a merge. */
static void mcache_idle(mcache *m)
{
    if (m == NULL)
        return;
    for (int k = 0; k < S_COUNT; k++)
        sqlite3_reset(m->s[k]);
    for (size_t k = 0; k < m->ncache; k++)
        sqlite3_reset(m->cache[k].st);
    sqlite3_reset(m->tables);
}

static int step_done(mctx *c, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SWLOG_OK : error_sqlite(c->err, c->db, what);
}

/* ---- pass 1: every table and column declared, every type allowed ---- */

/* schema_column_index of col's name (NUL-terminated in cn). */
static int col_index(mctx *c, const schema_table *t, const swlog_column *col,
                     const char *cn)
{
    colmemo *e = &c->memo[((uintptr_t)col->name >> 1) % COL_MEMO];
    if (e->t == t && e->name == col->name && e->len == col->name_len)
        return e->idx;
    e->t = t;
    e->name = col->name;
    e->len = col->name_len;
    e->idx = schema_column_index(t, cn);
    return e->idx;
}

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
            int i = col_index(c, t, &col, cn);
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

int merge_check(const schema_model *m, const swlog_frame *f,
                swlog_error *err)
{
    if (m == NULL || f == NULL || f->type != SWLOG_TYPE_CHANGESET)
        return swlog_fail(err, SWLOG_EARG, 0,
                          "merge: not a decoded change-set frame");
    mctx c = {.m = m, .f = f, .err = err};
    return check_frame(&c);
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

static hrow *hist_new(mctx *c)
{
    if (c->nh == c->caph) {
        size_t cap = c->caph ? 2 * c->caph : 16;
        hrow *h = realloc(c->h, cap * sizeof *h);
        if (h == NULL)
            return NULL;
        for (size_t k = c->caph; k < cap; k++)
            swlog_buf_init(&h[k].w);
        c->h = h;
        c->caph = cap;
    }
    hrow *r = &c->h[c->nh++];
    r->w.len = 0;
    r->seen = 0;
    r->dirty = 0;
    return r;
}

static int damaged(mctx *c)
{
    return error_set(c->err, SWLOG_ECORRUPT,
                     "merge: a _sw_hist row of %s %s is damaged (MERGE §4)",
                     c->t->name, c->row_id);
}

/* Read the history of the record's row into c->h. */
static int hist_load(mctx *c)
{
    c->nh = 0;
    sqlite3_stmt *st = use(c, S_LOAD);
    int step, rc = SWLOG_OK;
    while (rc == SWLOG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 1) != SWLOG_PUBKEY_BYTES ||
            sqlite3_column_bytes(st, 2) != SWLOG_HASH_BYTES) {
            rc = damaged(c);
            break;
        }
        hrow *r = hist_new(c);
        if (r == NULL ||
            swlog_buf_append(&r->w, sqlite3_column_blob(st, 3),
                             (size_t)sqlite3_column_bytes(st, 3)) !=
                SWLOG_OK) {
            rc = error_set(c->err, SWLOG_ENOMEM, "merge: out of memory");
            break;
        }
        r->hlc = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(r->signer, sqlite3_column_blob(st, 1), SWLOG_PUBKEY_BYTES);
        memcpy(r->frame, sqlite3_column_blob(st, 2), SWLOG_HASH_BYTES);
        merge__packed e;
        size_t off = 0;
        int u;
        while ((u = merge__unpack(r->w.p, r->w.len, &off, &e)) == 1)
            ;
        if (u < 0)
            rc = damaged(c);
        r->seen = r->w.len;
    }
    if (rc == SWLOG_OK && step != SQLITE_DONE)
        rc = error_sqlite(c->err, c->db, "merge: reading the history");
    sqlite3_reset(st);
    return rc;
}

/* The next packed write of the held history after (*ri, *off), starting
 * at (0, 0): 1 with the write in e and its row c->h[*ri], 0 at the end.
 * hist_load checked every row. With seen, only the writes held before the
 * record being merged began adding its own (hrow.seen). */
static int hist_step(mctx *c, size_t *ri, size_t *off, merge__packed *e,
                     int seen)
{
    while (*ri < c->nh) {
        const hrow *r = &c->h[*ri];
        if (merge__unpack(r->w.p, seen ? r->seen : r->w.len, off, e) == 1)
            return 1;
        (*ri)++;
        *off = 0;
    }
    return 0;
}

static int hist_next(mctx *c, size_t *ri, size_t *off, merge__packed *e)
{
    return hist_step(c, ri, off, e, 0);
}

/* hist_has and scan_column never need the writes the record being merged
 * added itself: a record names each column once (FORMAT §5.4), so those
 * are of other columns, and an upsert's are not deletes. Skipping them
 * keeps a record of n columns from searching n²/2 writes of its own. */
static int hist_next_seen(mctx *c, size_t *ri, size_t *off, merge__packed *e)
{
    return hist_step(c, ri, off, e, 1);
}

static int is_col(const merge__packed *e, const char *col)
{
    size_t n = strlen(col);
    return e->col_len == n && memcmp(e->col, col, n) == 0;
}

static int same_key(const hrow *r, const merge__write *w)
{
    return r->hlc == w->hlc &&
           memcmp(r->signer, w->signer, SWLOG_PUBKEY_BYTES) == 0 &&
           memcmp(r->frame, w->frame, SWLOG_HASH_BYTES) == 0;
}

/* A held packed write as a write; its value borrowed from c->h. */
static void held_write(const hrow *r, const merge__packed *e,
                       merge__write *w, swlog_value *val)
{
    w->kind = e->col_len == 0 ? SWLOG_DELETE : SWLOG_UPSERT;
    w->hlc = r->hlc;
    w->signer = r->signer;
    w->frame = r->frame;
    w->rep = e->rep;
    w->sv = NULL;
    w->xv = NULL;
    if (w->kind == SWLOG_UPSERT) {
        merge__decode(e, val);
        w->xv = val;
    }
}

/* Add a write (value encoded in enc) to the held history. */
static int hist_put(mctx *c, const char *col, const merge__write *w,
                    const uint8_t *enc, size_t enc_len)
{
    hrow *r = NULL;
    for (size_t k = 0; k < c->nh && r == NULL; k++)
        if (same_key(&c->h[k], w))
            r = &c->h[k];
    if (r == NULL) {
        r = hist_new(c);
        if (r == NULL)
            return error_set(c->err, SWLOG_ENOMEM, "merge: out of memory");
        r->hlc = w->hlc;
        memcpy(r->signer, w->signer, SWLOG_PUBKEY_BYTES);
        memcpy(r->frame, w->frame, SWLOG_HASH_BYTES);
    }
    r->dirty = 1;
    if (merge__pack(&r->w, col, w->rep, enc, enc_len) != SWLOG_OK)
        return error_set(c->err, SWLOG_ENOMEM, "merge: out of memory");
    /* A local write (MERGE §6) is searched at once; the incoming record's
     * own writes are not (hist_next_seen). */
    if (w->signer != c->f->signer)
        r->seen = r->w.len;
    return SWLOG_OK;
}

/* Write the history rows the record added to back to _sw_hist. */
static int hist_flush(mctx *c)
{
    for (size_t k = 0; k < c->nh; k++) {
        hrow *r = &c->h[k];
        if (!r->dirty)
            continue;
        sqlite3_stmt *st = use(c, S_PUT);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)r->hlc);
        sqlite3_bind_blob(st, 4, r->signer, SWLOG_PUBKEY_BYTES,
                          SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, r->frame, SWLOG_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(st, 6, r->w.p, (int)r->w.len, SQLITE_STATIC);
        int rc = step_done(c, st, "merge: adding to the history");
        if (rc != SWLOG_OK)
            return rc;
        r->dirty = 0;
    }
    return SWLOG_OK;
}

/* 1 when the write's identity (MERGE §2) is in the history. */
static int hist_has(mctx *c, const char *col, const merge__write *w)
{
    size_t ri = 0, off = 0;
    merge__packed e;
    while (hist_next_seen(c, &ri, &off, &e))
        if (same_key(&c->h[ri], w) && is_col(&e, col))
            return 1;
    return 0;
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
    const char *col = c->t->columns[i].name;
    size_t ri = 0, off = 0;
    merge__packed e;
    uint64_t rep = 0;
    while (hist_next(c, &ri, &off, &e)) {
        uint64_t h = c->h[ri].hlc;
        if (e.col_len > 0 && h == cv)
            return SWLOG_OK; /* a column write of the row with this HLC */
        if (h < cv && h > rep && is_col(&e, col))
            rep = h;
    }
    if (rs->born < cv && rs->born > rep)
        rep = rs->born;
    merge__write w = {.kind = SWLOG_UPSERT, .hlc = cv, .rep = rep,
                      .signer = ZERO, .frame = ZERO};
    swlog_value v = {.type = SWLOG_NULL};
    if (rs->exists)
        merge__from_sql(sqlite3_column_value(rs->row, 1 + (int)i), &v);
    if (merge__encode(&v, &c->ew) != SWLOG_OK)
        return error_set(c->err, SWLOG_ENOMEM, "merge: out of memory");
    return hist_put(c, col, &w, c->ew.p, c->ew.len);
}

static int local_delete(mctx *c, rowstate *rs)
{
    if (!rs->have_v || !rs->dead_set || rs->dead == 0)
        return SWLOG_OK;
    size_t ri = 0, off = 0;
    merge__packed e;
    while (hist_next(c, &ri, &off, &e))
        if (e.col_len == 0 && c->h[ri].hlc == rs->dead)
            return SWLOG_OK; /* a delete of the row with this HLC */
    /* The capture trigger's replaced HLC: the newest version of the row. */
    uint64_t rep = rs->born;
    for (size_t i = 0; i < c->t->ncolumns; i++)
        if (rs->vset[i] && rs->vers[i] > rep && rs->vers[i] < rs->dead)
            rep = rs->vers[i];
    merge__write w = {.kind = SWLOG_DELETE, .hlc = rs->dead, .rep = rep,
                      .signer = ZERO, .frame = ZERO};
    return hist_put(c, "", &w, NULL_ENC, sizeof NULL_ENC);
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

/* Compare the incoming column write v (its encoding in c->ev) with every
 * held write of its column and every delete of its row: record the
 * conflicts, and say whether v is the newest write of the column (*wins). */
static int scan_column(mctx *c, const char *col, const merge__write *v,
                       int *wins)
{
    *wins = 1;
    size_t ri = 0, off = 0;
    merge__packed e;
    int rc = SWLOG_OK;
    while (rc == SWLOG_OK && hist_next_seen(c, &ri, &off, &e)) {
        if (e.col_len != 0 && !is_col(&e, col))
            continue;
        merge__write w;
        swlog_value val;
        held_write(&c->h[ri], &e, &w, &val);
        if (w.kind == SWLOG_DELETE) {
            *wins = 0; /* MERGE §3.2: a tombstone is final */
            if (w.rep < v->hlc)
                rc = conflict(c, col, &w, v);
            continue;
        }
        int o = merge__order(v, c->ev.p, c->ev.len, &w, e.enc, e.enc_len);
        /* MERGE §5.1: writes of the same value lose nothing. */
        int same = c->ev.len == e.enc_len &&
                   memcmp(c->ev.p, e.enc, e.enc_len) == 0;
        if (o > 0 && v->rep < w.hlc && !same)
            rc = conflict(c, col, v, &w);
        else if (o < 0) {
            *wins = 0;
            if (w.rep < v->hlc && !same)
                rc = conflict(c, col, &w, v);
        }
    }
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

/* Write the winning values of an upsert: an UPDATE of the row where a
 * value changes, or an INSERT creating it. The capture triggers skip it
 * (MERGE §8.1); each row written ticks the clock as a captured write
 * would: an insert, an update changing a value (the update trigger's
 * WHEN; `IS NOT` compares as it does, the column's affinity applied). */
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
            sqlite3_str_appendall(s, " WHERE id = ?1 AND (");
            for (size_t k = 0; k < n; k++)
                sqlite3_str_appendf(s, "%s\"%w\" IS NOT ?%d",
                                    k > 0 ? " OR " : "",
                                    t->columns[idx[k]].name, 2 + (int)k);
            sqlite3_str_appendall(s, ")");
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
    rc = step_done(c, st, "merge: writing a row");
    if (rc == SWLOG_OK)
        c->ticks += (uint64_t)sqlite3_changes(c->db);
    return rc;
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
        int i = col_index(c, c->t, &col, cn); /* checked by pass 1 */
        merge__write v = {.kind = SWLOG_UPSERT, .hlc = rec->hlc,
                          .rep = col.replaced_hlc, .signer = c->f->signer,
                          .frame = c->f->id, .xv = &col.value};
        if (hist_has(c, cn, &v))
            continue; /* this write was merged before */
        rc = local_column(c, rs, (size_t)i);
        int wins = 0;
        if (rc == SWLOG_OK && merge__encode(v.xv, &c->ev) != SWLOG_OK)
            rc = error_set(c->err, SWLOG_ENOMEM, "merge: out of memory");
        if (rc == SWLOG_OK)
            rc = scan_column(c, cn, &v, &wins);
        if (rc == SWLOG_OK)
            rc = hist_put(c, cn, &v, c->ev.p, c->ev.len);
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
    if (hist_has(c, "", &d))
        return SWLOG_OK;
    int rc = SWLOG_OK;
    for (size_t i = 0; i < c->t->ncolumns; i++)
        if ((rc = local_column(c, rs, i)) != SWLOG_OK)
            return rc;
    /* MERGE §5.2: the delete against every column write of the row it had
     * not seen. */
    size_t ri = 0, off = 0;
    merge__packed e;
    while (rc == SWLOG_OK && hist_next(c, &ri, &off, &e)) {
        if (e.col_len == 0 || d.rep >= c->h[ri].hlc)
            continue;
        char cn[SWLOG_MAX_NAME + 1];
        memcpy(cn, e.col, e.col_len); /* merge__unpack bounded it */
        cn[e.col_len] = '\0';
        merge__write w;
        swlog_value val;
        held_write(&c->h[ri], &e, &w, &val);
        rc = conflict(c, cn, &d, &w);
    }
    if (rc == SWLOG_OK)
        rc = hist_put(c, "", &d, NULL_ENC, sizeof NULL_ENC);
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
        c->ticks += (uint64_t)sqlite3_changes(c->db);
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
        rc = hist_load(c);
    if (rc == SWLOG_OK)
        rc = local_delete(c, &rs);
    if (rc == SWLOG_OK)
        rc = rec->kind == SWLOG_DELETE ? merge_delete(c, rec, &rs)
                                       : merge_upsert(c, rd, rec, &rs);
    if (rc == SWLOG_OK)
        rc = hist_flush(c);
    if (rs.row != NULL)
        sqlite3_reset(rs.row);
    return rc;
}

/* ---- the change-set -------------------------------------------------- */

int merge_ahead(replica *r, uint64_t hlc, uint64_t *ahead_ms,
                uint64_t *bound, swlog_error *err)
{
    mctx c = {.db = replica_db(r), .err = err};
    int rc = mcache_get(&c, r);
    if (rc == SWLOG_OK)
        rc = mcache_ready(&c, S_WALL, S_WALL + 1);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_stmt *st = c.k->s[S_WALL];
    sqlite3_reset(st);
    int step = sqlite3_step(st);
    uint64_t wall = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_ROW)
        return error_sqlite(err, c.db, "merge: reading the clock");
    uint64_t lim = wall + ((uint64_t)MERGE_MAX_AHEAD_MS << 16);
    if (bound != NULL)
        *bound = lim;
    if (ahead_ms != NULL)
        *ahead_ms = hlc > lim ? (hlc >> 16) - (wall >> 16) : 0;
    return SWLOG_OK;
}

static int merge_frame(replica *r, const swlog_frame *f, merge_stats *st,
                       int checked, swlog_error *err)
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
    uint64_t bound = 0, ahead = 0;
    int flagged = 0;
    int rc = mcache_get(&c, r);
    if (rc == SWLOG_OK && !checked)
        rc = check_frame(&c);
    if (rc == SWLOG_OK)
        rc = merge__tables(c.db, &c.k->tables, err);
    if (rc == SWLOG_OK)
        rc = mcache_ready(&c, 0, S_COUNT);
    /* MERGE §8.1: the capture triggers skip what this connection writes
     * until the flag is back to 0, on every path below. The caller's
     * transaction holds the write lock (BEGIN IMMEDIATE): no other
     * connection ever sees the flag set. */
    if (rc == SWLOG_OK) {
        sqlite3_bind_int(c.k->s[S_FLAG], 1, 1);
        rc = step_done(&c, c.k->s[S_FLAG], "merge: setting the merge flag");
        flagged = rc == SWLOG_OK;
    }
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
    if (flagged) {
        /* After a failure too (swlog_fail keeps the first message): a
         * caller that commits anyway must not leave capture off. */
        sqlite3_bind_int(c.k->s[S_FLAG], 1, 0);
        int off = step_done(&c, c.k->s[S_FLAG],
                            "merge: clearing the merge flag");
        if (rc == SWLOG_OK)
            rc = off;
    }
    /* MERGE §8.1: the clock ticks as the skipped triggers would have. */
    if (rc == SWLOG_OK && c.ticks > 0) {
        sqlite3_stmt *tk = c.k->s[S_TICKS];
        sqlite3_reset(tk);
        sqlite3_bind_int64(tk, 1, (sqlite3_int64)c.ticks);
        rc = step_done(&c, tk, "merge: advancing the clock");
    }
    /* MERGE §9: the clock moves past the frame, at most to wall + bound. */
    if (rc == SWLOG_OK)
        rc = merge_ahead(r, f->hlc, &ahead, &bound, err);
    if (rc == SWLOG_OK) {
        if (ahead > 0 && st != NULL)
            st->future++;
        rc = capture_clock_observe(c.db, f->hlc < bound ? f->hlc : bound,
                                   err);
    }
    mcache_idle(c.k);
    swlog_buf_clear(&c.ev);
    swlog_buf_clear(&c.ew);
    for (size_t k = 0; k < c.caph; k++)
        swlog_buf_clear(&c.h[k].w);
    free(c.h);
    return rc;
}

int merge_changeset(replica *r, const swlog_frame *f, merge_stats *st,
                    swlog_error *err)
{
    return merge_frame(r, f, st, 0, err);
}

int merge_changeset_checked(replica *r, const swlog_frame *f,
                            merge_stats *st, swlog_error *err)
{
    return merge_frame(r, f, st, 1, err);
}
