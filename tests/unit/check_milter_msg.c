/* SPDX-License-Identifier: MIT */
/*
 * check_milter_msg.c - the milter's message model (milter_msg.h) without
 * libmilter: RFC 2047 decoding, control headers (tags, metadata), header
 * mappings, tenant rules, bounds, the exact email.sent data, and the list
 * of control headers to remove. Table-driven: one row per case.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "milter_msg.h"

static char *maps[] = { "X-Campaign=campaign_id", "x-customer-id=customer", NULL };

static struct mh_conf_milter mc;

static void setup(void)
{
    mc = (struct mh_conf_milter){
        .socket = "unix:/tmp/x.sock", .tenant = "sasl_user", .remove_control_headers = true,
        .header_metadata = maps, .n_header_metadata = 2, .max_header_bytes = 256,
        .max_headers = 10, .max_recipients = 3, .max_tags = 4, .max_metadata_bytes = 200,
        .queue_events = 10, .timeout = 10,
    };
}

/* One message from MAIL FROM a@Example.COM to r1@x with these headers;
 * returns the data of its first event (owned by the caller). */
static json_t *data_of(const char *const *hdrs)
{
    milter_msg_t *m = milter_msg_new(&mc);
    struct milter_conn conn = { 0 };
    event_t **evs;
    size_t n;
    json_t *d;

    milter_conn_set(&conn, "192.0.2.1", "mx.example.net", "smtpd");
    milter_msg_set_sender(m, "<a@Example.COM>");
    milter_msg_add_recipient(m, "<r1@x>");
    for (size_t i = 0; hdrs[i]; i += 2)
        milter_msg_header(m, hdrs[i], hdrs[i + 1]);
    evs = milter_msg_events(m, &conn, 1000, &n);
    ck_assert_uint_eq(n, 1);
    d = json_incref(evs[0]->data);
    milter_events_free(evs, n);
    milter_msg_free(m);
    milter_conn_clear(&conn);
    return d;
}

static const char *dstr(const json_t *d, const char *k)
{
    return json_string_value(json_object_get(d, k));
}

/* ------------------------------------------------------------ RFC 2047 */

static const struct { const char *raw, *want; } subjects[] = {
    { "=?UTF-8?B?w6lsw6h2ZSDwn5iA?=", "\xc3\xa9l\xc3\xa8ve \xf0\x9f\x98\x80" },
    { "=?utf-8?q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait" },
    { "=?ISO-8859-1?Q?Andr=E9?= and more", "Andr\xc3\xa9 and more" },
    { "=?KOI8-R?B?8NLJ18XU?=", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
    { "=?ISO-2022-JP?B?GyRCJEskWyRzGyhC?=", "\xe3\x81\xab\xe3\x81\xbb\xe3\x82\x93" },
    { "=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab" },
    { "Hello\r\n\tfolded\r\n world", "Hello folded world" },
    { "  plain  ", "plain" },
    { "", "" },
};

START_TEST(test_subject_decoded)
{
    const char *h[] = { "Subject", subjects[_i].raw, NULL };
    json_t *d = data_of(h);

    ck_assert_str_eq(dstr(d, "subject"), subjects[_i].want);
    json_decref(d);
}
END_TEST

/* Never a crash, always valid UTF-8, the readable part kept. */
static const struct { const char *raw, *contains; } odd_subjects[] = {
    { "=?X-NO-SUCH-CHARSET?Q?abc?=", "abc" },
    { "=?UTF-8?B?####?= tail", "tail" },
    { "=?UTF-8?Q?unterminated", "unterminated" },
    { "=?UTF-8?B?/w==?= x", "x" },           /* decodes to an invalid byte */
    { "caf\xe9 8-bit latin1", "8-bit latin1" },
    { "=?=?=?==?" "?=", "" },
    { "bad \xff\xfe utf8", "utf8" },
};

START_TEST(test_subject_odd)
{
    const char *h[] = { "Subject", odd_subjects[_i].raw, NULL };
    json_t *d = data_of(h);
    const char *s = dstr(d, "subject");

    ck_assert_ptr_nonnull(s);
    ck_assert(g_utf8_validate(s, -1, NULL));
    ck_assert_ptr_nonnull(strstr(s, odd_subjects[_i].contains));
    json_decref(d);
}
END_TEST

START_TEST(test_from_to_decoded)
{
    const char *h[] = { "From", "=?UTF-8?Q?Jos=C3=A9?= <jose@example.com>",
                        "To", "\"Ann\" <ann@example.org>", NULL };
    json_t *d = data_of(h);

    ck_assert_str_eq(dstr(d, "header_from"), "Jos\xc3\xa9 <jose@example.com>");
    ck_assert_str_eq(dstr(d, "header_to"), "\"Ann\" <ann@example.org>");
    json_decref(d);
}
END_TEST

/* ------------------------------------------------------------ tags */

static const struct { const char *h1, *h2, *want; } tag_rows[] = {
    { "vip", NULL, "[\"vip\"]" },
    { " vip , news ,, ", "promo", "[\"vip\",\"news\",\"promo\"]" },
    { "a,b", "b,a,c", "[\"a\",\"b\",\"c\"]" },                /* deduplicated */
    { "a,b,c,d,e,f", NULL, "[\"a\",\"b\",\"c\",\"d\"]" },     /* max_tags = 4 */
    { "ok,bad\x01tag", NULL, "[\"ok\"]" },                    /* control character */
    { "one,\r\n two", NULL, "[\"one\",\"two\"]" },            /* folded */
    { "", NULL, "[]" },
};

START_TEST(test_tags)
{
    const char *h[] = { "X-Mailhook-Tag", tag_rows[_i].h1, "x-mailhook-tag", tag_rows[_i].h2,
                        NULL };
    json_t *d, *want = json_loads(tag_rows[_i].want, 0, NULL);

    if (tag_rows[_i].h2 == NULL)
        h[2] = NULL;
    d = data_of(h);
    ck_assert_msg(json_equal(json_object_get(d, "tags"), want), "row %d", _i);
    json_decref(want), json_decref(d);
}
END_TEST

START_TEST(test_tags_cut_header)
{
    /* A tag header longer than max_header_bytes (256): the cut last piece
     * is not taken as a tag. */
    char v[400];
    const char *h[] = { "X-Mailhook-Tag", v, NULL };
    json_t *d;

    memset(v, 'z', sizeof(v) - 1), v[sizeof(v) - 1] = 0;
    memcpy(v, "first,", 6);
    d = data_of(h);
    ck_assert_uint_eq(json_array_size(json_object_get(d, "tags")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "tags"), 0)), "first");
    json_decref(d);
}
END_TEST

/* ------------------------------------------------------------ metadata */

static const struct { const char *h1, *h2, *want; } meta_rows[] = {
    { "{\"campaign_id\":\"c1\",\"n\":3,\"ok\":true,\"r\":1.5}", NULL,
      "{\"campaign_id\":\"c1\",\"n\":3,\"ok\":true,\"r\":1.5}" },
    { "{\"a\":\"1\"}", "{\"b\":\"2\",\"a\":\"3\"}", "{\"a\":\"3\",\"b\":\"2\"}" }, /* merged */
    { "[1,2]", NULL, "{}" },                                   /* not an object */
    { "\"str\"", NULL, "{}" },
    { "{\"a\":", NULL, "{}" },                                 /* invalid JSON */
    { "not json at all", NULL, "{}" },
    { "{\"a\":null,\"b\":[1],\"c\":{\"d\":1},\"e\":\"kept\"}", NULL, "{\"e\":\"kept\"}" },
    { "{\"\":\"empty key\",\"k\\u0001\":\"ctl\",\"ok\":1}", NULL, "{\"ok\":1}" },
    { "{\"big\":1e300,\"ok\":2}", NULL, "{\"ok\":2}" },        /* no canonical form */
};

START_TEST(test_metadata)
{
    const char *h[] = { "X-Mailhook-Metadata", meta_rows[_i].h1, "X-Mailhook-Metadata",
                        meta_rows[_i].h2, NULL };
    json_t *d, *want = json_loads(meta_rows[_i].want, 0, NULL);

    if (meta_rows[_i].h2 == NULL)
        h[2] = NULL;
    d = data_of(h);
    ck_assert_msg(json_equal(json_object_get(d, "metadata"), want), "row %d: %s", _i,
                  json_dumps(json_object_get(d, "metadata"), JSON_COMPACT));
    json_decref(want), json_decref(d);
}
END_TEST

START_TEST(test_metadata_too_big)
{
    /* max_metadata_bytes = 200: a bigger header is ignored whole, and the
     * limit is per message (the second header would exceed it). */
    char big[300], half[150];
    const char *h1[] = { "X-Mailhook-Metadata", big, NULL };
    const char *h2[] = { "X-Mailhook-Metadata", half, "X-Mailhook-Metadata", half, NULL };
    json_t *d;

    snprintf(big, sizeof(big), "{\"k\":\"%0*d\"}", 280, 0);
    d = data_of(h1);
    ck_assert_uint_eq(json_object_size(json_object_get(d, "metadata")), 0);
    json_decref(d);
    snprintf(half, sizeof(half), "{\"k\":\"%0*d\"}", 130, 0);
    d = data_of(h2);
    ck_assert_uint_eq(json_object_size(json_object_get(d, "metadata")), 1);
    json_decref(d);
}
END_TEST

START_TEST(test_header_metadata_mapping)
{
    const char *h[] = { "x-campaign", "  spring\r\n sale ", "X-Customer-ID", "cust-9",
                        "X-Mailhook-Metadata", "{\"customer\":\"explicit\"}", NULL };
    json_t *d = data_of(h), *md = json_object_get(d, "metadata");

    ck_assert_str_eq(dstr(md, "campaign_id"), "spring sale");
    ck_assert_str_eq(dstr(md, "customer"), "explicit"); /* X-Mailhook-Metadata wins */
    json_decref(d);
}
END_TEST

/* ------------------------------------------------------------ tenant */

static const struct { const char *mode, *sender, *sasl, *want; } tenant_rows[] = {
    { "sasl_user", "<a@Example.COM>", "alice", "alice" },
    { "sasl_user", "<a@Example.COM>", NULL, "example.com" },
    { "sasl_user", "<a@Example.COM>", "", "example.com" },
    { "sender_domain", "<a@Example.COM>", "alice", "example.com" },
    { "sender_domain", "<mailer>", "alice", NULL },
    { "sasl_user", "<mailer>", NULL, NULL },
    { "sender_domain", "<no-domain>", NULL, NULL },
};

START_TEST(test_tenant)
{
    milter_msg_t *m;
    event_t **evs;
    size_t n;

    mc.tenant = (char *)tenant_rows[_i].mode;
    m = milter_msg_new(&mc);
    milter_msg_set_sender(m, tenant_rows[_i].sender);
    milter_msg_set_sasl(m, tenant_rows[_i].sasl);
    milter_msg_add_recipient(m, "r@x");
    evs = milter_msg_events(m, NULL, 1, &n);
    ck_assert_uint_eq(n, 1);
    if (tenant_rows[_i].want)
        ck_assert_str_eq(dstr(evs[0]->data, "tenant"), tenant_rows[_i].want);
    else
        ck_assert_ptr_null(json_object_get(evs[0]->data, "tenant"));
    milter_events_free(evs, n);
    milter_msg_free(m);
}
END_TEST

/* ------------------------------------------------------------ bounds */

START_TEST(test_header_caps)
{
    milter_msg_t *m = milter_msg_new(&mc);
    struct milter_msg_stats st;
    char *huge = malloc(1024 * 1024 + 1);
    event_t **evs;
    size_t n;

    memset(huge, 'a', 1024 * 1024), huge[1024 * 1024] = 0;
    milter_msg_set_sender(m, "<a@b>");
    milter_msg_add_recipient(m, "r@x");
    milter_msg_header(m, "Subject", huge);
    for (int i = 0; i < 30; i++)
        milter_msg_header(m, "X-Filler", "v");
    milter_msg_header(m, "X-Mailhook-Tag", "late");        /* beyond max_headers */
    st = milter_msg_stats(m);
    ck_assert_uint_eq(st.headers_cut, 1);
    ck_assert_uint_eq(st.headers_dropped, 31 - 9);
    evs = milter_msg_events(m, NULL, 1, &n);
    ck_assert_uint_eq(strlen(dstr(evs[0]->data, "subject")), 256);
    ck_assert_uint_eq(json_array_size(json_object_get(evs[0]->data, "tags")), 0);
    /* size counts everything the MTA sent, kept or not */
    ck_assert_int_eq(json_integer_value(json_object_get(evs[0]->data, "size")),
                     (json_int_t)(7 + 2 + 1024 * 1024 + 2 + 30 * (8 + 2 + 1 + 2) +
                                  14 + 2 + 4 + 2 + 2));
    milter_events_free(evs, n);
    milter_msg_free(m);
    free(huge);
}
END_TEST

START_TEST(test_cut_keeps_utf8)
{
    char v[300];
    const char *h[] = { "Subject", v, NULL };
    json_t *d;

    memset(v, 'a', 255);                   /* 255 + a 2-byte char straddling 256 */
    memcpy(v + 255, "\xc3\xa9", 3);
    d = data_of(h);
    ck_assert_uint_eq(strlen(dstr(d, "subject")), 255);
    json_decref(d);
}
END_TEST

START_TEST(test_recipient_cap)
{
    milter_msg_t *m = milter_msg_new(&mc);
    event_t **evs;
    size_t n;

    milter_msg_set_sender(m, "<a@b>");
    for (int i = 0; i < 5; i++)
        milter_msg_add_recipient(m, "<r@x>");
    evs = milter_msg_events(m, NULL, 1, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(milter_msg_stats(m).recipients_dropped, 2);
    milter_events_free(evs, n);
    milter_msg_free(m);
}
END_TEST

/* ------------------------------------------------------------ event data */

START_TEST(test_event_data_exact)
{
    milter_msg_t *m = milter_msg_new(&mc);
    struct milter_conn conn = { 0 };
    event_t **evs;
    size_t n, len;
    char *json;

    milter_conn_set(&conn, "192.0.2.1", "mx.example.net", "smtpd");
    milter_msg_set_sender(m, "<a@example.com>");
    milter_msg_set_sasl(m, "alice");
    milter_msg_set_queue_id(m, "4XyZ1");
    milter_msg_set_queue_id(m, "LATER");                  /* the first known wins */
    milter_msg_add_recipient(m, "<r1@x.org>");
    milter_msg_add_recipient(m, "r2@y.org");
    milter_msg_header(m, "Message-ID", " <m1@example.com>");
    milter_msg_header(m, "Subject", "Hi");
    milter_msg_header(m, "From", "A <a@example.com>");
    milter_msg_header(m, "To", "r1@x.org");
    milter_msg_header(m, "X-Mailhook-Tag", "vip");
    milter_msg_header(m, "X-Mailhook-Metadata", "{\"c\":\"1\"}");
    milter_msg_body(m, 10);
    evs = milter_msg_events(m, &conn, 1000, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(evs[0]->type, "email.sent");
    ck_assert_int_eq(evs[0]->ts_ms, 1000);
    json = json_dumps(evs[1]->data, JSON_COMPACT | JSON_PRESERVE_ORDER);
    /* size: each "Name: value\r\n", the blank line, the body */
    len = (size_t)(10 + 2 + 17 + 2) + (7 + 2 + 2 + 2) + (4 + 2 + 17 + 2) + (2 + 2 + 8 + 2) +
          (14 + 2 + 3 + 2) + (19 + 2 + 9 + 2) + 2 + 10;
    ck_assert_str_eq(json,
        "{\"queue_id\":\"4XyZ1\",\"message_id\":\"<m1@example.com>\",\"from\":\"a@example.com\","
        "\"recipient\":\"r2@y.org\",\"client_addr\":\"192.0.2.1\",\"client_name\":\"mx.example.net\","
        "\"sasl_username\":\"alice\",\"size\":148,\"subject\":\"Hi\",\"header_from\":"
        "\"A <a@example.com>\",\"header_to\":\"r1@x.org\",\"tenant\":\"alice\",\"tags\":[\"vip\"],"
        "\"metadata\":{\"c\":\"1\"},\"milter\":true}");
    ck_assert_uint_eq(len, 148);
    ck_assert_str_eq(dstr(evs[0]->data, "recipient"), "r1@x.org");
    free(json);
    milter_events_free(evs, n);
    milter_msg_free(m);
    milter_conn_clear(&conn);
}
END_TEST

START_TEST(test_event_data_minimal)
{
    /* No macros, no headers, a sender without a domain: unknown members
     * are left out. */
    milter_msg_t *m = milter_msg_new(&mc);
    event_t **evs;
    size_t n;
    char *json;

    milter_msg_set_sender(m, "<mailer>");
    milter_msg_add_recipient(m, "<r@x>");
    evs = milter_msg_events(m, NULL, 1, &n);
    json = json_dumps(evs[0]->data, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ck_assert_str_eq(json, "{\"from\":\"mailer\",\"recipient\":\"r@x\",\"size\":0,\"tags\":[],"
                           "\"metadata\":{},\"milter\":true}");
    free(json);
    milter_events_free(evs, n);
    milter_msg_free(m);
}
END_TEST

/* The null sender is a notice (a DSN, a Sendmail MSP's bounce handed to
 * the MTA): no email.sent, as the maillog reader skips notices. */
START_TEST(test_null_sender_no_event)
{
    milter_msg_t *m = milter_msg_new(&mc);
    event_t **evs;
    size_t n;

    milter_msg_set_sender(m, "<>");
    milter_msg_add_recipient(m, "<sender@src.test>");
    evs = milter_msg_events(m, NULL, 1, &n);
    ck_assert_uint_eq(n, 0);
    milter_events_free(evs, n);
    milter_msg_free(m);
}
END_TEST

START_TEST(test_no_recipient_no_event)
{
    milter_msg_t *m = milter_msg_new(&mc);
    event_t **evs;
    size_t n;

    milter_msg_set_sender(m, "<a@b>");
    evs = milter_msg_events(m, NULL, 1, &n);
    ck_assert_uint_eq(n, 0);
    milter_events_free(evs, n);
    milter_msg_free(m);
}
END_TEST

/* ------------------------------------------------------------ removal */

START_TEST(test_removals)
{
    milter_msg_t *m = milter_msg_new(&mc);
    struct milter_removal *r;
    size_t n;

    milter_msg_header(m, "X-Mailhook-Tag", "a");
    milter_msg_header(m, "Subject", "s");
    milter_msg_header(m, "x-mailhook-tag", "b");
    milter_msg_header(m, "X-Mailhook-Metadata", "{}");
    for (int i = 0; i < 20; i++)                /* beyond max_headers: still removed */
        milter_msg_header(m, "X-Mailhook-Tag", "c");
    r = milter_msg_removals(m, &n);
    ck_assert_uint_eq(n, 23);
    ck_assert_str_eq(r[0].name, "X-Mailhook-Tag");
    ck_assert_int_eq(r[0].index, 22);
    ck_assert_int_eq(r[21].index, 1);
    ck_assert_str_eq(r[22].name, "X-Mailhook-Metadata");
    ck_assert_int_eq(r[22].index, 1);
    free(r);
    mc.remove_control_headers = false;
    ck_assert_ptr_null(milter_msg_removals(m, &n));
    ck_assert_uint_eq(n, 0);
    milter_msg_free(m);
}
END_TEST

START_TEST(test_no_removals_without_control_headers)
{
    milter_msg_t *m = milter_msg_new(&mc);
    size_t n;

    milter_msg_header(m, "Subject", "s");
    ck_assert_ptr_null(milter_msg_removals(m, &n));
    ck_assert_uint_eq(n, 0);
    milter_msg_free(m);
}
END_TEST

#define NROWS(a) (int)(sizeof(a) / sizeof((a)[0]))

int main(void)
{
    Suite *s = suite_create("milter_msg");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    g_mime_init();
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, test_subject_decoded, 0, NROWS(subjects));
    tcase_add_loop_test(tc, test_subject_odd, 0, NROWS(odd_subjects));
    tcase_add_test(tc, test_from_to_decoded);
    tcase_add_loop_test(tc, test_tags, 0, NROWS(tag_rows));
    tcase_add_test(tc, test_tags_cut_header);
    tcase_add_loop_test(tc, test_metadata, 0, NROWS(meta_rows));
    tcase_add_test(tc, test_metadata_too_big);
    tcase_add_test(tc, test_header_metadata_mapping);
    tcase_add_loop_test(tc, test_tenant, 0, NROWS(tenant_rows));
    tcase_add_test(tc, test_header_caps);
    tcase_add_test(tc, test_cut_keeps_utf8);
    tcase_add_test(tc, test_recipient_cap);
    tcase_add_test(tc, test_event_data_exact);
    tcase_add_test(tc, test_event_data_minimal);
    tcase_add_test(tc, test_null_sender_no_event);
    tcase_add_test(tc, test_no_recipient_no_event);
    tcase_add_test(tc, test_removals);
    tcase_add_test(tc, test_no_removals_without_control_headers);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    g_mime_shutdown();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
