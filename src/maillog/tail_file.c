/* SPDX-License-Identifier: MIT */
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
 *
 * How a file is recognised (device, inode, head checksum), how a rotated
 * file or a copy is found again in the log's directory, and the checkpoint
 * format (tail_pos_encode/decode) are in tail_ident.c, the resume at a
 * saved position through the rotated files (tail_resume) in tail_resume.c;
 * the three files share tail_int.h.
 *
 * Model. At any time we read one source (`cur`), of one of three kinds:
 *   live     the file at the path: it may grow; an unterminated last line
 *            waits for its newline;
 *   rotated  renamed away (or found by inode at start-up): the writer may
 *            still append to it until it reopens the log (syslogd after
 *            logrotate's HUP), so it is read like a live file until the
 *            writer has visibly moved on: the new file has data, or the path
 *            has moved on again. Then it becomes
 *   draining read again (bytes may have come between our last read and the
 *            look at the new file: a descheduled reader sees that), still
 *            like a live file, until it has been idle for rotate_wait (by
 *            our monotonic clock since the move or its last growth, or by
 *            its own mtime: a file rotated long ago is idle). Then it is
 *   finite   read to its end; its unterminated last line counts as complete
 *            (its writer is gone). The copy left by copytruncate, a .gz,
 *            and a rotated file older than another rotated one are finite
 *            from the start.
 * While a rotated/finite source is drained, the file that follows it is
 * already open in `next` (and the ones after it in `later`, when several
 * are to be read: a catch-up after downtime, or two rotations before we
 * looked), so a rotation during the drain cannot make us skip a file.
 * Reads are pread() at our own offset (zlib for a .gz), 64 KiB at a time.
 *
 * Detection happens when the live source has nothing more to read: the
 * path is stat()ed (another inode: rotation by rename; missing: keep the old
 * fd and retry each call) and our fd is fstat()ed (smaller than our read
 * offset: copytruncate). A truncated file that has already grown past our
 * offset again is caught by re-checking the head checksum after each read
 * of the live file (one 256-byte pread per 64 KiB chunk).
 *
 * Limits (those of any log follower): a line written to a renamed-away file
 * after it has been idle for rotate_wait is lost; rotated files that leave
 * the log's directory (or are compressed other than with gzip) before we
 * read them are lost; logrotate's copytruncate loses the lines written
 * between its copy and its truncation. A copy that holds less than we had
 * read is no loss: we read those lines from the log before it was
 * truncated.
 *
 * Returned lines are also NUL-terminated; they point into our buffer and
 * stay valid until the next tail_next()/tail_close(). Memory is bounded by
 * max_line + 64 KiB whatever the input.
 *
 * Errors: tail_open() fails (err) when the path exists but cannot be opened
 * or is not a regular file; a missing path is waited for (warned once). A
 * saved position whose file is nowhere is warned about once, with the two
 * ends of the gap; a truncation without a copy once per truncation.
 * tail_next() returns -1 and warns once per distinct error (a read error,
 * an unreadable new file); the next call retries.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_INOTIFY_INIT1
#include <sys/inotify.h>
#endif

#include "msg.h"
#include "tail_file.h"
#include "tail_int.h"
#include "timeutil.h"
#include "xalloc.h"

#define TAIL_CHUNK 65536

/* ------------------------------------------------------------ helpers */

void tail_buf_reset(tail_t *t, uint64_t commit_off)
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
    va_list ap;

    va_start(ap, fmt);
    msg_vwarn_once(&t->last_err, fmt, ap);
    va_end(ap);
    return -1;
}

/* ------------------------------------------------------------ lines */

static void tail_pos_fill(const tail_t *t, struct tail_pos *pos)
{
    pos->dev = t->cur.dev;
    pos->ino = t->cur.ino;
    pos->head_hash = t->cur.head_hash;
    pos->head_len = t->cur.head_len;
    pos->offset = t->commit_off;
    pos->mtime_ns = t->cur.mtime_ns;
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

/* s is finished (or, a copy, holds nothing new): tail_between must not
 * take it for a rotated file we have not read. */
static void tail_remember(tail_t *t, uint64_t dev, uint64_t ino)
{
    unsigned i = t->ndone++ % (sizeof(t->done) / sizeof(t->done[0]));

    t->done[i].dev = dev;
    t->done[i].ino = ino;
}

static bool tail_was_done(const tail_t *t, const struct stat *st)
{
    for (size_t i = 0; i < sizeof(t->done) / sizeof(t->done[0]) && i < t->ndone; i++)
        if (t->done[i].dev == (uint64_t)st->st_dev && t->done[i].ino == (uint64_t)st->st_ino)
            return true;
    return false;
}

/* cur is done (or absent): go on with next, or with the path from 0.
 * 1 a source is ready, 0 the path is missing, -1 error. */
static int tail_advance(tail_t *t)
{
    struct stat st;
    int fd;

    if (t->cur.fd >= 0)
        tail_remember(t, t->cur.dev, t->cur.ino);
    tail_src_close(&t->cur);
    if (t->next.fd >= 0) {
        t->cur = t->next;
        t->next.fd = -1;
        t->next.name = NULL;
        t->next.gz = NULL;
        if (t->nlater > 0) {
            t->next = t->later[0];
            memmove(t->later, t->later + 1, --t->nlater * sizeof(*t->later));
        }
        tail_buf_reset(t, t->cur.read_off);
        return 1;
    }
    tail_buf_reset(t, 0);
    if ((fd = tail_open_file(AT_FDCWD, t->path, 0, &st)) < 0) {
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
    tail_src_init(&t->cur, fd, &st, 0, xstrdup(t->path));
    return 1;
}

/* The copy w describes, already gzip'ed (copytruncate with compress): a
 * finite source from offset from in *out. */
static bool tail_find_gz(tail_t *t, const struct tail_want *w, uint64_t from, struct tail_src *out)
{
    struct tail_sib *sibs = NULL;
    size_t n = 0;
    bool ok = false;

    if (w->head_len > 0)
        sibs = tail_siblings(t->path, t->dir, t->base, &n);
    for (size_t i = n; !ok && i-- > 0;)
        ok = sibs[i].gz && tail_sib_open(&sibs[i], w, from, out) == 0;
    tail_sibs_free(sibs, n);
    return ok;
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
    struct tail_src gz;
    uint64_t from = t->commit_off, had = s->read_off;
    char *cname = NULL;
    int cfd = -1;

    if (s->head_len > 0) {
        w.exclude = true;
        w.xdev = s->dev;
        w.xino = s->ino;
        w.head_hash = s->head_hash;
        w.head_len = s->head_len;
        w.min_size = 0; /* a copy shorter than what we read: we read past it */
        cfd = tail_find(t->path, t->dir, t->base, &w, &cst, &cname);
    }
    if (fstat(s->fd, &st) < 0) { /* cannot happen on an open fd; keep the identity */
        memset(&st, 0, sizeof(st));
        st.st_dev = (dev_t)s->dev;
        st.st_ino = (ino_t)s->ino;
    }
    tail_src_init(s, s->fd, &st, 0, s->name); /* the truncated file, from 0 */
    if (cfd >= 0 && (uint64_t)cst.st_size <= from) {
        /* We had read all the copy holds (and the lines written after the
         * copy, up to where we were): nothing to take from it. */
        msg_info("%s truncated; its copy %s holds nothing we have not read", t->path, cname);
        tail_remember(t, (uint64_t)cst.st_dev, (uint64_t)cst.st_ino);
        close(cfd);
        xfree(cname);
        tail_buf_reset(t, 0);
    } else if (cfd >= 0) {
        msg_info("%s truncated; reading its lines from offset %" PRIu64 " in %s", t->path, from,
                 cname);
        t->next = *s;
        tail_src_init(&t->cur, cfd, &cst, from, cname);
        t->cur.kind = SRC_FINITE;
        tail_buf_reset(t, from);
    } else if (tail_find_gz(t, &w, from, &gz)) {
        msg_info("%s truncated; reading its lines from offset %" PRIu64 " in %s", t->path, from,
                 gz.name);
        t->next = *s;
        t->cur = gz;
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
    n = tail_src_read(s, chunk, room, s->read_off);
    if (n < 0)
        return tail_fail(t, "read %s: %s", s->name, strerror(errno));
    if (n == 0)
        return 0;
    /* truncated, and already rewritten past us */
    if (s->kind == SRC_LIVE && !tail_src_head_ok(s)) {
        tail_truncated(t);
        return 1;
    }
    tail_src_head_extend(s, chunk, (size_t)n, s->read_off);
    s->read_off += (uint64_t)n;
    if (s->kind == SRC_DRAINING)
        s->idle_since = time_mono_ms();
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

    if ((fd = tail_open_file(AT_FDCWD, t->path, 0, &st)) < 0) {
        if (errno != ENOENT)
            return tail_fail(t, "open %s: %s", t->path, strerror(errno));
        if (!t->missing) /* routine during a rotation: not a warning */
            msg_info("%s is missing; following the old file until it comes back", t->path);
        t->missing = true;
        return 0;
    }
    t->missing = false;
    if (tail_src_same(&t->cur, &st)) {
        close(fd);
        return 2;
    }
    tail_src_init(&t->next, fd, &st, 0, xstrdup(t->path));
    return 1;
}

/*
 * cur was renamed away and next is the path's new file: when the log was
 * rotated more than once since we last looked, the rotated files newer
 * than cur go between the two, oldest first: by logrotate's names, changed
 * no earlier than cur was last seen, and not a file we have finished.
 */
static void tail_between(tail_t *t)
{
    struct tail_src src, *mid = NULL;
    struct tail_sib *sibs;
    size_t n, m = 0, k = 0;
    bool found = false;

    sibs = tail_siblings(t->path, t->dir, t->base, &n);
    for (size_t i = 0; i < n; i++) {
        if ((uint64_t)sibs[i].st.st_dev == t->cur.dev && (uint64_t)sibs[i].st.st_ino == t->cur.ino) {
            found = true;
            k = i;
        }
    }
    for (size_t i = k + 1; found && i < n; i++) {
        uint64_t m_ns = (uint64_t)sibs[i].st.st_mtim.tv_sec * 1000000000u +
                        (uint64_t)sibs[i].st.st_mtim.tv_nsec;

        if (m_ns < t->cur.mtime_ns || tail_was_done(t, &sibs[i].st))
            continue;
        if (tail_sib_open(&sibs[i], NULL, 0, &src) == 0) {
            if (i + 1 < n) /* only the newest may still be written */
                src.kind = SRC_FINITE;
            mid = xreallocarray(mid, m + 1, sizeof(*mid));
            mid[m++] = src;
        }
    }
    if (m > 0) {
        msg_info("%s was rotated %zu times since we looked; reading the rotated files in between",
                 t->path, m + 1);
        t->later = xreallocarray(t->later, t->nlater + m, sizeof(*t->later));
        memmove(t->later + m, t->later, t->nlater * sizeof(*t->later));
        memcpy(t->later, mid + 1, (m - 1) * sizeof(*mid));
        t->later[m - 1] = t->next;
        t->nlater += m;
        t->next = mid[0];
    }
    xfree(mid);
    tail_sibs_free(sibs, n);
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
    if (gone || !tail_src_same(&t->cur, &st)) { /* renamed away or deleted */
        if ((r = tail_pin_next(t)) < 2) {
            if (r == 1) {
                t->cur.kind = SRC_ROTATED;
                tail_between(t);
                xfree(t->cur.name);
                t->cur.name = xasprintf("%s (rotated away)", t->path);
            }
            return r;
        }
    }
    t->missing = false;
    if (fstat(t->cur.fd, &st) < 0)
        return tail_fail(t, "fstat %s: %s", t->cur.name, strerror(errno));
    t->cur.mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
    if ((uint64_t)st.st_size < t->cur.read_off || !tail_src_head_ok(&t->cur)) {
        tail_truncated(t);
        return 1;
    }
    return 0;
}

/*
 * A rotated source is at its end: has its writer moved to the new file?
 * 1 yes (cur is now draining: read it again, for what was appended before
 * this look), 0 not yet, -1 error.
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
        (stat(t->path, &st) == 0 && !tail_src_same(&t->next, &st))) {
        t->cur.kind = SRC_DRAINING;
        t->cur.idle_since = time_mono_ms();
        return 1;
    }
    return 0;
}

/*
 * A draining source is at its end: has it been idle for rotate_wait, by
 * our clock since the move or its last growth, or by its own mtime (a file
 * rotated long ago, found at start-up)? Then it is finite.
 */
static bool tail_drain_done(tail_t *t)
{
    struct stat st;
    int64_t now = time_now_ms();

    if (t->rotate_wait <= 0 || time_mono_ms() - t->cur.idle_since >= t->rotate_wait)
        return true;
    if (fstat(t->cur.fd, &st) < 0)
        return false;
    t->cur.mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
    return (int64_t)(t->cur.mtime_ns / 1000000u) <= now - t->rotate_wait;
}

int tail_next(tail_t *t, const char **line, size_t *len, bool *truncated, struct tail_pos *pos)
{
    bool drained = t->ifd < 0;
    int r;

    for (;;) {
        if (tail_take_line(t, line, len, truncated, pos)) {
            msg_once_reset(&t->last_err);
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
        if (t->cur.kind == SRC_ROTATED) {
            if ((r = tail_writer_moved(t)) != 0) {
                if (r < 0)
                    return -1;
                continue; /* read it again: it may have grown since our last read */
            }
            if (!drained) { /* as below */
                tail_drain_inotify(t);
                drained = true;
                continue;
            }
            return 0;
        }
        if (t->cur.kind == SRC_DRAINING) {
            if (!tail_drain_done(t)) { /* its writer may still add a line, or finish one */
                if (!drained) {
                    tail_drain_inotify(t);
                    drained = true;
                    continue;
                }
                return 0;
            }
            t->cur.kind = SRC_FINITE;
        }
        if (t->cur.kind == SRC_FINITE) {
            if (tail_take_rest(t, line, len, truncated, pos)) {
                msg_once_reset(&t->last_err);
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
    t->rotate_wait = TAIL_ROTATE_WAIT_MS;
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
    int fd = tail_open_file(AT_FDCWD, t->path, 0, st);

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
        tail_src_init(&t->cur, fd, &st, off, xstrdup(t->path));
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
        tail_src_init(&t->cur, fd, &st, 0, xstrdup(t->path));
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

void tail_set_rotate_wait(tail_t *t, unsigned ms)
{
    t->rotate_wait = (int64_t)ms;
}

tail_t *tail_close(tail_t *t)
{
    if (t == NULL)
        return NULL;
    tail_src_close(&t->cur);
    tail_src_close(&t->next);
    for (size_t i = 0; i < t->nlater; i++)
        tail_src_close(&t->later[i]);
    xfree(t->later);
    if (t->ifd >= 0)
        close(t->ifd);
    xfree(t->buf);
    xfree(t->path);
    xfree(t->dir);
    xfree(t->base);
    xfree(t);
    return NULL;
}
