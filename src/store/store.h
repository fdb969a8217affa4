/* SPDX-License-Identifier: MIT */
/*
 * store.h - the durable store of mailhook, owned by one process (mailhookd).
 *
 * A transactional Berkeley DB environment in the state directory. It holds:
 *   events        the event log: append-only, ordered by a store sequence
 *                 number (the order the store received the events in),
 *                 each record the event's canonical JSON plus its type and
 *                 timestamp for filtering without parsing, and when the
 *                 store received it (retention counts from then)
 *   event ids     id -> sequence (lookup, and idempotent append: an id that
 *                 is already stored is not stored again)
 *   event times   (timestamp, sequence) index for time-range queries and
 *                 replay (by the events' own time)
 *   messages      message metadata keyed by MTA queue id (JSON)
 *   endpoints     subscriber endpoints keyed by name (JSON)
 *   queues        per-endpoint delivery queues: (endpoint, sequence) -> entry
 *   checkpoints   log-reader positions keyed by source name (opaque bytes)
 *   deliveries    the delivery log: one record per attempt, keyed by a
 *                 time-sortable delivery id (JSON); not counted in stats
 *
 * Recovery runs on open (DB_RECOVER), so a kill -9 at any instant leaves a
 * consistent store holding every committed transaction. Durability: a commit
 * returns only after the log is on disk (unless the store was opened with
 * nosync, for tests); callers batch many writes into one transaction (group
 * commit) so that one fsync covers many events.
 *
 * Every function returns 0 on success, -1 with err filled on failure
 * (except where noted). Functions taking a txn run inside it; the caller
 * commits or aborts. A store_t is used by one thread at a time. The list
 * below names them; the contract of each is at its prototype.
 *
 *   store_open(dir, opts, err)         open (and recover) the environment
 *   store_open_why(dir, opts, &no_space, err)
 *                                      the same, saying when space is short
 *   store_panicked(st)                 Berkeley DB failed for good
 *   store_close(st)                    checkpoint and close; NULL is fine
 *   store_begin(st, err)               a transaction
 *   store_commit(txn, err) / store_abort(txn)
 *                                      end it (and free it)
 *   store_txn_on_end(txn, fn, ctx)     a hook run when txn ends
 *   store_event_append(txn, id, type, ts_ms, recv_ms, json, len, &seq,
 *       &result, err)                  append one event (idempotent by id)
 *   store_event_get(st, id, &json, &len, err)
 *   store_event_get_seq(st, seq, &json, &len, err)
 *                                      an event's JSON by id / by sequence
 *   store_event_read(st, seq, r, err) / store_event_rec_free(r)
 *                                      an event record as stored
 *   store_event_find(st, id, &seq, err)  an event's sequence number
 *   store_event_scan(st, q, cb, ctx, err)  the events a query matches
 *   store_event_expire(st, before_ms, max, &deleted, err)  retention
 *   store_kv_put(txn, t, key, val, len, err), store_kv_get(st, t, key,
 *       &val, &len, err), store_kv_del(txn, t, key, err)
 *                                      the small keyed tables
 *   store_kv_scan(st, t, from, cb, ctx, err)  keys in byte order
 *   store_kv_expire(st, t, bound, max, &deleted, err)  delete keys < bound
 *   store_queue_push(txn, endpoint, seq, entry, len, err)
 *   store_queue_remove(txn, endpoint, seq, err)
 *                                      a delivery queue's entries
 *   store_queue_scan(st, endpoint, from_seq, limit, cb, ctx, err)
 *   store_queue_count(st, endpoint, &n, err)
 *   store_space_check(st, err)         may new data go in (a full disk)
 *   store_space_full(st) / store_space_status(st, out)
 *   store_free_bytes(dir)              bytes free on dir's file system
 *   store_stats(st, out, err)          counts and sizes
 *   store_backup(st, target, err)      a hot backup into directory target
 *                                      (store_bdb_backup.c)
 */
#ifndef MH_STORE_H
#define MH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "msg.h"

typedef struct store store_t;
typedef struct store_txn store_txn_t;

struct store_opts {
    bool nosync;        /* commit without fsync: tests and benchmarks only */
    size_t cache_bytes; /* Berkeley DB cache size; 0 = default (32 MiB) */
    uint32_t log_file_bytes; /* size of each log file; 0 = default (8 MiB); at most
                                an eighth of the file system (said at open) */
};

store_t *store_open(const char *dir, const struct store_opts *opts, mh_err_t *err);
/* Berkeley DB failed for good (a panic): every call fails from now on, and
 * only closing the store and opening it again (recovery) helps. */
bool store_panicked(const store_t *st);
/* The same; when it fails for lack of space to run recovery, *no_space is
 * set and err says how much is free and what recovery needs. */
store_t *store_open_why(const char *dir, const struct store_opts *opts, bool *no_space,
                        mh_err_t *err);
void store_close(store_t *st); /* NULL is fine; checkpoints the log */

store_txn_t *store_begin(store_t *st, mh_err_t *err);
int store_commit(store_txn_t *txn, mh_err_t *err); /* frees txn, even on error */
void store_abort(store_txn_t *txn);                /* frees txn; NULL is fine */

/* Run fn(ctx, committed) when txn ends: committed is true after a
 * successful commit, false after an abort or a failed commit. Hooks run in
 * the order they were added, on the thread that ends the transaction. */
typedef void (*store_txn_hook)(void *ctx, bool committed);
void store_txn_on_end(store_txn_t *txn, store_txn_hook fn, void *ctx);

/* ---- events */
enum store_append_result {
    STORE_ADDED = 0,
    STORE_DUPLICATE = 1,
    STORE_SUPERSEDED = 2, /* not stored by the caller: another event stands for it
                            (the milter's email.sent for the maillog reader's) */
    STORE_HELD = 3        /* not stored yet: held for the milter's record (enrich.h) */
};

/* Append one event (canonical JSON of an event_t): ts_ms is its own time,
 * recv_ms when the store received it (now, for the daemon). *result tells
 * whether it was added or its id was already stored; *seq receives its
 * sequence number (the existing one for a duplicate). */
int store_event_append(store_txn_t *txn, const char *id, const char *type, int64_t ts_ms,
                       int64_t recv_ms, const char *json, size_t len, uint64_t *seq,
                       enum store_append_result *result, mh_err_t *err);

/* Fetch an event's JSON by id; *json is malloc'ed, caller frees.
 * Returns 1 when not found (err untouched). */
int store_event_get(store_t *st, const char *id, char **json, size_t *len, mh_err_t *err);
int store_event_get_seq(store_t *st, uint64_t seq, char **json, size_t *len, mh_err_t *err);
/* An event record by sequence number, as stored: id, type and times come
 * from the record, so the reader need not parse the JSON for them. The
 * strings are not NUL-terminated and point into buf: valid until
 * store_event_rec_free(). 0, 1 when not found, -1 on error. recv_ms: when
 * the store received it; for a record stored before receipt times were
 * kept, its ts_ms or, when later, the first open that kept them. */
struct store_event_rec {
    const char *id, *type, *json;
    size_t id_len, type_len, json_len;
    int64_t ts_ms, recv_ms;
    void *buf;
};
int store_event_read(store_t *st, uint64_t seq, struct store_event_rec *r, mh_err_t *err);
void store_event_rec_free(struct store_event_rec *r);
/* The sequence number of event id; 1 when not found. */
int store_event_find(store_t *st, const char *id, uint64_t *seq, mh_err_t *err);

struct store_query {
    int64_t since_ms;  /* inclusive; 0 = no bound (event timestamp) */
    int64_t until_ms;  /* exclusive; 0 = no bound */
    const char *type;  /* exact type, or "prefix.*" wildcard; NULL = all */
    size_t limit;      /* 0 = no limit */
    uint64_t after_seq; /* resume: only events with a larger sequence; 0 = from start */
    uint64_t start_seq; /* resume in time order: start at (since_ms, start_seq) */
};
/* Calls cb for each matching event in timestamp order (then sequence order).
 * cb returns 0 to continue, non-zero to stop (the scan then returns 0). */
typedef int (*store_event_cb)(void *ctx, uint64_t seq, const char *json, size_t len);
int store_event_scan(store_t *st, const struct store_query *q, store_event_cb cb, void *ctx,
                     mh_err_t *err);

/* Retention: delete events the store received before before_ms, oldest
 * first, at most max of them in one call and one transaction of its own
 * (no transaction may be open; max 0 = as many as one transaction holds),
 * so retention never holds the store for long; *deleted = count. The
 * events' own timestamps play no part. An event still in any delivery
 * queue is never deleted: it is kept until it leaves every queue, and a
 * later call deletes it then. Returns 0 when the call got to the events
 * received since before_ms (nothing more to do now), 1 when it stopped
 * early (max deleted, or its share of events looked at): call again;
 * -1 on error. */
int store_event_expire(store_t *st, int64_t before_ms, size_t max, size_t *deleted, mh_err_t *err);

/* ---- message metadata, endpoints, checkpoints: small keyed JSON/blob tables */
enum store_table { STORE_MESSAGES, STORE_ENDPOINTS, STORE_CHECKPOINTS, STORE_DELIVERIES };
int store_kv_put(store_txn_t *txn, enum store_table t, const char *key, const void *val,
                 size_t len, mh_err_t *err);
/* Returns 1 when not found. *val malloc'ed (NUL-terminated for convenience). */
int store_kv_get(store_t *st, enum store_table t, const char *key, void **val, size_t *len,
                 mh_err_t *err);
int store_kv_del(store_txn_t *txn, enum store_table t, const char *key, mh_err_t *err); /* 1 = absent */
/* Keys in byte order, from the first key >= from (NULL = the first). */
typedef int (*store_kv_cb)(void *ctx, const char *key, const void *val, size_t len);
int store_kv_scan(store_t *st, enum store_table t, const char *from, store_kv_cb cb, void *ctx,
                  mh_err_t *err);
/* Delete keys < bound, at most max of them, in one transaction of its own
 * (no transaction may be open); *deleted = count. */
int store_kv_expire(store_t *st, enum store_table t, const char *bound, size_t max,
                    size_t *deleted, mh_err_t *err);

/* ---- per-endpoint delivery queues (entries are opaque bytes, ordered by seq) */
int store_queue_push(store_txn_t *txn, const char *endpoint, uint64_t seq, const void *entry,
                     size_t len, mh_err_t *err);
int store_queue_remove(store_txn_t *txn, const char *endpoint, uint64_t seq, mh_err_t *err);
/* Entries of endpoint with seq >= from_seq, in seq order, at most limit
 * (0 = no limit). */
typedef int (*store_queue_cb)(void *ctx, uint64_t seq, const void *entry, size_t len);
int store_queue_scan(store_t *st, const char *endpoint, uint64_t from_seq, size_t limit,
                     store_queue_cb cb, void *ctx, mh_err_t *err);
/* Number of entries of endpoint (walks them: for admin commands). */
int store_queue_count(store_t *st, const char *endpoint, uint64_t *n, mh_err_t *err);

/* ---- disk space
 * A write that fails for lack of space (ENOSPC, EDQUOT) makes the store
 * "full": logged once, and new data is refused (store_space_check) until a
 * checkpoint goes through again, tried at most once a second by
 * store_space_check and store_space_status. Reads, and writes that need no
 * new space (delivery bookkeeping), go on meanwhile. */
struct store_space {
    bool full;           /* new data is refused */
    int64_t since_ms;    /* wall clock: since when (0 when not full) */
    char cause[200];     /* Berkeley DB's message about the write that failed */
    uint64_t free_bytes; /* available on the state directory's file system */
    uint64_t spells;     /* times the store filled up since it was opened */
};
/* 0 when new data may go in; -1 and err saying why not when full. */
int store_space_check(store_t *st, mh_err_t *err);
bool store_space_full(const store_t *st); /* no probe */
void store_space_status(store_t *st, struct store_space *out);
/* The bytes of dir's file system available to this process; UINT64_MAX
 * when statvfs fails (unknown). Needs no open store. */
uint64_t store_free_bytes(const char *dir);

/* ---- statistics */
struct store_stats {
    uint64_t events;        /* records in the event log */
    uint64_t last_seq;      /* highest sequence number ever assigned */
    uint64_t messages;      /* message metadata records */
    uint64_t endpoints;
    uint64_t queued;        /* entries in all delivery queues */
    uint64_t bytes_on_disk; /* databases + logs in the state directory */
    struct store_space space;
};
int store_stats(store_t *st, struct store_stats *out, mh_err_t *err);

/* ---- backup
 * A hot backup into target, an existing empty directory (or one Berkeley
 * DB creates): a checkpoint, then every database and the log files still
 * kept, in one directory that is a state directory of its own (opening it
 * runs recovery). No transaction may be open; nothing is written meanwhile
 * (the caller's thread does the copy). A failure may leave files behind. */
int store_backup(store_t *st, const char *target, mh_err_t *err);

#endif
