/* hub.conf: `key = value` lines, `#` comments (agent/hub/README.md). */
#include "hub_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"

void hub_config_defaults(hub_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen, sizeof c->listen, "127.0.0.1");
    c->port = 8443;
    c->max_push_bytes = 16777216;
    c->max_push_frames = 256;
    c->memory_budget = 67108864;
    c->connection_limit = 64;
    c->connection_timeout = 30;
    c->max_clock_skew_ms = 600000;
    c->max_parked = 1000;
    c->shutdown_grace = 20;
    c->replica_commit_ms = 100;
    c->relay_interval = 60;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
                     s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int put_path(char *dst, const char *dir, const char *v)
{
    int n;
    if (v[0] == '/' || dir[0] == '\0')
        n = snprintf(dst, HUB_CONFIG_PATH_MAX, "%s", v);
    else
        n = snprintf(dst, HUB_CONFIG_PATH_MAX, "%s/%s", dir, v);
    return n > 0 && n < HUB_CONFIG_PATH_MAX ? 0 : -1;
}

static int put_u64(uint64_t *dst, const char *v, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end != '\0' || v[0] == '-' || x < lo || x > hi)
        return -1;
    *dst = x;
    return 0;
}

static int put_uint(unsigned *dst, const char *v, uint64_t lo, uint64_t hi)
{
    uint64_t x;
    if (put_u64(&x, v, lo, hi) != 0)
        return -1;
    *dst = (unsigned)x;
    return 0;
}

static int put_hex32(uint8_t out[32], const char *v)
{
    if (strlen(v) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned x;
        char two[3] = {v[2 * i], v[2 * i + 1], 0};
        if (sscanf(two, "%2x", &x) != 1 || !strchr("0123456789abcdefABCDEF",
                                                    two[0]) ||
            !strchr("0123456789abcdefABCDEF", two[1]))
            return -1;
        out[i] = (uint8_t)x;
    }
    return 0;
}

static int set_key(hub_config *c, const char *dir, const char *k,
                   const char *v)
{
    if (strcmp(k, "listen") == 0)
        return snprintf(c->listen, sizeof c->listen, "%s", v) <
                       (int)sizeof c->listen ? 0 : -1;
    if (strcmp(k, "port") == 0)
        return put_uint(&c->port, v, 0, 65535);
    if (strcmp(k, "tls_cert") == 0)
        return put_path(c->tls_cert, dir, v);
    if (strcmp(k, "tls_key") == 0)
        return put_path(c->tls_key, dir, v);
    if (strcmp(k, "hub_key") == 0)
        return put_path(c->hub_key, dir, v);
    if (strcmp(k, "passphrase_env") == 0)
        return snprintf(c->passphrase_env, sizeof c->passphrase_env, "%s",
                        v) < (int)sizeof c->passphrase_env ? 0 : -1;
    if (strcmp(k, "data") == 0)
        return put_path(c->data, dir, v);
    if (strcmp(k, "own_log") == 0)
        return put_path(c->own_log, dir, v);
    if (strcmp(k, "root_key") == 0) {
        c->have_root = 1;
        return put_hex32(c->root, v);
    }
    if (strcmp(k, "trust_log") == 0) {
        if (c->ntrust >= HUB_CONFIG_MAX_TRUST)
            return -1;
        return put_path(c->trust_log[c->ntrust++], dir, v);
    }
    if (strcmp(k, "unit") == 0)
        return strlen(v) <= SWLOG_MAX_UNIT
                   ? (snprintf(c->unit, sizeof c->unit, "%s", v), 0)
                   : -1;
    if (strcmp(k, "max_push_bytes") == 0)
        return put_u64(&c->max_push_bytes, v, 4096, 268435456);
    if (strcmp(k, "max_push_frames") == 0)
        return put_uint(&c->max_push_frames, v, 1, 4096);
    if (strcmp(k, "memory_budget") == 0)
        return put_u64(&c->memory_budget, v, 65536, 17179869184ull);
    if (strcmp(k, "connection_limit") == 0)
        return put_uint(&c->connection_limit, v, 1, 4096);
    if (strcmp(k, "connection_timeout") == 0)
        return put_uint(&c->connection_timeout, v, 1, 3600);
    if (strcmp(k, "max_clock_skew_ms") == 0)
        return put_u64(&c->max_clock_skew_ms, v, 0, 31536000000ull);
    if (strcmp(k, "max_parked") == 0)
        return put_uint(&c->max_parked, v, 0, 1000000);
    if (strcmp(k, "replica_commit_ms") == 0)
        return put_uint(&c->replica_commit_ms, v, 10, 600000);
    if (strcmp(k, "shutdown_grace") == 0)
        return put_uint(&c->shutdown_grace, v, 0, 3600);
    if (strcmp(k, "upstream_url") == 0)
        return strncmp(v, "https://", 8) == 0 &&
                       snprintf(c->upstream_url, sizeof c->upstream_url, "%s",
                                v) < (int)sizeof c->upstream_url
                   ? 0
                   : -1;
    if (strcmp(k, "upstream_ca") == 0)
        return put_path(c->upstream_ca, dir, v);
    if (strcmp(k, "upstream_key") == 0) {
        uint8_t tmp[SWLOG_PUBKEY_BYTES];
        if (put_hex32(tmp, v) != 0)
            return -1;
        swlog_hex(tmp, sizeof tmp, c->upstream_key);
        return 0;
    }
    if (strcmp(k, "relay_interval") == 0)
        return put_uint(&c->relay_interval, v, 1, 86400);
    return -2;
}

int hub_config_load(hub_config *c, const char *path, swlog_error *err)
{
    char dir[HUB_CONFIG_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        dir[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return error_set(err, SWLOG_EIO, "%s: %s", path, strerror(errno));
    char line[2048];
    unsigned lineno = 0;
    int rc = SWLOG_OK;
    while (rc == SWLOG_OK && fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            rc = error_set(err, SWLOG_EINVAL, "%s:%u: line too long", path,
                           lineno);
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            rc = error_set(err, SWLOG_EINVAL,
                           "%s:%u: expected 'key = value'", path, lineno);
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        int r = set_key(c, dir, k, v);
        if (r == -2)
            rc = error_set(err, SWLOG_EINVAL, "%s:%u: unknown key '%.40s'",
                           path, lineno, k);
        else if (r != 0)
            rc = error_set(err, SWLOG_EINVAL,
                           "%s:%u: bad value for '%.40s' (see "
                           "swsync-hub --help)", path, lineno, k);
    }
    fclose(fp);
    if (rc != SWLOG_OK)
        return rc;
    const char *missing = NULL;
    if (c->tls_cert[0] == '\0')
        missing = "tls_cert";
    else if (c->tls_key[0] == '\0')
        missing = "tls_key";
    else if (c->hub_key[0] == '\0')
        missing = "hub_key";
    else if (c->data[0] == '\0')
        missing = "data";
    else if (!c->have_root)
        missing = "root_key";
    else if (c->upstream_url[0] != '\0' && c->upstream_ca[0] == '\0')
        missing = "upstream_ca (with upstream_url)";
    if (missing != NULL)
        return error_set(err, SWLOG_EINVAL, "%s: '%s' is required", path,
                         missing);
    if (c->own_log[0] == '\0' &&
        snprintf(c->own_log, sizeof c->own_log, "%s/hub.log", c->data) >=
            (int)sizeof c->own_log)
        return error_set(err, SWLOG_EINVAL, "%s: data path too long", path);
    return SWLOG_OK;
}
