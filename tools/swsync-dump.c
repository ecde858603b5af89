/* swsync-dump: print every frame of swsync log files, for people or as JSON
 * lines (FORMAT §3-§7), with the problems swsync-verify would report. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "fmt.h"
#include "problem.h"
#include "swlog.h"
#include "feedmap.h"
#include "verify_loop.h"

static const char usage[] =
    "usage: swsync-dump [--json] [--no-verify] FILE...\n"
    "\n"
    "Prints every frame of each swsync log file: the file header (version,\n"
    "salt); per frame its offset, type, feed (signer key: shortened to its\n"
    "first 4 and last 2 hex digits, in full the first time a feed appears),\n"
    "seq, HLC (UTC time # logical counter), frame id, prev and the type's\n"
    "fields; for change-sets every record (kind, table, row id, HLC) and\n"
    "value (column, the HLC it replaces, type, value). Text is printed as\n"
    "UTF-8 with control characters and bidirectional overrides escaped;\n"
    "blobs as hex, cut after 32 bytes.\n"
    "\n"
    "Dumps show record contents: personal data, for operators and auditors\n"
    "inspecting their own logs. Problem messages never contain them.\n"
    "\n"
    "  --json       JSON lines, one object each: type \"file\", \"frame\",\n"
    "               \"record\" (after its frame), \"problem\", \"end\". Keys\n"
    "               are full hex; blobs are full hex; integers (seq, HLC,\n"
    "               int values, ...) are JSON numbers when |n| <= 2^53 and\n"
    "               decimal strings otherwise (HLCs always exceed 2^53, so\n"
    "               they are strings, with hlc_time and hlc_counter beside);\n"
    "               reals are numbers, infinities the strings "
    "\"inf\"/\"-inf\".\n"
    "  --no-verify  do not check signatures nor chains (structure, CRCs and\n"
    "               payload hashes are still checked)\n"
    "  --help       this text\n"
    "\n"
    "Problems are printed in place (human form: a line starting with \"!\")\n"
    "and on standard error as \"swsync-dump: FILE:OFFSET: message\".\n"
    "\n"
    "Exit status (as swsync-verify):\n"
    "  0  every frame valid\n"
    "  1  a problem found: invalid frame, chain, bad header, damage\n"
    "  2  usage error, or a file could not be read or output not written\n"
    "  3  valid, but a file ends in a torn tail (recover before appending)\n";

typedef struct dump_ctx {
    int json;
    /* Feeds already introduced in the current file, so the full key is
     * printed once per feed and file (no value). Grows with feeds. */
    feedmap *feeds;
} dump_ctx;

static int on_open(void *ctx, const char *path,
                   const uint8_t salt[SWLOG_SALT_BYTES])
{
    dump_ctx *d = ctx;
    feedmap_clear(d->feeds);
    return d->json ? dump_json_open(stdout, path, salt)
                   : dump_text_open(stdout, path, salt);
}

static int on_frame(void *ctx, const verify_frame *vf)
{
    dump_ctx *d = ctx;
    if (d->json)
        return dump_json_frame(stdout, vf);
    int fresh = 0;
    if (vf->has_header &&
        feedmap_put(d->feeds, vf->peek.signer, &fresh) == NULL)
        return 1; /* out of memory: the loop stops */
    return dump_text_frame(stdout, vf, fresh);
}

static int on_problem(void *ctx, const verify_problem *p)
{
    dump_ctx *d = ctx;
    problem_text(stderr, "swsync-dump: ", p);
    return d->json ? problem_json(stdout, p) : problem_text(stdout, "! ", p);
}

int main(int argc, char **argv)
{
    dump_ctx d;
    memset(&d, 0, sizeof d);
    verify_loop_opts vo = {0, 0, NULL, 0, 0, NULL, NULL};
    char **files = calloc((size_t)argc, sizeof *files);
    int nfiles = 0, opts_done = 0;
    if (files == NULL)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts_done || a[0] != '-' || a[1] == '\0')
            files[nfiles++] = argv[i];
        else if (strcmp(a, "--") == 0)
            opts_done = 1;
        else if (strcmp(a, "--json") == 0)
            d.json = 1;
        else if (strcmp(a, "--no-verify") == 0)
            vo.no_sig = vo.no_chains = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            free(files);
            return 0;
        } else {
            fprintf(stderr, "swsync-dump: unknown option %s\n%s", a, usage);
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
        fputs("swsync-dump: libsodium failed to start\n", stderr);
        free(files);
        return 2;
    }
    d.feeds = feedmap_new(0);
    if (d.feeds == NULL) {
        fputs("swsync-dump: out of memory\n", stderr);
        free(files);
        return 2;
    }
    verify_loop_cb cb = {&d, on_open, on_frame, on_problem};
    int status = VERIFY_VALID;
    for (int i = 0; i < nfiles; i++) {
        verify_stats st;
        verify_loop_file(files[i], &vo, &cb, &st);
        if (d.json)
            dump_json_end(stdout, files[i], &st);
        else
            dump_text_end(stdout, files[i], &st);
        status = verify_loop_combine(status, st.status);
    }
    feedmap_free(d.feeds);
    free(files);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("swsync-dump: cannot write the output\n", stderr);
        return 2;
    }
    return status;
}
