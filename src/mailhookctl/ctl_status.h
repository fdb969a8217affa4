/* SPDX-License-Identifier: MIT */
/*
 * ctl_status.h - `mailhookctl status`: the daemon's figures, from the
 * admin "status" answer (admin_proto.h). Sections the answer lacks (an
 * older daemon, a subsystem not running) are left out.
 *
 *   ctl_status(ctl, argc, argv)   argv[0] is "status"; returns its health,
 *                                 Nagios-style: STATUS_OK (0), STATUS_WARNING
 *                                 (1: an endpoint failing or disabled,
 *                                 quarantined spool files, the store short of
 *                                 space), STATUS_CRITICAL (2: the store out of
 *                                 space, a maillog reader in error or
 *                                 stopped), STATUS_UNKNOWN (3: no answer from
 *                                 mailhookd); with --json the answer gains
 *                                 "health":{"status","code","reasons"}
 */
#ifndef MH_CTL_STATUS_H
#define MH_CTL_STATUS_H

#include "ctl_common.h"

#define CTL_STATUS_SYNOPSIS "status"
#define STATUS_OK 0
#define STATUS_WARNING 1
#define STATUS_CRITICAL 2
#define STATUS_UNKNOWN 3

int ctl_status(struct ctl *ctl, int argc, char **argv);

#endif
