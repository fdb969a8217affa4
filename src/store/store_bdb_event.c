/* SPDX-License-Identifier: MIT */
/*
 * store_bdb_event.c - the event log of the Berkeley DB store (store.h):
 * event records, the id and time indexes, and expiry.
 *
 *   store_event_append    add an event, idempotent by id (STORE_DUPLICATE)
 *   store_event_get       an event's JSON by id
 *   store_event_get_seq   an event's JSON by sequence number
 *   store_event_read      an event record by sequence number: id, type, time
 *                         and JSON without parsing the JSON
 *   store_event_scan      events by time range, sequence and type, in order
 *   store_event_expire    delete events received before a time and queued
 *                         nowhere, in one transaction
 *   bdb_events_open       store_open's part: the receipt time bound of
 *                         version 1 records (store_bdb_int.h)
 *
 * Failures come back as -1 with "store: <operation>: <db_strerror>" in err.
 * The environment, transactions, sequence numbers and the locking contract
 * are those of store_bdb.c; what the two files share is store_bdb_int.h.
 *
 * Event record in events.db (version 2):
 *   u8 version=2 | i64 ts_ms BE | i64 recv_ms BE | u8 type_len | u8 id_len |
 *   type | id | json
 * ts_ms is the event's own time, recv_ms when the store received it.
 * Version 1, written before receipt times were kept, has no recv_ms:
 *   u8 version=1 | i64 ts_ms BE | u8 type_len | u8 id_len | type | id | json
 * and reads with recv_ms = the earlier of ts_ms and recv_since (meta.db
 * "recv_since", 8 bytes BE: set at the first open that kept receipt times,
 * so every version 1 record was received before it).
 * The JSON is stored as given, without a NUL. Ids and types are 1 to 255
 * bytes. event_ids.db maps id -> seq (8 bytes BE); event_times.db keys are
 * ts_ms (8 bytes BE, sign bit flipped so negative times sort first) + seq.
 *
 * Expiry goes by receipt: sequence numbers are given in the order events
 * are received, so it walks events.db from the oldest and stops at the
 * first event received since the bound (a clock set back can delay expiry,
 * never hasten it). An event still in a delivery queue is kept and looked
 * at again by a later walk: a walk goes on from where the last stopped
 * (st->expire_from) and starts over once it reached the bound.
 */
#include "config.h"

#include <db.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "store.h"
#include "store_bdb_int.h"
#include "timeutil.h"
#include "xalloc.h"

#define REC_HDR_V1 11              /* version, ts, type_len, id_len */
#define REC_HDR 19                 /* version, ts, recv, type_len, id_len */
#define REC_VERSION 2
#define RECV_SINCE_KEY "recv_since"
#define EXPIRE_VISITS_MAX EXPIRE_TXN_MAX /* events one expiry call looks at */

/* A decoded event record: pointers into the DBT it came from. */
struct rec {
    const char *type, *id, *json;
    size_t type_len, id_len, json_len;
    int64_t ts_ms, recv_ms;
};

/* ---- time index keys */

/* Flip the sign bit so that byte order of the encoding is numeric order. */
static void put_ts(unsigned char *p, int64_t ts)
{
    put_be64(p, (uint64_t)ts ^ (UINT64_C(1) << 63));
}

static int64_t get_ts(const unsigned char *p)
{
    return (int64_t)(get_be64(p) ^ (UINT64_C(1) << 63));
}

/* ---- event records */

static size_t rec_encode(store_t *st, int64_t ts, int64_t recv, const char *type,
                         const char *id, const char *json, size_t jlen)
{
    size_t tlen = strlen(type), idlen = strlen(id), n = REC_HDR + tlen + idlen + jlen;
    unsigned char *p;

    if (st->rec_size < n) {
        st->rec_size = n + n / 2;
        st->rec = xrealloc(st->rec, st->rec_size);
    }
    p = st->rec;
    p[0] = REC_VERSION;
    put_be64(p + 1, (uint64_t)ts);
    put_be64(p + 9, (uint64_t)recv);
    p[17] = (unsigned char)tlen;
    p[18] = (unsigned char)idlen;
    memcpy(p + REC_HDR, type, tlen);
    memcpy(p + REC_HDR + tlen, id, idlen);
    if (jlen)
        memcpy(p + REC_HDR + tlen + idlen, json, jlen);
    return n;
}

/* Versions 1 and 2 (above); st gives version 1 its receipt time bound. */
static int rec_decode(const store_t *st, const DBT *v, struct rec *r, mh_err_t *err)
{
    const unsigned char *p = v->data;
    size_t hdr = v->size > 0 && p[0] == 1 ? REC_HDR_V1 : REC_HDR;

    if (v->size < hdr || (p[0] != 1 && p[0] != REC_VERSION) ||
        v->size < hdr + (size_t)p[hdr - 2] + p[hdr - 1])
        return mh_err_set(err, "store: corrupt event record (%u bytes)", v->size);
    r->ts_ms = (int64_t)get_be64(p + 1);
    if (p[0] == 1)
        r->recv_ms = r->ts_ms < st->recv_since ? r->ts_ms : st->recv_since;
    else
        r->recv_ms = (int64_t)get_be64(p + 9);
    r->type_len = p[hdr - 2];
    r->id_len = p[hdr - 1];
    r->type = (const char *)p + hdr;
    r->id = r->type + r->type_len;
    r->json = r->id + r->id_len;
    r->json_len = v->size - hdr - r->type_len - r->id_len;
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
static int event_put(store_txn_t *txn, uint64_t seq, int64_t ts_ms, int64_t recv_ms,
                     const char *type, const char *id, const char *json, size_t len,
                     mh_err_t *err)
{
    unsigned char kseq[8], ktime[16];
    store_t *st = txn->st;
    size_t rlen;
    DBT k, v;
    int ret;

    put_be64(kseq, seq);
    dbt_set(&k, kseq, 8);
    /* First: rec_encode may move st->rec (arguments have no order). */
    rlen = rec_encode(st, ts_ms, recv_ms, type, id, json, len);
    dbt_set(&v, st->rec, rlen);
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
                       int64_t recv_ms, const char *json, size_t len, uint64_t *seq,
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
        if ((ret = event_seq(st, txn->tid, id, seq, err)) > 0)
            ret = mh_err_set(err, "store: append: id %s vanished", id); /* cannot happen */
        return ret;
    }
    if (ret != 0)
        return bdb_err(err, "append: put id", ret);
    st->last_seq = next; /* kept even if the transaction aborts: a gap, never a reuse */
    txn->dirty = true;
    if (event_put(txn, next, ts_ms, recv_ms, type, id, json, len, err) < 0)
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
    return rec_decode(st, rec, r, err);
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

int store_event_read(store_t *st, uint64_t seq, struct store_event_rec *out, mh_err_t *err)
{
    DBT rec = { .flags = DB_DBT_REALLOC };
    struct rec r;
    int ret;

    memset(out, 0, sizeof(*out));
    if ((ret = event_read(st, read_txn(st), seq, &rec, &r, err)) == 0) {
        out->buf = rec.data; /* the pointers below point into it */
        out->id = r.id;
        out->id_len = r.id_len;
        out->type = r.type;
        out->type_len = r.type_len;
        out->json = r.json;
        out->json_len = r.json_len;
        out->ts_ms = r.ts_ms;
        out->recv_ms = r.recv_ms;
    } else {
        free(rec.data);
    }
    return ret;
}

void store_event_rec_free(struct store_event_rec *r)
{
    free(r->buf);
    r->buf = NULL;
}

int store_event_find(store_t *st, const char *id, uint64_t *seq, mh_err_t *err)
{
    return event_seq(st, read_txn(st), id, seq, err);
}

int store_event_get(store_t *st, const char *id, char **json, size_t *len, mh_err_t *err)
{
    uint64_t seq;
    int ret = event_seq(st, read_txn(st), id, &seq, err);

    return ret ? ret : store_event_get_seq(st, seq, json, len, err);
}

/* ---- scans: bdb_walker_* (store_bdb.c) steps through event_times.db */

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
    uint64_t seq = 0;
    int ret = 0;

    put_ts(start, q->since_ms);
    put_be64(start + 8, q->start_seq);
    bdb_walker_init(&w, start, q->since_ms || q->start_seq ? sizeof(start) : 0);
    while (left > 0 && (ret = bdb_walker_next(st, st->db[D_EVENT_TIMES], &w, err)) == 0) {
        if ((ret = scan_filter(st, q, &w.key, &rec, &r, &seq, err)) < 0 || ret == 2)
            break;
        if (ret == 1) {
            left--;
            if (cb(ctx, seq, bdb_walker_copy(&w, r.json, r.json_len, NULL, 0), r.json_len))
                break;
        }
        ret = 0;
    }
    free(rec.data); /* BDB realloc'ed it */
    bdb_walker_free(&w);
    return ret < 0 ? -1 : 0;
}

/* ---- expiry */

/* Delete event seq (its record decoded in r): record, id and time index. */
static int expire_one(store_txn_t *txn, uint64_t seq, const struct rec *r, mh_err_t *err)
{
    DB **db = txn->st->db;
    unsigned char kseq[8], ktime[16];
    DBT k;
    int ret;

    put_be64(kseq, seq);
    dbt_set(&k, kseq, sizeof(kseq));
    if ((ret = db[D_EVENTS]->del(db[D_EVENTS], txn->tid, &k, 0)) != 0)
        return bdb_err(err, "expire: delete event", ret);
    dbt_set(&k, r->id, r->id_len);
    ret = db[D_EVENT_IDS]->del(db[D_EVENT_IDS], txn->tid, &k, 0);
    if (ret != 0 && ret != DB_NOTFOUND)
        return bdb_err(err, "expire: delete id", ret);
    put_ts(ktime, r->ts_ms);
    put_be64(ktime + 8, seq);
    dbt_set(&k, ktime, sizeof(ktime));
    ret = db[D_EVENT_TIMES]->del(db[D_EVENT_TIMES], txn->tid, &k, 0);
    if (ret != 0 && ret != DB_NOTFOUND)
        return bdb_err(err, "expire: delete time", ret);
    txn->delta[C_EVENTS]--;
    txn->dirty = true;
    return 0;
}

/* Walk events.db in sequence (receipt) order from *from; the walker reads
 * inside txn, the store's open transaction. 0 when the walk reached an
 * event received since before_ms or the end (*from = 0: start over), 1
 * when it stopped at max deleted or EXPIRE_VISITS_MAX looked at (*from =
 * where to go on), -1 on error. */
static int expire_walk(store_txn_t *txn, int64_t before_ms, size_t max, uint64_t *from,
                       size_t *deleted, mh_err_t *err)
{
    store_t *st = txn->st;
    unsigned char start[8];
    struct walker w;
    struct rec r;
    char **names = NULL;
    size_t nnames = 0, visits = 0;
    uint64_t seq = 0;
    bool more = false;
    int ret = 0, queued;

    if (bdb_queue_names(st, &names, &nnames, err) < 0)
        return -1;
    put_be64(start, *from);
    bdb_walker_init(&w, start, sizeof(start));
    while (!(more = *deleted >= max || visits >= EXPIRE_VISITS_MAX)) {
        if ((ret = bdb_walker_next(st, st->db[D_EVENTS], &w, err)) != 0)
            break; /* 1: past the last event */
        visits++;
        if (w.key.size != 8) {
            ret = mh_err_set(err, "store: corrupt event key (%u bytes)", w.key.size);
            break;
        }
        seq = get_be64(w.key.data);
        if ((ret = rec_decode(st, &w.val, &r, err)) < 0 || r.recv_ms >= before_ms)
            break; /* the bound: every later event was received later */
        if ((queued = bdb_queued(st, names, nnames, seq, err)) < 0) {
            ret = -1;
            break;
        }
        if (queued)
            continue; /* kept until it leaves every queue */
        if ((ret = expire_one(txn, seq, &r, err)) < 0)
            break;
        ++*deleted;
    }
    bdb_walker_free(&w);
    bdb_queue_names_free(names, nnames);
    if (ret < 0)
        return -1;
    *from = !more ? 0 : visits ? seq + 1 : *from;
    return more;
}

/* max 0 means no limit, as for store_query.limit; either way one call
 * deletes at most EXPIRE_TXN_MAX events, which one transaction's locks can
 * hold (the caller's retention loop comes back for the rest). */
int store_event_expire(store_t *st, int64_t before_ms, size_t max, size_t *deleted, mh_err_t *err)
{
    uint64_t from = st->expire_from;
    store_txn_t *txn;
    int rc;

    *deleted = 0;
    if ((txn = store_begin(st, err)) == NULL)
        return -1;
    if (max == 0 || max > EXPIRE_TXN_MAX)
        max = EXPIRE_TXN_MAX;
    if ((rc = expire_walk(txn, before_ms, max, &from, deleted, err)) < 0) {
        store_abort(txn);
        *deleted = 0;
        return -1;
    }
    if (store_commit(txn, err) < 0) {
        *deleted = 0;
        return -1;
    }
    st->expire_from = from;
    return rc;
}

/* ---- open */

int bdb_events_open(store_t *st, mh_err_t *err)
{
    unsigned char buf[8];
    DB *db = st->db[D_META];
    DBT k, v;
    int ret;

    dbt_set(&k, RECV_SINCE_KEY, strlen(RECV_SINCE_KEY));
    dbt_usermem(&v, buf, sizeof(buf));
    ret = db->get(db, NULL, &k, &v, 0);
    if (ret == 0 && v.size == sizeof(buf)) {
        st->recv_since = (int64_t)get_be64(buf);
        return 0;
    }
    if (ret != DB_NOTFOUND)
        return ret ? bdb_err(err, "read recv_since", ret)
                   : mh_err_set(err, "store: meta.db: corrupt recv_since (%u bytes)", v.size);
    /* The first open that keeps receipt times: every record so far was
     * received before now. */
    st->recv_since = time_now_ms();
    put_be64(buf, (uint64_t)st->recv_since);
    dbt_set(&v, buf, sizeof(buf));
    if ((ret = db->put(db, NULL, &k, &v, 0)) != 0)
        return bdb_err(err, "write recv_since", ret);
    return 0;
}
