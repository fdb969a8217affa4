/* SPDX-License-Identifier: MIT */
/*
 * admin_status.h - the "status" admin command (admin_proto.h): the store's
 * figures (store_stats, disk space) from the store thread, merged on the
 * loop thread with the daemon's side (admin_env.status: version, uptime,
 * counters and each subsystem's status, assembled by daemon.c).
 *
 *   admin_status_commands[]   command table rows (NULL-terminated)
 */
#ifndef MH_ADMIN_STATUS_H
#define MH_ADMIN_STATUS_H

#include "admin_cmd.h"

extern const struct admin_command admin_status_commands[];

#endif
