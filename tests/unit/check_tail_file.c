/* SPDX-License-Identifier: MIT */
/*
 * check_tail_file.c - unit tests (Check) for the log follower (tail_file.h).
 *
 * Everything happens on real files in a fresh temporary directory: real
 * renames, truncations, deletions and restarts, no mocks. The rotation
 * cases are a table of scenarios, each a list of steps in a small language
 * (write lines N..M, read lines N..M, rename to ".1", copytruncate, stop and
 * restart from the encoded checkpoint...), so a new case is a new row.
 * Lines are "line N" so that every check is "exactly these, in this order".
 *
 * Rotated files are found again after downtime among logrotate's names
 * (".1", ".2.gz" with delaycompress, dateext "-20261201"), gzip'ed here
 * with zlib the way gzip(1) does, keeping the mtime. Where the order of two
 * events inside tail_next() matters (the writer appending its last lines
 * to the renamed file while the reader looks at the new one), this file
 * defines fstat() itself: an armed hook makes those writes at the moment
 * the reader fstat()s the new file, which is what a descheduled reader
 * sees; no timing is involved. Warnings (stderr) are captured per scenario
 * and counted by WARNS steps.
 *
 * The stress test runs a writer thread that appends 100,000 numbered lines
 * and rotates every 10,000 (by rename and by copytruncate in turn) while
 * the reader follows; every number must come exactly once, in order, within
 * 30 seconds. The writer waits before a rotation until the reader has
 * reached the current file: two rotations before the reader looks once are
 * beyond any follower (see tail_file.c).
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "tail_file.h"
#include "testdir.h"
#include "xalloc.h"

#define MAX_LINE 65536
#define WFLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC) /* how a log writer opens */

/* ------------------------------------------------------------ helpers */

static char *tmpdir_new(void)
{
    return testdir_new("tail");
}

#define tmpdir_free testdir_free

static int wopen(const char *path)
{
    int fd = open(path, WFLAGS, 0644);

    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    return fd;
}

static void wput(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);

        ck_assert_msg(w > 0, "write: %s", strerror(errno));
        s += w;
        n -= (size_t)w;
    }
}

static void wstr(int fd, const char *s)
{
    wput(fd, s, strlen(s));
}

static void wlines(int fd, int from, int to)
{
    char b[32];

    for (int i = from; i <= to; i++)
        wput(fd, b, (size_t)snprintf(b, sizeof(b), "line %d\n", i));
}

static void copy_file(const char *from, const char *to)
{
    char b[65536];
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t n;

    ck_assert_msg(in >= 0 && out >= 0, "copy %s to %s: %s", from, to, strerror(errno));
    while ((n = read(in, b, sizeof(b))) > 0)
        wput(out, b, (size_t)n);
    ck_assert_int_eq(n, 0);
    close(in);
    ck_assert_int_eq(close(out), 0);
}

/* gzip path into path.gz as gzip(1) does: same mtime, original removed. */
static void gzip_file(const char *path)
{
    char b[65536], *gzname = xasprintf("%s.gz", path);
    int in = open(path, O_RDONLY);
    struct stat st;
    gzFile gz;
    ssize_t n;

    ck_assert_msg(in >= 0 && fstat(in, &st) == 0, "gzip %s: %s", path, strerror(errno));
    gz = gzopen(gzname, "wb");
    ck_assert_ptr_nonnull(gz);
    while ((n = read(in, b, sizeof(b))) > 0)
        ck_assert_int_eq(gzwrite(gz, b, (unsigned)n), (int)n);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(gzclose(gz), Z_OK);
    close(in);
    ck_assert_int_eq(utimensat(AT_FDCWD, gzname, (struct timespec[2]){st.st_atim, st.st_mtim}, 0), 0);
    ck_assert_int_eq(unlink(path), 0);
    free(gzname);
}

/* ------------------------------------------------------------ fstat hook */

/* Armed: the next fstat() of the file dev/ino (the new log) first appends
 * old_text to the file old_fd (the renamed one) and new_text to new_fd. */
static struct {
    bool armed;
    dev_t dev;
    ino_t ino;
    int old_fd, new_fd;
    const char *old_text, *new_text;
} hook;

int fstat(int fd, struct stat *st)
{
    static int (*real_fstat)(int, struct stat *);
    int r;

    if (real_fstat == NULL)
        *(void **)&real_fstat = dlsym(RTLD_NEXT, "fstat");
    r = real_fstat(fd, st);
    if (r == 0 && hook.armed && st->st_dev == hook.dev && st->st_ino == hook.ino) {
        hook.armed = false;
        wstr(hook.old_fd, hook.old_text);
        wstr(hook.new_fd, hook.new_text);
        r = real_fstat(fd, st); /* as if the call had taken that long */
    }
    return r;
}

/* ------------------------------------------------------------ warnings */

/* How many times s occurs in the captured stderr since the last count. */
static int count_warnings(int cap_fd, const char *s)
{
    char b[16384], *p = b;
    ssize_t n;
    int k = 0;

    n = pread(cap_fd, b, sizeof(b) - 1, 0);
    ck_assert_int_ge(n, 0);
    b[n] = 0;
    while (*s && (p = strstr(p, s)) != NULL) {
        k++;
        p += strlen(s);
    }
    ck_assert_int_eq(write(STDOUT_FILENO, b, (size_t)n) >= 0, 1); /* keep them visible */
    ck_assert_int_eq(ftruncate(cap_fd, 0), 0);
    return k;
}

/* The next line must be want, not truncated; *pos filled. */
static void expect_line(tail_t *t, const char *want, struct tail_pos *pos, const char *where)
{
    const char *line = NULL;
    size_t len = 0;
    bool trunc = true;
    int r = tail_next(t, &line, &len, &trunc, pos);

    ck_assert_msg(r == 1, "%s: want \"%s\", tail_next returned %d", where, want, r);
    ck_assert_msg(len == strlen(want) && memcmp(line, want, len) == 0,
                  "%s: want \"%s\", got \"%.*s\"", where, want, (int)(len > 80 ? 80 : len), line);
    ck_assert_msg(line[len] == 0, "%s: line not NUL-terminated", where);
    ck_assert_msg(!trunc, "%s: \"%s\" flagged truncated", where, want);
}

static void expect_none(tail_t *t, const char *where)
{
    const char *line = NULL;
    size_t len = 0;
    bool trunc;
    struct tail_pos pos;
    int r = tail_next(t, &line, &len, &trunc, &pos);

    ck_assert_msg(r == 0, "%s: want nothing, got %d \"%.*s\"", where, r,
                  r == 1 ? (int)(len > 80 ? 80 : len) : 0, r == 1 ? line : "");
}

/* pread(), or for a .gz file the decompressed bytes at off. */
static ssize_t read_at(int fd, const char *path, char *b, size_t n, uint64_t off)
{
    size_t plen = strlen(path);
    gzFile gz;
    int got;

    if (plen < 3 || strcmp(path + plen - 3, ".gz") != 0)
        return pread(fd, b, n, (off_t)off);
    gz = gzopen(path, "rb");
    ck_assert_ptr_nonnull(gz);
    got = gzseek(gz, (z_off_t)off, SEEK_SET) == (z_off_t)off ? gzread(gz, b, (unsigned)n) : -1;
    gzclose(gz);
    return got;
}

/*
 * pos must describe the file the line came from: in dir, the file with
 * pos's dev/ino holds the line just before pos->offset (followed by "\n",
 * or by the end of the file). Files no longer in dir are not checked.
 */
static void expect_pos(const char *dir, const struct tail_pos *pos, const char *line,
                       const char *where)
{
    size_t len = strlen(line);
    char *b = xmalloc(len + 2), *path = NULL;
    struct dirent *de;
    struct stat st;
    DIR *d = opendir(dir);
    ssize_t n;
    int fd;

    ck_assert_ptr_nonnull(d);
    while (path == NULL && (de = readdir(d)) != NULL) {
        char *p = xasprintf("%s/%s", dir, de->d_name);

        if (stat(p, &st) == 0 && (uint64_t)st.st_dev == pos->dev && (uint64_t)st.st_ino == pos->ino)
            path = p;
        else
            free(p);
    }
    closedir(d);
    if (path != NULL) {
        ck_assert_msg(pos->offset >= len, "%s: offset %llu before \"%s\"", where,
                      (unsigned long long)pos->offset, line);
        fd = open(path, O_RDONLY);
        ck_assert_int_ge(fd, 0);
        /* "line\n" ending at offset, or "line" at the very end. */
        n = read_at(fd, path, b, len + 1, pos->offset - len - 1);
        if (!(pos->offset > len && n == (ssize_t)len + 1 && b[len] == '\n' &&
              memcmp(b, line, len) == 0)) {
            n = read_at(fd, path, b, len + 1, pos->offset - len);
            ck_assert_msg(n == (ssize_t)len && memcmp(b, line, len) == 0,
                          "%s: \"%s\" is not before offset %llu of %s", where, line,
                          (unsigned long long)pos->offset, path);
        }
        close(fd);
        free(path);
    }
    free(b);
}

/* ------------------------------------------------------------ scenarios */

enum op {
    OP_END,
    OP_OPEN_START, /* tail_open_from_start */
    OP_OPEN_END,   /* tail_open(NULL pos) */
    OP_CREATE,     /* writer: a new file at the path (the previous fd becomes "old") */
    OP_WRITE,      /* writer: "line a" .. "line b" */
    OP_WRITE_OLD,  /* the same into the previous (rotated away / deleted) file */
    OP_RAW,        /* writer: s as is */
    OP_RAW_OLD,
    OP_READ,       /* reader: exactly "line a" .. "line b" */
    OP_NONE,       /* reader: nothing available */
    OP_SPLIT,      /* "line a\n" in three writes: nothing, nothing, then the line */
    OP_RENAME,     /* path -> path + s */
    OP_COPYTRUNC,  /* copy path to path + s, truncate path */
    OP_TRUNC,      /* truncate path, no copy */
    OP_UNLINK,     /* unlink path + s */
    OP_STOP,       /* checkpoint: encode the last position, close the reader */
    OP_START,      /* decode the checkpoint, tail_open with it */
    OP_CRAFT,      /* checkpoint = path's dev/ino, a wrong head hash, offset a */
    OP_MOVE,       /* path + s -> path + s2 (logrotate shifting .1 to .2) */
    OP_COPY,       /* copy path to path + s, no truncation (yet) */
    OP_GZIP,       /* gzip path + s to path + s + ".gz", as gzip(1) does */
    OP_AGE,        /* set the mtime of path + s to a seconds ago */
    OP_ROTATE_WAIT, /* tail_set_rotate_wait(a ms) on the open reader */
    OP_HOOK,       /* arm the fstat hook on the file at the path: s to old, s2 to new */
    OP_WARNS,      /* s was warned (or said) exactly a times since the last WARNS */
};

struct step {
    enum op op;
    int a, b;
    const char *s, *s2;
};

/* Steps, written the way they read. */
#define DO(op) { OP_##op, 0, 0, NULL, NULL }
#define WRITE(a, b) { OP_WRITE, a, b, NULL, NULL }
#define WRITE_OLD(a, b) { OP_WRITE_OLD, a, b, NULL, NULL }
#define READ(a, b) { OP_READ, a, b, NULL, NULL }
#define RAW(s) { OP_RAW, 0, 0, s, NULL }
#define RAW_OLD(s) { OP_RAW_OLD, 0, 0, s, NULL }
#define SPLIT(a) { OP_SPLIT, a, 0, NULL, NULL }
#define RENAME(s) { OP_RENAME, 0, 0, s, NULL }
#define COPYTRUNC(s) { OP_COPYTRUNC, 0, 0, s, NULL }
#define UNLINK(s) { OP_UNLINK, 0, 0, s, NULL }
#define CRAFT(off) { OP_CRAFT, off, 0, NULL, NULL }
#define MOVE(s, s2) { OP_MOVE, 0, 0, s, s2 }
#define COPY(s) { OP_COPY, 0, 0, s, NULL }
#define GZIP(s) { OP_GZIP, 0, 0, s, NULL }
#define AGE(s, sec) { OP_AGE, sec, 0, s, NULL }
#define ROTATE_WAIT(ms) { OP_ROTATE_WAIT, ms, 0, NULL, NULL }
#define HOOK(old, new) { OP_HOOK, 0, 0, old, new }
#define WARNS(n, s) { OP_WARNS, n, 0, s, NULL }

static const struct scenario {
    const char *name;
    struct step steps[24];
} scenarios[] = {
    { "lines appended in pieces",
      { DO(OPEN_START), DO(NONE), DO(CREATE), SPLIT(1), WRITE(2, 3), RAW("line 4\nli"),
        READ(2, 4), DO(NONE), RAW("ne 5\n"), READ(5, 5) } },
    { "open from start reads all",
      { DO(CREATE), WRITE(1, 50), DO(OPEN_START), READ(1, 50), DO(NONE) } },
    { "open without a position starts at the end",
      { DO(CREATE), WRITE(1, 5), DO(OPEN_END), DO(NONE), WRITE(6, 7), READ(6, 7) } },
    { "open at the end with a line being written reads it whole",
      { DO(CREATE), WRITE(1, 5), RAW("line"), DO(OPEN_END), DO(NONE),
        RAW(" 6\n"), READ(6, 6) } },
    { "restart from a saved position",
      { DO(CREATE), WRITE(1, 5), DO(OPEN_START), READ(1, 3), DO(STOP), WRITE(6, 7),
        DO(START), READ(4, 7), DO(NONE) } },
    { "restart at the very end",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 2), DO(STOP), DO(START), DO(NONE),
        WRITE(3, 3), READ(3, 3) } },
    { "rename rotation, the old file written once more",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), RENAME(".1"), WRITE(4, 4),
        DO(CREATE), WRITE_OLD(5, 5), WRITE(6, 8), READ(3, 8),
        DO(NONE) } },
    { "rename rotation, the old file ends unterminated",
      { DO(CREATE), WRITE(1, 1), DO(OPEN_START), READ(1, 1), RENAME(".1"), DO(CREATE),
        RAW_OLD("line 2"), WRITE(3, 4), READ(2, 4), DO(NONE) } },
    { "rename rotation, reader looks before the new file exists",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 2), RENAME(".1"), DO(NONE),
        RAW("line 3\nline"), READ(3, 3), DO(NONE), RAW(" 4\n"), READ(4, 4),
        DO(CREATE), DO(NONE), WRITE(5, 6), READ(5, 6) } },
    { "rename rotation, the writer stays on the old file until the new one has a line",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 2), RENAME(".1"), DO(CREATE), DO(NONE),
        WRITE_OLD(3, 4), READ(3, 4), RAW_OLD("line 5"), DO(NONE), RAW_OLD("\n"), READ(5, 5),
        RAW_OLD("line 6"), DO(NONE), WRITE(7, 7), READ(6, 7), DO(NONE) } },
    { "rename rotation twice before the new file gets a line",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 2), RENAME(".1"), DO(CREATE), DO(NONE),
        RENAME(".2"), DO(CREATE), WRITE(3, 4), READ(3, 4), DO(NONE) } },
    { "rename rotation twice before we look once",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 1), RENAME(".1"), DO(CREATE), WRITE(3, 4),
        MOVE(".1", ".2"), RENAME(".1"), DO(CREATE), WRITE(5, 6), READ(2, 6), DO(NONE),
        WARNS(1, "rotated 2 times since we looked") } },
    { "rename rotation three times before we look once",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 1), RENAME(".1"), DO(CREATE), WRITE(3, 4),
        MOVE(".1", ".2"), RENAME(".1"), DO(CREATE), WRITE(5, 6), MOVE(".2", ".3"),
        MOVE(".1", ".2"), RENAME(".1"), DO(CREATE), WRITE(7, 7), READ(2, 7), DO(NONE) } },
    { "rename rotation twice, each noticed",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 1), RENAME(".1"), DO(CREATE),
        WRITE(3, 4), READ(2, 3), RENAME(".2"), DO(CREATE), WRITE(5, 6),
        READ(4, 6), DO(NONE) } },
    { "copytruncate with lines between our read and the truncation",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 3), DO(NONE), WRITE(4, 5),
        COPYTRUNC(".1"), WRITE(6, 7), READ(4, 7), DO(NONE) } },
    { "copytruncate, the file regrown past our offset before we look",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 3), DO(NONE), WRITE(4, 4),
        COPYTRUNC(".1"), WRITE(5, 400), READ(4, 400), DO(NONE) } },
    { "copytruncate, the file rewritten to exactly our offset before we look",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 3), DO(NONE), COPYTRUNC(".1"),
        WRITE(7, 9), READ(7, 9), DO(NONE) } },
    { "copytruncate among older rotated files",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 3), COPYTRUNC(".2"),
        WRITE(4, 5), READ(4, 5), WRITE(6, 7), COPYTRUNC(".1"), WRITE(8, 8),
        READ(6, 8), DO(NONE) } },
    { "truncation without a copy: continue from 0",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 3), WRITE(4, 4), DO(TRUNC),
        WRITE(5, 6), READ(5, 6), DO(NONE) } },
    { "deleted, still written, then recreated",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 2), UNLINK(""), DO(NONE),
        WRITE(3, 3), READ(3, 3), DO(NONE), DO(CREATE), WRITE(4, 5), READ(4, 5),
        DO(NONE) } },
    { "deleted and recreated between two looks",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 2), UNLINK(""), DO(CREATE),
        WRITE(3, 4), READ(3, 4), DO(NONE) } },
    { "missing at open, created later",
      { DO(OPEN_START), DO(NONE), DO(NONE), DO(CREATE), WRITE(1, 2), READ(1, 2) } },
    { "restart after a rename rotation while down",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), DO(STOP), WRITE(4, 4),
        RENAME("-20261122"), DO(CREATE), WRITE(5, 6), DO(START), READ(3, 6),
        DO(NONE) } },
    { "restart after a rename rotation while down, path not yet recreated",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), DO(STOP), RENAME(".1"),
        DO(START), READ(3, 3), DO(NONE), DO(CREATE), WRITE(4, 4), READ(4, 4) } },
    { "restart after copytruncate while down",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), DO(STOP), WRITE(4, 4),
        COPYTRUNC(".1"), WRITE(5, 5), DO(START), READ(3, 5), DO(NONE) } },
    { "restart after copytruncate while down, regrown past the offset",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), DO(STOP), COPYTRUNC(".1"),
        WRITE(100, 300), DO(START), READ(3, 3), READ(100, 300), DO(NONE) } },
    { "restart, the rotated file is gone: new file from its start",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), DO(STOP), RENAME(".1"),
        DO(CREATE), WRITE(4, 5), UNLINK(".1"), DO(START), READ(4, 5), DO(NONE) } },
    { "restart from a checkpoint taken while draining the rotated file",
      { DO(CREATE), WRITE(1, 4), DO(OPEN_START), READ(1, 1), RENAME(".1"), DO(CREATE),
        WRITE(5, 6), READ(2, 3), DO(STOP), DO(START), READ(4, 6), DO(NONE) } },
    { "restart from a checkpoint taken while reading the copy",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 2), WRITE(3, 4),
        COPYTRUNC(".1"), WRITE(5, 5), READ(3, 3), DO(STOP), DO(START), READ(4, 5),
        DO(NONE) } },
    { "same dev/ino, another head: a new file, read from its start",
      { DO(CREATE), WRITE(1, 3), CRAFT(14), DO(START), READ(1, 3), DO(NONE) } },
    { "same dev/ino, another head, offset beyond the end",
      { DO(CREATE), WRITE(1, 3), CRAFT(1000), DO(START), READ(1, 3), DO(NONE) } },
    /* The writer appends to the renamed file while the reader is busy
     * looking at the new one (the hook): those lines come first. */
    { "rename rotation, lines added to the old file while the new one is looked at",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), READ(1, 2), RENAME(".1"), DO(CREATE), DO(NONE),
        HOOK("line 3\nline 4\n", "line 5\n"), READ(3, 5), DO(NONE) } },
    { "rename rotation, a half line added to the old file while the new one is looked at",
      { DO(CREATE), WRITE(1, 2), DO(OPEN_START), ROTATE_WAIT(3600000), READ(1, 2), RENAME(".1"),
        DO(CREATE), DO(NONE), HOOK("line 3\nline", "line 5\n"), READ(3, 3), DO(NONE),
        RAW_OLD(" 4\n"), READ(4, 4), DO(NONE), AGE(".1", 3600), READ(5, 5), DO(NONE) } },
    { "rename rotation, the old file's unterminated end waits for the grace period",
      { DO(CREATE), WRITE(1, 1), DO(OPEN_START), ROTATE_WAIT(3600000), READ(1, 1), RENAME(".1"),
        DO(CREATE), RAW_OLD("line 2"), WRITE(3, 3), DO(NONE), DO(NONE), AGE(".1", 3600),
        READ(2, 3), DO(NONE) } },
    /* Downtime across rotations (Debian's rsyslog logrotate and dateext). */
    { "restart after two rotations while down",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), DO(STOP), RENAME(".1"), DO(CREATE),
        WRITE(4, 5), MOVE(".1", ".2"), RENAME(".1"), DO(CREATE), WRITE(6, 7), DO(START),
        READ(3, 7), DO(NONE), WARNS(0, "lost") } },
    { "restart after two rotations while down, the older one gzip'ed (delaycompress)",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), DO(STOP), RENAME(".1"), DO(CREATE),
        WRITE(4, 5), MOVE(".1", ".2"), GZIP(".2"), RENAME(".1"), DO(CREATE), WRITE(6, 7),
        DO(START), READ(3, 7), DO(NONE), WARNS(0, "lost") } },
    { "restart after three rotations while down, all gzip'ed (compress)",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), DO(STOP), RENAME(".1"), GZIP(".1"),
        DO(CREATE), WRITE(4, 5), MOVE(".1.gz", ".2.gz"), RENAME(".1"), GZIP(".1"), DO(CREATE),
        WRITE(6, 7), MOVE(".2.gz", ".3.gz"), MOVE(".1.gz", ".2.gz"), RENAME(".1"), GZIP(".1"),
        DO(CREATE), WRITE(8, 8), DO(START), READ(3, 8), DO(NONE), WARNS(0, "lost") } },
    { "restart after two dateext rotations while down, the older one gzip'ed",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), DO(STOP), RENAME("-20261201"),
        DO(CREATE), WRITE(4, 5), RENAME("-20261202"), GZIP("-20261201"), DO(CREATE), WRITE(6, 7),
        DO(START), READ(3, 7), DO(NONE), WARNS(0, "lost") } },
    { "restart from a checkpoint inside a gzip'ed rotated file",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 2), DO(STOP), RENAME(".1"), DO(CREATE),
        WRITE(4, 5), MOVE(".1", ".2"), GZIP(".2"), RENAME(".1"), DO(CREATE), WRITE(6, 7),
        DO(START), READ(3, 3), DO(STOP), DO(START), READ(4, 4), DO(STOP), DO(START), READ(5, 7),
        DO(NONE), WARNS(0, "lost") } },
    { "restart after two rotations while down, the position's file rotated out",
      { DO(CREATE), WRITE(1, 3), AGE("", 7200), DO(OPEN_START), READ(1, 2), DO(STOP),
        RENAME(".1"), DO(CREATE), WRITE(4, 5), MOVE(".1", ".2"), RENAME(".1"), DO(CREATE),
        WRITE(6, 7), UNLINK(".2"), DO(START), READ(4, 7), DO(NONE),
        WARNS(1, "lines logged after that position and before the start of"), DO(NONE),
        WARNS(0, "lost") } },
    /* copytruncate: warn only when lines were lost. */
    { "copytruncate after we read past what the copy holds: nothing lost, no warning",
      { DO(CREATE), WRITE(1, 40), DO(OPEN_START), READ(1, 40), COPY(".1"), WRITE(41, 42),
        READ(41, 42), DO(TRUNC), WRITE(43, 43), READ(43, 43), DO(NONE), WARNS(0, "lost") } },
    { "copytruncate with lines in the copy only: read from it, no warning",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 3), WRITE(4, 5), COPYTRUNC(".1"),
        WRITE(6, 6), READ(4, 6), DO(NONE), WARNS(0, "lost") } },
    { "copytruncate, the copy gzip'ed before we look: read from the .gz, no warning",
      { DO(CREATE), WRITE(1, 40), DO(OPEN_START), READ(1, 40), WRITE(41, 42), COPYTRUNC(".1"),
        GZIP(".1"), WRITE(43, 43), READ(41, 43), DO(NONE), WARNS(0, "lost") } },
    { "truncation without a copy after lines we had not read: warned once",
      { DO(CREATE), WRITE(1, 3), DO(OPEN_START), READ(1, 3), WRITE(4, 4), DO(TRUNC),
        WRITE(5, 6), READ(5, 6), DO(NONE), WARNS(1, "lost") } },
};

struct run {
    const struct scenario *sc;
    char *dir, *path;
    int wfd, oldfd;
    tail_t *t;
    struct tail_pos pos;
    bool have_pos;
    char *saved;
    int cap_fd; /* stderr, captured */
};

static void run_open(struct run *r, int how)
{
    struct tail_pos pos;
    mh_err_t err;

    ck_assert_msg(r->t == NULL, "%s: reader already open", r->sc->name);
    if (how == OP_OPEN_START) {
        r->t = tail_open_from_start(r->path, MAX_LINE, &err);
    } else if (how == OP_OPEN_END) {
        r->t = tail_open(r->path, NULL, MAX_LINE, &err);
    } else {
        ck_assert_msg(r->saved != NULL, "%s: START without STOP", r->sc->name);
        ck_assert_msg(tail_pos_decode(r->saved, &pos, &err) == 0, "%s", err.text);
        r->t = tail_open(r->path, &pos, MAX_LINE, &err);
        r->saved = xfree(r->saved);
    }
    ck_assert_msg(r->t != NULL, "%s: %s", r->sc->name, err.text);
    tail_set_rotate_wait(r->t, 0); /* unless a ROTATE_WAIT step says */
}

static void run_step(struct run *r, const struct step *s, const char *where)
{
    char *name, *to, b[32];
    struct timespec ts[2];
    struct stat st;
    int k;

    switch (s->op) {
    case OP_OPEN_START:
    case OP_OPEN_END:
    case OP_START:
        run_open(r, s->op);
        break;
    case OP_CREATE:
        if (r->oldfd >= 0)
            close(r->oldfd);
        r->oldfd = r->wfd;
        r->wfd = wopen(r->path);
        break;
    case OP_WRITE:
        wlines(r->wfd, s->a, s->b);
        break;
    case OP_WRITE_OLD:
        wlines(r->oldfd, s->a, s->b);
        break;
    case OP_RAW:
        wstr(r->wfd, s->s);
        break;
    case OP_RAW_OLD:
        wstr(r->oldfd, s->s);
        break;
    case OP_READ:
        for (int i = s->a; i <= s->b; i++) {
            snprintf(b, sizeof(b), "line %d", i);
            expect_line(r->t, b, &r->pos, where);
            expect_pos(r->dir, &r->pos, b, where);
            r->have_pos = true;
        }
        break;
    case OP_NONE:
        expect_none(r->t, where);
        break;
    case OP_SPLIT:
        snprintf(b, sizeof(b), "line %d", s->a);
        wput(r->wfd, b, 2);
        expect_none(r->t, where);
        wput(r->wfd, b + 2, strlen(b) - 2);
        expect_none(r->t, where);
        wstr(r->wfd, "\n");
        expect_line(r->t, b, &r->pos, where);
        break;
    case OP_RENAME:
        name = xasprintf("%s%s", r->path, s->s);
        ck_assert_msg(rename(r->path, name) == 0, "%s: rename: %s", where, strerror(errno));
        free(name);
        break;
    case OP_COPYTRUNC:
        name = xasprintf("%s%s", r->path, s->s);
        copy_file(r->path, name);
        free(name);
        /* FALLTHROUGH */
    case OP_TRUNC:
        ck_assert_int_eq(ftruncate(r->wfd, 0), 0);
        break;
    case OP_UNLINK:
        name = xasprintf("%s%s", r->path, s->s);
        ck_assert_msg(unlink(name) == 0, "%s: unlink: %s", where, strerror(errno));
        free(name);
        break;
    case OP_STOP:
        ck_assert_msg(r->have_pos, "%s: STOP before any line", where);
        r->saved = tail_pos_encode(&r->pos);
        r->t = tail_close(r->t);
        break;
    case OP_CRAFT:
        ck_assert_int_eq(stat(r->path, &st), 0);
        r->pos = (struct tail_pos){
            .dev = (uint64_t)st.st_dev,
            .ino = (uint64_t)st.st_ino,
            .head_hash = 0x0123456789abcdefULL,
            .head_len = (uint32_t)(st.st_size < TAIL_HEAD_BYTES ? st.st_size : TAIL_HEAD_BYTES),
            .offset = (uint64_t)s->a,
        };
        r->saved = tail_pos_encode(&r->pos);
        break;
    case OP_MOVE:
        name = xasprintf("%s%s", r->path, s->s);
        to = xasprintf("%s%s", r->path, s->s2);
        ck_assert_msg(rename(name, to) == 0, "%s: rename: %s", where, strerror(errno));
        free(name);
        free(to);
        break;
    case OP_COPY:
        name = xasprintf("%s%s", r->path, s->s);
        copy_file(r->path, name);
        free(name);
        break;
    case OP_GZIP:
        name = xasprintf("%s%s", r->path, s->s);
        gzip_file(name);
        free(name);
        break;
    case OP_AGE:
        name = xasprintf("%s%s", r->path, s->s);
        ts[0].tv_sec = ts[1].tv_sec = time(NULL) - s->a;
        ts[0].tv_nsec = ts[1].tv_nsec = 0;
        ck_assert_msg(utimensat(AT_FDCWD, name, ts, 0) == 0, "%s: utimensat", where);
        free(name);
        break;
    case OP_ROTATE_WAIT:
        tail_set_rotate_wait(r->t, (unsigned)s->a);
        break;
    case OP_HOOK:
        ck_assert_int_eq(stat(r->path, &st), 0);
        hook.dev = st.st_dev;
        hook.ino = st.st_ino;
        hook.old_fd = r->oldfd;
        hook.new_fd = r->wfd;
        hook.old_text = s->s;
        hook.new_text = s->s2;
        hook.armed = true;
        break;
    case OP_WARNS:
        k = count_warnings(r->cap_fd, s->s);
        ck_assert_msg(k == s->a, "%s: \"%s\" said %d times, want %d", where, s->s, k, s->a);
        break;
    case OP_END:
        break;
    }
    if (s->op == OP_READ || s->op == OP_NONE)
        ck_assert_msg(!hook.armed, "%s: the reader did not look at the new file", where);
}

START_TEST(test_scenario)
{
    struct run r = { .sc = &scenarios[_i], .wfd = -1, .oldfd = -1 };
    char where[160], *cap;
    int saved_stderr = dup(STDERR_FILENO);

    r.dir = tmpdir_new();
    r.path = xasprintf("%s/maillog", r.dir);
    cap = xasprintf("%s.stderr", r.dir);
    r.cap_fd = open(cap, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_int_ge(r.cap_fd, 0);
    ck_assert_int_ge(dup2(r.cap_fd, STDERR_FILENO), 0);
    hook.armed = false;
    for (size_t i = 0; r.sc->steps[i].op != OP_END; i++) {
        snprintf(where, sizeof(where), "%s, step %zu", r.sc->name, i + 1);
        run_step(&r, &r.sc->steps[i], where);
    }
    if (r.t != NULL)
        expect_none(r.t, r.sc->name);
    r.t = tail_close(r.t);
    if (r.wfd >= 0)
        close(r.wfd);
    if (r.oldfd >= 0)
        close(r.oldfd);
    count_warnings(r.cap_fd, "");
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    close(r.cap_fd);
    unlink(cap);
    free(cap);
    free(r.saved);
    free(r.path);
    tmpdir_free(r.dir);
}
END_TEST

/* ------------------------------------------------------------ long lines */

static const struct long_case {
    const char *name;
    size_t max_line;
    size_t len;    /* of the long line */
    size_t piece;  /* written in pieces of this size, reading in between (0: at once) */
    bool rotated;  /* the line is the unterminated end of a renamed-away file */
} long_cases[] = {
    { "100 KiB line, 64 KiB max, at once", MAX_LINE, 100 * 1024, 0, false },
    { "100 KiB line, 64 KiB max, in 1000-byte pieces", MAX_LINE, 100 * 1024, 1000, false },
    { "1 MiB line, 64 KiB max, in 64 KiB pieces", MAX_LINE, 1024 * 1024, 65536, false },
    { "exactly max_line is not truncated", MAX_LINE, MAX_LINE, 0, false },
    { "max_line + 1 is truncated", MAX_LINE, MAX_LINE + 1, 0, false },
    { "max_line + 1 in pieces", MAX_LINE, MAX_LINE + 1, 4096, false },
    { "tiny max_line", 10, 25, 3, false },
    { "unterminated long line ends a rotated file", MAX_LINE, 100 * 1024, 0, true },
};

START_TEST(test_long_line)
{
    const struct long_case *c = &long_cases[_i];
    char *dir = tmpdir_new(), *path = xasprintf("%s/maillog", dir), *old = xasprintf("%s.1", path);
    char *big = xmalloc(c->len + 1);
    size_t want = c->len > c->max_line ? c->max_line : c->len, len;
    int fd = wopen(path);
    struct tail_pos pos;
    const char *line;
    bool trunc;
    mh_err_t err;
    tail_t *t;

    for (size_t i = 0; i < c->len; i++)
        big[i] = (char)('a' + i % 26);
    big[c->len] = '\n';
    wstr(fd, "short\n");
    t = tail_open_from_start(path, c->max_line, &err);
    ck_assert_msg(t != NULL, "%s", err.text);
    tail_set_rotate_wait(t, 0);
    expect_line(t, "short", &pos, c->name);
    for (size_t off = 0; c->piece > 0 && off < c->len; off += c->piece) {
        wput(fd, big + off, c->len - off < c->piece ? c->len - off : c->piece);
        expect_none(t, c->name);
    }
    if (c->piece == 0)
        wput(fd, big, c->len);
    if (c->rotated) {
        ck_assert_int_eq(rename(path, old), 0);
        close(fd);
        fd = wopen(path);
    } else {
        wstr(fd, "\n");
    }
    wstr(fd, "next\n");
    ck_assert_int_eq(tail_next(t, &line, &len, &trunc, &pos), 1);
    ck_assert_msg(len == want, "%s: length %zu, want %zu", c->name, len, want);
    ck_assert_msg(memcmp(line, big, want) == 0, "%s: wrong bytes", c->name);
    ck_assert_msg(trunc == (c->len > c->max_line), "%s: truncated=%d", c->name, trunc);
    ck_assert_msg(pos.offset == 6 + c->len + (c->rotated ? 0 : 1), "%s: offset %llu", c->name,
                  (unsigned long long)pos.offset);
    expect_line(t, "next", &pos, c->name);
    expect_none(t, c->name);
    tail_close(t);
    close(fd);
    free(big);
    free(old);
    free(path);
    tmpdir_free(dir);
}
END_TEST

/* ------------------------------------------------------------ checkpoint codec */

/* JSON with ' for " (readable rows); test_codec swaps them back. */
static const struct codec_case {
    const char *json;
    bool ok;
    struct tail_pos pos;
} codec_cases[] = {
    { "{'dev':'18446744073709551615','ino':'18446744073709551614',"
      "'head_hash':'9223372036854775808','head_len':256,'offset':'9223372036854775807'}",
      true, { UINT64_MAX, UINT64_MAX - 1, 9223372036854775808ULL, 256, INT64_MAX, 0 } },
    { "{'dev':'1','ino':'2','head_hash':'3','head_len':4,'offset':'5',"
      "'mtime_ns':'1796083200123456789'}",
      true, { 1, 2, 3, 4, 5, 1796083200123456789ULL } },
    { "{'dev':'1','ino':'2','head_hash':'3','head_len':4,'offset':'5','mtime_ns':'x'}", false,
      { 0 } },
    { "{'dev':2049,'ino':12,'head_hash':7,'head_len':'3','offset':0,'extra':1}", true,
      { 2049, 12, 7, 3, 0, 0 } },
    { "{'dev':'0','ino':'0','head_hash':'0','head_len':0,'offset':'0'}", true, { 0, 0, 0, 0, 0, 0 } },
    { "{'dev':'18446744073709551616','ino':'1','head_hash':'1','head_len':1,'offset':'1'}", false,
      { 0 } },
    { "{'dev':-1,'ino':'1','head_hash':'1','head_len':1,'offset':'1'}", false, { 0 } },
    { "{'dev':'-1','ino':'1','head_hash':'1','head_len':1,'offset':'1'}", false, { 0 } },
    { "{'dev':'+1','ino':'1','head_hash':'1','head_len':1,'offset':'1'}", false, { 0 } },
    { "{'dev':'1x','ino':'1','head_hash':'1','head_len':1,'offset':'1'}", false, { 0 } },
    { "{'dev':'','ino':'1','head_hash':'1','head_len':1,'offset':'1'}", false, { 0 } },
    { "{'dev':1.5,'ino':'1','head_hash':'1','head_len':1,'offset':'1'}", false, { 0 } },
    { "{'dev':null,'ino':'1','head_hash':'1','head_len':1,'offset':'1'}", false, { 0 } },
    { "{'dev':'1','ino':'1','head_hash':'1','head_len':257,'offset':'1'}", false, { 0 } },
    { "{'dev':'1','ino':'1','head_hash':'1','head_len':1,'offset':'9223372036854775808'}", false,
      { 0 } },
    { "{'dev':'1','ino':'1','head_hash':'1','head_len':1}", false, { 0 } },
    { "{'dev':'1','dev':'2','ino':'1','head_hash':'1','head_len':1,'offset':'1'}", false, { 0 } },
    { "[1,2,3]", false, { 0 } },
    { "{'dev':", false, { 0 } },
    { "", false, { 0 } },
};

START_TEST(test_codec)
{
    const struct codec_case *c = &codec_cases[_i];
    char *in = xstrdup(c->json), *json;
    struct tail_pos pos, again;
    mh_err_t err = { "" };
    int rc;

    for (char *q = in; (q = strchr(q, '\'')) != NULL; q++)
        *q = '"';
    rc = tail_pos_decode(in, &pos, &err);
    free(in);
    if (!c->ok) {
        ck_assert_msg(rc == -1, "accepted %s", c->json);
        ck_assert_msg(strncmp(err.text, "tail position: ", 15) == 0, "error text: %s", err.text);
        return;
    }
    ck_assert_msg(rc == 0, "%s: %s", c->json, err.text);
    ck_assert(pos.dev == c->pos.dev && pos.ino == c->pos.ino && pos.head_hash == c->pos.head_hash &&
              pos.head_len == c->pos.head_len && pos.offset == c->pos.offset &&
              pos.mtime_ns == c->pos.mtime_ns);
    json = tail_pos_encode(&pos);
    ck_assert_msg(strstr(json, "\"dev\":\"") != NULL, "64-bit values as strings: %s", json);
    ck_assert_int_eq(tail_pos_decode(json, &again, &err), 0);
    ck_assert(pos.dev == again.dev && pos.ino == again.ino && pos.head_hash == again.head_hash &&
              pos.head_len == again.head_len && pos.offset == again.offset &&
              pos.mtime_ns == again.mtime_ns);
    free(json);
}
END_TEST

/* ------------------------------------------------------------ odds and ends */

static bool readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, 0) == 1;
}

START_TEST(test_poll_fd)
{
    char *dir = tmpdir_new(), *path = xasprintf("%s/maillog", dir);
    int fd = wopen(path), ifd;
    struct tail_pos pos;
    mh_err_t err;
    tail_t *t;

    wlines(fd, 1, 2);
    t = tail_open_from_start(path, MAX_LINE, &err);
    ck_assert_msg(t != NULL, "%s", err.text);
    ifd = tail_fd_for_poll(t);
    ck_assert_int_ge(ifd, 0);
    expect_line(t, "line 1", &pos, "poll");
    expect_line(t, "line 2", &pos, "poll");
    expect_none(t, "poll");
    ck_assert_msg(!readable(ifd), "the queue is drained by tail_next");
    wlines(fd, 3, 3);
    ck_assert_msg(readable(ifd), "a write wakes the poller");
    expect_line(t, "line 3", &pos, "poll");
    expect_none(t, "poll");
    ck_assert(!readable(ifd));
    tail_close(t);
    close(fd);
    free(path);
    tmpdir_free(dir);
}
END_TEST

START_TEST(test_open_errors)
{
    char *dir = tmpdir_new(), *sub = xasprintf("%s/sub", dir);
    mh_err_t err;

    ck_assert_int_eq(mkdir(sub, 0755), 0);
    ck_assert_ptr_null(tail_open(sub, NULL, MAX_LINE, &err));
    ck_assert_ptr_null(tail_open_from_start("", MAX_LINE, &err));
    ck_assert_ptr_null(tail_open_from_start("/tmp/x/", MAX_LINE, &err));
    ck_assert_ptr_null(tail_open_from_start(sub, 0, &err));
    ck_assert_ptr_null(tail_close(NULL));
    free(sub);
    tmpdir_free(dir);
}
END_TEST

/* ------------------------------------------------------------ stress */

#define STRESS_LINES 100000
#define STRESS_ROTATE 10000
#define STRESS_SECONDS 30

struct stress {
    char *path;
    unsigned long seen; /* last number read (atomic) */
    int stop;           /* the reader gave up (atomic) */
    char why[256];      /* the writer's failure */
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool swrite(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);

        if (w <= 0)
            return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static bool scopy(const char *from, const char *to)
{
    char b[65536];
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ssize_t n = -1;
    bool ok = in >= 0 && out >= 0;

    while (ok && (n = read(in, b, sizeof(b))) > 0)
        ok = swrite(out, b, (size_t)n);
    ok = ok && n == 0;
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) < 0)
        ok = false;
    return ok;
}

static void *stress_writer(void *arg)
{
    struct stress *s = arg;
    int fd = open(s->path, WFLAGS, 0644);
    unsigned long first = 1; /* the first line of the current file */
    char line[96], *name;
    size_t n;

    for (unsigned long i = 1; fd >= 0 && i <= STRESS_LINES; i++) {
        n = (size_t)snprintf(line, sizeof(line), "%lu postfix/smtp[%lu]: status=sent %0*lu\n", i,
                             i % 65536, (int)(i % 40), i);
        /* Every 7th line in two writes: the reader must wait for the rest. */
        if (!(i % 7 == 0 ? swrite(fd, line, n / 2) && swrite(fd, line + n / 2, n - n / 2)
                         : swrite(fd, line, n))) {
            snprintf(s->why, sizeof(s->why), "write: %s", strerror(errno));
            break;
        }
        if (i % STRESS_ROTATE != 0 || i == STRESS_LINES)
            continue;
        /* Rotate once the reader is in the current file. */
        while (__atomic_load_n(&s->seen, __ATOMIC_ACQUIRE) < first &&
               !__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
            usleep(1000);
        name = xasprintf("%s.%lu", s->path, i / STRESS_ROTATE);
        if ((i / STRESS_ROTATE) % 2 == 1) {
            /* logrotate "create" with syslogd: rename, create the new file;
             * the writer adds one more line to the old file (it has not
             * seen the HUP yet), then moves to the new one. */
            int nfd = -1;

            i++;
            n = (size_t)snprintf(line, sizeof(line), "%lu written after the rename\n", i);
            if (rename(s->path, name) < 0 || (nfd = open(s->path, WFLAGS | O_EXCL, 0644)) < 0 ||
                !swrite(fd, line, n))
                snprintf(s->why, sizeof(s->why), "rename: %s", strerror(errno));
            close(fd);
            fd = nfd;
        } else if (!scopy(s->path, name) || ftruncate(fd, 0) < 0) {
            snprintf(s->why, sizeof(s->why), "copytruncate: %s", strerror(errno));
        }
        first = i + 1;
        free(name);
        if (s->why[0])
            break;
    }
    if (fd < 0 && !s->why[0])
        snprintf(s->why, sizeof(s->why), "open: %s", strerror(errno));
    if (fd >= 0)
        close(fd);
    return NULL;
}

START_TEST(test_stress)
{
    struct stress s = { 0 };
    char *dir = tmpdir_new();
    unsigned long want = 1, got;
    double start = now_s(), took;
    struct tail_pos pos;
    const char *line = "";
    size_t len = 0, i;
    bool trunc;
    mh_err_t err;
    pthread_t th;
    tail_t *t;
    int r = 0;

    s.path = xasprintf("%s/maillog", dir);
    t = tail_open_from_start(s.path, MAX_LINE, &err);
    ck_assert_msg(t != NULL, "%s", err.text);
    tail_set_rotate_wait(t, 50); /* the grace period, in every rename rotation */
    ck_assert_int_eq(pthread_create(&th, NULL, stress_writer, &s), 0);
    while (want <= STRESS_LINES && now_s() - start < STRESS_SECONDS) {
        if ((r = tail_next(t, &line, &len, &trunc, &pos)) == 1) {
            for (got = 0, i = 0; i < len && line[i] >= '0' && line[i] <= '9'; i++)
                got = got * 10 + (unsigned long)(line[i] - '0');
            if (got != want || trunc)
                break;
            __atomic_store_n(&s.seen, want, __ATOMIC_RELEASE);
            /* Fall behind now and then, so that rotations find the reader
             * in the middle of the file, not always waiting at its end. */
            if (want++ % 1500 == 0)
                usleep(3000);
        } else if (r == 0) {
            struct pollfd p = { .fd = tail_fd_for_poll(t), .events = POLLIN };

            poll(&p, p.fd >= 0 ? 1 : 0, 10);
        } else {
            break;
        }
    }
    took = now_s() - start;
    __atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    ck_assert_msg(s.why[0] == 0, "writer: %s", s.why);
    ck_assert_msg(want > STRESS_LINES, "after %.1f s: want line %lu, got %.*s (tail_next %d)", took,
                  want, want > STRESS_LINES ? 0 : (int)(len > 60 ? 60 : len), line, r);
    expect_none(t, "stress: nothing after the last line");
    tail_close(t);
    free(s.path);
    tmpdir_free(dir);
}
END_TEST

/* ------------------------------------------------------------ main */

#define NROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *tail_suite(void)
{
    Suite *s = suite_create("tail_file");
    TCase *tc = tcase_create("tail_file");
    TCase *st = tcase_create("stress");

    tcase_add_loop_test(tc, test_scenario, 0, NROWS(scenarios));
    tcase_add_loop_test(tc, test_long_line, 0, NROWS(long_cases));
    tcase_add_loop_test(tc, test_codec, 0, NROWS(codec_cases));
    tcase_add_test(tc, test_poll_fd);
    tcase_add_test(tc, test_open_errors);
    suite_add_tcase(s, tc);
    tcase_set_timeout(st, 2 * STRESS_SECONDS);
    tcase_add_test(st, test_stress);
    suite_add_tcase(s, st);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tail_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
