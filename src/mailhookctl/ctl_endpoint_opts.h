/* SPDX-License-Identifier: MIT */
/*
 * ctl_endpoint_opts.h - the options of `mailhookctl endpoint add` and
 * `update`, turned into the keys of an endpoint object (endpoint.h).
 *
 * The options are the CLI column of endpoint_keys.def, the one table of
 * endpoint keys: each row names its option, the key it sets and (by its
 * type) how the value is read, so add, update, the config file and the
 * daemon cannot drift apart.
 *
 *   ctl_endpoint_opts_parse(argc, argv, obj, add, synopsis)
 *       read every option of argv (from argv[1]; operands may come first
 *       or after) into obj: strings as given, DURATIONs to ms (retry: to
 *       whole seconds), --type and --retry split at commas, --filter and
 *       --type repeatable, --header 'Name: value' into the "headers"
 *       object. An empty --filter or --header value stands for "none"
 *       (the key is set to [] or {}), so update can clear them. --disabled
 *       only when add. Returns optind (the first operand after getopt's
 *       permutation); a bad option or value exits 64 with a message.
 */
#ifndef MH_CTL_ENDPOINT_OPTS_H
#define MH_CTL_ENDPOINT_OPTS_H

#include <stdbool.h>
#include <jansson.h>

int ctl_endpoint_opts_parse(int argc, char **argv, json_t *obj, bool add, const char *synopsis);

#endif
