/* SPDX-License-Identifier: MIT */
/*
 * fanout.h - from stored events to endpoint queues, and on to the delivery
 * engine once they are durable.
 *
 * The store thread owns a list of the enabled endpoints (copies, for
 * matching). When an event is newly stored, fanout_event() pushes one queue
 * entry per matching endpoint in the same transaction; replay and retries
 * push entries with fanout_push(). The items become visible to the loop
 * thread (fanout_take) only when that transaction commits, and are dropped
 * if it aborts: the engine never sends what the store does not hold.
 *
 * A queue entry (the bytes stored per endpoint and sequence number) says
 * how many attempts were made and when the next one is due.
 *
 * Ownership: an item holds a reference to an event blob (the event's JSON,
 * id, type and time), shared by the items of every endpoint it went to;
 * items and blobs live on the loop thread once taken.
 *
 *   fanout_new() / fanout_free(fo)
 *   ANY THREAD:
 *   fanout_qentry_encode(e, buf)     a queue entry's FANOUT_QENTRY_LEN bytes
 *   fanout_qentry_decode(buf, len, e) and back; -1 when malformed
 *   fanout_blob_new(id, type, ts_ms, json, len)
 *                                    a blob (json copied), one reference
 *   fanout_blob_ref(b) / fanout_blob_unref(b)
 *                                    one reference more / less (NULL is fine)
 *   STORE THREAD:
 *   fanout_blob_load(st, seq, &rc, err)
 *                                    a stored event's blob; NULL with rc 1
 *                                    when gone, rc -1 and err on a store error
 *   fanout_set_endpoint(fo, ep)      match ep from now on (copied; replaces
 *                                    one of the same name); a disabled ep is
 *                                    removed instead
 *   fanout_remove_endpoint(fo, name)
 *   fanout_endpoint_count(fo) / fanout_endpoint(fo, i)
 *                                    the enabled endpoints, i < count
 *   fanout_event(fo, txn, ev, seq, json, len, err)
 *                                    queue the stored event for each match;
 *                                    json is the event's canonical JSON (copied)
 *   fanout_push(fo, txn, endpoint, seq, blob, err)
 *                                    queue one event for one endpoint
 *                                    (attempt 0, due now)
 *   LOOP THREAD:
 *   fanout_take(fo, into)            the committed items, oldest first,
 *                                    appended to the list into (the caller's)
 *   fanout_item_free(it) / fanout_items_free(items)
 *                                    an item, or every item of a list
 */
#ifndef MH_FANOUT_H
#define MH_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "endpoint.h"
#include "event.h"
#include "store.h"

#define FANOUT_QENTRY_LEN 13

struct fanout_qentry {
    int attempts;    /* attempts made so far */
    int64_t next_ms; /* wall clock; 0 = due now */
};

void fanout_qentry_encode(const struct fanout_qentry *e, unsigned char buf[FANOUT_QENTRY_LEN]);
/* -1 when malformed */
int fanout_qentry_decode(const void *buf, size_t len, struct fanout_qentry *e);

/* An event as the engine sends it. */
struct fanout_blob {
    int refs;
    char id[EVID_SIZE];
    char type[EVENT_TYPE_MAX + 1];
    int64_t ts_ms;
    char *json; /* canonical JSON, NUL-terminated */
    size_t len;
};

struct fanout_blob *fanout_blob_new(const char *id, const char *type, int64_t ts_ms,
                                    const char *json, size_t len);
/* STORE THREAD: the stored event seq as a blob; NULL with *rc 1 when it is
 * gone (or not an event), NULL with *rc -1 and err on a store error. */
struct fanout_blob *fanout_blob_load(store_t *st, uint64_t seq, int *rc, mh_err_t *err);
struct fanout_blob *fanout_blob_ref(struct fanout_blob *b);
void fanout_blob_unref(struct fanout_blob *b);

/* One committed queue entry, handed to the engine. */
struct fanout_item {
    STAILQ_ENTRY(fanout_item) link;
    char endpoint[EP_NAME_MAX + 1];
    uint64_t seq;
    struct fanout_blob *blob; /* a reference the item owns */
};

STAILQ_HEAD(fanout_items, fanout_item);

typedef struct fanout fanout_t;

fanout_t *fanout_new(void);
fanout_t *fanout_free(fanout_t *fo);
void fanout_set_endpoint(fanout_t *fo, const endpoint_t *ep);
void fanout_remove_endpoint(fanout_t *fo, const char *name);
size_t fanout_endpoint_count(const fanout_t *fo);
const endpoint_t *fanout_endpoint(const fanout_t *fo, size_t i); /* enabled ones, i < count */
int fanout_event(fanout_t *fo, store_txn_t *txn, const event_t *ev, uint64_t seq,
                 const char *json, size_t len, mh_err_t *err);
int fanout_push(fanout_t *fo, store_txn_t *txn, const char *endpoint, uint64_t seq,
                struct fanout_blob *blob, mh_err_t *err);
void fanout_take(fanout_t *fo, struct fanout_items *into);
void fanout_item_free(struct fanout_item *it);
void fanout_items_free(struct fanout_items *items);

#endif
