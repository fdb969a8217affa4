/* SPDX-License-Identifier: MIT */
/*
 * storeq.c - the store thread and its job queue (see storeq.h): a work
 * queue (workq.h) whose jobs are given the store. A store that failed
 * for good (store_panicked) ends the process after the job that found
 * it: only a new start, which recovers it, helps, and the supervisor
 * makes one. Jobs are few per second (batches, admin queries), so the
 * queue's one mutex is no contention.
 */
#include "config.h"

#include "storeq.h"
#include "workq.h"
#include "xalloc.h"

struct storeq {
    store_t *st;
    workq_t *wq;
};

/* One job: the store's work function and completion around the caller's ctx. */
struct storeq_job {
    storeq_t *q;
    storeq_work_fn work;
    storeq_done_fn done;
    void *ctx;
};

static void storeq_job_work(void *arg)
{
    struct storeq_job *j = arg;

    j->work(j->q->st, j->ctx);
    if (store_panicked(j->q->st)) /* nothing works any more: start over */
        msg_fatal(EX_TEMPFAIL, "store: Berkeley DB failed for good: exiting, the next "
                  "start recovers the store (producers spool meanwhile)");
}

static void storeq_job_done(void *arg)
{
    struct storeq_job *j = arg;

    if (j->done)
        j->done(j->ctx);
    free(j);
}

storeq_t *storeq_start(store_t *st, evloop_t *loop)
{
    storeq_t *q = xcalloc(1, sizeof(*q));

    q->st = st;
    q->wq = workq_start(loop, "storeq", 0);
    return q;
}

void storeq_submit(storeq_t *q, storeq_work_fn work, storeq_done_fn done, void *ctx)
{
    struct storeq_job *j = xcalloc(1, sizeof(*j));

    j->q = q;
    j->work = work;
    j->done = done;
    j->ctx = ctx;
    workq_submit(q->wq, storeq_job_work, storeq_job_done, j);
}

size_t storeq_busy(const storeq_t *q)
{
    return workq_busy(q->wq);
}

storeq_t *storeq_stop(storeq_t *q)
{
    if (q == NULL)
        return NULL;
    q->wq = workq_stop(q->wq);
    free(q);
    return NULL;
}
