/* SPDX-License-Identifier: MIT */
/*
 * admin_deliveries.h - the deliveries.* admin commands (admin_proto.h):
 * deliveries.list (the delivery log, filtered, oldest first),
 * deliveries.show (one record with its response) and deliveries.retry
 * (the record's events queued again for its endpoint). Work only, on the
 * store thread.
 *
 *   admin_deliveries_commands[]   command table rows (NULL-terminated)
 */
#ifndef MH_ADMIN_DELIVERIES_H
#define MH_ADMIN_DELIVERIES_H

#include "admin_cmd.h"

extern const struct admin_command admin_deliveries_commands[];

#endif
