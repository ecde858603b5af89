/* Text formatting shared by the tools: hex, short keys, HLC and millisecond
 * times as ISO 8601, human-readable escaped text, and JSON values. */
#ifndef FMT_H
#define FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "3b6a…91": the first 4 and last 2 hex digits of a 32-byte key, for people
 * to tell feeds apart at a glance. Never enough to identify a key: --json
 * output carries the full key. */
#define FMT_KEY_SHORT_BYTES 12
void fmt_key_short(const uint8_t key[32], char out[FMT_KEY_SHORT_BYTES]);

/* Lowercase hex of len bytes to f. */
void fmt_hex(FILE *f, const uint8_t *p, size_t len);

/* "2026-11-23T01:17:17.123Z" for milliseconds since the Unix epoch
 * (FORMAT §1.4). Years above 9999 print with more digits. */
#define FMT_TIME_BYTES 64
void fmt_ms(uint64_t ms, char out[FMT_TIME_BYTES]);
/* HLC (FORMAT §1.4): "2026-11-23T01:17:17.123Z#3" = time # logical counter. */
#define FMT_HLC_BYTES 80
void fmt_hlc(uint64_t hlc, char out[FMT_HLC_BYTES]);

/* Human form of a UTF-8 string, in double quotes: printable characters as
 * they are; quote and backslash escaped; control characters (C0, DEL, C1),
 * line/paragraph separators and bidirectional overrides as \n, \t, \xNN or
 * \u{XXXX}, so a value cannot move the cursor or reorder a terminal line;
 * bytes that are not UTF-8 as \xNN. */
void fmt_text(FILE *f, const uint8_t *p, size_t len);

/* JSON string (RFC 8259) in double quotes. Bytes that are not UTF-8 (only
 * possible in file names) become U+FFFD. */
void fmt_json_str(FILE *f, const uint8_t *p, size_t len);
void fmt_json_cstr(FILE *f, const char *s);

/* JSON integers: a number when |v| <= 2^53 (exact in every JSON parser),
 * else a string of decimal digits. */
#define FMT_JSON_SAFE_INT 9007199254740992ull /* 2^53 */
void fmt_json_u64(FILE *f, uint64_t v);
void fmt_json_i64(FILE *f, int64_t v);
/* JSON real: shortest round-trip form, always with a fraction or exponent
 * ("3.0", "-0.0") so it reads back as a real; infinities as "inf" / "-inf"
 * strings (JSON has no infinity; NaN never reaches here, FORMAT §5.4). */
void fmt_json_real(FILE *f, double v);

#endif
