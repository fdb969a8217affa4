/* SPDX-License-Identifier: MIT */
/*
 * maillog_correlate_filter.c - the correlator's content-filter links: hops
 * into a content filter (mlc_on_hop), pmg-smtp-filter's own lines (mlc_on_filter),
 * and the re-injected message found by "queued as", by the filter's lines
 * or by Message-ID and recipient. Part of maillog_correlate.c (see
 * maillog_correlate_int.h).
 *
 * Content filters: two lists beside the table, oldest first and hashed
 * (MLC_LINK_BUCKETS), each at most MLC_MAX_LINKS and pruned after
 * filter_window_s of log time, oldest first: what
 * pmg-smtp-filter logged per filter id (struct flt: Message-ID, per
 * recipient accept/quarantine/block), and hops into a filter still waiting
 * for their re-injected message (struct hop, with a copy of the message's
 * identity). They are not persisted.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maillog_correlate_int.h"
#include "xalloc.h"

/* ------------------------------------------------------------ content filters */

/* "name[addr]:port" against a configured "host:port" or "[host]:port". */
static bool relay_matches(struct ml_str relay, const char *want)
{
    const char *lb, *rb, *colon, *whost = want, *wport;
    size_t whlen;

    if (relay.len == strlen(want) && memcmp(relay.p, want, relay.len) == 0)
        return true;
    if (want[0] == '[') {
        whost = want + 1;
        if ((rb = strchr(whost, ']')) == NULL || rb[1] != ':')
            return false;
        whlen = (size_t)(rb - whost);
        wport = rb + 2;
    } else {
        if ((colon = strrchr(want, ':')) == NULL)
            return false;
        whlen = (size_t)(colon - want);
        wport = colon + 1;
    }
    lb = memchr(relay.p, '[', relay.len);
    rb = lb ? memchr(lb, ']', (size_t)(relay.p + relay.len - lb)) : NULL;
    if (rb == NULL || rb + 1 >= relay.p + relay.len || rb[1] != ':' ||
        (size_t)(relay.p + relay.len - (rb + 2)) != strlen(wport) ||
        memcmp(rb + 2, wport, strlen(wport)) != 0)
        return false;
    return ((size_t)(rb - lb - 1) == whlen && strncasecmp(lb + 1, whost, whlen) == 0) ||
           ((size_t)(lb - relay.p) == whlen && strncasecmp(relay.p, whost, whlen) == 0);
}

static bool relay_is_filter(const maillog_correlate_t *c, struct ml_str relay)
{
    if (c->opts.content_filters == NULL || relay.p == NULL)
        return false;
    for (const char *const *f = c->opts.content_filters; *f; f++)
        if (relay_matches(relay, *f))
            return true;
    return false;
}

/* A filter's own reply that says it dropped the mail: a security status
 * (X.7.Y) on a success, as PMG's "250 2.7.0 BLOCKED (FID)" and amavis's
 * "250 2.7.0 Ok, discarded, id=... - spam" (older amavis: 2.7.1). */
static bool filter_dropped(const struct ml_rec *rec)
{
    return rec->dsn.p && rec->dsn.len >= 4 && memcmp(rec->dsn.p, "2.7.", 4) == 0;
}

/* The filter quarantined or dropped recipient r of m: say so once. */
static void filter_failed(maillog_correlate_t *c, struct msg_state *m, struct rcpt *r,
                          const char *action, struct ml_str text, int64_t ts) {
    json_t *d;

    if (r == NULL || r->done)
        return;
    r->done = true;
    mlc_state_mark_dirty(c, m);
    if (!mlc_wanted(c, m))
        return;
    mlc_emit_sent_once(c, m, r);
    if (c->filtered_mode == DROP_NONE)
        return;
    d = mlc_event_base(m, r->addr, r->orig);
    json_object_set_new(d, "reason", json_sprintf("content filter: %.*s", (int)text.len,
                                                  text.p ? text.p : ""));
    json_object_set_new(d, "filter_action", json_string(action));
    json_object_set_new(d, "attempt", json_integer(r->attempts > 0 ? r->attempts : 1));
    mlc_emit(c, EV_FAILED, ts, d);
}

static size_t link_bucket(const char *s, size_t len)
{
    return (size_t)(mlc_qid_hash(s, len) & (MLC_LINK_BUCKETS - 1));
}

static struct flt *flt_find(maillog_correlate_t *c, struct ml_str fid)
{
    for (struct flt *f = c->flt_b[link_bucket(fid.p, fid.len)]; f; f = f->hnext)
        if (strlen(f->fid) == fid.len && memcmp(f->fid, fid.p, fid.len) == 0)
            return f;
    return NULL;
}

void mlc_flt_free(struct flt *f)
{
    for (size_t i = 0; i < f->nitems; i++) {
        free(f->items[i].rcpt);
        free(f->items[i].new_qid);
        free(f->items[i].text);
    }
    free(f->items);
    free(f->fid), free(f->message_id), free(f->orig_qid);
    free(f);
}

void mlc_hop_free(struct hop *h)
{
    mlc_state_free(h->snap);
    free(h);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* m's identity and recipient r, detached from the table. */
static struct msg_state *state_snapshot(const struct msg_state *m, const struct rcpt *r)
{
    struct msg_state *s = xcalloc(1, sizeof(*s));

    s->qid = xstrdup(m->qid);
    s->root_qid = dup_or_null(m->root_qid);
    s->from = dup_or_null(m->from);
    s->message_id = dup_or_null(m->message_id);
    s->client_addr = dup_or_null(m->client_addr);
    s->sasl_username = dup_or_null(m->sasl_username);
    s->size = dup_or_null(m->size);
    s->active_ms = m->active_ms;
    s->seen_ms = m->seen_ms;
    s->first_order = m->first_order;
    s->active_order = m->active_order;
    s->is_notice = m->is_notice;
    s->has_sender = m->has_sender;
    s->rcpts = xcalloc(1, sizeof(*s->rcpts));
    s->nrcpts = 1;
    s->rcpts[0].addr = xstrdup(r->addr);
    s->rcpts[0].orig = dup_or_null(r->orig);
    s->rcpts[0].sent = r->sent;
    s->rcpts[0].done = r->done;
    return s;
}

/* Take f off the lists and free it. */
static void flt_drop(maillog_correlate_t *c, struct flt *f)
{
    struct flt **pp = &c->flt_b[link_bucket(f->fid, strlen(f->fid))];

    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    if (f->older)
        f->older->newer = f->newer;
    else
        c->flt_oldest = f->newer;
    if (f->newer)
        f->newer->older = f->older;
    else
        c->flt_newest = f->older;
    c->nflts--;
    mlc_flt_free(f);
}

static void hop_drop(maillog_correlate_t *c, struct hop *h)
{
    struct hop **pp = &c->hop_b[link_bucket(h->snap->message_id, strlen(h->snap->message_id))];

    while (*pp != h)
        pp = &(*pp)->hnext;
    *pp = h->hnext;
    if (h->older)
        h->older->newer = h->newer;
    else
        c->hop_oldest = h->newer;
    if (h->newer)
        h->newer->older = h->older;
    else
        c->hop_newest = h->older;
    c->nhops--;
    mlc_hop_free(h);
}

/* Drop filter states and pending hops older than the window, or past the
 * bound, oldest first; a pending hop that goes so is counted. */
void mlc_links_prune(maillog_correlate_t *c, int64_t now_ms)
{
    int64_t cutoff = now_ms - (int64_t)c->opts.filter_window_s * 1000;

    while (c->flt_oldest && (c->flt_oldest->first_ms < cutoff || c->nflts > MLC_MAX_LINKS))
        flt_drop(c, c->flt_oldest);
    while (c->hop_oldest && (c->hop_oldest->ts_ms < cutoff || c->nhops > MLC_MAX_LINKS)) {
        hop_drop(c, c->hop_oldest);
        c->st.filter_unlinked++;
    }
}

/* Recipient r of m went into a filter that named no re-injected message. */
static void hop_pending(maillog_correlate_t *c, struct msg_state *m, struct rcpt *r, int64_t ts)
{
    struct hop *h, **pp;

    if (r == NULL || m->message_id == NULL) {
        c->st.filter_unlinked++;
        return;
    }
    h = xcalloc(1, sizeof(*h));
    h->snap = state_snapshot(m, r);
    h->ts_ms = ts;
    h->older = c->hop_newest;
    if (c->hop_newest)
        c->hop_newest->newer = h;
    else
        c->hop_oldest = h;
    c->hop_newest = h;
    pp = &c->hop_b[link_bucket(m->message_id, strlen(m->message_id))];
    h->hnext = *pp;
    *pp = h;
    c->nhops++;
    mlc_links_prune(c, ts);
}

/* n, in no chain yet, delivers to rcpt: is it a filter's re-injection of a
 * message that went into the filter (same Message-ID and recipient, within
 * the window)? Then link it. */
void mlc_hop_adopt(maillog_correlate_t *c, struct msg_state *n, struct ml_str rcpt, int64_t ts)
{
    struct msg_state *m;

    mlc_links_prune(c, ts);
    if (n->root_qid || n->message_id == NULL)
        return;
    for (struct hop *h = c->hop_b[link_bucket(n->message_id, strlen(n->message_id))]; h;
         h = h->hnext) {
        m = h->snap;
        if (strlen(m->rcpts[0].addr) != rcpt.len ||
            memcmp(m->rcpts[0].addr, rcpt.p, rcpt.len) != 0 ||
            strcmp(m->message_id, n->message_id) != 0 || !mlc_chain_fresh(m, n))
            continue;
        mlc_chain_merge(c, m, n);
        hop_drop(c, h);
        return;
    }
}

/* The message a filter state is about: the hop named it, or the latest
 * active message with the filter's Message-ID first seen before the filter
 * had it (looked for among the recently seen states only). */
static struct msg_state *flt_orig(maillog_correlate_t *c, struct flt *f, int64_t ts)
{
    int64_t cutoff = ts - (int64_t)c->opts.filter_window_s * 1000;
    struct msg_state *m;
    int n = 0;

    if (f->orig_qid)
        return mlc_state_find(c, (struct ml_str){ f->orig_qid, strlen(f->orig_qid) });
    if (f->message_id == NULL)
        return NULL;
    for (m = TAILQ_LAST(&c->age, msg_age); m && m->seen_ms >= cutoff && n < MLC_SCAN_MAX;
         m = TAILQ_PREV(m, msg_age, age), n++) {
        if (m->active_order == 0 || m->first_order >= f->order || m->is_notice ||
            m->message_id == NULL || strcmp(m->message_id, f->message_id) != 0)
            continue;
        f->orig_qid = xstrdup(m->qid);
        return m;
    }
    return NULL;
}

/* Apply what the filter did with recipient r of m (once). */
static void flt_apply(maillog_correlate_t *c, struct flt *f, struct msg_state *m, struct rcpt *r,
                      int64_t ts)
{
    struct flt_item *it = NULL;
    struct msg_state *n;
    struct rcpt *nr;

    if (r == NULL || r->done)
        return;
    for (size_t i = 0; i < f->nitems && it == NULL; i++)
        if (strcmp(f->items[i].rcpt, r->addr) == 0)
            it = &f->items[i];
    if (it == NULL)
        return;
    c->st.filter_hops++;
    if (it->action != 'a') {
        filter_failed(c, m, r, it->action == 'q' ? "quarantine" : "block",
                      (struct ml_str){ it->text, strlen(it->text) }, ts);
        return;
    }
    n = mlc_state_find(c, (struct ml_str){ it->new_qid, strlen(it->new_qid) });
    if (n && n->held == NULL && (nr = mlc_rcpt_find(n, r->addr)) != NULL && nr->sent)
        r->sent = true; /* n went out on its own before the link: no second email.sent */
    if (mlc_wanted(c, m))
        mlc_emit_sent_once(c, m, r);
    r->done = true;
    mlc_state_mark_dirty(c, m);
    (void)mlc_chain_follow(c, m, (struct ml_str){ it->new_qid, strlen(it->new_qid) }, ts);
}

/* A pmg-smtp-filter line: remember it, and apply it when the message is known. */
void mlc_on_filter(maillog_correlate_t *c, const struct ml_rec *rec)
{
    struct flt *f, **pp;
    struct flt_item *it;
    struct msg_state *m;

    mlc_links_prune(c, rec->ts_ms);
    f = flt_find(c, rec->queue_id);
    if (f == NULL) {
        f = xcalloc(1, sizeof(*f));
        f->fid = mlc_str_dup(rec->queue_id);
        f->order = ++c->order;
        f->first_ms = rec->ts_ms;
        f->older = c->flt_newest;
        if (c->flt_newest)
            c->flt_newest->newer = f;
        else
            c->flt_oldest = f;
        c->flt_newest = f;
        pp = &c->flt_b[link_bucket(rec->queue_id.p, rec->queue_id.len)];
        f->hnext = *pp;
        *pp = f;
        c->nflts++;
        mlc_links_prune(c, rec->ts_ms);
    }
    if (mlc_str_eq(rec->status, "new")) {
        free(f->message_id);
        f->message_id = xasprintf("<%.*s>", (int)rec->message_id.len, rec->message_id.p);
        return;
    }
    if (rec->to.p == NULL || f->nitems >= MLC_MAX_RCPTS)
        return;
    f->items = xreallocarray(f->items, f->nitems + 1, sizeof(*f->items));
    it = &f->items[f->nitems++];
    it->rcpt = mlc_str_dup(rec->to);
    it->new_qid = mlc_str_dup(rec->new_queue_id);
    it->text = xstrndup(rec->status_text.p,
                        rec->status_text.len < MLC_TEXT_MAX ? rec->status_text.len : MLC_TEXT_MAX);
    it->action = mlc_str_eq(rec->status, "accept")  ? 'a'
                 : mlc_str_eq(rec->status, "block") ? 'b'
                                                    : 'q';
    if (it->action == 'a' && it->new_qid == NULL)
        it->action = 'q'; /* cannot happen with the parser's records */
    if ((m = flt_orig(c, f, rec->ts_ms)) != NULL)
        flt_apply(c, f, m, mlc_rcpt_get(m, rec->to.p, rec->to.len), rec->ts_ms);
}

/*
 * A "status=sent" line of m for r: a hop into a content filter or to this
 * MTA again (true: handled, no delivery), or a delivery (false).
 */
bool mlc_on_hop(maillog_correlate_t *c, struct msg_state *m, struct rcpt *r,
                const struct ml_rec *rec, bool wanted) {
    struct msg_state *n = rec->new_queue_id.p ? mlc_state_find(c, rec->new_queue_id) : NULL;
    struct flt *f = rec->filter_id.p ? flt_find(c, rec->filter_id) : NULL;
    bool to_filter = f != NULL || relay_is_filter(c, rec->relay);
    struct rcpt *nr;

    if (n != NULL && !mlc_chain_fresh(m, n))
        n = NULL; /* its own id, or an older message's: a remote server's id */
    if (n == NULL && !to_filter)
        return false;
    if (n && r && n->held == NULL && (nr = mlc_rcpt_find(n, r->addr)) != NULL && nr->sent)
        r->sent = true; /* n went out before the hop was logged: no second email.sent */
    if (f != NULL && r != NULL) {
        if (f->orig_qid == NULL || strcmp(f->orig_qid, m->qid) != 0) { /* the hop names it */
            free(f->orig_qid);
            f->orig_qid = xstrdup(m->qid);
        }
        flt_apply(c, f, m, r, rec->ts_ms);
        if (r->done)
            return true;
    }
    c->st.filter_hops++;
    if (r && filter_dropped(rec)) {
        filter_failed(c, m, r, "drop", rec->status_text, rec->ts_ms);
        return true;
    }
    if (wanted)
        mlc_emit_sent_once(c, m, r);
    if (r)
        r->done = true;
    if (rec->new_queue_id.p && mlc_follow_reinjection(c, m, rec))
        return true;
    hop_pending(c, m, r, rec->ts_ms);
    return true;
}

/* A Sendmail attempt through the relay mailer to this host's own MTA (relay
 * "[127.0.0.1] [127.0.0.1]", "localhost [127.0.0.1]", "[IPv6:::1]"): the MSP
 * handing a message to the MTA, or Sendmail's smart host being a local
 * Postfix or filter. Its failure is the hop's. (A mailertable route to a
 * loopback port uses esmtp: a destination, not a hop.) */
