/* bench_hub: hub ingest over real HTTPS on loopback (issue 4 "Measure"),
 * driven by bench/bench_hub.sh, which makes the keys, the TLS certificate
 * and starts a swsync-hub on 127.0.0.1. A benchmark, not a test: it prints
 * figures; it exits 1 only when the hub answered an error (a refused frame,
 * a receipt that does not verify, a transport failure), so the smoke test
 * can check "no errors".
 *
 * In one run, on synthetic `clients` rows (every typical column filled; no
 * real persons; ids UUIDv7 in creation order, as stations make them, or
 * random with --random-ids), in change-sets of R records (default 50):
 *  1. baseline: the same rows of station 0 inserted into a plain SQLite
 *     table with the columns of the replica's `clients` table (its CREATE
 *     TABLE and its two indexes copied from a fresh replica; no triggers),
 *     journal_mode WAL, synchronous FULL, one prepared INSERT a row, one
 *     transaction (BEGIN … COMMIT) per change-set of R rows.
 *  2. ingest: station 0 alone pushes its change-sets, B a batch, over one
 *     reused HTTPS connection (libcurl); each answer's receipt verified
 *     completely (push_answer_verify: results, signed checkpoint, every
 *     inclusion proof). records/s from the first request to the last
 *     verified answer; ratio to 1.
 *  3. concurrency: S stations (threads, one connection each) push their
 *     own feeds at once; errors (must be 0), 503 busy answers (counted
 *     apart, retried after Retry-After), p50/p99/max batch latency.
 *  4. bytes per record on the wire (request and answer bodies, and the
 *     TCP payload — TLS records with HTTP headers and bodies — from the
 *     socket's TCP_INFO, bytes acked and received, for station 0) next
 *     to the same records as JSON documents of a CouchDB-style replication
 *     (_bulk_docs with new_edits:false: _id, _rev, _revisions, fields).
 *
 * usage: bench_hub pub K
 *        bench_hub run --url URL --ca FILE --hub-key HEX --dir DIR
 *          [--records R] [--changesets N] [--stations S]
 *          [--station-changesets M] [--batch B]
 *   station 0 is test key K0 = 1000, stations 1..S keys 1001..1000+S
 *   (bench_hub pub prints a key's public key for certification). */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "push.h"
#include "replica.h"
#include "swlog.h"

#define KEY0 1000u
#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define MAX_STATIONS 256
#define MAX_RETRIES 1000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_hub: %s: %s\n", what, msg != NULL ? msg : "");
    exit(1);
}

static void key(unsigned i, uint8_t pk[SWLOG_PUBKEY_BYTES],
                uint8_t sk[SWLOG_SECKEY_BYTES])
{
    char text[64];
    uint8_t seed[SWLOG_SEED_BYTES];
    int n = snprintf(text, sizeof text, "swsync bench key %u", i);
    swlog_sha256((const uint8_t *)text, (size_t)n, seed);
    swlog_key_from_seed(seed, pk, sk);
}

/* ---- synthetic rows ---------------------------------------------------- */

#define NCOLS 19
static const char *const cols[NCOLS] = {
    "owner_unit_id", "name", "gender", "birth_date", "birth_estimated",
    "id_type", "id_number", "ethnicity", "phone", "phone_owner",
    "village_code", "address", "hukou", "living", "guardian_name",
    "guardian_relation", "guardian_phone", "disability_cert_no",
    "ability_level"};

typedef struct row {
    uint8_t id[SWLOG_UUID_BYTES];
    char idtext[37];
    const char *v[NCOLS]; /* NULL: SQL NULL, not sent */
    int is_int[NCOLS];
    char buf[NCOLS][128];
} row;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static void set(row *r, int c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set(row *r, int c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->buf[c], sizeof r->buf[c], fmt, ap);
    va_end(ap);
    r->v[c] = r->buf[c];
}

/* --random-ids: row ids with random bits where UUIDv7 has its time (what
 * this benchmark used before 2026-11-23), so every id-keyed B-tree takes
 * its inserts all over. By default ids are UUIDv7 as stations make them
 * (replica_uuid7, SCHEMA §2): a station's rows in creation order. */
static int random_ids;

/* Row i of station s: deterministic, synthetic; made at 1 s intervals. */
static void row_make(unsigned s, uint64_t i, row *r)
{
    static const char *const sur[] = {"王", "李", "张", "刘", "陈", "杨",
                                      "黄", "赵", "吴", "周", "徐", "孙"};
    static const char *const giv[] = {"秀英", "桂英", "建国", "国华", "丽",
                                      "志强", "淑珍", "海燕", "明", "小红"};
    static const char *const eth[] = {"汉族", "壮族", "瑶族", "苗族"};
    static const char *const liv[] = {"alone", "spouse_only",
                                      "with_children", "with_grandparents"};
    static const char *const abl[] = {"intact", "mild", "moderate", "severe"};
    static const char *const rel[] = {"grandparent", "parent", "relative"};
    uint64_t h = mix(((uint64_t)s << 40) ^ (i + 1));
    memset(r, 0, sizeof *r);
    for (int k = 0; k < 16; k++)
        r->id[k] = (uint8_t)(mix(h + (uint64_t)k) >> 24);
    if (!random_ids) {
        uint64_t ms = 1763856000000ULL + i * 1000; /* 2025-11-23 */
        for (int k = 0; k < 6; k++)
            r->id[k] = (uint8_t)(ms >> (40 - 8 * k));
    }
    r->id[6] = (uint8_t)(0x70 | (r->id[6] & 0x0f)); /* UUIDv7-shaped */
    r->id[8] = (uint8_t)(0x80 | (r->id[8] & 0x3f));
    static const char hx[] = "0123456789abcdef";
    for (int k = 0, o = 0; k < 16; k++) {
        if (k == 4 || k == 6 || k == 8 || k == 10)
            r->idtext[o++] = '-';
        r->idtext[o++] = hx[r->id[k] >> 4];
        r->idtext[o++] = hx[r->id[k] & 15];
    }
    r->idtext[36] = 0;
    int minor = h % 5 == 0;
    int year = minor ? 2010 + (int)(h % 14) : 1930 + (int)(h % 60);
    int mon = 1 + (int)(h >> 8) % 12, day = 1 + (int)(h >> 12) % 28;
    set(r, 0, OWNER);
    set(r, 1, "%s%s", sur[h % 12], giv[(h >> 4) % 10]);
    set(r, 2, "%s", h & 1 ? "female" : "male");
    set(r, 3, "%04d-%02d-%02d", year, mon, day);
    set(r, 4, "%d", (int)((h >> 20) % 7 == 0));
    r->is_int[4] = 1;
    set(r, 5, "resident_id");
    /* GB 11643 check digit over a synthetic 17-digit prefix. */
    char id[40];
    snprintf(id, sizeof id, "440983%04d%02d%02d%03u", year, mon, day,
             (unsigned)((h >> 24) % 1000));
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8,
                              4, 2};
    int sum = 0;
    for (int k = 0; k < 17; k++)
        sum += (id[k] - '0') * w[k];
    id[17] = "10X98765432"[sum % 11];
    id[18] = 0;
    set(r, 6, "%s", id);
    set(r, 7, "%s", eth[(h >> 28) % 4]);
    set(r, 8, "13%09llu", (unsigned long long)((h >> 30) % 1000000000ULL));
    set(r, 9, "self");
    set(r, 10, "440983102%03u", (unsigned)((h >> 34) % 40));
    set(r, 11, "广东省信宜市某镇%u村%u号", (unsigned)((h >> 34) % 40),
        (unsigned)((h >> 40) % 300));
    set(r, 12, "%s", (h >> 41) & 1 ? "rural" : "urban");
    set(r, 13, "%s", liv[(h >> 42) % 4]);
    if (minor) {
        set(r, 14, "%s%s", sur[(h >> 44) % 12], giv[(h >> 48) % 10]);
        set(r, 15, "%s", rel[(h >> 50) % 3]);
        set(r, 16, "13%09llu", (unsigned long long)((h >> 20) % 1000000000));
    }
    set(r, 17, "%s1%02d", id, (unsigned)((h >> 52) % 100));
    set(r, 18, "%s", abl[(h >> 54) % 4]);
}

/* ---- feeds --------------------------------------------------------------- */

typedef struct frame {
    uint8_t *body;
    size_t len;
    uint64_t seq;
    uint8_t id[SWLOG_HASH_BYTES];
} frame;

typedef struct feed {
    unsigned keyno;
    uint8_t pk[SWLOG_PUBKEY_BYTES];
    frame *f;
    size_t n;
    size_t json_bytes; /* the same records as _bulk_docs bodies */
} feed;

static void json_str(swlog_buf *b, const char *s)
{
    swlog_buf_append(b, "\"", 1);
    swlog_buf_append(b, s, strlen(s)); /* synthetic: nothing to escape */
    swlog_buf_append(b, "\"", 1);
}

/* One change-set of records as a CouchDB _bulk_docs body, as replication
 * sends it (new_edits:false, with _revisions). */
static size_t json_changeset(const row *rs, size_t n, unsigned s, uint64_t cs)
{
    swlog_buf b;
    swlog_buf_init(&b);
    swlog_buf_append(&b, "{\"new_edits\":false,\"docs\":[", 27);
    for (size_t i = 0; i < n; i++) {
        char rev[33], tmp[256];
        uint64_t h1 = mix(((uint64_t)s << 32) ^ cs ^ (i << 16));
        snprintf(rev, sizeof rev, "%016llx%016llx", (unsigned long long)h1,
                 (unsigned long long)mix(h1));
        int k = snprintf(tmp, sizeof tmp,
                         "%s{\"_id\":\"%s\",\"_rev\":\"1-%s\",\"_revisions\":"
                         "{\"start\":1,\"ids\":[\"%s\"]},\"table\":\"clients\"",
                         i ? "," : "", rs[i].idtext, rev, rev);
        if (k < 0 || (size_t)k >= sizeof tmp)
            die("json", "document head too long");
        swlog_buf_append(&b, tmp, (size_t)k);
        for (int c = 0; c < NCOLS; c++) {
            if (rs[i].v[c] == NULL)
                continue;
            swlog_buf_append(&b, ",", 1);
            json_str(&b, cols[c]);
            swlog_buf_append(&b, ":", 1);
            if (rs[i].is_int[c])
                swlog_buf_append(&b, rs[i].v[c], strlen(rs[i].v[c]));
            else
                json_str(&b, rs[i].v[c]);
        }
        swlog_buf_append(&b, "}", 1);
    }
    swlog_buf_append(&b, "]}", 2);
    size_t len = b.len;
    swlog_buf_clear(&b);
    return len;
}

static void feed_make(feed *fd, unsigned s, unsigned keyno, size_t ncs,
                      size_t nrec, uint64_t ms)
{
    uint8_t sk[SWLOG_SECKEY_BYTES];
    swlog_error e = {0};
    fd->keyno = keyno;
    key(keyno, fd->pk, sk);
    fd->f = calloc(ncs, sizeof *fd->f);
    row *rs = malloc(nrec * sizeof *rs);
    swlog_cs *cs = swlog_cs_new();
    if (fd->f == NULL || rs == NULL || cs == NULL)
        die("feed", "out of memory");
    uint8_t prev[SWLOG_HASH_BYTES] = {0};
    uint64_t hlc = ms << 16;
    for (size_t c = 0; c < ncs; c++) {
        swlog_cs_reset(cs);
        for (size_t i = 0; i < nrec; i++) {
            row *r = &rs[i];
            row_make(s, c * nrec + i, r);
            if (swlog_cs_upsert(cs, "clients", r->id, ++hlc, &e) != SWLOG_OK)
                die("upsert", e.msg);
            for (int k = 0; k < NCOLS; k++) {
                if (r->v[k] == NULL)
                    continue;
                swlog_value v = {.type = SWLOG_TEXT,
                                 .p = (const uint8_t *)r->v[k],
                                 .len = strlen(r->v[k])};
                if (r->is_int[k]) {
                    v.type = SWLOG_INT;
                    v.i = atoi(r->v[k]);
                }
                if (swlog_cs_value(cs, cols[k], 0, &v, &e) != SWLOG_OK)
                    die("value", e.msg);
            }
        }
        fd->json_bytes += json_changeset(rs, nrec, s, c);
        swlog_head hd = {.seq = c + 1, .hlc = hlc};
        memcpy(hd.prev, prev, sizeof prev);
        swlog_buf out;
        swlog_buf_init(&out);
        if (swlog_cs_seal(cs, sk, &hd, 1, "bench", &out, &e) != SWLOG_OK)
            die("seal", e.msg);
        swlog_frame f;
        if (swlog_frame_decode(out.p, out.len, SWLOG_DECODE_NO_SIG, &f, &e) !=
            SWLOG_OK)
            die("decode", e.msg);
        fd->f[c].body = malloc(out.len);
        if (fd->f[c].body == NULL)
            die("feed", "out of memory");
        memcpy(fd->f[c].body, out.p, out.len);
        fd->f[c].len = out.len;
        fd->f[c].seq = c + 1;
        memcpy(fd->f[c].id, f.id, sizeof f.id);
        memcpy(prev, f.id, sizeof prev);
        swlog_buf_clear(&out);
    }
    fd->n = ncs;
    swlog_cs_free(cs);
    free(rs);
    swlog_wipe(sk, sizeof sk);
}

/* ---- baseline ------------------------------------------------------------ */

static void sqlok(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        die(what, sqlite3_errmsg(db));
}

/* Records per second of plain inserts of station s's rows, as described at
 * the top. */
static double baseline(const char *dir, unsigned s, size_t ncs, size_t nrec)
{
    char p[1024], ddl[8192] = "";
    swlog_error e = {0};
    /* The replica's CREATE TABLE clients and its two indexes; no
     * triggers. */
    snprintf(p, sizeof p, "%s/bench-schema-%d.db", dir, (int)getpid());
    unlink(p);
    replica *rp = NULL;
    if (replica_open(p, &rp, &e) != SWLOG_OK)
        die("replica", e.msg);
    sqlite3_stmt *st;
    sqlok(replica_db(rp),
          sqlite3_prepare_v2(replica_db(rp),
                             "SELECT sql FROM sqlite_master WHERE "
                             "tbl_name = 'clients' AND sql IS NOT NULL AND "
                             "type IN ('table', 'index') ORDER BY "
                             "type = 'index'",
                             -1, &st, NULL),
          "schema");
    size_t dl = 0;
    while (sqlite3_step(st) == SQLITE_ROW && dl < sizeof ddl)
        dl += (size_t)snprintf(ddl + dl, sizeof ddl - dl, "%s;",
                               sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    replica_close(rp);
    unlink(p);
    char side[1100];
    snprintf(side, sizeof side, "%s-wal", p);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", p);
    unlink(side);
    if (ddl[0] == 0)
        die("baseline", "no clients table in a fresh replica");

    snprintf(p, sizeof p, "%s/bench-plain-%d.db", dir, (int)getpid());
    unlink(p);
    sqlite3 *db;
    if (sqlite3_open(p, &db) != SQLITE_OK)
        die("baseline", p);
    sqlok(db, sqlite3_exec(db, "PRAGMA journal_mode = WAL;"
                               "PRAGMA synchronous = FULL;",
                           NULL, NULL, NULL), "pragmas");
    sqlok(db, sqlite3_exec(db, ddl, NULL, NULL, NULL), "create");
    char sql[2048];
    int k = snprintf(sql, sizeof sql, "INSERT INTO clients(id");
    for (int c = 0; c < NCOLS; c++)
        k += snprintf(sql + k, sizeof sql - (size_t)k, ", %s", cols[c]);
    k += snprintf(sql + k, sizeof sql - (size_t)k, ") VALUES(?");
    for (int c = 0; c < NCOLS; c++)
        k += snprintf(sql + k, sizeof sql - (size_t)k, ", ?");
    snprintf(sql + k, sizeof sql - (size_t)k, ")");
    sqlok(db, sqlite3_prepare_v2(db, sql, -1, &st, NULL), "prepare");
    row *r = malloc(sizeof *r);
    if (r == NULL)
        die("baseline", "out of memory");
    double t = now();
    for (size_t c = 0; c < ncs; c++) {
        sqlok(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
        for (size_t i = 0; i < nrec; i++) {
            row_make(s, c * nrec + i, r);
            sqlite3_bind_text(st, 1, r->idtext, -1, SQLITE_STATIC);
            for (int j = 0; j < NCOLS; j++) {
                if (r->v[j] == NULL)
                    sqlite3_bind_null(st, j + 2);
                else if (r->is_int[j])
                    sqlite3_bind_int(st, j + 2, atoi(r->v[j]));
                else
                    sqlite3_bind_text(st, j + 2, r->v[j], -1, SQLITE_STATIC);
            }
            sqlok(db, sqlite3_step(st), "insert");
            sqlite3_reset(st);
        }
        sqlok(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    }
    double dt = now() - t;
    free(r);
    sqlite3_finalize(st);
    sqlite3_close(db);
    unlink(p);
    snprintf(side, sizeof side, "%s-wal", p);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", p);
    unlink(side);
    return (double)(ncs * nrec) / dt;
}

/* ---- pushing ------------------------------------------------------------- */

typedef struct conf {
    const char *url, *ca;
    uint8_t hub_key[SWLOG_PUBKEY_BYTES];
    size_t batch;
} conf;

typedef struct answer {
    swlog_buf body;
    uint32_t retry_after;
} answer;

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    answer *a = ctx;
    if (a->body.len + size * n > HTTP_MAX_JSON)
        return 0;
    swlog_buf_append(&a->body, p, size * n);
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    answer *a = ctx;
    if (size * n > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
        a->retry_after = (uint32_t)strtoul(p + 12, NULL, 10);
    return size * n;
}

typedef struct stats {
    uint64_t records, accepted, errors, busy, requests;
    uint64_t req_body, resp_body, connects;
    uint64_t tcp_sent, tcp_recv; /* 0 when not measurable */
    double *lat;                 /* one per batch */
    size_t nlat;
    char first_error[256];
} stats;

static void tcp_bytes(CURL *c, stats *s)
{
    curl_socket_t fd;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
        fd == CURL_SOCKET_BAD ||
        getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) +
                  sizeof ti.tcpi_bytes_received)
        return;
    s->tcp_sent = ti.tcpi_bytes_acked;
    s->tcp_recv = ti.tcpi_bytes_received;
}

static void error_note(stats *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void error_note(stats *s, const char *fmt, ...)
{
    s->errors++;
    if (s->first_error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->first_error, sizeof s->first_error, fmt, ap);
    va_end(ap);
}

/* Push every frame of fd in batches; fills s. */
static void push_all(const conf *cf, const feed *fd, size_t nrec, stats *s)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        die("curl", "init");
    char url[512];
    snprintf(url, sizeof url, "%s/v1/push", cf->url);
    struct curl_slist *hdr =
        curl_slist_append(NULL, "Content-Type: application/x-swsync-frames");
    answer a;
    swlog_buf_init(&a.body);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, cf->ca);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    state_item *items = malloc(cf->batch * sizeof *items);
    uint64_t *seq = malloc(cf->batch * sizeof *seq);
    uint8_t(*ids)[SWLOG_HASH_BYTES] = malloc(cf->batch * sizeof *ids);
    push_answer *pa = malloc(sizeof *pa);
    s->lat = malloc((fd->n / cf->batch + 2) * sizeof *s->lat);
    if (items == NULL || seq == NULL || ids == NULL || pa == NULL ||
        s->lat == NULL)
        die("push", "out of memory");
    swlog_buf body;
    swlog_buf_init(&body);
    for (size_t at = 0; at < fd->n && s->errors == 0;) {
        size_t n = fd->n - at < cf->batch ? fd->n - at : cf->batch;
        uint8_t salt[SWLOG_SALT_BYTES];
        swlog_error e = {0};
        swlog_random(salt, sizeof salt);
        body.len = 0;
        for (size_t i = 0; i < n; i++) {
            const frame *f = &fd->f[at + i];
            if (push_body_add(&body, salt, f->body, f->len, &e) != SWLOG_OK)
                die("batch", e.msg);
            seq[i] = f->seq;
            memcpy(ids[i], f->id, sizeof ids[i]);
        }
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.p);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)body.len);
        double t = now();
        int tries = 0;
        long status = 0;
        for (;;) {
            a.body.len = 0;
            a.retry_after = 0;
            CURLcode rc = curl_easy_perform(c);
            s->requests++;
            curl_off_t up = 0, down = 0;
            long nc = 0;
            curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
            curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
            curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nc);
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
            s->req_body += (uint64_t)up;
            s->resp_body += (uint64_t)down;
            s->connects += (uint64_t)nc;
            if (rc != CURLE_OK) {
                error_note(s, "station %u seq %llu: %s", fd->keyno,
                           (unsigned long long)seq[0],
                           curl_easy_strerror(rc));
                break;
            }
            if (status == 503 && ++tries < MAX_RETRIES) {
                s->busy++;
                struct timespec ts = {
                    a.retry_after ? (time_t)a.retry_after : 0,
                    a.retry_after ? 0 : 50000000L};
                nanosleep(&ts, NULL);
                continue;
            }
            break;
        }
        if (s->errors)
            break;
        swlog_buf_append(&a.body, "", 1); /* NUL for messages */
        if (status != 200) {
            error_note(s, "station %u seq %llu: HTTP %ld: %.150s", fd->keyno,
                       (unsigned long long)seq[0], status,
                       (const char *)a.body.p);
            break;
        }
        if (push_answer_verify((const char *)a.body.p, a.body.len - 1,
                               fd->pk, seq, (const uint8_t(*)[32])ids, n,
                               cf->hub_key, items, pa, &e) != SWLOG_OK) {
            error_note(s, "station %u seq %llu: receipt: %s", fd->keyno,
                       (unsigned long long)seq[0], e.msg);
            break;
        }
        s->lat[s->nlat++] = now() - t;
        if (pa->n_ok != n) {
            error_note(s, "station %u seq %llu: %s %s: %s", fd->keyno,
                       (unsigned long long)seq[pa->bad], pa->status,
                       pa->error, pa->message);
            break;
        }
        s->accepted += pa->accepted;
        s->records += n * nrec;
        at += n;
    }
    tcp_bytes(c, s);
    swlog_buf_clear(&body);
    swlog_buf_clear(&a.body);
    free(items);
    free(seq);
    free(ids);
    free(pa);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
}

typedef struct job {
    const conf *cf;
    const feed *fd;
    size_t nrec;
    stats s;
} job;

static void *run_job(void *p)
{
    job *j = p;
    push_all(j->cf, j->fd, j->nrec, &j->s);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bench_hub pub K\n"
            "       bench_hub run --url URL --ca FILE --hub-key HEX --dir DIR\n"
            "         [--records R(50)] [--changesets N(100)] "
            "[--stations S(64)]\n"
            "         [--station-changesets M(8)] [--batch B(4)] "
            "[--random-ids]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (swlog_init() != SWLOG_OK)
        return 1;
    if (argc == 3 && strcmp(argv[1], "pub") == 0) {
        uint8_t pk[SWLOG_PUBKEY_BYTES], sk[SWLOG_SECKEY_BYTES];
        char hex[65];
        key((unsigned)atoi(argv[2]), pk, sk);
        swlog_hex(pk, sizeof pk, hex);
        puts(hex);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "run") != 0)
        return usage();
    conf cf = {.batch = 4};
    const char *dir = NULL, *hubkey = NULL;
    size_t nrec = 50, ncs = 100, nst = 64, mcs = 8;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--random-ids") == 0) {
            random_ids = 1;
            continue;
        }
        if (v == NULL)
            return usage();
        i++;
        if (strcmp(a, "--url") == 0)
            cf.url = v;
        else if (strcmp(a, "--ca") == 0)
            cf.ca = v;
        else if (strcmp(a, "--hub-key") == 0)
            hubkey = v;
        else if (strcmp(a, "--dir") == 0)
            dir = v;
        else if (strcmp(a, "--records") == 0)
            nrec = strtoul(v, NULL, 10);
        else if (strcmp(a, "--changesets") == 0)
            ncs = strtoul(v, NULL, 10);
        else if (strcmp(a, "--stations") == 0)
            nst = strtoul(v, NULL, 10);
        else if (strcmp(a, "--station-changesets") == 0)
            mcs = strtoul(v, NULL, 10);
        else if (strcmp(a, "--batch") == 0)
            cf.batch = strtoul(v, NULL, 10);
        else
            return usage();
    }
    if (cf.url == NULL || cf.ca == NULL || hubkey == NULL || dir == NULL ||
        strlen(hubkey) != 64 || nrec == 0 || nrec > 1000 || ncs == 0 ||
        nst > MAX_STATIONS || mcs == 0 || cf.batch == 0 ||
        cf.batch > PUSH_MAX_FRAMES)
        return usage();
    for (size_t i = 0; i < 32; i++) {
        unsigned x;
        if (sscanf(hubkey + 2 * i, "%2x", &x) != 1)
            return usage();
        cf.hub_key[i] = (uint8_t)x;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        die("curl", "global init");
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t ms = (uint64_t)wall.tv_sec * 1000 +
                  (uint64_t)wall.tv_nsec / 1000000;

    /* Feeds first (the stations' sealing is not the hub's work). */
    feed *fds = calloc(nst + 1, sizeof *fds);
    if (fds == NULL)
        die("feeds", "out of memory");
    feed_make(&fds[0], 0, KEY0, ncs, nrec, ms);
    for (size_t s = 1; s <= nst; s++)
        feed_make(&fds[s], (unsigned)s, KEY0 + (unsigned)s, mcs, nrec, ms);

    size_t frame_bytes = 0;
    for (size_t i = 0; i < fds[0].n; i++)
        frame_bytes += fds[0].f[i].len;
    double base = baseline(dir, 0, ncs, nrec);

    stats one = {0};
    double t = now();
    push_all(&cf, &fds[0], nrec, &one);
    double dt = now() - t;
    double rate = (double)one.records / dt;
    double nr = (double)(ncs * nrec);
    qsort(one.lat, one.nlat, sizeof *one.lat, cmp_double);

    printf("bench_hub: %zu records of clients (%d columns), %zu a "
           "change-set, %zu change-sets a push\n",
           ncs * nrec, NCOLS + 1, nrec, cf.batch);
    printf("  baseline  plain SQLite inserts (WAL, synchronous FULL, one "
           "transaction a change-set, no triggers): %.0f records/s  1.00\n", base);
    printf("  hub ingest one station, HTTPS, receipts verified:          "
           "%.0f records/s  %.2fx  (%.1f ms a push median, %zu pushes)\n",
           rate, rate / base, 1000 * pct(one.lat, one.nlat, 0.5), one.nlat);
    printf("  wire bytes/record: frames %.0f, request body %.0f + answer "
           "body %.0f, TCP payload (TLS, HTTP headers, bodies) %s",
           frame_bytes / nr, one.req_body / nr, one.resp_body / nr,
           one.tcp_sent && one.connects == 1 ? "" : "n/a");
    if (one.tcp_sent && one.connects == 1)
        printf("%.0f (%.0f up, %.0f down)", (one.tcp_sent + one.tcp_recv) / nr,
               one.tcp_sent / nr, one.tcp_recv / nr);
    printf("\n  JSON docs (CouchDB _bulk_docs, new_edits:false) bytes/record: "
           "%.0f  (request body %.2fx of JSON, request+answer %.2fx)\n",
           fds[0].json_bytes / nr, one.req_body / (double)fds[0].json_bytes,
           (one.req_body + one.resp_body) / (double)fds[0].json_bytes);

    job *jobs = calloc(nst, sizeof *jobs);
    pthread_t *th = calloc(nst, sizeof *th);
    if (jobs == NULL || th == NULL)
        die("jobs", "out of memory");
    t = now();
    for (size_t s = 0; s < nst; s++) {
        jobs[s] = (job){&cf, &fds[s + 1], nrec, {0}};
        if (pthread_create(&th[s], NULL, run_job, &jobs[s]) != 0)
            die("threads", "pthread_create");
    }
    stats all = {0};
    size_t nlat = 0;
    for (size_t s = 0; s < nst; s++) {
        pthread_join(th[s], NULL);
        nlat += jobs[s].s.nlat;
    }
    double dt2 = now() - t;
    all.lat = malloc((nlat + 1) * sizeof *all.lat);
    if (all.lat == NULL)
        die("stats", "out of memory");
    for (size_t s = 0; s < nst; s++) {
        stats *js = &jobs[s].s;
        all.records += js->records;
        all.errors += js->errors;
        all.busy += js->busy;
        all.requests += js->requests;
        memcpy(all.lat + all.nlat, js->lat, js->nlat * sizeof *js->lat);
        all.nlat += js->nlat;
        if (js->errors && !all.first_error[0])
            memcpy(all.first_error, js->first_error, sizeof all.first_error);
    }
    qsort(all.lat, all.nlat, sizeof *all.lat, cmp_double);
    if (nst > 0)
        printf("  %zu stations at once, %zu change-sets each: %.0f records/s "
               " %.2fx, errors %llu, 503 busy %llu (retried), batch latency "
               "p50 %.0f ms p99 %.0f ms max %.0f ms (%zu batches)\n",
               nst, mcs, all.records / dt2, all.records / dt2 / base,
               (unsigned long long)all.errors,
               (unsigned long long)all.busy,
               1000 * pct(all.lat, all.nlat, 0.5),
               1000 * pct(all.lat, all.nlat, 0.99),
               1000 * pct(all.lat, all.nlat, 1.0), all.nlat);
    int bad = one.errors || all.errors ||
              one.records != ncs * nrec || all.records != nst * mcs * nrec;
    if (one.errors)
        fprintf(stderr, "bench_hub: error: %s\n", one.first_error);
    if (all.errors)
        fprintf(stderr, "bench_hub: error: %s\n", all.first_error);
    printf("  result: %s (accepted change-sets %llu + %llu)\n",
           bad ? "ERRORS" : "ok", (unsigned long long)one.accepted,
           (unsigned long long)all.records / nrec);
    for (size_t s = 0; s < nst; s++)
        free(jobs[s].s.lat);
    for (size_t s = 0; s <= nst; s++) {
        for (size_t i = 0; i < fds[s].n; i++)
            free(fds[s].f[i].body);
        free(fds[s].f);
    }
    free(fds);
    free(jobs);
    free(th);
    free(one.lat);
    free(all.lat);
    curl_global_cleanup();
    return bad ? 1 : 0;
}
