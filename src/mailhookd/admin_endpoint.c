/* SPDX-License-Identifier: MIT */
/*
 * admin_endpoint.c - the endpoint.* admin commands (see admin_endpoint.h
 * and admin_proto.h). The records are endpoint_store.c's.
 *
 * Work runs on the store thread: every change goes through
 * endpoint_store_change() (stored and given to the fan-out in one step).
 * The engine learns of it when the command finishes on the loop thread:
 * the work hands the endpoint itself (an owned endpoint_t carried by the
 * job, admin_job_carry) to endpoint_cmd_finish, never as JSON in the
 * answer.
 *
 * Endpoints declared in mailhook.conf (source "config") may be enabled,
 * disabled and tested from the command line, and a secret the file does
 * not set rotated, but not changed or removed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_endpoint.h"
#include "endpoint_keys.h"
#include "endpoint_store.h"
#include "sign.h"
#include "timeutil.h"
#include "xalloc.h"

#define ROTATE_OVERLAP_DEFAULT_S 86400
#define REMOVE_CHUNK 5000

/* What a command's work hands to the engine on the loop thread (carried
 * by the job, admin_job_carry): the endpoint itself, never its JSON. */
enum endpoint_cmd_op { ENGINE_SET, ENGINE_UPDATE, ENGINE_REMOVE, ENGINE_TEST, ENGINE_PREVIEW };

struct endpoint_cmd_handover {
    enum endpoint_cmd_op op;
    endpoint_t *ep;               /* owned; NULL for ENGINE_REMOVE */
    char name[EP_NAME_MAX + 1];   /* ENGINE_REMOVE */
    uint64_t dropped;             /* ENGINE_REMOVE */
    char *event;                  /* ENGINE_PREVIEW: the stored event's JSON, or NULL */
    size_t event_len;
    uint64_t seq;
};

static void endpoint_cmd_handover_free(void *obj)
{
    struct endpoint_cmd_handover *h = obj;

    endpoint_free(h->ep);
    free(h->event);
    free(h);
}

static void endpoint_cmd_hand_over(struct admin_job *job, enum endpoint_cmd_op op,
                                   endpoint_t *ep)
{
    struct endpoint_cmd_handover *h = xcalloc(1, sizeof(*h));

    h->op = op;
    h->ep = ep;
    admin_job_carry(job, h, endpoint_cmd_handover_free);
}

/* The endpoint as the admin sees it: its JSON (masked unless show says
 * otherwise) and, for the sendgrid scheme, the public key of its key pair
 * in the form SendGrid's settings page gives it (what the receiver's
 * verifier is configured with). */
static json_t *endpoint_cmd_json(const endpoint_t *ep, unsigned show)
{
    json_t *obj = endpoint_to_json(ep, show);
    char *pub = NULL;
    mh_err_t err;

    if (endpoint_scheme_is_ec(ep->scheme) && sign_ec_public_key(ep->secret, &pub, &err) == 0)
        json_object_set_new(obj, "public_key", json_string(pub));
    free(pub);
    return obj;
}

/* Answer with an endpoint, masked for the user (ep taken): handed to the
 * engine as it is, or freed. */
static json_t *endpoint_cmd_reply(struct admin_job *job, endpoint_t *ep, unsigned show,
                                  enum endpoint_cmd_op op)
{
    json_t *reply = json_pack("{s:b,s:o}", "ok", 1, "endpoint", endpoint_cmd_json(ep, show));

    endpoint_cmd_hand_over(job, op, ep);
    return reply;
}

typedef json_t *endpoint_cmd_txn_fn(store_t *st, store_txn_t *txn, fanout_t *fo,
                                    struct admin_job *job, json_t *req, mh_err_t *err);

/* Run fn in a transaction of its own; its answer, or an error answer. */
static json_t *endpoint_cmd_in_txn(store_t *st, endpoint_cmd_txn_fn *fn, fanout_t *fo,
                                   struct admin_job *job, json_t *req)
{
    mh_err_t err = { "" };
    store_txn_t *txn = store_begin(st, &err);
    json_t *reply;

    if (txn == NULL)
        return admin_error("internal", "%s", err.text);
    reply = fn(st, txn, fo, job, req, &err);
    if (!json_is_true(json_object_get(reply, "ok"))) {
        store_abort(txn);
        return reply;
    }
    if (store_commit(txn, &err) < 0) {
        json_decref(reply);
        return admin_error("internal", "%s", err.text);
    }
    return reply;
}

/* The endpoint named by the request, or NULL with *fail set. */
static endpoint_t *endpoint_cmd_named(store_t *st, json_t *req, json_t **fail)
{
    const char *name = NULL;
    endpoint_t *ep;
    mh_err_t err;
    int rc;

    if (json_unpack(req, "{s:s}", "name", &name) < 0) {
        *fail = admin_error("bad_request", "the request needs a \"name\"");
        return NULL;
    }
    if ((rc = endpoint_store_load(st, name, &ep, &err)) != 0)
        *fail = admin_error(rc == 1 ? "not_found" : "internal", "%s", err.text);
    return ep;
}

/* ---- endpoint.add */

static json_t *endpoint_cmd_add_txn(store_t *st, store_txn_t *txn, fanout_t *fo,
                                    struct admin_job *job, json_t *req, mh_err_t *err)
{
    json_t *obj = json_deep_copy(json_object_get(req, "endpoint")), *reply;
    const char *name;
    endpoint_t *ep;
    int64_t now = time_now_ms();
    void *val;
    size_t len;
    int rc;

    if (!json_is_object(obj) || !json_is_string(json_object_get(obj, "name"))) {
        json_decref(obj);
        return admin_error("bad_request", "endpoint.add needs an \"endpoint\" object with a name");
    }
    name = json_string_value(json_object_get(obj, "name")); /* obj's: used before obj goes */
    if ((rc = store_kv_get(st, STORE_ENDPOINTS, name, &val, &len, err)) <= 0) {
        if (rc == 0)
            free(val);
        reply = rc == 0 ? admin_error("exists", "endpoint %.64s exists already", name)
                        : admin_error("internal", "%s", err->text);
        json_decref(obj);
        return reply;
    }
    json_object_del(obj, "health");
    json_object_set_new(obj, "source", json_string("cli"));
    json_object_set_new(obj, "created", json_integer(now));
    json_object_set_new(obj, "updated", json_integer(now));
    ep = endpoint_from_json(obj, err);
    json_decref(obj);
    if (ep == NULL || endpoint_programs_check(ep, err) < 0) {
        endpoint_free(ep);
        return admin_error("bad_request", "%s", err->text);
    }
    if (endpoint_store_put(txn, ep, err) < 0) {
        endpoint_free(ep);
        return admin_error("internal", "%s", err->text);
    }
    fanout_set_endpoint(fo, ep);
    return endpoint_cmd_reply(job, ep, EP_JSON_SECRETS, ENGINE_SET);
}

static json_t *endpoint_cmd_add(const struct admin_env *env, struct admin_job *job,
                                store_t *st, json_t *req)
{
    return endpoint_cmd_in_txn(st, endpoint_cmd_add_txn, env->fanout, job, req);
}

/* ---- endpoint.list / endpoint.show */

static json_t *endpoint_cmd_with_queued(store_t *st, const endpoint_t *ep, unsigned show)
{
    json_t *obj = endpoint_cmd_json(ep, show);
    uint64_t n = 0;

    store_queue_count(st, ep->name, &n, NULL);
    json_object_set_new(obj, "queued", json_integer((json_int_t)n));
    return obj;
}

struct list_ctx {
    store_t *st;
    json_t *eps;
};

static int endpoint_cmd_list_one(void *ctx, const char *key, const void *val, size_t len)
{
    struct list_ctx *lc = ctx;
    json_t *obj = json_loadb(val, len, 0, NULL);
    endpoint_t *ep;
    mh_err_t err;

    ep = obj ? endpoint_from_json(obj, &err) : NULL;
    json_decref(obj);
    if (ep == NULL) {
        json_array_append_new(lc->eps, json_pack("{s:s,s:s}", "name", key, "error",
                                                 "unusable record"));
        return 0;
    }
    json_array_append_new(lc->eps, endpoint_cmd_with_queued(lc->st, ep, 0));
    endpoint_free(ep);
    return 0;
}

static json_t *endpoint_cmd_list(const struct admin_env *env, struct admin_job *job,
                                 store_t *st, json_t *req)
{
    struct list_ctx lc = { st, json_array() };
    mh_err_t err;

    if (store_kv_scan(st, STORE_ENDPOINTS, NULL, endpoint_cmd_list_one, &lc, &err) < 0) {
        json_decref(lc.eps);
        return admin_error("internal", "%s", err.text);
    }
    return json_pack("{s:b,s:o}", "ok", 1, "endpoints", lc.eps);
}

static json_t *endpoint_cmd_show(const struct admin_env *env, struct admin_job *job,
                                 store_t *st, json_t *req)
{
    json_t *fail = NULL;
    endpoint_t *ep = endpoint_cmd_named(st, req, &fail);
    bool reveal = json_is_true(json_object_get(req, "reveal_secret"));
    json_t *reply;

    if (ep == NULL)
        return fail;
    reply = json_pack("{s:b,s:o}", "ok", 1, "endpoint",
                      endpoint_cmd_with_queued(st, ep, reveal ? EP_JSON_SECRETS : 0));
    endpoint_free(ep);
    return reply;
}

/* ---- endpoint.update / enable / disable / rotate_secret */

static bool endpoint_cmd_set_allowed(const json_t *set, char *bad, size_t size)
{
    static const char *const fixed[] = { "name", "source", "created", "updated", "health", NULL };

    for (size_t i = 0; fixed[i]; i++)
        if (json_object_get(set, fixed[i])) {
            snprintf(bad, size, "%s", fixed[i]);
            return false;
        }
    return true;
}

/* Apply changes to ep (the named endpoint, loaded by the caller, which
 * keeps it); engine_op tells the engine how. */
static json_t *endpoint_cmd_modify(store_t *st, store_txn_t *txn, fanout_t *fo,
                                   struct admin_job *job, const endpoint_t *ep,
                                   const json_t *changes, unsigned show,
                                   enum endpoint_cmd_op engine_op, mh_err_t *err)
{
    endpoint_t *out = NULL;

    if (endpoint_store_change(st, txn, fo, ep, changes, true, &out, err) < 0)
        return admin_error("bad_request", "%s", err->text);
    return endpoint_cmd_reply(job, out, show, engine_op);
}

/* The named endpoint with changes applied: the common case of the
 * endpoint commands. */
static json_t *endpoint_cmd_modify_named(store_t *st, store_txn_t *txn, fanout_t *fo,
                                         struct admin_job *job, json_t *req,
                                         const json_t *changes, enum endpoint_cmd_op engine_op,
                                         mh_err_t *err)
{
    json_t *fail = NULL, *reply;
    endpoint_t *ep = endpoint_cmd_named(st, req, &fail);

    if (ep == NULL)
        return fail;
    reply = endpoint_cmd_modify(st, txn, fo, job, ep, changes, 0, engine_op, err);
    endpoint_free(ep);
    return reply;
}

static json_t *endpoint_cmd_update_txn(store_t *st, store_txn_t *txn, fanout_t *fo,
                                       struct admin_job *job, json_t *req, mh_err_t *err)
{
    json_t *set = json_object_get(req, "set"), *fail = NULL, *reply;
    endpoint_t *ep;
    char bad[32];

    if (!json_is_object(set))
        return admin_error("bad_request", "endpoint.update needs a \"set\" object");
    if (!endpoint_cmd_set_allowed(set, bad, sizeof(bad)))
        return admin_error("bad_request", "%s cannot be changed", bad);
    if ((ep = endpoint_cmd_named(st, req, &fail)) == NULL)
        return fail;
    if (ep->from_config)
        reply = admin_error("conflict", "endpoint %s is declared in mailhook.conf: change it "
                            "there and reload", ep->name);
    else
        reply = endpoint_cmd_modify(st, txn, fo, job, ep, set, 0, ENGINE_UPDATE, err);
    endpoint_free(ep);
    return reply;
}

static json_t *endpoint_cmd_update(const struct admin_env *env, struct admin_job *job,
                                   store_t *st, json_t *req)
{
    return endpoint_cmd_in_txn(st, endpoint_cmd_update_txn, env->fanout, job, req);
}

static json_t *endpoint_cmd_enable_txn(store_t *st, store_txn_t *txn, fanout_t *fo,
                                       struct admin_job *job, json_t *req, mh_err_t *err)
{
    json_t *changes = json_pack("{s:b,s:{s:s,s:i,s:i,s:s}}", "enabled", 1, "health", "state",
                                endpoint_health_name(EP_HEALTHY), "consecutive_failures", 0,
                                "failing_since", 0,
                                "disabled_reason", "");
    json_t *reply = endpoint_cmd_modify_named(st, txn, fo, job, req, changes, ENGINE_SET, err);

    json_decref(changes);
    return reply;
}

static json_t *endpoint_cmd_disable_txn(store_t *st, store_txn_t *txn, fanout_t *fo,
                                        struct admin_job *job, json_t *req, mh_err_t *err)
{
    json_t *changes = json_pack("{s:b}", "enabled", 0);
    json_t *reply = endpoint_cmd_modify_named(st, txn, fo, job, req, changes, ENGINE_UPDATE,
                                             err);

    json_decref(changes);
    return reply;
}

static json_t *endpoint_cmd_enable(const struct admin_env *env, struct admin_job *job,
                                   store_t *st, json_t *req)
{
    return endpoint_cmd_in_txn(st, endpoint_cmd_enable_txn, env->fanout, job, req);
}

static json_t *endpoint_cmd_disable(const struct admin_env *env, struct admin_job *job,
                                    store_t *st, json_t *req)
{
    return endpoint_cmd_in_txn(st, endpoint_cmd_disable_txn, env->fanout, job, req);
}

static json_t *endpoint_cmd_rotate_txn(store_t *st, store_txn_t *txn, fanout_t *fo,
                                       struct admin_job *job, json_t *req, mh_err_t *err)
{
    json_int_t overlap = ROTATE_OVERLAP_DEFAULT_S;
    json_t *fail = NULL, *changes, *reply;
    const char *given = NULL;
    char *fresh = NULL;
    endpoint_t *ep;

    if (json_unpack(req, "{s?s,s?I}", "secret", &given, "overlap_s", &overlap) < 0 ||
        overlap < 0 || overlap > 365 * 86400)
        return admin_error("bad_request", "rotate_secret: secret is a string, overlap_s 0..1 year");
    if ((ep = endpoint_cmd_named(st, req, &fail)) == NULL)
        return fail;
    /* sendgrid: a new key pair, whose public key the receiver must be
     * given (its verifier holds one key: no second signature meanwhile) */
    if (given == NULL && endpoint_secret_new(ep->scheme, &fresh, err) < 0) {
        endpoint_free(ep);
        return admin_error("internal", "%s", err->text);
    }
    changes = json_pack("{s:s,s:s,s:I}", "secret", given ? given : fresh, "old_secret",
                        ep->secret, "old_secret_until",
                        (json_int_t)(time_now_ms() + overlap * 1000));
    reply = endpoint_cmd_modify(st, txn, fo, job, ep, changes, EP_JSON_SECRETS, ENGINE_UPDATE,
                                err);
    endpoint_free(ep);
    json_decref(changes);
    if (fresh)
        secure_wipe(fresh, strlen(fresh));
    free(fresh);
    return reply;
}

static json_t *endpoint_cmd_rotate(const struct admin_env *env, struct admin_job *job,
                                   store_t *st, json_t *req)
{
    return endpoint_cmd_in_txn(st, endpoint_cmd_rotate_txn, env->fanout, job, req);
}

/* Loop thread, before the job: a secret set in mailhook.conf would come
 * back at the next reload, so it is rotated there. */
static json_t *endpoint_cmd_rotate_check(const struct admin_env *env, json_t *req)
{
    const char *name = json_string_value(json_object_get(req, "name"));

    for (size_t i = 0; name && i < env->conf->n_endpoints; i++)
        if (strcmp(env->conf->endpoints[i].name, name) == 0 && env->conf->endpoints[i].secret[0])
            return admin_error("conflict", "the secret of endpoint %s is set in mailhook.conf: "
                               "change it there and reload", name);
    return NULL;
}

/* ---- endpoint.remove */

struct drop_ctx {
    uint64_t *seqs;
    size_t n;
};

static int drop_collect(void *ctx, uint64_t seq, const void *entry, size_t len)
{
    struct drop_ctx *dc = ctx;

    dc->seqs[dc->n++] = seq;
    return 0;
}

/* Delete an endpoint's queue in chunks, a transaction each (a big queue
 * would not fit one transaction's locks). */
static int endpoint_cmd_drop_queue(store_t *st, const char *name, uint64_t *dropped, mh_err_t *err)
{
    struct drop_ctx dc = { xcalloc(REMOVE_CHUNK, sizeof(uint64_t)), 0 };
    store_txn_t *txn = NULL;
    int rc = 0;

    *dropped = 0;
    do {
        dc.n = 0;
        if ((rc = store_queue_scan(st, name, 0, REMOVE_CHUNK, drop_collect, &dc, err)) < 0 ||
            dc.n == 0 || (txn = store_begin(st, err)) == NULL)
            break;
        for (size_t i = 0; i < dc.n && rc == 0; i++)
            rc = store_queue_remove(txn, name, dc.seqs[i], err);
        if (rc < 0)
            store_abort(txn);
        else
            rc = store_commit(txn, err);
        *dropped += dc.n;
    } while (rc == 0 && dc.n == REMOVE_CHUNK);
    free(dc.seqs);
    return rc < 0 || (dc.n > 0 && txn == NULL) ? -1 : 0;
}

static json_t *endpoint_cmd_remove(const struct admin_env *env, struct admin_job *job,
                                   store_t *st, json_t *req)
{
    json_t *fail = NULL;
    endpoint_t *ep = endpoint_cmd_named(st, req, &fail);
    struct endpoint_cmd_handover *h;
    uint64_t dropped = 0;
    store_txn_t *txn;
    mh_err_t err;
    json_t *reply;

    if (ep == NULL)
        return fail;
    if (ep->from_config) {
        reply = admin_error("conflict", "endpoint %s is declared in mailhook.conf: remove it "
                            "there and reload", ep->name);
        endpoint_free(ep);
        return reply;
    }
    if ((txn = store_begin(st, &err)) == NULL)
        goto fail;
    if (store_kv_del(txn, STORE_ENDPOINTS, ep->name, &err) < 0) {
        store_abort(txn);
        goto fail;
    }
    if (store_commit(txn, &err) < 0)
        goto fail;
    fanout_remove_endpoint(env->fanout, ep->name);
    if (endpoint_cmd_drop_queue(st, ep->name, &dropped, &err) < 0)
        msg_warn("endpoint %s removed, but not all of its queue: %s", ep->name, err.text);
    reply = json_pack("{s:b,s:I}", "ok", 1, "dropped", (json_int_t)dropped);
    endpoint_cmd_hand_over(job, ENGINE_REMOVE, NULL);
    h = admin_job_carried(job);
    snprintf(h->name, sizeof(h->name), "%s", ep->name);
    h->dropped = dropped;
    endpoint_free(ep);
    return reply;
fail:
    endpoint_free(ep);
    return admin_error("internal", "%s", err.text);
}

/* ---- endpoint.test: the stored endpoint for the engine, sent on the loop */

static json_t *endpoint_cmd_test(const struct admin_env *env, struct admin_job *job,
                                 store_t *st, json_t *req)
{
    json_t *fail = NULL;
    endpoint_t *ep = endpoint_cmd_named(st, req, &fail);

    if (ep == NULL)
        return fail;
    return endpoint_cmd_reply(job, ep, 0, ENGINE_TEST);
}

static void endpoint_cmd_test_answer(void *ctx, json_t *result)
{
    admin_job_complete(ctx, result);
}

/* ---- endpoint.preview: the endpoint, and the stored event when named */

static json_t *endpoint_cmd_preview(const struct admin_env *env, struct admin_job *job,
                                    store_t *st, json_t *req)
{
    struct endpoint_cmd_handover *h;
    const char *id = NULL;
    json_t *fail = NULL, *reply;
    endpoint_t *ep = endpoint_cmd_named(st, req, &fail);
    char shown[72];
    mh_err_t err;
    int rc = 0;

    if (ep == NULL)
        return fail;
    reply = endpoint_cmd_reply(job, ep, 0, ENGINE_PREVIEW);
    h = admin_job_carried(job);
    if (json_unpack(req, "{s?s}", "event", &id) == 0 && id != NULL &&
        ((rc = store_event_find(st, id, &h->seq, &err)) != 0 ||
         (rc = store_event_get_seq(st, h->seq, &h->event, &h->event_len, &err)) != 0)) {
        json_decref(reply);
        return rc < 0 ? admin_error("internal", "%s", err.text)
                      : admin_error("not_found", "no event %s",
                                    printable(shown, sizeof(shown), id, strlen(id)));
    }
    return reply;
}

/* Deferred answers need the engine, which is gone once stopping began
 * (and absent when fuzz/fuzz_admin.c runs the commands on a store alone). */
static json_t *endpoint_cmd_test_check(const struct admin_env *env, json_t *req)
{
    return (env->stopping && *env->stopping) || env->delivery == NULL
               ? admin_error("internal", "mailhookd is stopping")
               : NULL;
}

/* ---- the engine side of every endpoint command (loop thread) */

static bool endpoint_cmd_finish(const struct admin_env *env, struct admin_job *job, json_t *req,
                                json_t *reply)
{
    struct endpoint_cmd_handover *h = admin_job_carried(job);
    const char *type = "email.delivered";

    if (h == NULL || env->delivery == NULL) /* no engine: see endpoint_cmd_test_check */
        return false;
    switch (h->op) {
    case ENGINE_REMOVE:
        delivery_endpoint_remove(env->delivery, h->name, h->dropped);
        return false;
    case ENGINE_TEST:
        json_unpack(req, "{s?s}", "type", &type);
        delivery_test(env->delivery, h->ep, type, endpoint_cmd_test_answer, job);
        json_decref(reply);
        return true;
    case ENGINE_PREVIEW:
        json_unpack(req, "{s?s}", "type", &type);
        json_decref(reply);
        delivery_preview(env->delivery, h->ep, h->event, h->event_len, h->seq, type,
                         endpoint_cmd_test_answer, job);
        return true;
    case ENGINE_SET:
    case ENGINE_UPDATE:
        delivery_endpoint_set(env->delivery, h->ep, h->op == ENGINE_UPDATE);
        return false;
    }
    return false;
}

const struct admin_command admin_endpoint_commands[] = {
    { "endpoint.add", NULL, endpoint_cmd_add, endpoint_cmd_finish },
    { "endpoint.list", NULL, endpoint_cmd_list, NULL },
    { "endpoint.show", NULL, endpoint_cmd_show, NULL },
    { "endpoint.update", NULL, endpoint_cmd_update, endpoint_cmd_finish },
    { "endpoint.enable", NULL, endpoint_cmd_enable, endpoint_cmd_finish },
    { "endpoint.disable", NULL, endpoint_cmd_disable, endpoint_cmd_finish },
    { "endpoint.remove", NULL, endpoint_cmd_remove, endpoint_cmd_finish },
    { "endpoint.rotate_secret", endpoint_cmd_rotate_check, endpoint_cmd_rotate,
      endpoint_cmd_finish },
    { "endpoint.test", endpoint_cmd_test_check, endpoint_cmd_test, endpoint_cmd_finish },
    { "endpoint.preview", endpoint_cmd_test_check, endpoint_cmd_preview, endpoint_cmd_finish },
    { NULL, NULL, NULL, NULL },
};
