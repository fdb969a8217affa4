/* SPDX-License-Identifier: MIT */
/*
 * maillog_correlate.c - the rules that turn maillog records into
 * per-recipient events (see maillog_correlate.h): Postfix's records, the
 * events and their members, chains (a bounce notice's parent, a message
 * re-injected under a new queue id), expiry, and the public entry points.
 * The other parts, sharing maillog_correlate_int.h: the state table and
 * persistence (maillog_correlate_state.c), content-filter links
 * (maillog_correlate_filter.c), Sendmail's rules and holding
 * (maillog_correlate_sendmail.c).
 *
 * Every state records the order (a counter over states and queue-active
 * lines, persisted) in which it was first seen and last went active: a
 * chain goes only to a queue id first seen after the hop began
 * (chain_fresh).
 *
 * Bounce classification (email.bounced "bounce_class") looks at the
 * enhanced status code first and the response text second; see
 * maillog_bounce_class().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maillog_correlate_int.h"
#include "maillog_bounce.h"
#include "xalloc.h"

/* ------------------------------------------------------------ filters */

static bool list_has(const char *const *list, const char *s, size_t len)
{
    for (; *list; list++)
        if (strlen(*list) == len && strncasecmp(*list, s, len) == 0)
            return true;
    return false;
}

/* Should events of m be emitted at all? Counts why not. */
bool mlc_wanted(maillog_correlate_t *c, const struct msg_state *m)
{
    const char *at;

    if (m->is_notice && !c->opts.include_bounces) {
        c->st.skipped_bounce++;
        return false;
    }
    if (m == c->hold_for)
        return true; /* judged when the held events go out (mlc_hold_release) */
    if (c->opts.sender_domains) {
        at = m->from ? strrchr(m->from, '@') : NULL;
        if (at == NULL || !list_has(c->opts.sender_domains, at + 1, strlen(at + 1))) {
            c->st.skipped_filter++;
            return false;
        }
    }
    if (c->opts.sasl_users && (m->sasl_username == NULL ||
                               !list_has(c->opts.sasl_users, m->sasl_username,
                                         strlen(m->sasl_username)))) {
        c->st.skipped_filter++;
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ events */

void mlc_put_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static void put_slice(json_t *o, const char *key, struct ml_str s)
{
    if (s.p)
        json_object_set_new(o, key, json_stringn(s.p, s.len));
}

/* Postfix delay "0.52", Sendmail "00:00:01" or "1+02:03:04": seconds. */
static json_t *delay_value(struct ml_str s)
{
    char buf[32], *end;
    double v;
    long d = 0, h = 0, mi = 0, sec = 0;

    if (s.p == NULL || s.len == 0 || s.len >= sizeof(buf))
        return NULL;
    memcpy(buf, s.p, s.len);
    buf[s.len] = 0;
    if (strchr(buf, ':') == NULL) {
        v = strtod(buf, &end);
        if (*end || v < 0)
            return NULL;
        v = v < 1e-4 ? 0 : (double)(long long)(v * 1000 + 0.5) / 1000; /* ms precision */
        return v == (double)(long long)v ? json_integer((json_int_t)v) : json_real(v);
    }
    end = buf;
    if (strchr(buf, '+'))
        d = strtol(end, &end, 10), end++;
    h = strtol(end, &end, 10);
    if (*end++ != ':')
        return NULL;
    mi = strtol(end, &end, 10);
    if (*end++ != ':')
        return NULL;
    sec = strtol(end, &end, 10);
    return *end ? NULL : json_integer(((d * 24 + h) * 60 + mi) * 60 + sec);
}

/* "host x said: 550 5.1.1 ... (in reply to RCPT TO command)" -> "550 5.1.1 ..." */
static json_t *smtp_response(struct ml_str text)
{
    const char *p, *end;

    if (text.p == NULL)
        return NULL;
    end = text.p + text.len;
    p = memmem(text.p, text.len, "said: ", 6);
    if (p == NULL)
        return json_stringn(text.p, text.len);
    p += 6;
    for (const char *q = end; q > p; q--) {
        if (q - p >= 14 && memcmp(q - 14, " (in reply to ", 14) == 0) {
            end = q - 14;
            break;
        }
    }
    return json_stringn(p, (size_t)(end - p));
}

/* The data every event of message m has. */
static json_t *event_base(const struct msg_state *m, const char *rcpt, const char *orig)
{
    json_t *d = json_object();

    mlc_put_str(d, "queue_id", m->root_qid ? m->root_qid : m->qid);
    if (m->root_qid)
        mlc_put_str(d, "reinjected_queue_id", m->qid);
    if (m->parent_qid)
        mlc_put_str(d, "parent_queue_id", m->parent_qid);
    mlc_put_str(d, "message_id", m->message_id);
    if (m->has_sender)
        mlc_put_str(d, "from", m->from ? m->from : "");
    mlc_put_str(d, "recipient", rcpt);
    mlc_put_str(d, "orig_recipient", orig);
    mlc_put_str(d, "client_addr", m->client_addr);
    mlc_put_str(d, "sasl_username", m->sasl_username);
    if (m->size)
        json_object_set_new(d, "size", json_integer(strtoll(m->size, NULL, 10)));
    return d;
}

static void emit(maillog_correlate_t *c, const char *type, int64_t ts, json_t *data)
{
    mh_err_t err;
    event_t *ev;
    const char *parts[5];

    if (c->hold_into) { /* Sendmail: to= before from=, see mlc_hold_release() */
        if (c->hold_into->held == NULL)
            c->hold_into->held = json_array();
        json_array_append_new(c->hold_into->held, json_pack("[s,I,o]", type, (json_int_t)ts, data));
        return;
    }
    ev = event_new(type, ts, data, &err);
    if (ev == NULL) {
        msg_warn("maillog: cannot build %s event: %s", type, err.text);
        return;
    }
    /* A deterministic id: the same line read again (checkpoint lost, file
     * copied, backfill) makes the same event, which the store then drops.
     * The line's time, not the attempt count, tells one attempt from the
     * next: a count depends on what was read before (a re-read over kept
     * states counts on, one without the previous file starts at 1). Two
     * attempts within one second (Postfix retries at once after a first
     * refusal) differ in the line's own delays=, which is part of it too:
     * without it the second was dropped as a copy of the first (seen in
     * t0210). */
    parts[0] = c->opts.source ? c->opts.source : "";
    parts[1] = json_string_value(json_object_get(ev->data, "queue_id"));
    parts[2] = json_string_value(json_object_get(ev->data, "recipient"));
    parts[3] = type;
    parts[4] = json_string_value(json_object_get(ev->data, "delays"));
    event_derive_id(ev, parts, parts[4] ? 5 : 4);
    c->st.events++;
    c->emit(c->ctx, ev);
}

/* email.sent once per recipient, before its first outcome. */
static void emit_sent_once(maillog_correlate_t *c, struct msg_state *m, struct rcpt *r)
{
    if (r == NULL || r->sent || !c->opts.emit_sent)
        return;
    r->sent = true;
    /* Never after the outcome it precedes: lines out of order (a window of
     * a log, a merged log) can name the outcome before the queue-active
     * time this message was first given. */
    emit(c, EV_SENT, c->line_ms && c->line_ms < m->active_ms ? c->line_ms : m->active_ms,
         event_base(m, r->addr, r->orig));
}

/* ------------------------------------------------------------ records */

/* The first queue id of m's chain. */
static const char *root_of(const struct msg_state *m)
{
    return m->root_qid ? m->root_qid : m->qid;
}

/* Can n be the message m was handed on as? Not m itself, not m's root, not
 * part of another chain, and first seen after m went active for this
 * attempt (a filter re-injects while the hop is open): a remote server's
 * "queued as" that happens to name a tracked, older queue id is not it.
 * When m went active before the log began, n must be first seen after m
 * was; when even m's first line is the hop, there is no order to go by:
 * then n must not have gone out on its own already. */
static bool chain_fresh(const struct msg_state *m, const struct msg_state *n)
{
    if (n == m || strcmp(n->qid, root_of(m)) == 0)
        return false;
    if (n->root_qid != NULL)
        return strcmp(n->root_qid, root_of(m)) == 0;
    if (m->active_order != 0)
        return n->first_order > m->active_order;
    if (n->first_order > m->first_order)
        return true;
    for (size_t i = 0; i < n->nrcpts; i++)
        if (n->rcpts[i].done)
            return false;
    return true;
}

static void copy_if_unknown(char **dst, const char *src)
{
    if (*dst == NULL && src)
        *dst = xstrdup(src);
}

/* m's value when it has one (the message as it came in), else n's own. */
static void take_known(char **dst, const char *src)
{
    if (src) {
        free(*dst);
        *dst = xstrdup(src);
    }
}

/* n is m handed on: n's events carry m's identity (the first queue id, the
 * sender, client and size the message came in with; the filter's own
 * client is loopback). Merged, never a known value replaced by an unknown
 * one: m may have started before the log window. */
static void chain_merge(maillog_correlate_t *c, struct msg_state *m, struct msg_state *n)
{
    free(n->root_qid);
    n->root_qid = xstrdup(root_of(m));
    if (m->has_sender || !n->has_sender)
        n->active_ms = m->active_ms;
    n->is_notice = n->is_notice || m->is_notice;
    if (m->has_sender)
        take_known(&n->from, m->from);
    n->has_sender = n->has_sender || m->has_sender;
    take_known(&n->message_id, m->message_id);
    take_known(&n->client_addr, m->client_addr);
    take_known(&n->sasl_username, m->sasl_username);
    take_known(&n->size, m->size);
    for (size_t i = 0; i < m->nrcpts; i++) {
        struct rcpt *r = mlc_rcpt_get(n, m->rcpts[i].addr, strlen(m->rcpts[i].addr));
        if (r) {
            r->sent = r->sent || m->rcpts[i].sent;
            copy_if_unknown(&r->orig, m->rcpts[i].orig);
        }
    }
    mlc_state_mark_dirty(c, n);
}

/* m was handed on as qid: follow, unless qid is no new message of this MTA
 * (see chain_fresh). An unknown qid is made (its lines may come later). */
static bool chain_follow(maillog_correlate_t *c, struct msg_state *m, struct ml_str qid, int64_t ts)
{
    struct msg_state *n = mlc_state_find(c, qid);

    if (n != NULL && !chain_fresh(m, n))
        return false;
    if (n == NULL)
        n = mlc_state_new(c, qid.p, qid.len, ts);
    chain_merge(c, m, n);
    return true;
}

/* A content filter took the message back in as rec->new_queue_id: carry the
 * identity. false when that id cannot be the re-injected message. */
static bool follow_reinjection(maillog_correlate_t *c, struct msg_state *m,
                               const struct ml_rec *rec) {
    return chain_follow(c, m, rec->new_queue_id, rec->ts_ms);
}

bool mlc_relay_is_loopback(struct ml_str relay)
{
    const char *p = relay.p;
    size_t n = relay.len;

    return p != NULL
           && (memmem(p, n, "[127.", 5) != NULL || memmem(p, n, "[IPv6:::1]", 10) != NULL
               || memmem(p, n, "[::1]", 5) != NULL);
}

static bool sm_hop(const struct ml_rec *rec)
{
    return rec->mta == ML_SENDMAIL && mlc_str_eq(rec->mailer, "relay")
           && mlc_relay_is_loopback(rec->relay);
}

static const char *outcome_type(const struct ml_rec *rec, bool *final)
{
    *final = true;
    if (mlc_str_eq(rec->status, "sent"))
        return EV_DELIVERED;
    if (mlc_str_eq(rec->status, "deferred")) {
        *final = false;
        return EV_DEFERRED;
    }
    if (mlc_str_eq(rec->status, "bounced"))
        /* The error transport gives up locally (no remote 5xx): a failure. */
        return mlc_str_eq(rec->service, "error")
                       && !memmem(rec->status_text.p ? rec->status_text.p : "",
                                  rec->status_text.len, "said:", 5)
                   ? EV_FAILED
                   : EV_BOUNCED;
    return NULL;
}

static char *text_dup(struct ml_str s)
{
    return s.p ? xstrndup(s.p, s.len < MLC_TEXT_MAX ? s.len : MLC_TEXT_MAX) : NULL;
}

void mlc_on_delivery(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec,
                 struct ml_str to, bool *final_out)
{
    struct rcpt *r = mlc_rcpt_get(m, to.p, to.len);
    bool final, wanted;
    bool discard = mlc_str_eq(rec->service, "discard") && mlc_str_eq(rec->status, "sent");
    const char *type = outcome_type(rec, &final);
    json_t *d, *v;

    if (r && rec->orig_to.p && r->orig == NULL)
        r->orig = mlc_str_dup(rec->orig_to);
    if (type == NULL || (r && r->done))
        return; /* a status we do not report, or a repeated final line */
    if (r)
        r->attempts++;
    if (c->hop_oldest)
        mlc_hop_adopt(c, m, to, rec->ts_ms);
    wanted = mlc_wanted(c, m);
    /* A content filter re-injects into this MTA before it answers, so the new
     * queue id is already known here; a remote server's "queued as" is not. */
    if (mlc_str_eq(rec->status, "sent") && !discard && mlc_on_hop(c, m, r, rec, wanted))
        return;
    if (discard && c->discard_mode == DROP_FAILED)
        type = EV_FAILED;
    if (r) {
        r->done = final;
        if (!final) {
            free(r->last_text), free(r->last_dsn), free(r->last_relay);
            r->last_text = text_dup(rec->status_text);
            r->last_dsn = text_dup(rec->dsn);
            r->last_relay = text_dup(rec->relay);
        }
    }
    if (!wanted)
        return;
    emit_sent_once(c, m, r);
    if (discard && c->discard_mode == DROP_NONE)
        return;
    d = event_base(m, r ? r->addr : NULL, r ? r->orig : NULL);
    if (r == NULL)
        put_slice(d, "recipient", to);
    put_slice(d, "relay", rec->relay);
    put_slice(d, "dsn", rec->dsn);
    if ((v = smtp_response(rec->status_text)) != NULL)
        json_object_set_new(d, "smtp_response", v);
    if ((v = delay_value(rec->delay)) != NULL)
        json_object_set_new(d, "delay", v);
    put_slice(d, "delays", rec->delays);
    json_object_set_new(d, "attempt", json_integer(r ? r->attempts : 1));
    if (discard)
        json_object_set_new(d, "discarded", json_true());
    if (!final && sm_hop(rec))
        json_object_set_new(d, "hop", json_true()); /* the next leg failed, not the message */
    if (strcmp(type, EV_BOUNCED) == 0) {
        json_object_set_new(d, "bounce_type", json_string("hard"));
        json_object_set_new(
            d, "bounce_class",
            json_string(maillog_bounce_class(rec->dsn.p, rec->dsn.len, rec->status_text.p,
                                             rec->status_text.len)));
    } else if (discard && strcmp(type, EV_FAILED) == 0) {
        json_object_set_new(d, "reason", json_string("discarded"));
    } else if (strcmp(type, EV_FAILED) == 0) {
        put_slice(d, "reason", rec->status_text);
    }
    emit(c, type, rec->ts_ms, d);
    *final_out = final;
}

/* The message expired: every recipient still pending has failed. */
void mlc_on_expired(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec)
{
    json_t *d;

    if (!mlc_wanted(c, m))
        return;
    for (size_t i = 0; i < m->nrcpts; i++) {
        struct rcpt *r = &m->rcpts[i];
        if (r->done)
            continue;
        r->done = true;
        emit_sent_once(c, m, r);
        d = event_base(m, r->addr, r->orig);
        json_object_set_new(d, "reason", json_string("expired: the message stayed in the queue "
                                                     "longer than the MTA's queue lifetime"));
        if (r->last_text)
            json_object_set_new(d, "smtp_response", json_string(r->last_text));
        mlc_put_str(d, "dsn", r->last_dsn);
        mlc_put_str(d, "relay", r->last_relay);
        json_object_set_new(d, "attempt", json_integer(r->attempts));
        emit(c, EV_FAILED, rec->ts_ms, d);
    }
}

void mlc_on_notification(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec)
{
    struct msg_state *n;

    if (rec->new_queue_id.p == NULL)
        return;
    if ((n = mlc_state_find(c, rec->new_queue_id)) == NULL)
        n = mlc_state_new(c, rec->new_queue_id.p, rec->new_queue_id.len, rec->ts_ms);
    n->is_notice = true;
    free(n->parent_qid);
    n->parent_qid = xstrdup(m->root_qid ? m->root_qid : m->qid);
    mlc_state_mark_dirty(c, n);
}

size_t maillog_correlate_flush(maillog_correlate_t *c, int64_t now_ms)
{
    uint64_t before = c->st.events;
    struct msg_state *m;

    while ((m = c->held_first) != NULL && m->held_ms <= now_ms - MLC_HOLD_MS) {
        mlc_hold_release(c, m);
        mlc_sm_close_if_done(c, m);
    }
    return (size_t)(c->st.events - before);
}

static void mlc_feed_record(maillog_correlate_t *c, const struct ml_rec *rec);

void maillog_correlate_feed(maillog_correlate_t *c, const struct ml_rec *rec)
{

    c->st.records++;
    c->line_ms = rec->ts_ms;
    mlc_feed_record(c, rec);
    c->line_ms = 0;
}

/* maillog_correlate_feed's work, with c->line_ms set to the record's time. */
static void mlc_feed_record(maillog_correlate_t *c, const struct ml_rec *rec)
{
    struct msg_state *m;
    bool created, final = false;

    if (c->held_first != NULL)
        mlc_hold_expire(c, rec->ts_ms);
    if (rec->queue_id.p == NULL || rec->kind == ML_OTHER)
        return;
    if (rec->kind == ML_VERIFY) {
        c->st.skipped_probe++;
        return;
    }
    if (rec->kind == ML_FILTER) { /* the filter's own id: no queue id of the MTA */
        mlc_on_filter(c, rec);
        return;
    }
    m = mlc_state_get(c, rec, &created);
    switch (rec->kind) {
    case ML_CLIENT:
        mlc_set_field(&m->client_addr, rec->client_addr);
        mlc_set_field(&m->sasl_username, rec->sasl_username);
        break;
    case ML_PICKUP:
        break; /* sender comes with the queue-active line */
    case ML_MESSAGE_ID:
        mlc_set_message_id(m, rec->message_id);
        break;
    case ML_QUEUE_ACTIVE:
    case ML_SM_FROM:
        mlc_set_field(&m->from, rec->from);
        mlc_set_field(&m->size, rec->size);
        if (rec->kind == ML_SM_FROM)
            mlc_set_message_id(m, rec->message_id);
        m->has_sender = true;
        m->active_order = ++c->order;
        if (rec->from.p && rec->from.len == 0)
            m->is_notice = true; /* null sender: the MTA's own notice */
        if (m->nrcpts == 0)
            m->active_ms = rec->ts_ms;
        if (rec->kind == ML_SM_FROM)
            mlc_on_sm_from(c, m, rec);
        break;
    case ML_DELIVERY:
        if (created)
            c->st.orphans++;
        mlc_on_delivery(c, m, rec, rec->to, &final);
        break;
    case ML_SM_TO:
        if (created)
            c->st.orphans++;
        mlc_on_sm_to(c, m, rec, created);
        break;
    case ML_EXPIRED:
        mlc_on_expired(c, m, rec);
        break;
    case ML_NOTIFICATION:
        mlc_on_notification(c, m, rec);
        if (rec->mta == ML_SENDMAIL)
            mlc_sm_on_notice(c, m, rec, created);
        break;
    case ML_REMOVED:
        mlc_state_remove(c, m);
        break;
    default:
        break;
    }
}

void maillog_correlate_expire(maillog_correlate_t *c, int64_t now_ms)
{
    int64_t cutoff = now_ms - (int64_t)c->opts.max_age_s * 1000;

    mlc_links_prune(c, now_ms);
    mlc_table_expire(c, cutoff);
}

const struct maillog_correlate_stats *maillog_correlate_stats(const maillog_correlate_t *c)
{
    ((maillog_correlate_t *)c)->st.tracked = c->count;
    return &c->st;
}

maillog_correlate_t *maillog_correlate_new(const struct maillog_correlate_opts *opts,
                                           maillog_correlate_emit_fn emit_fn, void *ctx) {
    maillog_correlate_t *c = xcalloc(1, sizeof(*c));

    c->opts = *opts;
    if (c->opts.max_messages == 0)
        c->opts.max_messages = 100000;
    if (c->opts.max_age_s <= 0)
        c->opts.max_age_s = 7 * 86400;
    if (c->opts.filter_window_s <= 0)
        c->opts.filter_window_s = 300;
    if (c->opts.filtered_event && strcmp(c->opts.filtered_event, "none") == 0)
        c->filtered_mode = DROP_NONE;
    if (c->opts.discard_event && strcmp(c->opts.discard_event, "none") == 0)
        c->discard_mode = DROP_NONE;
    else if (c->opts.discard_event && strcmp(c->opts.discard_event, "delivered") == 0)
        c->discard_mode = DROP_DELIVERED;
    c->emit = emit_fn;
    c->ctx = ctx;
    mlc_table_init(c);
    return c;
}

maillog_correlate_t *maillog_correlate_free(maillog_correlate_t *c)
{
    if (c == NULL)
        return NULL;
    mlc_table_free(c);
    for (struct flt *f = c->flt_oldest, *fn; f; f = fn) {
        fn = f->newer;
        mlc_flt_free(f);
    }
    for (struct hop *h = c->hop_oldest, *hn; h; h = hn) {
        hn = h->newer;
        mlc_hop_free(h);
    }
    free(c);
    return NULL;
}

/* ------------------------------------------------------------ for the other parts */

/* The static functions above that the other parts of the correlator use
 * (maillog_correlate_int.h). */
json_t *mlc_event_base(const struct msg_state *m, const char *rcpt, const char *orig)
{
    return event_base(m, rcpt, orig);
}

void mlc_emit(maillog_correlate_t *c, const char *type, int64_t ts, json_t *data)
{
    emit(c, type, ts, data);
}

void mlc_emit_sent_once(maillog_correlate_t *c, struct msg_state *m, struct rcpt *r)
{
    emit_sent_once(c, m, r);
}

bool mlc_chain_fresh(const struct msg_state *m, const struct msg_state *n)
{
    return chain_fresh(m, n);
}

void mlc_chain_merge(maillog_correlate_t *c, struct msg_state *m, struct msg_state *n)
{
    chain_merge(c, m, n);
}

bool mlc_chain_follow(maillog_correlate_t *c, struct msg_state *m, struct ml_str qid, int64_t ts)
{
    return chain_follow(c, m, qid, ts);
}

bool mlc_follow_reinjection(maillog_correlate_t *c, struct msg_state *m, const struct ml_rec *rec)
{
    return follow_reinjection(c, m, rec);
}
