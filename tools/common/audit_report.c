/* The auditor's report in words, JSON lines and HTML: spec/SECURITY.md
 * §8.6. */
#include "audit_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

static const struct {
    const char *name, *title;
} kinds[AUDIT_K_COUNT] = {
    [AUDIT_K_UNREADABLE] = {"unreadable", "File could not be read"},
    [AUDIT_K_DAMAGED] = {"damaged", "Damaged or not a log file"},
    [AUDIT_K_ALTERED] = {"altered", "Frame altered or malformed"},
    [AUDIT_K_ORDER] = {"order", "Feed out of order or with a gap"},
    [AUDIT_K_FORK] = {"fork", "Forked feed: two different frames with one number"},
    [AUDIT_K_NO_CERT] = {"no_certificate", "Signer without a valid certificate"},
    [AUDIT_K_WRONG_ISSUER] = {"wrong_issuer", "Certificate by an issuer not allowed to issue it"},
    [AUDIT_K_EXPIRED] = {"expired", "Signed after the certificate expired"},
    [AUDIT_K_NOT_YET] = {"not_yet_valid", "Signed before the certificate was valid"},
    [AUDIT_K_REVOKED] = {"revoked", "Signed after the key was revoked"},
    [AUDIT_K_ROTATED] = {"after_rotation", "Signed by a key after it was rotated away"},
    [AUDIT_K_NOT_HUB] = {"checkpoint_signer", "Checkpoint signed by a key that is not a hub's"},
    [AUDIT_K_RECEIPT_DROPPED] = {"receipt_dropped", "Hub history no longer holds what it receipted"},
    [AUDIT_K_CP_INCONSISTENT] = {"checkpoint_inconsistent", "Hub checkpoints that contradict each other"},
    [AUDIT_K_RECEIPT_INVALID] = {"receipt_invalid", "Stored receipt that proves nothing"},
    [AUDIT_K_UNIT_CODE] = {"unit_code", "Unit code outside the signer's own"},
    [AUDIT_K_TORN] = {"torn", "Torn tail (an interrupted write, not tampering)"},
};

const char *audit_kind_name(int kind)
{
    return kind >= 0 && kind < AUDIT_K_COUNT ? kinds[kind].name : "unknown";
}

const char *audit_kind_title(int kind)
{
    return kind >= 0 && kind < AUDIT_K_COUNT ? kinds[kind].title : "Unknown";
}

void audit_report_init(audit_report *r, const char *const *files,
                       uint32_t nfiles)
{
    memset(r, 0, sizeof *r);
    r->files = files;
    r->nfiles = nfiles;
}

void audit_report_clear(audit_report *r)
{
    free(r->f);
    r->f = NULL;
    r->n = r->cap = 0;
}

audit_finding *audit_report_add(audit_report *r, const audit_finding *f)
{
    if (r->n >= AUDIT_MAX_FINDINGS) {
        r->dropped++;
        return NULL;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap < 16 ? 16 : r->cap * 2;
        audit_finding *p = realloc(r->f, cap * sizeof *p);
        if (p == NULL) {
            r->dropped++;
            return NULL;
        }
        r->f = p;
        r->cap = cap;
    }
    r->f[r->n] = *f;
    return &r->f[r->n++];
}

uint64_t audit_report_problems(const audit_report *r)
{
    uint64_t n = r->dropped;
    for (size_t i = 0; i < r->n; i++)
        n += !r->f[i].warning;
    return n;
}

static const char *file_name(const audit_report *r, uint32_t file)
{
    return file < r->nfiles ? r->files[file] : "(unknown file)";
}

/* 1234567 -> "1,234,567" */
static void num(char out[32], uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), j = 0;
    for (int i = 0; i < n; i++) {
        out[j++] = tmp[i];
        if ((n - i - 1) % 3 == 0 && i != n - 1)
            out[j++] = ',';
    }
    out[j] = '\0';
}

static void seqs(char out[64], const audit_finding *f)
{
    if (f->seq_lo == f->seq_hi)
        snprintf(out, 64, "seq %" PRIu64, f->seq_lo);
    else
        snprintf(out, 64, "seq %" PRIu64 "-%" PRIu64 " (%" PRIu64 " frames)",
                 f->seq_lo, f->seq_hi, f->frames);
}

static void summary_line(FILE *out, const audit_report *r)
{
    char a[32], b[32], c[32], d[32], e[32];
    num(a, r->s.files);
    num(b, r->s.feeds);
    num(c, r->s.frames);
    num(d, r->s.records);
    num(e, r->s.copies);
    fprintf(out,
            "Checked %s file%s, %s feed%s, %s frame%s (%s more were copies "
            "of frames already checked), %s record%s.\n",
            a, r->s.files == 1 ? "" : "s", b, r->s.feeds == 1 ? "" : "s", c,
            r->s.frames == 1 ? "" : "s", e, d, r->s.records == 1 ? "" : "s");
}

/* "offset" in a log, "row" in a database. */
static const char *at_word(const audit_report *r, uint32_t file)
{
    return r->is_db != NULL && file < r->nfiles && r->is_db[file] ? "row"
                                                                  : "offset";
}

int audit_report_text(FILE *out, const audit_report *r)
{
    uint64_t problems = audit_report_problems(r);
    summary_line(out, r);
    fprintf(out,
            "What was checked: every frame's bytes and signature, every "
            "feed's numbering and chain,\nforks between files, the "
            "certificate of every signing key at the moment it signed\n"
            "(root, issuer roles, validity, revocations, rotations), and "
            "hub checkpoints");
    if (r->s.ledgers > 0)
        fprintf(out, " against %" PRIu64 " hub ledger%s", r->s.ledgers,
                r->s.ledgers == 1 ? "" : "s");
    fprintf(out, ".\n");
    fprintf(out, "Key frames: %" PRIu64 "; checkpoints: %" PRIu64
                 " (%" PRIu64 " recomputed and matching).\n",
            r->s.key_frames, r->s.checkpoints, r->s.checkpoints_matched);
    if (r->s.replicas > 0)
        fprintf(out, "Receipts stored by %" PRIu64 " station replica%s: %"
                     PRIu64 " checked, %" PRIu64 " proven.\n",
                r->s.replicas, r->s.replicas == 1 ? "" : "s", r->s.receipts,
                r->s.receipts_ok);
    if (r->stats)
        fprintf(out,
                "Time: %.2f s (%.2f s of CPU); peak memory: %" PRIu64
                " KiB.\n",
                r->s.seconds, r->s.cpu_seconds, r->s.peak_rss_kb);
    if (problems == 0)
        fprintf(out, "All signatures valid. No problems found.\n");
    else
        fprintf(out, "%" PRIu64 " problem%s:\n", problems,
                problems == 1 ? "" : "s");
    for (size_t i = 0; i < r->n; i++) {
        const audit_finding *f = &r->f[i];
        fprintf(out, "\n%s %zu. %s\n", f->warning ? "Note" : "Problem", i + 1,
                audit_kind_title(f->kind));
        if (f->file != UINT32_MAX)
            fprintf(out, "   where: %s, %s %" PRIu64 "\n",
                    file_name(r, f->file), at_word(r, f->file), f->offset);
        if (f->has_feed) {
            char k[FMT_KEY_SHORT_BYTES], s[64];
            fmt_key_short(f->feed, k);
            seqs(s, f);
            fprintf(out, "   feed:  %s, %s\n", k, s);
        }
        fprintf(out, "   what:  %s\n", f->msg);
        if (f->has_ref) {
            fprintf(out, "   see:   %s: %s, %s %" PRIu64, f->ref_label,
                    file_name(r, f->ref_file), at_word(r, f->ref_file),
                    f->ref_offset);
            if (f->has_ref_feed) {
                char k[FMT_KEY_SHORT_BYTES];
                fmt_key_short(f->ref_feed, k);
                fprintf(out, " (feed %s seq %" PRIu64 ")", k, f->ref_seq);
            }
            fputc('\n', out);
        }
    }
    if (r->dropped > 0)
        fprintf(out, "\n... and %" PRIu64 " more problems not listed.\n",
                r->dropped);
    return ferror(out);
}

static void json_finding(FILE *out, const audit_report *r,
                         const audit_finding *f)
{
    fprintf(out, "{\"type\":\"finding\",\"kind\":\"%s\",\"severity\":\"%s\"",
            audit_kind_name(f->kind), f->warning ? "warning" : "error");
    if (f->code != SWLOG_OK)
        fprintf(out, ",\"code\":\"%s\"", swlog_code_name(f->code));
    if (f->file != UINT32_MAX) {
        fputs(",\"file\":", out);
        fmt_json_cstr(out, file_name(r, f->file));
        fputs(",\"offset\":", out);
        fmt_json_u64(out, f->offset);
    }
    if (f->has_feed) {
        fputs(",\"feed\":\"", out);
        fmt_hex(out, f->feed, SWLOG_PUBKEY_BYTES);
        fputs("\",\"seq\":", out);
        fmt_json_u64(out, f->seq_lo);
        fputs(",\"seq_last\":", out);
        fmt_json_u64(out, f->seq_hi);
        fputs(",\"frames\":", out);
        fmt_json_u64(out, f->frames);
    }
    fputs(",\"message\":", out);
    fmt_json_cstr(out, f->msg);
    if (f->has_ref) {
        fputs(",\"evidence\":{\"what\":", out);
        fmt_json_cstr(out, f->ref_label);
        fputs(",\"file\":", out);
        fmt_json_cstr(out, file_name(r, f->ref_file));
        fputs(",\"offset\":", out);
        fmt_json_u64(out, f->ref_offset);
        if (f->has_ref_feed) {
            fputs(",\"feed\":\"", out);
            fmt_hex(out, f->ref_feed, SWLOG_PUBKEY_BYTES);
            fputs("\",\"seq\":", out);
            fmt_json_u64(out, f->ref_seq);
        }
        fputc('}', out);
    }
    fputs("}\n", out);
}

int audit_report_json(FILE *out, const audit_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        json_finding(out, r, &r->f[i]);
    const struct {
        const char *k;
        uint64_t v;
    } s[] = {
        {"files", r->s.files},
        {"unreadable", r->s.unreadable},
        {"feeds", r->s.feeds},
        {"frames", r->s.frames},
        {"copies", r->s.copies},
        {"changesets", r->s.changesets},
        {"records", r->s.records},
        {"key_frames", r->s.key_frames},
        {"checkpoints", r->s.checkpoints},
        {"checkpoints_matched", r->s.checkpoints_matched},
        {"ledgers", r->s.ledgers},
        {"replicas", r->s.replicas},
        {"receipts", r->s.receipts},
        {"receipts_proven", r->s.receipts_ok},
        {"bytes", r->s.bytes},
        {"problems", audit_report_problems(r)},
        {"not_listed", r->dropped},
    };
    fputs("{\"type\":\"summary\"", out);
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        fprintf(out, ",\"%s\":", s[i].k);
        fmt_json_u64(out, s[i].v);
    }
    if (r->stats)
        fprintf(out,
                ",\"seconds\":%.3f,\"cpu_seconds\":%.3f,\"peak_rss_kb\":%" PRIu64,
                r->s.seconds, r->s.cpu_seconds, r->s.peak_rss_kb);
    fprintf(out, ",\"result\":\"%s\"}\n",
            audit_report_problems(r) == 0 ? "clean" : "problems");
    return ferror(out);
}

/* HTML text: escape the five special characters; bytes that are not
 * printable ASCII or UTF-8 pass through fmt_text's escaping first. */
static void h(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default:
            if ((unsigned char)*s < 0x20)
                fprintf(out, "&#%u;", (unsigned)(unsigned char)*s);
            else
                fputc(*s, out);
        }
    }
}

int audit_report_html(const char *path, const audit_report *r)
{
    FILE *out = fopen(path, "w");
    if (out == NULL)
        return -1;
    uint64_t problems = audit_report_problems(r);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>swsync audit report</title><style>"
          "body{font-family:sans-serif;max-width:60em;margin:2em auto;}"
          "table{border-collapse:collapse}td,th{border:1px solid #999;"
          "padding:.3em .6em;text-align:left;vertical-align:top}"
          ".ok{color:#060}.bad{color:#a00}code{font-size:90%}"
          "</style></head><body>\n<h1>swsync audit report</h1>\n",
          out);
    char a[32];
    fputs("<table>", out);
    const struct {
        const char *k;
        uint64_t v;
    } s[] = {
        {"Files checked", r->s.files},
        {"Feeds", r->s.feeds},
        {"Frames", r->s.frames},
        {"Copies of frames already checked", r->s.copies},
        {"Records", r->s.records},
        {"Key frames", r->s.key_frames},
        {"Checkpoints", r->s.checkpoints},
        {"Checkpoints recomputed and matching", r->s.checkpoints_matched},
        {"Hub ledgers", r->s.ledgers},
        {"Receipts stored by stations, checked", r->s.receipts},
        {"Receipts proven", r->s.receipts_ok},
        {"Problems", problems},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        num(a, s[i].v);
        fprintf(out, "<tr><th>%s</th><td>%s</td></tr>", s[i].k, a);
    }
    fputs("</table>\n", out);
    if (problems == 0)
        fputs("<p class=\"ok\">All signatures valid. No problems "
              "found.</p>\n",
              out);
    else
        fprintf(out, "<p class=\"bad\">%" PRIu64 " problem%s found.</p>\n",
                problems, problems == 1 ? "" : "s");
    fputs("<h2>Files</h2><ol>", out);
    for (uint32_t i = 0; i < r->nfiles; i++) {
        fputs("<li><code>", out);
        h(out, r->files[i]);
        fputs("</code></li>", out);
    }
    fputs("</ol>\n", out);
    if (r->n > 0) {
        fputs("<h2>Findings</h2><table><tr><th>#</th><th>Finding</th>"
              "<th>Where</th><th>Feed and sequence</th><th>Explanation</th>"
              "<th>Evidence</th></tr>\n",
              out);
        for (size_t i = 0; i < r->n; i++) {
            const audit_finding *f = &r->f[i];
            fprintf(out, "<tr><td>%zu</td><td>", i + 1);
            h(out, audit_kind_title(f->kind));
            fputs("</td><td>", out);
            if (f->file != UINT32_MAX) {
                fputs("<code>", out);
                h(out, file_name(r, f->file));
                fprintf(out, "</code> %s %" PRIu64, at_word(r, f->file),
                        f->offset);
            }
            fputs("</td><td>", out);
            if (f->has_feed) {
                char sq[64];
                seqs(sq, f);
                fputs("<code>", out);
                fmt_hex(out, f->feed, SWLOG_PUBKEY_BYTES);
                fputs("</code> ", out);
                h(out, sq);
            }
            fputs("</td><td>", out);
            h(out, f->msg);
            fputs("</td><td>", out);
            if (f->has_ref) {
                h(out, f->ref_label);
                fputs(": <code>", out);
                h(out, file_name(r, f->ref_file));
                fprintf(out, "</code> %s %" PRIu64, at_word(r, f->ref_file),
                        f->ref_offset);
            }
            fputs("</td></tr>\n", out);
        }
        fputs("</table>\n", out);
    }
    fputs("<p>Produced by swsync-audit from the root public key and the "
          "files listed; see spec/SECURITY.md §8.</p></body></html>\n",
          out);
    int bad = ferror(out);
    if (fclose(out) != 0 || bad)
        return -1;
    return 0;
}
