/* libFuzzer target: the CSV reader (agent/csv.c). The first input byte
 * picks the limits (bits 0-2: max_fields = 1 + 9 * n; bit 7: max_record 40
 * instead of 4096); the rest is the file. Properties (abort() otherwise):
 * only 1, 0, SWLOG_EINVAL or SWLOG_EBOUNDS come back, an error is sticky
 * and has a line; every record has 1..max_fields fields without NUL, within
 * max_record bytes, in valid UTF-8, on non-decreasing lines; and the
 * records written back in canonical form (every field quoted, CRLF) read
 * back as the same records. */
#include "csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_csv: property violated: %s\n", what);
        abort();
    }
}

/* An independent UTF-8 check (RFC 3629 table 3-7). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (b < 0x80) {
            i++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            k = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            k = 2;
            lo = b == 0xE0 ? 0xA0 : 0x80;
            hi = b == 0xED ? 0x9F : 0xBF;
        } else if (b >= 0xF0 && b <= 0xF4) {
            k = 3;
            lo = b == 0xF0 ? 0x90 : 0x80;
            hi = b == 0xF4 ? 0x8F : 0xBF;
        } else {
            return 0;
        }
        if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t j = 2; j <= k; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xBF)
                return 0;
        i += k + 1;
    }
    return 1;
}

typedef struct sink {
    char *buf;
    size_t len;
    FILE *f;
} sink;

/* Every record of data; written canonically into out->f when not NULL.
 * Returns the reader's final code. */
static int read_all(const uint8_t *data, size_t size, size_t max_record,
                    size_t max_fields, FILE *out, size_t *nrec)
{
    FILE *in = fmemopen((void *)data, size, "rb");
    csv_reader *r = NULL;
    swlog_error err = {0};
    csv_record rec;
    uint64_t last_line = 0;
    int rc;
    *nrec = 0;
    if (in == NULL)
        return 0; /* size 0 on an old libc: nothing to read */
    check(csv_new(in, max_record, max_fields, &r, &err) == SWLOG_OK, "new");
    while ((rc = csv_next(r, &rec, &err)) == 1) {
        size_t total = 0;
        check(rec.nfields >= 1 && rec.nfields <= max_fields, "field count");
        check(rec.line >= 1 && rec.line >= last_line, "lines ascend");
        last_line = rec.line;
        for (size_t i = 0; i < rec.nfields; i++) {
            check(strlen(rec.field[i]) == rec.len[i], "no NUL in a field");
            check(utf8_ok((const unsigned char *)rec.field[i], rec.len[i]),
                  "fields are UTF-8");
            total += rec.len[i];
        }
        check(total <= max_record, "record within max_record");
        if (out != NULL) {
            for (size_t i = 0; i < rec.nfields; i++) {
                fputs(i ? ",\"" : "\"", out);
                for (const char *p = rec.field[i]; *p; p++)
                    fputs(*p == '"' ? "\"\"" : (char[]){*p, 0}, out);
                fputc('"', out);
            }
            fputs("\r\n", out);
        }
        (*nrec)++;
    }
    if (rc != 0) {
        check(rc == SWLOG_EINVAL || rc == SWLOG_EBOUNDS, "error code");
        check(err.code == rc, "error reported");
        check(csv_error_line(r) >= 1 && csv_error_line(r) >= last_line &&
                  csv_error_column(r) >= 1,
              "error position");
        swlog_error e2 = {0};
        check(csv_next(r, &rec, &e2) == rc, "errors are sticky");
    }
    csv_free(r);
    fclose(in);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t max_fields = 1 + 9u * (data[0] & 7u);
    size_t max_record = (data[0] & 0x80u) ? 40 : 4096;
    sink s = {NULL, 0, NULL};
    s.f = open_memstream(&s.buf, &s.len);
    check(s.f != NULL, "memstream");
    size_t n1 = 0, n2 = 0;
    int rc = read_all(data + 1, size - 1, max_record, max_fields, s.f, &n1);
    fclose(s.f);
    if (rc == 0) {
        /* Canonical form: at most 2 bytes per byte plus 3 per field; read
         * back and written again, it must come out byte for byte. */
        size_t big = 2 * max_record + 3 * max_fields + 2;
        sink t = {NULL, 0, NULL};
        t.f = open_memstream(&t.buf, &t.len);
        check(t.f != NULL, "memstream");
        int rc2 = read_all((const uint8_t *)s.buf, s.len, big, max_fields,
                           t.f, &n2);
        fclose(t.f);
        check(rc2 == 0 && n2 == n1 && t.len == s.len &&
                  memcmp(t.buf, s.buf, s.len) == 0,
              "canonical form reads back as the same records");
        free(t.buf);
    }
    free(s.buf);
    return 0;
}
