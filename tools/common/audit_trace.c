/* The signed history of one row: FORMAT §5.2-§5.4, spec/SECURITY.md §8.7. */
#include "audit_trace.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit_report.h"
#include "fmt.h"

typedef struct tcol {
    char name[SWLOG_MAX_NAME + 1];
    uint8_t type;
    size_t len;
    uint64_t replaced;
    char *value; /* with values: a printable copy, else NULL */
} tcol;

typedef struct tentry {
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    uint64_t seq, hlc, replaced;
    audit_place at;
    uint8_t kind;
    int trust;
    char author[SWLOG_MAX_AUTHOR + 1];
    char table[SWLOG_MAX_NAME + 1];
    size_t col0, ncols; /* into cols */
} tentry;

struct audit_trace {
    uint8_t row[SWLOG_UUID_BYTES];
    int values;
    tentry *e;
    size_t n, cap;
    tcol *c;
    size_t nc, capc;
    uint64_t dropped;
};

audit_trace *audit_trace_new(const uint8_t row[SWLOG_UUID_BYTES], int values)
{
    audit_trace *t = calloc(1, sizeof *t);
    if (t != NULL) {
        memcpy(t->row, row, SWLOG_UUID_BYTES);
        t->values = values;
    }
    return t;
}

void audit_trace_free(audit_trace *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nc; i++)
        free(t->c[i].value);
    free(t->c);
    free(t->e);
    free(t);
}

static void copy_name(char *dst, const uint8_t *p, size_t len)
{
    memcpy(dst, p, len);
    dst[len] = '\0';
}

/* A printable copy of a value, through fmt_text's escaping. */
static char *value_text(const swlog_value *v)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (f == NULL)
        return NULL;
    switch (v->type) {
    case SWLOG_NULL: fputs("null", f); break;
    case SWLOG_INT: fprintf(f, "%" PRId64, v->i); break;
    case SWLOG_REAL: fprintf(f, "%.17g", v->r); break;
    case SWLOG_TEXT: fmt_text(f, v->p, v->len); break;
    default: fputs("0x", f); fmt_hex(f, v->p, v->len < 64 ? v->len : 64);
        if (v->len > 64)
            fputs("...", f);
    }
    fclose(f);
    return buf;
}

int audit_trace_frame(audit_trace *t, const swlog_frame *f, audit_place at,
                      int trust)
{
    swlog_reader *rd = malloc(sizeof *rd);
    if (rd == NULL)
        return SWLOG_ENOMEM;
    swlog_error err = {0};
    int rc = swlog_reader_init(rd, f, &err);
    swlog_record rec;
    while (rc == SWLOG_OK && (rc = swlog_reader_next(rd, &rec, &err)) == 1) {
        rc = SWLOG_OK;
        if (memcmp(rec.row_id, t->row, SWLOG_UUID_BYTES) != 0)
            continue;
        if (t->n >= AUDIT_TRACE_MAX_RECORDS) {
            t->dropped++;
            continue;
        }
        if (t->n == t->cap) {
            size_t cap = t->cap < 16 ? 16 : t->cap * 2;
            tentry *e = realloc(t->e, cap * sizeof *e);
            if (e == NULL) {
                rc = SWLOG_ENOMEM;
                break;
            }
            t->e = e;
            t->cap = cap;
        }
        tentry *e = &t->e[t->n++];
        memset(e, 0, sizeof *e);
        memcpy(e->feed, f->signer, SWLOG_PUBKEY_BYTES);
        e->seq = f->seq;
        e->hlc = rec.hlc;
        e->replaced = rec.replaced_hlc;
        e->at = at;
        e->kind = rec.kind;
        e->trust = trust;
        copy_name(e->author, f->u.changeset.author, f->u.changeset.author_len);
        copy_name(e->table, rec.table, rec.table_len);
        e->col0 = t->nc;
        swlog_column col;
        while ((rc = swlog_reader_value(rd, &col, &err)) == 1) {
            if (t->nc == t->capc) {
                size_t cap = t->capc < 64 ? 64 : t->capc * 2;
                tcol *c = realloc(t->c, cap * sizeof *c);
                if (c == NULL) {
                    rc = SWLOG_ENOMEM;
                    break;
                }
                t->c = c;
                t->capc = cap;
            }
            tcol *c = &t->c[t->nc++];
            copy_name(c->name, col.name, col.name_len);
            c->type = col.value.type;
            c->len = col.value.len;
            c->replaced = col.replaced_hlc;
            c->value = t->values ? value_text(&col.value) : NULL;
            e->ncols++;
        }
        if (rc < 0)
            break;
        rc = SWLOG_OK;
    }
    free(rd);
    return rc < 0 ? rc : SWLOG_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    const tentry *x = a, *y = b;
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? -1 : 1;
    int c = memcmp(x->feed, y->feed, SWLOG_PUBKEY_BYTES);
    if (c != 0)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *type_word(uint8_t type)
{
    static const char *const w[] = {"null", "integer", "real", "text",
                                    "blob"};
    return type <= 4 ? w[type] : "?";
}

/* Another entry (not i) that replaced the same earlier version of the
 * same column (or, for deletes, of the row): a concurrent edit. */
static const tentry *concurrent(const audit_trace *t, size_t i,
                                const char *col, uint64_t replaced)
{
    for (size_t j = 0; j < t->n; j++) {
        if (j == i)
            continue;
        const tentry *o = &t->e[j];
        if (col == NULL) {
            if (o->kind == SWLOG_DELETE && o->replaced == replaced)
                return o;
            continue;
        }
        for (size_t k = 0; k < o->ncols; k++)
            if (t->c[o->col0 + k].replaced == replaced &&
                strcmp(t->c[o->col0 + k].name, col) == 0)
                return o;
    }
    return NULL;
}

/* A later entry whose write replaced the version written at hlc. */
static const tentry *successor(const audit_trace *t, const char *col,
                               uint64_t hlc)
{
    for (size_t j = 0; j < t->n; j++) {
        const tentry *o = &t->e[j];
        if (o->kind == SWLOG_DELETE && o->replaced == hlc)
            return o;
        for (size_t k = 0; k < o->ncols; k++)
            if (t->c[o->col0 + k].replaced == hlc &&
                strcmp(t->c[o->col0 + k].name, col) == 0)
                return o;
    }
    return NULL;
}

int audit_trace_print(FILE *out, audit_trace *t, const char *const *files,
                      uint32_t nfiles, int json)
{
    qsort(t->e, t->n, sizeof *t->e, cmp_entry);
    char id[37];
    swlog_uuid_format(t->row, id);
    if (!json)
        fprintf(out, "History of row %s: %zu record%s.\n", id, t->n,
                t->n == 1 ? "" : "s");
    for (size_t i = 0; i < t->n; i++) {
        const tentry *e = &t->e[i];
        char hlc[FMT_HLC_BYTES], k[FMT_KEY_SHORT_BYTES];
        fmt_hlc(e->hlc, hlc);
        fmt_key_short(e->feed, k);
        const char *file = e->at.file < nfiles ? files[e->at.file] : "?";
        const char *verdict = e->trust == AUDIT_TRUST_OK
                                  ? "verified"
                                  : audit_kind_name(AUDIT_K_NO_CERT - 1 +
                                                    e->trust);
        if (json) {
            fprintf(out, "{\"type\":\"trace\",\"row\":\"%s\",\"hlc\":", id);
            fmt_json_u64(out, e->hlc);
            fputs(",\"feed\":\"", out);
            fmt_hex(out, e->feed, SWLOG_PUBKEY_BYTES);
            fputs("\",\"seq\":", out);
            fmt_json_u64(out, e->seq);
            fputs(",\"file\":", out);
            fmt_json_cstr(out, file);
            fputs(",\"offset\":", out);
            fmt_json_u64(out, e->at.offset);
            fputs(",\"author\":", out);
            fmt_json_cstr(out, e->author);
            fputs(",\"table\":", out);
            fmt_json_cstr(out, e->table);
            fprintf(out, ",\"kind\":\"%s\",\"verdict\":\"%s\",\"columns\":[",
                    e->kind == SWLOG_DELETE ? "delete" : "upsert", verdict);
            for (size_t c = 0; c < e->ncols; c++) {
                const tcol *col = &t->c[e->col0 + c];
                fputs(c ? ",{\"name\":" : "{\"name\":", out);
                fmt_json_cstr(out, col->name);
                fprintf(out, ",\"type\":\"%s\",\"length\":%zu,\"replaced\":",
                        type_word(col->type), col->len);
                fmt_json_u64(out, col->replaced);
                if (col->value != NULL) {
                    fputs(",\"value\":", out);
                    fmt_json_cstr(out, col->value);
                }
                const tentry *o =
                    col->replaced ? concurrent(t, i, col->name, col->replaced)
                                  : NULL;
                if (o != NULL)
                    fputs(",\"conflict\":true", out);
                fputc('}', out);
            }
            fputs("]}\n", out);
            continue;
        }
        fprintf(out, "\n%s  %s  feed %s seq %" PRIu64 "  by \"%s\"  [%s]\n",
                hlc, e->kind == SWLOG_DELETE ? "DELETE" : "UPSERT", k, e->seq,
                e->author, verdict);
        fprintf(out, "    %s, offset %" PRIu64 "; table %s\n", file,
                e->at.offset, e->table);
        if (e->kind == SWLOG_DELETE && e->replaced != 0) {
            const tentry *o = concurrent(t, i, NULL, e->replaced);
            if (o != NULL) {
                fmt_key_short(o->feed, k);
                fprintf(out, "    CONFLICT: feed %s seq %" PRIu64
                             " also deleted the same version\n",
                        k, o->seq);
            }
        }
        for (size_t c = 0; c < e->ncols; c++) {
            const tcol *col = &t->c[e->col0 + c];
            fprintf(out, "    %s: %s", col->name, type_word(col->type));
            if (col->type == SWLOG_TEXT || col->type == SWLOG_BLOB)
                fprintf(out, ", %zu bytes", col->len);
            if (col->value != NULL)
                fprintf(out, " = %s", col->value);
            if (col->replaced != 0) {
                fmt_hlc(col->replaced, hlc);
                fprintf(out, " (replaced the version of %s)", hlc);
                const tentry *o = concurrent(t, i, col->name, col->replaced);
                if (o != NULL) {
                    char ok[FMT_KEY_SHORT_BYTES], oh[FMT_HLC_BYTES];
                    fmt_key_short(o->feed, ok);
                    fmt_hlc(o->hlc, oh);
                    fprintf(out, "\n      CONFLICT: feed %s seq %" PRIu64
                                 " at %s also replaced that version",
                            ok, o->seq, oh);
                    const tentry *s = successor(t, col->name, e->hlc);
                    if (s != NULL) {
                        fmt_key_short(s->feed, ok);
                        fmt_hlc(s->hlc, oh);
                        fprintf(out, "; resolved by feed %s seq %" PRIu64
                                     " at %s, which replaced this edit",
                                ok, s->seq, oh);
                    }
                }
            }
            fputc('\n', out);
        }
    }
    if (t->dropped > 0)
        fprintf(out, "... and %" PRIu64 " more records not kept.\n",
                t->dropped);
    return ferror(out);
}
