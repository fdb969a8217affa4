/*
 * enrich.c - merge a message's stored metadata into its events, and keep
 * that metadata when the milter's email.sent is stored (see enrich.h for
 * the record format and the rules).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cjson.h"
#include "enrich.h"
#include "xalloc.h"

/* The members an event takes from the message record. */
static const char *const enrich_members[] = { "subject", "tags", "metadata", "tenant",
                                              "message_id", NULL };

static const char *enrich_qid(const event_t *ev)
{
    const char *qid = json_string_value(json_object_get(ev->data, "queue_id"));

    return qid && qid[0] ? qid : NULL;
}

/* The stored record of qid as a JSON object, or NULL (none, a store
 * error or a malformed record: both logged). */
static json_t *enrich_record_load(store_t *st, const char *qid)
{
    void *val = NULL;
    size_t len;
    json_t *rec;
    mh_err_t err;
    int rc = store_kv_get(st, STORE_MESSAGES, qid, &val, &len, &err);

    if (rc != 0) {
        if (rc < 0)
            msg_warn("enrich: %s", err.text);
        return NULL;
    }
    rec = json_loadb(val, len, 0, NULL);
    free(val);
    if (!json_is_object(rec)) {
        msg_warn("enrich: message record of %.40s is not a JSON object", qid);
        json_decref(rec);
        return NULL;
    }
    return rec;
}

/* The record's members the event does not have yet. */
static void enrich_merge(event_t *ev, const json_t *rec)
{
    json_t *v;
    mh_err_t err;

    for (int i = 0; enrich_members[i]; i++) {
        v = json_object_get(rec, enrich_members[i]);
        if (v && json_object_get(ev->data, enrich_members[i]) == NULL)
            json_object_set(ev->data, enrich_members[i], v);
    }
    /* Records come from our own producers, but keep the canonical promise. */
    if (cjson_normalize(ev->data, &err) < 0)
        msg_warn("enrich: %s", err.text);
}

bool enrich_event(store_t *st, event_t *ev)
{
    const char *qid = enrich_qid(ev);
    json_t *rec = qid ? enrich_record_load(st, qid) : NULL;

    if (rec == NULL)
        return false;
    enrich_merge(ev, rec);
    json_decref(rec);
    return true;
}

/* The message record of a milter email.sent: the members others take,
 * header_from as "from", "milter": true and the time. */
static int enrich_record_save(store_txn_t *txn, const char *qid, const event_t *ev,
                              mh_err_t *err)
{
    json_t *rec = json_object(), *v;
    size_t len;
    char *text;
    int rc;

    for (int i = 0; enrich_members[i]; i++)
        if ((v = json_object_get(ev->data, enrich_members[i])) != NULL)
            json_object_set(rec, enrich_members[i], v);
    if ((v = json_object_get(ev->data, "header_from")) != NULL)
        json_object_set(rec, "from", v);
    json_object_set_new(rec, "milter", json_true());
    json_object_set_new(rec, "t", json_integer(ev->ts_ms));
    text = cjson_dump(rec, &len);
    json_decref(rec);
    rc = store_kv_put(txn, STORE_MESSAGES, qid, text, len, err);
    free(text);
    return rc;
}

static bool enrich_is_sent(const event_t *ev)
{
    return strcmp(ev->type, "email.sent") == 0;
}

static bool enrich_from_milter(const event_t *ev)
{
    return enrich_is_sent(ev) && json_is_true(json_object_get(ev->data, "milter"));
}

int enrich_append(store_t *st, store_txn_t *txn, event_t *ev, mh_err_t *err)
{
    const char *qid = enrich_qid(ev);
    json_t *rec;
    int verdict = ENRICH_KEEP;

    if (qid == NULL)
        return ENRICH_KEEP;
    if (enrich_from_milter(ev)) /* it carries the record's members itself */
        return enrich_record_save(txn, qid, ev, err) < 0 ? -1 : ENRICH_KEEP;
    if ((rec = enrich_record_load(st, qid)) == NULL)
        return ENRICH_KEEP;
    if (enrich_is_sent(ev) && json_is_true(json_object_get(rec, "milter")))
        verdict = ENRICH_DROP;
    else
        enrich_merge(ev, rec);
    json_decref(rec);
    return verdict;
}

/* ---- retention */

struct expire_scan {
    int64_t before_ms;
    size_t max, seen;
    char **old;       /* keys to delete */
    size_t nold;
    char next[ENRICH_CURSOR]; /* where the next call starts; "" = the end */
};

static int expire_one(void *ctx, const char *key, const void *val, size_t len)
{
    struct expire_scan *es = ctx;
    json_t *rec, *t;

    if (es->seen == es->max) {
        snprintf(es->next, sizeof(es->next), "%s", key);
        return 1;
    }
    es->seen++;
    rec = json_loadb(val, len, 0, NULL);
    t = json_object_get(rec, "t");
    if (!json_is_integer(t) || json_integer_value(t) < es->before_ms) {
        es->old = xreallocarray(es->old, es->nold + 1, sizeof(*es->old));
        es->old[es->nold++] = xstrdup(key);
    }
    json_decref(rec);
    return 0;
}

int enrich_expire(store_t *st, int64_t before_ms, char *cursor, size_t max, size_t *deleted,
                  mh_err_t *err)
{
    struct expire_scan es = { .before_ms = before_ms, .max = max ? max : 1 };
    store_txn_t *txn = NULL;
    int rc = store_kv_scan(st, STORE_MESSAGES, cursor[0] ? cursor : NULL, expire_one, &es, err);

    *deleted = 0;
    if (rc == 0 && es.nold > 0 && (txn = store_begin(st, err)) == NULL)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < es.nold; i++)
        if (store_kv_del(txn, STORE_MESSAGES, es.old[i], err) < 0)
            rc = -1;
    if (txn)
        rc = rc == 0 ? store_commit(txn, err) : (store_abort(txn), -1);
    if (rc == 0) {
        *deleted = es.nold;
        memcpy(cursor, es.next, ENRICH_CURSOR);
    }
    for (size_t i = 0; i < es.nold; i++)
        free(es.old[i]);
    free(es.old);
    return rc;
}
