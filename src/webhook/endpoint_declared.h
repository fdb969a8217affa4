/* SPDX-License-Identifier: MIT */
/*
 * endpoint_declared.h - an endpoint declared in mailhook.conf: its
 * "endpoint NAME { }" section (struct mh_conf_endpoint, conf.h) as the
 * endpoint JSON object of endpoint.h, derived from the rows of
 * endpoint_keys.def that have a config option.
 *
 *   endpoint_declared_json(ce, err)
 *       a new object (the caller owns it): "name" the section's title,
 *       "source" "config", and each option under its key: strings, numbers
 *       and booleans as they are, lists as arrays, headers ("Name: value")
 *       as an object, retry durations ("5s", "30m") as whole seconds. An
 *       option left at the value that stands for "not given" (CONF_UNSET
 *       in the row) is left out, so the endpoint default applies (or, when
 *       mailhookd merges the object into a stored endpoint, the stored
 *       value stays). NULL + err ("endpoint NAME: KEY: problem") when a
 *       header or a retry delay has not the form; the values themselves
 *       are judged by endpoint_from_json.
 */
#ifndef MH_ENDPOINT_DECLARED_H
#define MH_ENDPOINT_DECLARED_H

#include <jansson.h>

#include "conf.h"
#include "msg.h"

json_t *endpoint_declared_json(const struct mh_conf_endpoint *ce, mh_err_t *err);

#endif
