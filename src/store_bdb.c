/*
 * store_bdb.c - the durable store of mailhook (store.h) on Berkeley DB 5.3.
 *
 *   store_open/close          recover and open the environment / checkpoint, close
 *   store_begin/commit/abort  one write transaction at a time per store
 *   store_event_*             append (idempotent by id), get, scan, expire
 *   store_kv_*                messages, endpoints, checkpoints tables
 *   store_queue_*             per-endpoint delivery queues
 *   store_stats               record counts and bytes on disk
 *
 * Failures come back as -1 with "store: <operation>: <db_strerror>" in err;
 * DB_LOCK_DEADLOCK is such a failure (the caller aborts and may retry).
 *
 * Layout: a transactional environment in the state directory (not
 * DB_PRIVATE, so db_stat and db_recover can inspect it; DB_RECOVER on every
 * open makes a kill -9'd previous owner harmless). One btree file per table:
 *
 *   events.db        seq (8 bytes big-endian) -> event record, below
 *   event_ids.db     id (no NUL) -> seq (8 bytes BE)
 *   event_times.db   ts_ms (8 bytes BE, sign bit flipped so negative times
 *                    sort first) + seq (8 bytes BE) -> empty
 *   messages.db, endpoints.db, checkpoints.db   key (no NUL) -> value bytes
 *   queues.db        endpoint + NUL + seq (8 bytes BE) -> entry bytes
 *   meta.db          "state" -> version(1) last_seq(8) counts(5 x 8), all BE
 *
 * Event record in events.db (version 1):
 *   u8 version=1 | i64 ts_ms BE | u8 type_len | u8 id_len | type | id | json
 * The JSON is stored as given, without a NUL.
 *
 * Sequence numbers: last_seq lives in memory, starts at the larger of the
 * persisted high-water mark and the last key of events.db, and only grows
 * (an aborted append leaves a gap). Every commit that changed something
 * writes the high-water mark and the record counts into meta.db inside the
 * same transaction, so a number is never reused, even after expiry removed
 * the newest events, and store_stats costs no database walk.
 *
 * Locking contract: a single-threaded caller that held a write transaction
 * and read through another locker would wait for itself forever. So a store
 * allows one open transaction at a time (store_begin fails otherwise), reads
 * (get, scan) run inside the open transaction when there is one (they see its
 * uncommitted writes), and scans read in batches with the cursor closed
 * while the callbacks run, so a callback may use the store, writes included.
 */
#include "config.h"

#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "msg.h"
#include "store.h"
#include "xalloc.h"

#define CACHE_DEFAULT (32u << 20)
#define LOG_BUF_BYTES (4u << 20)   /* one batch of events fits the buffer */
#define LOG_FILE_BYTES (64u << 20)
#define CKPT_KBYTES (32u << 10)    /* checkpoint after 32 MiB of log */
#define EVENTS_PAGESIZE 16384      /* typical JSON stays off overflow pages */
#define LOCKS_MAX 200000           /* a 4096-event batch or a big expire */
#define NAME_MAXLEN 255            /* ids, types, endpoint names */
#define REC_HDR 11                 /* version, ts, type_len, id_len */
#define REC_STACK 8192             /* records up to this size avoid malloc */
#define REC_VERSION 1
#define META_KEY "state"
#define META_VERSION 1
#define BATCH_ITEMS 256            /* scan batch: items or bytes, first reached */
#define BATCH_BYTES (1u << 20)

enum { D_EVENTS, D_EVENT_IDS, D_EVENT_TIMES, D_MESSAGES, D_ENDPOINTS, D_CHECKPOINTS,
       D_QUEUES, D_META, D_N };
static const char *const db_files[D_N] = {
    "events.db", "event_ids.db", "event_times.db", "messages.db",
    "endpoints.db", "checkpoints.db", "queues.db", "meta.db",
};

/* Counted tables: the order of the counts in the meta record. */
enum { C_EVENTS, C_MESSAGES, C_ENDPOINTS, C_CHECKPOINTS, C_QUEUED, C_N };
static const int count_db[C_N] = { D_EVENTS, D_MESSAGES, D_ENDPOINTS, D_CHECKPOINTS,
                                   D_QUEUES };
#define META_LEN (1 + 8 + 8 * C_N)

struct store {
    DB_ENV *env;         /* owned; closed by store_close */
    bool env_open;       /* env->open succeeded */
    DB *db[D_N];         /* owned; NULL until created */
    char *dir;           /* owned copy */
    uint64_t last_seq;   /* highest sequence ever assigned; never decreases */
    uint64_t count[C_N]; /* committed record counts */
    store_txn_t *cur;    /* the open transaction (owned by the caller), or NULL */
};

struct store_txn {
    store_t *st;
    DB_TXN *tid;         /* freed by BDB at commit/abort */
    int64_t delta[C_N];  /* count changes, applied to st->count at commit */
    bool dirty;          /* meta.db must be rewritten at commit */
};

/* A decoded event record: pointers into the DBT it came from. */
struct rec {
    int64_t ts;
    const char *type, *id, *json;
    size_t type_len, id_len, json_len;
};

/* ---- small helpers */

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Flip the sign bit so that byte order of the encoding is numeric order. */
static void put_ts(unsigned char *p, int64_t ts)
{
    put_be64(p, (uint64_t)ts ^ (UINT64_C(1) << 63));
}

static int64_t get_ts(const unsigned char *p)
{
    return (int64_t)(get_be64(p) ^ (UINT64_C(1) << 63));
}

static void dbt_set(DBT *d, const void *data, size_t len)
{
    memset(d, 0, sizeof(*d));
    d->data = (void *)data;
    d->size = (u_int32_t)len;
}

/* A DBT that receives nothing: for cursor walks that need only the key. */
static void dbt_nodata(DBT *d)
{
    memset(d, 0, sizeof(*d));
    d->flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
}

static void dbt_usermem(DBT *d, void *buf, size_t size)
{
    memset(d, 0, sizeof(*d));
    d->data = buf;
    d->ulen = (u_int32_t)size;
    d->flags = DB_DBT_USERMEM;
}

static int bdb_err(mh_err_t *err, const char *what, int ret)
{
    return mh_err_set(err, "store: %s: %s", what, db_strerror(ret));
}

static void store_errcall(const DB_ENV *env, const char *pfx, const char *text)
{
    (void)env;
    (void)pfx;
    msg_warn("store: berkeley db: %s", text);
}

/* Reads run inside the open transaction, if any (see the locking contract). */
static DB_TXN *read_txn(const store_t *st)
{
    return st->cur ? st->cur->tid : NULL;
}

/* ---- event records */

static size_t rec_encode(unsigned char *out, int64_t ts, const char *type, size_t tlen,
                         const char *id, size_t idlen, const char *json, size_t jlen)
{
    out[0] = REC_VERSION;
    put_be64(out + 1, (uint64_t)ts);
    out[9] = (unsigned char)tlen;
    out[10] = (unsigned char)idlen;
    memcpy(out + REC_HDR, type, tlen);
    memcpy(out + REC_HDR + tlen, id, idlen);
    if (jlen)
        memcpy(out + REC_HDR + tlen + idlen, json, jlen);
    return REC_HDR + tlen + idlen + jlen;
}

static int rec_decode(const DBT *v, struct rec *r, mh_err_t *err)
{
    const unsigned char *p = v->data;

    if (v->size < REC_HDR || p[0] != REC_VERSION || v->size < REC_HDR + (size_t)p[9] + p[10])
        return mh_err_set(err, "store: corrupt event record (%u bytes)", v->size);
    r->ts = (int64_t)get_be64(p + 1);
    r->type_len = p[9];
    r->id_len = p[10];
    r->type = (const char *)p + REC_HDR;
    r->id = r->type + r->type_len;
    r->json = r->id + r->id_len;
    r->json_len = v->size - REC_HDR - r->type_len - r->id_len;
    return 0;
}

/* Exact type, "prefix.*" (type starts with "prefix."), "*" or NULL (all). */
static bool type_match(const char *want, const struct rec *r)
{
    size_t n;

    if (want == NULL || strcmp(want, "*") == 0)
        return true;
    n = strlen(want);
    if (n >= 2 && want[n - 2] == '.' && want[n - 1] == '*')
        return r->type_len >= n - 1 && memcmp(r->type, want, n - 1) == 0;
    return r->type_len == n && memcmp(r->type, want, n) == 0;
}

/* ---- open and close */

static int env_open(store_t *st, const struct store_opts *opts, mh_err_t *err)
{
    const u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOG | DB_INIT_LOCK |
                            DB_INIT_MPOOL | DB_RECOVER | DB_THREAD;
    size_t cache = opts->cache_bytes ? opts->cache_bytes : CACHE_DEFAULT;
    DB_ENV *env;
    int ret;

    if ((ret = db_env_create(&env, 0)) != 0)
        return bdb_err(err, "create environment", ret);
    st->env = env;
    env->set_errcall(env, store_errcall);
    if ((ret = env->set_cachesize(env, (u_int32_t)(cache >> 30),
                                  (u_int32_t)(cache & ((1u << 30) - 1)), 1)) != 0 ||
        (ret = env->set_lg_bsize(env, LOG_BUF_BYTES)) != 0 ||
        (ret = env->set_lg_max(env, LOG_FILE_BYTES)) != 0 ||
        (ret = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
        (ret = env->set_lk_max_locks(env, LOCKS_MAX)) != 0 ||
        (ret = env->set_lk_max_objects(env, LOCKS_MAX)) != 0 ||
        (ret = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0 ||
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

/* Record counts the slow way: for a store whose meta record is missing. */
static int counts_walk(store_t *st, mh_err_t *err)
{
    DB_BTREE_STAT *sp;
    int ret;

    for (int c = 0; c < C_N; c++) {
        DB *db = st->db[count_db[c]];

        if ((ret = db->stat(db, NULL, &sp, 0)) != 0)
            return bdb_err(err, "count records", ret);
        st->count[c] = sp->bt_nkeys;
        free(sp); /* allocated by BDB with malloc */
    }
    return 0;
}

/* The highest key of events.db, 0 when empty. */
static int events_last_seq(store_t *st, uint64_t *seq, mh_err_t *err)
{
    unsigned char kbuf[8];
    DBT k, v;
    DBC *c;
    int ret, cret;

    *seq = 0;
    if ((ret = st->db[D_EVENTS]->cursor(st->db[D_EVENTS], NULL, &c, 0)) != 0)
        return bdb_err(err, "open cursor", ret);
    dbt_usermem(&k, kbuf, sizeof(kbuf));
    dbt_nodata(&v);
    ret = c->get(c, &k, &v, DB_LAST);
    if (ret == 0 && k.size == 8)
        *seq = get_be64(kbuf);
    cret = c->close(c);
    if (ret != 0 && ret != DB_NOTFOUND)
        return bdb_err(err, "read last event", ret);
    return cret ? bdb_err(err, "close cursor", cret) : 0;
}

static int state_load(store_t *st, mh_err_t *err)
{
    unsigned char buf[META_LEN];
    uint64_t last;
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
    if (events_last_seq(st, &last, err) < 0)
        return -1;
    if (last > st->last_seq)
        st->last_seq = last;
    return 0;
}

/* Written inside txn at commit: high-water mark and counts after it. */
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

static void store_free_handles(store_t *st)
{
    int ret;

    for (int i = D_N - 1; i >= 0; i--)
        if (st->db[i] && (ret = st->db[i]->close(st->db[i], 0)) != 0)
            msg_warn("store: close %s: %s", db_files[i], db_strerror(ret));
    if (st->env && (ret = st->env->close(st->env, 0)) != 0)
        msg_warn("store: close environment %s: %s", st->dir, db_strerror(ret));
    xfree(st->dir);
    xfree(st);
}

store_t *store_open(const char *dir, const struct store_opts *opts, mh_err_t *err)
{
    static const struct store_opts defaults;
    store_t *st;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        mh_err_set(err, "store: create directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    st = xcalloc(1, sizeof(*st));
    st->dir = xstrdup(dir);
    if (env_open(st, opts ? opts : &defaults, err) < 0 || dbs_open(st, err) < 0 ||
        state_load(st, err) < 0) {
        store_free_handles(st);
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
    store_free_handles(st);
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
    st->cur = txn;
    return txn;
}

int store_commit(store_txn_t *txn, mh_err_t *err)
{
    store_t *st = txn->st;
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
    xfree(txn);
    if (ret != 0)
        return bdb_err(err, "commit", ret);
    /* Bounds recovery time and lets DB_LOG_AUTO_REMOVE drop old logs; a
     * no-op until CKPT_KBYTES of log were written since the last one. */
    if ((ret = st->env->txn_checkpoint(st->env, CKPT_KBYTES, 0, 0)) != 0)
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
    xfree(txn);
}

/* ---- events */

static int event_existing(store_txn_t *txn, DBT *k, uint64_t *seq, mh_err_t *err)
{
    unsigned char buf[8];
    DBT v;
    int ret;

    dbt_usermem(&v, buf, sizeof(buf));
    ret = txn->st->db[D_EVENT_IDS]->get(txn->st->db[D_EVENT_IDS], txn->tid, k, &v, 0);
    if (ret != 0)
        return bdb_err(err, "append: read id", ret);
    if (v.size != 8)
        return mh_err_set(err, "store: corrupt event id record (%u bytes)", v.size);
    *seq = get_be64(buf);
    return 0;
}

static int event_put(store_txn_t *txn, uint64_t seq, int64_t ts_ms, const char *type,
                     const char *id, const char *json, size_t len, mh_err_t *err)
{
    size_t tlen = strlen(type), idlen = strlen(id), rlen = REC_HDR + tlen + idlen + len;
    unsigned char stackbuf[REC_STACK], kseq[8], ktime[16];
    unsigned char *rec = rlen <= sizeof(stackbuf) ? stackbuf : xmalloc(rlen); /* freed below */
    store_t *st = txn->st;
    DBT k, v;
    int ret;

    put_be64(kseq, seq);
    dbt_set(&k, kseq, 8);
    dbt_set(&v, rec, rec_encode(rec, ts_ms, type, tlen, id, idlen, json, len));
    ret = st->db[D_EVENTS]->put(st->db[D_EVENTS], txn->tid, &k, &v, DB_NOOVERWRITE);
    if (rec != stackbuf)
        xfree(rec);
    if (ret == DB_KEYEXIST)
        return mh_err_set(err, "store: append: sequence %" PRIu64 " already used", seq);
    if (ret != 0)
        return bdb_err(err, "append: put event", ret);
    put_ts(ktime, ts_ms);
    put_be64(ktime + 8, seq);
    dbt_set(&k, ktime, sizeof(ktime));
    dbt_set(&v, NULL, 0);
    if ((ret = st->db[D_EVENT_TIMES]->put(st->db[D_EVENT_TIMES], txn->tid, &k, &v, 0)) != 0)
        return bdb_err(err, "append: put time", ret);
    return 0;
}

int store_event_append(store_txn_t *txn, const char *id, const char *type, int64_t ts_ms,
                       const char *json, size_t len, uint64_t *seq,
                       enum store_append_result *result, mh_err_t *err)
{
    store_t *st = txn->st;
    size_t idlen = strlen(id), tlen = strlen(type);
    uint64_t next = st->last_seq + 1;
    unsigned char vseq[8];
    DBT k, v;
    int ret;

    if (idlen == 0 || idlen > NAME_MAXLEN || tlen == 0 || tlen > NAME_MAXLEN)
        return mh_err_set(err, "store: append: id and type must be 1 to %d bytes",
                          NAME_MAXLEN);
    if (len > UINT32_MAX - REC_HDR - 2 * NAME_MAXLEN)
        return mh_err_set(err, "store: append: event of %zu bytes is too large", len);
    /* The id index doubles as the duplicate check: one btree search. */
    put_be64(vseq, next);
    dbt_set(&k, id, idlen);
    dbt_set(&v, vseq, sizeof(vseq));
    ret = st->db[D_EVENT_IDS]->put(st->db[D_EVENT_IDS], txn->tid, &k, &v, DB_NOOVERWRITE);
    if (ret == DB_KEYEXIST) {
        *result = STORE_DUPLICATE;
        return event_existing(txn, &k, seq, err);
    }
    if (ret != 0)
        return bdb_err(err, "append: put id", ret);
    st->last_seq = next; /* kept even if the transaction aborts: a gap, never reuse */
    txn->dirty = true;
    if (event_put(txn, next, ts_ms, type, id, json, len, err) < 0)
        return -1;
    txn->delta[C_EVENTS]++;
    *seq = next;
    *result = STORE_ADDED;
    return 0;
}

int store_event_get_seq(store_t *st, uint64_t seq, char **json, size_t *len, mh_err_t *err)
{
    unsigned char kseq[8];
    struct rec r;
    DBT k, v;
    int ret;

    put_be64(kseq, seq);
    dbt_set(&k, kseq, sizeof(kseq));
    memset(&v, 0, sizeof(v));
    v.flags = DB_DBT_MALLOC; /* v.data freed below */
    ret = st->db[D_EVENTS]->get(st->db[D_EVENTS], read_txn(st), &k, &v, 0);
    if (ret == DB_NOTFOUND)
        return 1;
    if (ret != 0)
        return bdb_err(err, "get event", ret);
    if ((ret = rec_decode(&v, &r, err)) == 0) {
        *json = xmalloc(r.json_len + 1); /* the caller's */
        memcpy(*json, r.json, r.json_len);
        (*json)[r.json_len] = 0;
        *len = r.json_len;
    }
    free(v.data);
    return ret;
}

int store_event_get(store_t *st, const char *id, char **json, size_t *len, mh_err_t *err)
{
    unsigned char buf[8];
    DBT k, v;
    int ret;

    dbt_set(&k, id, strlen(id));
    dbt_usermem(&v, buf, sizeof(buf));
    ret = st->db[D_EVENT_IDS]->get(st->db[D_EVENT_IDS], read_txn(st), &k, &v, 0);
    if (ret == DB_NOTFOUND)
        return 1;
    if (ret != 0)
        return bdb_err(err, "get event id", ret);
    if (v.size != 8)
        return mh_err_set(err, "store: corrupt event id record (%u bytes)", v.size);
    return store_event_get_seq(st, get_be64(buf), json, len, err);
}

/* ---- batched cursor walks: the cursor is closed while callbacks run */

struct item {
    uint64_t num;
    size_t a_off, a_len, b_off, b_len; /* offsets into batch.buf */
};

struct batch {
    struct item *items;    /* owned */
    size_t n, cap;
    char *buf;             /* owned; each byte string followed by a NUL */
    size_t used, size;
    DBT key, val;          /* DB_DBT_REALLOC buffers, owned, reused */
    unsigned char *pos;    /* owned; the last key examined, to resume after */
    size_t pos_len;
    void *ctx;             /* the take function's */
};

/* Examine one record: 0 next, 1 stop (end of range), -1 error. */
typedef int (*take_fn)(struct batch *b, mh_err_t *err);

static size_t batch_copy(struct batch *b, const void *p, size_t len)
{
    size_t off = b->used;

    if (b->size - b->used < len + 1) {
        b->size = (b->used + len + 1) * 2;
        b->buf = xrealloc(b->buf, b->size);
    }
    if (len)
        memcpy(b->buf + off, p, len);
    b->buf[off + len] = 0;
    b->used += len + 1;
    return off;
}

static void batch_add(struct batch *b, uint64_t num, const void *a, size_t alen,
                      const void *bb, size_t blen)
{
    struct item *it;

    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->items = xreallocarray(b->items, b->cap, sizeof(*b->items));
    }
    it = &b->items[b->n++];
    it->num = num;
    it->a_len = alen;
    it->a_off = batch_copy(b, a, alen);
    it->b_len = blen;
    it->b_off = batch_copy(b, bb, blen);
}

static void batch_free(struct batch *b)
{
    xfree(b->items);
    xfree(b->buf);
    free(b->key.data); /* realloc'ed by BDB */
    free(b->val.data);
    xfree(b->pos);
}

static void batch_init(struct batch *b, void *ctx, const void *start, size_t len)
{
    memset(b, 0, sizeof(*b));
    b->ctx = ctx;
    b->key.flags = b->val.flags = DB_DBT_REALLOC;
    if (len) {
        b->pos = xmemdup(start, len);
        b->pos_len = len;
    }
}

/* Position at pos (or the first record), skipping pos itself when resuming. */
static int walk_position(DBC *c, struct batch *b, bool resume)
{
    int ret;

    if (b->pos_len == 0)
        return c->get(c, &b->key, &b->val, DB_FIRST);
    b->key.data = xrealloc(b->key.data, b->pos_len);
    memcpy(b->key.data, b->pos, b->pos_len);
    b->key.size = (u_int32_t)b->pos_len;
    ret = c->get(c, &b->key, &b->val, DB_SET_RANGE);
    if (ret == 0 && resume && b->key.size == b->pos_len &&
        memcmp(b->key.data, b->pos, b->pos_len) == 0)
        ret = c->get(c, &b->key, &b->val, DB_NEXT);
    return ret;
}

/* Fill one batch. Returns 1 when the range is done, 0 when more may follow. */
static int walk_batch(store_t *st, DB *db, struct batch *b, bool resume, take_fn take,
                      mh_err_t *err)
{
    int ret, r = 0, cret;
    DBC *c;

    b->n = b->used = 0;
    if ((ret = db->cursor(db, read_txn(st), &c, 0)) != 0)
        return bdb_err(err, "open cursor", ret);
    for (ret = walk_position(c, b, resume); ret == 0; ret = c->get(c, &b->key, &b->val, DB_NEXT)) {
        if ((r = take(b, err)) != 0)
            break;
        if (b->n >= BATCH_ITEMS || b->used >= BATCH_BYTES) {
            b->pos = xrealloc(b->pos, b->key.size ? b->key.size : 1);
            memcpy(b->pos, b->key.data, b->key.size);
            b->pos_len = b->key.size;
            break;
        }
    }
    cret = c->close(c);
    if (r < 0)
        return -1;
    if (ret != 0 && ret != DB_NOTFOUND)
        return bdb_err(err, "read cursor", ret);
    if (cret != 0)
        return bdb_err(err, "close cursor", cret);
    return r == 1 || ret == DB_NOTFOUND;
}

/* Hand a batch to the caller's callback: 0 go on, 1 the callback said stop. */
typedef int (*deliver_fn)(struct batch *b);

/* Walk db d from start (inclusive; the first record when start_len is 0),
 * alternately filling a batch with take and emptying it with deliver, until
 * the range ends or deliver says stop. ctx is the take and deliver
 * functions' (b->ctx). Returns 0 or -1. */
static int walk(store_t *st, int d, void *ctx, const void *start, size_t start_len, take_fn take,
                deliver_fn deliver, mh_err_t *err)
{
    struct batch b;
    int done = 0;

    batch_init(&b, ctx, start, start_len);
    for (bool resume = false; done == 0; resume = true) {
        if ((done = walk_batch(st, st->db[d], &b, resume, take, err)) < 0)
            break;
        if (deliver(&b) != 0)
            done = 1;
    }
    batch_free(&b);
    return done < 0 ? -1 : 0;
}

/* ---- event scan */

struct escan {
    store_t *st;
    const struct store_query *q;
    size_t left;   /* limit countdown; SIZE_MAX when unlimited */
    DBT rec;       /* DB_DBT_REALLOC, owned, freed by store_event_scan */
    store_event_cb cb;
    void *cbctx;
};

static int escan_take(struct batch *b, mh_err_t *err)
{
    struct escan *s = b->ctx;
    const unsigned char *k = b->key.data;
    unsigned char kseq[8];
    struct rec r;
    uint64_t seq;
    DBT sk;
    int ret;

    if (b->key.size != 16)
        return mh_err_set(err, "store: corrupt event time key (%u bytes)", b->key.size);
    if (s->q->until_ms && get_ts(k) >= s->q->until_ms)
        return 1;
    if ((seq = get_be64(k + 8)) <= s->q->after_seq)
        return 0;
    memcpy(kseq, k + 8, 8);
    dbt_set(&sk, kseq, 8);
    ret = s->st->db[D_EVENTS]->get(s->st->db[D_EVENTS], read_txn(s->st), &sk, &s->rec, 0);
    if (ret == DB_NOTFOUND)
        return 0; /* index entry without its event: nothing to show */
    if (ret != 0)
        return bdb_err(err, "scan: read event", ret);
    if (rec_decode(&s->rec, &r, err) < 0)
        return -1;
    if (!type_match(s->q->type, &r))
        return 0;
    batch_add(b, seq, r.json, r.json_len, NULL, 0);
    return --s->left == 0;
}

static int escan_deliver(struct batch *b)
{
    struct escan *s = b->ctx;

    for (size_t i = 0; i < b->n; i++)
        if (s->cb(s->cbctx, b->items[i].num, b->buf + b->items[i].a_off, b->items[i].a_len))
            return 1;
    return 0;
}

int store_event_scan(store_t *st, const struct store_query *q, store_event_cb cb, void *ctx,
                     mh_err_t *err)
{
    struct escan s = { st, q, q->limit ? q->limit : SIZE_MAX, { 0 }, cb, ctx };
    unsigned char start[16];
    int ret;

    s.rec.flags = DB_DBT_REALLOC;
    put_ts(start, q->since_ms);
    memset(start + 8, 0, 8);
    ret = walk(st, D_EVENT_TIMES, &s, start, q->since_ms ? sizeof(start) : 0, escan_take,
               escan_deliver, err);
    free(s.rec.data); /* realloc'ed by BDB */
    return ret;
}

/* Delete the event seq (its record and id entry); the caller deletes the time key. */
static int expire_one(store_txn_t *txn, const unsigned char *kseq, DBT *rec, mh_err_t *err)
{
    DB **db = txn->st->db;
    struct rec r;
    DBT k;
    int ret;

    dbt_set(&k, kseq, 8);
    ret = db[D_EVENTS]->get(db[D_EVENTS], txn->tid, &k, rec, DB_RMW);
    if (ret == DB_NOTFOUND)
        return 0;
    if (ret != 0)
        return bdb_err(err, "expire: read event", ret);
    if (rec_decode(rec, &r, err) < 0)
        return -1;
    if ((ret = db[D_EVENTS]->del(db[D_EVENTS], txn->tid, &k, 0)) != 0)
        return bdb_err(err, "expire: delete event", ret);
    dbt_set(&k, r.id, r.id_len);
    ret = db[D_EVENT_IDS]->del(db[D_EVENT_IDS], txn->tid, &k, 0);
    if (ret != 0 && ret != DB_NOTFOUND)
        return bdb_err(err, "expire: delete id", ret);
    txn->delta[C_EVENTS]--;
    return 0;
}

static int expire_walk(store_txn_t *txn, int64_t before_ms, size_t max, size_t *deleted,
                       mh_err_t *err)
{
    DB *times = txn->st->db[D_EVENT_TIMES];
    unsigned char kbuf[16];
    DBT k, v, rec = { .flags = DB_DBT_REALLOC };
    DBC *c;
    int ret, r = 0;

    if ((ret = times->cursor(times, txn->tid, &c, 0)) != 0)
        return bdb_err(err, "expire: open cursor", ret);
    dbt_usermem(&k, kbuf, sizeof(kbuf));
    dbt_nodata(&v);
    for (ret = c->get(c, &k, &v, DB_FIRST | DB_RMW); ret == 0 && *deleted < max;
         ret = c->get(c, &k, &v, DB_NEXT | DB_RMW)) {
        if (k.size != 16 || get_ts(kbuf) >= before_ms)
            break;
        if ((r = expire_one(txn, kbuf + 8, &rec, err)) < 0)
            break;
        if ((ret = c->del(c, 0)) != 0)
            break;
        ++*deleted;
    }
    free(rec.data); /* realloc'ed by BDB */
    if (r == 0 && ret != 0 && ret != DB_NOTFOUND)
        r = bdb_err(err, "expire: walk", ret);
    if ((ret = c->close(c)) != 0 && r == 0)
        r = bdb_err(err, "expire: close cursor", ret);
    return r;
}

int store_event_expire(store_t *st, int64_t before_ms, size_t max, size_t *deleted, mh_err_t *err)
{
    store_txn_t *txn;

    *deleted = 0;
    if ((txn = store_begin(st, err)) == NULL)
        return -1;
    txn->dirty = true;
    if (expire_walk(txn, before_ms, max ? max : SIZE_MAX, deleted, err) < 0) {
        store_abort(txn);
        *deleted = 0;
        return -1;
    }
    if (store_commit(txn, err) < 0) {
        *deleted = 0;
        return -1;
    }
    return 0;
}

/* ---- keyed tables */

/* The database of table t; *counter receives its record counter. */
static int kv_db(enum store_table t, int *counter)
{
    static const struct { int d, c; } map[] = {
        [STORE_MESSAGES] = { D_MESSAGES, C_MESSAGES },
        [STORE_ENDPOINTS] = { D_ENDPOINTS, C_ENDPOINTS },
        [STORE_CHECKPOINTS] = { D_CHECKPOINTS, C_CHECKPOINTS },
    };

    if ((unsigned)t >= sizeof(map) / sizeof(map[0]))
        msg_panic_f("unknown table %d", (int)t);
    *counter = map[t].c;
    return map[t].d;
}

/* Insert or replace k -> v in db d, counting new keys in counter c. */
static int put_counted(store_txn_t *txn, int d, int c, DBT *k, DBT *v, mh_err_t *err)
{
    DB *db = txn->st->db[d];
    int ret = db->put(db, txn->tid, k, v, DB_NOOVERWRITE);

    if (ret == DB_KEYEXIST)
        ret = db->put(db, txn->tid, k, v, 0);
    else if (ret == 0)
        txn->delta[c]++, txn->dirty = true;
    return ret ? mh_err_set(err, "store: put %s: %s", db_files[d], db_strerror(ret)) : 0;
}

/* Delete k from db d: 0 deleted, 1 absent, -1 error. */
static int del_counted(store_txn_t *txn, int d, int c, DBT *k, mh_err_t *err)
{
    DB *db = txn->st->db[d];
    int ret = db->del(db, txn->tid, k, 0);

    if (ret == DB_NOTFOUND)
        return 1;
    if (ret != 0)
        return mh_err_set(err, "store: delete %s: %s", db_files[d], db_strerror(ret));
    txn->delta[c]--;
    txn->dirty = true;
    return 0;
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
    return put_counted(txn, d, c, &k, &v, err);
}

int store_kv_get(store_t *st, enum store_table t, const char *key, void **val, size_t *len,
                 mh_err_t *err)
{
    int c, d = kv_db(t, &c);
    char *copy;
    DBT k, v;
    int ret;

    dbt_set(&k, key, strlen(key));
    memset(&v, 0, sizeof(v));
    v.flags = DB_DBT_MALLOC;
    ret = st->db[d]->get(st->db[d], read_txn(st), &k, &v, 0);
    if (ret == DB_NOTFOUND)
        return 1;
    if (ret != 0)
        return mh_err_set(err, "store: get %s: %s", db_files[d], db_strerror(ret));
    copy = xrealloc(v.data, (size_t)v.size + 1); /* BDB malloc'ed it; now the caller's */
    copy[v.size] = 0;
    *val = copy;
    *len = v.size;
    return 0;
}

int store_kv_del(store_txn_t *txn, enum store_table t, const char *key, mh_err_t *err)
{
    int c, d = kv_db(t, &c);
    DBT k;

    dbt_set(&k, key, strlen(key));
    return del_counted(txn, d, c, &k, err);
}

static int kv_take(struct batch *b, mh_err_t *err)
{
    (void)err;
    batch_add(b, 0, b->key.data, b->key.size, b->val.data, b->val.size);
    return 0;
}

struct kvscan {
    store_kv_cb cb;
    void *cbctx;
};

static int kv_deliver(struct batch *b)
{
    struct kvscan *s = b->ctx;

    for (size_t i = 0; i < b->n; i++)
        if (s->cb(s->cbctx, b->buf + b->items[i].a_off, b->buf + b->items[i].b_off,
                  b->items[i].b_len))
            return 1;
    return 0;
}

int store_kv_scan(store_t *st, enum store_table t, store_kv_cb cb, void *ctx, mh_err_t *err)
{
    struct kvscan s = { cb, ctx };
    int c, d = kv_db(t, &c);

    return walk(st, d, &s, NULL, 0, kv_take, kv_deliver, err);
}

/* ---- delivery queues */

/* key = endpoint + NUL + seq BE; out holds NAME_MAXLEN + 9 bytes. */
static int queue_key(unsigned char *out, const char *endpoint, uint64_t seq, size_t *len,
                     mh_err_t *err)
{
    size_t n = strlen(endpoint);

    if (n == 0 || n > NAME_MAXLEN)
        return mh_err_set(err, "store: queue: endpoint name must be 1 to %d bytes", NAME_MAXLEN);
    memcpy(out, endpoint, n + 1);
    put_be64(out + n + 1, seq);
    *len = n + 9;
    return 0;
}

/* Pushing an existing (endpoint, seq) replaces its entry. */
int store_queue_push(store_txn_t *txn, const char *endpoint, uint64_t seq, const void *entry,
                     size_t len, mh_err_t *err)
{
    unsigned char kbuf[NAME_MAXLEN + 9];
    size_t klen;
    DBT k, v;

    if (queue_key(kbuf, endpoint, seq, &klen, err) < 0)
        return -1;
    if (len > UINT32_MAX)
        return mh_err_set(err, "store: queue: entry too large");
    dbt_set(&k, kbuf, klen);
    dbt_set(&v, entry, len);
    return put_counted(txn, D_QUEUES, C_QUEUED, &k, &v, err);
}

/* Removing an entry that is not there is not an error (returns 0). */
int store_queue_remove(store_txn_t *txn, const char *endpoint, uint64_t seq, mh_err_t *err)
{
    unsigned char kbuf[NAME_MAXLEN + 9];
    size_t klen;
    DBT k;

    if (queue_key(kbuf, endpoint, seq, &klen, err) < 0)
        return -1;
    dbt_set(&k, kbuf, klen);
    return del_counted(txn, D_QUEUES, C_QUEUED, &k, err) < 0 ? -1 : 0;
}

struct qscan {
    size_t prefix_len; /* endpoint + NUL */
    const unsigned char *prefix;
    size_t left;       /* limit countdown; SIZE_MAX when unlimited */
    store_queue_cb cb;
    void *cbctx;
};

static int queue_take(struct batch *b, mh_err_t *err)
{
    struct qscan *s = b->ctx;
    const unsigned char *k = b->key.data;

    (void)err;
    if (b->key.size != s->prefix_len + 8 || memcmp(k, s->prefix, s->prefix_len) != 0)
        return 1;
    batch_add(b, get_be64(k + s->prefix_len), b->val.data, b->val.size, NULL, 0);
    return --s->left == 0;
}

static int queue_deliver(struct batch *b)
{
    struct qscan *s = b->ctx;

    for (size_t i = 0; i < b->n; i++)
        if (s->cb(s->cbctx, b->items[i].num, b->buf + b->items[i].a_off, b->items[i].a_len))
            return 1;
    return 0;
}

int store_queue_scan(store_t *st, const char *endpoint, size_t limit, store_queue_cb cb, void *ctx,
                     mh_err_t *err)
{
    unsigned char kbuf[NAME_MAXLEN + 9];
    struct qscan s;
    size_t klen;

    if (queue_key(kbuf, endpoint, 0, &klen, err) < 0)
        return -1;
    s.prefix = kbuf;
    s.prefix_len = klen - 8;
    s.left = limit ? limit : SIZE_MAX;
    s.cb = cb;
    s.cbctx = ctx;
    return walk(st, D_QUEUES, &s, kbuf, klen, queue_take, queue_deliver, err);
}

/* ---- statistics */

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
            *total += (uint64_t)sb.st_size;
    closedir(dp);
    return 0;
}

/* Counts are those of committed transactions, kept at each commit (exact,
 * unlike DB_FAST_STAT, and without walking the databases). */
int store_stats(store_t *st, struct store_stats *out, mh_err_t *err)
{
    memset(out, 0, sizeof(*out));
    out->events = st->count[C_EVENTS];
    out->last_seq = st->last_seq;
    out->messages = st->count[C_MESSAGES];
    out->endpoints = st->count[C_ENDPOINTS];
    out->queued = st->count[C_QUEUED];
    return dir_bytes(st->dir, &out->bytes_on_disk, err);
}
