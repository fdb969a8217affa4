/* SPDX-License-Identifier: MIT */
/*
 * timeutil.h - wall-clock and monotonic time, RFC 3339 formatting/parsing.
 *
 *   time_now_ms()          wall clock, ms since the Unix epoch (UTC)
 *   time_mono_ms()         monotonic clock in ms, for timeouts and durations
 *   time_mono_us()         monotonic clock in us, for latency measurements
 *   time_format_rfc3339(out, ms)
 *                          "2026-11-22T06:30:19.123Z" (UTC, always milliseconds)
 *   time_parse_rfc3339(s, &ms, err)
 *                          accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)",
 *                          also a bare date "YYYY-MM-DD" (midnight UTC)
 *   time_days_from_civil(y, m, d)  days since 1970-01-01 of a Gregorian date
 *   time_parse_user(s, now_ms, &ms, err)
 *                          what an administrator types: RFC 3339, a date, an
 *                          integer of epoch seconds, or a relative "-2h",
 *                          "30m", "7d" (meaning that long ago)
 *   time_parse_duration_ms(s, &ms)  a length of time as an administrator
 *                          types it: "500ms", "5s", "5m", "2h", "1d", or a bare
 *                          number of seconds. 0, or -1 (*ms untouched) for
 *                          garbage, a sign, or more ms than an int64_t holds
 */
#ifndef MH_TIMEUTIL_H
#define MH_TIMEUTIL_H

#include <stdint.h>
#include <stddef.h>
#include "msg.h"

#define RFC3339_MS_LEN 24 /* strlen("2026-11-22T06:30:19.123Z") */

int64_t time_now_ms(void);
int64_t time_mono_ms(void);
int64_t time_mono_us(void);
/* out must hold RFC3339_MS_LEN + 1 bytes; returns out. */
char *time_format_rfc3339(char *out, int64_t ms);
int time_parse_rfc3339(const char *s, int64_t *ms, mh_err_t *err);
int64_t time_days_from_civil(int64_t y, int m, int d);
int time_parse_user(const char *s, int64_t now_ms, int64_t *ms, mh_err_t *err);
int time_parse_duration_ms(const char *s, int64_t *ms);

#endif
