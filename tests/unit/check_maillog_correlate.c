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
    struct mlc_opts o = { .emit_sent = true, .source = source };
    mlc_t *c;

    json_decref(events);
    events = json_array();
    c = mlc_new(&o, collect, NULL);
    feed_active(c, "ID1", "ann@example.org", 1000);
    feed_delivery(c, "ID1", "x@example.net", "deferred", "4.4.1", "connect timed out", 2000);
    feed_delivery(c, "ID1", "x@example.net", "deferred", "4.4.1", "connect timed out", 302000);
    if (replay) {
        feed_active(c, "ID1", "ann@example.org", 1000);
        feed_delivery(c, "ID1", "x@example.net", "deferred", "4.4.1", "connect timed out", 2000);
        feed_delivery(c, "ID1", "x@example.net", "deferred", "4.4.1", "connect timed out", 302000);
    }
    feed_delivery(c, "ID1", "x@example.net", "sent", "2.0.0", "250 ok", 903000);
    mlc_free(c);
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
static void feed_lines(mlc_t *c, const char *const *lines)
{
    struct ml_clock clock;
    struct ml_rec r;

    maillog_clock_init(&clock, 1795348800000LL); /* 2026-11-22T12:00:00Z */
    for (; *lines; lines++)
        if (maillog_parse(*lines, strlen(*lines), &clock, &r) == 0)
            mlc_feed(c, &r);
}

static mlc_t *restore_all(json_t *saved)
{
    mlc_t *c = mlc_new(&(struct mlc_opts){ .emit_sent = true }, collect, NULL);
    const char *qid;
    json_t *v;

    json_object_foreach(saved, qid, v)
        ck_assert_int_eq(mlc_restore(c, qid, json_string_value(v), NULL), 0);
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
    mlc_t *c = fresh(true);
    json_t *saved = json_object();

    feed_lines(c, before);
    ck_assert_uint_eq(json_array_size(events), 2); /* 5AMAY0's; 5AMAU0's are held */
    mlc_take_dirty(c, save_cb, saved);
    ck_assert_uint_eq(json_object_size(saved), 3);
    mlc_free(c); /* the held events live on in the saved state only */

    json_decref(events);
    events = json_array();
    c = restore_all(saved);
    feed_lines(c, after);
    mlc_flush(c, INT64_MAX);
    ck_assert_uint_eq(json_array_size(events), 2);
    ck_assert_str_eq(ev_type(0), "email.sent");
    ck_assert_str_eq(ev_type(1), "email.delivered");
    ck_assert_int_eq(ev_int(1, "size"), 297); /* from the from= line after the restart */
    mlc_take_dirty(c, save_cb, saved);
    ck_assert_uint_eq(mlc_stats(c)->tracked, 0); /* the notice's line closed its parent */
    ck_assert_uint_eq(json_object_size(saved), 0);
    mlc_free(c);
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
    tcase_add_test(tc, test_bounded);
    tcase_add_test(tc, test_ids_deterministic);
    tcase_add_test(tc, test_sendmail_persist_restore);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    json_decref(events);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
