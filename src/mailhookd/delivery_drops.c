/* SPDX-License-Identifier: MIT */
/*
 * delivery_drops.c - the warning about events an endpoint's retry schedule
 * gave up on (delivery_int.h), said at most once per DROP_LOG_INTERVAL_MS
 * (divided by delivery_time_scale) per endpoint, so that a dead endpoint at
 * volume does not flood the mail log with a line per event.
 *
 * Model. The first drop of a quiet endpoint is said at once, as one line
 * naming the event; it opens an interval (a timer). Drops within it are
 * only counted; when it ends, one line says "N events dropped for endpoint
 * X in the last M s" with the last of them, and a new interval opens; an
 * interval without drops ends the spell. Every drop counts in the
 * endpoint's "dropped" (delivery_status) and in "dropped_retries" at once,
 * whatever the log says. A count not said yet is said when the endpoint
 * goes away (removed, or mailhookd stopping): dl_drops_flush.
 */
#include "config.h"

#include <stdio.h>

#include "delivery_int.h"
#include "timeutil.h"

#define DROP_LOG_INTERVAL_MS 60000

static int64_t dl_drops_interval_ms(const delivery_t *dl)
{
    int64_t ms = DROP_LOG_INTERVAL_MS / dl->time_scale;

    return ms < 1 ? 1 : ms;
}

/* The count not said yet, said now; the spell ends. */
static void dl_drops_say(struct dl_ep *dep)
{
    int64_t secs = (time_mono_ms() - dep->drop_since_mono + 999) / 1000;

    if (dep->drop_unsaid > 0)
        msg_warn("%llu events dropped for endpoint %s in the last %lld s (retry schedule "
                 "exhausted), last: event %s after %d attempts: %s",
                 (unsigned long long)dep->drop_unsaid, dep->ep->name, (long long)secs,
                 dep->drop_last_id, dep->drop_last_attempts, dep->drop_last_error);
    dep->drop_unsaid = 0;
}

static void dl_drops_fired(evloop_t *l, void *ctx)
{
    struct dl_ep *dep = ctx;

    dep->drop_timer = 0;
    if (dep->drop_unsaid == 0)
        return; /* a quiet interval: the spell is over */
    dl_drops_say(dep);
    dep->drop_since_mono = time_mono_ms();
    dep->drop_timer = evloop_timer_add(dep->dl->loop, dl_drops_interval_ms(dep->dl),
                                       dl_drops_fired, dep);
}

void dl_drops_note(struct dl_ep *dep, const char *id, int attempts, const char *error)
{
    delivery_t *dl = dep->dl;

    dl->dropped_retries++;
    dep->dropped++;
    if (dep->drop_timer == 0) { /* a quiet endpoint: said at once */
        msg_warn("endpoint %s: event %s dropped after %d attempts, last: %s", dep->ep->name, id,
                 attempts, error);
        dep->drop_since_mono = time_mono_ms();
        dep->drop_timer = evloop_timer_add(dl->loop, dl_drops_interval_ms(dl), dl_drops_fired,
                                           dep);
        return;
    }
    dep->drop_unsaid++;
    snprintf(dep->drop_last_id, sizeof(dep->drop_last_id), "%s", id);
    snprintf(dep->drop_last_error, sizeof(dep->drop_last_error), "%s", error);
    dep->drop_last_attempts = attempts;
}

void dl_drops_flush(struct dl_ep *dep)
{
    if (dep->drop_timer)
        evloop_timer_cancel(dep->dl->loop, dep->drop_timer);
    dep->drop_timer = 0;
    dl_drops_say(dep);
}
