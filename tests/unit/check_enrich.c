/* SPDX-License-Identifier: MIT */
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
#include "timeutil.h"

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
    /* the milter's email.sent makes the record; in the same transaction
     * the reader's is already dropped */
    txn = store_begin(st, NULL);
    ck_assert_int_eq(enrich_append(st, txn, ms, &err), ENRICH_KEEP);
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

static event_t *ev_typed(const char *type, int64_t ts, const char *data)
{
    event_t *ev = event_new(type, ts, json_loads(data, 0, NULL), NULL);

    ck_assert_ptr_nonnull(ev);
    return ev;
}

#define MILTER_SENT(qid, rcpt)                                                             \
    "{\"queue_id\":\"" qid "\",\"recipient\":\"" rcpt "\",\"subject\":\"S\","       \
    "\"tags\":[\"t\"],\"tenant\":\"ten\",\"milter\":true}"

static int append1(event_t *ev, int64_t hold_until)
{
    store_txn_t *txn = store_begin(st, NULL);
    mh_err_t err;
    int rc;

    ck_assert_ptr_nonnull(txn);
    rc = enrich_append_hold(st, txn, ev, hold_until, &err);
    ck_assert_int_ge(rc, 0);
    ck_assert_int_eq(store_commit(txn, NULL), 0);
    return rc;
}

static json_t *record_of(const char *qid)
{
    void *val;
    size_t len;
    mh_err_t err;
    json_t *rec;

    if (store_kv_get(st, STORE_MESSAGES, qid, &val, &len, &err) != 0)
        return NULL;
    rec = json_loadb(val, len, 0, NULL);
    free(val);
    return rec;
}

/* The milter's email.sent arriving after the log's for the same recipient
 * (the wait expired, or no hold): never a second email.sent; the record
 * is kept and enriches the later events. The log's own email.sent once
 * more (a line read twice) is left to the store's id check, and listed once. */
START_TEST(test_late_milter_sent)
{
    event_t *rs = ev_typed(EV_SENT, 5000, "{\"queue_id\":\"QL\",\"recipient\":\"a@x\"}");
    event_t *rs2 = ev_typed(EV_SENT, 5000, "{\"queue_id\":\"QL\",\"recipient\":\"a@x\"}");
    event_t *ma = ev_typed(EV_SENT, 4900, MILTER_SENT("QL", "a@x"));
    event_t *mb = ev_typed(EV_SENT, 4900, MILTER_SENT("QL", "b@x"));
    event_t *rb = ev_typed(EV_SENT, 5000, "{\"queue_id\":\"QL\",\"recipient\":\"b@x\"}");
    event_t *rc = ev_typed(EV_SENT, 5000, "{\"queue_id\":\"QL\",\"recipient\":\"c@x\"}");
    event_t *mc = ev_typed(EV_SENT, 4900, MILTER_SENT("QL", "c@x"));
    event_t *dl = ev_typed(EV_DEFERRED, 9000, "{\"queue_id\":\"QL\",\"recipient\":\"a@x\"}");
    json_t *rec;

    ck_assert_int_eq(append1(rs, 0), ENRICH_KEEP);
    ck_assert_int_eq(append1(rs2, 0), ENRICH_KEEP);      /* the log's again: the id decides */
    ck_assert_int_eq(append1(rc, 0), ENRICH_KEEP);
    ck_assert_int_eq(append1(ma, 0), ENRICH_DROP);       /* the milter's, late for a@x */
    ck_assert_int_eq(append1(mc, 0), ENRICH_DROP);       /* and for c@x, record now the milter's */
    ck_assert_int_eq(append1(mb, 0), ENRICH_KEEP);       /* b@x had none yet */
    ck_assert_int_eq(append1(rb, 0), ENRICH_DROP);       /* the milter's stands for b@x */
    ck_assert_int_eq(append1(dl, 0), ENRICH_KEEP);
    ck_assert_str_eq(dstr(dl, "subject"), "S");
    ck_assert_str_eq(dstr(dl, "tenant"), "ten");
    rec = record_of("QL");
    ck_assert(json_is_true(json_object_get(rec, "milter")));
    ck_assert_int_eq(json_integer_value(json_object_get(rec, "t")), 5000); /* the stored sent's */
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(rec, "sent"), 0)), "a@x");
    ck_assert_uint_eq(json_array_size(json_object_get(rec, "sent")), 2); /* a@x, c@x */
    json_decref(rec);
    event_free(rs), event_free(rs2), event_free(ma), event_free(mb), event_free(rb);
    event_free(rc), event_free(mc);
    event_free(dl);
}
END_TEST

/* An outcome logged in the same second as the milter's email.sent
 * (whole seconds in the log) is not timestamped before it. */
START_TEST(test_outcome_not_before_sent)
{
    event_t *ms = ev_typed(EV_SENT, 1700000000450LL, MILTER_SENT("QT", "a@x"));
    event_t *early = ev_typed(EV_DELIVERED, 1700000000000LL,
                              "{\"queue_id\":\"QT\",\"recipient\":\"a@x\"}");
    event_t *later = ev_typed(EV_DELIVERED, 1700000001000LL,
                              "{\"queue_id\":\"QT\",\"recipient\":\"a@x\"}");

    ck_assert_int_eq(append1(ms, 0), ENRICH_KEEP);
    ck_assert_int_eq(append1(early, 0), ENRICH_KEEP);
    ck_assert_int_eq(append1(later, 0), ENRICH_KEEP);
    ck_assert_int_eq(early->ts_ms, 1700000000450LL);
    ck_assert_int_eq(later->ts_ms, 1700000001000LL);
    event_free(ms), event_free(early), event_free(later);
}
END_TEST

static int count_hold(void *ctx, const char *key, const void *val, size_t len)
{
    if (strncmp(key, ENRICH_HOLD_PREFIX, strlen(ENRICH_HOLD_PREFIX)) != 0)
        return 1;
    (*(size_t *)ctx)++;
    return 0;
}

/* How many holds the store has. */
static size_t holds(void)
{
    size_t n = 0;

    ck_assert_int_eq(store_kv_scan(st, STORE_CHECKPOINTS, ENRICH_HOLD_PREFIX, count_hold, &n,
                                   NULL), 0);
    return n;
}

/* Holding: nothing while the milter was never seen; once it was, the log
 * events of a message without its record are held in order (and a later
 * one joins the hold), come back when the milter's email.sent is stored,
 * and then find the record. */
START_TEST(test_hold_until_record)
{
    event_t *m0 = ev_typed(EV_SENT, 1000, MILTER_SENT("Q0", "z@x"));
    event_t *free0 = ev_typed(EV_DELIVERED, 1000, "{\"queue_id\":\"QF\",\"recipient\":\"a@x\"}");
    event_t *rs = ev_typed(EV_SENT, 2000, "{\"queue_id\":\"QH\",\"recipient\":\"a@x\"}");
    event_t *dl = ev_typed(EV_DELIVERED, 2000, "{\"queue_id\":\"QH\",\"recipient\":\"a@x\"}");
    event_t *ms = ev_typed(EV_SENT, 2100, MILTER_SENT("QH", "a@x"));
    event_t **got = NULL;
    size_t n = 0;
    store_txn_t *txn;
    mh_err_t err;
    int64_t until = time_now_ms() + 60000;

    /* no milter seen yet: no hold */
    ck_assert_int_eq(append1(free0, until), ENRICH_KEEP);
    ck_assert_int_eq(append1(m0, 0), ENRICH_KEEP); /* now it was */
    ck_assert_int_eq(append1(rs, until), ENRICH_HELD);
    ck_assert_int_eq(append1(dl, until), ENRICH_HELD);
    ck_assert_uint_eq(holds(), 1);
    ck_assert_int_eq(append1(ms, 0), ENRICH_KEEP);
    txn = store_begin(st, NULL);
    ck_assert_int_eq(enrich_take_held(st, txn, "QH", &got, &n, &err), 0);
    ck_assert_int_eq(store_commit(txn, NULL), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(holds(), 0);
    ck_assert_str_eq(got[0]->id, rs->id); /* in order, as they were */
    ck_assert_str_eq(got[1]->id, dl->id);
    ck_assert_int_eq(got[1]->ts_ms, 2000);
    ck_assert_int_eq(append1(got[0], 0), ENRICH_DROP); /* the milter's stands for it */
    ck_assert_int_eq(append1(got[1], 0), ENRICH_KEEP);
    ck_assert_str_eq(dstr(got[1], "subject"), "S");
    ck_assert_int_eq(got[1]->ts_ms, 2100); /* not before the milter's email.sent */
    /* a message with the milter's record is not held */
    ck_assert_int_eq(append1(dl, until), ENRICH_KEEP);
    for (size_t i = 0; i < n; i++)
        event_free(got[i]);
    free(got);
    event_free(m0), event_free(free0), event_free(rs), event_free(dl), event_free(ms);
}
END_TEST

/* The milter's record under a later leg of the chain (Sendmail's MTA
 * behind its MSP: reinjected_queue_id): the reader's events are held
 * under the first id until the record comes under the later one, then
 * the reader's email.sent is superseded and its outcome goes under the
 * milter's queue id (first_queue_id keeps the first), enriched and not
 * before the milter's email.sent; and the milter's late after the
 * reader's email.sent under a chain is dropped. */
START_TEST(test_record_under_later_leg)
{
    event_t *m0 = ev_typed(EV_SENT, 1000, MILTER_SENT("Q0", "z@x"));
    event_t *rs = ev_typed(EV_SENT, 2000, "{\"queue_id\":\"QA\",\"reinjected_queue_id\":\"QB\","
                                          "\"recipient\":\"a@x\"}");
    event_t *dl = ev_typed(EV_DELIVERED, 2000, "{\"queue_id\":\"QA\","
                                               "\"reinjected_queue_id\":\"QB\",\"recipient\":\"a@x\"}");
    event_t *ms = ev_typed(EV_SENT, 2100, MILTER_SENT("QB", "a@x"));
    event_t *ls = ev_typed(EV_SENT, 3000, "{\"queue_id\":\"QC\",\"reinjected_queue_id\":\"QD\","
                                          "\"recipient\":\"b@x\"}");
    event_t *lm = ev_typed(EV_SENT, 2900, MILTER_SENT("QD", "b@x"));
    event_t **got = NULL;
    size_t n = 0;
    store_txn_t *txn;
    mh_err_t err;
    int64_t until = time_now_ms() + 60000;

    ck_assert_int_eq(append1(m0, 0), ENRICH_KEEP);
    ck_assert_int_eq(append1(rs, until), ENRICH_HELD);
    ck_assert_int_eq(append1(dl, until), ENRICH_HELD);
    ck_assert_int_eq(append1(ms, 0), ENRICH_KEEP);
    txn = store_begin(st, NULL);
    ck_assert_int_eq(enrich_take_held(st, txn, "QB", &got, &n, &err), 0); /* the milter's id */
    ck_assert_int_eq(store_commit(txn, NULL), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(holds(), 0);
    ck_assert_int_eq(append1(got[0], 0), ENRICH_DROP);
    ck_assert_int_eq(append1(got[1], 0), ENRICH_KEEP);
    ck_assert_str_eq(dstr(got[1], "subject"), "S");
    ck_assert_str_eq(dstr(got[1], "queue_id"), "QB");
    ck_assert_str_eq(dstr(got[1], "first_queue_id"), "QA");
    ck_assert_int_eq(got[1]->ts_ms, 2100);
    /* no hold (0): the reader's email.sent first, the milter's later leg late */
    ck_assert_int_eq(append1(ls, 0), ENRICH_KEEP);
    ck_assert_int_eq(append1(lm, 0), ENRICH_DROP);
    for (size_t i = 0; i < n; i++)
        event_free(got[i]);
    free(got);
    event_free(m0), event_free(rs), event_free(dl), event_free(ms), event_free(ls);
    event_free(lm);
}
END_TEST

/* The log's email.sent out under the first leg before the chain was
 * known (an MSP's deferred hand-off, the MTA down): the milter's, later,
 * under the MTA's queue id, is found late by the Message-ID and dropped;
 * the outcome stays under the surviving email.sent's queue id, enriched. */
START_TEST(test_late_milter_by_message_id)
{
    event_t *m0 = ev_typed(EV_SENT, 1000, MILTER_SENT("Q0", "z@x"));
    event_t *rs = ev_typed(EV_SENT, 2000, "{\"queue_id\":\"QM\",\"recipient\":\"a@x\","
                                          "\"message_id\":\"<m1@x>\"}");
    event_t *ms = ev_typed(EV_SENT, 5000, "{\"queue_id\":\"QN\",\"recipient\":\"a@x\","
                                          "\"message_id\":\"<m1@x>\",\"subject\":\"S\","
                                          "\"milter\":true}");
    event_t *dl = ev_typed(EV_DELIVERED, 6000, "{\"queue_id\":\"QM\","
                                               "\"reinjected_queue_id\":\"QN\",\"recipient\":\"a@x\"}");

    ck_assert_int_eq(append1(m0, 0), ENRICH_KEEP);
    ck_assert_int_eq(append1(rs, 0), ENRICH_KEEP);
    ck_assert_int_eq(append1(ms, 0), ENRICH_DROP);
    ck_assert_int_eq(append1(dl, 0), ENRICH_KEEP);
    ck_assert_str_eq(dstr(dl, "queue_id"), "QM");
    ck_assert_str_eq(dstr(dl, "subject"), "S");
    event_free(m0), event_free(rs), event_free(ms), event_free(dl);
}
END_TEST

/* The wait spent: due holds come back (the others stay, their deadline
 * reported), the message is marked so that its later events are not held
 * again, and the milter's email.sent arriving after that is dropped. */
START_TEST(test_hold_expires)
{
    event_t *m0 = ev_typed(EV_SENT, 1000, MILTER_SENT("Q0", "z@x"));
    event_t *a = ev_typed(EV_SENT, 2000, "{\"queue_id\":\"QA\",\"recipient\":\"a@x\"}");
    event_t *b = ev_typed(EV_DELIVERED, 2000, "{\"queue_id\":\"QB\",\"recipient\":\"b@x\"}");
    event_t *a2 = ev_typed(EV_DEFERRED, 3000, "{\"queue_id\":\"QA\",\"recipient\":\"a@x\"}");
    event_t *ma = ev_typed(EV_SENT, 1900, MILTER_SENT("QA", "a@x"));
    event_t *b2 = ev_typed(EV_DEFERRED, 2500, "{\"queue_id\":\"QW\",\"recipient\":\"b@x\"}");
    event_t **got = NULL;
    size_t n = 0;
    store_txn_t *txn;
    mh_err_t err;
    int64_t now = time_now_ms(), next;
    json_t *rec;

    ck_assert_int_eq(append1(m0, 0), ENRICH_KEEP);
    ck_assert_int_eq(append1(a, now - 1), ENRICH_HELD);
    ck_assert_int_eq(append1(b, now + 60000), ENRICH_HELD);
    ck_assert_int_eq(append1(b2, now - 1), ENRICH_HELD); /* no email.sent in this hold */
    txn = store_begin(st, NULL);
    ck_assert_int_eq(enrich_take_expired(st, txn, now, 100, &got, &n, &next, &err), 0);
    ck_assert_int_eq(store_commit(txn, NULL), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(got[0]->id, a->id);
    ck_assert_str_eq(got[1]->id, b2->id);
    ck_assert_int_eq(next, now + 60000);
    ck_assert_uint_eq(holds(), 1);
    ck_assert_int_eq(append1(got[0], 0), ENRICH_KEEP); /* out unenriched */
    ck_assert_int_eq(append1(got[1], 0), ENRICH_KEEP);
    ck_assert_int_eq(got[1]->ts_ms, 2500); /* the "waited" mark's time is no bound */
    rec = record_of("QA");
    ck_assert(json_is_true(json_object_get(rec, "waited")));
    json_decref(rec);
    ck_assert_int_eq(append1(a2, now + 60000), ENRICH_KEEP); /* not held again */
    ck_assert_int_eq(a2->ts_ms, 3000); /* bound by the email.sent, not by the release */
    ck_assert_int_eq(append1(ma, 0), ENRICH_DROP);           /* late: one email.sent */
    for (size_t i = 0; i < n; i++)
        event_free(got[i]);
    free(got);
    event_free(m0), event_free(a), event_free(b), event_free(a2), event_free(ma);
    event_free(b2);
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

/* Retention counts from when a record was last written ("stored"), not
 * from its message's time: the record of a backdated email.sent (a
 * backfilled log, a late event) stays; a record from before "stored" was
 * kept goes by its "t". */
START_TEST(test_expire_by_stored)
{
    char cursor[ENRICH_CURSOR] = "";
    int64_t before = time_now_ms();
    event_t *old = ev_typed("email.sent", 1000, MILTER_SENT("QOLD", "r@x"));
    json_t *rec;
    size_t deleted, total = 0;
    mh_err_t err;

    ck_assert_int_eq(append1(old, 0), ENRICH_KEEP);
    put_record("QLEGACY", "{\"milter\":true,\"t\":1000}");
    do { /* retention of a day: the bound is far after the message's time */
        ck_assert_int_eq(enrich_expire(st, before - 86400000LL, cursor, 100, &deleted, &err), 0);
        total += deleted;
    } while (cursor[0]);
    ck_assert_uint_eq(total, 3); /* QLEGACY and the setup's two without either */
    rec = record_of("QOLD");
    ck_assert_ptr_nonnull(rec);
    ck_assert_int_eq(json_integer_value(json_object_get(rec, "t")), 1000);
    ck_assert_int_ge(json_integer_value(json_object_get(rec, "stored")), before);
    json_decref(rec);
    ck_assert_ptr_null(record_of("QLEGACY"));
    event_free(old);
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
    tcase_add_test(tc, test_expire_by_stored);
    tcase_add_test(tc, test_late_milter_sent);
    tcase_add_test(tc, test_outcome_not_before_sent);
    tcase_add_test(tc, test_hold_until_record);
    tcase_add_test(tc, test_hold_expires);
    tcase_add_test(tc, test_record_under_later_leg);
    tcase_add_test(tc, test_late_milter_by_message_id);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
