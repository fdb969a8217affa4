/*
 * admin_proto.h - the admin socket protocol between mailhookctl and mailhookd.
 *
 * A Unix stream socket; each request is one line of JSON, each answer one
 * line of JSON, in order:
 *   {"cmd":"status"}
 *       -> {"ok":true,"version":..,"pid":..,"started":RFC3339,"uptime_s":..,
 *           "store":{"events","last_seq","messages","endpoints","queued",
 *                    "bytes_on_disk"},
 *           "counters":{...daemon_counters...},"clients":..}
 *   {"cmd":"events.list","type":T,"since":MS,"until":MS,"limit":N}
 *       -> {"ok":true,"events":[EVENT,...],"truncated":bool}
 *   {"cmd":"events.show","id":ID}
 *       -> {"ok":true,"event":EVENT}
 * Failure: {"ok":false,"code":"not_found"|"bad_request"|"internal",
 *           "error":"text"}
 * Requests are at most ADMIN_REQUEST_MAX bytes; a list answers at most
 * ADMIN_LIST_MAX events.
 */
#ifndef MH_ADMIN_PROTO_H
#define MH_ADMIN_PROTO_H

#define ADMIN_REQUEST_MAX (64 * 1024)
#define ADMIN_LIST_MAX 100000
#define ADMIN_REPLY_MAX (512 * 1024 * 1024)

#endif
