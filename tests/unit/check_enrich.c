/*
 * check_enrich.c - events take subject, tags, metadata, tenant and
 * message_id from the message record of their queue id, in a real store.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enrich.h"

static char dir[64];
static store_t *st;

static void put_record(const char *qid, const char *json)
{
    store_txn_t *txn = store_begin(st, NULL);

    ck_assert_ptr_nonnull(txn);
    ck_assert_int_eq(store_kv_put(txn, STORE_MESSAGES, qid, json, strlen(json), NULL), 0);
    ck_assert_int_eq(store_commit(txn, NULL), 0);
}

static void setup(void)
{
    struct store_opts o = { .nosync = true };

    snprintf(dir, sizeof(dir), "/tmp/check_enrich.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    st = store_open(dir, &o, NULL);
    ck_assert_ptr_nonnull(st);
    put_record("Q1", "{\"subject\":\"Your order\",\"tags\":[\"vip\"],\"metadata\":"
                     "{\"campaign_id\":\"camp_1\"},\"tenant\":\"shop\",\"message_id\":\"<m@x>\","
                     "\"milter\":true,\"internal\":1}");
    put_record("BAD", "[1,2]");
}

static void teardown(void)
{
    char cmd[128];

    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static event_t *ev_with(const char *data)
{
    event_t *ev = event_new(EV_DELIVERED, 1000, json_loads(data, 0, NULL), NULL);

    ck_assert_ptr_nonnull(ev);
    return ev;
}

static const char *dstr(const event_t *ev, const char *k)
{
    return json_string_value(json_object_get(ev->data, k));
}

START_TEST(test_merges_record)
{
    event_t *ev = ev_with("{\"queue_id\":\"Q1\",\"recipient\":\"a@b\"}");

    ck_assert(enrich_event(st, ev));
    ck_assert_str_eq(dstr(ev, "subject"), "Your order");
    ck_assert_str_eq(dstr(ev, "tenant"), "shop");
    ck_assert_str_eq(dstr(ev, "message_id"), "<m@x>");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(ev->data, "tags"), 0)), "vip");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ev->data, "metadata"),
                                                       "campaign_id")), "camp_1");
    ck_assert_ptr_null(json_object_get(ev->data, "milter"));   /* bookkeeping stays out */
    ck_assert_ptr_null(json_object_get(ev->data, "internal"));
    event_free(ev);
}
END_TEST

START_TEST(test_producer_values_win)
{
    event_t *ev = ev_with("{\"queue_id\":\"Q1\",\"subject\":\"mine\"}");

    ck_assert(enrich_event(st, ev));
    ck_assert_str_eq(dstr(ev, "subject"), "mine");
    ck_assert_str_eq(dstr(ev, "tenant"), "shop");
    event_free(ev);
}
END_TEST

START_TEST(test_no_record_or_bad_record)
{
    event_t *a = ev_with("{\"queue_id\":\"NOPE\"}"), *b = ev_with("{\"queue_id\":\"BAD\"}"),
            *c = ev_with("{\"recipient\":\"x@y\"}");

    ck_assert(!enrich_event(st, a));
    ck_assert(!enrich_event(st, b));
    ck_assert(!enrich_event(st, c));
    ck_assert_uint_eq(json_object_size(a->data), 1);
    ck_assert_uint_eq(json_object_size(b->data), 1);
    ck_assert_uint_eq(json_object_size(c->data), 1);
    event_free(a), event_free(b), event_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("enrich");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_merges_record);
    tcase_add_test(tc, test_producer_values_win);
    tcase_add_test(tc, test_no_record_or_bad_record);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
