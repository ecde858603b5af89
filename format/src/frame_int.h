/* Library-internal frame machinery of format/: the common-header encoder
 * shared by every frame encoder (FORMAT §4.1), the per-type decoders that
 * swlog_frame_decode dispatches to (§5, §7), and buffer reservation. */
#ifndef SWLOG_FRAME_INT_H
#define SWLOG_FRAME_INT_H

#include "internal.h"

/* FORMAT §4.1 field offsets in a body. */
#define SWLOG__OFF_TYPE 0
#define SWLOG__OFF_LAYOUT 1
#define SWLOG__OFF_HEADER_LEN 2
#define SWLOG__OFF_SIGNER 4
#define SWLOG__OFF_SEQ 36
#define SWLOG__OFF_PREV 44
#define SWLOG__OFF_HLC 76
#define SWLOG__OFF_PAYLOAD_LEN 84
#define SWLOG__OFF_PAYLOAD_HASH 88

/* Grow b so that extra more bytes fit: SWLOG_OK or SWLOG_ENOMEM. */
int swlog__buf_reserve(swlog_buf *b, size_t extra);

/* Encoding a body is three calls. begin replaces out's contents with the
 * common header (header_len, payload_len and payload_hash still zero) after
 * checking h (FORMAT §4.1: seq >= 1, zero prev at seq 1; else SWLOG_EARG).
 * The caller appends its type fields, calls end_header (which records
 * header_len and reserves the signature), appends the payload, and calls
 * finish, which checks the limits of §10 (SWLOG_EBOUNDS), fills in the
 * payload fields and signs. On failure out->len is 0. */
int swlog__frame_begin(swlog_buf *out, uint8_t type,
                       const uint8_t sk[SWLOG_SECKEY_BYTES],
                       const swlog_head *h, swlog_error *err);
int swlog__frame_end_header(swlog_buf *out, swlog_error *err);
int swlog__frame_finish(swlog_buf *out, const uint8_t sk[SWLOG_SECKEY_BYTES],
                        swlog_error *err);

/* FORMAT §11.2 item 9: the type fields end at ends[0] < ends[1] < ... <
 * ends[n-1] (field i spans ends[i-1], or 120, up to ends[i]); they must
 * fill body[120..header_len) exactly. SWLOG_ENONCANON at the first field
 * that runs past header_len, or at the first byte left over. */
int swlog__fields_fit(const swlog_frame *f, const size_t *ends, size_t n,
                      swlog_error *err);

/* Type decoders. f holds the checked common header (body, header_len,
 * signer, seq, hlc, payload, payload_len); each checks that the type fields
 * fill body[120..header_len) exactly, decodes them into f->u and, for a
 * change-set, validates the whole payload. Signatures inside type fields
 * are skipped under SWLOG_DECODE_NO_SIG. Offsets are relative to the body. */
int swlog__changeset_decode(swlog_frame *f, unsigned flags, swlog_error *err);
int swlog__cert_decode(swlog_frame *f, unsigned flags, swlog_error *err);
int swlog__rotation_decode(swlog_frame *f, unsigned flags, swlog_error *err);
int swlog__revocation_decode(swlog_frame *f, unsigned flags,
                             swlog_error *err);
int swlog__checkpoint_decode(swlog_frame *f, unsigned flags,
                             swlog_error *err);

#endif
