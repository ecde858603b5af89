/* The per-file verification loop: envelopes and CRCs (FORMAT §3, §8.3),
 * strict decoding and signatures (§4-§7), chains (§8.1) and forks (§8.2). */
#include "verify_loop.h"

#include "feedmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The head a feed's chain continues from after a problem. swlog_chains only
 * moves a head on a frame that links, so after a gap, a broken link or a
 * refused frame every later frame of the feed would be reported again; the
 * loop follows such feeds here instead and reports each problem once. */
typedef struct rebased {
    uint64_t seq;
    uint8_t id[SWLOG_HASH_BYTES];
} rebased;

typedef struct run {
    const char *path;
    const verify_loop_opts *o;
    const verify_loop_cb *cb;
    verify_stats *st;
    swlog_chains *chains;
    feedmap *rb; /* feed -> rebased, for feeds with a problem; created at
                  * the first; grows with feeds, not frames */
    int stopped; /* a callback asked to stop */
    int dup;     /* the frame being checked is a copy of one seen before */
    int has_other; /* a fork: the other frame's place */
    uint32_t other_file;
    uint64_t other_offset;
    uint8_t other_id[SWLOG_HASH_BYTES];
} run;

static void raise_status(run *r, int status)
{
    r->st->status = verify_loop_combine(r->st->status, status);
}

/* Report one problem; h names the frame's feed and seq when known. */
static void problem(run *r, uint64_t offset, const peek_header *h, int code,
                    int severity, const char *msg)
{
    verify_problem p;
    memset(&p, 0, sizeof p);
    p.path = r->path;
    p.offset = offset;
    if (h != NULL) {
        p.has_feed = 1;
        memcpy(p.feed, h->signer, sizeof p.feed);
        p.seq = h->seq;
    }
    p.code = code;
    p.severity = severity;
    if (code == SWLOG_EFORK && r->has_other) {
        p.has_other = 1;
        p.other_file = r->other_file;
        p.other_offset = r->other_offset;
        memcpy(p.other_id, r->other_id, SWLOG_HASH_BYTES);
    }
    p.msg = (msg != NULL && msg[0] != '\0') ? msg : swlog_code_text(code);
    if (severity == VERIFY_ERROR)
        r->st->problems++;
    if (r->cb->on_problem != NULL && r->cb->on_problem(r->cb->ctx, &p) != 0)
        r->stopped = 1;
}

static rebased *find_rebased(run *r, const uint8_t *feed)
{
    return r->rb != NULL ? feedmap_get(r->rb, feed) : NULL;
}

/* Continue the feed's chain from (seq, id). SWLOG_ENOMEM when it cannot. */
static int rebase(run *r, const uint8_t *feed, uint64_t seq, const uint8_t *id)
{
    if (r->rb == NULL && (r->rb = feedmap_new(sizeof(rebased))) == NULL)
        return SWLOG_ENOMEM;
    rebased *b = feedmap_put(r->rb, feed, NULL);
    if (b == NULL)
        return SWLOG_ENOMEM;
    b->seq = seq;
    memcpy(b->id, id, SWLOG_HASH_BYTES);
    return SWLOG_OK;
}

/* The frame repeats its feed's last seq with another id: FORMAT §8.1 makes
 * that SWLOG_ESEQ inside one file; the message names it a fork (§8.2), as
 * an auditor must not read it as a mere duplicate. */
static int fork_in_file(const swlog_frame *f, swlog_error *err)
{
    memset(err, 0, sizeof *err);
    err->code = SWLOG_ESEQ;
    snprintf(err->msg, sizeof err->msg,
             "fork: another frame with seq %" PRIu64
             " precedes this one in the file",
             f->seq);
    return SWLOG_ESEQ;
}

/* FORMAT §8.1 for one frame: SWLOG_OK, SWLOG_ESEQ or SWLOG_ECHAIN (err
 * set; a fork inside the file is an SWLOG_ESEQ that says so). Afterwards the
 * feed continues from this frame either way. */
static int chain_check(run *r, const swlog_frame *f, swlog_error *err)
{
    rebased *b = find_rebased(r, f->signer);
    int rc = SWLOG_OK;
    uint64_t head_seq;
    uint8_t head_id[SWLOG_HASH_BYTES];
    if (b == NULL) {
        rc = swlog_chains_add(r->chains, f, err);
        if (rc == SWLOG_ESEQ &&
            swlog_chains_head(r->chains, f->signer, &head_seq, head_id) &&
            head_seq == f->seq && memcmp(head_id, f->id, SWLOG_HASH_BYTES) != 0)
            rc = fork_in_file(f, err);
        if (rc == SWLOG_ESEQ || rc == SWLOG_ECHAIN) {
            if (rebase(r, f->signer, f->seq, f->id) != SWLOG_OK)
                r->stopped = 1;
        }
        return rc;
    }
    if (f->seq == b->seq && memcmp(f->id, b->id, SWLOG_HASH_BYTES) != 0) {
        rc = fork_in_file(f, err);
    } else if (b->seq == UINT64_MAX || f->seq != b->seq + 1) {
        err->code = rc = SWLOG_ESEQ;
        snprintf(err->msg, sizeof err->msg,
                 "feed holds seq %" PRIu64 ", next frame has seq %" PRIu64,
                 b->seq, f->seq);
    } else if (memcmp(f->prev, b->id, SWLOG_HASH_BYTES) != 0) {
        err->code = rc = SWLOG_ECHAIN;
        snprintf(err->msg, sizeof err->msg,
                 "seq %" PRIu64 ": prev is not the id of frame %" PRIu64,
                 f->seq, b->seq);
    }
    b->seq = f->seq;
    memcpy(b->id, f->id, SWLOG_HASH_BYTES);
    return rc;
}

/* After a refused frame, continue its feed's chain from it when its header
 * can be read, so that one bad frame is reported once and not again at the
 * next frame of the feed. Its own chain result is not reported: the frame is
 * already reported, and never counted as valid. */
static void resync(run *r, const verify_frame *vf)
{
    swlog_error ignored = {0};
    if (r->chains == NULL)
        return;
    if (vf->frame != NULL) {
        (void)chain_check(r, vf->frame, &ignored);
        return;
    }
    if (!vf->has_header || !vf->peek.has_id)
        return;
    swlog_frame f;
    memset(&f, 0, sizeof f);
    f.type = vf->peek.type;
    f.header_len = vf->peek.header_len;
    memcpy(f.signer, vf->peek.signer, sizeof f.signer);
    f.seq = vf->peek.seq;
    memcpy(f.prev, vf->peek.prev, sizeof f.prev);
    f.hlc = vf->peek.hlc;
    memcpy(f.id, vf->peek.id, sizeof f.id);
    (void)chain_check(r, &f, &ignored);
}

/* Chain and fork checks of a frame that decoded: SWLOG_OK or the problem,
 * described in err. */
static int check_feed(run *r, const swlog_frame *f, uint64_t offset,
                      swlog_error *err)
{
    if (r->chains != NULL) {
        int rc = chain_check(r, f, err);
        if (rc != SWLOG_OK)
            return rc;
    }
    if (r->o->forks != NULL) {
        uint8_t first[SWLOG_HASH_BYTES];
        uint32_t first_file = UINT32_MAX;
        uint64_t first_offset = 0;
        int rc = r->o->fork_places
                     ? fork_index_add_at(r->o->forks, f->signer, f->seq, f->id,
                                         r->o->file_no, offset, first,
                                         &first_file, &first_offset)
                     : fork_index_add(r->o->forks, f->signer, f->seq, f->id,
                                      first);
        if (rc == 2) {
            r->dup = 1;
            return SWLOG_OK;
        }
        if (rc == SWLOG_ENOMEM) {
            snprintf(err->msg, sizeof err->msg,
                     "out of memory in the fork index: stopped here");
            err->code = SWLOG_ENOMEM;
            r->stopped = 1; /* reported once; the run ends as an I/O error */
            return rc;
        }
        if (rc == 1) {
            char a[17], b[17];
            swlog_hex(f->id, 8, a);
            swlog_hex(first, 8, b);
            snprintf(err->msg, sizeof err->msg,
                     "fork: frame %s… differs from frame %s… seen earlier "
                     "with the same feed and seq",
                     a, b);
            err->code = SWLOG_EFORK;
            r->has_other = r->o->fork_places;
            r->other_file = first_file;
            r->other_offset = first_offset;
            memcpy(r->other_id, first, SWLOG_HASH_BYTES);
            return SWLOG_EFORK;
        }
    }
    if (r->o->frame_check != NULL) {
        int rc = r->o->frame_check(r->o->check_ctx, f, offset);
        if (rc == 2)
            r->dup = 1;
        if (rc == SWLOG_ENOMEM) {
            snprintf(err->msg, sizeof err->msg, "out of memory: stopped here");
            err->code = SWLOG_ENOMEM;
            r->stopped = 1;
            return rc;
        }
    }
    return SWLOG_OK;
}

static void check_frame(run *r, const uint8_t *body, size_t len,
                        uint64_t offset)
{
    verify_frame vf;
    memset(&vf, 0, sizeof vf);
    vf.path = r->path;
    vf.offset = offset;
    vf.body = body;
    vf.body_len = len;
    vf.has_header = peek_frame(body, len, &vf.peek);

    unsigned flags = r->o->no_sig ? SWLOG_DECODE_NO_SIG : 0;
    swlog_frame f, unsigned_f;
    swlog_error err = {0};
    uint64_t at = offset; /* where the problem is reported */
    int rc = swlog_frame_decode(body, len, flags, &f, &err);
    r->dup = 0;
    r->has_other = 0;
    if (rc == SWLOG_OK) {
        vf.frame = &f;
        rc = check_feed(r, &f, offset, &err);
        vf.dup = r->dup;
    } else {
        /* FORMAT §3.3 step 6: body offsets become file offsets. */
        at = offset + SWLOG_ENVELOPE_HEAD_BYTES + err.offset;
        swlog_error again = {0};
        if (rc == SWLOG_ESIG &&
            swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &unsigned_f,
                               &again) == SWLOG_OK)
            vf.frame = &unsigned_f;
    }
    vf.code = rc;

    verify_stats *st = r->st;
    st->frames++;
    if (rc == SWLOG_OK && f.type == SWLOG_TYPE_CHANGESET) {
        st->changesets++;
        st->records += f.u.changeset.record_count;
    }
    if (rc != SWLOG_OK) {
        st->bad_frames++;
        if (rc != SWLOG_ESEQ && rc != SWLOG_ECHAIN && rc != SWLOG_EFORK)
            resync(r, &vf);
        raise_status(r, rc == SWLOG_ENOMEM ? VERIFY_IOERR : VERIFY_INVALID);
    }
    if (r->cb->on_frame != NULL && r->cb->on_frame(r->cb->ctx, &vf) != 0)
        r->stopped = 1;
    if (rc != SWLOG_OK)
        problem(r, at, vf.has_header ? &vf.peek : NULL, rc, VERIFY_ERROR,
                err.msg);
}

static void scan(run *r, swlog_log *log)
{
    for (;;) {
        const uint8_t *body;
        size_t len;
        uint64_t offset;
        swlog_error err = {0};
        int rc = swlog_log_next(log, &body, &len, &offset, &err);
        if (rc == 1) {
            check_frame(r, body, len, offset);
            if (r->stopped)
                return;
            continue;
        }
        if (rc == 0)
            break;
        /* FORMAT §8.3: damage followed by valid frames is reported with its
         * offset; this reader cannot resume after it, so it says so. */
        char msg[sizeof err.msg + 64];
        snprintf(msg, sizeof msg, "%s%s",
                 err.msg[0] != '\0' ? err.msg : swlog_code_text(rc),
                 rc == SWLOG_ECORRUPT ? "; frames after it were not checked"
                                      : "");
        raise_status(r, rc == SWLOG_EIO || rc == SWLOG_ENOMEM ? VERIFY_IOERR
                                                              : VERIFY_INVALID);
        problem(r, err.offset, NULL, rc, VERIFY_ERROR, msg);
        return;
    }
    uint64_t torn = swlog_log_torn(log);
    if (torn > 0) {
        char msg[128];
        r->st->torn = torn;
        snprintf(msg, sizeof msg,
                 "torn tail: %llu bytes after the last whole frame; the file "
                 "needs recovery before appending",
                 (unsigned long long)torn);
        raise_status(r, VERIFY_TORN);
        problem(r, swlog_log_end(log), NULL, SWLOG_OK, VERIFY_WARNING, msg);
    }
}

int verify_loop_file(const char *path, const verify_loop_opts *o,
                     const verify_loop_cb *cb, verify_stats *st)
{
    run r;
    memset(&r, 0, sizeof r);
    r.path = path;
    r.o = o;
    r.cb = cb;
    r.st = st;
    memset(st, 0, sizeof *st);

    swlog_log *log = NULL;
    swlog_error err = {0};
    int rc = swlog_log_open(path, SWLOG_READ, &log, &err);
    if (rc != SWLOG_OK) {
        raise_status(&r, rc == SWLOG_EIO || rc == SWLOG_ENOMEM
                             ? VERIFY_IOERR
                             : VERIFY_INVALID);
        problem(&r, err.offset, NULL, rc, VERIFY_ERROR, err.msg);
        return st->status;
    }
    if (cb->on_open != NULL && cb->on_open(cb->ctx, path, swlog_log_salt(log)))
        r.stopped = 1;
    if (!o->no_chains && !r.stopped) {
        r.chains = swlog_chains_new();
        if (r.chains == NULL) {
            raise_status(&r, VERIFY_IOERR);
            problem(&r, 0, NULL, SWLOG_ENOMEM, VERIFY_ERROR, NULL);
            r.stopped = 1;
        }
    }
    if (!r.stopped)
        scan(&r, log);
    if (r.stopped)
        raise_status(&r, VERIFY_IOERR);
    st->bytes = swlog_log_end(log);
    st->feeds = r.chains != NULL ? swlog_chains_count(r.chains) : 0;
    swlog_chains_free(r.chains);
    feedmap_free(r.rb);
    swlog_log_close(log);
    return st->status;
}

int verify_loop_combine(int a, int b)
{
    static const int rank[] = {
        [VERIFY_VALID] = 0,
        [VERIFY_TORN] = 1,
        [VERIFY_IOERR] = 2,
        [VERIFY_INVALID] = 3,
    };
    return rank[b] > rank[a] ? b : a;
}
