/* SPDX-License-Identifier: MIT */
/*
 * endpoint_store.c - endpoint records in the store (see endpoint_store.h).
 *
 * An endpoint is one JSON record in STORE_ENDPOINTS (endpoint.h). Every
 * change goes through endpoint_store_change(): merged, validated, stored,
 * and given to the fan-out's matching list in the same store thread step,
 * so the next stored event already sees it.
 *
 * Endpoints declared in mailhook.conf (source "config") are synced at start
 * and reload (endpoint_store_sync).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cjson.h"
#include "endpoint_declared.h"
#include "endpoint_limits.h"
#include "endpoint_store.h"
#include "timeutil.h"
#include "xalloc.h"

#define UNDECLARED_REASON "no longer declared in mailhook.conf"

int endpoint_store_load(store_t *st, const char *name, endpoint_t **out, mh_err_t *err)
{
    char shown[EP_NAME_MAX + 8]; /* name may come from a request */
    json_t *obj;
    size_t len;
    void *val;
    int rc;

    *out = NULL;
    if ((rc = store_kv_get(st, STORE_ENDPOINTS, name, &val, &len, err)) != 0) {
        if (rc == 1)
            mh_err_set(err, "no endpoint %s", printable(shown, sizeof(shown), name, strlen(name)));
        return rc < 0 ? -1 : 1;
    }
    obj = json_loadb(val, len, 0, NULL);
    free(val);
    if (obj == NULL) {
        mh_err_set(err, "stored endpoint %s is not valid JSON",
                   printable(shown, sizeof(shown), name, strlen(name)));
        return ENDPOINT_STORE_UNUSABLE;
    }
    *out = endpoint_from_json(obj, err);
    json_decref(obj);
    return *out ? 0 : ENDPOINT_STORE_UNUSABLE;
}

int endpoint_store_put(store_txn_t *txn, const endpoint_t *ep, mh_err_t *err)
{
    json_t *obj = endpoint_to_json(ep, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    size_t len;
    char *text = cjson_dump(obj, &len);
    int rc = store_kv_put(txn, STORE_ENDPOINTS, ep->name, text, len, err);

    free(text);
    json_decref(obj);
    return rc;
}

int endpoint_store_change(store_t *st, store_txn_t *txn, fanout_t *fo, const endpoint_t *base,
                          const json_t *changes, bool touch, endpoint_t **out, mh_err_t *err)
{
    endpoint_t *ep = endpoint_merge(base, changes, err);

    if (ep == NULL)
        return -1;
    if ((json_object_get(changes, "transform") || json_object_get(changes, "where")) &&
        endpoint_programs_check(ep, err) < 0) {
        endpoint_free(ep);
        return -1;
    }
    if (touch)
        ep->updated = time_now_ms();
    if (endpoint_store_put(txn, ep, err) < 0) {
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

/* ---- declared in mailhook.conf */

json_t *endpoint_store_declared_all(const mh_conf_t *c)
{
    json_t *a = json_array(), *obj;
    mh_err_t err;

    for (size_t i = 0; i < c->n_endpoints; i++) {
        if ((obj = endpoint_declared_json(&c->endpoints[i], &err)) == NULL)
            msg_warn("%s", err.text);
        else
            json_array_append_new(a, obj);
    }
    return a;
}

int endpoint_store_check_conf(const mh_conf_t *c, mh_err_t *err)
{
    json_t *obj;
    endpoint_t *ep;

    for (size_t i = 0; i < c->n_endpoints; i++) {
        if ((obj = endpoint_declared_json(&c->endpoints[i], err)) == NULL)
            return -1;
        ep = endpoint_from_json(obj, err); /* an absent secret: one is generated, then freed */
        json_decref(obj);
        if (ep == NULL)
            return -1;
        if (endpoint_programs_check(ep, err) < 0) {
            endpoint_free(ep);
            return -1;
        }
        endpoint_free(ep);
    }
    return 0;
}

/* The options a declaration may leave out (CONF_UNSET in the key table)
 * but the secret: one left out of mailhook.conf now takes its default
 * again, not the value an earlier declaration gave it (a "types" line
 * removed delivers every type again). The secret stays: the stored one is
 * the endpoint's own (generated when none was declared, or rotated). */
static const struct {
    const char *key;
    bool unset;
} declared_keys[] = {
#define CONF_NO false
#define CONF_YES false
#define CONF_UNSET(v) true
#define ENDPOINT_KEY(key, type, min, max, def, cli, conf, doc) { #key, conf },
#include "endpoint_keys.def"
#undef CONF_NO
#undef CONF_YES
#undef CONF_UNSET
};

static void declared_defaults(json_t *obj)
{
    for (size_t i = 0; i < sizeof(declared_keys) / sizeof(declared_keys[0]); i++)
        if (declared_keys[i].unset && strcmp(declared_keys[i].key, "secret") != 0 &&
            json_object_get(obj, declared_keys[i].key) == NULL)
            json_object_set_new(obj, declared_keys[i].key, json_null());
}

/* Store thread: one declared endpoint into the store. */
static int sync_one(store_t *st, store_txn_t *txn, fanout_t *fo, json_t *decl, mh_err_t *err)
{
    const char *name = json_string_value(json_object_get(decl, "name"));
    endpoint_t *old, *ep;
    json_t *obj;
    int64_t now = time_now_ms();
    int rc;

    /* A store that cannot be read is an error, never an absent record
     * (which would be created again, over the one stored). A record that is
     * there but unusable is replaced by the declaration, which is the truth
     * for a declared endpoint (and the command line cannot mend it). */
    if ((rc = endpoint_store_load(st, name, &old, err)) < 0)
        return -1;
    if (rc == ENDPOINT_STORE_UNUSABLE)
        msg_warn("%s: replaced by its declaration in mailhook.conf", err->text);
    obj = json_deep_copy(decl);
    if (old == NULL) {
        json_object_set_new(obj, "created", json_integer(now));
        json_object_set_new(obj, "updated", json_integer(now));
        if ((ep = endpoint_from_json(obj, err)) == NULL) {
            json_decref(obj);
            return -1;
        }
        rc = endpoint_store_put(txn, ep, err);
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
    declared_defaults(obj);
    if (!old->enabled && strcmp(old->disabled_reason, UNDECLARED_REASON) == 0) {
        json_object_set_new(obj, "enabled", json_true());
        json_object_set_new(obj, "health", json_pack("{s:s}", "disabled_reason", ""));
    }
    rc = endpoint_store_change(st, txn, fo, old, obj, true, NULL, err);
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

int endpoint_store_sync(store_t *st, fanout_t *fo, const json_t *declared, mh_err_t *err)
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
        if ((rc = endpoint_store_load(st, uc.names[i], &ep, err)) != 0) {
            rc = rc < 0 ? -1 : 0; /* absent, or unusable: nothing to disable */
            continue;
        }
        msg_warn("endpoint %s is no longer declared in mailhook.conf: disabled, its queue kept "
                 "(\"mailhookctl endpoint remove %s\" drops it)", ep->name, ep->name);
        rc = endpoint_store_change(st, txn, fo, ep, off, true, NULL, err);
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
