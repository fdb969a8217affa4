/* SPDX-License-Identifier: MIT */
/*
 * delivery.c - the delivery engine's scheduling (see delivery.h): which
 * events of which endpoint go out next, what a finished request means for
 * them and for the endpoint's health.
 *
 * Each endpoint keeps a window of its queue in memory: "ready" items (due
 * now, in arrival order) and "waiting" items (retries, due later). Items
 * arrive from fan-out after their transaction committed, or are read back
 * from the store (at start, and whenever the window was full). Every queue
 * change (removed after a 2xx or a give-up, rescheduled after a failure)
 * and every delivery log record is collected and saved by one store job
 * per loop round (delivery_store.c). Health is delivery_health.c. A
 * sequence number stays "held" until its removal is committed, so a scan never reads back an event that was
 * just delivered.
 *
 * The HTTP side (libcurl) is delivery_http.c; it calls dl_req_done().
 * Test sends (endpoint.test) are delivery_test.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery_int.h"
#include "storeq.h"
#include "timeutil.h"
#include "xalloc.h"

#define SCAN_CHUNK 2000
#define RETRY_AFTER_MAX_S 86400
#define EXPIRE_FIRST_MS 10000 /* the first delivery log pass, at the latest */

static void dl_ep_kick(struct dl_ep *dep);
static void dl_kick_all(delivery_t *dl);

/* ---- items */

static struct dl_item *dl_item_new(uint64_t seq, struct fanout_blob *blob, int attempts,
                                   int64_t next_ms)
{
    struct dl_item *it = xcalloc(1, sizeof(*it));

    it->seq = seq;
    it->blob = blob;
    it->attempts = attempts;
    it->next_ms = next_ms;
    it->ready_mono = time_mono_ms();
    return it;
}

void dl_item_free(struct dl_item *it)
{
    free(it->xtype);
    fanout_blob_unref(it->blob);
    free(it);
}

static void dl_items_free(struct dl_items *l)
{
    struct dl_item *it;

    while ((it = STAILQ_FIRST(l)) != NULL) {
        STAILQ_REMOVE_HEAD(l, link);
        dl_item_free(it);
    }
}

/* ---- endpoints */

struct dl_epref *dl_epref_new(endpoint_t *ep)
{
    struct dl_epref *r = xcalloc(1, sizeof(*r));

    r->refs = 1;
    r->ep = ep;
    return r;
}

struct dl_epref *dl_epref_ref(struct dl_epref *r)
{
    r->refs++;
    return r;
}

void dl_epref_unref(struct dl_epref *r)
{
    if (r == NULL || --r->refs > 0)
        return;
    dl_epref_http_free(r);
    dl_programs_free(r);
    endpoint_free(r->ep);
    free(r);
}

/* Replace dep's settings: requests in flight keep the old ones. */
static void dl_ep_settings(struct dl_ep *dep, endpoint_t *ep)
{
    dl_epref_unref(dep->ref);
    dep->ref = dl_epref_new(ep);
    dep->ep = ep;
}

struct dl_ep *dl_ep_find(delivery_t *dl, const char *name)
{
    struct dl_ep *dep;

    LIST_FOREACH(dep, &dl->eps, link)
        if (!dep->gone && strcmp(dep->ep->name, name) == 0)
            return dep;
    return NULL;
}

static bool dl_ep_active(const struct dl_ep *dep)
{
    return !dep->gone && dep->ep->enabled && dep->ep->state != EP_DISABLED;
}

/* A batch the preparation made, waiting for a request slot: the
 * preparation runs up to a window ahead of the requests, so that its
 * thread and libcurl's work at once (dl_ep_kick). */
struct dl_parked {
    STAILQ_ENTRY(dl_parked) link;
    struct dl_item **items;
    size_t n;
    struct dl_made made;
};

void dl_made_free(struct dl_made *m)
{
    free(m->values);
    free(m->body);
    free(m->sig);
    dl_epref_unref(m->ref);
    memset(m, 0, sizeof(*m));
}

/* Forget the parked batches: not sent, their events stay queued in the
 * store and are read again (and prepared again) when needed. */
static void dl_ep_drop_parked(struct dl_ep *dep)
{
    struct dl_parked *pk;

    while ((pk = STAILQ_FIRST(&dep->parked)) != NULL) {
        STAILQ_REMOVE_HEAD(&dep->parked, link);
        for (size_t i = 0; i < pk->n; i++) {
            seqset_del(&dep->held, pk->items[i]->seq);
            dl_item_free(pk->items[i]);
        }
        free(pk->items);
        dl_made_free(&pk->made);
        free(pk);
        dep->preparing--;
        dep->in_flight--;
        dep->dl->in_flight--;
    }
}

/* Forget what is in memory (not in flight): the store still has it. */
void dl_ep_drop_memory(struct dl_ep *dep)
{
    struct dl_items *lists[] = { &dep->ready, &dep->waiting, &dep->pending };
    struct dl_item *it;

    dl_ep_drop_parked(dep);
    for (size_t i = 0; i < 3; i++) {
        STAILQ_FOREACH(it, lists[i], link)
            seqset_del(&dep->held, it->seq);
        dl_items_free(lists[i]);
    }
    dep->nready = dep->nwaiting = dep->npending = 0;
    dep->backlog = true;
    dep->scan_from = 0;
    dep->memgen++;
}

static struct dl_ep *dl_ep_new(delivery_t *dl, const endpoint_t *ep)
{
    struct dl_ep *dep = xcalloc(1, sizeof(*dep));

    dep->dl = dl;
    dl_ep_settings(dep, endpoint_dup(ep));
    STAILQ_INIT(&dep->ready);
    STAILQ_INIT(&dep->waiting);
    STAILQ_INIT(&dep->pending);
    STAILQ_INIT(&dep->parked);
    seqset_init(&dep->held);
    dep->backlog = true; /* whatever the store holds for it */
    LIST_INSERT_HEAD(&dl->eps, dep, link);
    return dep;
}

static void dl_ep_timers_cancel(struct dl_ep *dep)
{
    evloop_t *loop = dep->dl->loop;

    if (dep->wait_timer)
        evloop_timer_cancel(loop, dep->wait_timer);
    if (dep->kick_timer)
        evloop_timer_cancel(loop, dep->kick_timer);
    dep->wait_timer = dep->kick_timer = 0;
    dep->wait_due = 0;
}

/* Unlink and free a removed endpoint once its requests are back. */
void dl_ep_free_if_gone(struct dl_ep *dep)
{
    if (!dep->gone || dep->in_flight > 0 || dep->scanning)
        return;
    LIST_REMOVE(dep, link);
    dl_ep_timers_cancel(dep);
    dl_drops_flush(dep);
    dl_ep_drop_memory(dep);
    seqset_free(&dep->held);
    dl_epref_unref(dep->ref);
    free(dep);
}

/* ---- queue window */

static void dl_ready_append(struct dl_ep *dep, struct dl_item *it)
{
    it->ready_mono = time_mono_ms();
    STAILQ_INSERT_TAIL(&dep->ready, it, link);
    dep->nready++;
}

static void dl_ep_wait_fired(evloop_t *l, void *ctx);

static void dl_wait_arm(struct dl_ep *dep, int64_t due)
{
    evloop_t *loop = dep->dl->loop;

    if (dep->wait_due != 0 && dep->wait_due <= due)
        return;
    if (dep->wait_timer)
        evloop_timer_cancel(loop, dep->wait_timer);
    dep->wait_due = due;
    dep->wait_timer = evloop_timer_add(loop, due - time_now_ms(), dl_ep_wait_fired, dep);
}

static void dl_waiting_add(struct dl_ep *dep, struct dl_item *it)
{
    STAILQ_INSERT_HEAD(&dep->waiting, it, link);
    dep->nwaiting++;
    dl_wait_arm(dep, it->next_ms);
}

/* Move due waiting items to ready; re-arm for the earliest left. */
static void dl_ep_wait_fired(evloop_t *l, void *ctx)
{
    struct dl_ep *dep = ctx;
    struct dl_items all = STAILQ_HEAD_INITIALIZER(all);
    struct dl_item *it;
    int64_t now = time_now_ms(), earliest = 0;

    dep->wait_timer = 0;
    dep->wait_due = 0;
    STAILQ_CONCAT(&all, &dep->waiting); /* each goes to ready or back, in its order */
    while ((it = STAILQ_FIRST(&all)) != NULL) {
        STAILQ_REMOVE_HEAD(&all, link);
        if (it->next_ms <= now) {
            dep->nwaiting--;
            dl_ready_append(dep, it);
        } else {
            if (earliest == 0 || it->next_ms < earliest)
                earliest = it->next_ms;
            STAILQ_INSERT_TAIL(&dep->waiting, it, link);
        }
    }
    if (earliest)
        dl_wait_arm(dep, earliest);
    dl_ep_kick(dep);
}

/* Hold an item in memory: ready or waiting by its due time. */
static void dl_ep_hold(struct dl_ep *dep, struct dl_item *it)
{
    if (it->next_ms > time_now_ms())
        dl_waiting_add(dep, it);
    else
        dl_ready_append(dep, it);
}

static size_t dl_ep_memory(const struct dl_ep *dep)
{
    return seqset_count(&dep->held);
}

/* Start reading the store's backlog when there is room for it. */
static void dl_ep_maybe_scan(struct dl_ep *dep)
{
    size_t mem = dl_ep_memory(dep), max = dep->dl->mem_max;

    if (!dep->backlog || dep->scanning || !dl_ep_active(dep) || !dep->dl->started ||
        dep->dl->stopping || mem > max / 2)
        return;
    dep->scanning = true;
    dl_scan(dep, max - mem < SCAN_CHUNK ? max - mem : SCAN_CHUNK);
}

/* A fan-out item for this endpoint (committed in the store). */
static void dl_ep_offer(struct dl_ep *dep, uint64_t seq, struct fanout_blob *blob)
{
    if (seqset_has(&dep->held, seq)) {
        fanout_blob_unref(blob); /* in memory already (a replay of a held event) */
        return;
    }
    if (dep->backlog && dep->scanning) {
        struct dl_item *it = dl_item_new(seq, blob, 0, 0);

        STAILQ_INSERT_HEAD(&dep->pending, it, link); /* added when the scan is done */
        dep->npending++;
        return;
    }
    if (dep->backlog || dl_ep_memory(dep) >= dep->dl->mem_max) {
        /* The window is full: leave it in the store, read it back later. */
        if (!dep->backlog || seq < dep->scan_from)
            dep->scan_from = seq;
        dep->backlog = true;
        fanout_blob_unref(blob);
        dl_ep_maybe_scan(dep);
        return;
    }
    seqset_add(&dep->held, seq);
    dl_ready_append(dep, dl_item_new(seq, blob, 0, 0));
}

/* An entry read back from the store. */
void dl_ep_add_loaded(struct dl_ep *dep, uint64_t seq, struct fanout_blob *blob, int attempts,
                      int64_t next_ms)
{
    if (!seqset_add(&dep->held, seq)) {
        fanout_blob_unref(blob);
        return;
    }
    dl_ep_hold(dep, dl_item_new(seq, blob, attempts, next_ms));
}

/* A scan finished: next_from is where the next one starts. Items that
 * arrived meanwhile are offered again now. */
void dl_ep_scan_done(struct dl_ep *dep, bool reached_end, uint64_t next_from)
{
    struct dl_items pending = STAILQ_HEAD_INITIALIZER(pending);
    struct dl_item *it;

    STAILQ_CONCAT(&pending, &dep->pending);
    dep->scanning = false;
    dep->npending = 0;
    if (dep->gone) {
        dl_items_free(&pending);
        dl_ep_free_if_gone(dep);
        return;
    }
    if (reached_end && dep->scan_from <= next_from) {
        dep->backlog = false;
    } else if (dep->scan_from < next_from) {
        dep->scan_from = next_from;
    }
    while ((it = STAILQ_FIRST(&pending)) != NULL) {
        STAILQ_REMOVE_HEAD(&pending, link);
        dl_ep_offer(dep, it->seq, fanout_blob_ref(it->blob));
        dl_item_free(it);
    }
    dl_ep_maybe_scan(dep);
    dl_ep_kick(dep);
}

/* ---- sending */

static size_t dl_ep_limit(const struct dl_ep *dep)
{
    return dep->ep->state == EP_FAILING ? 1 : (size_t)dep->ep->concurrency;
}

static void dl_ep_kick_fired(evloop_t *l, void *ctx)
{
    struct dl_ep *dep = ctx;

    dep->kick_timer = 0;
    dl_ep_kick(dep);
}

static void dl_ep_kick_later(struct dl_ep *dep, int64_t ms)
{
    if (dep->kick_timer)
        return;
    dep->kick_timer = evloop_timer_add(dep->dl->loop, ms < 1 ? 1 : ms, dl_ep_kick_fired, dep);
}

/* Take up to n ready items into a new array. */
static struct dl_item **dl_take_ready(struct dl_ep *dep, size_t n)
{
    struct dl_item **items = xcalloc(n, sizeof(*items));

    for (size_t i = 0; i < n; i++) {
        items[i] = STAILQ_FIRST(&dep->ready);
        STAILQ_REMOVE_HEAD(&dep->ready, link);
    }
    dep->nready -= n;
    return items;
}

/* One request of n items (taken), with what the preparation made of them. */
static void dl_send_made(struct dl_ep *dep, struct dl_item **items, size_t n,
                         struct dl_made *made)
{
    delivery_t *dl = dep->dl;
    /* made with settings replaced since (an update): sent with those */
    struct dl_req *req = dl_req_new(dl, dep, made && made->ref ? made->ref : dl_epref_ref(dep->ref),
                                    items, n, NULL);
    struct dl_outcome o = { .retry_after_s = -1 };
    mh_err_t err;

    if (made) {
        req->values = made->values;
        req->values_len = made->values_len;
        req->body_buf = made->body;
        req->len = made->len;
        req->pre_sig = made->sig;
        req->pre_ts = made->ts;
        memset(made, 0, sizeof(*made));
    }
    dep->in_flight++;
    dl->in_flight++;
    dl->requests++;
    if (dl_req_start(req, &err) < 0) {
        snprintf(o.error, sizeof(o.error), "%s", err.text);
        dl_req_done(req, &o);
    }
}

/* A batch as a request: at once, or through the preparation thread when
 * the endpoint's events need more than their stored JSON and an HMAC
 * (delivery_transform.c), which holds its place in flight meanwhile. */
static void dl_send(struct dl_ep *dep, struct dl_item **items, size_t n)
{
    if (!dl_needs_prep(dep->ep)) {
        dl_send_made(dep, items, n, NULL);
        return;
    }
    dl_prep_start(dep->dl);
    dep->in_flight++;
    dep->dl->in_flight++;
    dep->preparing++;
    dl_prep_submit(dep, items, n);
}

/* How many batches may be in preparation or parked: the request slots
 * and up to three times as many again (at most DL_PREP_AHEAD more), so
 * that the preparation thread always has work queued while the requests
 * are out (measured: format sendgrid at concurrency 16 went from ~11k to
 * ~14k requests/s with 3x more, no further with 7x). */
static size_t dl_ep_prep_window(const struct dl_ep *dep)
{
    size_t limit = dl_ep_limit(dep), more = 3 * limit;

    return limit + (more < DL_PREP_AHEAD ? more : DL_PREP_AHEAD);
}

/* Requests of dep in flight, not counting the batches in preparation. */
static size_t dl_ep_requests(const struct dl_ep *dep)
{
    return dep->in_flight - dep->preparing;
}

/* Whether dep may start a request now (its state, pause and slots). */
static bool dl_ep_may_send(const struct dl_ep *dep)
{
    return dl_ep_active(dep) && !dep->dl->stopping && dep->paused_until <= time_now_ms() &&
           dl_ep_requests(dep) < dl_ep_limit(dep);
}

/* The preparation of a batch is over (loop thread): the n items it kept go
 * out, now or when a request slot is free (n 0: none did; its place in
 * flight is free again). */
void dl_prepared(struct dl_ep *dep, struct dl_item **items, size_t n, struct dl_made *made)
{
    delivery_t *dl = dep->dl;
    struct dl_parked *pk;

    if (n > 0 && !dl_ep_may_send(dep)) { /* n > 0: neither gone nor stopping (dl_prep_done) */
        pk = xcalloc(1, sizeof(*pk));
        pk->items = items;
        pk->n = n;
        pk->made = *made;
        memset(made, 0, sizeof(*made));
        STAILQ_INSERT_TAIL(&dep->parked, pk, link);
        return; /* still preparing, as far as the windows go */
    }
    dep->preparing--;
    dep->in_flight--;
    dl->in_flight--;
    if (n > 0) {
        dl_send_made(dep, items, n, made);
        return;
    }
    free(items);
    if (dep->gone)
        dl_ep_free_if_gone(dep);
    else if (!dl->stopping)
        dl_kick_all(dl);
}

/* The parked batches that may go now, oldest first. */
static void dl_ep_send_parked(struct dl_ep *dep)
{
    struct dl_parked *pk;

    while ((pk = STAILQ_FIRST(&dep->parked)) != NULL && dl_ep_may_send(dep)) {
        STAILQ_REMOVE_HEAD(&dep->parked, link);
        dep->preparing--;
        dep->in_flight--;
        dep->dl->in_flight--;
        dl_send_made(dep, pk->items, pk->n, &pk->made);
        dl_made_free(&pk->made);
        free(pk);
    }
}

/* Send what may be sent now: concurrency, pause, batching. */
static void dl_ep_kick(struct dl_ep *dep)
{
    delivery_t *dl = dep->dl;
    int64_t now = time_now_ms();
    size_t n;

    if (!dl_ep_active(dep) || dl->stopping)
        return;
    if (dep->paused_until > now) {
        dl_ep_kick_later(dep, dep->paused_until - now);
        return;
    }
    dl_ep_send_parked(dep);
    /* with a preparation stage: a window of batches in preparation or
     * parked beside the requests in flight, so that neither waits for the
     * other (dl_ep_prep_window) */
    while (dep->nready > 0 &&
           (dl_needs_prep(dep->ep) ? dep->preparing < dl_ep_prep_window(dep)
                                   : dep->in_flight < dl_ep_limit(dep)) &&
           dl->in_flight < (size_t)dl->max_in_flight) {
        if (dep->ep->batch_max == 0) {
            n = 1;
        } else {
            int64_t waited = time_mono_ms() - STAILQ_FIRST(&dep->ready)->ready_mono;

            n = dep->nready < (size_t)dep->ep->batch_max ? dep->nready : (size_t)dep->ep->batch_max;
            if (n < (size_t)dep->ep->batch_max && waited < dep->ep->batch_wait_ms) {
                dl_ep_kick_later(dep, dep->ep->batch_wait_ms - waited);
                break;
            }
        }
        dl_send(dep, dl_take_ready(dep, n), n);
    }
    dl_ep_maybe_scan(dep);
}

static void dl_kick_all(delivery_t *dl)
{
    struct dl_ep *dep;

    LIST_FOREACH(dep, &dl->eps, link)
        dl_ep_kick(dep);
}

void delivery_kick_scans(delivery_t *dl)
{
    struct dl_ep *dep;

    LIST_FOREACH(dep, &dl->eps, link) {
        dl_ep_maybe_scan(dep);
        dl_ep_kick(dep);
    }
}

void delivery_reload_endpoints(delivery_t *dl)
{
    dl_load_endpoints(dl, true);
}

/* ---- outcomes */

/* Retry delay before attempt number attempts + 1: the schedule's entry,
 * +-10% jitter, divided by the time scale. */
static int64_t dl_retry_delay_ms(const delivery_t *dl, const endpoint_t *ep, int attempts)
{
    int64_t base = (int64_t)ep->retry[attempts - 1] * 1000 / dl->time_scale;
    int64_t jitter = base / 10;

    if (jitter > 0)
        base += (int64_t)(random() % (2 * jitter + 1)) - jitter;
    return base;
}

static void dl_item_failed(struct dl_ep *dep, struct dl_item *it, const struct dl_outcome *o,
                           int64_t not_before)
{
    delivery_t *dl = dep->dl;
    const char *name = dep->ep->name;

    it->attempts++;
    if ((size_t)it->attempts > dep->ep->nretry) {
        dl_drops_note(dep, it->blob->id, it->attempts, o->error);
        dl_ops_remove(dl->ops, name, it->seq); /* held until the removal is saved */
        dl_item_free(it);
        return;
    }
    it->next_ms = time_now_ms() + dl_retry_delay_ms(dl, dep->ep, it->attempts);
    if (it->next_ms < not_before)
        it->next_ms = not_before;
    dl_ops_update(dl->ops, name, it->seq, it->attempts, it->next_ms);
    if (dl_ep_active(dep)) {
        dl_ep_hold(dep, it);
    } else { /* disabled meanwhile: the store keeps it */
        seqset_del(&dep->held, it->seq);
        dl_item_free(it);
    }
}

/* A request finished (delivery_http.c): account for each of its items. */
void dl_req_done(struct dl_req *req, const struct dl_outcome *o)
{
    delivery_t *dl = req->dl;
    struct dl_ep *dep = req->dep;
    int64_t not_before = 0;

    dl_ops_log(dl->ops, req->id, dl_req_log_record(req, o));
    if (dep == NULL) {
        dl_test_done(req, o);
        dl_req_free(req);
        return;
    }
    dep->in_flight--;
    dl->in_flight--;
    if (dep->gone) {
        for (size_t i = 0; i < req->nitems; i++)
            dl_item_free(req->items[i]);
        req->nitems = 0;
        dl_req_free(req);
        dl_ep_free_if_gone(dep);
        return;
    }
    if (o->ok) {
        dl->delivered += req->nitems;
        dl_health_success(dep);
        for (size_t i = 0; i < req->nitems; i++) {
            dl_ops_remove(dl->ops, dep->ep->name, req->items[i]->seq);
            dl_item_free(req->items[i]);
        }
    } else {
        dl->failed_attempts++;
        if (o->retry_after_s >= 0 && (o->status == 429 || o->status == 503)) {
            int64_t s = o->retry_after_s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : o->retry_after_s;

            dep->paused_until = time_now_ms() + s * 1000;
            not_before = dep->paused_until;
        }
        dl_health_failure(dep, o);
        if (o->status == 410 && dep->ep->state != EP_DISABLED)
            dl_ep_disable(dep, "the receiver answered 410 Gone");
        for (size_t i = 0; i < req->nitems; i++)
            dl_item_failed(dep, req->items[i], o, not_before);
    }
    req->nitems = 0;
    dl_req_free(req);
    if (dep->health_dirty) {
        dl_ops_health(dl->ops, dep->ep);
        dep->health_dirty = false;
    }
    dl_kick_all(dl); /* a slot is free, here or for another endpoint */
}

/* ---- the loop's round */

static void dl_take_fanout(delivery_t *dl)
{
    struct fanout_items items = STAILQ_HEAD_INITIALIZER(items);
    struct fanout_item *it;
    struct dl_ep *dep;

    fanout_take(dl->fanout, &items);
    while ((it = STAILQ_FIRST(&items)) != NULL) {
        STAILQ_REMOVE_HEAD(&items, link);
        if ((dep = dl_ep_find(dl, it->endpoint)) != NULL && dl_ep_active(dep))
            dl_ep_offer(dep, it->seq, fanout_blob_ref(it->blob));
        fanout_item_free(it);
    }
}

void delivery_prepare(delivery_t *dl)
{
    if (dl->started) {
        dl_take_fanout(dl);
        dl_kick_all(dl);
    }
    /* Group commit: while one transaction of changes is being saved, the
     * next round's changes accumulate; one fsync then covers them all. */
    if (!dl_ops_empty(dl->ops) && !dl->ops_saving)
        dl_ops_submit(dl);
}

/* ---- endpoints from the admin side */

void delivery_endpoint_set(delivery_t *dl, const endpoint_t *ep, bool keep_health)
{
    struct dl_ep *dep = dl_ep_find(dl, ep->name);
    endpoint_t *old;
    struct dl_epref *old_ref;
    bool was_active;

    if (dep == NULL) {
        dep = dl_ep_new(dl, ep);
        dl_ep_maybe_scan(dep);
        return;
    }
    was_active = dl_ep_active(dep);
    old = dep->ep;
    old_ref = dl_epref_ref(dep->ref); /* old stays valid until the end */
    dl_ep_settings(dep, endpoint_dup(ep));
    if (keep_health) {
        dep->ep->state = old->state;
        dep->ep->consecutive_failures = old->consecutive_failures;
        dep->ep->failing_since = old->failing_since;
        dep->ep->last_success = old->last_success;
        dep->ep->last_failure = old->last_failure;
        free(dep->ep->disabled_reason);
        dep->ep->disabled_reason = xstrdup(old->disabled_reason);
    } else {
        /* The admin's health (enable resets it) is saved already, but a
         * save of the engine's older health may still be queued or under
         * way: save the new one again after it, so it is the last word. */
        dep->paused_until = 0;
        dep->health_dirty = false;
        dl_ops_health(dl->ops, dep->ep);
    }
    dl_epref_unref(old_ref);
    if (was_active && !dl_ep_active(dep))
        dl_ep_drop_memory(dep);
    dl_ep_maybe_scan(dep);
    dl_ep_kick(dep);
}

void delivery_endpoint_remove(delivery_t *dl, const char *name, uint64_t dropped)
{
    struct dl_ep *dep = dl_ep_find(dl, name);

    dl->dropped_removed += dropped;
    if (dep == NULL)
        return;
    dep->gone = true;
    dl_ep_timers_cancel(dep);
    dl_ep_drop_memory(dep);
    dl_ep_free_if_gone(dep);
}

/* ---- life */

void delivery_reconfigure(delivery_t *dl, mh_conf_t *c)
{
    mh_err_t err;
    ssrf_allow_t *allow = ssrf_allow_parse((const char *const *)c->delivery_allow,
                                           c->n_delivery_allow, &err);

    if (allow == NULL) {
        msg_warn("delivery_allow: %s; keeping the previous allow-list", err.text);
    } else {
        ssrf_allow_free(dl->allow);
        dl->allow = allow;
    }
    free(dl->ca_file);
    dl->ca_file = xstrdup(c->delivery_ca_file);
    dl->time_scale = c->delivery_time_scale;
    dl->max_in_flight = c->delivery_max_in_flight;
    dl->mem_max = (size_t)c->delivery_memory_events;
    dl->disable_hours = c->endpoint_disable_after;
    dl->disable_failures = c->endpoint_disable_failures;
    dl->log_days = c->delivery_log_days;
    dl->expire_period_ms = c->retention_interval * 1000LL;
    free(dl->notify_email);
    dl->notify_email = xstrdup(c->notify_email);
    free(dl->sendmail);
    dl->sendmail = xstrdup(c->sendmail_path);
    conf_ref(c);
    conf_unref(dl->conf);
    dl->conf = c;
}

static void dl_expire_fired(evloop_t *l, void *ctx)
{
    delivery_t *dl = ctx;

    dl->expire_timer = evloop_timer_add(l, dl->expire_period_ms, dl_expire_fired, dl);
    if (dl->log_days > 0)
        dl_expire_log(dl);
}

delivery_t *delivery_new(evloop_t *loop, storeq_t *storeq, fanout_t *fo, mh_conf_t *conf,
                         struct mhd_counters *ctr)
{
    delivery_t *dl = xcalloc(1, sizeof(*dl));

    LIST_INIT(&dl->eps);
    LIST_INIT(&dl->reqs);
    dl->loop = loop;
    dl->storeq = storeq;
    dl->fanout = fo;
    dl->ctr = ctr;
    dl->ops = dl_ops_new();
    delivery_reconfigure(dl, conf);
    if (dl->allow == NULL)
        msg_fatal(EX_CONFIG, "delivery_allow is not valid");
    if (dl_http_init(dl) < 0)
        msg_fatal(EX_SOFTWARE, "delivery: cannot initialize libcurl");
    srandom((unsigned)(time_now_ms() ^ getpid()));
    dl_load_endpoints(dl, false);
    dl->expire_timer = evloop_timer_add(loop,
                                        dl->expire_period_ms < EXPIRE_FIRST_MS
                                            ? dl->expire_period_ms : EXPIRE_FIRST_MS,
                                        dl_expire_fired, dl);
    return dl;
}

json_t *delivery_status(delivery_t *dl)
{
    json_t *eps = json_object();
    struct dl_ep *dep;

    LIST_FOREACH(dep, &dl->eps, link) {
        if (dep->gone)
            continue;
        json_object_set_new(eps, dep->ep->name,
            json_pack("{s:s,s:I,s:I,s:I,s:i,s:b,s:I}", "state",
                      dep->ep->enabled ? endpoint_health_name(dep->ep->state) : "disabled",
                      "in_memory", (json_int_t)(dep->nready + dep->nwaiting), "in_flight",
                      (json_int_t)dep->in_flight, "waiting", (json_int_t)dep->nwaiting,
                      "consecutive_failures", dep->ep->consecutive_failures, "backlog",
                      dep->backlog, "dropped", (json_int_t)dep->dropped));
        json_object_set_new(json_object_get(eps, dep->ep->name), "filtered",
                            json_integer((json_int_t)dep->filtered));
        json_object_set_new(json_object_get(eps, dep->ep->name), "skipped",
                            json_integer((json_int_t)dep->skipped));
        json_object_set_new(json_object_get(eps, dep->ep->name), "transform_errors",
                            json_integer((json_int_t)dep->transform_errors));
    }
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "in_flight",
                     (json_int_t)dl->in_flight, "requests", (json_int_t)dl->requests,
                     "delivered", (json_int_t)dl->delivered, "failed_attempts",
                     (json_int_t)dl->failed_attempts, "dropped",
                     (json_int_t)(dl->dropped_retries + dl->dropped_missing +
                                  dl->dropped_removed),
                     "dropped_retries", (json_int_t)dl->dropped_retries, "dropped_missing",
                     (json_int_t)dl->dropped_missing, "dropped_removed",
                     (json_int_t)dl->dropped_removed, "refused", (json_int_t)dl->refused,
                     "filtered", (json_int_t)dl->filtered, "skipped", (json_int_t)dl->skipped,
                     "transform_errors", (json_int_t)dl->transform_errors, "endpoints", eps);
}

void delivery_stop(delivery_t *dl)
{
    dl->stopping = true;
}

bool delivery_busy(const delivery_t *dl)
{
    return dl->in_flight > 0 || dl->ntests > 0 || dl->jobs > 0 || !dl_ops_empty(dl->ops);
}

delivery_t *delivery_free(delivery_t *dl)
{
    struct dl_outcome o = { .retry_after_s = -1 };

    if (dl == NULL)
        return NULL;
    dl->stopping = true;
    dl_prep_stop(dl); /* batches still in preparation stay queued in the store */
    snprintf(o.error, sizeof(o.error), "mailhookd is stopping");
    while (dl->ntests > 0) /* answer the admin before it goes */
        dl_req_done(dl->tests[0], &o);
    dl_http_free(dl); /* requests in flight are dropped: their events stay queued */
    while (!LIST_EMPTY(&dl->eps)) {
        struct dl_ep *dep = LIST_FIRST(&dl->eps);

        dep->gone = true;
        dl_ep_drop_parked(dep);
        dep->in_flight = 0;
        dep->preparing = 0;
        dep->scanning = false;
        dl_ep_free_if_gone(dep);
    }
    if (dl->expire_timer)
        evloop_timer_cancel(dl->loop, dl->expire_timer);
    if (dl->curl_timer)
        evloop_timer_cancel(dl->loop, dl->curl_timer);
    dl_ops_free(dl->ops);
    ssrf_allow_free(dl->allow);
    free(dl->tests);
    free(dl->ca_file);
    free(dl->notify_email);
    free(dl->sendmail);
    conf_unref(dl->conf);
    free(dl);
    return NULL;
}
