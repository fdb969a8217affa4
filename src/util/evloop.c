/* SPDX-License-Identifier: MIT */
/*
 * evloop.c - epoll event loop with timers and a prepare hook (see evloop.h).
 *
 * Descriptor registrations live in an array indexed by fd, with what epoll
 * was last told, so that a change to the same events costs no system call.
 * A parked descriptor stays registered with epoll while nobody watches it:
 * libcurl stops and starts watching a kept-alive connection around every
 * request, and three epoll_ctl calls per request were a tenth of the
 * delivery thread's time. If a parked descriptor reports an event, it is
 * then removed from epoll. Timers are few (retention, spool scans, shutdown
 * deadline, curl's), so a linked list is enough.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <unistd.h>

#include "evloop.h"
#include "timeutil.h"
#include "xalloc.h"

struct evloop_fd {
    evloop_fd_cb cb;
    void *ctx;
    bool used;     /* watched: cb is called */
    bool in_epoll; /* registered with epoll (watched or parked) */
    uint32_t mask; /* the events epoll has for it */
};

struct evloop_timer {
    uint64_t id;
    int64_t due_ms;
    evloop_cb cb;
    void *ctx;
    TAILQ_ENTRY(evloop_timer) link;
};

struct evloop {
    int epfd;
    struct evloop_fd *fds;
    size_t nfds;
    TAILQ_HEAD(, evloop_timer) timers; /* by due time; equal ones in the order added */
    uint64_t next_timer_id;
    evloop_cb prepare;
    void *prepare_ctx;
    bool stop;
};

evloop_t *evloop_new(void)
{
    evloop_t *l = xcalloc(1, sizeof(*l));

    TAILQ_INIT(&l->timers);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        msg_fatal(EX_OSERR, "epoll_create1: %s", strerror(errno));
    return l;
}

evloop_t *evloop_free(evloop_t *l)
{
    struct evloop_timer *t;
    size_t pending = 0;

    if (l == NULL)
        return NULL;
    while ((t = TAILQ_FIRST(&l->timers)) != NULL) {
        TAILQ_REMOVE(&l->timers, t, link);
        free(t);
        pending++;
    }
    /* Each timer's owner cancels it when it stops: one left here means an
     * owner that relied on the loop never running again (its context may
     * be gone). Harmless now, so a warning; the tests fail on it. */
    if (pending > 0)
        msg_warn("event loop freed with %zu timer%s pending: an owner did not cancel its own",
                 pending, pending == 1 ? "" : "s");
    close(l->epfd);
    free(l->fds);
    free(l);
    return NULL;
}

static uint32_t evloop_mask(unsigned events)
{
    return (events & EVLOOP_READ ? EPOLLIN : 0) | (events & EVLOOP_WRITE ? EPOLLOUT : 0);
}

/* Tell epoll about fd: register it, or change its events if they differ.
 * A parked fd that was closed and reused without evloop_del is no longer
 * in epoll (close removed it): registered again. */
static int evloop_register(evloop_t *l, int fd, uint32_t mask)
{
    struct evloop_fd *f = &l->fds[fd];
    struct epoll_event ev = { .events = mask, .data.fd = fd };

    if (f->in_epoll && f->mask == mask)
        return 0;
    if (f->in_epoll && epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0) {
        f->mask = mask;
        return 0;
    }
    if (f->in_epoll && errno != ENOENT)
        return -1;
    f->in_epoll = false;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    f->in_epoll = true;
    f->mask = mask;
    return 0;
}

int evloop_add(evloop_t *l, int fd, unsigned events, evloop_fd_cb cb, void *ctx)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= l->nfds) {
        size_t n = l->nfds ? l->nfds : 64;
        while (n <= (size_t)fd)
            n *= 2;
        l->fds = xreallocarray(l->fds, n, sizeof(*l->fds));
        memset(l->fds + l->nfds, 0, (n - l->nfds) * sizeof(*l->fds));
        l->nfds = n;
    }
    if (evloop_register(l, fd, evloop_mask(events)) < 0)
        return -1;
    l->fds[fd].cb = cb;
    l->fds[fd].ctx = ctx;
    l->fds[fd].used = true;
    return 0;
}

int evloop_mod(evloop_t *l, int fd, unsigned events)
{
    if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].used) {
        errno = ENOENT;
        return -1;
    }
    return evloop_register(l, fd, evloop_mask(events));
}

static void evloop_unregister(evloop_t *l, int fd)
{
    if (l->fds[fd].in_epoll)
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->fds[fd].in_epoll = false;
}

void evloop_del(evloop_t *l, int fd)
{
    if (fd >= 0 && (size_t)fd < l->nfds) {
        evloop_unregister(l, fd);
        l->fds[fd].used = false;
    }
}

void evloop_park(evloop_t *l, int fd)
{
    if (fd >= 0 && (size_t)fd < l->nfds)
        l->fds[fd].used = false;
}

uint64_t evloop_timer_add(evloop_t *l, int64_t delay_ms, evloop_cb cb, void *ctx)
{
    struct evloop_timer *t = xcalloc(1, sizeof(*t)), *after;

    t->id = ++l->next_timer_id;
    t->due_ms = time_mono_ms() + delay_ms;
    t->cb = cb;
    t->ctx = ctx;
    TAILQ_FOREACH(after, &l->timers, link)
        if (after->due_ms > t->due_ms)
            break;
    if (after)
        TAILQ_INSERT_BEFORE(after, t, link);
    else
        TAILQ_INSERT_TAIL(&l->timers, t, link);
    return t->id;
}

void evloop_timer_cancel(evloop_t *l, uint64_t id)
{
    struct evloop_timer *t;

    TAILQ_FOREACH(t, &l->timers, link) {
        if (t->id == id) {
            TAILQ_REMOVE(&l->timers, t, link);
            free(t);
            return;
        }
    }
}

void evloop_set_prepare(evloop_t *l, evloop_cb cb, void *ctx)
{
    l->prepare = cb;
    l->prepare_ctx = ctx;
}

void evloop_stop(evloop_t *l)
{
    l->stop = true;
}

/* Run due timers. */
static void evloop_run_timers(evloop_t *l)
{
    struct evloop_timer *t;
    int64_t now = time_mono_ms();

    while ((t = TAILQ_FIRST(&l->timers)) != NULL && t->due_ms <= now) {
        TAILQ_REMOVE(&l->timers, t, link);
        t->cb(l, t->ctx);
        free(t);
        now = time_mono_ms();
    }
}

/* Milliseconds until the next timer is due (-1 = none). */
static int evloop_timeout(const evloop_t *l)
{
    int64_t left;

    if (TAILQ_EMPTY(&l->timers))
        return -1;
    left = TAILQ_FIRST(&l->timers)->due_ms - time_mono_ms();
    return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

void evloop_run(evloop_t *l)
{
    struct epoll_event evs[128];
    int n, timeout;

    l->stop = false;
    while (!l->stop) {
        evloop_run_timers(l);
        if (l->prepare)
            l->prepare(l, l->prepare_ctx);
        if (l->stop)
            break;
        timeout = evloop_timeout(l); /* after prepare: it may add timers */
        n = epoll_wait(l->epfd, evs, 128, timeout);
        if (n < 0 && errno != EINTR)
            msg_fatal(EX_OSERR, "epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            unsigned what = 0;

            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                what |= EVLOOP_READ;
            if (evs[i].events & (EPOLLOUT | EPOLLERR))
                what |= EVLOOP_WRITE;
            /* An earlier callback in this round may have removed fd. */
            if ((size_t)fd >= l->nfds)
                continue;
            if (l->fds[fd].used)
                l->fds[fd].cb(l, fd, what, l->fds[fd].ctx);
            else if (l->fds[fd].in_epoll)
                evloop_unregister(l, fd); /* parked, and something happened */
        }
    }
}
