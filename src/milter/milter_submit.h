/* SPDX-License-Identifier: MIT */
/*
 * milter_submit.h - hand mailhook-milter's events to mailhookd without ever
 * making the MTA wait for it.
 *
 * Milter callbacks run while an SMTP client waits, so they never talk to
 * mailhookd: milter_submit_events() puts the events on a bounded in-memory
 * queue and returns. One submitter thread owns the ingest handle (ingest.h)
 * and sends what is queued, pipelined, then flushes; the ingest library
 * spools to local disk whatever mailhookd does not take.
 *
 *   milter_submit_start(ingest_socket, spool_dir, max_queued)
 *                          start the submitter thread (signals SIGTERM,
 *                          SIGINT, SIGHUP blocked in it: libmilter's signal
 *                          thread handles them); NULL + log when it cannot
 *   milter_submit_events(s, evs, n)
 *                          CALLBACK SIDE: take ownership of n events (and of
 *                          the evs array); queue them, or, when the queue
 *                          holds max_queued events already, write them to the
 *                          spool directly (local disk only) and count that;
 *                          never blocks on mailhookd
 *   milter_submit_stop(s)  send everything still queued, flush, join the
 *                          thread, free; returns NULL
 *   milter_submit_stats(s, &st)  counters (thread-safe)
 *
 * Failures are logged (msg_warn) and counted, never returned: a lost event
 * must not hold up mail. *
 * TEST ONLY: with the environment variable MILTER_SUBMIT_TEST_GATE naming
 * a file, the thread holds every list it takes until that file exists (or
 * the milter stops, or 600 s pass): the suite uses it to make the MTA
 * deliver a message before mailhookd has the milter's record, in that
 * order every time (tests/t0430-milter-race.sh). Never set it otherwise.
 */
#ifndef MH_MILTER_SUBMIT_H
#define MH_MILTER_SUBMIT_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"

#define MILTER_SUBMIT_TEST_GATE "MAILHOOK_MILTER_TEST_GATE"

typedef struct milter_submit milter_submit_t;

struct milter_submit_stats {
    uint64_t queued;         /* events handed to the submitter thread */
    uint64_t spooled_direct; /* queue full: written to the spool by the callback */
    uint64_t lost;           /* neither queued, sent nor spooled */
};

milter_submit_t *milter_submit_start(const char *ingest_socket, const char *spool_dir,
                                     size_t max_queued);
void milter_submit_events(milter_submit_t *s, event_t **evs, size_t n);
milter_submit_t *milter_submit_stop(milter_submit_t *s);
void milter_submit_stats(milter_submit_t *s, struct milter_submit_stats *st);

#endif
