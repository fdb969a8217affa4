/* SPDX-License-Identifier: MIT */
/*
 * append.h - the one path into the store: every event that enters
 * mailhookd (ingest socket, spool, maillog readers, backfill) is written
 * here, on the store thread (storeq.h): one transaction for a whole batch
 * (group commit), idempotent by event id, each event enriched with its
 * message's stored metadata (enrich.h), and a newly stored event queued, in
 * the same transaction, for every endpoint it matches (fanout.h).
 *
 * The append context is made by daemon.c and handed to each producer's
 * constructor: it holds the fan-out (passed in, never a global) and the
 * daemon's counters (mhd_counters.h).
 *
 *   append_new(fo, ctr)        the context; fo may be NULL (no fan-out),
 *                              ctr is counted into by append_count
 *   append_free(a)             returns NULL; NULL is fine
 *   append_events(a, st, evs, n, res, err)
 *                              STORE THREAD: append n events in one
 *                              transaction and commit; res[i] says what
 *                              became of evs[i]
 *   append_events_txn(a, st, txn, evs, n, res, err)
 *                              STORE THREAD: the same inside the caller's
 *                              transaction. After the batch, the log
 *                              events held for the milter's email.sent in
 *                              it are stored
 *   append_log_events_txn(a, st, txn, evs, n, hold_until_ms, res, err)
 *                              STORE THREAD: the same for the log reader
 *                              (which commits its position with its
 *                              events): events may be held for the
 *                              milter's record until hold_until_ms
 *                              (enrich.h; 0 = never), res STORE_HELD
 *   append_count(a, res, n)    LOOP THREAD: account for a committed batch
 *                              (commits, ingested, duplicates, superseded,
 *                              held)
 *
 * Errors: -1 with err set (the store's words); nothing is committed then.
 */
#ifndef MH_APPEND_H
#define MH_APPEND_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "fanout.h"
#include "mhd_counters.h"
#include "store.h"

typedef struct append append_t;

append_t *append_new(fanout_t *fo, struct mhd_counters *ctr);
append_t *append_free(append_t *a);
int append_events(append_t *a, store_t *st, event_t *const *evs, size_t n,
                  enum store_append_result *res, mh_err_t *err);
int append_events_txn(append_t *a, store_t *st, store_txn_t *txn, event_t *const *evs, size_t n,
                      enum store_append_result *res, mh_err_t *err);
int append_log_events_txn(append_t *a, store_t *st, store_txn_t *txn, event_t *const *evs,
                          size_t n, int64_t hold_until_ms, enum store_append_result *res,
                          mh_err_t *err);
void append_count(append_t *a, const enum store_append_result *res, size_t n);

#endif
