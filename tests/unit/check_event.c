/* SPDX-License-Identifier: MIT */
/*
 * check_event.c - unit tests of the event model (event.h): types, the
 * canonical round trip, refused events, the producers' JSON parse.
 * Table-driven: one row per case.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

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
    tcase_add_loop_test(tc, test_types, 0, N(type_cases));
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
