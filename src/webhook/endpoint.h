/* SPDX-License-Identifier: MIT */
/*
 * endpoint.h - a subscriber endpoint: where matching events are delivered,
 * how requests are signed and shaped, and its health.
 *
 * One JSON object is the endpoint's only representation outside memory: the
 * store keeps it (STORE_ENDPOINTS, keyed by name), the admin protocol
 * carries it, the config file's endpoint sections are turned into it.
 * Every key, with its type, bounds, default and one line on what it is
 * for, is a row of endpoint_keys.def (name and url are required on input,
 * the others optional); what follows are the rules a row cannot say:
 *
 *   url        http(s)://...; https only unless allow_http; userinfo
 *              allowed (basic auth) but redacted in output; judged by
 *              libcurl's URL parser
 *   types      exact types, "prefix.*" wildcards or "*"
 *   filters    "KEY=VALUE", KEY one of sender_domain, recipient_domain,
 *              tenant, tag, metadata.NAME; the same KEY twice = either
 *              value, different KEYs = all must hold (endpoint_matches).
 *              A dotted NAME is a path into nested objects
 *              (metadata.contact.tags=vip); an array on the path or at its
 *              end holds when one of its elements does; at each object the
 *              rest of the path is tried as one key first (a key "a.b");
 *              strings compare exactly, numbers and booleans by their JSON
 *              text, null, objects never
 *   secret     generated when absent ("whsec_" + base64 of 32 random
 *              bytes); printable ASCII, no space; the standard scheme needs
 *              base64 after "whsec_"; a masked value ("whsec_...") is
 *              refused
 *   old_secret during a rotation requests also carry a signature with it,
 *              until old_secret_until; output writes null when absent
 *   headers    names are RFC 9110 tokens, not one mailhook sets
 *              (Content-Type, Content-Length, Host, User-Agent, Connection,
 *              Transfer-Encoding, webhook-*), nor a name given twice or
 *              also used by the *_header keys, in any case; values without
 *              control characters but TAB (no CR/LF: no injection);
 *              Authorization and Proxy-Authorization values are masked
 *              ("***") in output like secrets. The three *_header keys
 *              follow the same name rules; "" = not sent
 *   batch_max  0: one event per request, the body is the event object;
 *              N >= 1: the body is always an array of 1..N events
 *   retry      an event is dropped after the last delay ([] = at the first
 *              failure)
 *   health     kept by the daemon: {"state", "consecutive_failures",
 *              "failing_since", "last_success", "last_failure",
 *              "disabled_reason"}; members absent on input take
 *              healthy/0/""
 *
 * Unknown keys are an error (a typo must not silently do nothing).
 *
 *   endpoint_from_json(obj, err)    parse + validate; defaults filled in;
 *                                   NULL + err ("endpoint NAME: url: ...");
 *                                   the caller owns the result
 *   endpoint_to_json(ep, flags)     every key; EP_JSON_SECRETS includes
 *                                   secret/old_secret (and Authorization
 *                                   values), otherwise they are masked
 *                                   ("whsec_...abcd"); EP_JSON_RAW_URL
 *                                   keeps userinfo, otherwise it is redacted
 *   endpoint_merge(base, changes, err)
 *                                   a new endpoint: base's JSON with the keys
 *                                   of changes replaced (name cannot change);
 *                                   a null value removes the key, which takes
 *                                   its default again (old_secret: null ends
 *                                   a rotation); base is not touched
 *   endpoint_dup(ep), endpoint_free(ep) (returns NULL; NULL is fine)
 *   endpoint_type_matches(pattern, type)
 *   endpoint_matches(ep, type, data)    types and filters, against an
 *                                   event's type and data object; ignores
 *                                   enabled/health (callers decide)
 *   endpoint_value_equals(v, want)  the comparison of a filter: v (NULL is
 *                                   fine) is the string want exactly, or a
 *                                   number or boolean whose JSON text is
 *                                   want; null, arrays, objects never
 *   endpoint_name_check(name, err)  0, or -1 + err ("name \"x y\": ...")
 *   endpoint_secret_new(scheme, out, err)
 *                                   a new secret of scheme's kind into *out
 *                                   (malloc'ed; wipe before freeing): a
 *                                   shared "whsec_..." one, or for sendgrid
 *                                   a P-256 key pair; 0, or -1 + err
 *   endpoint_programs_check(ep, err) 0 when ep's transform and where
 *                                   compile (transform.h), else -1 + err
 *                                   ("endpoint NAME: transform: ..."):
 *                                   what the daemon asks of a new or
 *                                   changed endpoint (a compile costs ms,
 *                                   so endpoint_from_json does not)
 *   endpoint_header_is_credential(name)
 *                                   true for Authorization and
 *                                   Proxy-Authorization (any case): their
 *                                   values are shown as EP_MASK_HEADER
 *   endpoint_redact_url(url)        malloc'ed url with the password as "***";
 *                                   "(invalid URL)" when curl cannot parse it
 *
 * The names of the scheme and health enums, and the lookups by name, are in
 * endpoint_keys.h.
 */
#ifndef MH_ENDPOINT_H
#define MH_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "endpoint_keys.h"   /* enum ep_scheme, enum ep_health and their names */
#include "endpoint_limits.h" /* EP_NAME_MAX, EP_RETRY_MAX... */
#include "msg.h"

/* A parsed "KEY=VALUE" filter. */
enum ep_filter_key { EPF_SENDER_DOMAIN, EPF_RECIPIENT_DOMAIN, EPF_TENANT, EPF_TAG, EPF_METADATA };
struct ep_filter {
    enum ep_filter_key key;
    char *meta_name; /* EPF_METADATA: the NAME of metadata.NAME; else NULL */
    char *value;     /* domains compared case-insensitively, others exactly */
};

struct ep_header {
    char *name, *value;
};

typedef struct endpoint {
    char *name;
    char *url;
    enum ep_format format;
    char *transform, *where; /* jq programs; "" = none */
    char **types; /* ntypes strings */
    size_t ntypes;
    struct ep_filter *filters;
    size_t nfilters;
    char **filter_texts; /* the filters as given ("tag=vip"), for output */
    enum ep_scheme scheme;
    char *signature_header, *signature_prefix;
    char *secret;
    char *old_secret;          /* NULL when no rotation is in progress */
    int64_t old_secret_until;  /* ms */
    char *basic_auth;          /* "user:password", NULL when none */
    struct ep_header *headers;
    size_t nheaders;
    char *user_agent;          /* "" = mailhook/VERSION */
    char *event_header, *delivery_header; /* "" = not sent */
    enum ep_idform delivery_id;
    int batch_max, batch_wait_ms;
    int timeout_ms, connect_timeout_ms;
    int retry[EP_RETRY_MAX]; /* seconds */
    size_t nretry;
    int concurrency;
    int failing_after;          /* consecutive failures: failing */
    int disable_after_failures; /* -1: the global endpoint_disable_failures */
    int disable_after;          /* hours; -1: the global endpoint_disable_after */
    bool enabled, allow_http, from_config;
    int64_t created, updated;
    /* health */
    enum ep_health state;
    int consecutive_failures;
    int64_t failing_since, last_success, last_failure;
    char *disabled_reason; /* "" when none */
} endpoint_t;

#define EP_MASK_HEADER "***" /* a masked credential value */

#define EP_JSON_SECRETS 1u
#define EP_JSON_RAW_URL 2u

endpoint_t *endpoint_from_json(const json_t *obj, mh_err_t *err);
json_t *endpoint_to_json(const endpoint_t *ep, unsigned flags);
endpoint_t *endpoint_merge(const endpoint_t *base, const json_t *changes, mh_err_t *err);
endpoint_t *endpoint_dup(const endpoint_t *ep);
endpoint_t *endpoint_free(endpoint_t *ep);
bool endpoint_type_matches(const char *pattern, const char *type);
bool endpoint_matches(const endpoint_t *ep, const char *type, const json_t *data);
bool endpoint_value_equals(const json_t *v, const char *want);
int endpoint_name_check(const char *name, mh_err_t *err);
int endpoint_secret_new(enum ep_scheme scheme, char **out, mh_err_t *err);
int endpoint_programs_check(const endpoint_t *ep, mh_err_t *err);
bool endpoint_header_is_credential(const char *name);
char *endpoint_redact_url(const char *url);

#endif
