/* SPDX-License-Identifier: MIT */
/*
 * ctl_status.h - `mailhookctl status`: the daemon's figures, from the
 * admin "status" answer (admin_proto.h). Sections the answer lacks (an
 * older daemon, a subsystem not running) are left out.
 *
 *   ctl_status(ctl, argc, argv)   argv[0] is "status"; returns an exit code
 */
#ifndef MH_CTL_STATUS_H
#define MH_CTL_STATUS_H

#include "ctl_common.h"

int ctl_status(struct ctl *ctl, int argc, char **argv);

#endif
