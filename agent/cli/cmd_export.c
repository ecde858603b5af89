/* swsync-agent export: the station's frames from a seq on, as a bundle: a
 * FORMAT §3 file (file header, then each frame's body verbatim in a new
 * envelope), the same bytes as a push body (PROTOCOL §1, "Offline
 * bundles"). Every frame is verified while copying; the file appears whole
 * or not at all. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] export --out FILE [--from SEQ]\n"
    "         [--force]\n"
    "\n"
    "Write the station's frames with seq >= SEQ (default 1: all) into FILE,\n"
    "a bundle for the county office when there is no network: a FORMAT §3\n"
    "file (the same bytes as a push to the hub, spec/PROTOCOL.md \"Offline\n"
    "bundles\"). Each frame is checked while copying (decoding, signature,\n"
    "the station's own feed, no gap in the seqs); on any problem nothing is\n"
    "written. The file is written beside FILE under a temporary name,\n"
    "flushed to disk, then renamed: FILE is whole or absent. An existing\n"
    "FILE is never replaced unless --force. Changes not sealed yet are not\n"
    "in the log: run swsync-agent seal first. swsync-verify FILE checks a\n"
    "bundle.\n"
    "\n"
    "Exit codes: 0 written; 1 failed (log damaged, disk, nothing to\n"
    "export); 2 bad command line (FILE exists without --force).\n";

typedef struct out {
    FILE *f;
    uint8_t salt[SWLOG_SALT_BYTES];
    uint64_t bytes;
} out;

static int put(out *o, const void *p, size_t n)
{
    if (fwrite(p, 1, n, o->f) != n)
        return -1;
    o->bytes += n;
    return 0;
}

static int fsync_parent(const char *path)
{
    char dir[CLI_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    const char *path = NULL, *from_s = NULL;
    int force = 0;
    const cli_opt opts[] = {{"out", CLI_VALUE, &path},
                            {"from", CLI_VALUE, &from_s},
                            {"force", CLI_FLAG, &force}};
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    int rc = cli_parse("export", argc, argv, opts, 3, NULL, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    if (path == NULL || path[0] == '\0')
        return cli_fail("export", CLI_EUSAGE, "--out FILE is required (see "
                                              "--help)");
    long long from = 1;
    if (from_s != NULL && (!cli_parse_int(from_s, &from) || from < 1))
        return cli_fail("export", CLI_EUSAGE,
                        "--from wants a seq (1 or more), not '%.40s'",
                        from_s);
    struct stat sb;
    if (!force && lstat(path, &sb) == 0)
        return cli_fail("export", CLI_EUSAGE,
                        "%s exists: choose another name, or --force to "
                        "replace it", path);
    char tmp[CLI_PATH_MAX + 32];
    if (strlen(path) >= CLI_PATH_MAX ||
        snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >=
            (int)sizeof tmp)
        return cli_fail("export", CLI_EUSAGE, "--out path too long");

    cli_station s;
    swlog_error e = {0};
    if (cli_station_load(dir, CLI_OPEN_NO_REPLICA, &s, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err("export", &e, NULL);
    }
    swlog_log *log = NULL;
    if (swlog_log_open(s.log_path, SWLOG_READ, &log, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err("export", &e,
                            e.code == SWLOG_EIO
                                ? "nothing sealed yet? (swsync-agent seal)"
                                : NULL);
    }
    uint64_t total = stat(s.log_path, &sb) == 0 ? (uint64_t)sb.st_size : 0;

    out o = {0};
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || (o.f = fdopen(fd, "wb")) == NULL) {
        rc = cli_fail("export", CLI_EFAIL, "%s: %s", tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        swlog_log_close(log);
        cli_station_close(&s);
        return rc;
    }
    /* A fresh salt: the envelopes' CRCs are this file's (FORMAT §3.2); the
     * bodies, which the signatures cover, are copied as they are. */
    uint8_t hdr[SWLOG_FILE_HEADER_BYTES];
    swlog_random(o.salt, sizeof o.salt);
    swlog_file_header_encode(o.salt, hdr);
    rc = CLI_EFAIL;
    if (put(&o, hdr, sizeof hdr) != 0) {
        cli_fail("export", CLI_EFAIL, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    cli_progress p;
    cli_progress_start(&p, "exporting (bytes of the log)", total);
    const uint8_t *body;
    size_t len;
    uint64_t off, last = 0, first = 0, frames = 0;
    int r;
    while ((r = swlog_log_next(log, &body, &len, &off, &e)) == 1) {
        swlog_frame f;
        swlog_error fe = {0};
        cli_progress_update(&p, off);
        if (swlog_frame_decode(body, len, 0, &f, &fe) != SWLOG_OK) {
            cli_progress_end(&p);
            cli_fail("export", CLI_EFAIL,
                     "%s: frame at offset %" PRIu64 ": %s (%s); nothing "
                     "written: keep the log as it is and ask the county "
                     "office", s.log_path, off, fe.msg,
                     swlog_code_name(fe.code));
            goto fail;
        }
        if (memcmp(f.signer, s.pk, SWLOG_PUBKEY_BYTES) != 0 ||
            f.seq != last + 1) {
            cli_progress_end(&p);
            cli_fail("export", CLI_EFAIL,
                     "%s: frame at offset %" PRIu64 " is %s: nothing "
                     "written", s.log_path, off,
                     memcmp(f.signer, s.pk, SWLOG_PUBKEY_BYTES) != 0
                         ? "not signed by this station's key"
                         : "out of sequence");
            goto fail;
        }
        last = f.seq;
        if (f.seq < (uint64_t)from)
            continue;
        uint8_t head[SWLOG_ENVELOPE_HEAD_BYTES], crc[4];
        if (swlog_envelope_encode(o.salt, body, len, head, crc) != SWLOG_OK ||
            put(&o, head, sizeof head) != 0 || put(&o, body, len) != 0 ||
            put(&o, crc, sizeof crc) != 0) {
            cli_progress_end(&p);
            cli_fail("export", CLI_EFAIL, "%s: %s", tmp, strerror(errno));
            goto fail;
        }
        if (frames++ == 0)
            first = f.seq;
    }
    cli_progress_end(&p);
    if (r < 0) {
        cli_fail_err("export", &e, "the log is damaged: nothing written; "
                                   "keep it as it is and ask the county "
                                   "office");
        goto fail;
    }
    if (frames == 0) {
        cli_fail("export", CLI_EFAIL,
                 "nothing to export: the log ends at seq %" PRIu64
                 "%s", last, last == 0 ? " (swsync-agent seal first)" : "");
        goto fail;
    }
    if (fflush(o.f) != 0 || fsync(fileno(o.f)) != 0) {
        cli_fail("export", CLI_EFAIL, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    fclose(o.f);
    o.f = NULL;
    /* Without --force, link() refuses a FILE created meanwhile. */
    if (force ? rename(tmp, path) != 0 : link(tmp, path) != 0) {
        cli_fail("export", errno == EEXIST ? CLI_EUSAGE : CLI_EFAIL,
                 "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!force)
        unlink(tmp);
    if (fsync_parent(path) != 0) {
        rc = cli_fail("export", CLI_EFAIL, "syncing the folder of %s: %s",
                      path, strerror(errno));
        goto done;
    }
    printf("exported seq %" PRIu64 "..%" PRIu64 " (%" PRIu64 " frame%s, %"
           PRIu64 " bytes) to %s\n",
           first, last, frames, frames == 1 ? "" : "s", o.bytes, path);
    if (swlog_log_torn(log) > 0)
        printf("note: the log ends in %" PRIu64 " bytes of an interrupted "
               "write, not exported (the next seal cuts them)\n",
               swlog_log_torn(log));
    rc = CLI_OK;
    goto done;
fail:
    if (o.f != NULL)
        fclose(o.f);
    unlink(tmp);
done:
    swlog_log_close(log);
    cli_station_close(&s);
    return rc;
}
