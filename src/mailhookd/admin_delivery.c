/*
 * admin_delivery.c - endpoint records and the endpoint.* admin commands
 * (see admin_delivery.h and admin_proto.h). The deliveries.* and replay
 * commands are in admin_replay.c.
 *
 * An endpoint is one JSON record in STORE_ENDPOINTS (endpoint.h). Every
 * change goes through admin_endpoint_change(): merged, validated, stored,
 * and given to the fan-out's matching list in the same store thread step,
 * so the next stored event already sees it. The engine learns of it when
 * the command finishes on the loop thread (ADMIN_ENGINE_KEY).
 *
 * Endpoints declared in mailhook.conf (source "config") are synced at start
 * and reload; the command line may enable, disable and test them, and
 * rotate a secret the file does not set, but not change or remove them.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_delivery.h"
#include "cjson.h"
#include "delivery.h"
#include "sign.h"
#include "timeutil.h"
#include "xalloc.h"

#define ROTATE_OVERLAP_DEFAULT_S 86400
#define REMOVE_CHUNK 5000
#define UNDECLARED_REASON "no longer declared in mailhook.conf"

/* The text is made printable as a whole: it quotes the request, and
 * mailhookctl prints it (callers quote through printable() already). */
json_t *admin_error(const char *code, const char *fmt, ...)
{
    char raw[512], text[sizeof(raw)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    printable(text, sizeof(text), raw, strlen(raw));
    return json_pack("{s:b,s:s,s:s}", "ok", 0, "code", code, "error", text);
}

/* ---- records */

endpoint_t *admin_endpoint_load(store_t *st, const char *name, mh_err_t *err)
{
    char shown[EP_NAME_MAX + 8]; /* name may come from a request */
    endpoint_t *ep;
    json_t *obj;
    size_t len;
    void *val;
    int rc;

    if ((rc = store_kv_get(st, STORE_ENDPOINTS, name, &val, &len, err)) != 0) {
        if (rc == 1)
            mh_err_set(err, "no endpoint %s", printable(shown, sizeof(shown), name, strlen(name)));
        return NULL;
    }
    obj = json_loadb(val, len, 0, NULL);
    free(val);
    if (obj == NULL) {
        mh_err_set(err, "stored endpoint %s is not valid JSON",
                   printable(shown, sizeof(shown), name, strlen(name)));
        return NULL;
    }
    ep = endpoint_from_json(obj, err);
    json_decref(obj);
    return ep;
}

static int admin_endpoint_put(store_txn_t *txn, const endpoint_t *ep, mh_err_t *err)
{
    json_t *obj = endpoint_to_json(ep, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    size_t len;
    char *text = cjson_dump(obj, &len);
    int rc = store_kv_put(txn, STORE_ENDPOINTS, ep->name, text, len, err);

    free(text);
    json_decref(obj);
    return rc;
}

int admin_endpoint_change(store_t *st, store_txn_t *txn, fanout_t *fo, const endpoint_t *base,
                          const json_t *changes, bool touch, endpoint_t **out, mh_err_t *err)
{
    endpoint_t *ep = endpoint_merge(base, changes, err);

    if (ep == NULL)
        return -1;
    if (touch)
        ep->updated = time_now_ms();
    if (admin_endpoint_put(txn, ep, err) < 0) {
        endpoint_free(ep);
        return -1;
    }
    fanout_set_endpoint(fo, ep);
    if (out)
        *out = ep;
    else
        endpoint_free(ep);
    return 0;
}

/* Answer with an endpoint: masked for the user, in full for the engine. */
static json_t *admin_endpoint_reply(const endpoint_t *ep, unsigned show, const char *engine_op)
{
    json_t *reply = json_pack("{s:b,s:o}", "ok", 1, "endpoint", endpoint_to_json(ep, show));

    if (engine_op)
        json_object_set_new(reply, ADMIN_ENGINE_KEY,
                            json_pack("{s:s,s:o}", "op", engine_op, "endpoint",
                                      endpoint_to_json(ep, EP_JSON_SECRETS | EP_JSON_RAW_URL)));
    return reply;
}

/* Run fn in a transaction of its own; its answer, or an error answer. */
static json_t *admin_in_txn(store_t *st, json_t *(*fn)(store_t *, store_txn_t *, fanout_t *,
                                                         json_t *, mh_err_t *),
                            fanout_t *fo, json_t *req)
{
    mh_err_t err = { "" };
    store_txn_t *txn = store_begin(st, &err);
    json_t *reply;

    if (txn == NULL)
        return admin_error("internal", "%s", err.text);
    reply = fn(st, txn, fo, req, &err);
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
static endpoint_t *admin_named(store_t *st, json_t *req, json_t **fail)
{
    const char *name = NULL;
    endpoint_t *ep;
    mh_err_t err;

    if (json_unpack(req, "{s:s}", "name", &name) < 0) {
        *fail = admin_error("bad_request", "the request needs a \"name\"");
        return NULL;
    }
    if ((ep = admin_endpoint_load(st, name, &err)) == NULL)
        *fail = admin_error(strncmp(err.text, "no endpoint", 11) == 0 ? "not_found" : "internal",
                            "%s", err.text);
    return ep;
}

/* ---- endpoint.add */

static json_t *ep_add_txn(store_t *st, store_txn_t *txn, fanout_t *fo, json_t *req, mh_err_t *err)
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
    if (ep == NULL)
        return admin_error("bad_request", "%s", err->text);
    if (admin_endpoint_put(txn, ep, err) < 0) {
        endpoint_free(ep);
        return admin_error("internal", "%s", err->text);
    }
    fanout_set_endpoint(fo, ep);
    reply = admin_endpoint_reply(ep, EP_JSON_SECRETS, "set");
    endpoint_free(ep);
    return reply;
}

static json_t *ep_add(daemon_t *d, store_t *st, json_t *req)
{
    return admin_in_txn(st, ep_add_txn, d->fanout, req);
}

/* ---- endpoint.list / endpoint.show */

static json_t *ep_with_queued(store_t *st, const endpoint_t *ep, unsigned show)
{
    json_t *obj = endpoint_to_json(ep, show);
    uint64_t n = 0;

    store_queue_count(st, ep->name, &n, NULL);
    json_object_set_new(obj, "queued", json_integer((json_int_t)n));
    return obj;
}

struct list_ctx {
    store_t *st;
    json_t *eps;
};

static int ep_list_one(void *ctx, const char *key, const void *val, size_t len)
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
    json_array_append_new(lc->eps, ep_with_queued(lc->st, ep, 0));
    endpoint_free(ep);
    return 0;
}

static json_t *ep_list(daemon_t *d, store_t *st, json_t *req)
{
    struct list_ctx lc = { st, json_array() };
    mh_err_t err;

    if (store_kv_scan(st, STORE_ENDPOINTS, NULL, ep_list_one, &lc, &err) < 0) {
        json_decref(lc.eps);
        return admin_error("internal", "%s", err.text);
    }
    return json_pack("{s:b,s:o}", "ok", 1, "endpoints", lc.eps);
}

static json_t *ep_show(daemon_t *d, store_t *st, json_t *req)
{
    json_t *fail = NULL;
    endpoint_t *ep = admin_named(st, req, &fail);
    bool reveal = json_is_true(json_object_get(req, "reveal_secret"));
    json_t *reply;

    if (ep == NULL)
        return fail;
    reply = json_pack("{s:b,s:o}", "ok", 1, "endpoint",
                      ep_with_queued(st, ep, reveal ? EP_JSON_SECRETS : 0));
    endpoint_free(ep);
    return reply;
}

/* ---- endpoint.update / enable / disable / rotate_secret */

static bool ep_set_allowed(const json_t *set, char *bad, size_t size)
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
static json_t *ep_modify(store_t *st, store_txn_t *txn, fanout_t *fo, const endpoint_t *ep,
                         const json_t *changes, unsigned show, const char *engine_op,
                         mh_err_t *err)
{
    endpoint_t *out = NULL;
    json_t *reply;

    if (admin_endpoint_change(st, txn, fo, ep, changes, true, &out, err) < 0)
        return admin_error("bad_request", "%s", err->text);
    reply = admin_endpoint_reply(out, show, engine_op);
    endpoint_free(out);
    return reply;
}

/* The named endpoint with changes applied: the common case of the
 * endpoint commands. */
static json_t *ep_modify_named(store_t *st, store_txn_t *txn, fanout_t *fo, json_t *req,
                               const json_t *changes, const char *engine_op, mh_err_t *err)
{
    json_t *fail = NULL, *reply;
    endpoint_t *ep = admin_named(st, req, &fail);

    if (ep == NULL)
        return fail;
    reply = ep_modify(st, txn, fo, ep, changes, 0, engine_op, err);
    endpoint_free(ep);
    return reply;
}

static json_t *ep_update_txn(store_t *st, store_txn_t *txn, fanout_t *fo, json_t *req,
                             mh_err_t *err)
{
    json_t *set = json_object_get(req, "set"), *fail = NULL, *reply;
    endpoint_t *ep;
    char bad[32];

    if (!json_is_object(set))
        return admin_error("bad_request", "endpoint.update needs a \"set\" object");
    if (!ep_set_allowed(set, bad, sizeof(bad)))
        return admin_error("bad_request", "%s cannot be changed", bad);
    if ((ep = admin_named(st, req, &fail)) == NULL)
        return fail;
    if (ep->from_config)
        reply = admin_error("conflict", "endpoint %s is declared in mailhook.conf: change it "
                            "there and reload", ep->name);
    else
        reply = ep_modify(st, txn, fo, ep, set, 0, "update", err);
    endpoint_free(ep);
    return reply;
}

static json_t *ep_update(daemon_t *d, store_t *st, json_t *req)
{
    return admin_in_txn(st, ep_update_txn, d->fanout, req);
}

static json_t *ep_enable_txn(store_t *st, store_txn_t *txn, fanout_t *fo, json_t *req,
                             mh_err_t *err)
{
    json_t *changes = json_pack("{s:b,s:{s:s,s:i,s:i,s:s}}", "enabled", 1, "health", "state",
                                "healthy", "consecutive_failures", 0, "failing_since", 0,
                                "disabled_reason", "");
    json_t *reply = ep_modify_named(st, txn, fo, req, changes, "set", err);

    json_decref(changes);
    return reply;
}

static json_t *ep_disable_txn(store_t *st, store_txn_t *txn, fanout_t *fo, json_t *req,
                              mh_err_t *err)
{
    json_t *changes = json_pack("{s:b}", "enabled", 0);
    json_t *reply = ep_modify_named(st, txn, fo, req, changes, "update", err);

    json_decref(changes);
    return reply;
}

static json_t *ep_enable(daemon_t *d, store_t *st, json_t *req)
{
    return admin_in_txn(st, ep_enable_txn, d->fanout, req);
}

static json_t *ep_disable(daemon_t *d, store_t *st, json_t *req)
{
    return admin_in_txn(st, ep_disable_txn, d->fanout, req);
}

static json_t *ep_rotate_txn(store_t *st, store_txn_t *txn, fanout_t *fo, json_t *req,
                             mh_err_t *err)
{
    json_int_t overlap = ROTATE_OVERLAP_DEFAULT_S;
    json_t *fail = NULL, *changes, *reply;
    const char *given = NULL;
    char fresh[SIGN_SECRET_SIZE];
    endpoint_t *ep;

    if (json_unpack(req, "{s?s,s?I}", "secret", &given, "overlap_s", &overlap) < 0 ||
        overlap < 0 || overlap > 365 * 86400)
        return admin_error("bad_request", "rotate_secret: secret is a string, overlap_s 0..1 year");
    if ((ep = admin_named(st, req, &fail)) == NULL)
        return fail;
    if (given == NULL && sign_secret_new(fresh, err) < 0) {
        endpoint_free(ep);
        return admin_error("internal", "%s", err->text);
    }
    changes = json_pack("{s:s,s:s,s:I}", "secret", given ? given : fresh, "old_secret",
                        ep->secret, "old_secret_until",
                        (json_int_t)(time_now_ms() + overlap * 1000));
    reply = ep_modify(st, txn, fo, ep, changes, EP_JSON_SECRETS, "update", err);
    endpoint_free(ep);
    json_decref(changes);
    if (given == NULL)
        secure_wipe(fresh, sizeof(fresh));
    return reply;
}

static json_t *ep_rotate(daemon_t *d, store_t *st, json_t *req)
{
    return admin_in_txn(st, ep_rotate_txn, d->fanout, req);
}

/* Loop thread, before the job: a secret set in mailhook.conf would come
 * back at the next reload, so it is rotated there. */
static json_t *ep_rotate_check(daemon_t *d, json_t *req)
{
    const char *name = json_string_value(json_object_get(req, "name"));

    for (size_t i = 0; name && i < d->conf->n_endpoints; i++)
        if (strcmp(d->conf->endpoints[i].name, name) == 0 && d->conf->endpoints[i].secret[0])
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
static int ep_drop_queue(store_t *st, const char *name, uint64_t *dropped, mh_err_t *err)
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

static json_t *ep_remove(daemon_t *d, store_t *st, json_t *req)
{
    json_t *fail = NULL;
    endpoint_t *ep = admin_named(st, req, &fail);
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
    fanout_remove_endpoint(d->fanout, ep->name);
    if (ep_drop_queue(st, ep->name, &dropped, &err) < 0)
        msg_warn("endpoint %s removed, but not all of its queue: %s", ep->name, err.text);
    reply = json_pack("{s:b,s:I,s:{s:s,s:s}}", "ok", 1, "dropped", (json_int_t)dropped,
                      ADMIN_ENGINE_KEY, "op", "remove", "name", ep->name);
    endpoint_free(ep);
    return reply;
fail:
    endpoint_free(ep);
    return admin_error("internal", "%s", err.text);
}

/* ---- endpoint.test: the stored endpoint for the engine, sent on the loop */

static json_t *ep_test(daemon_t *d, store_t *st, json_t *req)
{
    json_t *fail = NULL, *reply;
    endpoint_t *ep = admin_named(st, req, &fail);

    if (ep == NULL)
        return fail;
    reply = admin_endpoint_reply(ep, 0, "test");
    endpoint_free(ep);
    return reply;
}

static void ep_test_answer(void *ctx, json_t *result)
{
    admin_job_complete(ctx, result);
}

/* Deferred answers need the engine, which is gone once stopping began
 * (and absent when fuzz/fuzz_admin.c runs the commands on a store alone). */
static json_t *ep_test_check(daemon_t *d, json_t *req)
{
    return d->stopping || d->delivery == NULL ? admin_error("internal", "mailhookd is stopping")
                                              : NULL;
}

/* ---- the engine side of every endpoint command (loop thread) */

static bool ep_finish(daemon_t *d, struct admin_job *job, json_t *req, json_t *reply)
{
    json_t *engine = json_object_get(reply, ADMIN_ENGINE_KEY);
    const char *op = json_string_value(json_object_get(engine, "op"));
    endpoint_t *ep = NULL;
    const char *type = "email.delivered";
    mh_err_t err;

    if (engine == NULL || op == NULL || d->delivery == NULL) /* no engine: see ep_test_check */
        return false;
    if (strcmp(op, "remove") == 0) {
        delivery_endpoint_remove(d->delivery, json_string_value(json_object_get(engine, "name")),
                                 (uint64_t)json_integer_value(json_object_get(reply, "dropped")));
    } else if ((ep = endpoint_from_json(json_object_get(engine, "endpoint"), &err)) == NULL) {
        msg_warn("admin: endpoint for the engine: %s", err.text);
    } else if (strcmp(op, "test") == 0) {
        json_unpack(req, "{s?s}", "type", &type);
        delivery_test(d->delivery, ep, type, ep_test_answer, job);
        endpoint_free(ep);
        json_decref(reply);
        return true;
    } else {
        delivery_endpoint_set(d->delivery, ep, strcmp(op, "update") == 0);
    }
    endpoint_free(ep);
    json_object_del(reply, ADMIN_ENGINE_KEY);
    return false;
}

/* ---- declared in mailhook.conf */

static int declared_headers(json_t *obj, const struct mh_conf_endpoint *ce, mh_err_t *err)
{
    char shown[68];
    json_t *h = json_object();

    json_object_set_new(obj, "headers", h);
    for (size_t i = 0; i < ce->n_headers; i++) {
        const char *line = ce->headers[i], *colon = strchr(line, ':');
        char *name;

        if (colon == NULL || colon == line)
            return mh_err_set(err, "endpoint %s: headers: \"%s\" is not \"Name: value\"",
                              ce->name, printable(shown, sizeof(shown), line, strlen(line)));
        name = xstrndup(line, (size_t)(colon - line));
        for (colon++; *colon == ' ' || *colon == '\t'; colon++)
            ;
        json_object_set_new(h, name, json_string(colon));
        free(name);
    }
    return 0;
}

static int declared_retry(json_t *obj, const struct mh_conf_endpoint *ce, mh_err_t *err)
{
    char shown[36];
    json_t *a;
    int64_t ms;

    if (ce->n_retry == 0)
        return 0;
    a = json_array();
    json_object_set_new(obj, "retry", a);
    for (size_t i = 0; i < ce->n_retry; i++) {
        if (time_parse_duration_ms(ce->retry[i], &ms) < 0 || ms % 1000 != 0)
            return mh_err_set(err, "endpoint %s: retry: \"%s\" is not a duration in whole "
                              "seconds (5s, 30m, 2h)", ce->name,
                              printable(shown, sizeof(shown), ce->retry[i], strlen(ce->retry[i])));
        json_array_append_new(a, json_integer(ms / 1000));
    }
    return 0;
}

static json_t *strlist(char **v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

json_t *admin_endpoint_declared(const struct mh_conf_endpoint *ce, mh_err_t *err)
{
    json_t *obj = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:b,s:s}", "name", ce->name, "url",
                            ce->url, "scheme", ce->scheme, "signature_prefix",
                            ce->signature_prefix, "batch_max", ce->batch_max, "batch_wait_ms",
                            ce->batch_wait_ms, "timeout_ms", ce->timeout_ms, "concurrency",
                            ce->concurrency, "allow_http", ce->allow_http, "source", "config");

    if (ce->n_types)
        json_object_set_new(obj, "types", strlist(ce->types, ce->n_types));
    json_object_set_new(obj, "filters", strlist(ce->filters, ce->n_filters));
    if (ce->signature_header[0])
        json_object_set_new(obj, "signature_header", json_string(ce->signature_header));
    if (ce->secret[0])
        json_object_set_new(obj, "secret", json_string(ce->secret));
    if (strcmp(ce->event_header, "-") != 0)
        json_object_set_new(obj, "event_header", json_string(ce->event_header));
    if (strcmp(ce->delivery_header, "-") != 0)
        json_object_set_new(obj, "delivery_header", json_string(ce->delivery_header));
    if (ce->connect_timeout_ms)
        json_object_set_new(obj, "connect_timeout_ms", json_integer(ce->connect_timeout_ms));
    if (declared_headers(obj, ce, err) < 0 || declared_retry(obj, ce, err) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *admin_endpoints_declared(const mh_conf_t *c)
{
    json_t *a = json_array(), *obj;
    mh_err_t err;

    for (size_t i = 0; i < c->n_endpoints; i++) {
        if ((obj = admin_endpoint_declared(&c->endpoints[i], &err)) == NULL)
            msg_warn("%s", err.text);
        else
            json_array_append_new(a, obj);
    }
    return a;
}

int admin_endpoints_check(const mh_conf_t *c, mh_err_t *err)
{
    json_t *obj;
    endpoint_t *ep;

    for (size_t i = 0; i < c->n_endpoints; i++) {
        if ((obj = admin_endpoint_declared(&c->endpoints[i], err)) == NULL)
            return -1;
        ep = endpoint_from_json(obj, err); /* an absent secret: one is generated, then freed */
        json_decref(obj);
        if (ep == NULL)
            return -1;
        endpoint_free(ep);
    }
    return 0;
}

/* Store thread: one declared endpoint into the store. */
static int sync_one(store_t *st, store_txn_t *txn, fanout_t *fo, json_t *decl, mh_err_t *err)
{
    const char *name = json_string_value(json_object_get(decl, "name"));
    endpoint_t *old = admin_endpoint_load(st, name, NULL), *ep;
    json_t *obj = json_deep_copy(decl);
    int64_t now = time_now_ms();
    int rc;

    if (old == NULL) {
        json_object_set_new(obj, "created", json_integer(now));
        json_object_set_new(obj, "updated", json_integer(now));
        if ((ep = endpoint_from_json(obj, err)) == NULL) {
            json_decref(obj);
            return -1;
        }
        rc = admin_endpoint_put(txn, ep, err);
        if (rc == 0) {
            fanout_set_endpoint(fo, ep);
            msg_info("endpoint %s created from mailhook.conf", name);
        }
        endpoint_free(ep);
        json_decref(obj);
        return rc;
    }
    if (!old->from_config)
        msg_warn("endpoint %s was created with mailhookctl; its declaration in mailhook.conf "
                 "takes it over", name);
    if (!old->enabled && strcmp(old->disabled_reason, UNDECLARED_REASON) == 0) {
        json_object_set_new(obj, "enabled", json_true());
        json_object_set_new(obj, "health", json_pack("{s:s}", "disabled_reason", ""));
    }
    rc = admin_endpoint_change(st, txn, fo, old, obj, true, NULL, err);
    endpoint_free(old);
    json_decref(obj);
    return rc;
}

struct undeclared_ctx {
    const json_t *declared;
    char **names;
    size_t n;
};

static int find_undeclared(void *ctx, const char *key, const void *val, size_t len)
{
    struct undeclared_ctx *uc = ctx;
    json_t *obj = json_loadb(val, len, 0, NULL), *d;
    size_t i;

    if (obj && json_is_true(json_object_get(obj, "enabled")) &&
        json_is_string(json_object_get(obj, "source")) &&
        strcmp(json_string_value(json_object_get(obj, "source")), "config") == 0) {
        json_array_foreach(uc->declared, i, d)
            if (strcmp(json_string_value(json_object_get(d, "name")), key) == 0)
                break;
        if (i == json_array_size(uc->declared)) {
            uc->names = xreallocarray(uc->names, uc->n + 1, sizeof(*uc->names));
            uc->names[uc->n++] = xstrdup(key);
        }
    }
    json_decref(obj);
    return 0;
}

int admin_endpoints_sync(store_t *st, fanout_t *fo, const json_t *declared, mh_err_t *err)
{
    struct undeclared_ctx uc = { declared, NULL, 0 };
    json_t *decl, *off = json_pack("{s:b,s:{s:s}}", "enabled", 0, "health", "disabled_reason",
                                   UNDECLARED_REASON);
    store_txn_t *txn;
    endpoint_t *ep;
    size_t i;
    int rc = 0;

    if (store_kv_scan(st, STORE_ENDPOINTS, NULL, find_undeclared, &uc, err) < 0 ||
        (txn = store_begin(st, err)) == NULL) {
        rc = -1;
        goto out;
    }
    json_array_foreach(declared, i, decl)
        if (rc == 0)
            rc = sync_one(st, txn, fo, decl, err);
    for (i = 0; rc == 0 && i < uc.n; i++) {
        if ((ep = admin_endpoint_load(st, uc.names[i], err)) == NULL)
            continue;
        msg_warn("endpoint %s is no longer declared in mailhook.conf: disabled, its queue kept "
                 "(\"mailhookctl endpoint remove %s\" drops it)", ep->name, ep->name);
        rc = admin_endpoint_change(st, txn, fo, ep, off, true, NULL, err);
        endpoint_free(ep);
    }
    if (rc < 0)
        store_abort(txn);
    else
        rc = store_commit(txn, err);
out:
    for (i = 0; i < uc.n; i++)
        free(uc.names[i]);
    free(uc.names);
    json_decref(off);
    return rc;
}

const struct admin_command admin_endpoint_commands[] = {
    { "endpoint.add", NULL, ep_add, ep_finish },
    { "endpoint.list", NULL, ep_list, NULL },
    { "endpoint.show", NULL, ep_show, NULL },
    { "endpoint.update", NULL, ep_update, ep_finish },
    { "endpoint.enable", NULL, ep_enable, ep_finish },
    { "endpoint.disable", NULL, ep_disable, ep_finish },
    { "endpoint.remove", NULL, ep_remove, ep_finish },
    { "endpoint.rotate_secret", ep_rotate_check, ep_rotate, ep_finish },
    { "endpoint.test", ep_test_check, ep_test, ep_finish },
    { NULL, NULL, NULL, NULL },
};
