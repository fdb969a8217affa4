/* SPDX-License-Identifier: MIT */
/*
 * milter_msg.h - what mailhook-milter learns about one message, and the
 * email.sent events it makes of it. Pure: no libmilter, no I/O, so the unit
 * tests and the fuzzer drive it directly; the callbacks in milter.c only
 * forward what libmilter hands them.
 *
 *   milter_conn_set(conn, addr, name, daemon)  connection facts (copied;
 *                                   NULL leaves a fact unknown)
 *   milter_conn_clear(conn)         free the copies
 *   milter_msg_new(mc)              an empty message bounded by the milter
 *                                   section mc (borrowed: must outlive it)
 *   milter_msg_free(m)              returns NULL
 *   milter_msg_set_sender(m, addr)  envelope sender as given ("<a@b>", "<>")
 *   milter_msg_set_sasl(m, user)    SMTP AUTH user ({auth_authen}); NULL/"" = none
 *   milter_msg_set_queue_id(m, qid)  the MTA's queue id ({i}); the first known wins
 *   milter_msg_queue_id(m)          the queue id, NULL when unknown
 *   milter_msg_add_recipient(m, addr)  one envelope recipient; beyond
 *                                   max_recipients only counted
 *   milter_msg_header(m, name, value)  one header as libmilter gives it (value
 *                                   without the leading space, folding kept)
 *   milter_msg_body(m, len)         len more body bytes (size only)
 *   milter_msg_events(m, conn, ts_ms, &n)  the email.sent events, one per kept
 *                                   recipient (none for the null sender: a
 *                                   notice, not user mail); caller owns the
 *                                   array and each event (milter_events_free)
 *   milter_msg_removals(m, &n)      the control headers to delete, as
 *                                   (name, 1-based index) pairs in descending
 *                                   index order (so deleting one never shifts
 *                                   the next); NULL when remove_control_headers
 *                                   is off; caller frees the array only
 *   milter_msg_stats(m)             what the bounds dropped, for a log line
 *   milter_events_free(evs, n)      free n events and the array; returns NULL
 *
 * Bounds (all from the milter section): at most max_headers headers are
 * looked at, each value kept cut at max_header_bytes (a cut never splits a
 * UTF-8 sequence); at most max_tags tags, max_metadata_bytes of
 * X-Mailhook-Metadata, max_recipients recipients. So a message costs at most
 * about max_headers * max_header_bytes, whatever the MTA sends.
 *
 * Header text (Subject, From, To) is decoded from RFC 2047 to UTF-8 with
 * GMime (g_mime_init() must have run); an unknown charset or a broken
 * encoded word never fails: the raw text is kept, made valid UTF-8.
 *
 * Control headers (the application's way to label a message):
 *   X-Mailhook-Tag: a, b      tags, repeatable, comma-separated, trimmed;
 *                             a tag with a control character is dropped
 *   X-Mailhook-Metadata: {..} a JSON object of string/number/bool values,
 *                             repeatable (merged); other values, other JSON,
 *                             or a value over max_metadata_bytes is ignored
 *                             with a warning
 * header_metadata ("Header-Name=key") copies a header's value into
 * metadata.key; X-Mailhook-Metadata wins over such a mapping.
 *
 * Failures are never errors to the caller: whatever cannot be used is
 * dropped, counted and (for control headers) logged with msg_warn.
 */
#ifndef MH_MILTER_MSG_H
#define MH_MILTER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conf.h"
#include "event.h"

#define MILTER_TAG_HEADER "X-Mailhook-Tag"
#define MILTER_METADATA_HEADER "X-Mailhook-Metadata"

/* Per SMTP connection: what the MTA said about the client. */
struct milter_conn {
    char *client_addr;  /* NULL = unknown */
    char *client_name;
    char *daemon_name;  /* the MTA instance ({daemon_name}) */
};

struct milter_removal {
    const char *name;   /* MILTER_TAG_HEADER or MILTER_METADATA_HEADER (static) */
    int index;          /* 1-based among the headers of that name */
};

struct milter_msg_stats {
    size_t headers_dropped;    /* beyond max_headers */
    size_t headers_cut;        /* value longer than max_header_bytes */
    size_t recipients_dropped; /* beyond max_recipients */
    size_t tags_dropped;       /* beyond max_tags or invalid */
};

typedef struct milter_msg milter_msg_t;

void milter_conn_set(struct milter_conn *conn, const char *addr, const char *name,
                     const char *daemon);
void milter_conn_clear(struct milter_conn *conn);

milter_msg_t *milter_msg_new(const struct mh_conf_milter *mc);
milter_msg_t *milter_msg_free(milter_msg_t *m);
void milter_msg_set_sender(milter_msg_t *m, const char *addr);
void milter_msg_set_sasl(milter_msg_t *m, const char *user);
void milter_msg_set_queue_id(milter_msg_t *m, const char *qid);
void milter_msg_add_recipient(milter_msg_t *m, const char *addr);
void milter_msg_header(milter_msg_t *m, const char *name, const char *value);
void milter_msg_body(milter_msg_t *m, size_t len);
event_t **milter_msg_events(const milter_msg_t *m, const struct milter_conn *conn, int64_t ts_ms,
                            size_t *n);
struct milter_removal *milter_msg_removals(const milter_msg_t *m, size_t *n);
struct milter_msg_stats milter_msg_stats(const milter_msg_t *m);
const char *milter_msg_queue_id(const milter_msg_t *m); /* NULL = unknown */

/* Free n events and the array; returns NULL. */
event_t **milter_events_free(event_t **evs, size_t n);

#endif
