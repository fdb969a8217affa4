/*
 * check_event.c - unit tests of the event model: ids, types, timestamps,
 * canonical JSON. Table-driven: one row per case.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cjson.h"
#include "event.h"
#include "timeutil.h"

/* ---- canonical JSON: input -> expected bytes, or NULL = must be refused */
static const struct {
    const char *in, *out;
} cjson_cases[] = {
    { "{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":2}" },
    { "{ \"b\" : 2 , \"a\" : 1 }", "{\"b\":2,\"a\":1}" }, /* insertion order kept */
    { "{\"x\":1.0}", "{\"x\":1}" },
    { "{\"x\":-0.0}", "{\"x\":0}" },
    { "{\"x\":0.1}", "{\"x\":0.1}" },
    { "{\"x\":2.5,\"y\":0.123456789012345}", "{\"x\":2.5,\"y\":0.123456789012345}" },
    { "{\"x\":1e3}", "{\"x\":1000}" },
    { "{\"x\":0.0001}", "{\"x\":0.0001}" },
    { "{\"s\":\"a\\u001fb\\u0001\"}", "{\"s\":\"a\\u001fb\\u0001\"}" },
    { "{\"s\":\"\\\\u001F\"}", "{\"s\":\"\\\\u001F\"}" }, /* a literal backslash-u */
    { "{\"s\":\"\\/\\t\\n\"}", "{\"s\":\"/\\t\\n\"}" },
    { "{\"s\":\"Gr\\u00fc\\u00dfe\"}", "{\"s\":\"Grüße\"}" },
    { "{\"n\":9007199254740991}", "{\"n\":9007199254740991}" },
    { "{\"n\":9007199254740992}", NULL },
    { "{\"x\":0.00001}", NULL },
    { "{\"x\":0.1234567890123456}", NULL },
    { "{\"x\":1e300}", NULL },
    { "{\"a\":[1,[2,[3.5]]]}", "{\"a\":[1,[2,[3.5]]]}" },
    { "{}", "{}" },
    { "{\"e\":[],\"o\":{},\"n\":null,\"t\":true,\"f\":false}",
      "{\"e\":[],\"o\":{},\"n\":null,\"t\":true,\"f\":false}" },
    { "{\"b\":\"\\b\\f\\r\\u0007\\u007f\\u2028\"}", "{\"b\":\"\\b\\f\\r\\u0007\x7f\xe2\x80\xa8\"}" },
    { "{\"k\\\"ey\":-9007199254740991,\"r\":-1234.5678}", "{\"k\\\"ey\":-9007199254740991,\"r\":-1234.5678}" },
};

START_TEST(test_cjson)
{
    json_t *v = json_loads(cjson_cases[_i].in, JSON_DECODE_ANY, NULL);
    mh_err_t err;
    size_t len;
    char *s;
    int rc;

    ck_assert_ptr_nonnull(v);
    rc = cjson_normalize(v, &err);
    if (cjson_cases[_i].out == NULL) {
        ck_assert_int_eq(rc, -1);
        ck_assert_ptr_nonnull(strstr(err.text, "string"));
    } else {
        ck_assert_int_eq(rc, 0);
        s = cjson_dump(v, &len);
        ck_assert_str_eq(s, cjson_cases[_i].out);
        ck_assert_uint_eq(len, strlen(cjson_cases[_i].out));
        free(s);
        s = cjson_dump_jansson(v, &len); /* the reference agrees */
        ck_assert_str_eq(s, cjson_cases[_i].out);
        free(s);
    }
    json_decref(v);
}
END_TEST

/* A value that could not be made (json_pack of text that is not UTF-8)
 * has no text: NULL from both writers, as from json_dumps, never a crash;
 * *len is left alone. */
START_TEST(test_cjson_null)
{
    json_t *failed = json_pack("{s:s}", "error", "cut \xe2\x82");
    size_t len = 7;

    ck_assert_ptr_null(failed);
    ck_assert_ptr_null(cjson_dump(failed, &len));
    ck_assert_uint_eq(len, 7);
    ck_assert_ptr_null(cjson_dump_jansson(failed, &len));
    ck_assert_uint_eq(len, 7);
}
END_TEST

/* The record writer gives what cjson_dump gives for the same tree:
 * nesting, escapes, null, booleans, negative and large integers. */
START_TEST(test_cjson_writer)
{
    const char *odd = "q\"b\\\n\x01\x7f\xc3\xa9";
    cjson_writer_t w = CJSON_WRITER_INIT;
    json_t *v = json_pack("{s:s,s:[s,s,[]],s:{s:I,s:I,s:b,s:b,s:n},s:{},s:i}", "id", odd,
                          "list", "a", "", "obj", "neg", (json_int_t)-9007199254740991LL,
                          "big", (json_int_t)9007199254740991LL, "t", 1, "f", 0, "nil",
                          "empty", "last", 0);
    char *want, *got;
    size_t wlen, glen;

    ck_assert_ptr_nonnull(v);
    cjw_open(&w, '{');
    cjw_key(&w, "id");
    cjw_str(&w, odd);
    cjw_key(&w, "list");
    cjw_open(&w, '[');
    cjw_strn(&w, "abc", 1);
    cjw_str(&w, "");
    cjw_open(&w, '[');
    cjw_close(&w, ']');
    cjw_close(&w, ']');
    cjw_key(&w, "obj");
    cjw_open(&w, '{');
    cjw_key(&w, "neg");
    cjw_int(&w, -9007199254740991LL);
    cjw_key(&w, "big");
    cjw_int(&w, 9007199254740991LL);
    cjw_key(&w, "t");
    cjw_bool(&w, true);
    cjw_key(&w, "f");
    cjw_bool(&w, false);
    cjw_key(&w, "nil");
    cjw_str(&w, NULL);
    cjw_close(&w, '}');
    cjw_key(&w, "empty");
    cjw_open(&w, '{');
    cjw_close(&w, '}');
    cjw_key(&w, "last");
    cjw_int(&w, 0);
    cjw_close(&w, '}');
    got = cjw_finish(&w, &glen);
    want = cjson_dump(v, &wlen);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(glen, wlen);
    ck_assert_ptr_null(w.b.lb.data); /* finish hands the text over */
    free(got);
    free(want);
    json_decref(v);
}
END_TEST

/* ---- event types */
static const struct {
    const char *type;
    int ok;
} type_cases[] = {
    { "email.sent", 1 },        { "email.unsubscribed", 1 }, { "app.signup", 1 },
    { "billing.invoice-paid", 1 }, { "a.b_c.d", 1 },        { "email.custom", 0 },
    { "mailhook.x", 0 },        { "nodot", 0 },              { "App.Signup", 0 },
    { ".lead", 0 },             { "trail.", 0 },             { "a..b", 0 },
    { "", 0 },                  { "sp ace.x", 0 },
    { "a.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
};

START_TEST(test_types)
{
    mh_err_t err;

    ck_assert_int_eq(event_type_check(type_cases[_i].type, &err) == 0, type_cases[_i].ok);
}
END_TEST

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

START_TEST(test_event_roundtrip)
{
    json_t *data = json_pack("{s:s,s:i}", "recipient", "bob@example.net", "attempt", 2);
    event_t *ev = event_new(EV_DEFERRED, 1795329019123LL, data, NULL), *back;
    char *s, *s2;
    size_t len, len2;

    ck_assert_ptr_nonnull(ev);
    s = event_to_json(ev, &len);
    ck_assert_ptr_nonnull(strstr(s, "\"type\":\"email.deferred\",\"timestamp\":"
                                    "\"2026-11-22T06:30:19.123Z\",\"data\":{\"recipient\""));
    ck_assert(strncmp(s, "{\"id\":\"evt_", 11) == 0);
    back = event_from_json(s, len, NULL);
    ck_assert_ptr_nonnull(back);
    s2 = event_to_json(back, &len2);
    ck_assert_str_eq(s, s2); /* canonical: parse + serialize is the identity */
    free(s), free(s2);
    event_free(ev), event_free(back);
}
END_TEST

static const char *const bad_events[] = {
    "",
    "[]",
    "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"app.x\",\"timestamp\":\"2026-01-01T00:00:00Z\"}",
    "{\"id\":\"nope\",\"type\":\"app.x\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":{}}",
    "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"Bad\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":{}}",
    "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"app.x\",\"timestamp\":\"then\",\"data\":{}}",
    "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"app.x\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":[]}",
    "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"app.x\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":{}}",
    "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"app.x\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"data\":{\"s\":\"\xff\"}}",
};

START_TEST(test_bad_events)
{
    mh_err_t err = { "" };
    event_t *ev = event_from_json(bad_events[_i], strlen(bad_events[_i]), &err);

    ck_assert_ptr_null(ev);
    ck_assert(err.text[0] != 0);
}
END_TEST

/* One check for every way in: a key given twice is refused by the parse
 * the daemon uses for events and the CLI for emit's data, with one message;
 * the text jansson quotes from the input is made printable. */
START_TEST(test_json_parse)
{
    static const char dup_data[] = "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":"
                                   "\"app.x\",\"timestamp\":\"2026-01-01T00:00:00Z\","
                                   "\"data\":{\"a\":1,\"a\":2}}";
    mh_err_t err = { "" }, err2 = { "" };
    json_t *v;

    ck_assert_ptr_null(event_json_parse("{\"a\":1,\"a\":2}", 13, &err));
    ck_assert_str_eq(err.text, "invalid JSON at byte 10: duplicate object key near '\"a\"'");
    ck_assert_ptr_null(event_json_parse("{\"a\":{\"b\":1,\"b\":1}}", 19, &err));
    ck_assert_ptr_nonnull(strstr(err.text, "duplicate object key"));
    ck_assert_ptr_null(event_from_json(dup_data, strlen(dup_data), &err2));
    ck_assert_ptr_nonnull(strstr(err2.text, ": duplicate object key near '\"a\"'"));
    ck_assert_ptr_null(event_json_parse("{\"a\n\":1}", 8, &err)); /* raw LF in a string */
    ck_assert_ptr_null(strchr(err.text, '\n'));
    v = event_json_parse("{\"a\":1,\"b\":{\"a\":2}}", 19, &err);
    ck_assert_ptr_nonnull(v);
    json_decref(v);
}
END_TEST

static Suite *event_suite(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("core");

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))
    tcase_add_loop_test(tc, test_cjson, 0, N(cjson_cases));
    tcase_add_loop_test(tc, test_types, 0, N(type_cases));
    tcase_add_loop_test(tc, test_rfc3339, 0, N(time_cases));
    tcase_add_test(tc, test_user_time);
    tcase_add_loop_test(tc, test_duration, 0, N(duration_cases));
    tcase_add_test(tc, test_evid);
    tcase_add_test(tc, test_evid_derive);
    tcase_add_test(tc, test_evid_time_prefix);
    tcase_add_test(tc, test_cjson_writer);
    tcase_add_test(tc, test_cjson_null);
    tcase_add_test(tc, test_event_roundtrip);
    tcase_add_loop_test(tc, test_bad_events, 0, N(bad_events));
    tcase_add_test(tc, test_json_parse);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(event_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
