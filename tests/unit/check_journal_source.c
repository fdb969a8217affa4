/* SPDX-License-Identifier: MIT */
/*
 * check_journal_source.c - unit tests (Check) for the journal reader
 * (journal_source.h), on real journal files, no mocks.
 *
 * Journals are written into a fresh temporary directory by
 * tests/helpers/make_journal.py (systemd-journal-remote fed the Journal
 * Export Format), found through $top_srcdir (default "."). The entries are
 * tables here, each row with the line the reader must make of it (or NULL:
 * not a mail program's entry, skipped): identifier rules, line format,
 * hostile bytes. On them: reading from the head, resuming from every
 * cursor (and from a cursor whose entry is gone), following appends to an
 * open file and a new file through the fd, starting at the tail, cutting
 * long lines, clean errors, and that the maillog parser takes the lines.
 *
 * Without systemd-journal-remote the program prints a TAP "1..0 # SKIP"
 * plan and succeeds: the skip is visible, the suite stays green.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal_source.h"
#include "maillog_parse.h"
#include "testdir.h"
#include "xalloc.h"

#define MAX_LINE 4096
#define T0 UINT64_C(1795329019000000) /* 2026-11-22T06:30:19Z in microseconds */
#define DELIVERY                                                                                   \
    "4F1A22C0D4: to=<bob@example.net>, relay=mx[192.0.2.1]:25, delay=0.5, "                        \
    "delays=0/0/0.2/0.3, dsn=2.0.0, status=sent (250 ok)"

/* An entry for make_journal.py: NULL host/ident/pid are left out; msg in
 * its escape syntax (\0, \xHH, \n, \t, \\). want: the line, or NULL. */
struct jent {
    uint64_t usec;
    const char *host, *ident, *pid, *msg;
    const char *want;
};

/* The first journal: mail and other programs, identifier rules, formats. */
static const struct jent batch1[] = {
    { UINT64_C(946684799999999), "old", "postfix/smtp", "12", "last microsecond of 1999",
      "1999-12-31T23:59:59.999999+00:00 old postfix/smtp[12]: last microsecond of 1999" },
    { T0 + 123456, "mx1", "postfix/smtp", "2001", DELIVERY,
      "2026-11-22T06:30:19.123456+00:00 mx1 postfix/smtp[2001]: " DELIVERY },
    { T0 + 1000000, "mx1", "sshd", "77", "Accepted publickey for root", NULL },
    { T0 + 2000001, "mx1", "postfix-out/qmgr", "2002", "4F1A22C0D4: removed",
      "2026-11-22T06:30:21.000001+00:00 mx1 postfix-out/qmgr[2002]: 4F1A22C0D4: removed" },
    { T0 + 3000000, "mx1", "CRON", "78", "(root) CMD (run-parts /etc/cron.hourly)", NULL },
    { T0 + 4000000, "mx1", "sm-mta", "2003",
      "wAMBU2x1012345: to=<carol@example.net>, delay=00:00:01, mailer=esmtp, dsn=2.0.0, stat=Sent",
      "2026-11-22T06:30:23.000000+00:00 mx1 sm-mta[2003]: wAMBU2x1012345: to=<carol@example.net>, "
      "delay=00:00:01, mailer=esmtp, dsn=2.0.0, stat=Sent" },
    { T0 + 5000000, "mx1", "postfix/submission/smtpd", "2004", "connect from c[192.0.2.9]",
      "2026-11-22T06:30:24.000000+00:00 mx1 postfix/submission/smtpd[2004]: connect from "
      "c[192.0.2.9]" },
    { T0 + 5100000, "mx1", "sendmail", "2005", "m1",
      "2026-11-22T06:30:24.100000+00:00 mx1 sendmail[2005]: m1" },
    { T0 + 5200000, "mx1", "sm-msp-queue", "2006", "m2",
      "2026-11-22T06:30:24.200000+00:00 mx1 sm-msp-queue[2006]: m2" },
    { T0 + 5250000, "mx1", "sm-acceptingconnections", "2007", "m3",
      "2026-11-22T06:30:24.250000+00:00 mx1 sm-acceptingconnections[2007]: m3" },
    /* identifiers that are not a mail program's */
    { T0 + 5300000, "mx1", "postfix", "1", "no service", NULL },
    { T0 + 5300001, "mx1", "postfix-/smtp", "1", "empty instance", NULL },
    { T0 + 5300002, "mx1", "postfixx/smtp", "1", "other program", NULL },
    { T0 + 5300003, "mx1", "postfix/", "1", "empty service", NULL },
    { T0 + 5300004, "mx1", "postfix//smtp", "1", "empty segment", NULL },
    { T0 + 5300005, "mx1", "postfix/smtp/", "1", "trailing slash", NULL },
    { T0 + 5300006, "mx1", "postfix/smtp d", "1", "space", NULL },
    { T0 + 5300007, "mx1", "postfix-out", "1", "instance, no service", NULL },
    { T0 + 5300008, "mx1", "xpostfix/smtp", "1", "prefix", NULL },
    { T0 + 5300009, "mx1", "sm-mta2", "1", "near sendmail", NULL },
    { T0 + 5300010, "mx1", "Sendmail", "1", "case", NULL },
    { T0 + 5300011, "mx1", NULL, "1", "no identifier at all", NULL },
    /* line format */
    { T0 + 6000000, NULL, "postfix/smtp", "7", "no host",
      "2026-11-22T06:30:25.000000+00:00 postfix/smtp[7]: no host" },
    { T0 + 6000001, "mx1", "postfix/smtp", NULL, "no pid",
      "2026-11-22T06:30:25.000001+00:00 mx1 postfix/smtp: no pid" },
    { T0 + 6000002, "mx1", "postfix/smtp", "12a", "bad pid",
      "2026-11-22T06:30:25.000002+00:00 mx1 postfix/smtp: bad pid" },
    { T0 + 6000003, "mx1", "postfix/smtp", "12345678901", "pid too long",
      "2026-11-22T06:30:25.000003+00:00 mx1 postfix/smtp: pid too long" },
    { T0 + 6000004, "bad host[x]", "postfix/smtp", "8", "host cleaned",
      "2026-11-22T06:30:25.000004+00:00 bad?host?x? postfix/smtp[8]: host cleaned" },
    { T0 + 6000005, "mx1", "postfix/smtp", "9", "bin\\0ary\\x01 \\x7f\\nnext\\tline\\0",
      "2026-11-22T06:30:25.000005+00:00 mx1 postfix/smtp[9]: bin?ary? ??next?line?" },
    { T0 + 6000006, "mx1", "postfix/smtp", "10", "", /* empty MESSAGE */
      "2026-11-22T06:30:25.000006+00:00 mx1 postfix/smtp[10]: " },
    { T0 + 6000007, "mx1", "postfix/smtp", "11", "caf\\xc3\\xa9 \\xff",
      "2026-11-22T06:30:25.000007+00:00 mx1 postfix/smtp[11]: caf\xc3\xa9 \xff" },
};

/* Appended later to the same file, then written as a second file. */
static const struct jent batch2[] = {
    { T0 + 100000000, "mx1", "postfix/qmgr", "3001",
      "5B2B33D1E5: from=<a@example.org>, size=1, nrcpt=1 (queue active)",
      "2026-11-22T06:31:59.000000+00:00 mx1 postfix/qmgr[3001]: 5B2B33D1E5: from=<a@example.org>, "
      "size=1, nrcpt=1 (queue active)" },
    { T0 + 100000001, "mx1", "sshd", "79", "Connection closed", NULL },
    { T0 + 100000002, "mx1", "postfix/smtp", "3002",
      "5B2B33D1E5: to=<d@example.net>, status=sent (250 ok)",
      "2026-11-22T06:31:59.000002+00:00 mx1 postfix/smtp[3002]: 5B2B33D1E5: to=<d@example.net>, "
      "status=sent (250 ok)" },
};
static const struct jent batch3[] = {
    { T0 + 200000000, "mx2", "postfix-in/smtpd", "4001", "connect from x[192.0.2.3]",
      "2026-11-22T06:33:39.000000+00:00 mx2 postfix-in/smtpd[4001]: connect from x[192.0.2.3]" },
    { T0 + 200000001, "mx2", "cron", "80", "job", NULL },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ helpers */

static const char *helper(void)
{
    static char path[4096];
    const char *top = getenv("top_srcdir");

    snprintf(path, sizeof(path), "%s/tests/helpers/make_journal.py", top && *top ? top : ".");
    return path;
}

/* Run the helper with args, input on its stdin; its exit status. */
static int helper_run(const char *dir, const char *name, const char *input)
{
    int p[2], st;
    size_t n = strlen(input), off = 0;
    pid_t pid;

    if (pipe(p) < 0 || (pid = fork()) < 0)
        return -1;
    if (pid == 0) {
        dup2(p[0], STDIN_FILENO);
        close(p[0]);
        close(p[1]);
        if (dir == NULL)
            execlp("python3", "python3", helper(), "--check", (char *)NULL);
        else
            execlp("python3", "python3", helper(), dir, name, (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    while (off < n) {
        ssize_t w = write(p[1], input + off, n - off);

        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(p[1]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The entries in the helper's input format. */
static char *spec_of(const struct jent *e, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%" PRIu64 "\t%s\t%s\t%s\t%s\n", e[i].usec, e[i].host ? e[i].host : "-",
                e[i].ident ? e[i].ident : "-", e[i].pid ? e[i].pid : "-", e[i].msg);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

static void journal_write(const char *dir, const char *name, const struct jent *e, size_t n)
{
    char *spec = spec_of(e, n);
    int rc = helper_run(dir, name, spec);

    free(spec);
    ck_assert_msg(rc == 0, "%s %s %s: exit %d", helper(), dir, name, rc);
}

static char *tmpdir_new(void)
{
    return testdir_new("journal");
}

#define tmpdir_free testdir_free

static journal_source_t *jopen(const char *dir, const char *cursor, bool from_start, size_t max)
{
    mh_err_t err = { "" };
    journal_source_t *j = journal_source_open(dir, cursor, from_start, max, &err);

    ck_assert_msg(j != NULL, "journal_source_open %s: %s", dir, err.text);
    ck_assert_int_ge(journal_source_fd(j), 0);
    return j;
}

/*
 * The wanted lines of e[from..n), in order, each with a cursor (kept in
 * cursors[i] when cursors is not NULL), then nothing.
 */
static void expect_lines(journal_source_t *j, const struct jent *e, size_t from, size_t n,
                         char **cursors, const char *where)
{
    const char *line, *cursor;
    size_t len;
    bool trunc;
    int r;

    for (size_t i = from; i < n; i++) {
        const char *want = e[i].want;

        if (want == NULL)
            continue;
        line = cursor = NULL;
        trunc = true;
        r = journal_source_next(j, &line, &len, &trunc, &cursor);
        ck_assert_msg(r == 1, "%s: row %zu: journal_source_next returned %d", where, i, r);
        ck_assert_msg(len == strlen(want) && memcmp(line, want, len) == 0,
                      "%s: row %zu: want \"%s\", got \"%.*s\"", where, i, want, (int)len, line);
        ck_assert_msg(line[len] == '\0', "%s: row %zu: not NUL-terminated", where, i);
        ck_assert_msg(memchr(line, '\0', len) == NULL, "%s: row %zu: NUL inside", where, i);
        ck_assert_msg(!trunc, "%s: row %zu: flagged truncated", where, i);
        ck_assert_msg(cursor != NULL && strncmp(cursor, "s=", 2) == 0, "%s: row %zu: cursor %s",
                      where, i, cursor ? cursor : "NULL");
        if (cursors != NULL)
            cursors[i] = xstrdup(cursor);
    }
    r = journal_source_next(j, &line, &len, &trunc, &cursor);
    ck_assert_msg(r == 0, "%s: want nothing more, got %d \"%.*s\"", where, r,
                  r == 1 ? (int)len : 0, r == 1 ? line : "");
}

/* The fd must turn readable (a change is announced), then be processed. */
static void wait_change(journal_source_t *j)
{
    struct pollfd p = { .fd = journal_source_fd(j), .events = POLLIN };

    ck_assert_msg(poll(&p, 1, 5000) == 1, "the journal fd did not turn readable");
    journal_source_process(j);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_from_start)
{
    char *dir = tmpdir_new();
    journal_source_t *j;

    journal_write(dir, "mail", batch1, N(batch1));
    j = jopen(dir, NULL, true, MAX_LINE);
    expect_lines(j, batch1, 0, N(batch1), NULL, "from start");
    expect_lines(j, batch1, 0, 0, NULL, "again at the end");
    journal_source_close(j);
    tmpdir_free(dir);
}
END_TEST

START_TEST(test_cursor_resume)
{
    char *dir = tmpdir_new(), *cursors[N(batch1)] = { NULL };
    char where[64], *gone;
    journal_source_t *j;

    journal_write(dir, "mail", batch1, N(batch1));
    j = jopen(dir, NULL, true, MAX_LINE);
    expect_lines(j, batch1, 0, N(batch1), cursors, "collect");
    journal_source_close(j);
    for (size_t i = 0; i < N(batch1); i++) { /* resume after every mail entry */
        if (cursors[i] == NULL)
            continue;
        snprintf(where, sizeof(where), "resume after row %zu", i);
        j = jopen(dir, cursors[i], false, MAX_LINE);
        expect_lines(j, batch1, i + 1, N(batch1), NULL, where);
        journal_source_close(j);
    }
    /* The entry of a cursor is gone (vacuumed): the first entry after its
     * place is not skipped. Same boot, other file, just before row 5. */
    gone = xasprintf("s=0123456789abcdef0123456789abcdef;i=1;b=6d61696c686f6f6b6a6f75726e616c31;"
                     "m=%" PRIx64 ";t=%" PRIx64 ";x=0",
                     T0 + 3500000, T0 + 3500000);
    j = jopen(dir, gone, false, MAX_LINE);
    expect_lines(j, batch1, 5, N(batch1), NULL, "cursor of a gone entry");
    journal_source_close(j);
    xfree(gone);
    /* Resumed after the last one, then more is written. */
    j = jopen(dir, cursors[N(batch1) - 1], false, MAX_LINE);
    expect_lines(j, batch1, 0, 0, NULL, "resume at the end");
    journal_write(dir, "mail", batch2, N(batch2));
    wait_change(j);
    expect_lines(j, batch2, 0, N(batch2), NULL, "appended after resume");
    journal_source_close(j);
    for (size_t i = 0; i < N(batch1); i++)
        free(cursors[i]);
    tmpdir_free(dir);
}
END_TEST

START_TEST(test_follow)
{
    char *dir = tmpdir_new();
    journal_source_t *j;

    journal_write(dir, "mail", batch1, N(batch1));
    j = jopen(dir, NULL, true, MAX_LINE);
    expect_lines(j, batch1, 0, N(batch1), NULL, "first");
    journal_write(dir, "mail", batch2, N(batch2)); /* appended to the open file */
    wait_change(j);
    expect_lines(j, batch2, 0, N(batch2), NULL, "appended");
    journal_write(dir, "second", batch3, N(batch3)); /* a new file */
    wait_change(j);
    expect_lines(j, batch3, 0, N(batch3), NULL, "new file");
    journal_source_close(j);
    tmpdir_free(dir);
}
END_TEST

START_TEST(test_tail_start)
{
    char *dir = tmpdir_new();
    journal_source_t *j, *empty;

    /* At the tail of an empty directory: everything written after. */
    empty = jopen(dir, NULL, false, MAX_LINE);
    expect_lines(empty, batch1, 0, 0, NULL, "empty");
    journal_write(dir, "mail", batch1, N(batch1));
    wait_change(empty);
    expect_lines(empty, batch1, 0, N(batch1), NULL, "empty, first file");
    /* At the tail of a journal: only what comes later. */
    j = jopen(dir, NULL, false, MAX_LINE);
    expect_lines(j, batch1, 0, 0, NULL, "tail");
    journal_write(dir, "mail", batch2, N(batch2));
    wait_change(j);
    expect_lines(j, batch2, 0, N(batch2), NULL, "tail, later entries");
    wait_change(empty);
    expect_lines(empty, batch2, 0, N(batch2), NULL, "empty, appended");
    j = journal_source_close(j);
    ck_assert_ptr_null(j);
    journal_source_close(empty);
    tmpdir_free(dir);
}
END_TEST

/* What the parser must make of some batch1 lines (the point of the format). */
static const struct {
    size_t row;
    enum ml_kind kind;
    const char *host, *instance, *service, *queue_id;
    long pid;
} parsed[] = {
    { 1, ML_DELIVERY, "mx1", "postfix", "smtp", "4F1A22C0D4", 2001 },
    { 3, ML_REMOVED, "mx1", "postfix-out", "qmgr", "4F1A22C0D4", 2002 },
    { 5, ML_SM_TO, "mx1", "sm-mta", "", "wAMBU2x1012345", 2003 },
};

static bool str_is(struct ml_str s, const char *want)
{
    return s.len == strlen(want) && (s.len == 0 || memcmp(s.p, want, s.len) == 0);
}

START_TEST(test_parser_takes_lines)
{
    char *dir = tmpdir_new();
    journal_source_t *j;
    const char *line, *cursor;
    size_t len, row = 0, k = 0;
    bool trunc;
    struct ml_clock clock;
    struct ml_rec rec;

    journal_write(dir, "mail", batch1, N(batch1));
    j = jopen(dir, NULL, true, MAX_LINE);
    maillog_parse_init();
    maillog_clock_init(&clock, (int64_t)(T0 / 1000));
    while (journal_source_next(j, &line, &len, &trunc, &cursor) == 1) {
        int r = maillog_parse(line, len, &clock, &rec); /* every line: no crash */

        while (batch1[row].want == NULL || strcmp(batch1[row].want, line) != 0)
            row++;
        if (k < N(parsed) && parsed[k].row == row) {
            ck_assert_msg(r == 0, "row %zu: not parsed: %s", row, line);
            ck_assert_int_eq(rec.kind, parsed[k].kind);
            ck_assert_msg(rec.ts_ms == (int64_t)(batch1[row].usec / 1000), "row %zu: ts %" PRId64,
                          row, rec.ts_ms);
            ck_assert(str_is(rec.host, parsed[k].host));
            ck_assert(str_is(rec.instance, parsed[k].instance));
            ck_assert(str_is(rec.service, parsed[k].service));
            ck_assert(str_is(rec.queue_id, parsed[k].queue_id));
            ck_assert_int_eq(rec.pid, parsed[k].pid);
            k++;
        }
    }
    ck_assert_uint_eq(k, N(parsed));
    maillog_parse_done();
    journal_source_close(j);
    tmpdir_free(dir);
}
END_TEST

/* Line lengths around the limit: prefix + message against max_line. */
#define PREFIX "2026-11-22T06:30:19.000000+00:00 mx1 postfix/smtp[1]: "
#define CUT_MAX 200
static const size_t cut_msg_len[] = {
    CUT_MAX - sizeof(PREFIX) + 1 - 1, /* one short of the limit */
    CUT_MAX - sizeof(PREFIX) + 1,     /* exactly the limit */
    CUT_MAX - sizeof(PREFIX) + 1 + 1, /* one over */
    100000,                           /* far over, compressed in the file */
};

START_TEST(test_truncated)
{
    char *dir = tmpdir_new(), *msgs[N(cut_msg_len)];
    struct jent e[N(cut_msg_len)];
    journal_source_t *j;
    const char *line, *cursor;
    size_t len, plen = strlen(PREFIX);
    bool trunc;

    for (size_t i = 0; i < N(cut_msg_len); i++) {
        msgs[i] = xmalloc(cut_msg_len[i] + 1);
        memset(msgs[i], 'a' + (int)i, cut_msg_len[i]);
        msgs[i][cut_msg_len[i]] = '\0';
        e[i] = (struct jent){ T0, "mx1", "postfix/smtp", "1", msgs[i], NULL };
    }
    journal_write(dir, "mail", e, N(e));
    j = jopen(dir, NULL, true, CUT_MAX);
    for (size_t i = 0; i < N(cut_msg_len); i++) {
        size_t want = plen + cut_msg_len[i] > CUT_MAX ? CUT_MAX : plen + cut_msg_len[i];

        ck_assert_int_eq(journal_source_next(j, &line, &len, &trunc, &cursor), 1);
        ck_assert_msg(len == want, "row %zu: length %zu, want %zu", i, len, want);
        ck_assert_msg(trunc == (plen + cut_msg_len[i] > CUT_MAX), "row %zu: truncated %d", i,
                      trunc);
        ck_assert_int_eq(memcmp(line, PREFIX, plen), 0);
        ck_assert_int_eq(line[len], '\0');
        for (size_t k = plen; k < len; k++)
            ck_assert_int_eq(line[k], 'a' + (int)i);
    }
    ck_assert_int_eq(journal_source_next(j, &line, &len, &trunc, &cursor), 0);
    journal_source_close(j);
    /* A limit shorter than the prefix cuts the prefix. */
    j = jopen(dir, NULL, true, 10);
    ck_assert_int_eq(journal_source_next(j, &line, &len, &trunc, &cursor), 1);
    ck_assert_int_eq(len, 10);
    ck_assert(trunc);
    ck_assert_str_eq(line, "2026-11-22");
    journal_source_close(j);
    for (size_t i = 0; i < N(cut_msg_len); i++)
        xfree(msgs[i]);
    tmpdir_free(dir);
}
END_TEST

/* Opens that must fail with a message; dir NULL: the temporary directory. */
static const struct {
    const char *dir, *cursor;
    size_t max_line;
    const char *want;
} bad_opens[] = {
    { "/nonexistent/mailhook-journal", NULL, MAX_LINE, "No such file or directory" },
    { "/etc/passwd", NULL, MAX_LINE, "Not a directory" },
    { NULL, "garbage", MAX_LINE, "cursor" },
    { NULL, "", MAX_LINE, "cursor" },
    { NULL, NULL, 0, "out of range" },
};

START_TEST(test_bad_open)
{
    char *dir = tmpdir_new();
    mh_err_t err = { "" };
    journal_source_t *j;

    j = journal_source_open(bad_opens[_i].dir ? bad_opens[_i].dir : dir, bad_opens[_i].cursor,
                            false, bad_opens[_i].max_line, &err);
    ck_assert_ptr_null(j);
    ck_assert_msg(strstr(err.text, bad_opens[_i].want) != NULL, "want \"%s\" in \"%s\"",
                  bad_opens[_i].want, err.text);
    ck_assert_ptr_null(journal_source_open(bad_opens[_i].dir ? bad_opens[_i].dir : dir,
                                           bad_opens[_i].cursor, false, bad_opens[_i].max_line,
                                           NULL)); /* err may be NULL */
    tmpdir_free(dir);
}
END_TEST

/* The local system journal opens at its tail (whatever is or is not there
 * on this machine) and hands out nothing old. */
START_TEST(test_system_journal)
{
    mh_err_t err = { "" };
    journal_source_t *j = journal_source_open(NULL, NULL, false, MAX_LINE, &err);
    const char *line, *cursor;
    size_t len;
    bool trunc;

    if (j == NULL) { /* no journal support here at all: a clean error */
        ck_assert_msg(err.text[0] != '\0', "no error text");
        return;
    }
    ck_assert_int_ge(journal_source_fd(j), 0);
    ck_assert_int_ge(journal_source_next(j, &line, &len, &trunc, &cursor), 0);
    journal_source_process(j);
    journal_source_close(j);
}
END_TEST

static Suite *journal_suite(void)
{
    Suite *s = suite_create("journal_source");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_from_start);
    tcase_add_test(tc, test_cursor_resume);
    tcase_add_test(tc, test_follow);
    tcase_add_test(tc, test_tail_start);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_parser_takes_lines);
    tcase_add_loop_test(tc, test_bad_open, 0, N(bad_opens));
    tcase_add_test(tc, test_system_journal);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed, rc;

    signal(SIGPIPE, SIG_IGN); /* a helper that dies early must not kill us */
    if (access(helper(), R_OK) != 0) {
        fprintf(stderr, "%s: %s (is it in EXTRA_DIST? is top_srcdir set?)\n", helper(),
                strerror(errno));
        return EXIT_FAILURE;
    }
    if ((rc = helper_run(NULL, NULL, "")) == 77) {
        printf("1..0 # SKIP systemd-journal-remote not installed "
               "(apt-get install systemd-journal-remote)\n");
        return EXIT_SUCCESS;
    }
    if (rc != 0) {
        fprintf(stderr, "%s --check: exit %d (is python3 installed?)\n", helper(), rc);
        return EXIT_FAILURE;
    }
    sr = srunner_create(journal_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
