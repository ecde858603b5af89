/* swsync-audit: the auditor's tool. From the root public key and any mix
 * of logs, bundles and hub data folders it checks, offline and streaming,
 * everything spec/SECURITY.md §8 lists, and reports in words, JSON or
 * HTML; `trace ROWID` shows one row's signed history. */
#define _DEFAULT_SOURCE /* DT_* in readdir */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "audit_forks.h"
#include "audit_hub.h"
#include "audit_keys.h"
#include "audit_receipts.h"
#include "audit_report.h"
#include "audit_trace.h"
#include "feedmap.h"
#include "fmt.h"
#include "peek.h"
#include "verify_loop.h"

static const char usage[] =
    "usage: swsync-audit --root PUBHEX [options] PATH...\n"
    "       swsync-audit trace ROWID --root PUBHEX [--values] [--json] "
    "PATH...\n"
    "\n"
    "Checks, offline and in one streaming pass over the frames (after a\n"
    "quick pass that gathers key frames), every log file, bundle, station\n"
    "replica and hub data folder given (folders are searched for swsync\n"
    "log files and SQLite files):\n"
    "  - every frame's bytes, payload hash and Ed25519 signature;\n"
    "  - every feed's numbering and chain, and forks between files and\n"
    "    inside one, with both frames (the same frames again, as in a\n"
    "    replayed bundle, are not a problem);\n"
    "  - that each signing key was entitled to sign each frame when it did:\n"
    "    certificate chain to the root key given, issuer roles, validity\n"
    "    window, revocations, rotations (spec/SECURITY.md §5);\n"
    "  - hub checkpoints: signed by a certified hub key, sizes that never\n"
    "    shrink, and, for a hub ledger given with --ledger, every\n"
    "    checkpoint's Merkle root recomputed from the ledger (so every\n"
    "    receipted frame is in the hub's history, and successive checkpoints\n"
    "    are consistent);\n"
    "  - receipts a station stored (its replica, read-only): each hub\n"
    "    checkpoint's signature by a certified hub key, each frame's\n"
    "    inclusion proof, and the checkpoint against the hub's others (a\n"
    "    hub that later dropped a receipted frame, or signed another\n"
    "    checkpoint with the same number, is reported);\n"
    "  - unit codes: certificates outside their issuer's unit, and a\n"
    "    station's display numbers (case_no, proof_no) outside its own\n"
    "    (named by table, column and row, never by value).\n"
    "\n"
    "  --root PUBHEX   the province's root public key (64 hex digits)\n"
    "  --ledger [HUBHEX:]FILE\n"
    "                  FILE is a hub's ledger: its frames, in order, are the\n"
    "                  hub's Merkle leaves (FORMAT §9.1, PROTOCOL §4.8), its\n"
    "                  own checkpoints among them not counted; also checked\n"
    "                  as an input. The hub is HUBHEX, else the signer of\n"
    "                  the file's last checkpoint. Repeatable.\n"
    "  --json          JSON lines: {\"type\":\"finding\",...} then one\n"
    "                  {\"type\":\"summary\",...}\n"
    "  --html FILE     also write a self-contained HTML report to FILE\n"
    "  --stats         add elapsed time and peak memory to the summary\n"
    "  --values        (trace) show column values; they may be personal\n"
    "                  data: only where the reader may see them\n"
    "  --help          this text\n"
    "\n"
    "Each problem is described in words with its file, offset, feed and\n"
    "sequence numbers, and the key frame or other frame that is evidence.\n"
    "\n"
    "Exit status:\n"
    "  0  clean: every check passed (torn tails are notes, not problems)\n"
    "  1  problems found (listed)\n"
    "  2  an input could not be read (and nothing else was wrong)\n"
    "  3  usage error\n"
    "\n"
    "Places are file offsets; in a station replica, row ids.\n"
    "\n"
    "Memory: per feed, per copy of a feed and per key frame, never per\n"
    "frame or record: forks between copies are found by comparing frames\n"
    "where the copies end (spec/SECURITY.md §8.1).\n";

typedef struct fstate {
    uint32_t file;  /* file of the last frame of this feed, + 1 */
    uint8_t last_bad, was_bad;
    int32_t prob, trust; /* finding indexes + 1; 0 none */
    int32_t unit;        /* the unit-code finding of this feed here */
} fstate;

typedef struct audit {
    const char **files;
    uint32_t nfiles;
    uint8_t *is_ledger;
    uint8_t *is_db; /* an SQLite file: a station replica (receipts) or a
                     * hub's database (nothing read) */
    uint8_t (*ledger_hub)[SWLOG_PUBKEY_BYTES]; /* per file: the ledger's
                                                * hub, given or from pass 1 */
    uint32_t cur;
    audit_keys *ks;
    audit_report rep;
    feedmap *feeds;
    audit_forks *forks;
    audit_ledger ledger;
    int in_ledger;
    audit_trace *trace;
    swlog_reader rd; /* for the unit-code check of records */
    int failed; /* out of memory */
} audit;


/* Index of path in the list, added if new (a folder and a --ledger may
 * name the same file; it is read once). UINT32_MAX when out of memory. */
static uint32_t push_file(audit *a, const char *path)
{
    for (uint32_t i = 0; i < a->nfiles; i++)
        if (strcmp(a->files[i], path) == 0)
            return i;
    const char **f = realloc(a->files, (a->nfiles + 1) * sizeof *f);
    uint8_t *l = realloc(a->is_ledger, a->nfiles + 1);
    uint8_t *db = realloc(a->is_db, a->nfiles + 1);
    if (db != NULL)
        a->is_db = db;
    uint8_t(*h)[SWLOG_PUBKEY_BYTES] =
        realloc(a->ledger_hub, (a->nfiles + 1) * sizeof *h);
    if (f != NULL)
        a->files = f;
    if (l != NULL)
        a->is_ledger = l;
    if (h != NULL)
        a->ledger_hub = h;
    char *copy = strdup(path);
    if (f == NULL || l == NULL || h == NULL || db == NULL || copy == NULL) {
        free(copy);
        a->failed = 1;
        return UINT32_MAX;
    }
    a->files[a->nfiles] = copy;
    a->is_ledger[a->nfiles] = 0;
    a->is_db[a->nfiles] = 0;
    memset(a->ledger_hub[a->nfiles], 0, SWLOG_PUBKEY_BYTES);
    return a->nfiles++;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* A regular file that starts with the log magic (FORMAT §3.1). */
static int looks_like_log(const char *path)
{
    static const uint8_t magic[8] = {0x89, 'S', 'W', 'L', 'O', 'G', '\r',
                                     '\n'};
    uint8_t b[8];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(b, 1, 8, f);
    fclose(f);
    return n == 8 && memcmp(b, magic, 8) == 0;
}

/* Folders: every log file below, in name order; symbolic links inside
 * folders are not followed (an archive must not lead the audit away). */
/* ledger: 0 no, 1 a ledger whose hub signed its last checkpoint, 2 a
 * ledger of hub (given). */
static void add_files(audit *a, const char *path, int top, int ledger,
                      const uint8_t *hub)
{
    struct stat st;
    if ((top ? stat(path, &st) : lstat(path, &st)) != 0) {
        if (top)
            (void)push_file(a, path); /* reported as unreadable */
        return;
    }
    if (S_ISREG(st.st_mode)) {
        if (!ledger && audit_receipts_is_db(path)) {
            uint32_t k = push_file(a, path);
            if (k != UINT32_MAX)
                a->is_db[k] = 1;
            return;
        }
        if (top || looks_like_log(path)) {
            uint32_t k = push_file(a, path);
            if (k != UINT32_MAX && ledger) {
                a->is_ledger[k] = (uint8_t)ledger;
                if (hub != NULL)
                    memcpy(a->ledger_hub[k], hub, SWLOG_PUBKEY_BYTES);
            }
        }
        return;
    }
    if (!S_ISDIR(st.st_mode))
        return;
    DIR *d = opendir(path);
    if (d == NULL) {
        (void)push_file(a, path);
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        size_t len = strlen(path) + strlen(de->d_name) + 2;
        char *full = malloc(len);
        if (nn == NULL || full == NULL) {
            free(full);
            if (nn != NULL)
                names = nn;
            a->failed = 1;
            break;
        }
        names = nn;
        snprintf(full, len, "%s/%s", path, de->d_name);
        names[n++] = full;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        add_files(a, names[i], 0, 0, NULL);
        free(names[i]);
    }
    free(names);
}

/* ---- pass 1: key frames ------------------------------------------------ */

static int key_type(uint8_t t)
{
    return t == SWLOG_TYPE_CERT || t == SWLOG_TYPE_ROTATION ||
           t == SWLOG_TYPE_REVOCATION || t == SWLOG_TYPE_CHECKPOINT;
}

/* The type is byte 0 of every body (FORMAT §4.1): other frames are
 * skipped without decoding. Bad frames are left to the frame pass. */
static int receipt_cp(void *ctx, const audit_rcpt_cp *cp);

static void key_pass(audit *a)
{
    for (uint32_t i = 0; i < a->nfiles && !a->failed; i++) {
        if (a->is_db[i]) {
            /* Checkpoints stored with receipts join the hub's others
             * (SECURITY §8.9); unreadable databases are reported by the
             * receipt pass. */
            a->cur = i;
            (void)audit_receipts_checkpoints(a->files[i], receipt_cp, a,
                                             NULL);
            continue;
        }
        swlog_log *log = NULL;
        if (swlog_log_open(a->files[i], SWLOG_READ, &log, NULL) != SWLOG_OK)
            continue;
        const uint8_t *body;
        size_t len;
        uint64_t off;
        while (swlog_log_next(log, &body, &len, &off, NULL) == 1) {
            peek_header h;
            if (peek_frame(body, len, &h) &&
                audit_forks_scan(a->forks, i, &h, off) != SWLOG_OK) {
                a->failed = 1;
                break;
            }
            if (len < 1 || !key_type(body[0]))
                continue;
            swlog_frame f;
            if (swlog_frame_decode(body, len, 0, &f, NULL) != SWLOG_OK)
                continue;
            audit_place at = {i, off};
            if (f.type == SWLOG_TYPE_CHECKPOINT && a->is_ledger[i] != 2)
                memcpy(a->ledger_hub[i], f.signer, SWLOG_PUBKEY_BYTES);
            if (audit_keys_add(a->ks, &f, at) != SWLOG_OK)
                a->failed = 1;
        }
        swlog_log_close(log);
    }
}

/* ---- pass 2: frames ---------------------------------------------------- */

static fstate *feed_state(audit *a, const uint8_t *feed)
{
    fstate *s = feedmap_put(a->feeds, feed, NULL);
    if (s == NULL) {
        a->failed = 1;
        return NULL;
    }
    if (s->file != a->cur + 1) {
        s->file = a->cur + 1;
        s->last_bad = s->was_bad = 0;
        s->prob = 0;
        s->unit = 0;
    }
    return s;
}

static void extend(audit_finding *f, uint64_t seq)
{
    if (seq < f->seq_lo)
        f->seq_lo = seq;
    if (seq > f->seq_hi)
        f->seq_hi = seq;
    f->frames++;
}

_Static_assert(AUDIT_K_NOT_HUB - AUDIT_K_NO_CERT ==
                   AUDIT_TRUST_NOT_HUB - AUDIT_TRUST_NO_CERT,
               "trust verdicts and finding kinds in the same order");

static int trust_kind(int trust)
{
    return AUDIT_K_NO_CERT - 1 + trust; /* same order, see the enums */
}

/* ---- unit codes (SECURITY §1.1 convention, SCHEMA §2 item 4) ---------- */

static void unit_finding(audit *a, const verify_frame *vf, fstate *s,
                         const char *msg)
{
    const swlog_frame *f = vf->frame;
    if (s != NULL && s->unit != 0) {
        extend(&a->rep.f[s->unit - 1], f->seq);
        return;
    }
    audit_finding g;
    memset(&g, 0, sizeof g);
    g.kind = AUDIT_K_UNIT_CODE;
    g.file = a->cur;
    g.offset = vf->offset;
    g.has_feed = 1;
    memcpy(g.feed, f->signer, SWLOG_PUBKEY_BYTES);
    g.seq_lo = g.seq_hi = f->seq;
    g.frames = 1;
    snprintf(g.msg, sizeof g.msg, "%s", msg);
    if (audit_report_add(&a->rep, &g) != NULL && s != NULL)
        s->unit = (int32_t)a->rep.n;
}

/* A display number (SCHEMA §2 item 4) is "<unit_code>-...". */
static int is_display(const swlog_column *c)
{
    return (c->name_len == 7 && memcmp(c->name, "case_no", 7) == 0) ||
           (c->name_len == 8 && memcmp(c->name, "proof_no", 8) == 0);
}

/* A trusted frame whose signer's certificate names unit: a certificate it
 * issues must give a unit code that starts with unit; a station's records
 * must carry display numbers that start with "unit-". Values are never
 * quoted: they are personal data (table, column and row id are named). */
static void unit_check(audit *a, const verify_frame *vf, fstate *s,
                       const audit_verdict *v)
{
    const swlog_frame *f = vf->frame;
    size_t ul = strlen(v->unit);
    char msg[320];
    if (ul == 0)
        return;
    if (f->type == SWLOG_TYPE_CERT) {
        /* Only certificates the role rules allow: the others are void and
         * reported as wrong_issuer at their subject's frames. */
        uint8_t r = f->u.cert.role;
        int allowed = (v->role == SWLOG_ROLE_ROOT &&
                       (r == SWLOG_ROLE_PROVINCE || r == SWLOG_ROLE_COUNTY)) ||
                      (v->role == SWLOG_ROLE_COUNTY && r == SWLOG_ROLE_STATION);
        if (allowed && strncmp(f->u.cert.unit, v->unit, ul) != 0) {
            snprintf(msg, sizeof msg,
                     "this certificate gives its subject unit code %s, which "
                     "does not start with the issuer's unit code %s "
                     "(SECURITY §1.1)",
                     f->u.cert.unit, v->unit);
            unit_finding(a, vf, s, msg);
        }
        return;
    }
    if (f->type != SWLOG_TYPE_CHANGESET || v->role != SWLOG_ROLE_STATION)
        return;
    swlog_record rec;
    swlog_column col;
    if (swlog_reader_init(&a->rd, f, NULL) != SWLOG_OK)
        return;
    while (swlog_reader_next(&a->rd, &rec, NULL) == 1) {
        if (rec.kind != SWLOG_UPSERT)
            continue;
        while (swlog_reader_value(&a->rd, &col, NULL) == 1) {
            if (!is_display(&col))
                continue;
            const swlog_value *x = &col.value;
            if (x->type == SWLOG_TEXT && x->len > ul &&
                memcmp(x->p, v->unit, ul) == 0 && x->p[ul] == '-')
                continue;
            char row[37];
            swlog_uuid_format(rec.row_id, row);
            snprintf(msg, sizeof msg,
                     "a record of table %.*s (row %s) has a %.*s that does "
                     "not start with %s-, the unit code in this station's "
                     "certificate (SCHEMA §2 item 4; the value is not shown)",
                     (int)rec.table_len, (const char *)rec.table, row,
                     (int)col.name_len, (const char *)col.name, v->unit);
            unit_finding(a, vf, s, msg);
            return; /* one per frame; the finding's seq range grows */
        }
    }
}

static void judge(audit *a, const verify_frame *vf, fstate *s)
{
    const swlog_frame *f = vf->frame;
    audit_verdict v;
    /* §5 step 5: the seen time, from a ledger of another key. */
    uint64_t seen = a->in_ledger && memcmp(a->ledger.hub, f->signer,
                                           SWLOG_PUBKEY_BYTES) != 0
                        ? a->ledger.seen_hlc
                        : 0;
    audit_keys_check(a->ks, f->signer, f->seq, f->hlc, seen, &v);
    if (v.trust == AUDIT_TRUST_OK && f->type == SWLOG_TYPE_CHECKPOINT &&
        v.role != SWLOG_ROLE_PROVINCE && v.role != SWLOG_ROLE_COUNTY) {
        v.trust = AUDIT_TRUST_NOT_HUB;
        snprintf(v.why, sizeof v.why,
                 "a checkpoint signed by a %s key; only hub keys sign "
                 "checkpoints (SECURITY §1.1)",
                 v.role == SWLOG_ROLE_ROOT ? "root" : "station");
    }
    if (a->trace != NULL && f->type == SWLOG_TYPE_CHANGESET) {
        audit_place at = {a->cur, vf->offset};
        if (audit_trace_frame(a->trace, f, at, v.trust) == SWLOG_ENOMEM)
            a->failed = 1;
    }
    if (v.trust == AUDIT_TRUST_OK) {
        a->rep.s.trusted_frames++;
        unit_check(a, vf, s, &v);
        return;
    }
    int kind = trust_kind(v.trust);
    if (s != NULL && s->trust != 0) {
        audit_finding *g = &a->rep.f[s->trust - 1];
        if (g->kind == kind && g->has_ref == v.has_ref &&
            (!v.has_ref || (g->ref_file == v.ref.file &&
                            g->ref_offset == v.ref.offset))) {
            extend(g, f->seq);
            return;
        }
    }
    audit_finding g;
    memset(&g, 0, sizeof g);
    g.kind = kind;
    g.file = a->cur;
    g.offset = vf->offset;
    g.has_feed = 1;
    memcpy(g.feed, f->signer, SWLOG_PUBKEY_BYTES);
    g.seq_lo = g.seq_hi = f->seq;
    g.frames = 1;
    if (v.has_ref) {
        g.has_ref = 1;
        g.ref_label = "key frame responsible";
        g.ref_file = v.ref.file;
        g.ref_offset = v.ref.offset;
        g.has_ref_feed = 1;
        memcpy(g.ref_feed, v.ref_signer, SWLOG_PUBKEY_BYTES);
        g.ref_seq = v.ref_seq;
    }
    snprintf(g.msg, sizeof g.msg, "not authorised: %s", v.why);
    if (audit_report_add(&a->rep, &g) != NULL && s != NULL)
        s->trust = (int32_t)a->rep.n;
}

static int on_frame(void *ctx, const verify_frame *vf)
{
    audit *a = ctx;
    if (vf->dup)
        a->rep.s.copies++;
    else
        a->rep.s.frames++;
    /* PROTOCOL §4.8: the hub's own checkpoints are not leaves. */
    if (a->in_ledger && vf->has_header && vf->peek.has_id &&
        !(vf->peek.type == SWLOG_TYPE_CHECKPOINT &&
          memcmp(vf->peek.signer, a->ledger.hub, SWLOG_PUBKEY_BYTES) == 0))
        audit_ledger_leaf(&a->ledger, vf->peek.id);
    if (vf->code != SWLOG_OK && vf->has_header)
        audit_forks_bad(a->forks, vf->peek.signer, vf->peek.seq, a->cur,
                        vf->offset);
    fstate *s = NULL;
    if (vf->has_header && (s = feed_state(a, vf->peek.signer)) != NULL) {
        s->was_bad = s->last_bad;
        s->last_bad = vf->code != SWLOG_OK;
    }
    if (vf->frame == NULL || vf->dup)
        return 0;
    int c = vf->code;
    if (c != SWLOG_OK && c != SWLOG_ESEQ && c != SWLOG_ECHAIN &&
        c != SWLOG_EFORK)
        return 0; /* not a valid frame: reported as such, not judged */
    if (c == SWLOG_OK && vf->frame->type == SWLOG_TYPE_CHANGESET) {
        a->rep.s.changesets++;
        a->rep.s.records += vf->frame->u.changeset.record_count;
    }
    judge(a, vf, s);
    return 0;
}

static int problem_kind(const verify_problem *p)
{
    if (p->severity == VERIFY_WARNING)
        return AUDIT_K_TORN;
    switch (p->code) {
    case SWLOG_EIO:
    case SWLOG_ENOMEM: return AUDIT_K_UNREADABLE;
    case SWLOG_EFORK: return AUDIT_K_FORK;
    case SWLOG_ESEQ:
        return strncmp(p->msg, "fork:", 5) == 0 ? AUDIT_K_FORK
                                                : AUDIT_K_ORDER;
    case SWLOG_ECHAIN: return AUDIT_K_ORDER;
    default: return p->has_feed ? AUDIT_K_ALTERED : AUDIT_K_DAMAGED;
    }
}

static const char *plain(int kind, int code)
{
    switch (kind) {
    case AUDIT_K_ALTERED:
        if (code == SWLOG_EHASH)
            return "the records of this frame were changed after it was "
                   "signed";
        if (code == SWLOG_ESIG)
            return "the signature does not match the frame: it was "
                   "changed, or signed by another key";
        return "the frame is malformed";
    case AUDIT_K_ORDER:
        return "frames of this feed are missing, out of order or do not "
               "link to the one before";
    case AUDIT_K_FORK:
        return "the key signed two different frames with the same number";
    case AUDIT_K_DAMAGED: return "the file is damaged or not a log";
    case AUDIT_K_UNREADABLE: return "the file could not be read";
    default: return "an interrupted write left a partial frame at the end";
    }
}

static int on_problem(void *ctx, const verify_problem *p)
{
    audit *a = ctx;
    /* PROTOCOL §4.8: a ledger holds the change-sets a hub authored in its
     * own feed but not its checkpoints, so that feed skips seqs there; the
     * hub's feed file itself is audited as a chain. */
    if (a->in_ledger && p->has_feed &&
        (p->code == SWLOG_ESEQ || p->code == SWLOG_ECHAIN) &&
        memcmp(p->feed, a->ledger.hub, SWLOG_PUBKEY_BYTES) == 0)
        return 0;
    int kind = problem_kind(p);
    fstate *s = p->has_feed ? feed_state(a, p->feed) : NULL;
    /* Consecutive problem frames of one feed in one file are one finding,
     * named by the first: a swap or a removed frame breaks the order at
     * two or three places, an altered frame breaks the next one's link. */
    if (s != NULL && s->was_bad && s->prob != 0) {
        audit_finding *g = &a->rep.f[s->prob - 1];
        if (g->kind == kind) /* a consequence of another kind is folded */
            extend(g, p->seq);
        return 0;
    }
    audit_finding g;
    memset(&g, 0, sizeof g);
    g.kind = kind;
    g.code = p->code;
    g.warning = p->severity == VERIFY_WARNING;
    g.file = a->cur;
    g.offset = p->offset;
    if (p->has_feed) {
        g.has_feed = 1;
        memcpy(g.feed, p->feed, SWLOG_PUBKEY_BYTES);
        g.seq_lo = g.seq_hi = p->seq;
        g.frames = 1;
    }
    if (p->has_other && p->other_file != UINT32_MAX) {
        g.has_ref = 1;
        g.ref_label = "the other frame";
        g.ref_file = p->other_file;
        g.ref_offset = p->other_offset;
        g.has_ref_feed = 1;
        memcpy(g.ref_feed, p->feed, SWLOG_PUBKEY_BYTES);
        g.ref_seq = p->seq;
    }
    snprintf(g.msg, sizeof g.msg, "%s (%s)", plain(kind, p->code), p->msg);
    if (kind == AUDIT_K_UNREADABLE)
        a->rep.s.unreadable++;
    if (audit_report_add(&a->rep, &g) != NULL && s != NULL)
        s->prob = (int32_t)a->rep.n;
    return 0;
}

static int frame_check(void *ctx, const swlog_frame *f, uint64_t offset)
{
    audit *a = ctx;
    return audit_forks_frame(a->forks, f, a->cur, offset);
}

/* Ledgers first: a frame is judged where it is first read, and in a
 * ledger that reading knows when a hub first checkpointed it. */
static uint32_t frame_order(const audit *a, uint32_t k)
{
    return k % a->nfiles;
}

static int in_order(const audit *a, uint32_t k)
{
    return (k < a->nfiles) == (a->is_ledger[k % a->nfiles] != 0) &&
           !a->is_db[k % a->nfiles];
}

/* The frame pass order (ledgers first) as a rank per file, for the fork
 * segments: a frame is a copy when a segment read before it holds it. */
static int seal_forks(audit *a)
{
    uint32_t *rank = calloc(a->nfiles + 1, sizeof *rank);
    if (rank == NULL)
        return SWLOG_ENOMEM;
    uint32_t r = 0;
    for (uint32_t k = 0; k < 2 * a->nfiles; k++)
        if (in_order(a, k))
            rank[frame_order(a, k)] = r++;
    int rc = audit_forks_seal(a->forks, rank, a->nfiles);
    free(rank);
    return rc;
}

static void frame_pass(audit *a)
{
    verify_loop_cb cb = {a, NULL, on_frame, on_problem};
    for (uint32_t k = 0; k < 2 * a->nfiles && !a->failed; k++) {
        if (!in_order(a, k))
            continue;
        uint32_t i = frame_order(a, k);
        verify_loop_opts o = {0, 0, NULL, 0, i, frame_check, a};
        verify_stats st;
        a->cur = i;
        a->in_ledger = 0;
        if (a->is_ledger[i]) {
            if (audit_ledger_begin(&a->ledger, a->ks, a->ledger_hub[i]) !=
                SWLOG_OK) {
                a->failed = 1;
                break;
            }
            a->in_ledger = 1;
            a->rep.s.ledgers++;
        }
        verify_loop_file(a->files[i], &o, &cb, &st);
        a->rep.s.bytes += st.bytes;
        if (a->in_ledger)
            audit_ledger_end(&a->ledger);
        a->in_ledger = 0;
    }
}

/* ---- forks between copies (SECURITY §8.1, §8.2) ----------------------- */

/* At most this many forks are located at their first seq by reading their
 * two copies again; the others are reported at the seq where they showed. */
#define LOCATE_MAX 100

static void fork_findings(audit *a)
{
    size_t n;
    uint64_t more;
    audit_fork *fk = audit_forks_list(a->forks, &n, &more);
    for (size_t k = 0; k < n; k++) {
        int located = k < LOCATE_MAX &&
                      audit_forks_locate(a->forks, k, a->files) == SWLOG_OK;
        audit_fork *f = &fk[k];
        audit_finding g;
        memset(&g, 0, sizeof g);
        g.kind = AUDIT_K_FORK;
        g.code = SWLOG_EFORK;
        g.file = f->file_b;
        g.offset = f->off_b;
        g.has_feed = 1;
        memcpy(g.feed, f->feed, SWLOG_PUBKEY_BYTES);
        g.seq_lo = f->seq_lo;
        g.seq_hi = f->seq_hi;
        g.frames = f->seq_hi - f->seq_lo + 1;
        g.has_ref = 1;
        g.ref_label = "the other frame";
        g.ref_file = f->file_a;
        g.ref_offset = f->off_a;
        g.has_ref_feed = 1;
        memcpy(g.ref_feed, f->feed, SWLOG_PUBKEY_BYTES);
        g.ref_seq = f->seq_lo;
        char ia[17], ib[17];
        swlog_hex(f->id_b, 8, ib);
        swlog_hex(f->id_a, 8, ia);
        snprintf(g.msg, sizeof g.msg,
                 "the key signed two different frames with the same number "
                 "(frame %s… here, frame %s… in the other file%s)",
                 ib, ia,
                 located ? "; the two copies agree before this seq and "
                           "differ up to the last seq both hold"
                         : "; not located further: the copies differ at "
                           "this seq or before");
        audit_report_add(&a->rep, &g);
    }
    if (more > 0) {
        audit_finding g;
        memset(&g, 0, sizeof g);
        g.kind = AUDIT_K_FORK;
        g.code = SWLOG_EFORK;
        g.file = UINT32_MAX;
        snprintf(g.msg, sizeof g.msg,
                 "%" PRIu64 " more forks between copies of feeds were found "
                 "and not described (at most %u are)",
                 more, (unsigned)AUDIT_FORKS_MAX);
        audit_report_add(&a->rep, &g);
    }
}

/* ---- receipts stored by stations (SECURITY §8.9) ----------------------- */

static int receipt_cp(void *ctx, const audit_rcpt_cp *cp)
{
    audit *a = ctx;
    audit_place at = {a->cur, (uint64_t)cp->row};
    if (cp->code == SWLOG_OK &&
        audit_keys_add_receipt(a->ks, cp->frame, at) != SWLOG_OK) {
        a->failed = 1;
        return 1;
    }
    return 0;
}

typedef struct rstate {
    audit *a;
    int cp_bad;        /* the current checkpoint's signer is no hub */
    char cp_why[260];
    int64_t cp_row;
    int32_t last;      /* the last receipt finding, index + 1 */
    uint8_t last_feed[SWLOG_PUBKEY_BYTES];
    int64_t last_cp;
    int last_code;
} rstate;

static int on_receipt(void *ctx, const audit_rcpt *r, int first)
{
    rstate *rs = ctx;
    audit *a = rs->a;
    a->rep.s.receipts++;
    if (first && r->cp != NULL && r->cp->code == SWLOG_OK) {
        /* FORMAT §7.5: a checkpoint counts only from a certified hub key. */
        const swlog_frame *f = r->cp->frame;
        audit_verdict v;
        audit_keys_check(a->ks, f->signer, f->seq, f->hlc, 0, &v);
        rs->cp_bad = v.trust != AUDIT_TRUST_OK ||
                     (v.role != SWLOG_ROLE_PROVINCE &&
                      v.role != SWLOG_ROLE_COUNTY);
        rs->cp_row = r->cp->row;
        if (v.trust != AUDIT_TRUST_OK)
            snprintf(rs->cp_why, sizeof rs->cp_why,
                     "its checkpoint is signed by a key that is not "
                     "authorised: %.199s", v.why);
        else
            snprintf(rs->cp_why, sizeof rs->cp_why,
                     "its checkpoint is signed by a %s key; only hub keys "
                     "sign checkpoints (SECURITY §1.1)",
                     v.role == SWLOG_ROLE_ROOT ? "root" : "station");
    } else if (first) {
        rs->cp_bad = 0;
    }
    int bad = r->code != SWLOG_OK || (r->cp != NULL && rs->cp_bad);
    if (!bad) {
        a->rep.s.receipts_ok++;
        return 0;
    }
    int64_t cprow = r->cp != NULL ? r->cp->row : -1;
    int code = r->code != SWLOG_OK ? r->code : SWLOG_ESIG;
    /* Receipts of one feed under one checkpoint failing alike: one
     * finding with a seq range. */
    if (rs->last != 0 && rs->last_cp == cprow && rs->last_code == code &&
        memcmp(rs->last_feed, r->feed, SWLOG_PUBKEY_BYTES) == 0) {
        extend(&a->rep.f[rs->last - 1], r->seq);
        return 0;
    }
    audit_finding g;
    memset(&g, 0, sizeof g);
    g.kind = AUDIT_K_RECEIPT_INVALID;
    g.code = code;
    g.file = a->cur;
    g.offset = (uint64_t)r->row;
    g.has_feed = 1;
    memcpy(g.feed, r->feed, SWLOG_PUBKEY_BYTES);
    g.seq_lo = g.seq_hi = r->seq;
    g.frames = 1;
    if (r->cp != NULL) {
        g.has_ref = 1;
        g.ref_label = "the checkpoint stored with it";
        g.ref_file = a->cur;
        g.ref_offset = (uint64_t)r->cp->row;
        g.has_ref_feed = 1;
        memcpy(g.ref_feed, r->hub, SWLOG_PUBKEY_BYTES);
        g.ref_seq = r->cp->frame != NULL ? r->cp->frame->seq : 0;
    }
    snprintf(g.msg, sizeof g.msg,
             "the station holds a receipt from the hub for this frame that "
             "proves nothing: %.240s",
             r->code != SWLOG_OK ? r->why : rs->cp_why);
    if (audit_report_add(&a->rep, &g) != NULL) {
        rs->last = (int32_t)a->rep.n;
        rs->last_cp = cprow;
        rs->last_code = code;
        memcpy(rs->last_feed, r->feed, SWLOG_PUBKEY_BYTES);
    }
    return 0;
}

static void receipt_pass(audit *a)
{
    for (uint32_t i = 0; i < a->nfiles && !a->failed; i++) {
        if (!a->is_db[i])
            continue;
        rstate rs;
        memset(&rs, 0, sizeof rs);
        rs.a = a;
        a->cur = i;
        swlog_error err = {0};
        int rc = audit_receipts_each(a->files[i], on_receipt, &rs, &err);
        if (rc == SWLOG_OK) {
            a->rep.s.replicas++;
            continue;
        }
        if (rc == 1)
            continue; /* a database without receipts: a hub's, say */
        audit_finding g;
        memset(&g, 0, sizeof g);
        g.kind = AUDIT_K_UNREADABLE;
        g.code = rc;
        g.file = i;
        snprintf(g.msg, sizeof g.msg,
                 "the station's stored receipts could not be read: %s",
                 err.msg);
        a->rep.s.unreadable++;
        audit_report_add(&a->rep, &g);
    }
}

/* ---- hubs -------------------------------------------------------------- */

/* Per hub: the last finding of each kind, index + 1, so that a run of
 * checkpoints of one file failing alike (a station's receipts of a
 * rewritten history) is one finding with a seq range. */
static int32_t cp_last[AUDIT_K_COUNT];

static void cp_finding(audit *a, int kind, const audit_checkpoint *cp,
                       const audit_checkpoint *ref, const char *msg)
{
    if (cp_last[kind] != 0) {
        audit_finding *p = &a->rep.f[cp_last[kind] - 1];
        if (p->file == cp->at.file && cp->seq > p->seq_hi &&
            memcmp(p->feed, cp->hub, SWLOG_PUBKEY_BYTES) == 0) {
            extend(p, cp->seq);
            return;
        }
    }
    audit_finding g;
    memset(&g, 0, sizeof g);
    g.kind = kind;
    g.file = cp->at.file;
    g.offset = cp->at.offset;
    g.has_feed = 1;
    memcpy(g.feed, cp->hub, SWLOG_PUBKEY_BYTES);
    g.seq_lo = g.seq_hi = cp->seq;
    g.frames = 1;
    if (ref != NULL) {
        g.has_ref = 1;
        g.ref_label = "the other checkpoint";
        g.ref_file = ref->at.file;
        g.ref_offset = ref->at.offset;
        g.has_ref_feed = 1;
        memcpy(g.ref_feed, ref->hub, SWLOG_PUBKEY_BYTES);
        g.ref_seq = ref->seq;
    }
    snprintf(g.msg, sizeof g.msg, "%s", msg);
    if (audit_report_add(&a->rep, &g) != NULL)
        cp_last[kind] = (int32_t)a->rep.n;
}

/* SECURITY §8.5: per hub, in seq order. */
static void hub_checks(audit *a)
{
    size_t n;
    audit_checkpoint *cp = audit_keys_checkpoints(a->ks, &n);
    a->rep.s.checkpoints = n;
    char msg[300];
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && memcmp(cp[j].hub, cp[i].hub, SWLOG_PUBKEY_BYTES) == 0)
            j++;
        const audit_checkpoint *matched = NULL; /* newest matching so far */
        memset(cp_last, 0, sizeof cp_last);
        for (size_t k = i; k < j; k++) {
            const audit_checkpoint *c = &cp[k], *p = k > i ? &cp[k - 1] : NULL;
            /* Identical copies were merged (audit_keys_seal): two left
             * with one seq are two checkpoints signed with it. */
            if (p != NULL && c->seq == p->seq) {
                snprintf(msg, sizeof msg,
                         "the hub signed two different checkpoints with seq "
                         "%" PRIu64 " (of %" PRIu64 " and %" PRIu64
                         " frames)%s: it forked its own feed",
                         c->seq, p->tree_size, c->tree_size,
                         c->receipt ? ", this one given to a station as a "
                                      "receipt"
                                    : "");
                cp_finding(a, AUDIT_K_FORK, c, p, msg);
                p = NULL; /* sizes are compared with another seq only */
                for (size_t m = k; m-- > i && p == NULL;)
                    if (cp[m].seq != c->seq)
                        p = &cp[m];
            }
            if (c->state == AUDIT_CP_MATCHES) {
                a->rep.s.checkpoints_matched++;
                matched = c;
            }
            /* Sizes and roots alone, where no ledger decides: */
            int ledger = c->state != AUDIT_CP_UNCHECKED ||
                         (p != NULL && p->state != AUDIT_CP_UNCHECKED);
            if (!ledger && p != NULL && c->tree_size < p->tree_size) {
                snprintf(msg, sizeof msg,
                         "this checkpoint says the hub holds %" PRIu64
                         " frames, fewer than the %" PRIu64
                         " of its checkpoint seq %" PRIu64
                         ": its history shrank",
                         c->tree_size, p->tree_size, p->seq);
                cp_finding(a, AUDIT_K_CP_INCONSISTENT, c, p, msg);
                continue;
            }
            if (!ledger && p != NULL && c->tree_size == p->tree_size &&
                memcmp(c->root, p->root, SWLOG_HASH_BYTES) != 0) {
                snprintf(msg, sizeof msg,
                         "this checkpoint and checkpoint seq %" PRIu64
                         " both cover %" PRIu64
                         " frames but with different roots: two histories",
                         p->seq, c->tree_size);
                cp_finding(a, AUDIT_K_CP_INCONSISTENT, c, p, msg);
                continue;
            }
            if (c->state != AUDIT_CP_DIFFERS && c->state != AUDIT_CP_BEYOND)
                continue;
            const audit_checkpoint *later = NULL;
            for (size_t m = k + 1; m < j && later == NULL; m++)
                if (cp[m].state == AUDIT_CP_MATCHES)
                    later = &cp[m];
            const char *what = c->state == AUDIT_CP_BEYOND
                                   ? "covers more frames than the hub's "
                                     "ledger holds"
                                   : "does not match the hub's ledger";
            if (later != NULL) {
                snprintf(msg, sizeof msg,
                         "this checkpoint (%" PRIu64 " frames) %s, while "
                         "the later checkpoint seq %" PRIu64
                         " does: frames the hub had receipted were dropped "
                         "or changed after it signed this one",
                         c->tree_size, what, later->seq);
                cp_finding(a, AUDIT_K_RECEIPT_DROPPED, c, later, msg);
            } else {
                snprintf(msg, sizeof msg,
                         "this checkpoint (%" PRIu64 " frames) %s%s: it is "
                         "not consistent with the history the hub "
                         "checkpointed before",
                         c->tree_size, what,
                         matched != NULL ? ", which its earlier checkpoint "
                                           "matches"
                                         : "");
                cp_finding(a, AUDIT_K_CP_INCONSISTENT, c, matched, msg);
            }
        }
        i = j;
    }
}

/* ---- main -------------------------------------------------------------- */

static int parse_hex32(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
            strchr("0123456789abcdefABCDEF", s[2 * i]) == NULL ||
            strchr("0123456789abcdefABCDEF", s[2 * i + 1]) == NULL)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "swsync-audit: %s%s%s\n(see swsync-audit --help)\n", msg,
            arg != NULL ? " " : "", arg != NULL ? arg : "");
    return 3;
}

int main(int argc, char **argv)
{
    audit a;
    memset(&a, 0, sizeof a);
    uint8_t root[32];
    int have_root = 0, json = 0, stats = 0, values = 0, opts_done = 0;
    const char *html = NULL;
    int trace = 0;
    uint8_t row[SWLOG_UUID_BYTES];
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    uint8_t *ledger = calloc((size_t)argc + 1, 1);
    uint8_t(*hubs)[SWLOG_PUBKEY_BYTES] =
        calloc((size_t)argc + 1, sizeof *hubs);
    int npaths = 0, rc = 3;
    if (paths == NULL || ledger == NULL || hubs == NULL)
        return 2;
    int i = 1;
    if (argc > 1 && strcmp(argv[1], "trace") == 0) {
        if (argc < 3 || swlog_uuid_parse(argv[2], row) != SWLOG_OK) {
            rc = usage_error("trace needs a row id (8-4-4-4-12 hex)",
                             argc > 2 ? argv[2] : NULL);
            goto out;
        }
        trace = 1;
        i = 3;
    }
    for (; i < argc; i++) {
        const char *s = argv[i];
        if (opts_done || s[0] != '-' || s[1] == '\0') {
            paths[npaths++] = s;
        } else if (strcmp(s, "--") == 0) {
            opts_done = 1;
        } else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(usage, stdout);
            rc = 0;
            goto out;
        } else if (strcmp(s, "--root") == 0 && i + 1 < argc) {
            if (parse_hex32(argv[++i], root) != 0) {
                rc = usage_error("--root needs 64 hex digits, got", argv[i]);
                goto out;
            }
            have_root = 1;
        } else if (strcmp(s, "--ledger") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            char hex[65];
            ledger[npaths] = 1;
            /* PUBHEX:FILE names the hub; FILE alone: its last checkpoint */
            if (strlen(v) > 65 && v[64] == ':') {
                memcpy(hex, v, 64);
                hex[64] = '\0';
                if (parse_hex32(hex, hubs[npaths]) == 0) {
                    ledger[npaths] = 2;
                    v += 65;
                }
            }
            paths[npaths++] = v;
        } else if (strcmp(s, "--html") == 0 && i + 1 < argc) {
            html = argv[++i];
        } else if (strcmp(s, "--json") == 0) {
            json = 1;
        } else if (strcmp(s, "--stats") == 0) {
            stats = 1;
        } else if (strcmp(s, "--values") == 0 && trace) {
            values = 1;
        } else {
            rc = usage_error("unknown option or missing value:", s);
            goto out;
        }
    }
    if (!have_root) {
        rc = usage_error("--root PUBHEX is required (the root public key, "
                         "as swsync-keys pub prints it)",
                         NULL);
        goto out;
    }
    if (npaths == 0) {
        rc = usage_error("no files or folders to check", NULL);
        goto out;
    }
    if (swlog_init() != SWLOG_OK) {
        fputs("swsync-audit: libsodium failed to start\n", stderr);
        rc = 2;
        goto out;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int k = 0; k < npaths; k++) {
        add_files(&a, paths[k], 1, ledger[k],
                  ledger[k] == 2 ? hubs[k] : NULL);
    }
    a.ks = audit_keys_new(root);
    a.feeds = feedmap_new(sizeof(fstate));
    a.forks = audit_forks_new();
    if (trace)
        a.trace = audit_trace_new(row, values);
    if (a.ks == NULL || a.feeds == NULL || a.forks == NULL ||
        (trace && a.trace == NULL))
        a.failed = 1;
    audit_report_init(&a.rep, a.files, a.nfiles);
    a.rep.is_db = a.is_db;
    a.rep.stats = stats;
    if (!a.failed)
        key_pass(&a);
    if (!a.failed && audit_keys_seal(a.ks) != SWLOG_OK)
        a.failed = 1;
    if (!a.failed && seal_forks(&a) != SWLOG_OK)
        a.failed = 1;
    if (!a.failed)
        frame_pass(&a);
    if (!a.failed)
        receipt_pass(&a);
    if (a.failed) {
        fputs("swsync-audit: out of memory; nothing was concluded\n", stderr);
        rc = 2;
        goto done;
    }
    fork_findings(&a);
    hub_checks(&a);
    a.rep.s.files = a.nfiles;
    a.rep.s.feeds = feedmap_count(a.feeds);
    a.rep.s.key_frames = audit_keys_count(a.ks);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    a.rep.s.seconds =
        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        a.rep.s.peak_rss_kb = (uint64_t)ru.ru_maxrss;
        a.rep.s.cpu_seconds =
            (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    }

    if (trace)
        audit_trace_print(stdout, a.trace, a.files, a.nfiles, json);
    if (json)
        audit_report_json(stdout, &a.rep);
    else {
        if (trace)
            fputs("\n", stdout);
        audit_report_text(stdout, &a.rep);
    }
    if (html != NULL && audit_report_html(html, &a.rep) != 0) {
        fprintf(stderr, "swsync-audit: %s: cannot write the report: %s\n",
                html, strerror(errno));
        rc = 2;
        goto done;
    }
    if (fflush(stdout) != 0) {
        rc = 2;
        goto done;
    }
    {
        uint64_t unreadable = a.rep.s.unreadable;
        uint64_t problems = audit_report_problems(&a.rep);
        rc = problems > unreadable ? 1 : problems > 0 ? 2 : 0;
    }
done:
    audit_trace_free(a.trace);
    audit_forks_free(a.forks);
    feedmap_free(a.feeds);
    audit_keys_free(a.ks);
    audit_report_clear(&a.rep);
    for (uint32_t k = 0; k < a.nfiles; k++)
        free((void *)a.files[k]);
    free(a.files);
    free(a.is_ledger);
    free(a.is_db);
    free(a.ledger_hub);
out:
    free(paths);
    free(ledger);
    free(hubs);
    return rc;
}
