/* SPDX-License-Identifier: MIT */
/*
 * linebuf.h - the bounded byte buffer (curl dynbuf style): socket I/O, and
 * any text built by appending (the JSON writer, cjson.h).
 *
 * Every growable buffer has a maximum: appending past it fails, and leaves
 * the buffer as it was, instead of growing without bound. Consumed bytes
 * are dropped lazily (an offset), and compacted when that is cheap. Storage
 * starts at 512 bytes (or what the first append needs) and doubles; it never
 * exceeds max (but for the NUL linebuf_steal adds).
 *
 *   linebuf_init(b, max)        empty buffer that may hold at most max bytes;
 *                               LINEBUF_INIT(max) is the same as an initializer
 *   linebuf_free(b)             release storage; b may be reused after init
 *   linebuf_reserve(b, n)       room for n more bytes: 0, or -1 if the result
 *                               would exceed max (nothing changes then)
 *   linebuf_append(b, p, n)     0, or -1 if the result would exceed max
 *                               (inline: the fast path is a compare and a copy)
 *   linebuf_read(b, fd)         read what fd has (non-blocking); >0 bytes read,
 *                               0 EOF, -1 error (errno; EAGAIN = nothing now),
 *                               -2 buffer full
 *   linebuf_write(b, fd)        write what is buffered; 0 all written (or would
 *                               block: see linebuf_len), -1 error (errno)
 *   linebuf_line(b, &len)       the next complete line (without its "\n"),
 *                               consumed; NULL if none. The pointer stays valid
 *                               until the next append/read/compact.
 *   linebuf_steal(b, &len)      the unconsumed bytes as a malloc'ed string
 *                               (NUL-terminated, *len bytes before the NUL;
 *                               the caller frees it); b is left empty, with
 *                               its max, as after init
 *   linebuf_data(b) / linebuf_len(b)  the unconsumed bytes and their count
 */
#ifndef MH_LINEBUF_H
#define MH_LINEBUF_H

#include <stddef.h>
#include <string.h>
#include <sys/types.h>

typedef struct linebuf {
    char *data;
    size_t off; /* first unconsumed byte */
    size_t len; /* end of valid bytes */
    size_t cap;
    size_t max;
    size_t scan; /* bytes after off already known to hold no newline */
} linebuf_t;

#define LINEBUF_INIT(max) { NULL, 0, 0, 0, (max), 0 }

void linebuf_init(linebuf_t *b, size_t max);
void linebuf_free(linebuf_t *b);
int linebuf_reserve(linebuf_t *b, size_t n);
ssize_t linebuf_read(linebuf_t *b, int fd);
int linebuf_write(linebuf_t *b, int fd);
char *linebuf_line(linebuf_t *b, size_t *len);
char *linebuf_steal(linebuf_t *b, size_t *len);

/* cap never exceeds max, so bytes that fit in cap fit within max. */
static inline int linebuf_append(linebuf_t *b, const void *p, size_t n)
{
    if (b->cap - b->len < n && linebuf_reserve(b, n) < 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static inline const char *linebuf_data(const linebuf_t *b) { return b->data + b->off; }
static inline size_t linebuf_len(const linebuf_t *b) { return b->len - b->off; }

#endif
