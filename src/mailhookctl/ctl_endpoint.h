/* SPDX-License-Identifier: MIT */
/*
 * ctl_endpoint.h - `mailhookctl endpoint ...`: manage the webhook
 * endpoints over the admin socket (admin_proto.h; the endpoint object is
 * described in endpoint.h). See mailhookctl(1).
 *
 *   ctl_endpoint(ctl, argc, argv)   argv[0] is "endpoint", argv[1] one of
 *       add, update, list, show, enable, disable, remove, rotate-secret,
 *       test; returns an exit code (test: 75 when the request was not
 *       answered with 2xx). Usage errors and refusals exit from inside.
 *
 * The option table for add and update is ctl_endpoint_opts.h; the human
 * view of an endpoint is ctl_endpoint_print.h.
 */
#ifndef MH_CTL_ENDPOINT_H
#define MH_CTL_ENDPOINT_H

#include "ctl_common.h"

#define CTL_ENDPOINT_SYNOPSIS                                                        \
    "endpoint add|update|list|show|enable|disable|remove|rotate-secret|test|preview ...\n" \
    "       (mailhookctl endpoint SUBCOMMAND --help; mailhookctl --help for OPTIONS)"

int ctl_endpoint(struct ctl *ctl, int argc, char **argv);

#endif
