/* SPDX-License-Identifier: MIT */
/*
 * delivery_store.c - the delivery engine's store jobs (delivery.h): save
 * queue changes, log records and endpoint health (one transaction per loop
 * round, or fewer: the rounds that ran while the last transaction was
 * being saved go together), load the endpoints at start, read back an
 * endpoint's queue backlog, expire the delivery log.
 *
 * Each job's work runs on the store thread and touches only the store, the
 * fan-out's endpoint list (store-thread owned) and the job; its done runs on
 * the loop thread and hands results to the engine (delivery.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cjson.h"
#include "delivery_int.h"
#include "endpoint_store.h"
#include "storeq.h"
#include "timeutil.h"
#include "xalloc.h"

/* ---- queue changes, log records, health: one transaction */

enum dl_op_kind { OP_REMOVE, OP_UPDATE, OP_LOG, OP_HEALTH };

struct dl_op {
    enum dl_op_kind kind;
    char endpoint[EP_NAME_MAX + 1];
    uint64_t seq;
    struct fanout_qentry entry; /* OP_UPDATE */
    char *key;           /* OP_LOG */
    char *text;          /* OP_LOG: record; OP_HEALTH: the "health" object */
};

struct dl_ops {
    struct dl_op *v;
    size_t n, size;
    /* job */
    delivery_t *dl;
    fanout_t *fanout;
    int rc;
    bool full;     /* the store is out of space */
    bool log_lost; /* saved without the log records, for lack of space */
    mh_err_t err;
};

struct dl_ops *dl_ops_new(void)
{
    return xcalloc(1, sizeof(struct dl_ops));
}

void dl_ops_free(struct dl_ops *ops)
{
    for (size_t i = 0; i < ops->n; i++) {
        free(ops->v[i].key);
        free(ops->v[i].text);
    }
    free(ops->v);
    free(ops);
}

bool dl_ops_empty(const struct dl_ops *ops)
{
    return ops->n == 0;
}

static struct dl_op *dl_ops_add(struct dl_ops *ops, enum dl_op_kind kind, const char *endpoint)
{
    struct dl_op *op;

    if (ops->n == ops->size) {
        ops->size = ops->size ? ops->size * 2 : 64;
        ops->v = xreallocarray(ops->v, ops->size, sizeof(*ops->v));
    }
    op = &ops->v[ops->n++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    if (endpoint) { /* names are at most EP_NAME_MAX (endpoint.h) */
        size_t len = strnlen(endpoint, EP_NAME_MAX);

        memcpy(op->endpoint, endpoint, len);
        op->endpoint[len] = 0;
    }
    return op;
}

void dl_ops_remove(struct dl_ops *ops, const char *endpoint, uint64_t seq)
{
    dl_ops_add(ops, OP_REMOVE, endpoint)->seq = seq;
}

void dl_ops_update(struct dl_ops *ops, const char *endpoint, uint64_t seq, int attempts,
                   int64_t next_ms)
{
    struct dl_op *op = dl_ops_add(ops, OP_UPDATE, endpoint);

    op->seq = seq;
    op->entry.attempts = attempts;
    op->entry.next_ms = next_ms;
}

void dl_ops_log(struct dl_ops *ops, const char *id, char *record)
{
    struct dl_op *op = dl_ops_add(ops, OP_LOG, NULL);

    op->key = xstrdup(id);
    op->text = record;
}

void dl_ops_health(struct dl_ops *ops, const endpoint_t *ep)
{
    struct dl_op *op = dl_ops_add(ops, OP_HEALTH, ep->name);
    json_t *full = endpoint_to_json(ep, 0);
    size_t len;

    op->text = cjson_dump(json_object_get(full, "health"), &len);
    json_decref(full);
}

/* Store thread: the health object of an op into the endpoint's record.
 * The record may have changed meanwhile (an admin command); only health
 * is the engine's. */
static int dl_op_health_save(store_t *st, store_txn_t *txn, fanout_t *fo, const struct dl_op *op,
                             mh_err_t *err)
{
    json_t *health = json_loads(op->text, 0, NULL);
    json_t *change = json_pack("{s:o}", "health", health);
    endpoint_t *ep;
    int rc;

    if ((rc = endpoint_store_load(st, op->endpoint, &ep, err)) != 0) {
        json_decref(change);
        return rc < 0 ? -1 : 0; /* absent: removed meanwhile; unusable: not ours to mend */
    }
    rc = endpoint_store_change(st, txn, fo, ep, change, false, NULL, err);
    endpoint_free(ep);
    json_decref(change);
    return rc;
}

static int dl_op_apply(store_t *st, store_txn_t *txn, fanout_t *fo, const struct dl_op *op,
                       mh_err_t *err)
{
    unsigned char buf[FANOUT_QENTRY_LEN];

    switch (op->kind) {
    case OP_REMOVE:
        return store_queue_remove(txn, op->endpoint, op->seq, err);
    case OP_UPDATE:
        fanout_qentry_encode(&op->entry, buf);
        return store_queue_push(txn, op->endpoint, op->seq, buf, sizeof(buf), err);
    case OP_LOG:
        return store_kv_put(txn, STORE_DELIVERIES, op->key, op->text, strlen(op->text), err);
    case OP_HEALTH:
        return dl_op_health_save(st, txn, fo, op, err);
    }
    return 0;
}

/* The ops in one transaction; with_log false leaves out the log records. */
static int dl_ops_save(store_t *st, struct dl_ops *ops, bool with_log)
{
    store_txn_t *txn = store_begin(st, &ops->err);
    int rc = txn ? 0 : -1;

    for (size_t i = 0; rc == 0 && i < ops->n; i++)
        if (with_log || ops->v[i].kind != OP_LOG)
            rc = dl_op_apply(st, txn, ops->fanout, &ops->v[i], &ops->err);
    if (rc < 0) {
        store_abort(txn);
        return -1;
    }
    return store_commit(txn, &ops->err);
}

static void dl_ops_work(store_t *st, void *ctx)
{
    struct dl_ops *ops = ctx;

    ops->rc = dl_ops_save(st, ops, true);
    /* Out of space: removing queue entries needs little more than log, so
     * try the queue changes alone, lest what went out be sent again after a
     * restart; this round's delivery log records are lost then. */
    if (ops->rc < 0 && store_space_full(st) && dl_ops_save(st, ops, false) == 0) {
        ops->rc = 0;
        ops->log_lost = true;
    }
    ops->full = store_space_full(st);
}

/* Loop thread: removed entries are no longer held. If the transaction
 * failed they stay in the store and are delivered again after a restart
 * (at least once); the engine's memory keeps nothing of them. */
static void dl_ops_done(void *ctx)
{
    struct dl_ops *ops = ctx;
    delivery_t *dl = ops->dl;
    struct dl_ep *dep = NULL;

    if (ops->rc < 0 && (!ops->full || !dl->ops_full_warned))
        msg_warn("delivery: saving %zu queue changes failed: %s%s", ops->n, ops->err.text,
                 ops->full ? " (not said again while the store is out of space; what was "
                             "delivered meanwhile is sent again after a restart)" : "");
    if (ops->log_lost && !dl->ops_full_warned)
        msg_warn("delivery: out of space: queue changes saved without their delivery log "
                 "records while it lasts");
    if (!ops->full)
        dl->ops_full_warned = false;
    else if (ops->rc < 0 || ops->log_lost)
        dl->ops_full_warned = true;
    for (size_t i = 0; i < ops->n; i++) {
        const struct dl_op *op = &ops->v[i];

        if (op->kind != OP_REMOVE)
            continue;
        if (dep == NULL || strcmp(dep->ep->name, op->endpoint) != 0)
            dep = dl_ep_find(dl, op->endpoint); /* runs of one endpoint: look up once */
        if (dep)
            seqset_del(&dep->held, op->seq);
    }
    dl->jobs--;
    dl->ops_saving = false;
    dl_ops_free(ops);
    delivery_kick_scans(dl);
}

void dl_ops_submit(delivery_t *dl)
{
    struct dl_ops *ops = dl->ops;

    dl->ops = dl_ops_new();
    ops->dl = dl;
    ops->fanout = dl->fanout;
    dl->jobs++;
    dl->ops_saving = true;
    storeq_submit(dl->storeq, dl_ops_work, dl_ops_done, ops);
}

/* ---- start: endpoints (config-declared ones synced first) */

struct load_job {
    delivery_t *dl;
    bool reload;
    fanout_t *fanout;
    json_t *declared; /* the config file's endpoints, as endpoint JSON */
    endpoint_t **eps;
    size_t neps;
    int rc;
    mh_err_t err;
};

static int load_one(void *ctx, const char *key, const void *val, size_t len)
{
    struct load_job *j = ctx;
    json_t *obj = json_loadb(val, len, 0, NULL);
    endpoint_t *ep = obj ? endpoint_from_json(obj, &j->err) : NULL;

    json_decref(obj);
    if (ep == NULL) {
        msg_warn("delivery: stored endpoint %s is unusable, skipped: %s", key, j->err.text);
        return 0;
    }
    fanout_set_endpoint(j->fanout, ep);
    j->eps = xreallocarray(j->eps, j->neps + 1, sizeof(*j->eps));
    j->eps[j->neps++] = ep;
    return 0;
}

static void load_work(store_t *st, void *ctx)
{
    struct load_job *j = ctx;

    j->rc = endpoint_store_sync(st, j->fanout, j->declared, &j->err);
    if (j->rc < 0)
        msg_warn("delivery: endpoints from the configuration: %s", j->err.text);
    j->rc = store_kv_scan(st, STORE_ENDPOINTS, NULL, load_one, j, &j->err);
}

static void load_done(void *ctx)
{
    struct load_job *j = ctx;
    delivery_t *dl = j->dl;

    if (j->rc < 0)
        msg_warn("delivery: cannot read the endpoints: %s", j->err.text);
    for (size_t i = 0; i < j->neps; i++) {
        delivery_endpoint_set(dl, j->eps[i], j->reload);
        endpoint_free(j->eps[i]);
    }
    free(j->eps);
    json_decref(j->declared);
    dl->jobs--;
    dl->started = true;
    if (!j->reload)
        msg_info("delivery: %zu endpoints", j->neps);
    free(j);
    delivery_kick_scans(dl);
}

void dl_load_endpoints(delivery_t *dl, bool reload)
{
    struct load_job *j = xcalloc(1, sizeof(*j));

    j->dl = dl;
    j->reload = reload;
    j->fanout = dl->fanout;
    j->declared = endpoint_store_declared_all(dl->conf);
    dl->jobs++;
    storeq_submit(dl->storeq, load_work, load_done, j);
}

/* ---- backlog: an endpoint's queue entries from a sequence number on */

struct scan_entry {
    uint64_t seq;
    struct fanout_qentry e;
    struct fanout_blob *blob;
};

struct scan_job {
    struct dl_ep *dep;
    unsigned memgen;
    char endpoint[EP_NAME_MAX + 1];
    uint64_t from, last;
    size_t limit, seen;
    struct scan_entry *v;
    size_t n;
    uint64_t *missing; /* entries whose event is gone or unreadable */
    size_t nmissing, dropped; /* dropped: those removed from the queue */
    int rc;
    mh_err_t err;
};

static int scan_one(void *ctx, uint64_t seq, const void *entry, size_t len)
{
    struct scan_job *j = ctx;
    struct scan_entry *se;

    j->seen++;
    j->last = seq;
    j->v = xreallocarray(j->v, j->n + 1, sizeof(*j->v));
    se = &j->v[j->n];
    se->seq = seq;
    se->blob = NULL;
    if (fanout_qentry_decode(entry, len, &se->e) < 0) {
        msg_warn("delivery: %s: malformed queue entry #%llu, sending it again", j->endpoint,
                 (unsigned long long)seq);
        se->e.attempts = 0;
        se->e.next_ms = 0;
    }
    j->n++;
    return 0;
}

static void scan_work(store_t *st, void *ctx)
{
    struct scan_job *j = ctx;
    store_txn_t *txn;
    size_t kept = 0;
    int rc;

    j->rc = store_queue_scan(st, j->endpoint, j->from, j->limit, scan_one, j, &j->err);
    for (size_t i = 0; j->rc == 0 && i < j->n; i++) {
        j->v[i].blob = fanout_blob_load(st, j->v[i].seq, &rc, &j->err);
        if (rc < 0) {
            j->rc = -1;
        } else if (rc == 1) {
            j->missing = xreallocarray(j->missing, j->nmissing + 1, sizeof(*j->missing));
            j->missing[j->nmissing++] = j->v[i].seq;
        } else {
            j->v[kept++] = j->v[i];
        }
    }
    j->n = kept;
    if (j->rc == 0 && j->nmissing > 0 && (txn = store_begin(st, &j->err)) != NULL) {
        for (size_t i = 0; i < j->nmissing; i++)
            store_queue_remove(txn, j->endpoint, j->missing[i], &j->err);
        if (store_commit(txn, &j->err) < 0)
            msg_warn("delivery: %s: %s", j->endpoint, j->err.text);
        else
            j->dropped = j->nmissing;
    }
}

static void scan_done(void *ctx)
{
    struct scan_job *j = ctx;
    struct dl_ep *dep = j->dep;
    bool stale = dep->gone || dep->memgen != j->memgen;

    if (j->rc < 0)
        msg_warn("delivery: %s: reading the queue: %s", j->endpoint, j->err.text);
    /* Retention keeps queued events (store_event_expire): a record that is
     * gone or unreadable all the same is a drop, counted. */
    if (j->dropped > 0)
        msg_warn("delivery: %s: %zu queued events dropped: gone from the store or unreadable",
                 j->endpoint, j->dropped);
    dep->dl->dropped_missing += j->dropped;
    for (size_t i = 0; i < j->n; i++) {
        if (stale || j->rc < 0)
            fanout_blob_unref(j->v[i].blob);
        else
            dl_ep_add_loaded(dep, j->v[i].seq, j->v[i].blob, j->v[i].e.attempts,
                             j->v[i].e.next_ms);
    }
    dep->dl->jobs--;
    if (stale || j->rc < 0) {
        dep->scanning = false;
        dl_ep_free_if_gone(dep);
    } else {
        dl_ep_scan_done(dep, j->seen < j->limit, j->seen ? j->last + 1 : j->from);
    }
    free(j->v);
    free(j->missing);
    free(j);
}

void dl_scan(struct dl_ep *dep, size_t limit)
{
    struct scan_job *j = xcalloc(1, sizeof(*j));

    j->dep = dep;
    j->memgen = dep->memgen;
    snprintf(j->endpoint, sizeof(j->endpoint), "%s", dep->ep->name);
    j->from = dep->scan_from;
    j->limit = limit ? limit : 1;
    dep->dl->jobs++;
    storeq_submit(dep->dl->storeq, scan_work, scan_done, j);
}

/* ---- delivery log retention */

struct expire_job {
    delivery_t *dl;
    char bound[EVID_SIZE];
    size_t deleted;
    int rc;
    mh_err_t err;
};

static void expire_work(store_t *st, void *ctx)
{
    struct expire_job *j = ctx;

    j->rc = store_kv_expire(st, STORE_DELIVERIES, j->bound, 10000, &j->deleted, &j->err);
}

static void expire_done(void *ctx)
{
    struct expire_job *j = ctx;

    if (j->rc < 0)
        msg_warn("delivery log retention: %s", j->err.text);
    j->dl->ctr->deliveries_expired += j->deleted;
    j->dl->jobs--;
    free(j);
}

/* Delivery ids sort by time: the bound is the id prefix of the cutoff. */
void dl_expire_log(delivery_t *dl)
{
    struct expire_job *j = xcalloc(1, sizeof(*j));
    char t[EVID_TIME_SIZE];

    evid_time_prefix(t, time_now_ms() - dl->log_days * 86400000LL);
    snprintf(j->bound, sizeof(j->bound), "%s%s", DELIVERY_ID_PREFIX, t);
    j->dl = dl;
    dl->jobs++;
    storeq_submit(dl->storeq, expire_work, expire_done, j);
}
