/* SPDX-License-Identifier: MIT */
/*
 * tail_file.h - follow a log file like `tail -F`, without losing or
 * repeating a line across rotation, truncation, disappearance and restarts.
 *
 * A followed file is identified by device + inode + a checksum of its first
 * TAIL_HEAD_BYTES bytes (inodes are reused). The reader hands out complete
 * lines only (a partial last line waits for its newline), each with the
 * position just after it; the caller commits that position together with
 * whatever it derived from the lines (the same store transaction), and on
 * restart passes the last committed position back.
 *
 * Rotation handled:
 *   - by rename (logrotate "create"): the old file is read to its end, and
 *     read again until it has been idle for the rotate_wait grace period
 *     (the writer appends to it until it reopens the log), then the new
 *     file at the path from its start; a half line at its end is complete
 *     only once the grace period is over. When the log was rotated more
 *     than once before we looked, the rotated files in between are read
 *     first, oldest first;
 *   - by copytruncate: the file shrinks below our offset; the lines written
 *     between our last read and the truncation are taken from the copy (a
 *     file in the same directory whose head checksum matches and which is
 *     longer than our offset), then the truncated file from its start;
 *   - the file disappears and comes back later: read from the start;
 *   - while we were not running, any number of times: the saved identity
 *     is looked for among the log's rotated files (logrotate's names:
 *     maillog.1, maillog.2.gz, maillog-20261122[.gz]) by device + inode, or
 *     by its head checksum (a copy; for .gz the decompressed head), and
 *     read from the saved offset, then every newer rotated file in order,
 *     then the log. A .gz is read with zlib, offsets in its decompressed
 *     bytes.
 *
 * Limits: copytruncate loses the lines written between its copy and its
 * truncation (we warn only when no copy is found: whether lines were in
 * that window cannot be seen); rotated files moved elsewhere (olddir),
 * compressed other than with gzip, or removed before we read them are
 * lost (one warning, naming the ends of the gap); a rotated file is
 * recognised only once its first bytes are there (not for an empty one).
 *
 *   tail_open(path, pos, max_line, err)  a follower; pos = saved position or NULL
 *                                  (NULL: start at the end of the file, so a
 *                                  first start does not replay history; see
 *                                  tail_open_from_start)
 *   tail_open_from_start(path, max_line, err)
 *   tail_next(t, &line, &len, &truncated, &pos)
 *       1 with the next complete line (without "\n"; valid until the next
 *       call) and the position after it; 0 when nothing more is available
 *       now; -1 on an error (warned once; the follower retries at the next
 *       call). Lines longer than max_line are returned truncated to max_line
 *       bytes with truncated set, and the rest of them skipped.
 *   tail_fd_for_poll(t)            an inotify fd to wait on (or -1: poll by time);
 *                                  tail_next drains it itself: a caller that
 *                                  reads it must do so before tail_next, never
 *                                  after, or it may swallow a wake-up
 *   tail_set_rotate_wait(t, ms)    the grace period: how long a renamed-away
 *                                  file must be idle (by our clock, or its
 *                                  mtime) before it is finished
 *                                  (TAIL_ROTATE_WAIT_MS by default; 0: as
 *                                  soon as the new file has data, after one
 *                                  more read). tail_next returns 0 meanwhile.
 *   tail_close(t)                  returns NULL
 *   tail_pos_encode(pos)           struct tail_pos (plain data) as a small
 *                                  JSON object for the checkpoint, malloc'ed
 *   tail_pos_decode(json, pos, err)
 *                                  the reverse: 0, or -1 + err when json is
 *                                  not a valid position
 */
#ifndef MH_TAIL_FILE_H
#define MH_TAIL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "msg.h"

#define TAIL_HEAD_BYTES 256
#define TAIL_ROTATE_WAIT_MS 5000 /* default of tail_set_rotate_wait */

struct tail_pos {
    uint64_t dev, ino;
    uint64_t head_hash; /* checksum of the first min(size, TAIL_HEAD_BYTES) bytes */
    uint32_t head_len;  /* how many bytes that checksum covers */
    uint64_t offset;    /* byte after the last line handed out */
    uint64_t mtime_ns;  /* the file's mtime as last seen before that line was read
                           (ns since the epoch; 0: unknown): which rotated files
                           are newer when the file itself is gone */
};

typedef struct tail tail_t;

tail_t *tail_open(const char *path, const struct tail_pos *pos, size_t max_line, mh_err_t *err);
tail_t *tail_open_from_start(const char *path, size_t max_line, mh_err_t *err);
int tail_next(tail_t *t, const char **line, size_t *len, bool *truncated, struct tail_pos *pos);
int tail_fd_for_poll(const tail_t *t);
void tail_set_rotate_wait(tail_t *t, unsigned ms);
tail_t *tail_close(tail_t *t);
char *tail_pos_encode(const struct tail_pos *pos);           /* malloc'ed JSON */
int tail_pos_decode(const char *json, struct tail_pos *pos, mh_err_t *err);

#endif
