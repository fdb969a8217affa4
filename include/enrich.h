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
 *   enrich_event(st, ev)   STORE THREAD (called inside the append
 *                          transaction): merge the record into ev->data;
 *                          returns true when a record was found. A missing
 *                          or malformed record leaves the event as it is.
 */
#ifndef MH_ENRICH_H
#define MH_ENRICH_H

#include <stdbool.h>
#include "event.h"
#include "store.h"

bool enrich_event(store_t *st, event_t *ev);

#endif
