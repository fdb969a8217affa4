/* SPDX-License-Identifier: MIT */
/*
 * admin_events.h - the events.* admin commands (admin_proto.h):
 * events.list (stored events by type and time, at most ADMIN_LIST_MAX)
 * and events.show (one event by id). Work only, on the store thread.
 *
 *   admin_events_commands[]   command table rows (NULL-terminated)
 */
#ifndef MH_ADMIN_EVENTS_H
#define MH_ADMIN_EVENTS_H

#include "admin_cmd.h"

extern const struct admin_command admin_events_commands[];

#endif
