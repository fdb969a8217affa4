/* SPDX-License-Identifier: MIT */
/*
 * endpoint_int.h - private to the endpoint module (endpoint.h):
 * endpoint.c (the key table: parse, emit, merge), endpoint_check.c (checks
 * of single values: names, types, headers, secrets, filters, URLs) and
 * endpoint_match.c (matching events). Nothing else includes it.
 *
 *   endpoint_in_list(list, s)          s in the NULL-terminated list,
 *                                      case-insensitively
 *   endpoint_type_pattern_check(t, err)  an exact type, "prefix.*" or "*"
 *   endpoint_header_name_check(name, min, err)
 *                                      an RFC 9110 token of min..
 *                                      EP_HEADER_NAME_MAX, not one mailhook sets
 *   endpoint_header_value_check(name, v, err)
 *                                      a string of 1..EP_HEADER_VALUE_MAX
 *                                      bytes, no control character but TAB
 *   endpoint_secret_check(s, err)      EP_SECRET_MIN..EP_SECRET_MAX - 1 printable
 *                                      ASCII, not masked
 *   endpoint_filter_parse(text, f, err)  "KEY=VALUE" into f (f owns copies)
 *   endpoint_url_check(url, allow_http, err)  what libcurl's parser says
 *   endpoint_credential_headers        headers whose values are masked
 *
 * Each returns 0 (true), or -1 with err filled with the problem; the
 * caller adds "endpoint NAME: KEY: " in front.
 */
#ifndef MH_ENDPOINT_INT_H
#define MH_ENDPOINT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "endpoint.h"
#include "msg.h"

/* Bounds of outside input: endpoint_limits.h, named by the rows of
 * endpoint_keys.def. */
#include "endpoint_limits.h"

#define EP_MASK_PREFIX "whsec_..." /* a masked secret: this + its last 4 characters */
#define EP_MASK_TAIL 4
#define SHOWN_SIZE 72              /* quoted input in error messages */

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
#define TYPE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_.-"
/* RFC 9110 tchar: the characters of a header name. */
#define TOKEN_CHARS "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* Headers whose values are credentials: masked like the secret. */
extern const char *const endpoint_credential_headers[];

bool endpoint_in_list(const char *const *list, const char *s); /* case-insensitive */
int endpoint_type_pattern_check(const char *t, mh_err_t *err);
int endpoint_header_name_check(const char *name, size_t min, mh_err_t *err);
int endpoint_header_value_check(const char *name, const json_t *v, mh_err_t *err);
int endpoint_secret_check(const char *s, mh_err_t *err);
int endpoint_filter_parse(const char *text, struct ep_filter *f, mh_err_t *err);
int endpoint_url_check(const char *url, bool allow_http, mh_err_t *err);

#endif
