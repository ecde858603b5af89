/* swsync-agent status: the station at a glance, in words or JSON: pending
 * changes, the feed's head, an unfinished seal, problems, and (from the
 * sync client, later) the hub. Reads only: the log is never opened for
 * append. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "capture.h"
#include "cli.h"
#include "pull.h"
#include "client.h"
#include "feedscan.h"
#include "rec.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] status [--json]\n"
    "\n"
    "Tell, in words, what is waiting to be sealed and sent, the head of\n"
    "the station's feed (seq, id, time of the last seal), the next seq,\n"
    "an unfinished seal and what the next seal will do with it, and every\n"
    "problem found: key file, folder permissions, replica and log that\n"
    "disagree (the log is read, never changed), a torn tail, no hub.\n"
    "--json prints one JSON object (agent/README.md \"status --json\").\n"
    "\n"
    "Exit codes: 0 no problem (notes allowed); 1 a problem was found or\n"
    "the folder could not be read; 2 bad command line.\n";

#define MAX_PROBLEMS 16

typedef struct problem {
    int error; /* 0: a note */
    const char *code;
    char msg[320];
} problem;

typedef struct report {
    problem p[MAX_PROBLEMS];
    size_t n;
} report;

static void add(report *r, int error, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(report *r, int error, const char *code, const char *fmt, ...)
{
    if (r->n == MAX_PROBLEMS)
        return;
    problem *p = &r->p[r->n++];
    p->error = error;
    p->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
}

typedef struct feedrow {
    int have; /* the replica has sealed (or reserved) under this key */
    uint64_t next_seq, head_seq;
    uint8_t head_id[SWLOG_HASH_BYTES];
    uint64_t inflight, inflight_lo, inflight_hi, inflight_records;
} feedrow;

static int table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    int yes = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = "
                               "'table' AND name = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

static int read_feed(sqlite3 *db, const uint8_t pk[SWLOG_PUBKEY_BYTES],
                     feedrow *f, report *r)
{
    memset(f, 0, sizeof *f);
    if (!table_exists(db, "_sw_feed"))
        return 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT next_seq, head_seq, head_id FROM "
                               "_sw_feed WHERE signer = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        add(r, 1, "replica", "reading the feed state: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_blob(st, 1, pk, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_bytes(st, 2) == SWLOG_HASH_BYTES) {
        f->have = 1;
        f->next_seq = (uint64_t)sqlite3_column_int64(st, 0);
        f->head_seq = (uint64_t)sqlite3_column_int64(st, 1);
        memcpy(f->head_id, sqlite3_column_blob(st, 2), SWLOG_HASH_BYTES);
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT count(*), min(seq), max(seq), "
                               "total(count) FROM _sw_inflight",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        f->inflight = (uint64_t)sqlite3_column_int64(st, 0);
        f->inflight_lo = (uint64_t)sqlite3_column_int64(st, 1);
        f->inflight_hi = (uint64_t)sqlite3_column_int64(st, 2);
        f->inflight_records = (uint64_t)sqlite3_column_double(st, 3);
    }
    sqlite3_finalize(st);
    return 0;
}

static void json_kv_str(const char *k, const char *v, int comma)
{
    printf("%s\"%s\":", comma ? "," : "", k);
    if (v == NULL)
        fputs("null", stdout);
    else
        rec_json_str(stdout, v);
}

int cmd_status(int argc, char **argv)
{
    int json = 0;
    const cli_opt opts[] = {{"json", CLI_FLAG, &json}};
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    int rc = cli_parse("status", argc, argv, opts, 1, NULL, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    cli_station s;
    swlog_error e = {0};
    if (cli_station_load(dir, CLI_OPEN_KEY_OPTIONAL, &s, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err("status", &e, NULL);
    }
    report rep = {0};
    sqlite3 *db = replica_db(s.r);
    uint64_t pending = 0;
    if (capture_pending(db, &pending, &e) != SWLOG_OK)
        add(&rep, 1, "replica", "counting pending changes: %s", e.msg);

    char pkhex[2 * SWLOG_PUBKEY_BYTES + 1] = "";
    if (s.has_pk)
        swlog_hex(s.pk, SWLOG_PUBKEY_BYTES, pkhex);
    else
        add(&rep, 1, "key",
            "station key: %s; sealing is impossible until fixed (a key file "
            "that others may read: chmod 600, and ask whether it was "
            "copied)", s.key_problem);
    struct stat sb;
    if (stat(s.dir, &sb) == 0 && (sb.st_mode & 077))
        add(&rep, 0, "folder",
            "the folder %s may be read by other users (mode %03o): chmod 700",
            s.dir, (unsigned)(sb.st_mode & 0777));

    feedrow fr = {0};
    feedscan fs = {0};
    if (s.has_pk) {
        read_feed(db, s.pk, &fr, &rep);
        fs.want_seq = fr.head_seq;
        swlog_error le = {0};
        if (feedscan_run(s.log_path, s.pk, &fs, &le) != SWLOG_OK)
            add(&rep, 1, "log", "%s: %s", s.log_path, le.msg);
        else if (fs.problem.code != SWLOG_OK)
            add(&rep, 1, "log", "%s: %s (%s): keep the file as it is and "
                                "ask the county office",
                s.log_path, fs.problem.msg,
                swlog_code_name(fs.problem.code));
        if (fs.torn > 0)
            add(&rep, 0, "torn",
                "%s ends in %" PRIu64 " bytes of an interrupted write (torn "
                "tail, FORMAT §8.3): the next seal cuts them off; nothing "
                "sealed is lost", s.log_path, fs.torn);
        if (fs.foreign > 0)
            add(&rep, 1, "log", "%s holds %" PRIu64 " frames of other keys: "
                                "it is not this station's log",
                s.log_path, fs.foreign);
        /* The replica's feed state against the log (agent/README.md
         * "Sealing", Recovery): what seal_open would find. */
        uint64_t L = fs.last_seq;
        if (fr.have && L < fr.head_seq)
            add(&rep, 1, "behind",
                "the log ends at seq %" PRIu64 " but the replica has sealed "
                "up to seq %" PRIu64 " (station.log lost or an older copy "
                "restored): sealing is refused; keep both files and ask the "
                "county office", L, fr.head_seq);
        else if (fr.have && L >= fr.next_seq)
            add(&rep, 1, "ahead",
                "the log holds seq %" PRIu64 " but the replica never "
                "reserved past seq %" PRIu64 " (replica restored from a "
                "backup?): sealing is refused; ask the county office",
                L, fr.next_seq - 1);
        else if (!fr.have && L > 0)
            add(&rep, 1, "ahead",
                "the log holds %" PRIu64 " frames of this station but the "
                "replica has no record of sealing them (a new or restored "
                "replica?): sealing is refused",
                L);
        else if (fr.have && fr.head_seq > 0 && fs.have_want &&
                 memcmp(fs.want_id, fr.head_id, SWLOG_HASH_BYTES) != 0)
            add(&rep, 1, "fork",
                "the log's frame at seq %" PRIu64 " differs from the one "
                "the replica sealed: keep both files as evidence and ask "
                "the county office", fr.head_seq);
    }
    if (s.hub_url[0] == '\0')
        add(&rep, 0, "hub",
            "no hub is configured (station.conf hub_url): records are only "
            "kept here; 'swsync-agent export' writes a bundle");

    /* The unfinished seal, in words. */
    char unfinished[320] = "";
    if (fr.inflight > 0) {
        uint64_t in_log = fs.last_seq >= fr.inflight_lo
                              ? (fs.last_seq > fr.inflight_hi
                                     ? fr.inflight_hi
                                     : fs.last_seq) - fr.inflight_lo + 1
                              : 0;
        snprintf(unfinished, sizeof unfinished,
                 "a seal was interrupted: %" PRIu64 " change-set%s (seq %"
                 PRIu64 "..%" PRIu64 ", %" PRIu64 " records) reserved, %"
                 PRIu64 " of them already in the log; the next "
                 "'swsync-agent seal' finishes them byte for byte",
                 fr.inflight, fr.inflight == 1 ? "" : "s", fr.inflight_lo,
                 fr.inflight_hi, fr.inflight_records, in_log);
    }
    char idhex[2 * SWLOG_HASH_BYTES + 1] = "";
    char when[32] = "";
    if (fr.head_seq > 0) {
        swlog_hex(fr.head_id, SWLOG_HASH_BYTES, idhex);
        if (fs.have_want)
            cli_time_text((int64_t)(fs.want_hlc >> 16), when);
    }
    size_t errors = 0;
    for (size_t i = 0; i < rep.n; i++)
        errors += rep.p[i].error != 0;
    /* The sync client's state, read from the replica (never the network). */
    swlog_buf sync;
    swlog_buf_init(&sync);
    swlog_error sync_err = {0};
    int sync_ok = (json ? client_status_json(replica_db(s.r), &sync, &sync_err)
                        : client_status_text(replica_db(s.r), &sync,
                                             &sync_err)) == SWLOG_OK &&
                  swlog_buf_append(&sync, "", 1) == SWLOG_OK;
    if (!sync_ok)
        errors++;

    if (json) {
        printf("{");
        json_kv_str("dir", s.dir, 0);
        json_kv_str("unit", s.unit, 1);
        json_kv_str("station_key", s.has_pk ? pkhex : NULL, 1);
        printf(",\"pending\":%" PRIu64, pending);
        printf(",\"feed\":{\"head_seq\":%" PRIu64, fr.head_seq);
        json_kv_str("head_id", fr.head_seq > 0 ? idhex : NULL, 1);
        json_kv_str("head_time", when[0] ? when : NULL, 1);
        printf(",\"next_seq\":%" PRIu64 ",\"log_frames\":%" PRIu64
               ",\"log_last_seq\":%" PRIu64 ",\"torn_bytes\":%" PRIu64 "}",
               fr.have ? fr.next_seq : 1, fs.own, fs.last_seq, fs.torn);
        if (fr.inflight > 0)
            printf(",\"unfinished_seal\":{\"first_seq\":%" PRIu64
                   ",\"last_seq\":%" PRIu64 ",\"records\":%" PRIu64 "}",
                   fr.inflight_lo, fr.inflight_hi, fr.inflight_records);
        else
            printf(",\"unfinished_seal\":null");
        printf(",\"hub\":{");
        json_kv_str("url", s.hub_url[0] ? s.hub_url : NULL, 0);
        json_kv_str("ca", s.hub_ca[0] ? s.hub_ca : NULL, 1);
        json_kv_str("key", s.hub_key[0] ? s.hub_key : NULL, 1);
        printf("},\"problems\":[");
        for (size_t i = 0; i < rep.n; i++) {
            printf("%s{", i ? "," : "");
            json_kv_str("severity", rep.p[i].error ? "error" : "note", 0);
            json_kv_str("code", rep.p[i].code, 1);
            json_kv_str("message", rep.p[i].msg, 1);
            printf("}");
        }
        /* The sync client's state (agent/client/README.md): per feed and
         * hub, acknowledged and waiting frames, last contact, refusals. */
        printf("],\"sync\":%s,\"ok\":%s}\n",
               sync_ok ? (const char *)sync.p : "null",
               errors ? "false" : "true");
    } else {
        printf("Station %s, unit %s\n", s.dir, s.unit);
        printf("  key:      %s\n", s.has_pk ? pkhex : "(unreadable)");
        printf("\nLocal\n");
        printf("  pending:  %" PRIu64 " change%s waiting to be sealed%s\n",
               pending, pending == 1 ? "" : "s",
               pending ? " (swsync-agent seal)" : "");
        if (fr.head_seq > 0)
            printf("  head:     seq %" PRIu64 " (%.16s), sealed %s\n",
                   fr.head_seq, idhex, when[0] ? when : "(time unknown)");
        else
            printf("  head:     nothing sealed yet\n");
        printf("  next seq: %" PRIu64 "\n", fr.have ? fr.next_seq : 1);
        if (unfinished[0])
            printf("  unfinished: %s\n", unfinished);
        printf("\nSync\n");
        if (s.hub_url[0])
            printf("  hub:      %s\n", s.hub_url);
        else
            printf("  hub:      not configured\n");
        if (sync_ok) {
            /* One "sync: ..." line (and indented details) per feed. */
            const char *p = (const char *)sync.p;
            while (*p != '\0') {
                const char *nl = strchr(p, '\n');
                size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
                printf("  %.*s\n", (int)n, p);
                p += n + (nl != NULL);
            }
        } else {
            printf("  sync state unreadable: %s\n", sync_err.msg);
        }
        swlog_buf pl;
        swlog_buf_init(&pl);
        if (pull_status_text(s.r, &pl, NULL) == SWLOG_OK &&
            swlog_buf_append(&pl, "", 1) == SWLOG_OK)
            printf("  %s", (const char *)pl.p);
        swlog_buf_clear(&pl);
        printf("\nProblems\n");
        if (rep.n == 0)
            printf("  none\n");
        for (size_t i = 0; i < rep.n; i++)
            printf("  %s: %s\n", rep.p[i].error ? "PROBLEM" : "note",
                   rep.p[i].msg);
    }
    swlog_buf_clear(&sync);
    cli_station_close(&s);
    return errors ? CLI_EFAIL : CLI_OK;
}
