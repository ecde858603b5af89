/* CSV import (agent/csv.c, agent/csvimport.c): the reader's edge cases and
 * errors, and imports into a real replica — good rows captured under the
 * operator, one bad line refusing the whole file, duplicate and existing
 * ids, references to earlier lines, header errors, the template round
 * trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "csvimport.h"
#include "replica.h"
#include "testutil.h"

#define TODAY "2026-11-23"
#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define ID_M_1950 "440983195003070034" /* male, 1950-03-07 */
#define ID_F_1949 "11010519491231002X" /* female, 1949-12-31 */
#define CLIENT_A "0190a1b2-0000-7000-8000-0000000000a1"
#define CLIENT_B "0190a1b2-0000-7000-8000-0000000000b2"

/* The reader ------------------------------------------------------------ */

/* Records of data as "[f][f];[f]": returns the reader's final code (0 at a
 * clean end); *line and *col where an error was. */
static int parse(const char *data, size_t len, size_t max_rec,
                 size_t max_fields, char *out, size_t outsz, uint64_t *line,
                 uint64_t *col)
{
    FILE *f = fmemopen((void *)data, len, "rb");
    csv_reader *r = NULL;
    swlog_error err = {0};
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(csv_new(f, max_rec, max_fields, &r, &err), SWLOG_OK);
    size_t used = 0;
    int rc;
    csv_record rec;
    out[0] = '\0';
    while ((rc = csv_next(r, &rec, &err)) == 1) {
        used += (size_t)snprintf(out + used, outsz - used, "%s",
                                 used > 0 ? ";" : "");
        for (size_t i = 0; i < rec.nfields; i++) {
            ck_assert_uint_eq(strlen(rec.field[i]), rec.len[i]);
            used += (size_t)snprintf(out + used, outsz - used, "[%s]",
                                     rec.field[i]);
        }
        ck_assert_uint_lt(used, outsz);
    }
    if (line != NULL)
        *line = csv_error_line(r);
    if (col != NULL)
        *col = csv_error_column(r);
    if (rc < 0) {
        /* Errors are sticky and say where. */
        swlog_error e2 = {0};
        ck_assert_int_eq(csv_next(r, &rec, &e2), rc);
        ck_assert_msg(strstr(err.msg, "line ") == err.msg, "%s", err.msg);
    }
    csv_free(r);
    fclose(f);
    return rc;
}

static void ok(const char *data, size_t len, const char *want)
{
    char out[1024];
    int rc = parse(data, len, 1000, 16, out, sizeof out, NULL, NULL);
    ck_assert_msg(rc == 0, "rc %d for %s", rc, want);
    ck_assert_str_eq(out, want);
}

#define OK(s, want) ok(s, sizeof(s) - 1, want)

static void bad(const char *data, size_t len, size_t max_rec,
                size_t max_fields, int code, uint64_t line, uint64_t col)
{
    char out[1024];
    uint64_t l, c;
    int rc = parse(data, len, max_rec, max_fields, out, sizeof out, &l, &c);
    ck_assert_int_eq(rc, code);
    ck_assert_uint_eq(l, line);
    ck_assert_uint_eq(c, col);
}

#define BAD(s, code, line, col) bad(s, sizeof(s) - 1, 1000, 16, code, line, col)

START_TEST(reader_accepts_rfc4180)
{
    OK("a,b\nc,d\n", "[a][b];[c][d]");
    OK("a,b\r\nc,d\r\n", "[a][b];[c][d]");
    OK("a,b\nc,d", "[a][b];[c][d]");               /* no final line end */
    OK("\xEF\xBB\xBF" "a,b\n", "[a][b]");          /* BOM skipped */
    OK("a,\xEF\xBB\xBF\n", "[a][\xEF\xBB\xBF]");   /* only at the start */
    OK("\"a,b\",\"c\"\"d\"\n", "[a,b][c\"d]");
    OK("\"x\ny\",z\nq,r\n", "[x\ny][z];[q][r]");
    OK("\"x\r\ny\",z\r\n", "[x\r\ny][z]");
    OK(",,\n\"\",a\n", "[][][];[][a]");
    OK("a,\n", "[a][]");
    OK("# guide, \"not parsed\nª,b\n#last", "[\xC2\xAA][b]");
    OK("\n\r\na,b\n\n\r\n", "[a][b]");
    OK("\"#not a comment\",x\n", "[#not a comment][x]");
    OK("a\tb, c \n", "[a\tb][ c ]");
    OK("中文,é\n", "[中文][é]");
    OK("", "");
    OK("\xEF\xBB\xBF", "");
}
END_TEST

START_TEST(reader_record_lines)
{
    static const char data[] = "h\n# c\n\"a\nb\"\n\nz\n";
    FILE *f = fmemopen((void *)data, sizeof data - 1, "rb");
    csv_reader *r = NULL;
    csv_record rec;
    ck_assert_int_eq(csv_new(f, 100, 4, &r, NULL), SWLOG_OK);
    ck_assert_int_eq(csv_next(r, &rec, NULL), 1);
    ck_assert_uint_eq(rec.line, 1);
    ck_assert_int_eq(csv_next(r, &rec, NULL), 1);
    ck_assert_uint_eq(rec.line, 3);
    ck_assert_str_eq(rec.field[0], "a\nb");
    ck_assert_int_eq(csv_next(r, &rec, NULL), 1);
    ck_assert_uint_eq(rec.line, 6);
    ck_assert_int_eq(csv_next(r, &rec, NULL), 0);
    ck_assert_int_eq(csv_next(r, &rec, NULL), 0);
    ck_assert_uint_gt(csv_bytes(r), 0);
    csv_free(r);
    fclose(f);
}
END_TEST

START_TEST(reader_refuses_bad_input)
{
    BAD("a,b\nab\"c,d\n", SWLOG_EINVAL, 2, 3);        /* stray quote */
    BAD("\"a\"b\n", SWLOG_EINVAL, 1, 4);              /* after closing */
    BAD("a,b\n\"open\nmore", SWLOG_EINVAL, 2, 1);     /* never closed */
    BAD("a,b\nx,\"y\n", SWLOG_EINVAL, 2, 3);
    BAD("a\rb\n", SWLOG_EINVAL, 1, 2);                /* bare CR */
    BAD("a\r", SWLOG_EINVAL, 1, 2);
    BAD("a,\0b\n", SWLOG_EINVAL, 1, 3);               /* NUL */
    BAD("\"a\0\"\n", SWLOG_EINVAL, 1, 3);
    BAD("ok\n\xC3\x28\n", SWLOG_EINVAL, 2, 1);        /* bad continuation */
    BAD("\xC0\xAF\n", SWLOG_EINVAL, 1, 1);            /* overlong */
    BAD("\xE0\x80\xAF\n", SWLOG_EINVAL, 1, 1);        /* overlong */
    BAD("x\xED\xA0\x80\n", SWLOG_EINVAL, 1, 2);       /* surrogate */
    BAD("\xF4\x90\x80\x80\n", SWLOG_EINVAL, 1, 1);    /* past U+10FFFF */
    BAD("\xFF\n", SWLOG_EINVAL, 1, 1);
    BAD("a\xE4\xB8", SWLOG_EINVAL, 1, 2);             /* truncated at EOF */
    BAD("# c \xFF\na\n", SWLOG_EINVAL, 1, 5);         /* comments too */
    BAD("é\"\n", SWLOG_EINVAL, 1, 2);                 /* columns in chars */
}
END_TEST

START_TEST(reader_limits)
{
    char out[256];
    /* max_fields 3: three fields pass, four do not. */
    ck_assert_int_eq(parse("a,b,c\n", 6, 100, 3, out, sizeof out, NULL,
                           NULL),
                     0);
    bad("a,b,c\n1,2,3,4\n", 14, 100, 3, SWLOG_EBOUNDS, 2, 6);
    bad(",,,\n", 4, 100, 3, SWLOG_EBOUNDS, 1, 3);
    /* max_record 10 counts the line end: 9 + LF passes, 10 + LF not. */
    ck_assert_int_eq(parse("123456789\n", 10, 10, 4, out, sizeof out, NULL,
                           NULL),
                     0);
    bad("ok\n1234567890\n", 14, 10, 4, SWLOG_EBOUNDS, 2, 11);
    bad("\"12345\n67890\"\n", 14, 10, 4, SWLOG_EBOUNDS, 2, 4);
    /* A long comment is not a record and needs no buffer. */
    char big[5000];
    memset(big, 'c', sizeof big);
    big[0] = '#';
    big[sizeof big - 1] = '\n';
    FILE *f = fmemopen(big, sizeof big, "rb");
    csv_reader *r = NULL;
    csv_record rec;
    ck_assert_int_eq(csv_new(f, 10, 4, &r, NULL), SWLOG_OK);
    ck_assert_int_eq(csv_next(r, &rec, NULL), 0);
    csv_free(r);
    fclose(f);
}
END_TEST

/* Imports ----------------------------------------------------------------- */

static replica *rep;
static sqlite3 *db;
static int update_mode; /* csvimport_opts.update of import_text() */

typedef struct issues {
    int n;
    csvimport_issue is[64];
} issues;

static void collect(const csvimport_issue *is, void *ctx)
{
    issues *s = ctx;
    if (s->n < 64)
        s->is[s->n++] = *is;
}

static void sql(const char *q)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, q, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", q, msg ? msg : "");
}

static long long count(const char *q)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static char text_buf[256];
static const char *text(const char *q)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(text_buf, sizeof text_buf, "%s", t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
    return text_buf;
}

static void setup(void)
{
    static int n;
    char path[512];
    swlog_error err = {0};
    snprintf(path, sizeof path, "%s/csvimport-%d-%d.db", test_tmpdir(),
             (int)getpid(), n++);
    unlink(path);
    ck_assert_msg(replica_open(path, &rep, &err) == SWLOG_OK, "%s", err.msg);
    db = replica_db(rep);
    sql("INSERT INTO org_units(id, level, name, unit_code, division_code, "
        "division_code_year, status) VALUES('" OWNER "', 'provincial_hub', "
        "'P', '44', '440000', 2024, 'active')");
}

static void teardown(void)
{
    replica_close(rep);
    rep = NULL;
    update_mode = 0;
}

static int import_text(const char *table, const char *data, size_t len,
                       issues *s, csvimport_result *res, swlog_error *err)
{
    FILE *f = fmemopen((void *)data, len, "rb");
    ck_assert_ptr_nonnull(f);
    memset(s, 0, sizeof *s);
    csvimport_opts o = {"test.csv", TODAY, collect,    s,
                        NULL,       NULL,  update_mode};
    int rc = csvimport_run(rep, schema_find(schema_current(), table), f, &o,
                           res, err);
    fclose(f);
    return rc;
}

static int import_str(const char *table, const char *data, issues *s,
                      csvimport_result *res, swlog_error *err)
{
    return import_text(table, data, strlen(data), s, res, err);
}

static const csvimport_issue *find_issue(const issues *s, uint64_t line,
                                         const char *column)
{
    for (int i = 0; i < s->n; i++)
        if (s->is[i].line == line &&
            (column == NULL ? s->is[i].column == NULL
                            : s->is[i].column != NULL &&
                                  strcmp(s->is[i].column, column) == 0))
            return &s->is[i];
    return NULL;
}

#define CLIENT_HEAD                                                          \
    "owner_unit_id,name,gender,birth_date,id_type,id_number,phone,"          \
    "phone_owner,village_code\n"

START_TEST(import_good_rows_captured_under_operator)
{
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    swlog_error oe = {0};
    ck_assert_int_eq(replica_set_operator(rep, "alice", &oe), SWLOG_OK);
    /* Normalised as entry stores them: the ID number's spaces and x, the
     * phone to E.164; columns in any order; an uppercase owner id. */
    const char *csv =
        "\xEF\xBB\xBF" CLIENT_HEAD
        "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B,Li Hua,male,1950-03-07,"
        "resident_id,4409 8319 5003 0700 34,138-1234-5678,self,"
        "440983102201\r\n"
        "# a comment line\r\n" OWNER ",\"Wang, Fang\",female,1949-12-31,"
        "resident_id,11010519491231002x,,,440983102201\r\n" OWNER
        ",Zhao,unknown,1990-01-01,none,,,,440983102201\r\n";
    int rc = import_str("clients", csv, &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s / %s", err.msg,
                  s.n ? s.is[0].msg : "");
    ck_assert_int_eq(s.n, 0);
    ck_assert_uint_eq(res.rows, 3);
    ck_assert_uint_eq(res.inserted, 3);
    ck_assert_uint_eq(res.errors, 0);
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 3);
    ck_assert_int_eq(count("SELECT count(*) FROM _sw_outbox WHERE tbl = "
                           "'clients' AND kind = 1 AND operator = 'alice'"),
                     3);
    ck_assert_str_eq(text("SELECT id_number FROM clients WHERE name = "
                          "'Li Hua'"),
                     ID_M_1950);
    ck_assert_str_eq(text("SELECT phone FROM clients WHERE name = 'Li Hua'"),
                     "+8613812345678");
    ck_assert_str_eq(text("SELECT owner_unit_id FROM clients WHERE name = "
                          "'Li Hua'"),
                     OWNER);
    ck_assert_str_eq(text("SELECT id_number FROM clients WHERE name = "
                          "'Wang, Fang'"),
                     ID_F_1949);
    ck_assert_str_eq(text("SELECT coalesce(phone, 'NULL') FROM clients "
                          "WHERE name = 'Zhao'"),
                     "NULL"); /* empty field = NULL */
    /* Made ids are UUIDv7. */
    ck_assert_int_eq(count("SELECT count(*) FROM clients WHERE "
                           "substr(id, 15, 1) = '7' AND length(id) = 36"),
                     3);
    /* Committed: the operator is not left published. */
    ck_assert_int_eq(count("SELECT operator IS NULL FROM _sw_state"), 1);
}
END_TEST

/* 1,000 good lines with one bad one among them. */
static char *thousand(size_t bad_at, const char *bad_line, size_t *len)
{
    size_t cap = 200000, n = 0;
    char *b = malloc(cap);
    ck_assert_ptr_nonnull(b);
    n += (size_t)snprintf(b + n, cap - n,
                          "name,gender,birth_date,id_type,village_code,"
                          "owner_unit_id,birth_estimated\n");
    for (size_t i = 1; i <= 1000; i++) {
        if (i == bad_at)
            n += (size_t)snprintf(b + n, cap - n, "%s\n", bad_line);
        else
            n += (size_t)snprintf(b + n, cap - n,
                                  "Person %zu,female,1960-01-%02zu,none,"
                                  "440983102201," OWNER ",%zu\n",
                                  i, i % 28 + 1, i % 2);
        ck_assert_uint_lt(n, cap - 200);
    }
    *len = n;
    return b;
}

START_TEST(import_one_bad_line_changes_nothing)
{
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    size_t len;
    long long out0 = count("SELECT count(*) FROM _sw_outbox");
    /* data line 500 = file line 501; its birth date is not a date */
    char *csv = thousand(500,
                         "Secret Name,female,1950-02-30,none,440983102201,"
                         OWNER ",0",
                         &len);
    int rc = import_text("clients", csv, len, &s, &res, &err);
    free(csv);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_uint_eq(res.rows, 1000);
    ck_assert_uint_eq(res.inserted, 0);
    ck_assert_uint_eq(res.errors, 1);
    ck_assert_int_eq(s.n, 1);
    ck_assert_uint_eq(s.is[0].line, 501);
    ck_assert_str_eq(s.is[0].column, "birth_date");
    ck_assert_str_eq(s.is[0].rule, "V7");
    ck_assert_msg(strstr(s.is[0].msg, "1950-02-30") == NULL &&
                      strstr(s.is[0].msg, "Secret") == NULL,
                  "%s", s.is[0].msg);
    ck_assert_msg(strstr(err.msg, "line 501") != NULL &&
                      strstr(err.msg, "birth_date") != NULL &&
                      strstr(err.msg, "nothing imported") != NULL,
                  "%s", err.msg);
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM _sw_outbox"), out0);
    ck_assert_int_eq(count("SELECT count(*) FROM _sw_v_clients"), 0);

    /* The same file without the bad line goes in whole. */
    csv = thousand(0, "", &len);
    rc = import_text("clients", csv, len, &s, &res, &err);
    free(csv);
    ck_assert_msg(rc == SWLOG_OK, "%s", err.msg);
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 1000);
    ck_assert_int_eq(count("SELECT count(*) FROM _sw_outbox"), out0 + 1000);
}
END_TEST

START_TEST(import_warnings_and_empty_rows_do_not_refuse)
{
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    /* V1: a province prefix outside the list only warns. Rows of empty
     * fields (a spreadsheet's empty rows) are skipped. */
    int rc = import_str("clients",
                        CLIENT_HEAD ",,,,,,,,\n" OWNER
                        ",Li,male,1950-03-07,resident_id,990000195003070031,"
                        ",,440983102201\n , ,,,,,,,\n",
                        &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s", err.msg);
    ck_assert_uint_eq(res.rows, 1);
    ck_assert_uint_eq(res.inserted, 1);
    ck_assert_uint_eq(res.warnings, 1);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.is[0].warning, 1);
    ck_assert_uint_eq(s.is[0].line, 3);
    ck_assert_str_eq(s.is[0].column, "id_number");
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 1);
    /* A line break is refused outside free text; blank fields are NULL. */
    rc = import_str("clients",
                    "owner_unit_id,name,gender,birth_date,id_type,"
                    "village_code,ethnicity\n" OWNER
                    ",\"Li\nHua\",male,1950-03-07,none,440983102201,  \n",
                    &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.is[0].column, "name");
    ck_assert_str_eq(s.is[0].rule, "text");
    rc = import_str("clients",
                    "owner_unit_id,name,gender,birth_date,id_type,"
                    "village_code,ethnicity\n" OWNER
                    ",Li Hua ,male,1950-03-07,none,440983102201,  \n",
                    &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s", err.msg);
    ck_assert_int_eq(count("SELECT count(*) FROM clients WHERE name = "
                           "'Li Hua' AND ethnicity IS NULL"),
                     1);
    /* An empty header name is named as such. */
    rc = import_str("clients",
                    "owner_unit_id,name,gender,birth_date,id_type,"
                    "village_code,\n",
                    &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_ptr_nonnull(strstr(s.is[0].msg, "header field 7 is empty"));
}
END_TEST

START_TEST(import_messages_never_show_personal_values)
{
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    /* A wrong check character in an ID number (S), a bad phone (P), a bad
     * village code (P), a bad integer. */
    int rc = import_str("clients",
                        CLIENT_HEAD OWNER ",Li,male,1950-03-07,resident_id,"
                                          "440983195003070035,12345,self,"
                                          "9999\n",
                        &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_ptr_nonnull(find_issue(&s, 2, "id_number"));
    ck_assert_ptr_nonnull(find_issue(&s, 2, "phone"));
    ck_assert_ptr_nonnull(find_issue(&s, 2, "village_code"));
    for (int i = 0; i < s.n; i++) {
        ck_assert_msg(strstr(s.is[i].msg, "440983195003070035") == NULL &&
                          strstr(s.is[i].msg, "12345") == NULL &&
                          strstr(s.is[i].msg, "9999") == NULL,
                      "%s", s.is[i].msg);
        ck_assert_msg(strncmp(s.is[i].msg, "clients.", 8) != 0, "%s",
                      s.is[i].msg);
    }
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 0);
}
END_TEST

START_TEST(import_integers_and_lists)
{
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    /* integers strictly: "1.0" and "+1" refused, "01" stored as 1 */
    int rc = import_str("clients",
                        "owner_unit_id,name,gender,birth_date,id_type,"
                        "village_code,birth_estimated\n" OWNER
                        ",A,male,1950-01-01,none,440983102201,1.0\n" OWNER
                        ",B,male,1950-01-01,none,440983102201,+1\n",
                        &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_int_eq(s.n, 2); /* one message per bad value, not two */
    ck_assert_str_eq(s.is[0].rule, "type");
    ck_assert_str_eq(find_issue(&s, 3, "birth_estimated")->rule, "type");
    rc = import_str("clients",
                    "owner_unit_id,name,gender,birth_date,id_type,"
                    "village_code,birth_estimated\n" OWNER
                    ",A,male,1950-01-01,none,440983102201,01\n",
                    &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s", err.msg);
    ck_assert_int_eq(count("SELECT birth_estimated FROM clients"), 1);
    ck_assert_str_eq(text("SELECT typeof(birth_estimated) FROM clients"),
                     "integer");
    /* a list as a;b or as JSON */
    rc = import_str("volunteer_teams",
                    "owner_unit_id,name,status,leader_name,leader_phone,"
                    "fields\n" OWNER
                    ",T1,active,L,13812345678, elderly ; health\n" OWNER
                    ",T2,active,L,13812345678,\"[\"\"culture\"\"]\"\n",
                    &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s / %s", err.msg,
                  s.n ? s.is[0].msg : "");
    ck_assert_str_eq(text("SELECT fields FROM volunteer_teams WHERE name = "
                          "'T1'"),
                     "[\"elderly\",\"health\"]");
    ck_assert_str_eq(text("SELECT fields FROM volunteer_teams WHERE name = "
                          "'T2'"),
                     "[\"culture\"]");
    rc = import_str("volunteer_teams",
                    "owner_unit_id,name,status,leader_name,leader_phone,"
                    "fields\n" OWNER ",T3,active,L,13812345678,elderly;;x\n",
                    &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_ptr_nonnull(find_issue(&s, 2, "fields"));
}
END_TEST

START_TEST(import_refuses_duplicate_and_existing_ids)
{
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    const char *head = "id,owner_unit_id,name,gender,birth_date,id_type,"
                       "village_code\n";
    char csv[1024];
    snprintf(csv, sizeof csv,
             "%s" CLIENT_A "," OWNER ",A,male,1950-01-01,none,440983102201\n"
             CLIENT_A "," OWNER ",B,male,1950-01-01,none,440983102201\n",
             head);
    int rc = import_str("clients", csv, &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_int_eq(s.n, 1);
    ck_assert_uint_eq(s.is[0].line, 3);
    ck_assert_str_eq(s.is[0].column, "id");
    ck_assert_ptr_nonnull(strstr(s.is[0].msg, "earlier line"));
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 0);

    /* An id already in the table: import only adds rows. */
    sql("INSERT INTO clients(id, owner_unit_id, name, gender, birth_date, "
        "id_type, village_code) VALUES('" CLIENT_A "', '" OWNER "', 'X', "
        "'male', '1950-01-01', 'none', '440983102201')");
    snprintf(csv, sizeof csv,
             "%s" CLIENT_B "," OWNER ",B,male,1950-01-01,none,440983102201\n"
             CLIENT_A "," OWNER ",A,male,1950-01-01,none,440983102201\n",
             head);
    rc = import_str("clients", csv, &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_int_eq(s.n, 1);
    ck_assert_uint_eq(s.is[0].line, 3);
    ck_assert_ptr_nonnull(strstr(s.is[0].msg, "exists already"));
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 1);

    /* A deleted row's id is never reused. */
    sql("DELETE FROM clients WHERE id = '" CLIENT_A "'");
    snprintf(csv, sizeof csv,
             "%s" CLIENT_A "," OWNER ",A,male,1950-01-01,none,440983102201\n",
             head);
    rc = import_str("clients", csv, &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_ptr_nonnull(strstr(s.is[0].msg, "deleted"));
    /* A malformed id. */
    snprintf(csv, sizeof csv,
             "%snot-a-uuid," OWNER ",A,male,1950-01-01,none,440983102201\n",
             head);
    rc = import_str("clients", csv, &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_ptr_nonnull(find_issue(&s, 2, "id"));
}
END_TEST

START_TEST(import_update_mode_changes_named_columns)
{
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    sql("INSERT INTO clients(id, owner_unit_id, name, gender, birth_date, "
        "id_type, id_number, village_code, phone, phone_owner) VALUES('"
        CLIENT_A "', '" OWNER "', 'A', 'male', '1950-03-07', "
        "'resident_id', '" ID_M_1950 "', '440983102201', '+8613812345678', "
        "'self')");
    sql("INSERT INTO clients(id, owner_unit_id, name, gender, birth_date, "
        "id_type, village_code) VALUES('0190a1b2-0000-7000-8000-"
        "0000000000dd', '" OWNER "', 'Gone', 'male', '1950-01-01', 'none', "
        "'440983102201')");
    sql("DELETE FROM clients WHERE name = 'Gone'");
    long long out0 = count("SELECT count(*) FROM _sw_outbox");
    update_mode = 1;
    /* A header naming only some columns: A's phone changes (normalised),
     * its ethnicity is set; a new row on the next line needs every
     * required column and lacks them. */
    int rc = import_str("clients",
                        "id,phone,ethnicity\n" CLIENT_A
                        ",139 0000 1111,Han\n,13900001111,Han\n",
                        &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_ptr_nonnull(find_issue(&s, 3, "name"));
    ck_assert_ptr_null(find_issue(&s, 2, "name"));
    ck_assert_int_eq(count("SELECT count(*) FROM _sw_outbox"), out0);
    rc = import_str("clients",
                    "id,phone,ethnicity\n" CLIENT_A ",139 0000 1111,Han\n",
                    &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s / %s", err.msg,
                  s.n ? s.is[0].msg : "");
    ck_assert_uint_eq(res.updated, 1);
    ck_assert_uint_eq(res.inserted, 0);
    ck_assert_str_eq(text("SELECT phone || ' ' || ethnicity || ' ' || name || "
                          "' ' || id_number FROM clients WHERE id = '"
                          CLIENT_A "'"),
                     "+8613900001111 Han A " ID_M_1950);
    /* Captured as one update of the two columns. */
    ck_assert_int_eq(count("SELECT count(*) FROM _sw_outbox"), out0 + 1);
    ck_assert_int_eq(count("SELECT kind FROM _sw_outbox ORDER BY hlc DESC "
                           "LIMIT 1"),
                     2);
    /* The merged row is validated: an empty phone (NULL) leaves
     * phone_owner set without a phone; a wrong gender clashes with the
     * stored ID number. */
    rc = import_str("clients",
                    "id,phone,gender\n" CLIENT_A ",,female\n", &s, &res,
                    &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_ptr_nonnull(find_issue(&s, 2, "phone_owner"));
    ck_assert_ptr_nonnull(find_issue(&s, 2, "id_number"));
    /* New and existing rows mix; a deleted row's id and an id twice in the
     * file are still refused. */
    rc = import_str("clients",
                    "id,owner_unit_id,name,gender,birth_date,id_type,"
                    "village_code\n" CLIENT_A "," OWNER
                    ",A2,male,1950-03-07,resident_id,440983102201\n" CLIENT_B
                    "," OWNER ",B,female,1960-01-01,none,440983102201\n",
                    &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s / %s", err.msg,
                  s.n ? s.is[0].msg : "");
    ck_assert_uint_eq(res.updated, 1);
    ck_assert_uint_eq(res.inserted, 1);
    ck_assert_str_eq(text("SELECT name FROM clients WHERE id = '" CLIENT_A
                          "'"),
                     "A2");
    rc = import_str("clients",
                    "id,name\n0190a1b2-0000-7000-8000-0000000000dd,X\n"
                    CLIENT_B ",B2\n" CLIENT_B ",B3\n",
                    &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_ptr_nonnull(strstr(find_issue(&s, 2, "id")->msg, "deleted"));
    ck_assert_ptr_nonnull(strstr(find_issue(&s, 4, "id")->msg, "earlier"));
    ck_assert_str_eq(text("SELECT name FROM clients WHERE id = '" CLIENT_B
                          "'"),
                     "B");
}
END_TEST

START_TEST(import_references_earlier_lines)
{
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    const char *head = "id,owner_unit_id,name,gender,birth_date,id_type,"
                       "village_code,duplicate_of\n";
    char csv[1024];
    /* B points at A, written on the line before. */
    snprintf(csv, sizeof csv,
             "%s" CLIENT_A "," OWNER ",A,male,1950-01-01,none,440983102201,\n"
             CLIENT_B "," OWNER ",B,male,1950-01-01,none,440983102201,"
             CLIENT_A "\n",
             head);
    int rc = import_str("clients", csv, &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s / %s", err.msg,
                  s.n ? s.is[0].msg : "");
    ck_assert_str_eq(text("SELECT duplicate_of FROM clients WHERE id = '"
                          CLIENT_B "'"),
                     CLIENT_A);
    /* A reference to a later line is not there yet. */
    snprintf(csv, sizeof csv,
             "%s" "0190a1b2-0000-7000-8000-0000000000c3," OWNER
             ",C,male,1950-01-01,none,440983102201,"
             "0190a1b2-0000-7000-8000-0000000000d4\n"
             "0190a1b2-0000-7000-8000-0000000000d4," OWNER
             ",D,male,1950-01-01,none,440983102201,\n",
             head);
    rc = import_str("clients", csv, &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_str_eq(find_issue(&s, 2, "duplicate_of")->rule, "ref");
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 2);
    /* References to rows of other tables that exist: a case of A. */
    sql("INSERT INTO staff(id, owner_unit_id, name, gender, id_type, role, "
        "employment, start_date) VALUES('0190a1b2-0000-7000-8000-"
        "0000000000e5', '" OWNER "', 'W', 'female', 'none', "
        "'social_worker', 'direct_hire', '2020-01-01')");
#define CASE_F "0190a1b2-0000-7000-8000-0000000000f6"
    snprintf(csv, sizeof csv,
             "id,owner_unit_id,client_id,worker_id,case_no,opened_on,"
             "consent_by,source,stage,risk_level\n" CASE_F "," OWNER
             "," CLIENT_A ",0190a1b2-0000-7000-8000-0000000000e5,X-1,"
             "2024-05-01,self,outreach,intake,high\n");
    rc = import_str("cases", csv, &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s / %s", err.msg,
                  s.n ? s.is[0].msg : "");
    /* Services of that case: free text keeps its line breaks and spaces;
     * a service before the case opened is outside its span (V7). */
    snprintf(csv, sizeof csv,
             "owner_unit_id,client_id,case_id,worker_id,service_date,"
             "minutes,mode,content,risk_found,notes\n" OWNER "," CLIENT_A
             "," CASE_F ",0190a1b2-0000-7000-8000-0000000000e5,2024-05-02,"
             "60,home_visit,policy_info;material_aid,0,\"first\r\nsecond "
             "\"\n");
    rc = import_str("case_services", csv, &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL); /* material_aid wants aid_fen */
    ck_assert_str_eq(find_issue(&s, 2, "aid_fen")->rule, "required");
    snprintf(csv, sizeof csv,
             "owner_unit_id,client_id,case_id,worker_id,service_date,"
             "minutes,mode,content,risk_found,notes,aid_fen\n" OWNER
             "," CLIENT_A "," CASE_F ",0190a1b2-0000-7000-8000-0000000000e5,"
             "2024-05-02,60,home_visit,policy_info;material_aid,0,"
             "\"first\r\nsecond \",5000\n" OWNER "," CLIENT_A "," CASE_F
             ",0190a1b2-0000-7000-8000-0000000000e5,2024-04-30,30,"
             "home_visit,policy_info,0,,\n");
    rc = import_str("case_services", csv, &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_int_eq(s.n, 1);
    ck_assert_uint_eq(s.is[0].line, 4); /* the quoted break spans 2-3 */
    ck_assert_str_eq(s.is[0].column, "service_date");
    ck_assert_str_eq(s.is[0].rule, "V7");
    /* without the early one */
    char *cut = strstr(csv, ",5000\n");
    ck_assert_ptr_nonnull(cut);
    cut[6] = '\0';
    rc = import_str("case_services", csv, &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s / %s", err.msg,
                  s.n ? s.is[0].msg : "");
    ck_assert_str_eq(text("SELECT notes FROM case_services"),
                     "first\r\nsecond ");
    ck_assert_str_eq(text("SELECT content FROM case_services"),
                     "[\"policy_info\",\"material_aid\"]");
}
END_TEST

START_TEST(import_header_errors)
{
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    /* missing required columns: all named */
    int rc = import_str("clients",
                        "owner_unit_id,name,gender,id_type\n" OWNER
                        ",A,male,none\n",
                        &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_int_eq(s.n, 2);
    ck_assert_ptr_nonnull(find_issue(&s, 1, "birth_date"));
    ck_assert_ptr_nonnull(find_issue(&s, 1, "village_code"));
    ck_assert_ptr_nonnull(strstr(s.is[0].msg, "required column missing"));
    ck_assert_uint_eq(res.rows, 0);
    /* unknown and duplicate columns */
    rc = import_str("clients",
                    "owner_unit_id,name,gender,birth_date,id_type,"
                    "village_code,colour,name\n",
                    &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_int_eq(s.n, 2);
    ck_assert_ptr_nonnull(strstr(s.is[0].msg, "colour is not a column"));
    ck_assert_str_eq(s.is[1].column, "name");
    ck_assert_ptr_nonnull(strstr(s.is[1].msg, "fields 2 and 8"));
    /* a header that looks like data is not repeated */
    rc = import_str("clients", "Li Hua,440983195003070034\n", &s, &res,
                    &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    for (int i = 0; i < s.n; i++)
        ck_assert_msg(strstr(s.is[i].msg, "Li Hua") == NULL &&
                          strstr(s.is[i].msg, "4409831950") == NULL,
                      "%s", s.is[i].msg);
    /* empty file */
    rc = import_str("clients", "", &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_ptr_nonnull(strstr(s.is[0].msg, "empty"));
    /* a header only: nothing to do, fine */
    rc = import_str("clients",
                    "owner_unit_id,name,gender,birth_date,id_type,"
                    "village_code\n",
                    &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_OK);
    ck_assert_uint_eq(res.inserted, 0);
}
END_TEST

START_TEST(import_syntax_error_and_field_count)
{
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    const char *head = "owner_unit_id,name,gender,birth_date,id_type,"
                       "village_code\n";
    char csv[1024];
    snprintf(csv, sizeof csv,
             "%s" OWNER ",A,male,1950-01-01,none,440983102201\n" OWNER
             ",B,male,1950-01-01,none\n" OWNER
             ",C\"D,male,1950-01-01,none,440983102201\n",
             head);
    int rc = import_str("clients", csv, &s, &res, &err);
    ck_assert_int_eq(rc, SWLOG_EINVAL);
    ck_assert_int_eq(s.n, 2);
    ck_assert_uint_eq(s.is[0].line, 3);
    ck_assert_str_eq(s.is[0].rule, "fields");
    ck_assert_ptr_nonnull(strstr(s.is[0].msg, "5 fields, the header has 6"));
    ck_assert_uint_eq(s.is[1].line, 4);
    ck_assert_str_eq(s.is[1].rule, "csv");
    ck_assert_msg(strstr(s.is[1].msg, "column 39: quote inside") != NULL,
                  "%s", s.is[1].msg);
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 0);
}
END_TEST

static uint64_t progress_calls, progress_last;
static void on_progress(uint64_t lines, uint64_t bytes, void *ctx)
{
    (void)ctx;
    ck_assert_uint_ge(lines, progress_last);
    ck_assert_uint_gt(bytes, 0);
    progress_calls++;
    progress_last = lines;
}

typedef struct heard_t {
    uint64_t n;
    int stop;
} heard_t;

static void count_stop(const csvimport_issue *is, void *ctx)
{
    heard_t *h = ctx;
    h->n++;
    if (strcmp(is->rule, "limit") == 0)
        h->stop = 1;
}

START_TEST(import_reports_progress_and_stops_after_too_many_errors)
{
    size_t cap = 1u << 20, n = 0;
    char *b = malloc(cap);
    ck_assert_ptr_nonnull(b);
    n += (size_t)snprintf(b + n, cap - n,
                          "owner_unit_id,name,gender,birth_date,id_type,"
                          "village_code\n");
    for (int i = 0; i < 9000; i++)
        n += (size_t)snprintf(b + n, cap - n,
                              OWNER ",P%d,male,1950-01-01,none,"
                                    "440983102201\n",
                              i);
    FILE *f = fmemopen(b, n, "rb");
    csvimport_opts o = {"p.csv", TODAY, NULL, NULL, on_progress, NULL, 0};
    csvimport_result res;
    swlog_error err = {0};
    progress_calls = progress_last = 0;
    ck_assert_int_eq(csvimport_run(rep, schema_find(schema_current(),
                                                    "clients"),
                                   f, &o, &res, &err),
                     SWLOG_OK);
    fclose(f);
    ck_assert_uint_ge(progress_calls, 3); /* 4096, 8192, the end */
    ck_assert_uint_eq(progress_last, 9001);
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 9000);

    /* 2,000 bad lines: reading stops at CSVIMPORT_MAX_REPORTED of them. */
    n = (size_t)snprintf(b, cap, "owner_unit_id,name,gender,birth_date,"
                                 "id_type,village_code\n");
    for (int i = 0; i < 2000; i++)
        n += (size_t)snprintf(b + n, cap - n,
                              OWNER ",Q,male,1950-01-01,none,1\n");
    issues s;
    ck_assert_int_eq(import_text("clients", b, n, &s, &res, &err),
                     SWLOG_EINVAL);
    ck_assert_uint_eq(res.rows, CSVIMPORT_MAX_REPORTED);
    ck_assert_int_eq(s.n, 64); /* the first 64 kept by collect() */
    ck_assert_ptr_nonnull(strstr(err.msg, "on 1000 line(s)"));
    /* the sink heard 1,000 problems, then the stop */
    FILE *f2 = fmemopen(b, n, "rb");
    heard_t heard = {0, 0};
    csvimport_opts o2 = {"q.csv", TODAY, count_stop, &heard, NULL, NULL,
                          0};
    ck_assert_int_eq(csvimport_run(rep, schema_find(schema_current(),
                                                    "clients"),
                                   f2, &o2, &res, &err),
                     SWLOG_EINVAL);
    fclose(f2);
    ck_assert_uint_eq(heard.n, CSVIMPORT_MAX_REPORTED + 1);
    ck_assert_int_eq(heard.stop, 1);
    ck_assert_int_eq(count("SELECT count(*) FROM clients"), 9000);
    free(b);
}
END_TEST

START_TEST(template_round_trip)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const schema_table *t = schema_find(schema_current(), "clients");
    ck_assert_int_eq(csvimport_template(t, f, NULL), SWLOG_OK);
    fclose(f);
    /* BOM, header in declaration order, then the # guide */
    ck_assert_int_eq(memcmp(buf, "\xEF\xBB\xBFid,owner_unit_id,name,", 25),
                     0);
    ck_assert_ptr_nonnull(strstr(buf, "\r\n# clients"));
    ck_assert_ptr_nonnull(strstr(buf, "one of male | female | unknown"));
    ck_assert_ptr_nonnull(strstr(buf, "required when phone is set"));
    /* Fill one line under the header: a value per column by name. */
    static const char *const fill[][2] = {
        {"owner_unit_id", OWNER},     {"name", "Li Hua"},
        {"gender", "male"},           {"birth_date", "1950-03-07"},
        {"id_type", "resident_id"},   {"id_number", ID_M_1950},
        {"phone", "13812345678"},     {"phone_owner", "self"},
        {"village_code", "440983102201"}, {"hukou", "rural"},
    };
    char line[2048] = "";
    const char *h = buf + 3;
    const char *hend = strstr(h, "\r\n");
    char header[1024];
    snprintf(header, sizeof header, "%.*s", (int)(hend - h), h);
    char *save = NULL;
    int first = 1;
    for (char *col = strtok_r(header, ",", &save); col != NULL;
         col = strtok_r(NULL, ",", &save)) {
        const char *v = "";
        for (size_t i = 0; i < sizeof fill / sizeof fill[0]; i++)
            if (strcmp(fill[i][0], col) == 0)
                v = fill[i][1];
        strcat(line, first ? "" : ",");
        strcat(line, v);
        first = 0;
    }
    size_t total = len + strlen(line) + 3;
    char *csv = malloc(total);
    snprintf(csv, total, "%s%s\r\n", buf, line);
    issues s;
    csvimport_result res;
    swlog_error err = {0};
    int rc = import_str("clients", csv, &s, &res, &err);
    ck_assert_msg(rc == SWLOG_OK, "%s / %s", err.msg,
                  s.n ? s.is[0].msg : "");
    ck_assert_uint_eq(res.inserted, 1);
    ck_assert_int_eq(count("SELECT count(*) FROM clients WHERE hukou = "
                           "'rural' AND phone = '+8613812345678'"),
                     1);
    free(csv);
    free(buf);
    /* Every table's template is read back by the importer's header check
     * (a header-only file imports nothing and passes). */
    const schema_model *m = schema_current();
    for (size_t i = 0; i < m->ntables; i++) {
        buf = NULL;
        f = open_memstream(&buf, &len);
        ck_assert_int_eq(csvimport_template(&m->tables[i], f, NULL),
                         SWLOG_OK);
        fclose(f);
        rc = import_text(m->tables[i].name, buf, len, &s, &res, &err);
        ck_assert_msg(rc == SWLOG_OK, "%s: %s", m->tables[i].name, err.msg);
        free(buf);
    }
}
END_TEST

Suite *csvimport_suite(void)
{
    Suite *s = suite_create("csvimport");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, reader_accepts_rfc4180);
    tcase_add_test(tc, reader_record_lines);
    tcase_add_test(tc, reader_refuses_bad_input);
    tcase_add_test(tc, reader_limits);
    suite_add_tcase(s, tc);
    tc = tcase_create("import");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, import_good_rows_captured_under_operator);
    tcase_add_test(tc, import_one_bad_line_changes_nothing);
    tcase_add_test(tc, import_warnings_and_empty_rows_do_not_refuse);
    tcase_add_test(tc, import_messages_never_show_personal_values);
    tcase_add_test(tc, import_integers_and_lists);
    tcase_add_test(tc, import_refuses_duplicate_and_existing_ids);
    tcase_add_test(tc, import_references_earlier_lines);
    tcase_add_test(tc, import_update_mode_changes_named_columns);
    tcase_add_test(tc, import_header_errors);
    tcase_add_test(tc, import_syntax_error_and_field_count);
    tcase_add_test(tc, import_reports_progress_and_stops_after_too_many_errors);
    tcase_add_test(tc, template_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(csvimport_suite()); }
