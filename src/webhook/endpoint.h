/*
 * endpoint.h - a subscriber endpoint: where matching events are delivered,
 * how requests are signed and shaped, and its health.
 *
 * One JSON object is the endpoint's only representation outside memory: the
 * store keeps it (STORE_ENDPOINTS, keyed by name), the admin protocol
 * carries it, the config file's endpoint sections are turned into it.
 * Every key, with its type, bounds, default and one line on what it is
 * for, is a row of endpoint_keys.def; the rules below are what a row
 * cannot say. Keys (all optional on input except name and url; defaults
 * in brackets):
 *
 *   name               [A-Za-z0-9_.-], 1..64 bytes
 *   url                http(s)://... ; https only unless allow_http;
 *                      userinfo allowed (basic auth) but redacted in output;
 *                      at most 2048 bytes, judged by libcurl's URL parser
 *   types              ["*"]  exact types, "prefix.*" wildcards or "*"; 1..64
 *   filters            []     "KEY=VALUE" strings, KEY one of sender_domain,
 *                             recipient_domain, tenant, tag, metadata.NAME;
 *                             the same KEY twice = either value, different
 *                             KEYs = all must hold (see endpoint_matches);
 *                             at most 64, each at most 256 bytes
 *   scheme             "standard" | "hmac-sha256-hex" | "sha256-secret-body"
 *   signature_header   ["X-Mailhook-Signature"] (not used by standard)
 *   signature_prefix   [""]  e.g. "sha256=" (not used by standard)
 *   secret             ["whsec_" + base64(32 random bytes), generated]
 *                             8..127 printable ASCII, no space; the standard
 *                             scheme needs base64 (after "whsec_"); a masked
 *                             value ("whsec_...") is refused
 *   old_secret, old_secret_until   [absent / 0] during a rotation: requests
 *                             also carry a signature with old_secret until
 *                             old_secret_until (ms since the epoch);
 *                             output writes old_secret null when absent
 *   headers            {}     extra static request headers {"Name":"value"}:
 *                             at most 32; names are RFC 9110 tokens of 1..64,
 *                             not one mailhook sets (Content-Type,
 *                             Content-Length, Host, User-Agent, Connection,
 *                             Transfer-Encoding, webhook-*), nor a name given
 *                             twice or also used by the *_header keys, in any
 *                             case; values 1..1024 bytes without control
 *                             characters but TAB (no CR/LF: no injection);
 *                             Authorization and Proxy-Authorization values
 *                             are masked ("***") in output like secrets
 *   event_header       ["X-Mailhook-Event"]     "" = not sent
 *                      (the three *_header keys follow the header name rules)
 *   delivery_header    ["X-Mailhook-Delivery"]  "" = not sent
 *   batch_max          [0]    0: one event per request, the body is the
 *                             event object; N >= 1: the body is always an
 *                             array of 1..N events
 *   batch_wait_ms      [1000] a partial batch waits at most this long
 *   timeout_ms         [5000] whole request; connect_timeout_ms [min(timeout, 3000)]
 *   retry              [5,300,1800,7200,18000,36000,36000] seconds before each
 *                             retry; an event is dropped after the last
 *                             ([] = no retry: dropped at the first failure)
 *   concurrency        [8]    requests in flight at most (1 while failing)
 *   enabled            [true]
 *   allow_http         [false]
 *   source             ["cli"] or "config" (declared in mailhook.conf)
 *   created, updated   ms since the epoch (set by the daemon)
 *   health             {"state":"healthy"|"failing"|"disabled",
 *                       "consecutive_failures":N,"failing_since":MS,
 *                       "last_success":MS,"last_failure":MS,
 *                       "disabled_reason":"..."}  (kept by the daemon;
 *                       members absent on input take healthy/0/"")
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
 *   endpoint_name_check(name, err)  0, or -1 + err ("name \"x y\": ...")
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
    struct ep_header *headers;
    size_t nheaders;
    char *event_header, *delivery_header; /* "" = not sent */
    int batch_max, batch_wait_ms;
    int timeout_ms, connect_timeout_ms;
    int retry[EP_RETRY_MAX]; /* seconds */
    size_t nretry;
    int concurrency;
    bool enabled, allow_http, from_config;
    int64_t created, updated;
    /* health */
    enum ep_health state;
    int consecutive_failures;
    int64_t failing_since, last_success, last_failure;
    char *disabled_reason; /* "" when none */
} endpoint_t;

#define EP_JSON_SECRETS 1u
#define EP_JSON_RAW_URL 2u

endpoint_t *endpoint_from_json(const json_t *obj, mh_err_t *err);
json_t *endpoint_to_json(const endpoint_t *ep, unsigned flags);
endpoint_t *endpoint_merge(const endpoint_t *base, const json_t *changes, mh_err_t *err);
endpoint_t *endpoint_dup(const endpoint_t *ep);
endpoint_t *endpoint_free(endpoint_t *ep);
bool endpoint_type_matches(const char *pattern, const char *type);
bool endpoint_matches(const endpoint_t *ep, const char *type, const json_t *data);
int endpoint_name_check(const char *name, mh_err_t *err);
char *endpoint_redact_url(const char *url);

#endif
