/*
 * admin_replay.c - the delivery log and replay admin commands
 * (deliveries.list, deliveries.show, deliveries.retry, replay; see
 * admin_proto.h).
 *
 * Requeued events go through fanout_push() in the command's transaction,
 * so the engine sees them once they are committed, like fresh events.
 * Replay works in chunks of REPLAY_CHUNK events, one transaction and one
 * answer each; the client repeats with the cursor it got, so the store
 * thread is never held for long and progress can be shown.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_delivery.h"
#include "delivery.h"
#include "timeutil.h"
#include "xalloc.h"

#define REPLAY_CHUNK 5000
#define LIST_DEFAULT 100
#define LIST_MAX 100000

/* ---- deliveries.list */

struct dlist_ctx {
    const char *endpoint;
    bool failed;
    size_t limit;
    json_t *ring; /* the last `limit` matches */
    size_t matched;
};

static int dlist_one(void *ctx, const char *key, const void *val, size_t len)
{
    struct dlist_ctx *lc = ctx;
    json_t *rec = json_loadb(val, len, 0, NULL);
    const char *ep;

    if (rec == NULL)
        return 0;
    ep = json_string_value(json_object_get(rec, "endpoint"));
    if ((lc->endpoint && (ep == NULL || strcmp(ep, lc->endpoint) != 0)) ||
        (lc->failed && json_is_true(json_object_get(rec, "ok")))) {
        json_decref(rec);
        return 0;
    }
    json_object_del(rec, "response");
    json_object_del(rec, "url");
    if (json_array_size(lc->ring) == lc->limit)
        json_array_remove(lc->ring, 0);
    json_array_append_new(lc->ring, rec);
    lc->matched++;
    return 0;
}

static json_t *deliveries_list(daemon_t *d, store_t *st, json_t *req)
{
    struct dlist_ctx lc = { .ring = json_array() };
    json_int_t limit = LIST_DEFAULT, since = 0;
    char from[EVID_SIZE] = DELIVERY_ID_PREFIX, t[EVID_TIME_SIZE];
    int failed = 0;
    mh_err_t err;

    if (json_unpack(req, "{s?s,s?b,s?I,s?I}", "endpoint", &lc.endpoint, "failed", &failed,
                    "since", &since, "limit", &limit) < 0 ||
        limit < 1 || limit > LIST_MAX) {
        json_decref(lc.ring);
        return admin_error("bad_request", "deliveries.list: bad arguments (limit 1..%d)",
                           LIST_MAX);
    }
    lc.failed = failed;
    lc.limit = (size_t)limit;
    if (since > 0) { /* ids sort by time: start at the id prefix of since */
        evid_time_prefix(t, since);
        snprintf(from, sizeof(from), "%s%s", DELIVERY_ID_PREFIX, t);
    }
    if (store_kv_scan(st, STORE_DELIVERIES, from, dlist_one, &lc, &err) < 0) {
        json_decref(lc.ring);
        return admin_error("internal", "%s", err.text);
    }
    return json_pack("{s:b,s:o,s:b}", "ok", 1, "deliveries", lc.ring, "truncated",
                     lc.matched > lc.limit);
}

/* ---- deliveries.show / deliveries.retry */

static json_t *delivery_load(store_t *st, json_t *req, json_t **fail)
{
    const char *id = NULL;
    char shown[72];
    json_t *rec;
    mh_err_t err;
    size_t len;
    void *val;
    int rc;

    if (json_unpack(req, "{s:s}", "id", &id) < 0) {
        *fail = admin_error("bad_request", "the request needs a delivery \"id\"");
        return NULL;
    }
    if ((rc = store_kv_get(st, STORE_DELIVERIES, id, &val, &len, &err)) != 0) {
        *fail = rc == 1 ? admin_error("not_found", "no delivery %s (or it has expired)",
                                      printable(shown, sizeof(shown), id, strlen(id)))
                        : admin_error("internal", "%s", err.text);
        return NULL;
    }
    rec = json_loadb(val, len, 0, NULL);
    free(val);
    if (rec == NULL)
        *fail = admin_error("internal", "delivery %s: record is not valid JSON",
                            printable(shown, sizeof(shown), id, strlen(id)));
    return rec;
}

static json_t *deliveries_show(daemon_t *d, store_t *st, json_t *req)
{
    json_t *fail = NULL, *rec = delivery_load(st, req, &fail);

    return rec ? json_pack("{s:b,s:o}", "ok", 1, "delivery", rec) : fail;
}

static json_t *deliveries_retry(daemon_t *d, store_t *st, json_t *req)
{
    json_t *fail = NULL, *rec = delivery_load(st, req, &fail), *ids, *id;
    const char *name;
    endpoint_t *ep;
    store_txn_t *txn;
    struct blob *b;
    uint64_t seq;
    size_t i, n = 0;
    mh_err_t err;
    int rc = 0, rc2;

    if (rec == NULL)
        return fail;
    name = json_string_value(json_object_get(rec, "endpoint"));
    ids = json_object_get(rec, "events");
    if (json_is_true(json_object_get(rec, "test"))) {
        json_decref(rec);
        return admin_error("bad_request", "a test send is not queued: send it again with "
                           "\"mailhookctl endpoint test\"");
    }
    if (name == NULL || (ep = admin_endpoint_load(st, name, &err)) == NULL) {
        json_decref(rec);
        return admin_error("not_found", "the endpoint of this delivery is gone");
    }
    endpoint_free(ep);
    if ((txn = store_begin(st, &err)) == NULL) {
        json_decref(rec);
        return admin_error("internal", "%s", err.text);
    }
    json_array_foreach(ids, i, id) {
        if (rc < 0 || !json_is_string(id) ||
            store_event_find(st, json_string_value(id), &seq, &err) != 0 ||
            (b = blob_load(st, seq, &rc2, &err)) == NULL)
            continue; /* expired meanwhile */
        rc = fanout_push(d->fanout, txn, name, seq, b, &err);
        blob_unref(b);
        n += rc == 0;
    }
    json_decref(rec);
    if (rc < 0) {
        store_abort(txn);
        return admin_error("internal", "%s", err.text);
    }
    if (store_commit(txn, &err) < 0)
        return admin_error("internal", "%s", err.text);
    return json_pack("{s:b,s:I}", "ok", 1, "requeued", (json_int_t)n);
}

/* ---- replay */

struct replay_ctx {
    daemon_t *d;
    store_t *st;
    store_txn_t *txn;       /* NULL: count only */
    const endpoint_t **eps; /* the endpoints replayed to */
    size_t neps;
    size_t matched, enqueued, seen;
    int64_t last_ts;
    uint64_t last_seq;
    int rc;
    mh_err_t err;
};

static int replay_one(void *ctx, uint64_t seq, const char *json, size_t len)
{
    struct replay_ctx *rc = ctx;
    const char *id, *type, *ts;
    json_t *ev, *data;
    struct blob *b = NULL;
    int64_t ms = 0;

    rc->seen++;
    rc->last_seq = seq;
    ev = json_loadb(json, len, 0, NULL);
    if (ev == NULL || json_unpack(ev, "{s:s,s:s,s:s,s:o}", "id", &id, "type", &type, "timestamp",
                                  &ts, "data", &data) < 0) {
        json_decref(ev);
        return 0;
    }
    time_parse_rfc3339(ts, &ms, NULL);
    rc->last_ts = ms;
    rc->matched++;
    for (size_t i = 0; rc->txn && i < rc->neps && rc->rc == 0; i++) {
        if (!endpoint_matches(rc->eps[i], type, data))
            continue;
        if (b == NULL)
            b = blob_new(id, type, ms, json, len);
        if ((rc->rc = fanout_push(rc->d->fanout, rc->txn, rc->eps[i]->name, seq, b,
                                  &rc->err)) == 0)
            rc->enqueued++;
    }
    blob_unref(b);
    json_decref(ev);
    return rc->rc < 0;
}

/* The endpoints to replay to: the one named (enabled), or every enabled one. */
static json_t *replay_targets(daemon_t *d, json_t *req, struct replay_ctx *rc)
{
    const char *name = json_string_value(json_object_get(req, "endpoint"));
    size_t n = fanout_endpoint_count(d->fanout);
    char shown[72];

    rc->eps = xcalloc(n ? n : 1, sizeof(*rc->eps));
    for (size_t i = 0; i < n; i++) {
        const endpoint_t *ep = fanout_endpoint(d->fanout, i);

        if (name == NULL || strcmp(ep->name, name) == 0)
            rc->eps[rc->neps++] = ep;
    }
    if (name && rc->neps == 0)
        return admin_error("not_found", "no enabled endpoint %s",
                           printable(shown, sizeof(shown), name, strlen(name)));
    return NULL;
}

static json_t *replay(daemon_t *d, store_t *st, json_t *req)
{
    struct replay_ctx rc = { .d = d, .st = st };
    struct store_query q = { 0 };
    json_int_t since = 0, until = 0, cts = 0, cseq = 0;
    json_t *fail, *cursor = NULL;
    const char *endpoint = NULL;
    int count_only = 0;

    if (json_unpack(req, "{s:I,s?I,s?s,s?s,s?o,s?b}", "since", &since, "until", &until, "type",
                    &q.type, "endpoint", &endpoint, "cursor", &cursor,
                    "count_only", &count_only) < 0 ||
        (cursor && !json_is_null(cursor) &&
         json_unpack(cursor, "{s:I,s:I}", "ts", &cts, "seq", &cseq) < 0))
        return admin_error("bad_request", "replay needs \"since\" (ms); cursor is {ts, seq}");
    if ((fail = replay_targets(d, req, &rc)) != NULL) {
        free(rc.eps);
        return fail;
    }
    q.since_ms = cts ? cts : since;
    q.start_seq = (uint64_t)cseq;
    q.until_ms = until;
    q.limit = count_only ? 0 : REPLAY_CHUNK;
    if (!count_only && (rc.txn = store_begin(st, &rc.err)) == NULL) {
        free(rc.eps);
        return admin_error("internal", "%s", rc.err.text);
    }
    if (store_event_scan(st, &q, replay_one, &rc, &rc.err) < 0 || rc.rc < 0) {
        store_abort(rc.txn);
        free(rc.eps);
        return admin_error("internal", "%s", rc.err.text);
    }
    free(rc.eps);
    if (rc.txn && store_commit(rc.txn, &rc.err) < 0)
        return admin_error("internal", "%s", rc.err.text);
    return json_pack("{s:b,s:I,s:I,s:o}", "ok", 1, "matched", (json_int_t)rc.matched, "enqueued",
                     (json_int_t)rc.enqueued, "cursor",
                     !count_only && rc.seen == REPLAY_CHUNK
                         ? json_pack("{s:I,s:I}", "ts", (json_int_t)rc.last_ts, "seq",
                                     (json_int_t)(rc.last_seq + 1))
                         : json_null());
}

const struct admin_command admin_replay_commands[] = {
    { "deliveries.list", NULL, deliveries_list, NULL },
    { "deliveries.show", NULL, deliveries_show, NULL },
    { "deliveries.retry", NULL, deliveries_retry, NULL },
    { "replay", NULL, replay, NULL },
    { NULL, NULL, NULL, NULL },
};
