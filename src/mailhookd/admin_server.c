/* SPDX-License-Identifier: MIT */
/*
 * admin_server.c - mailhookctl's socket: connections, request lines and
 * their answers (see admin_server.h and admin_proto.h).
 *
 * Each request line becomes a job (admin_cmd.h) on the store thread
 * (storeq.h), so a long event list never stalls ingest on the loop; answers
 * can be large, so they are written out as the client reads. The server
 * knows no command: it looks the line up in the tables daemon.c gave it.
 * A request longer than ADMIN_REQUEST_MAX is answered with an error in its
 * turn, then the connection is closed; connections beyond
 * max_admin_clients are answered "busy" and closed at once.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin_proto.h"
#include "admin_server.h"
#include "cjson.h"
#include "linebuf.h"
#include "xalloc.h"

struct admin_conn {
    int fd;
    linebuf_t in, out;
    size_t pending; /* requests in the store queue */
    bool eof;       /* close once every pending request is answered */
    struct admin_server *srv;
    LIST_ENTRY(admin_conn) link;
};

struct admin_server {
    evloop_t *loop;
    storeq_t *storeq;
    mh_conf_t *conf;     /* a reference (max_admin_clients) */
    const struct admin_command *const *tables;
    const struct admin_env *env;
    int lfd;
    LIST_HEAD(, admin_conn) conns;
    size_t nconns;
};

static void admin_conn_update(struct admin_conn *c);

/* admin_answer_fn of a connection: the answer line goes out in its turn. */
static void admin_conn_answer(void *ctx, const char *text, size_t len)
{
    struct admin_conn *c = ctx;

    if (text == NULL || linebuf_len(&c->out) + len + 1 > ADMIN_REPLY_MAX || /* NULL: cjson_dump */
        linebuf_append(&c->out, text, len) < 0 || linebuf_append(&c->out, "\n", 1) < 0)
        c->eof = true; /* too large to answer: drop the connection */
    c->pending--;
    admin_conn_update(c);
}

/* Even errors go through the queue, so answers keep the requests' order. */
static void admin_conn_submit(struct admin_conn *c, struct admin_job *job)
{
    c->pending++;
    storeq_submit(c->srv->storeq, admin_job_work, admin_job_done, job);
}

static void admin_request(struct admin_conn *c, const char *line, size_t len)
{
    admin_conn_submit(c, admin_job_new(c->srv->tables, c->srv->env, line, len,
                                       admin_conn_answer, c));
}

/* The line being read is longer than a request may be: say so (after the
 * answers before it), and read no more from this connection. */
static void admin_request_too_long(struct admin_conn *c)
{
    json_t *reply = admin_error("bad_request", "a request is at most %d bytes: this one was not "
                                "read, and the connection is closed", ADMIN_REQUEST_MAX - 1);

    admin_conn_submit(c, admin_job_reply(reply, admin_conn_answer, c));
    c->eof = true;
}

static void admin_conn_free(struct admin_conn *c)
{
    struct admin_server *s = c->srv;

    evloop_del(s->loop, c->fd);
    close(c->fd);
    LIST_REMOVE(c, link);
    s->nconns--;
    linebuf_free(&c->in);
    linebuf_free(&c->out);
    free(c);
}

/* Write what can be written; close once nothing is left to read, to answer
 * or to write (or the peer is gone). */
static void admin_conn_update(struct admin_conn *c)
{
    bool broken = linebuf_write(&c->out, c->fd) < 0;

    if (broken)
        c->eof = true;
    if (c->eof && c->pending == 0 && (broken || linebuf_len(&c->out) == 0)) {
        admin_conn_free(c);
        return;
    }
    evloop_mod(c->srv->loop, c->fd,
               (c->eof ? 0 : EVLOOP_READ) | (linebuf_len(&c->out) ? EVLOOP_WRITE : 0));
}

static void admin_conn_io(evloop_t *l, int fd, unsigned what, void *ctx)
{
    struct admin_conn *c = ctx;
    char *line;
    size_t len;
    ssize_t n;

    if ((what & EVLOOP_READ) && !c->eof) {
        n = linebuf_read(&c->in, fd);
        while ((line = linebuf_line(&c->in, &len)) != NULL)
            admin_request(c, line, len);
        if (n == -2)
            admin_request_too_long(c);
        else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            c->eof = true;
    }
    admin_conn_update(c);
}

/* One connection too many: told so, in the protocol's words, and closed
 * (a new socket's buffer takes the line; if not, the close says enough). */
static void admin_refuse(int fd, int max)
{
    json_t *reply = admin_error("busy", "too many admin connections (max_admin_clients = %d): "
                                "try again later", max);
    size_t len;
    char *text = cjson_dump(reply, &len), *line = text ? xasprintf("%s\n", text) : NULL;

    if (line)
        (void)send(fd, line, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    free(line);
    free(text);
    json_decref(reply);
    close(fd);
}

static void admin_accept(evloop_t *l, int lfd, unsigned what, void *ctx)
{
    struct admin_server *s = ctx;
    struct admin_conn *c;
    int fd;

    while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        if (s->nconns >= (size_t)s->conf->max_admin_clients) {
            admin_refuse(fd, s->conf->max_admin_clients);
            continue;
        }
        c = xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->srv = s;
        linebuf_init(&c->in, ADMIN_REQUEST_MAX);
        linebuf_init(&c->out, ADMIN_REPLY_MAX);
        LIST_INSERT_HEAD(&s->conns, c, link);
        s->nconns++;
        if (evloop_add(l, fd, EVLOOP_READ, admin_conn_io, c) < 0)
            admin_conn_free(c);
    }
}

struct admin_server *admin_server_new(evloop_t *loop, storeq_t *storeq, mh_conf_t *conf,
                                      const struct admin_command *const *tables,
                                      const struct admin_env *env, int listen_fd)
{
    struct admin_server *s = xcalloc(1, sizeof(*s));

    LIST_INIT(&s->conns);
    s->loop = loop;
    s->storeq = storeq;
    s->conf = conf_ref(conf);
    s->tables = tables;
    s->env = env;
    s->lfd = listen_fd;
    if (evloop_add(loop, listen_fd, EVLOOP_READ, admin_accept, s) < 0)
        msg_fatal(EX_OSERR, "admin: cannot watch listening socket: %s", strerror(errno));
    return s;
}

void admin_server_reconfigure(struct admin_server *s, mh_conf_t *conf)
{
    conf_ref(conf);
    conf_unref(s->conf);
    s->conf = conf;
}

struct admin_server *admin_server_free(struct admin_server *s)
{
    if (s == NULL)
        return NULL;
    while (!LIST_EMPTY(&s->conns))
        admin_conn_free(LIST_FIRST(&s->conns));
    evloop_del(s->loop, s->lfd);
    close(s->lfd);
    conf_unref(s->conf);
    free(s);
    return NULL;
}
