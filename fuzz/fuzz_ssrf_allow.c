/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ssrf_allow.c - libFuzzer entry point for the SSRF allow-list parser
 * (ssrf_allow_parse, from mailhook.conf's delivery section): the input's
 * lines are the list's entries. Whatever they hold, the parser must never
 * crash or leak; when it accepts them, ssrf_check() with that list must
 * judge any address without crashing, keep its why-text NUL-terminated
 * within its size, and admit every address an entry names exactly (the
 * entries that parse on their own as a bare address).
 *
 * Build and run: make fuzz (needs clang), or see tests/t0094-fuzz-ssrf.sh.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssrf.h"

#define MAX_ENTRIES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Judge the address in sa with a and check the why-text's bounds. */
static int judge(const ssrf_allow_t *a, const struct sockaddr *sa, socklen_t salen)
{
    char why[64];
    int rc;

    memset(why, 'x', sizeof(why));
    rc = ssrf_check(a, sa, salen, why, sizeof(why));
    if (memchr(why, 0, sizeof(why)) == NULL)
        abort(); /* why not NUL-terminated within whysize */
    return rc;
}

/* Every bare address entry (no "/") is admitted by the list. */
static void check_exact(const ssrf_allow_t *a, const char *entry)
{
    struct sockaddr_in s4 = { .sin_family = AF_INET };
    struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };

    if (inet_pton(AF_INET, entry, &s4.sin_addr) == 1) {
        if (judge(a, (struct sockaddr *)&s4, sizeof(s4)) != 0)
            abort();
    } else if (inet_pton(AF_INET6, entry, &s6.sin6_addr) == 1) {
        if (judge(a, (struct sockaddr *)&s6, sizeof(s6)) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *list[MAX_ENTRIES], *p;
    struct sockaddr_in s4 = { .sin_family = AF_INET };
    struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
    ssrf_allow_t *a;
    size_t n = 0;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    for (p = text; n < MAX_ENTRIES;) {
        char *nl = strchr(p, '\n');

        list[n++] = p;
        if (nl == NULL)
            break;
        *nl = 0;
        p = nl + 1;
    }
    if ((a = ssrf_allow_parse((const char *const *)list, n, NULL)) != NULL) {
        for (size_t i = 0; i < n; i++)
            check_exact(a, list[i]);
        /* The input's first bytes as addresses, and a short sockaddr. */
        memcpy(&s4.sin_addr, data, size < 4 ? size : 4);
        memcpy(&s6.sin6_addr, data, size < 16 ? size : 16);
        (void)judge(a, (struct sockaddr *)&s4, sizeof(s4));
        (void)judge(a, (struct sockaddr *)&s6, sizeof(s6));
        (void)judge(a, (struct sockaddr *)&s6, sizeof(s4));
        ssrf_allow_free(a);
    }
    free(text);
    return 0;
}
