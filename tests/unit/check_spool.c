/* SPDX-License-Identifier: MIT */
/*
 * check_spool.c - unit tests (Check) for the producer side: the spool
 * (spool.h) and the ingest protocol client (ingest.h).
 *
 * The spool tests work in a fresh temporary directory each. The client tests
 * talk to a fake mailhookd: a real AF_UNIX listener served by a thread that
 * answers each line the way a table row says ("+ID", "~busy", "-bad type",
 * nothing at all, ...). That fakes only the protocol; the real daemon has
 * its own scenario tests.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "ingest.h"
#include "spool.h"
#include "timeutil.h"
#include "testdir.h"
#include "xalloc.h"

#define MAX_READ (16 * 1024 * 1024)

/* ------------------------------------------------------------ helpers */

static char *tmpdir_new(void)
{
    return testdir_new("spool");
}

#define tmpdir_free testdir_free

/* A prepared spool "TOP/spool" under a fresh temporary directory TOP. */
static char *spool_new(char **top)
{
    mh_err_t err;
    char *dir;

    *top = tmpdir_new();
    dir = xasprintf("%s/spool", *top);
    ck_assert_msg(spool_prepare(dir, &err) == 0, "%s", err.text);
    return dir;
}

/* Entries in DIR/SUB other than . and .. (dot files count: nothing may hide). */
static size_t dir_count(const char *dir, const char *sub)
{
    char *path = xasprintf("%s/%s", dir, sub);
    struct dirent *de;
    size_t n = 0;
    DIR *d = opendir(path);

    ck_assert_msg(d != NULL, "opendir %s: %s", path, strerror(errno));
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    free(path);
    return n;
}

/* Everything in new/, oldest file first, concatenated; *nfiles set. */
static char *spool_all(const char *dir, size_t *nfiles)
{
    char **names, *all = xstrdup(""), *buf, *t;
    size_t n, len;
    mh_err_t err;

    ck_assert_msg(spool_list(dir, &names, &n, &err) == 0, "%s", err.text);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(spool_read(dir, names[i], MAX_READ, &buf, &len, &err) == 0, "%s",
                      err.text);
        ck_assert_uint_eq(strlen(buf), len);
        t = xasprintf("%s%s", all, buf);
        free(all);
        free(buf);
        all = t;
    }
    spool_list_free(names, n);
    *nfiles = n;
    return all;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static event_t *test_event(int n)
{
    mh_err_t err;
    event_t *ev = event_new(EV_DELIVERED, 1700000000000 + n,
                            json_pack("{s:i, s:s}", "n", n, "rcpt", "a@example.org"), &err);

    ck_assert_msg(ev != NULL, "%s", err.text);
    return ev;
}

/* The exact line the client should write for ev. */
static char *event_line(const event_t *ev)
{
    size_t len;
    char *json = event_to_json(ev, &len), *line = xasprintf("%s\n", json);

    free(json);
    return line;
}

/* ----------------------------------------------------------- the spool */

START_TEST(test_prepare_modes)
{
    static const struct {
        const char *sub;
        mode_t mode;
    } want[] = { { "tmp", SPOOL_DROP_MODE }, { "new", SPOOL_DROP_MODE }, { "bad", 0750 } };
    char *top, *dir = spool_new(&top), *path;
    struct stat st;
    mh_err_t err;

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        path = xasprintf("%s/%s", dir, want[i].sub);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_msg(S_ISDIR(st.st_mode), "%s not a directory", path);
        ck_assert_msg((st.st_mode & 07777) == want[i].mode, "%s: mode %o, want %o", path,
                      (unsigned)(st.st_mode & 07777), (unsigned)want[i].mode);
        free(path);
    }
    /* Again: fine, and an existing directory's mode is the admin's. */
    path = xasprintf("%s/tmp", dir);
    ck_assert_int_eq(chmod(path, 0700), 0);
    ck_assert_msg(spool_prepare(dir, &err) == 0, "%s", err.text);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    free(path);
    /* A file where a directory should be. */
    path = xasprintf("%s/file", top);
    write_file(path, "x");
    ck_assert_int_eq(spool_prepare(path, &err), -1);
    ck_assert_msg(strstr(err.text, "not a directory") != NULL, "%s", err.text);
    free(path);
    free(dir);
    tmpdir_free(top);
}
END_TEST

/* Name = "<sec>.<usec>.<pid>.<16 hex>.<host>", host only [A-Za-z0-9_-]. */
static void check_name(const char *name)
{
    char pid[32];
    const char *f[5], *p = name;
    size_t flen[5];
    int i;

    for (i = 0; i < 5; i++) {
        const char *dot = strchr(p, '.');

        f[i] = p;
        flen[i] = dot ? (size_t)(dot - p) : strlen(p);
        if (i < 4)
            ck_assert_msg(dot != NULL, "name %s: too few fields", name);
        else
            ck_assert_msg(dot == NULL, "name %s: too many fields", name);
        p = dot ? dot + 1 : p;
    }
    ck_assert_msg(strspn(f[0], "0123456789") == flen[0] && flen[0] >= 10, "sec in %s", name);
    ck_assert_msg(strspn(f[1], "0123456789") == 6 && flen[1] == 6, "usec in %s", name);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    ck_assert_msg(flen[2] == strlen(pid) && strncmp(f[2], pid, flen[2]) == 0, "pid in %s",
                  name);
    ck_assert_msg(flen[3] == 16 && strspn(f[3], "0123456789abcdef") == 16, "hex in %s", name);
    ck_assert_msg(flen[4] > 0 && strspn(f[4],
                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-_") == flen[4],
                  "host in %s", name);
}

START_TEST(test_write_list_read)
{
    static const char *const lines[] = { "{\"n\":1}\n", "{\"n\":2}\n{\"n\":3}\n", "{\"n\":4}\n" };
    char *top, *dir = spool_new(&top), **names, *buf, *path;
    size_t n, len;
    struct stat st;
    mh_err_t err;

    for (size_t i = 0; i < 3; i++) {
        ck_assert_msg(spool_write(dir, lines[i], strlen(lines[i]), &err) == 0, "%s", err.text);
        usleep(2000); /* names order by microsecond: keep the writes apart */
    }
    ck_assert_uint_eq(dir_count(dir, "tmp"), 0);
    ck_assert_int_eq(spool_list(dir, &names, &n, &err), 0);
    ck_assert_uint_eq(n, 3);
    for (size_t i = 0; i < n; i++) {
        check_name(names[i]);
        ck_assert_int_eq(spool_read(dir, names[i], MAX_READ, &buf, &len, &err), 0);
        ck_assert_uint_eq(len, strlen(lines[i]));
        ck_assert_str_eq(buf, lines[i]); /* oldest first */
        free(buf);
        path = xasprintf("%s/new/%s", dir, names[i]);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0640);
        free(path);
    }
    /* remove, quarantine */
    ck_assert_msg(spool_remove(dir, names[0], &err) == 0, "%s", err.text);
    ck_assert_msg(spool_quarantine(dir, names[1], &err) == 0, "%s", err.text);
    path = xasprintf("%s/bad/%s", dir, names[1]);
    ck_assert(exists(path));
    free(path);
    ck_assert_int_eq(spool_remove(dir, names[0], &err), -1);
    ck_assert_msg(strstr(err.text, "No such file") != NULL, "%s", err.text);
    spool_list_free(names, n);
    ck_assert_int_eq(spool_list(dir, &names, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(spool_read(dir, names[0], MAX_READ, &buf, &len, &err), 0);
    ck_assert_str_eq(buf, lines[2]);
    free(buf);
    spool_list_free(names, n);
    free(dir);
    tmpdir_free(top);
}
END_TEST

START_TEST(test_list_empty_and_dotfiles)
{
    char *top, *dir = spool_new(&top), **names, *path;
    size_t n;
    mh_err_t err;

    ck_assert_int_eq(spool_list(dir, &names, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    spool_list_free(names, n);
    path = xasprintf("%s/new/.hidden", dir);
    write_file(path, "x\n");
    free(path);
    ck_assert_int_eq(spool_list(dir, &names, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    spool_list_free(names, n);
    free(dir);
    tmpdir_free(top);
}
END_TEST

START_TEST(test_read_refusals)
{
    char *top, *dir = spool_new(&top), *path, *target, *buf;
    char big[101];
    size_t len;
    mh_err_t err;

    memset(big, 'x', 99);
    big[99] = '\n';
    big[100] = 0;
    path = xasprintf("%s/new/big", dir);
    write_file(path, big);
    free(path);
    ck_assert_int_eq(spool_read(dir, "big", 50, &buf, &len, &err), -1);
    ck_assert_msg(strstr(err.text, "too large") != NULL, "%s", err.text);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(spool_read(dir, "big", 100, &buf, &len, &err), 0);
    ck_assert_uint_eq(len, 100);
    free(buf);

    /* A symlink in new/ is not followed. */
    target = xasprintf("%s/secret", top);
    write_file(target, "secret\n");
    path = xasprintf("%s/new/link", dir);
    ck_assert_int_eq(symlink(target, path), 0);
    ck_assert_int_eq(spool_read(dir, "link", MAX_READ, &buf, &len, &err), -1);
    ck_assert_msg(strstr(err.text, "symbolic link") != NULL, "%s", err.text);
    free(path);
    free(target);

    /* Not a regular file. */
    path = xasprintf("%s/new/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(spool_read(dir, "fifo", MAX_READ, &buf, &len, &err), -1);
    ck_assert_msg(strstr(err.text, "not a regular file") != NULL, "%s", err.text);
    free(path);

    /* Names that are not plain file names. */
    ck_assert_int_eq(spool_read(dir, "../tmp/x", MAX_READ, &buf, &len, &err), -1);
    ck_assert_msg(strstr(err.text, "invalid file name") != NULL, "%s", err.text);
    ck_assert_int_eq(spool_remove(dir, "..", &err), -1);
    ck_assert_int_eq(spool_quarantine(dir, "", &err), -1);
    ck_assert_int_eq(spool_read(dir, "missing", MAX_READ, &buf, &len, &err), -1);
    ck_assert_msg(strstr(err.text, "No such file") != NULL, "%s", err.text);
    free(dir);
    tmpdir_free(top);
}
END_TEST

START_TEST(test_write_failures)
{
    char *top, *dir, *path;
    mh_err_t err;

    /* Spool never prepared. */
    top = tmpdir_new();
    dir = xasprintf("%s/nospool", top);
    ck_assert_int_eq(spool_write(dir, "x\n", 2, &err), -1);
    ck_assert_msg(strstr(err.text, "spool: ") == err.text &&
                      strstr(err.text, "nospool/tmp: No such file") != NULL,
                  "%s", err.text);
    free(dir);
    tmpdir_free(top);

    /* new/ missing: nothing is left in tmp/. */
    dir = spool_new(&top);
    path = xasprintf("%s/new", dir);
    ck_assert_int_eq(rmdir(path), 0);
    ck_assert_int_eq(spool_write(dir, "x\n", 2, &err), -1);
    ck_assert_msg(strstr(err.text, "spool/new: No such file") != NULL, "%s", err.text);
    ck_assert_uint_eq(dir_count(dir, "tmp"), 0);
    ck_assert_int_eq(mkdir(path, 0700), 0);

    /*
     * The write itself fails (a file size limit stands in for a full disk,
     * and works as root): the error names the tmp file, which is removed.
     */
    {
        struct rlimit old, lim;
        char big[4096];
        void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);

        memset(big, 'x', sizeof(big));
        big[sizeof(big) - 1] = '\n';
        ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
        lim = old;
        lim.rlim_cur = 1000;
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
        ck_assert_int_eq(spool_write(dir, big, sizeof(big), &err), -1);
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, oldsig);
        ck_assert_msg(strstr(err.text, "spool: write ") == err.text &&
                          strstr(err.text, "/tmp/") != NULL &&
                          strstr(err.text, "File too large") != NULL,
                      "%s", err.text);
        ck_assert_uint_eq(dir_count(dir, "tmp"), 0);
        ck_assert_uint_eq(dir_count(dir, "new"), 0);
    }

    /* Not a line: refused, nothing written. */
    ck_assert_int_eq(spool_write(dir, "x", 1, &err), -1);
    ck_assert_int_eq(spool_write(dir, "", 0, &err), -1);
    ck_assert_uint_eq(dir_count(dir, "new"), 0);

    /* Read-only tmp/ (root ignores modes, so only as another user). */
    if (geteuid() != 0) {
        char *tmp = xasprintf("%s/tmp", dir);

        ck_assert_int_eq(chmod(tmp, 0500), 0);
        ck_assert_int_eq(spool_write(dir, "x\n", 2, &err), -1);
        ck_assert_msg(strstr(err.text, "Permission denied") != NULL, "%s", err.text);
        ck_assert_int_eq(chmod(tmp, 0700), 0);
        ck_assert_uint_eq(dir_count(dir, "tmp"), 0);
        free(tmp);
    }
    free(path);
    free(dir);
    tmpdir_free(top);
}
END_TEST

/* A large write goes through the write loop whole. */
START_TEST(test_write_large)
{
    char *top, *dir = spool_new(&top), *big;
    size_t len = 3 * 1024 * 1024 + 1;
    size_t nfiles;
    char *all;
    mh_err_t err;

    big = xmalloc(len);
    memset(big, 'a', len - 1);
    big[len - 1] = '\n';
    ck_assert_msg(spool_write(dir, big, len, &err) == 0, "%s", err.text);
    all = spool_all(dir, &nfiles);
    ck_assert_uint_eq(nfiles, 1);
    ck_assert_uint_eq(strlen(all), len);
    ck_assert(memcmp(all, big, len) == 0);
    free(all);
    free(big);
    free(dir);
    tmpdir_free(top);
}
END_TEST

START_TEST(test_tmp_reap)
{
    char *top, *dir = spool_new(&top), *old, *fresh, *sub;
    struct timespec ts[2];

    old = xasprintf("%s/tmp/old", dir);
    fresh = xasprintf("%s/tmp/fresh", dir);
    sub = xasprintf("%s/tmp/subdir", dir);
    write_file(old, "x");
    write_file(fresh, "y");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= 7200;
    ts[1] = ts[0];
    ck_assert_int_eq(utimensat(AT_FDCWD, old, ts, 0), 0);
    ck_assert_int_eq(utimensat(AT_FDCWD, sub, ts, 0), 0);
    spool_tmp_reap(dir, 3600);
    ck_assert(!exists(old));
    ck_assert(exists(fresh));
    ck_assert(exists(sub)); /* only regular files */
    spool_tmp_reap(dir, 100000);
    ck_assert(exists(fresh));
    free(old);
    free(fresh);
    free(sub);
    free(dir);
    tmpdir_free(top);
}
END_TEST

/* ------------------------------------------------- the fake mailhookd */

enum fake_mode {
    FAKE_ACK,       /* "+ID" for each line */
    FAKE_TEMPFAIL,  /* "~busy" */
    FAKE_REJECT,    /* "-bad type" */
    FAKE_SILENT,    /* read, never answer */
    FAKE_REJECT_97, /* "-bad type" for every 97th line, "+ID" otherwise */
    FAKE_HANGUP,    /* answer the first 1000 lines, then close */
    FAKE_BAD_ID,    /* "+" with a wrong id */
    FAKE_SPLIT,     /* "+ID" in three pieces, apart in time: partial lines */
    FAKE_GARBAGE,   /* an answer that is no answer */
};

struct fake {
    char path[108];
    int lfd;
    enum fake_mode mode;
    pthread_t thr;
    size_t lines;     /* lines received */
    size_t conns;     /* connections accepted */
    int fd;           /* the connection being served */
};

static void fake_send_all(int fd, const char *p, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the client gave up on us: fine */
        p += n;
        len -= (size_t)n;
    }
}

/* The id inside an event line: after "id":" up to the next quote. */
static void fake_answer(struct fake *fk, const char *line, size_t len, char *out, size_t *olen)
{
    const char *id = memmem(line, len, "\"id\":\"", 6), *q;
    int n;

    ck_assert_ptr_nonnull(id);
    id += 6;
    q = memchr(id, '"', len - (size_t)(id - line));
    ck_assert_ptr_nonnull(q);
    fk->lines++;
    switch (fk->mode) {
    case FAKE_TEMPFAIL:
        n = snprintf(out + *olen, 600, "~busy\n");
        break;
    case FAKE_REJECT:
        n = snprintf(out + *olen, 600, "-bad type\n");
        break;
    case FAKE_REJECT_97:
        if (fk->lines % 97 == 0) {
            n = snprintf(out + *olen, 600, "-bad type %zu\n", fk->lines);
            break;
        }
        /* FALLTHROUGH */
    case FAKE_ACK:
    case FAKE_HANGUP:
        n = snprintf(out + *olen, 600, "+%.*s\n", (int)(q - id), id);
        break;
    case FAKE_BAD_ID:
        n = snprintf(out + *olen, 600, "+evt_00000000000000000000000000\n");
        break;
    case FAKE_SPLIT: /* "+evt_", then the ULID, then "\n", each after a pause */
        n = snprintf(out + *olen, 600, "+%.*s\n", (int)(q - id), id);
        usleep(20000);
        fake_send_all(fk->fd, out + *olen, 5);
        usleep(20000);
        fake_send_all(fk->fd, out + *olen + 5, (size_t)n - 6);
        usleep(20000);
        fake_send_all(fk->fd, "\n", 1);
        n = 0;
        break;
    case FAKE_GARBAGE:
        n = snprintf(out + *olen, 600, "hello\n");
        break;
    default:
        n = 0;
    }
    *olen += (size_t)n;
}

/* Serve one connection until the client closes it. */
static void *fake_main(void *arg)
{
    struct fake *fk = arg;
    struct pollfd pfd = { .fd = fk->lfd, .events = POLLIN };
    size_t cap = 256 * 1024, have = 0, olen;
    /* An answer is shorter than its line: out never needs more than in, plus
     * room for one snprintf. */
    char *in = xmalloc(cap), *out = xmalloc(cap + 1024), *p, *nl;
    ssize_t n;
    int fd;

    if (poll(&pfd, 1, 10000) != 1 || (fd = accept(fk->lfd, NULL, NULL)) < 0) {
        free(in);
        free(out);
        return NULL;
    }
    fk->conns++;
    fk->fd = fd;
    for (;;) {
        n = read(fd, in + have, cap - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        olen = 0;
        for (p = in; (nl = memchr(p, '\n', have - (size_t)(p - in))) != NULL; p = nl + 1) {
            if (fk->mode == FAKE_HANGUP && fk->lines == 1000) {
                fake_send_all(fd, out, olen);
                goto hangup;
            }
            fake_answer(fk, p, (size_t)(nl - p), out, &olen);
        }
        have -= (size_t)(p - in);
        memmove(in, p, have);
        if (olen > 0)
            fake_send_all(fd, out, olen);
    }
hangup:
    close(fd);
    free(in);
    free(out);
    return NULL;
}

static void fake_start(struct fake *fk, const char *top, enum fake_mode mode)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    memset(fk, 0, sizeof(*fk));
    fk->mode = mode;
    snprintf(fk->path, sizeof(fk->path), "%s/ingest.sock", top);
    memcpy(sa.sun_path, fk->path, sizeof(fk->path));
    fk->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fk->lfd, 0);
    ck_assert_int_eq(bind(fk->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fk->lfd, 16), 0);
    ck_assert_int_eq(pthread_create(&fk->thr, NULL, fake_main, fk), 0);
}

static void fake_stop(struct fake *fk)
{
    ck_assert_int_eq(pthread_join(fk->thr, NULL), 0);
    close(fk->lfd);
}

/* ----------------------------------------------- the client, one event */

static const struct submit_case {
    const char *name;
    int server;         /* -1: no daemon at all, else an enum fake_mode */
    int timeout_ms;
    int want_rc;        /* INGEST_COMMITTED, INGEST_SPOOLED or -1 */
    const char *want_err;
    struct ingest_stats want_stats;
} submit_cases[] = {
    { "no daemon", -1, 0, INGEST_SPOOLED, NULL, { 0, 1, 0 } },
    { "acked", FAKE_ACK, 0, INGEST_COMMITTED, NULL, { 1, 0, 0 } },
    { "tempfail", FAKE_TEMPFAIL, 0, INGEST_SPOOLED, NULL, { 0, 1, 0 } },
    { "rejected", FAKE_REJECT, 0, -1, "rejected by mailhookd: bad type", { 0, 0, 1 } },
    { "silent", FAKE_SILENT, 200, INGEST_SPOOLED, NULL, { 0, 1, 0 } },
    { "wrong id", FAKE_BAD_ID, 0, INGEST_SPOOLED, NULL, { 0, 1, 0 } },
    { "answer in pieces", FAKE_SPLIT, 0, INGEST_COMMITTED, NULL, { 1, 0, 0 } },
    { "garbage answer", FAKE_GARBAGE, 0, INGEST_SPOOLED, NULL, { 0, 1, 0 } },
};

START_TEST(test_submit)
{
    const struct submit_case *c = &submit_cases[_i];
    struct ingest_opts opts = { .timeout_ms = c->timeout_ms };
    char *top, *dir = spool_new(&top), *sock, *line, *all;
    struct ingest_stats st;
    struct fake fk;
    event_t *ev = test_event(1);
    int64_t t0, elapsed;
    size_t nfiles;
    ingest_t *h;
    mh_err_t err = { "" };
    int rc;

    if (c->server >= 0) {
        fake_start(&fk, top, (enum fake_mode)c->server);
        sock = xstrdup(fk.path);
    } else {
        sock = xasprintf("%s/no-such.sock", top);
    }
    h = ingest_open(sock, dir, &opts);
    t0 = time_mono_ms();
    rc = ingest_submit(h, ev, &err);
    elapsed = time_mono_ms() - t0;
    ck_assert_msg(rc == c->want_rc, "%s: rc %d, want %d (%s)", c->name, rc, c->want_rc,
                  err.text);
    if (c->want_err)
        ck_assert_msg(strstr(err.text, c->want_err) != NULL, "%s: err \"%s\"", c->name,
                      err.text);
    if (c->timeout_ms > 0 && c->server == FAKE_SILENT)
        ck_assert_msg(elapsed >= c->timeout_ms && elapsed < 10 * c->timeout_ms,
                      "%s: took %lld ms", c->name, (long long)elapsed);
    ingest_get_stats(h, &st);
    ck_assert_uint_eq(st.committed, c->want_stats.committed);
    ck_assert_uint_eq(st.spooled, c->want_stats.spooled);
    ck_assert_uint_eq(st.rejected, c->want_stats.rejected);
    ck_assert_int_eq(ingest_flush(h, &err), 0); /* submit's outcome is not reported twice */
    h = ingest_close(h);
    ck_assert_ptr_null(h);
    if (c->server >= 0)
        fake_stop(&fk);

    /* The spool holds exactly this event's line when it was spooled. */
    all = spool_all(dir, &nfiles);
    line = event_line(ev);
    if (rc == INGEST_SPOOLED) {
        ck_assert_uint_eq(nfiles, 1);
        ck_assert_str_eq(all, line);
    } else {
        ck_assert_uint_eq(nfiles, 0);
    }
    ck_assert_uint_eq(dir_count(dir, "tmp"), 0);
    free(line);
    free(all);
    event_free(ev);
    free(sock);
    free(dir);
    tmpdir_free(top);
}
END_TEST

/* No daemon: the first submit tries and fails, later ones spool at once. */
START_TEST(test_retry_hold)
{
    struct ingest_opts opts = { .retry_ms = 60000 };
    char *top, *dir = spool_new(&top), *sock = xasprintf("%s/no-such.sock", top), *all;
    struct ingest_stats st;
    size_t nfiles;
    mh_err_t err;
    ingest_t *h = ingest_open(sock, dir, &opts);

    for (int i = 0; i < 3; i++) {
        event_t *ev = test_event(i);

        ck_assert_int_eq(ingest_submit(h, ev, &err), INGEST_SPOOLED);
        event_free(ev);
    }
    ingest_get_stats(h, &st);
    ck_assert_uint_eq(st.spooled, 3);
    ingest_close(h);
    all = spool_all(dir, &nfiles);
    ck_assert_uint_eq(nfiles, 3);
    free(all);
    free(sock);
    free(dir);
    tmpdir_free(top);
}
END_TEST

/* Neither daemon nor spool: an error the caller can log, never a hang;
 * temporary (INGEST_ETEMP: nothing was kept, try again), not a rejection. */
START_TEST(test_submit_lost)
{
    char *top = tmpdir_new(), *sock = xasprintf("%s/no-such.sock", top);
    char *dir = xasprintf("%s/no-spool", top);
    event_t *ev = test_event(1);
    ingest_t *h = ingest_open(sock, dir, NULL);
    mh_err_t err;

    ck_assert_int_eq(ingest_submit(h, ev, &err), INGEST_ETEMP);
    ck_assert_msg(strstr(err.text, "neither delivered nor spooled") != NULL, "%s", err.text);
    ck_assert_msg(strstr(err.text, "no-spool") != NULL, "%s", err.text);
    ck_assert_int_eq(ingest_flush(h, &err), 0);
    ingest_close(h);
    event_free(ev);
    free(sock);
    free(dir);
    tmpdir_free(top);
}
END_TEST

/* ----------------------------------------------- the client, pipelined */

static void count_ack(void *ctx, int64_t latency_us)
{
    size_t *n = ctx;

    ck_assert_int_ge(latency_us, 0);
    (*n)++;
}

static const struct pipe_case {
    const char *name;
    int server;
    size_t events, window;
    int want_flush;
    struct ingest_stats want_stats;
    size_t max_files; /* spooling batches; 0: not checked (depends on timing) */
} pipe_cases[] = {
    { "acked", FAKE_ACK, 5000, 64, 0, { 5000, 0, 0 }, 0 },
    { "acked, default window", FAKE_ACK, 5000, 0, 0, { 5000, 0, 0 }, 0 },
    { "every 97th rejected", FAKE_REJECT_97, 5000, 64, -1, { 5000 - 51, 0, 51 }, 0 },
    { "all tempfailed", FAKE_TEMPFAIL, 3000, 1024, 0, { 0, 3000, 0 }, 0 },
    /* 1000 acked, then the connection drops: the rest (in flight or not) is
     * spooled, a window at a time since the socket is not retried. */
    { "hangup after 1000", FAKE_HANGUP, 5000, 64, 0, { 1000, 4000, 0 }, 4000 / 64 + 2 },
    { "no daemon", -1, 5000, 64, 0, { 0, 5000, 0 }, 5000 / 64 + 1 },
};

START_TEST(test_pipeline)
{
    const struct pipe_case *c = &pipe_cases[_i];
    struct ingest_opts opts = { .window = c->window, .retry_ms = 60000, .on_ack = count_ack };
    char *top, *dir = spool_new(&top), *sock, *all, *want = xstrdup(""), *t;
    struct ingest_stats st;
    struct fake fk;
    size_t acks = 0, nfiles;
    ingest_t *h;
    mh_err_t err = { "" };
    int rc;

    opts.on_ack_ctx = &acks;
    if (c->server >= 0) {
        fake_start(&fk, top, (enum fake_mode)c->server);
        sock = xstrdup(fk.path);
    } else {
        sock = xasprintf("%s/no-such.sock", top);
    }
    h = ingest_open(sock, dir, &opts);
    for (size_t i = 0; i < c->events; i++) {
        event_t *ev = test_event((int)i);

        ck_assert_msg(ingest_send(h, ev, &err) == 0, "%s", err.text);
        if (i >= 1000 || c->server != FAKE_HANGUP) { /* what must be in the spool */
            char *line = event_line(ev);

            t = xasprintf("%s%s", want, line);
            free(want);
            free(line);
            want = t;
        }
        event_free(ev);
    }
    rc = ingest_flush(h, &err);
    ck_assert_msg(rc == c->want_flush, "%s: flush %d (%s)", c->name, rc, err.text);
    if (rc < 0)
        ck_assert_msg(strstr(err.text, "rejected by mailhookd: bad type 97") != NULL,
                      "%s: first rejection reported, got %s", c->name, err.text);
    ck_assert_int_eq(ingest_flush(h, &err), 0); /* reported once */
    ingest_get_stats(h, &st);
    ck_assert_msg(st.committed == c->want_stats.committed &&
                      st.spooled == c->want_stats.spooled &&
                      st.rejected == c->want_stats.rejected,
                  "%s: committed %llu spooled %llu rejected %llu", c->name,
                  (unsigned long long)st.committed, (unsigned long long)st.spooled,
                  (unsigned long long)st.rejected);
    ck_assert_uint_eq(acks, c->want_stats.committed);
    h = ingest_close(h);
    if (c->server >= 0) {
        fake_stop(&fk);
        if (c->server != FAKE_HANGUP)
            ck_assert_uint_eq(fk.lines, c->events);
        ck_assert_uint_eq(fk.conns, 1);
    }
    all = spool_all(dir, &nfiles);
    if (c->want_stats.spooled > 0)
        ck_assert_msg(strcmp(all, want) == 0, "%s: spool content differs (%zu vs %zu bytes)",
                      c->name, strlen(all), strlen(want));
    else
        ck_assert_uint_eq(nfiles, 0);
    if (c->max_files)
        ck_assert_msg(nfiles <= c->max_files, "%s: %zu spool files", c->name, nfiles);
    free(all);
    free(want);
    free(sock);
    free(dir);
    tmpdir_free(top);
}
END_TEST

/* ingest_close() flushes what is queued before it frees. */
START_TEST(test_close_flushes)
{
    char *top, *dir = spool_new(&top);
    struct fake fk;
    size_t nfiles;
    mh_err_t err;
    ingest_t *h;
    char *all;

    fake_start(&fk, top, FAKE_ACK);
    h = ingest_open(fk.path, dir, NULL);
    for (int i = 0; i < 100; i++) {
        event_t *ev = test_event(i);

        ck_assert_msg(ingest_send(h, ev, &err) == 0, "%s", err.text);
        event_free(ev);
    }
    ck_assert_ptr_null(ingest_close(h));
    fake_stop(&fk);
    ck_assert_uint_eq(fk.lines, 100);
    all = spool_all(dir, &nfiles);
    ck_assert_uint_eq(nfiles, 0);
    free(all);
    free(dir);
    tmpdir_free(top);
}
END_TEST

/* ------------------------------------------------------------- main */

static Suite *spool_suite(void)
{
    Suite *s = suite_create("spool");
    TCase *tc = tcase_create("spool");
    TCase *cl = tcase_create("ingest_client");

    tcase_add_test(tc, test_prepare_modes);
    tcase_add_test(tc, test_write_list_read);
    tcase_add_test(tc, test_list_empty_and_dotfiles);
    tcase_add_test(tc, test_read_refusals);
    tcase_add_test(tc, test_write_failures);
    tcase_add_test(tc, test_write_large);
    tcase_add_test(tc, test_tmp_reap);
    suite_add_tcase(s, tc);

    tcase_set_timeout(cl, 60);
    tcase_add_loop_test(cl, test_submit, 0, (int)(sizeof(submit_cases) / sizeof(submit_cases[0])));
    tcase_add_test(cl, test_retry_hold);
    tcase_add_test(cl, test_submit_lost);
    tcase_add_test(cl, test_close_flushes);
    tcase_add_loop_test(cl, test_pipeline, 0, (int)(sizeof(pipe_cases) / sizeof(pipe_cases[0])));
    suite_add_tcase(s, cl);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(spool_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
