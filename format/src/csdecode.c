/* Strict decoding of change-set frames and the reader over them: FORMAT
 * §5.1-§5.4. Frame decoding and the reader share one parser, so what the
 * reader returns is exactly what the decoder validated. */
#include "frame_int.h"

#include <inttypes.h>
#include <string.h>

/* FORMAT §5.1: type-field offsets. */
#define CS_SCHEMA 120
#define CS_COUNT 124
#define CS_AUTHOR_LEN 128
#define CS_AUTHOR 129

#define TAG_TYPE 0x07u
#define TAG_REPLACED 0x08u
#define TAG_RESERVED 0xf0u

/* Most varints in a payload are one byte: decide those without a call. */
static inline int varint(swlog__cursor *c, uint64_t *v, swlog_error *err)
{
    if (c->left > 0 && c->p[0] < 0x80) {
        *v = c->p[0];
        c->p++;
        c->left--;
        c->offset++;
        return SWLOG_OK;
    }
    return swlog__take_varint(c, v, err);
}

static uint64_t at_of(const swlog_reader *rd, const uint8_t *p)
{
    return (uint64_t)(p - rd->body);
}

/* FORMAT §5.3: byte-string order, a proper prefix first. */
static int name_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r != 0)
        return r;
    return (alen > blen) - (alen < blen);
}

/* A failure about dictionary name t (k < 0) or column k of table t. */
static int name_fail(swlog_error *err, swlog_code code, uint64_t at,
                     unsigned t, int k, const char *what)
{
    if (k < 0)
        return swlog__fail(err, code, at, "table %u: %s", t, what);
    return swlog__fail(err, code, at, "table %u column %d: %s", t, k, what);
}

/* One dictionary name: len:u8 then an identifier (FORMAT §1.3, §5.2). */
static int take_name(swlog__cursor *c, unsigned t, int k,
                     const uint8_t **name, uint8_t *len, swlog_error *err)
{
    uint64_t at = c->offset;
    uint8_t n;
    int rc = swlog__take_u8(c, &n, err);
    if (rc != SWLOG_OK)
        return rc;
    if (n == 0)
        return name_fail(err, SWLOG_EINVAL, at, t, k, "empty name");
    if (n > SWLOG_MAX_NAME)
        return name_fail(err, SWLOG_EBOUNDS, at, t, k,
                         "name longer than 64 bytes");
    at = c->offset;
    rc = swlog__take_bytes(c, n, name, err);
    if (rc != SWLOG_OK)
        return rc;
    if (!swlog__ident_valid(*name, n))
        return name_fail(err, SWLOG_EINVAL, at, t, k,
                         "name is not an identifier");
    *len = n;
    return SWLOG_OK;
}

/* FORMAT §5.2, §5.3: the dictionary, into rd->tables and rd->cols. */
static int parse_dict(swlog_reader *rd, swlog__cursor *c, swlog_error *err)
{
    uint64_t at = c->offset;
    uint64_t ntables;
    int rc = varint(c, &ntables, err);
    if (rc != SWLOG_OK)
        return rc;
    if (ntables == 0)
        return swlog__fail(err, SWLOG_EINVAL, at, "table_count 0");
    if (ntables > SWLOG_MAX_TABLES)
        return swlog__fail(err, SWLOG_EBOUNDS, at,
                           "table_count %" PRIu64 ", maximum %u", ntables,
                           SWLOG_MAX_TABLES);
    uint32_t total = 0;
    for (unsigned t = 0; t < ntables; t++) {
        const uint8_t *name = NULL;
        uint8_t len = 0;
        rc = take_name(c, t, -1, &name, &len, err);
        if (rc != SWLOG_OK)
            return rc;
        if (t > 0 && name_cmp(name, len, rd->tables[t - 1].name,
                              rd->tables[t - 1].len) <= 0)
            return swlog__fail(err, SWLOG_ENONCANON, at_of(rd, name),
                               "table %u: name not above the previous one",
                               t);
        at = c->offset;
        uint64_t ncols;
        rc = varint(c, &ncols, err);
        if (rc != SWLOG_OK)
            return rc;
        if (ncols > SWLOG_MAX_COLUMNS)
            return swlog__fail(err, SWLOG_EBOUNDS, at,
                               "table %u: column_count %" PRIu64
                               ", maximum %u",
                               t, ncols, SWLOG_MAX_COLUMNS);
        if (total + ncols > SWLOG_MAX_DICT_COLUMNS)
            return swlog__fail(err, SWLOG_EBOUNDS, at,
                               "table %u: dictionary columns exceed %u", t,
                               SWLOG_MAX_DICT_COLUMNS);
        rd->tables[t].name = name;
        rd->tables[t].len = len;
        rd->tables[t].first = (uint16_t)total;
        rd->tables[t].count = (uint16_t)ncols;
        for (unsigned k = 0; k < ncols; k++) {
            rc = take_name(c, t, (int)k, &name, &len, err);
            if (rc != SWLOG_OK)
                return rc;
            if (k > 0 && name_cmp(name, len, rd->cols[total + k - 1].name,
                                  rd->cols[total + k - 1].len) <= 0)
                return swlog__fail(err, SWLOG_ENONCANON, at_of(rd, name),
                                   "table %u column %u: name not above the "
                                   "previous one",
                                   t, k);
            rd->cols[total + k].name = name;
            rd->cols[total + k].len = len;
        }
        total += (uint32_t)ncols;
    }
    rd->ntables = (uint16_t)ntables;
    return SWLOG_OK;
}

/* FORMAT §5.2: one record header; *table is its table index. */
static int parse_record(swlog_reader *rd, swlog__cursor *c, unsigned i,
                        swlog_record *out, unsigned *table, swlog_error *err)
{
    swlog_record r;
    memset(&r, 0, sizeof r);
    uint64_t at = c->offset;
    int rc = swlog__take_u8(c, &r.kind, err);
    if (rc != SWLOG_OK)
        return rc;
    if (r.kind != SWLOG_UPSERT && r.kind != SWLOG_DELETE)
        return swlog__fail(err, SWLOG_EINVAL, at, "record %u: kind %u", i,
                           (unsigned)r.kind);
    at = c->offset;
    uint64_t ti;
    rc = varint(c, &ti, err);
    if (rc != SWLOG_OK)
        return rc;
    if (ti >= rd->ntables)
        return swlog__fail(err, SWLOG_EINVAL, at,
                           "record %u: table index %" PRIu64 " not below %u",
                           i, ti, (unsigned)rd->ntables);
    const uint8_t *id;
    rc = swlog__take_bytes(c, SWLOG_UUID_BYTES, &id, err);
    if (rc != SWLOG_OK)
        return rc;
    memcpy(r.row_id, id, SWLOG_UUID_BYTES);
    at = c->offset;
    uint64_t delta;
    rc = varint(c, &delta, err);
    if (rc != SWLOG_OK)
        return rc;
    if (delta > rd->frame_hlc)
        return swlog__fail(err, SWLOG_EINVAL, at,
                           "record %u: hlc_delta above the frame hlc", i);
    r.hlc = rd->frame_hlc - delta;
    at = c->offset;
    if (r.kind == SWLOG_DELETE) {
        rc = varint(c, &r.replaced_hlc, err);
        if (rc != SWLOG_OK)
            return rc;
    } else {
        uint64_t n;
        rc = varint(c, &n, err);
        if (rc != SWLOG_OK)
            return rc;
        if (n == 0 || n > rd->tables[ti].count)
            return swlog__fail(err, SWLOG_EINVAL, at,
                               "record %u: value_count %" PRIu64
                               " outside 1..%u",
                               i, n, (unsigned)rd->tables[ti].count);
        r.value_count = (uint32_t)n;
    }
    r.table = rd->tables[ti].name;
    r.table_len = rd->tables[ti].len;
    *out = r;
    *table = (unsigned)ti;
    return SWLOG_OK;
}

static int is_nan(uint64_t bits)
{
    return (bits & 0x7ff0000000000000u) == 0x7ff0000000000000u &&
           (bits & 0x000fffffffffffffu) != 0;
}

static int64_t unzigzag(uint64_t u)
{
    /* FORMAT §1.2, inverted without shifting negative numbers. */
    return (u & 1) ? -(int64_t)(u >> 1) - 1 : (int64_t)(u >> 1);
}

/* FORMAT §5.4: the data of one value of type t. */
static int parse_data(swlog__cursor *c, unsigned i, unsigned j, unsigned t,
                      swlog_value *v, swlog_error *err)
{
    uint64_t at = c->offset;
    uint64_t u, len;
    const uint8_t *p;
    int rc;
    switch (t) {
    case SWLOG_NULL:
        return SWLOG_OK;
    case SWLOG_INT:
        rc = varint(c, &u, err);
        if (rc == SWLOG_OK)
            v->i = unzigzag(u);
        return rc;
    case SWLOG_REAL:
        rc = swlog__take_bytes(c, 8, &p, err);
        if (rc != SWLOG_OK)
            return rc;
        u = swlog__load_u64(p);
        if (is_nan(u))
            return swlog__fail(err, SWLOG_EINVAL, at,
                               "record %u value %u: real is NaN", i, j);
        memcpy(&v->r, &u, sizeof v->r);
        return SWLOG_OK;
    default: /* SWLOG_TEXT, SWLOG_BLOB */
        rc = varint(c, &len, err);
        if (rc != SWLOG_OK)
            return rc;
        uint64_t max = t == SWLOG_TEXT ? SWLOG_MAX_TEXT : SWLOG_MAX_BLOB;
        if (len > max)
            return swlog__fail(err, SWLOG_EBOUNDS, at,
                               "record %u value %u: length %" PRIu64
                               ", maximum %" PRIu64,
                               i, j, len, max);
        at = c->offset;
        rc = swlog__take_bytes(c, (size_t)len, &p, err);
        if (rc != SWLOG_OK)
            return rc;
        if (t == SWLOG_TEXT && !swlog__utf8_valid(p, (size_t)len))
            return swlog__fail(err, SWLOG_EINVAL, at,
                               "record %u value %u: text is not valid UTF-8",
                               i, j);
        v->p = p;
        v->len = (size_t)len;
        return SWLOG_OK;
    }
}

/* FORMAT §5.4: one value of a record of table ti. *prev is the previous
 * col_index of the record (-1 before the first); *col_index is this one. */
static int parse_value(swlog_reader *rd, swlog__cursor *c, unsigned ti,
                       unsigned i, unsigned j, int64_t prev,
                       swlog_column *out, unsigned *col_index,
                       swlog_error *err)
{
    uint64_t at = c->offset;
    uint64_t ci;
    int rc = varint(c, &ci, err);
    if (rc != SWLOG_OK)
        return rc;
    if (ci >= rd->tables[ti].count)
        return swlog__fail(err, SWLOG_EINVAL, at,
                           "record %u value %u: column index %" PRIu64
                           " not below %u",
                           i, j, ci, (unsigned)rd->tables[ti].count);
    if ((int64_t)ci <= prev)
        return swlog__fail(err, SWLOG_ENONCANON, at,
                           "record %u value %u: column index %" PRIu64
                           " not above %" PRId64,
                           i, j, ci, prev);
    at = c->offset;
    uint8_t tag;
    rc = swlog__take_u8(c, &tag, err);
    if (rc != SWLOG_OK)
        return rc;
    if (tag & TAG_RESERVED)
        return swlog__fail(err, SWLOG_ENONCANON, at,
                           "record %u value %u: tag 0x%02x has reserved "
                           "bits set",
                           i, j, (unsigned)tag);
    unsigned t = tag & TAG_TYPE;
    if (t > SWLOG_BLOB)
        return swlog__fail(err, SWLOG_EINVAL, at,
                           "record %u value %u: value type %u", i, j, t);
    swlog_column col;
    memset(&col, 0, sizeof col);
    if (tag & TAG_REPLACED) {
        at = c->offset;
        rc = varint(c, &col.replaced_hlc, err);
        if (rc != SWLOG_OK)
            return rc;
        if (col.replaced_hlc == 0)
            return swlog__fail(err, SWLOG_ENONCANON, at,
                               "record %u value %u: replaced flag with "
                               "replaced_hlc 0",
                               i, j);
    }
    col.value.type = (uint8_t)t;
    rc = parse_data(c, i, j, t, &col.value, err);
    if (rc != SWLOG_OK)
        return rc;
    unsigned k = rd->tables[ti].first + (unsigned)ci;
    col.name = rd->cols[k].name;
    col.name_len = rd->cols[k].len;
    *out = col;
    *col_index = (unsigned)ci;
    return SWLOG_OK;
}

/* FORMAT §5.2-§5.4: every record, nothing after them, and every dictionary
 * entry used. One pass; rd is scratch space for the dictionary. */
static int check_payload(const swlog_frame *f, swlog_reader *rd,
                         swlog_error *err)
{
    rd->body = f->body;
    rd->frame_hlc = f->hlc;
    swlog__cursor c;
    swlog__cursor_init(&c, f->payload, f->payload_len,
                       at_of(rd, f->payload));
    int rc = parse_dict(rd, &c, err);
    if (rc != SWLOG_OK)
        return rc;
    uint8_t tused[SWLOG_MAX_TABLES] = {0};
    uint8_t cused[SWLOG_MAX_DICT_COLUMNS] = {0};
    for (unsigned i = 0; i < f->u.changeset.record_count; i++) {
        swlog_record rec;
        unsigned ti;
        rc = parse_record(rd, &c, i, &rec, &ti, err);
        if (rc != SWLOG_OK)
            return rc;
        tused[ti] = 1;
        int64_t prev = -1;
        for (unsigned j = 0; j < rec.value_count; j++) {
            swlog_column col;
            unsigned ci;
            rc = parse_value(rd, &c, ti, i, j, prev, &col, &ci, err);
            if (rc != SWLOG_OK)
                return rc;
            cused[rd->tables[ti].first + ci] = 1;
            prev = ci;
        }
    }
    if (c.left != 0)
        return swlog__fail(err, SWLOG_ENONCANON, c.offset,
                           "%zu bytes after the last record", c.left);
    for (unsigned t = 0; t < rd->ntables; t++) {
        if (!tused[t])
            return swlog__fail(err, SWLOG_ENONCANON,
                               at_of(rd, rd->tables[t].name),
                               "table %u is used by no record", t);
        for (unsigned k = 0; k < rd->tables[t].count; k++) {
            unsigned n = rd->tables[t].first + k;
            if (!cused[n])
                return swlog__fail(err, SWLOG_ENONCANON,
                                   at_of(rd, rd->cols[n].name),
                                   "table %u column %u is used by no value",
                                   t, k);
        }
    }
    return SWLOG_OK;
}

int swlog__changeset_decode(swlog_frame *f, unsigned flags, swlog_error *err)
{
    (void)flags;
    const uint8_t *b = f->body;
    static const size_t fixed[] = {CS_COUNT, CS_AUTHOR_LEN, CS_AUTHOR};
    if (f->header_len < CS_AUTHOR)
        return swlog__fields_fit(f, fixed, 3, err);
    uint8_t author_len = b[CS_AUTHOR_LEN];
    if (author_len == 0)
        return swlog__fail(err, SWLOG_EINVAL, CS_AUTHOR_LEN, "empty author");
    if (author_len > SWLOG_MAX_AUTHOR)
        return swlog__fail(err, SWLOG_EBOUNDS, CS_AUTHOR_LEN,
                           "author_len %u, maximum %u", (unsigned)author_len,
                           SWLOG_MAX_AUTHOR);
    const size_t ends[] = {CS_COUNT, CS_AUTHOR_LEN, CS_AUTHOR,
                           (size_t)CS_AUTHOR + author_len};
    int rc = swlog__fields_fit(f, ends, 4, err);
    if (rc != SWLOG_OK)
        return rc;
    uint32_t schema = swlog__load_u32(b + CS_SCHEMA);
    if (schema == 0)
        return swlog__fail(err, SWLOG_EINVAL, CS_SCHEMA, "schema_version 0");
    uint32_t count = swlog__load_u32(b + CS_COUNT);
    if (count == 0)
        return swlog__fail(err, SWLOG_EINVAL, CS_COUNT, "record_count 0");
    if (count > SWLOG_MAX_RECORDS)
        return swlog__fail(err, SWLOG_EBOUNDS, CS_COUNT,
                           "record_count %" PRIu32 ", maximum %u", count,
                           SWLOG_MAX_RECORDS);
    if (!swlog__utf8_valid(b + CS_AUTHOR, author_len))
        return swlog__fail(err, SWLOG_EINVAL, CS_AUTHOR,
                           "author is not valid UTF-8");
    f->u.changeset.schema_version = schema;
    f->u.changeset.record_count = count;
    f->u.changeset.author = b + CS_AUTHOR;
    f->u.changeset.author_len = author_len;
    swlog_reader scratch;
    return check_payload(f, &scratch, err);
}

/* ---- the reader -------------------------------------------------------- */

static void cursor_of(const swlog_reader *rd, swlog__cursor *c)
{
    swlog__cursor_init(c, rd->p, (size_t)(rd->end - rd->p), at_of(rd, rd->p));
}

int swlog_reader_init(swlog_reader *rd, const swlog_frame *f,
                      swlog_error *err)
{
    if (rd == NULL || f == NULL || !f->known ||
        f->type != SWLOG_TYPE_CHANGESET || f->body == NULL ||
        f->payload == NULL)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "not a decoded change-set frame");
    rd->body = f->body;
    rd->p = f->payload;
    rd->end = f->payload + f->payload_len;
    rd->frame_hlc = f->hlc;
    rd->records_left = f->u.changeset.record_count;
    rd->values_left = 0;
    rd->rec_no = 0;
    rd->val_no = 0;
    rd->cur_table = 0;
    rd->ntables = 0;
    swlog__cursor c;
    cursor_of(rd, &c);
    int rc = parse_dict(rd, &c, err);
    if (rc != SWLOG_OK) {
        rd->records_left = 0;
        return rc;
    }
    rd->p = c.p;
    return SWLOG_OK;
}

/* The values of an upsert carry no "previous index" check here: the frame
 * decoder already enforced it, and skipping must not depend on it. */
static int next_value(swlog_reader *rd, swlog_column *col, swlog_error *err)
{
    swlog__cursor c;
    cursor_of(rd, &c);
    unsigned ci;
    int rc = parse_value(rd, &c, rd->cur_table, rd->rec_no - 1, rd->val_no, -1,
                         col, &ci, err);
    if (rc != SWLOG_OK)
        return rc;
    rd->p = c.p;
    rd->values_left--;
    rd->val_no++;
    return 1;
}

int swlog_reader_next(swlog_reader *rd, swlog_record *rec, swlog_error *err)
{
    if (rd == NULL || rec == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    while (rd->values_left > 0) {
        swlog_column skip;
        int rc = next_value(rd, &skip, err);
        if (rc < 0)
            return rc;
    }
    if (rd->records_left == 0)
        return 0;
    swlog__cursor c;
    cursor_of(rd, &c);
    unsigned ti;
    int rc = parse_record(rd, &c, rd->rec_no, rec, &ti, err);
    if (rc != SWLOG_OK)
        return rc;
    rd->p = c.p;
    rd->records_left--;
    rd->values_left = rec->value_count;
    rd->cur_table = (uint16_t)ti;
    rd->val_no = 0;
    rd->rec_no++;
    return 1;
}

int swlog_reader_value(swlog_reader *rd, swlog_column *col, swlog_error *err)
{
    if (rd == NULL || col == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    if (rd->values_left == 0)
        return 0;
    return next_value(rd, col, err);
}
