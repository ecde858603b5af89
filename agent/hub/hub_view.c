/* Gathering the stations' view (hub_view.h). */
#include "hub_view.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "hub_conflicts.h"
#include "hub_internal.h"

const char *hub_view_role_name(int role)
{
    switch (role) {
    case SWLOG_ROLE_ROOT:
        return "root";
    case SWLOG_ROLE_PROVINCE:
        return "province";
    case SWLOG_ROLE_COUNTY:
        return "county";
    case SWLOG_ROLE_STATION:
        return "station";
    default:
        return "unknown";
    }
}

uint64_t hub_view_lag(const hub_view_station *s)
{
    if (!s->observed || s->obs.offered_max_seq <= s->head)
        return 0;
    return s->obs.offered_max_seq - s->head;
}

static hub_view_station *find(hub_view *v, const uint8_t *feed)
{
    for (size_t i = 0; i < v->nst; i++)
        if (memcmp(v->st[i].feed, feed, SWLOG_PUBKEY_BYTES) == 0)
            return &v->st[i];
    return NULL;
}

static hub_view_station *add(hub_view *v, const uint8_t *feed)
{
    hub_view_station *s = find(v, feed);
    if (s != NULL)
        return s;
    if (v->nst == HUB_VIEW_MAX_STATIONS) {
        v->more++;
        return NULL;
    }
    s = &v->st[v->nst++];
    memset(s, 0, sizeof *s);
    memcpy(s->feed, feed, SWLOG_PUBKEY_BYTES);
    return s;
}

static int feed_cb(void *ctx, const uint8_t *feed, const hub_feed_head *h)
{
    hub_view *v = ctx;
    hub_view_station *s = add(v, feed);
    if (s != NULL) {
        s->held = 1;
        s->head = h->seq;
        s->frozen = h->frozen;
    }
    return 0;
}

static sqlite3 *open_ro(const hub *h, const char *name)
{
    char path[HUB_CONFIG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", h->cfg.data, name);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 2000);
    return db;
}

/* One integer of a query with an optional blob parameter; 0 on error. */
static uint64_t q_int(sqlite3 *db, const char *sql, const uint8_t *feed)
{
    sqlite3_stmt *st;
    uint64_t n = 0;
    if (db == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (feed != NULL)
        sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void forks_of(sqlite3 *db, hub_view_station *s)
{
    sqlite3_stmt *st;
    if (db == NULL ||
        sqlite3_prepare_v2(db,
                           "SELECT count(*), min(seq), max(at_ms) FROM fork "
                           "WHERE key=?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_blob(st, 1, s->feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        s->fork_rows = (uint64_t)sqlite3_column_int64(st, 0);
        s->fork_seq = (uint64_t)sqlite3_column_int64(st, 1);
        s->fork_at_ms = (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
}

static int pending_cb(void *ctx, const hub_conflict *c)
{
    hub_view *v = ctx;
    if (v->npending >= HUB_VIEW_MAX_CONFLICTS)
        return 1;
    hub_view_conflict *p = &v->pending[v->npending++];
    snprintf(p->id, sizeof p->id, "%s", c->id);
    snprintf(p->tbl, sizeof p->tbl, "%s", c->tbl);
    snprintf(p->col, sizeof p->col, "%s", c->col);
    snprintf(p->row_id, sizeof p->row_id, "%s", c->row_id);
    p->deleted = c->win_kind == 2;
    return 0;
}

static void conflict_groups(sqlite3 *db, hub_view *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT tbl, col, count(*) FROM _sw_conflicts c "
                           "WHERE " HUB_CONFLICTS_PENDING " GROUP BY tbl, col ORDER BY 3 DESC, 1, 2 LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int(st, 1, HUB_VIEW_MAX_GROUPS);
    while (v->ngroups < HUB_VIEW_MAX_GROUPS && sqlite3_step(st) == SQLITE_ROW) {
        hub_view_group *g = &v->groups[v->ngroups++];
        const char *t = (const char *)sqlite3_column_text(st, 0);
        const char *c = (const char *)sqlite3_column_text(st, 1);
        snprintf(g->tbl, sizeof g->tbl, "%s", t ? t : "");
        snprintf(g->col, sizeof g->col, "%s", c ? c : "");
        g->n = (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
}

int hub_view_load(hub *h, hub_stats *stats, hub_view *v, swlog_error *err)
{
    memset(v, 0, sizeof *v);
    v->now_ms = hub__now_ms();
    snprintf(v->unit, sizeof v->unit, "%s", h->cfg.unit);
    v->st = calloc(HUB_VIEW_MAX_STATIONS, sizeof *v->st);
    if (v->st == NULL)
        return error_set(err, SWLOG_ENOMEM, "out of memory");
    hub_stats_station *obs = NULL;
    size_t nobs = 0;
    int rc = hub_stats_stations(stats, &obs, &nobs, HUB_VIEW_MAX_STATIONS,
                                err);
    if (rc != SWLOG_OK) {
        hub_view_free(v);
        return rc;
    }
    hub_store_counts c = {0};
    pthread_mutex_lock(&h->mu);
    rc = hub_store_feeds(h->store, feed_cb, v, err);
    if (rc == SWLOG_OK)
        rc = hub_store_counts_get(h->store, &c, err);
    for (size_t i = 0; rc == SWLOG_OK && i < nobs; i++) {
        hub_view_station *s = add(v, obs[i].feed);
        if (s != NULL) {
            s->observed = 1;
            s->obs = obs[i];
        }
    }
    /* Unit and role from the newest certificate of each key. */
    const keyfeed *kf = &h->keys.kf;
    for (size_t i = 0; rc == SWLOG_OK && i < kf->ncerts; i++) {
        hub_view_station *s = find(v, kf->certs[i].subject);
        if (s != NULL) {
            snprintf(s->unit, sizeof s->unit, "%s", kf->certs[i].unit);
            s->role = kf->certs[i].role;
        }
    }
    pthread_mutex_unlock(&h->mu);
    free(obs);
    if (rc != SWLOG_OK) {
        hub_view_free(v);
        return rc;
    }
    v->feeds = c.feeds;
    v->frozen = c.frozen;
    v->parked = c.parked;
    v->forks = c.forks;
    v->leaves = c.leaves;
    sqlite3 *db = open_ro(h, "hub.db");
    for (size_t i = 0; i < v->nst; i++) {
        hub_view_station *s = &v->st[i];
        forks_of(db, s);
        s->parked =
            q_int(db, "SELECT count(*) FROM parked WHERE key=?", s->feed);
    }
    v->parked_unattributed =
        q_int(db, "SELECT count(*) FROM parked WHERE key IS NULL", NULL);
    sqlite3_close(db);
    db = open_ro(h, "replica.db");
    v->have_conflicts =
        q_int(db, "SELECT count(*) FROM sqlite_master WHERE type='table' "
                  "AND name='_sw_conflicts'", NULL) == 1;
    if (v->have_conflicts) {
        v->conflicts = hub_conflicts_pending(db, NULL);
        for (size_t i = 0; i < v->nst; i++)
            v->st[i].conflicts = hub_conflicts_pending(db, v->st[i].feed);
        conflict_groups(db, v);
        swlog_error e = {0};
        (void)hub_conflicts_each(db, pending_cb, v, &e); /* best effort */
    }
    sqlite3_close(db);
    return SWLOG_OK;
}

int hub_view_parked_rows(hub *h, const uint8_t *feed, hub_view *v,
                         swlog_error *err)
{
    (void)err;
    v->nparked_rows = 0;
    sqlite3 *db = open_ro(h, "hub.db");
    sqlite3_stmt *st;
    const char *sql =
        feed ? "SELECT seq, code, message, at_ms, key FROM parked WHERE "
               "key=? ORDER BY n DESC LIMIT ?2"
             : "SELECT seq, code, message, at_ms, key FROM parked WHERE "
               "key IS NULL ORDER BY n DESC LIMIT ?2";
    if (db == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return SWLOG_OK; /* nothing parked yet */
    }
    if (feed != NULL)
        sqlite3_bind_blob(st, 1, feed, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, HUB_VIEW_MAX_PARKED);
    while (v->nparked_rows < HUB_VIEW_MAX_PARKED &&
           sqlite3_step(st) == SQLITE_ROW) {
        hub_view_parked *p = &v->parked_rows[v->nparked_rows++];
        const char *c = (const char *)sqlite3_column_text(st, 1);
        const char *m = (const char *)sqlite3_column_text(st, 2);
        p->seq = (uint64_t)sqlite3_column_int64(st, 0);
        p->at_ms = (uint64_t)sqlite3_column_int64(st, 3);
        p->have_feed = sqlite3_column_type(st, 4) != SQLITE_NULL;
        snprintf(p->code, sizeof p->code, "%s", c ? c : "");
        snprintf(p->message, sizeof p->message, "%s", m ? m : "");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return SWLOG_OK;
}

void hub_view_free(hub_view *v)
{
    free(v->st);
    v->st = NULL;
    v->nst = 0;
}
