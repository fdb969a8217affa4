/* SPDX-License-Identifier: MIT */
/*
 * ctl_events.h - `mailhookctl emit` and `mailhookctl events list|show`:
 * inject an event like any producer (ingest.h, spooling when mailhookd is
 * down), and read the stored events over the admin socket.
 *
 *   ctl_emit(ctl, argc, argv)     argv[0] is "emit"; returns an exit code
 *   ctl_events(ctl, argc, argv)   argv[0] is "events", argv[1] list or show
 */
#ifndef MH_CTL_EVENTS_H
#define MH_CTL_EVENTS_H

#include "ctl_common.h"

#define CTL_EMIT_SYNOPSIS "emit [--at TIME] TYPE [JSON-DATA]"
#define CTL_EVENTS_SYNOPSIS "events list|show ...   (mailhookctl events SUBCOMMAND --help)"

int ctl_emit(struct ctl *ctl, int argc, char **argv);
int ctl_events(struct ctl *ctl, int argc, char **argv);

#endif
