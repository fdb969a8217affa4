/* SPDX-License-Identifier: MIT */
/*
 * linebuf.c - the bounded byte buffer (see linebuf.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linebuf.h"
#include "xalloc.h"

void linebuf_init(linebuf_t *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void linebuf_free(linebuf_t *b)
{
    b->data = xfree(b->data);
    b->off = b->len = b->cap = b->scan = 0;
}

int linebuf_reserve(linebuf_t *b, size_t n)
{
    size_t used = b->len - b->off, want;

    if (n > b->max - used)
        return -1;
    if (b->off > 0 && (b->len + n > b->cap || b->off >= b->cap / 2)) {
        memmove(b->data, b->data + b->off, used);
        b->off = 0;
        b->len = used;
    }
    if (b->len + n > b->cap) {
        want = b->cap ? b->cap : 512;
        while (want < b->len + n)
            want *= 2;
        if (want > b->max)
            want = b->max;
        b->data = xrealloc(b->data, want);
        b->cap = want;
    }
    return 0;
}

char *linebuf_steal(linebuf_t *b, size_t *len)
{
    size_t used = b->len - b->off;
    char *p;

    if (b->off > 0)
        memmove(b->data, b->data + b->off, used);
    if (used == b->cap) /* the NUL is beyond max's count */
        b->data = xrealloc(b->data, used + 1);
    b->data[used] = 0;
    p = b->data;
    if (len)
        *len = used;
    b->data = NULL;
    b->off = b->len = b->cap = b->scan = 0;
    return p;
}

ssize_t linebuf_read(linebuf_t *b, int fd)
{
    size_t room = 65536;
    ssize_t n;

    if (linebuf_len(b) + room > b->max)
        room = b->max - linebuf_len(b);
    if (room == 0)
        return -2;
    linebuf_reserve(b, room);
    do
        n = read(fd, b->data + b->len, room);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        b->len += (size_t)n;
    return n;
}

int linebuf_write(linebuf_t *b, int fd)
{
    ssize_t n;

    while (b->off < b->len) {
        n = send(fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        b->off += (size_t)n;
    }
    b->off = b->len = b->scan = 0;
    return 0;
}

char *linebuf_line(linebuf_t *b, size_t *len)
{
    char *start = b->data + b->off, *nl;

    if (b->off + b->scan >= b->len)
        return NULL;
    nl = memchr(start + b->scan, '\n', b->len - b->off - b->scan);
    if (nl == NULL) {
        b->scan = b->len - b->off;
        return NULL;
    }
    *len = (size_t)(nl - start);
    *nl = 0;
    b->off += *len + 1;
    b->scan = 0;
    return start;
}
