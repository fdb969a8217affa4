/* SPDX-License-Identifier: MIT */
/*
 * storeq.c - the store thread and its job queue (see storeq.h).
 *
 * Two FIFO lists (<sys/queue.h> STAILQ) under one mutex: "todo" (submitted, not yet
 * run) and "done" (run, completion pending). A store that failed for good
 * (store_panicked) ends the process after the job that found it: only a
 * new start, which recovers it, helps, and the supervisor makes one. The store thread moves a job
 * from todo to done and writes the eventfd; the loop reads the eventfd and
 * runs the completions. Jobs are few per second (batches, admin queries),
 * so one mutex is no contention.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <unistd.h>

#include "storeq.h"
#include "xalloc.h"

struct storeq_job {
    storeq_work_fn work;
    storeq_done_fn done;
    void *ctx;
    STAILQ_ENTRY(storeq_job) link;
};

STAILQ_HEAD(storeq_list, storeq_job);

struct storeq {
    store_t *st;
    evloop_t *loop;
    int efd;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct storeq_list todo, done;
    size_t busy; /* submitted, completion not yet run (loop thread only) */
    bool quit;
};

static struct storeq_job *list_pop(struct storeq_list *l)
{
    struct storeq_job *j = STAILQ_FIRST(l);

    if (j)
        STAILQ_REMOVE_HEAD(l, link);
    return j;
}

static void *storeq_thread(void *arg)
{
    storeq_t *q = arg;
    struct storeq_job *j;
    uint64_t one = 1;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (STAILQ_EMPTY(&q->todo) && !q->quit)
            pthread_cond_wait(&q->wake, &q->lock);
        if ((j = list_pop(&q->todo)) == NULL)
            break; /* quit, and nothing left to do */
        pthread_mutex_unlock(&q->lock);
        j->work(q->st, j->ctx);
        if (store_panicked(q->st)) /* nothing works any more: start over */
            msg_fatal(EX_TEMPFAIL, "store: Berkeley DB failed for good: exiting, the next "
                      "start recovers the store (producers spool meanwhile)");
        pthread_mutex_lock(&q->lock);
        STAILQ_INSERT_TAIL(&q->done, j, link);
        if (write(q->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            msg_panic_f("eventfd write: %s", strerror(errno));
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

/* Run the completions of finished jobs, in order (loop thread). */
static void storeq_complete(storeq_t *q)
{
    struct storeq_list done = STAILQ_HEAD_INITIALIZER(done);
    struct storeq_job *j;

    pthread_mutex_lock(&q->lock);
    STAILQ_CONCAT(&done, &q->done); /* takes them all, q->done left empty */
    pthread_mutex_unlock(&q->lock);
    while ((j = list_pop(&done)) != NULL) {
        q->busy--;
        if (j->done)
            j->done(j->ctx);
        free(j);
    }
}

static void storeq_wakeup(evloop_t *l, int fd, unsigned what, void *ctx)
{
    uint64_t n;

    while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
        ;
    storeq_complete(ctx);
}

storeq_t *storeq_start(store_t *st, evloop_t *loop)
{
    storeq_t *q = xcalloc(1, sizeof(*q));
    int rc;

    q->st = st;
    q->loop = loop;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0 || evloop_add(loop, q->efd, EVLOOP_READ, storeq_wakeup, q) < 0)
        msg_fatal(EX_OSERR, "storeq: eventfd: %s", strerror(errno));
    STAILQ_INIT(&q->todo);
    STAILQ_INIT(&q->done);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    if ((rc = pthread_create(&q->tid, NULL, storeq_thread, q)) != 0)
        msg_fatal(EX_OSERR, "storeq: cannot start the store thread: %s", strerror(rc));
    return q;
}

void storeq_submit(storeq_t *q, storeq_work_fn work, storeq_done_fn done, void *ctx)
{
    struct storeq_job *j = xcalloc(1, sizeof(*j));

    j->work = work;
    j->done = done;
    j->ctx = ctx;
    q->busy++;
    pthread_mutex_lock(&q->lock);
    STAILQ_INSERT_TAIL(&q->todo, j, link);
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
}

size_t storeq_busy(const storeq_t *q)
{
    return q->busy;
}

storeq_t *storeq_stop(storeq_t *q)
{
    if (q == NULL)
        return NULL;
    pthread_mutex_lock(&q->lock);
    q->quit = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->tid, NULL); /* it runs everything still queued first */
    storeq_complete(q);        /* completions may submit more: run those too */
    while (q->busy > 0) {
        struct storeq_job *j;
        pthread_mutex_lock(&q->lock);
        j = list_pop(&q->todo);
        pthread_mutex_unlock(&q->lock);
        if (j == NULL)
            msg_panic_f("%zu jobs lost", q->busy);
        j->work(q->st, j->ctx);
        q->busy--;
        if (j->done)
            j->done(j->ctx);
        free(j);
    }
    evloop_del(q->loop, q->efd);
    close(q->efd);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->wake);
    free(q);
    return NULL;
}
