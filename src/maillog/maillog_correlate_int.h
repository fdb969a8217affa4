/* SPDX-License-Identifier: MIT */
/*
 * maillog_correlate_int.h - private to the four parts of the maillog
 * correlator (maillog_correlate.h). Nothing else includes it.
 *
 *   maillog_correlate.c           Postfix rules, events, chains, the public
 *                                 entry points (mlc_new, mlc_feed, ...)
 *   maillog_correlate_state.c     the state table, its bounds, persistence
 *   maillog_correlate_filter.c    content-filter links (flt, hop, PMG)
 *   maillog_correlate_sendmail.c  Sendmail rules and holding (sm_*, hold_*)
 *
 * The structures below are shared by all four; what each part offers the
 * others is declared under its file's name. mlc_event_base, mlc_emit,
 * mlc_emit_sent_once and mlc_chain_* / mlc_follow_reinjection are the
 * static event_base(), emit(), emit_sent_once(), chain_*() and
 * follow_reinjection() of maillog_correlate.c, for the other parts.
 */
#ifndef MH_MAILLOG_CORRELATE_INT_H
#define MH_MAILLOG_CORRELATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maillog_correlate.h"

#define MLC_MAX_RCPTS 1000    /* recipients tracked per message */
#define MLC_TEXT_MAX 512      /* a response text kept for email.failed */
#define MLC_MAX_LINKS 4096    /* filter states and pending filter hops, each */
#define MLC_LINK_BUCKETS 1024 /* hash buckets of each of those two lists */
#define MLC_SCAN_MAX 1000     /* states looked at to find a filtered message by Message-ID */
#define MLC_HOLD_MS 5000      /* Sendmail: events held for a from= line, log time */
#define MLC_HOLD_EVENTS 64    /* ... at most this many per queue id */
#define MLC_HOLD_STATES 1024  /* ... for at most this many queue ids */

struct rcpt {
    char *addr;
    char *orig;      /* orig_to, when logged */
    char *last_text; /* last deferral reason, for email.failed at expiry */
    char *last_dsn, *last_relay; /* ... and that attempt's dsn= and relay= */
    int attempts;    /* delivery attempts logged so far */
    bool sent;       /* email.sent emitted */
    bool done;       /* final outcome emitted (delivered, bounced, failed) */
};

struct msg_state {
    char *qid;
    char *root_qid;    /* first queue id of a content-filter chain, else NULL */
    char *parent_qid;  /* for a bounce notice: the message it reports on */
    char *from, *message_id, *client_addr, *sasl_username, *size;
    int64_t active_ms; /* queue-active time: email.sent's timestamp */
    int64_t seen_ms;   /* last line about it (log time) */
    uint64_t first_order;  /* mlc order of its first line, */
    uint64_t active_order; /* of its latest queue-active line (0: none seen) */
    bool is_notice;    /* the MTA's own bounce/delay/success notice */
    bool has_sender;   /* from= seen (an empty sender marks a notice too) */
    bool dirty;
    bool removed;      /* freed: its persisted state must be deleted */
    /* Sendmail (no "removed" line, notices without from=): */
    bool sm;           /* a Sendmail queue id: closed by sm_close_if_done() */
    bool notice_due;   /* a recipient failed: Sendmail starts a notice */
    bool notice_going; /* the last notice logged a line of its own */
    bool sm_loopback;  /* from= relay is this host: maybe a hop's next leg */
    bool hold_over;    /* its hold is over: never held again */
    long sm_nrcpts;    /* from=, nrcpts=N: N + 1 (0 = not known) */
    char *sm_notice;   /* queue id of the last notice it started */
    char *sm_parent;   /* for a notice: the queue id that started it */
    json_t *held;      /* events held for the from= line: [[type, ts, data]...] */
    int64_t held_ms;   /* log time of the first held event */
    struct msg_state *hprev, *hnext2; /* list of states holding events */
    struct rcpt *rcpts;
    size_t nrcpts;
    struct msg_state *hnext;       /* hash chain */
    struct msg_state *prev, *next; /* age list */
    struct msg_state *dnext;       /* dirty list */
};

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

struct mlc {
    struct mlc_opts opts;
    enum mlc_drop filtered_mode, discard_mode;
    uint64_t order;       /* records fed so far (and restored orders): first/active_order */
    int64_t line_ms;      /* time of the record being fed (0 outside mlc_feed) */
    struct flt *flt_oldest, *flt_newest, *flt_b[MLC_LINK_BUCKETS]; /* <= MLC_MAX_LINKS */
    struct hop *hop_oldest, *hop_newest, *hop_b[MLC_LINK_BUCKETS]; /* <= MLC_MAX_LINKS */
    size_t nflts, nhops;
    mlc_emit_fn emit;
    void *ctx;
    struct msg_state **buckets;
    size_t nbuckets, count;
    struct msg_state *oldest, *newest;
    struct msg_state *dirty;  /* states to persist (may include removed ones) */
    struct msg_state *held_first, *held_last; /* holding states, oldest first */
    size_t nheld;
    struct msg_state *hold_into; /* emit() holds events here (Sendmail to= before from=) */
    struct msg_state *hold_for;  /* the state held for: filters judged at release */
    struct mlc_stats st;
};

/* maillog_correlate.c */
bool state_wanted(mlc_t *c, const struct msg_state *m);
void put_str(json_t *o, const char *key, const char *v);
bool relay_is_loopback(struct ml_str relay);
void on_delivery(mlc_t *c, struct msg_state *m, const struct ml_rec *rec,
                 struct ml_str to, bool *final_out);
void on_expired(mlc_t *c, struct msg_state *m, const struct ml_rec *rec);
void on_notification(mlc_t *c, struct msg_state *m, const struct ml_rec *rec);

/* maillog_correlate.c: event_base(), emit(), emit_sent_once(), the chain. */
json_t *mlc_event_base(const struct msg_state *m, const char *rcpt, const char *orig);
void mlc_emit(mlc_t *c, const char *type, int64_t ts, json_t *data);
void mlc_emit_sent_once(mlc_t *c, struct msg_state *m, struct rcpt *r);
bool mlc_chain_fresh(const struct msg_state *m, const struct msg_state *n);
void mlc_chain_merge(mlc_t *c, struct msg_state *m, struct msg_state *n);
bool mlc_chain_follow(mlc_t *c, struct msg_state *m, struct ml_str qid, int64_t ts);
bool mlc_follow_reinjection(mlc_t *c, struct msg_state *m, const struct ml_rec *rec);

/* maillog_correlate_state.c */
char *str_dup(struct ml_str s);
bool str_eq(struct ml_str s, const char *lit);
void set_field(char **dst, struct ml_str s);
void set_message_id(struct msg_state *m, struct ml_str s);
uint64_t qid_hash(const char *s, size_t len);
struct msg_state *state_find(mlc_t *c, struct ml_str qid);
void state_mark_dirty(mlc_t *c, struct msg_state *m);
void msg_state_free(struct msg_state *m);
void state_remove(mlc_t *c, struct msg_state *m);
struct msg_state *state_new(mlc_t *c, const char *qid, size_t len, int64_t ts);
struct msg_state *state_get(mlc_t *c, const struct ml_rec *rec, bool *created);
struct rcpt *rcpt_get(struct msg_state *m, const char *addr, size_t len);
struct rcpt *rcpt_find(const struct msg_state *m, const char *addr);

/* maillog_correlate_filter.c */
void flt_free(struct flt *f);
void hop_free(struct hop *h);
void links_prune(mlc_t *c, int64_t now_ms);
void hop_adopt(mlc_t *c, struct msg_state *n, struct ml_str rcpt, int64_t ts);
void on_filter(mlc_t *c, const struct ml_rec *rec);
bool on_hop(mlc_t *c, struct msg_state *m, struct rcpt *r, const struct ml_rec *rec,
            bool wanted);

/* maillog_correlate_sendmail.c */
void sm_close_if_done(mlc_t *c, struct msg_state *m);
void sm_on_notice(mlc_t *c, struct msg_state *m, const struct ml_rec *rec, bool created);
void hold_link(mlc_t *c, struct msg_state *m);
void hold_release(mlc_t *c, struct msg_state *m);
void hold_expire(mlc_t *c, int64_t now_ms);
void on_sm_to(mlc_t *c, struct msg_state *m, const struct ml_rec *rec, bool created);
void on_sm_from(mlc_t *c, struct msg_state *m, const struct ml_rec *rec);

#endif
