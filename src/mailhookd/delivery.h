/* SPDX-License-Identifier: MIT */
/*
 * delivery.h - the delivery engine: queued events to subscriber URLs.
 *
 * Runs on the event loop thread. libcurl's multi interface is driven by the
 * loop (its sockets and timer are loop descriptors and timers), so many
 * requests are in flight at once, connections are kept alive and reused,
 * and HTTP/2 is used where the server offers it. No request ever blocks
 * the loop.
 *
 * Per endpoint (endpoint.h): an in-memory window of its queue (bounded;
 * the rest stays in the store and is read back as the window drains), a
 * concurrency limit (1 while the endpoint is failing), batching, retries
 * on the endpoint's schedule with jitter, Retry-After on 429/503, disable
 * on 410 and after long failure, health kept in the endpoint record.
 *
 * At least once: an event leaves an endpoint's queue in the store only
 * after a 2xx for it (or, logged and counted as dropped in the status,
 * after its retry schedule is exhausted, when its stored event is gone or
 * unreadable, or with its endpoint); retention keeps what is queued
 * (store_event_expire). A crash at any instant loses nothing, since what
 * was not removed is read back at start. The same webhook-id is sent on
 * every retry of an event.
 *
 * Every attempt is written to the delivery log (STORE_DELIVERIES), with
 * the first DELIVERY_RESPONSE_MAX bytes of the response.
 *
 *   delivery_new(loop, storeq, fo, conf, ctr)
 *                                     LOOP: start; reads endpoints and
 *                                     queues from the store (jobs), takes
 *                                     committed items from fo (fanout.h),
 *                                     counts deliveries_expired into ctr;
 *                                     conf is referenced (see reconfigure)
 *   delivery_prepare(dl)              LOOP, once per loop round: take
 *                                     committed fan-out items, send, flush
 *                                     queue changes to the store
 *   delivery_endpoint_set(dl, ep, keep_health)
 *                                     LOOP: an endpoint was added or changed
 *                                     (copied); keep_health: keep the
 *                                     engine's own health state
 *   delivery_endpoint_remove(dl, name, dropped)
 *                                     LOOP: an endpoint was removed, with
 *                                     dropped deliveries of its queue
 *                                     (counted: delivery_status)
 *   delivery_reconfigure(dl, conf)    LOOP: after a reload (conf is
 *                                     referenced: its declared endpoints
 *                                     are synced by reload_endpoints)
 *   delivery_reload_endpoints(dl)     LOOP: sync the config file's endpoints
 *                                     into the store again and re-read them
 *   delivery_test(dl, ep, type, cb, ctx)
 *                                     send a sample event of type to ep now,
 *                                     outside the queue; cb(ctx, result)
 *                                     gets the admin answer (endpoint.test)
 *   delivery_status(dl)               JSON for mailhookctl status
 *   delivery_stop(dl)                 start no more requests (shutdown)
 *   delivery_busy(dl)                 requests in flight or changes unsaved
 *   delivery_free(dl)                 abort what is in flight (it stays
 *                                     queued in the store); NULL is fine
 *   delivery_sample_event(type, err)  the sample event of a test send
 *   delivery_preview(dl, ep, json, len, seq, type, cb, ctx)
 *                          cb(ctx, answer) later (ep is copied): the request
 *                          ep would get for the stored event json (len
 *                          bytes, store sequence number seq), or for the
 *                          sample event of type when json is NULL:
 *                          {"ok":true, "endpoint", "event", "sent":true,
 *                          "method", "headers":{...}, "body":"..."}, or
 *                          "sent":false and "reason" when the endpoint's
 *                          where, format or transform sends nothing; not
 *                          sent, not logged; credentials masked
 *                                     (NULL + err when type is invalid)
 */
#ifndef MH_DELIVERY_H
#define MH_DELIVERY_H

#include <stdbool.h>
#include <jansson.h>

#include "conf.h"
#include "endpoint.h"
#include "event.h"
#include "evloop.h"
#include "fanout.h"
#include "mhd_counters.h"
#include "storeq.h"

#define DELIVERY_RESPONSE_MAX 4096
#define DELIVERY_ID_PREFIX "dlv_"

typedef struct delivery delivery_t;
typedef void (*delivery_test_cb)(void *ctx, json_t *result);

delivery_t *delivery_new(evloop_t *loop, storeq_t *storeq, fanout_t *fo, mh_conf_t *conf,
                         struct mhd_counters *ctr);
void delivery_prepare(delivery_t *dl);
void delivery_endpoint_set(delivery_t *dl, const endpoint_t *ep, bool keep_health);
void delivery_endpoint_remove(delivery_t *dl, const char *name, uint64_t dropped);
void delivery_reconfigure(delivery_t *dl, mh_conf_t *conf);
void delivery_reload_endpoints(delivery_t *dl);
void delivery_test(delivery_t *dl, const endpoint_t *ep, const char *type, delivery_test_cb cb,
                   void *ctx);
json_t *delivery_status(delivery_t *dl);
void delivery_stop(delivery_t *dl);
bool delivery_busy(const delivery_t *dl);
delivery_t *delivery_free(delivery_t *dl);
event_t *delivery_sample_event(const char *type, mh_err_t *err);
void delivery_preview(delivery_t *dl, const endpoint_t *ep, const char *json, size_t len,
                      uint64_t seq, const char *type, delivery_test_cb cb, void *ctx);

#endif
