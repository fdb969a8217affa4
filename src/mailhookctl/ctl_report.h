/* SPDX-License-Identifier: MIT */
/*
 * ctl_report.h - `mailhookctl report [--since TIME] [--until TIME]
 * [--top N]`: the daily summary (as pflogsumm gives it from the maillog)
 * from the store, through the "report" admin command (admin_report.h):
 * messages sent, delivered, deferred, bounced and failed; bounces by class;
 * outcomes by recipient domain; the top bounce reasons; webhook deliveries
 * and failures per endpoint. Plain text for cron mail, or with --json one
 * object {"ok":true,"since","until",...} (mailhookctl(1)). The daemon
 * answers in chunks; this adds them up.
 *
 *   ctl_report(ctl, argc, argv)   argv[0] is "report"; returns an exit code
 */
#ifndef MH_CTL_REPORT_H
#define MH_CTL_REPORT_H

#include "ctl_common.h"

#define CTL_REPORT_SYNOPSIS "report [--since TIME] [--until TIME] [--top N]"

int ctl_report(struct ctl *ctl, int argc, char **argv);

#endif
