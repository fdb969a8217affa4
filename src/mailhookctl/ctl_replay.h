/* SPDX-License-Identifier: MIT */
/*
 * ctl_replay.h - `mailhookctl replay --since TIME [--until TIME] [--type T]
 * [--endpoint E] [--tenant T]`: queue stored events again for the endpoints
 * they match (or for one endpoint), only one tenant's with --tenant, for a
 * receiver that lost them. See mailhookctl(1).
 *
 *   ctl_replay(ctl, argc, argv)   argv[0] is "replay"; returns an exit code
 *
 * mailhookd replays in chunks (admin_proto.h, "replay"): one count_only
 * request learns the total, then requests are repeated, each passing back
 * the previous answer's cursor (opaque, sent back as received) until it is
 * null; with several types (--type repeated or T1,T2), one such run per
 * type. Without --until the range ends when the command starts, so events
 * arriving meanwhile, which are delivered anyway, are not sent twice.
 */
#ifndef MH_CTL_REPLAY_H
#define MH_CTL_REPLAY_H

#include "ctl_common.h"

#define CTL_REPLAY_SYNOPSIS \
    "replay --since TIME [--until TIME] [--type T[,T...]]... [--endpoint E] [--tenant T]"

int ctl_replay(struct ctl *ctl, int argc, char **argv);

#endif
