/*
 * maillog_bounce.c - bounce classification (see maillog_bounce.h).
 *
 * Rules are a table, tried in order: the first rule whose status code
 * prefix matches (or is empty) and whose text contains one of its words
 * (or that has none) decides. Text matching is case-insensitive, over the
 * first 512 bytes of the reply.
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "maillog_bounce.h"

static const struct bounce_rule {
    const char *code_prefix; /* "" = any code */
    const char *words[10];   /* NULL-terminated; empty = any text */
    const char *cls;
} bounce_rules[] = {
    /* The words beat loose codes: spam blocks often come as 5.7.1 or 5.0.0. */
    { "", { "spam", "blocklist", "blacklist", "block list", "black list", "spamhaus",
            "reputation", "rbl", "dnsbl", NULL }, "spam-block" },
    { "", { "relay access denied", "relaying denied", "relay not permitted",
            "not permitted to relay", "relay denied", NULL }, "relay-denied" },
    { "5.1.1", { NULL }, "unknown-user" },
    { "5.1.10", { NULL }, "unknown-user" },
    { "5.1.6", { NULL }, "unknown-user" },
    { "5.2.2", { NULL }, "mailbox-full" },
    { "5.2.1", { "full", "quota", NULL }, "mailbox-full" },
    { "5.4.4", { NULL }, "dns" },
    { "5.1.2", { NULL }, "dns" },
    { "", { "user unknown", "unknown user", "no such user", "does not exist",
            "mailbox unavailable", "invalid recipient", "unknown recipient",
            "recipient not found", "no mailbox", NULL }, "unknown-user" },
    { "", { "mailbox full", "quota", "over quota", "insufficient storage",
            "mailbox is full", NULL }, "mailbox-full" },
    { "", { "host not found", "name service error", "domain not found", "no mx",
            "nxdomain", NULL }, "dns" },
    { "5.7", { NULL }, "policy" },
    { "", { "policy", "not permitted", "not allowed", "sender address rejected",
            "access denied", NULL }, "policy" },
    { "", { NULL }, "other" },
};

/* needle (lowercase) in the lowercased text? */
static bool contains(const char *lower, size_t len, const char *needle)
{
    return memmem(lower, len, needle, strlen(needle)) != NULL;
}

/* Whole dotted components: "5.7" matches "5.7.1", "5.1.1" does not match "5.1.10". */
static bool code_matches(const char *prefix, const char *dsn, size_t dsnlen)
{
    size_t n = strlen(prefix);

    return n == 0 || (dsnlen >= n && memcmp(dsn, prefix, n) == 0 && (dsnlen == n || dsn[n] == '.'));
}

const char *mlc_bounce_class(const char *dsn, size_t dsnlen, const char *text, size_t textlen)
{
    char lower[512]; /* the words sit early in a reply; the rest need not be seen */

    if (dsn == NULL)
        dsnlen = 0;
    if (text == NULL)
        textlen = 0;
    if (textlen > sizeof(lower))
        textlen = sizeof(lower);
    for (size_t i = 0; i < textlen; i++)
        lower[i] = (char)tolower((unsigned char)text[i]);
    for (size_t i = 0; i < sizeof(bounce_rules) / sizeof(bounce_rules[0]); i++) {
        const struct bounce_rule *r = &bounce_rules[i];
        bool text_ok = r->words[0] == NULL;

        if (!code_matches(r->code_prefix, dsn ? dsn : "", dsnlen))
            continue;
        for (int w = 0; r->words[w] && !text_ok; w++)
            text_ok = contains(lower, textlen, r->words[w]);
        if (text_ok)
            return r->cls;
    }
    return "other";
}
