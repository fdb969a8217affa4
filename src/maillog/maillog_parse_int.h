/* SPDX-License-Identifier: MIT */
/*
 * maillog_parse_int.h - private to the three parts of the line parser
 * (maillog_parse.h): maillog_parse.c (the patterns, the program, the
 * bodies), maillog_parse_fields.c (the key=value and PMG cursors) and
 * maillog_time.c (the timestamps and the clock). Nothing else includes it.
 * Their external names start with maillog_parse or maillog_clock_.
 *
 *   maillog_parse_fields(p, end, rec)  a key=value list into rec
 *                                      (maillog_parse_fields.c)
 *   maillog_parse_pmg(b, n, rec)       a pmg-smtp-filter body into rec
 *                                      (maillog_parse_fields.c)
 *   maillog_parse_strip_angle(s, single_only)
 *                                      "<addr>" -> "addr"; single_only: only
 *                                      when s holds one '<' (Sendmail)
 *                                      (maillog_parse_fields.c)
 *   maillog_clock_traditional(mon, day, hms, frac, clock, ms, local)
 *                                      a traditional syslog timestamp to UTC
 *                                      ms, inferring the year with the clock;
 *                                      *local is the local wall-clock ms
 *                                      (maillog_time.c)
 *   maillog_clock_rfc3339(iso, ms)     an RFC 3339 timestamp to UTC ms
 *                                      (maillog_time.c)
 *   ml_str_is(s, lit), ml_starts_with(s, lit)
 *                                      s is / starts with the literal (inline)
 *
 * Both timestamp functions return 0, or -1 for a time that does not exist
 * (Feb 30, hour 25, an unparsable RFC 3339 string).
 */
#ifndef MH_MAILLOG_PARSE_INT_H
#define MH_MAILLOG_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "maillog_parse.h"

void maillog_parse_fields(const char *p, const char *end, struct ml_rec *rec);
void maillog_parse_pmg(const char *b, size_t n, struct ml_rec *rec);
void maillog_parse_strip_angle(struct ml_str *s, bool single_only);
int maillog_clock_traditional(struct ml_str mon, struct ml_str day, struct ml_str hms,
                              struct ml_str frac, struct ml_clock *clock, int64_t *ms,
                              int64_t *local);
int maillog_clock_rfc3339(struct ml_str iso, int64_t *ms);

static inline bool ml_str_is(struct ml_str s, const char *lit)
{
    size_t n = strlen(lit);

    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static inline bool ml_starts_with(struct ml_str s, const char *lit)
{
    size_t n = strlen(lit);

    return s.len >= n && memcmp(s.p, lit, n) == 0;
}

#endif
