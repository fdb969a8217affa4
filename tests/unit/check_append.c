/* SPDX-License-Identifier: MIT */
/*
 * check_append.c - the one path into the store (append.h), in a real
 * store with a fan-out and one endpoint: a batch goes in in one
 * transaction with res[] per event (all or nothing: a store write that
 * fails is forced with the linker, -Wl,--wrap=store_event_append); an id
 * stored again is a duplicate; of the milter's and the log's email.sent
 * for one recipient and queue id one is kept (enrich.h); what is newly
 * stored is queued for the endpoints it matches in the same transaction,
 * a duplicate is not; append_count adds res[] up into mhd_counters.h; a
 * log event held for the milter's record (append_log_events_txn) is
 * stored when the milter's email.sent is.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "append.h"
#include "timeutil.h"

static char dir[64];
static store_t *st;
static fanout_t *fo;
static struct mhd_counters ctr;
static append_t *ap;
static int fail_at; /* the store_event_append call (1-based) that fails; 0 = none */

int __real_store_event_append(store_txn_t *txn, const char *id, const char *type, int64_t ts_ms,
                              int64_t recv_ms, const char *json, size_t len, uint64_t *seq,
                              enum store_append_result *result, mh_err_t *err);
int __wrap_store_event_append(store_txn_t *txn, const char *id, const char *type, int64_t ts_ms,
                              int64_t recv_ms, const char *json, size_t len, uint64_t *seq,
                              enum store_append_result *result, mh_err_t *err);

int __wrap_store_event_append(store_txn_t *txn, const char *id, const char *type, int64_t ts_ms,
                              int64_t recv_ms, const char *json, size_t len, uint64_t *seq,
                              enum store_append_result *result, mh_err_t *err)
{
    if (fail_at > 0 && --fail_at == 0)
        return mh_err_set(err, "store: injected write error");
    return __real_store_event_append(txn, id, type, ts_ms, recv_ms, json, len, seq, result, err);
}

static void add_endpoint(const char *name, const char *types)
{
    json_t *obj = json_pack("{s:s,s:s,s:[s],s:b}", "name", name, "url",
                            "https://hooks.example.com/", "types", types, "enabled", 1);
    mh_err_t err;
    endpoint_t *ep = endpoint_from_json(obj, &err);

    ck_assert_msg(ep != NULL, "%s", err.text);
    fanout_set_endpoint(fo, ep);
    endpoint_free(ep);
    json_decref(obj);
}

static void setup(void)
{
    struct store_opts o = { .nosync = true };

    snprintf(dir, sizeof(dir), "/tmp/check_append.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    st = store_open(dir, &o, NULL);
    ck_assert_ptr_nonnull(st);
    fo = fanout_new();
    add_endpoint("mail", "email.*");
    memset(&ctr, 0, sizeof(ctr));
    ap = append_new(fo, &ctr);
    fail_at = 0;
}

static void teardown(void)
{
    char cmd[128];

    ap = append_free(ap);
    fo = fanout_free(fo);
    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static event_t *ev_new(const char *type, int64_t ts, const char *data)
{
    event_t *ev = event_new(type, ts, json_loads(data, 0, NULL), NULL);

    ck_assert_ptr_nonnull(ev);
    return ev;
}

#define MILTER_SENT(qid, rcpt)                                                             \
    "{\"queue_id\":\"" qid "\",\"recipient\":\"" rcpt "\",\"subject\":\"S\","       \
    "\"tenant\":\"ten\",\"milter\":true}"
#define LOG_EV(qid, rcpt) "{\"queue_id\":\"" qid "\",\"recipient\":\"" rcpt "\"}"

static void free_all(event_t **evs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        event_free(evs[i]);
}

static uint64_t stored_events(void)
{
    struct store_stats s;

    ck_assert_int_eq(store_stats(st, &s, NULL), 0);
    return s.events;
}

static bool is_stored(const event_t *ev)
{
    uint64_t seq;

    return store_event_find(st, ev->id, &seq, NULL) == 0;
}

static uint64_t queued(const char *endpoint)
{
    uint64_t n = 0;

    ck_assert_int_eq(store_queue_count(st, endpoint, &n, NULL), 0);
    return n;
}

/* The fan-out's committed items, taken and freed: how many. */
static size_t taken(void)
{
    struct fanout_items items = STAILQ_HEAD_INITIALIZER(items);
    struct fanout_item *it;
    size_t n = 0;

    fanout_take(fo, &items);
    STAILQ_FOREACH(it, &items, link)
        n++;
    fanout_items_free(&items);
    return n;
}

/* One batch with append_events; asserts it went in. */
static void append_ok(event_t *const *evs, size_t n, enum store_append_result *res)
{
    mh_err_t err;

    ck_assert_msg(append_events(ap, st, evs, n, res, &err) == 0, "%s", err.text);
}

START_TEST(test_batch_res_per_event)
{
    event_t *evs[3] = { ev_new(EV_DELIVERED, 1000, LOG_EV("Q1", "a@x")),
                        ev_new("app.signup", 1001, "{}"),
                        ev_new(EV_BOUNCED, 1002, LOG_EV("Q2", "b@x")) };
    enum store_append_result res[3] = { 9, 9, 9 };

    append_ok(evs, 3, res);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(res[i], STORE_ADDED);
        ck_assert(is_stored(evs[i]));
    }
    ck_assert_uint_eq(stored_events(), 3);
    free_all(evs, 3);
}
END_TEST

/* All or nothing: the batch's third write fails, the first two are not
 * committed either, and nothing is handed to the fan-out. */
START_TEST(test_batch_one_transaction)
{
    event_t *evs[3] = { ev_new(EV_DELIVERED, 1000, LOG_EV("Q1", "a@x")),
                        ev_new(EV_DELIVERED, 1001, LOG_EV("Q1", "b@x")),
                        ev_new(EV_DELIVERED, 1002, LOG_EV("Q1", "c@x")) };
    enum store_append_result res[3];
    mh_err_t err = { "" };

    fail_at = 3;
    ck_assert_int_eq(append_events(ap, st, evs, 3, res, &err), -1);
    ck_assert_str_eq(err.text, "store: injected write error");
    ck_assert_uint_eq(stored_events(), 0);
    ck_assert_uint_eq(queued("mail"), 0);
    ck_assert_uint_eq(taken(), 0);
    /* the same batch again, the store well: all three */
    append_ok(evs, 3, res);
    ck_assert_uint_eq(stored_events(), 3);
    ck_assert_uint_eq(taken(), 3);
    free_all(evs, 3);
}
END_TEST

/* In the caller's transaction: aborted, nothing stored and nothing queued. */
START_TEST(test_txn_is_the_callers)
{
    event_t *ev = ev_new(EV_DELIVERED, 1000, LOG_EV("Q1", "a@x"));
    enum store_append_result res;
    store_txn_t *txn = store_begin(st, NULL);
    mh_err_t err;

    ck_assert_ptr_nonnull(txn);
    ck_assert_int_eq(append_events_txn(ap, st, txn, &ev, 1, &res, &err), 0);
    ck_assert_int_eq(res, STORE_ADDED);
    store_abort(txn);
    ck_assert(!is_stored(ev));
    ck_assert_uint_eq(queued("mail"), 0);
    ck_assert_uint_eq(taken(), 0);
    txn = store_begin(st, NULL);
    ck_assert_int_eq(append_events_txn(ap, st, txn, &ev, 1, &res, &err), 0);
    ck_assert_int_eq(store_commit(txn, &err), 0);
    ck_assert(is_stored(ev));
    ck_assert_uint_eq(taken(), 1);
    event_free(ev);
}
END_TEST

/* An id stored again, in a later batch or in the same one: a duplicate,
 * stored once. */
START_TEST(test_duplicate_id)
{
    event_t *a = ev_new(EV_DELIVERED, 1000, LOG_EV("Q1", "a@x"));
    event_t *b = ev_new(EV_DELIVERED, 1001, LOG_EV("Q1", "b@x"));
    event_t *first[1] = { a }, *again[3] = { a, b, b };
    enum store_append_result res[3];

    append_ok(first, 1, res);
    ck_assert_int_eq(res[0], STORE_ADDED);
    append_ok(again, 3, res);
    ck_assert_int_eq(res[0], STORE_DUPLICATE);
    ck_assert_int_eq(res[1], STORE_ADDED);
    ck_assert_int_eq(res[2], STORE_DUPLICATE);
    ck_assert_uint_eq(stored_events(), 2);
    event_free(a);
    event_free(b);
}
END_TEST

/* The milter's and the log's email.sent for one recipient and queue id:
 * the first stored stands, in either order, in one batch or two; another
 * recipient of the message keeps its own. */
START_TEST(test_one_sent_per_recipient)
{
    event_t *m1 = ev_new(EV_SENT, 1000, MILTER_SENT("QA", "a@x"));
    event_t *l1 = ev_new(EV_SENT, 1000, LOG_EV("QA", "a@x"));
    event_t *l2 = ev_new(EV_SENT, 1000, LOG_EV("QB", "a@x"));
    event_t *m2 = ev_new(EV_SENT, 1000, MILTER_SENT("QB", "a@x"));
    event_t *m3 = ev_new(EV_SENT, 1000, MILTER_SENT("QA", "c@x"));
    event_t *batch1[3] = { m1, l1, m3 }, *batch2[1] = { l2 }, *batch3[1] = { m2 };
    enum store_append_result res[3];

    append_ok(batch1, 3, res);
    ck_assert_int_eq(res[0], STORE_ADDED);
    ck_assert_int_eq(res[1], STORE_SUPERSEDED);
    ck_assert_int_eq(res[2], STORE_ADDED);
    ck_assert(!is_stored(l1));
    append_ok(batch2, 1, res); /* the log's first, then the milter's */
    ck_assert_int_eq(res[0], STORE_ADDED);
    append_ok(batch3, 1, res);
    ck_assert_int_eq(res[0], STORE_SUPERSEDED);
    ck_assert(!is_stored(m2));
    ck_assert_uint_eq(stored_events(), 3);
    ck_assert_uint_eq(queued("mail"), 3); /* what was dropped is not queued either */
    free_all(batch1, 3);
    event_free(l2);
    event_free(m2);
}
END_TEST

/* Newly stored and matching: queued (committed with the event); not
 * matching, or a duplicate: not. */
START_TEST(test_fanout_new_only)
{
    event_t *a = ev_new(EV_DELIVERED, 1000, LOG_EV("Q1", "a@x"));
    event_t *c = ev_new("app.signup", 1000, "{}");
    event_t *b1[2] = { a, c }, *b2[1] = { a };
    enum store_append_result res[2];

    append_ok(b1, 2, res);
    ck_assert_uint_eq(queued("mail"), 1);
    ck_assert_uint_eq(taken(), 1);
    append_ok(b2, 1, res);
    ck_assert_int_eq(res[0], STORE_DUPLICATE);
    ck_assert_uint_eq(queued("mail"), 1);
    ck_assert_uint_eq(taken(), 0);
    event_free(a);
    event_free(c);
}
END_TEST

/* Without a fan-out (fo NULL): stored, queued for nobody. */
START_TEST(test_no_fanout)
{
    append_t *bare = append_new(NULL, &ctr);
    event_t *a = ev_new(EV_DELIVERED, 1000, LOG_EV("Q1", "a@x"));
    enum store_append_result res;
    mh_err_t err;

    ck_assert_int_eq(append_events(bare, st, &a, 1, &res, &err), 0);
    ck_assert_int_eq(res, STORE_ADDED);
    ck_assert(is_stored(a));
    ck_assert_uint_eq(queued("mail"), 0);
    ck_assert_ptr_null(append_free(bare));
    ck_assert_ptr_null(append_free(NULL));
    event_free(a);
}
END_TEST

/* ---- append_count: one row per batch's res[] -> what it adds */
static const struct {
    size_t n;
    enum store_append_result res[5];
    uint64_t ingested, duplicates, superseded, held;
} count_cases[] = {
    { 0, { 0 }, 0, 0, 0, 0 }, /* an empty batch is a commit all the same */
    { 1, { STORE_ADDED }, 1, 0, 0, 0 },
    { 3, { STORE_DUPLICATE, STORE_ADDED, STORE_DUPLICATE }, 1, 2, 0, 0 },
    { 2, { STORE_SUPERSEDED, STORE_ADDED }, 1, 0, 1, 0 },
    { 5, { STORE_HELD, STORE_HELD, STORE_ADDED, STORE_SUPERSEDED, STORE_DUPLICATE }, 1, 1, 1, 2 },
};

START_TEST(test_count)
{
    ctr.reloads = 7; /* another subsystem's: untouched */
    append_count(ap, count_cases[_i].res, count_cases[_i].n);
    append_count(ap, count_cases[_i].res, count_cases[_i].n); /* adds up */
    ck_assert_uint_eq(ctr.commits, 2);
    ck_assert_uint_eq(ctr.ingested, 2 * count_cases[_i].ingested);
    ck_assert_uint_eq(ctr.duplicates, 2 * count_cases[_i].duplicates);
    ck_assert_uint_eq(ctr.superseded, 2 * count_cases[_i].superseded);
    ck_assert_uint_eq(ctr.held, 2 * count_cases[_i].held);
    ck_assert_uint_eq(ctr.unenriched, 0);
    ck_assert_uint_eq(ctr.reloads, 7);
}
END_TEST

/* append_count after real batches agrees with what the store holds. */
START_TEST(test_count_real)
{
    event_t *m = ev_new(EV_SENT, 1000, MILTER_SENT("QA", "a@x"));
    event_t *l = ev_new(EV_SENT, 1000, LOG_EV("QA", "a@x"));
    event_t *d = ev_new(EV_DELIVERED, 1000, LOG_EV("QA", "a@x"));
    event_t *b1[3] = { m, l, d }, *b2[2] = { d, m };
    enum store_append_result res[3];

    append_ok(b1, 3, res);
    append_count(ap, res, 3);
    append_ok(b2, 2, res);
    append_count(ap, res, 2);
    ck_assert_uint_eq(ctr.commits, 2);
    ck_assert_uint_eq(ctr.ingested, 2);
    ck_assert_uint_eq(ctr.superseded, 1);
    ck_assert_uint_eq(ctr.duplicates, 2);
    ck_assert_uint_eq(ctr.ingested, stored_events());
    free_all(b1, 3);
}
END_TEST

/* The log reader's events for a message whose milter record is missing
 * (the milter in use: its email.sent for another message was stored) are
 * held, stored nowhere and queued for nobody; the milter's email.sent,
 * appended later, releases them in its transaction: the log's email.sent
 * is then dropped for it, the delivery stored, enriched and queued. */
START_TEST(test_hold_released)
{
    event_t *m0 = ev_new(EV_SENT, 1000, MILTER_SENT("Q0", "z@x"));
    event_t *ls = ev_new(EV_SENT, 2000, LOG_EV("QH", "a@x"));
    event_t *dl = ev_new(EV_DELIVERED, 2000, LOG_EV("QH", "a@x"));
    event_t *ms = ev_new(EV_SENT, 2100, MILTER_SENT("QH", "a@x"));
    event_t *logb[2] = { ls, dl };
    enum store_append_result res[2];
    store_txn_t *txn;
    mh_err_t err;
    char *json;
    size_t len;
    json_t *got;

    append_ok(&m0, 1, res);
    ck_assert_uint_eq(taken(), 1);
    txn = store_begin(st, NULL);
    ck_assert_ptr_nonnull(txn);
    ck_assert_int_eq(append_log_events_txn(ap, st, txn, logb, 2, time_now_ms() + 60000, res,
                                           &err), 0);
    ck_assert_int_eq(store_commit(txn, &err), 0);
    ck_assert_int_eq(res[0], STORE_HELD);
    ck_assert_int_eq(res[1], STORE_HELD);
    append_count(ap, res, 2);
    ck_assert_uint_eq(ctr.held, 2);
    ck_assert_uint_eq(ctr.ingested, 0);
    ck_assert(!is_stored(ls));
    ck_assert(!is_stored(dl));
    ck_assert_uint_eq(stored_events(), 1);
    ck_assert_uint_eq(taken(), 0);
    /* the milter's record comes */
    append_ok(&ms, 1, res);
    ck_assert_int_eq(res[0], STORE_ADDED);
    ck_assert(!is_stored(ls)); /* the milter's stands for it */
    ck_assert(is_stored(dl));
    ck_assert_uint_eq(stored_events(), 3);
    ck_assert_uint_eq(taken(), 2); /* ms and dl, committed together */
    ck_assert_uint_eq(queued("mail"), 3);
    ck_assert_int_eq(store_event_get(st, dl->id, &json, &len, &err), 0);
    got = json_loadb(json, len, 0, NULL);
    free(json);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(got, "data"), "subject")),
                     "S");
    json_decref(got);
    /* released once: the same milter's email.sent again is a duplicate, nothing more */
    append_ok(&ms, 1, res);
    ck_assert_int_eq(res[0], STORE_DUPLICATE);
    ck_assert_uint_eq(stored_events(), 3);
    event_free(m0);
    free_all(logb, 2);
    event_free(ms);
}
END_TEST

/* hold_until_ms 0 (and append_events_txn): never held. */
START_TEST(test_no_hold_without_deadline)
{
    event_t *m0 = ev_new(EV_SENT, 1000, MILTER_SENT("Q0", "z@x"));
    event_t *dl = ev_new(EV_DELIVERED, 2000, LOG_EV("QH", "a@x"));
    enum store_append_result res;
    store_txn_t *txn;
    mh_err_t err;

    append_ok(&m0, 1, &res);
    txn = store_begin(st, NULL);
    ck_assert_int_eq(append_log_events_txn(ap, st, txn, &dl, 1, 0, &res, &err), 0);
    ck_assert_int_eq(store_commit(txn, &err), 0);
    ck_assert_int_eq(res, STORE_ADDED);
    ck_assert(is_stored(dl));
    event_free(m0);
    event_free(dl);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("append");
    TCase *tc = tcase_create("store");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_batch_res_per_event);
    tcase_add_test(tc, test_batch_one_transaction);
    tcase_add_test(tc, test_txn_is_the_callers);
    tcase_add_test(tc, test_duplicate_id);
    tcase_add_test(tc, test_one_sent_per_recipient);
    tcase_add_test(tc, test_fanout_new_only);
    tcase_add_test(tc, test_no_fanout);
    tcase_add_loop_test(tc, test_count, 0, sizeof(count_cases) / sizeof(count_cases[0]));
    tcase_add_test(tc, test_count_real);
    tcase_add_test(tc, test_hold_released);
    tcase_add_test(tc, test_no_hold_without_deadline);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
