/* SPDX-License-Identifier: MIT */
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
#include "timeutil.h"
#include "xalloc.h"

/* The members an event takes from the message record. */
static const char *const enrich_members[] = { "subject", "tags", "metadata", "tenant",
                                              "message_id", NULL };

static const char *enrich_qid(const event_t *ev)
{
    const char *qid = json_string_value(json_object_get(ev->data, "queue_id"));

    return qid && qid[0] ? qid : NULL;
}

/* The later leg of the event's chain (enrich.h), NULL when none. */
static const char *enrich_leg(const event_t *ev)
{
    const char *q = json_string_value(json_object_get(ev->data, "reinjected_queue_id"));
    const char *qid = enrich_qid(ev);

    return q && q[0] && qid && strcmp(q, qid) != 0 ? q : NULL;
}

/* The stored record of qid as a JSON object, or NULL (none, a store
 * error or a malformed record: both logged). */
static json_t *enrich_record_load(store_t *st, const char *qid)
{
    void *val = NULL;
    size_t len;
    json_t *rec;
    mh_err_t err;
    char shown[44];
    int rc = store_kv_get(st, STORE_MESSAGES, qid, &val, &len, &err);

    if (rc != 0) {
        if (rc < 0)
            msg_warn("enrich: %s", err.text);
        return NULL;
    }
    rec = json_loadb(val, len, 0, NULL);
    free(val);
    if (!json_is_object(rec)) {
        msg_warn("enrich: message record of %s is not a JSON object", /* qid: a producer's */
                 printable(shown, sizeof(shown), qid, strlen(qid)));
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

static bool enrich_is_sent(const event_t *ev)
{
    return strcmp(ev->type, EV_SENT) == 0;
}

static bool enrich_from_milter(const event_t *ev)
{
    return enrich_is_sent(ev) && json_is_true(json_object_get(ev->data, "milter"));
}

/* Save rec under qid, with "stored": now (retention counts from it). */
static int enrich_record_put(store_txn_t *txn, const char *qid, json_t *rec, mh_err_t *err)
{
    size_t len;
    char *text;
    int rc;

    json_object_set_new(rec, "stored", json_integer(time_now_ms()));
    text = cjson_dump(rec, &len);
    rc = store_kv_put(txn, STORE_MESSAGES, qid, text, len, err);

    free(text);
    return rc;
}

/* Does the record's "sent" list (the recipients whose email.sent went out
 * from the log) name the event's recipient? */
static bool enrich_sent_listed(const json_t *rec, const event_t *ev)
{
    const char *rcpt = json_string_value(json_object_get(ev->data, "recipient"));
    json_t *sent = json_object_get(rec, "sent"), *v;
    size_t i;

    if (rcpt == NULL)
        return false;
    json_array_foreach(sent, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), rcpt) == 0)
            return true;
    return false;
}

/* When the milter was last seen (enrich.h: ENRICH_MILTER_KEY), 0 = never. */
static int64_t enrich_milter_seen(store_t *st)
{
    void *val = NULL;
    size_t len;
    mh_err_t err;
    char *end;
    long long t;
    int rc = store_kv_get(st, STORE_CHECKPOINTS, ENRICH_MILTER_KEY, &val, &len, &err);

    if (rc != 0) {
        if (rc < 0)
            msg_warn("enrich: %s", err.text);
        return 0;
    }
    t = strtoll(val, &end, 10);
    if (end == val || t < 0)
        t = 0;
    free(val);
    return t;
}

/* Note that the milter is in use, at most once an hour per the stored value. */
static int enrich_milter_mark(store_t *st, store_txn_t *txn, int64_t now_ms, mh_err_t *err)
{
    char buf[32];
    int len;

    if (enrich_milter_seen(st) >= now_ms - 3600 * 1000LL)
        return 0;
    len = snprintf(buf, sizeof(buf), "%lld", (long long)now_ms);
    return store_kv_put(txn, STORE_CHECKPOINTS, ENRICH_MILTER_KEY, buf, (size_t)len, err);
}

/* The message record of a milter email.sent: the members others take,
 * header_from as "from", "milter": true and the time; what the old record
 * knew of the log's own email.sent ("sent", "waited", and its "t" when
 * the log's email.sent went out first) stays. *late: the log's email.sent
 * for this recipient is already stored. */
static int enrich_record_save(store_t *st, store_txn_t *txn, const char *qid, const event_t *ev,
                              bool *late, mh_err_t *err)
{
    json_t *rec = json_object(), *old = enrich_record_load(st, qid), *v;
    int64_t t = ev->ts_ms;
    int rc;

    *late = false;
    for (int i = 0; enrich_members[i]; i++)
        if ((v = json_object_get(ev->data, enrich_members[i])) != NULL)
            json_object_set(rec, enrich_members[i], v);
    if ((v = json_object_get(ev->data, "header_from")) != NULL)
        json_object_set(rec, "from", v);
    json_object_set_new(rec, "milter", json_true());
    if (old) {
        if ((v = json_object_get(old, "sent")) != NULL) {
            json_object_set(rec, "sent", v);
            if (json_is_integer(json_object_get(old, "t")))
                t = json_integer_value(json_object_get(old, "t"));
        }
        if ((v = json_object_get(old, "waited")) != NULL)
            json_object_set(rec, "waited", v);
        *late = enrich_sent_listed(old, ev);
        json_decref(old);
    }
    /* The log's email.sent may have gone out under an earlier leg before
     * the message reached the milter (an MSP's deferred hand-off): found
     * by its Message-ID (enrich_note_sent). */
    if (!*late && json_is_string(v = json_object_get(ev->data, "message_id")) &&
        (old = enrich_record_load(st, json_string_value(v))) != NULL) {
        const char *first = json_string_value(json_object_get(old, "qid"));
        json_t *frec = first && strcmp(first, qid) != 0 ? enrich_record_load(st, first) : NULL;

        if (frec && enrich_sent_listed(frec, ev)) {
            *late = true;
            if (!json_is_array(json_object_get(rec, "sent")))
                json_object_set_new(rec, "sent", json_array());
            if (!enrich_sent_listed(rec, ev))
                json_array_append(json_object_get(rec, "sent"),
                                  json_object_get(ev->data, "recipient"));
        }
        json_decref(frec);
        json_decref(old);
    }
    json_object_set_new(rec, "t", json_integer(t));
    rc = enrich_record_put(txn, qid, rec, err);
    json_decref(rec);
    return rc < 0 ? -1 : enrich_milter_mark(st, txn, time_now_ms(), err);
}

/* The log's email.sent for a recipient is being stored: list it in the
 * record (made now when there is none), so that neither the milter's
 * email.sent nor the log's, arriving later, makes a second one. */
static int enrich_note_sent(store_t *st, store_txn_t *txn, const char *qid, json_t *rec,
                            const event_t *ev, mh_err_t *err)
{
    json_t *mid, *old = NULL;
    json_t *r = rec ? json_incref(rec) : json_pack("{s:I}", "t", (json_int_t)ev->ts_ms);
    json_t *rcpt = json_object_get(ev->data, "recipient"), *sent;
    int rc;

    if (!json_is_string(rcpt)) {
        json_decref(r);
        return 0;
    }
    if (!json_is_array(sent = json_object_get(r, "sent"))) {
        json_object_set_new(r, "sent", json_array());
        sent = json_object_get(r, "sent");
        /* "t" is the first stored email.sent's, the bound of enrich_append */
        json_object_set_new(r, "t", json_integer(ev->ts_ms));
    }
    json_array_append(sent, rcpt);
    rc = enrich_record_put(txn, qid, r, err);
    json_decref(r);
    /* its Message-ID names the queue id, for a milter that sees a later
     * leg only after this went out (enrich_record_save) */
    mid = json_object_get(ev->data, "message_id");
    if (rc == 0 && json_is_string(mid) && json_string_length(mid) > 0 &&
        json_string_value(mid)[0] == '<' && (old = enrich_record_load(st, json_string_value(mid))) == NULL) {
        r = json_pack("{s:I,s:s}", "t", (json_int_t)ev->ts_ms, "qid", qid);
        rc = enrich_record_put(txn, json_string_value(mid), r, err);
        json_decref(r);
    }
    json_decref(old);
    return rc;
}

/* A later leg's id names the first one its events are held under. */
static int enrich_alias_put(store_txn_t *txn, const char *leg, const char *qid, mh_err_t *err)
{
    char *key = xasprintf("%s%s", ENRICH_ALIAS_PREFIX, leg);
    int rc = store_kv_put(txn, STORE_CHECKPOINTS, key, qid, strlen(qid), err);

    free(key);
    return rc;
}

/* ---- holds: CHECKPOINTS "enrich/hold/QID" = {"until": ms, "events": ["json", ...]} */

static char *enrich_hold_key(const char *qid)
{
    return xasprintf("%s%s", ENRICH_HOLD_PREFIX, qid);
}

/* The hold of qid (a JSON object), NULL when there is none. */
static json_t *enrich_hold_load(store_t *st, const char *key, mh_err_t *err, int *rc)
{
    void *val = NULL;
    size_t len;
    json_t *h;
    char shown[64];

    *rc = store_kv_get(st, STORE_CHECKPOINTS, key, &val, &len, err);
    if (*rc != 0)
        return NULL;
    h = json_loadb(val, len, 0, NULL);
    free(val);
    if (!json_is_array(json_object_get(h, "events"))) { /* unusable: start afresh */
        msg_warn("enrich: hold %s is malformed; dropped", /* key: of a producer's qid */
                 printable(shown, sizeof(shown), key, strlen(key)));
        json_decref(h);
        return NULL;
    }
    return h;
}

/* Add ev to the hold of qid (made when there is none and make is set).
 * 1 = held, 0 = no hold to add to, -1 = store error. */
static int enrich_hold_add(store_t *st, store_txn_t *txn, const char *qid, const event_t *ev,
                           int64_t until_ms, bool make, mh_err_t *err)
{
    char *key = enrich_hold_key(qid), *text;
    int rc;
    json_t *h = enrich_hold_load(st, key, err, &rc);
    size_t len;

    if (rc < 0 || (h == NULL && !make)) {
        free(key);
        return rc < 0 ? -1 : 0;
    }
    if (h == NULL)
        h = json_pack("{s:I,s:[]}", "until", (json_int_t)until_ms, "events");
    text = event_to_json(ev, &len);
    json_array_append_new(json_object_get(h, "events"), json_stringn(text, len));
    free(text);
    text = json_dumps(h, JSON_COMPACT);
    rc = store_kv_put(txn, STORE_CHECKPOINTS, key, text, strlen(text), err);
    free(text);
    free(key);
    json_decref(h);
    return rc < 0 ? -1 : 1;
}

/* Append the hold's events to *evs (parsed back; an unreadable one is
 * logged and skipped) and delete the hold. */
static int enrich_hold_take(store_txn_t *txn, const char *key, json_t *h, event_t ***evs,
                            size_t *n, mh_err_t *err)
{
    json_t *list = json_object_get(h, "events"), *v;
    size_t i;
    event_t *ev;
    mh_err_t perr;
    char shown[64];

    json_array_foreach(list, i, v) {
        if ((ev = event_from_json(json_string_value(v), json_string_length(v), &perr)) == NULL) {
            msg_warn("enrich: %s: held event %zu: %s; dropped",
                     printable(shown, sizeof(shown), key, strlen(key)), i, perr.text);
            continue;
        }
        *evs = xreallocarray(*evs, *n + 1, sizeof(**evs));
        (*evs)[(*n)++] = ev;
    }
    return store_kv_del(txn, STORE_CHECKPOINTS, key, err) < 0 ? -1 : 0;
}

static int enrich_take_held_one(store_t *st, store_txn_t *txn, const char *qid, event_t ***evs,
                                size_t *n, mh_err_t *err)
{
    char *key = enrich_hold_key(qid);
    int rc;
    json_t *h = enrich_hold_load(st, key, err, &rc);

    if (h)
        rc = enrich_hold_take(txn, key, h, evs, n, err);
    json_decref(h);
    free(key);
    return rc < 0 ? -1 : 0;
}

int enrich_take_held(store_t *st, store_txn_t *txn, const char *qid, event_t ***evs, size_t *n,
                     mh_err_t *err)
{
    char *akey = xasprintf("%s%s", ENRICH_ALIAS_PREFIX, qid), *first;
    void *val = NULL;
    size_t len;
    int rc = enrich_take_held_one(st, txn, qid, evs, n, err);

    /* qid a later leg of a chain whose events are held under its first id */
    if (rc == 0 && (rc = store_kv_get(st, STORE_CHECKPOINTS, akey, &val, &len, err)) == 0) {
        first = xstrndup(val, len);
        free(val);
        rc = enrich_take_held_one(st, txn, first, evs, n, err);
        if (rc == 0 && store_kv_del(txn, STORE_CHECKPOINTS, akey, err) < 0)
            rc = -1;
        free(first);
    }
    free(akey);
    return rc < 0 ? -1 : 0;
}

struct hold_scan {
    int64_t now_ms, next_ms;
    size_t max;
    char **keys; /* expired */
    size_t nkeys;
    size_t held; /* holds seen, expired or not */
};

static int hold_scan_one(void *ctx, const char *key, const void *val, size_t len)
{
    struct hold_scan *hs = ctx;
    json_t *h;
    int64_t until;

    if (strncmp(key, ENRICH_HOLD_PREFIX, strlen(ENRICH_HOLD_PREFIX)) != 0)
        return 1; /* past the holds */
    hs->held++;
    h = json_loadb(val, len, 0, NULL);
    until = json_integer_value(json_object_get(h, "until")); /* 0 when malformed: due */
    json_decref(h);
    if (until > hs->now_ms || hs->nkeys == hs->max) {
        if (hs->next_ms == 0 || until < hs->next_ms)
            hs->next_ms = until > hs->now_ms ? until : hs->now_ms;
        return 0;
    }
    hs->keys = xreallocarray(hs->keys, hs->nkeys + 1, sizeof(*hs->keys));
    hs->keys[hs->nkeys++] = xstrdup(key);
    return 0;
}

/* The message's record says the wait was spent: later events of it are
 * not held again. */
static int enrich_mark_waited(store_t *st, store_txn_t *txn, const char *qid, int64_t now_ms,
                              mh_err_t *err)
{
    json_t *rec = enrich_record_load(st, qid);
    int rc;

    if (rec == NULL)
        rec = json_object();
    json_object_set_new(rec, "waited", json_true());
    if (!json_is_integer(json_object_get(rec, "t")))
        json_object_set_new(rec, "t", json_integer(now_ms));
    rc = enrich_record_put(txn, qid, rec, err);
    json_decref(rec);
    return rc;
}

int enrich_take_expired(store_t *st, store_txn_t *txn, int64_t now_ms, size_t max,
                        event_t ***evs, size_t *n, int64_t *next_ms, mh_err_t *err)
{
    struct hold_scan hs = { .now_ms = now_ms, .max = max ? max : 1 };
    int rc = store_kv_scan(st, STORE_CHECKPOINTS, ENRICH_HOLD_PREFIX, hold_scan_one, &hs, err);
    size_t plen = strlen(ENRICH_HOLD_PREFIX);

    for (size_t i = 0; rc == 0 && i < hs.nkeys; i++) {
        json_t *h = enrich_hold_load(st, hs.keys[i], err, &rc);

        if (rc == 0 && h)
            rc = enrich_hold_take(txn, hs.keys[i], h, evs, n, err);
        else if (rc == 0) /* malformed: gone */
            rc = store_kv_del(txn, STORE_CHECKPOINTS, hs.keys[i], err) < 0 ? -1 : 0;
        if (rc == 0)
            rc = enrich_mark_waited(st, txn, hs.keys[i] + plen, now_ms, err);
        json_decref(h);
    }
    for (size_t i = 0; i < hs.nkeys; i++)
        free(hs.keys[i]);
    free(hs.keys);
    *next_ms = hs.next_ms;
    return rc < 0 ? -1 : 0;
}

/* ---- the append path */

int enrich_append(store_t *st, store_txn_t *txn, event_t *ev, mh_err_t *err)
{
    return enrich_append_hold(st, txn, ev, 0, err);
}

int enrich_append_hold(store_t *st, store_txn_t *txn, event_t *ev, int64_t hold_until_ms,
                       mh_err_t *err)
{
    const char *qid = enrich_qid(ev), *leg;
    json_t *rec, *t, *lrec;
    bool late, milter;
    int verdict = ENRICH_KEEP, rc;
    int64_t seen;

    if (qid == NULL)
        return ENRICH_KEEP;
    leg = enrich_from_milter(ev) ? NULL : enrich_leg(ev);
    if (enrich_from_milter(ev)) { /* it carries the record's members itself */
        if (enrich_record_save(st, txn, qid, ev, &late, err) < 0)
            return -1;
        return late ? ENRICH_DROP : ENRICH_KEEP;
    }
    rec = enrich_record_load(st, qid);
    milter = rec && json_is_true(json_object_get(rec, "milter"));
    if (!milter && leg && (lrec = enrich_record_load(st, leg)) != NULL) {
        if (json_is_true(json_object_get(lrec, "milter")) && !enrich_sent_listed(lrec, ev)) {
            /* The milter saw the later leg (Sendmail's MTA behind its MSP):
             * the event goes under the milter's queue id, the first one
             * kept as first_queue_id (enrich.h). */
            json_object_set_new(ev->data, "first_queue_id", json_string(qid));
            json_object_set_new(ev->data, "queue_id", json_string(leg));
            json_object_del(ev->data, "reinjected_queue_id");
            qid = enrich_qid(ev);
            leg = NULL;
            json_decref(rec);
            rec = lrec;
            milter = true;
        } else if (json_is_true(json_object_get(lrec, "milter"))) {
            /* the log's email.sent stood under queue_id: stay there, enriched */
            json_decref(rec);
            rec = lrec;
            milter = true;
            leg = NULL;
        } else {
            json_decref(lrec);
        }
    }
    /* Behind a hold already there, or a new one while the milter is in use
     * and this message has not had its wait yet. No hold can be there for
     * a message whose wait is spent, nor without a milter ever seen (no
     * look-up then: the common case without a milter). */
    if (hold_until_ms > 0 && !milter && !(rec && json_is_true(json_object_get(rec, "waited"))) &&
        (seen = enrich_milter_seen(st)) > 0) {
        bool make = seen >= time_now_ms() - ENRICH_MILTER_RECENT_MS;

        if ((rc = enrich_hold_add(st, txn, qid, ev, hold_until_ms, make, err)) != 0) {
            json_decref(rec);
            /* the milter's record may come under the later leg: it ends
             * this hold too (enrich_take_held) */
            if (rc > 0 && leg && enrich_alias_put(txn, leg, qid, err) < 0)
                rc = -1;
            return rc < 0 ? -1 : ENRICH_HELD;
        }
    }
    if (enrich_is_sent(ev) && milter) {
        verdict = ENRICH_DROP; /* one email.sent per recipient: the milter's came first */
    } else if (enrich_is_sent(ev)) {
        /* The log's own again (a line read twice) has the same id: the
         * store's id check drops it, and counts it as the duplicate it is. */
        if (rec)
            enrich_merge(ev, rec);
        if (!(rec && enrich_sent_listed(rec, ev)) && enrich_note_sent(st, txn, qid, rec, ev, err) < 0)
            verdict = -1;
        /* and under the later leg: the milter's record may come there */
        if (verdict == 0 && leg) {
            json_t *lr = enrich_record_load(st, leg);

            if (!(lr && enrich_sent_listed(lr, ev)) && enrich_note_sent(st, txn, leg, lr, ev, err) < 0)
                verdict = -1;
            json_decref(lr);
        }
    } else if (rec) {
        enrich_merge(ev, rec);
        /* the log has whole seconds, the milter's email.sent milliseconds;
         * a record with neither is only the "waited" mark, its "t" then
         * only for retention */
        t = milter || json_array_size(json_object_get(rec, "sent")) ? json_object_get(rec, "t")
                                                                      : NULL;
        if (json_is_integer(t) && json_integer_value(t) > ev->ts_ms)
            ev->ts_ms = json_integer_value(t);
    }
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
    /* when it was last written; a record written before "stored" was
     * kept: the message's time */
    if (!json_is_integer(t = json_object_get(rec, "stored")))
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
