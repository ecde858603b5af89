/* The consistency endpoint: PROTOCOL §4.7, FORMAT §9.4. Parameters are
 * parsed strictly and bounded by the newest checkpoint's tree size, the
 * sizes a client can hold a signed root for. */
#include "hub_internal.h"

#include <stdio.h>
#include <string.h>

#include "hub_json.h"
#include "hub_merkle.h"

/* Canonical decimal: 1-20 digits, no sign, no leading zero, no overflow. */
static int parse_size(const char *s, uint64_t *out)
{
    if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
        return 0;
    uint64_t v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || p - s >= 20)
            return 0;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static unsigned refuse(swlog_buf *out, const char *code, const char *msg)
{
    out->len = 0;
    return hub_json_error(out, code, msg) == SWLOG_OK ? 400 : 500;
}

unsigned hub_consistency(hub *h, const char *from, const char *to,
                         swlog_buf *out)
{
    uint64_t m, n;
    char msg[200];
    if (!parse_size(from, &m) || !parse_size(to, &n))
        return refuse(out, "bad_request",
                      "from and to must both be given as tree sizes in "
                      "decimal digits, without sign or leading zero: "
                      "/v1/consistency?from=M&to=N (PROTOCOL §4.7)");
    if (m == 0 || m > n) {
        snprintf(msg, sizeof msg,
                 "from=%llu, to=%llu: sizes must satisfy 0 < from <= to "
                 "(FORMAT §9.4)",
                 (unsigned long long)m, (unsigned long long)n);
        return refuse(out, "bad_tree_size", msg);
    }
    uint8_t path[SWLOG_MAX_PROOF][SWLOG_HASH_BYTES];
    size_t len = 0;
    swlog_error err = {0};
    pthread_mutex_lock(&h->mu);
    uint64_t size = h->have_cp ? h->cp_size : 0;
    int rc = n <= size ? hub_merkle_consistency(h->store, m, n, path, &len,
                                                &err)
                       : SWLOG_EARG;
    pthread_mutex_unlock(&h->mu);
    if (n > size) {
        snprintf(msg, sizeof msg,
                 "to=%llu is beyond this hub's newest checkpoint, of tree "
                 "size %llu: a checkpoint you hold of a larger size means "
                 "the hub's log shrank, report it",
                 (unsigned long long)n, (unsigned long long)size);
        return refuse(out, "bad_tree_size", msg);
    }
    out->len = 0;
    if (rc != SWLOG_OK) {
        snprintf(msg, sizeof msg, "the hub failed to compute the proof: %s",
                 err.msg);
        hub_json_error(out, "internal", msg);
        return 500;
    }
    rc = hub_json_printf(out, "{\"from\":%llu,\"to\":%llu,\"tree_size\":%llu,"
                              "\"path\":[",
                         (unsigned long long)m, (unsigned long long)n,
                         (unsigned long long)size);
    for (size_t i = 0; rc == SWLOG_OK && i < len; i++) {
        if (i > 0)
            rc = hub_json_printf(out, ",");
        if (rc == SWLOG_OK)
            rc = hub_json_hex(out, path[i], SWLOG_HASH_BYTES);
    }
    if (rc == SWLOG_OK)
        rc = hub_json_printf(out, "]}\n");
    if (rc != SWLOG_OK) {
        out->len = 0;
        hub_json_error(out, "internal", "out of memory");
        return 500;
    }
    return 200;
}
