/* Forks between copies of feeds by comparing ids at segment ends only,
 * and which frames are copies: spec/SECURITY.md §8.1 and §8.2. */
#include "audit_forks.h"

#include <stdlib.h>
#include <string.h>

#include "feedmap.h"
#include "fork_index.h"

/* A run of one file's frames of one feed with consecutive seqs that link
 * by prev (FORMAT §8.1), as the key pass read it (untrusted until the
 * frame pass checked it). */
typedef struct seg {
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    uint32_t file, rank;
    uint64_t lo, hi, last;   /* seq range; seq of the last frame (anchor) */
    uint64_t off_lo, off_hi; /* offsets of its first and last frames */
    uint64_t bad_lo, bad_hi; /* seqs with a problem (none: lo > hi) */
    uint8_t merged;          /* breaks merged in (§ cap): anchors only */
} seg;

/* Key pass state of a feed in the file being read. */
typedef struct cur {
    uint64_t seq;
    uint8_t id[SWLOG_HASH_BYTES];
    uint32_t seg;  /* its open segment, index + 1 */
    uint32_t nseg; /* segments of this feed in this file */
} cur;

typedef struct span {
    uint32_t start, n; /* the feed's segments in the sorted array */
} span;

struct audit_forks {
    seg *s;
    size_t n, cap;
    feedmap *cur;
    uint32_t cur_file;
    int have_file;
    feedmap *spans;
    fork_index *anchors;
    audit_fork *forks;
    size_t nforks, capf;
    uint64_t more;
};

audit_forks *audit_forks_new(void)
{
    audit_forks *af = calloc(1, sizeof *af);
    if (af == NULL)
        return NULL;
    af->cur = feedmap_new(sizeof(cur));
    af->spans = feedmap_new(sizeof(span));
    af->anchors = fork_index_new();
    if (af->cur == NULL || af->spans == NULL || af->anchors == NULL) {
        audit_forks_free(af);
        return NULL;
    }
    return af;
}

void audit_forks_free(audit_forks *af)
{
    if (af == NULL)
        return;
    free(af->s);
    feedmap_free(af->cur);
    feedmap_free(af->spans);
    fork_index_free(af->anchors);
    free(af->forks);
    free(af);
}

static int new_seg(audit_forks *af, const peek_header *h, uint32_t file,
                   uint64_t offset)
{
    if (af->n == af->cap) {
        size_t cap = af->cap < 256 ? 256 : af->cap + af->cap / 2;
        if (cap >= UINT32_MAX)
            return SWLOG_ENOMEM;
        seg *s = realloc(af->s, cap * sizeof *s);
        if (s == NULL)
            return SWLOG_ENOMEM;
        af->s = s;
        af->cap = cap;
    }
    seg *g = &af->s[af->n++];
    memset(g, 0, sizeof *g);
    memcpy(g->feed, h->signer, SWLOG_PUBKEY_BYTES);
    g->file = file;
    g->lo = g->hi = g->last = h->seq;
    g->off_lo = g->off_hi = offset;
    g->bad_lo = UINT64_MAX;
    return SWLOG_OK;
}

int audit_forks_scan(audit_forks *af, uint32_t file, const peek_header *h,
                     uint64_t offset)
{
    if (!h->has_id)
        return SWLOG_OK;
    if (!af->have_file || file != af->cur_file) {
        feedmap_clear(af->cur);
        af->cur_file = file;
        af->have_file = 1;
    }
    int created;
    cur *c = feedmap_put(af->cur, h->signer, &created);
    if (c == NULL)
        return SWLOG_ENOMEM;
    if (!created && c->seg != 0 &&
        ((h->seq == c->seq + 1 &&
          memcmp(h->prev, c->id, SWLOG_HASH_BYTES) == 0) ||
         c->nseg >= AUDIT_FORKS_SEGS)) {
        seg *g = &af->s[c->seg - 1];
        if (h->seq != c->seq + 1 ||
            memcmp(h->prev, c->id, SWLOG_HASH_BYTES) != 0)
            g->merged = 1; /* past the cap: the run is no chain any more */
        if (h->seq < g->lo)
            g->lo = h->seq;
        if (h->seq > g->hi)
            g->hi = h->seq;
        g->last = h->seq;
        g->off_hi = offset;
    } else {
        if (new_seg(af, h, file, offset) != SWLOG_OK)
            return SWLOG_ENOMEM;
        c->seg = (uint32_t)af->n;
        c->nseg++;
    }
    c->seq = h->seq;
    memcpy(c->id, h->id, SWLOG_HASH_BYTES);
    return SWLOG_OK;
}

static int cmp_seg(const void *x, const void *y)
{
    const seg *a = x, *b = y;
    int c = memcmp(a->feed, b->feed, SWLOG_PUBKEY_BYTES);
    if (c != 0)
        return c;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return a->off_lo < b->off_lo ? -1 : a->off_lo > b->off_lo;
}

int audit_forks_seal(audit_forks *af, const uint32_t *rank, uint32_t nfiles)
{
    feedmap_clear(af->cur);
    af->have_file = 0;
    for (size_t k = 0; k < af->n; k++)
        af->s[k].rank = af->s[k].file < nfiles ? rank[af->s[k].file]
                                               : UINT32_MAX;
    if (af->n > 0)
        qsort(af->s, af->n, sizeof *af->s, cmp_seg);
    for (size_t k = 0; k < af->n; k++) {
        int created;
        span *sp = feedmap_put(af->spans, af->s[k].feed, &created);
        if (sp == NULL)
            return SWLOG_ENOMEM;
        if (created)
            sp->start = (uint32_t)k;
        sp->n++;
        if (fork_index_mark(af->anchors, af->s[k].feed, af->s[k].last) !=
            SWLOG_OK)
            return SWLOG_ENOMEM;
    }
    return SWLOG_OK;
}

/* The segment of file holding the frame at offset, or NULL. */
static seg *own_seg(audit_forks *af, const span *sp, uint32_t file,
                    uint64_t offset)
{
    for (uint32_t k = sp->start; k < sp->start + sp->n; k++) {
        seg *g = &af->s[k];
        if (g->file == file && g->off_lo <= offset && offset <= g->off_hi)
            return g;
    }
    return NULL;
}

static void record(audit_forks *af, const swlog_frame *f, uint32_t file,
                   uint64_t offset, const uint8_t *first_id,
                   uint32_t first_file, uint64_t first_offset)
{
    if (af->nforks == AUDIT_FORKS_MAX) {
        af->more++;
        return;
    }
    if (af->nforks == af->capf) {
        size_t cap = af->capf < 16 ? 16 : af->capf * 2;
        if (cap > AUDIT_FORKS_MAX)
            cap = AUDIT_FORKS_MAX;
        audit_fork *p = realloc(af->forks, cap * sizeof *p);
        if (p == NULL) {
            af->more++; /* counted, not described */
            return;
        }
        af->forks = p;
        af->capf = cap;
    }
    audit_fork *k = &af->forks[af->nforks++];
    memset(k, 0, sizeof *k);
    memcpy(k->feed, f->signer, SWLOG_PUBKEY_BYTES);
    k->seq_lo = k->seq_hi = f->seq;
    k->file_a = first_file;
    k->off_a = k->anchor_a = first_offset;
    k->file_b = file;
    k->off_b = k->anchor_b = offset;
    memcpy(k->id_a, first_id, sizeof k->id_a);
    memcpy(k->id_b, f->id, sizeof k->id_b);
}

int audit_forks_frame(audit_forks *af, const swlog_frame *f, uint32_t file,
                      uint64_t offset)
{
    const span *sp = feedmap_get(af->spans, f->signer);
    if (sp == NULL)
        return 0;
    uint8_t first[SWLOG_HASH_BYTES];
    uint32_t ff = 0;
    uint64_t fo = 0;
    if (fork_index_check_at(af->anchors, f->signer, f->seq, f->id, file,
                            offset, first, &ff, &fo) == 1)
        record(af, f, file, offset, first, ff, fo);
    seg *own = own_seg(af, sp, file, offset);
    if (own == NULL)
        return 0;
    /* Segments sorted by frame-pass rank then offset: those before own
     * were read before this frame. */
    for (seg *g = &af->s[sp->start]; g < own; g++)
        if (!g->merged && g->lo <= f->seq && f->seq <= g->hi &&
            !(g->bad_lo <= f->seq && f->seq <= g->bad_hi))
            return 2;
    return 0;
}

void audit_forks_bad(audit_forks *af, const uint8_t feed[SWLOG_PUBKEY_BYTES],
                     uint64_t seq, uint32_t file, uint64_t offset)
{
    const span *sp = feedmap_get(af->spans, feed);
    seg *g = sp != NULL ? own_seg(af, sp, file, offset) : NULL;
    if (g == NULL)
        return;
    if (seq < g->bad_lo)
        g->bad_lo = seq;
    if (seq > g->bad_hi)
        g->bad_hi = seq;
}

audit_fork *audit_forks_list(audit_forks *af, size_t *n, uint64_t *more)
{
    *n = af->nforks;
    *more = af->more;
    return af->forks;
}

/* The next frame of g's feed inside g's offsets: 1 (seq, id, offset set),
 * 0 at its end, or a negative swlog code. */
static int seg_next(swlog_log *log, const seg *g, uint64_t *seq,
                    uint8_t id[SWLOG_HASH_BYTES], uint64_t *offset)
{
    for (;;) {
        const uint8_t *body;
        size_t len;
        uint64_t off;
        int rc = swlog_log_next(log, &body, &len, &off, NULL);
        if (rc != 1)
            return rc;
        if (off < g->off_lo)
            continue;
        if (off > g->off_hi)
            return 0;
        peek_header h;
        if (!peek_frame(body, len, &h) || !h.has_id ||
            memcmp(h.signer, g->feed, SWLOG_PUBKEY_BYTES) != 0)
            continue;
        *seq = h.seq;
        memcpy(id, h.id, SWLOG_HASH_BYTES);
        *offset = off;
        return 1;
    }
}

int audit_forks_locate(audit_forks *af, size_t k, const char *const *files)
{
    if (k >= af->nforks)
        return SWLOG_EARG;
    audit_fork *fk = &af->forks[k];
    const span *sp = feedmap_get(af->spans, fk->feed);
    seg *a = sp != NULL ? own_seg(af, sp, fk->file_a, fk->anchor_a) : NULL;
    seg *b = sp != NULL ? own_seg(af, sp, fk->file_b, fk->anchor_b) : NULL;
    if (a == NULL || b == NULL || a->merged || b->merged)
        return SWLOG_OK; /* stays at its anchor */
    swlog_log *la = NULL, *lb = NULL;
    int rc = swlog_log_open(files[fk->file_a], SWLOG_READ, &la, NULL);
    if (rc == SWLOG_OK)
        rc = swlog_log_open(files[fk->file_b], SWLOG_READ, &lb, NULL);
    uint64_t sa = 0, sb = 0, oa = 0, ob = 0;
    uint8_t ia[SWLOG_HASH_BYTES], ib[SWLOG_HASH_BYTES];
    int ra = rc == SWLOG_OK ? seg_next(la, a, &sa, ia, &oa) : rc;
    int rb = rc == SWLOG_OK ? seg_next(lb, b, &sb, ib, &ob) : rc;
    /* Both runs ascend by one: step the lower until they meet, then
     * together; the first seq where the ids differ is the fork. */
    while (ra == 1 && rb == 1 && sa <= fk->seq_hi && sb <= fk->seq_hi) {
        if (sa < sb) {
            ra = seg_next(la, a, &sa, ia, &oa);
        } else if (sb < sa) {
            rb = seg_next(lb, b, &sb, ib, &ob);
        } else if (memcmp(ia, ib, SWLOG_HASH_BYTES) != 0) {
            fk->seq_lo = sa;
            fk->off_a = oa;
            fk->off_b = ob;
            memcpy(fk->id_a, ia, sizeof fk->id_a);
            memcpy(fk->id_b, ib, sizeof fk->id_b);
            break;
        } else {
            ra = seg_next(la, a, &sa, ia, &oa);
            rb = seg_next(lb, b, &sb, ib, &ob);
        }
    }
    swlog_log_close(la);
    swlog_log_close(lb);
    return ra < 0 ? ra : rb < 0 ? rb : SWLOG_OK;
}

size_t audit_forks_segments(const audit_forks *af)
{
    return af->n;
}

size_t audit_forks_anchors(const audit_forks *af)
{
    return fork_index_count(af->anchors);
}
