/*
 * enrich.h - add what the store knows about a message to its events.
 *
 * The milter records, per MTA queue id, what only it can see (the store's
 * messages table, key = queue id, value = a JSON object):
 *   {"subject": "...", "tags": ["vip", ...], "metadata": {"campaign_id": ...},
 *    "tenant": "...", "message_id": "<...>", "from": "...", "milter": true}
 * Every event that names a queue id ("data.queue_id") and is stored later
 * (maillog outcomes, opens, clicks, asynchronous bounces) gets the members
 * subject, tags, metadata, tenant and message_id from that record, unless
 * the event already has them: the producer's own values win.
 *
 *   enrich_event(st, ev)   STORE THREAD: merge the record into ev->data;
 *                          returns true when a record was found. A missing
 *                          or malformed record leaves the event as it is.
 *                          (The daemon calls enrich_append, below, which
 *                          does this and the email.sent rules.)
 */
#ifndef MH_ENRICH_H
#define MH_ENRICH_H

#include <stdbool.h>
#include "event.h"
#include "store.h"

bool enrich_event(store_t *st, event_t *ev);

/*
 * The milter's email.sent and the maillog reader's, for the same message:
 *
 *   enrich_append(st, txn, ev, err)
 *                          STORE THREAD, in the append transaction: what
 *                          the daemon calls for each event it is about to
 *                          store. An email.sent from the milter ("milter":
 *                          true in its data) saves the message record above
 *                          under its queue id (plus "milter": true and "t",
 *                          the event's time in ms): ENRICH_KEEP. Any other
 *                          email.sent whose queue id has a record of the
 *                          milter's: ENRICH_DROP, the milter's own
 *                          email.sent stands for it (the reader's lacks the
 *                          subject, tags and metadata). Any other event:
 *                          merged as enrich_event does, ENRICH_KEEP. The
 *                          record is read once. -1 + err on a store error.
 *
 * Order: the milter submits at the end of the SMTP DATA phase, before the
 * MTA logs the message, so its record is normally stored first. If the
 * milter could not reach mailhookd and its events wait in the spool while
 * the reader runs ahead, the reader's email.sent is stored and the
 * milter's arrives later: both are kept (at least once, never lost).
 */
enum enrich_verdict { ENRICH_KEEP = 0, ENRICH_DROP = 1 };
int enrich_append(store_t *st, store_txn_t *txn, event_t *ev, mh_err_t *err);

/*
 * Retention of the records (with the events' retention_days):
 *
 *   enrich_expire(st, before_ms, cursor, max, &deleted, err)
 *                          STORE THREAD, no transaction open: look at up to
 *                          max records from the key in cursor (ENRICH_CURSOR
 *                          bytes, "" = the first) and delete, in one
 *                          transaction, those made before before_ms (or not
 *                          readable). cursor is left where the next call
 *                          goes on, "" after the last record.
 */
#define ENRICH_CURSOR 256
int enrich_expire(store_t *st, int64_t before_ms, char *cursor, size_t max, size_t *deleted,
                  mh_err_t *err);

#endif
