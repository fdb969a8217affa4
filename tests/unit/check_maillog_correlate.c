/* SPDX-License-Identifier: MIT */
/*
 * check_maillog_correlate.c - what the correlator's API promises beyond
 * its rules (persistence and restore, bounds), fed with records built by
 * hand, and the ids of its events. The rules themselves are
 * tested as data: tests/data/correlate/ *.case (check_maillog_cases.c).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "maillog_correlate.h"
#include "maillog_parse.h"

/* ---- collected events */
static json_t *events; /* array of {"type":..., "ts":..., "data":...} */

static void collect(void *ctx, event_t *ev)
{
    json_array_append_new(events, json_pack("{s:s,s:I,s:O,s:s}", "type", ev->type, "ts",
                                            (json_int_t)ev->ts_ms, "data", ev->data, "id",
                                            ev->id));
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

static void feed_active(maillog_correlate_t *c, const char *qid, const char *from, int64_t ts)
{
    struct ml_rec r = rec(ML_QUEUE_ACTIVE, qid, ts);

    r.from = S(from);
    r.size = S("1234");
    r.nrcpt = S("1");
    maillog_correlate_feed(c, &r);
}

static void feed_delivery(maillog_correlate_t *c, const char *qid, const char *to, const char *status,
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
    maillog_correlate_feed(c, &r);
}

static maillog_correlate_t *fresh(bool emit_sent)
{
    struct maillog_correlate_opts o = { .emit_sent = emit_sent };

    json_decref(events);
    events = json_array();
    return maillog_correlate_new(&o, collect, NULL);
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
    maillog_correlate_t *c = fresh(true), *c2;
    json_t *saved = json_object(), *v;
    const char *qid;
    struct ml_rec rm = rec(ML_REMOVED, "H8", 5000);

    feed_active(c, "H8", "ann@example.org", 1000);
    feed_delivery(c, "H8", "a@example.net", "deferred", "4.0.0", "busy", 2000);
    feed_active(c, "GONE", "x@example.org", 1000);
    maillog_correlate_feed(c, &(struct ml_rec){ .kind = ML_REMOVED, .queue_id = S("GONE"), .ts_ms = 1100 });
    maillog_correlate_take_dirty(c, save_cb, saved);
    ck_assert_uint_eq(json_object_size(saved), 1); /* GONE was removed: not saved */
    maillog_correlate_free(c);

    json_decref(events);
    events = json_array();
    c2 = maillog_correlate_new(&(struct maillog_correlate_opts){ .emit_sent = true }, collect, NULL);
    json_object_foreach(saved, qid, v)
        ck_assert_int_eq(maillog_correlate_restore(c2, qid, json_string_value(v), NULL), 0);
    feed_delivery(c2, "H8", "a@example.net", "sent", "2.0.0", "250 ok", 3000);
    ck_assert_uint_eq(json_array_size(events), 1); /* no second email.sent */
    ck_assert_str_eq(ev_type(0), "email.delivered");
    ck_assert_int_eq(ev_int(0, "attempt"), 2);
    maillog_correlate_feed(c2, &rm);
    maillog_correlate_take_dirty(c2, save_cb, saved);
    ck_assert_uint_eq(json_object_size(saved), 0); /* removed: its state deleted */
    ck_assert_uint_eq(maillog_correlate_stats(c2)->tracked, 0);
    maillog_correlate_free(c2);
    json_decref(saved);
}
END_TEST

/* Restored states keep the order they were first seen in (a "queued as"
 * naming an older one is no chain) and each recipient's last attempt (an
 * expiry after the restart still carries its dsn and relay); a state saved
 * before these were kept still loads. */
START_TEST(test_persist_restore_orders_and_last_attempt)
{
    maillog_correlate_t *c = fresh(false), *c2;
    json_t *saved = json_object(), *v;
    const char *qid;
    struct ml_rec hop = rec(ML_DELIVERY, "K1", 4000), ex = rec(ML_EXPIRED, "K1", 9000);

    feed_active(c, "OLD1", "ann@example.org", 500);
    feed_delivery(c, "OLD1", "z@example.net", "deferred", "4.4.1", "refused", 600);
    feed_active(c, "K1", "ann@example.org", 1000);
    feed_delivery(c, "K1", "a@example.net", "deferred", "4.2.0", "busy", 2000);
    maillog_correlate_take_dirty(c, save_cb, saved);
    maillog_correlate_free(c);
    json_object_set_new(saved, "PRE1", json_string("{\"from\":\"b@example.org\",\"active\":1,"
                                                   "\"seen\":1,\"flags\":2,\"rcpts\":"
                                                   "[[\"c@example.net\",null,\"x\",1,0]]}"));

    json_decref(events);
    events = json_array();
    c2 = maillog_correlate_new(&(struct maillog_correlate_opts){ .emit_sent = false }, collect, NULL);
    json_object_foreach(saved, qid, v)
        ck_assert_int_eq(maillog_correlate_restore(c2, qid, json_string_value(v), NULL), 0);
    /* b@ of K1: a remote server answers with the older message's id */
    hop.to = S("b@example.net");
    hop.status = S("sent");
    hop.dsn = S("2.0.0");
    hop.relay = S("mx.example.net[192.0.2.1]:25");
    hop.status_text = S("250 2.0.0 Ok: queued as OLD1");
    hop.new_queue_id = S("OLD1");
    maillog_correlate_feed(c2, &hop);
    maillog_correlate_feed(c2, &ex);
    ck_assert_uint_eq(json_array_size(events), 2);
    ck_assert_str_eq(ev_type(0), "email.delivered");
    ck_assert_ptr_null(ev_str(0, "reinjected_queue_id"));
    ck_assert_str_eq(ev_type(1), "email.failed");
    ck_assert_str_eq(ev_str(1, "recipient"), "a@example.net");
    ck_assert_str_eq(ev_str(1, "dsn"), "4.2.0");
    ck_assert_str_eq(ev_str(1, "relay"), "mx.example.net[192.0.2.1]:25");
    ck_assert_str_eq(ev_str(1, "smtp_response"), "busy");
    maillog_correlate_free(c2);
    json_decref(saved);
}
END_TEST

/* Hops into a content filter that wait for their re-injected message are
 * bounded in number (the oldest go first) and in time (maillog_correlate_expire), each
 * one that goes counted; PMG filter states are bounded too. */
START_TEST(test_filter_links_bounded)
{
    static const char *const filters[] = { "127.0.0.1:10024", NULL };
    maillog_correlate_t *c;
    char qid[16], mid[32], fid[24], line[160];
    struct ml_rec r;
    int i;

    json_decref(events);
    events = json_array();
    c = maillog_correlate_new(&(struct maillog_correlate_opts){ .content_filters = filters, .filter_window_s = 60 }, collect,
                NULL);
    for (i = 0; i < 5000; i++) {
        snprintf(qid, sizeof(qid), "A%08X", (unsigned)i);
        snprintf(mid, sizeof(mid), "m%d@example.org", i);
        feed_active(c, qid, "ann@example.org", 1000 + i);
        r = rec(ML_MESSAGE_ID, qid, 1000 + i);
        r.message_id = S(mid);
        maillog_correlate_feed(c, &r);
        r = rec(ML_DELIVERY, qid, 1000 + i);
        r.to = S("bob@example.net");
        r.status = S("sent");
        r.dsn = S("2.0.0");
        r.relay = S("127.0.0.1[127.0.0.1]:10024");
        r.status_text = S("250 2.0.0 Ok, accepted");
        maillog_correlate_feed(c, &r);
        snprintf(fid, sizeof(fid), "F%016X", (unsigned)i);
        snprintf(line, sizeof(line), "new mail message-id=<%s>", mid);
        r = (struct ml_rec){ .kind = ML_FILTER, .mta = ML_PMG, .queue_id = S(fid),
                             .ts_ms = 1000 + i, .status = S("new"), .message_id = S(mid) };
        maillog_correlate_feed(c, &r);
    }
    ck_assert_uint_eq(json_array_size(events), 0); /* no hop is a delivery */
    ck_assert_uint_eq(maillog_correlate_stats(c)->filter_hops, 5000);
    ck_assert_uint_eq(maillog_correlate_stats(c)->filter_unlinked, 5000 - 4096);
    maillog_correlate_expire(c, 1000 + 5000 + 61 * 1000);
    ck_assert_uint_eq(maillog_correlate_stats(c)->filter_unlinked, 5000);
    maillog_correlate_free(c); /* valgrind: what is left is freed */
}
END_TEST

START_TEST(test_bounded)
{
    maillog_correlate_t *c = maillog_correlate_new(&(struct maillog_correlate_opts){ .max_messages = 100, .max_age_s = 60 }, collect, NULL);
    char qid[16];

    for (int i = 0; i < 1000; i++) {
        snprintf(qid, sizeof(qid), "Q%d", i);
        feed_active(c, qid, "a@b.c", 1000 + i);
    }
    ck_assert_uint_eq(maillog_correlate_stats(c)->tracked, 100);
    ck_assert_uint_eq(maillog_correlate_stats(c)->dropped_full, 900);
    maillog_correlate_expire(c, 1000 + 999 + 61 * 1000);
    ck_assert_uint_eq(maillog_correlate_stats(c)->tracked, 0);
    json_t *sink = json_object();
    maillog_correlate_take_dirty(c, save_cb, sink); /* frees the removed states */
    json_decref(sink);
    maillog_correlate_free(c);
}
END_TEST

/* ---- ids: the same lines make the same ids, in any run */
static json_t *ids_of_events(void)
{
    json_t *ids = json_array(), *e;
    size_t i;

    json_array_foreach(events, i, e)
        json_array_append(ids, json_object_get(e, "id"));
    return ids;
}

/* replay: the deferrals read a second time over the kept state, as after a
 * lost position or a copy of the log to a new inode */
static json_t *run_ids(const char *source, bool replay)
{
    struct maillog_correlate_opts o = { .emit_sent = true, .source = source };
    maillog_correlate_t *c;

    json_decref(events);
    events = json_array();
    c = maillog_correlate_new(&o, collect, NULL);
    feed_active(c, "ID1", "ann@example.org", 1000);
    feed_delivery(c, "ID1", "x@example.net", "deferred", "4.4.1", "connect timed out", 2000);
    feed_delivery(c, "ID1", "x@example.net", "deferred", "4.4.1", "connect timed out", 302000);
    if (replay) {
        feed_active(c, "ID1", "ann@example.org", 1000);
        feed_delivery(c, "ID1", "x@example.net", "deferred", "4.4.1", "connect timed out", 2000);
        feed_delivery(c, "ID1", "x@example.net", "deferred", "4.4.1", "connect timed out", 302000);
    }
    feed_delivery(c, "ID1", "x@example.net", "sent", "2.0.0", "250 ok", 903000);
    maillog_correlate_free(c);
    return ids_of_events();
}

START_TEST(test_ids_deterministic)
{
    json_t *a = run_ids("postfix", false), *b = run_ids("postfix", false),
           *other = run_ids("postfix-out", false), *replayed = run_ids("postfix", true), *uniq;
    size_t i;
    json_t *id;

    ck_assert_uint_eq(json_array_size(a), 4); /* sent, deferred x2, delivered */
    ck_assert(json_equal(a, b));
    ck_assert_str_ne(json_string_value(json_array_get(a, 1)),
                     json_string_value(json_array_get(a, 2)));
    for (i = 0; i < json_array_size(a); i++) {
        ck_assert(evid_valid(json_string_value(json_array_get(a, i))));
        ck_assert_str_ne(json_string_value(json_array_get(a, i)),
                         json_string_value(json_array_get(other, i)));
    }
    ck_assert_int_eq(evid_time_ms(json_string_value(json_array_get(a, 3))), 903000);
    /* the replayed deferrals count attempts 3 and 4, and the delivery attempt
     * 5, yet every id is one of the clean run's: the store drops them */
    ck_assert_uint_eq(json_array_size(replayed), 6);
    uniq = json_object();
    json_array_foreach(replayed, i, id)
        json_object_set(uniq, json_string_value(id), json_true());
    ck_assert_uint_eq(json_object_size(uniq), 4);
    json_array_foreach(a, i, id)
        ck_assert(json_object_get(uniq, json_string_value(id)) != NULL);
    json_decref(uniq);
    json_decref(a);
    json_decref(b);
    json_decref(other);
    json_decref(replayed);
}
END_TEST
/* Lines through the real parser, in a fixed year. */
static void feed_lines(maillog_correlate_t *c, const char *const *lines)
{
    struct ml_clock clock;
    struct ml_rec r;

    maillog_clock_init(&clock, 1795348800000LL); /* 2026-11-22T12:00:00Z */
    for (; *lines; lines++)
        if (maillog_parse(*lines, strlen(*lines), &clock, &r) == 0)
            maillog_correlate_feed(c, &r);
}

/* Two attempts of one recipient logged in the same second (Postfix retries
 * at once after a refused connection: seen in t0210) are two events, with
 * two ids; the same line read again is the same id. */
START_TEST(test_ids_same_second)
{
    static const char *const lines[] = {
        "Dec 04 20:47:11 test postfix/qmgr[11985]: DF78EA7F73E: from=<sender@src.test>, "
        "size=343, nrcpt=1 (queue active)",
        "Dec 04 20:47:12 test postfix/smtp[12130]: DF78EA7F73E: to=<z@dead.test>, relay=none, "
        "delay=0.01, delays=0/0.01/0/0, dsn=4.4.1, status=deferred (connect to "
        "127.0.0.1[127.0.0.1]:44163: Connection refused)",
        "Dec 04 20:47:12 test postfix/smtp[12130]: DF78EA7F73E: to=<z@dead.test>, relay=none, "
        "delay=0.81, delays=0.8/0/0/0, dsn=4.4.1, status=deferred (connect to "
        "127.0.0.1[127.0.0.1]:44163: Connection refused)",
        NULL,
    };
    maillog_correlate_t *c = fresh(false);
    const char *id1, *id2;
    char *first;

    feed_lines(c, lines);
    ck_assert_uint_eq(json_array_size(events), 2);
    id1 = json_string_value(json_object_get(json_array_get(events, 0), "id"));
    id2 = json_string_value(json_object_get(json_array_get(events, 1), "id"));
    ck_assert_str_ne(id1, id2);
    first = strdup(id1);
    maillog_correlate_free(c);
    c = fresh(false);
    feed_lines(c, lines);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(events, 0), "id")), first);
    free(first);
    maillog_correlate_free(c);
}
END_TEST

static maillog_correlate_t *restore_all(json_t *saved)
{
    maillog_correlate_t *c = maillog_correlate_new(&(struct maillog_correlate_opts){ .emit_sent = true }, collect, NULL);
    const char *qid;
    json_t *v;

    json_object_foreach(saved, qid, v)
        ck_assert_int_eq(maillog_correlate_restore(c, qid, json_string_value(v), NULL), 0);
    return c;
}

/* Sendmail's state survives a restart: events held for from= (no loss, no
 * duplicate), and a notice's link to its parent (the parent still closes). */
START_TEST(test_sendmail_persist_restore)
{
    static const char *const before[] = {
        "Nov 22 10:30:00 mx sendmail[2300]: 5AMAU0aa002300: to=<bob@example.net>, delay=00:00:01, "
        "xdelay=00:00:01, mailer=esmtp, pri=30297, relay=mx.example.net. [192.0.2.1], dsn=2.0.0, "
        "stat=Sent (OK id=2x)",
        "Nov 22 10:30:00 mx sm-mta[2400]: 5AMAY0aa002400: from=<ann@example.org>, size=1200, "
        "class=0, nrcpts=1, msgid=<m40@example.org>, proto=ESMTP, daemon=MTA-v4, relay=c [192.0.2.10]",
        "Nov 22 10:30:01 mx sm-mta[2401]: 5AMAY0aa002400: to=<nobody@example.net>, delay=00:00:01, "
        "xdelay=00:00:01, mailer=esmtp, pri=121200, relay=mx.example.net. [192.0.2.1], dsn=5.1.1, "
        "stat=User unknown",
        "Nov 22 10:30:01 mx sm-mta[2401]: 5AMAY0aa002400: 5AMAY1aa002401: DSN: User unknown",
        NULL,
    };
    static const char *const after[] = {
        "Nov 22 10:30:02 mx sendmail[2299]: 5AMAU0aa002300: from=<ann@example.org>, size=297, "
        "class=0, nrcpts=1, msgid=<m30@example.org>, relay=ann@localhost",
        "Nov 22 10:30:02 mx sm-mta[2401]: 5AMAY1aa002401: to=<ann@example.org>, delay=00:00:01, "
        "xdelay=00:00:01, mailer=esmtp, pri=31200, relay=c. [192.0.2.10], dsn=2.0.0, stat=Sent (ok)",
        NULL,
    };
    maillog_correlate_t *c = fresh(true);
    json_t *saved = json_object();

    feed_lines(c, before);
    ck_assert_uint_eq(json_array_size(events), 2); /* 5AMAY0's; 5AMAU0's are held */
    maillog_correlate_take_dirty(c, save_cb, saved);
    ck_assert_uint_eq(json_object_size(saved), 3);
    maillog_correlate_free(c); /* the held events live on in the saved state only */

    json_decref(events);
    events = json_array();
    c = restore_all(saved);
    feed_lines(c, after);
    maillog_correlate_flush(c, INT64_MAX);
    ck_assert_uint_eq(json_array_size(events), 2);
    ck_assert_str_eq(ev_type(0), "email.sent");
    ck_assert_str_eq(ev_type(1), "email.delivered");
    ck_assert_int_eq(ev_int(1, "size"), 297); /* from the from= line after the restart */
    maillog_correlate_take_dirty(c, save_cb, saved);
    ck_assert_uint_eq(maillog_correlate_stats(c)->tracked, 0); /* the notice's line closed its parent */
    ck_assert_uint_eq(json_object_size(saved), 0);
    maillog_correlate_free(c);
    json_decref(saved);
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
    tcase_add_test(tc, test_ids_deterministic);
    tcase_add_test(tc, test_ids_same_second);
    tcase_add_test(tc, test_sendmail_persist_restore);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    json_decref(events);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
