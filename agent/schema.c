/* The record model of spec/SCHEMA.md as data, and the DDL made from it. */
#include "schema.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* Designated-initializer shorthands: the zero value of every field is the
 * common case (TEXT, optional, not personal, no rule). */
#define COL(nm, ...) {.name = nm, .since = 1, __VA_ARGS__}
#define REQ .presence = SCHEMA_REQUIRED
#define INT .type = SCHEMA_INTEGER
#define PII .sens = SCHEMA_PERSONAL
#define SPI .sens = SCHEMA_SENSITIVE
#define ENUM(v) .rule = SCHEMA_R_ENUM, .values = v
#define LIST(v) .rule = SCHEMA_R_ENUM_LIST, .values = v
#define REF(t) .rule = SCHEMA_R_UUID, .ref = t
#define WHEN(op, c, v) .presence = SCHEMA_CONDITIONAL, .when = {op, c, v}
#define BOOL .type = SCHEMA_INTEGER, .rule = SCHEMA_R_BOOL
#define RANGE(a, b) .type = SCHEMA_INTEGER, .rule = SCHEMA_R_RANGE, \
                    .min = (a), .max = (b)
#define DATE .rule = SCHEMA_R_DATE
#define PAST .flags = SCHEMA_F_NOT_FUTURE
#define WORK .flags = SCHEMA_F_NOT_FUTURE | SCHEMA_F_WORK
#define OWNER COL("owner_unit_id", REQ, REF("org_units"))
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* SCHEMA §4: shared enumerations. */
static const char *const e_gender[] = {"male", "female", "unknown", NULL};
static const char *const e_id_type[] = {
    "resident_id", "hmt_residence_permit", "hk_macao_permit",
    "taiwan_permit", "foreign_permanent_resident", "passport", "none", NULL};
static const char *const e_category[] = {
    "elderly_alone", "elderly_empty_nest", "elderly_left_behind",
    "elderly_disabled", "elderly_special_family", "left_behind_child",
    "de_facto_unattended", "orphan", "child_in_difficulty", "disability",
    "dibao", "tekun", "dibao_marginal", "rigid_expense",
    "temporary_assistance", "disaster_affected", "vagrant", "other", NULL};
static const char *const e_risk[] = {"high", "key", "general", NULL};
static const char *const e_ability[] = {"intact", "mild", "moderate",
                                        "severe", "total", NULL};
static const char *const e_need[] = {
    "economic", "daily_care", "health", "mental", "safety", "guardianship",
    "education", "housing", "social_support", "employment", "legal", NULL};
static const char *const e_person_kind[] = {"staff", "volunteer", "external",
                                            NULL};

/* SCHEMA §4: category subtypes. */
static const char *const st_orphan[] = {"institutional", "scattered", NULL};
static const char *const st_child[] = {"poverty", "disability", "other", NULL};
static const char *const st_disability[] = {
    "visual", "hearing", "speech", "physical", "intellectual", "mental",
    "multiple", NULL};
static const char *const st_dibao[] = {"urban", "rural", NULL};
static const char *const st_tekun[] = {"centralized", "dispersed", NULL};
static const char *const st_temp[] = {"emergency", "expenditure", NULL};
static const char *const e_subtype[] = {
    "institutional", "scattered", "poverty", "disability", "other", "visual",
    "hearing", "speech", "physical", "intellectual", "mental", "multiple",
    "urban", "rural", "centralized", "dispersed", "emergency", "expenditure",
    NULL};

/* SCHEMA §5. */
static const char *const e_level[] = {"station", "county_hub",
                                      "provincial_hub", NULL};
static const char *const e_unit_status[] = {"active", "suspended", "closed",
                                            NULL};
static const char *const e_role[] = {
    "social_worker", "station_head", "supervisor", "care_worker",
    "civil_affairs_officer", "other", NULL};
static const char *const e_employment[] = {
    "direct_hire", "purchased_service", "seconded", "other", NULL};
static const char *const e_phone_owner[] = {
    "self", "guardian", "relative", "village_cadre", "other", NULL};
static const char *const e_hukou[] = {"rural", "urban", NULL};
static const char *const e_living[] = {
    "alone", "spouse_only", "with_children", "with_grandparents",
    "institution", "no_fixed_abode", NULL};
static const char *const e_cat_source[] = {"roll", "screening", "self_report",
                                           "other_agency", NULL};

/* SCHEMA §6. */
static const char *const e_consent[] = {"self", "guardian", "statutory", NULL};
static const char *const e_case_source[] = {
    "outreach", "self_request", "village_referral", "civil_affairs_referral",
    "agency_referral", "hotline", NULL};
static const char *const e_stage[] = {"intake", "assessment", "planning",
                                      "intervention", "evaluation", "closed",
                                      NULL};
static const char *const e_closure[] = {
    "goals_met", "client_ended", "referred", "moved", "deceased",
    "lost_contact", "ineligible", "other", NULL};
static const char *const e_assess_kind[] = {"initial", "review", "closing",
                                            NULL};
static const char *const e_frequency[] = {"weekly", "fortnightly", "monthly",
                                          "quarterly", NULL};
static const char *const e_plan_status[] = {"draft", "active", "superseded",
                                            "completed", NULL};
static const char *const e_mode[] = {"home_visit", "phone_video", "at_station",
                                     "escort", "group", "community", NULL};
static const char *const e_content[] = {
    "emotional_support", "policy_info", "benefit_application",
    "resource_link", "daily_care", "safety_check", "crisis",
    "family_mediation", "guardianship_check", "material_aid", "other", NULL};
static const char *const e_direction[] = {"out", "in", NULL};
static const char *const e_partner[] = {
    "civil_affairs", "health", "education", "police", "judicial",
    "disabled_federation", "womens_federation", "hr_social_security",
    "township", "social_org", "other", NULL};
static const char *const e_ref_status[] = {"sent", "accepted", "declined",
                                           "completed", NULL};

/* SCHEMA §7. */
static const char *const e_team_status[] = {"active", "dormant", "dissolved",
                                            NULL};
static const char *const e_fields[] = {
    "elderly", "disability", "children", "poverty", "community", "emergency",
    "health", "culture", "environment", "other", NULL};
static const char *const e_vol_status[] = {"active", "inactive", "withdrawn",
                                           NULL};
static const char *const e_member_role[] = {"member", "backbone", "leader",
                                            NULL};
static const char *const e_evaluation[] = {"excellent", "good", "pass", "fail",
                                           NULL};
static const char *const e_award_level[] = {
    "national", "provincial", "municipal", "county", "station", NULL};

/* SCHEMA §8. */
static const char *const e_audience[] = {"social_worker", "care_worker",
                                         "volunteer", "station_staff", "mixed",
                                         NULL};
static const char *const e_train_kind[] = {
    "induction", "continuing_ed", "skills", "supervision", "exam_prep",
    "certification", NULL};
static const char *const e_train_mode[] = {"in_person", "online", "blended",
                                           NULL};
static const char *const e_result[] = {"pending", "passed", "failed", "absent",
                                       "withdrawn", NULL};
static const char *const e_attend[] = {"present", "late", "left_early",
                                       "absent", "excused", NULL};
static const char *const e_cert_type[] = {
    "sw_qualification", "care_skill", "x_elderly_care", "long_term_care",
    "training_completion", "other", NULL};
static const char *const lv_sw[] = {"assistant", "intermediate", "senior",
                                    NULL};
static const char *const lv_care[] = {"apprentice", "level5", "level4",
                                      "level3", "level2", "level1", "special",
                                      "chief", NULL};
static const char *const lv_three[] = {"primary", "intermediate", "senior",
                                       NULL};
static const char *const lv_none[] = {"none", NULL};
static const char *const e_cert_level[] = {
    "assistant", "intermediate", "senior", "apprentice", "level5", "level4",
    "level3", "level2", "level1", "special", "chief", "primary", "none", NULL};

/* The identity of a person: shared by staff, clients and volunteers. */
#define ID_TYPE COL("id_type", REQ, ENUM(e_id_type))
#define ID_NUMBER                                                            \
    COL("id_number", WHEN(SCHEMA_C_NE, "id_type", "none"), SPI,              \
        .rule = SCHEMA_R_ID_NUMBER)

static const schema_column c_org_units[] = {
    COL("level", REQ, ENUM(e_level)),
    COL("parent_id", WHEN(SCHEMA_C_NE, "level", "provincial_hub"),
        REF("org_units")),
    COL("name", REQ),
    COL("unit_code", REQ),
    COL("division_code", REQ, .rule = SCHEMA_R_DIVISION,
        .level = SCHEMA_DIV_BY_LEVEL),
    COL("division_code_year", REQ, INT, .rule = SCHEMA_R_YEAR),
    COL("operator_name"),
    COL("operator_uscc", .rule = SCHEMA_R_USCC),
    COL("status", REQ, ENUM(e_unit_status)),
    COL("opened_on", DATE, PAST),
    COL("closed_on", WHEN(SCHEMA_C_EQ, "status", "closed"), DATE, PAST),
};
static const schema_span s_org_units[] = {{"opened_on", "closed_on", 0}};

static const schema_column c_staff[] = {
    OWNER,
    COL("name", REQ, PII),
    COL("gender", REQ, ENUM(e_gender)),
    COL("birth_date", PII, DATE, PAST),
    ID_TYPE,
    ID_NUMBER,
    COL("phone", PII, .rule = SCHEMA_R_PHONE),
    COL("role", REQ, ENUM(e_role)),
    COL("employment", REQ, ENUM(e_employment)),
    COL("start_date", REQ, DATE),
    COL("end_date", DATE),
    COL("duplicate_of", REF("staff")),
};
static const schema_span s_staff[] = {{"start_date", "end_date", 0}};

static const schema_column c_clients[] = {
    OWNER,
    COL("name", REQ, PII),
    COL("gender", REQ, ENUM(e_gender)),
    COL("birth_date", REQ, PII, DATE, PAST),
    COL("birth_estimated", BOOL),
    ID_TYPE,
    ID_NUMBER,
    COL("ethnicity", PII),
    COL("phone", PII, .rule = SCHEMA_R_PHONE),
    COL("phone_owner", WHEN(SCHEMA_C_SET, "phone", NULL), ENUM(e_phone_owner)),
    COL("village_code", REQ, PII, .rule = SCHEMA_R_DIVISION,
        .level = SCHEMA_DIV_VILLAGE),
    COL("address", SPI),
    COL("hukou", ENUM(e_hukou)),
    COL("living", SPI, ENUM(e_living)),
    COL("guardian_name", WHEN(SCHEMA_C_MINOR, "birth_date", NULL), PII),
    COL("guardian_relation", WHEN(SCHEMA_C_MINOR, "birth_date", NULL)),
    COL("guardian_phone", WHEN(SCHEMA_C_MINOR, "birth_date", NULL), PII,
        .rule = SCHEMA_R_PHONE),
    COL("disability_cert_no", SPI, .rule = SCHEMA_R_DISABILITY_CERT),
    COL("ability_level", SPI, ENUM(e_ability)),
    COL("duplicate_of", REF("clients")),
};

static const schema_column c_client_categories[] = {
    OWNER,
    COL("client_id", REQ, REF("clients")),
    COL("category", REQ, SPI, ENUM(e_category)),
    COL("subtype", WHEN(SCHEMA_C_SUBTYPES, "category", NULL), SPI,
        ENUM(e_subtype)),
    COL("grade", WHEN(SCHEMA_C_EQ, "category", "disability"), SPI,
        RANGE(1, 4)),
    COL("start_date", REQ, DATE, PAST),
    COL("end_date", DATE),
    COL("source", REQ, ENUM(e_cat_source)),
    COL("verified", REQ, BOOL),
};
static const schema_span s_client_categories[] = {
    {"start_date", "end_date", 0}};

static const schema_column c_cases[] = {
    OWNER,
    COL("client_id", REQ, REF("clients")),
    COL("worker_id", REQ, REF("staff")),
    COL("case_no", REQ),
    COL("opened_on", REQ, DATE, WORK),
    COL("consent_by", REQ, ENUM(e_consent)),
    COL("source", REQ, ENUM(e_case_source)),
    COL("stage", REQ, ENUM(e_stage)),
    COL("risk_level", REQ, ENUM(e_risk)),
    COL("closed_on", WHEN(SCHEMA_C_EQ, "stage", "closed"), DATE, WORK),
    COL("closure_reason", WHEN(SCHEMA_C_EQ, "stage", "closed"),
        ENUM(e_closure)),
    COL("previous_case_id", REF("cases")),
    COL("summary", SPI, .rule = SCHEMA_R_FREE_TEXT),
};
static const schema_span s_cases[] = {{"opened_on", "closed_on", 0}};

static const schema_column c_case_assessments[] = {
    OWNER,
    COL("case_id", REQ, REF("cases")),
    COL("assessor_id", REQ, REF("staff")),
    COL("assessed_on", REQ, DATE, WORK),
    COL("kind", REQ, ENUM(e_assess_kind)),
    COL("needs", REQ, SPI, LIST(e_need)),
    COL("risk_level", REQ, ENUM(e_risk)),
    COL("ability_level", SPI, ENUM(e_ability)),
    COL("summary", SPI, .rule = SCHEMA_R_FREE_TEXT),
};

static const schema_column c_case_plans[] = {
    OWNER,
    COL("case_id", REQ, REF("cases")),
    COL("version", REQ, RANGE(1, 1000000)),
    COL("goals", REQ, SPI, .rule = SCHEMA_R_FREE_TEXT),
    COL("frequency", REQ, ENUM(e_frequency)),
    COL("start_date", REQ, DATE, .flags = SCHEMA_F_WORK),
    COL("review_date", REQ, DATE, .flags = SCHEMA_F_WORK),
    COL("client_agreed", REQ, BOOL),
    COL("status", REQ, ENUM(e_plan_status)),
};
static const schema_span s_case_plans[] = {{"start_date", "review_date", 1}};

static const schema_column c_case_services[] = {
    OWNER,
    COL("client_id", REQ, REF("clients")),
    COL("case_id", REF("cases")),
    COL("worker_id", REQ, REF("staff")),
    COL("service_date", REQ, DATE, WORK),
    COL("start_time", .rule = SCHEMA_R_TIME),
    COL("minutes", REQ, INT, .rule = SCHEMA_R_MINUTES),
    COL("mode", REQ, ENUM(e_mode)),
    COL("content", REQ, LIST(e_content)),
    COL("aid_fen", WHEN(SCHEMA_C_HAS, "content", "material_aid"), SPI,
        RANGE(1, 100000000)),
    COL("risk_found", REQ, BOOL),
    COL("follow_up", WHEN(SCHEMA_C_EQ, "risk_found", "1"), SPI,
        .rule = SCHEMA_R_FREE_TEXT),
    COL("volunteer_activity_id", REF("volunteer_activities")),
    COL("notes", SPI, .rule = SCHEMA_R_FREE_TEXT),
};

static const schema_column c_case_referrals[] = {
    OWNER,
    COL("case_id", REQ, REF("cases")),
    COL("direction", REQ, ENUM(e_direction)),
    COL("referred_on", REQ, DATE, WORK),
    COL("partner_name", REQ),
    COL("partner_type", REQ, ENUM(e_partner)),
    COL("reason", REQ, SPI, .rule = SCHEMA_R_FREE_TEXT),
    COL("status", REQ, ENUM(e_ref_status)),
    COL("responded_on", WHEN(SCHEMA_C_NE, "status", "sent"), DATE, WORK),
    COL("outcome", SPI, .rule = SCHEMA_R_FREE_TEXT),
};
static const schema_span s_case_referrals[] = {
    {"referred_on", "responded_on", 0}};

static const schema_column c_volunteer_teams[] = {
    OWNER,
    COL("name", REQ),
    COL("national_team_no"),
    COL("uscc", .rule = SCHEMA_R_USCC),
    COL("founded_on", DATE, PAST),
    COL("status", REQ, ENUM(e_team_status)),
    COL("leader_name", REQ, PII),
    COL("leader_phone", REQ, PII, .rule = SCHEMA_R_PHONE),
    COL("fields", REQ, LIST(e_fields)),
};

static const schema_column c_volunteers[] = {
    OWNER,
    COL("name", REQ, PII),
    COL("gender", REQ, ENUM(e_gender)),
    COL("birth_date", REQ, PII, DATE, PAST),
    ID_TYPE,
    ID_NUMBER,
    COL("phone", REQ, PII, .rule = SCHEMA_R_PHONE),
    COL("village_code", PII, .rule = SCHEMA_R_DIVISION,
        .level = SCHEMA_DIV_VILLAGE),
    COL("skills", PII),
    COL("national_volunteer_no"),
    COL("registered_on", REQ, DATE, PAST),
    COL("guardian_name", WHEN(SCHEMA_C_MINOR, "birth_date", NULL), PII),
    COL("guardian_phone", WHEN(SCHEMA_C_MINOR, "birth_date", NULL), PII,
        .rule = SCHEMA_R_PHONE),
    COL("guardian_consent", WHEN(SCHEMA_C_MINOR, "birth_date", NULL),
        RANGE(1, 1)),
    COL("status", REQ, ENUM(e_vol_status)),
    COL("duplicate_of", REF("volunteers")),
};

static const schema_column c_volunteer_team_members[] = {
    OWNER,
    COL("team_id", REQ, REF("volunteer_teams")),
    COL("volunteer_id", REQ, REF("volunteers")),
    COL("joined_on", REQ, DATE, PAST),
    COL("left_on", DATE, PAST),
    COL("role", REQ, ENUM(e_member_role)),
};
static const schema_span s_volunteer_team_members[] = {
    {"joined_on", "left_on", 0}};

static const schema_column c_volunteer_activities[] = {
    OWNER,
    COL("name", REQ),
    COL("team_id", REF("volunteer_teams")),
    COL("organizer_name", REQ),
    COL("start_at", REQ, .rule = SCHEMA_R_INSTANT, WORK),
    COL("end_at", REQ, .rule = SCHEMA_R_INSTANT, .flags = SCHEMA_F_WORK),
    COL("place", REQ),
    COL("place_village_code", .rule = SCHEMA_R_DIVISION,
        .level = SCHEMA_DIV_VILLAGE),
    COL("fields", REQ, LIST(e_fields)),
    COL("target_groups", LIST(e_category)),
    COL("content", REQ),
    COL("leader_name", REQ, PII),
    COL("recorder_id", REQ, REF("staff")),
    COL("case_id", REF("cases")),
};
static const schema_span s_volunteer_activities[] = {{"start_at", "end_at", 1}};

static const schema_column c_volunteer_services[] = {
    OWNER,
    COL("activity_id", REQ, REF("volunteer_activities")),
    COL("volunteer_id", REQ, REF("volunteers")),
    COL("service_date", REQ, DATE, WORK),
    COL("minutes", REQ, INT, .rule = SCHEMA_R_MINUTES),
    COL("role"),
    COL("evaluation", ENUM(e_evaluation)),
    COL("recorded_by", REQ, REF("staff")),
    COL("recorded_on", REQ, DATE, WORK),
    COL("confirmed", REQ, BOOL),
};
static const schema_span s_volunteer_services[] = {
    {"service_date", "recorded_on", 0}};

static const schema_column c_volunteer_commendations[] = {
    OWNER,
    COL("volunteer_id", REQ, REF("volunteers")),
    COL("title", REQ),
    COL("level", REQ, ENUM(e_award_level)),
    COL("awarded_on", REQ, DATE, PAST),
    COL("awarded_by", REQ),
};

static const schema_column c_volunteer_proofs[] = {
    OWNER,
    COL("volunteer_id", REQ, REF("volunteers")),
    COL("proof_no", REQ),
    COL("issued_on", REQ, DATE, PAST),
    COL("period_from", REQ, DATE),
    COL("period_to", REQ, DATE),
    COL("total_minutes", REQ, RANGE(0, 100000000)),
    COL("signer_name", REQ, PII),
    COL("handler_name", REQ, PII),
};
static const schema_span s_volunteer_proofs[] = {
    {"period_from", "period_to", 0}, {"period_to", "issued_on", 0}};

static const schema_column c_trainings[] = {
    OWNER,
    COL("title", REQ),
    COL("audience", REQ, ENUM(e_audience)),
    COL("kind", REQ, ENUM(e_train_kind)),
    COL("mode", REQ, ENUM(e_train_mode)),
    COL("start_date", REQ, DATE, .flags = SCHEMA_F_WORK),
    COL("end_date", REQ, DATE, .flags = SCHEMA_F_WORK),
    COL("planned_minutes", REQ, RANGE(1, 1000000)),
    COL("provider_name"),
    COL("provider_uscc", .rule = SCHEMA_R_USCC),
    COL("counts_for_ce", REQ, BOOL),
    COL("pass_score", RANGE(0, 100)),
};
static const schema_span s_trainings[] = {{"start_date", "end_date", 0}};

static const schema_column c_training_sessions[] = {
    OWNER,
    COL("training_id", REQ, REF("trainings")),
    COL("session_date", REQ, DATE, .flags = SCHEMA_F_WORK),
    COL("start_time", REQ, .rule = SCHEMA_R_TIME),
    COL("end_time", REQ, .rule = SCHEMA_R_TIME),
    COL("topic"),
    COL("trainer"),
    COL("place"),
};
static const schema_span s_training_sessions[] = {
    {"start_time", "end_time", 1}};

static const schema_column c_training_enrollments[] = {
    OWNER,
    COL("training_id", REQ, REF("trainings")),
    COL("person_kind", REQ, ENUM(e_person_kind)),
    COL("staff_id", WHEN(SCHEMA_C_EQ, "person_kind", "staff"), REF("staff")),
    COL("volunteer_id", WHEN(SCHEMA_C_EQ, "person_kind", "volunteer"),
        REF("volunteers")),
    COL("ext_name", WHEN(SCHEMA_C_EQ, "person_kind", "external"), PII),
    COL("ext_id_number", SPI, .rule = SCHEMA_R_ID_NUMBER),
    COL("ext_phone", PII, .rule = SCHEMA_R_PHONE),
    COL("ext_employer"),
    COL("enrolled_on", REQ, DATE, PAST),
    COL("result", REQ, ENUM(e_result)),
    COL("score", RANGE(0, 100)),
    COL("completion_no"),
};

static const schema_column c_training_attendance[] = {
    OWNER,
    COL("enrollment_id", REQ, REF("training_enrollments")),
    COL("session_id", REQ, REF("training_sessions")),
    COL("status", REQ, ENUM(e_attend)),
    COL("minutes", REQ, RANGE(0, 1440)),
};

static const schema_column c_certificates[] = {
    OWNER,
    COL("person_kind", REQ, ENUM(e_person_kind)),
    COL("staff_id", WHEN(SCHEMA_C_EQ, "person_kind", "staff"), REF("staff")),
    COL("volunteer_id", WHEN(SCHEMA_C_EQ, "person_kind", "volunteer"),
        REF("volunteers")),
    COL("ext_name", WHEN(SCHEMA_C_EQ, "person_kind", "external"), PII),
    COL("training_id", REF("trainings")),
    COL("cert_type", REQ, ENUM(e_cert_type)),
    COL("level", REQ, ENUM(e_cert_level)),
    COL("cert_no", REQ),
    COL("issuer", REQ),
    COL("issuer_uscc", .rule = SCHEMA_R_USCC),
    COL("issued_on", REQ, DATE, PAST),
    COL("valid_until", DATE),
    COL("registered_until", DATE),
    COL("verified", REQ, BOOL),
};
static const schema_span s_certificates[] = {{"issued_on", "valid_until", 0}};

#define TABLE(nm, lbl, spans)                                                \
    {#nm, lbl, c_##nm, N(c_##nm), spans, sizeof(spans) ? N(spans) : 0, 1}
#define TABLE0(nm, lbl) {#nm, lbl, c_##nm, N(c_##nm), NULL, 0, 1}

static const schema_table tables[] = {
    TABLE(org_units, "组织单元", s_org_units),
    TABLE(staff, "工作人员", s_staff),
    TABLE0(clients, "服务对象"),
    TABLE(client_categories, "服务对象类别", s_client_categories),
    TABLE(cases, "个案", s_cases),
    TABLE0(case_assessments, "需求评估"),
    TABLE(case_plans, "服务计划", s_case_plans),
    TABLE0(case_services, "服务与探访记录"),
    TABLE(case_referrals, "转介", s_case_referrals),
    TABLE0(volunteer_teams, "志愿服务队伍"),
    TABLE0(volunteers, "志愿者"),
    TABLE(volunteer_team_members, "队伍成员", s_volunteer_team_members),
    TABLE(volunteer_activities, "志愿服务活动", s_volunteer_activities),
    TABLE(volunteer_services, "志愿服务记录", s_volunteer_services),
    TABLE0(volunteer_commendations, "表彰奖励"),
    TABLE(volunteer_proofs, "志愿服务记录证明", s_volunteer_proofs),
    TABLE(trainings, "培训项目", s_trainings),
    TABLE(training_sessions, "课次", s_training_sessions),
    TABLE0(training_enrollments, "报名与考核"),
    TABLE0(training_attendance, "签到"),
    TABLE(certificates, "证书", s_certificates),
};

static const schema_model current = {SCHEMA_VERSION, tables, N(tables)};

const schema_model *schema_current(void) { return &current; }

const schema_table *schema_find(const schema_model *m, const char *name)
{
    for (size_t i = 0; i < m->ntables; i++)
        if (strcmp(m->tables[i].name, name) == 0)
            return &m->tables[i];
    return NULL;
}

int schema_column_index(const schema_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (strcmp(t->columns[i].name, name) == 0)
            return (int)i;
    return -1;
}

size_t schema_max_columns(const schema_model *m)
{
    size_t w = 0;
    for (size_t i = 0; i < m->ntables; i++)
        if (m->tables[i].ncolumns > w)
            w = m->tables[i].ncolumns;
    return w;
}

int schema_enum_has(const char *const *values, const char *value)
{
    if (values == NULL || value == NULL)
        return 0;
    for (; *values != NULL; values++)
        if (strcmp(*values, value) == 0)
            return 1;
    return 0;
}

const char *const *schema_category_subtypes(const char *category)
{
    static const struct {
        const char *category;
        const char *const *subtypes;
    } map[] = {
        {"orphan", st_orphan},         {"child_in_difficulty", st_child},
        {"disability", st_disability}, {"dibao", st_dibao},
        {"tekun", st_tekun},           {"temporary_assistance", st_temp},
    };
    for (size_t i = 0; category != NULL && i < N(map); i++)
        if (strcmp(map[i].category, category) == 0)
            return map[i].subtypes;
    return NULL;
}

const char *const *schema_cert_levels(const char *cert_type)
{
    static const struct {
        const char *type;
        const char *const *levels;
    } map[] = {
        {"sw_qualification", lv_sw},    {"care_skill", lv_care},
        {"x_elderly_care", lv_three},   {"long_term_care", lv_three},
        {"training_completion", lv_none}, {"other", lv_none},
    };
    for (size_t i = 0; cert_type != NULL && i < N(map); i++)
        if (strcmp(map[i].type, cert_type) == 0)
            return map[i].levels;
    return NULL;
}

/* Constraints beyond types stay out of the DDL on purpose (SCHEMA §9.3):
 * merges must accept rows in any order (a child before its parent, an update
 * before the rest of a row), and enumerations grow with schema versions,
 * which SQLite could only apply to a CHECK by rebuilding the table. */
char *schema_create_sql(const schema_table *t)
{
    sqlite3_str *s = sqlite3_str_new(NULL);
    sqlite3_str_appendf(s, "CREATE TABLE IF NOT EXISTS \"%w\"("
                           "id TEXT PRIMARY KEY NOT NULL", t->name);
    for (size_t i = 0; i < t->ncolumns; i++)
        sqlite3_str_appendf(s, ", \"%w\" %s", t->columns[i].name,
                            t->columns[i].type == SCHEMA_INTEGER ? "INTEGER"
                                                                 : "TEXT");
    sqlite3_str_appendall(s, ") STRICT;\n");
    for (size_t i = 0; i < t->ncolumns; i++)
        if (t->columns[i].ref != NULL)
            sqlite3_str_appendf(s,
                                "CREATE INDEX IF NOT EXISTS \"%w_%w\" ON "
                                "\"%w\"(\"%w\");\n",
                                t->name, t->columns[i].name, t->name,
                                t->columns[i].name);
    if (sqlite3_str_errcode(s) != SQLITE_OK) {
        sqlite3_free(sqlite3_str_finish(s));
        return NULL;
    }
    return sqlite3_str_finish(s);
}

static int ident_ok(const char *n)
{
    if (n == NULL || n[0] == '\0' || strlen(n) > 64)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_' ||
              (p != n && *p >= '0' && *p <= '9')))
            return 0;
    return n[0] != '_'; /* names starting with _ belong to the sync engine */
}

int schema_check(const schema_model *m, char *msg, size_t msgsz)
{
    for (size_t i = 0; i < m->ntables; i++) {
        const schema_table *t = &m->tables[i];
        if (!ident_ok(t->name) || t->ncolumns > SCHEMA_MAX_COLUMNS ||
            schema_find(m, t->name) != t || t->since < 1 ||
            t->since > m->version) {
            snprintf(msg, msgsz,
                     "%s: bad or duplicate name, version or too many columns",
                     t->name);
            return -1;
        }
        for (size_t j = 0; j < t->ncolumns; j++) {
            const schema_column *c = &t->columns[j];
            int need_enum = c->rule == SCHEMA_R_ENUM ||
                            c->rule == SCHEMA_R_ENUM_LIST;
            const char *bad = NULL;
            if (!ident_ok(c->name) || strcmp(c->name, "id") == 0)
                bad = "bad column name";
            else if (schema_column_index(t, c->name) != (int)j)
                bad = "duplicate column";
            else if (need_enum != (c->values != NULL))
                bad = "enumeration without values or values without rule";
            else if (c->ref != NULL && schema_find(m, c->ref) == NULL)
                bad = "reference to an undeclared table";
            else if ((c->presence == SCHEMA_CONDITIONAL) !=
                     (c->when.op != SCHEMA_C_NONE))
                bad = "condition and presence disagree";
            else if (c->when.column != NULL &&
                     schema_column_index(t, c->when.column) < 0)
                bad = "condition names an undeclared column";
            else if ((c->rule == SCHEMA_R_BOOL || c->rule == SCHEMA_R_RANGE ||
                      c->rule == SCHEMA_R_MINUTES ||
                      c->rule == SCHEMA_R_YEAR) != (c->type == SCHEMA_INTEGER))
                bad = "rule and type disagree";
            else if (c->since < t->since || c->since > m->version)
                bad = "bad since version";
            if (bad != NULL) {
                snprintf(msg, msgsz, "%s.%s: %s", t->name, c->name, bad);
                return -1;
            }
        }
        for (size_t j = 0; j < t->nspans; j++)
            if (schema_column_index(t, t->spans[j].start) < 0 ||
                schema_column_index(t, t->spans[j].end) < 0) {
                snprintf(msg, msgsz, "%s: span names an undeclared column",
                         t->name);
                return -1;
            }
    }
    return 0;
}
