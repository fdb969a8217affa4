/* SPDX-License-Identifier: MIT */
/*
 * ctl_lines.h - read a maillog file line by line for mailhookctl's offline
 * commands (parse, backfill): plain text or gzip (a rotated mail.log.2.gz,
 * told by its magic bytes, not its name; concatenated members too), from a
 * file or standard input.
 *
 *   ctl_lines_read(fd, name, max_line, fn, progress, ctx)
 *       read fd to its end: fn(ctx, line, len) for each line (without its
 *       newline; a last line without one counts), fn(ctx, NULL, 0) for each
 *       line of max_line bytes or more, which is skipped without being
 *       buffered; progress(ctx, done, total) (may be NULL) after each chunk,
 *       done being the bytes of the FILE consumed (compressed ones for gzip)
 *       and total its size (0 when unknown: a pipe). fd stays open (the
 *       caller closes it). Returns 0, or -1 after printing
 *       "mailhookctl: NAME: reason" on stderr (a read error, a corrupt or
 *       truncated gzip stream).
 *
 * Limits: one chunk (CTL_LINES_CHUNK) plus max_line of memory, whatever the
 * file's size.
 */
#ifndef MH_CTL_LINES_H
#define MH_CTL_LINES_H

#include <stddef.h>
#include <stdint.h>

#define CTL_LINES_CHUNK (1024 * 1024)

typedef void (*ctl_line_fn)(void *ctx, const char *line, size_t len);
typedef void (*ctl_progress_fn)(void *ctx, uint64_t done, uint64_t total);

int ctl_lines_read(int fd, const char *name, size_t max_line, ctl_line_fn fn,
                   ctl_progress_fn progress, void *ctx);

#endif
