/* SPDX-License-Identifier: MIT */
/*
 * evid.c - event ids: "evt_" + monotonic ULID (see evid.h).
 *
 * 48 bits of milliseconds then 80 random bits, Crockford base32 (26 chars).
 * Within one process, an id made in the same millisecond as the previous one
 * (or when the clock went backwards) reuses the previous time and random
 * part plus one, so ids from one producer are strictly increasing.
 * Derived ids (evid_derive) put 80 bits of a SHA-256 (OpenSSL) where the
 * random part goes: the same ULID layout, not monotonic. A time prefix
 * (evid_time_prefix) is the first 10 digits alone, for bounds: pure, it
 * never goes through the monotonic state.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "evid.h"
#include "msg.h"
#include "strutil.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static pthread_mutex_t evid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t evid_last_ms = -1;
static unsigned char evid_last_rand[10];

static void evid_random(unsigned char *buf, size_t n)
{
    if (rand_bytes(buf, n) < 0)
        msg_fatal(EX_OSERR, "getrandom failed: %s", strerror(errno));
}

/* Increment the 80-bit big-endian random part; false on overflow. */
static bool evid_increment(unsigned char *r)
{
    for (int i = 9; i >= 0; i--)
        if (++r[i] != 0)
            return true;
    return false;
}

/* 128 bits (48 of time, 80 random) as 26 base32 digits: the first digit
 * carries the top 3 bits, then 5 bits each; taken from two 64-bit halves. */
static void evid_encode(char *out, int64_t ms, const unsigned char *rnd)
{
    uint64_t hi = (uint64_t)ms << 16 | (uint64_t)rnd[0] << 8 | rnd[1], lo = get_be64(rnd + 2);

    /* bit k of the 128-bit value, counting from the top, is in hi for k < 64 */
    for (int c = 25; c >= 0; c--) {
        int shift = (25 - c) * 5; /* from the bottom of the 128 bits */
        unsigned v;

        if (shift + 5 <= 64)
            v = (unsigned)(lo >> shift) & 31;
        else if (shift >= 64)
            v = (unsigned)(hi >> (shift - 64)) & 31;
        else /* straddles the halves */
            v = (unsigned)((lo >> shift) | (hi << (64 - shift))) & 31;
        out[c] = crockford[v];
    }
    out[26] = 0;
}

void evid_generate(char out[EVID_SIZE], int64_t now_ms)
{
    unsigned char rnd[10];
    int64_t ms;

    pthread_mutex_lock(&evid_lock);
    if (now_ms <= evid_last_ms && evid_increment(evid_last_rand)) {
        ms = evid_last_ms;
    } else {
        ms = now_ms > evid_last_ms ? now_ms : evid_last_ms + 1;
        evid_random(evid_last_rand, sizeof(evid_last_rand));
        evid_last_rand[0] &= 0x7F; /* leave room to increment */
        evid_last_ms = ms;
    }
    memcpy(rnd, evid_last_rand, sizeof(rnd));
    pthread_mutex_unlock(&evid_lock);
    memcpy(out, EVID_PREFIX, 4);
    evid_encode(out + 4, ms, rnd);
}

/* Times an id can hold: 0 to 2^48 - 1 ms. */
static int64_t evid_clamp_ms(int64_t ms)
{
    if (ms < 0)
        return 0;
    if (ms > ((int64_t)1 << 48) - 1)
        return ((int64_t)1 << 48) - 1;
    return ms;
}

void evid_time_prefix(char out[EVID_TIME_SIZE], int64_t ms)
{
    uint64_t v = (uint64_t)evid_clamp_ms(ms);

    for (int i = EVID_TIME_DIGITS - 1; i >= 0; i--, v >>= 5)
        out[i] = crockford[v & 31];
    out[EVID_TIME_DIGITS] = 0;
}

void evid_derive(char out[EVID_SIZE], int64_t ts_ms, const char *const *parts, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE], len[9];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

    for (size_t i = 0; ok && i < n; i++) {
        uint64_t l = parts[i] ? strlen(parts[i]) : 0;

        len[0] = parts[i] != NULL; /* NULL and "" differ */
        put_be64(len + 1, l);
        ok = EVP_DigestUpdate(ctx, len, sizeof(len)) == 1 &&
             (l == 0 || EVP_DigestUpdate(ctx, parts[i], l) == 1);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 10;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        msg_fatal(EX_SOFTWARE, "evid: SHA-256 failed");
    memcpy(out, EVID_PREFIX, 4);
    evid_encode(out + 4, evid_clamp_ms(ts_ms), md);
}

static int crockford_value(char c)
{
    const char *p = c ? strchr(crockford, c) : NULL;

    return p ? (int)(p - crockford) : -1;
}

bool evid_valid(const char *s)
{
    if (strncmp(s, EVID_PREFIX, 4) != 0 || strlen(s) != EVID_LEN)
        return false;
    for (int i = 4; i < EVID_LEN; i++)
        if (crockford_value(s[i]) < 0)
            return false;
    return s[4] <= '7'; /* first digit holds 3 bits */
}

int64_t evid_time_ms(const char *s)
{
    int64_t ms = 0;

    /* The first 10 digits hold 3 + 9*5 = 48 bits: exactly the time. */
    for (int i = 4; i < 14; i++)
        ms = (ms << 5) | crockford_value(s[i]);
    return ms;
}
