/* SPDX-License-Identifier: MIT */
/*
 * strutil.c - hex, the control-character test and kernel random bytes
 * (see strutil.h; FNV-1a and the big-endian fields are inline there).
 */
#include "config.h"

#include <errno.h>
#include <sys/random.h>

#include "strutil.h"

char *hex_encode(char *out, const void *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
    return out;
}

bool str_has_ctl(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (byte_is_ctl(*p))
            return true;
    return false;
}

bool mem_has_ctl(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        if (byte_is_ctl(b[i]))
            return true;
    return false;
}

/* getrandom(2) without GRND_NONBLOCK blocks only until the pool is first
 * initialized; it may return fewer bytes than asked (a signal, or more than
 * 256 bytes), so loop. */
int rand_bytes(void *buf, size_t n)
{
    unsigned char *b = buf;
    size_t got = 0;
    ssize_t r;

    while (got < n) {
        r = getrandom(b + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}
