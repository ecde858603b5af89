/* What swsync-agent's commands share (cli.h): the station folder and its
 * station.conf (agent/README.md "Station folder"), the station's key,
 * messages, option parsing and the progress line. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "passphrase.h"

/* ---- folder ------------------------------------------------------------- */

const char *cli_dir(int *argc, char **argv)
{
    const char *dir = NULL;
    int out = 0;
    int i;
    for (i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < *argc) {
            dir = argv[++i];
            continue;
        }
        if (strncmp(argv[i], "--dir=", 6) == 0) {
            dir = argv[i] + 6;
            continue;
        }
        argv[out++] = argv[i];
    }
    for (; i < *argc; i++)
        argv[out++] = argv[i];
    argv[out] = NULL;
    *argc = out;
    if (dir == NULL || dir[0] == '\0')
        dir = getenv("SWSYNC_DIR");
    if (dir == NULL || dir[0] == '\0')
        dir = ".";
    return dir;
}

int cli_path(char out[CLI_PATH_MAX], const char *dir, const char *name)
{
    int n = snprintf(out, CLI_PATH_MAX, "%s/%s", dir, name);
    return n < 0 || n >= CLI_PATH_MAX ? -1 : 0;
}

/* ---- station.conf ------------------------------------------------------- */

static int copy_value(char *dst, size_t dstsz, const char *v, size_t vlen,
                      const char *name, unsigned line, const char *key,
                      swlog_error *err)
{
    if (vlen >= dstsz)
        return swlog_fail(err, SWLOG_EINVAL, line,
                          "%s:%u: value of '%s' is %zu bytes, at most %zu",
                          name, line, key, vlen, dstsz - 1);
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
    return SWLOG_OK;
}

/* A path value: absolute as given, else relative to the folder. */
static int copy_path(char *dst, const char *dir, const char *v, size_t vlen,
                     const char *name, unsigned line, const char *key,
                     swlog_error *err)
{
    char tmp[CLI_PATH_MAX];
    int rc = copy_value(tmp, sizeof tmp, v, vlen, name, line, key, err);
    if (rc != SWLOG_OK)
        return rc;
    int n = tmp[0] == '/' ? snprintf(dst, CLI_PATH_MAX, "%s", tmp)
                          : snprintf(dst, CLI_PATH_MAX, "%s/%s", dir, tmp);
    if (n < 0 || n >= CLI_PATH_MAX)
        return swlog_fail(err, SWLOG_EINVAL, line,
                          "%s:%u: path of '%s' too long", name, line, key);
    return SWLOG_OK;
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* The keys of station.conf (agent/README.md "Station folder"). */
enum conf_key {
    K_UNIT, K_HUB_URL, K_HUB_CA, K_HUB_KEY, K_OPERATOR, K_KEY, K_REPLICA,
    K_LOG, K_CREATED, K_NKEYS
};
static const char *const conf_keys[K_NKEYS] = {
    "unit", "hub_url", "hub_ca", "hub_key", "operator", "key", "replica",
    "log", "created"};

int cli_conf_parse(const char *text, size_t len, const char *name,
                   cli_station *st, swlog_error *err)
{
    int seen[K_NKEYS] = {0};
    unsigned line = 0;
    size_t pos = 0;
    int rc;
    if (len > CLI_CONF_MAX)
        return swlog_fail(err, SWLOG_EBOUNDS, 0,
                          "%s: %zu bytes, at most %u", name, len,
                          CLI_CONF_MAX);
    st->unit[0] = st->hub_url[0] = st->hub_ca[0] = st->hub_key[0] = '\0';
    st->operator_name[0] = '\0';
    if (cli_path(st->key_path, st->dir, "station.key") != 0 ||
        cli_path(st->replica_path, st->dir, "replica.db") != 0 ||
        cli_path(st->log_path, st->dir, "station.log") != 0)
        return swlog_fail(err, SWLOG_EARG, 0, "folder path too long");
    while (pos < len) {
        const char *l = text + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl != NULL ? (size_t)(nl - l) : len - pos;
        pos += ll + (nl != NULL);
        line++;
        if (ll > 0 && l[ll - 1] == '\r')
            ll--;
        for (size_t i = 0; i < ll; i++)
            if ((unsigned char)l[i] < 0x20 && l[i] != '\t')
                return swlog_fail(err, SWLOG_EINVAL, line,
                                  "%s:%u: control character in the line",
                                  name, line);
        while (ll > 0 && (*l == ' ' || *l == '\t'))
            l++, ll--;
        while (ll > 0 && (l[ll - 1] == ' ' || l[ll - 1] == '\t'))
            ll--;
        if (ll == 0 || l[0] == '#')
            continue;
        const char *eq = memchr(l, '=', ll);
        if (eq == NULL)
            return swlog_fail(err, SWLOG_EINVAL, line,
                              "%s:%u: not a 'key = value' line", name, line);
        size_t kl = (size_t)(eq - l);
        while (kl > 0 && (l[kl - 1] == ' ' || l[kl - 1] == '\t'))
            kl--;
        const char *v = eq + 1;
        size_t vl = ll - (size_t)(v - l);
        while (vl > 0 && (*v == ' ' || *v == '\t'))
            v++, vl--;
        int k;
        for (k = 0; k < K_NKEYS; k++)
            if (strlen(conf_keys[k]) == kl && memcmp(conf_keys[k], l, kl) == 0)
                break;
        if (k == K_NKEYS)
            return swlog_fail(err, SWLOG_EINVAL, line,
                              "%s:%u: unknown key '%.*s' (known: unit, "
                              "hub_url, hub_ca, hub_key, operator, key, "
                              "replica, log, created)",
                              name, line, (int)(kl > 32 ? 32 : kl), l);
        if (seen[k]++)
            return swlog_fail(err, SWLOG_EINVAL, line,
                              "%s:%u: '%s' given twice", name, line,
                              conf_keys[k]);
        switch (k) {
        case K_UNIT:
            rc = copy_value(st->unit, sizeof st->unit, v, vl, name, line,
                            "unit", err);
            break;
        case K_HUB_URL:
            rc = copy_value(st->hub_url, sizeof st->hub_url, v, vl, name,
                            line, "hub_url", err);
            break;
        case K_HUB_CA:
            rc = vl == 0 ? SWLOG_OK
                         : copy_path(st->hub_ca, st->dir, v, vl, name, line,
                                     "hub_ca", err);
            break;
        case K_HUB_KEY:
            if (vl != 0 && (vl != 2 * SWLOG_PUBKEY_BYTES || !is_hex(v, vl)))
                return swlog_fail(err, SWLOG_EINVAL, line,
                                  "%s:%u: hub_key must be 64 lowercase hex "
                                  "digits", name, line);
            rc = copy_value(st->hub_key, sizeof st->hub_key, v, vl, name,
                            line, "hub_key", err);
            break;
        case K_OPERATOR:
            rc = copy_value(st->operator_name, sizeof st->operator_name, v,
                            vl, name, line, "operator", err);
            break;
        case K_KEY:
            rc = copy_path(st->key_path, st->dir, v, vl, name, line, "key",
                           err);
            break;
        case K_REPLICA:
            rc = copy_path(st->replica_path, st->dir, v, vl, name, line,
                           "replica", err);
            break;
        case K_LOG:
            rc = copy_path(st->log_path, st->dir, v, vl, name, line, "log",
                           err);
            break;
        default: /* created: informational */
            rc = SWLOG_OK;
            break;
        }
        if (rc != SWLOG_OK)
            return rc;
    }
    if (!seen[K_UNIT] || st->unit[0] == '\0')
        return swlog_fail(err, SWLOG_EINVAL, line,
                          "%s: no 'unit = CODE' line", name);
    return SWLOG_OK;
}

/* Read a small file whole (at most max bytes) into a malloc'd buffer. */
static int read_small(const char *path, size_t max, char **out, size_t *len,
                      swlog_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return swlog_fail(err, errno == ENOENT ? SWLOG_EARG : SWLOG_EIO, 0,
                          "%s: %s", path, strerror(errno));
    char *buf = malloc(max + 1);
    size_t n = 0;
    int rc = SWLOG_OK;
    if (buf == NULL) {
        close(fd);
        return swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = swlog_fail(err, SWLOG_EIO, n, "%s: %s", path,
                            strerror(errno));
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) {
            rc = swlog_fail(err, SWLOG_EBOUNDS, max,
                            "%s: larger than %zu bytes", path, max);
            break;
        }
    }
    close(fd);
    if (rc != SWLOG_OK) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return SWLOG_OK;
}

int cli_station_load(const char *dir, unsigned flags, cli_station *st,
                     swlog_error *err)
{
    char path[CLI_PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    int rc;
    memset(st, 0, sizeof *st);
    if (snprintf(st->dir, sizeof st->dir, "%s", dir) >= (int)sizeof st->dir ||
        snprintf(path, sizeof path, "%s/station.conf", dir) >=
            (int)sizeof path)
        return swlog_fail(err, SWLOG_EARG, 0, "folder path too long");
    rc = read_small(path, CLI_CONF_MAX, &text, &len, err);
    if (rc == SWLOG_EARG) {
        swlog_error e2 = {0};
        *err = e2;
        return swlog_fail(err, SWLOG_EARG, 0,
                          "%s is not a station folder (no station.conf): "
                          "run swsync-agent init, or give --dir", dir);
    }
    if (rc != SWLOG_OK)
        return rc;
    rc = cli_conf_parse(text, len, path, st, err);
    free(text);
    if (rc != SWLOG_OK)
        return rc;
    swlog_error ke = {0};
    int kind;
    rc = keyfile_load(st->key_path, NULL, 0, &kind, st->pk, NULL, &ke);
    if (rc == SWLOG_OK) {
        st->has_pk = 1;
    } else {
        snprintf(st->key_problem, sizeof st->key_problem, "%s", ke.msg);
        if (!(flags & CLI_OPEN_KEY_OPTIONAL)) {
            *err = ke;
            return rc;
        }
    }
    if (!(flags & CLI_OPEN_NO_REPLICA)) {
        struct stat sb;
        if (stat(st->replica_path, &sb) != 0)
            return swlog_fail(err, SWLOG_EARG, 0,
                              "%s: %s (the folder looks half initialised)",
                              st->replica_path, strerror(errno));
        rc = replica_open(st->replica_path, &st->r, err);
        if (rc != SWLOG_OK)
            return rc;
    }
    return SWLOG_OK;
}

int cli_station_open(const char *dir, cli_station *st, swlog_error *err)
{
    return cli_station_load(dir, 0, st, err);
}

void cli_station_close(cli_station *st)
{
    if (st == NULL)
        return;
    replica_close(st->r);
    st->r = NULL;
}

const char *cli_operator(const cli_station *st, const char *opt)
{
    if (opt != NULL && opt[0] != '\0')
        return opt;
    if (st != NULL && st->operator_name[0] != '\0')
        return st->operator_name;
    return CLI_DEFAULT_OPERATOR;
}

int cli_operator_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SWLOG_MAX_AUTHOR || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* ---- key ---------------------------------------------------------------- */

int cli_station_key(const cli_station *st, keyfile_key **out,
                    swlog_error *err)
{
    uint8_t pk[SWLOG_PUBKEY_BYTES];
    int kind;
    keyfile_key *k = NULL;
    swlog_error e = {0};
    int rc = keyfile_load(st->key_path, NULL, 0, &kind, pk, &k, &e);
    if (rc == KEYFILE_ENOPASS) {
        const char *file = getenv("SWSYNC_PASSPHRASE_FILE");
        passphrase_src src = {NULL, -1};
        int fd = -1;
        char *pw = NULL;
        size_t pwlen = 0;
        if (file != NULL && file[0] != '\0') {
            fd = open(file, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return swlog_fail(err, SWLOG_EIO, 0,
                                  "$SWSYNC_PASSPHRASE_FILE: %s",
                                  strerror(errno));
            src.fd = fd;
        }
        memset(&e, 0, sizeof e);
        rc = passphrase_get(&src, st->key_path, 0, &pw, &pwlen, &e);
        if (fd >= 0)
            close(fd);
        if (rc != SWLOG_OK) {
            *err = e;
            return rc;
        }
        memset(&e, 0, sizeof e);
        rc = keyfile_load(st->key_path, pw, pwlen, &kind, pk, &k, &e);
        passphrase_free(pw);
    }
    if (rc != SWLOG_OK) {
        *err = e;
        return rc;
    }
    if (st->has_pk && memcmp(pk, st->pk, sizeof pk) != 0) {
        keyfile_key_free(k);
        return swlog_fail(err, SWLOG_EARG, 0,
                          "%s changed while in use", st->key_path);
    }
    *out = k;
    return SWLOG_OK;
}

/* ---- messages ----------------------------------------------------------- */

int cli_fail(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "swsync-agent %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_fail_err(const char *cmd, const swlog_error *err, const char *hint)
{
    const char *name = keyfile_code_name(err->code);
    fprintf(stderr, "swsync-agent %s: %s (%s)\n", cmd,
            err->msg[0] != '\0' ? err->msg : "failed",
            name != NULL ? name : "?");
    if (hint != NULL)
        fprintf(stderr, "  %s\n", hint);
    return CLI_EFAIL;
}

/* ---- progress ----------------------------------------------------------- */

int64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cli_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_progress_start(cli_progress *p, const char *what, uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->what = what;
    p->total = total;
    p->start_ms = cli_mono_ms();
    p->last_ms = p->start_ms - 1000;
}

void cli_progress_update(cli_progress *p, uint64_t done)
{
    p->done = done;
    if (!p->tty)
        return;
    int64_t now = cli_mono_ms();
    if (now - p->last_ms < 100)
        return;
    p->last_ms = now;
    double secs = (double)(now - p->start_ms) / 1000.0;
    if (p->total > 0)
        fprintf(stderr, "\r%s: %llu / %llu (%u%%) %.1f s\033[K", p->what,
                (unsigned long long)done, (unsigned long long)p->total,
                (unsigned)(done >= p->total ? 100 : done * 100 / p->total),
                secs);
    else
        fprintf(stderr, "\r%s: %llu %.1f s\033[K", p->what,
                (unsigned long long)done, secs);
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->tty && p->last_ms != p->start_ms - 1000) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

/* ---- arguments ---------------------------------------------------------- */

int cli_want_help(int argc, char **argv, const char *text)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(text, stdout);
            return 1;
        }
    }
    return 0;
}

int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts,
              size_t nopts, const char **pos, size_t npos_max, size_t *npos)
{
    size_t np = 0;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nl = eq != NULL ? (size_t)(eq - name) : strlen(name);
            size_t k;
            for (k = 0; k < nopts; k++)
                if (strlen(opts[k].name) == nl &&
                    memcmp(opts[k].name, name, nl) == 0)
                    break;
            if (k == nopts)
                return cli_fail(cmd, CLI_EUSAGE,
                                "unknown option '%s' (see swsync-agent %s "
                                "--help)", a, cmd);
            if (opts[k].kind == CLI_FLAG) {
                if (eq != NULL)
                    return cli_fail(cmd, CLI_EUSAGE,
                                    "--%s takes no value", opts[k].name);
                *(int *)opts[k].dst = 1;
                continue;
            }
            const char *v;
            if (eq != NULL)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return cli_fail(cmd, CLI_EUSAGE, "--%s needs a value",
                                opts[k].name);
            *(const char **)opts[k].dst = v;
            continue;
        }
        if (np >= npos_max)
            return cli_fail(cmd, CLI_EUSAGE,
                            "unexpected argument '%.40s' (see swsync-agent "
                            "%s --help)", a, cmd);
        pos[np++] = a;
    }
    *npos = np;
    return CLI_OK;
}

int cli_assignment(const char *arg, char colbuf[SWLOG_MAX_NAME + 1],
                   const char **value)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg || (size_t)(eq - arg) > SWLOG_MAX_NAME)
        return -1;
    memcpy(colbuf, arg, (size_t)(eq - arg));
    colbuf[eq - arg] = '\0';
    *value = eq + 1;
    return 0;
}

int cli_parse_int(const char *text, long long *v)
{
    const char *p = text;
    int neg = 0;
    unsigned long long acc = 0;
    if (*p == '-')
        neg = 1, p++;
    if (*p == '\0')
        return 0;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        unsigned d = (unsigned)(*p - '0');
        if (acc > (ULLONG_MAX - d) / 10)
            return 0;
        acc = acc * 10 + d;
    }
    if (neg ? acc > (unsigned long long)LLONG_MAX + 1
            : acc > (unsigned long long)LLONG_MAX)
        return 0;
    *v = neg ? (acc == (unsigned long long)LLONG_MAX + 1
                    ? LLONG_MIN
                    : -(long long)acc)
             : (long long)acc;
    return 1;
}

void cli_time_text(int64_t ms, char out[32])
{
    time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)s * 1000);
    struct tm tm;
    char buf[96];
    if (gmtime_r(&s, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
        tm.tm_year + 1900 < 0) {
        snprintf(out, 32, "?");
        return;
    }
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, frac);
    memcpy(out, buf, 31);
    out[31] = '\0';
}
