/* swsync-agent seal: pending changes become signed change-sets in the
 * station's log (agent/README.md "Sealing"), with a progress line on a
 * terminal. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "seal.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] seal\n"
    "\n"
    "Sign every pending (unsealed) change into change-sets appended to the\n"
    "station's log (station.log, FORMAT §8.4), and print how many records\n"
    "and change-sets were sealed and the feed's head. An interrupted seal\n"
    "(power cut, crash) is finished first, byte for byte. A log that\n"
    "disagrees with the replica (lost, restored from a backup, or written\n"
    "by another program) is refused, never repaired: nothing is changed.\n"
    "A sealed key file's passphrase: $SWSYNC_PASSPHRASE_FILE or the\n"
    "terminal.\n"
    "\n"
    "Exit codes: 0 sealed (or nothing to seal); 1 failed (key, log,\n"
    "database, disk full: run seal again once fixed, nothing is lost);\n"
    "2 bad command line.\n";

/* What to do when the sealer refuses, by code. */
const char *cli_seal_hint(int code)
{
    switch (code) {
    case SWLOG_ECHAIN:
        return "the log is behind the replica (station.log lost, or an older "
               "copy restored): do not seal or delete anything; keep both "
               "files and ask the county office (the hub holds the frames)";
    case SWLOG_ESEQ:
        return "the log holds frames this replica never reserved (a replica "
               "restored from a backup?): do not seal; keep both files and "
               "ask the county office";
    case SWLOG_EFORK:
        return "the log holds a different frame under a reserved number: "
               "keep both files as evidence and ask the county office";
    case SWLOG_EIO:
        return "check free disk space and the folder's permissions, then "
               "run seal again: nothing is lost";
    case KEYFILE_EPASS:
        return "wrong passphrase for station.key";
    case KEYFILE_EPERM:
        return "the key file may be read by others: chmod 600 station.key "
               "(and ask whether someone copied it)";
    case KEYFILE_ENOPASS:
        return "the key file is sealed: put the passphrase in a file only you "
               "can read and set SWSYNC_PASSPHRASE_FILE, or run on a "
               "terminal";
    default:
        return NULL;
    }
}

static void progress(const seal_stats *so_far, void *ctx)
{
    cli_progress_update(ctx, so_far->records);
}

int cmd_seal(int argc, char **argv)
{
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    int rc = cli_parse("seal", argc, argv, NULL, 0, NULL, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    cli_station s;
    swlog_error e = {0};
    if (cli_station_open(dir, &s, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err("seal", &e, cli_seal_hint(e.code));
    }
    keyfile_key *k = NULL;
    sealer *sl = NULL;
    seal_stats rec = {0}, run = {0};
    uint64_t pending = 0, next = 0, head = 0;
    uint8_t head_id[SWLOG_HASH_BYTES];
    cli_progress p;
    rc = CLI_EFAIL;
    if (cli_station_key(&s, &k, &e) != SWLOG_OK) {
        cli_fail_err("seal", &e, cli_seal_hint(e.code));
        goto done;
    }
    if (capture_pending(replica_db(s.r), &pending, &e) != SWLOG_OK) {
        cli_fail_err("seal", &e, NULL);
        goto done;
    }
    cli_progress_start(&p, "sealing", pending);
    seal_options o = {0};
    o.progress = progress;
    o.progress_ctx = &p;
    if (seal_open(s.r, s.log_path, k->sk, &o, &sl, &rec, &e) != SWLOG_OK ||
        seal_run(sl, &run, &e) != SWLOG_OK) {
        cli_progress_end(&p);
        if (rec.recovered > 0)
            fprintf(stderr, "swsync-agent seal: finished %" PRIu64
                            " change-set(s) of an interrupted seal first\n",
                    rec.recovered);
        cli_fail_err("seal", &e, cli_seal_hint(e.code));
        goto done;
    }
    cli_progress_end(&p);
    seal_feed(sl, &next, &head, head_id, &e);
    char hex[2 * SWLOG_HASH_BYTES + 1];
    swlog_hex(head_id, SWLOG_HASH_BYTES, hex);
    if (rec.recovered > 0)
        printf("finished an interrupted seal: %" PRIu64 " change-set(s)\n",
               rec.recovered);
    if (run.records == 0)
        printf("nothing to seal\n");
    else
        printf("sealed %" PRIu64 " record%s in %" PRIu64 " change-set%s\n",
               run.records, run.records == 1 ? "" : "s", run.changesets,
               run.changesets == 1 ? "" : "s");
    if (head > 0)
        printf("head: seq %" PRIu64 " (%.16s)\n", head, hex);
    else
        printf("head: nothing sealed yet\n");
    rc = CLI_OK;
done:
    seal_close(sl);
    keyfile_key_free(k);
    cli_station_close(&s);
    return rc;
}
