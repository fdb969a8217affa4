/* SPDX-License-Identifier: MIT */
/*
 * ingest_server.c - producers' events in, acknowledgements out, after commit.
 *
 * Two batches take turns. The loop thread reads every readable connection
 * and appends its complete lines, parsed into events, to the filling batch
 * (an invalid line takes a slot too, holding its rejection, so answers stay
 * in line order). At the end of each loop round, if no batch is in flight,
 * the filling batch is handed to the store thread, which serializes and
 * commits it in one transaction (group commit), while the loop goes on
 * parsing into the other batch. When the commit is done the loop answers
 * every line of the batch, in order, per connection.
 *
 * Back-pressure: a connection whose answers pile up is not read; when the
 * filling batch reaches commit_batch entries no connection is read until the
 * batch in flight completes. Everything is bounded.
 *
 * Fairness: one read per connection per loop round, and no connection may
 * take more than its share (commit_batch / connections) of a batch, so a
 * producer with a deep pipeline cannot starve the others; lines beyond its
 * share wait in its buffer for the next batch.
 *
 * Ownership: a batch entry owns its event or rejection text; a connection
 * is freed only when no batch entry points at it (pending == 0).
 *
 * Answers: a rejection quotes the producer's text; answer_reason() makes
 * every reason printable where the line is written, so an answer is always
 * one line and the producer never reads a forged answer.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingest_proto.h"
#include "ingest_server.h"
#include "linebuf.h"
#include "storeq.h"
#include "unixsock.h"
#include "xalloc.h"

#define INGEST_OUT_PAUSE (1024 * 1024) /* stop reading a client this far behind */
#define INGEST_MIN_SHARE 16             /* entries a connection may always add */

struct ingest_conn {
    int fd;
    linebuf_t in, out;
    size_t pending; /* batch entries awaiting commit */
    size_t in_filling; /* of which in the filling batch: capped for fairness */
    bool eof;       /* peer finished sending (or broke): close once answered */
    bool touched;   /* listed once in the batch being answered */
    struct ingest_server *srv;
    LIST_ENTRY(ingest_conn) link;
};

struct batch_entry {
    struct ingest_conn *conn;
    event_t *ev; /* NULL: the line was rejected, see reply */
    char *reply; /* reason of the rejection, without code or newline (owned) */
};

struct batch {
    struct ingest_server *srv;
    struct batch_entry *entries;
    size_t n, cap;
    /* filled on the store thread: */
    event_t **evs;
    enum store_append_result *res;
    size_t nev;
    int rc;
    bool full; /* failed because the store is out of space (it said so once) */
    mh_err_t err;
};

struct ingest_server {
    evloop_t *loop;
    storeq_t *storeq;
    mh_conf_t *conf;          /* a reference; replaced by ingest_server_reconfigure */
    append_t *append;         /* the path into the store (append.h) */
    struct mhd_counters *ctr;
    int lfd;
    LIST_HEAD(, ingest_conn) conns;
    size_t nconns;
    struct batch batches[2];
    struct batch *filling;
    struct batch *inflight; /* NULL when the store thread has none of ours */
};

static void ingest_conn_io(evloop_t *l, int fd, unsigned what, void *ctx);
static void ingest_accept(evloop_t *l, int fd, unsigned what, void *ctx);
static void conn_take_lines(struct ingest_server *s, struct ingest_conn *c);

static bool server_full(const struct ingest_server *s)
{
    return s->filling->n >= s->filling->cap;
}

/* May c add another line to the filling batch? */
static bool conn_has_share(const struct ingest_server *s, const struct ingest_conn *c)
{
    size_t share = s->filling->cap / (s->nconns ? s->nconns : 1);

    return c->in_filling < (share > INGEST_MIN_SHARE ? share : INGEST_MIN_SHARE);
}

static void batch_init(struct batch *b, struct ingest_server *s, size_t cap)
{
    b->srv = s;
    b->cap = cap;
    /* cap is a target, not a wall: see batch_add for the overshoot. */
    b->entries = xcalloc(cap, sizeof(*b->entries));
    b->evs = xcalloc(cap, sizeof(*b->evs));
    b->res = xcalloc(cap, sizeof(*b->res));
}

struct ingest_server *ingest_server_new(evloop_t *loop, storeq_t *storeq, mh_conf_t *conf,
                                        append_t *append, struct mhd_counters *ctr,
                                        int listen_fd)
{
    struct ingest_server *s = xcalloc(1, sizeof(*s));

    LIST_INIT(&s->conns);
    s->loop = loop;
    s->storeq = storeq;
    s->conf = conf_ref(conf);
    s->append = append;
    s->ctr = ctr;
    s->lfd = listen_fd;
    batch_init(&s->batches[0], s, (size_t)conf->commit_batch);
    batch_init(&s->batches[1], s, (size_t)conf->commit_batch);
    s->filling = &s->batches[0];
    if (evloop_add(loop, listen_fd, EVLOOP_READ, ingest_accept, s) < 0)
        msg_fatal(EX_OSERR, "ingest: cannot watch listening socket: %s", strerror(errno));
    return s;
}

static void conn_free(struct ingest_server *s, struct ingest_conn *c)
{
    evloop_del(s->loop, c->fd);
    close(c->fd);
    LIST_REMOVE(c, link);
    linebuf_free(&c->in);
    linebuf_free(&c->out);
    free(c);
    s->nconns--;
}

/* Register interest matching the connection's state; free it when done. */
static void conn_update(struct ingest_server *s, struct ingest_conn *c)
{
    unsigned want = 0;

    if (!c->eof && linebuf_len(&c->out) <= INGEST_OUT_PAUSE && !server_full(s) &&
        conn_has_share(s, c))
        want |= EVLOOP_READ;
    if (linebuf_len(&c->out) > 0)
        want |= EVLOOP_WRITE;
    if (c->eof && c->pending == 0 && linebuf_len(&c->out) == 0) {
        conn_free(s, c);
        return;
    }
    evloop_mod(s->loop, c->fd, want);
}

static void ingest_accept(evloop_t *l, int lfd, unsigned what, void *ctx)
{
    struct ingest_server *s = ctx;
    struct ingest_conn *c;
    int fd;

    while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        if (s->nconns >= (size_t)s->conf->max_clients) {
            close(fd); /* the producer spools; better than queueing unboundedly */
            continue;
        }
        c = xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->srv = s;
        linebuf_init(&c->in, (size_t)s->conf->max_event_size + 1);
        linebuf_init(&c->out, INGEST_OUT_PAUSE + 2 * s->filling->cap * INGEST_ACK_MAX);
        LIST_INSERT_HEAD(&s->conns, c, link);
        s->nconns++;
        if (evloop_add(l, fd, server_full(s) ? 0 : EVLOOP_READ, ingest_conn_io, c) < 0) {
            msg_warn("ingest: cannot watch connection: %s", strerror(errno));
            conn_free(s, c);
        }
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        msg_warn("ingest: accept: %s", strerror(errno));
}

static void batch_add(struct ingest_server *s, struct ingest_conn *c, event_t *ev, char *reply)
{
    struct batch *b = s->filling;

    if (b->n == b->cap) { /* only lines already read overshoot: grow a little */
        b->cap += b->cap / 4 + 1;
        b->entries = xreallocarray(b->entries, b->cap, sizeof(*b->entries));
        b->evs = xreallocarray(b->evs, b->cap, sizeof(*b->evs));
        b->res = xreallocarray(b->res, b->cap, sizeof(*b->res));
    }
    b->entries[b->n++] = (struct batch_entry){ .conn = c, .ev = ev, .reply = reply };
    c->pending++;
    c->in_filling++;
}

static void ingest_line(struct ingest_server *s, struct ingest_conn *c, const char *line,
                        size_t len)
{
    char shown[200];
    mh_err_t err;
    event_t *ev;

    if (event_size_check(len, (size_t)s->conf->max_event_size, &err) < 0)
        ev = NULL;
    else
        ev = event_from_json(line, len, &err);
    if (ev == NULL) {
        s->ctr->rejected++;
        msg_warn("ingest: rejected event: %s (line: %s)", err.text,
                 printable(shown, sizeof(shown), line, len));
        batch_add(s, c, NULL, xstrdup(err.text));
        return;
    }
    batch_add(s, c, ev, NULL);
}

/* Parse the complete lines already buffered, while the batch has room. */
static void conn_take_lines(struct ingest_server *s, struct ingest_conn *c)
{
    char *line;
    size_t len;

    while (!server_full(s) && conn_has_share(s, c) &&
           (line = linebuf_line(&c->in, &len)) != NULL)
        ingest_line(s, c, line, len);
}

static void conn_read(struct ingest_server *s, struct ingest_conn *c)
{
    ssize_t n;

    conn_take_lines(s, c); /* what an earlier round left over comes first */
    if (server_full(s) || !conn_has_share(s, c))
        return;
    n = linebuf_read(&c->in, c->fd);
    if (n == -2) {
        /* Full, and conn_take_lines() just took every line it could. */
        batch_add(s, c, NULL, xasprintf("event larger than max_event_size (%d)",
                                        s->conf->max_event_size));
        s->ctr->rejected++;
        c->eof = true; /* cannot resynchronize inside a giant line */
        return;
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        c->eof = true;
    conn_take_lines(s, c);
}

static void conn_write(struct ingest_server *s, struct ingest_conn *c)
{
    if (linebuf_write(&c->out, c->fd) < 0) {
        c->eof = true; /* peer went away: it spools what it did not see answered */
        linebuf_free(&c->out);
        linebuf_init(&c->out, INGEST_OUT_PAUSE + 2 * s->filling->cap * INGEST_ACK_MAX);
    }
}

static void ingest_conn_io(evloop_t *l, int fd, unsigned what, void *ctx)
{
    struct ingest_conn *c = ctx;
    struct ingest_server *s = c->srv;

    if (what & EVLOOP_WRITE)
        conn_write(s, c);
    if ((what & EVLOOP_READ) && !c->eof && linebuf_len(&c->out) <= INGEST_OUT_PAUSE)
        conn_read(s, c);
    conn_update(s, c);
}

/* ------------------------------------------------------------ commit */

/* Store thread: append the batch's events in one transaction. */
static void batch_store(store_t *st, void *ctx)
{
    struct batch *b = ctx;

    b->nev = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->entries[i].ev)
            b->evs[b->nev++] = b->entries[i].ev;
    b->rc = b->nev ? append_events(b->srv->append, st, b->evs, b->nev, b->res, &b->err) : 0;
    b->full = b->rc < 0 && store_space_full(st);
}

/* "CODE REASON\n": the reason made printable whatever it quotes, so that
 * one answer is always exactly one line (a newline from a producer's text
 * would otherwise be read as the answer to its next event). */
static size_t answer_reason(char *ack, char code, const char *reason, size_t max)
{
    size_t len;

    ack[0] = code;
    printable(ack + 1, max - 1, reason, strlen(reason)); /* at most max-2 bytes + NUL */
    len = 1 + strlen(ack + 1);
    ack[len++] = '\n';
    return len;
}

/* The answer line for entry e of a batch whose commit succeeded or not. */
static size_t batch_format_answer(const struct batch *b, const struct batch_entry *e,
                                  char *ack)
{
    if (e->ev == NULL)
        return answer_reason(ack, INGEST_ACK_REJECT, e->reply, INGEST_ACK_MAX);
    if (b->rc == 0) { /* the common case, without printf */
        ack[0] = INGEST_ACK_OK;
        memcpy(ack + 1, e->ev->id, EVID_LEN);
        ack[EVID_LEN + 1] = '\n';
        return EVID_LEN + 2;
    }
    return answer_reason(ack, INGEST_ACK_TEMPFAIL, b->err.text, 204); /* about 200 bytes */
}

static void ingest_submit_batch(struct ingest_server *s);

/* Loop thread: the batch is committed (or failed): answer every line. */
static void batch_done(void *ctx)
{
    struct batch *b = ctx;
    struct ingest_server *s = b->srv;
    struct ingest_conn **touched = xcalloc(b->n ? b->n : 1, sizeof(*touched));
    char ack[INGEST_ACK_MAX];
    size_t nt = 0, len;

    if (b->rc < 0) {
        if (!b->full)
            msg_warn("ingest: %s: %zu events answered with a temporary failure", b->err.text,
                     b->nev);
        s->ctr->tempfailed += b->nev;
    } else if (b->nev > 0) {
        append_count(s->append, b->res, b->nev);
    }
    for (size_t i = 0; i < b->n; i++) {
        struct batch_entry *e = &b->entries[i];
        if (!e->conn->touched) {
            e->conn->touched = true;
            touched[nt++] = e->conn;
        }
        len = batch_format_answer(b, e, ack);
        if (linebuf_append(&e->conn->out, ack, len) < 0)
            msg_panic_f("answer buffer overflow");
        e->conn->pending--;
        e->ev = event_free(e->ev);
        e->reply = xfree(e->reply);
    }
    b->n = 0;
    s->inflight = NULL;
    /* Lines left buffered while the batch was full go in first, each
     * connection up to its share. */
    for (struct ingest_conn *c = LIST_FIRST(&s->conns); c && !server_full(s); c = LIST_NEXT(c, link))
        conn_take_lines(s, c);
    for (size_t i = 0; i < nt; i++) {
        touched[i]->touched = false;
        conn_write(s, touched[i]);
    }
    /* conn_update may free a connection: run it once per connection, last. */
    for (struct ingest_conn *c = LIST_FIRST(&s->conns), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        conn_update(s, c);
    }
    free(touched);
    ingest_submit_batch(s);
}

static void ingest_submit_batch(struct ingest_server *s)
{
    struct ingest_conn *c;

    if (s->inflight != NULL || s->filling->n == 0)
        return;
    s->inflight = s->filling;
    s->filling = s->filling == &s->batches[0] ? &s->batches[1] : &s->batches[0];
    LIST_FOREACH(c, &s->conns, link)
        c->in_filling = 0;
    storeq_submit(s->storeq, batch_store, batch_done, s->inflight);
}

void ingest_server_commit(struct ingest_server *s)
{
    ingest_submit_batch(s);
}

void ingest_server_close_listener(struct ingest_server *s)
{
    if (s->lfd >= 0) {
        evloop_del(s->loop, s->lfd);
        close(s->lfd);
        s->lfd = -1;
    }
}

bool ingest_server_busy(const struct ingest_server *s)
{
    const struct ingest_conn *c;

    if (s->inflight || s->filling->n > 0)
        return true;
    LIST_FOREACH(c, &s->conns, link)
        if (c->pending > 0 || linebuf_len(&c->out) > 0)
            return true;
    return false;
}

size_t ingest_server_clients(const struct ingest_server *s)
{
    return s->nconns;
}

json_t *ingest_server_status(const struct ingest_server *s)
{
    return json_pack("{s:I}", "clients", (json_int_t)s->nconns);
}

void ingest_server_reconfigure(struct ingest_server *s, mh_conf_t *conf)
{
    conf_ref(conf);
    conf_unref(s->conf);
    s->conf = conf;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        event_free(b->entries[i].ev);
        free(b->entries[i].reply);
    }
    free(b->entries);
    free(b->evs);
    free(b->res);
}

/* Call after storeq_stop(): nothing is in flight any more. */
struct ingest_server *ingest_server_free(struct ingest_server *s)
{
    if (s == NULL)
        return NULL;
    ingest_server_close_listener(s);
    while (!LIST_EMPTY(&s->conns))
        conn_free(s, LIST_FIRST(&s->conns));
    batch_free(&s->batches[0]);
    batch_free(&s->batches[1]);
    conf_unref(s->conf);
    free(s);
    return NULL;
}
