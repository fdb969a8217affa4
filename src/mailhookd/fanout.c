/* SPDX-License-Identifier: MIT */
/*
 * fanout.c - events to endpoint queues, committed items to the engine
 * (see fanout.h).
 *
 * Two lists of items: "staged", filled during the store thread's open
 * transaction, and "outbox", which the loop thread takes from. A hook on
 * the transaction's end moves staged to outbox on commit, frees it on
 * abort. Only the outbox is shared between threads (the mutex); the
 * endpoint list and the staged items belong to the store thread.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fanout.h"
#include "strutil.h"
#include "timeutil.h"
#include "xalloc.h"

struct fanout {
    /* store thread */
    endpoint_t **eps;
    size_t neps;
    struct fanout_items staged;
    bool hooked; /* the open transaction has our end hook */
    /* shared */
    pthread_mutex_t lock;
    struct fanout_items outbox;
};

/* ---- queue entries: version 1, attempts (4 bytes BE), next_ms (8 bytes BE) */

void fanout_qentry_encode(const struct fanout_qentry *e, unsigned char buf[FANOUT_QENTRY_LEN])
{
    uint64_t next = (uint64_t)e->next_ms;
    uint32_t att = (uint32_t)e->attempts;

    buf[0] = 1;
    put_be32(buf + 1, att);
    put_be64(buf + 5, next);
}

int fanout_qentry_decode(const void *buf, size_t len, struct fanout_qentry *e)
{
    const unsigned char *p = buf;
    uint32_t att;
    uint64_t next;

    if (len != FANOUT_QENTRY_LEN || p[0] != 1)
        return -1;
    att = get_be32(p + 1);
    next = get_be64(p + 5);
    if (att > 1000000)
        return -1;
    e->attempts = (int)att;
    e->next_ms = (int64_t)next;
    return 0;
}

/* ---- blobs */

struct fanout_blob *fanout_blob_new(const char *id, const char *type, int64_t ts_ms,
                                    const char *json, size_t len)
{
    struct fanout_blob *b = xcalloc(1, sizeof(*b));

    b->refs = 1;
    snprintf(b->id, sizeof(b->id), "%s", id);
    snprintf(b->type, sizeof(b->type), "%s", type);
    b->ts_ms = ts_ms;
    b->json = xmemdup(json, len + 1);
    b->json[len] = 0;
    b->len = len;
    return b;
}

/* The record's id, type and time are those of the event (append.c stores
 * them from the event it parsed): no need to parse the JSON again. */
struct fanout_blob *fanout_blob_load(store_t *st, uint64_t seq, int *rc, mh_err_t *err)
{
    struct store_event_rec r;
    struct fanout_blob *b;

    if ((*rc = store_event_read(st, seq, &r, err)) != 0)
        return NULL;
    if (r.id_len == 0 || r.id_len >= EVID_SIZE || r.type_len == 0 ||
        r.type_len > EVENT_TYPE_MAX) {
        store_event_rec_free(&r);
        *rc = 1; /* not an event of ours: as good as gone */
        return NULL;
    }
    b = xcalloc(1, sizeof(*b));
    b->refs = 1;
    memcpy(b->id, r.id, r.id_len);
    memcpy(b->type, r.type, r.type_len);
    b->ts_ms = r.ts_ms;
    b->json = xmalloc(r.json_len + 1);
    memcpy(b->json, r.json, r.json_len);
    b->json[r.json_len] = 0;
    b->len = r.json_len;
    store_event_rec_free(&r);
    return b;
}

/* References are taken on the store thread before the hand-over and
 * dropped on the loop thread after it; the outbox mutex orders the two. */
struct fanout_blob *fanout_blob_ref(struct fanout_blob *b)
{
    b->refs++;
    return b;
}

void fanout_blob_unref(struct fanout_blob *b)
{
    if (b == NULL || --b->refs > 0)
        return;
    free(b->json);
    free(b);
}

void fanout_item_free(struct fanout_item *it)
{
    fanout_blob_unref(it->blob);
    free(it);
}

/* ---- life */

fanout_t *fanout_new(void)
{
    fanout_t *fo = xcalloc(1, sizeof(*fo));

    pthread_mutex_init(&fo->lock, NULL);
    STAILQ_INIT(&fo->staged);
    STAILQ_INIT(&fo->outbox);
    return fo;
}

void fanout_items_free(struct fanout_items *items)
{
    struct fanout_item *it;

    while ((it = STAILQ_FIRST(items)) != NULL) {
        STAILQ_REMOVE_HEAD(items, link);
        fanout_item_free(it);
    }
}

fanout_t *fanout_free(fanout_t *fo)
{
    if (fo == NULL)
        return NULL;
    for (size_t i = 0; i < fo->neps; i++)
        endpoint_free(fo->eps[i]);
    free(fo->eps);
    fanout_items_free(&fo->staged);
    fanout_items_free(&fo->outbox);
    pthread_mutex_destroy(&fo->lock);
    free(fo);
    return NULL;
}

/* ---- endpoints (store thread) */

static size_t fanout_find(const fanout_t *fo, const char *name)
{
    for (size_t i = 0; i < fo->neps; i++)
        if (strcmp(fo->eps[i]->name, name) == 0)
            return i;
    return fo->neps;
}

void fanout_remove_endpoint(fanout_t *fo, const char *name)
{
    size_t i = fanout_find(fo, name);

    if (i == fo->neps)
        return;
    endpoint_free(fo->eps[i]);
    fo->eps[i] = fo->eps[--fo->neps];
}

void fanout_set_endpoint(fanout_t *fo, const endpoint_t *ep)
{
    size_t i;

    if (!ep->enabled || ep->state == EP_DISABLED) {
        fanout_remove_endpoint(fo, ep->name);
        return;
    }
    i = fanout_find(fo, ep->name);
    if (i == fo->neps) {
        fo->eps = xreallocarray(fo->eps, fo->neps + 1, sizeof(*fo->eps));
        fo->neps++;
    } else {
        endpoint_free(fo->eps[i]);
    }
    fo->eps[i] = endpoint_dup(ep);
}

size_t fanout_endpoint_count(const fanout_t *fo)
{
    return fo->neps;
}

const endpoint_t *fanout_endpoint(const fanout_t *fo, size_t i)
{
    return fo->eps[i];
}

/* ---- staging (store thread) */

static void fanout_txn_end(void *ctx, bool committed)
{
    fanout_t *fo = ctx;

    fo->hooked = false;
    if (STAILQ_EMPTY(&fo->staged))
        return;
    if (!committed) {
        fanout_items_free(&fo->staged);
    } else {
        pthread_mutex_lock(&fo->lock);
        STAILQ_CONCAT(&fo->outbox, &fo->staged); /* empties staged */
        pthread_mutex_unlock(&fo->lock);
    }
}

int fanout_push(fanout_t *fo, store_txn_t *txn, const char *endpoint, uint64_t seq,
                struct fanout_blob *blob, mh_err_t *err)
{
    struct fanout_qentry e = { 0, 0 };
    unsigned char buf[FANOUT_QENTRY_LEN];
    struct fanout_item *it;

    fanout_qentry_encode(&e, buf);
    if (store_queue_push(txn, endpoint, seq, buf, sizeof(buf), err) < 0)
        return -1;
    it = xcalloc(1, sizeof(*it));
    snprintf(it->endpoint, sizeof(it->endpoint), "%s", endpoint);
    it->seq = seq;
    it->blob = fanout_blob_ref(blob);
    STAILQ_INSERT_TAIL(&fo->staged, it, link);
    if (!fo->hooked) {
        store_txn_on_end(txn, fanout_txn_end, fo);
        fo->hooked = true;
    }
    return 0;
}

int fanout_event(fanout_t *fo, store_txn_t *txn, const event_t *ev, uint64_t seq,
                 const char *json, size_t len, mh_err_t *err)
{
    struct fanout_blob *blob = NULL;
    int rc = 0;

    for (size_t i = 0; i < fo->neps && rc == 0; i++) {
        if (!endpoint_matches(fo->eps[i], ev->type, ev->data))
            continue;
        if (blob == NULL)
            blob = fanout_blob_new(ev->id, ev->type, ev->ts_ms, json, len);
        rc = fanout_push(fo, txn, fo->eps[i]->name, seq, blob, err);
    }
    fanout_blob_unref(blob);
    return rc;
}

/* ---- hand-over (loop thread) */

void fanout_take(fanout_t *fo, struct fanout_items *into)
{
    pthread_mutex_lock(&fo->lock);
    STAILQ_CONCAT(into, &fo->outbox); /* empties the outbox */
    pthread_mutex_unlock(&fo->lock);
}
