/*
 * linebuf.c - bounded buffers for line-oriented socket I/O (see linebuf.h).
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

/* Make room for n more bytes; -1 if that would exceed max. */
static int linebuf_reserve(linebuf_t *b, size_t n)
{
    size_t used = b->len - b->off, want;

    if (used + n > b->max)
        return -1;
    if (b->off > 0 && (b->len + n > b->cap || b->off >= b->cap / 2)) {
        memmove(b->data, b->data + b->off, used);
        b->off = 0;
        b->len = used;
    }
    if (b->len + n > b->cap) {
        want = b->cap ? b->cap : 4096;
        while (want < b->len + n)
            want *= 2;
        if (want > b->max)
            want = b->max;
        b->data = xrealloc(b->data, want);
        b->cap = want;
    }
    return 0;
}

int linebuf_append(linebuf_t *b, const void *p, size_t n)
{
    if (linebuf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
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
