/* The schema declaration (agent/schema.c): sound, consistent with
 * spec/SCHEMA.md, and the DDL made from it. */
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>

#include "schema.h"
#include "testutil.h"

static char *slurp(const char *rel)
{
    FILE *f = fopen(source_path(rel), "rb");
    ck_assert_msg(f != NULL, "cannot open %s", rel);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The text of "### <table> —" up to the next heading, or NULL. */
static char *section(const char *doc, const char *table)
{
    char head[96];
    snprintf(head, sizeof head, "\n### %s \xe2\x80\x94", table);
    const char *p = strstr(doc, head);
    if (p == NULL)
        return NULL;
    p += 1;
    const char *end = strstr(p + 4, "\n#");
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

START_TEST(declaration_is_sound)
{
    char msg[160] = "";
    ck_assert_msg(schema_check(schema_current(), msg, sizeof msg) == 0, "%s",
                  msg);
    ck_assert_uint_eq(schema_current()->version, SCHEMA_VERSION);
    ck_assert_uint_eq(schema_current()->ntables, 21);
}
END_TEST

START_TEST(every_declared_table_and_column_is_in_the_spec)
{
    char *doc = slurp("spec/SCHEMA.md");
    const schema_model *m = schema_current();
    for (size_t i = 0; i < m->ntables; i++) {
        const schema_table *t = &m->tables[i];
        char *sec = section(doc, t->name);
        ck_assert_msg(sec != NULL, "spec/SCHEMA.md has no ### %s", t->name);
        for (size_t j = 0; j < t->ncolumns; j++) {
            char quoted[80];
            snprintf(quoted, sizeof quoted, "`%s`", t->columns[j].name);
            /* SCHEMA §1: owner_unit_id is stated once for all tables. */
            if (strcmp(t->columns[j].name, "owner_unit_id") == 0)
                continue;
            ck_assert_msg(strstr(sec, quoted) != NULL,
                          "spec/SCHEMA.md ### %s does not mention %s",
                          t->name, quoted);
        }
        free(sec);
    }
    free(doc);
}
END_TEST

START_TEST(every_spec_table_is_declared)
{
    char *doc = slurp("spec/SCHEMA.md");
    size_t n = 0;
    for (const char *p = strstr(doc, "\n### "); p != NULL;
         p = strstr(p + 1, "\n### ")) {
        char name[64];
        if (sscanf(p + 5, "%63[a-z_] \xe2\x80\x94", name) != 1 ||
            strstr(p + 5, " \xe2\x80\x94") > strchr(p + 5, '\n'))
            continue; /* a numbered subsection, not a table */
        ck_assert_msg(schema_find(schema_current(), name) != NULL,
                      "spec/SCHEMA.md table %s is not declared", name);
        n++;
    }
    ck_assert_uint_eq(n, schema_current()->ntables);
    free(doc);
}
END_TEST

START_TEST(record_tables_have_an_owner)
{
    const schema_model *m = schema_current();
    for (size_t i = 0; i < m->ntables; i++) {
        const schema_table *t = &m->tables[i];
        int k = schema_column_index(t, "owner_unit_id");
        if (strcmp(t->name, "org_units") == 0) {
            ck_assert_int_lt(k, 0);
            continue;
        }
        ck_assert_msg(k == 0, "%s: owner_unit_id is not first", t->name);
        ck_assert_int_eq(t->columns[k].presence, SCHEMA_REQUIRED);
        ck_assert_str_eq(t->columns[k].ref, "org_units");
    }
}
END_TEST

START_TEST(sensitivity_follows_the_model)
{
    static const struct {
        const char *t, *c;
        schema_sensitivity s;
    } want[] = {
        {"clients", "id_number", SCHEMA_SENSITIVE},
        {"clients", "address", SCHEMA_SENSITIVE},
        {"clients", "name", SCHEMA_PERSONAL},
        {"clients", "gender", SCHEMA_PLAIN},
        {"client_categories", "category", SCHEMA_SENSITIVE},
        {"cases", "summary", SCHEMA_SENSITIVE},
        {"case_services", "aid_fen", SCHEMA_SENSITIVE},
        {"volunteers", "phone", SCHEMA_PERSONAL},
        {"training_enrollments", "ext_id_number", SCHEMA_SENSITIVE},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const schema_table *t = schema_find(schema_current(), want[i].t);
        int k = schema_column_index(t, want[i].c);
        ck_assert_int_ge(k, 0);
        ck_assert_msg(t->columns[k].sens == want[i].s, "%s.%s", want[i].t,
                      want[i].c);
    }
    /* SCHEMA §1: all free text is S. */
    const schema_model *m = schema_current();
    for (size_t i = 0; i < m->ntables; i++)
        for (size_t j = 0; j < m->tables[i].ncolumns; j++)
            if (m->tables[i].columns[j].rule == SCHEMA_R_FREE_TEXT)
                ck_assert_int_eq(m->tables[i].columns[j].sens,
                                 SCHEMA_SENSITIVE);
}
END_TEST

START_TEST(enumerations_and_subtypes)
{
    const schema_table *t = schema_find(schema_current(), "cases");
    const schema_column *stage = &t->columns[schema_column_index(t, "stage")];
    ck_assert(schema_enum_has(stage->values, "evaluation"));
    ck_assert(!schema_enum_has(stage->values, "reopened"));
    ck_assert_ptr_nonnull(schema_category_subtypes("disability"));
    ck_assert(schema_enum_has(schema_category_subtypes("tekun"), "dispersed"));
    ck_assert_ptr_null(schema_category_subtypes("vagrant"));
    ck_assert(schema_enum_has(schema_cert_levels("care_skill"), "chief"));
    ck_assert(!schema_enum_has(schema_cert_levels("sw_qualification"),
                               "chief"));
}
END_TEST

START_TEST(ddl_creates_every_table_as_declared)
{
    sqlite3 *db;
    const schema_model *m = schema_current();
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    for (size_t i = 0; i < m->ntables; i++) {
        const schema_table *t = &m->tables[i];
        char *sql = schema_create_sql(t);
        ck_assert_ptr_nonnull(sql);
        ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
                      "%s: %s", t->name, sqlite3_errmsg(db));
        sqlite3_free(sql);
        char q[160];
        snprintf(q, sizeof q, "SELECT name, type FROM pragma_table_info('%s')",
                 t->name);
        sqlite3_stmt *st;
        ck_assert_int_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "id");
        for (size_t j = 0; j < t->ncolumns; j++) {
            ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
            ck_assert_str_eq((const char *)sqlite3_column_text(st, 0),
                             t->columns[j].name);
            ck_assert_str_eq((const char *)sqlite3_column_text(st, 1),
                             t->columns[j].type == SCHEMA_INTEGER ? "INTEGER"
                                                                  : "TEXT");
        }
        ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
    }
    /* STRICT: a value of the wrong type is refused. */
    ck_assert_int_ne(sqlite3_exec(db,
                                  "INSERT INTO case_services(id, minutes) "
                                  "VALUES('x', 'sixty')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}
END_TEST

START_TEST(check_refuses_a_broken_declaration)
{
    const schema_model *m = schema_current();
    static schema_table tables[64];
    static schema_column cols[64];
    schema_model bad = *m;
    char msg[160];
    memcpy(tables, m->tables, m->ntables * sizeof *tables);
    bad.tables = tables;
    /* A duplicate column. */
    memcpy(cols, tables[1].columns, tables[1].ncolumns * sizeof *cols);
    cols[tables[1].ncolumns] = cols[1];
    tables[1].columns = cols;
    tables[1].ncolumns++;
    ck_assert_int_eq(schema_check(&bad, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "duplicate column"));
    /* A reference to a table that is not declared. */
    tables[1].ncolumns--;
    cols[1].ref = "nowhere";
    cols[1].rule = SCHEMA_R_UUID;
    ck_assert_int_eq(schema_check(&bad, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "undeclared table"));
    /* A column newer than the model. */
    memcpy(cols, m->tables[1].columns, m->tables[1].ncolumns * sizeof *cols);
    cols[3].since = 2;
    ck_assert_int_eq(schema_check(&bad, msg, sizeof msg), -1);
}
END_TEST

Suite *schema_suite(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("schema");
    tcase_add_test(tc, declaration_is_sound);
    tcase_add_test(tc, every_declared_table_and_column_is_in_the_spec);
    tcase_add_test(tc, every_spec_table_is_declared);
    tcase_add_test(tc, record_tables_have_an_owner);
    tcase_add_test(tc, sensitivity_follows_the_model);
    tcase_add_test(tc, enumerations_and_subtypes);
    tcase_add_test(tc, ddl_creates_every_table_as_declared);
    tcase_add_test(tc, check_refuses_a_broken_declaration);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(schema_suite()); }
