/*
 * maillog_correlate.c - per-queue-id state and the rules that turn
 * maillog records into per-recipient events (see maillog_correlate.h).
 *
 * Data structures: a chained hash table of message states keyed by queue
 * id, threaded on a least-recently-seen list (head = oldest) for the bounds;
 * each state holds a small array of recipients. Everything a state owns is
 * freed by msg_state_free(). Every state records the order (a counter over
 * states and queue-active lines, persisted) in which it was first seen and
 * last went active: a chain goes only to a queue id first seen after the
 * hop began (chain_fresh).
 *
 * Content filters: two lists beside the table, oldest first and hashed
 * (MLC_LINK_BUCKETS), each at most MLC_MAX_LINKS and pruned after
 * filter_window_s of log time, oldest first: what
 * pmg-smtp-filter logged per filter id (struct flt: Message-ID, per
 * recipient accept/quarantine/block), and hops into a filter still waiting
 * for their re-injected message (struct hop, with a copy of the message's
 * identity). They are not persisted.
 *
 * Bounce classification (email.bounced "bounce_class") looks at the
 * enhanced status code first and the response text second; see
 * mlc_bounce_class().
 *
 * Sendmail has its own section (sm_*, hold_*): it logs no "removed" line,
 * hands messages between its MSP and MTA, logs its notices under the
 * parent's queue id and may log to= before from=; see the header.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maillog_correlate.h"
#include "maillog_bounce.h"
#include "xalloc.h"

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

/* ------------------------------------------------------------ helpers */

static char *str_dup(struct ml_str s)
{
    return s.p ? xstrndup(s.p, s.len) : NULL;
}

static bool str_eq(struct ml_str s, const char *lit)
{
    return s.p && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static void set_field(char **dst, struct ml_str s)
{
    if (s.p == NULL)
        return;
    free(*dst);
    *dst = str_dup(s);
}

/* Message-ID as in the header, "<left@right>", whichever way it was logged. */
static void set_message_id(struct msg_state *m, struct ml_str s)
{
    if (s.p == NULL || s.len == 0)
        return;
    free(m->message_id);
    if (s.p[0] == '<')
        m->message_id = xstrndup(s.p, s.len);
    else
        m->message_id = xasprintf("<%.*s>", (int)s.len, s.p);
}

static uint64_t qid_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* ------------------------------------------------------------ state table */

static void list_unlink(mlc_t *c, struct msg_state *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        c->oldest = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        c->newest = m->prev;
    m->prev = m->next = NULL;
}

static void list_append(mlc_t *c, struct msg_state *m)
{
    m->prev = c->newest;
    m->next = NULL;
    if (c->newest)
        c->newest->next = m;
    else
        c->oldest = m;
    c->newest = m;
}

static struct msg_state **bucket_of(mlc_t *c, const char *qid, size_t len)
{
    return &c->buckets[qid_hash(qid, len) & (c->nbuckets - 1)];
}

static struct msg_state *state_find(mlc_t *c, struct ml_str qid)
{
    for (struct msg_state *m = *bucket_of(c, qid.p, qid.len); m; m = m->hnext)
        if (strlen(m->qid) == qid.len && memcmp(m->qid, qid.p, qid.len) == 0)
            return m;
    return NULL;
}

static void state_mark_dirty(mlc_t *c, struct msg_state *m)
{
    if (c->opts.no_persist)
        return;
    if (!m->dirty) {
        m->dirty = true;
        m->dnext = c->dirty;
        c->dirty = m;
    }
}

static void msg_state_free(struct msg_state *m)
{
    for (size_t i = 0; i < m->nrcpts; i++) {
        free(m->rcpts[i].addr);
        free(m->rcpts[i].orig);
        free(m->rcpts[i].last_text);
        free(m->rcpts[i].last_dsn);
        free(m->rcpts[i].last_relay);
    }
    free(m->rcpts);
    free(m->qid), free(m->root_qid), free(m->parent_qid);
    free(m->from), free(m->message_id), free(m->client_addr), free(m->sasl_username);
    free(m->size);
    free(m->sm_notice), free(m->sm_parent);
    json_decref(m->held);
    free(m);
}

static void hold_release(mlc_t *c, struct msg_state *m);
static void sm_close_if_done(mlc_t *c, struct msg_state *m);

/* Take m out of the table; it is freed once its deletion is persisted. */
static void state_remove(mlc_t *c, struct msg_state *m)
{
    struct msg_state **pp = bucket_of(c, m->qid, strlen(m->qid));

    if (m->held)
        hold_release(c, m); /* its events go out before it goes */
    while (*pp != m)
        pp = &(*pp)->hnext;
    *pp = m->hnext;
    list_unlink(c, m);
    c->count--;
    m->removed = true;
    if (c->opts.no_persist) {
        msg_state_free(m);
        return;
    }
    if (m->dirty)
        return; /* already on the dirty list: freed when taken */
    state_mark_dirty(c, m);
}

static void table_grow(mlc_t *c)
{
    size_t n = c->nbuckets * 2;
    struct msg_state **b = xcalloc(n, sizeof(*b));

    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct msg_state *m = c->buckets[i], *next; m; m = next) {
            next = m->hnext;
            size_t k = qid_hash(m->qid, strlen(m->qid)) & (n - 1);
            m->hnext = b[k];
            b[k] = m;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static struct msg_state *state_new(mlc_t *c, const char *qid, size_t len, int64_t ts)
{
    struct msg_state *m = xcalloc(1, sizeof(*m)), **b;

    if (c->count >= c->opts.max_messages && c->oldest) {
        c->st.dropped_full++;
        state_remove(c, c->oldest);
    }
    if (c->count >= c->nbuckets)
        table_grow(c);
    m->qid = xstrndup(qid, len);
    m->active_ms = m->seen_ms = ts;
    m->first_order = ++c->order;
    b = bucket_of(c, qid, len);
    m->hnext = *b;
    *b = m;
    list_append(c, m);
    c->count++;
    return m;
}

/* The state of rec's queue id, created when unknown; refreshed as seen. */
static struct msg_state *state_get(mlc_t *c, const struct ml_rec *rec, bool *created)
{
    struct msg_state *m = state_find(c, rec->queue_id);

    *created = m == NULL;
    if (m == NULL)
        m = state_new(c, rec->queue_id.p, rec->queue_id.len, rec->ts_ms);
    else {
        list_unlink(c, m);
        list_append(c, m);
    }
    if (rec->ts_ms > m->seen_ms)
        m->seen_ms = rec->ts_ms;
    state_mark_dirty(c, m);
    return m;
}

static struct rcpt *rcpt_get(struct msg_state *m, const char *addr, size_t len)
{
    for (size_t i = 0; i < m->nrcpts; i++)
        if (strlen(m->rcpts[i].addr) == len && memcmp(m->rcpts[i].addr, addr, len) == 0)
            return &m->rcpts[i];
    if (m->nrcpts >= MLC_MAX_RCPTS)
        return NULL;
    m->rcpts = xreallocarray(m->rcpts, m->nrcpts + 1, sizeof(*m->rcpts));
    memset(&m->rcpts[m->nrcpts], 0, sizeof(*m->rcpts));
    m->rcpts[m->nrcpts].addr = xstrndup(addr, len);
    return &m->rcpts[m->nrcpts++];
}

static struct rcpt *rcpt_find(const struct msg_state *m, const char *addr)
{
    for (size_t i = 0; i < m->nrcpts; i++)
        if (strcmp(m->rcpts[i].addr, addr) == 0)
            return &m->rcpts[i];
    return NULL;
}

/* ------------------------------------------------------------ filters */

static bool list_has(const char *const *list, const char *s, size_t len)
{
    for (; *list; list++)
        if (strlen(*list) == len && strncasecmp(*list, s, len) == 0)
            return true;
    return false;
}

/* Should events of m be emitted at all? Counts why not. */
static bool state_wanted(mlc_t *c, const struct msg_state *m)
{
    const char *at;

    if (m->is_notice && !c->opts.include_bounces) {
        c->st.skipped_bounce++;
        return false;
    }
    if (m == c->hold_for)
        return true; /* judged when the held events go out (hold_release) */
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

static void put_str(json_t *o, const char *key, const char *v)
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

    put_str(d, "queue_id", m->root_qid ? m->root_qid : m->qid);
    if (m->root_qid)
        put_str(d, "reinjected_queue_id", m->qid);
    if (m->parent_qid)
        put_str(d, "parent_queue_id", m->parent_qid);
    put_str(d, "message_id", m->message_id);
    if (m->has_sender)
        put_str(d, "from", m->from ? m->from : "");
    put_str(d, "recipient", rcpt);
    put_str(d, "orig_recipient", orig);
    put_str(d, "client_addr", m->client_addr);
    put_str(d, "sasl_username", m->sasl_username);
    if (m->size)
        json_object_set_new(d, "size", json_integer(strtoll(m->size, NULL, 10)));
    return d;
}

static void emit(mlc_t *c, const char *type, int64_t ts, json_t *data)
{
    mh_err_t err;
    event_t *ev;
    const char *parts[4];

    if (c->hold_into) { /* Sendmail: to= before from=, see hold_release() */
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
     * states counts on, one without the previous file starts at 1). */
    parts[0] = c->opts.source ? c->opts.source : "";
    parts[1] = json_string_value(json_object_get(ev->data, "queue_id"));
    parts[2] = json_string_value(json_object_get(ev->data, "recipient"));
    parts[3] = type;
    event_derive_id(ev, parts, 4);
    c->st.events++;
    c->emit(c->ctx, ev);
}

/* email.sent once per recipient, before its first outcome. */
static void emit_sent_once(mlc_t *c, struct msg_state *m, struct rcpt *r)
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
static void chain_merge(mlc_t *c, struct msg_state *m, struct msg_state *n)
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
        struct rcpt *r = rcpt_get(n, m->rcpts[i].addr, strlen(m->rcpts[i].addr));
        if (r) {
            r->sent = r->sent || m->rcpts[i].sent;
            copy_if_unknown(&r->orig, m->rcpts[i].orig);
        }
    }
    state_mark_dirty(c, n);
}

/* m was handed on as qid: follow, unless qid is no new message of this MTA
 * (see chain_fresh). An unknown qid is made (its lines may come later). */
static bool chain_follow(mlc_t *c, struct msg_state *m, struct ml_str qid, int64_t ts)
{
    struct msg_state *n = state_find(c, qid);

    if (n != NULL && !chain_fresh(m, n))
        return false;
    if (n == NULL)
        n = state_new(c, qid.p, qid.len, ts);
    chain_merge(c, m, n);
    return true;
}

/* A content filter took the message back in as rec->new_queue_id: carry the
 * identity. false when that id cannot be the re-injected message. */
static bool follow_reinjection(mlc_t *c, struct msg_state *m, const struct ml_rec *rec)
{
    return chain_follow(c, m, rec->new_queue_id, rec->ts_ms);
}

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

static bool relay_is_filter(const mlc_t *c, struct ml_str relay)
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
static void filter_failed(mlc_t *c, struct msg_state *m, struct rcpt *r, const char *action,
                          struct ml_str text, int64_t ts)
{
    json_t *d;

    if (r == NULL || r->done)
        return;
    r->done = true;
    state_mark_dirty(c, m);
    if (!state_wanted(c, m))
        return;
    emit_sent_once(c, m, r);
    if (c->filtered_mode == DROP_NONE)
        return;
    d = event_base(m, r->addr, r->orig);
    json_object_set_new(d, "reason", json_sprintf("content filter: %.*s", (int)text.len,
                                                  text.p ? text.p : ""));
    json_object_set_new(d, "filter_action", json_string(action));
    json_object_set_new(d, "attempt", json_integer(r->attempts > 0 ? r->attempts : 1));
    emit(c, EV_FAILED, ts, d);
}

static size_t link_bucket(const char *s, size_t len)
{
    return (size_t)(qid_hash(s, len) & (MLC_LINK_BUCKETS - 1));
}

static struct flt *flt_find(mlc_t *c, struct ml_str fid)
{
    for (struct flt *f = c->flt_b[link_bucket(fid.p, fid.len)]; f; f = f->hnext)
        if (strlen(f->fid) == fid.len && memcmp(f->fid, fid.p, fid.len) == 0)
            return f;
    return NULL;
}

static void flt_free(struct flt *f)
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

static void hop_free(struct hop *h)
{
    msg_state_free(h->snap);
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
static void flt_drop(mlc_t *c, struct flt *f)
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
    flt_free(f);
}

static void hop_drop(mlc_t *c, struct hop *h)
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
    hop_free(h);
}

/* Drop filter states and pending hops older than the window, or past the
 * bound, oldest first; a pending hop that goes so is counted. */
static void links_prune(mlc_t *c, int64_t now_ms)
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
static void hop_pending(mlc_t *c, struct msg_state *m, struct rcpt *r, int64_t ts)
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
    links_prune(c, ts);
}

/* n, in no chain yet, delivers to rcpt: is it a filter's re-injection of a
 * message that went into the filter (same Message-ID and recipient, within
 * the window)? Then link it. */
static void hop_adopt(mlc_t *c, struct msg_state *n, struct ml_str rcpt, int64_t ts)
{
    struct msg_state *m;

    links_prune(c, ts);
    if (n->root_qid || n->message_id == NULL)
        return;
    for (struct hop *h = c->hop_b[link_bucket(n->message_id, strlen(n->message_id))]; h;
         h = h->hnext) {
        m = h->snap;
        if (strlen(m->rcpts[0].addr) != rcpt.len ||
            memcmp(m->rcpts[0].addr, rcpt.p, rcpt.len) != 0 ||
            strcmp(m->message_id, n->message_id) != 0 || !chain_fresh(m, n))
            continue;
        chain_merge(c, m, n);
        hop_drop(c, h);
        return;
    }
}

/* The message a filter state is about: the hop named it, or the latest
 * active message with the filter's Message-ID first seen before the filter
 * had it (looked for among the recently seen states only). */
static struct msg_state *flt_orig(mlc_t *c, struct flt *f, int64_t ts)
{
    int64_t cutoff = ts - (int64_t)c->opts.filter_window_s * 1000;
    struct msg_state *m;
    int n = 0;

    if (f->orig_qid)
        return state_find(c, (struct ml_str){ f->orig_qid, strlen(f->orig_qid) });
    if (f->message_id == NULL)
        return NULL;
    for (m = c->newest; m && m->seen_ms >= cutoff && n < MLC_SCAN_MAX; m = m->prev, n++) {
        if (m->active_order == 0 || m->first_order >= f->order || m->is_notice ||
            m->message_id == NULL || strcmp(m->message_id, f->message_id) != 0)
            continue;
        f->orig_qid = xstrdup(m->qid);
        return m;
    }
    return NULL;
}

/* Apply what the filter did with recipient r of m (once). */
static void flt_apply(mlc_t *c, struct flt *f, struct msg_state *m, struct rcpt *r,
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
    n = state_find(c, (struct ml_str){ it->new_qid, strlen(it->new_qid) });
    if (n && n->held == NULL && (nr = rcpt_find(n, r->addr)) != NULL && nr->sent)
        r->sent = true; /* n went out on its own before the link: no second email.sent */
    if (state_wanted(c, m))
        emit_sent_once(c, m, r);
    r->done = true;
    state_mark_dirty(c, m);
    (void)chain_follow(c, m, (struct ml_str){ it->new_qid, strlen(it->new_qid) }, ts);
}

/* A pmg-smtp-filter line: remember it, and apply it when the message is known. */
static void on_filter(mlc_t *c, const struct ml_rec *rec)
{
    struct flt *f, **pp;
    struct flt_item *it;
    struct msg_state *m;

    links_prune(c, rec->ts_ms);
    f = flt_find(c, rec->queue_id);
    if (f == NULL) {
        f = xcalloc(1, sizeof(*f));
        f->fid = str_dup(rec->queue_id);
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
        links_prune(c, rec->ts_ms);
    }
    if (str_eq(rec->status, "new")) {
        free(f->message_id);
        f->message_id = xasprintf("<%.*s>", (int)rec->message_id.len, rec->message_id.p);
        return;
    }
    if (rec->to.p == NULL || f->nitems >= MLC_MAX_RCPTS)
        return;
    f->items = xreallocarray(f->items, f->nitems + 1, sizeof(*f->items));
    it = &f->items[f->nitems++];
    it->rcpt = str_dup(rec->to);
    it->new_qid = str_dup(rec->new_queue_id);
    it->text = xstrndup(rec->status_text.p,
                        rec->status_text.len < MLC_TEXT_MAX ? rec->status_text.len : MLC_TEXT_MAX);
    it->action = str_eq(rec->status, "accept") ? 'a' : str_eq(rec->status, "block") ? 'b' : 'q';
    if (it->action == 'a' && it->new_qid == NULL)
        it->action = 'q'; /* cannot happen with the parser's records */
    if ((m = flt_orig(c, f, rec->ts_ms)) != NULL)
        flt_apply(c, f, m, rcpt_get(m, rec->to.p, rec->to.len), rec->ts_ms);
}

/*
 * A "status=sent" line of m for r: a hop into a content filter or to this
 * MTA again (true: handled, no delivery), or a delivery (false).
 */
static bool on_hop(mlc_t *c, struct msg_state *m, struct rcpt *r, const struct ml_rec *rec,
                   bool wanted)
{
    struct msg_state *n = rec->new_queue_id.p ? state_find(c, rec->new_queue_id) : NULL;
    struct flt *f = rec->filter_id.p ? flt_find(c, rec->filter_id) : NULL;
    bool to_filter = f != NULL || relay_is_filter(c, rec->relay);
    struct rcpt *nr;

    if (n != NULL && !chain_fresh(m, n))
        n = NULL; /* its own id, or an older message's: a remote server's id */
    if (n == NULL && !to_filter)
        return false;
    if (n && r && n->held == NULL && (nr = rcpt_find(n, r->addr)) != NULL && nr->sent)
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
        emit_sent_once(c, m, r);
    if (r)
        r->done = true;
    if (rec->new_queue_id.p && follow_reinjection(c, m, rec))
        return true;
    hop_pending(c, m, r, rec->ts_ms);
    return true;
}

/* A Sendmail attempt through the relay mailer to this host's own MTA (relay
 * "[127.0.0.1] [127.0.0.1]", "localhost [127.0.0.1]", "[IPv6:::1]"): the MSP
 * handing a message to the MTA, or Sendmail's smart host being a local
 * Postfix or filter. Its failure is the hop's. (A mailertable route to a
 * loopback port uses esmtp: a destination, not a hop.) */
static bool relay_is_loopback(struct ml_str relay)
{
    const char *p = relay.p;
    size_t n = relay.len;

    return p != NULL && (memmem(p, n, "[127.", 5) != NULL || memmem(p, n, "[IPv6:::1]", 10) != NULL ||
                         memmem(p, n, "[::1]", 5) != NULL);
}

static bool sm_hop(const struct ml_rec *rec)
{
    return rec->mta == ML_SENDMAIL && str_eq(rec->mailer, "relay") && relay_is_loopback(rec->relay);
}

static const char *outcome_type(const struct ml_rec *rec, bool *final)
{
    *final = true;
    if (str_eq(rec->status, "sent"))
        return EV_DELIVERED;
    if (str_eq(rec->status, "deferred")) {
        *final = false;
        return EV_DEFERRED;
    }
    if (str_eq(rec->status, "bounced"))
        /* The error transport gives up locally (no remote 5xx): a failure. */
        return str_eq(rec->service, "error") && !memmem(rec->status_text.p ? rec->status_text.p : "",
                                                         rec->status_text.len, "said:", 5)
                   ? EV_FAILED : EV_BOUNCED;
    return NULL;
}

static char *text_dup(struct ml_str s)
{
    return s.p ? xstrndup(s.p, s.len < MLC_TEXT_MAX ? s.len : MLC_TEXT_MAX) : NULL;
}

static void on_delivery(mlc_t *c, struct msg_state *m, const struct ml_rec *rec,
                        struct ml_str to, bool *final_out)
{
    struct rcpt *r = rcpt_get(m, to.p, to.len);
    bool final, wanted;
    bool discard = str_eq(rec->service, "discard") && str_eq(rec->status, "sent");
    const char *type = outcome_type(rec, &final);
    json_t *d, *v;

    if (r && rec->orig_to.p && r->orig == NULL)
        r->orig = str_dup(rec->orig_to);
    if (type == NULL || (r && r->done))
        return; /* a status we do not report, or a repeated final line */
    if (r)
        r->attempts++;
    if (c->hop_oldest)
        hop_adopt(c, m, to, rec->ts_ms);
    wanted = state_wanted(c, m);
    /* A content filter re-injects into this MTA before it answers, so the new
     * queue id is already known here; a remote server's "queued as" is not. */
    if (str_eq(rec->status, "sent") && !discard && on_hop(c, m, r, rec, wanted))
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
        json_object_set_new(d, "bounce_class",
                            json_string(mlc_bounce_class(rec->dsn.p, rec->dsn.len,
                                                         rec->status_text.p, rec->status_text.len)));
    } else if (discard && strcmp(type, EV_FAILED) == 0) {
        json_object_set_new(d, "reason", json_string("discarded"));
    } else if (strcmp(type, EV_FAILED) == 0) {
        put_slice(d, "reason", rec->status_text);
    }
    emit(c, type, rec->ts_ms, d);
    *final_out = final;
}

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

static struct msg_state *state_find_str(mlc_t *c, const char *qid)
{
    return qid ? state_find(c, (struct ml_str){ qid, strlen(qid) }) : NULL;
}

/* The return of m's notice to its sender, logged under m: the notice's
 * events (skipped unless include_bounces). A failed return makes Sendmail
 * notify the postmaster next. */
static void sm_notice_delivery(mlc_t *c, struct msg_state *m, const struct ml_rec *r,
                               struct ml_str one)
{
    struct msg_state *n = state_find_str(c, m->sm_notice);
    bool final = false;

    if (str_eq(r->status, "bounced")) {
        m->notice_due = true;
        m->notice_going = false;
    } else if (str_eq(r->status, "sent")) {
        m->notice_going = true;
    }
    if (n != NULL) {
        on_delivery(c, n, r, one, &final);
        sm_close_if_done(c, n);
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

static void sm_hop_release(mlc_t *c, struct msg_state *n, struct ml_str one, bool keep_sent);

/* One recipient's to= outcome; a hop ("Sent (QID Message accepted for
 * delivery)", "Sent (Ok: queued as QID)") follows the chain in on_delivery.
 * When the next leg logged its outcome first (the MTA delivers while the
 * MSP is still to log its hand-off), its held events go out as the
 * chain's (sm_hop_release); when they went out already, they stand alone
 * and the hop adds no second email.sent. */
static void sm_deliver(mlc_t *c, struct msg_state *m, const struct ml_rec *rec, struct ml_str one)
{
    struct msg_state *next = NULL, cap, *into = c->hold_into;
    struct ml_rec own = *rec;
    const struct ml_rec *r = &own;
    struct rcpt *rc, *nr;
    size_t before = 0, i;
    bool final = false, was_done, chained, local;
    json_t *e;

    if (str_eq(own.new_queue_id, m->qid))
        own.new_queue_id = (struct ml_str){ NULL, 0 }; /* a remote id equal to ours: no hop */
    sm_qualify(m, one);
    rc = rcpt_get(m, one.p, one.len);
    was_done = rc && rc->done;
    if (str_eq(r->status, "sent") && r->new_queue_id.p &&
        (next = state_find(c, r->new_queue_id)) != NULL) {
        before = next->nrcpts;
        if (rc && next->held == NULL && sm_reported_rcpt(next, before, one) != NULL)
            rc->sent = true; /* the next leg's email.sent went out: no second one */
    }
    memset(&cap, 0, sizeof(cap)); /* what on_delivery emits, to look at first */
    c->hold_into = &cap;
    on_delivery(c, m, r, one, &final);
    c->hold_into = into;
    if (next == NULL && str_eq(r->status, "sent") && r->new_queue_id.p)
        next = state_find(c, r->new_queue_id); /* made by the hop itself */
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
        emit(c, type, json_integer_value(json_array_get(e, 1)), json_incref(json_array_get(e, 2)));
    }
    json_decref(cap.held);
    if (chained) {
        sm_prune_hop(next, before, one);
        if (next->held != NULL) {
            sm_hop_release(c, next, one, local);
            sm_close_if_done(c, next);
        }
    }
    if (!was_done && str_eq(r->status, "bounced") && !m->is_notice)
        m->notice_due = true; /* Sendmail returns it: "QID: QID2: DSN: ..." */
}

/* Sendmail to= may name several recipients: "<a@x>,<b@x>". */
static void on_sendmail_to(mlc_t *c, struct msg_state *m, const struct ml_rec *rec)
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
    if (str_eq(rec->status, "Sent"))
        r.status = (struct ml_str){ "sent", 4 };
    else if (str_eq(rec->status, "queued") && rec->dsn.p == NULL)
        r.status = rec->status; /* queued for later, not attempted: no outcome */
    else if (rec->dsn.p && rec->dsn.p[0] == '5')
        r.status = (struct ml_str){ "bounced", 7 };
    else
        r.status = (struct ml_str){ "deferred", 8 };
    if (str_eq(rec->mailer, "error") && rec->reply.p == NULL)
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

/* The message expired: every recipient still pending has failed. */
static void on_expired(mlc_t *c, struct msg_state *m, const struct ml_rec *rec)
{
    json_t *d;

    if (!state_wanted(c, m))
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
        put_str(d, "dsn", r->last_dsn);
        put_str(d, "relay", r->last_relay);
        json_object_set_new(d, "attempt", json_integer(r->attempts));
        emit(c, EV_FAILED, rec->ts_ms, d);
    }
}

static void on_notification(mlc_t *c, struct msg_state *m, const struct ml_rec *rec)
{
    struct msg_state *n;

    if (rec->new_queue_id.p == NULL)
        return;
    if ((n = state_find(c, rec->new_queue_id)) == NULL)
        n = state_new(c, rec->new_queue_id.p, rec->new_queue_id.len, rec->ts_ms);
    n->is_notice = true;
    free(n->parent_qid);
    n->parent_qid = xstrdup(m->root_qid ? m->root_qid : m->qid);
    state_mark_dirty(c, n);
}

/*
 * Sendmail writes no "removed" line: a queue id is done when every
 * recipient has its final outcome (as many as from= counted, nrcpts=), and
 * no notice is pending (a failure's notice logged, and logging lines of
 * its own: until then the return may still be logged under this id).
 * A notice itself waits for nothing. Postfix's states never come here.
 */
static void sm_close_if_done(mlc_t *c, struct msg_state *m)
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
    state_remove(c, m);
}

/* A notice's own line: the parent's notice is on its way. */
static void sm_settle_parent(mlc_t *c, const struct msg_state *n)
{
    struct msg_state *p;

    if (!n->is_notice || (p = state_find_str(c, n->sm_parent)) == NULL || p->notice_going ||
        p->sm_notice == NULL || strcmp(p->sm_notice, n->qid) != 0)
        return;
    p->notice_going = true;
    state_mark_dirty(c, p);
    sm_close_if_done(c, p);
}

/* "QID: QID2: DSN: ...": a notice started (on_notification linked it);
 * "sender notify: Cannot send message for 2 minutes" is how Sendmail says
 * the message expired (queue return timeout). */
static void sm_on_notice(mlc_t *c, struct msg_state *m, const struct ml_rec *rec, bool created)
{
    struct msg_state *n = rec->new_queue_id.p ? state_find(c, rec->new_queue_id) : NULL;
    static const char expired[] = "Cannot send message for ";

    if (n == NULL)
        return;
    n->sm = true;
    free(n->sm_parent);
    n->sm_parent = xstrdup(m->qid);
    m->sm = true;
    if (rec->status_text.len > sizeof(expired) - 1 &&
        memcmp(rec->status_text.p, expired, sizeof(expired) - 1) == 0)
        on_expired(c, m, rec);
    free(m->sm_notice);
    m->sm_notice = xstrdup(n->qid);
    m->notice_due = false;
    m->notice_going = false;
    if (created && m->nrcpts == 0)
        state_remove(c, m); /* nothing known of it: the notice keeps its parent's id */
    else
        sm_close_if_done(c, m);
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

static void hold_link(mlc_t *c, struct msg_state *m)
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

static void hold_unlink(mlc_t *c, struct msg_state *m)
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
static void hold_release(mlc_t *c, struct msg_state *m)
{
    json_t *held = m->held, *base, *e;
    struct msg_state *into = c->hold_into, *hfor = c->hold_for;
    bool wanted;
    size_t i;

    m->held = NULL;
    m->hold_over = true;
    hold_unlink(c, m);
    c->hold_into = c->hold_for = NULL;
    wanted = state_wanted(c, m);
    base = event_base(m, NULL, NULL);
    json_array_foreach(held, i, e) {
        const char *type = json_string_value(json_array_get(e, 0));
        int64_t ts = json_integer_value(json_array_get(e, 1));
        json_t *d = json_array_get(e, 2);

        if (!wanted || type == NULL || !json_is_object(d))
            continue;
        if (strcmp(type, EV_SENT) == 0 && m->active_ms < ts)
            ts = m->active_ms;
        json_object_update_missing(d, base);
        emit(c, type, ts, json_incref(d));
    }
    json_decref(base);
    json_decref(held);
    c->hold_into = into;
    c->hold_for = hfor;
    state_mark_dirty(c, m);
}

/* The hop naming n has come: n's held events for its recipient one go out
 * as the chain's (queue_id the first one, n as reinjected_queue_id), but
 * not n's email.sent when the hop's stands (keep_sent: it did not, the
 * hop named a local name). The others stay held for their own hop lines. */
static void sm_hop_release(mlc_t *c, struct msg_state *n, struct ml_str one, bool keep_sent)
{
    json_t *keep = json_array(), *e;
    struct msg_state *into = c->hold_into, *hfor = c->hold_for;
    bool wanted;
    size_t i;

    c->hold_into = c->hold_for = NULL;
    wanted = state_wanted(c, n);
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
        emit(c, type, json_integer_value(json_array_get(e, 1)), json_incref(d));
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
    state_mark_dirty(c, n);
}

/* Release the holds older than MLC_HOLD_MS at now_ms (log time). */
static void hold_expire(mlc_t *c, int64_t now_ms)
{
    struct msg_state *m;

    while ((m = c->held_first) != NULL &&
           (m->held_ms <= now_ms - MLC_HOLD_MS || c->nheld > MLC_HOLD_STATES)) {
        hold_release(c, m);
        sm_close_if_done(c, m);
    }
}

static void on_sm_to(mlc_t *c, struct msg_state *m, const struct ml_rec *rec, bool created)
{
    if (sm_should_hold(m, created))
        c->hold_into = c->hold_for = m;
    on_sendmail_to(c, m, rec);
    c->hold_into = c->hold_for = NULL;
    if (m->held != NULL && m->hprev == NULL && c->held_first != m) {
        m->held_ms = rec->ts_ms;
        hold_link(c, m);
    }
    if (m->held != NULL && json_array_size(m->held) > MLC_HOLD_EVENTS)
        hold_release(c, m);
    sm_settle_parent(c, m);
    sm_close_if_done(c, m);
}

/* from=: the sender, and how many recipients to wait for. */
static void on_sm_from(mlc_t *c, struct msg_state *m, const struct ml_rec *rec)
{
    long n = 0;

    m->sm = true;
    if (relay_is_loopback(rec->relay) && !m->is_notice)
        m->sm_loopback = true; /* from this host: an MSP's or a relay's hand-off? */
    for (size_t i = 0; rec->nrcpt.p && i < rec->nrcpt.len && i < 6; i++)
        n = n * 10 + (rec->nrcpt.p[i] - '0');
    if (rec->nrcpt.p)
        m->sm_nrcpts = n + 1;
    if (m->held != NULL) {
        if (rec->ts_ms < m->active_ms)
            m->active_ms = rec->ts_ms;
        hold_release(c, m);
    }
    sm_close_if_done(c, m);
}

size_t mlc_flush(mlc_t *c, int64_t now_ms)
{
    uint64_t before = c->st.events;
    struct msg_state *m;

    while ((m = c->held_first) != NULL && m->held_ms <= now_ms - MLC_HOLD_MS) {
        hold_release(c, m);
        sm_close_if_done(c, m);
    }
    return (size_t)(c->st.events - before);
}

static void mlc_feed_record(mlc_t *c, const struct ml_rec *rec);

void mlc_feed(mlc_t *c, const struct ml_rec *rec)
{

    c->st.records++;
    c->line_ms = rec->ts_ms;
    mlc_feed_record(c, rec);
    c->line_ms = 0;
}

/* mlc_feed's work, with c->line_ms set to the record's time. */
static void mlc_feed_record(mlc_t *c, const struct ml_rec *rec)
{
    struct msg_state *m;
    bool created, final = false;

    if (c->held_first != NULL)
        hold_expire(c, rec->ts_ms);
    if (rec->queue_id.p == NULL || rec->kind == ML_OTHER)
        return;
    if (rec->kind == ML_VERIFY) {
        c->st.skipped_probe++;
        return;
    }
    if (rec->kind == ML_FILTER) { /* the filter's own id: no queue id of the MTA */
        on_filter(c, rec);
        return;
    }
    m = state_get(c, rec, &created);
    switch (rec->kind) {
    case ML_CLIENT:
        set_field(&m->client_addr, rec->client_addr);
        set_field(&m->sasl_username, rec->sasl_username);
        break;
    case ML_PICKUP:
        break; /* sender comes with the queue-active line */
    case ML_MESSAGE_ID:
        set_message_id(m, rec->message_id);
        break;
    case ML_QUEUE_ACTIVE:
    case ML_SM_FROM:
        set_field(&m->from, rec->from);
        set_field(&m->size, rec->size);
        if (rec->kind == ML_SM_FROM)
            set_message_id(m, rec->message_id);
        m->has_sender = true;
        m->active_order = ++c->order;
        if (rec->from.p && rec->from.len == 0)
            m->is_notice = true; /* null sender: the MTA's own notice */
        if (m->nrcpts == 0)
            m->active_ms = rec->ts_ms;
        if (rec->kind == ML_SM_FROM)
            on_sm_from(c, m, rec);
        break;
    case ML_DELIVERY:
        if (created)
            c->st.orphans++;
        on_delivery(c, m, rec, rec->to, &final);
        break;
    case ML_SM_TO:
        if (created)
            c->st.orphans++;
        on_sm_to(c, m, rec, created);
        break;
    case ML_EXPIRED:
        on_expired(c, m, rec);
        break;
    case ML_NOTIFICATION:
        on_notification(c, m, rec);
        if (rec->mta == ML_SENDMAIL)
            sm_on_notice(c, m, rec, created);
        break;
    case ML_REMOVED:
        state_remove(c, m);
        break;
    default:
        break;
    }
}

void mlc_expire(mlc_t *c, int64_t now_ms)
{
    int64_t cutoff = now_ms - (int64_t)c->opts.max_age_s * 1000;

    links_prune(c, now_ms);
    while (c->oldest && c->oldest->seen_ms < cutoff) {
        c->st.dropped_age++;
        state_remove(c, c->oldest);
    }
}

const struct mlc_stats *mlc_stats(const mlc_t *c)
{
    ((mlc_t *)c)->st.tracked = c->count;
    return &c->st;
}

mlc_t *mlc_new(const struct mlc_opts *opts, mlc_emit_fn emit_fn, void *ctx)
{
    mlc_t *c = xcalloc(1, sizeof(*c));

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
    c->nbuckets = 1024;
    c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
    return c;
}

mlc_t *mlc_free(mlc_t *c)
{
    struct msg_state *m, *next;

    if (c == NULL)
        return NULL;
    for (m = c->dirty; m; m = next) { /* removed states live only here */
        next = m->dnext;
        m->dirty = false;
        if (m->removed)
            msg_state_free(m);
    }
    for (m = c->oldest; m; m = next) {
        next = m->next;
        msg_state_free(m);
    }
    for (struct flt *f = c->flt_oldest, *fn; f; f = fn) {
        fn = f->newer;
        flt_free(f);
    }
    for (struct hop *h = c->hop_oldest, *hn; h; h = hn) {
        hn = h->newer;
        hop_free(h);
    }
    free(c->buckets);
    free(c);
    return NULL;
}

/* ------------------------------------------------------------ persistence */

static json_t *state_to_json(const struct msg_state *m)
{
    json_t *o = json_object(), *rs = json_array();

    put_str(o, "root", m->root_qid);
    put_str(o, "parent", m->parent_qid);
    put_str(o, "from", m->from);
    put_str(o, "mid", m->message_id);
    put_str(o, "caddr", m->client_addr);
    put_str(o, "sasl", m->sasl_username);
    put_str(o, "size", m->size);
    json_object_set_new(o, "active", json_integer(m->active_ms));
    json_object_set_new(o, "seen", json_integer(m->seen_ms));
    json_object_set_new(o, "flags", json_integer((m->is_notice ? 1 : 0) | (m->has_sender ? 2 : 0)));
    json_object_set_new(o, "fo", json_integer((json_int_t)m->first_order));
    json_object_set_new(o, "ao", json_integer((json_int_t)m->active_order));
    for (size_t i = 0; i < m->nrcpts; i++) {
        const struct rcpt *r = &m->rcpts[i];
        json_array_append_new(rs, json_pack("[s,s?,s?,i,i,s?,s?]", r->addr, r->orig, r->last_text,
                                            r->attempts, (r->sent ? 1 : 0) | (r->done ? 2 : 0),
                                            r->last_dsn, r->last_relay));
    }
    json_object_set_new(o, "rcpts", rs);
    if (m->sm) /* Sendmail: [notice, parent, nrcpts + 1, flags] */
        json_object_set_new(o, "sm", json_pack("[s?,s?,I,i]", m->sm_notice, m->sm_parent,
                                               (json_int_t)m->sm_nrcpts,
                                               (m->notice_due ? 1 : 0) | (m->notice_going ? 2 : 0) |
                                                   (m->sm_loopback ? 4 : 0) | (m->hold_over ? 8 : 0)));
    if (m->held) {
        json_object_set(o, "held", m->held);
        json_object_set_new(o, "held_ms", json_integer(m->held_ms));
    }
    return o;
}

void mlc_take_dirty(mlc_t *c, mlc_dirty_fn cb, void *ctx)
{
    struct msg_state *m, *next;
    json_t *o;
    size_t len;
    char *s;

    for (m = c->dirty, c->dirty = NULL; m; m = next) {
        next = m->dnext;
        m->dirty = false;
        if (m->removed) {
            cb(ctx, m->qid, NULL);
            msg_state_free(m);
            continue;
        }
        o = state_to_json(m);
        s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        (void)len;
        cb(ctx, m->qid, s);
        free(s);
    }
}

static char *json_strdup_or_null(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? xstrdup(s) : NULL;
}

static char *json_strdup_at(json_t *a, size_t i)
{
    const char *s = json_string_value(json_array_get(a, i));

    return s ? xstrdup(s) : NULL;
}

int mlc_restore(mlc_t *c, const char *qid, const char *json, mh_err_t *err)
{
    json_error_t jerr;
    json_t *o = json_loads(json, 0, &jerr), *r;
    struct msg_state *m;
    int flags;
    size_t i;

    if (o == NULL || !json_is_object(o)) {
        json_decref(o);
        return mh_err_set(err, "maillog state of %s: %s", qid, o ? "not an object" : jerr.text);
    }
    m = state_new(c, qid, strlen(qid), json_integer_value(json_object_get(o, "seen")));
    m->root_qid = json_strdup_or_null(o, "root");
    m->parent_qid = json_strdup_or_null(o, "parent");
    m->from = json_strdup_or_null(o, "from");
    m->message_id = json_strdup_or_null(o, "mid");
    m->client_addr = json_strdup_or_null(o, "caddr");
    m->sasl_username = json_strdup_or_null(o, "sasl");
    m->size = json_strdup_or_null(o, "size");
    m->active_ms = json_integer_value(json_object_get(o, "active"));
    /* Orders go on from the largest restored one; a state saved before they
     * were kept counts as first seen now. */
    if (json_integer_value(json_object_get(o, "fo")) > 0) {
        m->first_order = (uint64_t)json_integer_value(json_object_get(o, "fo"));
        m->active_order = (uint64_t)json_integer_value(json_object_get(o, "ao"));
        if (m->first_order > c->order)
            c->order = m->first_order;
        if (m->active_order > c->order)
            c->order = m->active_order;
    }
    flags = (int)json_integer_value(json_object_get(o, "flags"));
    m->is_notice = flags & 1;
    m->has_sender = flags & 2;
    json_array_foreach(json_object_get(o, "rcpts"), i, r) {
        const char *addr = NULL;
        json_t *orig = NULL, *text = NULL; /* string or null */
        int attempts = 0, rf = 0;
        struct rcpt *rc;

        if (json_unpack(r, "[s,o,o,i,i]", &addr, &orig, &text, &attempts, &rf) < 0 ||
            (rc = rcpt_get(m, addr, strlen(addr))) == NULL)
            continue;
        rc->orig = json_is_string(orig) ? xstrdup(json_string_value(orig)) : NULL;
        rc->last_text = json_is_string(text) ? xstrdup(json_string_value(text)) : NULL;
        rc->attempts = attempts;
        rc->last_dsn = json_strdup_at(r, 5); /* absent in states saved before */
        rc->last_relay = json_strdup_at(r, 6);
        rc->sent = rf & 1;
        rc->done = rf & 2;
    }
    if ((r = json_object_get(o, "sm")) != NULL && json_is_array(r)) {
        m->sm = true;
        m->sm_notice = json_is_string(json_array_get(r, 0))
                           ? xstrdup(json_string_value(json_array_get(r, 0))) : NULL;
        m->sm_parent = json_is_string(json_array_get(r, 1))
                           ? xstrdup(json_string_value(json_array_get(r, 1))) : NULL;
        m->sm_nrcpts = (long)json_integer_value(json_array_get(r, 2));
        flags = (int)json_integer_value(json_array_get(r, 3));
        m->notice_due = flags & 1;
        m->notice_going = flags & 2;
        m->sm_loopback = flags & 4;
        m->hold_over = flags & 8;
    }
    if ((r = json_object_get(o, "held")) != NULL && json_is_array(r) && json_array_size(r) > 0) {
        m->held = json_incref(r);
        m->held_ms = json_integer_value(json_object_get(o, "held_ms"));
        hold_link(c, m);
    }
    json_decref(o);
    return 0;
}
