/* libFuzzer target: the sync client's JSON reader (agent/client/json.c),
 * which reads untrusted hub answers. Properties: a refusal is one of its
 * documented codes with an offset inside the input and leaves nothing
 * allocated; an accepted document's tokens are well nested (each value's
 * subtree ends after it and within its parent), and every converter on
 * every token returns OK or a refusal code without reading outside. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_json: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_doc d;
    swlog_error err = {0};
    /* A copy of exactly size bytes, so reading one past the end is caught
     * by ASan. */
    char *text = malloc(size ? size : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    int rc = json_parse(&d, text, size, &err);
    if (rc != SWLOG_OK) {
        check(rc == SWLOG_EINVAL || rc == SWLOG_EBOUNDS || rc == SWLOG_ENOMEM,
              "refusal code");
        check(err.code == rc && err.offset <= size, "error report");
        check(d.t == NULL && d.n == 0, "nothing kept on failure");
        free(text);
        return 0;
    }
    check(d.n >= 1 && d.n <= JSON_MAX_TOKENS, "token count");
    char *buf = malloc(size + 1);
    for (uint32_t i = 0; i < d.n; i++) {
        const json_tok *t = &d.t[i];
        check(t->type >= JSON_NULL && t->type <= JSON_OBJECT, "type");
        check(t->end > i && t->end <= d.n, "subtree end");
        check((size_t)t->start + t->len <= size, "span inside the input");
        if (t->type == JSON_STRING)
            check(json_string(&d, (int)i, buf, size + 1) != SWLOG_EINVAL,
                  "a string token converts");
        uint64_t v;
        int u = json_u64(&d, (int)i, &v);
        check(u == SWLOG_OK || u == SWLOG_EINVAL, "u64 code");
        check(u != SWLOG_OK || v < (UINT64_C(1) << 53), "u64 bound");
        uint8_t h[32];
        int x = json_hex(&d, (int)i, h, sizeof h);
        check(x == SWLOG_OK || x == SWLOG_EINVAL, "hex code");
        if (t->type == JSON_ARRAY || t->type == JSON_OBJECT) {
            /* Children are walked by their ends and land on this end. */
            uint32_t at = i + 1;
            uint32_t kids = t->type == JSON_OBJECT ? 2 * t->count : t->count;
            for (uint32_t k = 0; k < kids; k++) {
                check(at < t->end, "child inside its parent");
                at = d.t[at].end;
            }
            check(at == t->end, "children fill their parent");
        }
    }
    json_member(&d, 0, "results");
    json_item(&d, 0, 0);
    free(buf);
    json_clear(&d);
    free(text);
    return 0;
}
