/*
 * maillog_bounce.h - classify a hard bounce from its enhanced status code
 * (RFC 3463) and the remote server's response text.
 *
 *   mlc_bounce_class(dsn, dsnlen, text, textlen)
 *       one of "unknown-user", "mailbox-full", "spam-block", "relay-denied",
 *       "dns", "policy", "other" (a static string). The status code decides
 *       where it is specific (5.1.1, 5.2.2, 5.4.4 ...); the text decides
 *       where codes are used loosely (5.7.1 serves spam blocks, relay
 *       denials and policy alike; 5.0.0 says nothing).
 */
#ifndef MH_MAILLOG_BOUNCE_H
#define MH_MAILLOG_BOUNCE_H

#include <stddef.h>

const char *mlc_bounce_class(const char *dsn, size_t dsnlen, const char *text, size_t textlen);

#endif
