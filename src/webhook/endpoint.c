/* SPDX-License-Identifier: MIT */
/*
 * endpoint.c - subscriber endpoints: the endpoint JSON object parsed and
 * validated, written back (complete or masked) and changed (endpoint.h).
 *
 *   endpoint_from_json(obj, err)   parse + validate, defaults filled in
 *   endpoint_to_json(ep, flags)    every key, in the order of endpoint_keys
 *   endpoint_merge(base, ch, err)  base's JSON overlaid with ch, reparsed
 *   endpoint_dup(ep), endpoint_free(ep)
 *
 * The keys are the rows of endpoint_keys.def: each row's type picks its
 * parser and emitter here (the *_KEY macros) and how its default is set
 * (the *_DEFAULT macros), and its bounds are the parser's. So a key cannot
 * be accepted without being written back: the round trip
 * endpoint_from_json(endpoint_to_json(ep, EP_JSON_SECRETS|EP_JSON_RAW_URL))
 * gives ep again, and endpoint_dup and endpoint_merge are built on it.
 *
 * Checks of single values are in endpoint_check.c, matching in
 * endpoint_match.c (endpoint_int.h), the names of schemes and health
 * states in endpoint_keys.c.
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

/* ---- small helpers */

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

struct endpoint_key;
/* Parse v into ep; err receives the problem without the key (the caller adds it). */
typedef int endpoint_parse_fn(endpoint_t *ep, const struct endpoint_key *k, const json_t *v,
                              mh_err_t *err);
/* A new JSON value for the key. */
typedef json_t *endpoint_emit_fn(const endpoint_t *ep, const struct endpoint_key *k,
                                 unsigned flags);

/* One row of endpoint_keys.def, with its type's parser and emitter. */
struct endpoint_key {
    const char *name;
    endpoint_parse_fn *parse;
    endpoint_emit_fn *emit;
    size_t off;         /* the field, for the generic parsers */
    long long min, max; /* bounds: of a number, a string's length, a list's items */
};

#define EP_FIELD(ep, k, type) ((type *)((char *)(ep) + (k)->off))
#define EP_CFIELD(ep, k, type) ((const type *)((const char *)(ep) + (k)->off))

static int parse_int(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    json_int_t n = json_integer_value(v);

    if (!json_is_integer(v) || n < k->min || n > k->max)
        return mh_err_set(err, "must be an integer from %lld to %lld", k->min, k->max);
    *EP_FIELD(ep, k, int) = (int)n;
    return 0;
}

static json_t *emit_int(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return json_integer(*EP_CFIELD(ep, k, int));
}

static int parse_ms(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    json_int_t n = json_integer_value(v);

    if (!json_is_integer(v) || n < k->min || n > k->max)
        return mh_err_set(err, "must be milliseconds since the epoch (an integer >= 0)");
    *EP_FIELD(ep, k, int64_t) = n;
    return 0;
}

static json_t *emit_ms(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return json_integer(*EP_CFIELD(ep, k, int64_t));
}

static int parse_bool(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    if (!json_is_boolean(v))
        return mh_err_set(err, "must be true or false");
    *EP_FIELD(ep, k, bool) = json_is_true(v);
    return 0;
}

static json_t *emit_bool(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return json_boolean(*EP_CFIELD(ep, k, bool));
}

static json_t *emit_string(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return json_string(*EP_CFIELD(ep, k, char *));
}

/* Free text of k->min..k->max bytes without control characters. */
static int parse_text(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
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
static int parse_name(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL || endpoint_name_check(s, err) < 0)
        return -1;
    set_string(&ep->name, s);
    return 0;
}

/* Kept as given; url_check judges it once allow_http is known. */
static int parse_url(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL)
        return -1;
    if ((long long)strlen(s) < k->min || (long long)strlen(s) > k->max)
        return mh_err_set(err, "must be a URL of %lld to %lld characters", k->min, k->max);
    set_string(&ep->url, s);
    return 0;
}

static json_t *emit_url(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
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

static int parse_types(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    size_t n = json_array_size(v);
    const char *t;

    if (!json_is_array(v) || (long long)n < k->min || (long long)n > k->max)
        return mh_err_set(err, "must be an array of %lld to %lld types (\"*\" for all)", k->min,
                          k->max);
    strv_free(ep->types, ep->ntypes); /* the default */
    ep->ntypes = 0;
    ep->types = xcalloc(n, sizeof(*ep->types));
    for (size_t i = 0; i < n; i++) {
        if ((t = string_value(json_array_get(v, i), err)) == NULL ||
            endpoint_type_pattern_check(t, err) < 0)
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

static json_t *emit_types(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return emit_strv(ep->types, ep->ntypes);
}

static int parse_filters(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    size_t n = json_array_size(v);
    const char *t;

    if (!json_is_array(v) || (long long)n > k->max)
        return mh_err_set(err, "must be an array of at most %lld \"KEY=VALUE\" strings", k->max);
    ep->filters = xcalloc(n, sizeof(*ep->filters));
    ep->filter_texts = xcalloc(n, sizeof(*ep->filter_texts));
    for (size_t i = 0; i < n; i++) {
        if ((t = string_value(json_array_get(v, i), err)) == NULL ||
            endpoint_filter_parse(t, &ep->filters[i], err) < 0)
            return -1;
        ep->filter_texts[ep->nfilters++] = xstrdup(t);
    }
    return 0;
}

static json_t *emit_filters(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return emit_strv(ep->filter_texts, ep->nfilters);
}

static int parse_scheme(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL)
        return -1;
    if (endpoint_scheme_from_name(s, EP_FIELD(ep, k, enum ep_scheme)) < 0)
        return mh_err_set(err, "must be one of %s", endpoint_scheme_list());
    return 0;
}

static json_t *emit_scheme(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return json_string(endpoint_scheme_name(*EP_CFIELD(ep, k, enum ep_scheme)));
}

/* signature_header, event_header, delivery_header: k->min is 0 when "" (not sent) is allowed. */
static int parse_hname(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL || endpoint_header_name_check(s, (size_t)k->min, err) < 0)
        return -1;
    set_string(EP_FIELD(ep, k, char *), s);
    return 0;
}

static int parse_secret(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL || endpoint_secret_check(s, err) < 0)
        return -1;
    wipe_free(*EP_FIELD(ep, k, char *));
    *EP_FIELD(ep, k, char *) = xstrdup(s);
    return 0;
}

/* null: no rotation in progress (what endpoint_to_json writes then). */
static int parse_old_secret(endpoint_t *ep, const struct endpoint_key *k, const json_t *v,
                            mh_err_t *err)
{
    return json_is_null(v) ? 0 : parse_secret(ep, k, v, err);
}

static json_t *emit_secret(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
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

static int parse_headers(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    size_t n = json_object_size(v), nlen;
    const char *name;
    json_t *val;

    if (!json_is_object(v) || (long long)n > k->max)
        return mh_err_set(err, "must be an object of at most %lld \"Name\":\"value\" members",
                          k->max);
    ep->headers = xcalloc(n, sizeof(*ep->headers));
    json_object_keylen_foreach((json_t *)v, name, nlen, val) {
        if (strlen(name) != nlen)
            return mh_err_set(err, "a header name must not contain NUL");
        if (endpoint_header_name_check(name, 1, err) < 0 || endpoint_header_value_check(name, val, err) < 0)
            return -1;
        ep->headers[ep->nheaders].name = xstrdup(name);
        ep->headers[ep->nheaders++].value = xstrdup(json_string_value(val));
    }
    return 0;
}

static json_t *emit_headers(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    json_t *o = json_object();
    const struct ep_header *h;

    for (size_t i = 0; i < ep->nheaders; i++) {
        h = &ep->headers[i];
        json_object_set_new(o, h->name,
                            json_string(!(flags & EP_JSON_SECRETS) &&
                                                endpoint_in_list(endpoint_credential_headers, h->name)
                                            ? EP_MASK_HEADER
                                            : h->value));
    }
    return o;
}

static int parse_retry(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    size_t n = json_array_size(v);
    const json_t *e;

    /* [] = no retry: dropped at the first failure */
    if (!json_is_array(v) || (long long)n < k->min || (long long)n > k->max || n > EP_RETRY_MAX)
        return mh_err_set(err, "must be an array of %lld to %lld delays in seconds", k->min,
                          k->max);
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

static json_t *emit_retry(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    json_t *a = json_array();

    for (size_t i = 0; i < ep->nretry; i++)
        json_array_append_new(a, json_integer(ep->retry[i]));
    return a;
}

static int parse_source(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL)
        return -1;
    if (strcmp(s, "cli") != 0 && strcmp(s, "config") != 0)
        return mh_err_set(err, "must be \"cli\" or \"config\"");
    ep->from_config = strcmp(s, "config") == 0;
    return 0;
}

static json_t *emit_source(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return json_string(ep->from_config ? "config" : "cli");
}

static int parse_state(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL)
        return -1;
    if (endpoint_health_from_name(s, EP_FIELD(ep, k, enum ep_health)) < 0)
        return mh_err_set(err, "must be one of %s", endpoint_health_list());
    return 0;
}

static json_t *emit_state(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return json_string(endpoint_health_name(*EP_CFIELD(ep, k, enum ep_health)));
}

/* Read first by endpoint_from_json (its defaults are the format's). */
static int parse_format(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL)
        return -1;
    if (endpoint_format_from_name(s, EP_FIELD(ep, k, enum ep_format)) < 0)
        return mh_err_set(err, "must be one of %s", endpoint_format_list());
    return 0;
}

static json_t *emit_format(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return json_string(endpoint_format_name(*EP_CFIELD(ep, k, enum ep_format)));
}

/* A jq program: k->max bytes at most, UTF-8 text in which newlines and
 * tabs are allowed (it is compiled by the daemon, transform.h). */
static int parse_program(endpoint_t *ep, const struct endpoint_key *k, const json_t *v,
                         mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL)
        return -1;
    if ((long long)strlen(s) > k->max)
        return mh_err_set(err, "must be at most %lld bytes", k->max);
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 && *c != '\n' && *c != '\t' && *c != '\r')
            return mh_err_set(err, "must not contain control characters but newlines and tabs");
    set_string(EP_FIELD(ep, k, char *), s);
    return 0;
}

/* "user:password" (null: none). The password is a secret: masked in
 * output as "user:***", and a masked value is refused on input. */
static int parse_auth(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = json_is_null(v) ? NULL : string_value(v, err), *colon;

    if (json_is_null(v)) {
        wipe_free(ep->basic_auth);
        ep->basic_auth = NULL;
        return 0;
    }
    if (s == NULL)
        return -1;
    colon = strchr(s, ':');
    if ((long long)strlen(s) < k->min || (long long)strlen(s) > k->max || str_has_ctl(s) ||
        colon == NULL || colon == s)
        return mh_err_set(err, "must be \"user:password\" (at most %lld characters, no control "
                               "characters)", k->max);
    if (strcmp(colon + 1, EP_MASK_HEADER) == 0)
        return mh_err_set(err, "the password is masked (\"%s\"): give the real one", EP_MASK_HEADER);
    wipe_free(ep->basic_auth);
    ep->basic_auth = xstrdup(s);
    return 0;
}

static json_t *emit_auth(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    const char *colon;
    char *masked;
    json_t *v;

    if (ep->basic_auth == NULL)
        return json_null();
    if (flags & EP_JSON_SECRETS)
        return json_string(ep->basic_auth);
    colon = strchr(ep->basic_auth, ':');
    masked = xasprintf("%.*s:%s", (int)(colon - ep->basic_auth), ep->basic_auth, EP_MASK_HEADER);
    v = json_string(masked);
    free(masked);
    return v;
}

static int parse_idform(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const char *s = string_value(v, err);

    if (s == NULL)
        return -1;
    if (endpoint_idform_from_name(s, EP_FIELD(ep, k, enum ep_idform)) < 0)
        return mh_err_set(err, "must be \"ulid\" or \"uuid\"");
    return 0;
}

static json_t *emit_idform(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    return json_string(endpoint_idform_name(*EP_CFIELD(ep, k, enum ep_idform)));
}

/* What a row's type means here: its parser, its emitter, and the field
 * the generic ones use (source and health have no field of their own). */
#define EPK_NAME_KEY(key) parse_name, emit_string, OFF(key)
#define EPK_URL_KEY(key) parse_url, emit_url, OFF(key)
#define EPK_FORMAT_KEY(key) parse_format, emit_format, OFF(key)
#define EPK_PROGRAM_KEY(key) parse_program, emit_string, OFF(key)
#define EPK_AUTH_KEY(key) parse_auth, emit_auth, OFF(key)
#define EPK_IDFORM_KEY(key) parse_idform, emit_idform, OFF(key)
#define EPK_TYPES_KEY(key) parse_types, emit_types, OFF(key)
#define EPK_FILTERS_KEY(key) parse_filters, emit_filters, OFF(key)
#define EPK_SCHEME_KEY(key) parse_scheme, emit_scheme, OFF(key)
#define EPK_HNAME_KEY(key) parse_hname, emit_string, OFF(key)
#define EPK_TEXT_KEY(key) parse_text, emit_string, OFF(key)
#define EPK_SECRET_KEY(key) parse_secret, emit_secret, OFF(key)
#define EPK_OLD_SECRET_KEY(key) parse_old_secret, emit_secret, OFF(key)
#define EPK_TIME_KEY(key) parse_ms, emit_ms, OFF(key)
#define EPK_HEADERS_KEY(key) parse_headers, emit_headers, OFF(key)
#define EPK_COUNT_KEY(key) parse_int, emit_int, OFF(key)
#define EPK_MS_KEY(key) parse_int, emit_int, OFF(key)
#define EPK_RETRY_KEY(key) parse_retry, emit_retry, OFF(key)
#define EPK_BOOL_KEY(key) parse_bool, emit_bool, OFF(key)
#define EPK_SOURCE_KEY(key) parse_source, emit_source, 0
#define EPK_HEALTH_KEY(key) parse_health, emit_health, 0
#define EPK_STATE_KEY(key) parse_state, emit_state, OFF(key)
#define OFF(m) offsetof(endpoint_t, m)

static const struct endpoint_key endpoint_health_keys[] = {
#define ENDPOINT_HEALTH_KEY(key, type, min, max, def, doc) { #key, type##_KEY(key), min, max },
#include "endpoint_keys.def"
    { NULL, NULL, NULL, 0, 0, 0 },
};

static const struct endpoint_key *key_find(const struct endpoint_key *keys, const char *name, size_t len)
{
    for (; keys->name; keys++)
        if (strlen(keys->name) == len && memcmp(keys->name, name, len) == 0)
            return keys;
    return NULL;
}

static int parse_health(endpoint_t *ep, const struct endpoint_key *k, const json_t *v, mh_err_t *err)
{
    const struct endpoint_key *hk;
    const char *name;
    char buf[SHOWN_SIZE];
    size_t len;
    json_t *m;

    if (!json_is_object(v))
        return mh_err_set(err, "must be an object");
    json_object_keylen_foreach((json_t *)v, name, len, m) {
        if ((hk = key_find(endpoint_health_keys, name, len)) == NULL)
            return mh_err_set(err, "%s: unknown key", printable(buf, sizeof(buf), name, len));
        if (hk->parse(ep, hk, m, err) < 0)
            return mh_err_prefix(err, "%s", hk->name);
    }
    return 0;
}

static json_t *emit_health(const endpoint_t *ep, const struct endpoint_key *k, unsigned flags)
{
    json_t *o = json_object();

    for (const struct endpoint_key *hk = endpoint_health_keys; hk->name; hk++)
        json_object_set_new(o, hk->name, hk->emit(ep, hk, flags));
    return o;
}

/* Every key, in output order (that of endpoint_keys.def). */
static const struct endpoint_key endpoint_keys[] = {
#define ENDPOINT_KEY(key, type, min, max, def, cli, conf, doc) { #key, type##_KEY(key), min, max },
#include "endpoint_keys.def"
    { NULL, NULL, NULL, 0, 0, 0 },
};

/* ---- whole endpoints */

/* A row's default, by its type (endpoint_keys.def): nothing for the keys
 * that are required, generated or empty by default. */
#define EP_UNPAREN(...) __VA_ARGS__
#define EPK_NAME_DEFAULT(ep, key, def)
#define EPK_URL_DEFAULT(ep, key, def)
#define EPK_FORMAT_DEFAULT(ep, key, def)                                                       \
    if (endpoint_format_from_name(def, &(ep)->key) < 0)                                       \
        msg_panic_f("%s: the default is no format", #key);
#define EPK_PROGRAM_DEFAULT(ep, key, def) (ep)->key = xstrdup(def);
#define EPK_AUTH_DEFAULT(ep, key, def)
#define EPK_IDFORM_DEFAULT(ep, key, def)                                                       \
    if (endpoint_idform_from_name(def, &(ep)->key) < 0)                                       \
        msg_panic_f("%s: the default is no id form", #key);
#define EPK_TYPES_DEFAULT(ep, key, def)                                                        \
    do {                                                                                      \
        (ep)->key = xcalloc(1, sizeof(*(ep)->key));                                           \
        (ep)->key[(ep)->n##key++] = xstrdup(def);                                             \
    } while (0);
#define EPK_FILTERS_DEFAULT(ep, key, def)
#define EPK_SCHEME_DEFAULT(ep, key, def)                                                       \
    if (endpoint_scheme_from_name(def, &(ep)->key) < 0)                                       \
        msg_panic_f("%s: the default is no scheme", #key);
#define EPK_HNAME_DEFAULT(ep, key, def) (ep)->key = xstrdup(def);
#define EPK_TEXT_DEFAULT(ep, key, def) (ep)->key = xstrdup(def);
#define EPK_SECRET_DEFAULT(ep, key, def)
#define EPK_OLD_SECRET_DEFAULT(ep, key, def)
#define EPK_TIME_DEFAULT(ep, key, def) (ep)->key = (def);
#define EPK_HEADERS_DEFAULT(ep, key, def)
#define EPK_COUNT_DEFAULT(ep, key, def) (ep)->key = (def);
#define EPK_MS_DEFAULT(ep, key, def) (ep)->key = (def);
#define EPK_RETRY_DEFAULT(ep, key, def)                                                        \
    do {                                                                                      \
        static const int d[] = { EP_UNPAREN def };                                            \
        memcpy((ep)->key, d, sizeof(d));                                                      \
        (ep)->n##key = sizeof(d) / sizeof(d[0]);                                              \
    } while (0);
#define EPK_BOOL_DEFAULT(ep, key, def) (ep)->key = (def);
#define EPK_SOURCE_DEFAULT(ep, key, def) (ep)->from_config = strcmp(def, "config") == 0;
#define EPK_HEALTH_DEFAULT(ep, key, def)
#define EPK_STATE_DEFAULT(ep, key, def)                                                        \
    if (endpoint_health_from_name(def, &(ep)->key) < 0)                                       \
        msg_panic_f("%s: the default is no health state", #key);

/* Every key's default (connect_timeout_ms -1: min(timeout_ms, 3000), set
 * by endpoint_finish once timeout_ms is known). */
static void endpoint_defaults(endpoint_t *ep)
{
#define ENDPOINT_KEY(key, type, min, max, def, cli, conf, doc) type##_DEFAULT(ep, key, def)
#define ENDPOINT_HEALTH_KEY(key, type, min, max, def, doc) type##_DEFAULT(ep, key, def)
#include "endpoint_keys.def"
}

/* The format's defaults (endpoint_keys.def) for the keys obj does not
 * give: they are endpoint JSON, parsed by the keys' own parsers. */
static void format_defaults(endpoint_t *ep, const json_t *obj)
{
    json_t *defs = json_loads(endpoint_format_defaults(ep->format), 0, NULL), *v;
    const struct endpoint_key *k;
    const char *key;
    mh_err_t err;

    if (defs == NULL)
        msg_panic_f("format %s: its defaults are not JSON", endpoint_format_name(ep->format));
    json_object_foreach(defs, key, v) {
        if (json_object_get(obj, key))
            continue;
        k = key_find(endpoint_keys, key, strlen(key));
        if (k == NULL || k->parse(ep, k, v, &err) < 0)
            msg_panic_f("format %s: default %s: %s", endpoint_format_name(ep->format), key,
                        k ? err.text : "unknown key");
    }
    json_decref(defs);
}

/* No header name sent twice, whatever its case (curl would send both). */
static int header_names_distinct(const endpoint_t *ep, mh_err_t *err)
{
    const char *names[EP_HEADERS_MAX + 3], *keys[EP_HEADERS_MAX + 3];
    size_t n = 0;

    if (endpoint_scheme_has_header(ep->scheme)) {
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

/* A Standard Webhooks secret must decode (base64), a SendGrid one must be
 * a P-256 private key: find out now, not at the first delivery. sign.c
 * owns the rules, so ask it. */
static int secret_usable(const endpoint_t *ep, const char *secret, mh_err_t *err)
{
    char sig[SIGN_STANDARD_SIZE], *pub = NULL;
    int rc;

    if (secret == NULL)
        return 0;
    if (ep->scheme == EP_SCHEME_STANDARD)
        return sign_standard(secret, "msg_check", 0, "", 0, sig, err);
    if (!endpoint_scheme_is_ec(ep->scheme))
        return 0;
    rc = sign_ec_public_key(secret, &pub, err);
    free(pub);
    return rc;
}

int endpoint_secret_new(enum ep_scheme scheme, char **out, mh_err_t *err)
{
    char secret[SIGN_SECRET_SIZE];

    if (endpoint_scheme_is_ec(scheme))
        return sign_ec_key_new(out, err);
    if (sign_secret_new(secret, err) < 0)
        return -1;
    *out = xstrdup(secret);
    secure_wipe(secret, sizeof(secret));
    return 0;
}

/* Checks and defaults that involve more than one key; err gets "KEY: problem". */
static int endpoint_finish(endpoint_t *ep, mh_err_t *err)
{
    if (endpoint_url_check(ep->url, ep->allow_http, err) < 0)
        return mh_err_prefix(err, "url");
    if (ep->connect_timeout_ms < 0)
        ep->connect_timeout_ms =
            ep->timeout_ms < EP_CONNECT_DEFAULT_MS ? ep->timeout_ms : EP_CONNECT_DEFAULT_MS;
    else if (ep->connect_timeout_ms > ep->timeout_ms)
        return mh_err_set(err, "connect_timeout_ms: must not exceed timeout_ms (%d)",
                          ep->timeout_ms);
    if (endpoint_format_shape(ep->format) == EP_SHAPE_ONE && ep->batch_max > 0)
        return mh_err_set(err, "batch_max: format %s sends one event per request (0)",
                          endpoint_format_name(ep->format));
    if (header_names_distinct(ep, err) < 0)
        return -1;
    if (secret_usable(ep, ep->secret, err) < 0)
        return mh_err_prefix(err, "secret: for the %s scheme", endpoint_scheme_name(ep->scheme));
    if (secret_usable(ep, ep->old_secret, err) < 0)
        return mh_err_prefix(err, "old_secret: for the %s scheme",
                             endpoint_scheme_name(ep->scheme));
    if (ep->old_secret == NULL)
        ep->old_secret_until = 0; /* a rotation that ended */
    if (ep->secret == NULL && endpoint_secret_new(ep->scheme, &ep->secret, err) < 0)
        return mh_err_prefix(err, "secret: cannot generate one");
    return 0;
}

/* "endpoint NAME: KEY: unknown key" for the first key outside endpoint_keys. */
static int unknown_keys_check(const json_t *obj, const char *name, mh_err_t *err)
{
    const char *key;
    char buf[SHOWN_SIZE];
    size_t len;
    json_t *v;

    json_object_keylen_foreach((json_t *)obj, key, len, v) {
        if (key_find(endpoint_keys, key, len) == NULL)
            return mh_err_set(err, "endpoint %s: %s: unknown key", name,
                              printable(buf, sizeof(buf), key, len));
    }
    return 0;
}

endpoint_t *endpoint_from_json(const json_t *obj, mh_err_t *err)
{
    const struct endpoint_key *k;
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
    endpoint_defaults(ep);
    if ((v = json_object_get(obj, "format")) && parse_format(ep, key_find(endpoint_keys, "format", 6), v, err) < 0) {
        mh_err_prefix(err, "endpoint %s: format", name);
        return endpoint_free(ep);
    }
    format_defaults(ep, obj);
    for (k = endpoint_keys; k->name; k++) {
        v = json_object_get(obj, k->name);
        if (v && k->parse(ep, k, v, err) < 0) {
            mh_err_prefix(err, "endpoint %s: %s", name, k->name);
            return endpoint_free(ep);
        }
    }
    if (endpoint_finish(ep, err) < 0) {
        mh_err_prefix(err, "endpoint %s", name);
        return endpoint_free(ep);
    }
    return ep;
}

json_t *endpoint_to_json(const endpoint_t *ep, unsigned flags)
{
    json_t *o = json_object();

    for (const struct endpoint_key *k = endpoint_keys; k->name; k++)
        json_object_set_new(o, k->name, k->emit(ep, k, flags));
    return o;
}

/* The format changes: every key the changes do not give that still has
 * the old format's default (the record does not tell whether it was
 * given or defaulted) takes the new format's. */
static int merge_format_defaults(const endpoint_t *base, json_t *obj, const json_t *changes,
                                 mh_err_t *err)
{
    /* a URL it accepts whatever allow_http is: the URL is not compared */
    json_t *ref_in = json_pack("{s:s, s:s, s:s}", "name", base->name, "url",
                               "https://ref.invalid/", "format",
                               endpoint_format_name(base->format)),
           *ref_json;
    endpoint_t *ref = endpoint_from_json(ref_in, err);
    const struct endpoint_key *k;

    json_decref(ref_in);
    if (ref == NULL)
        return -1;
    ref_json = endpoint_to_json(ref, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    for (k = endpoint_keys; k->name; k++) {
        if (strcmp(k->name, "name") == 0 || strcmp(k->name, "secret") == 0 ||
            strcmp(k->name, "url") == 0 ||
            json_object_get(changes, k->name) || json_object_get(obj, k->name) == NULL)
            continue;
        if (json_equal(json_object_get(obj, k->name), json_object_get(ref_json, k->name)))
            json_object_del(obj, k->name);
    }
    json_decref(ref_json);
    endpoint_free(ref);
    return 0;
}

/* A scheme of the other kind of key (an ECDSA key pair or a shared secret)
 * cannot keep the secret: unless the changes give one, it gets a new one
 * (and a rotation in progress ends). */
static endpoint_t *merge_parse(const endpoint_t *base, json_t *obj, const json_t *changes,
                               mh_err_t *err)
{
    endpoint_t *ep;

    if (json_object_get(changes, "secret"))
        return endpoint_from_json(obj, err);
    json_t *fresh = json_deep_copy(obj);

    json_object_del(fresh, "secret");
    json_object_del(fresh, "old_secret");
    ep = endpoint_from_json(fresh, err);
    json_decref(fresh);
    if (ep == NULL || endpoint_scheme_is_ec(ep->scheme) != endpoint_scheme_is_ec(base->scheme))
        return ep;
    endpoint_free(ep);
    return endpoint_from_json(obj, err);
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
    if (json_object_get(changes, "format") && merge_format_defaults(base, obj, changes, err) < 0) {
        json_decref(obj);
        return NULL;
    }
    ep = merge_parse(base, obj, changes, err);
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
    free(ep->transform);
    free(ep->where);
    wipe_free(ep->basic_auth);
    free(ep->user_agent);
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

