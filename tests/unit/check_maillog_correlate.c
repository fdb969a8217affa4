/*
 * check_maillog_correlate.c - what the correlator's API promises beyond
 * its rules (persistence and restore, bounds), fed with records built by
 * hand, and the bounce classifier, table-driven. The rules themselves are
 * tested as data: tests/data/correlate/ *.case (check_maillog_cases.c).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "maillog_bounce.h"
#include "maillog_correlate.h"

/* ---- collected events */
static json_t *events; /* array of {"type":..., "ts":..., "data":...} */

static void collect(void *ctx, event_t *ev)
{
    json_array_append_new(events, json_pack("{s:s,s:I,s:O}", "type", ev->type, "ts",
                                            (json_int_t)ev->ts_ms, "data", ev->data));
    event_free(ev);
}

static const char *ev_type(size_t i)
{
    return json_string_value(json_object_get(json_array_get(events, i), "type"));
}

static const char *ev_str(size_t i, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(json_array_get(events, i), "data"), key));
}

static json_int_t ev_int(size_t i, const char *key)
{
    return json_integer_value(
        json_object_get(json_object_get(json_array_get(events, i), "data"), key));
}

static struct ml_str S(const char *s)
{
    return (struct ml_str){ s, s ? strlen(s) : 0 };
}

static struct ml_rec rec(enum ml_kind kind, const char *qid, int64_t ts)
{
    struct ml_rec r;

    memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.mta = ML_POSTFIX;
    r.queue_id = S(qid);
    r.ts_ms = ts;
    r.service = S(kind == ML_DELIVERY ? "smtp" : "qmgr");
    return r;
}

static void feed_active(mlc_t *c, const char *qid, const char *from, int64_t ts)
{
    struct ml_rec r = rec(ML_QUEUE_ACTIVE, qid, ts);

    r.from = S(from);
    r.size = S("1234");
    r.nrcpt = S("1");
    mlc_feed(c, &r);
}

static void feed_delivery(mlc_t *c, const char *qid, const char *to, const char *status,
                          const char *dsn, const char *text, int64_t ts)
{
    struct ml_rec r = rec(ML_DELIVERY, qid, ts);

    r.to = S(to);
    r.status = S(status);
    r.dsn = S(dsn);
    r.status_text = S(text);
    r.relay = S("mx.example.net[192.0.2.1]:25");
    r.delay = S("0.52");
    r.delays = S("0.02/0.01/0.2/0.29");
    mlc_feed(c, &r);
}

static mlc_t *fresh(bool emit_sent)
{
    struct mlc_opts o = { .emit_sent = emit_sent };

    json_decref(events);
    events = json_array();
    return mlc_new(&o, collect, NULL);
}

static void save_cb(void *ctx, const char *qid, const char *json)
{
    json_t *saved = ctx;

    if (json)
        json_object_set_new(saved, qid, json_string(json));
    else
        json_object_del(saved, qid);
}

START_TEST(test_persist_restore_no_duplicate_sent)
{
    mlc_t *c = fresh(true), *c2;
    json_t *saved = json_object(), *v;
    const char *qid;
    struct ml_rec rm = rec(ML_REMOVED, "H8", 5000);

    feed_active(c, "H8", "ann@example.org", 1000);
    feed_delivery(c, "H8", "a@example.net", "deferred", "4.0.0", "busy", 2000);
    feed_active(c, "GONE", "x@example.org", 1000);
    mlc_feed(c, &(struct ml_rec){ .kind = ML_REMOVED, .queue_id = S("GONE"), .ts_ms = 1100 });
    mlc_take_dirty(c, save_cb, saved);
    ck_assert_uint_eq(json_object_size(saved), 1); /* GONE was removed: not saved */
    mlc_free(c);

    json_decref(events);
    events = json_array();
    c2 = mlc_new(&(struct mlc_opts){ .emit_sent = true }, collect, NULL);
    json_object_foreach(saved, qid, v)
        ck_assert_int_eq(mlc_restore(c2, qid, json_string_value(v), NULL), 0);
    feed_delivery(c2, "H8", "a@example.net", "sent", "2.0.0", "250 ok", 3000);
    ck_assert_uint_eq(json_array_size(events), 1); /* no second email.sent */
    ck_assert_str_eq(ev_type(0), "email.delivered");
    ck_assert_int_eq(ev_int(0, "attempt"), 2);
    mlc_feed(c2, &rm);
    mlc_take_dirty(c2, save_cb, saved);
    ck_assert_uint_eq(json_object_size(saved), 0); /* removed: its state deleted */
    ck_assert_uint_eq(mlc_stats(c2)->tracked, 0);
    mlc_free(c2);
    json_decref(saved);
}
END_TEST

/* Restored states keep the order they were first seen in (a "queued as"
 * naming an older one is no chain) and each recipient's last attempt (an
 * expiry after the restart still carries its dsn and relay); a state saved
 * before these were kept still loads. */
START_TEST(test_persist_restore_orders_and_last_attempt)
{
    mlc_t *c = fresh(false), *c2;
    json_t *saved = json_object(), *v;
    const char *qid;
    struct ml_rec hop = rec(ML_DELIVERY, "K1", 4000), ex = rec(ML_EXPIRED, "K1", 9000);

    feed_active(c, "OLD1", "ann@example.org", 500);
    feed_delivery(c, "OLD1", "z@example.net", "deferred", "4.4.1", "refused", 600);
    feed_active(c, "K1", "ann@example.org", 1000);
    feed_delivery(c, "K1", "a@example.net", "deferred", "4.2.0", "busy", 2000);
    mlc_take_dirty(c, save_cb, saved);
    mlc_free(c);
    json_object_set_new(saved, "PRE1", json_string("{\"from\":\"b@example.org\",\"active\":1,"
                                                   "\"seen\":1,\"flags\":2,\"rcpts\":"
                                                   "[[\"c@example.net\",null,\"x\",1,0]]}"));

    json_decref(events);
    events = json_array();
    c2 = mlc_new(&(struct mlc_opts){ .emit_sent = false }, collect, NULL);
    json_object_foreach(saved, qid, v)
        ck_assert_int_eq(mlc_restore(c2, qid, json_string_value(v), NULL), 0);
    /* b@ of K1: a remote server answers with the older message's id */
    hop.to = S("b@example.net");
    hop.status = S("sent");
    hop.dsn = S("2.0.0");
    hop.relay = S("mx.example.net[192.0.2.1]:25");
    hop.status_text = S("250 2.0.0 Ok: queued as OLD1");
    hop.new_queue_id = S("OLD1");
    mlc_feed(c2, &hop);
    mlc_feed(c2, &ex);
    ck_assert_uint_eq(json_array_size(events), 2);
    ck_assert_str_eq(ev_type(0), "email.delivered");
    ck_assert_ptr_null(ev_str(0, "reinjected_queue_id"));
    ck_assert_str_eq(ev_type(1), "email.failed");
    ck_assert_str_eq(ev_str(1, "recipient"), "a@example.net");
    ck_assert_str_eq(ev_str(1, "dsn"), "4.2.0");
    ck_assert_str_eq(ev_str(1, "relay"), "mx.example.net[192.0.2.1]:25");
    ck_assert_str_eq(ev_str(1, "smtp_response"), "busy");
    mlc_free(c2);
    json_decref(saved);
}
END_TEST

/* Hops into a content filter that wait for their re-injected message are
 * bounded in number (the oldest go first) and in time (mlc_expire), each
 * one that goes counted; PMG filter states are bounded too. */
START_TEST(test_filter_links_bounded)
{
    static const char *const filters[] = { "127.0.0.1:10024", NULL };
    mlc_t *c;
    char qid[16], mid[32], fid[24], line[160];
    struct ml_rec r;
    int i;

    json_decref(events);
    events = json_array();
    c = mlc_new(&(struct mlc_opts){ .content_filters = filters, .filter_window_s = 60 }, collect,
                NULL);
    for (i = 0; i < 5000; i++) {
        snprintf(qid, sizeof(qid), "A%08X", (unsigned)i);
        snprintf(mid, sizeof(mid), "m%d@example.org", i);
        feed_active(c, qid, "ann@example.org", 1000 + i);
        r = rec(ML_MESSAGE_ID, qid, 1000 + i);
        r.message_id = S(mid);
        mlc_feed(c, &r);
        r = rec(ML_DELIVERY, qid, 1000 + i);
        r.to = S("bob@example.net");
        r.status = S("sent");
        r.dsn = S("2.0.0");
        r.relay = S("127.0.0.1[127.0.0.1]:10024");
        r.status_text = S("250 2.0.0 Ok, accepted");
        mlc_feed(c, &r);
        snprintf(fid, sizeof(fid), "F%016X", (unsigned)i);
        snprintf(line, sizeof(line), "new mail message-id=<%s>", mid);
        r = (struct ml_rec){ .kind = ML_FILTER, .mta = ML_PMG, .queue_id = S(fid),
                             .ts_ms = 1000 + i, .status = S("new"), .message_id = S(mid) };
        mlc_feed(c, &r);
    }
    ck_assert_uint_eq(json_array_size(events), 0); /* no hop is a delivery */
    ck_assert_uint_eq(mlc_stats(c)->filter_hops, 5000);
    ck_assert_uint_eq(mlc_stats(c)->filter_unlinked, 5000 - 4096);
    mlc_expire(c, 1000 + 5000 + 61 * 1000);
    ck_assert_uint_eq(mlc_stats(c)->filter_unlinked, 5000);
    mlc_free(c); /* valgrind: what is left is freed */
}
END_TEST

START_TEST(test_bounded)
{
    mlc_t *c = mlc_new(&(struct mlc_opts){ .max_messages = 100, .max_age_s = 60 }, collect, NULL);
    char qid[16];

    for (int i = 0; i < 1000; i++) {
        snprintf(qid, sizeof(qid), "Q%d", i);
        feed_active(c, qid, "a@b.c", 1000 + i);
    }
    ck_assert_uint_eq(mlc_stats(c)->tracked, 100);
    ck_assert_uint_eq(mlc_stats(c)->dropped_full, 900);
    mlc_expire(c, 1000 + 999 + 61 * 1000);
    ck_assert_uint_eq(mlc_stats(c)->tracked, 0);
    json_t *sink = json_object();
    mlc_take_dirty(c, save_cb, sink); /* frees the removed states */
    json_decref(sink);
    mlc_free(c);
}
END_TEST

/* ---- bounce classes: dsn, text -> class */
static const struct {
    const char *dsn, *text, *cls;
} bounce_cases[] = {
    { "5.1.1", "550 5.1.1 <a@b>: Recipient address rejected: User unknown", "unknown-user" },
    { "5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound", "unknown-user" },
    { "5.0.0", "550 No such user here", "unknown-user" },
    { "5.2.2", "552 5.2.2 Mailbox full", "mailbox-full" },
    { "5.0.0", "552 Quota exceeded", "mailbox-full" },
    { "5.7.1", "550 5.7.1 Message rejected as spam", "spam-block" },
    { "5.7.1", "554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org", "spam-block" },
    { "5.7.1", "554 5.7.1 <a@b>: Relay access denied", "relay-denied" },
    { "5.4.4", "Host or domain name not found. Name service error", "dns" },
    { "5.1.2", "bad destination system address", "dns" },
    { "5.7.1", "553 5.7.1 <a@b>: Sender address rejected: not permitted", "policy" },
    { "5.7.26", "550 5.7.26 Unauthenticated email is not accepted (DMARC)", "policy" },
    { "5.3.4", "552 5.3.4 Message size exceeds fixed limit", "other" },
    { NULL, NULL, "other" },
};

START_TEST(test_bounce_class)
{
    const char *d = bounce_cases[_i].dsn, *t = bounce_cases[_i].text;

    ck_assert_str_eq(mlc_bounce_class(d, d ? strlen(d) : 0, t, t ? strlen(t) : 0),
                     bounce_cases[_i].cls);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("maillog_correlate");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_persist_restore_no_duplicate_sent);
    tcase_add_test(tc, test_persist_restore_orders_and_last_attempt);
    tcase_add_test(tc, test_filter_links_bounded);
    tcase_add_test(tc, test_bounded);
    tcase_add_loop_test(tc, test_bounce_class, 0, sizeof(bounce_cases) / sizeof(bounce_cases[0]));
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    json_decref(events);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
