/* SPDX-License-Identifier: MIT */
/*
 * sdnotify.c - sd_notify(3) for mailhook's daemons (sdnotify.h): libsystemd
 * does the protocol (NOTIFY_SOCKET, abstract sockets, WATCHDOG_PID); this
 * file adds the quiet-when-unset rule and the milter's watchdog thread.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "msg.h"
#include "sdnotify.h"

static bool sdnotify_warned;

/* The watchdog thread: it waits on cond with a deadline, so stop wakes it. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool running, stop;
    int64_t every_ms;
} wd = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

void sdnotify_send(const char *state)
{
    int r;

    if (getenv("NOTIFY_SOCKET") == NULL)
        return;
    if ((r = sd_notify(0, state)) < 0 && !sdnotify_warned) {
        sdnotify_warned = true;
        msg_debug("sd_notify: %s", strerror(-r));
    }
}

int64_t sdnotify_watchdog_ms(void)
{
    uint64_t usec = 0;

    if (getenv("NOTIFY_SOCKET") == NULL || sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return 0;
    return usec / 2000 > 0 ? (int64_t)(usec / 2000) : 1;
}

/* now + ms on CLOCK_MONOTONIC, the clock the condition variable uses */
static struct timespec sdnotify_deadline(int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void *sdnotify_watchdog_main(void *arg)
{
    struct timespec until;

    pthread_mutex_lock(&wd.lock);
    while (!wd.stop) {
        sdnotify_send("WATCHDOG=1");
        until = sdnotify_deadline(wd.every_ms);
        while (!wd.stop && pthread_cond_timedwait(&wd.cond, &wd.lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&wd.lock);
    return NULL;
}

void sdnotify_watchdog_start(void)
{
    pthread_condattr_t attr;
    sigset_t block, old;
    int r;

    if (wd.running || (wd.every_ms = sdnotify_watchdog_ms()) == 0)
        return;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wd.cond, &attr);
    pthread_condattr_destroy(&attr);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old); /* inherited by the thread */
    wd.stop = false;
    r = pthread_create(&wd.thread, NULL, sdnotify_watchdog_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0)
        msg_warn("cannot start the watchdog thread: %s (systemd will restart us)", strerror(r));
    wd.running = r == 0;
}

void sdnotify_watchdog_stop(void)
{
    if (!wd.running)
        return;
    pthread_mutex_lock(&wd.lock);
    wd.stop = true;
    pthread_cond_signal(&wd.cond);
    pthread_mutex_unlock(&wd.lock);
    pthread_join(wd.thread, NULL);
    wd.running = false;
}
