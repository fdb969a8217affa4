/* SPDX-License-Identifier: MIT */
/*
 * maillog_parse_int.h - private to maillog_parse.c and maillog_time.c, the
 * two halves of the line parser (maillog_parse.h). Nothing else includes it.
 *
 *   digits          the value of n decimal digits (the pattern checked them)
 *   ts_traditional  a traditional syslog timestamp to UTC ms, inferring the
 *                   year with the clock; *local is the local wall-clock ms
 *   ts_rfc3339      an RFC 3339 timestamp to UTC ms
 *
 * Both timestamp functions return 0, or -1 for a time that does not exist
 * (Feb 30, hour 25, an unparsable RFC 3339 string).
 */
#ifndef MH_MAILLOG_PARSE_INT_H
#define MH_MAILLOG_PARSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "maillog_parse.h"

int digits(const char *p, size_t n);
int ts_traditional(struct ml_str mon, struct ml_str day, struct ml_str hms,
                   struct ml_str frac, struct ml_clock *clock, int64_t *ms, int64_t *local);
int ts_rfc3339(struct ml_str iso, int64_t *ms);

#endif
