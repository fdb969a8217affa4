/* SPDX-License-Identifier: MIT */
/*
 * workq.h - a thread of its own with a job queue: each job's work runs
 * there, one at a time in submission order, and its completion runs back
 * on the event loop thread, in the same order. The store thread (storeq.h)
 * and the delivery engine's preparation thread (delivery_prep.c) are two.
 *
 *   workq_start(loop, what, stack) start the thread, with a stack of
 *                                  stack bytes (0: the default); its
 *                                  completions are delivered through an
 *                                  eventfd on loop; what names it in
 *                                  messages
 *   workq_submit(q, work, done, ctx)
 *                                  work(ctx) on the thread, then done(ctx)
 *                                  on the loop thread (done may be NULL);
 *                                  ctx belongs to the caller until done
 *   workq_busy(q)                  jobs submitted whose done has not run
 *   workq_stop(q)                  run every submitted job and its done
 *                                  (also those a done submits), stop the
 *                                  thread, free; returns NULL
 *
 * Contract for work functions: touch only ctx and what the queue's owner
 * gave the thread alone; put results in ctx for done.
 */
#ifndef MH_WORKQ_H
#define MH_WORKQ_H

#include <stddef.h>
#include "evloop.h"

typedef struct workq workq_t;
typedef void (*workq_fn)(void *ctx);

workq_t *workq_start(evloop_t *loop, const char *what, size_t stack);
void workq_submit(workq_t *q, workq_fn work, workq_fn done, void *ctx);
size_t workq_busy(const workq_t *q);
workq_t *workq_stop(workq_t *q);

#endif
