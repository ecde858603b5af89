/* The one-line report of a verification problem, in text and JSON. */
#include "problem.h"

#include <inttypes.h>

#include "fmt.h"

int problem_text(FILE *out, const char *prefix, const verify_problem *p)
{
    fprintf(out, "%s%s:%" PRIu64 ": ", prefix, p->path, p->offset);
    if (p->has_feed) {
        char k[FMT_KEY_SHORT_BYTES];
        fmt_key_short(p->feed, k);
        fprintf(out, "feed %s seq %" PRIu64 ": ", k, p->seq);
    }
    if (p->severity == VERIFY_WARNING)
        fprintf(out, "warning: %s\n", p->msg);
    else
        fprintf(out, "%s (%s)\n", p->msg, swlog_code_name(p->code));
    return ferror(out);
}

int problem_json(FILE *out, const verify_problem *p)
{
    fputs("{\"type\":\"problem\",\"file\":", out);
    fmt_json_cstr(out, p->path);
    fputs(",\"offset\":", out);
    fmt_json_u64(out, p->offset);
    if (p->has_feed) {
        fputs(",\"feed\":\"", out);
        fmt_hex(out, p->feed, sizeof p->feed);
        fputs("\",\"seq\":", out);
        fmt_json_u64(out, p->seq);
    }
    fprintf(out, ",\"severity\":\"%s\",\"code\":\"%s\",\"message\":",
            p->severity == VERIFY_WARNING ? "warning" : "error",
            p->severity == VERIFY_WARNING ? "torn" : swlog_code_name(p->code));
    fmt_json_cstr(out, p->msg);
    fputs("}\n", out);
    return ferror(out);
}
