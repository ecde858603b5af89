/* The human form of swsync-dump: one block per frame, one line per record
 * and per value (FORMAT §4-§7 fields, in the order the spec lists them). */
#include "dump.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

int dump_text_open(FILE *out, const char *path,
                   const uint8_t salt[SWLOG_SALT_BYTES])
{
    fprintf(out, "file %s: swlog version %d, salt ", path, SWLOG_FILE_VERSION);
    fmt_hex(out, salt, SWLOG_SALT_BYTES);
    putc('\n', out);
    return ferror(out);
}

static void print_hlc(FILE *out, const char *label, uint64_t hlc)
{
    char t[FMT_HLC_BYTES];
    fmt_hlc(hlc, t);
    fprintf(out, "%s%s", label, t);
}

static void print_value(FILE *out, const swlog_column *c)
{
    const swlog_value *v = &c->value;
    fputs("      ", out);
    fwrite(c->name, 1, c->name_len, out);
    fprintf(out, " = %s", dump_vtype_name(v->type));
    switch (v->type) {
    case SWLOG_INT: fprintf(out, " %" PRId64, v->i); break;
    case SWLOG_REAL: fprintf(out, " %.17g", v->r); break;
    case SWLOG_TEXT:
        putc(' ', out);
        fmt_text(out, v->p, v->len);
        break;
    case SWLOG_BLOB:
        fprintf(out, " %zu bytes ", v->len);
        fmt_hex(out, v->p,
                v->len > DUMP_TEXT_BLOB_MAX ? DUMP_TEXT_BLOB_MAX : v->len);
        if (v->len > DUMP_TEXT_BLOB_MAX)
            fputs("\xe2\x80\xa6", out);
        break;
    default: break;
    }
    if (c->replaced_hlc != 0) {
        print_hlc(out, "  (replaces ", c->replaced_hlc);
        putc(')', out);
    }
    putc('\n', out);
}

/* Walk the records of a decoded change-set. A reader error cannot follow a
 * successful decode; it is reported anyway rather than trusted away. */
static void print_records(FILE *out, const swlog_frame *f)
{
    swlog_reader *rd = malloc(sizeof *rd);
    swlog_error err = {0};
    if (rd == NULL || swlog_reader_init(rd, f, &err) != SWLOG_OK) {
        fprintf(out, "    (records not readable: %s)\n",
                rd == NULL ? "out of memory" : err.msg);
        free(rd);
        return;
    }
    swlog_record rec;
    int rc;
    for (uint32_t n = 1; (rc = swlog_reader_next(rd, &rec, &err)) == 1; n++) {
        char uuid[37];
        swlog_uuid_format(rec.row_id, uuid);
        fprintf(out, "    record %" PRIu32 ": %s ", n,
                rec.kind == SWLOG_UPSERT ? "upsert" : "delete");
        fwrite(rec.table, 1, rec.table_len, out);
        fprintf(out, " %s", uuid);
        print_hlc(out, " hlc ", rec.hlc);
        if (rec.kind == SWLOG_DELETE && rec.replaced_hlc != 0) {
            print_hlc(out, " (replaces ", rec.replaced_hlc);
            putc(')', out);
        }
        putc('\n', out);
        swlog_column col;
        while ((rc = swlog_reader_value(rd, &col, &err)) == 1)
            print_value(out, &col);
        if (rc < 0)
            break;
    }
    if (rc < 0)
        fprintf(out, "    (records not readable: %s)\n", err.msg);
    free(rd);
}

static void print_fields(FILE *out, const swlog_frame *f)
{
    char a[FMT_TIME_BYTES], b[FMT_TIME_BYTES];
    switch (f->type) {
    case SWLOG_TYPE_CHANGESET:
        fprintf(out, "    schema %" PRIu32 ", %" PRIu32 " record%s, author ",
                f->u.changeset.schema_version, f->u.changeset.record_count,
                f->u.changeset.record_count == 1 ? "" : "s");
        fmt_text(out, f->u.changeset.author, f->u.changeset.author_len);
        putc('\n', out);
        print_records(out, f);
        break;
    case SWLOG_TYPE_CERT:
        fmt_ms(f->u.cert.valid_from, a);
        fmt_ms(f->u.cert.valid_until, b);
        fputs("    subject ", out);
        fmt_hex(out, f->u.cert.subject, SWLOG_PUBKEY_BYTES);
        fprintf(out, "\n    role %s (%u), valid %s to %s, unit ",
                dump_role_name(f->u.cert.role), f->u.cert.role, a, b);
        fmt_text(out, (const uint8_t *)f->u.cert.unit,
                 strnlen(f->u.cert.unit, SWLOG_MAX_UNIT));
        putc('\n', out);
        break;
    case SWLOG_TYPE_ROTATION:
        fputs("    new key ", out);
        fmt_hex(out, f->u.rotation.new_key, SWLOG_PUBKEY_BYTES);
        putc('\n', out);
        break;
    case SWLOG_TYPE_REVOCATION:
        fputs("    subject ", out);
        fmt_hex(out, f->u.revocation.subject, SWLOG_PUBKEY_BYTES);
        fprintf(out, "\n    from seq %" PRIu64 ", from time ",
                f->u.revocation.from_seq);
        if (f->u.revocation.from_time == 0) {
            fputs("(none)", out);
        } else {
            fmt_ms(f->u.revocation.from_time, a);
            fputs(a, out);
        }
        fprintf(out, ", reason %s (%u)\n",
                dump_reason_name(f->u.revocation.reason),
                f->u.revocation.reason);
        break;
    case SWLOG_TYPE_CHECKPOINT:
        fprintf(out, "    tree size %" PRIu64 ", root ",
                f->u.checkpoint.tree_size);
        fmt_hex(out, f->u.checkpoint.root, SWLOG_HASH_BYTES);
        putc('\n', out);
        break;
    default:
        fprintf(out,
                "    unknown non-critical type 0x%02x, %" PRIu32
                " payload bytes (kept, not interpreted)\n",
                f->type, f->payload_len);
    }
}

int dump_text_frame(FILE *out, const verify_frame *vf, int new_feed)
{
    const peek_header *h = &vf->peek;
    fprintf(out, "@%" PRIu64 " ", vf->offset);
    if (!vf->has_header) {
        fprintf(out,
                "frame of %zu bytes, too short for a header: INVALID "
                "(%s)\n",
                vf->body_len, swlog_code_name(vf->code));
        return ferror(out);
    }
    char k[FMT_KEY_SHORT_BYTES];
    fmt_key_short(h->signer, k);
    fprintf(out, "%s (0x%02x) feed %s seq %" PRIu64, dump_type_name(h->type),
            h->type, k, h->seq);
    print_hlc(out, " hlc ", h->hlc);
    if (vf->code != SWLOG_OK)
        fprintf(out, "  INVALID (%s)", swlog_code_name(vf->code));
    putc('\n', out);
    if (new_feed) {
        fputs("    feed ", out);
        fmt_hex(out, h->signer, SWLOG_PUBKEY_BYTES);
        putc('\n', out);
    }
    if (h->has_id) {
        fputs("    id   ", out);
        fmt_hex(out, h->id, SWLOG_HASH_BYTES);
        putc('\n', out);
    }
    fputs("    prev ", out);
    fmt_hex(out, h->prev, SWLOG_HASH_BYTES);
    putc('\n', out);
    if (vf->frame != NULL) {
        if (vf->code == SWLOG_ESIG)
            fputs("    (signature does not verify: content shown as "
                  "found, not authentic)\n",
                  out);
        print_fields(out, vf->frame);
    }
    return ferror(out);
}

int dump_text_end(FILE *out, const char *path, const verify_stats *st)
{
    fprintf(out,
            "end %s: %" PRIu64 " frames (%" PRIu64 " invalid), %" PRIu64
            " change-sets, %" PRIu64 " records, %" PRIu64 " bytes",
            path, st->frames, st->bad_frames, st->changesets, st->records,
            st->bytes);
    if (st->torn > 0)
        fprintf(out, ", torn tail of %" PRIu64 " bytes", st->torn);
    putc('\n', out);
    return ferror(out);
}
