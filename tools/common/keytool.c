/* Shared steps of the swsync-keys commands: reports, options, keys, and the
 * checked append of one frame (spec/SECURITY.md "The key tool"). */
#include "keytool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keytime.h"

int kt_report(int code, const char *what, const char *fmt, ...)
{
    va_list ap;
    fputs("swsync-keys: ", stderr);
    if (what != NULL)
        fprintf(stderr, "%s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int kt_exit_for(int code, int default_code)
{
    switch (code) {
    case SWLOG_OK:
        return KT_OK;
    case SWLOG_ENOMEM:
    case SWLOG_EIO:
        return KT_ESYS;
    case SWLOG_EARG:
        return KT_EUSAGE;
    default:
        return default_code;
    }
}

void kt_hex(const uint8_t key[SWLOG_PUBKEY_BYTES], char out[65])
{
    swlog_hex(key, SWLOG_PUBKEY_BYTES, out);
}

int kt_u64(const char *text, uint64_t *v)
{
    uint64_t x = 0;
    if (*text == '\0')
        return 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || x > (UINT64_MAX - 9) / 10)
            return 0;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *v = x;
    return 1;
}

static const kt_opt *find_opt(const kt_opt *opts, size_t n, const char *name,
                              size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len &&
            memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

int kt_parse(const char *cmd, int argc, char **argv, const kt_opt *opts,
             size_t nopts, const char **pos, size_t npos_max, size_t *npos)
{
    *npos = 0;
    int rest = 0; /* after "--": every argument is positional */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!rest && strcmp(a, "--") == 0) {
            rest = 1;
            continue;
        }
        if (rest || strncmp(a, "--", 2) != 0) {
            if (*npos == npos_max)
                return kt_report(KT_EUSAGE, cmd,
                                 "unexpected argument '%s' (see --help)", a);
            pos[(*npos)++] = a;
            continue;
        }
        const char *eq = strchr(a + 2, '=');
        size_t len = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
        const kt_opt *o = find_opt(opts, nopts, a + 2, len);
        if (o == NULL)
            return kt_report(KT_EUSAGE, cmd, "unknown option '%.*s' (see "
                                             "--help)",
                             (int)len + 2, a);
        if (o->kind == KT_FLAG) {
            if (eq != NULL)
                return kt_report(KT_EUSAGE, cmd, "--%s takes no value",
                                 o->name);
            *(int *)o->dst = 1;
            continue;
        }
        const char *v = eq != NULL ? eq + 1 : NULL;
        if (v == NULL) {
            if (i + 1 == argc)
                return kt_report(KT_EUSAGE, cmd, "--%s needs a value",
                                 o->name);
            v = argv[++i];
        }
        if (o->kind == KT_VALUE) {
            if (*(const char **)o->dst != NULL)
                return kt_report(KT_EUSAGE, cmd, "--%s given twice", o->name);
            *(const char **)o->dst = v;
        } else {
            kt_list *l = o->dst;
            if (l->n == KT_LIST_MAX)
                return kt_report(KT_EUSAGE, cmd, "--%s: at most %d",
                                 o->name, KT_LIST_MAX);
            l->v[l->n++] = v;
        }
    }
    return KT_OK;
}

static int parse_hex_key(const char *s, uint8_t pk[SWLOG_PUBKEY_BYTES])
{
    if (strlen(s) != 2 * SWLOG_PUBKEY_BYTES)
        return 0;
    for (size_t i = 0; i < SWLOG_PUBKEY_BYTES; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = s[2 * i + (size_t)j];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                return 0;
            v = v * 16 + d;
        }
        pk[i] = (uint8_t)v;
    }
    return 1;
}

static int key_error(const char *path, int rc, const swlog_error *e)
{
    int code = rc == SWLOG_ENOMEM ? KT_ESYS : KT_EKEY;
    if (rc == KEYFILE_EPERM || rc == KEYFILE_EPASS || rc == KEYFILE_ENOPASS ||
        rc == SWLOG_EIO || rc == SWLOG_ENOMEM)
        return kt_report(code, path, "%s", e->msg);
    return kt_report(code, path, "not a usable key file: %s at byte %" PRIu64
                                 ": %s",
                     keyfile_code_name(rc), e->offset, e->msg);
}

int kt_public(const char *arg, int allow_hex, uint8_t pk[SWLOG_PUBKEY_BYTES])
{
    if (allow_hex && parse_hex_key(arg, pk))
        return KT_OK;
    struct stat st;
    if (allow_hex && lstat(arg, &st) != 0 && errno == ENOENT)
        return kt_report(KT_EUSAGE, arg,
                         "neither 64 hex digits of a public key nor a key "
                         "file");
    swlog_error e = {0};
    int rc = keyfile_load(arg, NULL, 0, NULL, pk, NULL, &e);
    return rc == SWLOG_OK ? KT_OK : key_error(arg, rc, &e);
}

int kt_secret(const char *path, const kt_pass *pass, keyfile_key **out)
{
    swlog_error e = {0};
    int kind = 0;
    int rc = keyfile_load(path, NULL, 0, &kind, NULL, NULL, &e);
    if (rc != SWLOG_OK)
        return key_error(path, rc, &e);
    char *pw = NULL;
    size_t pw_len = 0;
    if (kind == KEYFILE_SEALED) {
        passphrase_src src = {pass->env, -1};
        if (pass->fd != NULL) {
            uint64_t fd;
            if (!kt_u64(pass->fd, &fd) || fd > 1024)
                /* Not echoed: a passphrase typed here by mistake must not
                 * reach the terminal's scrollback or a log. */
                return kt_report(KT_EUSAGE, path,
                                 "--passphrase-fd wants a descriptor number");
            src.fd = (int)fd;
        }
        rc = passphrase_get(&src, path, 0, &pw, &pw_len, &e);
        if (rc != SWLOG_OK)
            return key_error(path, rc, &e);
    } else if (pass->env != NULL || pass->fd != NULL) {
        fprintf(stderr, "swsync-keys: %s: note: the key is not sealed; the "
                        "passphrase is not used\n", path);
    }
    rc = keyfile_load(path, pw, pw_len, NULL, NULL, out, &e);
    passphrase_free(pw);
    return rc == SWLOG_OK ? KT_OK : key_error(path, rc, &e);
}

int kt_own_log(keyfeed *kf, const char *path,
               const uint8_t owner[SWLOG_PUBKEY_BYTES], int may_create,
               int cut_torn)
{
    struct stat st;
    if (!may_create && stat(path, &st) != 0 && errno == ENOENT)
        return kt_report(KT_EUSAGE, path,
                         "no such log. If this is the key's first frame, add "
                         "--create; never start a second log for a key that "
                         "has signed before (two logs of one feed fork it)");
    swlog_error e = {0};
    int rc = keyfeed_load(kf, path, owner, may_create, &e);
    if (rc != SWLOG_OK)
        return kt_report(kt_exit_for(rc, KT_ELOG), NULL, "%s", e.msg);
    if (kf->torn > 0 && !cut_torn)
        return kt_report(KT_ELOG, path,
                         "%" PRIu64 " bytes of torn tail after the last whole "
                         "frame (offset %" PRIu64 "): an append was cut "
                         "short. Check the log with swsync-verify; add "
                         "--cut-torn-tail to cut it and go on",
                         kf->torn, kf->end);
    return KT_OK;
}

int kt_context_logs(keyfeed *kf, const kt_list *logs)
{
    for (size_t i = 0; i < logs->n; i++) {
        swlog_error e = {0};
        int rc = keyfeed_load(kf, logs->v[i], NULL, 0, &e);
        if (rc != SWLOG_OK)
            return kt_report(kt_exit_for(rc, KT_ELOG), NULL, "%s", e.msg);
    }
    return KT_OK;
}

void kt_head(const keyfeed *kf, swlog_head *h)
{
    *h = kf->next;
    uint64_t now = keytime_now() << 16;
    h->hlc = now > kf->next.hlc ? now : kf->next.hlc + 1;
}

int kt_append(const char *path, const keyfeed *kf, const swlog_buf *body)
{
    swlog_log *log = NULL;
    swlog_error e = {0};
    int mode = SWLOG_APPEND | (kf->end == 0 ? SWLOG_CREATE : 0);
    int rc = swlog_log_open(path, mode, &log, &e);
    if (rc != SWLOG_OK)
        return kt_report(kt_exit_for(rc, KT_ELOG), path, "cannot append: %s",
                         e.msg);
    /* The lock is ours now; the bytes we checked must be all there is. */
    uint64_t want = kf->end == 0 ? SWLOG_FILE_HEADER_BYTES : kf->end;
    if (swlog_log_end(log) != want) {
        swlog_log_close(log);
        return kt_report(KT_ELOG, path,
                         "the log changed while it was being checked "
                         "(another writer?); nothing written, try again");
    }
    const uint8_t *bodies[1] = {body->p};
    size_t lens[1] = {body->len};
    rc = swlog_log_append(log, bodies, lens, 1, &e);
    swlog_log_close(log);
    if (rc != SWLOG_OK)
        return kt_report(kt_exit_for(rc, KT_ESYS), path, "append failed: %s",
                         e.msg);
    return KT_OK;
}
