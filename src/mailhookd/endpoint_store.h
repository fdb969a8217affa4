/* SPDX-License-Identifier: MIT */
/*
 * endpoint_store.h - endpoint records in the store (STORE_ENDPOINTS, one
 * JSON record per endpoint, endpoint.h) and the endpoints declared in
 * mailhook.conf. It sits below both the delivery engine and the admin
 * commands, and calls neither; the fan-out's matching list (fanout.h) is
 * kept in step with every change it makes.
 *
 * STORE THREAD (every function that takes a store):
 *   endpoint_store_load(st, name, &ep, err)
 *                         0: *ep is the stored endpoint (the caller frees
 *                         it); 1: absent (err says "no endpoint NAME");
 *                         ENDPOINT_STORE_UNUSABLE: a record is there but is
 *                         not an endpoint (err says why); -1: the store
 *                         could not be read (err). *ep is NULL unless 0
 *   endpoint_store_put(txn, ep, err)
 *                         store ep as it is (secrets included)
 *   endpoint_store_change(st, txn, fo, base, changes, touch, &out, err)
 *                         base with changes applied, validated, stored and
 *                         given to the fan-out; touch sets "updated"; *out
 *                         (optional) gets it, owned by the caller
 *   endpoint_store_sync(st, fo, declared, err)
 *                         create/update the declared endpoints (the JSON
 *                         array of endpoint_store_declared_all), disable
 *                         stored config endpoints that are no longer
 *                         declared; one transaction. A record that cannot
 *                         be read is an error (-1, nothing changed), never
 *                         taken for an absent one
 * ANY THREAD (the configuration only):
 *   endpoint_store_declared_all(c)
 *                         the config file's endpoint sections as a JSON
 *                         array of endpoints (endpoint_declared_json,
 *                         endpoint_declared.h; malformed ones skipped with a
 *                         warning)
 *   endpoint_store_check_conf(c, err)
 *                         0 when every declared endpoint is valid
 *
 * Errors: -1 with err set, in the store's or the model's words.
 */
#ifndef MH_ENDPOINT_STORE_H
#define MH_ENDPOINT_STORE_H

#include <stdbool.h>
#include <jansson.h>

#include "conf.h"
#include "endpoint.h"
#include "fanout.h"
#include "store.h"

#define ENDPOINT_STORE_UNUSABLE 2

int endpoint_store_load(store_t *st, const char *name, endpoint_t **ep, mh_err_t *err);
int endpoint_store_put(store_txn_t *txn, const endpoint_t *ep, mh_err_t *err);
int endpoint_store_change(store_t *st, store_txn_t *txn, fanout_t *fo, const endpoint_t *base,
                          const json_t *changes, bool touch, endpoint_t **out, mh_err_t *err);
int endpoint_store_sync(store_t *st, fanout_t *fo, const json_t *declared, mh_err_t *err);
json_t *endpoint_store_declared_all(const mh_conf_t *c);
int endpoint_store_check_conf(const mh_conf_t *c, mh_err_t *err);

#endif
