/* SPDX-License-Identifier: MIT */
/*
 * endpoint_keys.h - the names of an endpoint's enumerated values, from the
 * rows of endpoint_keys.def (the one table of endpoint keys, schemes,
 * health states and payload formats): each as an enum and as its name in
 * JSON and mailhook.conf, with lookups both ways; and the delivery id forms.
 *
 *   endpoint_scheme_name(s)          "standard", ...; "?" out of range
 *   endpoint_scheme_from_name(name, &s)
 *                                    0 and *s set, or -1 when name is no
 *                                    scheme's (compared exactly)
 *   endpoint_scheme_list()           "standard, hmac-sha256-hex, ...": every
 *                                    name in table order, for messages
 *   endpoint_health_name(h)          "healthy", ...; "?" out of range
 *   endpoint_health_from_name(name, &h)
 *                                    0 and *h set, or -1
 *   endpoint_health_list()           "healthy, failing, disabled"
 *   endpoint_scheme_has_header(s)   true when s signs in signature_header
 *                                    (the hex schemes)
 *   endpoint_scheme_is_ec(s)         true when s's secret is an ECDSA
 *                                    private key (sendgrid), not shared
 *   endpoint_format_name(f)          "standard", "sendgrid", ...; "?" out of range
 *   endpoint_format_from_name(name, &f)
 *                                    0 and *f set, or -1
 *   endpoint_format_list()           every format name, for messages
 *   endpoint_format_shape(f)         its body shape (EP_SHAPE_ANY...)
 *   endpoint_format_defaults(f)      its defaults, endpoint JSON text ("{}")
 *   endpoint_idform_name(d)          "ulid" or "uuid"
 *   endpoint_idform_from_name(name, &d)
 *                                    0 and *d set, or -1
 *
 * No allocation, no state: safe from any thread.
 */
#ifndef MH_ENDPOINT_KEYS_H
#define MH_ENDPOINT_KEYS_H

#include <stdbool.h>
#include "endpoint_limits.h"

enum ep_scheme {
#define ENDPOINT_SCHEME(id, name, doc) id,
#include "endpoint_keys.def"
};

enum ep_health {
#define ENDPOINT_HEALTH(id, name, doc) id,
#include "endpoint_keys.def"
};

enum ep_format {
#define ENDPOINT_FORMAT(id, name, shape, defaults, doc) id,
#include "endpoint_keys.def"
};

/* How a format shapes a request's body (endpoint_keys.def). */
enum ep_shape { EP_SHAPE_ANY, EP_SHAPE_ARRAY, EP_SHAPE_ONE };

/* The form of a delivery id (the delivery_id key). */
enum ep_idform { EP_ID_ULID, EP_ID_UUID };

const char *endpoint_scheme_name(enum ep_scheme s);
int endpoint_scheme_from_name(const char *name, enum ep_scheme *s);
const char *endpoint_scheme_list(void);
bool endpoint_scheme_has_header(enum ep_scheme s);
bool endpoint_scheme_is_ec(enum ep_scheme s);
const char *endpoint_health_name(enum ep_health h);
int endpoint_health_from_name(const char *name, enum ep_health *h);
const char *endpoint_health_list(void);
const char *endpoint_format_name(enum ep_format f);
int endpoint_format_from_name(const char *name, enum ep_format *f);
const char *endpoint_format_list(void);
enum ep_shape endpoint_format_shape(enum ep_format f);
const char *endpoint_format_defaults(enum ep_format f);
const char *endpoint_idform_name(enum ep_idform d);
int endpoint_idform_from_name(const char *name, enum ep_idform *d);

#endif
