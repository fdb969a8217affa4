/* SPDX-License-Identifier: MIT */
/*
 * append.c - the one path into the store (see append.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "append.h"
#include "enrich.h"
#include "timeutil.h"
#include "xalloc.h"

struct append {
    fanout_t *fanout;          /* store thread: matching and queueing; NULL: none */
    struct mhd_counters *ctr;  /* loop thread */
};

append_t *append_new(fanout_t *fo, struct mhd_counters *ctr)
{
    append_t *a = xcalloc(1, sizeof(*a));

    a->fanout = fo;
    a->ctr = ctr;
    return a;
}

append_t *append_free(append_t *a)
{
    free(a);
    return NULL;
}

/* The queue ids of the milter's email.sent among evs (each once). */
static size_t append_milter_qids(event_t *const *evs, size_t n, const char ***qids)
{
    size_t k = 0, j;
    const char *q;

    *qids = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(evs[i]->type, EV_SENT) != 0 ||
            !json_is_true(json_object_get(evs[i]->data, "milter")) ||
            (q = json_string_value(json_object_get(evs[i]->data, "queue_id"))) == NULL)
            continue;
        for (j = 0; j < k && strcmp((*qids)[j], q) != 0; j++)
            ;
        if (j == k) {
            *qids = xreallocarray(*qids, k + 1, sizeof(**qids));
            (*qids)[k++] = q;
        }
    }
    return k;
}

/* The log events held for the milter's record of these queue ids, which
 * this transaction stored: they go out now, after the batch, enriched. */
static int append_release_held(append_t *a, store_t *st, store_txn_t *txn, event_t *const *evs,
                               size_t n, mh_err_t *err)
{
    const char **qids;
    size_t nq = append_milter_qids(evs, n, &qids), nheld = 0;
    event_t **held = NULL;
    enum store_append_result *res;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < nq; i++)
        rc = enrich_take_held(st, txn, qids[i], &held, &nheld, err);
    if (rc == 0 && nheld > 0) {
        res = xcalloc(nheld, sizeof(*res));
        rc = append_events_txn(a, st, txn, held, nheld, res, err);
        free(res);
    }
    for (size_t i = 0; i < nheld; i++)
        event_free(held[i]);
    free(held);
    free(qids);
    return rc;
}

int append_events_txn(append_t *a, store_t *st, store_txn_t *txn, event_t *const *evs, size_t n,
                      enum store_append_result *res, mh_err_t *err)
{
    return append_log_events_txn(a, st, txn, evs, n, 0, res, err);
}

int append_log_events_txn(append_t *a, store_t *st, store_txn_t *txn, event_t *const *evs,
                          size_t n, int64_t hold_until_ms, enum store_append_result *res,
                          mh_err_t *err)
{
    uint64_t seq;
    size_t len;
    int64_t recv_ms = time_now_ms(); /* one receipt time for the batch */
    char *json;
    int rc;

    if (store_space_check(st, err) < 0) /* full: refused without a try */
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((rc = enrich_append_hold(st, txn, evs[i], hold_until_ms, err)) < 0)
            return -1;
        if (rc == ENRICH_DROP) { /* another email.sent stands for it */
            res[i] = STORE_SUPERSEDED;
            continue;
        }
        if (rc == ENRICH_HELD) { /* in a hold until the milter's record comes */
            res[i] = STORE_HELD;
            continue;
        }
        json = event_to_json(evs[i], &len);
        rc = store_event_append(txn, evs[i]->id, evs[i]->type, evs[i]->ts_ms, recv_ms, json,
                                len, &seq, &res[i], err);
        if (rc == 0 && res[i] == STORE_ADDED && a->fanout)
            rc = fanout_event(a->fanout, txn, evs[i], seq, json, len, err);
        free(json);
        if (rc < 0)
            return -1;
    }
    return append_release_held(a, st, txn, evs, n, err);
}

int append_events(append_t *a, store_t *st, event_t *const *evs, size_t n,
                  enum store_append_result *res, mh_err_t *err)
{
    store_txn_t *txn = store_begin(st, err);

    if (txn == NULL)
        return -1;
    if (append_events_txn(a, st, txn, evs, n, res, err) < 0) {
        store_abort(txn);
        return -1;
    }
    return store_commit(txn, err);
}

void append_count(append_t *a, const enum store_append_result *res, size_t n)
{
    struct mhd_counters *c = a->ctr;

    c->commits++;
    for (size_t i = 0; i < n; i++) {
        if (res[i] == STORE_ADDED)
            c->ingested++;
        else if (res[i] == STORE_SUPERSEDED)
            c->superseded++;
        else if (res[i] == STORE_HELD)
            c->held++;
        else
            c->duplicates++;
    }
}
