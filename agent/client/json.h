/* A small, strict JSON reader for the hub's answers (RFC 8259 grammar, no
 * extensions). The text is parsed once into a flat array of tokens that
 * borrow from it; lookups walk that array. Every size is bounded below, so
 * a hostile or broken answer costs at most JSON_MAX_TOKENS tokens and
 * JSON_MAX_DEPTH levels of recursion. */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

#define JSON_MAX_INPUT 1048576u /* bytes of one document */
#define JSON_MAX_DEPTH 16u      /* nested arrays and objects */
#define JSON_MAX_TOKENS 65536u  /* values and keys of one document */
#define JSON_MAX_MEMBERS 64u    /* members of one object */
#define JSON_MAX_KEY 64u        /* bytes of one decoded key */

enum json_type {
    JSON_NULL = 1,
    JSON_FALSE = 2,
    JSON_TRUE = 3,
    JSON_NUMBER = 4,
    JSON_STRING = 5,
    JSON_ARRAY = 6,
    JSON_OBJECT = 7,
};

typedef struct json_tok {
    uint8_t type;   /* enum json_type */
    uint8_t escaped; /* strings: the raw text holds a backslash */
    uint32_t start;  /* strings: first byte after the quote; else the value */
    uint32_t len;    /* strings: raw bytes between the quotes */
    uint32_t count;  /* arrays: items; objects: members */
    uint32_t end;    /* index of the first token after this value */
} json_tok;

/* Token 0 is the document's value. An object's members follow it as a key
 * token (a string) and then the value's tokens. */
typedef struct json_doc {
    const char *text;
    size_t len;
    json_tok *t;
    uint32_t n, cap;
} json_doc;

/* Parse text[0..len). On success *d holds the tokens (free with
 * json_clear; text must outlive d). On failure d is empty and err says
 * what and at which byte offset: SWLOG_EBOUNDS for a size above the limits,
 * SWLOG_EINVAL for anything else that is not one strict JSON value
 * (duplicate keys, bad UTF-8, lone surrogates, trailing bytes included). */
int json_parse(json_doc *d, const char *text, size_t len, swlog_error *err);
void json_clear(json_doc *d); /* idempotent; a zeroed doc is fine */

/* The member of object token obj named key: its value's token, or -1 (also
 * when obj is not an object). */
int json_member(const json_doc *d, int obj, const char *key);
/* Item i of array token arr, or -1. */
int json_item(const json_doc *d, int arr, uint32_t i);
/* Type of token tok, or 0 when tok is -1 or out of range. */
int json_type_of(const json_doc *d, int tok);

/* Converters: SWLOG_OK, or SWLOG_EINVAL when the token is absent or not of
 * the form wanted (outputs untouched). */
/* A non-negative integer below 2^53 (PROTOCOL §1), no fraction or exponent. */
int json_u64(const json_doc *d, int tok, uint64_t *out);
/* The decoded string, NUL-terminated; SWLOG_EBOUNDS when it does not fit in
 * cap bytes or holds a NUL. */
int json_string(const json_doc *d, int tok, char *out, size_t cap);
/* Exactly 2*n lowercase hex digits (PROTOCOL §1) into out[0..n). */
int json_hex(const json_doc *d, int tok, uint8_t *out, size_t n);

#endif
