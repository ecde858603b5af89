/* Small JSON writing helpers for the hub's answers (PROTOCOL §1, §2). */
#ifndef HUB_JSON_H
#define HUB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

/* Append printf output; returns SWLOG_OK or SWLOG_ENOMEM. */
int hub_json_printf(swlog_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string with quotes (control characters escaped). */
int hub_json_str(swlog_buf *b, const char *s);
/* Append "hex" of n bytes. */
int hub_json_hex(swlog_buf *b, const uint8_t *p, size_t n);
/* {"error":code,"message":msg} */
int hub_json_error(swlog_buf *b, const char *code, const char *msg);

#endif
