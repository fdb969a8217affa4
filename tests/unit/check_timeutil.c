/* SPDX-License-Identifier: MIT */
/*
 * check_timeutil.c - unit tests of time parsing and formatting
 * (timeutil.h): RFC 3339, what an administrator types, durations.
 * Table-driven: one row per case.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

/* ---- RFC 3339 */
static const struct {
    const char *in;
    int64_t ms; /* -1 = must fail */
} time_cases[] = {
    { "1970-01-01T00:00:00Z", 0 },
    { "2026-11-22T06:30:19.123Z", 1795329019123LL },
    { "2026-11-22T07:30:19.123+01:00", 1795329019123LL },
    { "2026-11-22T06:30:19.1234567Z", 1795329019123LL },
    { "2024-02-29", 1709164800000LL },
    { "2023-02-29", -1 },
    { "2026-13-01T00:00:00Z", -1 },
    { "2026-11-22T25:00:00Z", -1 },
    { "2026-11-22T06:30:19", -1 },
    { "2026-11-22T06:30:19Zjunk", -1 },
    { "yesterday", -1 },
};

START_TEST(test_rfc3339)
{
    int64_t ms = 0;
    int rc = time_parse_rfc3339(time_cases[_i].in, &ms, NULL);
    char buf[RFC3339_MS_LEN + 1];

    if (time_cases[_i].ms < 0) {
        ck_assert_int_eq(rc, -1);
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(ms, time_cases[_i].ms);
        time_format_rfc3339(buf, ms);
        ck_assert_int_eq(time_parse_rfc3339(buf, &ms, NULL), 0);
        ck_assert_int_eq(ms, time_cases[_i].ms);
    }
}
END_TEST

START_TEST(test_user_time)
{
    int64_t ms, now = 1795329019123LL;

    ck_assert_int_eq(time_parse_user("2h", now, &ms, NULL), 0);
    ck_assert_int_eq(ms, now - 7200000);
    ck_assert_int_eq(time_parse_user("-30m", now, &ms, NULL), 0);
    ck_assert_int_eq(ms, now - 1800000);
    ck_assert_int_eq(time_parse_user("1700000000", now, &ms, NULL), 0);
    ck_assert_int_eq(ms, 1700000000000LL);
    ck_assert_int_eq(time_parse_user("2026-11-22", now, &ms, NULL), 0);
    ck_assert_int_eq(time_parse_user("7x", now, &ms, NULL), -1);
    ck_assert_int_eq(time_parse_user("", now, &ms, NULL), -1);
}
END_TEST

/* ---- durations: input -> ms, or -1 = must be refused */
static const struct {
    const char *in;
    int64_t ms;
} duration_cases[] = {
    { "500ms", 500 },
    { "0", 0 },
    { "0ms", 0 },
    { "5", 5000 }, /* a bare number is seconds */
    { "5s", 5000 },
    { "5m", 300000 },
    { "2h", 7200000 },
    { "1d", 86400000 },
    { "9223372036854775ms", 9223372036854775LL },
    { "106751991167d", 106751991167LL * 86400000 }, /* the largest whole day */
    { "106751991168d", -1 },                       /* overflow */
    { "99999999999999999999", -1 },                /* overflow while reading digits */
    { "", -1 },
    { "-5s", -1 },
    { "+5s", -1 },
    { " 5s", -1 },
    { "5s ", -1 },
    { "5 s", -1 },
    { "1.5s", -1 },
    { "5x", -1 },
    { "5sec", -1 },
    { "5msx", -1 },
    { "5M", -1 },
    { "ms", -1 },
    { "s", -1 },
    { "2w", -1 },
};

START_TEST(test_duration)
{
    int64_t ms = -42;
    int rc = time_parse_duration_ms(duration_cases[_i].in, &ms);

    if (duration_cases[_i].ms < 0) {
        ck_assert_msg(rc == -1, "\"%s\" accepted", duration_cases[_i].in);
        ck_assert_int_eq(ms, -42); /* untouched on failure */
    } else {
        ck_assert_msg(rc == 0, "\"%s\" refused", duration_cases[_i].in);
        ck_assert_int_eq(ms, duration_cases[_i].ms);
    }
}
END_TEST

static Suite *timeutil_suite(void)
{
    Suite *s = suite_create("timeutil");
    TCase *tc = tcase_create("core");

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))
    tcase_add_loop_test(tc, test_rfc3339, 0, N(time_cases));
    tcase_add_test(tc, test_user_time);
    tcase_add_loop_test(tc, test_duration, 0, N(duration_cases));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(timeutil_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
