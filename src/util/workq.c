/* SPDX-License-Identifier: MIT */
/*
 * workq.c - a thread and its job queue (see workq.h).
 *
 * Two FIFO lists (<sys/queue.h> STAILQ) under one mutex: "todo"
 * (submitted, not yet run) and "done" (run, completion pending). The
 * thread moves a job from todo to done and writes the eventfd; the loop
 * reads the eventfd and runs the completions of every finished job at
 * once, so a burst of jobs costs one wake-up of the loop, not one each.
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

#include "workq.h"
#include "xalloc.h"

struct workq_job {
    workq_fn work, done;
    void *ctx;
    STAILQ_ENTRY(workq_job) link;
};

STAILQ_HEAD(workq_list, workq_job);

struct workq {
    evloop_t *loop;
    const char *what;
    int efd;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct workq_list todo, done;
    size_t busy; /* submitted, completion not yet run (loop thread only) */
    bool quit;
};

static struct workq_job *list_pop(struct workq_list *l)
{
    struct workq_job *j = STAILQ_FIRST(l);

    if (j)
        STAILQ_REMOVE_HEAD(l, link);
    return j;
}

static void *workq_thread(void *arg)
{
    workq_t *q = arg;
    struct workq_job *j;
    uint64_t one = 1;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (STAILQ_EMPTY(&q->todo) && !q->quit)
            pthread_cond_wait(&q->wake, &q->lock);
        if ((j = list_pop(&q->todo)) == NULL)
            break; /* quit, and nothing left to do */
        pthread_mutex_unlock(&q->lock);
        j->work(j->ctx);
        pthread_mutex_lock(&q->lock);
        if (STAILQ_EMPTY(&q->done) && /* else the loop has a wake-up coming */
            write(q->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            msg_panic_f("%s: eventfd write: %s", q->what, strerror(errno));
        STAILQ_INSERT_TAIL(&q->done, j, link);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

/* Run the completions of finished jobs, in order (loop thread). */
static void workq_complete(workq_t *q)
{
    struct workq_list done = STAILQ_HEAD_INITIALIZER(done);
    struct workq_job *j;

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

static void workq_wakeup(evloop_t *l, int fd, unsigned what, void *ctx)
{
    uint64_t n;

    while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
        ;
    workq_complete(ctx);
}

workq_t *workq_start(evloop_t *loop, const char *what, size_t stack)
{
    workq_t *q = xcalloc(1, sizeof(*q));
    pthread_attr_t attr;
    int rc;

    q->loop = loop;
    q->what = what;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0 || evloop_add(loop, q->efd, EVLOOP_READ, workq_wakeup, q) < 0)
        msg_fatal(EX_OSERR, "%s: eventfd: %s", what, strerror(errno));
    STAILQ_INIT(&q->todo);
    STAILQ_INIT(&q->done);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    pthread_attr_init(&attr);
    if (stack && (rc = pthread_attr_setstacksize(&attr, stack)) != 0)
        msg_fatal(EX_SOFTWARE, "%s: a stack of %zu bytes: %s", what, stack, strerror(rc));
    rc = pthread_create(&q->tid, &attr, workq_thread, q);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        msg_fatal(EX_OSERR, "%s: cannot start its thread: %s", what, strerror(rc));
    return q;
}

void workq_submit(workq_t *q, workq_fn work, workq_fn done, void *ctx)
{
    struct workq_job *j = xcalloc(1, sizeof(*j));

    j->work = work;
    j->done = done;
    j->ctx = ctx;
    q->busy++;
    pthread_mutex_lock(&q->lock);
    STAILQ_INSERT_TAIL(&q->todo, j, link);
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
}

size_t workq_busy(const workq_t *q)
{
    return q->busy;
}

workq_t *workq_stop(workq_t *q)
{
    if (q == NULL)
        return NULL;
    pthread_mutex_lock(&q->lock);
    q->quit = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->tid, NULL); /* it runs everything still queued first */
    workq_complete(q);         /* completions may submit more: run those too */
    while (q->busy > 0) {
        struct workq_job *j;
        pthread_mutex_lock(&q->lock);
        j = list_pop(&q->todo);
        pthread_mutex_unlock(&q->lock);
        if (j == NULL)
            msg_panic_f("%s: %zu jobs lost", q->what, q->busy);
        j->work(j->ctx);
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
