/* SPDX-License-Identifier: MIT */
/*
 * delivery_health.c - an endpoint's health as the delivery engine keeps it
 * (delivery_int.h): failing after the endpoint's failing_after consecutive
 * failures (one request at a time then), disabled after its
 * disable_after_failures of them or disable_after hours of continuous
 * failure (-1 in either: the global endpoint_disable_failures or
 * endpoint_disable_after; 0: never), or at once on 410. Becoming failing
 * and being disabled are each logged and reported to notify_email through
 * the local sendmail: once per transition (the state is stored, so a
 * restart does not repeat it), never per failure. The queue stays in the
 * store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery_int.h"
#include "timeutil.h"
#include "xalloc.h"

/* Tell the administrator, through the local sendmail, without waiting
 * for it: the message fits a pipe buffer and the child is not reaped by
 * us (SIGCHLD is ignored while mailhookd runs). */
static void dl_notify(delivery_t *dl, const char *subject, const char *body)
{
    int fds[2];
    pid_t pid;
    char *msg;

    if (dl->notify_email[0] == 0 || strpbrk(dl->notify_email, "\r\n \t,<>") != NULL)
        return;
    if (pipe2(fds, O_CLOEXEC) < 0) {
        msg_warn("notify: pipe: %s", strerror(errno));
        return;
    }
    if ((pid = fork()) < 0) {
        msg_warn("notify: fork: %s", strerror(errno));
        close(fds[0]), close(fds[1]);
        return;
    }
    if (pid == 0) {
        dup2(fds[0], 0);
        execl(dl->sendmail, "sendmail", "-i", "--", dl->notify_email, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    msg = xasprintf("To: %s\nSubject: [mailhook] %s\nAuto-Submitted: auto-generated\n"
                    "Content-Type: text/plain; charset=utf-8\n\n%s\n",
                    dl->notify_email, subject, body);
    if (write(fds[1], msg, strlen(msg)) < 0)
        msg_warn("notify: write to %s: %s", dl->sendmail, strerror(errno));
    close(fds[1]);
    free(msg);
}

void dl_ep_disable(struct dl_ep *dep, const char *reason)
{
    char *url = endpoint_redact_url(dep->ep->url), *body;

    dep->ep->state = EP_DISABLED;
    free(dep->ep->disabled_reason);
    dep->ep->disabled_reason = xstrdup(reason);
    dep->health_dirty = true;
    msg_warn("endpoint %s disabled: %s (%s); its queue is kept: \"mailhookctl endpoint enable "
             "%s\" resumes delivery", dep->ep->name, reason, url, dep->ep->name);
    body = xasprintf("mailhookd disabled the webhook endpoint \"%s\" (%s).\n\nReason: %s\n\n"
                     "Events for it stay queued. After fixing the receiver, run:\n"
                     "    mailhookctl endpoint enable %s\n",
                     dep->ep->name, url, reason, dep->ep->name);
    dl_notify(dep->dl, "webhook endpoint disabled", body);
    free(body);
    free(url);
    dl_ep_drop_memory(dep);
}

void dl_health_success(struct dl_ep *dep)
{
    endpoint_t *ep = dep->ep;

    ep->last_success = time_now_ms();
    if (ep->consecutive_failures > 0 || ep->state == EP_FAILING) {
        if (ep->state == EP_FAILING)
            msg_info("endpoint %s recovered after %d failed attempts", ep->name,
                     ep->consecutive_failures);
        ep->consecutive_failures = 0;
        ep->failing_since = 0;
        ep->state = EP_HEALTHY;
        dep->health_dirty = true;
    }
}

/* The endpoint just became failing: say so, in the log and by mail. */
static void dl_health_failing(struct dl_ep *dep, const struct dl_outcome *o)
{
    endpoint_t *ep = dep->ep;
    char *url = endpoint_redact_url(ep->url), *body;

    msg_warn("endpoint %s is failing: %d consecutive failures, last: %s", ep->name,
             ep->consecutive_failures, o->error);
    body = xasprintf("The webhook endpoint \"%s\" (%s) is failing: %d consecutive failed "
                     "attempts.\n\nLast: %s\n\nmailhookd keeps retrying, one request at a time; "
                     "this is the only mail until it recovers or is disabled.\n"
                     "    mailhookctl deliveries list --endpoint %s --failed\n",
                     ep->name, url, ep->consecutive_failures, o->error, ep->name);
    dl_notify(dep->dl, "webhook endpoint failing", body);
    free(body);
    free(url);
}

/* The thresholds of ep: its own, or (-1) the daemon's; 0 = never. */
static int dl_health_disable_failures(const delivery_t *dl, const endpoint_t *ep)
{
    return ep->disable_after_failures < 0 ? dl->disable_failures : ep->disable_after_failures;
}

static int dl_health_disable_hours(const delivery_t *dl, const endpoint_t *ep)
{
    return ep->disable_after < 0 ? dl->disable_hours : ep->disable_after;
}

void dl_health_failure(struct dl_ep *dep, const struct dl_outcome *o)
{
    delivery_t *dl = dep->dl;
    endpoint_t *ep = dep->ep;
    int64_t now = time_now_ms(), span;
    int max_failures = dl_health_disable_failures(dl, ep), hours = dl_health_disable_hours(dl, ep);
    bool became_failing = false;
    char reason[256];

    ep->last_failure = now;
    if (ep->consecutive_failures++ == 0)
        ep->failing_since = now;
    dep->health_dirty = true;
    if (ep->state == EP_HEALTHY && ep->consecutive_failures >= ep->failing_after) {
        ep->state = EP_FAILING;
        became_failing = true;
    }
    span = (now - ep->failing_since) * dl->time_scale;
    if (max_failures > 0 && ep->consecutive_failures >= max_failures) {
        snprintf(reason, sizeof(reason), "%d consecutive failures, last: %.180s",
                 ep->consecutive_failures, o->error);
    } else if (hours > 0 && span >= hours * 3600000LL) {
        snprintf(reason, sizeof(reason), "failing for %d hours, last: %.180s", hours, o->error);
    } else {
        /* a 410 disables it next (dl_req_done): that mail says it all */
        if (became_failing && o->status != 410)
            dl_health_failing(dep, o);
        return;
    }
    if (became_failing) /* failing and disabled at once: one mail, the disabling */
        msg_warn("endpoint %s is failing: %d consecutive failures, last: %s", ep->name,
                 ep->consecutive_failures, o->error);
    dl_ep_disable(dep, reason);
}

