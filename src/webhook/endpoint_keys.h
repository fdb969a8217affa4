/* SPDX-License-Identifier: MIT */
/*
 * endpoint_keys.h - the names of an endpoint's enumerated values, from the
 * rows of endpoint_keys.def (the one table of endpoint keys, schemes and
 * health states): the signature schemes and the health states, each as an
 * enum and as its name in JSON and mailhook.conf, with lookups both ways.
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
 *
 * No allocation, no state: safe from any thread.
 */
#ifndef MH_ENDPOINT_KEYS_H
#define MH_ENDPOINT_KEYS_H

#include "endpoint_limits.h"

enum ep_scheme {
#define ENDPOINT_SCHEME(id, name, doc) id,
#include "endpoint_keys.def"
};

enum ep_health {
#define ENDPOINT_HEALTH(id, name, doc) id,
#include "endpoint_keys.def"
};

const char *endpoint_scheme_name(enum ep_scheme s);
int endpoint_scheme_from_name(const char *name, enum ep_scheme *s);
const char *endpoint_scheme_list(void);
const char *endpoint_health_name(enum ep_health h);
int endpoint_health_from_name(const char *name, enum ep_health *h);
const char *endpoint_health_list(void);

#endif
