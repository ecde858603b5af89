/* County-authored change-sets in the hub's own feed: hub_author.h. */
#include "hub_author.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../capture.h"
#include "../error.h"
#include "hub_internal.h"

/* Cut a change-set before it grows past this (well under SWLOG_MAX_BODY
 * and SWLOG_MAX_RECORDS): a transfer of a long case becomes several
 * frames to the same station. */
#define AUTHOR_CUT_BYTES (1024u * 1024u)
#define AUTHOR_CUT_RECORDS 1000u

sqlite3 *hub_author_db(hub *h)
{
    return replica_db(hub_replica_handle(h->rep));
}

/* Merge f and record it (store first, then the replica: recovery merges
 * again what the store holds and the feed lacks). */
static int commit_frame(hub *h, const swlog_frame *f, const char *recipient,
                        swlog_error *err)
{
    int rc = hub_store_begin(h->store, err);
    if (rc != SWLOG_OK)
        return rc;
    if ((rc = hub_replica_begin(h->rep, err)) != SWLOG_OK) {
        hub_store_rollback(h->store);
        return rc;
    }
    uint64_t leaf;
    rc = hub_replica_merge(h->rep, f, NULL, err);
    if (rc == SWLOG_OK)
        rc = hub_store_outbound_add(h->store, f->seq, recipient, f->signer,
                                    f->id, f->body, f->body_len, &leaf, err);
    if (rc == SWLOG_OK)
        rc = hub_replica_set_leaves(h->rep, hub_store_leaves(h->store), err);
    if (rc == SWLOG_OK)
        rc = hub_store_commit(h->store, err);
    if (rc != SWLOG_OK) {
        hub_replica_rollback(h->rep);
        hub_store_rollback(h->store);
        return rc;
    }
    return hub_replica_commit(h->rep, err);
}

/* Append f to the hub's feed (fsync) and move its head. */
static int append_own(hub *h, const swlog_frame *f, swlog_error *err)
{
    const uint8_t *bodies[1] = {f->body};
    size_t lens[1] = {f->body_len};
    int rc = swlog_log_append(h->own, bodies, lens, 1, err);
    if (rc == SWLOG_OK) {
        h->own_next.seq = f->seq + 1;
        memcpy(h->own_next.prev, f->id, SWLOG_HASH_BYTES);
        h->own_next.hlc = f->hlc;
    }
    return rc;
}

/* Seal cs as the hub's next frame addressed to recipient, with PROTOCOL
 * §4.9 durability; empties cs. */
static int author_frame(hub *h, swlog_cs *cs, uint64_t rec_hlc,
                        const char *recipient, const char *author,
                        hub_author_out *out, swlog_error *err)
{
    if (swlog_cs_count(cs) == 0)
        return SWLOG_OK;
    swlog_head head = h->own_next;
    head.hlc = rec_hlc > h->own_next.hlc ? rec_hlc : h->own_next.hlc + 1;
    swlog_buf body;
    swlog_buf_init(&body);
    int rc = swlog_cs_seal(cs, h->key->sk, &head, SCHEMA_VERSION, author,
                           &body, err);
    swlog_frame f;
    if (rc == SWLOG_OK)
        rc = swlog_frame_decode(body.p, body.len, 0, &f, err);
    if (rc == SWLOG_OK)
        rc = commit_frame(h, &f, recipient, err);
    if (rc == SWLOG_OK)
        rc = append_own(h, &f, err);
    if (rc == SWLOG_OK) {
        out->frames++;
        out->records += swlog_cs_count(cs);
        if (out->first_seq == 0)
            out->first_seq = f.seq;
        out->last_seq = f.seq;
    }
    swlog_buf_clear(&body);
    swlog_cs_reset(cs);
    return rc;
}

typedef struct rec_ctx {
    hub *h;
    swlog_error *err;
    int rc;
} rec_ctx;

static int recover_one(void *ctx, uint64_t seq, const char *recipient,
                       const uint8_t *body, size_t len)
{
    rec_ctx *c = ctx;
    hub *h = c->h;
    (void)recipient;
    if (seq < h->own_next.seq)
        return 0;
    swlog_frame f;
    int rc = swlog_frame_decode(body, len, 0, &f, c->err);
    if (rc == SWLOG_OK &&
        (f.seq != h->own_next.seq ||
         memcmp(f.prev, h->own_next.prev, SWLOG_HASH_BYTES) != 0))
        rc = error_set(c->err, SWLOG_ECHAIN,
                       "hub.db holds authored frame seq %llu, which does not "
                       "continue the hub's feed (next seq %llu): restore "
                       "the data folder from a backup",
                       (unsigned long long)seq,
                       (unsigned long long)h->own_next.seq);
    if (rc == SWLOG_OK) {
        rc = hub_replica_begin(h->rep, c->err);
        if (rc == SWLOG_OK) {
            rc = hub_replica_merge(h->rep, &f, NULL, c->err);
            if (rc == SWLOG_OK)
                rc = hub_replica_commit(h->rep, c->err);
            else
                hub_replica_rollback(h->rep);
        }
    }
    if (rc == SWLOG_OK)
        rc = append_own(h, &f, c->err);
    c->rc = rc;
    return rc;
}

int hub__author_recover(hub *h, swlog_error *err)
{
    rec_ctx c = {h, err, SWLOG_OK};
    int rc = hub_store_outbound(h->store, h->own_next.seq ? h->own_next.seq - 1
                                                         : 0,
                                NULL, recover_one, &c, err);
    return rc != SWLOG_OK ? rc : c.rc;
}

/* ---- reading the replica ---------------------------------------------- */

/* unit_code and level of org unit id; 0 when none. */
static int unit_of(sqlite3 *db, const char *id, char code[SWLOG_MAX_UNIT + 1],
                   char level[32], swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT unit_code, level FROM org_units "
                               "WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "reading org_units");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int r = sqlite3_step(st), found = 0;
    if (r == SQLITE_ROW) {
        snprintf(code, SWLOG_MAX_UNIT + 1, "%s",
                 (const char *)sqlite3_column_text(st, 0));
        snprintf(level, 32, "%s", (const char *)sqlite3_column_text(st, 1));
        found = 1;
    }
    sqlite3_finalize(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return error_sqlite(err, db, "reading org_units");
    return found;
}

/* The addressee of rows owned by org unit owner_id. */
static int recipient_of(hub *h, const char *owner_id,
                        char to[SWLOG_MAX_UNIT + 1], swlog_error *err)
{
    char level[32];
    int r = unit_of(hub_author_db(h), owner_id, to, level, err);
    if (r < 0)
        return r;
    if (r == 0)
        return error_set(err, SWLOG_EINVAL,
                         "owner_unit_id %.40s is not an org_units row the "
                         "hub holds: the owning station must sync its "
                         "org_units first", owner_id);
    if (strcmp(level, "station") != 0 || strcmp(to, h->cfg.unit) == 0)
        snprintf(to, SWLOG_MAX_UNIT + 1, "*");
    return SWLOG_OK;
}

static int value_of(const schema_column *c, const char *text, swlog_value *v)
{
    memset(v, 0, sizeof *v);
    if (text == NULL) {
        v->type = SWLOG_NULL;
        return 0;
    }
    if (c->type == SCHEMA_INTEGER) {
        char *end;
        errno = 0;
        long long x = strtoll(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0')
            return -1;
        v->type = SWLOG_INT;
        v->i = x;
        return 0;
    }
    v->type = SWLOG_TEXT;
    v->p = (const uint8_t *)text;
    v->len = strlen(text);
    return 0;
}

/* One upsert record of the given columns of row id. */
static int add_record(hub *h, swlog_cs *cs, const schema_table *t,
                      const char *id, const char *const *values,
                      const unsigned char *cols, uint64_t hlc,
                      swlog_error *err)
{
    uint8_t rid[SWLOG_UUID_BYTES];
    if (swlog_uuid_parse(id, rid) != SWLOG_OK)
        return error_set(err, SWLOG_EINVAL, "%s: id '%.40s' is not a UUID",
                         t->name, id);
    int rc = swlog_cs_upsert(cs, t->name, rid, hlc, err);
    sqlite3 *db = hub_author_db(h);
    for (size_t i = 0; rc == SWLOG_OK && i < t->ncolumns; i++) {
        if (!cols[i])
            continue;
        uint64_t rep = 0;
        swlog_value v;
        rc = capture_column_version(db, t->name, id, t->columns[i].name,
                                    &rep, err);
        if (rc == SWLOG_OK && value_of(&t->columns[i], values[i], &v) != 0)
            rc = error_set(err, SWLOG_EINVAL, "%s.%s: not an integer",
                           t->name, t->columns[i].name);
        if (rc == SWLOG_OK)
            rc = swlog_cs_value(cs, t->columns[i].name, rep, &v, err);
    }
    return rc;
}

static int fresh_hlc(hub *h, uint64_t *hlc, swlog_error *err)
{
    int rc = capture_clock_next(hub_author_db(h), hlc, err);
    if (rc == SWLOG_OK && *hlc <= h->own_next.hlc)
        *hlc = h->own_next.hlc + 1;
    return rc;
}

int hub_author_change(hub *h, const schema_table *t, const char *id,
                      const char *const *values, const unsigned char *cols,
                      const char *author, hub_author_out *out,
                      swlog_error *err)
{
    memset(out, 0, sizeof *out);
    int own = schema_column_index(t, "owner_unit_id");
    int rc;
    if (own < 0 || values[own] == NULL)
        snprintf(out->to, sizeof out->to, "*");
    else if ((rc = recipient_of(h, values[own], out->to, err)) != SWLOG_OK)
        return rc;
    swlog_cs *cs = swlog_cs_new();
    if (cs == NULL)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
    uint64_t hlc = 0;
    rc = fresh_hlc(h, &hlc, err);
    if (rc == SWLOG_OK)
        rc = add_record(h, cs, t, id, values, cols, hlc, err);
    if (rc == SWLOG_OK)
        rc = author_frame(h, cs, hlc, out->to, author, out, err);
    if (rc == SWLOG_OK)
        rc = hub__checkpoint_sign(h, err);
    swlog_cs_free(cs);
    return rc;
}

/* ---- transfer ---------------------------------------------------------- */

typedef struct xfer {
    hub *h;
    const char *new_owner; /* org_units id */
    const char *author;
    uint64_t hlc;
    swlog_cs *to_new, *to_old;
    char new_unit[SWLOG_MAX_UNIT + 1], old_unit[SWLOG_MAX_UNIT + 1];
    hub_author_out *out;
    uint64_t rows;
} xfer;

static int flush_if_full(xfer *x, swlog_error *err)
{
    int rc = SWLOG_OK;
    if (swlog_cs_count(x->to_new) >= AUTHOR_CUT_RECORDS ||
        swlog_cs_size_bound(x->to_new) > AUTHOR_CUT_BYTES)
        rc = author_frame(x->h, x->to_new, x->hlc, x->new_unit, x->author,
                          x->out, err);
    if (rc == SWLOG_OK && (swlog_cs_count(x->to_old) >= AUTHOR_CUT_RECORDS ||
                           swlog_cs_size_bound(x->to_old) > AUTHOR_CUT_BYTES))
        rc = author_frame(x->h, x->to_old, x->hlc, x->old_unit, x->author,
                          x->out, err);
    return rc;
}

/* Every row of t where column `where` = key (or id = key when where is
 * NULL): full state to the new owner, the owner change to the old. */
static int move_rows(xfer *x, const schema_table *t, const char *where,
                     const char *key, swlog_error *err)
{
    sqlite3 *db = hub_author_db(x->h);
    int own = schema_column_index(t, "owner_unit_id");
    if (own < 0)
        return SWLOG_OK;
    sqlite3_str *q = sqlite3_str_new(db);
    sqlite3_str_appendf(q, "SELECT id");
    for (size_t i = 0; i < t->ncolumns; i++)
        sqlite3_str_appendf(q, ", \"%w\"", t->columns[i].name);
    sqlite3_str_appendf(q, " FROM \"%w\" WHERE \"%w\" = ?1 ORDER BY id",
                        t->name, where != NULL ? where : "id");
    char *sql = sqlite3_str_finish(q);
    if (sql == NULL)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
                 ? SWLOG_OK
                 : error_sqlite(err, db, "reading rows to transfer");
    sqlite3_free(sql);
    if (rc != SWLOG_OK)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    const char *vals[SCHEMA_MAX_COLUMNS];
    char *copies[SCHEMA_MAX_COLUMNS];
    unsigned char all[SCHEMA_MAX_COLUMNS], only_owner[SCHEMA_MAX_COLUMNS];
    memset(all, 1, sizeof all);
    memset(only_owner, 0, sizeof only_owner);
    only_owner[own] = 1;
    int r;
    while (rc == SWLOG_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        char id[40];
        snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 0));
        memset(copies, 0, sizeof copies);
        for (size_t i = 0; rc == SWLOG_OK && i < t->ncolumns; i++) {
            const unsigned char *v = sqlite3_column_text(st, (int)i + 1);
            if (v != NULL && (copies[i] = strdup((const char *)v)) == NULL)
                rc = error_set(err, SWLOG_ENOMEM, "out of memory");
            vals[i] = copies[i];
        }
        vals[own] = x->new_owner;
        if (rc == SWLOG_OK)
            rc = add_record(x->h, x->to_new, t, id, vals, all, x->hlc, err);
        if (rc == SWLOG_OK)
            rc = add_record(x->h, x->to_old, t, id, vals, only_owner, x->hlc,
                            err);
        for (size_t i = 0; i < t->ncolumns; i++)
            free(copies[i]);
        if (rc == SWLOG_OK)
            rc = flush_if_full(x, err);
        x->rows++;
    }
    if (rc == SWLOG_OK && r != SQLITE_DONE)
        rc = error_sqlite(err, db, "reading rows to transfer");
    sqlite3_finalize(st);
    return rc;
}

/* A one-column text query: 1 with out, 0 when no row. */
static int one_text(sqlite3 *db, const char *sql, const char *arg, char *out,
                    size_t cap, swlog_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return error_sqlite(err, db, "reading the replica");
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    int r = sqlite3_step(st), found = 0;
    if (r == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return error_sqlite(err, db, "reading the replica");
    return found;
}

int hub_author_transfer(hub *h, const char *case_id, const char *to_unit,
                        const char *author, hub_author_out *out,
                        swlog_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3 *db = hub_author_db(h);
    const schema_model *m = schema_current();
    char new_owner[40], old_owner[40], client[40], level[32];
    int r = one_text(db, "SELECT id FROM org_units WHERE unit_code = ?1 "
                         "AND level = 'station'",
                     to_unit, new_owner, sizeof new_owner, err);
    if (r <= 0)
        return r < 0 ? r
                     : error_set(err, SWLOG_EINVAL,
                                 "--to %.40s: no station with this unit "
                                 "code in the hub replica (org_units): the "
                                 "station must sync its org_units first",
                                 to_unit);
    r = one_text(db, "SELECT owner_unit_id FROM cases WHERE id = ?1", case_id,
                 old_owner, sizeof old_owner, err);
    if (r <= 0)
        return r < 0 ? r
                     : error_set(err, SWLOG_EINVAL,
                                 "no case with id '%.40s' in the hub "
                                 "replica", case_id);
    if (strcmp(old_owner, new_owner) == 0)
        return error_set(err, SWLOG_EINVAL,
                         "case %.40s is already owned by %.40s: nothing to "
                         "transfer", case_id, to_unit);
    int has_client = one_text(db, "SELECT client_id FROM cases WHERE id = ?1",
                              case_id, client, sizeof client, err);
    if (has_client < 0)
        return has_client;
    xfer x = {.h = h, .new_owner = new_owner, .author = author, .out = out};
    snprintf(x.new_unit, sizeof x.new_unit, "%s", to_unit);
    r = unit_of(db, old_owner, x.old_unit, level, err);
    if (r < 0)
        return r;
    if (r == 0 || strcmp(level, "station") != 0)
        snprintf(x.old_unit, sizeof x.old_unit, "*");
    snprintf(out->to, sizeof out->to, "%s", x.new_unit);
    snprintf(out->old, sizeof out->old, "%s", x.old_unit);
    x.to_new = swlog_cs_new();
    x.to_old = swlog_cs_new();
    int rc = x.to_new && x.to_old ? fresh_hlc(h, &x.hlc, err)
                                  : error_set(err, SWLOG_ENOMEM,
                                              "out of memory");
    /* Parents before children (the model's order). */
    if (rc == SWLOG_OK && has_client > 0) {
        rc = move_rows(&x, schema_find(m, "clients"), NULL, client, err);
        for (size_t i = 0; rc == SWLOG_OK && i < m->ntables; i++) {
            const schema_table *t = &m->tables[i];
            if (strcmp(t->name, "cases") == 0 ||
                strcmp(t->name, "case_services") == 0 ||
                strcmp(t->name, "clients") == 0 ||
                schema_column_index(t, "client_id") < 0)
                continue;
            rc = move_rows(&x, t, "client_id", client, err);
        }
    }
    if (rc == SWLOG_OK)
        rc = move_rows(&x, schema_find(m, "cases"), NULL, case_id, err);
    for (size_t i = 0; rc == SWLOG_OK && i < m->ntables; i++) {
        const schema_table *t = &m->tables[i];
        if (strcmp(t->name, "cases") == 0 ||
            schema_column_index(t, "case_id") < 0)
            continue;
        rc = move_rows(&x, t, "case_id", case_id, err);
    }
    /* The new owner first: the old one learns of the move once. */
    if (rc == SWLOG_OK)
        rc = author_frame(h, x.to_new, x.hlc, x.new_unit, author, out, err);
    if (rc == SWLOG_OK)
        rc = author_frame(h, x.to_old, x.hlc, x.old_unit, author, out, err);
    if (rc == SWLOG_OK)
        rc = hub__checkpoint_sign(h, err);
    swlog_cs_free(x.to_new);
    swlog_cs_free(x.to_old);
    return rc;
}
