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
 * The JSON is stored as given, without a NUL. Ids, types and endpoint names
 * are 1 to 255 bytes.
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
#define LOG_BUF_BYTES (4u << 20)   /* a batch of events mostly fits the buffer */
#define LOG_FILE_BYTES (64u << 20)
#define CKPT_KBYTES (32u << 10)    /* checkpoint after 32 MiB of log */
#define EVENTS_PAGESIZE 65536      /* events up to ~16 KB stay off overflow pages */
#define LOCKS_MAX 200000           /* a 4096-event batch or a big expire */
#define NAME_MAXLEN 255
#define REC_HDR 11                 /* version, ts, type_len, id_len */
#define REC_VERSION 1
#define META_KEY "state"
#define META_VERSION 1

enum { D_EVENTS, D_EVENT_IDS, D_EVENT_TIMES, D_MESSAGES, D_ENDPOINTS, D_CHECKPOINTS,
       D_QUEUES, D_META, D_N };
static const char *const db_files[D_N] = {
    "events.db", "event_ids.db", "event_times.db", "messages.db",
    "endpoints.db", "checkpoints.db", "queues.db", "meta.db",
};

/* Counted tables, in the order of the counts in the meta record. */
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
    store_txn_t *cur;    /* the open transaction (the caller's), or NULL */
    unsigned char *rec;  /* owned; encoding buffer reused by every append */
    size_t rec_size;
};

struct store_txn {
    store_t *st;
    DB_TXN *tid;         /* freed by BDB at commit/abort */
    int64_t delta[C_N];  /* count changes, applied to st->count at commit */
    bool dirty;          /* meta.db must be rewritten at commit */
};

/* A decoded event record: pointers into the DBT it came from. */
struct rec {
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

/* Receive into buf; with DB_DBT_PARTIAL added and size 0, receive nothing. */
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

/* A malloc'ed, NUL-terminated copy of len bytes at p: the caller's. */
static char *copy_cstr(const void *p, size_t len)
{
    char *s = xmalloc(len + 1);

    if (len)
        memcpy(s, p, len);
    s[len] = 0;
    return s;
}

/* ---- event records */

static size_t rec_encode(store_t *st, int64_t ts, const char *type, const char *id,
                         const char *json, size_t jlen)
{
    size_t tlen = strlen(type), idlen = strlen(id), n = REC_HDR + tlen + idlen + jlen;
    unsigned char *p;

    if (st->rec_size < n)
        st->rec = xrealloc(st->rec, st->rec_size = n + n / 2);
    p = st->rec;
    p[0] = REC_VERSION;
    put_be64(p + 1, (uint64_t)ts);
    p[9] = (unsigned char)tlen;
    p[10] = (unsigned char)idlen;
    memcpy(p + REC_HDR, type, tlen);
    memcpy(p + REC_HDR + tlen, id, idlen);
    if (jlen)
        memcpy(p + REC_HDR + tlen + idlen, json, jlen);
    return n;
}

static int rec_decode(const DBT *v, struct rec *r, mh_err_t *err)
{
    const unsigned char *p = v->data;

    if (v->size < REC_HDR || p[0] != REC_VERSION || v->size < REC_HDR + (size_t)p[9] + p[10])
        return mh_err_set(err, "store: corrupt event record (%u bytes)", v->size);
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
    static const struct store_opts defaults;
    store_t *st;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        mh_err_set(err, "store: create directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    st = xcalloc(1, sizeof(*st)); /* freed by store_close */
    st->dir = xstrdup(dir);
    if (env_open(st, opts ? opts : &defaults, err) < 0 || dbs_open(st, err) < 0 ||
        state_load(st, err) < 0) {
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
    /* Bounds recovery time and lets DB_LOG_AUTO_REMOVE drop old log files;
     * does nothing until CKPT_KBYTES of log were written since the last. */
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

/* The sequence number of id: 0, 1 when absent, -1 on error. */
static int event_seq(store_t *st, DB_TXN *tid, const char *id, uint64_t *seq, mh_err_t *err)
{
    unsigned char buf[8];
    DBT k, v;
    int ret;

    dbt_set(&k, id, strlen(id));
    dbt_usermem(&v, buf, sizeof(buf));
    ret = st->db[D_EVENT_IDS]->get(st->db[D_EVENT_IDS], tid, &k, &v, 0);
    if (ret == DB_NOTFOUND)
        return 1;
    if (ret != 0)
        return bdb_err(err, "read event id", ret);
    if (v.size != 8)
        return mh_err_set(err, "store: corrupt event id record (%u bytes)", v.size);
    *seq = get_be64(buf);
    return 0;
}

/* Store the record and the time index entry of a new event. */
static int event_put(store_txn_t *txn, uint64_t seq, int64_t ts_ms, const char *type,
                     const char *id, const char *json, size_t len, mh_err_t *err)
{
    unsigned char kseq[8], ktime[16];
    store_t *st = txn->st;
    DBT k, v;
    int ret;

    put_be64(kseq, seq);
    dbt_set(&k, kseq, 8);
    dbt_set(&v, st->rec, rec_encode(st, ts_ms, type, id, json, len));
    ret = st->db[D_EVENTS]->put(st->db[D_EVENTS], txn->tid, &k, &v, DB_NOOVERWRITE);
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
        return event_seq(st, txn->tid, id, seq, err) == 0 ? 0 : -1;
    }
    if (ret != 0)
        return bdb_err(err, "append: put id", ret);
    st->last_seq = next; /* kept even if the transaction aborts: a gap, never a reuse */
    txn->dirty = true;
    if (event_put(txn, next, ts_ms, type, id, json, len, err) < 0)
        return -1;
    txn->delta[C_EVENTS]++;
    *seq = next;
    *result = STORE_ADDED;
    return 0;
}

/* Read event seq into rec (a DB_DBT_REALLOC DBT) and decode it into r.
 * Returns 0, 1 when absent, -1 on error. */
static int event_read(store_t *st, DB_TXN *tid, uint64_t seq, DBT *rec, struct rec *r,
                      mh_err_t *err)
{
    unsigned char kseq[8];
    DBT k;
    int ret;

    put_be64(kseq, seq);
    dbt_set(&k, kseq, sizeof(kseq));
    ret = st->db[D_EVENTS]->get(st->db[D_EVENTS], tid, &k, rec, 0);
    if (ret == DB_NOTFOUND)
        return 1;
    if (ret != 0)
        return bdb_err(err, "read event", ret);
    return rec_decode(rec, r, err);
}

int store_event_get_seq(store_t *st, uint64_t seq, char **json, size_t *len, mh_err_t *err)
{
    DBT rec = { .flags = DB_DBT_REALLOC };
    struct rec r;
    int ret;

    if ((ret = event_read(st, read_txn(st), seq, &rec, &r, err)) == 0) {
        *json = copy_cstr(r.json, r.json_len);
        *len = r.json_len;
    }
    free(rec.data); /* BDB realloc'ed it */
    return ret;
}

int store_event_get(store_t *st, const char *id, char **json, size_t *len, mh_err_t *err)
{
    uint64_t seq;
    int ret = event_seq(st, read_txn(st), id, &seq, err);

    return ret ? ret : store_event_get_seq(st, seq, json, len, err);
}

/* ---- scans: a cursor per record, closed before the callback runs */

struct walker {
    DBT key, val;           /* DB_DBT_REALLOC, owned */
    unsigned char *pos;     /* owned; where to resume: the start or the last key */
    size_t pos_len;
    bool skip;              /* pos was returned already: move past it */
    char *copy;             /* owned; NUL-terminated copies for the callback */
    size_t copy_size;
};

static void walker_init(struct walker *w, const void *start, size_t len)
{
    memset(w, 0, sizeof(*w));
    w->key.flags = w->val.flags = DB_DBT_REALLOC;
    w->pos = xmemdup(start ? start : "", len ? len : 1);
    w->pos_len = len;
}

static void walker_free(struct walker *w)
{
    free(w->key.data); /* BDB realloc'ed these */
    free(w->val.data);
    xfree(w->pos);
    xfree(w->copy);
}

/* The next record at or after pos (past it once one was returned) into
 * w->key and w->val: 0, 1 at the end, -1 on error. */
static int walker_next(store_t *st, DB *db, struct walker *w, mh_err_t *err)
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
static char *walker_copy(struct walker *w, const void *a, size_t alen, const void *b, size_t blen)
{
    size_t need = alen + blen + 2;

    if (w->copy_size < need)
        w->copy = xrealloc(w->copy, w->copy_size = need + need / 2);
    memcpy(w->copy, a, alen);
    w->copy[alen] = 0;
    if (blen)
        memcpy(w->copy + alen + 1, b, blen);
    w->copy[alen + 1 + blen] = 0;
    return w->copy;
}

/* One index entry of an event scan: 1 to report the event in r, 0 to skip,
 * 2 past the end of the range, -1 on error. */
static int scan_filter(store_t *st, const struct store_query *q, const DBT *key, DBT *rec,
                       struct rec *r, uint64_t *seq, mh_err_t *err)
{
    int ret;

    if (key->size != 16)
        return mh_err_set(err, "store: corrupt event time key (%u bytes)", key->size);
    if (q->until_ms && get_ts(key->data) >= q->until_ms)
        return 2;
    if ((*seq = get_be64((const unsigned char *)key->data + 8)) <= q->after_seq)
        return 0;
    if ((ret = event_read(st, read_txn(st), *seq, rec, r, err)) != 0)
        return ret < 0 ? -1 : 0; /* an index entry without its event: skip */
    return type_match(q->type, r);
}

int store_event_scan(store_t *st, const struct store_query *q, store_event_cb cb, void *ctx,
                     mh_err_t *err)
{
    size_t left = q->limit ? q->limit : SIZE_MAX;
    DBT rec = { .flags = DB_DBT_REALLOC };
    unsigned char start[16] = { 0 };
    struct walker w;
    struct rec r;
    uint64_t seq;
    int ret = 0;

    put_ts(start, q->since_ms);
    walker_init(&w, start, q->since_ms ? sizeof(start) : 0);
    while (left > 0 && (ret = walker_next(st, st->db[D_EVENT_TIMES], &w, err)) == 0) {
        if ((ret = scan_filter(st, q, &w.key, &rec, &r, &seq, err)) < 0 || ret == 2)
            break;
        if (ret == 1) {
            left--;
            if (cb(ctx, seq, walker_copy(&w, r.json, r.json_len, NULL, 0), r.json_len))
                break;
        }
        ret = 0;
    }
    free(rec.data); /* BDB realloc'ed it */
    walker_free(&w);
    return ret < 0 ? -1 : 0;
}

/* ---- expiry */

/* Delete event seq's record and id entry; the caller deletes the time key. */
static int expire_one(store_txn_t *txn, uint64_t seq, DBT *rec, mh_err_t *err)
{
    DB **db = txn->st->db;
    unsigned char kseq[8];
    struct rec r;
    DBT k;
    int ret;

    if ((ret = event_read(txn->st, txn->tid, seq, rec, &r, err)) != 0)
        return ret < 0 ? -1 : 0;
    put_be64(kseq, seq);
    dbt_set(&k, kseq, sizeof(kseq));
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
    DBT k, v, rec = { .flags = DB_DBT_REALLOC };
    unsigned char kbuf[16];
    DBC *c;
    int ret, r = 0;

    if ((ret = times->cursor(times, txn->tid, &c, 0)) != 0)
        return bdb_err(err, "expire: open cursor", ret);
    dbt_usermem(&k, kbuf, sizeof(kbuf));
    dbt_usermem(&v, NULL, 0);
    v.flags |= DB_DBT_PARTIAL;
    for (ret = c->get(c, &k, &v, DB_FIRST | DB_RMW); ret == 0 && *deleted < max;
         ret = c->get(c, &k, &v, DB_NEXT | DB_RMW)) {
        if (k.size != 16 || get_ts(kbuf) >= before_ms)
            break;
        if ((r = expire_one(txn, get_be64(kbuf + 8), &rec, err)) < 0)
            break;
        if ((ret = c->del(c, 0)) != 0)
            break;
        ++*deleted;
    }
    free(rec.data); /* BDB realloc'ed it */
    if (r == 0 && ret != 0 && ret != DB_NOTFOUND)
        r = bdb_err(err, "expire: walk", ret);
    if ((ret = c->close(c)) != 0 && r == 0)
        r = bdb_err(err, "expire: close cursor", ret);
    return r;
}

/* max 0 means no limit, as for store_query.limit. */
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

/* ---- keyed tables and queues: counted puts and deletes */

/* Insert or replace k -> v in db d, counting new keys in counter c. */
static int put_counted(store_txn_t *txn, int d, int c, DBT *k, DBT *v, mh_err_t *err)
{
    DB *db = txn->st->db[d];
    int ret = db->put(db, txn->tid, k, v, DB_NOOVERWRITE);

    if (ret == DB_KEYEXIST) {
        ret = db->put(db, txn->tid, k, v, 0);
    } else if (ret == 0) {
        txn->delta[c]++;
        txn->dirty = true;
    }
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
    return del_counted(txn, d, c, &k, err);
}

int store_kv_scan(store_t *st, enum store_table t, store_kv_cb cb, void *ctx, mh_err_t *err)
{
    int c, d = kv_db(t, &c), ret;
    struct walker w;
    char *key;

    walker_init(&w, NULL, 0);
    while ((ret = walker_next(st, st->db[d], &w, err)) == 0) {
        key = walker_copy(&w, w.key.data, w.key.size, w.val.data, w.val.size);
        if (cb(ctx, key, key + w.key.size + 1, w.val.size))
            break;
    }
    walker_free(&w);
    return ret < 0 ? -1 : 0;
}

/* key = endpoint + NUL + seq BE; out holds NAME_MAXLEN + 9 bytes. */
static int queue_key(unsigned char *out, const char *endpoint, uint64_t seq, DBT *k,
                     mh_err_t *err)
{
    size_t n = strlen(endpoint);

    if (n == 0 || n > NAME_MAXLEN)
        return mh_err_set(err, "store: queue: endpoint name must be 1 to %d bytes", NAME_MAXLEN);
    memcpy(out, endpoint, n + 1);
    put_be64(out + n + 1, seq);
    dbt_set(k, out, n + 9);
    return 0;
}

/* Pushing an existing (endpoint, seq) replaces its entry. */
int store_queue_push(store_txn_t *txn, const char *endpoint, uint64_t seq, const void *entry,
                     size_t len, mh_err_t *err)
{
    unsigned char kbuf[NAME_MAXLEN + 9];
    DBT k, v;

    if (queue_key(kbuf, endpoint, seq, &k, err) < 0)
        return -1;
    if (len > UINT32_MAX)
        return mh_err_set(err, "store: queue: entry too large");
    dbt_set(&v, entry, len);
    return put_counted(txn, D_QUEUES, C_QUEUED, &k, &v, err);
}

/* Removing an entry that is not there is not an error (returns 0). */
int store_queue_remove(store_txn_t *txn, const char *endpoint, uint64_t seq, mh_err_t *err)
{
    unsigned char kbuf[NAME_MAXLEN + 9];
    DBT k;

    if (queue_key(kbuf, endpoint, seq, &k, err) < 0)
        return -1;
    return del_counted(txn, D_QUEUES, C_QUEUED, &k, err) < 0 ? -1 : 0;
}

int store_queue_scan(store_t *st, const char *endpoint, size_t limit, store_queue_cb cb, void *ctx,
                     mh_err_t *err)
{
    unsigned char kbuf[NAME_MAXLEN + 9];
    struct walker w;
    size_t plen;
    DBT k;
    int ret = 0;

    if (queue_key(kbuf, endpoint, 0, &k, err) < 0)
        return -1;
    plen = k.size - 8; /* endpoint + NUL */
    walker_init(&w, kbuf, k.size);
    for (size_t n = 0; (limit == 0 || n < limit) &&
                       (ret = walker_next(st, st->db[D_QUEUES], &w, err)) == 0; n++) {
        const unsigned char *key = w.key.data;

        if (w.key.size != plen + 8 || memcmp(key, kbuf, plen) != 0)
            break; /* past this endpoint's entries */
        if (cb(ctx, get_be64(key + plen), walker_copy(&w, w.val.data, w.val.size, NULL, 0),
               w.val.size))
            break;
    }
    walker_free(&w);
    return ret < 0 ? -1 : 0;
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

/* Counts are those of committed transactions, kept at each commit. */
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
