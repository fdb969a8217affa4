/* SPDX-License-Identifier: MIT */
/*
 * ingest.h - the producer library: how the milter, the tracker, the DSN
 * reader and mailhookctl hand events to mailhookd. Producers never open the
 * store; the socket's and spool's permissions are all they need.
 *
 *   ingest_open(socket_path, spool_dir, opts)
 *                                     a producer handle; does not connect yet
 *   ingest_submit(h, ev, err)         synchronous: returns when the event is
 *                                     committed by mailhookd (INGEST_COMMITTED)
 *                                     or durably spooled (INGEST_SPOOLED);
 *                                     -1 + err when it was rejected as invalid,
 *                                     INGEST_ETEMP + err when it could be
 *                                     neither sent nor spooled (a full disk:
 *                                     the caller tries again later)
 *   ingest_send(h, ev, err)           pipelined: queue and send without
 *                                     waiting; up to opts.window unacked
 *   ingest_flush(h, err)              wait until every sent event is
 *                                     committed or spooled
 *   ingest_get_stats(h, &out)         counters (struct ingest_stats)
 *   ingest_close(h)                   flushes, then frees; returns NULL
 *
 * Failure handling: if mailhookd cannot be reached, does not answer within
 * opts.timeout_ms, or answers with a temporary failure, each affected event
 * is written to the spool (spool.h) and counts as delivered to mailhook: the
 * daemon drains the spool. An event whose fate is unknown (connection lost
 * after sending) is spooled too; the store ignores an id it already holds,
 * so this never creates a duplicate.
 *
 * After a connection failure the handle does not try the socket again for
 * opts.retry_ms (it spools directly), so a dead daemon costs a producer one
 * failed connect per interval, not one per event.
 *
 * Statistics (for the benchmark and for status): counts and ack latencies.
 * A handle is used by one thread at a time.
 */
#ifndef MH_INGEST_H
#define MH_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"
#include "msg.h"

typedef struct ingest ingest_t;

struct ingest_opts {
    int timeout_ms;  /* connect + ack wait; default 2000 */
    int retry_ms;    /* after a failure, spool directly for this long; default 1000 */
    size_t window;   /* max unacked pipelined events; default 1024 */
    /* Optional: called with each ack latency in microseconds (bench). */
    void (*on_ack)(void *ctx, int64_t latency_us);
    void *on_ack_ctx;
};

enum ingest_outcome { INGEST_COMMITTED = 0, INGEST_SPOOLED = 1 };
#define INGEST_ETEMP (-2) /* ingest_submit: neither stored nor spooled, not rejected */

struct ingest_stats {
    uint64_t committed, spooled, rejected;
};

ingest_t *ingest_open(const char *socket_path, const char *spool_dir,
                      const struct ingest_opts *opts);
int ingest_submit(ingest_t *h, const event_t *ev, mh_err_t *err); /* >=0: enum ingest_outcome */
int ingest_send(ingest_t *h, const event_t *ev, mh_err_t *err);
int ingest_flush(ingest_t *h, mh_err_t *err);
void ingest_get_stats(const ingest_t *h, struct ingest_stats *out);
ingest_t *ingest_close(ingest_t *h);

#endif
