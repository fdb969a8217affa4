/*
 * admin_delivery.h - the admin commands of the delivery subsystem
 * (endpoint.*, deliveries.*, replay; admin_proto.h) and the endpoint
 * record operations they share with the delivery engine and the config
 * file's endpoint sections.
 *
 * Work functions run on the store thread (they touch the store and the
 * fan-out's endpoint list); an answer that changes an endpoint carries the
 * new endpoint under ADMIN_ENGINE_KEY for the loop-thread finish, which
 * hands it to the delivery engine and strips the key (admin_server.c).
 *
 *   admin_endpoint_commands[], admin_replay_commands[]
 *                                   command table rows (NULL-terminated)
 *   admin_endpoint_load(st, name, err)
 *                                   the stored endpoint, or NULL (err says
 *                                   "no endpoint NAME" when absent)
 *   admin_endpoint_change(st, txn, fo, base, changes, touch, &out, err)
 *                                   base with changes applied, validated,
 *                                   stored and given to the fan-out; touch
 *                                   sets "updated"; *out (optional) gets it
 *   admin_endpoint_declared(ce, err)
 *                                   a config file endpoint section as
 *                                   endpoint JSON (NULL + err if malformed)
 *   admin_endpoints_declared(conf)  all of them (malformed ones skipped)
 *   admin_endpoints_check(conf, err)
 *                                   every declared endpoint is valid
 *   admin_endpoints_sync(st, fo, declared, err)
 *                                   create/update the declared endpoints,
 *                                   disable stored config endpoints that are
 *                                   no longer declared
 */
#ifndef MH_ADMIN_DELIVERY_H
#define MH_ADMIN_DELIVERY_H

#include <stdbool.h>
#include <jansson.h>

#include "conf.h"
#include "daemon.h"
#include "endpoint.h"
#include "fanout.h"
#include "store.h"

#define ADMIN_ENGINE_KEY "_engine"

struct admin_job;

struct admin_command {
    const char *name;
    json_t *(*check)(daemon_t *d, json_t *req);             /* loop thread, before; may be NULL */
    json_t *(*work)(daemon_t *d, store_t *st, json_t *req); /* store thread */
    /* loop thread, may be NULL; returns true when it will answer later
     * through admin_job_complete() (and then owns reply) */
    bool (*finish)(daemon_t *d, struct admin_job *job, json_t *req, json_t *reply);
};

extern const struct admin_command admin_endpoint_commands[]; /* admin_delivery.c */
extern const struct admin_command admin_replay_commands[];   /* admin_replay.c */

/* admin_server.c: the late answer of a deferred command (reply stolen). */
void admin_job_complete(struct admin_job *job, json_t *reply);

json_t *admin_error(const char *code, const char *fmt, ...) MH_PRINTF(2, 3);

endpoint_t *admin_endpoint_load(store_t *st, const char *name, mh_err_t *err);
int admin_endpoint_change(store_t *st, store_txn_t *txn, fanout_t *fo, const endpoint_t *base,
                          const json_t *changes, bool touch, endpoint_t **out, mh_err_t *err);
json_t *admin_endpoint_declared(const struct mh_conf_endpoint *ce, mh_err_t *err);
json_t *admin_endpoints_declared(const mh_conf_t *c);
int admin_endpoints_check(const mh_conf_t *c, mh_err_t *err);
int admin_endpoints_sync(store_t *st, fanout_t *fo, const json_t *declared, mh_err_t *err);

#endif
