/* SPDX-License-Identifier: MIT */
/*
 * sdnotify.h - tell the service manager (systemd, sd_notify(3)) how a
 * daemon is doing: ready, stopping, still alive (the watchdog).
 *
 *   sdnotify_send(state)       send state ("READY=1", "STOPPING=1",
 *                              "STATUS=..."; several joined by newlines);
 *                              nothing when NOTIFY_SOCKET is not set
 *   sdnotify_watchdog_ms()     how often to send "WATCHDOG=1": half the
 *                              interval the manager set (WATCHDOG_USEC, and
 *                              WATCHDOG_PID naming this process when set),
 *                              at least 1 ms; 0 when there is no watchdog or
 *                              no NOTIFY_SOCKET
 *   sdnotify_watchdog_start()  for a program whose loop is not ours (the
 *                              milter runs libmilter's): a thread that sends
 *                              "WATCHDOG=1" every sdnotify_watchdog_ms();
 *                              SIGTERM, SIGINT and SIGHUP are blocked in it,
 *                              so the program's own signal handling keeps
 *                              them. No thread when there is no watchdog.
 *   sdnotify_watchdog_stop()   stop and join that thread (none: no-op)
 *
 * Model: the event loop's own timer is the better watchdog (a stuck loop
 * stops feeding it); the thread only shows that the process is alive and
 * scheduled. Only the main process may notify under the default
 * NotifyAccess=main, so a forked (detached) daemon must not rely on it.
 *
 * Errors: none returned. A failed send is logged once at verbose level: a
 * manager that is gone must not stop the daemon.
 */
#ifndef MH_SDNOTIFY_H
#define MH_SDNOTIFY_H

#include <stdint.h>

void sdnotify_send(const char *state);
int64_t sdnotify_watchdog_ms(void);
void sdnotify_watchdog_start(void);
void sdnotify_watchdog_stop(void);

#endif
