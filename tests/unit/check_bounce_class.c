/* SPDX-License-Identifier: MIT */
/*
 * check_bounce_class.c - the SMTP reply classifier (bounce_class.h) against
 * the cases in tests/data/bounce/ *.case (tests as data), and, when the
 * shared corpus is beside the checkout, against the real bounces of
 * ../shared/corpus/dsn/ (agreement measured and reported).
 *
 * Case file format (one test point per file; every failing case is named
 * by file:line before the point fails):
 *   # comment, blank lines ignored
 *   reply: TEXT      starts a case: the reply text, verbatim ("reply:" alone
 *                    is an empty text)
 *   dsn: CODE        optional: the enhanced status code logged with it
 *   class: NAME      ends the case: the class bounce_class() must return
 *
 * The corpus check reads EXPECTED.tsv (columns file, kind, ..., status,
 * action, reason, reason_alt: see its README.md): for each single-recipient
 * failed dsn-kind row whose message has a Diagnostic-Code field, the
 * message's Status and Diagnostic-Code are classified and compared with
 * the class the expected Sisimai reason (or an alternative) maps to
 * (Sisimai's "filtered" also agrees with unknown-user: see below). It
 * prints the agreement and the disagreements; it fails below
 * CORPUS_AGREEMENT_MIN percent, and says SKIP when the corpus is absent.
 * MH_SHARED names the shared folder when it is not ../shared.
 */
#include "config.h"

#include <check.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce_class.h"

#define CORPUS_AGREEMENT_MIN 85 /* percent; measured: see the commit log */

static glob_t cases;
static const char *top;

static bool class_known(const char *name)
{
    for (int i = 0; bounce_class_names[i]; i++)
        if (strcmp(bounce_class_names[i], name) == 0)
            return true;
    return false;
}

static char *chomp(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* Runs every case of path; returns the number of failures (printed). */
static int run_file(const char *path, unsigned *seen_classes, int *ncases, bool quiet)
{
    FILE *f = fopen(path, "r");
    char line[8192], reply[8192] = "", dsn[64] = "";
    bool open_case = false;
    int lineno = 0, failures = 0, start = 0;

    ck_assert_msg(f != NULL, "cannot open %s", path);
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        chomp(line);
        if (line[0] == '#' || line[0] == 0)
            continue;
        if (strncmp(line, "reply:", 6) == 0) {
            ck_assert_msg(!open_case, "%s:%d: reply: before the previous case's class:", path,
                          lineno);
            snprintf(reply, sizeof(reply), "%s", line[6] == ' ' ? line + 7 : line + 6);
            dsn[0] = 0;
            open_case = true;
            start = lineno;
        } else if (strncmp(line, "dsn: ", 5) == 0) {
            ck_assert_msg(open_case, "%s:%d: dsn: outside a case", path, lineno);
            snprintf(dsn, sizeof(dsn), "%.63s", line + 5);
        } else if (strncmp(line, "class: ", 7) == 0) {
            const char *want = line + 7, *got;

            ck_assert_msg(open_case, "%s:%d: class: outside a case", path, lineno);
            ck_assert_msg(class_known(want), "%s:%d: \"%s\" is not a class", path, lineno, want);
            got = bounce_class(dsn[0] ? dsn : NULL, strlen(dsn), reply, strlen(reply));
            if (strcmp(got, want) != 0) {
                if (!quiet)
                    fprintf(stderr, "%s:%d: expected %s, got %s\n  reply: %s\n  dsn: %s\n", path,
                        start, want, got, reply, dsn);
                failures++;
            }
            for (int i = 0; bounce_class_names[i]; i++)
                if (strcmp(bounce_class_names[i], want) == 0)
                    *seen_classes |= 1u << i;
            (*ncases)++;
            open_case = false;
        } else {
            ck_abort_msg("%s:%d: unknown line \"%.40s\"", path, lineno, line);
        }
    }
    fclose(f);
    ck_assert_msg(!open_case, "%s: the last case has no class:", path);
    return failures;
}

START_TEST(test_case_file)
{
    unsigned seen = 0;
    int ncases = 0, failures = run_file(cases.gl_pathv[_i], &seen, &ncases, false);

    ck_assert_msg(ncases > 0, "%s has no case", cases.gl_pathv[_i]);
    ck_assert_msg(failures == 0, "%s: %d of %d cases wrong", cases.gl_pathv[_i], failures,
                  ncases);
}
END_TEST

/* Every class has a case (each test may run in its own process, so the
 * files are read again here). */
START_TEST(test_every_class_has_a_case)
{
    unsigned seen = 0;
    int n = 0;

    for (size_t i = 0; i < cases.gl_pathc; i++)
        run_file(cases.gl_pathv[i], &seen, &n, true);
    for (int i = 0; bounce_class_names[i]; i++)
        ck_assert_msg(seen & (1u << i), "no case for class %s", bounce_class_names[i]);
}
END_TEST

/* Inputs at the edges: NULL, lengths, no NUL terminator, long texts. */
START_TEST(test_edges)
{
    static const char exact[] = { 'u', 's', 'e', 'r', ' ', 'u', 'n', 'k', 'n', 'o', 'w', 'n' };
    char *big = malloc(64 * 1024);

    ck_assert_str_eq(bounce_class(NULL, 5, NULL, 7), "other");
    ck_assert_str_eq(bounce_class("5.1.1xxx", 5, NULL, 0), "unknown-user");
    ck_assert_str_eq(bounce_class("5.2.2", 3, NULL, 0), "other"); /* "5.2" */
    ck_assert_str_eq(bounce_class(NULL, 0, exact, sizeof(exact)), "unknown-user");
    ck_assert_str_eq(bounce_class(NULL, 0, exact, sizeof(exact) - 1), "other");
    memset(big, 'a', 64 * 1024);
    memcpy(big, "550 mailbox full ", 17);
    ck_assert_str_eq(bounce_class(NULL, 0, big, 64 * 1024), "mailbox-full");
    memcpy(big + 60 * 1024, " user unknown", 13); /* past what is looked at */
    memcpy(big, "550 aaaaaaaaaaaa", 16);
    ck_assert_str_eq(bounce_class(NULL, 0, big, 64 * 1024), "other");
    free(big);
}
END_TEST

/* ---- the shared corpus */

/* Sisimai's reason (EXPECTED.tsv) as a class here, NULL for "not a class
 * question" (delivered, feedback, vacation). */
static const char *sisimai_class(const char *reason)
{
    static const struct {
        const char *reason, *cls;
    } map[] = {
        { "userunknown", "unknown-user" }, { "hasmoved", "unknown-user" },
        { "suspend", "inactive" },         { "mailboxfull", "mailbox-full" },
        { "blocked", "spam-block" },       { "spamdetected", "spam-block" },
        { "norelaying", "relay-denied" },  { "hostunknown", "dns" },
        { "policyviolation", "policy" },   { "rejected", "policy" },
        { "securityerror", "policy" },     { "authfailure", "policy" },
        { "requireptr", "policy" },        { "notcompliantrfc", "policy" },
        { "virusdetected", "policy" },     { "filtered", "policy" }, /* see below */
        { "expired", "other" },            { "mesgtoobig", "other" },
        { "exceedlimit", "other" },        { "networkerror", "other" },
        { "systemerror", "other" },        { "systemfull", "other" },
        { "toomanyconn", "other" },        { "speeding", "other" },
        { "contenterror", "other" },       { "syntaxerror", "other" },
        { "mailererror", "other" },        { "undefined", "other" },
        { "onhold", "other" },
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].reason, reason) == 0)
            return map[i].cls;
    return NULL;
}

/* The unfolded value of the first header field NAME (at a line start) in
 * the message text, into out; false when absent. */
static bool field_value(const char *msg, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name), n = 0;

    for (const char *p = msg; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
            continue;
        p += nl + 1;
        for (;;) { /* the line, then continuation lines */
            while (*p && *p != '\n' && *p != '\r') {
                if (n + 1 < outsz)
                    out[n++] = *p;
                p++;
            }
            while (*p == '\r')
                p++;
            if (*p == '\n' && (p[1] == ' ' || p[1] == '\t'))
                p++;
            else
                break;
        }
        out[n] = 0;
        return true;
    }
    return false;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    n = (long)fread(buf, 1, (size_t)n, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Tab-separated column i of line (copied into out). */
static void column(const char *line, int i, char *out, size_t outsz)
{
    const char *p = line, *e;

    while (i-- > 0 && (p = strchr(p, '\t')) != NULL)
        p++;
    if (p == NULL) {
        out[0] = 0;
        return;
    }
    e = p + strcspn(p, "\t\n\r");
    snprintf(out, outsz, "%.*s", (int)(e - p), p);
}

START_TEST(test_corpus_agreement)
{
    char dir[4096], path[8192], line[16384], file[1024], kind[32], status[64], action[64],
        reason[64], alt[256], diag[8192], code[64];
    int total = 0, agree = 0, nodiag = 0, filtered_user = 0;
    FILE *f;

    const char *shared = getenv("MH_SHARED"); /* default: beside the checkout */

    if (shared && *shared)
        snprintf(dir, sizeof(dir), "%s/corpus/dsn", shared);
    else
        snprintf(dir, sizeof(dir), "%s/../shared/corpus/dsn", top);
    snprintf(path, sizeof(path), "%s/EXPECTED.tsv", dir);
    if ((f = fopen(path, "r")) == NULL) {
        fprintf(stderr, "SKIP corpus agreement: %s is absent\n", path);
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        const char *want, *got, *s;
        char *msg, *semi, *text;
        bool ok;

        column(line, 0, file, sizeof(file));
        column(line, 1, kind, sizeof(kind));
        column(line, 4, status, sizeof(status));
        column(line, 5, action, sizeof(action));
        column(line, 6, reason, sizeof(reason));
        column(line, 7, alt, sizeof(alt));
        if (strcmp(kind, "dsn") != 0 || strcmp(action, "failed") != 0 ||
            strchr(reason, ',') || (want = sisimai_class(reason)) == NULL)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        if ((msg = slurp(path)) == NULL)
            continue;
        if (!field_value(msg, "Diagnostic-Code", diag, sizeof(diag))) {
            nodiag++;
            free(msg);
            continue;
        }
        if (!field_value(msg, "Status", code, sizeof(code)))
            snprintf(code, sizeof(code), "%s", status);
        free(msg);
        text = diag; /* "smtp; 550 ..." : the reply after the type */
        if ((semi = strchr(diag, ';')) != NULL)
            text = semi + 1;
        for (s = code; *s == ' ' || *s == '\t'; s++)
            ;
        got = bounce_class(s, strcspn(s, " \t("), text, strlen(text));
        ok = strcmp(got, want) == 0;
        /* reason_alt: other acceptable reasons, "|"-separated */
        for (char *a = alt, *bar; !ok && *a; a = bar ? bar + 1 : a + strlen(a)) {
            const char *c;

            if ((bar = strchr(a, '|')) != NULL)
                *bar = 0;
            ok = (c = sisimai_class(a)) != NULL && strcmp(c, got) == 0;
        }
        /* Sisimai's "filtered" is "refused after DATA": a phase, not a reason
         * (its own docs: a user unknown or a content filter there). Counted
         * as agreeing with unknown-user too, and reported apart. */
        if (!ok && strcmp(reason, "filtered") == 0 && strcmp(got, "unknown-user") == 0) {
            ok = true;
            filtered_user++;
        }
        total++;
        agree += ok;
        if (!ok)
            fprintf(stderr, "corpus disagreement: %s: expected %s (%s), got %s: [%s] %.200s\n",
                    file, want, reason, got, s, text);
    }
    fclose(f);
    fprintf(stderr, "corpus agreement: %d of %d failed single-recipient DSNs with a "
                    "Diagnostic-Code (%d%%; %d of them Sisimai \"filtered\" taken as "
                    "unknown-user); %d without one not scored\n",
            agree, total, total ? agree * 100 / total : 0, filtered_user, nodiag);
    ck_assert_int_gt(total, 0);
    ck_assert_msg(agree * 100 >= total * CORPUS_AGREEMENT_MIN,
                  "corpus agreement %d of %d is below %d%%", agree, total, CORPUS_AGREEMENT_MIN);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bounce_class");
    TCase *tc = tcase_create("cases");
    char pattern[4096];
    SRunner *sr;
    int failed;

    top = getenv("top_srcdir");
    if (top == NULL || *top == 0)
        top = ".";
    snprintf(pattern, sizeof(pattern), "%s/tests/data/bounce/*.case", top);
    if (glob(pattern, 0, NULL, &cases) != 0 || cases.gl_pathc == 0) {
        fprintf(stderr, "no case files match %s\n", pattern);
        return EXIT_FAILURE;
    }
    tcase_add_loop_test(tc, test_case_file, 0, (int)cases.gl_pathc);
    tcase_add_test(tc, test_every_class_has_a_case);
    tcase_add_test(tc, test_edges);
    tcase_add_test(tc, test_corpus_agreement);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    globfree(&cases);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
