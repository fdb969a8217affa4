/* SPDX-License-Identifier: MIT */
/*
 * maillog_time.c - the timestamps of maillog lines and the clock that
 * infers the year of a traditional syslog timestamp (see maillog_parse.h:
 * struct ml_clock, maillog_clock_init, maillog_clock_set_anchor,
 * maillog_clock_zone_changed). Part of maillog_parse.c, which calls
 * maillog_clock_traditional() and maillog_clock_rfc3339()
 * (maillog_parse_int.h).
 *
 * A traditional timestamp ("Nov 22 06:30:19") has no year and is local
 * time: the year is inferred from the previous line and the file's own
 * clock, the anchor (the rules are in maillog_parse.h); the local time is
 * converted to UTC by the zone's rules for that hour, cached per local hour
 * in the clock (ML_CLOCK_ZONE_SLOTS). RFC 3339 timestamps carry their
 * offset.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "maillog_parse_int.h"
#include "timeutil.h"

/* ----------------------------------------------------------------- time */

#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL

/* The Gregorian year of a day number (inverse of days_from_civil). */
static int64_t year_from_days(int64_t z)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10);
}

static bool date_valid(int64_t y, int m, int d)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return d >= 1 && d <= mdays[m - 1] && !(m == 2 && d == 29 && !leap);
}

static int month_number(const char *p)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

    for (int i = 0; i < 12; i++)
        if (memcmp(p, names + 3 * i, 3) == 0)
            return i + 1;
    return 0; /* the pattern allows only the twelve names */
}

static int digits(const char *p, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

/*
 * Local wall-clock ms (days_from_civil * DAY_MS + time of day) to UTC ms by
 * the zone's rules for that hour: mktime with tm_isdst = -1, cached per local
 * hour in the clock (a log moves on slowly, so one mktime per hour of log).
 */
static int64_t local_to_utc(struct ml_clock *clock, int64_t local_ms, int64_t y, int m, int d)
{
    int64_t hour = floor_div(local_ms, HOUR_MS);
    size_t slot = (size_t)((uint64_t)hour % ML_CLOCK_ZONE_SLOTS);
    struct tm tm = { 0 };
    time_t t;

    if (clock->zone[slot].hour != hour) {
        tm.tm_year = (int)(y - 1900);
        tm.tm_mon = m - 1;
        tm.tm_mday = d;
        tm.tm_hour = (int)(hour - floor_div(local_ms, DAY_MS) * 24);
        tm.tm_isdst = -1;
        t = mktime(&tm);
        clock->zone[slot].hour = hour;
        /* (time_t)-1 is also 1969-12-31T23:59:59: not an hour's start, so an error: UTC */
        clock->zone[slot].offset_s = t == (time_t)-1 ? 0 : (int32_t)(hour * 3600 - (int64_t)t);
    }
    return local_ms - (int64_t)clock->zone[slot].offset_s * 1000;
}

/* The offset of local time east of UTC at utc_ms (for the anchor). */
static int64_t utc_offset_ms(int64_t utc_ms)
{
    time_t t = (time_t)floor_div(utc_ms, 1000);
    struct tm tm;

    return localtime_r(&t, &tm) != NULL ? (int64_t)tm.tm_gmtoff * 1000 : 0;
}

/*
 * A traditional timestamp: local time with no year (see maillog_parse.h for
 * how the year is chosen). Year arithmetic is done in local wall-clock ms,
 * where an hour of offset is noise against tolerances of days; only the
 * chosen time is converted to UTC. *local is the local wall-clock time.
 */
int maillog_clock_traditional(struct ml_str mon, struct ml_str day, struct ml_str hms,
                              struct ml_str frac, struct ml_clock *clock, int64_t *ms,
                              int64_t *local)
{
    int m = month_number(mon.p), d = digits(day.p, day.len);
    int h = digits(hms.p, 2), mi = digits(hms.p + 3, 2), s = digits(hms.p + 6, 2);
    int64_t tod, ref, y0, y, ahead = clock->anchor_local_ms + ML_CLOCK_AHEAD_MS;

    if (m == 0 || h > 23 || mi > 59 || s > 60)
        return -1;
    tod = ((int64_t)h * 3600 + mi * 60 + (s == 60 ? 59 : s)) * 1000;
    if (frac.p != NULL) /* ".123456": milliseconds from the first three digits */
        for (size_t i = 1, scale = 100; i < frac.len && scale > 0; i++, scale /= 10)
            tod += (frac.p[i] - '0') * (int64_t)scale;
#define CANDIDATE(yy) (time_days_from_civil((yy), m, d) * DAY_MS + tod)
    ref = clock->have_last ? clock->last_local_ms : clock->anchor_local_ms;
    y0 = year_from_days(floor_div(ref, DAY_MS));
    y = clock->have_last ? y0 : y0 + 1;
    /* after a line: forward gaps of any length; only a long step back is New Year */
    while (clock->have_last && y < y0 + 8 &&
           (!date_valid(y, m, d) || CANDIDATE(y) < ref - ML_CLOCK_BACK_MS))
        y++;
    /* never in the future of the file that holds the line */
    while (y > y0 - 8 && (!date_valid(y, m, d) || CANDIDATE(y) > ahead))
        y--;
    if (!date_valid(y, m, d))
        return -1; /* Feb 30 and the like */
    *local = CANDIDATE(y);
#undef CANDIDATE
    *ms = local_to_utc(clock, *local, y, m, d);
    return 0;
}

/* An RFC 3339 timestamp; "+0100" (journalctl short-iso) gains its colon. */
int maillog_clock_rfc3339(struct ml_str iso, int64_t *ms)
{
    char buf[48];
    size_t n = iso.len;

    if (n + 2 > sizeof(buf))
        return -1;
    memcpy(buf, iso.p, n);
    if (n > 5 && (buf[n - 5] == '+' || buf[n - 5] == '-')) { /* ...+HHMM */
        buf[n] = buf[n - 1];
        buf[n - 1] = buf[n - 2];
        buf[n - 2] = ':';
        n++;
    }
    buf[n] = '\0';
    return time_parse_rfc3339(buf, ms, NULL);
}


void maillog_clock_zone_changed(struct ml_clock *clock)
{
    for (size_t i = 0; i < ML_CLOCK_ZONE_SLOTS; i++)
        clock->zone[i].hour = INT64_MIN;
    clock->anchor_local_ms = clock->anchor_ms + utc_offset_ms(clock->anchor_ms);
}

void maillog_clock_set_anchor(struct ml_clock *clock, int64_t anchor_ms)
{
    clock->anchor_ms = anchor_ms;
    clock->anchor_local_ms = anchor_ms + utc_offset_ms(anchor_ms);
}

void maillog_clock_init(struct ml_clock *clock, int64_t anchor_ms)
{
    memset(clock, 0, sizeof(*clock));
    clock->anchor_ms = anchor_ms;
    maillog_clock_zone_changed(clock);
}
