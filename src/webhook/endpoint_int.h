/*
 * endpoint_int.h - private to the endpoint module (endpoint.h):
 * endpoint.c (the key table: parse, emit, merge), endpoint_check.c (checks
 * of single values: names, types, headers, secrets, filters, URLs) and
 * endpoint_match.c (matching events). Nothing else includes it.
 *
 * The ep_*_check functions fill err with the problem; the caller adds
 * "endpoint NAME: KEY: " in front.
 */
#ifndef MH_ENDPOINT_INT_H
#define MH_ENDPOINT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "endpoint.h"
#include "msg.h"

/* Bounds of outside input besides those in endpoint.h (documented there). */
#define EP_URL_MAX 2048
#define EP_TYPES_MAX 64
#define EP_FILTERS_MAX 64
#define EP_FILTER_TEXT_MAX 256
#define EP_HEADERS_MAX 32
#define EP_HEADER_NAME_MAX 64
#define EP_HEADER_VALUE_MAX 1024
#define EP_SIG_PREFIX_MAX 32
#define EP_REASON_MAX 512
#define EP_SECRET_MIN 8
#define EP_RETRY_SECONDS_MAX (7 * 86400)
#define EP_MS_MAX 9007199254740991LL /* 2^53 - 1: exact in every JSON reader */
#define EP_CONNECT_DEFAULT_MS 3000

#define EP_MASK_PREFIX "whsec_..." /* a masked secret: this + its last 4 characters */
#define EP_MASK_TAIL 4
#define EP_MASK_HEADER "***"       /* a masked credential header value */
#define SHOWN_SIZE 72              /* quoted input in error messages */

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
#define TYPE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_.-"
/* RFC 9110 tchar: the characters of a header name. */
#define TOKEN_CHARS "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* Headers whose values are credentials: masked like the secret. */
extern const char *const ep_credential_headers[];

bool ep_in_list(const char *const *list, const char *s); /* case-insensitive */
int ep_type_pattern_check(const char *t, mh_err_t *err);
int ep_header_name_check(const char *name, size_t min, mh_err_t *err);
int ep_header_value_check(const char *name, const json_t *v, mh_err_t *err);
int ep_secret_check(const char *s, mh_err_t *err);
int ep_filter_parse(const char *text, struct ep_filter *f, mh_err_t *err);
int ep_url_check(const char *url, bool allow_http, mh_err_t *err);

#endif
