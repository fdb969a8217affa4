/* SPDX-License-Identifier: MIT */
/*
 * check_maillog_source.c - unit tests (Check) for the maillog source
 * interface (maillog_source.h), through that interface only: every source
 * is opened with maillog_source_open from a struct mh_conf_maillog section,
 * as the reader opens it, on real files and real journals, no mocks.
 *
 * The file kind ("file"), on a log of lines "line N" in a fresh temporary
 * directory: lines in order and then 0, a long line cut with truncated
 * set, resuming from the position encoded after every line k (line k+1
 * next: no loss, no repeat), start_at without a position, positions the
 * source cannot use (a table: each follows start_at), a log that does not
 * exist yet (waited for, not an error), describe, behind_bytes before,
 * during and after reading and across a rename, written_ms against a set
 * mtime, and the fd with process. Opens that fail are a table (each NULL
 * with err set); the permission case runs in a child process that, when we
 * are root, first drops to uid/gid 65534 with no supplementary groups (root
 * reads everything), and checks the admin's hint.
 *
 * The journald kind ("journald"), on a journal directory written by
 * tests/helpers/make_journal.py (as check_journal_source.c does): the same
 * resume property by position, unusable positions, describe (the
 * directory; "the journal" for the system journal when there is one),
 * behind_bytes and written_ms -1, the fd with process. Without
 * systemd-journal-remote these cases are left out and the program says so
 * on stdout ("# SKIP journald cases ..."); the file cases still run.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maillog_source.h"
#include "testdir.h"
#include "xalloc.h"

#define MAX_LINE 4096
#define NLINES 6
#define LINE_BYTES 7                                       /* "line N\n" for N < 10 */
#define WFLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC) /* how a log writer opens */
#define NOBODY 65534
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ helpers */

/* A section as the config loader leaves it (the fields the sources read),
 * its strings our own copies so that a source keeping a pointer into them
 * instead of copying is seen (conf_free scribbles over them). */
static struct mh_conf_maillog conf_new(const char *type, const char *path, const char *start_at,
                                       int max_line)
{
    return (struct mh_conf_maillog){
        .name = xstrdup("test"),
        .type = xstrdup(type),
        .path = xstrdup(path),
        .start_at = xstrdup(start_at),
        .rotate_wait = 0,
        .max_line = max_line,
    };
}

static void scribble(char *s)
{
    memset(s, 'X', strlen(s));
    free(s);
}

static void conf_free(struct mh_conf_maillog *c)
{
    scribble(c->name);
    scribble(c->type);
    scribble(c->path);
    scribble(c->start_at);
}

/* maillog_source_open of a fresh section; it must succeed. */
static maillog_source_t *sopen(const char *type, const char *path, const char *start_at,
                               int max_line, const char *pos)
{
    struct mh_conf_maillog c = conf_new(type, path, start_at, max_line);
    mh_err_t err = { "" };
    maillog_source_t *s = maillog_source_open(&c, pos, &err);

    ck_assert_msg(s != NULL, "open %s %s (start_at %s, pos %s): %s", type, path, start_at,
                  pos ? pos : "NULL", err.text);
    conf_free(&c);
    return s;
}

static int wopen(const char *path)
{
    int fd = open(path, WFLAGS, 0644);

    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    return fd;
}

static void wstr(int fd, const char *s)
{
    size_t n = strlen(s);

    while (n > 0) {
        ssize_t w = write(fd, s, n);

        ck_assert_msg(w > 0, "write: %s", strerror(errno));
        s += w;
        n -= (size_t)w;
    }
}

static void wlines(int fd, int from, int to)
{
    char b[32];

    for (int i = from; i <= to; i++) {
        snprintf(b, sizeof(b), "line %d\n", i);
        wstr(fd, b);
    }
}

/* A log at DIR/maillog with lines 1..n; its path (caller frees). */
static char *log_new(const char *dir, int n)
{
    char *path = xasprintf("%s/maillog", dir);
    int fd = wopen(path);

    wlines(fd, 1, n);
    close(fd);
    return path;
}

static void log_append(const char *path, int from, int to)
{
    int fd = wopen(path);

    wlines(fd, from, to);
    close(fd);
}

static void expect_line(maillog_source_t *s, const char *want, const char *where)
{
    const char *line = NULL;
    size_t len = 0;
    bool trunc = true;
    int r = maillog_source_next(s, &line, &len, &trunc);

    ck_assert_msg(r == 1, "%s: want \"%s\", maillog_source_next returned %d", where, want, r);
    ck_assert_msg(len == strlen(want) && memcmp(line, want, len) == 0,
                  "%s: want \"%s\", got \"%.*s\"", where, want, (int)len, line);
    ck_assert_msg(line[len] == '\0', "%s: \"%s\" not NUL-terminated", where, want);
    ck_assert_msg(!trunc, "%s: \"%s\" flagged truncated", where, want);
}

static void expect_none(maillog_source_t *s, const char *where)
{
    const char *line = NULL;
    size_t len = 0;
    bool trunc;
    int r = maillog_source_next(s, &line, &len, &trunc);

    ck_assert_msg(r == 0, "%s: want nothing more, got %d \"%.*s\"", where, r, r == 1 ? (int)len : 0,
                  r == 1 ? line : "");
}

/* "line from" .. "line to" (and no more, when then_none). */
static void expect_range(maillog_source_t *s, int from, int to, bool then_none, const char *where)
{
    char want[32];

    for (int i = from; i <= to; i++) {
        snprintf(want, sizeof(want), "line %d", i);
        expect_line(s, want, where);
    }
    if (then_none)
        expect_none(s, where);
}

static void expect_lines(maillog_source_t *s, int from, int to, const char *where)
{
    expect_range(s, from, to, true, where);
}

static bool readable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, ms) == 1;
}

/* ------------------------------------------------------------ file */

START_TEST(test_file_lines)
{
    char *dir = testdir_new("msrc"), *path = log_new(dir, NLINES);
    maillog_source_t *s = sopen("file", path, "beginning", MAX_LINE, NULL);

    expect_lines(s, 1, NLINES, "from the beginning");
    expect_none(s, "again at the end");
    log_append(path, NLINES + 1, NLINES + 2);
    expect_lines(s, NLINES + 1, NLINES + 2, "appended");
    ck_assert_ptr_null(maillog_source_close(s));
    ck_assert_ptr_null(maillog_source_close(NULL));
    free(path);
    testdir_free(dir);
}
END_TEST

/* Lengths around max_line; each line is a run of one letter. */
#define CUT_MAX 32
static const size_t cut_len[] = { CUT_MAX - 1, CUT_MAX, CUT_MAX + 1, 10 * CUT_MAX };

START_TEST(test_file_truncated)
{
    char *dir = testdir_new("msrc"), *path = xasprintf("%s/maillog", dir), buf[10 * CUT_MAX + 2];
    int fd = wopen(path);
    maillog_source_t *s;
    const char *line;
    size_t len;
    bool trunc;

    for (size_t i = 0; i < N(cut_len); i++) {
        memset(buf, 'a' + (int)i, cut_len[i]);
        buf[cut_len[i]] = '\n';
        buf[cut_len[i] + 1] = '\0';
        wstr(fd, buf);
    }
    wstr(fd, "line 1\n");
    close(fd);
    s = sopen("file", path, "beginning", CUT_MAX, NULL);
    for (size_t i = 0; i < N(cut_len); i++) {
        size_t want = cut_len[i] > CUT_MAX ? CUT_MAX : cut_len[i];

        ck_assert_int_eq(maillog_source_next(s, &line, &len, &trunc), 1);
        ck_assert_msg(len == want, "row %zu: length %zu, want %zu", i, len, want);
        ck_assert_msg(trunc == (cut_len[i] > CUT_MAX), "row %zu: truncated %d", i, trunc);
        for (size_t k = 0; k < len; k++)
            ck_assert_int_eq(line[k], 'a' + (int)i);
    }
    expect_lines(s, 1, 1, "after the long lines"); /* the rest of a cut line is skipped */
    maillog_source_close(s);
    free(path);
    testdir_free(dir);
}
END_TEST

/* Read k lines, encode, close; reopen there (start_at either way): line
 * k+1 is next, none lost, none repeated. */
START_TEST(test_file_resume)
{
    char *dir = testdir_new("msrc"), *path = log_new(dir, NLINES), *pos, where[64];
    static const char *const starts[] = { "end", "beginning" };
    maillog_source_t *s;

    for (int k = 1; k <= NLINES; k++) {
        for (size_t st = 0; st < N(starts); st++) {
            snprintf(where, sizeof(where), "resume after line %d, start_at %s", k, starts[st]);
            s = sopen("file", path, "beginning", MAX_LINE, NULL);
            expect_range(s, 1, k, k == NLINES, where);
            pos = maillog_source_pos_encode(s);
            ck_assert_ptr_nonnull(pos);
            maillog_source_close(s);
            s = sopen("file", path, starts[st], MAX_LINE, pos);
            expect_lines(s, k + 1, NLINES, where);
            maillog_source_close(s);
            free(pos);
        }
    }
    /* The position is the last line handed out, not the end read so far:
     * encoded after line 2 of 6, again after line 3, each resumes there. */
    s = sopen("file", path, "beginning", MAX_LINE, NULL);
    expect_range(s, 1, 2, false, "two encodes");
    pos = maillog_source_pos_encode(s);
    free(pos);
    expect_line(s, "line 3", "two encodes");
    pos = maillog_source_pos_encode(s);
    maillog_source_close(s);
    s = sopen("file", path, "end", MAX_LINE, pos);
    expect_lines(s, 4, NLINES, "second encode");
    maillog_source_close(s);
    free(pos);
    free(path);
    testdir_free(dir);
}
END_TEST

START_TEST(test_file_start_at)
{
    char *dir = testdir_new("msrc"), *path = log_new(dir, NLINES);
    maillog_source_t *s;

    s = sopen("file", path, "beginning", MAX_LINE, NULL);
    expect_lines(s, 1, NLINES, "beginning");
    maillog_source_close(s);
    s = sopen("file", path, "end", MAX_LINE, NULL);
    expect_none(s, "end: no history");
    log_append(path, NLINES + 1, NLINES + 1);
    expect_lines(s, NLINES + 1, NLINES + 1, "end: what comes later");
    maillog_source_close(s);
    free(path);
    testdir_free(dir);
}
END_TEST

/* Positions the file kind cannot use: not an error, start_at decides. */
static const char *const bad_pos[] = {
    "garbage", "", "{", "[]", "{}", "null", "{\"cursor\": \"s=1\"}", "{\"offset\": \"x\"}",
};

START_TEST(test_file_bad_pos)
{
    char *dir = testdir_new("msrc"), *path = log_new(dir, NLINES), where[96];
    maillog_source_t *s;

    snprintf(where, sizeof(where), "position '%s', start_at beginning", bad_pos[_i]);
    s = sopen("file", path, "beginning", MAX_LINE, bad_pos[_i]);
    expect_lines(s, 1, NLINES, where);
    maillog_source_close(s);
    snprintf(where, sizeof(where), "position '%s', start_at end", bad_pos[_i]);
    s = sopen("file", path, "end", MAX_LINE, bad_pos[_i]);
    expect_none(s, where);
    log_append(path, NLINES + 1, NLINES + 1);
    expect_lines(s, NLINES + 1, NLINES + 1, where);
    maillog_source_close(s);
    free(path);
    testdir_free(dir);
}
END_TEST

/* A log that does not exist yet is waited for (tail_file.h), not an open
 * error: its lines come once it is there. */
START_TEST(test_file_missing)
{
    char *dir = testdir_new("msrc"), *path = xasprintf("%s/maillog", dir), *p;
    maillog_source_t *s = sopen("file", path, "beginning", MAX_LINE, NULL);

    expect_none(s, "not there yet");
    ck_assert_int_eq(maillog_source_behind_bytes(s, false), -1);
    ck_assert_int_eq(maillog_source_written_ms(s), -1);
    p = log_new(dir, 2);
    maillog_source_process(s);
    expect_lines(s, 1, 2, "created");
    maillog_source_close(s);
    free(p);
    free(path);
    testdir_free(dir);
}
END_TEST

START_TEST(test_file_describe)
{
    char *dir = testdir_new("msrc"), *path = log_new(dir, 1);
    maillog_source_t *s = sopen("file", path, "end", MAX_LINE, NULL); /* conf scribbled */

    ck_assert_str_eq(maillog_source_describe(s), path);
    maillog_source_close(s);
    free(path);
    testdir_free(dir);
}
END_TEST

START_TEST(test_file_behind)
{
    char *dir = testdir_new("msrc"), *path = log_new(dir, NLINES), *old;
    maillog_source_t *s = sopen("file", path, "beginning", MAX_LINE, NULL);
    int fd;

    ck_assert_int_eq(maillog_source_behind_bytes(NULL, true), -1);
    /* Nothing handed out yet: unknown, unless the caller has read to the end. */
    ck_assert_int_eq(maillog_source_behind_bytes(s, false), -1);
    ck_assert_int_eq(maillog_source_behind_bytes(s, true), 0);
    expect_range(s, 1, 2, false, "behind");
    ck_assert_int_eq(maillog_source_behind_bytes(s, false), (NLINES - 2) * LINE_BYTES);
    expect_lines(s, 3, NLINES, "behind");
    ck_assert_int_eq(maillog_source_behind_bytes(s, false), 0);
    ck_assert_int_eq(maillog_source_behind_bytes(s, true), 0);
    log_append(path, NLINES + 1, NLINES + 2); /* as of now, not as of the last read */
    ck_assert_int_eq(maillog_source_behind_bytes(s, true), 2 * LINE_BYTES);
    expect_lines(s, NLINES + 1, NLINES + 2, "behind");
    ck_assert_int_eq(maillog_source_behind_bytes(s, true), 0);
    /* Rotated by rename: all of the new log is ahead. */
    old = xasprintf("%s.1", path);
    ck_assert_int_eq(rename(path, old), 0);
    fd = wopen(path);
    wlines(fd, 1, 3);
    close(fd);
    ck_assert_int_eq(maillog_source_behind_bytes(s, true), 3 * LINE_BYTES);
    maillog_source_close(s);
    /* Opened at the end, nothing handed out, read to the end: 0 behind. */
    s = sopen("file", path, "end", MAX_LINE, NULL);
    expect_none(s, "at the end");
    ck_assert_int_eq(maillog_source_behind_bytes(s, true), 0);
    maillog_source_close(s);
    free(old);
    free(path);
    testdir_free(dir);
}
END_TEST

START_TEST(test_file_written)
{
    char *dir = testdir_new("msrc"), *path = log_new(dir, NLINES);
    const struct timespec t[2] = { { 1700000000, 0 }, { 1795329019, 987654321 } };
    maillog_source_t *s = sopen("file", path, "beginning", MAX_LINE, NULL);
    struct stat sb;

    ck_assert_int_eq(maillog_source_written_ms(NULL), -1);
    ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
    ck_assert_int_eq(maillog_source_written_ms(s), INT64_C(1795329019987));
    expect_lines(s, 1, NLINES, "written"); /* reading leaves the mtime alone */
    ck_assert_int_eq(maillog_source_written_ms(s), INT64_C(1795329019987));
    log_append(path, NLINES + 1, NLINES + 1); /* a write moves it: "as of now" */
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(maillog_source_written_ms(s),
                     (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000);
    maillog_source_close(s);
    free(path);
    testdir_free(dir);
}
END_TEST

/* The fd announces a write; process takes the notification (the fd is quiet
 * again); the line is there. Without an fd (-1) process is harmless and
 * next still finds the line (polling by time). */
START_TEST(test_file_fd)
{
    char *dir = testdir_new("msrc"), *path = log_new(dir, 2);
    maillog_source_t *s = sopen("file", path, "beginning", MAX_LINE, NULL);
    int fd = maillog_source_fd(s);

    ck_assert_int_eq(maillog_source_fd(NULL), -1);
    maillog_source_process(NULL);
    maillog_source_process(s);
    expect_lines(s, 1, 2, "fd");
    if (fd >= 0) {
        ck_assert_msg(!readable(fd, 0), "fd readable with nothing new");
        log_append(path, 3, 3);
        ck_assert_msg(readable(fd, 5000), "a write does not wake the fd");
        maillog_source_process(s);
        ck_assert_msg(!readable(fd, 0), "process left the notification on the fd");
    } else {
        fprintf(stderr, "maillog_source_fd is -1 here: polling by time\n");
        log_append(path, 3, 3);
        maillog_source_process(s);
    }
    expect_lines(s, 3, 3, "after process");
    ck_assert_int_eq(maillog_source_fd(s), fd); /* the same fd throughout */
    maillog_source_close(s);
    free(path);
    testdir_free(dir);
}
END_TEST

/* ------------------------------------------------------------ open errors */

/* Opens that must fail; path NULL: the temporary directory itself. */
static const struct bad_open {
    const char *type, *path;
    int max_line;
    const char *want; /* in err.text */
} bad_opens[] = {
    { "file", NULL, MAX_LINE, "Is a directory" },
    { "file", "", MAX_LINE, "not a file name" },
    { "file", "/tmp/", MAX_LINE, "not a file name" },
    { "file", "/etc/passwd", 0, "max_line" },
    { "nosuch", "/etc/passwd", MAX_LINE, "unknown maillog type \"nosuch\"" },
    { "journald", "/nonexistent/mailhook-journal", MAX_LINE, "No such file or directory" },
    { "journald", "/etc/passwd", MAX_LINE, "Not a directory" },
};

START_TEST(test_open_errors)
{
    const struct bad_open *b = &bad_opens[_i];
    char *dir = testdir_new("msrc");
    struct mh_conf_maillog c = conf_new(b->type, b->path ? b->path : dir, "beginning", b->max_line);
    mh_err_t err = { "" };

    ck_assert_ptr_null(maillog_source_open(&c, NULL, &err));
    ck_assert_msg(strstr(err.text, b->want) != NULL, "%s %s: want \"%s\" in \"%s\"", b->type,
                  c.path, b->want, err.text);
    conf_free(&c);
    testdir_free(dir);
}
END_TEST

/* The open of path in a child that cannot read what root can (root drops to
 * NOBODY first): "OPENED", "SKIP ..." or the error text, in buf. */
static void open_unprivileged(const char *path, char *buf, size_t size)
{
    int p[2], st;
    ssize_t n;
    size_t off = 0;
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {
        struct mh_conf_maillog c = conf_new("file", path, "beginning", MAX_LINE);
        mh_err_t err = { "" };
        maillog_source_t *s;
        const char *out;

        close(p[0]);
        if (geteuid() == 0 &&
            (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
            out = "SKIP cannot drop root";
        else if (access(path, F_OK) != 0)
            out = "SKIP the temporary directory is not reachable without root";
        else if ((s = maillog_source_open(&c, NULL, &err)) != NULL)
            out = "OPENED", maillog_source_close(s);
        else
            out = err.text;
        if (write(p[1], out, strlen(out)) < 0)
            _exit(1);
        conf_free(&c);
        _exit(0);
    }
    close(p[1]);
    while (off + 1 < size && (n = read(p[0], buf + off, size - 1 - off)) > 0)
        off += (size_t)n;
    buf[off] = '\0';
    close(p[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
}

/* A log the service user may not read: NULL, and the hint the admin needs
 * (group-readable: join the group; else: cannot read). */
START_TEST(test_open_permission)
{
    char *dir = testdir_new("msrc"), *path = log_new(dir, 1), *want, buf[1024];
    const struct passwd *pw = getpwuid(geteuid() == 0 ? NOBODY : geteuid());
    const char *user = pw ? pw->pw_name : "mailhook";
    const struct group *gr;
    struct stat sb;

    ck_assert_int_eq(chmod(dir, 0755), 0); /* reachable for NOBODY */
    ck_assert_int_eq(chmod(path, 0040), 0);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_ptr_nonnull(gr = getgrgid(sb.st_gid));
    want = xasprintf("permission denied: add the %s user to group %s", user, gr->gr_name);
    open_unprivileged(path, buf, sizeof(buf));
    if (strncmp(buf, "SKIP", 4) == 0) {
        fprintf(stderr, "# %s: permission case not tested\n", buf);
        goto out;
    }
    ck_assert_str_eq(buf, want);
    free(want);
    ck_assert_int_eq(chmod(path, 0000), 0);
    want = xasprintf("permission denied: the %s user cannot read %s", user, path);
    open_unprivileged(path, buf, sizeof(buf));
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(chmod(path, 0644), 0); /* and readable, it opens */
    open_unprivileged(path, buf, sizeof(buf));
    ck_assert_str_eq(buf, "OPENED");
out:
    free(want);
    free(path);
    testdir_free(dir);
}
END_TEST

/* ------------------------------------------------------------ journald */

#define T0 UINT64_C(1795329019000000) /* 2026-11-22T06:30:19Z in microseconds */
#define JLINE(sec, msg) "2026-11-22T06:30:" sec ".000000+00:00 mx1 postfix/smtp[7]: " msg

/* make_journal.py's input: USEC HOST IDENT PID MESSAGE; want NULL: not a
 * mail program's entry (skipped by the source). */
static const struct jent {
    uint64_t usec;
    const char *ident, *msg, *want;
} jents[] = {
    { T0 + 0, "postfix/smtp", "m1", JLINE("19", "m1") },
    { T0 + 1000000, "sshd", "not mail", NULL },
    { T0 + 2000000, "postfix/smtp", "m2", JLINE("21", "m2") },
    { T0 + 3000000, "postfix/smtp", "m3", JLINE("22", "m3") },
    { T0 + 4000000, "CRON", "not mail either", NULL },
    { T0 + 5000000, "postfix/smtp", "m4", JLINE("24", "m4") },
    { T0 + 6000000, "postfix/smtp", "m5", JLINE("25", "m5") },
};
static const struct jent jmore[] = {
    { T0 + 7000000, "postfix/smtp", "m6", JLINE("26", "m6") },
};

static const char *helper(void)
{
    static char path[4096];
    const char *top = getenv("top_srcdir");

    snprintf(path, sizeof(path), "%s/tests/helpers/make_journal.py", top && *top ? top : ".");
    return path;
}

/* Run the helper (dir NULL: --check), input on its stdin; its exit status. */
static int helper_run(const char *dir, const char *input)
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
            execlp("python3", "python3", helper(), dir, "mail", (char *)NULL);
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

static void journal_write(const char *dir, const struct jent *e, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc;

    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%" PRIu64 "\tmx1\t%s\t7\t%s\n", e[i].usec, e[i].ident, e[i].msg);
    ck_assert_int_eq(fclose(f), 0);
    rc = helper_run(dir, buf);
    free(buf);
    ck_assert_msg(rc == 0, "%s %s: exit %d", helper(), dir, rc);
}

/* The mail lines of e[from..n), each once, in order, then nothing. */
static void expect_jlines(maillog_source_t *s, const struct jent *e, size_t from, size_t n,
                          const char *where)
{
    for (size_t i = from; i < n; i++)
        if (e[i].want != NULL)
            expect_line(s, e[i].want, where);
    expect_none(s, where);
}

/* Read up to row k, encode, close; reopen there: the mail lines after row
 * k, none lost, none repeated (start_at either way). */
START_TEST(test_journal_resume)
{
    char *dir = testdir_new("msrc"), *pos, where[64];
    static const char *const starts[] = { "end", "beginning" };
    maillog_source_t *s;

    journal_write(dir, jents, N(jents));
    for (size_t k = 0; k < N(jents); k++) {
        if (jents[k].want == NULL)
            continue;
        for (size_t st = 0; st < N(starts); st++) {
            snprintf(where, sizeof(where), "resume after row %zu, start_at %s", k, starts[st]);
            s = sopen("journald", dir, "beginning", MAX_LINE, NULL);
            for (size_t i = 0; i <= k; i++)
                if (jents[i].want != NULL)
                    expect_line(s, jents[i].want, where);
            pos = maillog_source_pos_encode(s);
            ck_assert_ptr_nonnull(pos);
            maillog_source_close(s);
            s = sopen("journald", dir, starts[st], MAX_LINE, pos);
            expect_jlines(s, jents, k + 1, N(jents), where);
            maillog_source_close(s);
            free(pos);
        }
    }
    testdir_free(dir);
}
END_TEST

/* Positions the journal cannot use (including the one encoded before any
 * line): not an error, start_at decides (a bad cursor is warned about). */
static const char *const bad_jpos[] = {
    "garbage",
    "",
    "{}",
    "{\"cursor\": \"\"}",
    "{\"cursor\": \"garbage\"}",
    "{\"cursor\": 7}",
    "{\"dev\": 1, \"ino\": 2, \"offset\": 3}",
};

START_TEST(test_journal_bad_pos)
{
    char *dir = testdir_new("msrc"), where[96];
    maillog_source_t *s;

    journal_write(dir, jents, N(jents));
    snprintf(where, sizeof(where), "position '%s', start_at beginning", bad_jpos[_i]);
    s = sopen("journald", dir, "beginning", MAX_LINE, bad_jpos[_i]);
    expect_jlines(s, jents, 0, N(jents), where);
    maillog_source_close(s);
    snprintf(where, sizeof(where), "position '%s', start_at end", bad_jpos[_i]);
    s = sopen("journald", dir, "end", MAX_LINE, bad_jpos[_i]);
    expect_none(s, where);
    maillog_source_close(s);
    testdir_free(dir);
}
END_TEST

/* The encoding before any line is one of the unusable positions: resuming
 * from it follows start_at and loses nothing. */
START_TEST(test_journal_pos_before_any)
{
    char *dir = testdir_new("msrc"), *pos;
    maillog_source_t *s;

    journal_write(dir, jents, N(jents));
    s = sopen("journald", dir, "beginning", MAX_LINE, NULL);
    pos = maillog_source_pos_encode(s);
    ck_assert_ptr_nonnull(pos);
    maillog_source_close(s);
    s = sopen("journald", dir, "beginning", MAX_LINE, pos);
    expect_jlines(s, jents, 0, N(jents), "before any line");
    maillog_source_close(s);
    free(pos);
    testdir_free(dir);
}
END_TEST

START_TEST(test_journal_props)
{
    char *dir = testdir_new("msrc");
    maillog_source_t *s;
    struct pollfd p;
    int fd;

    journal_write(dir, jents, N(jents));
    s = sopen("journald", dir, "beginning", MAX_LINE, NULL); /* conf scribbled */
    ck_assert_str_eq(maillog_source_describe(s), dir);
    ck_assert_int_eq(maillog_source_behind_bytes(s, false), -1);
    ck_assert_int_eq(maillog_source_behind_bytes(s, true), -1);
    ck_assert_int_eq(maillog_source_written_ms(s), -1);
    ck_assert_int_ge(fd = maillog_source_fd(s), 0);
    maillog_source_process(s);
    expect_jlines(s, jents, 0, N(jents), "props");
    ck_assert_int_eq(maillog_source_behind_bytes(s, true), -1);
    ck_assert_int_eq(maillog_source_written_ms(s), -1);
    journal_write(dir, jmore, N(jmore)); /* the fd announces it; process takes it */
    p = (struct pollfd){ .fd = fd, .events = POLLIN };
    ck_assert_msg(poll(&p, 1, 5000) == 1, "the journal fd did not turn readable");
    maillog_source_process(s);
    expect_jlines(s, jmore, 0, N(jmore), "appended");
    ck_assert_int_eq(maillog_source_fd(s), fd);
    maillog_source_close(s);
    testdir_free(dir);
}
END_TEST

/* The system journal (path ""), whatever this machine has: opened, it is
 * "the journal"; not, a clean error. */
START_TEST(test_journal_system)
{
    struct mh_conf_maillog c = conf_new("journald", "", "end", MAX_LINE);
    mh_err_t err = { "" };
    maillog_source_t *s = maillog_source_open(&c, NULL, &err);

    conf_free(&c);
    if (s == NULL) {
        ck_assert_msg(err.text[0] != '\0', "no error text");
        fprintf(stderr, "# no system journal here (%s): describe not tested on it\n", err.text);
        return;
    }
    ck_assert_str_eq(maillog_source_describe(s), "the journal");
    ck_assert_int_eq(maillog_source_behind_bytes(s, true), -1);
    ck_assert_int_eq(maillog_source_written_ms(s), -1);
    maillog_source_close(s);
}
END_TEST

/* ------------------------------------------------------------ main */

static Suite *source_suite(bool journal)
{
    Suite *s = suite_create("maillog_source");
    TCase *tc = tcase_create("file");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_file_lines);
    tcase_add_test(tc, test_file_truncated);
    tcase_add_test(tc, test_file_resume);
    tcase_add_test(tc, test_file_start_at);
    tcase_add_loop_test(tc, test_file_bad_pos, 0, N(bad_pos));
    tcase_add_test(tc, test_file_missing);
    tcase_add_test(tc, test_file_describe);
    tcase_add_test(tc, test_file_behind);
    tcase_add_test(tc, test_file_written);
    tcase_add_test(tc, test_file_fd);
    tcase_add_loop_test(tc, test_open_errors, 0, N(bad_opens));
    tcase_add_test(tc, test_open_permission);
    tcase_add_test(tc, test_journal_system);
    suite_add_tcase(s, tc);
    if (journal) {
        tc = tcase_create("journald");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_journal_resume);
        tcase_add_loop_test(tc, test_journal_bad_pos, 0, N(bad_jpos));
        tcase_add_test(tc, test_journal_pos_before_any);
        tcase_add_test(tc, test_journal_props);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    bool journal = true;
    SRunner *sr;
    int failed, rc;

    signal(SIGPIPE, SIG_IGN); /* a helper that dies early must not kill us */
    if (access(helper(), R_OK) != 0) {
        fprintf(stderr, "%s: %s (is it in EXTRA_DIST? is top_srcdir set?)\n", helper(),
                strerror(errno));
        return EXIT_FAILURE;
    }
    if ((rc = helper_run(NULL, "")) == 77) {
        printf("# SKIP journald cases: systemd-journal-remote not installed "
               "(apt-get install systemd-journal-remote)\n");
        journal = false;
    } else if (rc != 0) {
        fprintf(stderr, "%s --check: exit %d (is python3 installed?)\n", helper(), rc);
        return EXIT_FAILURE;
    }
    sr = srunner_create(source_suite(journal));
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
