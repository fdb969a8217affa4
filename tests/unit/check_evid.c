/* SPDX-License-Identifier: MIT */
/*
 * check_evid.c - unit tests of event ids (evid.h): generated, derived,
 * their time and the time prefix of a range.
 * Table-driven: one row per case.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "evid.h"

START_TEST(test_evid)
{
    char a[EVID_SIZE], b[EVID_SIZE];
    int64_t t = 1795329019123LL;

    evid_generate(a, t);
    ck_assert(evid_valid(a));
    /* The time part, base32 of 1795329019123 computed independently. */
    ck_assert_msg(strncmp(a, "evt_01M80Z5K7K", 14) == 0, "%s", a);
    ck_assert_int_eq(evid_time_ms(a), t);
    for (int i = 0; i < 10000; i++) { /* same millisecond: strictly increasing */
        evid_generate(b, t);
        ck_assert(strcmp(a, b) < 0);
        memcpy(a, b, sizeof(a));
    }
    evid_generate(b, t - 5000); /* clock went back: still increasing */

    ck_assert(strcmp(a, b) < 0);
    ck_assert(!evid_valid("evt_01ARZ3NDEKTSV4RRFFQ69G5FAU!"));
    ck_assert_int_eq(evid_time_ms("evt_01ARYZ6S410000000000000000"), 1469918176385LL);
    ck_assert(!evid_valid("evt_01ARZ3NDEKTSV4RRFFQ69G5FA"));
    ck_assert(!evid_valid("evt_81ARZ3NDEKTSV4RRFFQ69G5FAV"));
    ck_assert(!evid_valid("evt_01ARZ3NDEKTSV4RRFFQ69G5FIL")); /* I and L not Crockford */
}
END_TEST

/* Derived ids: deterministic, valid, time first; the expected values were
 * computed independently (Python hashlib: SHA-256 over 1 flag byte, 8
 * length bytes big-endian and the bytes of each part, top 80 bits). */
START_TEST(test_evid_derive)
{
    const char *p1[] = { "postfix", "3F2A1B2C4D", "ann@example.org", "email.deferred", "2" };
    const char *p2[] = { "postfix", "3F2A1B2C4D", "ann@example.org", "email.deferred", "3" };
    const char *p3[] = { "postfi", "x3F2A1B2C4D", "ann@example.org", "email.deferred", "2" };
    const char *pn[] = { NULL, "" }, *pe[] = { "", NULL };
    char a[EVID_SIZE], b[EVID_SIZE];

    evid_derive(a, 1795336219000LL, p1, 5);
    ck_assert_str_eq(a, "evt_01M8161ABRG4SV6528WCKTHEW0");
    ck_assert(evid_valid(a));
    ck_assert_int_eq(evid_time_ms(a), 1795336219000LL);
    evid_derive(b, 1795336219000LL, p1, 5);
    ck_assert_str_eq(a, b); /* same inputs, same id */
    evid_derive(b, 1795336219000LL, p2, 5);
    ck_assert_str_ne(a, b); /* another attempt */
    ck_assert_int_eq(strncmp(a, b, 14), 0); /* same time digits */
    evid_derive(b, 1795336219000LL, p3, 5);
    ck_assert_str_ne(a, b); /* the parts' boundaries count */
    evid_derive(b, 1795336219001LL, p1, 5);
    ck_assert_str_ne(a, b);
    evid_derive(a, 0, pn, 2);
    ck_assert_str_eq(a, "evt_0000000000KHHXKD1VNH070K2J");
    evid_derive(b, 0, pe, 2);
    ck_assert_str_ne(a, b); /* NULL is not "" */
    evid_derive(a, -5, pn, 2);
    ck_assert(evid_valid(a));
}
END_TEST

/* Time prefixes: pure (the monotonic state of evid_generate does not move
 * them), the first 10 digits of any id made at that time, and a bound:
 * ids made before sort before it, ids made at or after it do not. */
START_TEST(test_evid_time_prefix)
{
    const char *parts[] = { "x" };
    char t[EVID_TIME_SIZE], u[EVID_TIME_SIZE], id[EVID_SIZE];
    int64_t now = 1795329019123LL, week = 7 * 86400000LL;

    evid_time_prefix(t, now);
    ck_assert_str_eq(t, "01M80Z5K7K"); /* as in test_evid, computed independently */
    evid_generate(id, now + 60000); /* the newest id is later than every bound below */
    evid_time_prefix(t, now - week);
    ck_assert_str_eq(t, "01M7EYCJ7K"); /* 1794724219123 in base32 (Python) */
    ck_assert_int_lt(strncmp(t, id + 4, EVID_TIME_DIGITS), 0);
    evid_time_prefix(u, now - week);
    ck_assert_str_eq(t, u); /* the same answer twice */
    for (int64_t ms = now - 3; ms <= now + 3; ms++) {
        evid_derive(id, ms, parts, 1);
        evid_time_prefix(t, ms);
        ck_assert_int_eq(strncmp(id + 4, t, EVID_TIME_DIGITS), 0);
        evid_time_prefix(u, ms + 1);
        ck_assert_int_lt(strncmp(id + 4, u, EVID_TIME_DIGITS), 0); /* before the next ms */
        ck_assert_int_gt(strcmp(id + 4, t), 0);                    /* at or after its own */
    }
    evid_time_prefix(t, 0);
    ck_assert_str_eq(t, "0000000000");
    evid_time_prefix(t, 31);
    ck_assert_str_eq(t, "000000000Z");
    evid_time_prefix(t, -1); /* clamped, as evid_derive does */
    ck_assert_str_eq(t, "0000000000");
    evid_time_prefix(t, ((int64_t)1 << 48) - 1);
    ck_assert_str_eq(t, "7ZZZZZZZZZ");
    evid_time_prefix(t, INT64_MAX);
    ck_assert_str_eq(t, "7ZZZZZZZZZ");
}
END_TEST

static Suite *evid_suite(void)
{
    Suite *s = suite_create("evid");
    TCase *tc = tcase_create("core");

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))
    tcase_add_test(tc, test_evid);
    tcase_add_test(tc, test_evid_derive);
    tcase_add_test(tc, test_evid_time_prefix);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(evid_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
