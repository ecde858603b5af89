/* The station's pull: pull.h. */
#include "pull.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "error.h"
#include "http.h"
#include "pullauth.h"

static const char state_sql[] =
    "CREATE TABLE IF NOT EXISTS _sw_pull_state("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " last_try_ms INTEGER, last_ok_ms INTEGER, last_error TEXT,"
    " frames INTEGER NOT NULL DEFAULT 0);"
    "INSERT OR IGNORE INTO _sw_pull_state(id) VALUES(1);";

static void note(replica *r, int ok, const char *error, uint64_t frames)
{
    sqlite3 *db = replica_db(r);
    sqlite3_stmt *st;
    if (sqlite3_exec(db, state_sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "UPDATE _sw_pull_state SET last_try_ms = ?1, "
                           "last_ok_ms = CASE WHEN ?2 THEN ?1 ELSE "
                           "last_ok_ms END, last_error = ?3, frames = frames "
                           "+ ?4 WHERE id = 1",
                           -1, &st, NULL) != SQLITE_OK)
        return; /* status only */
    sqlite3_bind_int64(st, 1, client_now_ms());
    sqlite3_bind_int(st, 2, ok);
    if (error != NULL)
        sqlite3_bind_text(st, 3, error, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)frames);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

/* One signed GET of the frames after `after`. */
static int request(http_client *http, const pull_config *cfg, uint64_t after,
                   http_resp *resp, swlog_error *err)
{
    char query[64], url[1200], nhex[2 * PULLAUTH_NONCE_BYTES + 1];
    char msg[PULLAUTH_MSG_MAX], khex[2 * SWLOG_PUBKEY_BYTES + 1];
    char shex[2 * PULLAUTH_SIG_BYTES + 1];
    uint8_t nonce[PULLAUTH_NONCE_BYTES], sig[PULLAUTH_SIG_BYTES];
    uint64_t now = (uint64_t)client_now_ms();
    pullauth_query(after, cfg->limit, query);
    swlog_random(nonce, sizeof nonce);
    swlog_hex(nonce, sizeof nonce, nhex);
    swlog_hex(cfg->station_pk, SWLOG_PUBKEY_BYTES, khex);
    size_t n = pullauth_message("GET", "/v1/pull", query, now, nhex,
                                cfg->hub_key, cfg->station_pk, msg);
    if (n == 0)
        return swlog_fail(err, SWLOG_EARG, 0, "pull: request too long");
    pullauth_sign(cfg->station_sk, msg, n, sig);
    swlog_hex(sig, sizeof sig, shex);
    snprintf(url, sizeof url, "%s/v1/pull?%s", cfg->hub_url, query);
    char h1[100], h2[64], h3[80], h4[160];
    snprintf(h1, sizeof h1, "X-Swsync-Key: %s", khex);
    snprintf(h2, sizeof h2, "X-Swsync-Time: %" PRIu64, now);
    snprintf(h3, sizeof h3, "X-Swsync-Nonce: %s", nhex);
    snprintf(h4, sizeof h4, "X-Swsync-Signature: %s", shex);
    const char *hdrs[] = {h1, h2, h3, h4};
    return http_get_with(http, url, hdrs, 4, PULL_MAX_ANSWER, resp, err);
}

int pull_run(replica *r, const pull_config *cfg, pull_result *res,
             swlog_error *err)
{
    memset(res, 0, sizeof *res);
    uint8_t id[SWLOG_HASH_BYTES];
    int rc = bundle_head(r, cfg->hub_key, &res->cursor_before, id, err);
    res->cursor = res->cursor_before;
    if (rc != SWLOG_OK)
        return rc;
    http_opts o = {0};
    o.ca_file = cfg->hub_ca;
    o.stop = cfg->stop;
    http_client *http = NULL;
    if ((rc = http_new(&o, &http, err)) != SWLOG_OK)
        return rc;
    bundle_options bo = {0};
    bo.trusted = cfg->hub_key;
    bo.ntrusted = 1;
    bo.self = cfg->station_pk;
    bo.inbox = cfg->inbox;
    for (unsigned round = 0; rc == SWLOG_OK; round++) {
        if (round >= PULL_MAX_ROUNDS) {
            rc = swlog_fail(err, CLIENT_EPROTO, 0,
                            "pull: the hub kept answering frames for %u "
                            "requests: stopped", PULL_MAX_ROUNDS);
            break;
        }
        if (cfg->stop != NULL && *cfg->stop) {
            rc = swlog_fail(err, CLIENT_ESTOP, 0, "pull stopped");
            break;
        }
        http_resp resp;
        uint64_t after = res->cursor;
        rc = request(http, cfg, after, &resp, err);
        res->requests++;
        res->status = resp.status;
        if (rc != SWLOG_OK) {
            http_resp_clear(&resp);
            break;
        }
        res->bytes += resp.len;
        bundle_stats st = {0};
        rc = bundle_import_mem(r, "pull answer", (const uint8_t *)resp.body,
                               resp.len, &bo, &st, err);
        http_resp_clear(&resp);
        if (rc != SWLOG_OK)
            break;
        res->st.frames += st.frames;
        res->st.imported += st.imported;
        res->st.duplicates += st.duplicates;
        res->st.changesets += st.changesets;
        res->st.merge.records += st.merge.records;
        res->st.merge.applied += st.merge.applied;
        res->st.merge.conflicts += st.merge.conflicts;
        res->st.merge.future += st.merge.future;
        rc = bundle_head(r, cfg->hub_key, &res->cursor, id, err);
        if (rc == SWLOG_OK && st.imported == 0)
            break; /* nothing new after the cursor: done */
        if (rc == SWLOG_OK && res->cursor <= after)
            rc = swlog_fail(err, CLIENT_EPROTO, 0,
                            "pull: the hub answered frames that do not move "
                            "the cursor past %" PRIu64, after);
    }
    http_free(http);
    note(r, rc == SWLOG_OK, rc == SWLOG_OK ? NULL : err->msg,
         res->st.imported);
    return rc;
}

int pull_status_text(replica *r, swlog_buf *out, swlog_error *err)
{
    sqlite3 *db = replica_db(r);
    sqlite3_stmt *st;
    (void)err;
    char line[400];
    if (sqlite3_prepare_v2(db, "SELECT (SELECT max(seq) FROM _sw_pull), "
                               "last_try_ms, last_ok_ms, last_error, frames "
                               "FROM _sw_pull_state",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(line, sizeof line, "pull: never pulled\n");
        return swlog_buf_append(out, line, strlen(line));
    }
    int n = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        long long cur = sqlite3_column_int64(st, 0);
        long long ok = sqlite3_column_int64(st, 2);
        long long frames = sqlite3_column_int64(st, 4);
        const unsigned char *e = sqlite3_column_text(st, 3);
        char when[40] = "never";
        if (ok > 0) {
            time_t t = (time_t)(ok / 1000);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        }
        n = snprintf(line, sizeof line,
                     "pull: hub feed merged up to seq %lld (cursor), %lld "
                     "frame%s pulled in all, last successful pull %s%s%s\n",
                     cur, frames, frames == 1 ? "" : "s", when,
                     e != NULL ? "; last try failed: " : "",
                     e != NULL ? (const char *)e : "");
    }
    sqlite3_finalize(st);
    if (n <= 0)
        n = snprintf(line, sizeof line, "pull: never pulled\n");
    return swlog_buf_append(out, line, strlen(line));
}
