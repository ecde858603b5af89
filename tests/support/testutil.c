/* Shared helpers for the Check suites; the vector reader follows FORMAT §12.1. */
#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int check_run(Suite *s)
{
    if (swlog_init() != SWLOG_OK) {
        fprintf(stderr, "libsodium failed to start\n");
        return 1;
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

void test_key(unsigned i, uint8_t pk[SWLOG_PUBKEY_BYTES],
              uint8_t sk[SWLOG_SECKEY_BYTES])
{
    char text[64];
    uint8_t seed[SWLOG_SEED_BYTES];
    int n = snprintf(text, sizeof text, "swsync test key %u", i);
    swlog_sha256((const uint8_t *)text, (size_t)n, seed);
    swlog_key_from_seed(seed, pk, sk);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

uint8_t *hex_decode(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 != 0)
        return NULL;
    uint8_t *out = malloc(n / 2 + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}

const char *source_path(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", SWSYNC_SOURCE_DIR, rel);
    return path;
}

const char *test_tmpdir(void)
{
    static char dir[256];
    if (dir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/swsync-test-XXXXXX",
                 base != NULL ? base : "/tmp");
        if (mkdtemp(dir) == NULL)
            ck_abort_msg("mkdtemp failed");
    }
    return dir;
}

static vec *vecs;
static size_t nvecs;

/* The loader runs while suites are being built, outside any test, where
 * Check's asserts cannot report: say what is wrong and stop. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vectors.txt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void vec_add_field(vec *v, const char *key, const char *value)
{
    v->keys = realloc(v->keys, (v->nfields + 1) * sizeof *v->keys);
    v->values = realloc(v->values, (v->nfields + 1) * sizeof *v->values);
    if (v->keys == NULL)
        die("out of memory");
    if (v->values == NULL)
        die("out of memory");
    v->keys[v->nfields] = strdup(key);
    v->values[v->nfields] = strdup(value);
    v->nfields++;
}

static void vec_finish(vec *v)
{
    const char *e = vec_field(v, "expect");
    if (e == NULL)
        die("vector %s has no expect line", v->name);
    char name[64];
    long long at = -1;
    if (sscanf(e, "%63s @%lld", name, &at) < 1)
        die("vector %s: bad expect", v->name);
    if (!swlog_code_parse(name, &v->expect))
        die("vector %s: unknown code %s", v->name, name);
    v->expect_at = at;
    const char *k = vec_field(v, "kind");
    if (k == NULL)
        die("vector %s has no kind", v->name);
    snprintf(v->kind, sizeof v->kind, "%s", k);
}

static void vec_load(void)
{
    if (vecs != NULL)
        return;
    FILE *f = fopen(source_path("spec/vectors/vectors.txt"), "r");
    if (f == NULL)
        die("cannot open spec/vectors/vectors.txt");
    size_t cap = 0;
    vec *cur = NULL;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    while ((n = getline(&line, &lcap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (line[0] == '#')
            continue;
        if (n == 0) {
            if (cur != NULL)
                vec_finish(cur);
            cur = NULL;
            continue;
        }
        char *sp = strchr(line, ' ');
        const char *value = sp != NULL ? sp + 1 : "";
        if (sp != NULL)
            *sp = '\0';
        if (strcmp(line, "vector") == 0) {
            if (cur != NULL)
                vec_finish(cur);
            if (nvecs == cap) {
                cap = cap ? cap * 2 : 64;
                vecs = realloc(vecs, cap * sizeof *vecs);
                if (vecs == NULL)
                    die("out of memory");
            }
            cur = &vecs[nvecs++];
            memset(cur, 0, sizeof *cur);
            snprintf(cur->name, sizeof cur->name, "%s", value);
            continue;
        }
        if (cur == NULL)
            die("a field outside a vector");
        vec_add_field(cur, line, value);
    }
    if (cur != NULL)
        vec_finish(cur);
    free(line);
    fclose(f);
    if (nvecs == 0)
        die("vectors.txt holds no vectors");
}

size_t vec_count(const char *kind)
{
    vec_load();
    size_t c = 0;
    for (size_t i = 0; i < nvecs; i++)
        if (strcmp(vecs[i].kind, kind) == 0)
            c++;
    return c;
}

const vec *vec_get(const char *kind, size_t i)
{
    vec_load();
    for (size_t j = 0; j < nvecs; j++)
        if (strcmp(vecs[j].kind, kind) == 0 && i-- == 0)
            return &vecs[j];
    ck_abort_msg("no vector %zu of kind %s", i, kind);
    return NULL;
}

const vec *vec_by_name(const char *name)
{
    vec_load();
    for (size_t j = 0; j < nvecs; j++)
        if (strcmp(vecs[j].name, name) == 0)
            return &vecs[j];
    ck_abort_msg("no vector named %s", name);
    return NULL;
}

const char *vec_field(const vec *v, const char *key)
{
    for (size_t i = 0; i < v->nfields; i++)
        if (strcmp(v->keys[i], key) == 0)
            return v->values[i];
    return NULL;
}
