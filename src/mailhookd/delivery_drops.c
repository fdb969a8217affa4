/* SPDX-License-Identifier: MIT */
/*
 * delivery_drops.c - the warnings about events an endpoint gave up on
 * (delivery_int.h): dropped when its retry schedule ran out, skipped when
 * its transform failed on them. Each kind is a spell (struct dl_spell),
 * said at most once per DROP_LOG_INTERVAL_MS (divided by
 * delivery_time_scale) per endpoint, so that a dead endpoint or a broken
 * transform at volume does not flood the mail log with a line per event.
 *
 * Model. The first event of a quiet spell is said at once, as one line
 * naming it; it opens an interval (a timer). Events within it are only
 * counted; when it ends, one line says "N events dropped for endpoint X
 * in the last M s" with the last of them, and a new interval opens; an
 * interval without events ends the spell. The counters (delivery_status)
 * are the callers', kept whatever the log says. A count not said yet is
 * said when the endpoint goes away (removed, or mailhookd stopping):
 * dl_drops_flush.
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

/* The count not said yet, said now. */
static void dl_spell_say(struct dl_ep *dep, struct dl_spell *sp)
{
    int64_t secs = (time_mono_ms() - sp->since_mono + 999) / 1000;

    if (sp->unsaid > 0 && sp == &dep->drop_spell)
        msg_warn("%llu events dropped for endpoint %s in the last %lld s (retry schedule "
                 "exhausted), last: event %s after %d attempts: %s",
                 (unsigned long long)sp->unsaid, dep->ep->name, (long long)secs, sp->last_id,
                 sp->last_attempts, sp->last_error);
    else if (sp->unsaid > 0)
        msg_warn("%llu events skipped for endpoint %s in the last %lld s (transform errors), "
                 "last: event %s: %s",
                 (unsigned long long)sp->unsaid, dep->ep->name, (long long)secs, sp->last_id,
                 sp->last_error);
    sp->unsaid = 0;
}

static void dl_spell_fired(evloop_t *l, void *ctx)
{
    struct dl_spell *sp = ctx;

    sp->timer = 0;
    if (sp->unsaid == 0)
        return; /* a quiet interval: the spell is over */
    dl_spell_say(sp->dep, sp);
    sp->since_mono = time_mono_ms();
    sp->timer = evloop_timer_add(sp->dep->dl->loop, dl_drops_interval_ms(sp->dep->dl),
                                 dl_spell_fired, sp);
}

void dl_spell_note(struct dl_ep *dep, struct dl_spell *sp, const char *id, int attempts,
                   const char *error)
{
    delivery_t *dl = dep->dl;

    if (sp->timer == 0) { /* a quiet spell: said at once */
        if (sp == &dep->drop_spell)
            msg_warn("endpoint %s: event %s dropped after %d attempts, last: %s", dep->ep->name,
                     id, attempts, error);
        else
            msg_warn("endpoint %s: event %s skipped: %s", dep->ep->name, id, error);
        sp->dep = dep;
        sp->since_mono = time_mono_ms();
        sp->timer = evloop_timer_add(dl->loop, dl_drops_interval_ms(dl), dl_spell_fired, sp);
        return;
    }
    sp->unsaid++;
    snprintf(sp->last_id, sizeof(sp->last_id), "%s", id);
    snprintf(sp->last_error, sizeof(sp->last_error), "%s", error);
    sp->last_attempts = attempts;
}

void dl_drops_note(struct dl_ep *dep, const char *id, int attempts, const char *error)
{
    dep->dl->dropped_retries++;
    dep->dropped++;
    dl_spell_note(dep, &dep->drop_spell, id, attempts, error);
}

void dl_drops_flush(struct dl_ep *dep)
{
    struct dl_spell *spells[] = { &dep->drop_spell, &dep->xform_spell };

    for (size_t i = 0; i < sizeof(spells) / sizeof(spells[0]); i++) {
        if (spells[i]->timer)
            evloop_timer_cancel(dep->dl->loop, spells[i]->timer);
        spells[i]->timer = 0;
        dl_spell_say(dep, spells[i]);
    }
}
