/* SPDX-License-Identifier: MIT */
/*
 * maillog_correlate_int.h - private to the parts of the maillog
 * correlator (maillog_correlate.h). Nothing else includes it.
 *
 *   maillog_correlate.c           Postfix rules, events, chains, the API
 *   maillog_correlate_state.c     the state table, its bounds, persistence
 *                                 (its own header: maillog_correlate_state.h)
 *   maillog_correlate_filter.c    content-filter links (mlc_flt_*, mlc_hop_*,
 *                                 mlc_links_prune, mlc_on_filter, mlc_on_hop)
 *   maillog_correlate_sendmail.c  Sendmail rules and holding (mlc_sm_*,
 *                                 mlc_hold_*, mlc_on_sm_to, mlc_on_sm_from)
 *
 * struct maillog_correlate (the correlator) and the filter links are shared
 * by all parts; what each part offers the others is declared below under
 * its file's name. maillog_correlate.c defines mlc_wanted, mlc_put_str,
 * mlc_relay_is_loopback, mlc_on_delivery, mlc_on_expired,
 * mlc_on_notification, and mlc_event_base, mlc_emit, mlc_emit_sent_once,
 * mlc_chain_fresh, mlc_chain_merge, mlc_chain_follow and
 * mlc_follow_reinjection (the static event_base(), emit(),
 * emit_sent_once(), chain_*() and follow_reinjection(), for the other
 * parts). Private names start with mlc_.
 */
#ifndef MH_MAILLOG_CORRELATE_INT_H
#define MH_MAILLOG_CORRELATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maillog_correlate.h"
#include "maillog_correlate_state.h"

#define MLC_TEXT_MAX 512      /* a response text kept for email.failed */
#define MLC_MAX_LINKS 4096    /* filter states and pending filter hops, each */
#define MLC_LINK_BUCKETS 1024 /* hash buckets of each of those two lists */
#define MLC_SCAN_MAX 1000     /* states looked at to find a filtered message by Message-ID */
#define MLC_HOLD_MS 5000      /* Sendmail: events held for a from= line, log time */
#define MLC_HOLD_EVENTS 64    /* ... at most this many per queue id */
#define MLC_HOLD_STATES 1024  /* ... for at most this many queue ids */

/* What a content filter with its own log lines (pmg-smtp-filter) did with
 * one recipient: 'a' accepted and re-injected as new_qid, 'q' quarantined,
 * 'b' blocked; text is the filter's line. */
struct flt_item {
    char *rcpt, *new_qid, *text;
    char action;
};

/* One mail inside such a filter, by the filter's own id. */
struct flt {
    char *fid, *message_id;
    char *orig_qid;  /* the message that was handed to the filter, once known */
    uint64_t order;  /* mlc order of its first line */
    int64_t first_ms;
    struct flt_item *items;
    size_t nitems;
    struct flt *older, *newer; /* by first line */
    struct flt *hnext;         /* bucket of fid */
};

/* A recipient handed to a content filter that named no re-injected queue
 * id: waits for a message with the same Message-ID and recipient. The
 * message's identity is a copy (its state is removed at once, "removed"
 * follows the hop), holding just that recipient. */
struct hop {
    struct msg_state *snap; /* not in the table; rcpts[0] is the recipient */
    int64_t ts_ms;
    struct hop *older, *newer; /* by hop time */
    struct hop *hnext;         /* bucket of the Message-ID */
};

enum mlc_drop { DROP_FAILED = 0, DROP_NONE, DROP_DELIVERED };

struct maillog_correlate {
    struct maillog_correlate_opts opts;
    enum mlc_drop filtered_mode, discard_mode;
    uint64_t order;       /* records fed so far (and restored orders): first/active_order */
    int64_t line_ms;      /* time of the record being fed (0 outside maillog_correlate_feed) */
    struct flt *flt_oldest, *flt_newest, *flt_b[MLC_LINK_BUCKETS]; /* <= MLC_MAX_LINKS */
    struct hop *hop_oldest, *hop_newest, *hop_b[MLC_LINK_BUCKETS]; /* <= MLC_MAX_LINKS */
    size_t nflts, nhops;
    maillog_correlate_emit_fn emit;
    void *ctx;
    /* the state table (maillog_correlate_state.h) */
    struct msg_state **buckets;
    size_t nbuckets, count;
    struct msg_age age;       /* every state in the table, least recently seen first */
    struct msg_state *dirty;  /* states to persist (may include removed ones) */
    struct msg_state *held_first, *held_last; /* holding states, oldest first */
    size_t nheld;
    struct msg_state *hold_into; /* emit() holds events here (Sendmail to= before from=) */
    struct msg_state *hold_for;  /* the state held for: filters judged at release */
    struct maillog_correlate_stats st;
};

/* maillog_correlate.c */
bool mlc_wanted(maillog_correlate_t *c, const struct msg_state *m);
void mlc_put_str(json_t *o, const char *key, const char *v);
bool mlc_relay_is_loopback(struct ml_str relay);
void mlc_on_delivery(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec,
                 struct ml_str to, bool *final_out);
void mlc_on_expired(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec);
void mlc_on_notification(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec);

/* maillog_correlate.c: event_base(), emit(), emit_sent_once(), the chain. */
json_t *mlc_event_base(const struct msg_state *m, const char *rcpt, const char *orig);
void mlc_emit(maillog_correlate_t *c, const char *type, int64_t ts, json_t *data);
void mlc_emit_sent_once(maillog_correlate_t *c, struct msg_state *m, struct rcpt *r);
bool mlc_chain_fresh(const struct msg_state *m, const struct msg_state *n);
void mlc_chain_merge(maillog_correlate_t *c, struct msg_state *m, struct msg_state *n);
bool mlc_chain_follow(maillog_correlate_t *c, struct msg_state *m, struct ml_str qid, int64_t ts);
bool mlc_follow_reinjection(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec);

/* maillog_correlate_filter.c */
void mlc_flt_free(struct flt *f);
void mlc_hop_free(struct hop *h);
void mlc_links_prune(maillog_correlate_t *c, int64_t now_ms);
void mlc_hop_adopt(maillog_correlate_t *c, struct msg_state *n, struct ml_str rcpt, int64_t ts);
void mlc_on_filter(maillog_correlate_t *c, const struct ml_rec *rec);
bool mlc_on_hop(maillog_correlate_t *c, struct msg_state *m, struct rcpt *r,
                const struct ml_rec *rec, bool wanted);

/* maillog_correlate_sendmail.c */
void mlc_sm_close_if_done(maillog_correlate_t *c, struct msg_state *m);
void mlc_sm_on_notice(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec,
                      bool created);
void mlc_hold_link(maillog_correlate_t *c, struct msg_state *m);
void mlc_hold_release(maillog_correlate_t *c, struct msg_state *m);
void mlc_hold_expire(maillog_correlate_t *c, int64_t now_ms);
void mlc_on_sm_to(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec,
                  bool created);
void mlc_on_sm_from(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec);

#endif
