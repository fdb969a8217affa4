/* SPDX-License-Identifier: MIT */
/*
 * admin_report.h - the "report" admin command (admin_proto.h): the daily
 * summary of mailhookctl report (what pflogsumm gives from the maillog),
 * counted from the store: email.* events by type, bounces by class,
 * outcomes by recipient domain, bounce reasons, and the delivery log by
 * endpoint.
 *
 * Bounded work: one request scans at most REPORT_CHUNK events (in time
 * order, from "since") and then at most REPORT_CHUNK delivery records
 * (from the delivery id of "since"), and answers the counts of what it
 * scanned with a cursor; the client repeats with the cursor and adds the
 * answers up, so the store thread is never held for long. Each map keeps
 * at most REPORT_KEYS_MAX names per answer; the rest count under
 * "(other)". Work only, on the store thread.
 *
 *   admin_report_commands[]   command table rows (NULL-terminated)
 */
#ifndef MH_ADMIN_REPORT_H
#define MH_ADMIN_REPORT_H

#include "admin_cmd.h"

#define REPORT_CHUNK 20000
#define REPORT_KEYS_MAX 1000

extern const struct admin_command admin_report_commands[];

#endif
