/* SPDX-License-Identifier: MIT */
/*
 * strutil.h - small byte and string operations written once: hex, a
 * control-character test, FNV-1a, kernel random bytes, big-endian fields.
 *
 *   hex_encode(out, in, n)     lowercase hex of n bytes into out, which holds
 *                              2 * n + 1 bytes (NUL-terminated); returns out
 *   byte_is_ctl(c)             c is a C0 control (0x00..0x1f) or DEL (0x7f)
 *   str_has_ctl(s)             s (NUL-terminated) holds a byte_is_ctl() byte
 *   mem_has_ctl(p, n)          the same for n bytes at p (a NUL counts)
 *   fnv1a64(p, n)              FNV-1a 64 of n bytes (FNV1A64_BASIS onwards)
 *   fnv1a64_update(h, p, n)    extend the hash h with n more bytes: hashing
 *                              in pieces gives the same value as at once
 *   rand_bytes(buf, n)         fill buf with n bytes from getrandom(2),
 *                              retrying on EINTR and short reads; 0, or -1
 *                              with errno (never returns fewer bytes)
 *   put_be32(p, v)             v as a 4-byte big-endian field at p (any
 *                              alignment), through <endian.h>
 *   get_be32(p)                the 4-byte big-endian field at p
 *   put_be64(p, v)             v as an 8-byte big-endian field at p
 *   get_be64(p)                the 8-byte big-endian field at p
 *
 * The control test is the ASCII one (C0 and DEL) used to refuse names,
 * URLs and header values; printable() (msg.h) replaces a wider set (C1, the
 * Unicode separators, bidirectional controls) in text that is logged.
 * FNV-1a is not a cryptographic hash: for hash tables and file
 * identification only (http://www.isthe.com/chongo/tech/comp/fnv/).
 */
#ifndef MH_STRUTIL_H
#define MH_STRUTIL_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FNV1A64_BASIS UINT64_C(0xcbf29ce484222325)
#define FNV1A64_PRIME UINT64_C(0x100000001b3)

char *hex_encode(char *out, const void *in, size_t n);

static inline bool byte_is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

bool str_has_ctl(const char *s);
bool mem_has_ctl(const void *p, size_t n);

/* Inline, as its callers hash on hot paths (hash tables, every read of a
 * log's first bytes). */
static inline uint64_t fnv1a64_update(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV1A64_PRIME;
    }
    return h;
}

static inline uint64_t fnv1a64(const void *p, size_t n)
{
    return fnv1a64_update(FNV1A64_BASIS, p, n);
}

int rand_bytes(void *buf, size_t n);

static inline void put_be32(unsigned char *p, uint32_t v)
{
    v = htobe32(v);
    memcpy(p, &v, sizeof(v));
}

static inline uint32_t get_be32(const unsigned char *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return be32toh(v);
}

static inline void put_be64(unsigned char *p, uint64_t v)
{
    v = htobe64(v);
    memcpy(p, &v, sizeof(v));
}

static inline uint64_t get_be64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return be64toh(v);
}

#endif
