/* What the hub's pages and /metrics show about its stations, gathered in
 * one pass (agent/hub/README.md "Pages and metrics"): per feed the unit code
 * and role of its certificate, the head held, frozen state and fork
 * evidence, refusals, the observations of hub_stats.h and conflicts waiting
 * for review (hub_conflicts.h: resolved ones are not counted). Read-only: the store and the key registry under the hub's
 * mutex, hub.db's fork and parked tables and the replica's _sw_conflicts
 * through read-only SQLite connections (a county hub's SQLite layout). */
#ifndef HUB_VIEW_H
#define HUB_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "hub_stats.h"
#include "swlog.h"

#define HUB_VIEW_MAX_STATIONS 2000 /* listed; more are counted only */
#define HUB_VIEW_MAX_PARKED 20     /* newest refused frames on a page */
#define HUB_VIEW_MAX_GROUPS 20     /* conflict groups (table, column) */
#define HUB_VIEW_MAX_CONFLICTS 50  /* pending conflicts listed one by one */

typedef struct hub_view_station {
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    char unit[SWLOG_MAX_UNIT + 1]; /* "" when no certificate is known */
    int role;                      /* SWLOG_ROLE_*, 0 when unknown */
    uint64_t head;                 /* seq held, 0: none */
    int held;                      /* the store holds this feed */
    int frozen;
    uint64_t fork_rows, fork_seq; /* evidence rows, lowest seq forked */
    uint64_t fork_at_ms;
    uint64_t parked;    /* refused frames kept in hub.db */
    uint64_t conflicts; /* _sw_conflicts rows naming this feed */
    int observed;       /* obs is filled */
    hub_stats_station obs;
} hub_view_station;

typedef struct hub_view_parked {
    uint64_t seq, at_ms;
    int have_feed;
    char code[32];
    char message[256];
} hub_view_parked;

typedef struct hub_view_group {
    char tbl[64], col[64];
    uint64_t n;
} hub_view_group;

typedef struct hub_view_conflict {
    char id[16];
    char tbl[64], col[64], row_id[40];
    int deleted; /* the winner is a delete: resolve has nothing to write */
} hub_view_conflict;

typedef struct hub_view {
    char unit[SWLOG_MAX_UNIT + 1]; /* the hub's own */
    uint64_t now_ms;
    hub_view_station *st;
    size_t nst;
    size_t more; /* stations beyond HUB_VIEW_MAX_STATIONS, not listed */
    uint64_t feeds, frozen, parked, forks, leaves;
    uint64_t parked_unattributed; /* refused frames naming no feed */
    int have_conflicts;           /* the replica has _sw_conflicts */
    uint64_t conflicts;           /* rows waiting for review, hub-wide */
    hub_view_group groups[HUB_VIEW_MAX_GROUPS];
    size_t ngroups;
    hub_view_conflict pending[HUB_VIEW_MAX_CONFLICTS]; /* the first ones */
    size_t npending;
    /* Filled for one station (hub_view_station_detail) */
    hub_view_parked parked_rows[HUB_VIEW_MAX_PARKED];
    size_t nparked_rows;
} hub_view;

/* All stations: the feeds held plus the feeds observed in pushes. */
int hub_view_load(hub *h, hub_stats *stats, hub_view *v, swlog_error *err);
/* Newest refused frames of feed (NULL: those naming no feed) into v. */
int hub_view_parked_rows(hub *h, const uint8_t *feed, hub_view *v,
                         swlog_error *err);
void hub_view_free(hub_view *v);
/* Lag of a station: offered_max_seq - head (0 when not ahead). */
uint64_t hub_view_lag(const hub_view_station *s);
const char *hub_view_role_name(int role);

#endif
