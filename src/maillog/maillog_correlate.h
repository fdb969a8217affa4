/* SPDX-License-Identifier: MIT */
/*
 * maillog_correlate.h - classified maillog records in, per-recipient
 * events out, correlated by queue id.
 *
 * Per queue id it remembers the envelope sender, size, nrcpt, Message-ID
 * (cleanup), client and SASL user (smtpd), the queue-active time, and per
 * recipient whether email.sent was emitted and how many attempts were made.
 * Chains are followed: a bounce notice knows its parent ("sender
 * non-delivery notification: NEWQID"), a message re-injected by a content
 * filter ("status=sent (250 ... queued as NEWQID)", NEWQID first seen after
 * the message went active; not its own id, not an older message's) hands
 * its identity to NEWQID, and an expired message fails every recipient
 * still pending, with the last attempt's dsn, relay and reply.
 *
 * Content filters: a hop to one of opts.content_filters, or one whose reply
 * names a pmg-smtp-filter id seen in the log ("250 2.5.0 OK (FID)"), is
 * never a delivery. The re-injected message is found by "queued as", by the
 * filter's own lines (PMG: "accept mail to <r> (NEWQID)", linked to the
 * message by the filter's "new mail message-id=" line or by the hop), or
 * else by Message-ID and recipient within filter_window_s. A mail the filter
 * quarantined or blocked (PMG "moved mail ... quarantine", "block mail",
 * a 2.7.X reply: PMG "BLOCKED", amavis "Ok, discarded") ends in
 * email.failed with the filter's text (opts.filtered_event "none": no
 * event). A hop whose
 * re-injected message never turns up gives no outcome (counted).
 * Filter and hop links live in memory only (bounded; lost at restart).
 * postfix/discard gives email.failed, reason "discarded" (discard_event).
 *
 * Events (data members): queue_id, message_id, from, recipient,
 * orig_recipient, relay, dsn, smtp_response, delay, delays, attempt, plus
 * client_addr, sasl_username, size when known;
 *   status=sent      -> email.delivered
 *   status=deferred  -> email.deferred (attempt = that attempt's number)
 *   status=bounced   -> email.bounced, bounce_type "hard", bounce_class
 *   expiry, and give-ups by the MTA itself (error transport without a
 *   remote reply) -> email.failed with reason
 *   email.sent (when opts.emit_sent) once per recipient, before the first
 *   outcome event that names it, timestamped at the queue-active line.
 * Every event's id is derived (evid_derive) from its timestamp and
 * opts.source, queue_id, recipient and type: feeding the same lines again,
 * in another run or another process, with or without the states of the
 * first run, makes the same ids. The line's time, not the attempt number,
 * tells attempts apart (the number depends on what was read before), so two
 * deferrals of one recipient logged in the same millisecond share an id.
 * Skipped: address-verification probes, the MTA's own bounce notices
 * (unless include_bounces), messages outside the sender-domain / SASL-user
 * filters.
 *
 * Sendmail: a hand-off to this host's own MTA ("Sent (QID Message accepted
 * for delivery)" from the MSP, "Sent (Ok: queued as QID)" to a local
 * Postfix) is a chain like Postfix's content filters: one email.sent, the
 * final outcome under the first queue id, the later one as
 * reinjected_queue_id (a local name handed on, "root", gets its
 * email.sent from the next leg, which names it as its outcome does:
 * "root@host", orig_recipient "root"; when the next leg logs its outcome
 * before the hand-off is logged, its events wait for it, as below); a
 * deferral on such a hop carries "hop": true (the
 * next leg failed, not the message). Its own notices ("QID: QID2: DSN:
 * ...", "sender notify", "postmaster notify", "return to sender") are
 * notices like Postfix's, and a notice's return to the sender logged
 * under the message's queue id is the notice's delivery; "sender notify:
 * Cannot send message for ..." (queue return timeout) is the expiry. A
 * queue id first seen in a to= line holds its events briefly (5 s of log
 * time, 64 events, 1024 queue ids) for its from= line, and one submitted
 * from this host (from=, relay=[127.0.0.1]) for the hand-off naming it;
 * the holds are persisted with the state. stat=queued is no attempt; the
 * error mailer without reply= is email.failed.
 * Sendmail logs no "removed": a queue id is closed when every recipient
 * has a final outcome and no notice is pending.
 *
 * State is bounded (max_messages, max_age_s; the oldest goes first, counted)
 * and persisted incrementally: maillog_correlate_take_dirty() yields each
 * queue id whose state changed since the last call (its JSON, or NULL when
 * it was freed), for the caller to write in the same transaction as the
 * events and the log position. maillog_correlate_restore() loads one saved
 * state at start. The state lives in maillog_correlate_state.c (table, age
 * list, persistence); the rules in maillog_correlate.c and its parts.
 *
 *   maillog_correlate_new(opts, emit, ctx)
 *       emit(ctx, ev) receives each event (owned)
 *   maillog_correlate_feed(c, rec)          one parsed line
 *   maillog_correlate_expire(c, now_ms)     drop states idle longer than max_age_s
 *   maillog_correlate_flush(c, now_ms)      emit the events held longer than the
 *       hold at now_ms (log time; INT64_MAX: all, at end of input); returns
 *       how many went out
 *   maillog_correlate_take_dirty(c, cb, ctx)
 *       cb(ctx, qid, json-or-NULL) per changed state
 *   maillog_correlate_restore(c, qid, json, err)  at start, before feeding
 *   maillog_correlate_stats(c)              counters
 *   maillog_correlate_free(c)               returns NULL
 *
 * Names: every external name of src/maillog/ starts with its module's
 * prefix, the module's name (maillog_correlate_, maillog_bounce_,
 * maillog_parse, maillog_source_, journal_source_) or the short one its
 * header declares (tail_ for tail_file.h, maillog_clock_ for the parser's
 * clock); the correlator's private names (maillog_correlate_int.h,
 * maillog_correlate_state.h) start with mlc_.
 */
#ifndef MH_MAILLOG_CORRELATE_H
#define MH_MAILLOG_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "maillog_parse.h"

struct maillog_correlate_opts {
    size_t max_messages;         /* queue ids tracked at most (default 100000) */
    int max_age_s;               /* idle queue ids dropped after this (default 7 days) */
    bool emit_sent;              /* log-only email.sent (no milter) */
    bool include_bounces;        /* events for the MTA's own bounce notices */
    const char *const *sender_domains; /* NULL-terminated; NULL = all */
    const char *const *sasl_users;     /* NULL-terminated; NULL = all */
    bool no_persist;             /* the caller never takes dirty states (mailhookctl
                                    parse): removed states are freed at once */
    const char *const *content_filters; /* NULL-terminated next hops that are content
                                    filters ("127.0.0.1:10024", "[::1]:10024"); NULL = none */
    int filter_window_s;         /* how long a hop into a filter waits for its re-injected
                                    message by Message-ID and recipient (default 300) */
    const char *filtered_event;  /* a mail the filter quarantined or dropped: "failed"
                                    (NULL: email.failed) or "none" */
    const char *discard_event;   /* postfix/discard: "failed" (NULL), "delivered" or "none" */
    const char *source;          /* the log source's name (the maillog section): with
                                    the line's time, queue id, recipient and type
                                    it makes each event's id (evid_derive),
                                    so a line read twice makes a duplicate */
};

struct maillog_correlate_stats {
    uint64_t records, events, tracked;
    uint64_t dropped_full, dropped_age; /* states given up to stay bounded */
    uint64_t orphans;                   /* outcome lines for a queue id never seen before */
    uint64_t skipped_probe, skipped_bounce, skipped_filter;
    uint64_t filter_hops;     /* recipients handed to a content filter (not deliveries) */
    uint64_t filter_unlinked; /* ... whose re-injected message was never found */
};

typedef struct maillog_correlate maillog_correlate_t;
typedef void (*maillog_correlate_emit_fn)(void *ctx, event_t *ev);
typedef void (*maillog_correlate_dirty_fn)(void *ctx, const char *qid, const char *json);

maillog_correlate_t *maillog_correlate_new(const struct maillog_correlate_opts *opts,
                                           maillog_correlate_emit_fn emit, void *ctx);
void maillog_correlate_feed(maillog_correlate_t *c, const struct ml_rec *rec);
void maillog_correlate_expire(maillog_correlate_t *c, int64_t now_ms);
size_t maillog_correlate_flush(maillog_correlate_t *c, int64_t now_ms);
void maillog_correlate_take_dirty(maillog_correlate_t *c, maillog_correlate_dirty_fn cb,
                                  void *ctx);
int maillog_correlate_restore(maillog_correlate_t *c, const char *qid, const char *json,
                              mh_err_t *err);
const struct maillog_correlate_stats *maillog_correlate_stats(const maillog_correlate_t *c);
maillog_correlate_t *maillog_correlate_free(maillog_correlate_t *c);

#endif
