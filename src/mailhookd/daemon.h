/*
 * daemon.h - mailhookd's shared state and the one path into the store.
 *
 * Every event that enters mailhookd, from the ingest socket or from the
 * spool, is written by daemon_append_events() on the store thread
 * (storeq.h): one transaction for a whole batch (group commit), idempotent
 * by event id, each event enriched with its message's stored metadata
 * (enrich.h). Later subsystems (delivery fan-out) hook in there, inside the
 * same transaction.
 *
 *   daemon_run(conf, config_path, foreground)  the daemon's life; takes over
 *                                              the caller's reference to conf;
 *                                              returns the exit code
 *   daemon_append_events(st, evs, n, res, err) STORE THREAD: append n events
 *                                              in one transaction and commit
 *   daemon_append_events_txn(st, txn, evs, n, res, err)
 *                                              STORE THREAD: the same inside
 *                                              the caller's transaction.
 *                                              After the batch, the log
 *                                              events held for the milter's
 *                                              email.sent in it are stored
 *   daemon_append_log_events_txn(st, txn, evs, n, hold_until_ms, res, err)
 *                                              STORE THREAD: the same for
 *                                              the log reader (which commits
 *                                              its position with its events):
 *                                              events may be held for the
 *                                              milter's record until
 *                                              hold_until_ms (enrich.h;
 *                                              0 = never), res STORE_HELD
 *   daemon_count_appended(d, res, n)           LOOP THREAD: account for them
 *   daemon_check_conf(conf, err)               what conf_load cannot check:
 *                                              endpoints, the SSRF allow-list;
 *                                              err reads "FILE[:LINE]: ..."
 *                                              like conf_load's
 *
 * A newly stored event is queued, in the same transaction, for every
 * endpoint it matches (fanout.h).
 */
#ifndef MH_DAEMON_H
#define MH_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "enrich.h"
#include "event.h"
#include "evloop.h"
#include "store.h"

struct daemon_counters {
    uint64_t ingested;      /* events newly stored, any source */
    uint64_t duplicates;    /* events whose id was already stored */
    uint64_t superseded;    /* email.sent dropped: another for the recipient stands for it */
    uint64_t held;          /* maillog events held for the milter's record (enrich.h);
                               stored when it comes, in its transaction (not
                               counted as ingested then) */
    uint64_t unenriched;    /* held events released after milter_wait without it */
    uint64_t rejected;      /* invalid events refused on the ingest socket */
    uint64_t tempfailed;    /* events answered with a temporary failure */
    uint64_t commits;       /* store transactions committed */
    uint64_t spool_files;   /* spool files drained */
    uint64_t spool_events;  /* events read from the spool */
    uint64_t quarantined;   /* spool files moved to bad/ */
    uint64_t expired;       /* events removed by retention */
    uint64_t records_expired; /* message records (enrich.h) removed by retention */
    uint64_t deliveries_expired; /* delivery log records removed by retention */
    uint64_t retention_passes; /* retention passes over the events finished */
    uint64_t reloads;       /* successful config reloads */
};

struct ingest_server;
struct storeq;
struct admin_server;
struct spool_drain;
struct maillog_reader;
struct fanout;
struct delivery;

typedef struct daemon {
    mh_conf_t *conf; /* current snapshot; replaced on SIGHUP */
    const char *config_path;
    store_t *store;         /* touched only on the store thread, via storeq */
    struct storeq *storeq;
    evloop_t *loop;
    struct ingest_server *ingest;
    struct admin_server *admin;
    struct spool_drain *drain;
    struct fanout *fanout;     /* endpoint matching: store thread; hand-over: loop */
    struct delivery *delivery; /* the delivery engine (loop thread) */
    struct maillog_reader **readers; /* one per configured maillog source */
    size_t nreaders;
    int signal_fd;
    int64_t started_ms;
    int64_t stop_deadline_ms; /* monotonic; 0 while running */
    bool stopping;
    uint64_t expire_timer;    /* the next retention pass; 0 while one runs or stopping */
    struct daemon_counters ctr;
    /* store thread (retention jobs only): where the next pass over the
     * message records goes on, "" = the first (enrich_expire) */
    char records_cursor[ENRICH_CURSOR];
} daemon_t;

int daemon_run(mh_conf_t *conf, const char *config_path, bool foreground);
int daemon_check_conf(const mh_conf_t *conf, mh_err_t *err);
int daemon_append_events(store_t *st, event_t *const *evs, size_t n,
                         enum store_append_result *res, mh_err_t *err);
int daemon_append_events_txn(store_t *st, store_txn_t *txn, event_t *const *evs, size_t n,
                             enum store_append_result *res, mh_err_t *err);
int daemon_append_log_events_txn(store_t *st, store_txn_t *txn, event_t *const *evs, size_t n,
                                 int64_t hold_until_ms, enum store_append_result *res,
                                 mh_err_t *err);
void daemon_count_appended(daemon_t *d, const enum store_append_result *res, size_t n);

#endif
