/* SPDX-License-Identifier: MIT */
/*
 * ingest_proto.h - the wire protocol between producers and mailhookd.
 *
 * A Unix stream socket. The producer writes events, one per line: the
 * event's canonical compact JSON (which never contains a raw newline)
 * followed by "\n". It may write many before reading (pipelining). For each
 * line, in order, mailhookd answers one line:
 *   "+" ID "\n"            committed (or already stored: same answer, so a
 *                          retried event is acknowledged, never stored twice)
 *   "-" REASON "\n"        rejected for good (invalid event): do not retry,
 *                          do not spool
 *   "~" REASON "\n"        temporary failure (store trouble, shutting down):
 *                          the producer spools the event
 * REASON is printable text (printable() in msg.h: no CR, LF or other control
 * character, whatever the event held), so each answer is exactly one line.
 * An ack is sent only after the transaction holding the event is committed
 * to disk. Lines longer than the configured max_event_size are rejected and
 * the connection closed.
 */
#ifndef MH_INGEST_PROTO_H
#define MH_INGEST_PROTO_H

#define INGEST_ACK_OK '+'
#define INGEST_ACK_REJECT '-'
#define INGEST_ACK_TEMPFAIL '~'
#define INGEST_ACK_MAX 600 /* longest answer line, newline included */

#endif
