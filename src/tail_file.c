/*
 * tail_file.c - follow the mail log like `tail -F`, without losing or
 * repeating a line across rotation, truncation, disappearance and restarts
 * (the contract is in tail_file.h).
 *
 *   tail_open()            resume at a saved position, or start at the end
 *   tail_open_from_start() start at the beginning of the file
 *   tail_next()            the next complete line and the position after it
 *   tail_fd_for_poll()     inotify fd on the log's directory
 *   tail_close()           release everything
 *   tail_pos_encode/decode the checkpoint as a small JSON object
 *
 * Model. At any time we read one source (`cur`), of one of three kinds:
 *   live     the file at the path: it may grow; an unterminated last line
 *            waits for its newline;
 *   rotated  renamed away (or found by inode at start-up): the writer may
 *            still append to it until it reopens the log (syslogd after
 *            logrotate's HUP), so it is read like a live file until the
 *            writer has visibly moved on: the new file has data, or the path
 *            has moved on again. Then it becomes
 *   finite   read to its end; its unterminated last line counts as complete
 *            (its writer is gone). The copy left by copytruncate is finite
 *            from the start.
 * While a rotated/finite source is drained, the file that follows it is
 * already open in `next`, so a second rotation during the drain cannot make
 * us skip the file in between. Reads are pread() at our own offset, 64 KiB
 * at a time.
 *
 * Detection happens when the live source has nothing more to read: the
 * path is stat()ed (another inode: rotation by rename; missing: keep the old
 * fd and retry each call) and our fd is fstat()ed (smaller than our read
 * offset: copytruncate). A truncated file that has already grown past our
 * offset again is caught by re-checking the head checksum after each read
 * of the live file (one 256-byte pread per 64 KiB chunk).
 *
 * Limits (those of any log follower): a line written to a renamed-away file
 * after we drained it is lost, and so is the whole middle file when the log
 * is rotated twice before we look once; logrotate's copytruncate loses the
 * lines written between its copy and its truncation.
 *
 * Returned lines are also NUL-terminated; they point into our buffer and
 * stay valid until the next tail_next()/tail_close(). Memory is bounded by
 * max_line + 64 KiB whatever the input.
 *
 * Errors: tail_open() fails (err) when the path exists but cannot be opened
 * or is not a regular file; a missing path is waited for (warned once).
 * tail_next() returns -1 and warns once per distinct error (a read error,
 * an unreadable new file); the next call retries.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_INOTIFY_INIT1
#include <sys/inotify.h>
#endif

#include "msg.h"
#include "tail_file.h"
#include "xalloc.h"

#define TAIL_CHUNK 65536
#define FNV_BASIS UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

struct tail_src {
    int fd;             /* -1: none */
    char *name;         /* for messages */
    uint64_t dev, ino;
    uint64_t head_hash; /* FNV-1a 64 over the first head_len bytes */
    uint32_t head_len;  /* grows with the file up to TAIL_HEAD_BYTES */
    uint64_t read_off;  /* file offset of the next read */
    enum { SRC_LIVE, SRC_ROTATED, SRC_FINITE } kind; /* see the model above */
};

struct tail {
    char *path, *dir, *base;
    size_t max_line;
    struct tail_src cur, next;
    /* buf[start, end) holds cur's bytes from commit_off on; the bytes
     * buf[start, start + scan) are known to hold no newline. */
    char *buf;
    size_t cap, start, end, scan;
    uint64_t commit_off; /* offset just after the last line handed out */
    uint64_t skipped;    /* bytes of an overlong line dropped after its prefix */
    bool skipping;       /* dropping an overlong line's rest until its newline */
    int ifd;             /* inotify, or -1 */
    bool missing;        /* the path was missing at the last look (warned) */
    char last_err[sizeof(((mh_err_t *)0)->text)]; /* last error warned about */
};

/* A candidate wanted by tail_find(). */
struct tail_want {
    bool by_inode; /* dev+ino must match */
    uint64_t dev, ino;
    bool exclude;  /* skip this dev+ino (the truncated file itself) */
    uint64_t xdev, xino;
    uint64_t head_hash;
    uint32_t head_len;
    uint64_t min_size;
};

/* ------------------------------------------------------------ helpers */

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    while (n-- > 0) {
        h ^= *p++;
        h *= FNV_PRIME;
    }
    return h;
}

/* Hash the first len bytes of fd; the number of bytes hashed (fewer when the
 * file is shorter), or -1 on a read error. */
static ssize_t head_read(int fd, uint32_t len, uint64_t *hash)
{
    unsigned char b[TAIL_HEAD_BYTES];
    size_t got = 0;
    ssize_t n = 0;

    if (len > TAIL_HEAD_BYTES)
        len = TAIL_HEAD_BYTES;
    while (got < len) {
        n = pread(fd, b + got, len - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    *hash = fnv1a(FNV_BASIS, b, got);
    return n < 0 ? -1 : (ssize_t)got;
}

static bool head_matches(int fd, uint64_t hash, uint32_t len)
{
    uint64_t h;

    return head_read(fd, len, &h) == (ssize_t)len && h == hash;
}

/* Open a regular file without blocking (a FIFO in its place must not hang
 * us). -1 with errno on failure. */
static int open_file(int dirfd, const char *name, int flags, struct stat *st)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | flags);

    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    return fd;
}

static bool same_file(const struct tail_src *s, const struct stat *st)
{
    return s->fd >= 0 && (uint64_t)st->st_dev == s->dev && (uint64_t)st->st_ino == s->ino;
}

/* Make s read fd (already fstat()ed as st) from off; takes name. */
static void src_init(struct tail_src *s, int fd, const struct stat *st, uint64_t off, char *name)
{
    uint64_t size = (uint64_t)st->st_size;
    ssize_t n;

    s->fd = fd;
    s->name = name;
    s->dev = (uint64_t)st->st_dev;
    s->ino = (uint64_t)st->st_ino;
    n = head_read(fd, (uint32_t)(size < TAIL_HEAD_BYTES ? size : TAIL_HEAD_BYTES), &s->head_hash);
    if (n < 0) {
        n = 0;
        s->head_hash = FNV_BASIS;
    }
    s->head_len = (uint32_t)n;
    s->read_off = off;
    s->kind = SRC_LIVE;
}

static void src_close(struct tail_src *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->name = xfree(s->name);
}

/* The head checksum still describes the file (not truncated and rewritten). */
static bool src_head_ok(const struct tail_src *s)
{
    return s->head_len == 0 || head_matches(s->fd, s->head_hash, s->head_len);
}

/* Extend the head checksum with n bytes just read at file offset off. */
static void src_head_extend(struct tail_src *s, const char *p, size_t n, uint64_t off)
{
    uint64_t end = off + n, stop;

    if (s->head_len >= TAIL_HEAD_BYTES || off > s->head_len || end <= s->head_len)
        return;
    stop = end < TAIL_HEAD_BYTES ? end : TAIL_HEAD_BYTES;
    s->head_hash = fnv1a(s->head_hash, (const unsigned char *)p + (s->head_len - off),
                         (size_t)(stop - s->head_len));
    s->head_len = (uint32_t)stop;
}

static void tail_buf_reset(tail_t *t, uint64_t commit_off)
{
    t->start = t->end = t->scan = 0;
    t->skipped = 0;
    t->skipping = false;
    t->commit_off = commit_off;
}

/* Warn about an error once (until a line gets through); returns -1. */
static int tail_fail(tail_t *t, const char *fmt, ...) MH_PRINTF(2, 3);

static int tail_fail(tail_t *t, const char *fmt, ...)
{
    char text[sizeof(t->last_err)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (strcmp(text, t->last_err) != 0) {
        msg_warn("%s", text);
        memcpy(t->last_err, text, sizeof(text));
    }
    return -1;
}

static bool newer(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec != b->st_mtim.tv_sec ? a->st_mtim.tv_sec > b->st_mtim.tv_sec
                                                  : a->st_mtim.tv_nsec > b->st_mtim.tv_nsec;
}

/*
 * Look in the log's directory for the file w describes: a regular file
 * (not a symlink) named after the log ("maillog.1", "maillog-20261122", not
 * "maillog" itself), at least w->min_size long, whose first w->head_len
 * bytes hash to w->head_hash; the newest by mtime. Returns its fd (st and
 * *name filled; the caller owns both) or -1.
 */
static int tail_find(tail_t *t, const struct tail_want *w, struct stat *best_st, char **name)
{
    size_t blen = strlen(t->base);
    struct dirent *de;
    struct stat st, fst;
    int best = -1, fd;
    DIR *d;

    *name = NULL;
    if ((d = opendir(t->dir)) == NULL) {
        msg_warn("cannot look for the rotated %s: opendir %s: %s", t->path, t->dir,
                 strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, t->base, blen) != 0 || de->d_name[blen] == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if ((uint64_t)st.st_size < w->min_size || (uint64_t)st.st_size < w->head_len)
            continue;
        if (w->by_inode && ((uint64_t)st.st_dev != w->dev || (uint64_t)st.st_ino != w->ino))
            continue;
        if (w->exclude && (uint64_t)st.st_dev == w->xdev && (uint64_t)st.st_ino == w->xino)
            continue;
        if (best >= 0 && !newer(&st, best_st))
            continue;
        if ((fd = open_file(dirfd(d), de->d_name, O_NOFOLLOW, &fst)) < 0)
            continue;
        if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino ||
            !head_matches(fd, w->head_hash, w->head_len)) {
            close(fd);
            continue;
        }
        if (best >= 0)
            close(best);
        best = fd;
        *best_st = fst;
        xfree(*name);
        *name = xasprintf("%s/%s", t->dir, de->d_name);
    }
    closedir(d);
    return best;
}

/* ------------------------------------------------------------ lines */

static void tail_pos_fill(const tail_t *t, struct tail_pos *pos)
{
    pos->dev = t->cur.dev;
    pos->ino = t->cur.ino;
    pos->head_hash = t->cur.head_hash;
    pos->head_len = t->cur.head_len;
    pos->offset = t->commit_off;
}

/* Hand out the next complete line in the buffer, if there is one. */
static bool tail_take_line(tail_t *t, const char **line, size_t *len, bool *truncated,
                           struct tail_pos *pos)
{
    char *p = t->buf + t->start, *nl;
    size_t have = t->end - t->start, n;

    if (t->skipping || have == t->scan)
        return false;
    if ((nl = memchr(p + t->scan, '\n', have - t->scan)) == NULL) {
        t->scan = have;
        if (have > t->max_line) { /* keep the prefix, drop the rest until its newline */
            t->skipped += have - t->max_line;
            t->end = t->start + t->max_line;
            t->scan = t->max_line;
            t->skipping = true;
        }
        return false;
    }
    n = (size_t)(nl - p);
    t->commit_off += n + 1 + t->skipped;
    t->start += n + 1;
    *truncated = t->skipped > 0 || n > t->max_line;
    if (n > t->max_line)
        n = t->max_line;
    p[n] = 0;
    *line = p;
    *len = n;
    t->skipped = 0;
    t->scan = 0;
    if (t->start == t->end)
        t->start = t->end = 0;
    tail_pos_fill(t, pos);
    return true;
}

/* At the end of a finite source: its unterminated last line is complete. */
static bool tail_take_rest(tail_t *t, const char **line, size_t *len, bool *truncated,
                           struct tail_pos *pos)
{
    size_t n = t->end - t->start;

    if (n == 0 && !t->skipping)
        return false;
    t->commit_off += n + t->skipped;
    *truncated = t->skipped > 0;
    t->buf[t->end] = 0; /* cap leaves room for it */
    *line = t->buf + t->start;
    *len = n;
    tail_pos_fill(t, pos);
    tail_buf_reset(t, t->commit_off);
    return true;
}

/* ------------------------------------------------------------ sources */

/* cur is done (or absent): go on with next, or with the path from 0.
 * 1 a source is ready, 0 the path is missing, -1 error. */
static int tail_advance(tail_t *t)
{
    struct stat st;
    int fd;

    src_close(&t->cur);
    if (t->next.fd >= 0) {
        t->cur = t->next;
        t->next.fd = -1;
        t->next.name = NULL;
        tail_buf_reset(t, t->cur.read_off);
        return 1;
    }
    tail_buf_reset(t, 0);
    if ((fd = open_file(AT_FDCWD, t->path, 0, &st)) < 0) {
        if (errno != ENOENT)
            return tail_fail(t, "open %s: %s", t->path, strerror(errno));
        if (!t->missing)
            msg_info("%s is missing; waiting for it", t->path);
        t->missing = true;
        return 0;
    }
    if (t->missing)
        msg_info("%s is back; reading it from its start", t->path);
    t->missing = false;
    src_init(&t->cur, fd, &st, 0, xstrdup(t->path));
    return 1;
}

/*
 * cur (live) shrank below our offset or its head changed: copytruncate.
 * The lines between commit_off and the truncation are in the copy, if we
 * find it; then the truncated file is read again from its start.
 */
static void tail_truncated(tail_t *t)
{
    struct tail_want w = {0};
    struct tail_src *s = &t->cur;
    struct stat st, cst;
    uint64_t from = t->commit_off, had = s->read_off;
    char *cname = NULL;
    int cfd = -1;

    if (s->head_len > 0) {
        w.exclude = true;
        w.xdev = s->dev;
        w.xino = s->ino;
        w.head_hash = s->head_hash;
        w.head_len = s->head_len;
        w.min_size = from;
        cfd = tail_find(t, &w, &cst, &cname);
    }
    if (fstat(s->fd, &st) < 0) { /* cannot happen on an open fd; keep the identity */
        memset(&st, 0, sizeof(st));
        st.st_dev = (dev_t)s->dev;
        st.st_ino = (ino_t)s->ino;
    }
    src_init(s, s->fd, &st, 0, s->name); /* the truncated file, from 0 */
    if (cfd >= 0) {
        msg_info("%s truncated; reading its lines from offset %" PRIu64 " in %s", t->path, from,
                 cname);
        t->next = *s;
        src_init(&t->cur, cfd, &cst, from, cname);
        t->cur.kind = SRC_FINITE;
        tail_buf_reset(t, from);
    } else {
        if (had > 0)
            msg_warn("%s truncated and no copy of it found; lines written between offset %" PRIu64
                     " and the truncation are lost",
                     t->path, from);
        tail_buf_reset(t, 0);
    }
}

/* Read one chunk of cur. 1 progress, 0 EOF, -1 error. */
static int tail_fill(tail_t *t)
{
    struct tail_src *s = &t->cur;
    size_t room;
    ssize_t n;
    char *chunk, *nl;

    if (t->start > 0) {
        memmove(t->buf, t->buf + t->start, t->end - t->start);
        t->end -= t->start;
        t->start = 0;
    }
    room = t->cap - 1 - t->end; /* >= TAIL_CHUNK: see tail_take_line */
    if (room > TAIL_CHUNK)
        room = TAIL_CHUNK;
    chunk = t->buf + t->end;
    do
        n = pread(s->fd, chunk, room, (off_t)s->read_off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return tail_fail(t, "read %s: %s", s->name, strerror(errno));
    if (n == 0)
        return 0;
    if (s->kind == SRC_LIVE && !src_head_ok(s)) { /* truncated, and already rewritten past us */
        tail_truncated(t);
        return 1;
    }
    src_head_extend(s, chunk, (size_t)n, s->read_off);
    s->read_off += (uint64_t)n;
    if (!t->skipping) {
        t->end += (size_t)n;
    } else if ((nl = memchr(chunk, '\n', (size_t)n)) == NULL) {
        t->skipped += (uint64_t)n;
    } else {
        size_t drop = (size_t)(nl - chunk);

        t->skipped += drop;
        memmove(chunk, nl, (size_t)n - drop);
        t->end += (size_t)n - drop;
        t->skipping = false;
    }
    return 1;
}

/* Empty the inotify queue: we are about to look at everything anyway. */
static void tail_drain_inotify(tail_t *t)
{
#ifdef HAVE_INOTIFY_INIT1
    char b[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;

    do
        n = read(t->ifd, b, sizeof(b));
    while (n > 0 || (n < 0 && errno == EINTR));
#else
    (void)t;
#endif
}

/*
 * The path holds a file other than cur (rotation, or it came back): open it
 * as next. 1 done, 0 the path is missing, 2 the path is cur after all, -1
 * error.
 */
static int tail_pin_next(tail_t *t)
{
    struct stat st;
    int fd;

    if ((fd = open_file(AT_FDCWD, t->path, 0, &st)) < 0) {
        if (errno != ENOENT)
            return tail_fail(t, "open %s: %s", t->path, strerror(errno));
        if (!t->missing) /* routine during a rotation: not a warning */
            msg_info("%s is missing; following the old file until it comes back", t->path);
        t->missing = true;
        return 0;
    }
    t->missing = false;
    if (same_file(&t->cur, &st)) {
        close(fd);
        return 2;
    }
    src_init(&t->next, fd, &st, 0, xstrdup(t->path));
    return 1;
}

/*
 * The live source is at its end: has the path moved on? 1 something
 * changed (go on reading), 0 nothing to read now, -1 error.
 */
static int tail_check(tail_t *t)
{
    struct stat st;
    bool gone = false;
    int r;

    if (stat(t->path, &st) < 0) {
        if (errno != ENOENT)
            return tail_fail(t, "stat %s: %s", t->path, strerror(errno));
        gone = true;
    }
    if (gone || !same_file(&t->cur, &st)) { /* renamed away or deleted */
        if ((r = tail_pin_next(t)) < 2) {
            if (r == 1) {
                t->cur.kind = SRC_ROTATED;
                xfree(t->cur.name);
                t->cur.name = xasprintf("%s (rotated away)", t->path);
            }
            return r;
        }
    }
    t->missing = false;
    if (fstat(t->cur.fd, &st) < 0)
        return tail_fail(t, "fstat %s: %s", t->cur.name, strerror(errno));
    if ((uint64_t)st.st_size < t->cur.read_off || !src_head_ok(&t->cur)) {
        tail_truncated(t);
        return 1;
    }
    return 0;
}

/*
 * A rotated source is at its end: has its writer moved to the new file?
 * 1 yes (cur is now finite), 0 not yet, -1 error.
 */
static int tail_writer_moved(tail_t *t)
{
    struct stat st;
    int r;

    if (t->next.fd < 0) {
        if ((r = tail_pin_next(t)) != 1) {
            if (r == 2) /* renamed back: live again */
                t->cur.kind = SRC_LIVE;
            return r < 0 ? -1 : 0;
        }
    }
    if ((fstat(t->next.fd, &st) == 0 && st.st_size > 0) ||
        (stat(t->path, &st) == 0 && !same_file(&t->next, &st))) {
        t->cur.kind = SRC_FINITE;
        return 1;
    }
    return 0;
}

int tail_next(tail_t *t, const char **line, size_t *len, bool *truncated, struct tail_pos *pos)
{
    bool drained = t->ifd < 0;
    int r;

    for (;;) {
        if (tail_take_line(t, line, len, truncated, pos)) {
            t->last_err[0] = 0;
            return 1;
        }
        if (t->cur.fd < 0) {
            if ((r = tail_advance(t)) <= 0)
                return r;
            continue;
        }
        if ((r = tail_fill(t)) < 0)
            return -1;
        if (r > 0)
            continue;
        if (t->cur.kind == SRC_ROTATED && (r = tail_writer_moved(t)) <= 0) {
            if (r < 0)
                return -1;
            if (!drained) { /* as below */
                tail_drain_inotify(t);
                drained = true;
                continue;
            }
            return 0;
        }
        if (t->cur.kind == SRC_FINITE) {
            if (tail_take_rest(t, line, len, truncated, pos)) {
                t->last_err[0] = 0;
                return 1;
            }
            if ((r = tail_advance(t)) <= 0)
                return r;
            continue;
        }
        /* At the end of the live file. Drain the notifications first, then
         * read once more: a write after that read notifies anew. */
        if (!drained) {
            tail_drain_inotify(t);
            drained = true;
            continue;
        }
        if ((r = tail_check(t)) <= 0)
            return r;
    }
}

/* ------------------------------------------------------------ open */

static tail_t *tail_new(const char *path, size_t max_line, mh_err_t *err)
{
    const char *slash;
    tail_t *t;

    if (path == NULL || *path == 0 || path[strlen(path) - 1] == '/') {
        mh_err_set(err, "tail: \"%s\" is not a file name", path ? path : "(null)");
        return NULL;
    }
    if (max_line == 0 || max_line > SIZE_MAX / 2 - TAIL_CHUNK) {
        mh_err_set(err, "tail: max_line %zu out of range", max_line);
        return NULL;
    }
    t = xcalloc(1, sizeof(*t));
    t->path = xstrdup(path);
    if ((slash = strrchr(path, '/')) == NULL) {
        t->dir = xstrdup(".");
        t->base = xstrdup(path);
    } else {
        t->dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
        t->base = xstrdup(slash + 1);
    }
    t->max_line = max_line;
    t->cap = max_line + TAIL_CHUNK + 2;
    t->buf = xmalloc(t->cap);
    t->cur.fd = t->next.fd = -1;
    t->ifd = -1;
#ifdef HAVE_INOTIFY_INIT1
    if ((t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
        inotify_add_watch(t->ifd, t->dir,
                          IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0) {
        msg_warn("inotify on %s: %s; polling by time", t->dir, strerror(errno));
        if (t->ifd >= 0)
            close(t->ifd);
        t->ifd = -1;
    }
#endif
    return t;
}

/* Open the path for tail_open*: its fd; -1 when it is missing (waited for);
 * -2 with err on any other failure. */
static int tail_open_path(tail_t *t, struct stat *st, mh_err_t *err)
{
    int fd = open_file(AT_FDCWD, t->path, 0, st);

    if (fd < 0 && errno != ENOENT) {
        mh_err_set(err, "tail: open %s: %s", t->path, strerror(errno));
        return -2;
    }
    if (fd < 0) {
        msg_warn("%s does not exist yet; waiting for it", t->path);
        t->missing = true;
    }
    return fd;
}

/* Where a first start begins: after the last newline near the end, so that
 * a line being written is read whole (when its start is within the last
 * 4 KiB; otherwise at the end, and its rest comes as a fragment). */
static uint64_t tail_end_offset(int fd, uint64_t size)
{
    char b[4096];
    uint64_t from = size > sizeof(b) ? size - sizeof(b) : 0;
    ssize_t n;
    char *nl;

    do
        n = pread(fd, b, (size_t)(size - from), (off_t)from);
    while (n < 0 && errno == EINTR);
    if (n <= 0 || (uint64_t)n != size - from || b[n - 1] == '\n')
        return size;
    if ((nl = memrchr(b, '\n', (size_t)n)) != NULL)
        return from + (uint64_t)(nl - b) + 1;
    return from == 0 ? 0 : size;
}

/* Resume at a saved position (see tail_file.h); fd/st: the path, or -1. */
static void tail_resume(tail_t *t, const struct tail_pos *pos, int fd, const struct stat *st)
{
    struct tail_want w = {0};
    struct stat ost;
    char *oname = NULL;
    bool shrank = false;
    int ofd = -1;

    if (fd >= 0 && (uint64_t)st->st_dev == pos->dev && (uint64_t)st->st_ino == pos->ino &&
        head_matches(fd, pos->head_hash, pos->head_len)) {
        if ((uint64_t)st->st_size >= pos->offset) {
            src_init(&t->cur, fd, st, pos->offset, xstrdup(t->path));
            tail_buf_reset(t, pos->offset);
            return;
        }
        /* Shrank while we were away: copytruncate; the copy has our lines. */
        shrank = true;
        w.exclude = true;
        w.xdev = pos->dev;
        w.xino = pos->ino;
    } else {
        /* Rotated away while we were away: find that file by its inode. */
        w.by_inode = true;
        w.dev = pos->dev;
        w.ino = pos->ino;
    }
    w.head_hash = pos->head_hash;
    w.head_len = pos->head_len;
    w.min_size = pos->offset;
    if (w.by_inode || pos->head_len > 0)
        ofd = tail_find(t, &w, &ost, &oname);
    if (ofd < 0 && w.by_inode && pos->head_len > 0) {
        /* Gone by inode; a copy with the same head is as good (copytruncate
         * while we were away, with the file rewritten past our offset). */
        w.by_inode = false;
        ofd = tail_find(t, &w, &ost, &oname);
    }
    if (fd >= 0)
        src_init(&t->cur, fd, st, 0, xstrdup(t->path));
    if (ofd >= 0) {
        msg_info("%s: finishing %s from offset %" PRIu64 " first", t->path, oname, pos->offset);
        t->next = t->cur;
        src_init(&t->cur, ofd, &ost, pos->offset, oname);
        /* Found by inode: its writer may not have moved on yet. A copy found
         * by its head has no writer. */
        t->cur.kind = w.by_inode ? SRC_ROTATED : SRC_FINITE;
        tail_buf_reset(t, pos->offset);
    } else {
        if (shrank)
            msg_warn("%s was truncated while we were away and no copy of it found; lines "
                     "written after offset %" PRIu64 " are lost",
                     t->path, pos->offset);
        else if (pos->offset > 0)
            msg_warn("%s: the file of the saved position (offset %" PRIu64 ") is gone; lines "
                     "written to it after that position are lost; reading %s from its start",
                     t->path, pos->offset, t->path);
        tail_buf_reset(t, 0);
    }
}

tail_t *tail_open(const char *path, const struct tail_pos *pos, size_t max_line, mh_err_t *err)
{
    tail_t *t = tail_new(path, max_line, err);
    struct stat st;
    uint64_t off;
    int fd;

    if (t == NULL)
        return NULL;
    if ((fd = tail_open_path(t, &st, err)) < -1)
        return tail_close(t);
    if (pos != NULL) {
        tail_resume(t, pos, fd, &st);
    } else if (fd >= 0) {
        off = tail_end_offset(fd, (uint64_t)st.st_size);
        src_init(&t->cur, fd, &st, off, xstrdup(t->path));
        tail_buf_reset(t, off);
    }
    return t;
}

tail_t *tail_open_from_start(const char *path, size_t max_line, mh_err_t *err)
{
    tail_t *t = tail_new(path, max_line, err);
    struct stat st;
    int fd;

    if (t == NULL)
        return NULL;
    if ((fd = tail_open_path(t, &st, err)) < -1)
        return tail_close(t);
    if (fd >= 0)
        src_init(&t->cur, fd, &st, 0, xstrdup(t->path));
    return t;
}

/*
 * The fd becomes readable when something changes in the log's directory.
 * The caller need not read it: whenever it is readable (and on a timer, for
 * the cases inotify misses: a rotated file moved to another directory, an
 * overflowed queue), call tail_next() until it returns 0. tail_next empties
 * the queue before its last look, so a change after that look makes the fd
 * readable again. A caller that reads the fd itself must do so before
 * calling tail_next, never after it (it would swallow that wake-up).
 */
int tail_fd_for_poll(const tail_t *t)
{
    return t->ifd;
}

tail_t *tail_close(tail_t *t)
{
    if (t == NULL)
        return NULL;
    src_close(&t->cur);
    src_close(&t->next);
    if (t->ifd >= 0)
        close(t->ifd);
    xfree(t->buf);
    xfree(t->path);
    xfree(t->dir);
    xfree(t->base);
    xfree(t);
    return NULL;
}

/* ------------------------------------------------------------ checkpoint */

/* 64-bit values travel as decimal strings: JSON readers that use doubles
 * would round them. */
char *tail_pos_encode(const struct tail_pos *pos)
{
    char dev[24], ino[24], hash[24], off[24], out[256];
    json_t *o;
    size_t n;

    snprintf(dev, sizeof(dev), "%" PRIu64, pos->dev);
    snprintf(ino, sizeof(ino), "%" PRIu64, pos->ino);
    snprintf(hash, sizeof(hash), "%" PRIu64, pos->head_hash);
    snprintf(off, sizeof(off), "%" PRIu64, pos->offset);
    o = json_pack("{s:s,s:s,s:s,s:I,s:s}", "dev", dev, "ino", ino, "head_hash", hash, "head_len",
                  (json_int_t)pos->head_len, "offset", off);
    if (o == NULL)
        msg_fatal(EX_OSERR, "tail_pos_encode: out of memory");
    n = json_dumpb(o, out, sizeof(out), JSON_COMPACT);
    json_decref(o);
    if (n == 0 || n >= sizeof(out))
        msg_panic_f("encoded position does not fit (%zu bytes)", n);
    return xstrndup(out, n);
}

/* An unsigned decimal (string, or JSON integer) no larger than max. */
static int pos_u64(const json_t *o, const char *key, uint64_t max, uint64_t *out, mh_err_t *err)
{
    const json_t *v = json_object_get(o, key);
    const char *s;
    uint64_t n = 0;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        if (i < 0 || (uint64_t)i > max)
            return mh_err_set(err, "tail position: \"%s\" out of range", key);
        *out = (uint64_t)i;
        return 0;
    }
    if (!json_is_string(v))
        return mh_err_set(err, "tail position: \"%s\" %s", key,
                          v ? "is not a decimal string or integer" : "is missing");
    s = json_string_value(v);
    if (*s == 0)
        return mh_err_set(err, "tail position: \"%s\" is empty", key);
    for (; *s; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (d > 9)
            return mh_err_set(err, "tail position: \"%s\" is not a decimal number", key);
        if (n > (max - d) / 10)
            return mh_err_set(err, "tail position: \"%s\" out of range", key);
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

int tail_pos_decode(const char *json, struct tail_pos *pos, mh_err_t *err)
{
    struct tail_pos p;
    json_error_t jerr;
    uint64_t head_len = 0;
    json_t *o;
    int rc;

    if ((o = json_loads(json, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
        return mh_err_set(err, "tail position: %s", jerr.text);
    if (!json_is_object(o)) {
        json_decref(o);
        return mh_err_set(err, "tail position: not a JSON object");
    }
    rc = pos_u64(o, "dev", UINT64_MAX, &p.dev, err) || pos_u64(o, "ino", UINT64_MAX, &p.ino, err) ||
         pos_u64(o, "head_hash", UINT64_MAX, &p.head_hash, err) ||
         pos_u64(o, "head_len", TAIL_HEAD_BYTES, &head_len, err) ||
         pos_u64(o, "offset", INT64_MAX, &p.offset, err);
    json_decref(o);
    if (rc)
        return -1;
    p.head_len = (uint32_t)head_len;
    *pos = p;
    return 0;
}
