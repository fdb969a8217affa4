/* SPDX-License-Identifier: MIT */
/*
 * ctl_endpoint_print.h - the human view of an endpoint object (endpoint.h)
 * for mailhookctl: one "label: value" line per setting, in the order an
 * administrator reads them (where, what, how signed, how sent, health).
 * Keys the object lacks are left out; text that came from outside (URLs,
 * header values, reasons) is made printable.
 *
 *   ctl_endpoint_print(ep, with_secret)
 *       the view; without with_secret, the secret line is left out (add
 *       prints the secret apart, ctl_endpoint_print_secret)
 *   ctl_endpoint_state(ep)
 *       "disabled" when not enabled, else the health state ("healthy",
 *       "failing"...)
 *   ctl_endpoint_json_times(ep)
 *       the times of ep (created, updated, old_secret_until, and health's
 *       failing_since, last_success, last_failure), which the protocol
 *       gives as ms integers, as RFC 3339 strings, in place (null for 0:
 *       never), for --json; what is printed is RFC 3339 everywhere
 *   ctl_endpoint_print_secret(title, secret)
 *       a secret set apart, alone on its line so it copies cleanly; a
 *       warning when the daemon sent none
 */
#ifndef MH_CTL_ENDPOINT_PRINT_H
#define MH_CTL_ENDPOINT_PRINT_H

#include <stdbool.h>
#include <jansson.h>

void ctl_endpoint_print(const json_t *ep, bool with_secret);
const char *ctl_endpoint_state(const json_t *ep);
void ctl_endpoint_json_times(json_t *ep);
void ctl_endpoint_print_secret(const char *title, const char *secret);

#endif
