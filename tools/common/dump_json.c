/* The JSON-lines form of swsync-dump: one object per file header, frame,
 * record, problem and file end (FORMAT §4-§7 fields under the spec's
 * names). Integers beyond ±2^53 are decimal strings (fmt.h). */
#include "dump.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

static void key_hex(FILE *out, const char *name, const uint8_t *p, size_t n)
{
    fprintf(out, ",\"%s\":\"", name);
    fmt_hex(out, p, n);
    putc('"', out);
}

static void key_u64(FILE *out, const char *name, uint64_t v)
{
    fprintf(out, ",\"%s\":", name);
    fmt_json_u64(out, v);
}

/* An HLC as its raw value plus its two readable parts (FORMAT §1.4). */
static void key_hlc(FILE *out, const char *name, uint64_t hlc)
{
    char t[FMT_TIME_BYTES];
    key_u64(out, name, hlc);
    fmt_ms(hlc >> 16, t);
    fprintf(out, ",\"%s_time\":\"%s\",\"%s_counter\":%u", name, t, name,
            (unsigned)(hlc & 0xffff));
}

static void key_ms(FILE *out, const char *name, uint64_t ms)
{
    char t[FMT_TIME_BYTES];
    key_u64(out, name, ms);
    fmt_ms(ms, t);
    fprintf(out, ",\"%s_time\":\"%s\"", name, t);
}

int dump_json_open(FILE *out, const char *path,
                   const uint8_t salt[SWLOG_SALT_BYTES])
{
    fputs("{\"type\":\"file\",\"file\":", out);
    fmt_json_cstr(out, path);
    fprintf(out, ",\"version\":%d", SWLOG_FILE_VERSION);
    key_hex(out, "salt", salt, SWLOG_SALT_BYTES);
    fputs("}\n", out);
    return ferror(out);
}

static void value_json(FILE *out, const swlog_column *c)
{
    const swlog_value *v = &c->value;
    fputs("{\"column\":", out);
    fmt_json_str(out, c->name, c->name_len);
    if (c->replaced_hlc != 0)
        key_hlc(out, "replaced_hlc", c->replaced_hlc);
    else
        fputs(",\"replaced_hlc\":null", out);
    fprintf(out, ",\"value_type\":\"%s\",\"value\":", dump_vtype_name(v->type));
    switch (v->type) {
    case SWLOG_INT: fmt_json_i64(out, v->i); break;
    case SWLOG_REAL: fmt_json_real(out, v->r); break;
    case SWLOG_TEXT: fmt_json_str(out, v->p, v->len); break;
    case SWLOG_BLOB:
        putc('"', out);
        fmt_hex(out, v->p, v->len);
        putc('"', out);
        break;
    default: fputs("null", out);
    }
    putc('}', out);
}

/* One "record" object per record, after its frame's object. */
static void records_json(FILE *out, const verify_frame *vf)
{
    swlog_reader *rd = malloc(sizeof *rd);
    swlog_error err = {0};
    int rc = rd == NULL ? SWLOG_ENOMEM : swlog_reader_init(rd, vf->frame, &err);
    swlog_record rec;
    for (uint32_t n = 1; rc == SWLOG_OK || rc == 1; n++) {
        if ((rc = swlog_reader_next(rd, &rec, &err)) != 1)
            break;
        char uuid[37];
        swlog_uuid_format(rec.row_id, uuid);
        fputs("{\"type\":\"record\",\"file\":", out);
        fmt_json_cstr(out, vf->path);
        key_u64(out, "frame_offset", vf->offset);
        key_u64(out, "index", n);
        fprintf(out, ",\"kind\":\"%s\",\"table\":",
                rec.kind == SWLOG_UPSERT ? "upsert" : "delete");
        fmt_json_str(out, rec.table, rec.table_len);
        fprintf(out, ",\"row_id\":\"%s\"", uuid);
        key_hlc(out, "hlc", rec.hlc);
        if (rec.kind == SWLOG_DELETE) {
            key_u64(out, "replaced_hlc", rec.replaced_hlc);
        } else {
            fputs(",\"values\":[", out);
            swlog_column col;
            for (int i = 0; (rc = swlog_reader_value(rd, &col, &err)) == 1;
                 i++) {
                if (i > 0)
                    putc(',', out);
                value_json(out, &col);
            }
            putc(']', out);
        }
        fputs("}\n", out);
    }
    if (rc < 0) {
        fputs("{\"type\":\"problem\",\"file\":", out);
        fmt_json_cstr(out, vf->path);
        key_u64(out, "offset", vf->offset);
        fprintf(out, ",\"severity\":\"error\",\"code\":\"%s\",\"message\":",
                swlog_code_name(rc));
        fmt_json_cstr(out, rc == SWLOG_ENOMEM ? "out of memory" : err.msg);
        fputs("}\n", out);
    }
    free(rd);
}

static void fields_json(FILE *out, const swlog_frame *f)
{
    switch (f->type) {
    case SWLOG_TYPE_CHANGESET:
        key_u64(out, "schema_version", f->u.changeset.schema_version);
        key_u64(out, "record_count", f->u.changeset.record_count);
        fputs(",\"author\":", out);
        fmt_json_str(out, f->u.changeset.author, f->u.changeset.author_len);
        break;
    case SWLOG_TYPE_CERT:
        key_hex(out, "subject", f->u.cert.subject, SWLOG_PUBKEY_BYTES);
        fprintf(out, ",\"role\":%u,\"role_name\":\"%s\"", f->u.cert.role,
                dump_role_name(f->u.cert.role));
        key_ms(out, "valid_from", f->u.cert.valid_from);
        key_ms(out, "valid_until", f->u.cert.valid_until);
        fputs(",\"unit\":", out);
        fmt_json_str(out, (const uint8_t *)f->u.cert.unit,
                     strnlen(f->u.cert.unit, SWLOG_MAX_UNIT));
        break;
    case SWLOG_TYPE_ROTATION:
        key_hex(out, "new_key", f->u.rotation.new_key, SWLOG_PUBKEY_BYTES);
        key_hex(out, "new_sig", f->u.rotation.new_sig, SWLOG_SIG_BYTES);
        break;
    case SWLOG_TYPE_REVOCATION:
        key_hex(out, "subject", f->u.revocation.subject, SWLOG_PUBKEY_BYTES);
        key_u64(out, "from_seq", f->u.revocation.from_seq);
        key_ms(out, "from_time", f->u.revocation.from_time);
        fprintf(out, ",\"reason\":%u,\"reason_name\":\"%s\"",
                f->u.revocation.reason,
                dump_reason_name(f->u.revocation.reason));
        break;
    case SWLOG_TYPE_CHECKPOINT:
        key_u64(out, "tree_size", f->u.checkpoint.tree_size);
        key_hex(out, "root", f->u.checkpoint.root, SWLOG_HASH_BYTES);
        break;
    default: break;
    }
}

int dump_json_frame(FILE *out, const verify_frame *vf)
{
    const peek_header *h = &vf->peek;
    fputs("{\"type\":\"frame\",\"file\":", out);
    fmt_json_cstr(out, vf->path);
    key_u64(out, "offset", vf->offset);
    key_u64(out, "body_len", vf->body_len);
    fprintf(out, ",\"valid\":%s,\"code\":\"%s\"",
            vf->code == SWLOG_OK ? "true" : "false", swlog_code_name(vf->code));
    if (vf->has_header) {
        char k[FMT_KEY_SHORT_BYTES];
        fmt_key_short(h->signer, k);
        fprintf(out, ",\"frame_type\":\"%s\",\"type_code\":%u",
                dump_type_name(h->type), h->type);
        key_hex(out, "feed", h->signer, SWLOG_PUBKEY_BYTES);
        fprintf(out, ",\"feed_short\":\"%s\"", k);
        key_u64(out, "seq", h->seq);
        key_hlc(out, "hlc", h->hlc);
        if (h->has_id)
            key_hex(out, "id", h->id, SWLOG_HASH_BYTES);
        key_hex(out, "prev", h->prev, SWLOG_HASH_BYTES);
    }
    if (vf->frame != NULL) {
        fprintf(out, ",\"authentic\":%s",
                vf->code == SWLOG_ESIG ? "false" : "true");
        fields_json(out, vf->frame);
    }
    fputs("}\n", out);
    if (vf->frame != NULL && vf->frame->type == SWLOG_TYPE_CHANGESET)
        records_json(out, vf);
    return ferror(out);
}

int dump_json_end(FILE *out, const char *path, const verify_stats *st)
{
    static const char *const result[] = {"valid", "invalid", "unreadable",
                                         "torn"};
    fputs("{\"type\":\"end\",\"file\":", out);
    fmt_json_cstr(out, path);
    key_u64(out, "frames", st->frames);
    key_u64(out, "bad_frames", st->bad_frames);
    key_u64(out, "changesets", st->changesets);
    key_u64(out, "records", st->records);
    key_u64(out, "bytes", st->bytes);
    key_u64(out, "torn_bytes", st->torn);
    fprintf(out, ",\"result\":\"%s\"}\n", result[st->status]);
    return ferror(out);
}
