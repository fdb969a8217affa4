/* SPDX-License-Identifier: MIT */
/*
 * maillog_correlate_state.h - the correlator's state (maillog_correlate.h):
 * one struct msg_state per tracked queue id, in a chained hash table keyed
 * by queue id and on an age list (<sys/queue.h> TAILQ, least recently seen
 * first) that bounds it (max_messages, max_age_s: the oldest goes first,
 * counted); a dirty list of the states changed since they were last
 * persisted; and their persistence as JSON. All defined in
 * maillog_correlate_state.c. Private to the correlator: the rules
 * (maillog_correlate.c, _filter.c, _sendmail.c) include it through
 * maillog_correlate_int.h, where struct maillog_correlate holds the table
 * (buckets, nbuckets, count, age, dirty). Like every private name of the
 * correlator, these start with mlc_.
 *
 * Ownership: the table owns every state in it; mlc_state_remove() takes a
 * state out of the table, and the state lives on the dirty list until
 * maillog_correlate_take_dirty() has reported its deletion (with
 * opts.no_persist it is freed at once). A state owns its strings, its
 * recipients and its held events; mlc_state_free() frees them all.
 *
 *   mlc_table_init(c)               an empty table (maillog_correlate_new)
 *   mlc_table_free(c)               free every state, in the table or removed
 *   mlc_table_expire(c, cutoff)     remove the states last seen before
 *                                   cutoff (log time ms), counted dropped_age
 *   mlc_state_find(c, qid)          the state of qid, or NULL
 *   mlc_state_get(c, rec, &created) the state of rec's queue id, created when
 *                                   unknown, moved to the young end, marked dirty
 *   mlc_state_new(c, qid, len, ts)  a new state (the oldest goes when full)
 *   mlc_state_remove(c, m)          out of the table (its held events go out)
 *   mlc_state_mark_dirty(c, m)      to be persisted
 *   mlc_state_free(m)               free a state that is in no table
 *   mlc_rcpt_get(m, addr, len)      a recipient, added when new (NULL past
 *                                   MLC_MAX_RCPTS)
 *   mlc_rcpt_find(m, addr)          a recipient, or NULL
 *   mlc_qid_hash(s, len)            FNV-1a of a queue id (the table's, and
 *                                   the filter links' buckets)
 *   mlc_str_dup(s)                  a slice as a string (NULL for none)
 *   mlc_str_eq(s, lit)              a slice equals a literal
 *   mlc_set_field(dst, s)           replace *dst with s when s is present
 *   mlc_set_message_id(m, s)        Message-ID as "<left@right>"
 * Persistence, the public side (declared in maillog_correlate.h, defined
 * in maillog_correlate_state.c): maillog_correlate_take_dirty(),
 * maillog_correlate_restore().
 */
#ifndef MH_MAILLOG_CORRELATE_STATE_H
#define MH_MAILLOG_CORRELATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "maillog_correlate.h"

#define MLC_MAX_RCPTS 1000    /* recipients tracked per message */

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
    bool sm;           /* a Sendmail queue id: closed by mlc_sm_close_if_done() */
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
    TAILQ_ENTRY(msg_state) age;    /* age list (struct msg_age), least recently seen first */
    struct msg_state *dnext;       /* dirty list */
};

TAILQ_HEAD(msg_age, msg_state);

void mlc_table_init(maillog_correlate_t *c);
void mlc_table_free(maillog_correlate_t *c);
void mlc_table_expire(maillog_correlate_t *c, int64_t cutoff);
struct msg_state *mlc_state_find(maillog_correlate_t *c, struct ml_str qid);
struct msg_state *mlc_state_get(maillog_correlate_t *c, const struct ml_rec *rec, bool *created);
struct msg_state *mlc_state_new(maillog_correlate_t *c, const char *qid, size_t len, int64_t ts);
void mlc_state_remove(maillog_correlate_t *c, struct msg_state *m);
void mlc_state_mark_dirty(maillog_correlate_t *c, struct msg_state *m);
void mlc_state_free(struct msg_state *m);
struct rcpt *mlc_rcpt_get(struct msg_state *m, const char *addr, size_t len);
struct rcpt *mlc_rcpt_find(const struct msg_state *m, const char *addr);
uint64_t mlc_qid_hash(const char *s, size_t len);
char *mlc_str_dup(struct ml_str s);
bool mlc_str_eq(struct ml_str s, const char *lit);
void mlc_set_field(char **dst, struct ml_str s);
void mlc_set_message_id(struct msg_state *m, struct ml_str s);

#endif
