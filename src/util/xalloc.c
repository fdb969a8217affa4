/* SPDX-License-Identifier: MIT */
/*
 * xalloc.c - allocation wrappers that never return NULL (see xalloc.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static void *xalloc_check(void *p, size_t n)
{
    if (p == NULL && n != 0)
        msg_fatal(EX_OSERR, "out of memory allocating %zu bytes", n);
    return p;
}

void *xmalloc(size_t n)
{
    return xalloc_check(malloc(n ? n : 1), n ? n : 1);
}

void *xcalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        msg_fatal(EX_OSERR, "xcalloc: size overflow (%zu * %zu)", n, size);
    return xalloc_check(calloc(n ? n : 1, size ? size : 1), 1);
}

void *xrealloc(void *p, size_t n)
{
    return xalloc_check(realloc(p, n ? n : 1), n ? n : 1);
}

void *xreallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        msg_fatal(EX_OSERR, "xreallocarray: size overflow (%zu * %zu)", n, size);
    return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

void *xmemdup(const void *p, size_t n)
{
    void *q = xmalloc(n);

    memcpy(q, p, n);
    return q;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg_fatal(EX_OSERR, "out of memory in xasprintf");
    return p;
}

void *xfree(void *p)
{
    free(p);
    return NULL;
}

void secure_wipe(void *p, size_t n)
{
#ifdef HAVE_EXPLICIT_BZERO
    explicit_bzero(p, n);
#else
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
#endif
}
