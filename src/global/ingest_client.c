/* SPDX-License-Identifier: MIT */
/*
 * ingest_client.c - the producer library (ingest.h): events to mailhookd
 * over its Unix socket (ingest_proto.h), pipelined, acknowledged after
 * commit; the spool (spool.h) when the daemon cannot take them.
 *
 *   ingest_open()       handle with options; connects lazily
 *   ingest_send()       queue one event (up to opts.window unacknowledged)
 *   ingest_flush()      wait until every queued event is committed or spooled
 *   ingest_submit()     send + wait for that one event's outcome
 *   ingest_get_stats()  committed / spooled / rejected counters
 *   ingest_close()      flush, then free; returns NULL
 *
 * Design. Every queued event's line ("JSON\n") lives in one byte buffer, in
 * order, from its queuing until its answer: [start, sent) is on the wire
 * awaiting answers, [sent, end) is not written yet. A ring of opts.window
 * entries holds each event's id, line length and queue time, in the same
 * order. Answers come in line order, so an answer pops the ring head and
 * advances start: no per-event allocation, no O(n) step. Writes are batched
 * (when 64 KiB are queued, or when waiting) and answers read in 64 KiB
 * chunks, so the cost per event is a memcpy, not a system call.
 *
 * Because [start, end) holds exactly the events whose fate is open, a broken
 * connection, a timeout (no answer for opts.timeout_ms) or a protocol error
 * spools them all as ONE spool file without copying. The daemon ignores ids
 * it already holds, so spooling an event that was in fact committed is
 * harmless. Events answered "~" (temporary failure) while reading one chunk
 * of answers are spooled together, one file per chunk.
 *
 * After a connection failure the socket is not tried for opts.retry_ms: the
 * events queued meanwhile are spooled when the window fills or on flush.
 *
 * Failures: an event rejected by the daemon ("-REASON") or neither delivered
 * nor spooled is reported by ingest_submit for that event, or by the next
 * ingest_flush (the first such failure; the counters hold the rest).
 * Connection trouble itself is not an error to the caller (events are
 * spooled) but is logged with msg_warn, at most once per retry interval.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "ingest.h"
#include "ingest_proto.h"
#include "msg.h"
#include "spool.h"
#include "timeutil.h"
#include "unixsock.h"
#include "xalloc.h"

#define INGEST_TIMEOUT_MS_DEFAULT 2000
#define INGEST_RETRY_MS_DEFAULT 1000
#define INGEST_WINDOW_DEFAULT 1024
#define INGEST_WRITE_BATCH (64 * 1024) /* queued bytes that trigger a write */
#define INGEST_INBUF (64 * 1024)       /* answers read per recv() */
#define INGEST_NO_WATCH UINT64_MAX

struct inflight {
    char id[EVID_SIZE];
    size_t idlen;
    size_t len;      /* its line's bytes in the buffer, "\n" included */
    int64_t sent_us; /* time_mono_us() when queued; 0 unless opts.on_ack */
};

/* The outcome of the event ingest_submit() waits for. */
enum watch_state { WATCH_PENDING, WATCH_COMMITTED, WATCH_SPOOLED, WATCH_FAILED };

struct ingest {
    char *socket_path; /* NULL: spool only */
    char *spool_dir;   /* NULL: no fallback */
    struct ingest_opts opts;
    int fd;                 /* connected socket or -1 */
    int64_t retry_after_ms; /* time_mono_ms() before which we do not connect */

    /* Lines of the queued events: [start, sent) written, [sent, end) not. */
    char *buf;
    size_t cap, start, sent, end;

    struct inflight *ring; /* opts.window entries, head is the oldest */
    size_t head, count;
    uint64_t next_seq; /* sequence number of the next event; head's is next_seq - count */

    char in[INGEST_INBUF]; /* answers; a partial line waits for the rest */
    size_t in_len;

    /* Events answered "~" in the chunk being processed, spooled together. */
    char *tf;
    size_t tf_len, tf_cap, tf_count;
    bool tf_watch;
    char tf_why[INGEST_ACK_MAX];

    uint64_t watch_seq;
    enum watch_state watch;
    bool watch_temp; /* WATCH_FAILED: neither stored nor spooled, not rejected */
    mh_err_t watch_err;

    bool failed;       /* an event failed since the last ingest_flush */
    mh_err_t fail_err; /* the first such failure */
    char why[400];     /* why the connection was dropped, for messages */

    struct ingest_stats stats;
};

ingest_t *ingest_open(const char *socket_path, const char *spool_dir,
                      const struct ingest_opts *opts)
{
    ingest_t *h = xcalloc(1, sizeof(*h));

    if (opts)
        h->opts = *opts;
    /* Zero (an unset field of a zeroed struct) or nonsense means the default. */
    if (h->opts.timeout_ms <= 0)
        h->opts.timeout_ms = INGEST_TIMEOUT_MS_DEFAULT;
    if (h->opts.retry_ms <= 0)
        h->opts.retry_ms = INGEST_RETRY_MS_DEFAULT;
    if (h->opts.window == 0)
        h->opts.window = INGEST_WINDOW_DEFAULT;
    h->socket_path = socket_path ? xstrdup(socket_path) : NULL;
    h->spool_dir = spool_dir ? xstrdup(spool_dir) : NULL;
    h->fd = -1;
    h->ring = xcalloc(h->opts.window, sizeof(*h->ring));
    h->watch_seq = INGEST_NO_WATCH;
    return h;
}

void ingest_get_stats(const ingest_t *h, struct ingest_stats *out)
{
    *out = h->stats;
}

/* ------------------------------------------------------------ outcomes */

/*
 * Record that an event failed for good (rejected, or neither delivered nor
 * spooled). The watched event's failure goes to ingest_submit; any other to
 * the next ingest_flush, which reports the first one.
 */
static void ingest_fail(ingest_t *h, bool watched, bool temp, const char *fmt, ...)
    MH_PRINTF(4, 5);

/* temp: the event may go through later (it was neither stored nor spooled). */
static void ingest_fail(ingest_t *h, bool watched, bool temp, const char *fmt, ...)
{
    mh_err_t e;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e.text, sizeof(e.text), fmt, ap);
    va_end(ap);
    if (watched) {
        h->watch = WATCH_FAILED;
        h->watch_temp = temp;
        h->watch_err = e;
    } else if (!h->failed) {
        h->failed = true;
        h->fail_err = e;
    }
}

/* Spool n complete event lines as one file; why says why they are not sent. */
static void ingest_spool(ingest_t *h, const char *lines, size_t len, size_t n, bool watched,
                         const char *why)
{
    mh_err_t err;
    int rc;

    if (h->spool_dir)
        rc = spool_write(h->spool_dir, lines, len, &err);
    else
        rc = mh_err_set(&err, "no spool directory configured");
    if (rc == 0) {
        h->stats.spooled += n;
        if (watched)
            h->watch = WATCH_SPOOLED;
        return;
    }
    ingest_fail(h, watched, true, "%zu event%s neither delivered nor spooled: %s; %s", n,
                n == 1 ? "" : "s", why, err.text);
}

/* True when the event with sequence number seq is the one submit waits for. */
static bool ingest_watched(const ingest_t *h, uint64_t seq)
{
    return seq == h->watch_seq;
}

/* Spool every queued event (written or not) and empty the queue. */
static void ingest_spool_queue(ingest_t *h)
{
    uint64_t first = h->next_seq - h->count;
    bool watched = h->watch_seq >= first && h->watch_seq < h->next_seq;

    if (h->count > 0)
        ingest_spool(h, h->buf + h->start, h->end - h->start, h->count, watched, h->why);
    h->head = h->count = 0;
    h->start = h->sent = h->end = 0;
}

/* Spool the events collected from "~" answers. */
static void ingest_spool_tempfailed(ingest_t *h)
{
    char why[sizeof(h->tf_why) + 64];

    if (h->tf_count == 0)
        return;
    snprintf(why, sizeof(why), "mailhookd answered a temporary failure (%s)", h->tf_why);
    ingest_spool(h, h->tf, h->tf_len, h->tf_count, h->tf_watch, why);
    h->tf_len = h->tf_count = 0;
    h->tf_watch = false;
}

/* ---------------------------------------------------------- connection */

static void ingest_why(ingest_t *h, const char *fmt, ...) MH_PRINTF(2, 3);

static void ingest_why(ingest_t *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(h->why, sizeof(h->why), fmt, ap);
    va_end(ap);
}

/*
 * Give up the connection: do not try again for retry_ms, spool everything
 * queued (its fate is unknown).
 */
static void ingest_drop(ingest_t *h)
{
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
    h->in_len = 0;
    h->retry_after_ms = time_mono_ms() + h->opts.retry_ms;
    msg_warn("ingest: %s; spooling %zu event%s to %s, not retrying for %d ms", h->why,
             h->count, h->count == 1 ? "" : "s", h->spool_dir ? h->spool_dir : "(none)",
             h->opts.retry_ms);
    ingest_spool_queue(h);
}

/*
 * An idle connection (nothing on the wire) that is readable was closed by
 * the daemon (restart, shutdown) or holds garbage: either way, start over
 * without counting it as a failure.
 */
static bool ingest_idle_conn_dead(const ingest_t *h)
{
    struct pollfd pfd = { .fd = h->fd, .events = POLLIN };

    return poll(&pfd, 1, 0) != 0;
}

/* A usable connection: 0, or -1 (on hold after a failure, or connect failed). */
static int ingest_connect(ingest_t *h)
{
    mh_err_t err;

    if (h->fd >= 0) {
        if (h->start < h->sent || !ingest_idle_conn_dead(h))
            return 0;
        close(h->fd);
        h->fd = -1;
        h->in_len = 0;
    }
    if (h->socket_path == NULL) {
        ingest_why(h, "no mailhookd socket configured");
        return -1;
    }
    if (time_mono_ms() < h->retry_after_ms) {
        ingest_why(h, "mailhookd at %s failed recently", h->socket_path);
        return -1;
    }
    h->fd = unixsock_connect(h->socket_path, h->opts.timeout_ms, &err);
    if (h->fd >= 0)
        return 0;
    h->retry_after_ms = time_mono_ms() + h->opts.retry_ms;
    ingest_why(h, "mailhookd unreachable: %s", err.text);
    msg_warn("ingest: %s; spooling to %s, not retrying for %d ms", h->why,
             h->spool_dir ? h->spool_dir : "(none)", h->opts.retry_ms);
    return -1;
}

/* Write what is queued, as far as the socket takes it: 0, or -1 (h->why). */
static int ingest_write(ingest_t *h)
{
    ssize_t n;

    while (h->sent < h->end) {
        n = send(h->fd, h->buf + h->sent, h->end - h->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            h->sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        ingest_why(h, "write to mailhookd at %s: %s", h->socket_path,
                   n < 0 ? strerror(errno) : "no progress");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- answers */

/* Take the head event's line into the temporary-failure batch. */
static void ingest_tempfail_add(ingest_t *h, const struct inflight *e, bool watched,
                                const char *reason, size_t rlen)
{
    if (h->tf_count == 0)
        printable(h->tf_why, sizeof(h->tf_why), reason, rlen);
    if (h->tf_len + e->len > h->tf_cap) {
        h->tf_cap = h->tf_len + e->len > 2 * h->tf_cap ? h->tf_len + e->len : 2 * h->tf_cap;
        h->tf = xrealloc(h->tf, h->tf_cap);
    }
    memcpy(h->tf + h->tf_len, h->buf + h->start, e->len);
    h->tf_len += e->len;
    h->tf_count++;
    h->tf_watch |= watched;
}

/* Apply one answer line (without "\n") to the ring head; -1 on a protocol error. */
static int ingest_answer(ingest_t *h, const char *line, size_t llen, int64_t *now_us)
{
    struct inflight *e = &h->ring[h->head];
    bool watched = ingest_watched(h, h->next_seq - h->count);
    char shown[INGEST_ACK_MAX];

    if (h->count == 0 || e->len > h->sent - h->start) {
        ingest_why(h, "protocol error: mailhookd answered an event not sent");
        return -1;
    }
    switch (llen > 0 ? line[0] : 0) {
    case INGEST_ACK_OK:
        if (llen - 1 != e->idlen || memcmp(line + 1, e->id, e->idlen) != 0) {
            ingest_why(h, "protocol error: mailhookd acknowledged %s, expected %s",
                       printable(shown, sizeof(shown), line + 1, llen - 1), e->id);
            return -1;
        }
        h->stats.committed++;
        if (watched)
            h->watch = WATCH_COMMITTED;
        if (h->opts.on_ack) {
            if (*now_us == 0)
                *now_us = time_mono_us();
            h->opts.on_ack(h->opts.on_ack_ctx, *now_us - e->sent_us);
        }
        break;
    case INGEST_ACK_REJECT:
        h->stats.rejected++;
        ingest_fail(h, watched, false, "rejected by mailhookd: %s",
                    printable(shown, sizeof(shown), line + 1, llen - 1));
        break;
    case INGEST_ACK_TEMPFAIL:
        ingest_tempfail_add(h, e, watched, line + 1, llen - 1);
        break;
    default:
        ingest_why(h, "protocol error: unexpected answer from mailhookd: %s",
                   printable(shown, sizeof(shown), line, llen));
        return -1;
    }
    h->start += e->len;
    if (++h->head == h->opts.window)
        h->head = 0;
    if (--h->count == 0)
        h->start = h->sent = h->end = 0; /* empty: reuse the buffer from its start */
    return 0;
}

/* Apply the complete answer lines in h->in; keep a partial one. -1: protocol error. */
static int ingest_answers(ingest_t *h)
{
    char *p = h->in, *end = h->in + h->in_len, *nl;
    int64_t now_us = 0;
    int rc = 0;

    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if ((size_t)(nl - p) + 1 > INGEST_ACK_MAX) {
            ingest_why(h, "protocol error: answer line longer than %d bytes", INGEST_ACK_MAX);
            rc = -1;
            break;
        }
        if ((rc = ingest_answer(h, p, (size_t)(nl - p), &now_us)) < 0)
            break;
        p = nl + 1;
    }
    if (rc == 0) {
        h->in_len = (size_t)(end - p);
        memmove(h->in, p, h->in_len);
        if (h->in_len >= INGEST_ACK_MAX) {
            ingest_why(h, "protocol error: answer line longer than %d bytes", INGEST_ACK_MAX);
            rc = -1;
        }
    }
    ingest_spool_tempfailed(h);
    return rc;
}

/*
 * Read and apply what the daemon has answered, without blocking.
 * 1: something was read; 0: nothing available; -1: the connection is
 * finished (end of file, error, protocol error; h->why says which).
 */
static int ingest_read(ingest_t *h)
{
    size_t room;
    ssize_t n;
    int progress = 0;

    for (;;) {
        room = sizeof(h->in) - h->in_len;
        n = recv(h->fd, h->in + h->in_len, room, MSG_DONTWAIT);
        if (n > 0) {
            h->in_len += (size_t)n;
            progress = 1;
            if (ingest_answers(h) < 0)
                return -1;
            if ((size_t)n < room)
                return 1;
            continue;
        }
        if (n == 0) {
            ingest_why(h, "mailhookd at %s closed the connection", h->socket_path);
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return progress;
        ingest_why(h, "read from mailhookd at %s: %s", h->socket_path, strerror(errno));
        return -1;
    }
}

/*
 * A write failed: the daemon may have answered some events and closed (it
 * does so after rejecting an oversized line). Apply those answers first so
 * they are not spooled needlessly, then drop the connection.
 */
static void ingest_write_failed(ingest_t *h)
{
    char why[sizeof(h->why)];

    memcpy(why, h->why, sizeof(why));
    while (ingest_read(h) > 0)
        ;
    memcpy(h->why, why, sizeof(why));
    ingest_drop(h);
}

/* -------------------------------------------------------------- pumping */

/*
 * Work the connection until at most target events are queued: each leaves
 * the queue acknowledged, rejected or spooled. Every poll is bounded: with
 * no answer for timeout_ms, the connection is given up and the queue
 * spooled, so this always returns.
 */
static void ingest_wait(ingest_t *h, size_t target)
{
    int64_t deadline = 0, now;
    struct pollfd pfd;
    int r;

    while (h->count > target) {
        if (ingest_connect(h) < 0) {
            ingest_spool_queue(h);
            break;
        }
        if (ingest_write(h) < 0) {
            ingest_write_failed(h);
            continue;
        }
        now = time_mono_ms();
        if (deadline == 0)
            deadline = now + h->opts.timeout_ms;
        if (now >= deadline) {
            ingest_why(h, "mailhookd at %s did not answer within %d ms", h->socket_path,
                       h->opts.timeout_ms);
            ingest_drop(h);
            continue;
        }
        pfd.fd = h->fd;
        pfd.events = POLLIN | (h->sent < h->end ? POLLOUT : 0);
        pfd.revents = 0;
        r = poll(&pfd, 1, (int)(deadline - now));
        if (r < 0 && errno != EINTR) {
            ingest_why(h, "poll: %s", strerror(errno));
            ingest_drop(h);
            continue;
        }
        if (r <= 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
            continue; /* timeout is checked above; POLLOUT: write on the next turn */
        r = ingest_read(h);
        if (r < 0)
            ingest_drop(h);
        else if (r > 0)
            deadline = time_mono_ms() + h->opts.timeout_ms; /* answers flow */
    }
    ingest_spool_tempfailed(h); /* normally done per chunk; cheap no-op here */
}

/* Make room for n more bytes at the end of the line buffer. */
static void ingest_reserve(ingest_t *h, size_t n)
{
    if (h->end + n <= h->cap)
        return;
    if (h->start > 0) { /* drop the answered lines' bytes first */
        memmove(h->buf, h->buf + h->start, h->end - h->start);
        h->sent -= h->start;
        h->end -= h->start;
        h->start = 0;
        if (h->end + n <= h->cap)
            return;
    }
    if (h->end + n < h->end)
        msg_fatal(EX_SOFTWARE, "ingest: buffer size overflow");
    h->cap = h->end + n > 2 * h->cap ? h->end + n : 2 * h->cap;
    if (h->cap < INGEST_WRITE_BATCH)
        h->cap = INGEST_WRITE_BATCH;
    h->buf = xrealloc(h->buf, h->cap);
}

/* ------------------------------------------------------------ the API */

int ingest_send(ingest_t *h, const event_t *ev, mh_err_t *err)
{
    struct inflight *e;
    size_t jlen, idlen, i;
    char *json;

    idlen = strnlen(ev->id, sizeof(ev->id));
    if (idlen == 0 || idlen == sizeof(ev->id))
        return mh_err_set(err, "ingest: event has no id");
    json = event_to_json(ev, &jlen);
    if (json == NULL)
        return mh_err_set(err, "ingest: cannot serialize event %s", ev->id);
    if (memchr(json, '\n', jlen) != NULL) { /* would break the line protocol */
        free(json);
        return mh_err_set(err, "ingest: event %s serializes with a newline", ev->id);
    }
    if (h->count >= h->opts.window)
        ingest_wait(h, h->opts.window - 1);

    ingest_reserve(h, jlen + 1);
    memcpy(h->buf + h->end, json, jlen);
    h->buf[h->end + jlen] = '\n';
    h->end += jlen + 1;
    free(json);

    i = h->head + h->count;
    if (i >= h->opts.window)
        i -= h->opts.window;
    e = &h->ring[i];
    memcpy(e->id, ev->id, idlen);
    e->id[idlen] = 0;
    e->idlen = idlen;
    e->len = jlen + 1;
    e->sent_us = h->opts.on_ack ? time_mono_us() : 0;
    h->count++;
    h->next_seq++;

    /*
     * Enough queued for one big write: push it out and take whatever answers
     * are already there, without waiting. Not connected: it stays queued
     * until the window fills or a flush, which spool it.
     */
    if (h->end - h->sent >= INGEST_WRITE_BATCH && ingest_connect(h) == 0) {
        if (ingest_write(h) < 0)
            ingest_write_failed(h);
        else if (ingest_read(h) < 0)
            ingest_drop(h);
    }
    return 0;
}

int ingest_flush(ingest_t *h, mh_err_t *err)
{
    ingest_wait(h, 0);
    if (h->failed) {
        h->failed = false;
        if (err)
            *err = h->fail_err;
        return -1;
    }
    return 0;
}

int ingest_submit(ingest_t *h, const event_t *ev, mh_err_t *err)
{
    enum watch_state w;

    h->watch_seq = h->next_seq;
    h->watch = WATCH_PENDING;
    if (ingest_send(h, ev, err) < 0) {
        h->watch_seq = INGEST_NO_WATCH;
        return -1;
    }
    ingest_wait(h, 0);
    w = h->watch;
    h->watch_seq = INGEST_NO_WATCH;
    switch (w) {
    case WATCH_COMMITTED:
        return INGEST_COMMITTED;
    case WATCH_SPOOLED:
        return INGEST_SPOOLED;
    case WATCH_FAILED:
        if (err)
            *err = h->watch_err;
        return h->watch_temp ? INGEST_ETEMP : -1;
    case WATCH_PENDING:
        break;
    }
    msg_panic_f("event %s has no outcome after waiting for it", ev->id);
}

ingest_t *ingest_close(ingest_t *h)
{
    mh_err_t err;

    if (h == NULL)
        return NULL;
    if (ingest_flush(h, &err) < 0)
        msg_warn("ingest: at close: %s", err.text);
    if (h->fd >= 0)
        close(h->fd);
    free(h->socket_path);
    free(h->spool_dir);
    free(h->buf);
    free(h->ring);
    free(h->tf);
    free(h);
    return NULL;
}
