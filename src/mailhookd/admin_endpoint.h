/* SPDX-License-Identifier: MIT */
/*
 * admin_endpoint.h - the endpoint.* admin commands (admin_proto.h):
 * endpoint.add, .list, .show, .update, .enable, .disable, .remove,
 * .rotate_secret and .test. Work on the store thread (the records:
 * endpoint_store.h; the fan-out's matching list); the changed endpoint is
 * handed to the delivery engine on the loop thread as an owned object
 * carried by the job (admin_job_carry), and endpoint.test answers later,
 * once the engine's test send is done (admin_job_complete).
 *
 *   admin_endpoint_commands[]   command table rows (NULL-terminated)
 */
#ifndef MH_ADMIN_ENDPOINT_H
#define MH_ADMIN_ENDPOINT_H

#include "admin_cmd.h"

extern const struct admin_command admin_endpoint_commands[];

#endif
