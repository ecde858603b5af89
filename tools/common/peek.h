/* The common signed-header fields of a frame body read without validating
 * the frame (FORMAT §4.1), so that tools can name the feed and seq of a frame
 * the library refused. Nothing read here is trusted. */
#ifndef PEEK_H
#define PEEK_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

typedef struct peek_header {
    uint8_t type;
    uint16_t header_len;
    uint8_t signer[SWLOG_PUBKEY_BYTES];
    uint64_t seq;
    uint8_t prev[SWLOG_HASH_BYTES];
    uint64_t hlc;
    int has_id; /* 1 when header_len fits the body and FORMAT's bounds */
    uint8_t id[SWLOG_HASH_BYTES]; /* FORMAT §4.3, when has_id */
} peek_header;

/* 1 and *out filled when body holds the 120 bytes of the common header,
 * 0 otherwise (then *out is untouched). */
int peek_frame(const uint8_t *body, size_t len, peek_header *out);

#endif
