/* `swsync-hub import-bundle`: a station's offline bundle ingested through
 * the push path, and the reply bundle with its receipts (PROTOCOL §9,
 * §9.1). */
#include "import_bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub.h"
#include "hub_config.h"
#include "hub_pull.h"
#include "json.h"
#include "keyfile.h"

static const char usage[] =
    "usage: swsync-hub import-bundle --config HUB.CONF FILE --reply OUT\n"
    "                                [--pull-after SEQ]\n"
    "\n"
    "Import a station's offline bundle (swsync-agent export) into the\n"
    "hub's data folder with the checks, idempotency and receipts of a push\n"
    "(spec/PROTOCOL.md §9), and write OUT: the reply bundle holding the\n"
    "receipts, for `swsync-agent import-bundle OUT` at the station\n"
    "(PROTOCOL §9.1). The hub must not be running on the same data folder\n"
    "(it is locked). A damaged bundle is refused whole, naming the offset;\n"
    "importing a bundle again answers duplicates and stores nothing new.\n"
    "Exit: 0 every frame accepted or already held, 3 a frame refused (see\n"
    "OUT), 1 the bundle or the hub failed (nothing written to OUT), 2\n"
    "usage.\n"
    "\n"
    "OUT also carries the hub's frames addressed to the bundle's station\n"
    "(what /v1/pull would answer it), after seq SEQ of the hub's feed\n"
    "(default 0: all of them; the station skips those it merged). At most\n"
    "IMPORT_BUNDLE_PULL_MAX_BYTES of frames: when more are waiting, the\n"
    "reply says so; run it again with --pull-after <the station's cursor,\n"
    "swsync-agent status: \"pull: hub feed merged up to seq\">.\n";

/* Frames of one pushed batch: within MAX_PUSH_FRAMES, and the receipt of
 * a batch names every frame (PROTOCOL §5). */
#define BATCH_FRAMES_MAX 256u

typedef struct frame_ref {
    const uint8_t *body;
    size_t len;
    uint64_t offset;
} frame_ref;

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "swsync-hub import-bundle: %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > IMPORT_BUNDLE_MAX_BYTES) {
        fprintf(stderr,
                "swsync-hub import-bundle: %s: not a regular file of at "
                "most %llu bytes (PROTOCOL §9.1): split it with "
                "`swsync-agent export --from SEQ`\n",
                path, (unsigned long long)IMPORT_BUNDLE_MAX_BYTES);
        fclose(f);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *b = malloc(n ? n : 1);
    if (b == NULL || fread(b, 1, n, f) != n) {
        fprintf(stderr, "swsync-hub import-bundle: %s: cannot read it\n",
                path);
        free(b);
        fclose(f);
        return -1;
    }
    fclose(f);
    *out = b;
    *len = n;
    return 0;
}

/* Every envelope and CRC of the bundle, before anything is stored: a
 * damaged bundle changes nothing (PROTOCOL §9). */
static int scan(const char *path, const uint8_t *buf, size_t len,
                frame_ref **out, size_t *n_out)
{
    swlog_log *log = NULL;
    swlog_error err = {0};
    frame_ref *fr = NULL;
    size_t n = 0, cap = 0;
    int rc = swlog_log_open_mem(buf, len, &log, &err);
    while (rc == SWLOG_OK) {
        const uint8_t *body;
        size_t blen;
        uint64_t off;
        int r = swlog_log_next(log, &body, &blen, &off, &err);
        if (r < 0) {
            rc = r;
            break;
        }
        if (r == 0)
            break;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            frame_ref *p = realloc(fr, nc * sizeof *p);
            if (p == NULL) {
                rc = swlog_fail(&err, SWLOG_ENOMEM, off, "out of memory");
                break;
            }
            fr = p;
            cap = nc;
        }
        /* Bodies point into buf (an in-memory log reads in place). */
        fr[n].body = body;
        fr[n].len = blen;
        fr[n].offset = off;
        n++;
    }
    if (rc == SWLOG_OK && swlog_log_torn(log) > 0)
        rc = swlog_fail(&err, SWLOG_ESHORT, swlog_log_end(log),
                        "the frame here is damaged or cut (%" PRIu64
                        " bytes to the end are not whole frames)",
                        swlog_log_torn(log));
    if (rc == SWLOG_OK && n == 0)
        rc = swlog_fail(&err, SWLOG_ESHORT, len, "no frame in the bundle");
    swlog_log_close(log);
    if (rc != SWLOG_OK) {
        fprintf(stderr,
                "swsync-hub import-bundle: %s:%" PRIu64 ": %s (%s): "
                "nothing imported; copy the bundle again from the "
                "station\n",
                path, err.offset, err.msg, swlog_code_name(err.code));
        free(fr);
        return -1;
    }
    *out = fr;
    *n_out = n;
    return 0;
}

/* A frames body (FORMAT §3) of fr[0..n) under salt. */
static int batch_body(const uint8_t salt[SWLOG_SALT_BYTES],
                      const frame_ref *fr, size_t n, swlog_buf *b)
{
    uint8_t hdr[SWLOG_FILE_HEADER_BYTES];
    swlog_file_header_encode(salt, hdr);
    b->len = 0;
    if (swlog_buf_append(b, hdr, sizeof hdr) != SWLOG_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint8_t head[SWLOG_ENVELOPE_HEAD_BYTES], crc[4];
        if (swlog_envelope_encode(salt, fr[i].body, fr[i].len, head, crc) !=
                SWLOG_OK ||
            swlog_buf_append(b, head, sizeof head) != SWLOG_OK ||
            swlog_buf_append(b, fr[i].body, fr[i].len) != SWLOG_OK ||
            swlog_buf_append(b, crc, sizeof crc) != SWLOG_OK)
            return -1;
    }
    return 0;
}

/* The counts of a push answer (PROTOCOL §4.3), made by hub_push. */
static int answer_counts(const swlog_buf *a, uint64_t c[4])
{
    json_doc d = {0};
    static const char *const names[4] = {"accepted", "duplicate", "refused",
                                         "fork"};
    int rc = json_parse(&d, (const char *)a->p, a->len, NULL);
    for (int i = 0; rc == SWLOG_OK && i < 4; i++) {
        int t = json_member(&d, 0, names[i]);
        if (t < 0 || json_u64(&d, t, &c[i]) != SWLOG_OK)
            rc = SWLOG_EINVAL;
    }
    json_clear(&d);
    return rc;
}

/* OUT whole or absent: a temporary file beside it, fsync, rename, fsync
 * of the folder. */
static int write_reply(const char *out, const swlog_buf *b)
{
    char tmp[4200], dir[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", out, (long)getpid()) >=
        (int)sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < b->len) {
        ssize_t w = write(fd, b->p + done, b->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, out) != 0) {
        unlink(tmp);
        return -1;
    }
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* The end line (PROTOCOL §9.1) with its "pull" member: the hub's frames
 * for the bundle's station, when every frame of the bundle has one signer
 * (an export's do), a frame's signature was checked (accepted or held
 * before) and the signer is a station key certified by this hub; null
 * otherwise (a note says why). Returns -1 when out of memory. */
static int pull_member(hub *h, const frame_ref *fr, size_t n, int checked,
                       uint64_t after, swlog_buf *reply, uint64_t *npull,
                       int *more, int *have)
{
    uint8_t key[SWLOG_PUBKEY_BYTES];
    int one = n > 0 && checked;
    for (size_t i = 0; one && i < n; i++) {
        swlog_frame f;
        swlog_error e = {0};
        if (swlog_frame_decode(fr[i].body, fr[i].len, SWLOG_DECODE_NO_SIG,
                               &f, &e) != SWLOG_OK)
            one = 0;
        else if (i == 0)
            memcpy(key, f.signer, sizeof key);
        else if (memcmp(key, f.signer, sizeof key) != 0)
            one = 0;
    }
    swlog_buf body;
    swlog_buf_init(&body);
    swlog_error err = {0};
    if (one && hub_pull_frames(h, key, after, IMPORT_BUNDLE_PULL_MAX_FRAMES,
                               IMPORT_BUNDLE_PULL_MAX_BYTES, &body, npull,
                               more, &err) == SWLOG_OK) {
        *have = 1;
    } else if (one) {
        fprintf(stderr, "swsync-hub import-bundle: note: no pull frames in "
                        "the reply: %s\n", err.msg);
    } else {
        fprintf(stderr, "swsync-hub import-bundle: note: no pull frames in "
                        "the reply: the bundle names no single station whose "
                        "frame this hub verified\n");
    }
    static const char head[] = "{\"end\":\"swsync-bundle-reply/1\",\"pull\":";
    char line[160];
    int ok = swlog_buf_append(reply, head, sizeof head - 1) == SWLOG_OK;
    if (*have) {
        snprintf(line, sizeof line,
                 "{\"after\":%llu,\"frames\":%llu,\"bytes\":%zu,"
                 "\"more\":%s,\"body\":\"",
                 (unsigned long long)after, (unsigned long long)*npull,
                 body.len, *more ? "true" : "false");
        ok = ok && swlog_buf_append(reply, line, strlen(line)) == SWLOG_OK;
        char hx[2 * 256 + 1];
        for (size_t at = 0; ok && at < body.len; at += 256) {
            size_t k = body.len - at < 256 ? body.len - at : 256;
            swlog_hex(body.p + at, k, hx);
            ok = swlog_buf_append(reply, hx, 2 * k) == SWLOG_OK;
        }
        ok = ok && swlog_buf_append(reply, "\"}}\n", 4) == SWLOG_OK;
    } else {
        ok = ok && swlog_buf_append(reply, "null}\n", 6) == SWLOG_OK;
    }
    swlog_buf_clear(&body);
    return ok ? 0 : -1;
}

int import_bundle_main(int argc, char **argv)
{
    uint64_t pull_after = 0;
    const char *conf = NULL, *file = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            conf = argv[++i];
        } else if (strcmp(argv[i], "--reply") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--pull-after") == 0 && i + 1 < argc) {
            char *end = NULL;
            const char *a = argv[++i];
            errno = 0;
            unsigned long long v = strtoull(a, &end, 10);
            if (a[0] < '0' || a[0] > '9' || errno != 0 || *end != '\0' ||
                v >= (1ull << 53)) {
                fprintf(stderr, "swsync-hub import-bundle: --pull-after "
                                "takes a seq of the hub's feed (decimal), "
                                "not '%.40s'\n", a);
                return 2;
            }
            pull_after = v;
        } else if (argv[i][0] != '-' && file == NULL) {
            file = argv[i];
        } else {
            fprintf(stderr, "swsync-hub import-bundle: unknown argument "
                            "'%.60s'\n%s", argv[i], usage);
            return 2;
        }
    }
    if (conf == NULL || file == NULL || out == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    if (swlog_init() != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: libsodium failed to start\n");
        return 1;
    }
    hub_config cfg;
    swlog_error err = {0};
    hub_config_defaults(&cfg);
    if (hub_config_load(&cfg, conf, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub import-bundle: %s\n", err.msg);
        return 1;
    }
    const char *pass = NULL;
    if (cfg.passphrase_env[0] != '\0' &&
        (pass = getenv(cfg.passphrase_env)) == NULL) {
        fprintf(stderr, "swsync-hub import-bundle: %s: passphrase_env names "
                        "%s, which is not set\n", conf, cfg.passphrase_env);
        return 1;
    }

    uint8_t *buf = NULL;
    size_t len = 0, n = 0;
    frame_ref *fr = NULL;
    if (read_file(file, &buf, &len) != 0)
        return 1;
    if (scan(file, buf, len, &fr, &n) != 0) {
        free(buf);
        return 1;
    }
    hub *h = NULL;
    if (hub_open(&cfg, pass, &h, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub import-bundle: %s (%s)\n", err.msg,
                keyfile_code_name(err.code));
        free(fr);
        free(buf);
        return 1;
    }
    size_t per = cfg.max_push_frames < BATCH_FRAMES_MAX ? cfg.max_push_frames
                                                        : BATCH_FRAMES_MAX;
    if (per == 0)
        per = 1;
    const uint8_t *salt = buf + 12; /* FORMAT §3.1: the header's salt */
    swlog_buf body, ans, reply;
    swlog_buf_init(&body);
    swlog_buf_init(&ans);
    swlog_buf_init(&reply);
    uint64_t tot[4] = {0};
    int status = 0;
    char pk[2 * SWLOG_PUBKEY_BYTES + 1];
    swlog_hex(hub_pubkey(h), SWLOG_PUBKEY_BYTES, pk);
    size_t nbatch = (n + per - 1) / per;
    char line[512];
    snprintf(line, sizeof line,
             "{\"reply\":\"swsync-bundle-reply/1\",\"hub\":\"%s\","
             "\"frames\":%zu,\"batches\":%zu}\n",
             pk, n, nbatch);
    int ok = swlog_buf_append(&reply, line, strlen(line)) == SWLOG_OK;
    for (size_t at = 0; ok && at < n; at += per) {
        size_t k = n - at < per ? n - at : per;
        if (batch_body(salt, fr + at, k, &body) != 0) {
            ok = 0;
            break;
        }
        ans.len = 0;
        unsigned st = hub_push(h, body.p, body.len, &ans);
        uint64_t c[4] = {0};
        if ((st != 200 && st != 409) || answer_counts(&ans, c) != 0) {
            fprintf(stderr,
                    "swsync-hub import-bundle: %s: frames %zu..%zu (from "
                    "offset %" PRIu64 "): the hub answered %u: %.*s: "
                    "frames before them are stored; import the bundle "
                    "again once fixed (they will be duplicates)\n",
                    file, at, at + k - 1, fr[at].offset, st,
                    (int)(ans.len > 400 ? 400 : ans.len), (char *)ans.p);
            status = 1;
            break;
        }
        for (int i = 0; i < 4; i++)
            tot[i] += c[i];
        /* PROTOCOL §9.1: each answer on one line, as hub_push wrote it (it
         * has no line break inside). */
        while (ans.len > 0 && ans.p[ans.len - 1] == '\n')
            ans.len--;
        if (memchr(ans.p, '\n', ans.len) != NULL) {
            fprintf(stderr, "swsync-hub import-bundle: internal: an answer "
                            "holds a line break\n");
            status = 1;
            break;
        }
        ok = swlog_buf_append(&reply, ans.p, ans.len) == SWLOG_OK &&
             swlog_buf_append(&reply, "\n", 1) == SWLOG_OK;
    }
    /* PROTOCOL §9.1: the end line, with the station's pull frames. */
    uint64_t npull = 0;
    int more = 0, have_pull = 0;
    if (ok && status == 0)
        ok = pull_member(h, fr, n, tot[0] + tot[1] > 0, pull_after, &reply,
                         &npull, &more, &have_pull) == 0;
    if (!ok && status == 0) {
        fprintf(stderr, "swsync-hub import-bundle: out of memory\n");
        status = 1;
    }
    if (!ok && status == 0) {
        fprintf(stderr, "swsync-hub import-bundle: out of memory\n");
        status = 1;
    }
    if (status == 0 && write_reply(out, &reply) != 0) {
        fprintf(stderr,
                "swsync-hub import-bundle: %s: cannot write the reply: %s; "
                "the frames are stored: import the bundle again for it\n",
                out, strerror(errno));
        status = 1;
    }
    if (status == 0) {
        printf("%s: %zu frames: %" PRIu64 " accepted, %" PRIu64
               " already held, %" PRIu64 " refused, %" PRIu64
               " fork(s); reply with the receipts: %s\n",
               file, n, tot[0], tot[1], tot[2], tot[3], out);
        if (have_pull)
            printf("the reply carries %" PRIu64 " frame%s of the hub's feed "
                   "for the station (after seq %llu)%s\n", npull,
                   npull == 1 ? "" : "s", (unsigned long long)pull_after,
                   more ? "; more are waiting: run import-bundle again with "
                          "--pull-after <the station's cursor after it "
                          "imports this reply>"
                        : "");
        if (tot[2] + tot[3] > 0)
            status = 3;
    }
    hub_close(h);
    swlog_buf_clear(&body);
    swlog_buf_clear(&ans);
    swlog_buf_clear(&reply);
    free(fr);
    free(buf);
    return status;
}
