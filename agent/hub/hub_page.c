/* The stations pages and /metrics (hub_page.h). */
#include "hub_page.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub_internal.h"
#include "hub_json.h"
#include "hub_view.h"

#define P hub_json_printf

int hub_page_is_path(const char *url)
{
    return strcmp(url, "/") == 0 || strcmp(url, "/stations") == 0 ||
           strncmp(url, "/stations/", 10) == 0 ||
           strcmp(url, "/metrics") == 0;
}

/* HTML-escape s (also quotes: safe inside attributes). */
static void esc(swlog_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            P(b, "&amp;");
            break;
        case '<':
            P(b, "&lt;");
            break;
        case '>':
            P(b, "&gt;");
            break;
        case '"':
            P(b, "&quot;");
            break;
        case '\'':
            P(b, "&#39;");
            break;
        default:
            if ((unsigned char)*s < 0x20)
                P(b, " ");
            else
                swlog_buf_append(b, s, 1);
        }
    }
}

static void when(swlog_buf *b, uint64_t ms, uint64_t now)
{
    if (ms == 0) {
        P(b, "never");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char s[40];
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S UTC", &tm);
    P(b, "<time>%s</time>", s);
    if (now >= ms) {
        uint64_t ago = (now - ms) / 1000;
        if (ago < 120)
            P(b, " (%" PRIu64 " s ago)", ago);
        else if (ago < 7200)
            P(b, " (%" PRIu64 " min ago)", ago / 60);
        else if (ago < 172800)
            P(b, " (%" PRIu64 " h ago)", ago / 3600);
        else
            P(b, " (%" PRIu64 " days ago)", ago / 86400);
    }
}

static void skew(swlog_buf *b, const hub_view_station *s)
{
    if (!s->observed || s->obs.skew_max_ms == INT64_MIN)
        P(b, "&ndash;");
    else
        P(b, "%+.1f s", (double)s->obs.skew_max_ms / 1000.0);
}

static void head(swlog_buf *b, const char *title)
{
    P(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, "
         "initial-scale=1\"><title>");
    esc(b, title);
    P(b, "</title><style>"
         "body{font:15px/1.4 sans-serif;margin:0 auto;padding:8px;"
         "max-width:1100px;color:#111;background:#fff}"
         "h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.4em}"
         "table{border-collapse:collapse;width:100%%}"
         "th,td{border-bottom:1px solid #ccc;padding:4px 6px;text-align:left;"
         "vertical-align:top}th{background:#eee}"
         "code{font-size:.9em;word-break:break-all}td a{white-space:nowrap}"
         ".bad{color:#a00;font-weight:bold}.ok{color:#060}"
         ".sum span{display:inline-block;margin:0 1em .3em 0}"
         "@media(max-width:640px){.list,.list tbody,.list tr,.list td"
         "{display:block}.list thead{display:none}.list tr{border:1px solid"
         " #ccc;margin:0 0 8px;padding:4px}.list td{border:0;padding:2px 4px}"
         ".list td::before{content:attr(data-label) \": \";"
         "font-weight:bold}}"
         "</style></head><body>\n");
}

static void station_row(swlog_buf *b, const hub_view_station *s,
                        uint64_t now)
{
    char hex[2 * SWLOG_PUBKEY_BYTES + 1];
    swlog_hex(s->feed, SWLOG_PUBKEY_BYTES, hex);
    P(b, "<tr class=\"station\"><td data-label=\"Unit\"><a href=\"/stations/"
         "%s\">", hex);
    if (s->unit[0])
        esc(b, s->unit);
    else
        P(b, "(no certificate)");
    P(b, "</a></td><td data-label=\"Role\">%s</td>",
      hub_view_role_name(s->role));
    P(b, "<td data-label=\"Feed\"><code>%.16s&hellip;</code></td>", hex);
    P(b, "<td data-label=\"Last contact\">");
    when(b, s->observed ? s->obs.last_seen_ms : 0, now);
    P(b, "</td><td data-label=\"Head held\">%" PRIu64 "</td>", s->head);
    P(b, "<td data-label=\"Frames/records\">%" PRIu64 " / %" PRIu64 "</td>",
      s->observed ? s->obs.accepted : 0, s->observed ? s->obs.records : 0);
    uint64_t lag = hub_view_lag(s);
    P(b, "<td data-label=\"Lag\"%s>%" PRIu64 "</td>",
      lag ? " class=\"bad\"" : "", lag);
    uint64_t ref = s->observed ? s->obs.refused : 0;
    P(b, "<td data-label=\"Refused\"%s>%" PRIu64 "</td>",
      ref ? " class=\"bad\"" : "", ref);
    P(b, "<td data-label=\"State\">%s</td>",
      s->frozen ? "<span class=\"bad\">frozen (fork)</span>"
                : s->held ? "<span class=\"ok\">ok</span>" : "nothing held");
    P(b, "<td data-label=\"Clock skew\">");
    skew(b, s);
    P(b, "</td><td data-label=\"Conflicts\">%" PRIu64 "</td></tr>\n",
      s->conflicts);
}

static int by_unit(const void *a, const void *b)
{
    const hub_view_station *x = a, *y = b;
    int c = strcmp(x->unit, y->unit);
    return c ? c : memcmp(x->feed, y->feed, SWLOG_PUBKEY_BYTES);
}

static void summary(swlog_buf *b, const hub_view *v)
{
    P(b, "<p class=\"sum\"><span>Feeds held: <b>%" PRIu64 "</b></span>"
         "<span>Frozen: <b%s>%" PRIu64 "</b></span>"
         "<span>Refused frames kept: <b>%" PRIu64 "</b></span>"
         "<span>Log size: <b>%" PRIu64 "</b> leaves</span>",
      v->feeds, v->frozen ? " class=\"bad\"" : "", v->frozen, v->parked,
      v->leaves);
    if (v->have_conflicts)
        P(b, "<span>Conflicts waiting for review: <b>%" PRIu64
             "</b></span>", v->conflicts);
    P(b, "</p>\n");
}

/* The first pending conflicts one by one, each with the command that
 * resolves it: authoring needs the hub stopped (PROTOCOL §10), so the page
 * offers no form. No values: they may be personal data. */
static void conflict_list(swlog_buf *b, const hub_view *v)
{
    if (v->npending == 0)
        return;
    P(b, "<table id=\"pending\" class=\"list\"><thead><tr><th>ID</th>"
         "<th>Table.column</th><th>Row</th><th>Resolve with (hub stopped)"
         "</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < v->npending; i++) {
        const hub_view_conflict *c = &v->pending[i];
        P(b, "<tr><td data-label=\"ID\"><code>");
        esc(b, c->id);
        P(b, "</code></td><td data-label=\"Table.column\">");
        esc(b, c->tbl);
        P(b, ".");
        esc(b, c->col);
        P(b, "</td><td data-label=\"Row\"><code>");
        esc(b, c->row_id);
        P(b, "</code></td><td data-label=\"Resolve\">");
        if (c->deleted) {
            P(b, "the row was deleted (final): nothing to write");
        } else {
            P(b, "<code>swsync-hub resolve --config HUB.CONF ");
            esc(b, c->id);
            P(b, " --keep winner|loser|VALUE</code>");
        }
        P(b, "</td></tr>\n");
    }
    P(b, "</tbody></table>\n");
    if (v->conflicts > v->npending)
        P(b, "<p>%" PRIu64 " more are listed by <code>swsync-hub conflicts "
             "--config HUB.CONF</code>.</p>\n",
          v->conflicts - (uint64_t)v->npending);
}

static unsigned index_page(hub *h, hub_stats *stats, swlog_buf *b)
{
    hub_view v;
    swlog_error err = {0};
    if (hub_view_load(h, stats, &v, &err) != SWLOG_OK)
        return 500;
    qsort(v.st, v.nst, sizeof *v.st, by_unit);
    char title[80];
    snprintf(title, sizeof title, "swsync hub %s: stations", v.unit);
    head(b, title);
    P(b, "<h1>");
    esc(b, title);
    P(b, "</h1>\n<p>As of ");
    when(b, v.now_ms, 0);
    P(b, ". <a href=\"/metrics\">metrics</a></p>\n");
    summary(b, &v);
    P(b, "<h2>Stations (%zu)</h2>\n<table id=\"stations\" class=\"list\"><thead><tr>"
         "<th>Unit</th><th>Role</th><th>Feed</th><th>Last contact</th>"
         "<th>Head held</th><th>Frames/records</th><th>Lag</th>"
         "<th>Refused</th><th>State</th><th>Clock skew</th>"
         "<th>Conflicts</th></tr></thead><tbody>\n", v.nst);
    for (size_t i = 0; i < v.nst; i++)
        station_row(b, &v.st[i], v.now_ms);
    P(b, "</tbody></table>\n");
    if (v.more)
        P(b, "<p>%zu more feeds are not listed (at most %d).</p>\n", v.more,
          HUB_VIEW_MAX_STATIONS);
    if (v.parked_unattributed)
        P(b, "<p>%" PRIu64 " refused frames kept name no feed.</p>\n",
          v.parked_unattributed);
    if (v.have_conflicts && v.ngroups > 0) {
        P(b, "<h2>Conflicts waiting for review</h2>\n<table id=\"conflicts\" class=\"list\">"
             "<thead><tr><th>Table</th><th>Column</th><th>Rows</th></tr>"
             "</thead><tbody>\n");
        for (size_t i = 0; i < v.ngroups; i++) {
            P(b, "<tr><td data-label=\"Table\">");
            esc(b, v.groups[i].tbl);
            P(b, "</td><td data-label=\"Column\">");
            esc(b, v.groups[i].col);
            P(b, "</td><td data-label=\"Rows\">%" PRIu64 "</td></tr>\n",
              v.groups[i].n);
        }
        P(b, "</tbody></table>\n");
        conflict_list(b, &v);
    }
    P(b, "<p><small>Lag: highest seq the station offered in a push minus "
         "the seq held. Clock skew: largest frame time minus the hub's "
         "receive time (negative: frames sealed before they were sent). "
         "Frames/records: accepted by this hub.</small></p>\n"
         "</body></html>\n");
    hub_view_free(&v);
    return 200;
}

static void refused_section(swlog_buf *b, const hub_view *v)
{
    P(b, "<h2>Newest refused frames</h2>\n");
    if (v->nparked_rows == 0) {
        P(b, "<p>None kept.</p>\n");
        return;
    }
    P(b, "<table id=\"refused\" class=\"list\"><thead><tr><th>Seq</th><th>Reason</th>"
         "<th>Message</th><th>When</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < v->nparked_rows; i++) {
        const hub_view_parked *p = &v->parked_rows[i];
        P(b, "<tr class=\"refusal\"><td data-label=\"Seq\">%" PRIu64
             "</td><td data-label=\"Reason\"><code>", p->seq);
        esc(b, p->code);
        P(b, "</code></td><td data-label=\"Message\">");
        esc(b, p->message);
        P(b, "</td><td data-label=\"When\">");
        when(b, p->at_ms, v->now_ms);
        P(b, "</td></tr>\n");
    }
    P(b, "</tbody></table>\n");
}

static unsigned station_page(hub *h, hub_stats *stats, const char *hexs,
                             swlog_buf *b)
{
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    if (!hub__parse_feed(hexs, feed)) {
        char shown[81];
        snprintf(shown, sizeof shown, "%s", hexs); /* bounded echo */
        head(b, "bad request");
        P(b, "<h1>Bad request</h1><p>No station is named &ldquo;");
        esc(b, shown);
        P(b, "&rdquo;: a station is named by its feed, 64 lowercase hex "
             "characters. <a href=\"/\">All stations</a></p></body></html>\n");
        return 400;
    }
    hub_view v;
    swlog_error err = {0};
    if (hub_view_load(h, stats, &v, &err) != SWLOG_OK)
        return 500;
    const hub_view_station *s = NULL;
    for (size_t i = 0; i < v.nst; i++)
        if (memcmp(v.st[i].feed, feed, SWLOG_PUBKEY_BYTES) == 0)
            s = &v.st[i];
    if (s == NULL) {
        hub_view_free(&v);
        head(b, "not found");
        P(b, "<h1>Not found</h1><p>This hub holds nothing of feed <code>%s"
             "</code> and has not seen it in a push. <a href=\"/\">All "
             "stations</a></p></body></html>\n", hexs);
        return 404;
    }
    hub_view_parked_rows(h, feed, &v, &err);
    char title[120];
    snprintf(title, sizeof title, "Station %s",
             s->unit[0] ? s->unit : "(no certificate)");
    head(b, title);
    P(b, "<p><a href=\"/\">&larr; all stations</a></p><h1>");
    esc(b, title);
    P(b, "</h1>\n<table id=\"station\"><tbody>\n"
         "<tr><th>Feed</th><td><code>%s</code></td></tr>\n"
         "<tr><th>Role</th><td>%s</td></tr>\n<tr><th>Last contact</th><td>",
      hexs, hub_view_role_name(s->role));
    when(b, s->observed ? s->obs.last_seen_ms : 0, v.now_ms);
    P(b, "</td></tr>\n<tr><th>Head held</th><td>%" PRIu64 "</td></tr>\n"
         "<tr><th>Highest seq offered</th><td>%" PRIu64 "</td></tr>\n"
         "<tr><th>Lag (frames)</th><td>%" PRIu64 "</td></tr>\n"
         "<tr><th>Frames accepted</th><td>%" PRIu64 "</td></tr>\n"
         "<tr><th>Records received</th><td>%" PRIu64 "</td></tr>\n"
         "<tr><th>Frames refused</th><td>%" PRIu64 "</td></tr>\n"
         "<tr><th>Clock skew (max)</th><td>",
      s->head, s->observed ? s->obs.offered_max_seq : 0, hub_view_lag(s),
      s->observed ? s->obs.accepted : 0, s->observed ? s->obs.records : 0,
      s->observed ? s->obs.refused : 0);
    skew(b, s);
    P(b, "</td></tr>\n<tr><th>State</th><td>");
    if (s->frozen) {
        P(b, "<span class=\"bad\">frozen</span>: %" PRIu64
             " other frame(s) kept as fork evidence, first at seq %" PRIu64
             ", newest ",
          s->fork_rows, s->fork_seq);
        when(b, s->fork_at_ms, v.now_ms);
    } else
        P(b, "%s", s->held ? "ok" : "nothing held");
    P(b, "</td></tr>\n<tr><th>Conflicts naming this feed</th><td>%" PRIu64
         "</td></tr>\n</tbody></table>\n", s->conflicts);
    refused_section(b, &v);
    P(b, "</body></html>\n");
    hub_view_free(&v);
    return 200;
}

/* ---- /metrics */

static void help(swlog_buf *b, const char *name, const char *type,
                 const char *text)
{
    P(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

typedef struct mctx {
    swlog_buf *b;
    const hub_view *v;
} mctx;

static const char *unit_of(const hub_view *v, const uint8_t *feed)
{
    for (size_t i = 0; i < v->nst; i++)
        if (memcmp(v->st[i].feed, feed, SWLOG_PUBKEY_BYTES) == 0)
            return v->st[i].unit;
    return "";
}

/* Label values: unit codes are printable (FORMAT §7); escape \ " anyway. */
static void label(swlog_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            P(b, "\\%c", *s);
        else if (*s == '\n')
            P(b, "\\n");
        else
            swlog_buf_append(b, s, 1);
    }
}

static void refusal_cb(void *ctx, const uint8_t *feed, const char *reason,
                       uint64_t n)
{
    mctx *m = ctx;
    char hex[2 * SWLOG_PUBKEY_BYTES + 1] = "unknown";
    if (feed != NULL)
        swlog_hex(feed, SWLOG_PUBKEY_BYTES, hex);
    P(m->b, "swsync_hub_frames_refused_total{feed=\"%s\",unit=\"", hex);
    label(m->b, feed ? unit_of(m->v, feed) : "");
    P(m->b, "\",reason=\"");
    label(m->b, reason);
    P(m->b, "\"} %" PRIu64 "\n", n);
}

static void per_station(swlog_buf *b, const hub_view *v, const char *name,
                        const char *type, const char *text, int which)
{
    help(b, name, type, text);
    for (size_t i = 0; i < v->nst; i++) {
        const hub_view_station *s = &v->st[i];
        char hex[2 * SWLOG_PUBKEY_BYTES + 1];
        swlog_hex(s->feed, SWLOG_PUBKEY_BYTES, hex);
        if (which == 3 && (!s->observed || s->obs.skew_max_ms == INT64_MIN))
            continue;
        if (which == 1 && (!s->observed || s->obs.last_seen_ms == 0))
            continue;
        P(b, "%s{feed=\"%s\",unit=\"", name, hex);
        label(b, s->unit);
        P(b, "\"} ");
        switch (which) {
        case 0:
            P(b, "%" PRIu64 "\n", hub_view_lag(s));
            break;
        case 1:
            P(b, "%.3f\n", (double)s->obs.last_seen_ms / 1000.0);
            break;
        case 2:
            P(b, "%" PRIu64 "\n", s->head);
            break;
        case 3:
            P(b, "%.3f\n", (double)s->obs.skew_max_ms / 1000.0);
            break;
        default:
            P(b, "%" PRIu64 "\n", s->conflicts);
        }
    }
}

static unsigned metrics(hub *h, hub_stats *stats, swlog_buf *b)
{
    hub_view v;
    swlog_error err = {0};
    if (hub_view_load(h, stats, &v, &err) != SWLOG_OK)
        return 500;
    hub_stats_mem m;
    hub_stats_mem_get(stats, &m);
    help(b, "swsync_hub_pushes_total", "counter",
         "Pushes answered since the hub started.");
    P(b, "swsync_hub_pushes_total %" PRIu64 "\n", m.pushes);
    help(b, "swsync_hub_batches_total", "counter",
         "Batches committed since the hub started (pushes that arrive "
         "together share one).");
    P(b, "swsync_hub_batches_total %" PRIu64 "\n", hub_batches(h));
    help(b, "swsync_hub_pushes_failed_total", "counter",
         "Pushes answered with a status other than 200 or 409.");
    P(b, "swsync_hub_pushes_failed_total %" PRIu64 "\n", m.pushes_failed);
    help(b, "swsync_hub_frames_accepted_total", "counter",
         "Frames accepted since the hub started.");
    P(b, "swsync_hub_frames_accepted_total %" PRIu64 "\n", m.accepted);
    help(b, "swsync_hub_frames_duplicate_total", "counter",
         "Frames already held, since the hub started.");
    P(b, "swsync_hub_frames_duplicate_total %" PRIu64 "\n", m.duplicate);
    help(b, "swsync_hub_frames_forked_total", "counter",
         "Frames forking a held feed, since the hub started.");
    P(b, "swsync_hub_frames_forked_total %" PRIu64 "\n", m.forks);
    help(b, "swsync_hub_records_merged_total", "counter",
         "Records of accepted change-sets, since the hub started.");
    P(b, "swsync_hub_records_merged_total %" PRIu64 "\n", m.records);
    help(b, "swsync_hub_frames_refused_total", "counter",
         "Refused frames by feed and reason (stations.db; feed unknown "
         "when the signature was not checked).");
    mctx mc = {b, &v};
    hub_stats_refusals(stats, refusal_cb, &mc,
                       (size_t)HUB_VIEW_MAX_STATIONS * HUB_STATS_NREASON,
                       &err);
    per_station(b, &v, "swsync_hub_station_lag_frames", "gauge",
                "Highest seq the station offered minus the seq held.", 0);
    per_station(b, &v, "swsync_hub_station_last_contact_seconds", "gauge",
                "Unix time of the station's last push.", 1);
    per_station(b, &v, "swsync_hub_station_head_seq", "gauge",
                "Seq of the station's newest frame held.", 2);
    per_station(b, &v, "swsync_hub_station_clock_skew_seconds", "gauge",
                "Largest frame time minus the hub's receive time.", 3);
    per_station(b, &v, "swsync_hub_station_conflicts", "gauge",
                "Conflicts waiting for review naming the station's feed.",
                4);
    help(b, "swsync_hub_feeds", "gauge", "Feeds held.");
    P(b, "swsync_hub_feeds %" PRIu64 "\n", v.feeds);
    help(b, "swsync_hub_feeds_frozen", "gauge", "Feeds frozen after a fork.");
    P(b, "swsync_hub_feeds_frozen %" PRIu64 "\n", v.frozen);
    help(b, "swsync_hub_parked_frames", "gauge", "Refused frames kept.");
    P(b, "swsync_hub_parked_frames %" PRIu64 "\n", v.parked);
    help(b, "swsync_hub_log_leaves", "gauge", "Leaves of the Merkle log.");
    P(b, "swsync_hub_log_leaves %" PRIu64 "\n", v.leaves);
    help(b, "swsync_hub_conflicts_pending", "gauge",
         "Rows of _sw_conflicts waiting for review.");
    P(b, "swsync_hub_conflicts_pending %" PRIu64 "\n", v.conflicts);
    help(b, "swsync_hub_start_time_seconds", "gauge",
         "Unix time the hub started.");
    P(b, "swsync_hub_start_time_seconds %.3f\n",
      (double)m.started_ms / 1000.0);
    help(b, "swsync_hub_request_duration_seconds", "histogram",
         "Time to answer a request, by endpoint class.");
    for (int c = 0; c < HUB_STATS_NCLASS; c++) {
        const char *cn = hub_stats_class_names[c];
        for (int i = 0; i < HUB_STATS_NBUCKET; i++)
            P(b, "swsync_hub_request_duration_seconds_bucket{class=\"%s\","
                 "le=\"%g\"} %" PRIu64 "\n",
              cn, hub_stats_buckets[i], m.req_bucket[c][i]);
        P(b, "swsync_hub_request_duration_seconds_bucket{class=\"%s\","
             "le=\"+Inf\"} %" PRIu64 "\n", cn, m.req_count[c]);
        P(b, "swsync_hub_request_duration_seconds_sum{class=\"%s\"} %.6f\n",
          cn, m.req_sum[c]);
        P(b, "swsync_hub_request_duration_seconds_count{class=\"%s\"} "
             "%" PRIu64 "\n", cn, m.req_count[c]);
    }
    hub_view_free(&v);
    return 200;
}

unsigned hub_page_get(hub *h, hub_stats *stats, const char *url,
                      swlog_buf *out, const char **type)
{
    *type = HUB_PAGE_CT_HTML;
    unsigned st;
    if (strcmp(url, "/metrics") == 0) {
        *type = HUB_PAGE_CT_METRICS;
        st = metrics(h, stats, out);
    } else if (strncmp(url, "/stations/", 10) == 0)
        st = station_page(h, stats, url + 10, out);
    else
        st = index_page(h, stats, out);
    if (st == 500) {
        out->len = 0;
        *type = "text/plain; charset=utf-8";
        P(out, "the hub could not read its store: see its log\n");
    }
    return st;
}
