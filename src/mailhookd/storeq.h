/* SPDX-License-Identifier: MIT */
/*
 * storeq.h - the store's own thread. Every access to the store runs there,
 * one job at a time in submission order; each job's completion runs back on
 * the event loop thread, in the same order.
 *
 * Why: the event loop parses the next batch of events while the store
 * thread serializes and commits the previous one (group commit with the two
 * cores both busy), and a commit's fsync never stalls the loop. The store
 * itself stays single-threaded: only the store thread ever touches it.
 *
 *   storeq_start(st, loop)          start the thread; completions are
 *                                   delivered through an eventfd on loop
 *   storeq_submit(q, work, done, ctx)
 *                                   work(st, ctx) runs on the store thread,
 *                                   then done(ctx) on the loop thread; ctx
 *                                   belongs to the caller until done runs
 *   storeq_busy(q)                  jobs submitted whose done has not run
 *   storeq_stop(q)                  run every submitted job and its done,
 *                                   stop the thread, free; returns NULL
 *
 * Contract for work functions: touch only the store and ctx (no daemon
 * counters, no connections, no event loop); put results in ctx for done.
 */
#ifndef MH_STOREQ_H
#define MH_STOREQ_H

#include <stddef.h>
#include "evloop.h"
#include "store.h"

typedef struct storeq storeq_t;
typedef void (*storeq_work_fn)(store_t *st, void *ctx);
typedef void (*storeq_done_fn)(void *ctx);

storeq_t *storeq_start(store_t *st, evloop_t *loop);
void storeq_submit(storeq_t *q, storeq_work_fn work, storeq_done_fn done, void *ctx);
size_t storeq_busy(const storeq_t *q);
storeq_t *storeq_stop(storeq_t *q);

#endif
