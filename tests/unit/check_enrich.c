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

/* enrich_append: email.sent of the milter saves the record; the reader's
 * is then dropped; later events of the message take the milter's subject,
 * tags, metadata. */
START_TEST(test_milter_sent_record)
{
    event_t *ms = event_new("email.sent", 5000,
                            json_loads("{\"queue_id\":\"Q9\",\"from\":\"s@shop.example\","
                                       "\"recipient\":\"r@x\",\"subject\":\"Hi \u00e9\","
                                       "\"header_from\":\"Shop <s@shop.example>\","
                                       "\"tenant\":\"shop.example\",\"tags\":[\"t1\"],"
                                       "\"metadata\":{\"k\":\"v\"},\"milter\":true}", 0, NULL),
                            NULL);
    event_t *rs = event_new("email.sent", 6000,
                            json_loads("{\"queue_id\":\"Q9\",\"recipient\":\"r@x\"}", 0, NULL),
                            NULL);
    event_t *other = event_new("email.sent", 6000,
                               json_loads("{\"queue_id\":\"Q10\",\"recipient\":\"r@x\"}", 0,
                                          NULL), NULL);
    event_t *dl = ev_with("{\"queue_id\":\"Q9\",\"recipient\":\"r@x\"}");
    store_txn_t *txn;
    mh_err_t err;
    void *val;
    size_t len;
    json_t *rec;

    ck_assert_ptr_nonnull(ms);
    ck_assert_ptr_nonnull(rs);
    ck_assert_ptr_nonnull(other);
    /* the reader's email.sent before any record of the milter is kept */
    txn = store_begin(st, NULL);
    ck_assert_int_eq(enrich_append(st, txn, rs, &err), ENRICH_KEEP);
    ck_assert_int_eq(enrich_append(st, txn, ms, &err), ENRICH_KEEP);
    /* in the same transaction, the record is already seen */
    ck_assert_int_eq(enrich_append(st, txn, rs, &err), ENRICH_DROP);
    ck_assert_int_eq(store_commit(txn, NULL), 0);
    ck_assert_int_eq(store_kv_get(st, STORE_MESSAGES, "Q9", &val, &len, &err), 0);
    rec = json_loadb(val, len, 0, NULL);
    free(val);
    ck_assert_str_eq(json_string_value(json_object_get(rec, "subject")), "Hi \xc3\xa9");
    ck_assert_str_eq(json_string_value(json_object_get(rec, "from")), "Shop <s@shop.example>");
    ck_assert(json_is_true(json_object_get(rec, "milter")));
    ck_assert_int_eq(json_integer_value(json_object_get(rec, "t")), 5000);
    ck_assert_ptr_null(json_object_get(rec, "recipient")); /* per message, not per recipient */
    json_decref(rec);
    txn = store_begin(st, NULL);
    ck_assert_int_eq(enrich_append(st, txn, rs, &err), ENRICH_DROP);
    ck_assert_int_eq(enrich_append(st, txn, other, &err), ENRICH_KEEP); /* another message */
    ck_assert_int_eq(enrich_append(st, txn, dl, &err), ENRICH_KEEP);    /* not email.sent */
    store_abort(txn);
    ck_assert(enrich_event(st, dl));
    ck_assert_str_eq(dstr(dl, "subject"), "Hi \xc3\xa9");
    ck_assert_str_eq(dstr(dl, "tenant"), "shop.example");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(dl->data, "metadata"), "k")),
                     "v");
    /* Q1's record has "milter": true too: the reader's email.sent is dropped */
    json_object_set_new(rs->data, "queue_id", json_string("Q1"));
    txn = store_begin(st, NULL);
    ck_assert_int_eq(enrich_append(st, txn, rs, &err), ENRICH_DROP);
    store_abort(txn);
    event_free(ms);
    event_free(rs);
    event_free(other);
    event_free(dl);
}
END_TEST

/* Retention: records made before the bound go, in chunks, the others stay. */
START_TEST(test_expire_records)
{
    char cursor[ENRICH_CURSOR] = "", key[16];
    size_t deleted, total = 0;
    int calls = 0;
    void *val;
    size_t len;
    mh_err_t err;

    for (int i = 0; i < 7; i++) {
        char json[64];

        snprintf(key, sizeof(key), "R%d", i);
        snprintf(json, sizeof(json), "{\"milter\":true,\"t\":%d}", i * 1000);
        put_record(key, json);
    }
    do { /* 2 at a time: the cursor carries on */
        ck_assert_int_eq(enrich_expire(st, 3500, cursor, 2, &deleted, &err), 0);
        total += deleted;
        ck_assert_int_lt(++calls, 20);
    } while (cursor[0]);
    /* R0..R3 (t < 3500) and the two setup records without "t" */
    ck_assert_uint_eq(total, 6);
    for (int i = 0; i < 7; i++) {
        snprintf(key, sizeof(key), "R%d", i);
        ck_assert_int_eq(store_kv_get(st, STORE_MESSAGES, key, &val, &len, &err), i < 4 ? 1 : 0);
        if (i >= 4)
            free(val);
    }
    ck_assert_int_eq(store_kv_get(st, STORE_MESSAGES, "Q1", &val, &len, &err), 1);
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
    tcase_add_test(tc, test_milter_sent_record);
    tcase_add_test(tc, test_expire_records);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
