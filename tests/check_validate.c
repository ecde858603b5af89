/* Validation on entry (agent/validate.c): every rule V1–V9 with good and
 * bad values, the declaration's presence and enumeration rules, and
 * messages that name table, column and rule but never a personal value. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "replica.h"
#include "testutil.h"
#include "validate.h"

#define TODAY "2026-11-23"
#define OWNER "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define CLIENT "0190a1b2-0000-7000-8000-000000000001"
#define STAFF "0190a1b2-0000-7000-8000-000000000002"
#define CASE "0190a1b2-0000-7000-8000-000000000003"
#define ROW "0190a1b2-0000-7000-8000-0000000000ff"

/* Valid resident ID numbers (GB 11643 check characters computed apart). */
#define ID_F_1949 "11010519491231002X"  /* female, 1949-12-31 */
#define ID_M_1950 "440983195003070034"  /* male, 1950-03-07 */
#define ID_M_2010 "44098320100101001X"  /* male, 2010-01-01 */
#define ID_HMT_F "810000201001010027"   /* permit, female, 2010-01-01 */

static char why[160];

START_TEST(v1_resident_id)
{
    char out[19];
    ck_assert_int_eq(validate_resident_id(ID_F_1949, 0, "1949-12-31", "female",
                                          TODAY, out, why, sizeof why),
                     0);
    /* Normalisation: spaces, lower-case x, full-width digits. */
    ck_assert_int_eq(validate_resident_id("110105 19491231 002x", 0, NULL,
                                          NULL, TODAY, out, why, sizeof why),
                     0);
    ck_assert_str_eq(out, ID_F_1949);
    ck_assert_int_eq(validate_resident_id("\xef\xbc\x91" "1010519491231002X",
                                          0, NULL, NULL, TODAY, out, why,
                                          sizeof why),
                     0);
    ck_assert_str_eq(out, ID_F_1949);
    /* Wrong check character: the message says which, not the number. */
    ck_assert_int_eq(validate_resident_id("110105194912310021", 0, NULL, NULL,
                                          TODAY, out, why, sizeof why),
                     -1);
    ck_assert_str_eq(why, "V1 check character does not match the other 17 "
                          "digits");
    ck_assert_ptr_null(strchr(why, 'X')); /* neither character shown */
    ck_assert_int_eq(validate_resident_id("1101051949123100", 0, NULL, NULL,
                                          TODAY, out, why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_resident_id("11010519491231A02X", 0, NULL, NULL,
                                          TODAY, out, why, sizeof why),
                     -1);
    /* Birth date disagreeing, gender disagreeing, date in the future. */
    ck_assert_int_eq(validate_resident_id(ID_F_1949, 0, "1949-12-30", NULL,
                                          TODAY, out, why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_resident_id(ID_F_1949, 0, NULL, "male", TODAY,
                                          out, why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_resident_id(ID_M_2010, 0, NULL, "male",
                                          "2009-12-31", out, why, sizeof why),
                     -1);
    /* Residence permit: prefix 81-83 required for it, and accepted. */
    ck_assert_int_eq(validate_resident_id(ID_HMT_F, 1, NULL, "female", TODAY,
                                          out, why, sizeof why),
                     0);
    ck_assert_int_eq(validate_resident_id(ID_M_1950, 1, NULL, NULL, TODAY, out,
                                          why, sizeof why),
                     -1);
}
END_TEST

START_TEST(v1_unknown_province_warns)
{
    char out[19];
    /* 99xxxx... with a correct check character: a warning, not an error. */
    const char *w = "990983195003070033";
    /* GB 11643 check character, computed here, not read from a message. */
    static const int wt[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6,
                               3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (w[i] - '0') * wt[i];
    char fixed[19];
    memcpy(fixed, w, 17);
    fixed[17] = "10X98765432"[sum % 11];
    fixed[18] = '\0';
    ck_assert_int_eq(validate_resident_id(fixed, 0, NULL, NULL, TODAY, out,
                                          why, sizeof why),
                     1);
    ck_assert_ptr_nonnull(strstr(why, "province"));
}
END_TEST

START_TEST(v2_other_documents)
{
    ck_assert_int_eq(validate_document("none", NULL, NULL, NULL, TODAY, why,
                                       sizeof why),
                     0);
    ck_assert_int_eq(validate_document("none", "E1234567", NULL, NULL, TODAY,
                                       why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_document("passport", "E1234567", NULL, NULL,
                                       TODAY, why, sizeof why),
                     0);
    ck_assert_int_eq(validate_document("passport", "E12", NULL, NULL, TODAY,
                                       why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_document("hk_macao_permit", "h1234567", NULL,
                                       NULL, TODAY, why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_document("foreign_permanent_resident",
                                       "912345678901234567", NULL, NULL, TODAY,
                                       why, sizeof why),
                     0);
    ck_assert_int_eq(validate_document("foreign_permanent_resident",
                                       "812345678901234567", NULL, NULL, TODAY,
                                       why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_document("resident_id", NULL, NULL, NULL, TODAY,
                                       why, sizeof why),
                     -1);
    /* Stored resident IDs are normalised. */
    ck_assert_int_eq(validate_document("resident_id", "11010519491231002x",
                                       NULL, NULL, TODAY, why, sizeof why),
                     -1);
}
END_TEST

START_TEST(v3_phone)
{
    char out[24];
    ck_assert_int_eq(validate_phone("138 1234 5678", out, why, sizeof why), 0);
    ck_assert_str_eq(out, "+8613812345678");
    ck_assert_int_eq(validate_phone("+86-138-1234-5678", out, why, sizeof why),
                     0);
    ck_assert_str_eq(out, "+8613812345678");
    ck_assert_int_eq(validate_phone("0086 13812345678", out, why, sizeof why),
                     0);
    ck_assert_int_eq(validate_phone("010-88888888", out, why, sizeof why), 0);
    ck_assert_str_eq(out, "+861088888888");
    ck_assert_int_eq(validate_phone("12812345678", out, why, sizeof why), -1);
    ck_assert_int_eq(validate_phone("1381234567", out, why, sizeof why), -1);
    ck_assert_int_eq(validate_phone("88888888", out, why, sizeof why), -1);
    ck_assert_int_eq(validate_phone("", out, why, sizeof why), -1);
}
END_TEST

START_TEST(v4_division_codes)
{
    ck_assert_int_eq(validate_division("440000", SCHEMA_DIV_PROVINCE, why,
                                       sizeof why),
                     0);
    ck_assert_int_eq(validate_division("440983", SCHEMA_DIV_PROVINCE, why,
                                       sizeof why),
                     -1);
    ck_assert_int_eq(validate_division("440983", SCHEMA_DIV_COUNTY, why,
                                       sizeof why),
                     0);
    ck_assert_int_eq(validate_division("044098", SCHEMA_DIV_COUNTY, why,
                                       sizeof why),
                     -1);
    ck_assert_int_eq(validate_division("440983102000", SCHEMA_DIV_TOWNSHIP,
                                       why, sizeof why),
                     0);
    ck_assert_int_eq(validate_division("440983602000", SCHEMA_DIV_TOWNSHIP,
                                       why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_division("440983102001", SCHEMA_DIV_TOWNSHIP,
                                       why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_division("440983102201", SCHEMA_DIV_VILLAGE, why,
                                       sizeof why),
                     0);
    ck_assert_int_eq(validate_division("440983102000", SCHEMA_DIV_VILLAGE, why,
                                       sizeof why),
                     -1);
    ck_assert_int_eq(validate_division("44098310220", SCHEMA_DIV_VILLAGE, why,
                                       sizeof why),
                     -1);
}
END_TEST

START_TEST(v5_uscc)
{
    ck_assert_int_eq(validate_uscc("91350100M000100Y43", why, sizeof why), 0);
    ck_assert_int_eq(validate_uscc("91440983MA4UXXXX0T", why, sizeof why), 0);
    ck_assert_int_eq(validate_uscc("91350100M000100Y44", why, sizeof why), -1);
    ck_assert_str_eq(why, "V5 check character is 4, expected 3");
    ck_assert_int_eq(validate_uscc("91350100M000100I43", why, sizeof why), -1);
    ck_assert_int_eq(validate_uscc("9135010", why, sizeof why), -1);
    ck_assert_int_eq(validate_uscc("91A50100M000100Y43", why, sizeof why), -1);
}
END_TEST

START_TEST(v6_disability_certificate)
{
    ck_assert_int_eq(validate_disability_cert(ID_M_1950 "42", ID_M_1950,
                                              "physical", "2", why, sizeof why),
                     0);
    ck_assert_int_eq(validate_disability_cert(ID_M_1950 "42", ID_F_1949, NULL,
                                              NULL, why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_disability_cert(ID_M_1950 "82", ID_M_1950, NULL,
                                              NULL, why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_disability_cert(ID_M_1950 "45", ID_M_1950, NULL,
                                              NULL, why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_disability_cert(ID_M_1950 "42", ID_M_1950,
                                              "visual", NULL, why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_disability_cert(ID_M_1950 "42", ID_M_1950,
                                              "physical", "3", why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_disability_cert(ID_M_1950 "4", ID_M_1950, NULL,
                                              NULL, why, sizeof why),
                     -1);
}
END_TEST

START_TEST(v7_dates)
{
    ck_assert_int_eq(validate_date("2024-02-29", why, sizeof why), 0);
    ck_assert_int_eq(validate_date("2023-02-29", why, sizeof why), -1);
    ck_assert_int_eq(validate_date("2024-13-01", why, sizeof why), -1);
    ck_assert_int_eq(validate_date("2024-1-01", why, sizeof why), -1);
    ck_assert_int_eq(validate_date("1900-02-29", why, sizeof why), -1);
    ck_assert_int_eq(validate_date("2000-02-29", why, sizeof why), 0);
}
END_TEST

START_TEST(v8_ages)
{
    ck_assert_int_eq(validate_age("1950-03-07", "2010-03-06"), 59);
    ck_assert_int_eq(validate_age("1950-03-07", "2010-03-07"), 60);
    ck_assert_int_eq(validate_category_age("elderly_alone", "1950-03-07",
                                           "2010-03-07", why, sizeof why),
                     0);
    ck_assert_int_eq(validate_category_age("elderly_alone", "1950-03-07",
                                           "2010-03-06", why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_category_age("left_behind_child", "2010-01-01",
                                           "2025-12-31", why, sizeof why),
                     0);
    ck_assert_int_eq(validate_category_age("left_behind_child", "2010-01-01",
                                           "2026-01-01", why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_category_age("orphan", "2010-01-01",
                                           "2027-12-31", why, sizeof why),
                     0);
    ck_assert_int_eq(validate_category_age("child_in_difficulty", "2010-01-01",
                                           "2028-01-01", why, sizeof why),
                     -1);
    ck_assert_int_eq(validate_category_age("dibao", "2010-01-01", "2028-01-01",
                                           why, sizeof why),
                     0);
}
END_TEST

/* validate_row ------------------------------------------------------------ */

typedef struct issues {
    int n, warnings;
    char msg[16][200];
} issues;

static void sink(const validate_issue *is, void *ctx)
{
    issues *s = ctx;
    if (is->warning)
        s->warnings++;
    if (s->n < 16)
        snprintf(s->msg[s->n++], sizeof s->msg[0], "%s", is->msg);
}

static int has(const issues *s, const char *text)
{
    for (int i = 0; i < s->n; i++)
        if (strstr(s->msg[i], text) != NULL)
            return 1;
    return 0;
}

static void no_secret(const issues *s, const char *secret)
{
    for (int i = 0; i < s->n; i++)
        ck_assert_msg(strstr(s->msg[i], secret) == NULL,
                      "message echoes a personal value: %s", s->msg[i]);
}

/* A row of t from "column=value" pairs; unnamed columns are NULL. */
static int check(const char *table, const char *id, sqlite3 *db, issues *s,
                 const char *const *pairs)
{
    const schema_table *t = schema_find(schema_current(), table);
    static char buf[64][128];
    const char *vals[64] = {0};
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; pairs[i] != NULL; i++) {
        const char *eq = strchr(pairs[i], '=');
        char col[64];
        snprintf(col, sizeof col, "%.*s", (int)(eq - pairs[i]), pairs[i]);
        int k = schema_column_index(t, col);
        ck_assert_msg(k >= 0, "%s.%s", table, col);
        snprintf(buf[k], sizeof buf[k], "%s", eq + 1);
        vals[k] = buf[k];
    }
    memset(s, 0, sizeof *s);
    validate_ctx ctx = {TODAY, db, sink, s};
    return validate_row(t, id, vals, &ctx);
}

#define ROWOF(...) ((const char *const[]){__VA_ARGS__, NULL})

#define GOOD_CLIENT                                                          \
    "owner_unit_id=" OWNER, "name=Li Hua", "gender=male",                    \
        "birth_date=1950-03-07", "id_type=resident_id",                      \
        "id_number=" ID_M_1950, "village_code=440983102201"

START_TEST(row_good_client_passes)
{
    issues s;
    ck_assert_int_eq(check("clients", ROW, NULL, &s, ROWOF(GOOD_CLIENT)), 0);
    ck_assert_int_eq(check("clients", ROW, NULL, &s,
                           ROWOF(GOOD_CLIENT, "phone=+8613812345678",
                                 "phone_owner=self",
                                 "disability_cert_no=" ID_M_1950 "42",
                                 "living=alone")),
                     0);
}
END_TEST

START_TEST(row_messages_name_table_column_rule_and_hide_values)
{
    issues s;
    ck_assert_int_eq(check("clients", ROW, NULL, &s,
                           ROWOF("owner_unit_id=" OWNER, "name=Li Hua",
                                 "gender=female", "birth_date=1950-03-07",
                                 "id_type=resident_id",
                                 "id_number=440983195003070035",
                                 "village_code=440983102201")),
                     1);
    ck_assert_str_eq(s.msg[0],
                     "clients.id_number: V1 check character does not match the "
                     "other 17 digits");
    no_secret(&s, "440983195003070035");
    ck_assert_int_eq(check("clients", ROW, NULL, &s,
                           ROWOF("owner_unit_id=" OWNER, "name=Li Hua",
                                 "gender=female", "birth_date=1950-03-07",
                                 "id_type=resident_id",
                                 "id_number=" ID_M_1950,
                                 "village_code=440983102201",
                                 "living=in a tent")),
                     2);
    ck_assert(has(&s, "clients.id_number: V1 sex digit"));
    ck_assert(has(&s, "clients.living: not an allowed value"));
    no_secret(&s, "tent");
    no_secret(&s, ID_M_1950);
}
END_TEST

START_TEST(row_presence_rules)
{
    issues s;
    /* R missing; C(phone) phone_owner; C(id_type != none) id_number. */
    ck_assert_int_eq(check("clients", ROW, NULL, &s,
                           ROWOF("owner_unit_id=" OWNER, "gender=male",
                                 "birth_date=1950-03-07", "id_type=none",
                                 "village_code=440983102201",
                                 "phone=+8613812345678")),
                     2);
    ck_assert(has(&s, "clients.name: is required"));
    /* phone is personal: the message names the column, not that it holds
     * a value. */
    ck_assert(has(&s, "clients.phone_owner: is required when the row's phone "
                      "calls for it"));
    ck_assert_int_eq(check("clients", ROW, NULL, &s,
                           ROWOF("owner_unit_id=" OWNER, "name=A",
                                 "gender=male", "birth_date=1950-03-07",
                                 "id_type=resident_id",
                                 "village_code=440983102201")),
                     1);
    ck_assert(has(&s, "clients.id_number: is required when id_type is not "
                      "none"));
    /* Under 18: guardian columns required (age at today). */
    ck_assert_int_eq(check("clients", ROW, NULL, &s,
                           ROWOF("owner_unit_id=" OWNER, "name=A",
                                 "gender=male", "birth_date=2010-01-01",
                                 "id_type=resident_id",
                                 "id_number=" ID_M_2010,
                                 "village_code=440983102201")),
                     3);
    /* Being a minor is read from birth_date (personal): not named. */
    ck_assert(has(&s, "clients.guardian_name: is required when the row's "
                      "birth_date calls for it"));
    /* A bad id and a bad reference form. */
    ck_assert_int_eq(check("clients", "0190A1B2-0000-7000-8000-000000000001",
                           NULL, &s, ROWOF(GOOD_CLIENT)),
                     1);
    ck_assert(has(&s, "clients.id: must be a lowercase UUID"));
}
END_TEST

START_TEST(row_v3_v4_v5_in_rows)
{
    issues s;
    ck_assert_int_eq(check("clients", ROW, NULL, &s,
                           ROWOF(GOOD_CLIENT, "phone=13812345678",
                                 "phone_owner=self")),
                     1);
    ck_assert(has(&s, "clients.phone: V3 must be stored as E.164"));
    ck_assert_int_eq(check("clients", ROW, NULL, &s,
                           ROWOF("owner_unit_id=" OWNER, "name=Li Hua",
                                 "gender=male", "birth_date=1950-03-07",
                                 "id_type=none",
                                 "village_code=440983102000")),
                     1);
    ck_assert(has(&s, "clients.village_code: V4"));
    /* org_units: the division level follows the unit's level. */
    const char *unit[] = {"level=county_hub", "parent_id=" OWNER, "name=H",
                          "unit_code=440983", "division_code=440983",
                          "division_code_year=2024", "status=active",
                          "operator_uscc=91350100M000100Y44", NULL};
    ck_assert_int_eq(check("org_units", ROW, NULL, &s, unit), 1);
    ck_assert(has(&s, "org_units.operator_uscc: V5 check character"));
    unit[0] = "level=station";
    ck_assert_int_eq(check("org_units", ROW, NULL, &s, unit), 2);
    ck_assert(has(&s, "org_units.division_code: V4 a township code"));
}
END_TEST

START_TEST(row_v7_spans_today_and_work_dates)
{
    issues s;
    const char *plan[] = {"owner_unit_id=" OWNER, "case_id=" CASE,
                          "version=1", "goals=g", "frequency=weekly",
                          "start_date=2024-05-01", "review_date=2024-05-01",
                          "client_agreed=1", "status=active", NULL};
    ck_assert_int_eq(check("case_plans", ROW, NULL, &s, plan), 1);
    ck_assert(has(&s, "case_plans.review_date: V7 must be after start_date"));
    plan[6] = "review_date=2024-08-01";
    ck_assert_int_eq(check("case_plans", ROW, NULL, &s, plan), 0);
    plan[5] = "start_date=1999-12-31";
    ck_assert_int_eq(check("case_plans", ROW, NULL, &s, plan), 1);
    ck_assert(has(&s, "V7 a work record is not before 2000-01-01"));
    ck_assert_int_eq(check("clients", ROW, NULL, &s,
                           ROWOF("owner_unit_id=" OWNER, "name=A",
                                 "gender=male", "birth_date=2026-11-24",
                                 "id_type=none",
                                 "village_code=440983102201")),
                     1);
    ck_assert(has(&s, "clients.birth_date: V7 is after today"));
}
END_TEST

START_TEST(row_v9_minutes)
{
    issues s;
    const char *svc[] = {"owner_unit_id=" OWNER, "client_id=" CLIENT,
                         "worker_id=" STAFF, "service_date=2024-05-02",
                         "minutes=721", "mode=home_visit",
                         "content=[\"policy_info\"]", "risk_found=0", NULL};
    ck_assert_int_eq(check("case_services", ROW, NULL, &s, svc), 1);
    ck_assert(has(&s, "case_services.minutes: V9 a service lasts 1-720"));
    svc[4] = "minutes=0";
    ck_assert_int_eq(check("case_services", ROW, NULL, &s, svc), 1);
    svc[4] = "minutes=30"; /* 480 that day: no flag */
    ck_assert_int_eq(check("case_services", ROW, NULL, &s, svc), 0);
    /* Lists: JSON arrays of distinct allowed ids; C(content has ...). */
    svc[6] = "content=[\"policy_info\",\"policy_info\"]";
    ck_assert_int_eq(check("case_services", ROW, NULL, &s, svc), 1);
    svc[6] = "content=[\"material_aid\"]";
    ck_assert_int_eq(check("case_services", ROW, NULL, &s, svc), 1);
    ck_assert(has(&s, "case_services.aid_fen: is required when content has "
                      "material_aid"));
}
END_TEST

/* Rules that read other rows, on a real replica. */
static replica *rep;

static sqlite3 *replica_with_rows(void)
{
    char path[512];
    swlog_error err = {0};
    snprintf(path, sizeof path, "%s/validate-%d.db", test_tmpdir(),
             (int)getpid());
    unlink(path);
    ck_assert_int_eq(replica_open(path, &rep, &err), SWLOG_OK);
    sqlite3 *db = replica_db(rep);
    ck_assert_int_eq(
        sqlite3_exec(
            db,
            "INSERT INTO org_units(id, level, name, unit_code, division_code, "
            "division_code_year, status) VALUES('" OWNER "', 'station', 'S', "
            "'440983102000-01', '440983102000', 2024, 'active');"
            "INSERT INTO clients(id, owner_unit_id, name, gender, birth_date, "
            "id_type, id_number, village_code, disability_cert_no) VALUES('"
            CLIENT "', '" OWNER "', 'A', 'male', '1950-03-07', 'resident_id', "
            "'" ID_M_1950 "', '440983102201', '" ID_M_1950 "42');"
            "INSERT INTO staff(id, owner_unit_id, name, gender, id_type, role, "
            "employment, start_date) VALUES('" STAFF "', '" OWNER "', 'W', "
            "'female', 'none', 'social_worker', 'direct_hire', '2020-01-01');"
            "INSERT INTO cases(id, owner_unit_id, client_id, worker_id, "
            "case_no, opened_on, consent_by, source, stage, risk_level) "
            "VALUES('" CASE "', '" OWNER "', '" CLIENT "', '" STAFF "', "
            "'X-2024-A-0001', '2024-05-01', 'self', 'outreach', 'intake', "
            "'high');"
            "INSERT INTO case_services(id, owner_unit_id, client_id, "
            "worker_id, service_date, start_time, minutes, mode, content, "
            "risk_found) VALUES('0190a1b2-0000-7000-8000-000000000010', '"
            OWNER "', '" CLIENT "', '" STAFF "', '2024-05-02', '09:00', 450, "
            "'home_visit', '[\"policy_info\"]', 0);",
            NULL, NULL, NULL),
        SQLITE_OK);
    return db;
}

START_TEST(row_rules_reading_other_rows)
{
    issues s;
    sqlite3 *db = replica_with_rows();
    /* References must exist. */
    ck_assert_int_eq(check("cases", ROW, db, &s,
                           ROWOF("owner_unit_id=" OWNER,
                                 "client_id=0190a1b2-0000-7000-8000-"
                                 "0000000000aa",
                                 "worker_id=" STAFF, "case_no=X-2024-A-0002",
                                 "opened_on=2024-06-01", "consent_by=self",
                                 "source=hotline", "stage=intake",
                                 "risk_level=key")),
                     1);
    ck_assert(has(&s, "cases.client_id: no clients row with this id"));
    /* V7: a service before its case opened. */
    const char *svc[] = {"owner_unit_id=" OWNER, "client_id=" CLIENT,
                         "case_id=" CASE, "worker_id=" STAFF,
                         "service_date=2024-04-30", "minutes=30",
                         "mode=home_visit", "content=[\"policy_info\"]",
                         "risk_found=0", NULL};
    ck_assert_int_eq(check("case_services", ROW, db, &s, svc), 1);
    ck_assert(has(&s, "case_services.service_date: V7 outside the span of its "
                      "cases row"));
    /* V9: 450 + 240 = 690 minutes that day: flagged, not refused; 450 + 300
     * is refused; an overlapping start time is refused. */
    svc[4] = "service_date=2024-05-02";
    svc[5] = "minutes=240";
    ck_assert_int_eq(check("case_services", ROW, db, &s, svc), 0);
    ck_assert_int_eq(s.warnings, 1);
    ck_assert(has(&s, "over 480 (review)"));
    svc[5] = "minutes=300";
    ck_assert_int_eq(check("case_services", ROW, db, &s, svc), 1);
    ck_assert(has(&s, "case_services.minutes: V9"));
    const char *timed[] = {"owner_unit_id=" OWNER, "client_id=" CLIENT,
                           "worker_id=" STAFF, "service_date=2024-05-02",
                           "start_time=15:00", "minutes=30", "mode=home_visit",
                           "content=[\"policy_info\"]", "risk_found=0", NULL};
    ck_assert_int_eq(check("case_services", ROW, db, &s, timed), 1);
    ck_assert(has(&s, "V9 overlaps another service"));
    timed[4] = "start_time=16:30";
    ck_assert_int_eq(check("case_services", ROW, db, &s, timed), 0);
    /* V8 on the category's start date, V6 against the client's cert. */
    const char *cat[] = {"owner_unit_id=" OWNER, "client_id=" CLIENT,
                         "category=elderly_alone", "start_date=2009-01-01",
                         "source=roll", "verified=1", NULL, NULL};
    ck_assert_int_eq(check("client_categories", ROW, db, &s, cat), 1);
    /* The category is sensitive: the message must not name it. */
    ck_assert(has(&s, "client_categories.start_date: V8 age on start_date "
                      "does not fit the category"));
    cat[3] = "start_date=2010-03-07";
    ck_assert_int_eq(check("client_categories", ROW, db, &s, cat), 0);
    const char *dis[] = {"owner_unit_id=" OWNER, "client_id=" CLIENT,
                         "category=disability", "subtype=visual", "grade=2",
                         "start_date=2020-01-01", "source=roll", "verified=1",
                         NULL};
    ck_assert_int_eq(check("client_categories", ROW, db, &s, dis), 1);
    ck_assert(has(&s, "client_categories.subtype: V6 category digit"));
    dis[3] = "subtype=physical";
    ck_assert_int_eq(check("client_categories", ROW, db, &s, dis), 0);
    dis[3] = "subtype=dispersed";
    ck_assert_int_eq(check("client_categories", ROW, db, &s, dis), 2);
    ck_assert(has(&s, "not a subtype of the row's category"));
    replica_close(rep);
}
END_TEST

/* V9 on volunteer services: the day's total per volunteer (the table has
 * no start_time, so no overlap check; it once read one and refused every
 * row with rule "db"). */
START_TEST(row_v9_volunteer_services)
{
    issues s;
    sqlite3 *db = replica_with_rows();
#define VOL "0190a1b2-0000-7000-8000-000000000020"
#define ACT "0190a1b2-0000-7000-8000-000000000021"
    ck_assert_int_eq(
        sqlite3_exec(
            db,
            "INSERT INTO volunteers(id, owner_unit_id, name, gender, "
            "birth_date, id_type, phone, registered_on, status) VALUES('" VOL
            "', '" OWNER "', 'V', 'female', '1980-01-01', 'none', "
            "'+8613800000000', '2024-01-01', 'active');"
            "INSERT INTO volunteer_activities(id, owner_unit_id, name, "
            "organizer_name, start_at, end_at, place, fields, content, "
            "leader_name, recorder_id) VALUES('" ACT "', '" OWNER "', 'A', "
            "'O', '2024-05-02T00:00:00Z', '2024-05-02T10:00:00Z', 'P', "
            "'[\"elderly\"]', 'C', 'L', '" STAFF "');"
            "INSERT INTO volunteer_services(id, owner_unit_id, activity_id, "
            "volunteer_id, service_date, minutes, recorded_by, recorded_on, "
            "confirmed) VALUES('0190a1b2-0000-7000-8000-000000000022', '"
            OWNER "', '" ACT "', '" VOL "', '2024-05-02', 450, '" STAFF "', "
            "'2024-05-02', 1);",
            NULL, NULL, NULL),
        SQLITE_OK);
    const char *svc[] = {"owner_unit_id=" OWNER, "activity_id=" ACT,
                         "volunteer_id=" VOL, "service_date=2024-05-02",
                         "minutes=240", "recorded_by=" STAFF,
                         "recorded_on=2024-05-02", "confirmed=1", NULL};
    ck_assert_int_eq(check("volunteer_services", ROW, db, &s, svc), 0);
    ck_assert_int_eq(s.warnings, 1);
    ck_assert(has(&s, "over 480 (review)"));
    svc[4] = "minutes=300";
    ck_assert_int_eq(check("volunteer_services", ROW, db, &s, svc), 1);
    ck_assert(has(&s, "volunteer_services.minutes: V9"));
    svc[4] = "minutes=30"; /* 480 that day: no flag */
    ck_assert_int_eq(check("volunteer_services", ROW, db, &s, svc), 0);
    ck_assert_int_eq(s.warnings, 0);
#undef VOL
#undef ACT
    replica_close(rep);
}
END_TEST

/* A check that cannot read the database refuses the row (rule "db"); it
 * never passes it as if the referenced row were simply absent or fine. */
START_TEST(row_database_error_refuses_the_row)
{
    issues s;
    sqlite3 *db = replica_with_rows();
    ck_assert_int_eq(sqlite3_exec(db, "ALTER TABLE clients RENAME TO gone",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    const char *cat[] = {"owner_unit_id=" OWNER, "client_id=" CLIENT,
                         "category=elderly_alone", "start_date=2010-03-07",
                         "source=roll", "verified=1", NULL};
    ck_assert_int_ge(check("client_categories", ROW, db, &s, cat), 1);
    ck_assert(has(&s, "client_categories: cannot read clients to check this "
                      "row: no such table: clients"));
    ck_assert_int_eq(sqlite3_exec(db, "ALTER TABLE case_services RENAME TO "
                                      "gone2",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    const char *timed[] = {"owner_unit_id=" OWNER, "worker_id=" STAFF,
                           "client_id=0190a1b2-0000-7000-8000-0000000000aa",
                           "service_date=2024-05-02", "start_time=15:00",
                           "minutes=30", "mode=home_visit",
                           "content=[\"policy_info\"]", "risk_found=0", NULL};
    ck_assert_int_ge(check("case_services", ROW, db, &s, timed), 1);
    ck_assert(has(&s, "cannot read the day's services to check V9"));
    replica_close(rep);
}
END_TEST

Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, v1_resident_id);
    tcase_add_test(tc, row_database_error_refuses_the_row);
    tcase_add_test(tc, v1_unknown_province_warns);
    tcase_add_test(tc, v2_other_documents);
    tcase_add_test(tc, v3_phone);
    tcase_add_test(tc, v4_division_codes);
    tcase_add_test(tc, v5_uscc);
    tcase_add_test(tc, v6_disability_certificate);
    tcase_add_test(tc, v7_dates);
    tcase_add_test(tc, v8_ages);
    suite_add_tcase(s, tc);
    tc = tcase_create("row");
    tcase_add_test(tc, row_good_client_passes);
    tcase_add_test(tc, row_messages_name_table_column_rule_and_hide_values);
    tcase_add_test(tc, row_presence_rules);
    tcase_add_test(tc, row_v3_v4_v5_in_rows);
    tcase_add_test(tc, row_v7_spans_today_and_work_dates);
    tcase_add_test(tc, row_v9_minutes);
    tcase_add_test(tc, row_rules_reading_other_rows);
    tcase_add_test(tc, row_v9_volunteer_services);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(validate_suite()); }
