/* SPDX-License-Identifier: MIT */
/*
 * maillog_bounce.h - the correlator's name for the shared SMTP reply
 * classifier (bounce_class.h), kept so callers in the maillog reader need
 * not change.
 *
 *   maillog_bounce_class(dsn, dsnlen, text, textlen)   = bounce_class()
 */
#ifndef MH_MAILLOG_BOUNCE_H
#define MH_MAILLOG_BOUNCE_H

#include "bounce_class.h"

static inline const char *maillog_bounce_class(const char *dsn, size_t dsnlen, const char *text,
                                            size_t textlen)
{
    return bounce_class(dsn, dsnlen, text, textlen);
}

#endif
