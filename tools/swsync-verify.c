/* swsync-verify: check log files (FORMAT §3-§8) and report every problem
 * with its file offset; the operator's and auditor's first tool. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "problem.h"
#include "swlog.h"
#include "verify_loop.h"

static const char usage[] =
    "usage: swsync-verify [--quiet] [--json] FILE...\n"
    "\n"
    "Checks each swsync log file: the file header, every frame's envelope\n"
    "and CRC32C, strict decoding, payload hash and Ed25519 signature, the\n"
    "chain of every feed in the file (seq without gaps, prev = id of the\n"
    "previous frame), and torn tails or damage in the middle. Given several\n"
    "files, it also finds forks between them: two different frames with the\n"
    "same feed and seq.\n"
    "\n"
    "Each problem is one line:\n"
    "  swsync-verify: FILE:OFFSET: feed 3b6a…91 seq 12: MESSAGE (SWLOG_CODE)\n"
    "(the feed is shortened: first 4 and last 2 hex digits of the key; --json\n"
    "gives it in full), then a summary line per file. Messages name offsets,\n"
    "feeds and codes, never record contents.\n"
    "\n"
    "  --quiet  print problems only, no summaries\n"
    "  --json   one JSON object per line: {\"type\":\"problem\",...} and\n"
    "           {\"type\":\"summary\",...}; integers above 2^53 are strings\n"
    "  --help   this text\n"
    "\n"
    "Exit status:\n"
    "  0  every file valid\n"
    "  1  a problem found in some file: invalid frame, broken chain, fork,\n"
    "     bad header, damage in the middle of a file (SWLOG_ECORRUPT)\n"
    "  2  usage error, or a file could not be read (and no problem of\n"
    "     status 1 was found elsewhere)\n"
    "  3  every file valid, but at least one ends in a torn tail: recover it\n"
    "     (open it for appending with the agent) before appending\n"
    "\n"
    "Memory: streaming, one frame at a time. With more than one file the\n"
    "fork check keeps 72 bytes (feed key, frame id, seq) per frame of all\n"
    "files, about 80-125 bytes per frame with its hash index: ~100 MB per\n"
    "million frames. With one file there is no fork index.\n";

typedef struct opts {
    int quiet, json;
} opts;

static int on_problem(void *ctx, const verify_problem *p)
{
    const opts *o = ctx;
    return o->json ? problem_json(stdout, p)
                   : problem_text(stdout, "swsync-verify: ", p);
}

static const char *result_word(int status)
{
    switch (status) {
    case VERIFY_VALID: return "valid";
    case VERIFY_INVALID: return "invalid";
    case VERIFY_TORN: return "torn";
    default: return "unreadable";
    }
}

static void summary(const opts *o, const char *path, const verify_stats *st)
{
    if (o->quiet)
        return;
    if (o->json) {
        fputs("{\"type\":\"summary\",\"file\":", stdout);
        fmt_json_cstr(stdout, path);
        const struct {
            const char *k;
            uint64_t v;
        } f[] = {
            {"frames", st->frames},   {"bad_frames", st->bad_frames},
            {"feeds", st->feeds},     {"changesets", st->changesets},
            {"records", st->records}, {"bytes", st->bytes},
            {"torn_bytes", st->torn}, {"problems", st->problems},
        };
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
            printf(",\"%s\":", f[i].k);
            fmt_json_u64(stdout, f[i].v);
        }
        printf(",\"result\":\"%s\"}\n", result_word(st->status));
        return;
    }
    printf("swsync-verify: %s: %" PRIu64 " frames, %" PRIu64 " feeds, %" PRIu64
           " change-sets, %" PRIu64 " records, %" PRIu64 " bytes: ",
           path, st->frames, st->feeds, st->changesets, st->records, st->bytes);
    switch (st->status) {
    case VERIFY_VALID: puts("valid"); break;
    case VERIFY_TORN:
        printf("valid, with a torn tail of %" PRIu64
               " bytes (recover before appending)\n",
               st->torn);
        break;
    case VERIFY_INVALID:
        printf("INVALID (%" PRIu64 " problem%s)\n", st->problems,
               st->problems == 1 ? "" : "s");
        break;
    default: puts("NOT CHECKED (could not be read)");
    }
}

int main(int argc, char **argv)
{
    opts o = {0, 0};
    char **files = calloc((size_t)argc, sizeof *files);
    int nfiles = 0, opts_done = 0;
    if (files == NULL)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts_done || a[0] != '-' || a[1] == '\0') {
            files[nfiles++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            opts_done = 1;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o.quiet = 1;
        } else if (strcmp(a, "--json") == 0) {
            o.json = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            free(files);
            return 0;
        } else {
            fprintf(stderr, "swsync-verify: unknown option %s\n%s", a, usage);
            free(files);
            return 2;
        }
    }
    if (nfiles == 0) {
        fputs(usage, stderr);
        free(files);
        return 2;
    }
    if (swlog_init() != SWLOG_OK) {
        fputs("swsync-verify: libsodium failed to start\n", stderr);
        free(files);
        return 2;
    }

    /* Forks between files need an index of every frame; one file needs
     * none (its chains refuse a repeated seq). */
    verify_loop_opts vo = {0, 0, NULL, 0, 0, NULL, NULL};
    if (nfiles > 1 && (vo.forks = fork_index_new()) == NULL) {
        fputs("swsync-verify: out of memory\n", stderr);
        free(files);
        return 2;
    }
    verify_loop_cb cb = {&o, NULL, NULL, on_problem};
    int status = VERIFY_VALID;
    for (int i = 0; i < nfiles; i++) {
        verify_stats st;
        verify_loop_file(files[i], &vo, &cb, &st);
        summary(&o, files[i], &st);
        status = verify_loop_combine(status, st.status);
    }
    fork_index_free(vo.forks);
    free(files);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("swsync-verify: cannot write the report\n", stderr);
        return 2;
    }
    return status;
}
