/* SPDX-License-Identifier: MIT */
/*
 * admin_replay.h - the "replay" admin command (admin_proto.h): stored
 * events of a time range queued again for the enabled endpoints they match
 * (or one named), in chunks of a transaction each; the client repeats with
 * the cursor it got. Work only, on the store thread.
 *
 *   admin_replay_commands[]   command table rows (NULL-terminated)
 */
#ifndef MH_ADMIN_REPLAY_H
#define MH_ADMIN_REPLAY_H

#include "admin_cmd.h"

extern const struct admin_command admin_replay_commands[];

#endif
