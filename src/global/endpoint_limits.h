/* SPDX-License-Identifier: MIT */
/*
 * endpoint_limits.h - the named bounds of an endpoint's keys: the
 * numbers the rows of endpoint_keys.def refer to, and that code sizing
 * buffers for endpoint values uses (EP_NAME_MAX, EP_RETRY_MAX...).
 *
 * Here, in global/, because mailhook.conf's endpoint section
 * (conf_sections.c) is derived from endpoint_keys.def as well as the
 * endpoint model (src/webhook/endpoint.c) and mailhookctl's options; the
 * file is macros only, no functions, so including it links nothing.
 * Exports no functions.
 */
#ifndef MH_ENDPOINT_LIMITS_H
#define MH_ENDPOINT_LIMITS_H

#include <limits.h>

#define EP_NAME_MAX 64            /* bytes of a name */
#define EP_SECRET_MIN 8           /* bytes of a secret, at least */
#define EP_SECRET_MAX 256         /* a secret's buffer: at most 255 bytes and the NUL;
                                     a base64 PKCS#8 P-256 key (sign.h) has 184 */
#define EP_RETRY_MAX 32           /* retry delays */
#define EP_BATCH_MAX 10000        /* events per request */
#define EP_URL_MAX 2048           /* bytes of a URL */
#define EP_TYPES_MAX 64           /* type patterns */
#define EP_FILTERS_MAX 64         /* filters */
#define EP_FILTER_TEXT_MAX 256    /* bytes of one "KEY=VALUE" filter */
#define EP_HEADERS_MAX 32         /* extra request headers */
#define EP_HEADER_NAME_MAX 64     /* bytes of a header name */
#define EP_HEADER_VALUE_MAX 1024  /* bytes of a header value */
#define EP_SIG_PREFIX_MAX 32      /* bytes of signature_prefix */
#define EP_REASON_MAX 512         /* bytes of health.disabled_reason */
#define EP_PROGRAM_MAX 65536      /* bytes of a transform or where program */
#define EP_AUTH_MAX 512           /* bytes of basic_auth's "user:password" */
#define EP_RETRY_SECONDS_MAX (7 * 86400) /* one retry delay, seconds */
#define EP_MS_MAX 9007199254740991LL /* 2^53 - 1: exact in every JSON reader */
#define EP_CONNECT_DEFAULT_MS 3000   /* connect_timeout_ms when not given: at most this */

#endif
