/* SPDX-License-Identifier: MIT */
/*
 * admin_backfill.c - the "backfill" admin command (see admin_backfill.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_backfill.h"
#include "cjson.h"
#include "enrich.h"
#include "timeutil.h"
#include "xalloc.h"

struct bf_tally {
    size_t stored, duplicates, superseded, enqueued;
};

/* The enabled endpoint named, or NULL. */
static const endpoint_t *bf_endpoint(fanout_t *fo, const char *name)
{
    for (size_t i = 0; i < fanout_endpoint_count(fo); i++)
        if (strcmp(fanout_endpoint(fo, i)->name, name) == 0)
            return fanout_endpoint(fo, i);
    return NULL;
}

/* One event for endpoint ep only: stored when new, queued for ep if it
 * matches, new or not. */
static int bf_one_for(fanout_t *fo, store_t *st, store_txn_t *txn, const endpoint_t *ep,
                      event_t *ev, struct bf_tally *t, mh_err_t *err)
{
    enum store_append_result res;
    struct fanout_blob *b = NULL;
    uint64_t seq = 0;
    size_t len;
    char *json;
    int rc, rc2;

    if ((rc = enrich_append(st, txn, ev, err)) < 0)
        return -1;
    if (rc == ENRICH_DROP) { /* the milter's email.sent stands for it */
        t->superseded++;
        return 0;
    }
    json = event_to_json(ev, &len);
    rc = store_event_append(txn, ev->id, ev->type, ev->ts_ms, time_now_ms(), json, len, &seq,
                            &res, err);
    if (rc == 0 && res == STORE_ADDED) {
        t->stored++;
        b = fanout_blob_new(ev->id, ev->type, ev->ts_ms, json, len);
    } else if (rc == 0) {
        t->duplicates++;
        /* as stored, which may differ from this copy (enriched then) */
        if ((rc = store_event_find(st, ev->id, &seq, err)) == 0)
            b = fanout_blob_load(st, seq, &rc2, err);
        rc = rc < 0 || (b == NULL && rc2 < 0) ? -1 : 0;
    }
    free(json);
    if (rc == 0 && b && endpoint_matches(ep, ev->type, ev->data)) {
        rc = fanout_push(fo, txn, ep->name, seq, b, err);
        t->enqueued += rc == 0;
    }
    fanout_blob_unref(b);
    return rc;
}

/* Loop thread, before: every event within max_event_size, measured as
 * its JSON text, as on the ingest socket and in the spool. */
static json_t *backfill_check(const struct admin_env *env, json_t *req)
{
    json_t *arr = json_object_get(req, "events"), *e;
    size_t i, len;
    mh_err_t err;
    char *text;

    json_array_foreach(arr, i, e) {
        if ((text = cjson_dump(e, &len)) == NULL)
            continue; /* refused as not serializable by backfill() */
        free(text);
        if (event_size_check(len, (size_t)env->conf->max_event_size, &err) < 0)
            return admin_error("bad_request", "backfill event %zu: %s", i, err.text);
    }
    return NULL;
}

static json_t *backfill(const struct admin_env *env, struct admin_job *job, store_t *st,
                        json_t *req)
{
    json_t *arr = json_object_get(req, "events"), *e;
    const char *name = json_string_value(json_object_get(req, "endpoint"));
    const endpoint_t *ep = NULL;
    struct bf_tally t = { 0 };
    enum store_append_result *res = NULL;
    event_t **evs;
    store_txn_t *txn;
    json_t *fail = NULL;
    size_t n, i, len;
    mh_err_t err;
    char *text, shown[72];
    int rc = 0;

    if (!json_is_array(arr) || (json_object_get(req, "endpoint") && name == NULL))
        return admin_error("bad_request", "backfill needs \"events\" (an array) and an optional "
                                          "\"endpoint\" name");
    if (name && (ep = bf_endpoint(env->fanout, name)) == NULL)
        return admin_error("not_found", "no enabled endpoint %s",
                           printable(shown, sizeof(shown), name, strlen(name)));
    n = json_array_size(arr);
    evs = xcalloc(n ? n : 1, sizeof(*evs));
    json_array_foreach(arr, i, e) {
        if ((text = cjson_dump(e, &len)) == NULL) {
            fail = admin_error("bad_request", "backfill event %zu: not serializable", i);
            goto done;
        }
        evs[i] = event_from_json(text, len, &err);
        free(text);
        if (evs[i] == NULL) {
            fail = admin_error("bad_request", "backfill event %zu: %s", i, err.text);
            goto done;
        }
    }
    if ((txn = store_begin(st, &err)) == NULL) {
        fail = admin_error("internal", "%s", err.text);
        goto done;
    }
    if (ep == NULL) {
        res = xcalloc(n ? n : 1, sizeof(*res));
        rc = append_events_txn(env->append, st, txn, evs, n, res, &err);
        for (i = 0; rc == 0 && i < n; i++) {
            t.stored += res[i] == STORE_ADDED;
            t.superseded += res[i] == STORE_SUPERSEDED;
            t.duplicates += res[i] == STORE_DUPLICATE;
        }
    } else {
        for (i = 0; rc == 0 && i < n; i++)
            rc = bf_one_for(env->fanout, st, txn, ep, evs[i], &t, &err);
    }
    if (rc < 0) {
        store_abort(txn);
        fail = admin_error("internal", "%s", err.text);
    } else if (store_commit(txn, &err) < 0) {
        fail = admin_error("internal", "%s", err.text);
    }
done:
    for (i = 0; i < n; i++)
        event_free(evs[i]);
    free(evs);
    free(res);
    if (fail)
        return fail;
    return json_pack("{s:b,s:I,s:I,s:I,s:I}", "ok", 1, "stored", (json_int_t)t.stored,
                     "duplicates", (json_int_t)t.duplicates, "superseded",
                     (json_int_t)t.superseded, "enqueued", (json_int_t)t.enqueued);
}

/* Loop thread: the daemon's counters, as for events from any producer. */
static bool backfill_finish(const struct admin_env *env, struct admin_job *job, json_t *req,
                            json_t *reply)
{
    env->ctr->commits++;
    env->ctr->ingested += (uint64_t)json_integer_value(json_object_get(reply, "stored"));
    env->ctr->duplicates += (uint64_t)json_integer_value(json_object_get(reply, "duplicates"));
    env->ctr->superseded += (uint64_t)json_integer_value(json_object_get(reply, "superseded"));
    return false;
}

const struct admin_command admin_backfill_commands[] = {
    { "backfill", backfill_check, backfill, backfill_finish },
    { NULL, NULL, NULL, NULL },
};
