/* SPDX-License-Identifier: MIT */
/*
 * milter_submit.c - the submitter thread of mailhook-milter
 * (milter_submit.h): a bounded queue filled by the milter callbacks and
 * drained into mailhookd through the ingest library (ingest.h), which
 * spools (spool.h) whatever the daemon cannot take.
 *
 * The queue is a list (a <sys/queue.h> STAILQ) of batches (one batch = one
 * message's events), guarded by one mutex; the callbacks hold it only to
 * link a batch.
 * The thread takes the whole list at once, sends every event (pipelined),
 * then waits for the acknowledgements (ingest_flush) with the lock released,
 * so a slow or absent mailhookd never blocks a callback: when max_queued
 * events are waiting, the callback spools the message's events itself.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "milter_submit.h"
#include "spool.h"
#include "xalloc.h"

struct batch {
    STAILQ_ENTRY(batch) link;
    event_t **evs; /* owned */
    size_t n;
};
STAILQ_HEAD(batch_list, batch);

struct milter_submit {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    struct batch_list queue;   /* under lock */
    size_t n_queued;           /* events in the list, under lock */
    size_t max_queued;
    bool stopping;             /* under lock */
    char *socket_path, *spool_dir;
    char *test_gate;                  /* MILTER_SUBMIT_TEST_GATE, NULL = none */
    struct milter_submit_stats stats; /* under lock */
};

static struct batch *batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        event_free(b->evs[i]);
    free(b->evs);
    free(b);
    return NULL;
}

/* Send every event of the list, then wait for all their outcomes. */
static void submit_list(ingest_t *h, struct batch_list *list)
{
    struct batch *b;
    mh_err_t err;

    STAILQ_FOREACH(b, list, link)
        for (size_t i = 0; i < b->n; i++)
            if (ingest_send(h, b->evs[i], &err) < 0)
                msg_warn("event %s not submitted: %s", b->evs[i]->id, err.text);
    if (ingest_flush(h, &err) < 0)
        msg_warn("events not submitted: %s", err.text);
    while ((b = STAILQ_FIRST(list)) != NULL) {
        STAILQ_REMOVE_HEAD(list, link);
        batch_free(b);
    }
}

/* TEST ONLY (milter_submit.h): hold a taken list until the gate file
 * exists, the milter stops, or TEST_GATE_MAX_S pass. */
#define TEST_GATE_MAX_S 600
static void submit_test_gate(milter_submit_t *s)
{
    struct timespec until;
    time_t give_up = time(NULL) + TEST_GATE_MAX_S;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping && access(s->test_gate, F_OK) != 0 && time(NULL) < give_up) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 20 * 1000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
}

static void *submit_thread(void *arg)
{
    milter_submit_t *s = arg;
    ingest_t *h = ingest_open(s->socket_path, s->spool_dir, NULL);
    struct batch_list list = STAILQ_HEAD_INITIALIZER(list);
    bool stop;

    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (STAILQ_EMPTY(&s->queue) && !s->stopping)
            pthread_cond_wait(&s->wake, &s->lock);
        STAILQ_CONCAT(&list, &s->queue); /* the whole queue, left empty */
        s->n_queued = 0;
        stop = s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (!STAILQ_EMPTY(&list) && s->test_gate)
            submit_test_gate(s);
        if (!STAILQ_EMPTY(&list))
            submit_list(h, &list);
        else if (stop)
            break;
    }
    ingest_close(h);
    return NULL;
}

milter_submit_t *milter_submit_start(const char *ingest_socket, const char *spool_dir,
                                     size_t max_queued)
{
    milter_submit_t *s = xcalloc(1, sizeof(*s));
    sigset_t block, old;
    int rc;

    STAILQ_INIT(&s->queue);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    s->max_queued = max_queued ? max_queued : 1;
    s->socket_path = xstrdup(ingest_socket);
    s->spool_dir = xstrdup(spool_dir);
    if (getenv(MILTER_SUBMIT_TEST_GATE) && getenv(MILTER_SUBMIT_TEST_GATE)[0]) {
        s->test_gate = xstrdup(getenv(MILTER_SUBMIT_TEST_GATE));
        msg_warn("%s is set: events wait for %s to exist (a test setting)",
                 MILTER_SUBMIT_TEST_GATE, s->test_gate);
    }
    /* The thread inherits this mask: termination signals must reach
     * libmilter's signal thread, not kill the process from here. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM), sigaddset(&block, SIGINT), sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rc = pthread_create(&s->thread, NULL, submit_thread, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        msg_warn("submitter thread: %s", strerror(rc));
        free(s->socket_path), free(s->spool_dir), free(s->test_gate), free(s);
        return NULL;
    }
    return s;
}

/* Queue full: the events go to the spool now, one file for the message. */
static size_t spool_direct(const char *dir, event_t **evs, size_t n)
{
    char *buf = NULL, *line;
    size_t len = 0, llen;
    mh_err_t err;

    for (size_t i = 0; i < n; i++) {
        line = event_to_json(evs[i], &llen);
        buf = xrealloc(buf, len + llen + 1);
        memcpy(buf + len, line, llen);
        buf[len + llen] = '\n';
        len += llen + 1;
        free(line);
    }
    if (len && spool_write(dir, buf, len, &err) < 0) {
        msg_warn("queue full and spool failed, %zu events lost: %s", n, err.text);
        n = 0;
    }
    free(buf);
    return n;
}

void milter_submit_events(milter_submit_t *s, event_t **evs, size_t n)
{
    struct batch *b;
    size_t spooled;

    if (n == 0) {
        free(evs);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (s->n_queued + n <= s->max_queued && !s->stopping) {
        b = xcalloc(1, sizeof(*b));
        b->evs = evs, b->n = n;
        STAILQ_INSERT_TAIL(&s->queue, b, link);
        s->n_queued += n;
        s->stats.queued += n;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    pthread_mutex_unlock(&s->lock);
    spooled = spool_direct(s->spool_dir, evs, n);
    pthread_mutex_lock(&s->lock);
    s->stats.spooled_direct += spooled;
    s->stats.lost += n - spooled;
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < n; i++)
        event_free(evs[i]);
    free(evs);
}

void milter_submit_stats(milter_submit_t *s, struct milter_submit_stats *st)
{
    pthread_mutex_lock(&s->lock);
    *st = s->stats;
    pthread_mutex_unlock(&s->lock);
}

milter_submit_t *milter_submit_stop(milter_submit_t *s)
{
    if (s == NULL)
        return NULL;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s->socket_path), free(s->spool_dir), free(s->test_gate);
    free(s);
    return NULL;
}
