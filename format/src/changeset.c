/* The change-set builder: collects records and encodes the one canonical
 * change-set frame for them, FORMAT §5.1-§5.4 and the limits of §10. */
#include "frame_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_SLOTS 128 /* open addressing, at most half full */
#define COLUMN_SLOTS 2048
#define HLC_DELTA_MAX_LEN 10 /* a varint's most bytes: hlc unknown yet */
/* Body bytes other than the payload, with the longest author. */
#define HEADER_BOUND (129 + SWLOG_MAX_AUTHOR + SWLOG_SIG_BYTES)

_Static_assert(SWLOG_MAX_TABLES * 2 <= TABLE_SLOTS, "table hash too small");
_Static_assert(SWLOG_MAX_DICT_COLUMNS * 2 <= COLUMN_SLOTS,
               "column hash too small");
/* Table and column indexes are below 128, so their varints take 1 byte. */
_Static_assert(SWLOG_MAX_TABLES <= 128 && SWLOG_MAX_COLUMNS <= 128,
               "index varints are one byte");

struct table {
    uint8_t name[SWLOG_MAX_NAME];
    uint8_t len;
    uint8_t rank; /* position in the sorted dictionary, set by seal */
    uint16_t ncols;
    uint16_t cols[SWLOG_MAX_COLUMNS]; /* column ids */
};

struct column {
    uint8_t name[SWLOG_MAX_NAME];
    uint8_t len;
    uint8_t table;
    uint8_t rank;   /* col_index: position among its table's columns */
    uint32_t stamp; /* 1 + the last record that set it, to catch repeats */
};

struct record {
    uint64_t hlc;
    uint64_t replaced;
    size_t first; /* values[first .. first + count) */
    uint32_t count;
    uint8_t kind;
    uint8_t table;
    uint8_t row_id[SWLOG_UUID_BYTES];
};

struct val {
    uint64_t replaced;
    union {
        int64_t i;
        double r;
        size_t off; /* text, blob: bytes at data.p + off */
    } u;
    size_t len;
    uint16_t col;
    uint8_t type;
    uint8_t rank;
};

struct swlog_cs {
    struct table tables[SWLOG_MAX_TABLES];
    struct column cols[SWLOG_MAX_DICT_COLUMNS];
    uint16_t table_slot[TABLE_SLOTS]; /* 0 empty, else table id + 1 */
    uint16_t column_slot[COLUMN_SLOTS];
    unsigned ntables, ncols;
    struct record *recs;
    size_t nrecs, recs_cap;
    struct val *vals;
    size_t nvals, vals_cap;
    swlog_buf data;
    size_t payload_bound; /* exact but for hlc_delta, counted at 10 */
    uint64_t max_hlc;
};

swlog_cs *swlog_cs_new(void)
{
    swlog_cs *cs = calloc(1, sizeof *cs);
    if (cs == NULL)
        return NULL;
    swlog_buf_init(&cs->data);
    swlog_cs_reset(cs);
    return cs;
}

void swlog_cs_free(swlog_cs *cs)
{
    if (cs == NULL)
        return;
    free(cs->recs);
    free(cs->vals);
    swlog_buf_clear(&cs->data);
    free(cs);
}

void swlog_cs_reset(swlog_cs *cs)
{
    if (cs == NULL)
        return;
    memset(cs->table_slot, 0, sizeof cs->table_slot);
    memset(cs->column_slot, 0, sizeof cs->column_slot);
    cs->ntables = 0;
    cs->ncols = 0;
    cs->nrecs = 0;
    cs->nvals = 0;
    cs->data.len = 0;
    cs->payload_bound = 1; /* table_count: at most 64, one byte */
    cs->max_hlc = 0;
}

size_t swlog_cs_count(const swlog_cs *cs)
{
    return cs == NULL ? 0 : cs->nrecs;
}

size_t swlog_cs_size_bound(const swlog_cs *cs)
{
    return cs == NULL ? 0 : HEADER_BOUND + cs->payload_bound;
}

/* ---- names ------------------------------------------------------------- */

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Check a caller's name (FORMAT §1.3): SWLOG_EBOUNDS when too long,
 * SWLOG_EARG when not an identifier. */
static int check_name(const char *name, const char *what, size_t *len,
                      swlog_error *err)
{
    if (name == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "%s name missing", what);
    size_t n = 0;
    while (n <= SWLOG_MAX_NAME && name[n] != '\0')
        n++;
    if (n > SWLOG_MAX_NAME)
        return swlog__fail(err, SWLOG_EBOUNDS, 0,
                           "%s name longer than %u bytes", what,
                           SWLOG_MAX_NAME);
    if (!swlog__ident_valid((const uint8_t *)name, n))
        return swlog__fail(err, SWLOG_EARG, 0,
                           "%s name is not an identifier", what);
    *len = n;
    return SWLOG_OK;
}

/* The slot of table name, holding it or empty where it would go. */
static uint16_t *table_slot(swlog_cs *cs, const char *name, size_t len)
{
    uint32_t h = fnv1a(2166136261u, (const uint8_t *)name, len);
    for (uint32_t i = h;; i++) {
        uint16_t *s = &cs->table_slot[i % TABLE_SLOTS];
        if (*s == 0)
            return s;
        const struct table *t = &cs->tables[*s - 1];
        if (t->len == len && memcmp(t->name, name, len) == 0)
            return s;
    }
}

static uint16_t *column_slot(swlog_cs *cs, unsigned table, const char *name,
                             size_t len)
{
    uint8_t tb = (uint8_t)table;
    uint32_t h = fnv1a(fnv1a(2166136261u, &tb, 1), (const uint8_t *)name,
                       len);
    for (uint32_t i = h;; i++) {
        uint16_t *s = &cs->column_slot[i % COLUMN_SLOTS];
        if (*s == 0)
            return s;
        const struct column *c = &cs->cols[*s - 1];
        if (c->table == table && c->len == len &&
            memcmp(c->name, name, len) == 0)
            return s;
    }
}

/* Refuse growth that would let the sealed body pass MAX_BODY (§10). */
static int fits(const swlog_cs *cs, size_t more, swlog_error *err)
{
    if (more > SWLOG_MAX_BODY ||
        HEADER_BOUND + cs->payload_bound + more > SWLOG_MAX_BODY)
        return swlog__fail(err, SWLOG_EBOUNDS, 0,
                           "change-set would exceed %u bytes",
                           SWLOG_MAX_BODY);
    return SWLOG_OK;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return SWLOG_OK;
    size_t n = *cap < 16 ? 16 : *cap * 2;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (q == NULL)
        return SWLOG_ENOMEM;
    *p = q;
    *cap = n;
    return SWLOG_OK;
}

/* ---- records ----------------------------------------------------------- */

static int add_record(swlog_cs *cs, uint8_t kind, const char *table,
                      const uint8_t row_id[SWLOG_UUID_BYTES], uint64_t hlc,
                      uint64_t replaced, swlog_error *err)
{
    if (cs == NULL || row_id == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    size_t len;
    int rc = check_name(table, "table", &len, err);
    if (rc != SWLOG_OK)
        return rc;
    if (cs->nrecs >= SWLOG_MAX_RECORDS)
        return swlog__fail(err, SWLOG_EBOUNDS, 0, "more than %u records",
                           SWLOG_MAX_RECORDS);
    uint16_t *slot = table_slot(cs, table, len);
    /* kind, table index, row id, hlc_delta, then the body's varint. */
    size_t more = 2 + SWLOG_UUID_BYTES + HLC_DELTA_MAX_LEN +
                  (kind == SWLOG_DELETE ? swlog__varint_len(replaced) : 1);
    if (*slot == 0) {
        if (cs->ntables >= SWLOG_MAX_TABLES)
            return swlog__fail(err, SWLOG_EBOUNDS, 0, "more than %u tables",
                               SWLOG_MAX_TABLES);
        more += 1 + len + 1; /* name_len, name, column_count 0 */
    }
    rc = fits(cs, more, err);
    if (rc != SWLOG_OK)
        return rc;
    if (grow((void **)&cs->recs, &cs->recs_cap, cs->nrecs + 1,
             sizeof *cs->recs) != SWLOG_OK)
        return swlog__fail(err, SWLOG_ENOMEM, 0, "out of memory");
    if (*slot == 0) {
        struct table *t = &cs->tables[cs->ntables];
        memcpy(t->name, table, len);
        t->len = (uint8_t)len;
        t->ncols = 0;
        *slot = (uint16_t)(++cs->ntables);
    }
    struct record *r = &cs->recs[cs->nrecs++];
    r->hlc = hlc;
    r->replaced = replaced;
    r->first = cs->nvals;
    r->count = 0;
    r->kind = kind;
    r->table = (uint8_t)(*slot - 1);
    memcpy(r->row_id, row_id, SWLOG_UUID_BYTES);
    if (hlc > cs->max_hlc)
        cs->max_hlc = hlc;
    cs->payload_bound += more;
    return SWLOG_OK;
}

int swlog_cs_upsert(swlog_cs *cs, const char *table,
                    const uint8_t row_id[SWLOG_UUID_BYTES], uint64_t hlc,
                    swlog_error *err)
{
    return add_record(cs, SWLOG_UPSERT, table, row_id, hlc, 0, err);
}

int swlog_cs_delete(swlog_cs *cs, const char *table,
                    const uint8_t row_id[SWLOG_UUID_BYTES], uint64_t hlc,
                    uint64_t replaced_hlc, swlog_error *err)
{
    return add_record(cs, SWLOG_DELETE, table, row_id, hlc, replaced_hlc,
                      err);
}

/* FORMAT §1.2 without shifting a negative number. */
static uint64_t zigzag(int64_t n)
{
    return n < 0 ? (~(uint64_t)n << 1) | 1 : (uint64_t)n << 1;
}

/* The bytes v's data takes (FORMAT §5.4), after checking it. */
static int value_size(const swlog_value *v, size_t *size, swlog_error *err)
{
    switch (v->type) {
    case SWLOG_NULL:
        *size = 0;
        return SWLOG_OK;
    case SWLOG_INT:
        *size = swlog__varint_len(zigzag(v->i));
        return SWLOG_OK;
    case SWLOG_REAL:
        if (v->r != v->r)
            return swlog__fail(err, SWLOG_EARG, 0, "real value is NaN");
        *size = 8;
        return SWLOG_OK;
    case SWLOG_TEXT:
    case SWLOG_BLOB:
        break;
    default:
        return swlog__fail(err, SWLOG_EARG, 0, "value type %u",
                           (unsigned)v->type);
    }
    if (v->p == NULL && v->len > 0)
        return swlog__fail(err, SWLOG_EARG, 0, "value bytes missing");
    size_t max = v->type == SWLOG_TEXT ? SWLOG_MAX_TEXT : SWLOG_MAX_BLOB;
    if (v->len > max)
        return swlog__fail(err, SWLOG_EBOUNDS, 0,
                           "value of %zu bytes, maximum %zu", v->len, max);
    if (v->type == SWLOG_TEXT && !swlog__utf8_valid(v->p, v->len))
        return swlog__fail(err, SWLOG_EARG, 0, "text is not valid UTF-8");
    *size = swlog__varint_len(v->len) + v->len;
    return SWLOG_OK;
}

int swlog_cs_value(swlog_cs *cs, const char *column, uint64_t replaced_hlc,
                   const swlog_value *v, swlog_error *err)
{
    if (cs == NULL || v == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    if (cs->nrecs == 0 || cs->recs[cs->nrecs - 1].kind != SWLOG_UPSERT)
        return swlog__fail(err, SWLOG_EARG, 0, "no upsert to add a value to");
    struct record *r = &cs->recs[cs->nrecs - 1];
    struct table *t = &cs->tables[r->table];
    size_t len;
    int rc = check_name(column, "column", &len, err);
    if (rc != SWLOG_OK)
        return rc;
    size_t data = 0;
    rc = value_size(v, &data, err);
    if (rc != SWLOG_OK)
        return rc;
    uint16_t *slot = column_slot(cs, r->table, column, len);
    uint32_t stamp = (uint32_t)cs->nrecs;
    if (*slot != 0 && cs->cols[*slot - 1].stamp == stamp)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "record %zu: column set twice", cs->nrecs - 1);
    /* col_index (one byte), tag, replaced_hlc, data, and value_count's
     * varint growing. */
    size_t more = 2 + data +
                  (replaced_hlc != 0 ? swlog__varint_len(replaced_hlc) : 0) +
                  swlog__varint_len(r->count + 1u) -
                  swlog__varint_len(r->count);
    if (*slot == 0) {
        if (t->ncols >= SWLOG_MAX_COLUMNS)
            return swlog__fail(err, SWLOG_EBOUNDS, 0,
                               "more than %u columns in a table",
                               SWLOG_MAX_COLUMNS);
        if (cs->ncols >= SWLOG_MAX_DICT_COLUMNS)
            return swlog__fail(err, SWLOG_EBOUNDS, 0,
                               "more than %u columns in a change-set",
                               SWLOG_MAX_DICT_COLUMNS);
        more += 1 + len + swlog__varint_len(t->ncols + 1u) -
                swlog__varint_len(t->ncols);
    }
    rc = fits(cs, more, err);
    if (rc != SWLOG_OK)
        return rc;
    /* Allocate before changing anything, so a failure leaves no trace. */
    if (grow((void **)&cs->vals, &cs->vals_cap, cs->nvals + 1,
             sizeof *cs->vals) != SWLOG_OK ||
        ((v->type == SWLOG_TEXT || v->type == SWLOG_BLOB) &&
         swlog__buf_reserve(&cs->data, v->len) != SWLOG_OK))
        return swlog__fail(err, SWLOG_ENOMEM, 0, "out of memory");
    if (*slot == 0) {
        struct column *c = &cs->cols[cs->ncols];
        memcpy(c->name, column, len);
        c->len = (uint8_t)len;
        c->table = r->table;
        c->stamp = 0;
        t->cols[t->ncols++] = (uint16_t)cs->ncols;
        *slot = (uint16_t)(++cs->ncols);
    }
    struct val *x = &cs->vals[cs->nvals++];
    x->replaced = replaced_hlc;
    x->col = (uint16_t)(*slot - 1);
    x->type = v->type;
    x->len = 0;
    if (v->type == SWLOG_INT) {
        x->u.i = v->i;
    } else if (v->type == SWLOG_REAL) {
        x->u.r = v->r;
    } else if (v->type != SWLOG_NULL) {
        x->u.off = cs->data.len;
        x->len = v->len;
        if (v->len > 0) {
            memcpy(cs->data.p + cs->data.len, v->p, v->len);
            cs->data.len += v->len;
        }
    }
    cs->cols[x->col].stamp = stamp;
    r->count++;
    cs->payload_bound += more;
    return SWLOG_OK;
}

/* ---- sealing ----------------------------------------------------------- */

static int cmp_name(const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    return r != 0 ? r : (alen > blen) - (alen < blen);
}

static int cmp_table(const void *a, const void *b)
{
    const struct table *x = *(const struct table *const *)a;
    const struct table *y = *(const struct table *const *)b;
    return cmp_name(x->name, x->len, y->name, y->len);
}

static int cmp_column(const void *a, const void *b)
{
    const struct column *x = *(const struct column *const *)a;
    const struct column *y = *(const struct column *const *)b;
    return cmp_name(x->name, x->len, y->name, y->len);
}

static int cmp_val(const void *a, const void *b)
{
    const struct val *x = a, *y = b;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* FORMAT §5.3: rank tables and their columns by name; order[] gets the
 * tables in dictionary order and each table's cols[] is sorted. */
static void order_dictionary(swlog_cs *cs, struct table **order)
{
    for (unsigned i = 0; i < cs->ntables; i++)
        order[i] = &cs->tables[i];
    qsort(order, cs->ntables, sizeof *order, cmp_table);
    struct column *cols[SWLOG_MAX_COLUMNS];
    for (unsigned i = 0; i < cs->ntables; i++) {
        struct table *t = order[i];
        t->rank = (uint8_t)i;
        for (unsigned k = 0; k < t->ncols; k++)
            cols[k] = &cs->cols[t->cols[k]];
        qsort(cols, t->ncols, sizeof *cols, cmp_column);
        for (unsigned k = 0; k < t->ncols; k++) {
            cols[k]->rank = (uint8_t)k;
            t->cols[k] = (uint16_t)(cols[k] - cs->cols);
        }
    }
    /* FORMAT §5.4: values of a record in increasing col_index. */
    for (size_t i = 0; i < cs->nrecs; i++) {
        struct record *r = &cs->recs[i];
        struct val *v = cs->vals + r->first;
        for (size_t j = 0; j < r->count; j++)
            v[j].rank = cs->cols[v[j].col].rank;
        if (r->count > 1)
            qsort(v, r->count, sizeof *v, cmp_val);
    }
}

static int check_seal(const swlog_cs *cs, const uint8_t *sk,
                      const swlog_head *h, uint32_t schema_version,
                      const char *author, size_t *author_len,
                      swlog_error *err)
{
    if (cs == NULL || sk == NULL || h == NULL || author == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    if (cs->nrecs == 0)
        return swlog__fail(err, SWLOG_EARG, 0, "change-set without records");
    if (schema_version == 0)
        return swlog__fail(err, SWLOG_EARG, 0, "schema_version 0");
    size_t n = strlen(author);
    if (n == 0)
        return swlog__fail(err, SWLOG_EARG, 0, "empty author");
    if (n > SWLOG_MAX_AUTHOR)
        return swlog__fail(err, SWLOG_EBOUNDS, 0,
                           "author of %zu bytes, maximum %u", n,
                           SWLOG_MAX_AUTHOR);
    if (!swlog__utf8_valid((const uint8_t *)author, n))
        return swlog__fail(err, SWLOG_EARG, 0, "author is not valid UTF-8");
    if (h->hlc < cs->max_hlc)
        return swlog__fail(err, SWLOG_EARG, 0,
                           "frame hlc below a record's hlc");
    for (size_t i = 0; i < cs->nrecs; i++)
        if (cs->recs[i].kind == SWLOG_UPSERT && cs->recs[i].count == 0)
            return swlog__fail(err, SWLOG_EARG, 0,
                               "record %zu: upsert without values", i);
    *author_len = n;
    return SWLOG_OK;
}

static int put_value(swlog_buf *b, const swlog_cs *cs, const struct val *x)
{
    uint8_t tag = x->type;
    if (x->replaced != 0)
        tag |= 0x08; /* FORMAT §5.4: a replaced_hlc follows */
    int rc = swlog__put_u8(b, x->rank);
    rc = rc ? rc : swlog__put_u8(b, tag);
    if (x->replaced != 0)
        rc = rc ? rc : swlog__put_varint(b, x->replaced);
    switch (x->type) {
    case SWLOG_INT:
        return rc ? rc : swlog__put_varint(b, zigzag(x->u.i));
    case SWLOG_REAL: {
        uint64_t bits;
        memcpy(&bits, &x->u.r, sizeof bits);
        return rc ? rc : swlog__put_u64(b, bits);
    }
    case SWLOG_TEXT:
    case SWLOG_BLOB:
        rc = rc ? rc : swlog__put_varint(b, x->len);
        if (x->len > 0)
            rc = rc ? rc : swlog_buf_append(b, cs->data.p + x->u.off, x->len);
        return rc;
    default:
        return rc;
    }
}

static int put_payload(swlog_buf *b, const swlog_cs *cs,
                       struct table *const *order, uint64_t frame_hlc)
{
    int rc = swlog__put_varint(b, cs->ntables);
    for (unsigned i = 0; i < cs->ntables && rc == SWLOG_OK; i++) {
        const struct table *t = order[i];
        rc = swlog__put_u8(b, t->len);
        rc = rc ? rc : swlog_buf_append(b, t->name, t->len);
        rc = rc ? rc : swlog__put_varint(b, t->ncols);
        for (unsigned k = 0; k < t->ncols && rc == SWLOG_OK; k++) {
            const struct column *c = &cs->cols[t->cols[k]];
            rc = swlog__put_u8(b, c->len);
            rc = rc ? rc : swlog_buf_append(b, c->name, c->len);
        }
    }
    for (size_t i = 0; i < cs->nrecs && rc == SWLOG_OK; i++) {
        const struct record *r = &cs->recs[i];
        rc = swlog__put_u8(b, r->kind);
        rc = rc ? rc : swlog__put_varint(b, cs->tables[r->table].rank);
        rc = rc ? rc : swlog_buf_append(b, r->row_id, SWLOG_UUID_BYTES);
        rc = rc ? rc : swlog__put_varint(b, frame_hlc - r->hlc);
        if (r->kind == SWLOG_DELETE) {
            rc = rc ? rc : swlog__put_varint(b, r->replaced);
            continue;
        }
        rc = rc ? rc : swlog__put_varint(b, r->count);
        for (size_t j = 0; j < r->count && rc == SWLOG_OK; j++)
            rc = put_value(b, cs, &cs->vals[r->first + j]);
    }
    return rc;
}

int swlog_cs_seal(swlog_cs *cs, const uint8_t sk[SWLOG_SECKEY_BYTES],
                  const swlog_head *h, uint32_t schema_version,
                  const char *author, swlog_buf *out, swlog_error *err)
{
    size_t author_len = 0;
    int rc = check_seal(cs, sk, h, schema_version, author, &author_len, err);
    if (rc != SWLOG_OK)
        return rc;
    if (out == NULL)
        return swlog__fail(err, SWLOG_EARG, 0, "missing argument");
    struct table *order[SWLOG_MAX_TABLES];
    order_dictionary(cs, order);

    rc = swlog__frame_begin(out, SWLOG_TYPE_CHANGESET, sk, h, err);
    if (rc != SWLOG_OK)
        return rc;
    /* One allocation for the whole body. */
    rc = swlog__buf_reserve(out, swlog_cs_size_bound(cs));
    rc = rc ? rc : swlog__put_u32(out, schema_version);
    rc = rc ? rc : swlog__put_u32(out, (uint32_t)cs->nrecs);
    rc = rc ? rc : swlog__put_u8(out, (uint8_t)author_len);
    rc = rc ? rc : swlog_buf_append(out, author, author_len);
    if (rc != SWLOG_OK)
        goto nomem;
    rc = swlog__frame_end_header(out, err);
    if (rc != SWLOG_OK)
        return rc;
    rc = put_payload(out, cs, order, h->hlc);
    if (rc != SWLOG_OK)
        goto nomem;
    return swlog__frame_finish(out, sk, err);
nomem:
    out->len = 0;
    return swlog__fail(err, SWLOG_ENOMEM, 0, "out of memory");
}
