/* swsync-agent import-bundle: a bundle file from the county office (issue
 * 3, PROTOCOL §1) verified and merged into the station's replica
 * (agent/bundle.c; agent/README.md "Bundles"). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "cli.h"
#include "client_codes.h"
#include "replica.h"
#include "reply.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] import-bundle FILE\n"
    "\n"
    "Import a bundle from the county office (a FORMAT §3 file, the same\n"
    "bytes as a sync with the hub) on a station with no network. Every\n"
    "frame is checked before anything changes: the file is whole (a cut or\n"
    "damaged copy is refused, naming the offset), each frame decodes and\n"
    "its signature verifies, it is signed by the county hub (hub_key in\n"
    "station.conf) or by this station (its own frames are skipped), and each\n"
    "feed continues what was imported before (no gap, no fork). Then the\n"
    "hub's change-sets are merged (spec/MERGE.md) in one transaction with\n"
    "the feed heads: all or nothing. New frames are kept verbatim in\n"
    "inbox/<feed>.log for the auditor and `history`. Importing the same\n"
    "bundle again changes nothing. Concurrent edits are recorded as\n"
    "conflicts for review.\n"
    "\n"
    "\n"
    "FILE may also be the hub's reply to this station's exported bundle\n"
    "(swsync-hub import-bundle --reply, spec/PROTOCOL.md §9.1): its\n"
    "receipts are verified (the hub's signature, each inclusion proof for\n"
    "this station's own frames) and stored like those of a sync. When the\n"
    "hub refused a frame, the receipts and the refusal are stored (status\n"
    "shows the hub's reason) and the exit code is 1.\n"
    "\n"
    "Exit codes: 0 imported (or nothing new); 1 refused or failed (nothing\n"
    "changed; the message names the file, offset, feed and seq); 2 bad\n"
    "command line.\n";

static int unhex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0)
            return -1;
        out[i / 2] = (uint8_t)(i % 2 == 0 ? v << 4 : out[i / 2] | v);
    }
    return 0;
}

static const char *hint(int code)
{
    switch (code) {
    case SWLOG_ESHORT:
    case SWLOG_ECRC:
    case SWLOG_ECORRUPT:
    case SWLOG_EMAGIC:
        return "the file is damaged or not a bundle: copy it again from the "
               "county office";
    case SWLOG_ESIG:
        return "the bundle is not from this station's county hub (or was "
               "altered): do not import it; check hub_key in station.conf";
    case SWLOG_ESEQ:
        return "ask the county office for a bundle that starts where this "
               "station stopped (swsync-agent status shows it)";
    case SWLOG_EFORK:
    case SWLOG_ECHAIN:
        return "keep the file and report it to the county office: the hub's "
               "feed disagrees with what was imported before";
    case SWLOG_EVERSION:
        return "the bundle needs a newer swsync-agent: upgrade, then import "
               "it again";
    default:
        return NULL;
    }
}

/* A reply bundle (PROTOCOL §9.1) is JSON lines; a bundle starts with
 * FORMAT §3's magic. */
static int is_reply(const char *path)
{
    FILE *f = fopen(path, "rb");
    int c = f != NULL ? fgetc(f) : EOF;
    if (f != NULL)
        fclose(f);
    return c == '{';
}

static int import_reply(cli_station *s, const char *path)
{
    swlog_error e = {0};
    reply_stats st;
    char name[sizeof s->hub_url];
    /* The sync state is kept per hub URL, as the sync client names it. */
    snprintf(name, sizeof name, "%s", s->hub_url);
    size_t n = strlen(name);
    while (n > 8 && name[n - 1] == '/')
        name[--n] = '\0';
    if (!s->has_pk)
        return cli_fail("import-bundle", CLI_EFAIL, "%s", s->key_problem);
    if (reply_import(replica_db(s->r), name, s->hub_key, s->log_path, s->pk,
                     path, &st, &e) != SWLOG_OK) {
        /* Receipt checks return the sync client's codes (client_codes.h). */
        fprintf(stderr, "swsync-agent import-bundle: %s (%s)\n  nothing "
                        "stored; ask the county office for the reply "
                        "again\n", e.msg[0] ? e.msg : "failed",
                client_code_name(e.code));
        return CLI_EFAIL;
    }
    printf("reply of hub %02x%02x%02x%02x…: %" PRIu64 " frame%s receipted "
           "(%" PRIu64 " new at the hub, %" PRIu64 " already held), %"
           PRIu64 " refused; acknowledged up to seq %" PRIu64 "\n",
           st.hub[0], st.hub[1], st.hub[2], st.hub[3], st.receipted,
           st.receipted == 1 ? "" : "s", st.accepted, st.duplicate,
           st.refused, st.acked_seq);
    int rc = CLI_OK;
    if (st.pull != NULL) {
        /* PROTOCOL §9.1: the hub's frames for this station, merged by the
         * code of a pull (§10.3): the cursor moves in the same
         * transaction; frames at or below it are duplicates. */
        char inbox[CLI_PATH_MAX];
        bundle_stats bs = {0};
        if (cli_path(inbox, s->dir, "inbox") != 0) {
            cli_fail("import-bundle", CLI_EFAIL, "folder path too long");
            rc = CLI_EFAIL;
        } else {
            bundle_options o = {.trusted = st.hub, .ntrusted = 1,
                                .self = s->pk, .inbox = inbox};
            if (bundle_import_mem(s->r, path, st.pull, st.pull_len, &o, &bs,
                                  &e) != SWLOG_OK) {
                fprintf(stderr, "swsync-agent import-bundle: %s: the pull "
                                "frames of the reply: %s; the receipts are "
                                "stored, nothing of the pull was merged\n",
                        path, e.msg);
                rc = CLI_EFAIL;
            } else {
                uint64_t seq = 0;
                uint8_t id[SWLOG_HASH_BYTES];
                if (bundle_head(s->r, st.hub, &seq, id, &e) != SWLOG_OK)
                    seq = 0;
                printf("pulled %" PRIu64 " frame%s from the reply (%" PRIu64
                       " new, %" PRIu64 " already merged): %" PRIu64
                       " change-set%s merged, %" PRIu64 " conflict%s "
                       "recorded; hub feed merged up to seq %" PRIu64 "\n",
                       bs.frames, bs.frames == 1 ? "" : "s", bs.imported,
                       bs.duplicates, bs.changesets,
                       bs.changesets == 1 ? "" : "s", bs.merge.conflicts,
                       bs.merge.conflicts == 1 ? "" : "s", seq);
                if (st.pull_more)
                    printf("the hub has more frames for this station: ask "
                           "the county office for import-bundle "
                           "--pull-after %" PRIu64 ", or sync\n", seq);
            }
        }
        free(st.pull);
    }
    if (st.refused > 0)
        fprintf(stderr, "swsync-agent import-bundle: the hub refused %"
                PRIu64 " frame%s: the county office must look at it "
                "(swsync-agent status shows the hub's reason)\n",
                st.refused, st.refused == 1 ? "" : "s");
    return st.refused > 0 ? CLI_EFAIL : rc;
}

int cmd_import_bundle(int argc, char **argv)
{
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    const char *pos[1];
    size_t npos = 0;
    int rc = cli_parse("import-bundle", argc, argv, NULL, 0, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_fail("import-bundle", CLI_EUSAGE,
                        "name the bundle file (see --help)");
    cli_station s;
    swlog_error e = {0};
    if (cli_station_open(dir, &s, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err("import-bundle", &e, NULL);
    }
    uint8_t hub[SWLOG_PUBKEY_BYTES];
    char inbox[CLI_PATH_MAX];
    rc = CLI_EFAIL;
    if (is_reply(pos[0])) {
        rc = import_reply(&s, pos[0]);
        goto done;
    }
    if (s.hub_key[0] == '\0' || unhex(s.hub_key, hub, sizeof hub) != 0) {
        cli_fail("import-bundle", CLI_EFAIL,
                 "station.conf has no valid hub_key: set hub_key = <the "
                 "county hub's public key, 64 hex digits> (from the county "
                 "office)");
        goto done;
    }
    if (cli_path(inbox, s.dir, "inbox") != 0) {
        cli_fail("import-bundle", CLI_EFAIL, "folder path too long");
        goto done;
    }
    bundle_options o = {.trusted = hub, .ntrusted = 1,
                        .self = s.has_pk ? s.pk : NULL, .inbox = inbox};
    bundle_stats st = {0};
    if (bundle_import(s.r, pos[0], &o, &st, &e) != SWLOG_OK) {
        cli_fail_err("import-bundle", &e, hint(e.code));
        goto done;
    }
    printf("%" PRIu64 " frame%s read: %" PRIu64 " new, %" PRIu64
           " already imported, %" PRIu64 " of this station (skipped)\n",
           st.frames, st.frames == 1 ? "" : "s", st.imported, st.duplicates,
           st.own);
    printf("%" PRIu64 " change-set%s merged: %" PRIu64 " value%s written, %"
           PRIu64 " older (kept in the log only), %" PRIu64
           " conflict%s recorded for review\n",
           st.changesets, st.changesets == 1 ? "" : "s", st.merge.applied,
           st.merge.applied == 1 ? "" : "s", st.merge.stale,
           st.merge.conflicts, st.merge.conflicts == 1 ? "" : "s");
    if (st.merge.future > 0)
        fprintf(stderr,
                "swsync-agent import-bundle: warning: %" PRIu64
                " change-set%s dated more than 10 minutes ahead of this "
                "computer's clock: check the clock here and at the county "
                "office (spec/MERGE.md §9)\n",
                st.merge.future, st.merge.future == 1 ? "" : "s");
    uint64_t seq = 0;
    uint8_t id[SWLOG_HASH_BYTES];
    if (bundle_head(s.r, hub, &seq, id, &e) == SWLOG_OK)
        printf("county hub feed imported up to seq %" PRIu64 "\n", seq);
    rc = CLI_OK;
done:
    cli_station_close(&s);
    return rc;
}
