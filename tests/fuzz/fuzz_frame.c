/* libFuzzer target: swlog_frame_decode on arbitrary bodies (FORMAT §4-§7),
 * then, for every change-set it accepts, the reader and a re-encoding.
 *
 * Input: one mode byte, then the body.
 *   bit 0  decode with SWLOG_DECODE_NO_SIG (a mutated body never carries a
 *          valid signature, so without it nothing past §4.1 is reached);
 *   bit 1  before decoding, set payload_len and payload_hash (§4.1) from the
 *          bytes after header_len + 64, so mutated payloads reach §5.
 * Properties checked (abort() on violation):
 *   - an accepted frame borrows from the input and its fields agree with it;
 *   - the reader walks an accepted change-set without error, and yields
 *     exactly record_count records and value_count values per upsert;
 *   - re-encoding what the reader yields with swlog_cs_seal gives the same
 *     type fields and payload bytes (FORMAT §1.5: one canonical encoding). */
#include "fuzz_fix.h"
#include "swlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t fuzz_sk[SWLOG_SECKEY_BYTES];
static swlog_reader reader; /* about 20 KB: not on the stack */
static swlog_cs *builder;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_frame: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uint8_t pk[SWLOG_PUBKEY_BYTES], seed[SWLOG_SEED_BYTES] = {1};
    if (swlog_init() != SWLOG_OK ||
        swlog_key_from_seed(seed, pk, fuzz_sk) != SWLOG_OK ||
        (builder = swlog_cs_new()) == NULL)
        abort();
    return 0;
}

/* A NUL-terminated copy of a name the decoder accepted (<= 64 bytes). */
static const char *cstr(char out[SWLOG_MAX_NAME + 1], const uint8_t *p,
                        size_t len)
{
    check(len >= 1 && len <= SWLOG_MAX_NAME, "name length");
    memcpy(out, p, len);
    out[len] = '\0';
    return out;
}

static void walk_changeset(const swlog_frame *f)
{
    swlog_error err = {0};
    swlog_record rec;
    swlog_column col;
    char table[SWLOG_MAX_NAME + 1], column[SWLOG_MAX_NAME + 1];
    uint32_t records = 0;

    swlog_cs_reset(builder);
    check(swlog_reader_init(&reader, f, &err) == SWLOG_OK, "reader_init");
    /* Bounded: one step past record_count must report the end. */
    for (uint32_t i = 0; i <= f->u.changeset.record_count; i++) {
        int r = swlog_reader_next(&reader, &rec, &err);
        check(r == 0 || r == 1, "reader_next fails on an accepted frame");
        if (r == 0)
            break;
        records++;
        check(rec.kind == SWLOG_UPSERT || rec.kind == SWLOG_DELETE, "kind");
        check(rec.hlc <= f->hlc, "record hlc after the frame's");
        cstr(table, rec.table, rec.table_len);
        if (rec.kind == SWLOG_DELETE) {
            check(swlog_cs_delete(builder, table, rec.row_id, rec.hlc,
                                  rec.replaced_hlc, &err) == SWLOG_OK,
                  "cs_delete refuses a decoded delete");
            continue;
        }
        check(swlog_cs_upsert(builder, table, rec.row_id, rec.hlc, &err) ==
                  SWLOG_OK,
              "cs_upsert refuses a decoded upsert");
        uint32_t values = 0;
        for (uint32_t j = 0; j <= rec.value_count; j++) {
            int v = swlog_reader_value(&reader, &col, &err);
            check(v == 0 || v == 1, "reader_value fails on an accepted frame");
            if (v == 0)
                break;
            values++;
            cstr(column, col.name, col.name_len);
            check(swlog_cs_value(builder, column, col.replaced_hlc,
                                 &col.value, &err) == SWLOG_OK,
                  "cs_value refuses a decoded value");
        }
        check(values == rec.value_count, "value_count");
    }
    check(records == f->u.changeset.record_count, "record_count");

    /* Re-encode under another key: everything but the signer (and so the
     * signature) must come out byte for byte. */
    char author[SWLOG_MAX_AUTHOR + 1];
    size_t alen = f->u.changeset.author_len;
    check(alen >= 1 && alen <= SWLOG_MAX_AUTHOR, "author length");
    memcpy(author, f->u.changeset.author, alen);
    author[alen] = '\0';
    swlog_head h = {.seq = f->seq, .hlc = f->hlc};
    memcpy(h.prev, f->prev, SWLOG_HASH_BYTES);
    swlog_buf out;
    swlog_buf_init(&out);
    check(swlog_cs_seal(builder, fuzz_sk, &h, f->u.changeset.schema_version,
                        author, &out, &err) == SWLOG_OK,
          "cs_seal refuses what the decoder accepted");
    check(out.len == f->body_len, "re-encoded length");
    check(memcmp(out.p, f->body, 4) == 0, "re-encoded type/layout/header_len");
    check(memcmp(out.p + 36, f->body + 36, f->header_len - 36u) == 0,
          "re-encoded signed header (after the signer)");
    check(memcmp(out.p + f->header_len + SWLOG_SIG_BYTES, f->payload,
                 f->payload_len) == 0,
          "re-encoded payload");
    swlog_buf_clear(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    size_t len;
    uint8_t *body = fuzz_body(data, size, &len);
    if (body == NULL)
        return 0;

    swlog_frame f;
    swlog_error err = {0};
    unsigned flags = (mode & 1) ? SWLOG_DECODE_NO_SIG : 0;
    int r = swlog_frame_decode(body, len, flags, &f, &err);
    if (r == SWLOG_OK) {
        check(f.body == body && f.body_len == len, "body borrowed");
        check(f.header_len >= SWLOG_COMMON_HEADER_BYTES &&
                  f.header_len <= SWLOG_MAX_HEADER,
              "header_len bounds");
        check((size_t)f.header_len + SWLOG_SIG_BYTES + f.payload_len == len,
              "body = header + signature + payload");
        check(f.sig == body + f.header_len, "signature position");
        check(f.payload == body + f.header_len + SWLOG_SIG_BYTES,
              "payload position");
        check(f.seq >= 1, "seq >= 1");
        if (f.known && f.type == SWLOG_TYPE_CHANGESET)
            walk_changeset(&f);
    } else {
        check(r < 0 && r >= SWLOG_CODE_MIN, "error code in range");
        check(err.code == r, "err->code is the code returned");
        check(err.offset <= len, "error offset inside the body");
        check(memchr(err.msg, '\0', sizeof err.msg) != NULL,
              "message terminated");
    }
    free(body);
    return 0;
}
