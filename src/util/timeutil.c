/* SPDX-License-Identifier: MIT */
/*
 * timeutil.c - clocks and RFC 3339 timestamps (see timeutil.h).
 *
 * Parsing is a cursor over the string, one small function per field, so a
 * malformed timestamp is reported with what was expected where.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

int64_t time_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Write v as exactly n decimal digits (v >= 0, fits). */
static void put_digits(char *p, int n, int v)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

/* Hand-formatted: this runs for every event on the ingest path. */
char *time_format_rfc3339(char *out, int64_t ms)
{
    time_t sec = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int milli = (int)(ms - (int64_t)sec * 1000);
    struct tm tm;

    gmtime_r(&sec, &tm);
    if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        memcpy(out, "0000-01-01T00:00:00.000Z", RFC3339_MS_LEN + 1); /* out of RFC 3339 range */
        return out;
    }
    memcpy(out, "YYYY-MM-DDTHH:MM:SS.mmmZ", RFC3339_MS_LEN + 1);
    put_digits(out, 4, tm.tm_year + 1900);
    put_digits(out + 5, 2, tm.tm_mon + 1);
    put_digits(out + 8, 2, tm.tm_mday);
    put_digits(out + 11, 2, tm.tm_hour);
    put_digits(out + 14, 2, tm.tm_min);
    put_digits(out + 17, 2, tm.tm_sec);
    put_digits(out + 20, 3, milli);
    return out;
}

/* Read exactly n digits at *p into *val; advance. */
static bool parse_digits(const char **p, int n, int *val)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *val = v;
    return true;
}

static bool parse_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
int64_t time_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool date_valid(int y, int m, int d)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    return !(m == 2 && d == 29 && !leap);
}

static bool parse_date(const char **p, int *y, int *m, int *d)
{
    return parse_digits(p, 4, y) && parse_char(p, '-') && parse_digits(p, 2, m) &&
           parse_char(p, '-') && parse_digits(p, 2, d) && date_valid(*y, *m, *d);
}

/* "HH:MM:SS[.frac]" -> ms of day */
static bool parse_clock(const char **p, int64_t *ms)
{
    int h, mi, s, frac = 0, scale = 100;

    if (!(parse_digits(p, 2, &h) && parse_char(p, ':') && parse_digits(p, 2, &mi) &&
          parse_char(p, ':') && parse_digits(p, 2, &s)))
        return false;
    if (h > 23 || mi > 59 || s > 60)
        return false;
    if (parse_char(p, '.')) {
        if (**p < '0' || **p > '9')
            return false;
        for (; **p >= '0' && **p <= '9'; (*p)++, scale /= 10)
            frac += (**p - '0') * scale; /* digits past milliseconds add 0 */
    }
    *ms = ((int64_t)h * 3600 + mi * 60 + (s == 60 ? 59 : s)) * 1000 + frac;
    return true;
}

/* "Z" | "+HH:MM" | "-HH:MM" -> offset in ms east of UTC */
static bool parse_offset(const char **p, int64_t *off)
{
    int sign, h, m;

    if (parse_char(p, 'Z') || parse_char(p, 'z')) {
        *off = 0;
        return true;
    }
    if (parse_char(p, '+'))
        sign = 1;
    else if (parse_char(p, '-'))
        sign = -1;
    else
        return false;
    if (!(parse_digits(p, 2, &h) && parse_char(p, ':') && parse_digits(p, 2, &m)) || h > 23 ||
        m > 59)
        return false;
    *off = sign * ((int64_t)h * 3600 + m * 60) * 1000;
    return true;
}

/* The error for time text s given from outside (a producer's event, a
 * command line): "WHAT "S"HINT", s made printable and cut near 40 bytes. */
static int time_bad(mh_err_t *err, const char *what, const char *s, const char *hint)
{
    char shown[44];

    return mh_err_set(err, "%s \"%s\"%s", what, printable(shown, sizeof(shown), s, strlen(s)),
                      hint);
}

int time_parse_rfc3339(const char *s, int64_t *ms, mh_err_t *err)
{
    const char *p = s;
    int y, m, d;
    int64_t clock = 0, off = 0;

    if (!parse_date(&p, &y, &m, &d))
        return time_bad(err, "bad date in", s, ": expected YYYY-MM-DD");
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!parse_clock(&p, &clock))
            return time_bad(err, "bad time in", s, ": expected HH:MM:SS[.fff]");
        if (!parse_offset(&p, &off))
            return time_bad(err, "bad zone in", s, ": expected Z or +HH:MM");
    }
    if (*p)
        return time_bad(err, "trailing text in timestamp", s, "");
    *ms = time_days_from_civil(y, m, d) * 86400000 + clock - off;
    return 0;
}

static bool parse_uint(const char **p, int64_t *v)
{
    int64_t n = 0;
    const char *start = *p;

    for (; **p >= '0' && **p <= '9'; (*p)++) {
        if (n > (INT64_MAX - 9) / 10)
            return false;
        n = n * 10 + (**p - '0');
    }
    *v = n;
    return *p > start;
}

int time_parse_user(const char *s, int64_t now_ms, int64_t *ms, mh_err_t *err)
{
    const char *p = s;
    int64_t n, unit;

    if (strlen(s) >= 10 && s[4] == '-')
        return time_parse_rfc3339(s, ms, err);
    if (*p == '-')
        p++;
    if (!parse_uint(&p, &n))
        return time_bad(err, "bad time", s, ": use RFC 3339, YYYY-MM-DD, epoch seconds, or an "
                                          "age like 30m, 2h, 7d");
    switch (*p) {
    case 0:
        if (*s == '-')
            return time_bad(err, "bad time", s, ": age needs a unit (s, m, h, d)");
        *ms = n * 1000; /* epoch seconds */
        return 0;
    case 's': unit = 1000; break;
    case 'm': unit = 60 * 1000; break;
    case 'h': unit = 3600 * 1000; break;
    case 'd': unit = 86400 * 1000; break;
    case 'w': unit = 7 * 86400 * 1000; break;
    default:
        return time_bad(err, "bad time unit in", s, ": use s, m, h, d or w");
    }
    if (p[1] != 0)
        return time_bad(err, "trailing text in time", s, "");
    if (n > INT64_MAX / unit)
        return time_bad(err, "time", s, " out of range");
    *ms = now_ms - n * unit;
    return 0;
}

/* No err: the one way to fail is "not a duration", which the caller words
 * for its context (an option name, a config directive). */
int time_parse_duration_ms(const char *s, int64_t *ms)
{
    const char *p = s;
    int64_t n, unit;

    if (!parse_uint(&p, &n))
        return -1; /* empty, a sign, or not a number */
    if (strcmp(p, "ms") == 0)
        unit = 1;
    else if (*p == 0 || strcmp(p, "s") == 0)
        unit = 1000; /* a bare number is seconds */
    else if (strcmp(p, "m") == 0)
        unit = 60 * 1000;
    else if (strcmp(p, "h") == 0)
        unit = 3600 * 1000;
    else if (strcmp(p, "d") == 0)
        unit = 86400 * 1000;
    else
        return -1;
    if (n > INT64_MAX / unit)
        return -1;
    *ms = n * unit;
    return 0;
}
