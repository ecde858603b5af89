/* The log file header and the frame envelope, as bytes: FORMAT §3.1, §3.2. */
#include "internal.h"

#include <inttypes.h>
#include <string.h>

static const uint8_t file_magic[8] = {0x89, 'S', 'W',  'L',
                                      'O',  'G', '\r', '\n'};

static uint16_t load16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static void store16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void swlog_file_header_encode(const uint8_t salt[SWLOG_SALT_BYTES],
                              uint8_t out[SWLOG_FILE_HEADER_BYTES])
{
    memcpy(out, file_magic, sizeof file_magic);
    store16(out + 8, SWLOG_FILE_VERSION);
    store16(out + 10, 0);
    memcpy(out + 12, salt, SWLOG_SALT_BYTES);
    store32(out + 28, swlog_crc32c(0, out, 28));
}

/* Decodes the first 32 bytes of buf; what follows them is not looked at. */
int swlog_file_header_decode(const uint8_t *buf, size_t len,
                             uint8_t salt[SWLOG_SALT_BYTES], swlog_error *err)
{
    if ((buf == NULL && len > 0) || salt == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "file header: NULL argument");
    if (len < SWLOG_FILE_HEADER_BYTES)
        return swlog__fail(err, SWLOG_ESHORT, 0,
                           "file header: %zu bytes, need %u", len,
                           SWLOG_FILE_HEADER_BYTES);
    /* FORMAT §3.1 fixes this order: magic, version, reserved, then CRC, so
     * a later version with another header layout is named as such. */
    if (memcmp(buf, file_magic, sizeof file_magic) != 0)
        return swlog__fail(err, SWLOG_EMAGIC, 0, "not a swsync log file");
    uint16_t version = load16(buf + 8);
    if (version != SWLOG_FILE_VERSION)
        return swlog__fail(err, SWLOG_EVERSION, 8,
                           "file version %u, this library reads %u",
                           (unsigned)version, SWLOG_FILE_VERSION);
    if (load16(buf + 10) != 0)
        return swlog__fail(err, SWLOG_ENONCANON, 10,
                           "file header: reserved field is not zero");
    uint32_t want = load32(buf + 28), got = swlog_crc32c(0, buf, 28);
    if (want != got)
        return swlog__fail(err, SWLOG_ECRC, 28,
                           "file header CRC %08" PRIx32 ", computed %08" PRIx32,
                           want, got);
    memcpy(salt, buf + 12, SWLOG_SALT_BYTES);
    return SWLOG_OK;
}

int swlog_envelope_encode(const uint8_t salt[SWLOG_SALT_BYTES],
                          const uint8_t *body, size_t len,
                          uint8_t head[SWLOG_ENVELOPE_HEAD_BYTES],
                          uint8_t crc[4])
{
    if (salt == NULL || body == NULL || head == NULL || crc == NULL)
        return SWLOG_EARG;
    if (len == 0 || len > SWLOG_MAX_BODY)
        return SWLOG_EBOUNDS;
    head[0] = 0xf5;
    head[1] = 0x1e;
    store16(head + 2, 0);
    store32(head + 4, (uint32_t)len);
    /* FORMAT §3.2: one CRC over salt || head || body, so a frame copied from
     * another file (another salt) fails it. */
    uint32_t c = swlog_crc32c(0, salt, SWLOG_SALT_BYTES);
    c = swlog_crc32c(c, head, SWLOG_ENVELOPE_HEAD_BYTES);
    c = swlog_crc32c(c, body, len);
    store32(crc, c);
    return SWLOG_OK;
}
