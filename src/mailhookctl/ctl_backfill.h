/* SPDX-License-Identifier: MIT */
/*
 * ctl_backfill.h - `mailhookctl backfill [--source NAME] [--since TIME]
 * [--until TIME] [--endpoint E] FILE...`: re-derive the events of rotated
 * maillog files (plain or gzip) and have mailhookd store the ones it does
 * not hold yet: replay from the MTA's own record, beyond any retention.
 * See mailhookctl(1).
 *
 *   ctl_backfill(ctl, argc, argv)   argv[0] is "backfill"; returns an exit code
 *
 * Model: the files are parsed here, oldest first (by modification time, so
 * `mail.log*` in any order works), by the same parser and correlator as the
 * daemon's reader for the maillog section NAME (--source; default: the only
 * maillog section of the configuration), with that section's options. The
 * events' ids are derived from the lines (evid_derive), so an event the
 * reader already stored has the same id and the daemon drops it. Events
 * whose time is in [since, until) go to mailhookd in chunks, each one admin
 * request ("backfill", admin_proto.h) within ADMIN_REQUEST_MAX:
 *   without --endpoint: new events are stored and queued for every endpoint
 *     they match, as if the reader had read them; stored ones are left alone;
 *   with --endpoint E: new events are stored and queued for E only (if they
 *     match it), and stored ones are queued for E again, as replay does.
 * Events older than retention_days are sent only with --endpoint: without
 * one, a backfill stores what the reader would have stored within
 * retention_days and fans out nothing older. (Retention counts from when
 * the store received an event, so what is stored stays retention_days.)
 * Progress goes to stderr when it is a terminal; a summary to stdout.
 */
#ifndef MH_CTL_BACKFILL_H
#define MH_CTL_BACKFILL_H

#include "ctl_common.h"

#define CTL_BACKFILL_SYNOPSIS \
    "backfill [--source NAME] [--since TIME] [--until TIME] [--endpoint E] FILE..."

int ctl_backfill(struct ctl *ctl, int argc, char **argv);

#endif
