/* SPDX-License-Identifier: MIT */
/*
 * enrich.h - add what the store knows about a message to its events.
 *
 * The milter records, per MTA queue id, what only it can see (the store's
 * messages table, key = queue id, value = a JSON object):
 *   {"subject": "...", "tags": ["vip", ...], "metadata": {"campaign_id": ...},
 *    "tenant": "...", "message_id": "<...>", "from": "...", "milter": true,
 *    "t": ms, "sent": ["rcpt", ...], "waited": true, "stored": ms}
 * ("t": the time of the message's email.sent; "sent" and "waited": what
 * the log reader emitted for it, below; a record of the reader's alone has
 * only these three and "stored", when the record was last written.)
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
 *   enrich_append(st, txn, ev, err)
 *   enrich_append_hold(st, txn, ev, hold_until_ms, err)
 *                          STORE THREAD: one event about to be stored, by
 *                          the email.sent rules (below)
 *   enrich_take_held(st, txn, qid, &evs, &n, err)
 *   enrich_take_expired(st, txn, now_ms, max, &evs, &n, &next_ms, err)
 *                          STORE THREAD: the log events held for a message
 *                          whose record came, or whose wait ran out (below)
 *   enrich_expire(st, before_ms, cursor, max, &deleted, err)
 *                          STORE THREAD: retention of the records (below)
 */
#ifndef MH_ENRICH_H
#define MH_ENRICH_H

#include <stdbool.h>
#include "event.h"
#include "store.h"

bool enrich_event(store_t *st, event_t *ev);

/*
 * The milter's email.sent and the maillog reader's, for the same message.
 * The rule: ONE email.sent per recipient and queue id, the one stored
 * first; the milter's record enriches every later event either way.
 *
 *   enrich_append(st, txn, ev, err)
 *   enrich_append_hold(st, txn, ev, hold_until_ms, err)
 *                          STORE THREAD, in the append transaction: what
 *                          the daemon calls for each event it is about to
 *                          store. Returns ENRICH_KEEP (store it), ENRICH_DROP
 *                          (do not: another email.sent stands for it),
 *                          ENRICH_HELD (stored in a hold, below: the caller
 *                          stores nothing now), or -1 + err on a store error.
 *                          The record is read once.
 *   - An email.sent from the milter ("milter": true in its data) saves the
 *     message record above under its queue id (plus "milter": true and "t",
 *     the event's time in ms): ENRICH_KEEP; but ENRICH_DROP when the log's
 *     email.sent for that recipient was stored before (the record's "sent"
 *     list): the record is saved all the same, so the message's later
 *     events are enriched.
 *   - An email.sent from the log: ENRICH_DROP when the record is the
 *     milter's; else ENRICH_KEEP and the recipient is in "sent" (a record
 *     {"t", "sent"} is made when there is none). The same line read again
 *     gives the same event id: the store's id check drops that copy.
 *   - Any other event: the record's members merged as enrich_event does,
 *     and its time moved up to the record's "t" when it is earlier (the
 *     log has whole seconds, the milter's email.sent milliseconds: an
 *     outcome is never timestamped before its email.sent).
 *
 * Chains (enrich.h's rule for every leg): a log event of a chain names
 * its first queue id in queue_id and the later leg in reinjected_queue_id
 * (Sendmail's MSP -> MTA, Sendmail -> Postfix, a content filter). The
 * milter may have seen either: Postfix's milter the first leg, Sendmail's
 * the MTA's (the MSP runs no milter). The record is looked up under
 * queue_id, then under reinjected_queue_id. When the milter's record is
 * under the later leg, the event is moved there: queue_id := that leg
 * (the milter's email.sent's), first_queue_id := the first id, and
 * reinjected_queue_id removed; so every event of a recipient carries the
 * queue_id of its surviving email.sent. The log's email.sent of a chain
 * is listed ("sent") under both ids, so the milter's arriving later under
 * the later leg is dropped too. A hold is made under queue_id, and the
 * later leg named under ENRICH_ALIAS_PREFIX + leg: enrich_take_held for
 * the leg takes the first id's hold as well. When the log's email.sent
 * went out under the first leg before the chain was known (an MSP's
 * hand-off deferred, the MTA down), the milter's later email.sent under
 * the later leg is found late by its Message-ID (a record under the
 * Message-ID, {"t", "qid"}, is kept for each log email.sent that has
 * one) and dropped; the recipient's events then stay under the first
 * leg, the surviving email.sent's queue id, enriched. Middle legs of a chain of
 * three are not named in the event, so not looked up.
 *
 * Holding (the maillog reader: enrich_append_hold with hold_until_ms > 0;
 * enrich_append is the same with 0, never holding): the
 * milter submits from a background thread after the end of DATA, so the
 * MTA can deliver and log a message before the milter's record is stored
 * (and after a restart the spool may still hold it). A log event whose
 * queue id has no record of the milter's yet is held: stored in the
 * checkpoint table under ENRICH_HOLD_PREFIX + queue id, in the caller's
 * transaction (with the reader's position: a crash loses and repeats
 * nothing), with the deadline hold_until_ms. A hold is made only while
 * the milter is in use (an email.sent of the milter's stored in the last
 * ENRICH_MILTER_RECENT_MS, noted under ENRICH_MILTER_KEY) and when the
 * message's wait has not been spent already (the record's "waited"); once
 * a queue id has a hold, its later log events join it, in order.
 *
 *   enrich_take_held(st, txn, qid, &evs, &n, err)
 *                          STORE THREAD: after storing a batch with the
 *                          milter's email.sent for qid, take that queue id's
 *                          held events (appended to the malloc'ed *evs, *n
 *                          counted up; the caller owns them) and delete the
 *                          hold; the caller appends them (not holding):
 *                          they find the record now. 0, or -1 + err.
 *   enrich_take_expired(st, txn, now_ms, max, &evs, &n, &next_ms, err)
 *                          STORE THREAD: the same for up to max holds whose
 *                          deadline is not after now_ms, the milter's
 *                          record never came (their records get "waited":
 *                          their later events are not held again).
 *                          *next_ms = the earliest deadline left, 0 = none.
 */
enum enrich_verdict { ENRICH_KEEP = 0, ENRICH_DROP = 1, ENRICH_HELD = 2 };
#define ENRICH_HOLD_PREFIX "enrich/hold/"
#define ENRICH_ALIAS_PREFIX "enrich/leg/"
#define ENRICH_MILTER_KEY "enrich/milter"
#define ENRICH_MILTER_RECENT_MS (7 * 86400 * 1000LL)
int enrich_append(store_t *st, store_txn_t *txn, event_t *ev, mh_err_t *err);
int enrich_append_hold(store_t *st, store_txn_t *txn, event_t *ev, int64_t hold_until_ms,
                       mh_err_t *err);
int enrich_take_held(store_t *st, store_txn_t *txn, const char *qid, event_t ***evs, size_t *n,
                     mh_err_t *err);
int enrich_take_expired(store_t *st, store_txn_t *txn, int64_t now_ms, size_t max,
                        event_t ***evs, size_t *n, int64_t *next_ms, mh_err_t *err);

/*
 * Retention of the records (with the events' retention_days):
 *
 *   enrich_expire(st, before_ms, cursor, max, &deleted, err)
 *                          STORE THREAD, no transaction open: look at up to
 *                          max records from the key in cursor (ENRICH_CURSOR
 *                          bytes, "" = the first) and delete, in one
 *                          transaction, those last written ("stored") before
 *                          before_ms (or not readable; a record without
 *                          "stored", from before it was kept: by its "t").
 *                          cursor is left where the next call goes on, ""
 *                          after the last record.
 */
#define ENRICH_CURSOR 256
int enrich_expire(store_t *st, int64_t before_ms, char *cursor, size_t max, size_t *deleted,
                  mh_err_t *err);

#endif
