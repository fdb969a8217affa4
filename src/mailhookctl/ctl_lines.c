/* SPDX-License-Identifier: MIT */
/*
 * ctl_lines.c - maillog files line by line, plain or gzip (see ctl_lines.h).
 *
 * zlib's gzread() reads both: a file without the gzip magic passes through
 * unchanged ("transparent" mode), so one loop serves both. Chunks are split
 * at newlines here (no stdio line reading), so the cost is the parser's.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ctl_lines.h"
#include "xalloc.h"

static void lines_error(const char *name, gzFile g)
{
    int zerr = 0;
    const char *text = gzerror(g, &zerr);

    fprintf(stderr, "mailhookctl: %s: %s\n", name,
            zerr == Z_ERRNO ? strerror(errno) : text && *text ? text : "read error");
}

int ctl_lines_read(int fd, const char *name, size_t max_line, ctl_line_fn fn,
                   ctl_progress_fn progress, void *ctx)
{
    size_t cap = CTL_LINES_CHUNK + max_line, have = 0;
    bool skipping = false; /* inside an over-long line */
    uint64_t total = 0;
    struct stat sb;
    char *buf;
    gzFile g;
    int n, dfd;

    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
        total = (uint64_t)sb.st_size;
    /* gzclose() closes the descriptor it was given: give it its own. */
    if ((dfd = dup(fd)) < 0 || (g = gzdopen(dfd, "rb")) == NULL) {
        fprintf(stderr, "mailhookctl: %s: %s\n", name, strerror(errno ? errno : ENOMEM));
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    gzbuffer(g, 256 * 1024);
    buf = xmalloc(cap);
    for (;;) {
        n = gzread(g, buf + have, (unsigned)(cap - have));
        if (n < 0) {
            lines_error(name, g);
            gzclose(g);
            free(buf);
            return -1;
        }
        have += (size_t)n;
        char *p = buf, *end = buf + have, *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            if (skipping)
                skipping = false, fn(ctx, NULL, 0);
            else if ((size_t)(nl - p) >= max_line)
                fn(ctx, NULL, 0);
            else
                fn(ctx, p, (size_t)(nl - p));
            p = nl + 1;
        }
        have = (size_t)(end - p);
        if (have >= max_line) { /* no newline in sight: drop it */
            skipping = true;
            have = 0;
        }
        memmove(buf, p, have);
        if (progress) {
            z_off_t off = gzoffset(g);
            progress(ctx, off > 0 ? (uint64_t)off : 0, total);
        }
        if (n == 0)
            break;
    }
    if (have > 0 && !skipping)
        fn(ctx, buf, have); /* a last line without newline */
    else if (skipping)
        fn(ctx, NULL, 0);
    /* A truncated gzip member reads as a short end: gzread reports it via
     * gzerror (Z_BUF_ERROR) only after the last read. */
    int zerr = 0;
    gzerror(g, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END) {
        lines_error(name, g);
        gzclose(g);
        free(buf);
        return -1;
    }
    gzclose(g);
    free(buf);
    return 0;
}
