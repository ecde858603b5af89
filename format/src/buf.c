/* The growable byte buffer that encoders write into (no FORMAT section). */
#include "frame_int.h"

#include <stdlib.h>
#include <string.h>

void swlog_buf_init(swlog_buf *b)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void swlog_buf_clear(swlog_buf *b)
{
    if (b == NULL)
        return;
    free(b->p);
    swlog_buf_init(b);
}

int swlog__buf_reserve(swlog_buf *b, size_t extra)
{
    if (b == NULL)
        return SWLOG_EARG;
    if (extra > SIZE_MAX - b->len)
        return SWLOG_ENOMEM;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return SWLOG_OK;
    /* Doubling keeps appends amortised O(1). */
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL)
        return SWLOG_ENOMEM;
    b->p = p;
    b->cap = cap;
    return SWLOG_OK;
}

int swlog_buf_append(swlog_buf *b, const void *p, size_t len)
{
    if (b == NULL || (p == NULL && len > 0))
        return SWLOG_EARG;
    if (len == 0)
        return SWLOG_OK;
    int rc = swlog__buf_reserve(b, len);
    if (rc != SWLOG_OK)
        return rc;
    memcpy(b->p + b->len, p, len);
    b->len += len;
    return SWLOG_OK;
}
