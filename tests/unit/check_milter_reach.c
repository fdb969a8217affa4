/* SPDX-License-Identifier: MIT */
/*
 * check_milter_reach.c - the start-up check of mailhook-milter that the
 * local Postfix reaches its socket (milter_reach.h): master.cf and main.cf
 * as text, one table row per setup (Debian's chrooted default, OpenDKIM's
 * layout, the old /run socket, inet, mixed chroot), then postconf itself
 * replaced by small scripts: absent, failing, too slow, and answering.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "milter_reach.h"
#include "testdir.h"
#include "timeutil.h"
#include "xalloc.h"

/* Debian 12's master.cf, the services that matter (chroot column "y"),
 * with a comment and a continuation line as in the real file. */
static const char debian_master[] =
    "smtp       inet  n       -       y       -       -       smtpd\n"
    "#submission inet n       -       y       -       -       smtpd\n"
    "  -o smtpd_milters=unix:/elsewhere\n"
    "pickup     unix  n       -       y       60      1       pickup\n"
    "cleanup    unix  n       -       y       -       0       cleanup\n"
    "qmgr       unix  n       -       n       300     1       qmgr\n";
/* Upstream 3.x: "-" is no chroot. */
static const char plain_master[] =
    "smtp       inet  n       -       -       -       -       smtpd\n"
    "cleanup    unix  n       -       n       -       0       cleanup\n";
/* A chrooted smtpd on 25 and an unchrooted one (say after a content filter). */
static const char mixed_master[] =
    "smtp       inet  n       -       y       -       -       smtpd\n"
    "127.0.0.1:10025 inet n   -       n       -       -       smtpd -o content_filter=\n"
    "cleanup    unix  n       -       y       -       0       cleanup\n";
static const char no_smtpd_master[] = "qmgr unix n - n 300 1 qmgr\n";

#define Q "/var/spool/postfix"
#define NEW_SOCK "unix:" Q "/mailhook/milter.sock"
#define OLD_SOCK "unix:/run/mailhook/milter.sock"

static const struct reach_row {
    const char *what, *socket, *queue, *smtpd, *non_smtpd, *master;
    int warnings;
    const char *says; /* in the first warning; NULL: no warning */
} rows[] = {
    { "the documented setup on Debian", NEW_SOCK, Q, "unix:mailhook/milter.sock",
      "unix:mailhook/milter.sock", debian_master, 0, NULL },
    { "with OpenDKIM as Debian packages it, per-milter settings", NEW_SOCK, Q,
      "{ unix:mailhook/milter.sock, default_action=accept }, unix:opendkim/opendkim.sock",
      "unix:mailhook/milter.sock unix:opendkim/opendkim.sock", debian_master, 0, NULL },
    { "chroot-absolute name", NEW_SOCK, Q, "unix:/mailhook/milter.sock",
      "unix:/mailhook//milter.sock", debian_master, 0, NULL },
    { "the old /run socket, chrooted smtpd and cleanup", OLD_SOCK, Q, "unix:/run/mailhook/milter.sock",
      "unix:/run/mailhook/milter.sock", debian_master, 2,
      "Postfix: smtpd runs chrooted in " Q " (master.cf) and looks for smtpd_milters" },
    { "the old /run socket without chroot", OLD_SOCK, Q, "unix:/run/mailhook/milter.sock",
      "unix:/run/mailhook/milter.sock", plain_master, 0, NULL },
    { "the full path of the chroot socket, chrooted", NEW_SOCK, Q, "unix:" Q "/mailhook/milter.sock",
      "unix:mailhook/milter.sock", debian_master, 1, "socket in the chroot" },
    { "the full path of the chroot socket, no chroot", NEW_SOCK, Q, "unix:" Q "/mailhook/milter.sock",
      "unix:" Q "/./mailhook/milter.sock/", plain_master, 0, NULL },
    { "another milter only", NEW_SOCK, Q, "unix:opendkim/opendkim.sock",
      "unix:opendkim/opendkim.sock", debian_master, 2,
      "Postfix: smtpd_milters (unix:opendkim/opendkim.sock) names no milter at this milter's socket" },
    { "no milters at all", NEW_SOCK, Q, "", " ", debian_master, 2,
      "Postfix: smtpd_milters is empty: mail received over SMTP does not reach this milter" },
    { "no milter for sendmail(1)", NEW_SOCK, Q, "unix:mailhook/milter.sock", "", debian_master, 1,
      "Postfix: non_smtpd_milters is empty" },
    { "inet, Postfix's form", "inet:8893@127.0.0.1", Q, "inet:127.0.0.1:8893", "inet:localhost:8893",
      debian_master, 0, NULL },
    { "inet, another port", "inet:8893@127.0.0.1", Q, "inet:127.0.0.1:8891", "inet:127.0.0.1:8893",
      debian_master, 1, "names no milter" },
    { "inet6", "inet6:8893@[::1]", Q, "inet:[::1]:8893", "inet:[::1]:8893", debian_master, 0, NULL },
    { "unix socket, inet milter", NEW_SOCK, Q, "inet:127.0.0.1:8893", "unix:mailhook/milter.sock",
      debian_master, 1, "names no milter" },
    { "mixed chroot, relative name", NEW_SOCK, Q, "unix:mailhook/milter.sock",
      "unix:mailhook/milter.sock", mixed_master, 0, NULL },
    { "mixed chroot, /run socket", OLD_SOCK, Q, OLD_SOCK, OLD_SOCK, mixed_master, 2, "runs chrooted" },
    { "no smtpd or cleanup in master.cf", OLD_SOCK, Q, OLD_SOCK, OLD_SOCK, no_smtpd_master, 0, NULL },
    { "no queue_directory", OLD_SOCK, NULL, OLD_SOCK, OLD_SOCK, debian_master, 0, NULL },
};

struct seen {
    int n;
    char first[1024];
};

static void collect(void *ctx, const char *text)
{
    struct seen *s = ctx;

    if (s->n++ == 0)
        snprintf(s->first, sizeof(s->first), "%s", text);
}

START_TEST(test_check)
{
    const struct reach_row *r = &rows[_i];
    struct milter_reach_pf pf = { .queue_dir = (char *)r->queue, .smtpd_milters = (char *)r->smtpd,
                                  .non_smtpd_milters = (char *)r->non_smtpd,
                                  .master_cf = (char *)r->master };
    struct seen s = { 0 };
    int n = milter_reach_check(r->socket, &pf, collect, &s);

    ck_assert_msg(n == r->warnings && s.n == n, "%s: %d warnings (%d calls), want %d; first: %s",
                  r->what, n, s.n, r->warnings, s.first);
    if (r->says)
        ck_assert_msg(strstr(s.first, r->says) != NULL, "%s: \"%s\" lacks \"%s\"", r->what,
                      s.first, r->says);
}
END_TEST

/* A fake postconf in dir: a shell script with body. Returns its path. */
static char *fake_postconf(const char *dir, const char *body)
{
    char *path = xasprintf("%s/postconf", dir);
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, 0755), 0);
    return path;
}

START_TEST(test_postconf_absent)
{
    struct milter_reach_pf pf;

    ck_assert_int_eq(milter_reach_postfix("/nonexistent/postconf", 1000, &pf), -1);
    ck_assert_ptr_null(pf.queue_dir);
    milter_reach_warn(OLD_SOCK, "/nonexistent/postconf"); /* quietly nothing */
}
END_TEST

START_TEST(test_postconf_fails)
{
    char *dir = testdir_new("milter_reach"), *pc = fake_postconf(dir, "echo " Q "; exit 1");
    struct milter_reach_pf pf;

    ck_assert_int_eq(milter_reach_postfix(pc, 1000, &pf), -1);
    free(pc);
    testdir_free(dir);
}
END_TEST

/* A postconf that hangs is killed at the deadline: the start goes on. */
START_TEST(test_postconf_hangs)
{
    char *dir = testdir_new("milter_reach"), *pc = fake_postconf(dir, "exec sleep 30");
    struct milter_reach_pf pf;
    int64_t t0 = time_mono_us();

    ck_assert_int_eq(milter_reach_postfix(pc, 200, &pf), -1);
    ck_assert_msg(time_mono_us() - t0 < 10 * 1000000LL, "waited %lld us",
                  (long long)(time_mono_us() - t0));
    free(pc);
    testdir_free(dir);
}
END_TEST

/* What milter_reach_postfix asks and reads: the values in order, then
 * master.cf from "postconf -M". */
START_TEST(test_postconf_answers)
{
    char *dir = testdir_new("milter_reach");
    char *pc = fake_postconf(dir,
                             "case \"$*\" in\n"
                             "'-xh queue_directory smtpd_milters non_smtpd_milters')\n"
                             "  printf '%s\\n' " Q " unix:/run/mailhook/milter.sock '' ;;\n"
                             "-M) echo 'smtp inet n - y - - smtpd' ;;\n"
                             "*) exit 2 ;;\n"
                             "esac");
    struct milter_reach_pf pf;
    struct seen s = { 0 };

    ck_assert_int_eq(milter_reach_postfix(pc, 5000, &pf), 0);
    ck_assert_str_eq(pf.queue_dir, Q);
    ck_assert_str_eq(pf.smtpd_milters, "unix:/run/mailhook/milter.sock");
    ck_assert_str_eq(pf.non_smtpd_milters, "");
    ck_assert_str_eq(pf.master_cf, "smtp inet n - y - - smtpd\n");
    ck_assert_int_eq(milter_reach_check(OLD_SOCK, &pf, collect, &s), 1);
    ck_assert_ptr_nonnull(strstr(s.first, "runs chrooted"));
    milter_reach_postfix_free(&pf);
    free(pc);
    testdir_free(dir);
}
END_TEST

#define NROWS(a) (int)(sizeof(a) / sizeof((a)[0]))

int main(void)
{
    Suite *s = suite_create("milter_reach");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_check, 0, NROWS(rows));
    tcase_add_test(tc, test_postconf_absent);
    tcase_add_test(tc, test_postconf_fails);
    tcase_add_test(tc, test_postconf_hangs);
    tcase_add_test(tc, test_postconf_answers);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
