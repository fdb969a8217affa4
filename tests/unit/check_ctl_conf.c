/* SPDX-License-Identifier: MIT */
/*
 * check_ctl_conf.c - unit tests of ctl_conf_scan() (ctl_conf.h): the
 * admin_socket setting found in a configuration the full parse refused.
 * Table-driven: one row per case (text, expected value or NULL).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_conf.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *text, *want;
} scan_cases[] = {
    { "admin_socket = \"/run/a.sock\"\n", "/run/a.sock" },
    { "  admin_socket=\"/run/a.sock\"", "/run/a.sock" },
    { "admin_socket = /run/bare.sock # comment\n", "/run/bare.sock" },
    { "retention_dayz = 3\nadmin_socket = \"/x\"\n", "/x" },     /* a typo elsewhere */
    { "admin_socket = \"/a \\\"q\\\" b\"", "/a \"q\" b" },       /* escapes */
    { "# admin_socket = \"/commented\"\n", NULL },
    { "/* admin_socket = \"/c\" */ admin_socket = \"/d\"", "/d" },
    { "// admin_socket = \"/c\"\n", NULL },
    { "maillog \"m\" {\n admin_socket = \"/in-section\"\n}\n", NULL }, /* not top level */
    { "maillog \"m\" { path = \"/l\" }\nadmin_socket = \"/after\"", "/after" },
    { "log = \"admin_socket = /in-a-string\"\n", NULL },
    { "my_admin_socket = \"/other\"\n", NULL },
    { "admin_sockets = \"/other\"\n", NULL },
    { "admin_socket = \"${RUNTIME_DIRECTORY}/a.sock\"", NULL }, /* only the parse expands */
    { "admin_socket = \"\"", NULL },
    { "admin_socket", NULL },
    { "", NULL },
};

START_TEST(test_scan)
{
    const char *text = scan_cases[_i].text, *want = scan_cases[_i].want;
    char *got = ctl_conf_scan(text, strlen(text), "admin_socket");

    if (want == NULL)
        ck_assert_msg(got == NULL, "case %d: got \"%s\"", _i, got);
    else
        ck_assert_str_eq(got ? got : "(none)", want);
    free(got);
}
END_TEST

static Suite *ctl_conf_suite(void)
{
    Suite *s = suite_create("ctl_conf");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_scan, 0, N(scan_cases));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ctl_conf_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
