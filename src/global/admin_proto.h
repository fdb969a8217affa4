/* SPDX-License-Identifier: MIT */
/*
 * admin_proto.h - the admin socket protocol between mailhookctl and mailhookd.
 *
 * A Unix stream socket; each request is one line of JSON, each answer one
 * line of JSON, in order:
 *   {"cmd":"status"}
 *       -> {"ok":true,"version":..,"pid":..,"started":RFC3339,"uptime_s":..,
 *           "store":{"events","last_seq","messages","endpoints","queued",
 *                    "bytes_on_disk"},
 *           "counters":{...mhd_counters...},"clients":..}
 *   {"cmd":"events.list","type":T,"since":MS,"until":MS,"limit":N}
 *       -> {"ok":true,"events":[EVENT,...],"truncated":bool}
 *   {"cmd":"events.show","id":ID}
 *       -> {"ok":true,"event":EVENT}
 *
 * Endpoints (endpoint.h gives the endpoint object; answers mask secrets
 * and redact URL passwords unless said otherwise):
 *   {"cmd":"endpoint.add","endpoint":{...}}
 *       -> {"ok":true,"endpoint":{... "secret" in clear: shown this once}}
 *   {"cmd":"endpoint.list"}
 *       -> {"ok":true,"endpoints":[{...,"queued":N},...]}  (name order)
 *   {"cmd":"endpoint.show","name":N,"reveal_secret":bool}
 *       -> {"ok":true,"endpoint":{...,"queued":N}}
 *          (every answer's endpoint of the sendgrid scheme also has
 *          "public_key": base64 DER, as SendGrid's settings page shows it)
 *   {"cmd":"endpoint.update","name":N,"set":{keys to change}}
 *   {"cmd":"endpoint.enable","name":N}      (also resets health)
 *   {"cmd":"endpoint.disable","name":N}
 *       -> {"ok":true,"endpoint":{...}}
 *   {"cmd":"endpoint.remove","name":N}
 *       -> {"ok":true,"dropped":N}  (queued deliveries dropped with it)
 *   {"cmd":"endpoint.rotate_secret","name":N,"secret":S?,"overlap_s":N?}
 *       -> {"ok":true,"endpoint":{... new "secret" in clear ...}}
 *          the old secret keeps signing too for overlap_s (default 86400)
 *   {"cmd":"endpoint.test","name":N,"type":T?}
 *       -> {"ok":true,"delivered":bool,"status":HTTP-STATUS|0,
 *           "duration_ms":N,"error":TEXT|null,"response":TEXT,
 *           "event":EVENT}           sent now, outside the queue, in the
 *                                    endpoint's format ("delivered":false,
 *                                    the reason as "error", when it sends
 *                                    nothing of T)
 *   {"cmd":"endpoint.preview","name":N,"type":T?,"event":ID?}
 *       -> {"ok":true,"endpoint":N,"event":ID,"sent":true,"method":"POST",
 *           "headers":{...},"body":TEXT}  the request the stored event ID
 *           (or the sample event of type T) would make: not sent, not
 *           logged, credentials masked; "sent":false,"reason":TEXT when the
 *           endpoint's where, format or transform sends nothing of it
 * Deliveries (the delivery log, one record per attempt):
 *   {"cmd":"deliveries.list","endpoint":N?,"failed":bool?,"since":MS?,
 *    "limit":N?}
 *       -> {"ok":true,"deliveries":[{"id","time","endpoint","events":[IDs],
 *           "types":[...],"attempt","status","duration_ms","ok":bool,
 *           "error":TEXT|null},...],"truncated":bool}   (oldest first)
 *   {"cmd":"deliveries.show","id":ID}
 *       -> {"ok":true,"delivery":{... as above, "response":TEXT,
 *           "url":URL}}
 *   {"cmd":"deliveries.retry","id":ID}
 *       -> {"ok":true,"requeued":N}   its events queued again, now
 * Replay (stored events queued again for matching endpoints, in chunks
 * so the store is never held for long; the client repeats with "cursor"):
 *   {"cmd":"replay","since":MS,"until":MS?,"type":T?,"endpoint":N?,
 *    "tenant":T?,"cursor":C?,"count_only":bool?}
 *       -> {"ok":true,"matched":N,"enqueued":N,"cursor":C|null}
 *          tenant: only events whose data.tenant is T (as the filter
 *          tenant=T compares); count_only: "matched" is the number of
 *          events in the range (of that tenant; one answer, nothing
 *          queued); cursor null = done
 * Backfill (events mailhookctl re-derived from rotated maillogs, sent in
 * chunks that fit ADMIN_REQUEST_MAX; admin_backfill.h):
 *   {"cmd":"backfill","events":[EVENT,...],"endpoint":N?}
 *       -> {"ok":true,"stored":N,"duplicates":N,"superseded":N,"enqueued":N}
 *          new ids are stored; without endpoint they are queued for every
 *          endpoint they match, with endpoint for N alone, and then the
 *          already stored ones are queued for N too ("enqueued" counts the
 *          entries for N)
 *
 * Report (mailhookctl report: counted from the store in chunks of at most
 * REPORT_CHUNK events, then REPORT_CHUNK delivery records; the client
 * repeats with "cursor" and adds the answers up; admin_report.h):
 *   {"cmd":"report","since":MS,"until":MS?,"cursor":C?}
 *       -> {"ok":true,"events_scanned":N,"deliveries_scanned":N,
 *           "messages":{"sent"|"delivered"|"deferred"|"bounced"|"failed":N},
 *           "bounce_classes":{CLASS:N},"domains":{DOMAIN:{KIND:N}},
 *           "bounce_reasons":{REPLY:N},
 *           "endpoints":{NAME:{"deliveries","ok","failed","events"}},
 *           "cursor":C|null}
 *          email.* events by their own time in [since, until); the
 *          delivery log by delivery id (its time); a map keeps at most
 *          REPORT_KEYS_MAX names per answer, the rest under "(other)";
 *          cursor null = done
 * Backup (a hot backup of the store, on the store thread: no event is
 * stored while it runs; admin_backup.h):
 *   {"cmd":"backup","dir":ABSOLUTE-PATH}
 *       -> {"ok":true,"dir":DIR,"files":N,"bytes":N,"duration_ms":N}
 *          DIR is on the daemon's machine, outside state_dir, absent or an
 *          empty directory ("exists" otherwise); created 0700, owned by
 *          the daemon's user; the copy is a state_dir (restore: stop,
 *          copy it into a new state_dir, start: recovery runs)
 *
 * Failure: {"ok":false,"code":"not_found"|"bad_request"|"exists"|
 *           "conflict"|"busy"|"internal","error":"text"}
 *   the text quotes the request made printable (no control character:
 *   see printable() in msg.h)
 *   "busy": more than max_admin_clients connections; sent unasked on
 *   connecting, then the connection is closed (try again later).
 * A request line, with its newline, is at most ADMIN_REQUEST_MAX bytes; a
 * longer one is answered bad_request (after the answers before it) and the
 * connection is closed. A list answers at most ADMIN_LIST_MAX events.
 */
#ifndef MH_ADMIN_PROTO_H
#define MH_ADMIN_PROTO_H

#define ADMIN_REQUEST_MAX (64 * 1024)
#define ADMIN_LIST_MAX 100000
#define ADMIN_REPLY_MAX (512 * 1024 * 1024)

#endif
