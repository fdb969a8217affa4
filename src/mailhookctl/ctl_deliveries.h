/* SPDX-License-Identifier: MIT */
/*
 * ctl_deliveries.h - `mailhookctl deliveries ...`: read the delivery log
 * (one record per attempt to send to an endpoint) and send a delivery's
 * events again, over the admin socket (admin_proto.h). See mailhookctl(1).
 *
 *   ctl_deliveries(ctl, argc, argv)   argv[0] is "deliveries", argv[1]
 *       list, show or retry; returns an exit code. Usage errors and the
 *       daemon's refusals exit from inside (ctl_common.h).
 *
 * A delivery's id is passed to the daemon as the string typed and printed
 * as the daemon sends it (a string, or a number).
 */
#ifndef MH_CTL_DELIVERIES_H
#define MH_CTL_DELIVERIES_H

#include "ctl_common.h"

#define CTL_DELIVERIES_SYNOPSIS \
    "deliveries list|show|retry ...   (mailhookctl deliveries SUBCOMMAND --help)"

int ctl_deliveries(struct ctl *ctl, int argc, char **argv);

#endif
