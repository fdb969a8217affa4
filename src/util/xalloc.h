/* SPDX-License-Identifier: MIT */
/*
 * xalloc.h - allocation that never returns NULL.
 *
 *   xmalloc(n), xcalloc(n, size), xrealloc(p, n), xreallocarray(p, n, size)
 *   xstrdup(s), xstrndup(s, n), xmemdup(p, n)
 *   xasprintf(fmt, ...)  allocate a formatted string
 *   xfree(p)             free and return NULL, for "p = xfree(p);"
 *   secure_wipe(p, n)    overwrite secret material (explicit_bzero)
 *
 * Out of memory and size overflow are fatal (EX_OSERR): a mail daemon that
 * cannot allocate cannot do anything useful, and a checked NULL everywhere
 * is where bugs hide.
 */
#ifndef MH_XALLOC_H
#define MH_XALLOC_H

#include <stddef.h>
#include <stdlib.h>
#include "msg.h"

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) MH_PRINTF(1, 2);
void *xfree(void *p);

/* Overwrite secret material so it does not linger in freed memory. */
void secure_wipe(void *p, size_t n);

#endif
