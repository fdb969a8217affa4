/* SPDX-License-Identifier: MIT */
/*
 * store_bdb.c - the durable store of mailhook (store.h) on Berkeley DB 5.3:
 * the environment, transactions, keyed tables and statistics. The event
 * log is store_bdb_event.c, the delivery queues store_bdb_queue.c, a full
 * disk store_bdb_space.c; what they share is store_bdb_int.h.
 *
 *   store_open/close          recover and open the environment / checkpoint, close
 *   store_begin/commit/abort  one write transaction at a time per store
 *   store_kv_*                messages, endpoints, checkpoints tables
 *   store_stats               record counts and bytes on disk
 *   bdb_err, bdb_walker_*,    for the other parts (store_bdb_int.h)
 *   bdb_put/del_counted
 *
 * Failures come back as -1 with "store: <operation>: <db_strerror>" in err;
 * DB_LOCK_DEADLOCK is such a failure (the caller aborts and may retry).
 *
 * Layout: a transactional environment in the state directory; DB_RECOVER
 * on every open makes a kill -9'd previous owner harmless. One btree file
 * per table:
 *
 *   events.db        seq (8 bytes big-endian) -> event record (store_bdb_event.c)
 *   event_ids.db     id (no NUL) -> seq (8 bytes BE)
 *   event_times.db   ts_ms (8 bytes BE, sign bit flipped so negative times
 *                    sort first) + seq (8 bytes BE) -> empty
 *   messages.db, endpoints.db, checkpoints.db   key (no NUL) -> value bytes
 *   queues.db        endpoint + NUL + seq (8 bytes BE) -> entry bytes
 *   meta.db          "state" -> version(1) last_seq(8) counts(5 x 8), all BE;
 *                    "recv_since" -> ms (8 bytes BE, store_bdb_event.c)
 *   deliveries.db    delivery id (no NUL) -> record (JSON); not counted
 *
 * Ids, types and endpoint names are 1 to 255 bytes.
 *
 * Sequence numbers: last_seq lives in memory, starts at the larger of the
 * persisted high-water mark and the last key of events.db, and only grows
 * (an aborted append leaves a gap). Every commit that changed something
 * writes the high-water mark and the record counts into meta.db inside the
 * same transaction, so a number is never reused, even after expiry removed
 * the newest events, and store_stats is exact without walking a database
 * (DB_FAST_STAT keeps no btree key count).
 *
 * Locking contract: a single-threaded caller that held a write transaction
 * and read through another locker would wait for itself forever. So a store
 * allows one open transaction at a time (store_begin fails otherwise), and
 * reads run inside the open transaction when there is one (they see its
 * uncommitted writes). Scans open a cursor per record and close it before
 * the callback runs, so a callback may use the store, writes included.
 * Strings handed to callbacks and returned by gets are NUL-terminated.
 *
 * Disk space: nothing is mapped from the state directory (DB_PRIVATE, see
 * env_open), so a full file system is a failed write, never a SIGBUS; log
 * files (store_opts.log_file_bytes each, at most an eighth of the file
 * system) are zeroed when created, so they hold their space from then on,
 * and a checkpoint follows each log file's worth of records so that
 * DB_LOG_AUTO_REMOVE keeps two or three of them. What the store does when
 * it fills up is in store_bdb_space.c.
 */
#include "config.h"

#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "msg.h"
#include "store.h"
#include "store_bdb_int.h"
#include "xalloc.h"

#define CACHE_DEFAULT (32u << 20)
#define LOG_BUF_BYTES (4u << 20)   /* a batch of events mostly fits the buffer */
#define LOG_FILE_DEFAULT (8u << 20)
#define LOG_FILE_MIN (1u << 20)
#define EVENTS_PAGESIZE 65536      /* events up to ~16 KB stay off overflow pages */
#define META_KEY "state"
#define META_VERSION 1

/* Indexed by D_* (store_bdb_int.h). */
static const char *const db_files[D_N] = {
    "events.db", "event_ids.db", "event_times.db", "messages.db",
    "endpoints.db", "checkpoints.db", "queues.db", "meta.db", "deliveries.db",
};

/* The database of each counter C_* (store_bdb_int.h). */
static const int count_db[C_N] = { D_EVENTS, D_MESSAGES, D_ENDPOINTS, D_CHECKPOINTS,
                                   D_QUEUES };
#define META_LEN (1 + 8 + 8 * C_N)

/* ---- diagnostics */

int bdb_err(mh_err_t *err, const char *what, int ret)
{
    return mh_err_set(err, "store: %s: %s", what, db_strerror(ret));
}

static void store_errcall(const DB_ENV *env, const char *pfx, const char *text)
{
    (void)pfx;
    if (!bdb_space_notice(env->app_private, text))
        msg_warn("store: berkeley db: %s", text);
}

/*
 * Berkeley DB failed for good (a panic: every call returns DB_RUNRECOVERY
 * from now on, only a new open, which recovers, helps). Noted for the
 * owner (store_panicked); a panic while opening is the open's failure.
 */
static void store_event(DB_ENV *env, u_int32_t event, void *info)
{
    store_t *st = env->app_private;

    if (event != DB_EVENT_PANIC || !st->env_open || st->panicked)
        return;
    st->panicked = true;
    msg_warn("store: %s: Berkeley DB failed (%s): the store must be recovered", st->dir,
             db_strerror(info ? *(int *)info : DB_RUNRECOVERY));
}

bool store_panicked(const store_t *st)
{
    return st->panicked;
}

/* ---- open and close */

/*
 * The size of each log file: as asked, but at most an eighth of the state
 * directory's file system (whole MiB, 1 MiB at least). The log takes three
 * or four files, and the store cannot work, or get out of a full disk,
 * without room for them beside its databases.
 */
static u_int32_t log_file_size(const char *dir, u_int32_t want)
{
    struct statvfs sv;
    uint64_t cap;

    if (statvfs(dir, &sv) != 0)
        return want;
    cap = (uint64_t)sv.f_blocks * sv.f_frsize / 8 & ~(uint64_t)(LOG_FILE_MIN - 1);
    if (cap < LOG_FILE_MIN)
        cap = LOG_FILE_MIN;
    if (want <= cap)
        return want;
    msg_info("store: %s: log files of %llu MiB, not %u MiB (store_log_file_size): the file "
             "system has %llu MiB", dir, (unsigned long long)(cap >> 20), want >> 20,
             (unsigned long long)((uint64_t)sv.f_blocks * sv.f_frsize >> 20));
    return (u_int32_t)cap;
}

/*
 * DB_PRIVATE: the regions (cache, locks, log buffer) live in this process's
 * memory, not in __db.* files mapped from the state directory. A mapped
 * file is written by storing into memory; on a full file system that store
 * is a SIGBUS, not an error. The store has one process anyway (mailhookd).
 * DB_LOG_ZERO: each log file is written full of zeros when it is created,
 * so its space is taken then (a write that can fail, and does so cleanly),
 * and recovery, which zeroes the log after its last record, needs no new
 * space to do it.
 */
static int env_open(store_t *st, const struct store_opts *opts, mh_err_t *err)
{
    const u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOG | DB_INIT_LOCK |
                            DB_INIT_MPOOL | DB_PRIVATE | DB_RECOVER | DB_THREAD;
    size_t cache = opts->cache_bytes ? opts->cache_bytes : CACHE_DEFAULT;
    u_int32_t log_file = log_file_size(st->dir, opts->log_file_bytes ? opts->log_file_bytes
                                                                      : LOG_FILE_DEFAULT);
    u_int32_t log_buf = log_file / 4 < LOG_BUF_BYTES ? log_file / 4 : LOG_BUF_BYTES;
    DB_ENV *env;
    int ret;

    if ((ret = db_env_create(&env, 0)) != 0)
        return bdb_err(err, "create environment", ret);
    st->env = env;
    st->log_file_bytes = log_file;
    env->app_private = st;
    env->set_errcall(env, store_errcall);
    env->set_event_notify(env, store_event);
    if ((ret = env->set_cachesize(env, (u_int32_t)(cache >> 30),
                                  (u_int32_t)(cache & ((1u << 30) - 1)), 1)) != 0 ||
        (ret = env->set_lg_bsize(env, log_buf)) != 0 ||
        (ret = env->set_lg_max(env, log_file)) != 0 ||
        (ret = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
        (ret = env->set_lk_max_locks(env, LOCKS_MAX)) != 0 ||
        (ret = env->set_lk_max_objects(env, LOCKS_MAX)) != 0 ||
        (ret = env->log_set_config(env, DB_LOG_AUTO_REMOVE | DB_LOG_ZERO, 1)) != 0 ||
        (opts->nosync && (ret = env->set_flags(env, DB_TXN_NOSYNC, 1)) != 0))
        return bdb_err(err, "configure environment", ret);
    if ((ret = env->open(env, st->dir, flags, 0600)) != 0)
        return mh_err_set(err, "store: open environment %s: %s", st->dir, db_strerror(ret));
    st->env_open = true;
    return 0;
}

static int dbs_open(store_t *st, mh_err_t *err)
{
    const u_int32_t flags = DB_CREATE | DB_AUTO_COMMIT | DB_THREAD;
    int ret;

    for (int i = 0; i < D_N; i++) {
        if ((ret = db_create(&st->db[i], st->env, 0)) != 0)
            return bdb_err(err, "create database handle", ret);
        if (i == D_EVENTS && (ret = st->db[i]->set_pagesize(st->db[i], EVENTS_PAGESIZE)) != 0)
            return bdb_err(err, "set page size", ret);
        ret = st->db[i]->open(st->db[i], NULL, db_files[i], NULL, DB_BTREE, flags, 0600);
        if (ret != 0)
            return mh_err_set(err, "store: open %s: %s", db_files[i], db_strerror(ret));
    }
    return 0;
}

/* Record counts the slow way, for a store whose meta record is missing. */
static int counts_walk(store_t *st, mh_err_t *err)
{
    DB_BTREE_STAT *sp;
    int ret;

    for (int c = 0; c < C_N; c++) {
        DB *db = st->db[count_db[c]];

        if ((ret = db->stat(db, NULL, &sp, 0)) != 0)
            return bdb_err(err, "count records", ret);
        st->count[c] = sp->bt_nkeys;
        free(sp); /* BDB malloc'ed it */
    }
    return 0;
}

/* Raise st->last_seq to the highest key of events.db. */
static int events_last_seq(store_t *st, mh_err_t *err)
{
    unsigned char kbuf[8];
    DBT k, v;
    DBC *c;
    int ret, cret;

    if ((ret = st->db[D_EVENTS]->cursor(st->db[D_EVENTS], NULL, &c, 0)) != 0)
        return bdb_err(err, "open cursor", ret);
    dbt_usermem(&k, kbuf, sizeof(kbuf));
    dbt_usermem(&v, NULL, 0);
    v.flags |= DB_DBT_PARTIAL;
    ret = c->get(c, &k, &v, DB_LAST);
    if (ret == 0 && k.size == 8 && get_be64(kbuf) > st->last_seq)
        st->last_seq = get_be64(kbuf);
    cret = c->close(c);
    if (ret != 0 && ret != DB_NOTFOUND)
        return bdb_err(err, "read last event", ret);
    return cret ? bdb_err(err, "close cursor", cret) : 0;
}

static int state_load(store_t *st, mh_err_t *err)
{
    unsigned char buf[META_LEN];
    DBT k, v;
    int ret;

    dbt_set(&k, META_KEY, strlen(META_KEY));
    dbt_usermem(&v, buf, sizeof(buf));
    ret = st->db[D_META]->get(st->db[D_META], NULL, &k, &v, 0);
    if (ret == DB_NOTFOUND) {
        if (counts_walk(st, err) < 0)
            return -1;
    } else if (ret == DB_BUFFER_SMALL || (ret == 0 && (v.size != META_LEN || buf[0] != META_VERSION))) {
        return mh_err_set(err, "store: meta.db: unknown state record (%u bytes)", v.size);
    } else if (ret != 0) {
        return bdb_err(err, "read state", ret);
    } else {
        st->last_seq = get_be64(buf + 1);
        for (int c = 0; c < C_N; c++)
            st->count[c] = get_be64(buf + 9 + 8 * c);
    }
    return events_last_seq(st, err);
}

/* Written inside txn at commit: the high-water mark and the counts after it. */
static int state_save(store_txn_t *txn, mh_err_t *err)
{
    store_t *st = txn->st;
    unsigned char buf[META_LEN];
    DBT k, v;
    int ret;

    buf[0] = META_VERSION;
    put_be64(buf + 1, st->last_seq);
    for (int c = 0; c < C_N; c++) {
        int64_t n = (int64_t)st->count[c] + txn->delta[c];

        put_be64(buf + 9 + 8 * c, n > 0 ? (uint64_t)n : 0);
    }
    dbt_set(&k, META_KEY, strlen(META_KEY));
    dbt_set(&v, buf, sizeof(buf));
    if ((ret = st->db[D_META]->put(st->db[D_META], txn->tid, &k, &v, 0)) != 0)
        return bdb_err(err, "write state", ret);
    return 0;
}

static void store_free(store_t *st)
{
    int ret;

    for (int i = D_N - 1; i >= 0; i--)
        if (st->db[i] && (ret = st->db[i]->close(st->db[i], 0)) != 0)
            msg_warn("store: close %s: %s", db_files[i], db_strerror(ret));
    if (st->env && (ret = st->env->close(st->env, 0)) != 0)
        msg_warn("store: close environment %s: %s", st->dir, db_strerror(ret));
    xfree(st->rec);
    xfree(st->dir);
    xfree(st);
}

store_t *store_open(const char *dir, const struct store_opts *opts, mh_err_t *err)
{
    return store_open_why(dir, opts, NULL, err);
}

store_t *store_open_why(const char *dir, const struct store_opts *opts, bool *no_space,
                        mh_err_t *err)
{
    static const struct store_opts defaults;
    store_t *st;

    if (no_space)
        *no_space = false;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        mh_err_set(err, "store: create directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    st = xcalloc(1, sizeof(*st)); /* freed by store_close */
    st->dir = xstrdup(dir);
    if (env_open(st, opts ? opts : &defaults, err) < 0 || dbs_open(st, err) < 0 ||
        state_load(st, err) < 0 || bdb_events_open(st, err) < 0) {
        if (store_space_full(st)) {
            bdb_space_open_failed(st, err);
            if (no_space)
                *no_space = true;
        }
        store_free(st);
        return NULL;
    }
    return st;
}

void store_close(store_t *st)
{
    int ret;

    if (st == NULL)
        return;
    if (st->cur) {
        msg_warn("store: close: aborting a transaction left open");
        store_abort(st->cur);
    }
    if (st->env_open && (ret = st->env->txn_checkpoint(st->env, 0, 0, 0)) != 0)
        msg_warn("store: checkpoint: %s", db_strerror(ret));
    store_free(st);
}

/* ---- transactions */

store_txn_t *store_begin(store_t *st, mh_err_t *err)
{
    store_txn_t *txn;
    DB_TXN *tid;
    int ret;

    if (st->cur) {
        mh_err_set(err, "store: begin: a transaction is already open (one at a time)");
        return NULL;
    }
    if ((ret = st->env->txn_begin(st->env, NULL, &tid, 0)) != 0) {
        bdb_err(err, "begin", ret);
        return NULL;
    }
    txn = xcalloc(1, sizeof(*txn)); /* freed by store_commit or store_abort */
    txn->st = st;
    txn->tid = tid;
    STAILQ_INIT(&txn->hooks);
    st->cur = txn;
    return txn;
}

void store_txn_on_end(store_txn_t *txn, store_txn_hook fn, void *ctx)
{
    struct txn_hook *h = xcalloc(1, sizeof(*h));

    h->fn = fn;
    h->ctx = ctx;
    STAILQ_INSERT_TAIL(&txn->hooks, h, link);
}

/* Run and free txn's hooks. */
static void txn_hooks_run(store_txn_t *txn, bool committed)
{
    struct txn_hook *h;

    while ((h = STAILQ_FIRST(&txn->hooks)) != NULL) {
        STAILQ_REMOVE_HEAD(&txn->hooks, link);
        h->fn(h->ctx, committed);
        free(h);
    }
}

/*
 * A commit that Berkeley DB reports done although writing its commit record
 * was refused for lack of space: 5.3 takes a failed write at the start of a
 * new log file for one that went through (__log_flush_commit compares only
 * the file numbers), so the transaction is done in memory but not on disk
 * until the log can be written again, and lost if the process dies first.
 * The caller is told it failed (a producer spools the event, which is
 * stored once: ids are unique); the counts and the hooks follow Berkeley
 * DB, which goes on as if it were committed.
 */
int store_commit(store_txn_t *txn, mh_err_t *err)
{
    store_t *st = txn->st;
    uint64_t refused = st->space.writes_refused;
    int ret;

    if (txn->dirty && state_save(txn, err) < 0) {
        store_abort(txn);
        return -1;
    }
    ret = txn->tid->commit(txn->tid, 0); /* tid is gone, whatever the result */
    st->cur = NULL;
    if (ret == 0)
        for (int c = 0; c < C_N; c++)
            st->count[c] = (uint64_t)((int64_t)st->count[c] + txn->delta[c]);
    txn_hooks_run(txn, ret == 0);
    xfree(txn);
    if (ret != 0)
        return bdb_err(err, "commit", ret);
    if (st->space.writes_refused != refused)
        return mh_err_set(err, "store: commit: writing the log was refused for lack of space "
                          "(%s): not on disk yet", st->space.cause);
    bdb_space_committed(st);
    /* Bounds recovery time and lets DB_LOG_AUTO_REMOVE drop old log files;
     * does nothing until a log file's worth was written since the last.
     * While the store is full, its probe does that (store_bdb_space.c). */
    if (!store_space_full(st) &&
        (ret = st->env->txn_checkpoint(st->env, st->log_file_bytes >> 10, 0, 0)) != 0 &&
        !store_space_full(st))
        msg_warn("store: checkpoint: %s", db_strerror(ret));
    return 0;
}

void store_abort(store_txn_t *txn)
{
    int ret;

    if (txn == NULL)
        return;
    if ((ret = txn->tid->abort(txn->tid)) != 0)
        msg_warn("store: abort: %s", db_strerror(ret));
    txn->st->cur = NULL;
    txn_hooks_run(txn, false);
    xfree(txn);
}

/* ---- scans: a cursor per record, closed before the callback runs */

void bdb_walker_init(struct walker *w, const void *start, size_t len)
{
    memset(w, 0, sizeof(*w));
    w->key.flags = w->val.flags = DB_DBT_REALLOC;
    w->pos = xmemdup(start ? start : "", len ? len : 1);
    w->pos_len = len;
}

void bdb_walker_free(struct walker *w)
{
    free(w->key.data); /* BDB realloc'ed these */
    free(w->val.data);
    xfree(w->pos);
    xfree(w->copy);
}

/* The next record at or after pos (past it once one was returned) into
 * w->key and w->val: 0, 1 at the end, -1 on error. */
int bdb_walker_next(store_t *st, DB *db, struct walker *w, mh_err_t *err)
{
    DBC *c;
    int ret, cret;

    if ((ret = db->cursor(db, read_txn(st), &c, 0)) != 0)
        return bdb_err(err, "open cursor", ret);
    w->key.data = xrealloc(w->key.data, w->pos_len + 1);
    memcpy(w->key.data, w->pos, w->pos_len);
    w->key.size = (u_int32_t)w->pos_len;
    ret = c->get(c, &w->key, &w->val, DB_SET_RANGE);
    if (ret == 0 && w->skip && w->key.size == w->pos_len &&
        memcmp(w->key.data, w->pos, w->pos_len) == 0)
        ret = c->get(c, &w->key, &w->val, DB_NEXT);
    cret = c->close(c);
    if (ret == DB_NOTFOUND)
        return 1;
    if (ret != 0 || cret != 0)
        return bdb_err(err, "read cursor", ret ? ret : cret);
    if (w->key.size > w->pos_len)
        w->pos = xrealloc(w->pos, w->key.size);
    memcpy(w->pos, w->key.data, w->key.size);
    w->pos_len = w->key.size;
    w->skip = true;
    return 0;
}

/* Copy a and b into w->copy, each NUL-terminated; b lands at copy + alen + 1. */
char *bdb_walker_copy(struct walker *w, const void *a, size_t alen, const void *b, size_t blen)
{
    size_t need = alen + blen + 2;

    if (w->copy_size < need) {
        w->copy_size = need + need / 2;
        w->copy = xrealloc(w->copy, w->copy_size);
    }
    memcpy(w->copy, a, alen);
    w->copy[alen] = 0;
    if (blen)
        memcpy(w->copy + alen + 1, b, blen);
    w->copy[alen + 1 + blen] = 0;
    return w->copy;
}

/* ---- keyed tables; counted puts and deletes (also for store_bdb_queue.c) */

int bdb_put_counted(store_txn_t *txn, int d, int c, DBT *k, DBT *v, mh_err_t *err)
{
    DB *db = txn->st->db[d];
    int ret = db->put(db, txn->tid, k, v, DB_NOOVERWRITE);

    if (ret == DB_KEYEXIST) {
        ret = db->put(db, txn->tid, k, v, 0);
    } else if (ret == 0 && c >= 0) {
        txn->delta[c]++;
        txn->dirty = true;
    }
    return ret ? mh_err_set(err, "store: put %s: %s", db_files[d], db_strerror(ret)) : 0;
}

int bdb_del_counted(store_txn_t *txn, int d, int c, DBT *k, mh_err_t *err)
{
    DB *db = txn->st->db[d];
    int ret = db->del(db, txn->tid, k, 0);

    if (ret == DB_NOTFOUND)
        return 1;
    if (ret != 0)
        return mh_err_set(err, "store: delete %s: %s", db_files[d], db_strerror(ret));
    if (c >= 0) {
        txn->delta[c]--;
        txn->dirty = true;
    }
    return 0;
}

/* The database of table t; *counter receives its record counter (-1 for
 * an uncounted table). */
static int kv_db(enum store_table t, int *counter)
{
    static const struct { int d, c; } map[] = {
        [STORE_MESSAGES] = { D_MESSAGES, C_MESSAGES },
        [STORE_ENDPOINTS] = { D_ENDPOINTS, C_ENDPOINTS },
        [STORE_CHECKPOINTS] = { D_CHECKPOINTS, C_CHECKPOINTS },
        [STORE_DELIVERIES] = { D_DELIVERIES, -1 },
    };

    if ((unsigned)t >= sizeof(map) / sizeof(map[0]))
        msg_panic_f("unknown table %d", (int)t);
    *counter = map[t].c;
    return map[t].d;
}

int store_kv_put(store_txn_t *txn, enum store_table t, const char *key, const void *val,
                 size_t len, mh_err_t *err)
{
    int c, d = kv_db(t, &c);
    DBT k, v;

    if (key[0] == 0 || len > UINT32_MAX)
        return mh_err_set(err, "store: put %s: empty key or value too large", db_files[d]);
    dbt_set(&k, key, strlen(key));
    dbt_set(&v, val, len);
    return bdb_put_counted(txn, d, c, &k, &v, err);
}

int store_kv_get(store_t *st, enum store_table t, const char *key, void **val, size_t *len,
                 mh_err_t *err)
{
    DBT k, v = { .flags = DB_DBT_REALLOC };
    int c, d = kv_db(t, &c), ret;

    dbt_set(&k, key, strlen(key));
    ret = st->db[d]->get(st->db[d], read_txn(st), &k, &v, 0);
    if (ret == 0) {
        *val = copy_cstr(v.data, v.size);
        *len = v.size;
    } else if (ret != DB_NOTFOUND) {
        mh_err_set(err, "store: get %s: %s", db_files[d], db_strerror(ret));
    }
    free(v.data); /* BDB realloc'ed it */
    return ret == 0 ? 0 : ret == DB_NOTFOUND ? 1 : -1;
}

int store_kv_del(store_txn_t *txn, enum store_table t, const char *key, mh_err_t *err)
{
    int c, d = kv_db(t, &c);
    DBT k;

    dbt_set(&k, key, strlen(key));
    return bdb_del_counted(txn, d, c, &k, err);
}

int store_kv_scan(store_t *st, enum store_table t, const char *from, store_kv_cb cb, void *ctx,
                  mh_err_t *err)
{
    int c, d = kv_db(t, &c), ret;
    struct walker w;
    char *key;

    bdb_walker_init(&w, from, from ? strlen(from) : 0);
    while ((ret = bdb_walker_next(st, st->db[d], &w, err)) == 0) {
        key = bdb_walker_copy(&w, w.key.data, w.key.size, w.val.data, w.val.size);
        if (cb(ctx, key, key + w.key.size + 1, w.val.size))
            break;
    }
    bdb_walker_free(&w);
    return ret < 0 ? -1 : 0;
}

/* One key < bound into *keep (a copy), or 1 when the first key is not. */
struct expire_scan {
    const char *bound;
    char *key;
};

static int expire_first(void *ctx, const char *key, const void *val, size_t len)
{
    struct expire_scan *es = ctx;

    if (strcmp(key, es->bound) < 0)
        es->key = xstrdup(key);
    return 1;
}

int store_kv_expire(store_t *st, enum store_table t, const char *bound, size_t max,
                    size_t *deleted, mh_err_t *err)
{
    struct expire_scan es = { .bound = bound };
    store_txn_t *txn;
    int c, d = kv_db(t, &c);
    DBT k;

    *deleted = 0;
    if ((txn = store_begin(st, err)) == NULL)
        return -1;
    while (*deleted < max) {
        if (store_kv_scan(st, t, NULL, expire_first, &es, err) < 0)
            goto fail;
        if (es.key == NULL)
            break;
        dbt_set(&k, es.key, strlen(es.key));
        if (bdb_del_counted(txn, d, c, &k, err) < 0)
            goto fail;
        xfree(es.key);
        es.key = NULL;
        (*deleted)++;
    }
    return store_commit(txn, err);
fail:
    free(es.key);
    store_abort(txn);
    return -1;
}

/* ---- statistics */

/* Allocated bytes (st_blocks), not st_size, which may count holes. */
static int dir_bytes(const char *dir, uint64_t *total, mh_err_t *err)
{
    struct dirent *de;
    struct stat sb;
    DIR *dp;

    *total = 0;
    if ((dp = opendir(dir)) == NULL)
        return mh_err_set(err, "store: stats: open %s: %s", dir, strerror(errno));
    while ((de = readdir(dp)) != NULL)
        if (fstatat(dirfd(dp), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode))
            *total += (uint64_t)sb.st_blocks * 512;
    closedir(dp);
    return 0;
}

/* Counts are those of committed transactions, kept at each commit. */
int store_stats(store_t *st, struct store_stats *out, mh_err_t *err)
{
    memset(out, 0, sizeof(*out));
    out->events = st->count[C_EVENTS];
    out->last_seq = st->last_seq;
    out->messages = st->count[C_MESSAGES];
    out->endpoints = st->count[C_ENDPOINTS];
    out->queued = st->count[C_QUEUED];
    store_space_status(st, &out->space);
    return dir_bytes(st->dir, &out->bytes_on_disk, err);
}
