/*
 * linebuf.h - a bounded byte buffer for socket I/O (curl dynbuf style).
 *
 * Every buffer fed by a peer has a maximum: appending past it fails instead
 * of growing without bound. Consumed bytes are dropped lazily (an offset),
 * and compacted when that is cheap.
 *
 *   linebuf_init(b, max)        empty buffer that may hold at most max bytes
 *   linebuf_free(b)             release storage; b may be reused after init
 *   linebuf_append(b, p, n)     0, or -1 if the result would exceed max
 *   linebuf_read(b, fd)         read what fd has (non-blocking); >0 bytes read,
 *                               0 EOF, -1 error (errno; EAGAIN = nothing now),
 *                               -2 buffer full
 *   linebuf_write(b, fd)        write what is buffered; 0 all written (or would
 *                               block: see linebuf_len), -1 error (errno)
 *   linebuf_line(b, &len)       the next complete line (without its "\n"),
 *                               consumed; NULL if none. The pointer stays valid
 *                               until the next append/read/compact.
 *   linebuf_data(b) / linebuf_len(b)  the unconsumed bytes and their count
 */
#ifndef MH_LINEBUF_H
#define MH_LINEBUF_H

#include <stddef.h>
#include <sys/types.h>

typedef struct linebuf {
    char *data;
    size_t off; /* first unconsumed byte */
    size_t len; /* end of valid bytes */
    size_t cap;
    size_t max;
    size_t scan; /* bytes after off already known to hold no newline */
} linebuf_t;

void linebuf_init(linebuf_t *b, size_t max);
void linebuf_free(linebuf_t *b);
int linebuf_append(linebuf_t *b, const void *p, size_t n);
ssize_t linebuf_read(linebuf_t *b, int fd);
int linebuf_write(linebuf_t *b, int fd);
char *linebuf_line(linebuf_t *b, size_t *len);
static inline const char *linebuf_data(const linebuf_t *b) { return b->data + b->off; }
static inline size_t linebuf_len(const linebuf_t *b) { return b->len - b->off; }

#endif
