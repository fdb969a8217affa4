/* SPDX-License-Identifier: MIT */
/*
 * tail_resume.c - the log follower's start at a saved position
 * (tail_resume, called by tail_open): the position's file found again
 * among the log's rotated siblings (plain, .gz, dateext) by inode or by
 * head, and the catch-up queued after it: every newer rotated file from its
 * start, oldest first, then the log. The third part of the follower, beside
 * tail_file.c and tail_ident.c (tail_int.h).
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "msg.h"
#include "tail_file.h"
#include "tail_int.h"
#include "xalloc.h"

/* Queue src to be read after everything queued so far (cur, next, later). */
static void tail_queue(tail_t *t, const struct tail_src *src)
{
    if (t->cur.fd < 0) {
        t->cur = *src;
        tail_buf_reset(t, src->read_off);
    } else if (t->next.fd < 0) {
        t->next = *src;
    } else {
        t->later = xreallocarray(t->later, t->nlater + 1, sizeof(*t->later));
        t->later[t->nlater++] = *src;
    }
}

/* The saved position's file among the rotated files sibs (oldest first):
 * its index, with *src opened at pos; -1 when it is not there. By inode
 * first; else a copy or a .gz with the same head (never the log itself,
 * live_st, when it shrank), which is then finite: a copy has no writer.
 * Among several, the newest. */
static long tail_resume_find(const struct tail_sib *sibs, size_t n, const struct tail_pos *pos,
                             const struct stat *live_st, struct tail_src *src)
{
    struct tail_want w = {
        .by_inode = true, .dev = pos->dev, .ino = pos->ino,
        .head_hash = pos->head_hash, .head_len = pos->head_len, .min_size = pos->offset,
    };

    for (size_t i = n; i-- > 0;)
        if (tail_sib_open(&sibs[i], &w, pos->offset, src) == 0)
            return (long)i;
    if (pos->head_len == 0)
        return -1;
    w.by_inode = false;
    if (live_st != NULL) {
        w.exclude = true;
        w.xdev = (uint64_t)live_st->st_dev;
        w.xino = (uint64_t)live_st->st_ino;
    }
    for (size_t i = n; i-- > 0;) {
        if (tail_sib_open(&sibs[i], &w, pos->offset, src) == 0) {
            src->kind = SRC_FINITE;
            return (long)i;
        }
    }
    return -1;
}

/*
 * Resume at a saved position (see tail_file.h); fd/st: the path, or -1.
 * The position is in the log itself, or in one of its rotated files: then
 * that file is read from the position, then every newer rotated file from
 * its start, oldest first, then the log. When its file is nowhere, the
 * rotated files changed after the position are read instead (warned).
 */
void tail_resume(tail_t *t, const struct tail_pos *pos, int fd, const struct stat *st)
{
    struct tail_src live = {.fd = -1}, src = {.fd = -1};
    struct tail_sib *sibs;
    const char *first = NULL;
    size_t n, from;
    bool same = false, shrank = false;
    long k;

    if (fd >= 0 && (uint64_t)st->st_dev == pos->dev && (uint64_t)st->st_ino == pos->ino) {
        same = tail_head_matches(fd, pos->head_hash, pos->head_len);
        if (same && (uint64_t)st->st_size >= pos->offset) {
            tail_src_init(&t->cur, fd, st, pos->offset, xstrdup(t->path));
            tail_buf_reset(t, pos->offset);
            return;
        }
        shrank = same; /* copytruncate while we were away: the copy has our lines */
    }
    if (fd >= 0)
        tail_src_init(&live, fd, st, 0, xstrdup(t->path));
    sibs = tail_siblings(t->path, t->dir, t->base, &n);
    k = tail_resume_find(sibs, n, pos, shrank ? st : NULL, &src);
    if (k >= 0) {
        if ((size_t)k + 1 < n) /* its writer has moved on twice since */
            src.kind = SRC_FINITE;
        tail_queue(t, &src);
        from = (size_t)k + 1;
    } else {
        from = n;
        /* Gone: the files changed after it hold the lines after it. */
        for (size_t i = 0; pos->mtime_ns > 0 && i < n; i++) {
            uint64_t m = (uint64_t)sibs[i].st.st_mtim.tv_sec * 1000000000u +
                         (uint64_t)sibs[i].st.st_mtim.tv_nsec;

            if (m > pos->mtime_ns) {
                from = i;
                break;
            }
        }
    }
    for (size_t i = from; i < n; i++) {
        if (tail_sib_open(&sibs[i], NULL, 0, &src) == 0) {
            if (i + 1 < n) /* only the newest may still be written */
                src.kind = SRC_FINITE;
            if (first == NULL)
                first = sibs[i].name;
            tail_queue(t, &src);
        }
    }
    if (k >= 0) {
        msg_info("%s: finishing %s from offset %" PRIu64 " first%s", t->path, sibs[k].name,
                 pos->offset, first ? ", then the rotated files after it" : "");
    } else if (shrank) {
        msg_warn("%s was truncated while we were away and no copy of it found; lines "
                 "written after offset %" PRIu64 " are lost",
                 t->path, pos->offset);
    } else if (pos->offset > 0) {
        char when[32] = "an unknown time";
        time_t sec = (time_t)(pos->mtime_ns / 1000000000u);
        struct tm tm;

        if (pos->mtime_ns > 0 && localtime_r(&sec, &tm) != NULL)
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
        msg_warn("%s: the file of the saved position (offset %" PRIu64 ", written until %s) "
                 "is gone, and no rotated file is it; lines logged after that position and "
                 "before the start of %s are lost",
                 t->path, pos->offset, when, first ? first : t->path);
    }
    tail_sibs_free(sibs, n);
    if (live.fd >= 0)
        tail_queue(t, &live);
}
