/* SPDX-License-Identifier: MIT */
/*
 * evloop.h - the daemon's event loop: epoll for descriptors, a small timer
 * list, and a "prepare" hook that runs after each round of callbacks, before
 * the loop sleeps again. Ingest uses that hook for group commit: everything
 * read in one round is committed in one transaction.
 *
 *   evloop_new() / evloop_free(l)        every timer is cancelled by its owner
 *                                        before: one left pending is warned about
 *   evloop_add(l, fd, events, cb, ctx)   watch fd (EVLOOP_READ|EVLOOP_WRITE)
 *   evloop_mod(l, fd, events)            change what is watched
 *   evloop_del(l, fd)                    stop watching (before close(fd))
 *   evloop_park(l, fd)                   stop watching for now: fd stays
 *                                        open, and watching it again costs
 *                                        no system call (evloop_del before
 *                                        close(fd) all the same)
 *   evloop_timer_add(l, delay_ms, cb, ctx)  one-shot timer; returns an id > 0,
 *                                        which its owner keeps to cancel it
 *   evloop_timer_cancel(l, id)           (an id that fired already: no-op)
 *   evloop_set_prepare(l, cb, ctx)
 *   evloop_run(l)                        until evloop_stop(l)
 *   evloop_stop(l)                       evloop_run returns after this round
 */
#ifndef MH_EVLOOP_H
#define MH_EVLOOP_H

#include <stdint.h>

#define EVLOOP_READ 1u
#define EVLOOP_WRITE 2u

typedef struct evloop evloop_t;
typedef void (*evloop_fd_cb)(evloop_t *l, int fd, unsigned events, void *ctx);
typedef void (*evloop_cb)(evloop_t *l, void *ctx);

evloop_t *evloop_new(void);
evloop_t *evloop_free(evloop_t *l);
int evloop_add(evloop_t *l, int fd, unsigned events, evloop_fd_cb cb, void *ctx);
int evloop_mod(evloop_t *l, int fd, unsigned events);
void evloop_del(evloop_t *l, int fd);
void evloop_park(evloop_t *l, int fd);
uint64_t evloop_timer_add(evloop_t *l, int64_t delay_ms, evloop_cb cb, void *ctx);
void evloop_timer_cancel(evloop_t *l, uint64_t id);
void evloop_set_prepare(evloop_t *l, evloop_cb cb, void *ctx);
void evloop_run(evloop_t *l);
void evloop_stop(evloop_t *l);

#endif
