/*
 * admin_server.c - answer mailhookctl's requests (see admin_proto.h).
 *
 * Requests are small and answered at once from the event loop; answers can
 * be large (event lists), so they are written out as the client reads.
 * Each command is one function; admin_dispatch() maps names to them.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin_proto.h"
#include "admin_server.h"
#include "cjson.h"
#include "ingest_server.h"
#include "linebuf.h"
#include "timeutil.h"
#include "xalloc.h"

struct admin_conn {
    int fd;
    linebuf_t in, out;
    struct admin_server *srv;
    struct admin_conn *prev, *next;
};

struct admin_server {
    daemon_t *d;
    int lfd;
    struct admin_conn *conns;
};

static json_t *admin_error(const char *code, const char *fmt, ...) MH_PRINTF(2, 3);

static json_t *admin_error(const char *code, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return json_pack("{s:b,s:s,s:s}", "ok", 0, "code", code, "error", text);
}

static json_t *admin_counters(const struct daemon_counters *c)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                     "ingested", (json_int_t)c->ingested, "duplicates",
                     (json_int_t)c->duplicates, "rejected", (json_int_t)c->rejected,
                     "tempfailed", (json_int_t)c->tempfailed, "commits", (json_int_t)c->commits,
                     "spool_files", (json_int_t)c->spool_files, "spool_events",
                     (json_int_t)c->spool_events, "quarantined", (json_int_t)c->quarantined,
                     "expired", (json_int_t)c->expired, "reloads", (json_int_t)c->reloads);
}

static json_t *admin_status(daemon_t *d, json_t *req)
{
    struct store_stats st;
    char started[RFC3339_MS_LEN + 1];
    mh_err_t err;

    if (store_stats(d->store, &st, &err) < 0)
        return admin_error("internal", "%s", err.text);
    return json_pack(
        "{s:b,s:s,s:I,s:s,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I},s:o,s:I,s:s}", "ok", 1, "version",
        PACKAGE_VERSION, "pid", (json_int_t)getpid(), "started",
        time_format_rfc3339(started, d->started_ms), "uptime_s",
        (json_int_t)((time_now_ms() - d->started_ms) / 1000), "store", "events",
        (json_int_t)st.events, "last_seq", (json_int_t)st.last_seq, "messages",
        (json_int_t)st.messages, "endpoints", (json_int_t)st.endpoints, "queued",
        (json_int_t)st.queued, "bytes_on_disk", (json_int_t)st.bytes_on_disk, "counters",
        admin_counters(&d->ctr), "clients", (json_int_t)ingest_server_clients(d->ingest),
        "state_dir", d->conf->state_dir);
}

struct list_ctx {
    json_t *events;
    size_t limit;
    bool truncated;
};

static int admin_list_one(void *ctx, uint64_t seq, const char *json, size_t len)
{
    struct list_ctx *lc = ctx;
    json_t *ev;

    if (json_array_size(lc->events) >= lc->limit) {
        lc->truncated = true;
        return 1;
    }
    ev = json_loadb(json, len, 0, NULL);
    if (ev == NULL) {
        msg_warn("admin: stored event #%llu is not valid JSON", (unsigned long long)seq);
        return 0;
    }
    json_array_append_new(lc->events, ev);
    return 0;
}

static json_t *admin_events_list(daemon_t *d, json_t *req)
{
    struct store_query q = { 0 };
    struct list_ctx lc = { .events = json_array() };
    json_int_t limit = 100;
    const char *type = NULL;
    mh_err_t err;

    if (json_unpack(req, "{s?s,s?I,s?I,s?I}", "type", &type, "since", &q.since_ms, "until",
                    &q.until_ms, "limit", &limit) < 0 ||
        limit < 1 || limit > ADMIN_LIST_MAX) {
        json_decref(lc.events);
        return admin_error("bad_request", "events.list: bad arguments (limit 1..%d)",
                           ADMIN_LIST_MAX);
    }
    q.type = type;
    lc.limit = (size_t)limit;
    q.limit = lc.limit + 1; /* one more tells whether the list was cut */
    if (store_event_scan(d->store, &q, admin_list_one, &lc, &err) < 0) {
        json_decref(lc.events);
        return admin_error("internal", "%s", err.text);
    }
    return json_pack("{s:b,s:o,s:b}", "ok", 1, "events", lc.events, "truncated", lc.truncated);
}

static json_t *admin_events_show(daemon_t *d, json_t *req)
{
    const char *id = NULL;
    char *json = NULL;
    size_t len;
    json_t *ev;
    mh_err_t err;
    int rc;

    if (json_unpack(req, "{s:s}", "id", &id) < 0)
        return admin_error("bad_request", "events.show needs an id");
    rc = store_event_get(d->store, id, &json, &len, &err);
    if (rc < 0)
        return admin_error("internal", "%s", err.text);
    if (rc == 1)
        return admin_error("not_found", "no event %.64s", id);
    ev = json_loadb(json, len, 0, NULL);
    free(json);
    if (ev == NULL)
        return admin_error("internal", "stored event %.64s is not valid JSON", id);
    return json_pack("{s:b,s:o}", "ok", 1, "event", ev);
}

static const struct admin_command {
    const char *name;
    json_t *(*fn)(daemon_t *d, json_t *req);
} admin_commands[] = {
    { "status", admin_status },
    { "events.list", admin_events_list },
    { "events.show", admin_events_show },
    { NULL, NULL },
};

static json_t *admin_dispatch(daemon_t *d, const char *line, size_t len)
{
    json_t *req, *reply;
    const char *cmd = NULL;

    req = json_loadb(line, len, 0, NULL);
    if (req == NULL || json_unpack(req, "{s:s}", "cmd", &cmd) < 0) {
        json_decref(req);
        return admin_error("bad_request", "a request is a JSON object with \"cmd\"");
    }
    for (const struct admin_command *c = admin_commands; c->name; c++) {
        if (strcmp(c->name, cmd) == 0) {
            reply = c->fn(d, req);
            json_decref(req);
            return reply;
        }
    }
    reply = admin_error("bad_request", "unknown command \"%.40s\"", cmd);
    json_decref(req);
    return reply;
}

static void admin_conn_free(struct admin_conn *c)
{
    struct admin_server *s = c->srv;

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
}

static void admin_conn_io(evloop_t *l, int fd, unsigned what, void *ctx)
{
    struct admin_conn *c = ctx;
    char *line, *text;
    size_t len;
    ssize_t n = 1;
    json_t *reply;

    if (what & EVLOOP_READ) {
        n = linebuf_read(&c->in, fd);
        while ((line = linebuf_line(&c->in, &len)) != NULL) {
            reply = admin_dispatch(c->srv->d, line, len);
            text = cjson_dump(reply, &len);
            json_decref(reply);
            if (text == NULL || linebuf_append(&c->out, text, len) < 0 ||
                linebuf_append(&c->out, "\n", 1) < 0)
                n = 0; /* too large to answer: drop the connection */
            free(text);
        }
    }
    if (linebuf_write(&c->out, fd) < 0 || n == 0 || n == -2 ||
        (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        admin_conn_free(c);
        return;
    }
    evloop_mod(l, fd, EVLOOP_READ | (linebuf_len(&c->out) ? EVLOOP_WRITE : 0));
}

static void admin_accept(evloop_t *l, int lfd, unsigned what, void *ctx)
{
    struct admin_server *s = ctx;
    struct admin_conn *c;
    int fd;

    while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        c = xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->srv = s;
        linebuf_init(&c->in, ADMIN_REQUEST_MAX);
        linebuf_init(&c->out, ADMIN_REPLY_MAX);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        if (evloop_add(l, fd, EVLOOP_READ, admin_conn_io, c) < 0)
            admin_conn_free(c);
    }
}

struct admin_server *admin_server_new(daemon_t *d, int listen_fd)
{
    struct admin_server *s = xcalloc(1, sizeof(*s));

    s->d = d;
    s->lfd = listen_fd;
    if (evloop_add(d->loop, listen_fd, EVLOOP_READ, admin_accept, s) < 0)
        msg_fatal(EX_OSERR, "admin: cannot watch listening socket: %s", strerror(errno));
    return s;
}

struct admin_server *admin_server_free(struct admin_server *s)
{
    if (s == NULL)
        return NULL;
    while (s->conns)
        admin_conn_free(s->conns);
    evloop_del(s->d->loop, s->lfd);
    close(s->lfd);
    free(s);
    return NULL;
}
