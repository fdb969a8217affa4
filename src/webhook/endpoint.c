/*
 * endpoint.c - subscriber endpoints: the endpoint JSON object parsed and
 * validated, written back (complete or masked), changed, and matched
 * against events. endpoint.h lists the keys, their defaults and bounds.
 *
 *   endpoint_from_json(obj, err)   parse + validate, defaults filled in
 *   endpoint_to_json(ep, flags)    every key, in the order of ep_keys
 *   endpoint_merge(base, ch, err)  base's JSON overlaid with ch, reparsed
 *   endpoint_dup(ep), endpoint_free(ep)
 *   endpoint_type_matches(pattern, type), endpoint_matches(ep, type, data)
 *   endpoint_name_check(name, err), endpoint_redact_url(url)
 *   endpoint_scheme_name(s), endpoint_health_name(h)
 *
 * One table, ep_keys, names every key with its parser and its emitter, so
 * a key cannot be accepted without being written back: the round trip
 * endpoint_from_json(endpoint_to_json(ep, EP_JSON_SECRETS|EP_JSON_RAW_URL))
 * gives ep again, and endpoint_dup and endpoint_merge are built on it.
 *
 * Checks of single values are in endpoint_check.c, matching in
 * endpoint_match.c (endpoint_int.h).
 *
 * Errors read "endpoint NAME: KEY: problem". They never quote a secret or
 * a URL (which may hold a password); other input is quoted through
 * printable().
 */
#include "config.h"

#include <curl/curl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cjson.h"
#include "endpoint_int.h"
#include "event.h"
#include "sign.h"
#include "strutil.h"
#include "xalloc.h"

static const char *const scheme_names[] = { "standard", "hmac-sha256-hex", "sha256-secret-body" };
static const char *const health_names[] = { "healthy", "failing", "disabled" };
static const int retry_default[] = { 5, 300, 1800, 7200, 18000, 36000, 36000 };

/* ---- small helpers */

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* True when s holds a control character (C0 or DEL). */

static const char *string_value(const json_t *v, mh_err_t *err)
{
    if (!json_is_string(v)) {
        mh_err_set(err, "must be a string");
        return NULL;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        mh_err_set(err, "must not contain NUL");
        return NULL;
    }
    return json_string_value(v);
}

static void set_string(char **field, const char *s)
{
    free(*field);
    *field = xstrdup(s);
}

/* Free a string that may be (or hold) a secret. */
static void wipe_free(char *s)
{
    if (s) {
        secure_wipe(s, strlen(s));
        free(s);
    }
}

static void strv_free(char **v, size_t n)
{
    if (v) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
    }
}


/* ---- the key table: a parser and an emitter per key */

struct ep_key;
/* Parse v into ep; err receives the problem without the key (the caller adds it). */
typedef int ep_parse_fn(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err);
/* A new JSON value for the key. */
typedef json_t *ep_emit_fn(const endpoint_t *ep, const struct ep_key *k, unsigned flags);

struct ep_key {
    const char *name;
    ep_parse_fn *parse;
    ep_emit_fn *emit;
    size_t off;         /* the field, for the generic parsers */
    long long min, max; /* bounds: of a number, or of a string's length */
};

#define EP_FIELD(ep, k, type) ((type *)((char *)(ep) + (k)->off))
#define EP_CFIELD(ep, k, type) ((const type *)((const char *)(ep) + (k)->off))

static int parse_int(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    json_int_t n = json_integer_value(v);

    if (!json_is_integer(v) || n < k->min || n > k->max)
        return mh_err_set(err, "must be an integer from %lld to %lld", k->min, k->max);
    *EP_FIELD(ep, k, int) = (int)n;
    return 0;
}

static json_t *emit_int(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    return json_integer(*EP_CFIELD(ep, k, int));
}

static int parse_ms(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    json_int_t n = json_integer_value(v);

    if (!json_is_integer(v) || n < 0 || n > EP_MS_MAX)
        return mh_err_set(err, "must be milliseconds since the epoch (an integer >= 0)");
    *EP_FIELD(ep, k, int64_t) = n;
    return 0;
}

static json_t *emit_ms(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    return json_integer(*EP_CFIELD(ep, k, int64_t));
}

static int parse_bool(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    if (!json_is_boolean(v))
        return mh_err_set(err, "must be true or false");
    *EP_FIELD(ep, k, bool) = json_is_true(v);
    return 0;
}

static json_t *emit_bool(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    return json_boolean(*EP_CFIELD(ep, k, bool));
}

static json_t *emit_string(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    return json_string(*EP_CFIELD(ep, k, char *));
}

/* Free text of k->min..k->max bytes without control characters. */
static int parse_text(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL)
        return -1;
    if ((long long)strlen(s) < k->min || (long long)strlen(s) > k->max || str_has_ctl(s))
        return mh_err_set(err, "must be %lld to %lld characters, none of them control "
                               "characters", k->min, k->max);
    set_string(EP_FIELD(ep, k, char *), s);
    return 0;
}

/* Checked by endpoint_from_json before anything else. */
static int parse_name(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL || endpoint_name_check(s, err) < 0)
        return -1;
    set_string(&ep->name, s);
    return 0;
}

/* Kept as given; url_check judges it once allow_http is known. */
static int parse_url(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL)
        return -1;
    if (s[0] == 0 || strlen(s) > EP_URL_MAX)
        return mh_err_set(err, "must be a URL of 1 to %d characters", EP_URL_MAX);
    set_string(&ep->url, s);
    return 0;
}

static json_t *emit_url(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    char *red;
    json_t *v;

    if (flags & EP_JSON_RAW_URL)
        return json_string(ep->url);
    red = endpoint_redact_url(ep->url);
    v = json_string(red);
    free(red);
    return v;
}

static int parse_types(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    size_t n = json_array_size(v);
    const char *t;

    if (!json_is_array(v) || n == 0 || n > EP_TYPES_MAX)
        return mh_err_set(err, "must be an array of 1 to %d types (\"*\" for all)", EP_TYPES_MAX);
    ep->types = xcalloc(n, sizeof(*ep->types));
    for (size_t i = 0; i < n; i++) {
        if ((t = string_value(json_array_get(v, i), err)) == NULL ||
            ep_type_pattern_check(t, err) < 0)
            return -1;
        ep->types[ep->ntypes++] = xstrdup(t);
    }
    return 0;
}

static json_t *emit_strv(char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *emit_types(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    return emit_strv(ep->types, ep->ntypes);
}

static int parse_filters(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    size_t n = json_array_size(v);
    const char *t;

    if (!json_is_array(v) || n > EP_FILTERS_MAX)
        return mh_err_set(err, "must be an array of at most %d \"KEY=VALUE\" strings",
                          EP_FILTERS_MAX);
    ep->filters = xcalloc(n, sizeof(*ep->filters));
    ep->filter_texts = xcalloc(n, sizeof(*ep->filter_texts));
    for (size_t i = 0; i < n; i++) {
        if ((t = string_value(json_array_get(v, i), err)) == NULL ||
            ep_filter_parse(t, &ep->filters[i], err) < 0)
            return -1;
        ep->filter_texts[ep->nfilters++] = xstrdup(t);
    }
    return 0;
}

static json_t *emit_filters(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    return emit_strv(ep->filter_texts, ep->nfilters);
}

static int parse_scheme(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);
    int i;

    if (s == NULL)
        return -1;
    if ((i = name_index(scheme_names, 3, s)) < 0)
        return mh_err_set(err, "must be one of standard, hmac-sha256-hex, sha256-secret-body");
    ep->scheme = (enum ep_scheme)i;
    return 0;
}

static json_t *emit_scheme(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    return json_string(endpoint_scheme_name(ep->scheme));
}

/* signature_header, event_header, delivery_header: k->min is 0 when "" (not sent) is allowed. */
static int parse_hname(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL || ep_header_name_check(s, (size_t)k->min, err) < 0)
        return -1;
    set_string(EP_FIELD(ep, k, char *), s);
    return 0;
}

static int parse_secret(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL || ep_secret_check(s, err) < 0)
        return -1;
    wipe_free(*EP_FIELD(ep, k, char *));
    *EP_FIELD(ep, k, char *) = xstrdup(s);
    return 0;
}

/* null: no rotation in progress (what endpoint_to_json writes then). */
static int parse_old_secret(endpoint_t *ep, const struct ep_key *k, const json_t *v,
                            mh_err_t *err)
{
    return json_is_null(v) ? 0 : parse_secret(ep, k, v, err);
}

static json_t *emit_secret(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    const char *s = *EP_CFIELD(ep, k, char *);
    char masked[sizeof(EP_MASK_PREFIX) + EP_MASK_TAIL];
    size_t len;

    if (s == NULL)
        return json_null();
    if (flags & EP_JSON_SECRETS)
        return json_string(s);
    len = strlen(s); /* >= EP_SECRET_MIN when parsed; a short one shows no tail */
    memcpy(masked, EP_MASK_PREFIX, sizeof(EP_MASK_PREFIX) - 1);
    memcpy(masked + sizeof(EP_MASK_PREFIX) - 1, len >= 2 * EP_MASK_TAIL ? s + len - EP_MASK_TAIL : "",
           len >= 2 * EP_MASK_TAIL ? EP_MASK_TAIL + 1 : 1);
    return json_string(masked);
}

static int parse_headers(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    size_t n = json_object_size(v), nlen;
    const char *name;
    json_t *val;

    if (!json_is_object(v) || n > EP_HEADERS_MAX)
        return mh_err_set(err, "must be an object of at most %d \"Name\":\"value\" members",
                          EP_HEADERS_MAX);
    ep->headers = xcalloc(n, sizeof(*ep->headers));
    json_object_keylen_foreach((json_t *)v, name, nlen, val) {
        if (strlen(name) != nlen)
            return mh_err_set(err, "a header name must not contain NUL");
        if (ep_header_name_check(name, 1, err) < 0 || ep_header_value_check(name, val, err) < 0)
            return -1;
        ep->headers[ep->nheaders].name = xstrdup(name);
        ep->headers[ep->nheaders++].value = xstrdup(json_string_value(val));
    }
    return 0;
}

static json_t *emit_headers(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    json_t *o = json_object();
    const struct ep_header *h;

    for (size_t i = 0; i < ep->nheaders; i++) {
        h = &ep->headers[i];
        json_object_set_new(o, h->name,
                            json_string(!(flags & EP_JSON_SECRETS) &&
                                                ep_in_list(ep_credential_headers, h->name)
                                            ? EP_MASK_HEADER
                                            : h->value));
    }
    return o;
}

static int parse_retry(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    size_t n = json_array_size(v);
    const json_t *e;

    if (!json_is_array(v) || n > EP_RETRY_MAX) /* [] = no retry: dropped at the first failure */
        return mh_err_set(err, "must be an array of 0 to %d delays in seconds", EP_RETRY_MAX);
    for (size_t i = 0; i < n; i++) {
        e = json_array_get(v, i);
        if (!json_is_integer(e) || json_integer_value(e) < 0 ||
            json_integer_value(e) > EP_RETRY_SECONDS_MAX)
            return mh_err_set(err, "delay %zu: must be an integer from 0 to %d seconds (7 days)",
                              i + 1, EP_RETRY_SECONDS_MAX);
        ep->retry[i] = (int)json_integer_value(e);
    }
    ep->nretry = n;
    return 0;
}

static json_t *emit_retry(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    json_t *a = json_array();

    for (size_t i = 0; i < ep->nretry; i++)
        json_array_append_new(a, json_integer(ep->retry[i]));
    return a;
}

static int parse_source(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL)
        return -1;
    if (strcmp(s, "cli") != 0 && strcmp(s, "config") != 0)
        return mh_err_set(err, "must be \"cli\" or \"config\"");
    ep->from_config = strcmp(s, "config") == 0;
    return 0;
}

static json_t *emit_source(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    return json_string(ep->from_config ? "config" : "cli");
}

static int parse_state(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);
    int i;

    if (s == NULL)
        return -1;
    if ((i = name_index(health_names, 3, s)) < 0)
        return mh_err_set(err, "must be one of healthy, failing, disabled");
    ep->state = (enum ep_health)i;
    return 0;
}

static json_t *emit_state(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    return json_string(endpoint_health_name(ep->state));
}

#define OFF(m) offsetof(endpoint_t, m)

static const struct ep_key health_keys[] = {
    { "state", parse_state, emit_state, 0, 0, 0 },
    { "consecutive_failures", parse_int, emit_int, OFF(consecutive_failures), 0, INT_MAX },
    { "failing_since", parse_ms, emit_ms, OFF(failing_since), 0, 0 },
    { "last_success", parse_ms, emit_ms, OFF(last_success), 0, 0 },
    { "last_failure", parse_ms, emit_ms, OFF(last_failure), 0, 0 },
    { "disabled_reason", parse_text, emit_string, OFF(disabled_reason), 0, EP_REASON_MAX },
    { NULL, NULL, NULL, 0, 0, 0 },
};

static const struct ep_key *key_find(const struct ep_key *keys, const char *name, size_t len)
{
    for (; keys->name; keys++)
        if (strlen(keys->name) == len && memcmp(keys->name, name, len) == 0)
            return keys;
    return NULL;
}

static int parse_health(endpoint_t *ep, const struct ep_key *k, const json_t *v, mh_err_t *err)
{
    const struct ep_key *hk;
    const char *name;
    char buf[SHOWN_SIZE];
    size_t len;
    json_t *m;

    if (!json_is_object(v))
        return mh_err_set(err, "must be an object");
    json_object_keylen_foreach((json_t *)v, name, len, m) {
        if ((hk = key_find(health_keys, name, len)) == NULL)
            return mh_err_set(err, "%s: unknown key", printable(buf, sizeof(buf), name, len));
        if (hk->parse(ep, hk, m, err) < 0)
            return mh_err_prefix(err, "%s", hk->name);
    }
    return 0;
}

static json_t *emit_health(const endpoint_t *ep, const struct ep_key *k, unsigned flags)
{
    json_t *o = json_object();

    for (const struct ep_key *hk = health_keys; hk->name; hk++)
        json_object_set_new(o, hk->name, hk->emit(ep, hk, flags));
    return o;
}

/* Every key, in output order (that of endpoint.h). */
static const struct ep_key ep_keys[] = {
    { "name", parse_name, emit_string, OFF(name), 0, 0 },
    { "url", parse_url, emit_url, 0, 0, 0 },
    { "types", parse_types, emit_types, 0, 0, 0 },
    { "filters", parse_filters, emit_filters, 0, 0, 0 },
    { "scheme", parse_scheme, emit_scheme, 0, 0, 0 },
    { "signature_header", parse_hname, emit_string, OFF(signature_header), 1, 0 },
    { "signature_prefix", parse_text, emit_string, OFF(signature_prefix), 0, EP_SIG_PREFIX_MAX },
    { "secret", parse_secret, emit_secret, OFF(secret), 0, 0 },
    { "old_secret", parse_old_secret, emit_secret, OFF(old_secret), 0, 0 },
    { "old_secret_until", parse_ms, emit_ms, OFF(old_secret_until), 0, 0 },
    { "headers", parse_headers, emit_headers, 0, 0, 0 },
    { "event_header", parse_hname, emit_string, OFF(event_header), 0, 0 },
    { "delivery_header", parse_hname, emit_string, OFF(delivery_header), 0, 0 },
    { "batch_max", parse_int, emit_int, OFF(batch_max), 0, EP_BATCH_MAX },
    { "batch_wait_ms", parse_int, emit_int, OFF(batch_wait_ms), 0, 600000 },
    { "timeout_ms", parse_int, emit_int, OFF(timeout_ms), 100, 300000 },
    { "connect_timeout_ms", parse_int, emit_int, OFF(connect_timeout_ms), 100, 300000 },
    { "retry", parse_retry, emit_retry, 0, 0, 0 },
    { "concurrency", parse_int, emit_int, OFF(concurrency), 1, 256 },
    { "enabled", parse_bool, emit_bool, OFF(enabled), 0, 0 },
    { "allow_http", parse_bool, emit_bool, OFF(allow_http), 0, 0 },
    { "source", parse_source, emit_source, 0, 0, 0 },
    { "created", parse_ms, emit_ms, OFF(created), 0, 0 },
    { "updated", parse_ms, emit_ms, OFF(updated), 0, 0 },
    { "health", parse_health, emit_health, 0, 0, 0 },
    { NULL, NULL, NULL, 0, 0, 0 },
};

/* ---- whole endpoints */

static void ep_defaults(endpoint_t *ep)
{
    ep->scheme = EP_SCHEME_STANDARD;
    ep->signature_header = xstrdup("X-Mailhook-Signature");
    ep->signature_prefix = xstrdup("");
    ep->event_header = xstrdup("X-Mailhook-Event");
    ep->delivery_header = xstrdup("X-Mailhook-Delivery");
    ep->batch_wait_ms = 1000;
    ep->timeout_ms = 5000;
    ep->connect_timeout_ms = -1; /* min(timeout_ms, 3000) unless given */
    memcpy(ep->retry, retry_default, sizeof(retry_default));
    ep->nretry = sizeof(retry_default) / sizeof(retry_default[0]);
    ep->concurrency = 8;
    ep->enabled = true;
    ep->disabled_reason = xstrdup("");
}

/* No header name sent twice, whatever its case (curl would send both). */
static int header_names_distinct(const endpoint_t *ep, mh_err_t *err)
{
    const char *names[EP_HEADERS_MAX + 3], *keys[EP_HEADERS_MAX + 3];
    size_t n = 0;

    if (ep->scheme != EP_SCHEME_STANDARD) {
        keys[n] = "signature_header";
        names[n++] = ep->signature_header;
    }
    if (ep->event_header[0]) {
        keys[n] = "event_header";
        names[n++] = ep->event_header;
    }
    if (ep->delivery_header[0]) {
        keys[n] = "delivery_header";
        names[n++] = ep->delivery_header;
    }
    for (size_t i = 0; i < ep->nheaders; i++) {
        keys[n] = "headers";
        names[n++] = ep->headers[i].name;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(names[i], names[j]) == 0)
                return mh_err_set(err, "%s: header \"%s\" is also set by %s", keys[i], names[i],
                                  keys[j]);
    return 0;
}

/* A Standard Webhooks secret must decode (base64): find out now, not at
 * the first delivery. sign.c owns the rule, so ask it to sign. */
static int secret_usable(const endpoint_t *ep, const char *secret, mh_err_t *err)
{
    char sig[SIGN_STANDARD_SIZE];

    if (ep->scheme != EP_SCHEME_STANDARD || secret == NULL)
        return 0;
    return sign_standard(secret, "msg_check", 0, "", 0, sig, err);
}

/* Checks and defaults that involve more than one key; err gets "KEY: problem". */
static int ep_finish(endpoint_t *ep, mh_err_t *err)
{
    char secret[SIGN_SECRET_SIZE];

    if (ep_url_check(ep->url, ep->allow_http, err) < 0)
        return mh_err_prefix(err, "url");
    if (ep->types == NULL) {
        ep->types = xcalloc(1, sizeof(*ep->types));
        ep->types[ep->ntypes++] = xstrdup("*");
    }
    if (ep->connect_timeout_ms < 0)
        ep->connect_timeout_ms =
            ep->timeout_ms < EP_CONNECT_DEFAULT_MS ? ep->timeout_ms : EP_CONNECT_DEFAULT_MS;
    else if (ep->connect_timeout_ms > ep->timeout_ms)
        return mh_err_set(err, "connect_timeout_ms: must not exceed timeout_ms (%d)",
                          ep->timeout_ms);
    if (header_names_distinct(ep, err) < 0)
        return -1;
    if (secret_usable(ep, ep->secret, err) < 0)
        return mh_err_prefix(err, "secret: for the standard scheme");
    if (secret_usable(ep, ep->old_secret, err) < 0)
        return mh_err_prefix(err, "old_secret: for the standard scheme");
    if (ep->old_secret == NULL)
        ep->old_secret_until = 0; /* a rotation that ended */
    if (ep->secret == NULL) {
        if (sign_secret_new(secret, err) < 0)
            return mh_err_prefix(err, "secret: cannot generate one");
        ep->secret = xstrdup(secret);
        secure_wipe(secret, sizeof(secret));
    }
    return 0;
}

/* "endpoint NAME: KEY: unknown key" for the first key outside ep_keys. */
static int unknown_keys_check(const json_t *obj, const char *name, mh_err_t *err)
{
    const char *key;
    char buf[SHOWN_SIZE];
    size_t len;
    json_t *v;

    json_object_keylen_foreach((json_t *)obj, key, len, v) {
        if (key_find(ep_keys, key, len) == NULL)
            return mh_err_set(err, "endpoint %s: %s: unknown key", name,
                              printable(buf, sizeof(buf), key, len));
    }
    return 0;
}

endpoint_t *endpoint_from_json(const json_t *obj, mh_err_t *err)
{
    const struct ep_key *k;
    const char *name;
    endpoint_t *ep;
    json_t *v;

    if (!json_is_object(obj)) {
        mh_err_set(err, "endpoint: not a JSON object");
        return NULL;
    }
    name = json_string_value(json_object_get(obj, "name"));
    if (name == NULL) {
        mh_err_set(err, "endpoint: name: required (a string)");
        return NULL;
    }
    if (endpoint_name_check(name, err) < 0) {
        mh_err_prefix(err, "endpoint");
        return NULL;
    }
    if (unknown_keys_check(obj, name, err) < 0)
        return NULL;
    if (json_object_get(obj, "url") == NULL) {
        mh_err_set(err, "endpoint %s: url: required", name);
        return NULL;
    }
    ep = xcalloc(1, sizeof(*ep));
    ep_defaults(ep);
    for (k = ep_keys; k->name; k++) {
        v = json_object_get(obj, k->name);
        if (v && k->parse(ep, k, v, err) < 0) {
            mh_err_prefix(err, "endpoint %s: %s", name, k->name);
            return endpoint_free(ep);
        }
    }
    if (ep_finish(ep, err) < 0) {
        mh_err_prefix(err, "endpoint %s", name);
        return endpoint_free(ep);
    }
    return ep;
}

json_t *endpoint_to_json(const endpoint_t *ep, unsigned flags)
{
    json_t *o = json_object();

    for (const struct ep_key *k = ep_keys; k->name; k++)
        json_object_set_new(o, k->name, k->emit(ep, k, flags));
    return o;
}

/* A null in changes removes the key: it takes its default again
 * (old_secret: null ends a rotation). */
endpoint_t *endpoint_merge(const endpoint_t *base, const json_t *changes, mh_err_t *err)
{
    const json_t *name = json_object_get(changes, "name");
    const char *key;
    endpoint_t *ep;
    json_t *obj, *v;
    size_t len;

    if (!json_is_object(changes)) {
        mh_err_set(err, "endpoint %s: the changes must be a JSON object", base->name);
        return NULL;
    }
    if (name && !(json_is_string(name) && strcmp(json_string_value(name), base->name) == 0)) {
        mh_err_set(err, "endpoint %s: name: cannot be changed", base->name);
        return NULL;
    }
    obj = endpoint_to_json(base, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    /* With their lengths: "name\0x" must stay a key of its own (and be
     * refused as unknown), not overwrite "name". */
    json_object_keylen_foreach((json_t *)changes, key, len, v) {
        if (json_is_null(v))
            json_object_deln(obj, key, len);
        else
            json_object_setn(obj, key, len, v);
    }
    /* A total timeout lowered below the connect timeout, the latter not
     * given: the connect timeout takes its default again (the record does
     * not tell whether it was given or defaulted). */
    if (json_is_integer(json_object_get(changes, "timeout_ms")) &&
        json_object_get(changes, "connect_timeout_ms") == NULL &&
        json_integer_value(json_object_get(changes, "timeout_ms")) < base->connect_timeout_ms)
        json_object_del(obj, "connect_timeout_ms");
    ep = endpoint_from_json(obj, err);
    json_decref(obj);
    return ep;
}

endpoint_t *endpoint_dup(const endpoint_t *ep)
{
    endpoint_t *copy;
    mh_err_t err;
    json_t *obj;

    if (ep == NULL)
        return NULL;
    obj = endpoint_to_json(ep, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    copy = endpoint_from_json(obj, &err);
    json_decref(obj);
    if (copy == NULL)
        msg_panic_f("endpoint %s does not survive its own JSON: %s", ep->name, err.text);
    return copy;
}

endpoint_t *endpoint_free(endpoint_t *ep)
{
    if (ep == NULL)
        return NULL;
    free(ep->name);
    wipe_free(ep->url); /* may hold a password */
    strv_free(ep->types, ep->ntypes);
    for (size_t i = 0; i < ep->nfilters; i++) {
        free(ep->filters[i].meta_name);
        free(ep->filters[i].value);
    }
    free(ep->filters);
    strv_free(ep->filter_texts, ep->nfilters);
    free(ep->signature_header);
    free(ep->signature_prefix);
    wipe_free(ep->secret);
    wipe_free(ep->old_secret);
    for (size_t i = 0; i < ep->nheaders; i++) {
        free(ep->headers[i].name);
        wipe_free(ep->headers[i].value); /* may be a credential */
    }
    free(ep->headers);
    free(ep->event_header);
    free(ep->delivery_header);
    free(ep->disabled_reason);
    free(ep);
    return NULL;
}

const char *endpoint_scheme_name(enum ep_scheme s)
{
    return (unsigned)s < 3 ? scheme_names[s] : "?";
}

const char *endpoint_health_name(enum ep_health h)
{
    return (unsigned)h < 3 ? health_names[h] : "?";
}
