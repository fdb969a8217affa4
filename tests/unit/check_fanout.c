/* SPDX-License-Identifier: MIT */
/*
 * check_fanout.c - the fan-out (fanout.h): the queue entry encoding as
 * fixed bytes (version 1, attempts and next_ms big-endian), blobs and
 * their references, and items that reach the loop side only once their
 * transaction commits, in a real store.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanout.h"

/* ---- queue entries: one row per case */

static const struct {
    int attempts;
    int64_t next_ms;
    unsigned char bytes[FANOUT_QENTRY_LEN];
} qentry_cases[] = {
    { 0, 0, { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
    { 1, 1, { 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 } },
    { 258, 0x0102030405060708LL, { 1, 0, 0, 1, 2, 1, 2, 3, 4, 5, 6, 7, 8 } },
    { 1000000, 1767225600000LL, { 1, 0x00, 0x0f, 0x42, 0x40, 0, 0, 0x01, 0x9b, 0x76, 0xda,
                                  0xa8, 0x00 } },
};

START_TEST(test_qentry_encode)
{
    struct fanout_qentry e = { qentry_cases[_i].attempts, qentry_cases[_i].next_ms }, d;
    unsigned char buf[FANOUT_QENTRY_LEN];

    fanout_qentry_encode(&e, buf);
    ck_assert_mem_eq(buf, qentry_cases[_i].bytes, FANOUT_QENTRY_LEN);
    ck_assert_int_eq(fanout_qentry_decode(buf, sizeof(buf), &d), 0);
    ck_assert_int_eq(d.attempts, e.attempts);
    ck_assert_int_eq(d.next_ms, e.next_ms);
}
END_TEST

static const struct {
    const char *why;
    size_t len;
    unsigned char bytes[FANOUT_QENTRY_LEN + 1];
} qentry_bad[] = {
    { "too short", FANOUT_QENTRY_LEN - 1, { 1 } },
    { "too long", FANOUT_QENTRY_LEN + 1, { 1 } },
    { "empty", 0, { 0 } },
    { "version 0", FANOUT_QENTRY_LEN, { 0 } },
    { "version 2", FANOUT_QENTRY_LEN, { 2 } },
    { "attempts past 1000000", FANOUT_QENTRY_LEN, { 1, 0x00, 0x0f, 0x42, 0x41 } },
};

START_TEST(test_qentry_decode_bad)
{
    struct fanout_qentry d = { 7, 7 };

    ck_assert_msg(fanout_qentry_decode(qentry_bad[_i].bytes, qentry_bad[_i].len, &d) == -1,
                  "%s", qentry_bad[_i].why);
    ck_assert_int_eq(d.attempts, 7); /* untouched */
}
END_TEST

/* ---- blobs */

START_TEST(test_blob_refs)
{
    struct fanout_blob *b = fanout_blob_new("evt_1", "email.delivered", 42, "{\"a\":1}xyz", 7);

    ck_assert_str_eq(b->id, "evt_1");
    ck_assert_str_eq(b->type, "email.delivered");
    ck_assert_int_eq(b->ts_ms, 42);
    ck_assert_uint_eq(b->len, 7);
    ck_assert_str_eq(b->json, "{\"a\":1}"); /* copied, NUL-terminated */
    ck_assert_ptr_eq(fanout_blob_ref(b), b);
    ck_assert_int_eq(b->refs, 2);
    fanout_blob_unref(b);
    ck_assert_int_eq(b->refs, 1);
    fanout_blob_unref(b);
    fanout_blob_unref(NULL);
}
END_TEST

/* ---- matching and hand-over, in a store */

static char dir[64];
static store_t *st;
static fanout_t *fo;

static void setup(void)
{
    struct store_opts o = { .nosync = true };

    snprintf(dir, sizeof(dir), "/tmp/check_fanout.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    st = store_open(dir, &o, NULL);
    ck_assert_ptr_nonnull(st);
    fo = fanout_new();
}

static void teardown(void)
{
    char cmd[128];

    fo = fanout_free(fo);
    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void add_endpoint(const char *name, const char *types, bool enabled)
{
    json_t *obj = json_pack("{s:s,s:s,s:[s],s:b}", "name", name, "url",
                            "https://hooks.example.com/", "types", types, "enabled", enabled);
    mh_err_t err;
    endpoint_t *ep = endpoint_from_json(obj, &err);

    ck_assert_msg(ep != NULL, "%s", err.text);
    fanout_set_endpoint(fo, ep);
    endpoint_free(ep);
    json_decref(obj);
}

/* Store an event of type in its own transaction, fanned out; commit or abort. */
static uint64_t store_one(const char *id, const char *type, bool commit)
{
    event_t *ev = event_new(type, 1000, json_object(), NULL);
    enum store_append_result res;
    store_txn_t *txn = store_begin(st, NULL);
    uint64_t seq = 0;
    size_t len;
    char *json;

    ck_assert_ptr_nonnull(ev);
    snprintf(ev->id, sizeof(ev->id), "%s", id);
    json = event_to_json(ev, &len);
    ck_assert_ptr_nonnull(txn);
    ck_assert_int_eq(store_event_append(txn, ev->id, ev->type, ev->ts_ms, 2000, json, len, &seq,
                                        &res, NULL), 0);
    ck_assert_int_eq(res, STORE_ADDED);
    ck_assert_int_eq(fanout_event(fo, txn, ev, seq, json, len, NULL), 0);
    if (commit)
        ck_assert_int_eq(store_commit(txn, NULL), 0);
    else
        store_abort(txn);
    free(json);
    event_free(ev);
    return seq;
}

static size_t take(struct fanout_items *items)
{
    struct fanout_item *it;
    size_t n = 0;

    STAILQ_INIT(items);
    fanout_take(fo, items);
    STAILQ_FOREACH(it, items, link)
        n++;
    return n;
}

START_TEST(test_endpoints_enabled_only)
{
    add_endpoint("a", "email.*", true);
    add_endpoint("b", "app.*", true);
    add_endpoint("c", "*", false); /* disabled: not matched */
    ck_assert_uint_eq(fanout_endpoint_count(fo), 2);
    add_endpoint("b", "app.*", false); /* disabling removes it */
    ck_assert_uint_eq(fanout_endpoint_count(fo), 1);
    ck_assert_str_eq(fanout_endpoint(fo, 0)->name, "a");
    fanout_remove_endpoint(fo, "a");
    ck_assert_uint_eq(fanout_endpoint_count(fo), 0);
}
END_TEST

START_TEST(test_committed_items_only)
{
    struct fanout_items items;
    struct fanout_item *it;
    uint64_t s1, s2;

    add_endpoint("a", "email.*", true);
    add_endpoint("b", "email.delivered", true);
    add_endpoint("c", "app.*", true);
    s1 = store_one("evt_01J0000000000000000000000A", "email.delivered", true);
    store_one("evt_01J0000000000000000000000B", "email.bounced", false); /* aborted */
    s2 = store_one("evt_01J0000000000000000000000C", "email.bounced", true);
    ck_assert_uint_eq(take(&items), 3); /* A for a and b, C for a; nothing of B */
    it = STAILQ_FIRST(&items);
    ck_assert_uint_eq(it->seq, s1);
    ck_assert_str_eq(it->blob->id, "evt_01J0000000000000000000000A");
    ck_assert_ptr_eq(STAILQ_NEXT(it, link)->blob, it->blob); /* one blob, shared */
    it = STAILQ_NEXT(STAILQ_NEXT(it, link), link);
    ck_assert_uint_eq(it->seq, s2);
    ck_assert_str_eq(it->endpoint, "a");
    fanout_items_free(&items);
    ck_assert_uint_eq(take(&items), 0); /* taken once */
}
END_TEST

START_TEST(test_blob_load)
{
    uint64_t seq = store_one("evt_01J0000000000000000000000A", "email.delivered", true);
    struct fanout_blob *b;
    int rc = 0;

    b = fanout_blob_load(st, seq, &rc, NULL);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(b->id, "evt_01J0000000000000000000000A");
    ck_assert_str_eq(b->type, "email.delivered");
    ck_assert_int_eq(b->ts_ms, 1000);
    fanout_blob_unref(b);
    ck_assert_ptr_null(fanout_blob_load(st, seq + 1, &rc, NULL));
    ck_assert_int_eq(rc, 1); /* gone */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fanout");
    TCase *tc = tcase_create("encoding"), *tc2 = tcase_create("store");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_qentry_encode, 0, sizeof(qentry_cases) / sizeof(qentry_cases[0]));
    tcase_add_loop_test(tc, test_qentry_decode_bad, 0, sizeof(qentry_bad) / sizeof(qentry_bad[0]));
    tcase_add_test(tc, test_blob_refs);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tc2, setup, teardown);
    tcase_add_test(tc2, test_endpoints_enabled_only);
    tcase_add_test(tc2, test_committed_items_only);
    tcase_add_test(tc2, test_blob_load);
    suite_add_tcase(s, tc2);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
