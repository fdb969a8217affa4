/* SPDX-License-Identifier: MIT */
/*
 * maillog_correlate_sendmail.c - the correlator's Sendmail rules (sm_*,
 * hold_*): to= outcomes and hand-offs to this host's own MTA, notices
 * logged under the parent's queue id, closing a queue id without a
 * "removed" line, and holding the events of a to= line logged before its
 * from= line. Part of maillog_correlate.c (see maillog_correlate_int.h).
 *
 * Sendmail logs no "removed" line, hands messages between its MSP and MTA,
 * logs its notices under the parent's queue id and may log to= before
 * from=; see maillog_correlate.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maillog_correlate_int.h"
#include "xalloc.h"

/* ------------------------------------------------------------ Sendmail */

/* Two addresses as Sendmail logs them ("<a@x>", "a@x", "root"): the same,
 * or one the other's local part ("root" and "root@host")? */
static bool sm_addr_eq(const char *a, struct ml_str b)
{
    size_t la = strlen(a);
    const char *ata, *atb;

    if (la >= 2 && a[0] == '<' && a[la - 1] == '>')
        a++, la -= 2;
    if (b.len >= 2 && b.p[0] == '<' && b.p[b.len - 1] == '>')
        b.p++, b.len -= 2;
    if (la == b.len && strncasecmp(a, b.p, la) == 0)
        return true;
    ata = memchr(a, '@', la);
    atb = memchr(b.p, '@', b.len);
    if ((ata == NULL) == (atb == NULL))
        return false;
    return ata ? (size_t)(ata - a) == b.len && strncasecmp(a, b.p, b.len) == 0
               : (size_t)(atb - b.p) == la && strncasecmp(a, b.p, la) == 0;
}

/* The MSP's recipient one ("root", "bob@x") as the MTA logs it ("root@host")? */
static bool sm_same_rcpt(const char *addr, struct ml_str one)
{
    const char *at = strchr(addr, '@');

    if (strlen(addr) == one.len && strncasecmp(addr, one.p, one.len) == 0)
        return true;
    return at != NULL && memchr(one.p, '@', one.len) == NULL && (size_t)(at - addr) == one.len &&
           strncasecmp(addr, one.p, one.len) == 0;
}

/*
 * A notice Sendmail cannot return is logged under the message's own queue
 * id: "QID: to=<sender>, ... stat=User unknown", then "QID: QID3: postmaster
 * notify". Such a line is the notice's delivery, not the message's: the
 * sender's address, once a notice is under way (a recipient failed, or a
 * notice line came), when it is no recipient still pending and every
 * recipient the message has (from=, nrcpts=) already has its outcome.
 */
static bool sm_is_notice_delivery(const struct msg_state *m, struct ml_str addr)
{
    size_t done = 0;

    if (m->is_notice || m->from == NULL || m->from[0] == '\0' ||
        !(m->notice_due || m->sm_notice) ||
        !sm_addr_eq(m->from, addr))
        return false;
    for (size_t i = 0; i < m->nrcpts; i++) {
        if (m->rcpts[i].done)
            done++;
        else if (strlen(m->rcpts[i].addr) == addr.len &&
                 strncasecmp(m->rcpts[i].addr, addr.p, addr.len) == 0)
            return false;
    }
    return m->sm_nrcpts == 0 || done >= (size_t)(m->sm_nrcpts - 1);
}

static struct msg_state *state_find_str(maillog_correlate_t *c, const char *qid)
{
    return qid ? mlc_state_find(c, (struct ml_str){ qid, strlen(qid) }) : NULL;
}

/* The return of m's notice to its sender, logged under m: the notice's
 * events (skipped unless include_bounces). A failed return makes Sendmail
 * notify the postmaster next. */
static void sm_notice_delivery(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *r,
                               struct ml_str one)
{
    struct msg_state *n = state_find_str(c, m->sm_notice);
    bool final = false;

    if (mlc_str_eq(r->status, "bounced")) {
        m->notice_due = true;
        m->notice_going = false;
    } else if (mlc_str_eq(r->status, "sent")) {
        m->notice_going = true;
    }
    if (n != NULL) {
        mlc_on_delivery(c, n, r, one, &final);
        mlc_sm_close_if_done(c, n);
    } else {
        c->st.skipped_bounce++;
    }
}

/* The MTA qualifies what the MSP handed it ("root" -> "root@host"): in a
 * chain, the same recipient, not a new one (no second email.sent). */
static void sm_qualify(struct msg_state *m, struct ml_str one)
{
    const char *at = memchr(one.p, '@', one.len);
    size_t local;

    if (m->root_qid == NULL || at == NULL)
        return;
    local = (size_t)(at - one.p);
    for (size_t i = 0; i < m->nrcpts; i++)
        if (strlen(m->rcpts[i].addr) == one.len &&
            memcmp(m->rcpts[i].addr, one.p, one.len) == 0)
            return;
    for (size_t i = 0; i < m->nrcpts; i++) {
        struct rcpt *r = &m->rcpts[i];

        if (!r->done && strchr(r->addr, '@') == NULL && strlen(r->addr) == local &&
            strncasecmp(r->addr, one.p, local) == 0) {
            if (r->orig == NULL)
                r->orig = r->addr;
            else
                free(r->addr);
            r->addr = xstrndup(one.p, one.len);
            return;
        }
    }
}

/* The next queue id's own recipient for one, already reported (sent). */
static struct rcpt *sm_reported_rcpt(struct msg_state *n, size_t own, struct ml_str one)
{
    for (size_t i = 0; i < own && i < n->nrcpts; i++)
        if (n->rcpts[i].sent && sm_same_rcpt(n->rcpts[i].addr, one))
            return &n->rcpts[i];
    return NULL;
}

/* A hop copies every recipient of the message to the next queue id; only
 * the ones it named went there (rcpts[before..] are the copies), and not
 * even that one when the next queue id logged it already ("root@host"). */
static void sm_prune_hop(struct msg_state *n, size_t before, struct ml_str one)
{
    size_t k = before;
    bool known = sm_reported_rcpt(n, before, one) != NULL;

    for (size_t i = before; i < n->nrcpts; i++) {
        struct rcpt *r = &n->rcpts[i];

        if (!known && strlen(r->addr) == one.len && memcmp(r->addr, one.p, one.len) == 0) {
            n->rcpts[k++] = *r;
            continue;
        }
        free(r->addr), free(r->orig), free(r->last_text), free(r->last_dsn), free(r->last_relay);
    }
    n->nrcpts = k;
}

static void sm_hop_release(maillog_correlate_t *c, struct msg_state *n, struct ml_str one,
                           bool keep_sent);

/* One recipient's to= outcome; a hop ("Sent (QID Message accepted for
 * delivery)", "Sent (Ok: queued as QID)") follows the chain in mlc_on_delivery.
 * When the next leg logged its outcome first (the MTA delivers while the
 * MSP is still to log its hand-off), its held events go out as the
 * chain's (sm_hop_release); when they went out already, they stand alone
 * and the hop adds no second email.sent. */
static void sm_deliver(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec,
                       struct ml_str one) {
    struct msg_state *next = NULL, cap, *into = c->hold_into;
    struct ml_rec own = *rec;
    const struct ml_rec *r = &own;
    struct rcpt *rc, *nr;
    size_t before = 0, i;
    bool final = false, was_done, chained, local;
    json_t *e;

    if (mlc_str_eq(own.new_queue_id, m->qid))
        own.new_queue_id = (struct ml_str){ NULL, 0 }; /* a remote id equal to ours: no hop */
    sm_qualify(m, one);
    rc = mlc_rcpt_get(m, one.p, one.len);
    was_done = rc && rc->done;
    if (mlc_str_eq(r->status, "sent") && r->new_queue_id.p &&
        (next = mlc_state_find(c, r->new_queue_id)) != NULL) {
        before = next->nrcpts;
        if (rc && next->held == NULL && sm_reported_rcpt(next, before, one) != NULL)
            rc->sent = true; /* the next leg's email.sent went out: no second one */
    }
    memset(&cap, 0, sizeof(cap)); /* what mlc_on_delivery emits, to look at first */
    c->hold_into = &cap;
    mlc_on_delivery(c, m, r, one, &final);
    c->hold_into = into;
    if (next == NULL && mlc_str_eq(r->status, "sent") && r->new_queue_id.p)
        next = mlc_state_find(c, r->new_queue_id); /* made by the hop itself */
    chained = next && next != m && next->root_qid &&
              strcmp(next->root_qid, m->root_qid ? m->root_qid : m->qid) == 0;
    /* A local name handed on ("root") is named by the next leg ("root@host"):
     * the email.sent waits for that, to name the recipient its outcome names. */
    local = chained && memchr(one.p, '@', one.len) == NULL;
    json_array_foreach(cap.held, i, e) {
        const char *type = json_string_value(json_array_get(e, 0));

        if (local && strcmp(type, EV_SENT) == 0) {
            for (size_t k = before; k < next->nrcpts; k++)
                if (strlen((nr = &next->rcpts[k])->addr) == one.len &&
                    memcmp(nr->addr, one.p, one.len) == 0)
                    nr->sent = false;
            continue;
        }
        /* the hop's own events name the next leg too: the milter may have
         * seen only that one (Sendmail's MTA behind its MSP; enrich.h) */
        if (chained && json_object_get(json_array_get(e, 2), "reinjected_queue_id") == NULL)
            json_object_set_new(json_array_get(e, 2), "reinjected_queue_id",
                                json_string(next->qid));
        mlc_emit(c, type, json_integer_value(json_array_get(e, 1)),
                 json_incref(json_array_get(e, 2)));
    }
    json_decref(cap.held);
    if (chained) {
        sm_prune_hop(next, before, one);
        if (next->held != NULL) {
            sm_hop_release(c, next, one, local);
            mlc_sm_close_if_done(c, next);
        }
    }
    if (!was_done && mlc_str_eq(r->status, "bounced") && !m->is_notice)
        m->notice_due = true; /* Sendmail returns it: "QID: QID2: DSN: ..." */
}

/* Sendmail to= may name several recipients: "<a@x>,<b@x>". */
static void on_sendmail_to(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec)
{
    struct ml_rec r = *rec;
    const char *p = rec->to.p, *end = rec->to.p + rec->to.len, *comma, *text_end;

    m->sm = true;
    /* The reply: the remote server's own (reply=, "554 5.7.1 ... spam") when
     * logged, else all of stat= ("User unknown", "Sent (250 ok)"; the parser
     * took the parentheses off the text: the closing one comes back). */
    if (rec->reply.p) {
        r.status_text = rec->reply;
    } else if (rec->status.p && rec->status_text.p) {
        text_end = rec->status_text.p + rec->status_text.len;
        if (rec->status_text.p[-1] == '(')
            text_end++;
        r.status_text = (struct ml_str){ rec->status.p, (size_t)(text_end - rec->status.p) };
    } else if (rec->status.p) {
        r.status_text = rec->status;
    }
    /* Map stat= onto Postfix's vocabulary; the error mailer (mailertable
     * "error:", access maps) is the MTA giving up itself, like Postfix's
     * error transport: email.failed unless a remote reply is logged. */
    if (mlc_str_eq(rec->status, "Sent"))
        r.status = (struct ml_str){ "sent", 4 };
    else if (mlc_str_eq(rec->status, "queued") && rec->dsn.p == NULL)
        r.status = rec->status; /* queued for later, not attempted: no outcome */
    else if (rec->dsn.p && rec->dsn.p[0] == '5')
        r.status = (struct ml_str){ "bounced", 7 };
    else
        r.status = (struct ml_str){ "deferred", 8 };
    if (mlc_str_eq(rec->mailer, "error") && rec->reply.p == NULL)
        r.service = (struct ml_str){ "error", 5 };
    while (p < end) {
        comma = memchr(p, ',', (size_t)(end - p));
        if (comma == NULL)
            comma = end;
        struct ml_str one = { p, (size_t)(comma - p) };
        if (one.len >= 2 && one.p[0] == '<' && one.p[one.len - 1] == '>')
            one.p++, one.len -= 2;
        if (one.len > 0) {
            if (sm_is_notice_delivery(m, one))
                sm_notice_delivery(c, m, &r, one);
            else
                sm_deliver(c, m, &r, one);
        }
        p = comma + 1;
    }
}

/*
 * Sendmail writes no "removed" line: a queue id is done when every
 * recipient has its final outcome (as many as from= counted, nrcpts=), and
 * no notice is pending (a failure's notice logged, and logging lines of
 * its own: until then the return may still be logged under this id).
 * A notice itself waits for nothing. Postfix's states never come here.
 */
void mlc_sm_close_if_done(maillog_correlate_t *c, struct msg_state *m)
{
    size_t done = 0;

    if (!m->sm || m->held != NULL)
        return;
    if (!m->is_notice && (m->notice_due || (m->sm_notice != NULL && !m->notice_going)))
        return;
    for (size_t i = 0; i < m->nrcpts; i++) {
        if (!m->rcpts[i].done)
            return;
        done++;
    }
    if (m->sm_nrcpts > 0 ? done < (size_t)(m->sm_nrcpts - 1) : done == 0)
        return;
    mlc_state_remove(c, m);
}

/* A notice's own line: the parent's notice is on its way. */
static void sm_settle_parent(maillog_correlate_t *c, const struct msg_state *n)
{
    struct msg_state *p;

    if (!n->is_notice || (p = state_find_str(c, n->sm_parent)) == NULL || p->notice_going ||
        p->sm_notice == NULL || strcmp(p->sm_notice, n->qid) != 0)
        return;
    p->notice_going = true;
    mlc_state_mark_dirty(c, p);
    mlc_sm_close_if_done(c, p);
}

/* "QID: QID2: DSN: ...": a notice started (mlc_on_notification linked it);
 * "sender notify: Cannot send message for 2 minutes" is how Sendmail says
 * the message expired (queue return timeout). */
void mlc_sm_on_notice(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec,
                      bool created) {
    struct msg_state *n = rec->new_queue_id.p ? mlc_state_find(c, rec->new_queue_id) : NULL;
    static const char expired[] = "Cannot send message for ";

    if (n == NULL)
        return;
    n->sm = true;
    free(n->sm_parent);
    n->sm_parent = xstrdup(m->qid);
    m->sm = true;
    if (rec->status_text.len > sizeof(expired) - 1 &&
        memcmp(rec->status_text.p, expired, sizeof(expired) - 1) == 0)
        mlc_on_expired(c, m, rec);
    free(m->sm_notice);
    m->sm_notice = xstrdup(n->qid);
    m->notice_due = false;
    m->notice_going = false;
    if (created && m->nrcpts == 0)
        mlc_state_remove(c, m); /* nothing known of it: the notice keeps its parent's id */
    else
        mlc_sm_close_if_done(c, m);
}

/* ------------------------------------------------------------ holding */

/* On the direct path (sendmail -t into the MTA's queue) a to= line can come
 * before its from= line: a queue id first seen in a to= line holds its
 * events (MLC_HOLD_MS of log time, MLC_HOLD_EVENTS, MLC_HOLD_STATES) for
 * from=, message_id and size. Held events are persisted with the state. */
static bool sm_should_hold(const struct msg_state *m, bool created)
{
    if (m->held != NULL)
        return true;
    if (m->is_notice || m->root_qid != NULL || m->hold_over)
        return false;
    return m->has_sender ? m->sm_loopback : created;
}

void mlc_hold_link(maillog_correlate_t *c, struct msg_state *m)
{
    m->hprev = c->held_last;
    m->hnext2 = NULL;
    if (c->held_last)
        c->held_last->hnext2 = m;
    else
        c->held_first = m;
    c->held_last = m;
    c->nheld++;
}

static void hold_unlink(maillog_correlate_t *c, struct msg_state *m)
{
    if (m->hprev)
        m->hprev->hnext2 = m->hnext2;
    else if (c->held_first == m)
        c->held_first = m->hnext2;
    else
        return; /* not linked */
    if (m->hnext2)
        m->hnext2->hprev = m->hprev;
    else
        c->held_last = m->hprev;
    m->hprev = m->hnext2 = NULL;
    c->nheld--;
}

/* Emit m's held events with what is known of the message by now (the
 * sender filters are judged here too). */
void mlc_hold_release(maillog_correlate_t *c, struct msg_state *m)
{
    json_t *held = m->held, *base, *e;
    struct msg_state *into = c->hold_into, *hfor = c->hold_for;
    bool wanted;
    size_t i;

    m->held = NULL;
    m->hold_over = true;
    hold_unlink(c, m);
    c->hold_into = c->hold_for = NULL;
    wanted = mlc_wanted(c, m);
    base = mlc_event_base(m, NULL, NULL);
    json_array_foreach(held, i, e) {
        const char *type = json_string_value(json_array_get(e, 0));
        int64_t ts = json_integer_value(json_array_get(e, 1));
        json_t *d = json_array_get(e, 2);

        if (!wanted || type == NULL || !json_is_object(d))
            continue;
        if (strcmp(type, EV_SENT) == 0 && m->active_ms < ts)
            ts = m->active_ms;
        json_object_update_missing(d, base);
        mlc_emit(c, type, ts, json_incref(d));
    }
    json_decref(base);
    json_decref(held);
    c->hold_into = into;
    c->hold_for = hfor;
    mlc_state_mark_dirty(c, m);
}

/* The hop naming n has come: n's held events for its recipient one go out
 * as the chain's (queue_id the first one, n as reinjected_queue_id), but
 * not n's email.sent when the hop's stands (keep_sent: it did not, the
 * hop named a local name). The others stay held for their own hop lines. */
static void sm_hop_release(maillog_correlate_t *c, struct msg_state *n, struct ml_str one,
                           bool keep_sent) {
    json_t *keep = json_array(), *e;
    struct msg_state *into = c->hold_into, *hfor = c->hold_for;
    bool wanted;
    size_t i;

    c->hold_into = c->hold_for = NULL;
    wanted = mlc_wanted(c, n);
    json_array_foreach(n->held, i, e) {
        const char *type = json_string_value(json_array_get(e, 0));
        json_t *d = json_array_get(e, 2);
        const char *rcpt = json_string_value(json_object_get(d, "recipient"));

        if (type == NULL || !json_is_object(d) || rcpt == NULL || !sm_same_rcpt(rcpt, one)) {
            json_array_append(keep, e);
            continue;
        }
        if ((strcmp(type, EV_SENT) == 0 && !keep_sent) || !wanted)
            continue;
        json_object_set_new(d, "queue_id", json_string(n->root_qid));
        json_object_set_new(d, "reinjected_queue_id", json_string(n->qid));
        if (json_object_get(d, "orig_recipient") == NULL && strlen(rcpt) != one.len)
            json_object_set_new(d, "orig_recipient", json_stringn(one.p, one.len));
        mlc_emit(c, type, json_integer_value(json_array_get(e, 1)), json_incref(d));
    }
    json_decref(n->held);
    n->held = keep;
    if (json_array_size(keep) == 0) {
        json_decref(keep);
        n->held = NULL;
        n->hold_over = true;
        hold_unlink(c, n);
    }
    c->hold_into = into;
    c->hold_for = hfor;
    mlc_state_mark_dirty(c, n);
}

/* Release the holds older than MLC_HOLD_MS at now_ms (log time). */
void mlc_hold_expire(maillog_correlate_t *c, int64_t now_ms)
{
    struct msg_state *m;

    while ((m = c->held_first) != NULL &&
           (m->held_ms <= now_ms - MLC_HOLD_MS || c->nheld > MLC_HOLD_STATES)) {
        mlc_hold_release(c, m);
        mlc_sm_close_if_done(c, m);
    }
}

void mlc_on_sm_to(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec,
                  bool created) {
    if (sm_should_hold(m, created))
        c->hold_into = c->hold_for = m;
    on_sendmail_to(c, m, rec);
    c->hold_into = c->hold_for = NULL;
    if (m->held != NULL && m->hprev == NULL && c->held_first != m) {
        m->held_ms = rec->ts_ms;
        mlc_hold_link(c, m);
    }
    if (m->held != NULL && json_array_size(m->held) > MLC_HOLD_EVENTS)
        mlc_hold_release(c, m);
    sm_settle_parent(c, m);
    mlc_sm_close_if_done(c, m);
}

/* from=: the sender, and how many recipients to wait for. */
void mlc_on_sm_from(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec)
{
    long n = 0;

    m->sm = true;
    if (mlc_relay_is_loopback(rec->relay) && !m->is_notice)
        m->sm_loopback = true; /* from this host: an MSP's or a relay's hand-off? */
    for (size_t i = 0; rec->nrcpt.p && i < rec->nrcpt.len && i < 6; i++)
        n = n * 10 + (rec->nrcpt.p[i] - '0');
    if (rec->nrcpt.p)
        m->sm_nrcpts = n + 1;
    if (m->held != NULL) {
        if (rec->ts_ms < m->active_ms)
            m->active_ms = rec->ts_ms;
        mlc_hold_release(c, m);
    }
    mlc_sm_close_if_done(c, m);
}
