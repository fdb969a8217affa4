/*
 * ingest_server.c - producers' events in, acknowledgements out, after commit.
 *
 * Flow per event-loop round: every readable connection is read, its
 * complete lines parsed into events and appended to the round's batch (an
 * invalid line takes a batch slot too, holding its rejection, so answers
 * stay in line order). The loop's prepare hook then commits the batch in
 * one transaction (group commit) and writes the answers. A batch that
 * reaches commit_batch entries is committed at once.
 *
 * Ownership: a batch entry owns its event or reply string; a connection is
 * freed only when no batch entry points at it (pending == 0).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingest_proto.h"
#include "ingest_server.h"
#include "linebuf.h"
#include "unixsock.h"
#include "xalloc.h"

#define INGEST_OUT_PAUSE (1024 * 1024) /* stop reading a client this far behind */
#define INGEST_READS_PER_ROUND 8        /* fairness between busy producers */

struct ingest_conn {
    int fd;
    linebuf_t in, out;
    size_t pending; /* batch entries awaiting commit */
    bool eof;       /* peer finished sending (or broke): close once answered */
    bool paused;    /* not reading: too many unread answers */
    bool touched;   /* listed once in the batch being answered */
    bool reading;   /* inside conn_read: a mid-read commit must not free it */
    struct ingest_server *srv;
    struct ingest_conn *prev, *next;
};

struct batch_entry {
    struct ingest_conn *conn;
    event_t *ev; /* NULL: the line was rejected, see reply */
    char *reply; /* rejection text (owned) */
};

struct ingest_server {
    daemon_t *d;
    int lfd;
    struct ingest_conn *conns;
    size_t nconns;
    struct batch_entry *batch;
    event_t **evs;
    enum store_append_result *res;
    size_t n, cap;
};

static void ingest_conn_io(evloop_t *l, int fd, unsigned what, void *ctx);
static void ingest_accept(evloop_t *l, int fd, unsigned what, void *ctx);

struct ingest_server *ingest_server_new(daemon_t *d, int listen_fd)
{
    struct ingest_server *s = xcalloc(1, sizeof(*s));

    s->d = d;
    s->lfd = listen_fd;
    s->cap = (size_t)d->conf->commit_batch;
    s->batch = xcalloc(s->cap, sizeof(*s->batch));
    s->evs = xcalloc(s->cap, sizeof(*s->evs));
    s->res = xcalloc(s->cap, sizeof(*s->res));
    if (evloop_add(d->loop, listen_fd, EVLOOP_READ, ingest_accept, s) < 0)
        msg_fatal(EX_OSERR, "ingest: cannot watch listening socket: %s", strerror(errno));
    return s;
}

static void conn_free(struct ingest_server *s, struct ingest_conn *c)
{
    evloop_del(s->d->loop, c->fd);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    linebuf_free(&c->in);
    linebuf_free(&c->out);
    free(c);
    s->nconns--;
}

/* Register interest matching the connection's state; free it when done. */
static void conn_update(struct ingest_server *s, struct ingest_conn *c)
{
    unsigned want = 0;

    c->paused = linebuf_len(&c->out) > INGEST_OUT_PAUSE;
    if (!c->eof && !c->paused)
        want |= EVLOOP_READ;
    if (linebuf_len(&c->out) > 0)
        want |= EVLOOP_WRITE;
    if (c->eof && c->pending == 0 && linebuf_len(&c->out) == 0 && !c->reading) {
        conn_free(s, c);
        return;
    }
    evloop_mod(s->d->loop, c->fd, want);
}

static void ingest_accept(evloop_t *l, int lfd, unsigned what, void *ctx)
{
    struct ingest_server *s = ctx;
    struct ingest_conn *c;
    int fd;

    while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        if (s->nconns >= (size_t)s->d->conf->max_clients || s->d->stopping) {
            close(fd); /* the producer spools; better than queueing unboundedly */
            continue;
        }
        c = xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->srv = s;
        linebuf_init(&c->in, (size_t)s->d->conf->max_event_size + 1);
        linebuf_init(&c->out, INGEST_OUT_PAUSE + (size_t)s->cap * INGEST_ACK_MAX);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
        if (evloop_add(l, fd, EVLOOP_READ, ingest_conn_io, c) < 0) {
            msg_warn("ingest: cannot watch connection: %s", strerror(errno));
            conn_free(s, c);
        }
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        msg_warn("ingest: accept: %s", strerror(errno));
}

static void batch_add(struct ingest_server *s, struct ingest_conn *c, event_t *ev, char *reply)
{
    if (s->n == s->cap)
        ingest_server_commit(s);
    s->batch[s->n++] = (struct batch_entry){ .conn = c, .ev = ev, .reply = reply };
    c->pending++;
}

static void ingest_line(struct ingest_server *s, struct ingest_conn *c, const char *line,
                        size_t len)
{
    char shown[200];
    mh_err_t err;
    event_t *ev;

    ev = event_from_json(line, len, &err);
    if (ev == NULL) {
        s->d->ctr.rejected++;
        msg_warn("ingest: rejected event: %s (line: %s)", err.text,
                 printable(shown, sizeof(shown), line, len));
        batch_add(s, c, NULL, xasprintf("%c%s\n", INGEST_ACK_REJECT, err.text));
        return;
    }
    batch_add(s, c, ev, NULL);
}

static void conn_read(struct ingest_server *s, struct ingest_conn *c)
{
    char *line;
    size_t len;
    ssize_t n = 0;

    for (int i = 0; i < INGEST_READS_PER_ROUND && !c->eof; i++) {
        n = linebuf_read(&c->in, c->fd);
        if (n == -2) {
            batch_add(s, c, NULL, xasprintf("%cevent larger than max_event_size (%d)\n",
                                            INGEST_ACK_REJECT, s->d->conf->max_event_size));
            s->d->ctr.rejected++;
            c->eof = true; /* cannot resynchronize inside a giant line */
            break;
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            c->eof = true;
        while ((line = linebuf_line(&c->in, &len)) != NULL)
            ingest_line(s, c, line, len);
        if (n < 0)
            break;
    }
}

static void conn_write(struct ingest_server *s, struct ingest_conn *c)
{
    if (linebuf_write(&c->out, c->fd) < 0) {
        c->eof = true; /* peer went away: its unanswered events were spooled or lost to it */
        linebuf_free(&c->out);
        linebuf_init(&c->out, INGEST_OUT_PAUSE + s->cap * INGEST_ACK_MAX);
    }
}

static void ingest_conn_io(evloop_t *l, int fd, unsigned what, void *ctx)
{
    struct ingest_conn *c = ctx;
    struct ingest_server *s = c->srv;

    if (what & EVLOOP_WRITE)
        conn_write(s, c);
    if ((what & EVLOOP_READ) && !c->paused && !c->eof) {
        c->reading = true;
        conn_read(s, c);
        c->reading = false;
    }
    conn_update(s, c);
}

/* Answer each batch entry; ok says whether the transaction committed. */
static void batch_answer(struct ingest_server *s, bool ok, const char *why)
{
    char ack[INGEST_ACK_MAX];

    for (size_t i = 0; i < s->n; i++) {
        struct batch_entry *e = &s->batch[i];
        int len;

        if (e->ev == NULL)
            len = snprintf(ack, sizeof(ack), "%s", e->reply);
        else if (ok) { /* the common case, without printf */
            ack[0] = INGEST_ACK_OK;
            memcpy(ack + 1, e->ev->id, EVID_LEN);
            ack[EVID_LEN + 1] = '\n';
            len = EVID_LEN + 2;
        }
        else
            len = snprintf(ack, sizeof(ack), "%c%.200s\n", INGEST_ACK_TEMPFAIL, why);
        if (e->ev && !ok)
            s->d->ctr.tempfailed++;
        if (len >= (int)sizeof(ack))
            len = (int)sizeof(ack) - 1, ack[len - 1] = '\n';
        if (linebuf_append(&e->conn->out, ack, (size_t)len) < 0)
            msg_panic_f("ack buffer overflow");
        e->conn->pending--;
        e->ev = event_free(e->ev);
        e->reply = xfree(e->reply);
    }
}

void ingest_server_commit(struct ingest_server *s)
{
    mh_err_t err = { "" };
    size_t nev = 0, n = s->n, nt = 0;
    bool ok = true;
    struct ingest_conn **touched;

    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (s->batch[i].ev)
            s->evs[nev++] = s->batch[i].ev;
    if (nev > 0 && daemon_store_events(s->d, s->evs, nev, s->res, &err) < 0) {
        msg_warn("ingest: %s: %zu events answered with a temporary failure", err.text, nev);
        ok = false;
    }
    /* Each connection once, remembered before answering clears the batch;
     * conn_update() may free a connection, so it runs once per connection. */
    touched = xcalloc(n, sizeof(*touched));
    for (size_t i = 0; i < n; i++) {
        struct ingest_conn *c = s->batch[i].conn;
        if (!c->touched) {
            c->touched = true;
            touched[nt++] = c;
        }
    }
    batch_answer(s, ok, err.text);
    s->n = 0;
    for (size_t i = 0; i < nt; i++) {
        touched[i]->touched = false;
        conn_write(s, touched[i]);
        conn_update(s, touched[i]);
    }
    free(touched);
}

void ingest_server_close_listener(struct ingest_server *s)
{
    if (s->lfd >= 0) {
        evloop_del(s->d->loop, s->lfd);
        close(s->lfd);
        s->lfd = -1;
    }
}

bool ingest_server_busy(const struct ingest_server *s)
{
    if (s->n > 0)
        return true;
    for (struct ingest_conn *c = s->conns; c; c = c->next)
        if (c->pending > 0 || linebuf_len(&c->out) > 0)
            return true;
    return false;
}

size_t ingest_server_clients(const struct ingest_server *s)
{
    return s->nconns;
}

struct ingest_server *ingest_server_free(struct ingest_server *s)
{
    if (s == NULL)
        return NULL;
    ingest_server_commit(s);
    ingest_server_close_listener(s);
    while (s->conns)
        conn_free(s, s->conns);
    free(s->batch);
    free(s->evs);
    free(s->res);
    free(s);
    return NULL;
}
