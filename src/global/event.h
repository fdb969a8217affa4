/* SPDX-License-Identifier: MIT */
/*
 * event.h - the event model: one C type for everything mailhook reports.
 *
 * An event is {"id","type","timestamp","data"}, serialized in exactly that
 * key order as canonical compact JSON (cjson.h):
 *   id         "evt_" + ULID, unique, sortable by creation time (evid.h)
 *   type       a canonical type (email.sent, email.delivered, ...) or a custom
 *              type an application injects: lowercase [a-z0-9_.-], 1..64
 *              bytes, containing a dot, not starting with a reserved
 *              namespace ("email.", "mailhook.") unless canonical
 *   timestamp  RFC 3339 UTC with milliseconds: when the thing happened
 *   data       a JSON object (possibly empty)
 *
 *   event_new(type, ts_ms, data, err)   new event with a fresh id; steals
 *                                       data (a JSON object, or NULL for {})
 *   event_derive_id(ev, parts, n)       replace ev's id by the deterministic
 *                                       one of its timestamp and the n strings
 *                                       (evid_derive): for events derived from
 *                                       a record that may be read again (a log
 *                                       line), so the copy is a duplicate
 *   event_free(ev)                      returns NULL
 *   event_to_json(ev, &len)             canonical bytes; caller frees
 *   event_from_json(buf, len, err)      parse and validate bytes received from
 *                                       a producer; NULL + err when invalid
 *   event_json_parse(buf, len, err)     JSON text (an object or an array) as
 *                                       producers' events are read: a key given
 *                                       twice in one object is refused; NULL +
 *                                       "invalid JSON at byte N: ..." (the one
 *                                       check of the daemon and of the CLI's
 *                                       emit, so both refuse the same input)
 *   event_type_check(type, err)         validate a type name
 *   event_type_canonical(type)          true for the email.* types below
 *   event_size_check(len, max, err)     0 when an event's JSON text of len
 *                                       bytes is at most max bytes (the
 *                                       max_event_size option), else -1 + err:
 *                                       the one size rule for every way events
 *                                       come in (ingest socket, spool, backfill)
 */
#ifndef MH_EVENT_H
#define MH_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "evid.h"
#include "msg.h"

#define EVENT_TYPE_MAX 64
#define EVENT_MAX_BYTES_DEFAULT (256 * 1024)

#define EV_SENT "email.sent"
#define EV_DELIVERED "email.delivered"
#define EV_DEFERRED "email.deferred"
#define EV_BOUNCED "email.bounced"
#define EV_FAILED "email.failed"
#define EV_OPENED "email.opened"
#define EV_CLICKED "email.clicked"
#define EV_COMPLAINED "email.complained"
#define EV_UNSUBSCRIBED "email.unsubscribed"

/* NULL-terminated list of the canonical types, in documentation order. */
extern const char *const event_canonical_types[];

typedef struct event {
    char id[EVID_SIZE];
    char type[EVENT_TYPE_MAX + 1];
    int64_t ts_ms; /* when it happened, ms since the epoch, UTC */
    json_t *data;  /* owned: a JSON object */
} event_t;

event_t *event_new(const char *type, int64_t ts_ms, json_t *data, mh_err_t *err);
void event_derive_id(event_t *ev, const char *const *parts, size_t n);
event_t *event_free(event_t *ev);
char *event_to_json(const event_t *ev, size_t *len);
event_t *event_from_json(const char *buf, size_t len, mh_err_t *err);
json_t *event_json_parse(const char *buf, size_t len, mh_err_t *err);
int event_type_check(const char *type, mh_err_t *err);
bool event_type_canonical(const char *type);
int event_size_check(size_t len, size_t max, mh_err_t *err);

#endif
