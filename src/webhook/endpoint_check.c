/* SPDX-License-Identifier: MIT */
/*
 * endpoint_check.c - checks of an endpoint's single values (endpoint_int.h):
 * names, type patterns, header names and values, secrets, filters, and URLs
 * (taken apart by libcurl's URL API, never by hand). Header names and values
 * end up as "Name: value" lines handed to curl, so a CR or LF in a value
 * would inject headers: refused here. Errors never quote a secret or a URL.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "endpoint_int.h"
#include "transform.h"
#include "event.h"
#include "sign.h"
#include "xalloc.h"
#include "strutil.h"

/* Headers mailhook sets on every request: an endpoint may not set them. */
static const char *const reserved_headers[] = {
    "Content-Type", "Content-Length", "Host", "User-Agent", "webhook-id", "webhook-timestamp",
    "webhook-signature", "Transfer-Encoding", "Connection", NULL,
};

/* Headers whose values are credentials: masked like the secret. */
const char *const endpoint_credential_headers[] = { "Authorization", "Proxy-Authorization", NULL };

static const struct {
    const char *name;
    enum ep_filter_key key;
} filter_keys[] = {
    { "sender_domain", EPF_SENDER_DOMAIN },
    { "recipient_domain", EPF_RECIPIENT_DOMAIN },
    { "tenant", EPF_TENANT },
    { "tag", EPF_TAG },
};
#define FILTER_META_PREFIX "metadata."

/* ---- small helpers */

static const char *shown(char buf[SHOWN_SIZE], const char *s)
{
    return printable(buf, SHOWN_SIZE, s, strlen(s));
}


int endpoint_programs_check(const endpoint_t *ep, mh_err_t *err)
{
    transform_t *t;

    if (ep->transform[0]) {
        if ((t = transform_compile(ep->transform, TRANSFORM_MAP, err)) == NULL)
            return mh_err_prefix(err, "endpoint %s: transform", ep->name);
        transform_free(t);
    }
    if (ep->where[0]) {
        if ((t = transform_compile(ep->where, TRANSFORM_WHERE, err)) == NULL)
            return mh_err_prefix(err, "endpoint %s: where", ep->name);
        transform_free(t);
    }
    return 0;
}

bool endpoint_header_is_credential(const char *name)
{
    return endpoint_in_list(endpoint_credential_headers, name);
}

bool endpoint_in_list(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (strcasecmp(list[i], s) == 0)
            return true;
    return false;
}

/* ---- checks of single values; err receives the problem, the caller adds the key */

int endpoint_name_check(const char *name, mh_err_t *err)
{
    char buf[SHOWN_SIZE];
    size_t len = strlen(name);

    if (len == 0 || len > EP_NAME_MAX || strspn(name, NAME_CHARS) != len)
        return mh_err_set(err, "name \"%s\": must be 1 to %d characters from A-Z a-z 0-9 _ . -",
                          shown(buf, name), EP_NAME_MAX);
    return 0;
}

/* "*", "prefix.*" or an event type. */
int endpoint_type_pattern_check(const char *t, mh_err_t *err)
{
    char buf[SHOWN_SIZE];
    size_t len = strlen(t);

    if (strcmp(t, "*") == 0)
        return 0;
    if (len < 2 || strcmp(t + len - 2, ".*") != 0)
        return event_type_check(t, err);
    if (len > EVENT_TYPE_MAX || t[0] == '.' || strstr(t, "..") ||
        strspn(t, TYPE_CHARS) != len - 1)
        return mh_err_set(err, "\"%s\": a wildcard is a prefix of a-z 0-9 _ . - followed by "
                               "\".*\", like \"email.*\"", shown(buf, t));
    return 0;
}

/* A header name: an RFC 9110 token of min..EP_HEADER_NAME_MAX characters,
 * not one that mailhook sets itself. */
int endpoint_header_name_check(const char *name, size_t min, mh_err_t *err)
{
    char buf[SHOWN_SIZE];
    size_t len = strlen(name);

    if (len < min || len > EP_HEADER_NAME_MAX)
        return mh_err_set(err, "\"%s\": a header name is %zu to %d characters", shown(buf, name),
                          min, EP_HEADER_NAME_MAX);
    if (strspn(name, TOKEN_CHARS) != len)
        return mh_err_set(err, "\"%s\": not a header name (letters, digits and "
                               "!#$%%&'*+-.^_`|~)", shown(buf, name));
    if (endpoint_in_list(reserved_headers, name))
        return mh_err_set(err, "\"%s\": mailhook sets this header itself", name);
    return 0;
}

/* A header value: 1..EP_HEADER_VALUE_MAX bytes, no control character but
 * HTAB (a CR or LF would start a header of the sender's choosing). */
int endpoint_header_value_check(const char *name, const json_t *v, mh_err_t *err)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);

    if (!json_is_string(v))
        return mh_err_set(err, "%s: the value must be a string", name);
    if (len == 0 || len > EP_HEADER_VALUE_MAX)
        return mh_err_set(err, "%s: the value must be 1 to %d bytes", name, EP_HEADER_VALUE_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (byte_is_ctl(c) && c != '\t')
            return mh_err_set(err, "%s: the value must not contain CR, LF, NUL or other "
                                   "control characters", name);
    }
    if (endpoint_in_list(endpoint_credential_headers, name) && strcmp(s, EP_MASK_HEADER) == 0)
        return mh_err_set(err, "%s: \"%s\" is the masked value: give the real one", name,
                          EP_MASK_HEADER);
    return 0;
}

/* 8..127 printable ASCII characters, no space, and not a masked secret
 * (a client that sends back what "show" printed must not set that). */
int endpoint_secret_check(const char *s, mh_err_t *err)
{
    size_t len = strlen(s);

    if (len < EP_SECRET_MIN || len >= EP_SECRET_MAX)
        return mh_err_set(err, "must be %d to %d characters", EP_SECRET_MIN, EP_SECRET_MAX - 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p >= 0x7f)
            return mh_err_set(err, "must be printable ASCII without spaces");
    if (strncmp(s, EP_MASK_PREFIX, strlen(EP_MASK_PREFIX)) == 0)
        return mh_err_set(err, "is masked (\"%s\"): give the secret itself, or leave the key "
                               "out", EP_MASK_PREFIX);
    return 0;
}

/* ---- filters */

static bool filter_key_find(const char *text, size_t klen, enum ep_filter_key *key)
{
    for (size_t i = 0; i < sizeof(filter_keys) / sizeof(filter_keys[0]); i++)
        if (strlen(filter_keys[i].name) == klen && memcmp(filter_keys[i].name, text, klen) == 0) {
            *key = filter_keys[i].key;
            return true;
        }
    return false;
}

/* Parse "KEY=VALUE" into f; f is only written on success. The NAME of
 * metadata.NAME is kept whole, dots and all: endpoint_match.c walks it as
 * a path (each step, or the rest of it, a key), so a NAME with an empty
 * step ("a..b") is no error, only a key that may exist. */
int endpoint_filter_parse(const char *text, struct ep_filter *f, mh_err_t *err)
{
    static const size_t mlen = sizeof(FILTER_META_PREFIX) - 1;
    const char *eq = strchr(text, '='), *value;
    enum ep_filter_key key = EPF_METADATA; /* unless a named key is found */
    char buf[SHOWN_SIZE];
    size_t klen;

    if (strlen(text) > EP_FILTER_TEXT_MAX || str_has_ctl(text))
        return mh_err_set(err, "\"%s\": a filter is at most %d characters, none of them "
                               "control characters", shown(buf, text), EP_FILTER_TEXT_MAX);
    if (eq == NULL)
        return mh_err_set(err, "\"%s\": not KEY=VALUE", shown(buf, text));
    klen = (size_t)(eq - text);
    value = eq + 1;
    if (!filter_key_find(text, klen, &key) &&
        !(klen > mlen && strncmp(text, FILTER_META_PREFIX, mlen) == 0))
        return mh_err_set(err, "\"%s\": KEY must be sender_domain, recipient_domain, tenant, "
                               "tag or metadata.NAME", shown(buf, text));
    if (*value == 0)
        return mh_err_set(err, "\"%s\": the value is empty", shown(buf, text));
    if ((key == EPF_SENDER_DOMAIN || key == EPF_RECIPIENT_DOMAIN) && strchr(value, '@'))
        return mh_err_set(err, "\"%s\": the value is a domain, without \"@\"", shown(buf, text));
    f->key = key;
    f->meta_name = key == EPF_METADATA ? xstrndup(text + mlen, klen - mlen) : NULL;
    f->value = xstrdup(value);
    return 0;
}

/* ---- the URL */

/* A URL libcurl parses, http(s) only (http only with allow_http), with a host. */
int endpoint_url_check(const char *url, bool allow_http, mh_err_t *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    CURLUcode rc;
    int ret = 0;

    if (u == NULL)
        msg_fatal(EX_OSERR, "curl_url: out of memory");
    rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (rc == CURLUE_NO_HOST)
        ret = mh_err_set(err, "a host is required");
    else if (rc != CURLUE_OK)
        ret = mh_err_set(err, "not a valid URL (%s)", curl_url_strerror(rc));
    else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0))
        ret = mh_err_set(err, "scheme must be https (or http with allow_http)");
    else if (strcasecmp(scheme, "http") == 0 && !allow_http)
        ret = mh_err_set(err, "scheme must be https (set allow_http to permit http)");
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == 0)
        ret = mh_err_set(err, "a host is required");
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ret;
}

/* A URL curl cannot parse is not shown at all: it may still hold a password. */
char *endpoint_redact_url(const char *url)
{
    CURLU *u = curl_url();
    char *pw = NULL, *out = NULL, *ret;

    if (u == NULL)
        msg_fatal(EX_OSERR, "curl_url: out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
        ret = xstrdup("(invalid URL)");
    else if (curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) != CURLUE_OK)
        ret = xstrdup(url); /* no password: the URL as given */
    else if (curl_url_set(u, CURLUPART_PASSWORD, EP_MASK_HEADER, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
        ret = xstrdup(out);
    else
        ret = xstrdup("(invalid URL)");
    if (pw)
        secure_wipe(pw, strlen(pw));
    curl_free(pw);
    curl_free(out);
    curl_url_cleanup(u);
    return ret;
}

