/* SPDX-License-Identifier: MIT */
/*
 * maillog_correlate_state.c - the correlator's state (the contract is in
 * maillog_correlate_state.h): the table of message states (lookup,
 * creation, removal), its bounds (the age list, least recently seen
 * first), the dirty list, and persistence (maillog_correlate_take_dirty,
 * maillog_correlate_restore). The rules that change the states are in
 * maillog_correlate.c and its parts (maillog_correlate_int.h).
 *
 * Data structures: a chained hash table of message states keyed by queue
 * id, threaded on a <sys/queue.h> TAILQ age list (head = oldest) for the
 * bounds; each state holds a small array of recipients. Everything a state
 * owns is freed by mlc_state_free(). A removed state stays on the dirty
 * list until maillog_correlate_take_dirty() has reported its deletion.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "maillog_correlate_int.h"
#include "strutil.h"
#include "xalloc.h"

/* ------------------------------------------------------------ helpers */

char *mlc_str_dup(struct ml_str s)
{
    return s.p ? xstrndup(s.p, s.len) : NULL;
}

bool mlc_str_eq(struct ml_str s, const char *lit)
{
    return s.p && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

void mlc_set_field(char **dst, struct ml_str s)
{
    if (s.p == NULL)
        return;
    free(*dst);
    *dst = mlc_str_dup(s);
}

/* Message-ID as in the header, "<left@right>", whichever way it was logged. */
void mlc_set_message_id(struct msg_state *m, struct ml_str s)
{
    if (s.p == NULL || s.len == 0)
        return;
    free(m->message_id);
    if (s.p[0] == '<')
        m->message_id = xstrndup(s.p, s.len);
    else
        m->message_id = xasprintf("<%.*s>", (int)s.len, s.p);
}

uint64_t mlc_qid_hash(const char *s, size_t len)
{
    return fnv1a64(s, len);
}

/* ------------------------------------------------------------ state table */

static struct msg_state **bucket_of(maillog_correlate_t *c, const char *qid, size_t len)
{
    return &c->buckets[mlc_qid_hash(qid, len) & (c->nbuckets - 1)];
}

struct msg_state *mlc_state_find(maillog_correlate_t *c, struct ml_str qid)
{
    for (struct msg_state *m = *bucket_of(c, qid.p, qid.len); m; m = m->hnext)
        if (strlen(m->qid) == qid.len && memcmp(m->qid, qid.p, qid.len) == 0)
            return m;
    return NULL;
}

void mlc_state_mark_dirty(maillog_correlate_t *c, struct msg_state *m)
{
    if (c->opts.no_persist)
        return;
    if (!m->dirty) {
        m->dirty = true;
        m->dnext = c->dirty;
        c->dirty = m;
    }
}

void mlc_state_free(struct msg_state *m)
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

/* Take m out of the table; it is freed once its deletion is persisted. */
void mlc_state_remove(maillog_correlate_t *c, struct msg_state *m)
{
    struct msg_state **pp = bucket_of(c, m->qid, strlen(m->qid));

    if (m->held)
        mlc_hold_release(c, m); /* its events go out before it goes */
    while (*pp != m)
        pp = &(*pp)->hnext;
    *pp = m->hnext;
    TAILQ_REMOVE(&c->age, m, age);
    c->count--;
    m->removed = true;
    if (c->opts.no_persist) {
        mlc_state_free(m);
        return;
    }
    if (m->dirty)
        return; /* already on the dirty list: freed when taken */
    mlc_state_mark_dirty(c, m);
}

static void table_grow(maillog_correlate_t *c)
{
    size_t n = c->nbuckets * 2;
    struct msg_state **b = xcalloc(n, sizeof(*b));

    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct msg_state *m = c->buckets[i], *next; m; m = next) {
            next = m->hnext;
            size_t k = mlc_qid_hash(m->qid, strlen(m->qid)) & (n - 1);
            m->hnext = b[k];
            b[k] = m;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

struct msg_state *mlc_state_new(maillog_correlate_t *c, const char *qid, size_t len, int64_t ts)
{
    struct msg_state *m = xcalloc(1, sizeof(*m)), **b;

    if (c->count >= c->opts.max_messages && !TAILQ_EMPTY(&c->age)) {
        c->st.dropped_full++;
        mlc_state_remove(c, TAILQ_FIRST(&c->age));
    }
    if (c->count >= c->nbuckets)
        table_grow(c);
    m->qid = xstrndup(qid, len);
    m->active_ms = m->seen_ms = ts;
    m->first_order = ++c->order;
    b = bucket_of(c, qid, len);
    m->hnext = *b;
    *b = m;
    TAILQ_INSERT_TAIL(&c->age, m, age);
    c->count++;
    return m;
}

/* The state of rec's queue id, created when unknown; refreshed as seen. */
struct msg_state *mlc_state_get(maillog_correlate_t *c, const struct ml_rec *rec, bool *created)
{
    struct msg_state *m = mlc_state_find(c, rec->queue_id);

    *created = m == NULL;
    if (m == NULL)
        m = mlc_state_new(c, rec->queue_id.p, rec->queue_id.len, rec->ts_ms);
    else {
        TAILQ_REMOVE(&c->age, m, age);
        TAILQ_INSERT_TAIL(&c->age, m, age);
    }
    if (rec->ts_ms > m->seen_ms)
        m->seen_ms = rec->ts_ms;
    mlc_state_mark_dirty(c, m);
    return m;
}

struct rcpt *mlc_rcpt_get(struct msg_state *m, const char *addr, size_t len)
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

struct rcpt *mlc_rcpt_find(const struct msg_state *m, const char *addr)
{
    for (size_t i = 0; i < m->nrcpts; i++)
        if (strcmp(m->rcpts[i].addr, addr) == 0)
            return &m->rcpts[i];
    return NULL;
}

void mlc_table_init(maillog_correlate_t *c)
{
    c->nbuckets = 1024;
    c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
    TAILQ_INIT(&c->age);
}

/* Every state, in the table and removed ones waiting on the dirty list. */
void mlc_table_free(maillog_correlate_t *c)
{
    struct msg_state *m, *next;

    for (m = c->dirty; m; m = next) { /* removed states live only here */
        next = m->dnext;
        m->dirty = false;
        if (m->removed)
            mlc_state_free(m);
    }
    while ((m = TAILQ_FIRST(&c->age)) != NULL) {
        TAILQ_REMOVE(&c->age, m, age);
        mlc_state_free(m);
    }
    free(c->buckets);
    c->buckets = NULL;
}

/* Drop the states last seen before cutoff (log time), oldest first. */
void mlc_table_expire(maillog_correlate_t *c, int64_t cutoff)
{
    struct msg_state *m;

    while ((m = TAILQ_FIRST(&c->age)) != NULL && m->seen_ms < cutoff) {
        c->st.dropped_age++;
        mlc_state_remove(c, m);
    }
}

/* ------------------------------------------------------------ persistence */

static json_t *state_to_json(const struct msg_state *m)
{
    json_t *o = json_object(), *rs = json_array();

    mlc_put_str(o, "root", m->root_qid);
    mlc_put_str(o, "parent", m->parent_qid);
    mlc_put_str(o, "from", m->from);
    mlc_put_str(o, "mid", m->message_id);
    mlc_put_str(o, "caddr", m->client_addr);
    mlc_put_str(o, "sasl", m->sasl_username);
    mlc_put_str(o, "size", m->size);
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
        json_object_set_new(o, "sm",
                            json_pack("[s?,s?,I,i]", m->sm_notice, m->sm_parent,
                                      (json_int_t)m->sm_nrcpts,
                                      (m->notice_due ? 1 : 0) | (m->notice_going ? 2 : 0)
                                          | (m->sm_loopback ? 4 : 0) | (m->hold_over ? 8 : 0)));
    if (m->held) {
        json_object_set(o, "held", m->held);
        json_object_set_new(o, "held_ms", json_integer(m->held_ms));
    }
    return o;
}

void maillog_correlate_take_dirty(maillog_correlate_t *c, maillog_correlate_dirty_fn cb, void *ctx)
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
            mlc_state_free(m);
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

int maillog_correlate_restore(maillog_correlate_t *c, const char *qid, const char *json,
                              mh_err_t *err) {
    json_error_t jerr;
    json_t *o = json_loads(json, 0, &jerr), *r;
    struct msg_state *m;
    int flags;
    size_t i;

    if (o == NULL || !json_is_object(o)) {
        json_decref(o);
        return mh_err_set(err, "maillog state of %s: %s", qid, o ? "not an object" : jerr.text);
    }
    m = mlc_state_new(c, qid, strlen(qid), json_integer_value(json_object_get(o, "seen")));
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
            (rc = mlc_rcpt_get(m, addr, strlen(addr))) == NULL)
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
        mlc_hold_link(c, m);
    }
    json_decref(o);
    return 0;
}
