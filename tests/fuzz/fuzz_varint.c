/* libFuzzer target: the change-set payload's varint reader (FORMAT §1.2,
 * library-internal). Property: whatever it accepts is the minimal encoding
 * of its value, so swlog__put_varint writes back exactly the bytes read
 * (abort() otherwise); whatever it refuses gets a decoding error code. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_varint: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    swlog__cursor c;
    swlog_error err = {0};
    uint64_t v = 0;
    swlog__cursor_init(&c, data, size, 0);
    int r = swlog__take_varint(&c, &v, &err);
    if (r != SWLOG_OK) {
        check(r == SWLOG_ESHORT || r == SWLOG_ENONCANON ||
                  r == SWLOG_EBOUNDS || r == SWLOG_EINVAL,
              "refusal code");
        check(err.code == r && err.offset <= size, "error report");
        return 0;
    }
    size_t used = (size_t)c.offset;
    check(used >= 1 && used <= 10 && used <= size, "bytes used");
    check(c.left == size - used && c.p == data + used, "cursor advanced");
    check(swlog__varint_len(v) == used, "varint_len");
    swlog_buf b;
    swlog_buf_init(&b);
    check(swlog__put_varint(&b, v) == SWLOG_OK, "put_varint");
    check(b.len == used && memcmp(b.p, data, used) == 0,
          "re-encoding differs: accepted a non-minimal varint");
    swlog_buf_clear(&b);
    return 0;
}
