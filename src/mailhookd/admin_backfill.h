/* SPDX-License-Identifier: MIT */
/*
 * admin_backfill.h - the "backfill" admin command (admin_proto.h): events
 * that mailhookctl re-derived from rotated maillogs, stored when their id
 * is new, queued as asked.
 *
 *   admin_backfill_commands[]   command table rows (NULL-terminated)
 *
 * Work runs on the store thread, one transaction per request (a chunk of
 * at most ADMIN_REQUEST_MAX bytes of events):
 *   no "endpoint": the normal append path (append_events_txn):
 *     enrichment, the milter's email.sent superseding the log's, the id
 *     check, and fan-out to every matching endpoint for the new ones;
 *   "endpoint": E: the same enrichment and id check, but the new events
 *     are queued for E alone (when they match it), and the already stored
 *     ones are queued for E again (as replay does), so E gets the range.
 * Every event is validated as the ingest socket does (event_size_check
 * against max_event_size on the loop thread first, then event_from_json);
 * one invalid event refuses the whole request (bad_request), storing
 * nothing.
 */
#ifndef MH_ADMIN_BACKFILL_H
#define MH_ADMIN_BACKFILL_H

#include "admin_cmd.h"

extern const struct admin_command admin_backfill_commands[];

#endif
