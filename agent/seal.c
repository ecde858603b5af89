/* Sealing outbox entries into signed change-sets in the station's log:
 * FORMAT §5 (change-sets), §8.1 (chains), §8.4 (durability), §10 (limits).
 *
 * State in the replica (created by seal_open):
 *   _sw_feed(signer, next_seq, head_seq, head_id): per signing key, the next
 *     sequence number to reserve and the head = last frame whose entries
 *     are marked sealed (0 and a zero id when none).
 *   _sw_inflight(seq, signer, lo, hi, count, frame_hlc, sv, author): the
 *     reservation of one change-set: it holds the `count` outbox entries
 *     with lo < hlc <= hi, is signed with frame HLC frame_hlc, and has
 *     sequence number seq. Rows exist only between steps 1 and 4 below.
 *
 * One group of change-sets:
 *   1. BEGIN IMMEDIATE; stream entries after sealed_upto into builders
 *      (one author and one schema version per change-set; cut before the
 *      §10 limits); take a fresh frame HLC per change-set; insert the
 *      _sw_inflight rows, set next_seq past them; COMMIT.  DESIGN: "persist
 *      the next sequence number before signing".
 *   2. Sign each in seq order, prev = head_id then the previous frame's id.
 *   3. One swlog_log_append of all bodies: one write, one fsync.
 *   4. BEGIN; capture_mark_sealed(last hi); head := last frame; delete the
 *      _sw_inflight rows; COMMIT.
 *
 * Recovery (seal_open, and seal_run after a failed step): read the log;
 * with H = head_seq and N = next_seq, the frames of our feed must end at a
 * seq L with H <= L < N and the log's frame H must have id head_id. Rebuild
 * every reserved change-set from its range and re-sign it: Ed25519 is
 * deterministic (RFC 8032) and every input (entries, seq, prev, frame HLC,
 * author, schema version) is fixed by the reservation, so the bytes are the
 * ones a crashed run signed. Frames H+1..L must have exactly those ids
 * (else SWLOG_EFORK, refused); append the frames L+1..N-1 and do step 4.
 *
 * Why it holds, for a crash at any instant:
 * - No seq names two change-sets. A seq is handed out only in a committed
 *   step 1 (next_seq moves past it in the same transaction), and no new
 *   reservation is made while _sw_inflight holds rows (recovery finishes
 *   them first). Until step 4 commits, the content of seq k is a pure
 *   function of its _sw_inflight row and the outbox entries in (lo, hi],
 *   which never change: entries are appended with ever larger HLCs (the
 *   clock is monotonic and already past hi when hi was chosen) and only
 *   pruned once sealed. So every signature of seq k is the same frame. A
 *   step 1 that did not commit reserved nothing and signed nothing.
 * - No entry is sealed twice. Ranges are disjoint: a group starts after
 *   sealed_upto, which step 4 moves to the last hi of the group in the
 *   transaction that removes the reservations, and groups never overlap
 *   because recovery completes a reservation before the next is made.
 *   Frames already in the log are recognised by id and not appended again.
 * - No entry is lost. A committed write is in the outbox (capture, same
 *   transaction). It is marked sealed only by step 4, which runs after the
 *   fsync of the frame holding it (FORMAT §8.4); a torn or failed append is
 *   cut back by swlog_log_open/swlog_log_append and recovery appends it
 *   again. */
#include "seal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "error.h"
#include "seal_internal.h"


static const char SCHEMA_SQL[] =
    "CREATE TABLE IF NOT EXISTS _sw_feed("
    " signer BLOB PRIMARY KEY,"
    " next_seq INTEGER NOT NULL,"
    " head_seq INTEGER NOT NULL,"
    " head_id BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS _sw_inflight("
    " seq INTEGER NOT NULL,"
    " signer BLOB NOT NULL,"
    " lo INTEGER NOT NULL,"
    " hi INTEGER NOT NULL,"
    " count INTEGER NOT NULL,"
    " frame_hlc INTEGER NOT NULL,"
    " sv INTEGER NOT NULL,"
    " author TEXT NOT NULL,"
    " PRIMARY KEY(signer, seq));";



static seal_fault_fn fault_fn;
static void *fault_ctx;

void seal_set_fault(seal_fault_fn fn, void *ctx)
{
    fault_fn = fn;
    fault_ctx = ctx;
}

void seal__fault(int step)
{
    if (fault_fn != NULL)
        fault_fn(step, fault_ctx);
}

/* ---- small SQL helpers ------------------------------------------------ */

static int exec(sqlite3 *db, const char *sql, const char *what,
                swlog_error *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return error_sqlite(err, db, what);
    return SWLOG_OK;
}

static void rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int seal__prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st,
                  const char *what, swlog_error *err)
                  {
                  if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
                  return error_sqlite(err, db, what);
    return SWLOG_OK;
}

/* Step a statement that returns no row, then finalize it. */
int seal__done_stmt(sqlite3 *db, sqlite3_stmt *st, const char *what,
                     swlog_error *err)
{
    int rc = sqlite3_step(st);
    int ok = rc == SQLITE_DONE;
    int out = ok ? SWLOG_OK : error_sqlite(err, db, what);
    sqlite3_finalize(st);
    return out;
}

/* ---- pool of builders ------------------------------------------------- */

int seal__pool_reserve(sealer *s, size_t n, swlog_error *err)
{
    if (n <= s->cap)
        return SWLOG_OK;
    swlog_cs **cs = realloc(s->cs, n * sizeof *cs);
    if (cs != NULL)
        s->cs = cs;
    cs_meta *meta = realloc(s->meta, n * sizeof *meta);
    if (meta != NULL)
        s->meta = meta;
    swlog_buf *bodies = realloc(s->bodies, n * sizeof *bodies);
    if (bodies != NULL)
        s->bodies = bodies;
    const uint8_t **bp = realloc(s->bp, n * sizeof *bp);
    if (bp != NULL)
        s->bp = bp;
    size_t *bl = realloc(s->bl, n * sizeof *bl);
    if (bl != NULL)
        s->bl = bl;
    if (cs == NULL || meta == NULL || bodies == NULL || bp == NULL ||
        bl == NULL)
        return error_set(err, SWLOG_ENOMEM, "sealing: out of memory");
    for (; s->cap < n; s->cap++) {
        swlog_buf_init(&s->bodies[s->cap]);
        s->cs[s->cap] = swlog_cs_new();
        if (s->cs[s->cap] == NULL)
            return error_set(err, SWLOG_ENOMEM, "sealing: out of memory");
    }
    return SWLOG_OK;
}

/* ---- filling change-sets from the outbox ------------------------------ */


/* An upper bound of what one entry adds to a change-set body, names
 * counted as if new to the dictionary. */
static size_t entry_bound(const capture_entry *e)
{
    size_t n = 64 + 2 * SWLOG_MAX_NAME;
    for (size_t i = 0; i < e->nvalues; i++) {
        n += 48 + 2 * SWLOG_MAX_NAME;
        int t = sqlite3_value_type(e->values[i].value);
        if (t == SQLITE_TEXT || t == SQLITE_BLOB)
            n += (size_t)sqlite3_value_bytes(e->values[i].value);
    }
    return n;
}

/* 1 when a record of table t keeps the dictionary within FORMAT §10. */
static int table_fits(const cs_meta *c, const schema_table *t)
{
    for (size_t i = 0; i < c->ntables; i++)
        if (c->tables[i] == t->name)
            return 1;
    return c->ntables < SWLOG_MAX_TABLES &&
           c->dictcols + t->ncolumns <= SWLOG_MAX_DICT_COLUMNS;
}

static void note_table(cs_meta *c, const schema_table *t)
{
    for (size_t i = 0; i < c->ntables; i++)
        if (c->tables[i] == t->name)
            return;
    c->tables[c->ntables++] = t->name;
    c->dictcols += t->ncolumns;
}

static void to_value(sqlite3_value *sv, swlog_value *v)
{
    memset(v, 0, sizeof *v);
    switch (sqlite3_value_type(sv)) {
    case SQLITE_INTEGER:
        v->type = SWLOG_INT;
        v->i = sqlite3_value_int64(sv);
        break;
    case SQLITE_FLOAT:
        v->type = SWLOG_REAL;
        v->r = sqlite3_value_double(sv);
        break;
    case SQLITE_TEXT:
        v->type = SWLOG_TEXT;
        v->p = sqlite3_value_text(sv);
        v->len = (size_t)sqlite3_value_bytes(sv);
        break;
    case SQLITE_BLOB:
        v->type = SWLOG_BLOB;
        v->p = sqlite3_value_blob(sv);
        v->len = (size_t)sqlite3_value_bytes(sv);
        break;
    default:
        v->type = SWLOG_NULL;
        break;
    }
}

static int add_record(swlog_cs *cs, const capture_entry *e,
                      const schema_table *t, swlog_error *err)
{
    uint8_t id[SWLOG_UUID_BYTES];
    if (swlog_uuid_parse(e->row_id, id) != SWLOG_OK)
        return error_set(err, SWLOG_EINVAL,
                         "outbox entry %" PRIu64 ": row id is not a UUID",
                         e->hlc);
    if (e->kind == CAPTURE_DELETE)
        return swlog_cs_delete(cs, e->table, id, e->hlc, e->replaced_hlc,
                               err);
    if (e->kind != CAPTURE_INSERT && e->kind != CAPTURE_UPDATE)
        return error_set(err, SWLOG_EINVAL,
                         "outbox entry %" PRIu64 ": unknown kind %d", e->hlc,
                         e->kind);
    int rc = swlog_cs_upsert(cs, e->table, id, e->hlc, err);
    for (size_t i = 0; rc == SWLOG_OK && i < e->nvalues; i++) {
        swlog_value v;
        to_value(e->values[i].value, &v);
        rc = swlog_cs_value(cs, e->values[i].column,
                            e->values[i].replaced_hlc, &v, err);
    }
    /* FORMAT §5.2 wants at least one value; an insert of a row whose
     * columns are all NULL says so with its first column. */
    if (rc == SWLOG_OK && e->nvalues == 0 && t->ncolumns > 0) {
        swlog_value null = {0};
        null.type = SWLOG_NULL;
        rc = swlog_cs_value(cs, t->columns[0].name, 0, &null, err);
    }
    return rc;
}

static void meta_open(cs_meta *c, uint64_t lo, const capture_entry *e)
{
    memset(c, 0, sizeof *c);
    c->lo = lo;
    c->hi = lo;
    c->sv = (uint32_t)e->schema_version;
    memcpy(c->author, e->operator_, strlen(e->operator_) + 1);
}

int seal__take_entry(const capture_entry *e, void *ctx)
{
    fill *f = ctx;
    sealer *s = f->s;
    const schema_table *t = schema_find(s->m, e->table);
    size_t alen = strlen(e->operator_);
    if (t == NULL)
        return error_set(f->err, SWLOG_EINVAL,
                         "outbox entry %" PRIu64 ": undeclared table",
                         e->hlc);
    if (alen == 0 || alen > SWLOG_MAX_AUTHOR)
        return error_set(f->err, SWLOG_EBOUNDS,
                         "outbox entry %" PRIu64 ": operator name of %zu "
                         "bytes (FORMAT §5.1 allows 1 to %u)",
                         e->hlc, alen, SWLOG_MAX_AUTHOR);
    size_t est = entry_bound(e);
    if (!f->rebuild) {
        cs_meta *c = f->n > 0 ? &s->meta[f->n - 1] : NULL;
        int cut = c == NULL || c->sv != e->schema_version ||
                  strcmp(c->author, e->operator_) != 0 ||
                  c->count >= s->opt.max_records ||
                  swlog_cs_size_bound(s->cs[f->n - 1]) + est > BODY_ROOM ||
                  !table_fits(c, t);
        size_t open = c != NULL ? swlog_cs_size_bound(s->cs[f->n - 1]) : 0;
        if (f->n > 0 && f->closed_bytes + open + est > GROUP_BYTES)
            return STOP;
        if (cut) {
            if (f->n == s->opt.group_sets)
                return STOP;
            f->closed_bytes += open;
            swlog_cs_reset(s->cs[f->n]);
            meta_open(&s->meta[f->n], f->cursor, e);
            f->n++;
        }
    }
    cs_meta *c = &s->meta[f->n - 1];
    if (f->rebuild && (c->sv != e->schema_version ||
                       strcmp(c->author, e->operator_) != 0))
        return error_set(f->err, SWLOG_ECORRUPT,
                         "outbox entry %" PRIu64 " does not match the "
                         "reservation of seq %" PRIu64,
                         e->hlc, c->seq);
    int rc = add_record(s->cs[f->n - 1], e, t, f->err);
    if (rc != SWLOG_OK)
        return rc;
    note_table(c, t);
    c->count++;
    c->hi = e->hlc;
    f->cursor = e->hlc;
    return 0;
}

/* ---- signing ---------------------------------------------------------- */

/* FORMAT §4.3 over the signed header: 120 common bytes, then the change-set
 * fields of §5.1 (129 + author_len in all). */
static void frame_id(const swlog_buf *body, size_t author_len,
                     uint8_t id[SWLOG_HASH_BYTES])
{
    swlog_hash_ctx(SWLOG_CTX_FRAME_ID, body->p, 129 + author_len, id);
}

/* Sign change-sets 0..n-1, chained after the head. */
int seal__sign_all(sealer *s, size_t n, swlog_error *err)
{
    uint8_t prev[SWLOG_HASH_BYTES];
    memcpy(prev, s->head_id, sizeof prev);
    for (size_t i = 0; i < n; i++) {
        cs_meta *c = &s->meta[i];
        swlog_head h;
        h.seq = c->seq;
        memcpy(h.prev, prev, sizeof prev);
        h.hlc = c->frame_hlc;
        int rc = swlog_cs_seal(s->cs[i], s->sk, &h, c->sv, c->author,
                               &s->bodies[i], err);
        if (rc != SWLOG_OK)
            return rc;
        frame_id(&s->bodies[i], strlen(c->author), c->id);
        memcpy(prev, c->id, sizeof prev);
        s->bp[i] = s->bodies[i].p;
        s->bl[i] = s->bodies[i].len;
    }
    return SWLOG_OK;
}

/* ---- steps 1 and 4 ---------------------------------------------------- */

static int reserve(sealer *s, size_t n, swlog_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = seal__prepare(s->db,
                           "INSERT INTO _sw_inflight(seq, signer, lo, hi, "
                           "count, frame_hlc, sv, author) "
                           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                           &st, "reserving sequence numbers", err);
    for (size_t i = 0; rc == SWLOG_OK && i < n; i++) {
        cs_meta *c = &s->meta[i];
        c->seq = s->next_seq + i;
        rc = capture_clock_next(s->db, &c->frame_hlc, err);
        if (rc != SWLOG_OK)
            break;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)c->seq);
        sqlite3_bind_blob(st, 2, s->pk, sizeof s->pk, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)c->lo);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)c->hi);
        sqlite3_bind_int64(st, 5, c->count);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)c->frame_hlc);
        sqlite3_bind_int64(st, 7, c->sv);
        sqlite3_bind_text(st, 8, c->author, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = error_sqlite(err, s->db, "reserving sequence numbers");
    }
    sqlite3_finalize(st);
    if (rc != SWLOG_OK)
        return rc;
    rc = seal__prepare(s->db,
                       "UPDATE _sw_feed SET next_seq = ?1 WHERE signer = ?2",
                       &st, "reserving sequence numbers", err);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(s->next_seq + n));
    sqlite3_bind_blob(st, 2, s->pk, sizeof s->pk, SQLITE_STATIC);
    return seal__done_stmt(s->db, st, "reserving sequence numbers", err);
}

/* Step 4 for change-sets 0..n-1, all in the log. */
int seal__mark(sealer *s, size_t n, swlog_error *err)
{
    const cs_meta *last = &s->meta[n - 1];
    sqlite3_stmt *st = NULL;
    int rc = exec(s->db, "BEGIN IMMEDIATE", "marking entries sealed", err);
    rc = rc ? rc : capture_mark_sealed(s->db, last->hi, err);
    rc = rc ? rc
            : seal__prepare(s->db,
                            "UPDATE _sw_feed SET head_seq = ?1, head_id = ?2 "
                            "WHERE signer = ?3",
                            &st, "advancing the feed head", err);
    if (rc == SWLOG_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)last->seq);
        sqlite3_bind_blob(st, 2, last->id, SWLOG_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, s->pk, sizeof s->pk, SQLITE_STATIC);
        rc = seal__done_stmt(s->db, st, "advancing the feed head", err);
    }
    rc = rc ? rc
            : seal__prepare(s->db, "DELETE FROM _sw_inflight WHERE signer = ?1",
                            &st, "clearing the reservation", err);
    if (rc == SWLOG_OK) {
        sqlite3_bind_blob(st, 1, s->pk, sizeof s->pk, SQLITE_STATIC);
        rc = seal__done_stmt(s->db, st, "clearing the reservation", err);
    }
    rc = rc ? rc : exec(s->db, "COMMIT", "marking entries sealed", err);
    if (rc != SWLOG_OK) {
        rollback(s->db);
        return rc;
    }
    s->head_seq = last->seq;
    memcpy(s->head_id, last->id, SWLOG_HASH_BYTES);
    seal__fault(SEAL_STEP_MARKED);
    return SWLOG_OK;
}

int seal__append(sealer *s, size_t from, size_t n, swlog_error *err)
{
    if (n == from)
        return SWLOG_OK;
    int rc = swlog_log_append(s->log, s->bp + from, s->bl + from, n - from,
                              err);
    if (rc == SWLOG_OK)
        seal__fault(SEAL_STEP_APPENDED);
    return rc;
}

/* One group: steps 1-4. *taken = entries sealed (0: nothing pending). */
static int group(sealer *s, seal_stats *st, uint64_t *taken,
                 swlog_error *err)
{
    *taken = 0;
    fill f = {0};
    f.s = s;
    f.err = err;
    int rc = exec(s->db, "BEGIN IMMEDIATE", "starting a seal", err);
    rc = rc ? rc : capture_sealed_upto(s->db, &f.cursor, err);
    if (rc == SWLOG_OK) {
        rc = capture_scan(s->db, s->m, f.cursor, s->opt.group_records,
                          seal__take_entry, &f, err);
        if (rc == STOP)
            rc = SWLOG_OK;
    }
    if (rc == SWLOG_OK && f.n == 0) {
        rollback(s->db);
        return SWLOG_OK;
    }
    rc = rc ? rc : reserve(s, f.n, err);
    rc = rc ? rc : exec(s->db, "COMMIT", "reserving sequence numbers", err);
    if (rc != SWLOG_OK) {
        rollback(s->db);
        return rc;
    }
    s->next_seq += f.n;
    seal__fault(SEAL_STEP_RESERVED);
    s->broken = 1; /* until step 4 commits, a failure leaves work behind */
    rc = seal__sign_all(s, f.n, err);
    if (rc != SWLOG_OK)
        return rc;
    seal__fault(SEAL_STEP_SIGNED);
    rc = seal__append(s, 0, f.n, err);
    rc = rc ? rc : seal__mark(s, f.n, err);
    if (rc != SWLOG_OK)
        return rc;
    s->broken = 0;
    for (size_t i = 0; i < f.n; i++)
        *taken += s->meta[i].count;
    if (st != NULL) {
        st->records += *taken;
        st->changesets += f.n;
        st->groups++;
    }
    return SWLOG_OK;
}

/* ---- public ----------------------------------------------------------- */

int seal_open(replica *r, const char *log_path,
              const uint8_t sk[SWLOG_SECKEY_BYTES], const seal_options *opt,
              sealer **out, seal_stats *st, swlog_error *err)
{
    if (r == NULL || log_path == NULL || sk == NULL || out == NULL)
        return error_set(err, SWLOG_EARG, "seal_open: missing argument");
    sealer *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(log_path)) == NULL) {
        free(s);
        return error_set(err, SWLOG_ENOMEM, "sealing: out of memory");
    }
    s->r = r;
    s->db = replica_db(r);
    s->m = replica_model(r);
    memcpy(s->sk, sk, sizeof s->sk);
    memcpy(s->pk, sk + SWLOG_SEED_BYTES, sizeof s->pk);
    if (opt != NULL)
        s->opt = *opt;
    if (s->opt.max_records == 0 || s->opt.max_records > SWLOG_MAX_RECORDS)
        s->opt.max_records = SWLOG_MAX_RECORDS;
    if (s->opt.group_records == 0)
        s->opt.group_records = DEFAULT_GROUP_RECORDS;
    if (s->opt.group_sets == 0)
        s->opt.group_sets = DEFAULT_GROUP_SETS;
    int rc = exec(s->db, SCHEMA_SQL, "creating the feed tables", err);
    rc = rc ? rc : seal__pool_reserve(s, s->opt.group_sets, err);
    rc = rc ? rc : seal__recover(s, st, err);
    if (rc != SWLOG_OK) {
        seal_close(s);
        return rc;
    }
    *out = s;
    return SWLOG_OK;
}

int seal_run(sealer *s, seal_stats *st, swlog_error *err)
{
    if (s == NULL)
        return error_set(err, SWLOG_EARG, "seal_run: missing sealer");
    int rc = s->broken ? seal__recover(s, st, err) : SWLOG_OK;
    uint64_t taken = 1;
    seal_stats run = {0};
    while (rc == SWLOG_OK && taken > 0) {
        rc = group(s, &run, &taken, err);
        if (rc == SWLOG_OK && taken > 0 && s->opt.progress != NULL)
            s->opt.progress(&run, s->opt.progress_ctx);
    }
    if (st != NULL) {
        st->records += run.records;
        st->changesets += run.changesets;
        st->groups += run.groups;
    }
    return rc;
}

int seal_feed(sealer *s, uint64_t *next_seq, uint64_t *head_seq,
              uint8_t head_id[SWLOG_HASH_BYTES], swlog_error *err)
{
    if (s == NULL)
        return error_set(err, SWLOG_EARG, "seal_feed: missing sealer");
    if (next_seq != NULL)
        *next_seq = s->next_seq;
    if (head_seq != NULL)
        *head_seq = s->head_seq;
    if (head_id != NULL)
        memcpy(head_id, s->head_id, SWLOG_HASH_BYTES);
    return SWLOG_OK;
}

void seal_close(sealer *s)
{
    if (s == NULL)
        return;
    swlog_log_close(s->log);
    for (size_t i = 0; i < s->cap; i++) {
        swlog_cs_free(s->cs[i]);
        swlog_buf_clear(&s->bodies[i]);
    }
    free(s->cs);
    free(s->meta);
    free(s->bodies);
    free(s->bp);
    free(s->bl);
    free(s->path);
    swlog_wipe(s->sk, sizeof s->sk);
    free(s);
}
