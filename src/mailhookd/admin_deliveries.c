/* SPDX-License-Identifier: MIT */
/*
 * admin_deliveries.c - the deliveries.* admin commands (deliveries.list,
 * deliveries.show, deliveries.retry; see admin_deliveries.h and
 * admin_proto.h): the delivery log, read on the store thread.
 *
 * A retry queues the record's events again through fanout_push() in the
 * command's transaction, so the engine sees them once they are committed,
 * like fresh events.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_deliveries.h"
#include "endpoint_store.h"
#include "timeutil.h"
#include "xalloc.h"

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

static json_t *deliveries_list(const struct admin_env *env, struct admin_job *job,
                               store_t *st, json_t *req)
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

static json_t *deliveries_load(store_t *st, json_t *req, json_t **fail)
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

static json_t *deliveries_show(const struct admin_env *env, struct admin_job *job,
                               store_t *st, json_t *req)
{
    json_t *fail = NULL, *rec = deliveries_load(st, req, &fail);

    return rec ? json_pack("{s:b,s:o}", "ok", 1, "delivery", rec) : fail;
}

static json_t *deliveries_retry(const struct admin_env *env, struct admin_job *job,
                                store_t *st, json_t *req)
{
    json_t *fail = NULL, *rec = deliveries_load(st, req, &fail), *ids, *id;
    const char *name;
    endpoint_t *ep;
    store_txn_t *txn;
    struct fanout_blob *b;
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
    if (name == NULL || endpoint_store_load(st, name, &ep, &err) != 0) {
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
            (b = fanout_blob_load(st, seq, &rc2, &err)) == NULL)
            continue; /* expired meanwhile */
        rc = fanout_push(env->fanout, txn, name, seq, b, &err);
        fanout_blob_unref(b);
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

const struct admin_command admin_deliveries_commands[] = {
    { "deliveries.list", NULL, deliveries_list, NULL },
    { "deliveries.show", NULL, deliveries_show, NULL },
    { "deliveries.retry", NULL, deliveries_retry, NULL },
    { NULL, NULL, NULL, NULL },
};
