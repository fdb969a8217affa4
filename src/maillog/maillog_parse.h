/* SPDX-License-Identifier: MIT */
/*
 * maillog_parse.h - one maillog line in, one classified record out.
 *
 * Understands Postfix (any instance name: "postfix/smtp", "postfix-out/qmgr")
 * and Sendmail ("sm-mta", "sendmail", "sm-msp-queue", "sm-acceptingconnections")
 * lines, and the content filter of the Proxmox Mail Gateway ("pmg-smtp-filter":
 * ML_FILTER), with traditional syslog timestamps ("Nov 22 06:30:19", year and
 * UTC offset inferred, see below) or RFC 3339
 * ones (rsyslog high precision, Postfix's own maillog_file), with or without
 * a host name. Postfix's log_adhoc.c is the grammar of delivery lines:
 *   QID: to=<...>, orig_to=<...>, relay=..., delay=..., delays=a/b/c/d,
 *        dsn=X.Y.Z, status=STATUS (text)
 * Classification is done with PCRE2 patterns compiled once (JIT when
 * available); field values are slices of the caller's line (no copies).
 *
 *   maillog_parse(line, len, clock, rec)
 *       ML_PARSED (0) with rec filled (rec->kind tells what it is), or a
 *       negative enum ml_parse_rc saying why the line gives no record:
 *       ML_GARBAGE (-1: not a syslog line, binary, truncated, an impossible
 *       date), ML_OTHER_PROGRAM (a syslog line of a program that is not a
 *       mail program we read: opendkim, dovecot, amavis, the kernel) or
 *       ML_OWN (mailhook's own lines: mailhookd logs to facility mail, so
 *       they land in the log it follows). The caller counts them apart.
 *       Never allocates, never fails on any input; lines longer than
 *       MAILLOG_LINE_MAX are refused.
 *   maillog_clock_init(clock, anchor_ms)
 *       year inference state, with no previous line, anchored at anchor_ms:
 *       the file's own clock, i.e. its mtime for the lines of an existing
 *       file (read from the start or a checkpoint), the current time for
 *       lines being followed as they are written.
 *   maillog_clock_set_anchor(clock, anchor_ms)
 *       move the anchor (the next file, or now once the reader caught up);
 *       keeps the previous line.
 *   maillog_clock_zone_changed(clock)
 *       forget the cached UTC offsets (after TZ changed; tests).
 *
 * Year inference for traditional timestamps ("Apr  3 00:15:40", no year):
 * the first line gets the latest year that does not put it more than
 * ML_CLOCK_AHEAD_MS after the anchor. Every later line keeps the previous
 * line's year when it goes forward, however far (a quiet week, a retry a
 * day later), or back by less than ML_CLOCK_BACK_MS (lines out of order,
 * rotated files given in the wrong order); a step back of more than that
 * is New Year. A line that would then lie more than ML_CLOCK_AHEAD_MS after
 * the anchor belongs to the year before: no line is from the future of the
 * file that holds it. Feb 29 takes the nearest leap year that fits.
 *
 * Local time: a traditional timestamp is the local time of the machine (TZ)
 * and is converted with the zone's rules for that date (mktime with
 * tm_isdst = -1, the result cached per local hour), so a July line read in
 * December and a daemon living through a DST change are right. In the hour
 * a DST change repeats, every line gets the same one of its two offsets
 * (mktime's choice): the log cannot tell them apart.
 *   maillog_parse_init() / maillog_parse_done()
 *       compile / free the patterns (thread-safe once-only init). done is
 *       final: call it at exit, when no thread parses any more.
 */
#ifndef MH_MAILLOG_PARSE_H
#define MH_MAILLOG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAILLOG_LINE_MAX (64 * 1024)

enum ml_mta { ML_POSTFIX = 1, ML_SENDMAIL = 2,
              ML_PMG = 3 /* Proxmox Mail Gateway's content filter, pmg-smtp-filter */ };

enum ml_kind {
    ML_OTHER = 0,      /* a mail program's line that carries nothing for us */
    ML_CLIENT,         /* smtpd: "QID: client=name[addr][, sasl_method=.., sasl_username=u]" */
    ML_PICKUP,         /* pickup: "QID: uid=N from=<sender>" (local submission) */
    ML_MESSAGE_ID,     /* cleanup: "QID: message-id=<id>" (also resent-message-id) */
    ML_QUEUE_ACTIVE,   /* qmgr: "QID: from=<s>, size=N, nrcpt=N (queue active)" */
    ML_DELIVERY,       /* smtp/lmtp/local/virtual/pipe/error/retry/discard: "QID: to=<r>, ... status=..." */
    ML_EXPIRED,        /* qmgr: "QID: from=<s>, status=expired, returned to sender" */
    ML_NOTIFICATION,   /* bounce: "QID: sender non-delivery notification: NEWQID"
                          (also delay/success notification; see notice);
                          sendmail: "QID: NEWQID: DSN: text" (also "sender notify",
                          "postmaster notify", "return to sender": status is that
                          word, status_text the text, e.g. "Cannot send message
                          for 5 days" when the queue lifetime ran out) */
    ML_REMOVED,        /* qmgr: "QID: removed" */
    ML_VERIFY,         /* an address-verification probe result line (sender <> probe) */
    ML_SM_FROM,        /* sendmail: "QID: from=<s>, size=N, class=.., nrcpts=N, msgid=<id>, relay=.." */
    ML_SM_TO,          /* sendmail: "QID: to=<r>, ctladdr=.., delay=.., xdelay=.., mailer=.., relay=.., dsn=.., stat=..." */
    ML_FILTER,         /* pmg-smtp-filter, queue_id = the filter's own id (FID), status =
                          "new" ("FID: new mail message-id=<id>": message_id),
                          "accept" ("FID: accept mail to <r> (NEWQID) (rule: R)": to,
                          new_queue_id), "quarantine" ("FID: moved mail for <r> to spam
                          quarantine - ID (rule: R)": to) or "block" ("FID: block mail to
                          <r> (rule: R)": to); status_text = all of the text after "FID: " */
};

/* A slice of the parsed line; p == NULL when absent. Not NUL-terminated. */
struct ml_str {
    const char *p;
    size_t len;
};

struct ml_rec {
    enum ml_kind kind;
    enum ml_mta mta;
    int64_t ts_ms;         /* line time, UTC ms (syslog format: local time of the machine, TZ) */
    struct ml_str host;    /* syslog host, when present */
    struct ml_str instance;/* "postfix", "postfix-out", "sm-mta", ... */
    struct ml_str service; /* "smtp", "qmgr", "cleanup", ... (Postfix); empty for Sendmail
                             and for the postfix(1) command itself ("postfix[pid]:") */
    long pid;              /* 0 when absent */
    struct ml_str queue_id;
    /* fields, by kind: */
    struct ml_str from;          /* QUEUE_ACTIVE, PICKUP, EXPIRED, SM_FROM */
    struct ml_str to;            /* DELIVERY, SM_TO */
    struct ml_str orig_to;       /* DELIVERY (Postfix orig_to=, Sendmail ctladdr= is not it) */
    struct ml_str relay;         /* DELIVERY, SM_TO, SM_FROM: "mx.example.net[192.0.2.1]:25", "none", "local" */
    struct ml_str reply;         /* SM_TO: the remote server's reply (reply=, Sendmail 8.15+) */
    struct ml_str delay;         /* DELIVERY, SM_TO: "0.12" (Postfix), "00:00:01" (Sendmail) */
    struct ml_str delays;        /* DELIVERY: "0.01/0/0.05/0.06" */
    struct ml_str xdelay;        /* SM_TO */
    struct ml_str mailer;        /* SM_TO */
    struct ml_str dsn;           /* DELIVERY, SM_TO: "2.0.0" */
    struct ml_str status;        /* DELIVERY: "sent", "deferred", "bounced", "expired"...; SM_TO: first word of stat= */
    struct ml_str status_text;   /* the text in parentheses (Postfix), the rest of stat= (Sendmail) */
    struct ml_str size;          /* QUEUE_ACTIVE, SM_FROM */
    struct ml_str nrcpt;         /* QUEUE_ACTIVE (nrcpt=), SM_FROM (nrcpts=) */
    struct ml_str message_id;    /* MESSAGE_ID, SM_FROM (msgid=) */
    struct ml_str client;        /* CLIENT: "name[addr]" */
    struct ml_str client_addr;   /* CLIENT: "addr" */
    struct ml_str sasl_username; /* CLIENT */
    struct ml_str new_queue_id;  /* NOTIFICATION: the notice's queue id;
                                    DELIVERY with "queued as QID" in status_text;
                                    SM_TO "Sent (QID Message accepted for delivery)"
                                    (a Sendmail MTA's answer) or "Sent (Ok: queued
                                    as QID)" (a Postfix's): the next hop's id */
    struct ml_str filter_id;     /* DELIVERY with PMG's "250 2.5.0 OK (FID)" or "250 2.7.0
                                    BLOCKED (FID)" reply: the filter's own id (ML_FILTER) */
    struct ml_str notice;        /* NOTIFICATION: "non-delivery", "delay", "success"
                                    (a static string, not a slice of the line) */
};

/* What maillog_parse made of a line: a record, or why there is none. */
enum ml_parse_rc {
    ML_PARSED = 0,
    ML_GARBAGE = -1,       /* not a syslog line: damaged, binary, cut short, impossible date */
    ML_OTHER_PROGRAM = -2, /* a syslog line of another program (opendkim, dovecot, kernel) */
    ML_OWN = -3,           /* a line of mailhook itself (mailhookd, mailhook-milter, mailhookctl) */
};

#define ML_CLOCK_AHEAD_MS (24 * 3600 * 1000LL)      /* clock skew, a host in another zone */
#define ML_CLOCK_BACK_MS (90 * 24 * 3600 * 1000LL) /* a longer step back is New Year */
#define ML_CLOCK_ZONE_SLOTS 8

/* Year inference and local time state; plain data, one per stream of lines. */
struct ml_clock {
    int64_t last_ms;         /* previous line's time (UTC ms), when have_last */
    int64_t last_local_ms;   /* the same as local wall-clock ms (year arithmetic) */
    bool have_last;
    int64_t anchor_ms;       /* the file's own clock: no line is later (+ ML_CLOCK_AHEAD_MS) */
    int64_t anchor_local_ms; /* the anchor as local wall-clock ms */
    struct {
        int64_t hour;        /* local hours since the epoch; INT64_MIN = empty */
        int32_t offset_s;    /* local - UTC in that hour */
    } zone[ML_CLOCK_ZONE_SLOTS];
};

void maillog_parse_init(void);
void maillog_parse_done(void);
void maillog_clock_init(struct ml_clock *clock, int64_t anchor_ms);
void maillog_clock_set_anchor(struct ml_clock *clock, int64_t anchor_ms);
void maillog_clock_zone_changed(struct ml_clock *clock);
int maillog_parse(const char *line, size_t len, struct ml_clock *clock, struct ml_rec *rec);

#endif
