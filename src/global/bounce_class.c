/* SPDX-License-Identifier: MIT */
/*
 * bounce_class.c - SMTP reply classification (see bounce_class.h); the
 * rules are the rows of bounce_rules.def.
 *
 * The text is normalized once into a stack buffer (lowercase, every run of
 * whitespace one space, addresses dropped, the "said: " prefix skipped), then each rule is a
 * component-wise code comparison and a memmem(): a few dozen rows over at
 * most BOUNCE_TEXT_MAX bytes, no regular expressions needed.
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "bounce_class.h"

static const struct bounce_rule {
    const char *code;   /* "" = any; "x.1.1", "5.7" */
    const char *phrase; /* "" = any; lowercase */
    const char *cls;
} bounce_rules[] = {
#define BOUNCE_RULE(code, phrase, cls) { code, phrase, cls },
#include "bounce_rules.def"
#undef BOUNCE_RULE
};

const char *const bounce_class_names[] = {
    "unknown-user", "inactive", "mailbox-full", "spam-block", "relay-denied", "dns", "policy",
    "other", NULL,
};

/* Length of an enhanced status code "C.S.D" at p (C in 2/4/5, S and D 1-3
 * digits), or 0. */
static size_t code_len(const char *p, const char *end)
{
    const char *q = p;

    if (q >= end || (*q != '2' && *q != '4' && *q != '5'))
        return 0;
    q++;
    for (int part = 0; part < 2; part++) {
        const char *d;

        if (q >= end || *q != '.')
            return 0;
        d = ++q;
        while (q < end && q - d < 4 && isdigit((unsigned char)*q))
            q++;
        if (q == d || q - d > 3)
            return 0;
    }
    if (q < end && (isalnum((unsigned char)*q) || *q == '.'))
        return 0;
    return (size_t)(q - p);
}

/* The first enhanced status code in text that stands alone ("550 5.1.1",
 * "550-5.7.1"), or NULL. */
static const char *code_in_text(const char *t, size_t len, size_t *clen)
{
    const char *end = t + len;

    for (const char *p = t; p < end; p++) {
        if (p > t && !(p[-1] == ' ' || p[-1] == '-' || p[-1] == '(' || p[-1] == '#'))
            continue;
        if ((*clen = code_len(p, end)) != 0)
            return p;
    }
    return NULL;
}

/* x.0.0 says only success / temporary / permanent. */
static bool code_says_nothing(const char *c, size_t n)
{
    return n == 0 || (n == 5 && memcmp(c + 1, ".0.0", 4) == 0);
}

/* Does the code match the pattern, component by component ("x" = any)? */
static bool code_matches(const char *pat, const char *c, size_t n)
{
    const char *ce = c + n;

    if (*pat == 0)
        return true;
    while (*pat) {
        const char *pe = strchr(pat, '.'), *cd = memchr(c, '.', (size_t)(ce - c));
        size_t pl = pe ? (size_t)(pe - pat) : strlen(pat), cl = cd ? (size_t)(cd - c) : (size_t)(ce - c);

        if (c >= ce)
            return false;
        if (!(pl == 1 && *pat == 'x') && (pl != cl || memcmp(pat, c, pl) != 0))
            return false;
        pat += pl + (pe != NULL);
        c += cl + (cd != NULL);
        if (pe == NULL)
            return true; /* the pattern's components all matched */
        if (cd == NULL)
            return false;
    }
    return true;
}

/* Lowercase, whitespace runs as one space, into out (size BOUNCE_TEXT_MAX).
 * Words holding an '@' (the addresses a reply quotes: "<spam@example.org>:")
 * are left out, so a local part or domain never reads as a reason. */
static size_t normalize(char *out, const char *t, size_t len)
{
    const char *end = t + (len < 4 * BOUNCE_TEXT_MAX ? len : 4 * BOUNCE_TEXT_MAX), *w, *we;
    size_t n = 0;

    for (w = t; w < end && n < BOUNCE_TEXT_MAX; w = we) {
        while (w < end && isspace((unsigned char)*w))
            w++;
        for (we = w; we < end && !isspace((unsigned char)*we); we++)
            ;
        if (we == w || memchr(w, '@', (size_t)(we - w)) != NULL)
            continue;
        if (n > 0)
            out[n++] = ' ';
        for (; w < we && n < BOUNCE_TEXT_MAX; w++)
            out[n++] = (char)tolower((unsigned char)*w);
    }
    return n;
}

const char *bounce_class(const char *dsn, size_t dsnlen, const char *text, size_t textlen)
{
    char lower[BOUNCE_TEXT_MAX];
    const char *said, *tc;
    size_t n, tclen = 0;

    if (dsn == NULL)
        dsnlen = 0;
    if (text == NULL)
        textlen = 0;
    /* Postfix: "host mx.example[192.0.2.1] said: 550 5.1.1 ...": the host's
     * name is not the reply. */
    if ((said = memmem(text ? text : "", textlen, " said: ", 7)) != NULL) {
        textlen -= (size_t)(said + 7 - text);
        text = said + 7;
    }
    if (code_says_nothing(dsn, dsnlen) && (tc = code_in_text(text, textlen, &tclen)) != NULL) {
        dsn = tc;
        dsnlen = tclen;
    }
    n = normalize(lower, text ? text : "", textlen);
    for (size_t i = 0; i < sizeof(bounce_rules) / sizeof(bounce_rules[0]); i++) {
        const struct bounce_rule *r = &bounce_rules[i];

        if (!code_matches(r->code, dsn ? dsn : "", dsnlen))
            continue;
        if (r->phrase[0] == 0 || memmem(lower, n, r->phrase, strlen(r->phrase)) != NULL)
            return r->cls;
    }
    return "other";
}
