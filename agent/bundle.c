/* Importing a bundle file at a station (bundle.h; agent/README.md
 * "Bundles"): three passes over the file, each verifying every frame again
 * (so a file changed between passes is caught): check, merge in one
 * transaction with the feed heads, keep new frames in inbox/ before the
 * commit. */
#include "bundle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

static const char pull_sql[] =
    "CREATE TABLE IF NOT EXISTS _sw_pull("
    " feed BLOB PRIMARY KEY NOT NULL," /* the signer's public key */
    " seq INTEGER NOT NULL,"           /* last frame imported */
    " id BLOB NOT NULL) WITHOUT ROWID;";

enum pass { P_CHECK, P_MERGE, P_KEEP };

/* A feed met in the bundle: the head imported before (db_*), the last
 * frame of the bundle seen (seq, id), the head of its inbox log. */
typedef struct feed {
    const uint8_t *key;
    int own;
    uint64_t db_seq;
    uint8_t db_id[SWLOG_HASH_BYTES];
    uint64_t seq;
    uint8_t id[SWLOG_HASH_BYTES];
    uint64_t inbox_seq;
    swlog_log *inbox;
    int inbox_off; /* the inbox does not continue: frames not kept */
} feed;

typedef struct ictx {
    replica *r;
    const char *path, *name;
    const uint8_t *mem; /* bundle_import_mem: the bytes instead of path */
    size_t mem_len;
    const bundle_options *opt;
    bundle_stats *st;
    swlog_error *err;
    feed *feeds;
    size_t nfeeds;
} ictx;

/* err: "<file>: offset N: feed ab12cd34 seq S: <what>" */
static int fail_at(ictx *c, int code, uint64_t off, const feed *fd,
                   uint64_t seq, const char *what)
{
    char hex[2 * SWLOG_PUBKEY_BYTES + 1];
    if (fd == NULL)
        return swlog_fail(c->err, code, off, "%s: offset %" PRIu64 ": %s",
                          c->name, off, what);
    swlog_hex(fd->key, SWLOG_PUBKEY_BYTES, hex);
    return swlog_fail(c->err, code, off,
                      "%s: offset %" PRIu64 ": feed %.8s seq %" PRIu64
                      ": %s",
                      c->name, off, hex, seq, what);
}

int bundle_head(replica *r, const uint8_t key[SWLOG_PUBKEY_BYTES],
                uint64_t *seq, uint8_t id[SWLOG_HASH_BYTES], swlog_error *err)
{
    sqlite3 *db = replica_db(r);
    sqlite3_stmt *st;
    *seq = 0;
    memset(id, 0, SWLOG_HASH_BYTES);
    if (sqlite3_prepare_v2(db, "SELECT seq, id FROM _sw_pull WHERE feed = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return SWLOG_OK; /* no table yet: nothing imported */
    sqlite3_bind_blob(st, 1, key, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW &&
        sqlite3_column_bytes(st, 1) == SWLOG_HASH_BYTES) {
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(id, sqlite3_column_blob(st, 1), SWLOG_HASH_BYTES);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return error_sqlite(err, db, "reading an imported feed head");
    return SWLOG_OK;
}

/* The feed slot of a signer: a trusted key or the station's own, else
 * NULL (refused). */
static feed *find_feed(ictx *c, const uint8_t *signer)
{
    for (size_t i = 0; i < c->nfeeds; i++)
        if (memcmp(c->feeds[i].key, signer, SWLOG_PUBKEY_BYTES) == 0)
            return &c->feeds[i];
    return NULL;
}

/* Last seq of an inbox log (0 when absent or empty). */
static int inbox_head(ictx *c, const char *p, uint64_t *seq)
{
    swlog_log *log = NULL;
    swlog_error e = {0};
    struct stat sb;
    *seq = 0;
    if (stat(p, &sb) != 0)
        return errno == ENOENT ? SWLOG_OK
                               : swlog_fail(c->err, SWLOG_EIO, 0,
                                            "%s: %s", p, strerror(errno));
    int rc = swlog_log_open(p, SWLOG_READ, &log, &e);
    const uint8_t *body;
    size_t len;
    uint64_t off;
    while (rc == SWLOG_OK && (rc = swlog_log_next(log, &body, &len, &off,
                                                  &e)) == 1) {
        swlog_frame f;
        rc = swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &f, &e);
        if (rc == SWLOG_OK)
            *seq = f.seq;
    }
    swlog_log_close(log);
    if (rc < 0)
        return swlog_fail(c->err, rc, e.offset, "inbox log %s: %s", p,
                          e.msg);
    return SWLOG_OK;
}

static int open_inbox(ictx *c, feed *fd)
{
    char hex[2 * SWLOG_PUBKEY_BYTES + 1], p[4096];
    swlog_hex(fd->key, SWLOG_PUBKEY_BYTES, hex);
    if (mkdir(c->opt->inbox, 0700) != 0 && errno != EEXIST)
        return swlog_fail(c->err, SWLOG_EIO, 0, "creating %s: %s",
                          c->opt->inbox, strerror(errno));
    int n = snprintf(p, sizeof p, "%s/%s.log", c->opt->inbox, hex);
    if (n < 0 || (size_t)n >= sizeof p)
        return swlog_fail(c->err, SWLOG_EARG, 0, "inbox path too long");
    int rc = inbox_head(c, p, &fd->inbox_seq);
    swlog_error e = {0};
    if (rc == SWLOG_OK &&
        swlog_log_open(p, SWLOG_APPEND | SWLOG_CREATE, &fd->inbox, &e) !=
            SWLOG_OK)
        rc = swlog_fail(c->err, e.code, e.offset, "inbox log %s: %s", p,
                        e.msg);
    return rc;
}

/* Keep a frame in its feed's inbox log when it continues what the log
 * holds (MERGE: the auditor's copy; README "Bundles"). */
static int keep(ictx *c, feed *fd, const swlog_frame *f)
{
    if (c->opt->inbox == NULL || fd->inbox_off)
        return SWLOG_OK;
    int rc = fd->inbox == NULL ? open_inbox(c, fd) : SWLOG_OK;
    if (rc != SWLOG_OK)
        return rc;
    if (f->seq <= fd->inbox_seq)
        return SWLOG_OK; /* the station's subset: seqs increase, gaps ok */
    swlog_error e = {0};
    const uint8_t *b = f->body;
    size_t len = f->body_len;
    if (swlog_log_append(fd->inbox, &b, &len, 1, &e) != SWLOG_OK)
        return swlog_fail(c->err, e.code, 0, "keeping a frame in %s: %s",
                          c->opt->inbox, e.msg);
    fd->inbox_seq = f->seq;
    return SWLOG_OK;
}

/* Chain checks of one frame against the bundle's previous frame of its
 * feed and the head imported before. Returns 1 when the frame is new. */
/* The hub feed's cursor rule, one for bundles and pulls (agent/README.md
 * "Pull"): a station receives only the hub frames addressed to it or to
 * all, so they need not be consecutive. Frames of a trusted feed come in
 * increasing seq; those at or below the cursor (_sw_pull) are duplicates,
 * the others new; the frame at the cursor must be the one merged there
 * (else a fork); prev is checked when the seq follows the one before. The
 * station's own frames stay consecutive. */
static int chain(ictx *c, feed *fd, const swlog_frame *f, uint64_t off)
{
    if (fd->own && fd->seq != 0 && f->seq != fd->seq + 1)
        return fail_at(c, SWLOG_ESEQ, off, fd, f->seq,
                       "frames of the feed are not consecutive in the "
                       "bundle");
    if (!fd->own && fd->seq != 0 && f->seq <= fd->seq)
        return fail_at(c, SWLOG_ESEQ, off, fd, f->seq,
                       "frames of the feed are not in increasing seq");
    if (fd->seq != 0 && f->seq == fd->seq + 1 &&
        memcmp(f->prev, fd->id, SWLOG_HASH_BYTES) != 0)
        return fail_at(c, SWLOG_ECHAIN, off, fd, f->seq,
                       "prev is not the id of the bundle's previous frame");
    if (!fd->own && fd->db_seq > 0 && f->seq == fd->db_seq &&
        memcmp(f->id, fd->db_id, SWLOG_HASH_BYTES) != 0)
        return fail_at(c, SWLOG_EFORK, off, fd, f->seq,
                       "another frame than the one imported before under "
                       "this seq (a fork: keep the file as evidence)");
    if (!fd->own && fd->db_seq > 0 && f->seq == fd->db_seq + 1 &&
        memcmp(f->prev, fd->db_id, SWLOG_HASH_BYTES) != 0)
        return fail_at(c, SWLOG_EFORK, off, fd, f->seq,
                       "does not continue the frame imported before (a "
                       "fork: keep the file as evidence)");
    fd->seq = f->seq;
    memcpy(fd->id, f->id, SWLOG_HASH_BYTES);
    return !fd->own && f->seq > fd->db_seq;
}

static int one_frame(ictx *c, enum pass pass, const uint8_t *body,
                     size_t len, uint64_t off)
{
    swlog_frame f;
    swlog_error e = {0};
    if (swlog_frame_decode(body, len, 0, &f, &e) != SWLOG_OK) {
        char what[200];
        snprintf(what, sizeof what, "%.150s (%s)", e.msg,
                 swlog_code_name(e.code));
        /* FORMAT §3.3 item 6: body offsets from the file's start. */
        return fail_at(c, e.code, off + SWLOG_ENVELOPE_HEAD_BYTES + e.offset,
                       NULL, 0, what);
    }
    feed *fd = find_feed(c, f.signer);
    if (fd == NULL) {
        feed tmp = {.key = f.signer};
        return fail_at(c, SWLOG_ESIG, off, &tmp, f.seq,
                       "signer is not trusted (not the hub_key of "
                       "station.conf): bundle refused");
    }
    int fresh = chain(c, fd, &f, off);
    if (fresh < 0)
        return fresh;
    if (pass == P_CHECK && c->st != NULL) {
        c->st->frames++;
        if (fd->own)
            c->st->own++;
        else if (fresh)
            c->st->imported++;
        else
            c->st->duplicates++;
    }
    if (!fresh)
        return SWLOG_OK;
    if (pass == P_KEEP)
        return keep(c, fd, &f);
    if (pass == P_MERGE && f.type == SWLOG_TYPE_CHANGESET) {
        int rc = merge_changeset(c->r, &f, c->st != NULL ? &c->st->merge
                                                          : NULL,
                                 &e);
        if (rc != SWLOG_OK) {
            char what[200];
            snprintf(what, sizeof what, "merge refused: %.150s", e.msg);
            return fail_at(c, rc, off, fd, f.seq, what);
        }
        if (c->st != NULL)
            c->st->changesets++;
    }
    return SWLOG_OK;
}

/* Start a pass: forget the bundle's frames seen; read the heads imported
 * before, except in P_KEEP, which runs after P_MERGE moved them. */
static int reset_feeds(ictx *c, enum pass pass)
{
    for (size_t i = 0; i < c->nfeeds; i++) {
        feed *fd = &c->feeds[i];
        fd->seq = 0;
        memset(fd->id, 0, sizeof fd->id);
        if (fd->own || pass == P_KEEP)
            continue;
        int rc = bundle_head(c->r, fd->key, &fd->db_seq, fd->db_id, c->err);
        if (rc != SWLOG_OK)
            return rc;
    }
    return SWLOG_OK;
}

static int scan(ictx *c, enum pass pass)
{
    int rc = reset_feeds(c, pass);
    if (rc != SWLOG_OK)
        return rc;
    swlog_log *log = NULL;
    swlog_error e = {0};
    if ((c->mem != NULL ? swlog_log_open_mem(c->mem, c->mem_len, &log, &e)
                        : swlog_log_open(c->path, SWLOG_READ, &log, &e)) !=
        SWLOG_OK)
        return swlog_fail(c->err, e.code, e.offset,
                          "%s: offset %" PRIu64 ": %s (not a bundle)",
                          c->name, e.offset, e.msg);
    const uint8_t *body;
    size_t len;
    uint64_t off, n = 0;
    while ((rc = swlog_log_next(log, &body, &len, &off, &e)) == 1) {
        if (++n > BUNDLE_MAX_FRAMES) {
            rc = fail_at(c, SWLOG_EBOUNDS, off, NULL, 0,
                         "more frames than a bundle may hold (100000)");
            break;
        }
        rc = one_frame(c, pass, body, len, off);
        if (rc != SWLOG_OK)
            break;
    }
    if (rc < 0 && c->err != NULL && c->err->code == SWLOG_OK)
        fail_at(c, rc, e.offset, NULL, 0, e.msg);
    else if (rc == 0 && swlog_log_torn(log) > 0)
        rc = fail_at(c, SWLOG_ESHORT, swlog_log_end(log), NULL, 0,
                     "the file ends inside a frame (torn or cut short): "
                     "copy the bundle again");
    swlog_log_close(log);
    return rc;
}

static int import(replica *r, const char *path, const uint8_t *mem,
                  size_t mem_len, const bundle_options *opt,
                  bundle_stats *st, swlog_error *err);

int bundle_import(replica *r, const char *path, const bundle_options *opt,
                  bundle_stats *st, swlog_error *err)
{
    return import(r, path, NULL, 0, opt, st, err);
}

int bundle_import_mem(replica *r, const char *name, const uint8_t *buf,
                      size_t len, const bundle_options *opt,
                      bundle_stats *st, swlog_error *err)
{
    if (buf == NULL)
        return swlog_fail(err, SWLOG_EARG, 0, "bundle_import_mem: no bytes");
    return import(r, name, buf, len, opt, st, err);
}

static int import(replica *r, const char *path, const uint8_t *mem,
                  size_t mem_len, const bundle_options *opt,
                  bundle_stats *st, swlog_error *err)
{
    if (r == NULL || path == NULL || opt == NULL ||
        (opt->ntrusted > 0 && opt->trusted == NULL) || opt->ntrusted > 16)
        return swlog_fail(err, SWLOG_EARG, 0, "bundle_import: bad arguments");
    feed feeds[17];
    memset(feeds, 0, sizeof feeds);
    ictx c = {.r = r, .path = path, .mem = mem, .mem_len = mem_len,
              .opt = opt, .err = err, .feeds = feeds};
    const char *slash = strrchr(path, '/');
    c.name = slash != NULL ? slash + 1 : path;
    for (size_t i = 0; i < opt->ntrusted; i++)
        feeds[c.nfeeds++].key = opt->trusted + i * SWLOG_PUBKEY_BYTES;
    if (opt->self != NULL) {
        feeds[c.nfeeds].key = opt->self;
        feeds[c.nfeeds++].own = 1;
    }
    bundle_stats local = {0};
    c.st = &local;
    sqlite3 *db = replica_db(r);
    int rc = scan(&c, P_CHECK);
    if (rc == SWLOG_OK)
        rc = replica_begin(r, err);
    if (rc != SWLOG_OK)
        return rc;
    if (sqlite3_exec(db, pull_sql, NULL, NULL, NULL) != SQLITE_OK)
        rc = error_sqlite(err, db, "creating _sw_pull");
    if (rc == SWLOG_OK)
        rc = scan(&c, P_MERGE);
    /* The new heads, in the transaction of the merges. */
    sqlite3_stmt *put = NULL;
    if (rc == SWLOG_OK &&
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO _sw_pull(feed, seq, "
                               "id) VALUES(?1, ?2, ?3)",
                           -1, &put, NULL) != SQLITE_OK)
        rc = error_sqlite(err, db, "writing a feed head");
    for (size_t i = 0; rc == SWLOG_OK && i < c.nfeeds; i++) {
        feed *fd = &feeds[i];
        if (fd->own || fd->seq <= fd->db_seq)
            continue;
        sqlite3_bind_blob(put, 1, fd->key, SWLOG_PUBKEY_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(put, 2, (sqlite3_int64)fd->seq);
        sqlite3_bind_blob(put, 3, fd->id, SWLOG_HASH_BYTES, SQLITE_STATIC);
        if (sqlite3_step(put) != SQLITE_DONE)
            rc = error_sqlite(err, db, "writing a feed head");
        sqlite3_reset(put);
    }
    sqlite3_finalize(put);
    /* Inbox before the commit: a crash in between leaves the inbox ahead,
     * and importing again merges and skips what the inbox already holds. */
    if (rc == SWLOG_OK && opt->inbox != NULL)
        rc = scan(&c, P_KEEP);
    for (size_t i = 0; i < c.nfeeds; i++)
        swlog_log_close(feeds[i].inbox);
    if (rc == SWLOG_OK)
        rc = replica_commit(r, err);
    else
        replica_rollback(r);
    if (rc == SWLOG_OK && st != NULL)
        *st = local;
    return rc;
}
