/* JSON output for the hub (PROTOCOL §1): only what the answers need. */
#include "hub_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hub_json_printf(swlog_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SWLOG_EARG;
    if ((size_t)n < sizeof small)
        return swlog_buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (big == NULL)
        return SWLOG_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = swlog_buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

int hub_json_str(swlog_buf *b, const char *s)
{
    int rc = swlog_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s;
         rc == SWLOG_OK && *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            rc = swlog_buf_append(b, e, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            rc = hub_json_printf(b, "\\u%04x", *p);
        } else {
            rc = swlog_buf_append(b, p, 1);
        }
    }
    if (rc == SWLOG_OK)
        rc = swlog_buf_append(b, "\"", 1);
    return rc;
}

int hub_json_hex(swlog_buf *b, const uint8_t *p, size_t n)
{
    char hex[129];
    int rc = swlog_buf_append(b, "\"", 1);
    while (rc == SWLOG_OK && n > 0) {
        size_t k = n > 64 ? 64 : n;
        swlog_hex(p, k, hex);
        rc = swlog_buf_append(b, hex, 2 * k);
        p += k;
        n -= k;
    }
    if (rc == SWLOG_OK)
        rc = swlog_buf_append(b, "\"", 1);
    return rc;
}

int hub_json_error(swlog_buf *b, const char *code, const char *msg)
{
    int rc = hub_json_printf(b, "{\"error\":");
    if (rc == SWLOG_OK)
        rc = hub_json_str(b, code);
    if (rc == SWLOG_OK)
        rc = hub_json_printf(b, ",\"message\":");
    if (rc == SWLOG_OK)
        rc = hub_json_str(b, msg);
    if (rc == SWLOG_OK)
        rc = hub_json_printf(b, "}\n");
    return rc;
}
