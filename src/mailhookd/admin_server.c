/*
 * admin_server.c - answer mailhookctl's requests (see admin_proto.h).
 *
 * Each request becomes a job on the store thread (storeq.h), so a long
 * event list never stalls ingest on the loop; answers can be large, so they
 * are written out as the client reads. Each command is a work function
 * (store thread) and an optional finish function (loop thread).
 *
 * A job knows nothing of connections: it ends by handing its answer's text
 * to a callback (admin_server.h), which for the socket appends it to the
 * connection's output; fuzz/fuzz_admin.c runs the same three steps on one
 * thread. A request longer than ADMIN_REQUEST_MAX is answered with an error
 * in its turn, then the connection is closed; connections beyond
 * max_admin_clients are answered "busy" and closed at once.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin_backfill.h"
#include "admin_delivery.h"
#include "admin_proto.h"
#include "admin_server.h"
#include "cjson.h"
#include "delivery.h"
#include "ingest_server.h"
#include "maillog_reader.h"
#include "linebuf.h"
#include "storeq.h"
#include "timeutil.h"
#include "xalloc.h"

struct admin_conn {
    int fd;
    linebuf_t in, out;
    size_t pending; /* requests in the store queue */
    bool eof;       /* close once every pending request is answered */
    struct admin_server *srv;
    struct admin_conn *prev, *next;
};

struct admin_server {
    daemon_t *d;
    int lfd;
    struct admin_conn *conns;
    size_t nconns;
};

static json_t *admin_counters(const struct daemon_counters *c)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                     "ingested", (json_int_t)c->ingested, "duplicates",
                     (json_int_t)c->duplicates, "superseded", (json_int_t)c->superseded,
                     "held", (json_int_t)c->held, "unenriched", (json_int_t)c->unenriched,
                     "rejected", (json_int_t)c->rejected,
                     "tempfailed", (json_int_t)c->tempfailed, "commits", (json_int_t)c->commits,
                     "spool_files", (json_int_t)c->spool_files, "spool_events",
                     (json_int_t)c->spool_events, "quarantined", (json_int_t)c->quarantined,
                     "expired", (json_int_t)c->expired, "records_expired",
                     (json_int_t)c->records_expired, "deliveries_expired",
                     (json_int_t)c->deliveries_expired, "retention_passes",
                     (json_int_t)c->retention_passes, "reloads", (json_int_t)c->reloads);
}

/* ---- commands: work() runs on the store thread and may touch only the
 * store and the request; finish() runs on the loop thread afterwards and
 * adds what the loop owns (counters, connections, uptime). */

/* The store's disk space: "full" while new events are refused for lack of it. */
static json_t *admin_space(const struct store_space *sp)
{
    char since[RFC3339_MS_LEN + 1];

    return json_pack("{s:b,s:s?,s:s?,s:I,s:I}", "full", sp->full, "since",
                     sp->since_ms ? time_format_rfc3339(since, sp->since_ms) : NULL, "cause",
                     sp->cause[0] ? sp->cause : NULL, "free_bytes",
                     (json_int_t)(sp->free_bytes > INT64_MAX ? -1 : (int64_t)sp->free_bytes),
                     "spells", (json_int_t)sp->spells);
}

static json_t *admin_status_work(daemon_t *d, store_t *st, json_t *req)
{
    struct store_stats ss;
    mh_err_t err;

    if (store_stats(st, &ss, &err) < 0)
        return admin_error("internal", "%s", err.text);
    return json_pack("{s:b,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:o}}", "ok", 1, "store", "events",
                     (json_int_t)ss.events, "last_seq", (json_int_t)ss.last_seq, "messages",
                     (json_int_t)ss.messages, "endpoints", (json_int_t)ss.endpoints, "queued",
                     (json_int_t)ss.queued, "bytes_on_disk", (json_int_t)ss.bytes_on_disk,
                     "space", admin_space(&ss.space));
}

static bool admin_status_finish(daemon_t *d, struct admin_job *job, json_t *req, json_t *reply)
{
    char started[RFC3339_MS_LEN + 1];

    json_t *loop_side = json_pack("{s:s,s:I,s:s,s:I,s:o,s:I,s:s}", "version",
        PACKAGE_VERSION, "pid", (json_int_t)getpid(), "started",
        time_format_rfc3339(started, d->started_ms), "uptime_s",
        (json_int_t)((time_now_ms() - d->started_ms) / 1000), "counters",
        admin_counters(&d->ctr), "clients",
        (json_int_t)(d->ingest ? ingest_server_clients(d->ingest) : 0), /* none: the fuzzer */
        "state_dir", d->conf->state_dir);

    json_t *readers = json_object();

    for (size_t i = 0; i < d->nreaders; i++)
        json_object_set_new(readers, maillog_reader_name(d->readers[i]),
                            maillog_reader_status(d->readers[i]));
    json_object_set_new(loop_side, "maillog", readers);
    if (d->delivery)
        json_object_set_new(loop_side, "delivery", delivery_status(d->delivery));
    json_object_update(reply, loop_side);
    json_decref(loop_side);
    return false;
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

static json_t *admin_events_list(daemon_t *d, store_t *st, json_t *req)
{
    struct store_query q = { 0 };
    struct list_ctx lc = { .events = json_array() };
    json_int_t limit = 100, since = 0, until = 0;
    const char *type = NULL;
    mh_err_t err;

    if (json_unpack(req, "{s?s,s?I,s?I,s?I}", "type", &type, "since", &since, "until", &until,
                    "limit", &limit) < 0 ||
        limit < 1 || limit > ADMIN_LIST_MAX) {
        json_decref(lc.events);
        return admin_error("bad_request", "events.list: bad arguments (limit 1..%d)",
                           ADMIN_LIST_MAX);
    }
    q.type = type;
    q.since_ms = since;
    q.until_ms = until;
    lc.limit = (size_t)limit;
    q.limit = lc.limit + 1; /* one more tells whether the list was cut */
    if (store_event_scan(st, &q, admin_list_one, &lc, &err) < 0) {
        json_decref(lc.events);
        return admin_error("internal", "%s", err.text);
    }
    return json_pack("{s:b,s:o,s:b}", "ok", 1, "events", lc.events, "truncated", lc.truncated);
}

static json_t *admin_events_show(daemon_t *d, store_t *st, json_t *req)
{
    const char *id = NULL;
    char *json = NULL, shown[72];
    size_t len;
    json_t *ev;
    mh_err_t err;
    int rc;

    if (json_unpack(req, "{s:s}", "id", &id) < 0)
        return admin_error("bad_request", "events.show needs an id");
    rc = store_event_get(st, id, &json, &len, &err);
    if (rc < 0)
        return admin_error("internal", "%s", err.text);
    if (rc == 1)
        return admin_error("not_found", "no event %s",
                           printable(shown, sizeof(shown), id, strlen(id)));
    ev = json_loadb(json, len, 0, NULL);
    free(json);
    if (ev == NULL)
        return admin_error("internal", "stored event %s is not valid JSON",
                           printable(shown, sizeof(shown), id, strlen(id)));
    return json_pack("{s:b,s:o}", "ok", 1, "event", ev);
}

static const struct admin_command admin_core_commands[] = {
    { "status", NULL, admin_status_work, admin_status_finish },
    { "events.list", NULL, admin_events_list, NULL },
    { "events.show", NULL, admin_events_show, NULL },
    { NULL, NULL, NULL, NULL },
};

static const struct admin_command *const admin_tables[] = {
    admin_core_commands, admin_endpoint_commands, admin_replay_commands,
    admin_backfill_commands, NULL,
};

static const struct admin_command *admin_command_find(const char *name)
{
    for (size_t t = 0; admin_tables[t]; t++)
        for (const struct admin_command *cmd = admin_tables[t]; cmd->name; cmd++)
            if (strcmp(cmd->name, name) == 0)
                return cmd;
    return NULL;
}

/* One request on its way through the store thread. */
struct admin_job {
    const struct admin_command *cmd; /* NULL: reply is already set */
    json_t *req, *reply;
    daemon_t *d;
    admin_answer_fn *answer;
    void *answer_ctx;
};

static struct admin_job *admin_job_alloc(daemon_t *d, admin_answer_fn *answer, void *ctx)
{
    struct admin_job *job = xcalloc(1, sizeof(*job));

    job->d = d;
    job->answer = answer;
    job->answer_ctx = ctx;
    return job;
}

struct admin_job *admin_job_new(daemon_t *d, const char *line, size_t len,
                                admin_answer_fn *answer, void *ctx)
{
    struct admin_job *job = admin_job_alloc(d, answer, ctx);
    const char *name = NULL;

    job->req = json_loadb(line, len, 0, NULL);
    if (job->req == NULL || json_unpack(job->req, "{s:s}", "cmd", &name) < 0) {
        job->reply = admin_error("bad_request", "a request is a JSON object with \"cmd\"");
    } else if ((job->cmd = admin_command_find(name)) == NULL) {
        job->reply = admin_error("bad_request", "unknown command \"%.40s\"", name);
    } else if (job->cmd->check && (job->reply = job->cmd->check(job->d, job->req)) != NULL) {
        job->cmd = NULL;
    }
    return job;
}

void admin_job_work(store_t *st, void *ctx)
{
    struct admin_job *job = ctx;

    if (job->cmd)
        job->reply = job->cmd->work(job->d, st, job->req);
}

/* The answer of job goes out (reply stolen); the job is done. */
static void admin_job_answer(struct admin_job *job, json_t *reply)
{
    size_t len;
    char *text;

    if (reply == NULL) /* a json_pack that failed: a bug, but an answer all the same */
        reply = admin_error("internal", "mailhookd could not make the answer");
    text = cjson_dump(reply, &len);
    job->answer(job->answer_ctx, text, len);
    free(text);
    json_decref(reply);
    json_decref(job->req);
    free(job);
}

void admin_job_complete(struct admin_job *job, json_t *reply)
{
    admin_job_answer(job, reply);
}

void admin_job_done(void *ctx)
{
    struct admin_job *job = ctx;
    json_t *reply = job->reply;

    if (job->cmd && job->cmd->finish && json_is_true(json_object_get(reply, "ok")) &&
        job->cmd->finish(job->d, job, job->req, reply))
        return; /* answered later, by admin_job_complete */
    json_object_del(reply, ADMIN_ENGINE_KEY); /* never shown to the client */
    admin_job_answer(job, reply);
}

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
    storeq_submit(c->srv->d->storeq, admin_job_work, admin_job_done, job);
}

static void admin_request(struct admin_conn *c, const char *line, size_t len)
{
    admin_conn_submit(c, admin_job_new(c->srv->d, line, len, admin_conn_answer, c));
}

/* The line being read is longer than a request may be: say so (after the
 * answers before it), and read no more from this connection. */
static void admin_request_too_long(struct admin_conn *c)
{
    struct admin_job *job = admin_job_alloc(c->srv->d, admin_conn_answer, c);

    job->reply = admin_error("bad_request", "a request is at most %d bytes: this one was not "
                             "read, and the connection is closed", ADMIN_REQUEST_MAX - 1);
    admin_conn_submit(c, job);
    c->eof = true;
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
    evloop_mod(c->srv->d->loop, c->fd,
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
        if (s->nconns >= (size_t)s->d->conf->max_admin_clients) {
            admin_refuse(fd, s->d->conf->max_admin_clients);
            continue;
        }
        c = xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->srv = s;
        linebuf_init(&c->in, ADMIN_REQUEST_MAX);
        linebuf_init(&c->out, ADMIN_REPLY_MAX);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
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
