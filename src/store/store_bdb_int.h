/* SPDX-License-Identifier: MIT */
/*
 * store_bdb_int.h - private to store_bdb.c, store_bdb_event.c,
 * store_bdb_queue.c and store_bdb_space.c, the parts of the Berkeley DB
 * store (store.h). Nothing else includes it but the unit test of the store
 * on a full disk.
 *
 *   struct store, struct store_txn   the handles behind store_t, store_txn_t
 *   D_* / C_*                        database files / counted tables
 *   dbt_set, dbt_usermem             fill a DBT to send / to receive into
 *   read_txn                         the transaction reads run in
 *   copy_cstr                        a NUL-terminated copy for the caller
 *   bdb_err                          "store: <what>: <db_strerror>" into err
 *   bdb_space_*                      a full file system (store_bdb_space.c)
 *   bdb_walker_*                     cursor-per-record scans (store_bdb.c)
 *   bdb_put_counted, bdb_del_counted a put / delete that keeps the counts
 *   bdb_queue_names, bdb_queue_names_free, bdb_queued
 *                                    is an event in some delivery queue
 *                                    (store_bdb_queue.c, for expiry)
 *   bdb_events_open                  the event log's part of store_open
 *                                    (store_bdb_event.c)
 *
 * The layout of the databases, the sequence numbers and the locking
 * contract are described at the top of store_bdb.c.
 */
#ifndef MH_STORE_BDB_INT_H
#define MH_STORE_BDB_INT_H

#include <db.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/queue.h>

#include "msg.h"
#include "store.h"
#include "strutil.h" /* put_be64, get_be64: keys and fields */
#include "xalloc.h"

#define LOCKS_MAX 50000            /* lock table: ~18 MB region, room for... */
#define EXPIRE_TXN_MAX 20000       /* ...at most this many expiries per call */
#define NAME_MAXLEN 255            /* ids, types and endpoint names: 1 to this */

enum { D_EVENTS, D_EVENT_IDS, D_EVENT_TIMES, D_MESSAGES, D_ENDPOINTS, D_CHECKPOINTS,
       D_QUEUES, D_META, D_DELIVERIES, D_N };

/* Counted tables, in the order of the counts in the meta record. */
enum { C_EVENTS, C_MESSAGES, C_ENDPOINTS, C_CHECKPOINTS, C_QUEUED, C_N };

/* The store on a full file system (store_bdb_space.c). */
enum { SPACE_OK, SPACE_FULL, SPACE_PROBATION /* a probe went through, no commit yet */ };

struct bdb_space {
    int state;           /* SPACE_* */
    int64_t since_ms;    /* wall clock: when the spell began */
    int64_t probe_ms;    /* monotonic: the last failure or probe */
    char cause[200];     /* Berkeley DB's first message of the spell */
    uint64_t spells;     /* since the store was opened */
    uint64_t suppressed; /* messages not logged in this spell */
    uint64_t writes_refused; /* messages about a write refused for lack of space */
};

struct store {
    DB_ENV *env;         /* owned; closed by store_close */
    bool env_open;       /* env->open succeeded */
    bool panicked;       /* Berkeley DB failed for good since (store_panicked) */
    DB *db[D_N];         /* owned; NULL until created */
    char *dir;           /* owned copy */
    uint32_t log_file_bytes; /* size of each log file; a checkpoint each as much */
    uint64_t last_seq;   /* highest sequence ever assigned; never decreases */
    uint64_t count[C_N]; /* committed record counts */
    store_txn_t *cur;    /* the open transaction (the caller's), or NULL */
    unsigned char *rec;  /* owned; encoding buffer reused by every append */
    size_t rec_size;
    int64_t recv_since;  /* meta.db "recv_since": every event record without a
                            receipt time (version 1) was received before it */
    uint64_t expire_from; /* the sequence number the next expiry walk starts at */
    struct bdb_space space;
};

struct txn_hook {
    store_txn_hook fn;
    void *ctx;
    STAILQ_ENTRY(txn_hook) link;
};

struct store_txn {
    store_t *st;
    STAILQ_HEAD(, txn_hook) hooks; /* owned; run in order at commit or abort */
    DB_TXN *tid;         /* freed by BDB at commit/abort */
    int64_t delta[C_N];  /* count changes, applied to st->count at commit */
    bool dirty;          /* meta.db must be rewritten at commit */
};

/* ---- small helpers */

static inline void dbt_set(DBT *d, const void *data, size_t len)
{
    memset(d, 0, sizeof(*d));
    d->data = (void *)data;
    d->size = (u_int32_t)len;
}

/* Receive into buf; with DB_DBT_PARTIAL added and size 0, receive nothing. */
static inline void dbt_usermem(DBT *d, void *buf, size_t size)
{
    memset(d, 0, sizeof(*d));
    d->data = buf;
    d->ulen = (u_int32_t)size;
    d->flags = DB_DBT_USERMEM;
}

/* Reads run inside the open transaction, if any (see the locking contract). */
static inline DB_TXN *read_txn(const store_t *st)
{
    return st->cur ? st->cur->tid : NULL;
}

/* A malloc'ed, NUL-terminated copy of len bytes at p: the caller's. */
static inline char *copy_cstr(const void *p, size_t len)
{
    char *s = xmalloc(len + 1);

    if (len)
        memcpy(s, p, len);
    s[len] = 0;
    return s;
}

/* Fill err with "store: <what>: <db_strerror(ret)>"; returns -1. */
int bdb_err(mh_err_t *err, const char *what, int ret);

/* ---- counted puts and deletes (store_bdb.c) */

/* Insert or replace k -> v in db d, counting new keys in counter c (< 0:
 * an uncounted table). */
int bdb_put_counted(store_txn_t *txn, int d, int c, DBT *k, DBT *v, mh_err_t *err);
/* Delete k from db d: 0 deleted, 1 absent, -1 error. */
int bdb_del_counted(store_txn_t *txn, int d, int c, DBT *k, mh_err_t *err);

/* ---- a full file system (store_bdb_space.c) */

/* A message of Berkeley DB's: true when it is not to be logged (the store
 * is full, or it just became so: this message says why). */
bool bdb_space_notice(store_t *st, const char *text);
/* A commit went through (ends a full spell after a successful probe). */
void bdb_space_committed(store_t *st);
/* Fill err with why store_open could not recover (the store became full
 * while it tried) and the space recovery needs; returns -1. */
int bdb_space_open_failed(const store_t *st, mh_err_t *err);

/* ---- scans: a cursor per record, closed before the callback runs */

struct walker {
    DBT key, val;           /* DB_DBT_REALLOC, owned */
    unsigned char *pos;     /* owned; where to resume: the start or the last key */
    size_t pos_len;
    bool skip;              /* pos was returned already: move past it */
    char *copy;             /* owned; NUL-terminated copies for the callback */
    size_t copy_size;
};

/* Start at the first key >= start (len bytes; NULL and 0 for the first key).
 * bdb_walker_free releases what the walker owns. */
void bdb_walker_init(struct walker *w, const void *start, size_t len);
void bdb_walker_free(struct walker *w);

/* The next record at or after pos (past it once one was returned) into
 * w->key and w->val: 0, 1 at the end, -1 on error. Reads in read_txn(st). */
int bdb_walker_next(store_t *st, DB *db, struct walker *w, mh_err_t *err);

/* Copy a and b into w->copy, each NUL-terminated; b lands at copy + alen + 1.
 * The copy is the walker's, valid until the next call or bdb_walker_free. */
char *bdb_walker_copy(struct walker *w, const void *a, size_t alen, const void *b, size_t blen);

/* ---- delivery queues, for expiry (store_bdb_queue.c) */

/* The endpoints that have queue entries (the distinct names in queues.db),
 * read in read_txn(st): *names is a malloc'ed array of *n malloc'ed
 * strings, freed with bdb_queue_names_free. */
int bdb_queue_names(store_t *st, char ***names, size_t *n, mh_err_t *err);
void bdb_queue_names_free(char **names, size_t n);

/* Is seq in the queue of one of the n endpoints? 1 yes, 0 no, -1 on error. */
int bdb_queued(store_t *st, char *const *names, size_t n, uint64_t seq, mh_err_t *err);

/* ---- the event log (store_bdb_event.c) */

/* At open, after the databases: recv_since, read or (first open) set to now. */
int bdb_events_open(store_t *st, mh_err_t *err);

#endif
