/* swsync-agent's pure helpers (agent/cli/cli.h): station.conf parsing with
 * line numbers, COLUMN=VALUE and integer arguments, --dir, option parsing,
 * and the progress line staying silent off a terminal. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int parse(const char *text, cli_station *st, swlog_error *e)
{
    memset(st, 0, sizeof *st);
    memset(e, 0, sizeof *e);
    snprintf(st->dir, sizeof st->dir, "/srv/station");
    return cli_conf_parse(text, strlen(text), "station.conf", st, e);
}

START_TEST(conf_reads_every_key)
{
    cli_station st;
    swlog_error e;
    const char *text =
        "# comment\n"
        "\n"
        "unit = 440983102000-01\r\n"
        "  operator =  王芳  \n"
        "hub_url = https://127.0.0.1:8443\n"
        "hub_ca = hub-ca.pem\n"
        "hub_key = " "0123456789abcdef0123456789abcdef"
        "0123456789abcdef0123456789abcdef\n"
        "key = /keys/station.key\n"
        "replica = replica.db\n"
        "log = station.log\n"
        "created = 2026-11-23T03:54:42.132Z"; /* no final newline */
    ck_assert_int_eq(parse(text, &st, &e), SWLOG_OK);
    ck_assert_str_eq(st.unit, "440983102000-01");
    ck_assert_str_eq(st.operator_name, "王芳");
    ck_assert_str_eq(st.hub_url, "https://127.0.0.1:8443");
    ck_assert_str_eq(st.hub_ca, "/srv/station/hub-ca.pem");
    ck_assert_str_eq(st.key_path, "/keys/station.key");
    ck_assert_str_eq(st.replica_path, "/srv/station/replica.db");
    ck_assert_str_eq(st.log_path, "/srv/station/station.log");
}
END_TEST

START_TEST(conf_defaults_and_empty_values)
{
    cli_station st;
    swlog_error e;
    ck_assert_int_eq(parse("unit=440983102000-01\nhub_url =\nhub_ca=\n", &st,
                           &e),
                     SWLOG_OK);
    ck_assert_str_eq(st.hub_url, "");
    ck_assert_str_eq(st.hub_ca, "");
    ck_assert_str_eq(st.key_path, "/srv/station/station.key");
    ck_assert_str_eq(st.log_path, "/srv/station/station.log");
}
END_TEST

/* Each bad text and the line its error must name. */
static const struct {
    const char *text;
    const char *want;
} bad[] = {
    {"unit = 440983102000-01\nthis line has no equals sign\n",
     "station.conf:2: not a 'key = value' line"},
    {"# c\n\nunit = x\nunti = y\n", "station.conf:4: unknown key 'unti'"},
    {"unit = a\nunit = b\n", "station.conf:2: 'unit' given twice"},
    {"unit = a\nhub_key = 12ab\n", "station.conf:2: hub_key must be 64"},
    {"unit = a\nhub_key = " "0123456789ABCDEF0123456789abcdef"
     "0123456789abcdef0123456789abcdef\n",
     "station.conf:2: hub_key must be 64"},
    {"unit = 0123456789012345678901234567890123456789\n",
     "station.conf:1: value of 'unit' is 40 bytes, at most 32"},
    {"operator = x\n", "station.conf: no 'unit = CODE' line"},
    {"unit = a\nop\x01erator = x\n", "station.conf:2: control character"},
};

START_TEST(conf_bad_line_names_its_number)
{
    cli_station st;
    swlog_error e;
    ck_assert_int_eq(parse(bad[_i].text, &st, &e), SWLOG_EINVAL);
    ck_assert_msg(strstr(e.msg, bad[_i].want) != NULL, "'%s' lacks '%s'",
                  e.msg, bad[_i].want);
}
END_TEST

START_TEST(conf_too_big_refused)
{
    static char big[CLI_CONF_MAX + 2];
    memset(big, '#', sizeof big - 1);
    cli_station st = {0};
    swlog_error e = {0};
    ck_assert_int_eq(cli_conf_parse(big, sizeof big - 1, "c", &st, &e),
                     SWLOG_EBOUNDS);
}
END_TEST

START_TEST(assignment_forms)
{
    char col[SWLOG_MAX_NAME + 1];
    const char *v;
    ck_assert_int_eq(cli_assignment("name=张三", col, &v), 0);
    ck_assert_str_eq(col, "name");
    ck_assert_str_eq(v, "张三");
    ck_assert_int_eq(cli_assignment("phone=", col, &v), 0);
    ck_assert_str_eq(col, "phone");
    ck_assert_str_eq(v, "");
    ck_assert_int_eq(cli_assignment("notes=a=b", col, &v), 0);
    ck_assert_str_eq(col, "notes");
    ck_assert_str_eq(v, "a=b");
    ck_assert_int_eq(cli_assignment("name", col, &v), -1);
    ck_assert_int_eq(cli_assignment("=x", col, &v), -1);
    char longname[SWLOG_MAX_NAME + 8];
    memset(longname, 'a', SWLOG_MAX_NAME + 1);
    strcpy(longname + SWLOG_MAX_NAME + 1, "=1");
    ck_assert_int_eq(cli_assignment(longname, col, &v), -1);
}
END_TEST

START_TEST(integers_strict)
{
    long long v;
    ck_assert_int_eq(cli_parse_int("2024", &v), 1);
    ck_assert_int_eq(v, 2024);
    ck_assert_int_eq(cli_parse_int("-5", &v), 1);
    ck_assert_int_eq(v, -5);
    ck_assert_int_eq(cli_parse_int("9223372036854775807", &v), 1);
    ck_assert_int_eq(cli_parse_int("-9223372036854775808", &v), 1);
    ck_assert(v == INT64_MIN);
    const char *no[] = {"", "-", "+1", " 1", "1 ", "1e3", "0x10", "2024x",
                        "9223372036854775808", "99999999999999999999"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        ck_assert_msg(cli_parse_int(no[i], &v) == 0, "'%s' accepted", no[i]);
}
END_TEST

START_TEST(dir_option_removed)
{
    char *argv[] = {"add", "clients", "--dir", "/a", "name=x", "--dir=/b",
                    "--", "--dir", "/c", NULL};
    int argc = 9;
    unsetenv("SWSYNC_DIR");
    const char *d = cli_dir(&argc, argv);
    ck_assert_str_eq(d, "/b");
    ck_assert_int_eq(argc, 6);
    ck_assert_str_eq(argv[2], "name=x");
    ck_assert_str_eq(argv[3], "--");
    ck_assert_str_eq(argv[4], "--dir"); /* after "--": an argument */
    ck_assert_ptr_null(argv[6]);
    char *argv2[] = {"status", NULL};
    argc = 1;
    setenv("SWSYNC_DIR", "/env", 1);
    ck_assert_str_eq(cli_dir(&argc, argv2), "/env");
    unsetenv("SWSYNC_DIR");
    ck_assert_str_eq(cli_dir(&argc, argv2), ".");
}
END_TEST

START_TEST(options_parsed)
{
    const char *out = NULL;
    int json = 0;
    const cli_opt opts[] = {{"out", CLI_VALUE, &out},
                            {"json", CLI_FLAG, &json}};
    const char *pos[2];
    size_t npos = 9;
    char *argv[] = {"x", "a", "--out=f", "--json", "b", NULL};
    ck_assert_int_eq(cli_parse("x", 5, argv, opts, 2, pos, 2, &npos), CLI_OK);
    ck_assert_str_eq(out, "f");
    ck_assert_int_eq(json, 1);
    ck_assert_int_eq(npos, 2);
    ck_assert_str_eq(pos[1], "b");
    char *argv2[] = {"x", "--nope", NULL};
    ck_assert_int_eq(cli_parse("x", 2, argv2, opts, 2, pos, 2, &npos),
                     CLI_EUSAGE);
    char *argv3[] = {"x", "--out", NULL};
    ck_assert_int_eq(cli_parse("x", 2, argv3, opts, 2, pos, 2, &npos),
                     CLI_EUSAGE);
    char *argv4[] = {"x", "a", "b", "c", NULL};
    ck_assert_int_eq(cli_parse("x", 4, argv4, opts, 2, pos, 2, &npos),
                     CLI_EUSAGE);
    char *argv5[] = {"x", "--json=1", NULL};
    ck_assert_int_eq(cli_parse("x", 2, argv5, opts, 2, pos, 2, &npos),
                     CLI_EUSAGE);
}
END_TEST

START_TEST(progress_silent_off_a_terminal)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(p[1], STDERR_FILENO), 0);
    cli_progress pr;
    cli_progress_start(&pr, "sealing", 100);
    for (uint64_t i = 0; i <= 100; i++)
        cli_progress_update(&pr, i);
    cli_progress_end(&pr);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(p[1]);
    ck_assert_int_eq(pr.tty, 0);
    ck_assert_int_eq(pr.done, 100);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    char c;
    ck_assert_int_le(read(p[0], &c, 1), 0); /* nothing was written */
    close(p[0]);
}
END_TEST

START_TEST(time_text_utc)
{
    char t[32];
    cli_time_text(0, t);
    ck_assert_str_eq(t, "1970-01-01T00:00:00.000Z");
    cli_time_text(1795406082132LL, t);
    ck_assert_str_eq(t, "2026-11-23T03:54:42.132Z");
}
END_TEST

START_TEST(operator_names)
{
    ck_assert_int_eq(cli_operator_ok("王芳"), 1);
    ck_assert_int_eq(cli_operator_ok(""), 0);
    ck_assert_int_eq(cli_operator_ok(" x"), 0);
    ck_assert_int_eq(cli_operator_ok("a\nb"), 0);
    char l[SWLOG_MAX_AUTHOR + 2];
    memset(l, 'a', sizeof l - 1);
    l[sizeof l - 1] = '\0';
    ck_assert_int_eq(cli_operator_ok(l), 0);
    l[SWLOG_MAX_AUTHOR] = '\0';
    ck_assert_int_eq(cli_operator_ok(l), 1);
    cli_station st = {0};
    ck_assert_str_eq(cli_operator(&st, NULL), CLI_DEFAULT_OPERATOR);
    snprintf(st.operator_name, sizeof st.operator_name, "李明");
    ck_assert_str_eq(cli_operator(&st, NULL), "李明");
    ck_assert_str_eq(cli_operator(&st, "王芳"), "王芳");
}
END_TEST

Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("helpers");
    tcase_add_test(tc, conf_reads_every_key);
    tcase_add_test(tc, conf_defaults_and_empty_values);
    tcase_add_loop_test(tc, conf_bad_line_names_its_number, 0,
                        (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, conf_too_big_refused);
    tcase_add_test(tc, assignment_forms);
    tcase_add_test(tc, integers_strict);
    tcase_add_test(tc, dir_option_removed);
    tcase_add_test(tc, options_parsed);
    tcase_add_test(tc, progress_silent_off_a_terminal);
    tcase_add_test(tc, time_text_utc);
    tcase_add_test(tc, operator_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(cli_suite());
}
