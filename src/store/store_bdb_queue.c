/* SPDX-License-Identifier: MIT */
/*
 * store_bdb_queue.c - the per-endpoint delivery queues of the Berkeley DB
 * store (store.h): queues.db, keyed endpoint + NUL + sequence number (8
 * bytes big-endian), so one endpoint's entries are adjacent and in order.
 *
 *   store_queue_push/remove/scan/count   one endpoint's queue
 *   bdb_queue_names, bdb_queued          is an event in any queue, for
 *                                        expiry (store_bdb_event.c)
 */
#include "config.h"

#include <db.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "store.h"
#include "store_bdb_int.h"
#include "xalloc.h"

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
    return bdb_put_counted(txn, D_QUEUES, C_QUEUED, &k, &v, err);
}

/* Removing an entry that is not there is not an error (returns 0). */
int store_queue_remove(store_txn_t *txn, const char *endpoint, uint64_t seq, mh_err_t *err)
{
    unsigned char kbuf[NAME_MAXLEN + 9];
    DBT k;

    if (queue_key(kbuf, endpoint, seq, &k, err) < 0)
        return -1;
    return bdb_del_counted(txn, D_QUEUES, C_QUEUED, &k, err) < 0 ? -1 : 0;
}

int store_queue_scan(store_t *st, const char *endpoint, uint64_t from_seq, size_t limit,
                     store_queue_cb cb, void *ctx, mh_err_t *err)
{
    unsigned char kbuf[NAME_MAXLEN + 9];
    struct walker w;
    size_t plen;
    DBT k;
    int ret = 0;

    if (queue_key(kbuf, endpoint, from_seq, &k, err) < 0)
        return -1;
    plen = k.size - 8; /* endpoint + NUL */
    bdb_walker_init(&w, kbuf, k.size);
    for (size_t n = 0; (limit == 0 || n < limit) &&
                       (ret = bdb_walker_next(st, st->db[D_QUEUES], &w, err)) == 0; n++) {
        const unsigned char *key = w.key.data;

        if (w.key.size != plen + 8 || memcmp(key, kbuf, plen) != 0)
            break; /* past this endpoint's entries */
        if (cb(ctx, get_be64(key + plen), bdb_walker_copy(&w, w.val.data, w.val.size, NULL, 0),
               w.val.size))
            break;
    }
    bdb_walker_free(&w);
    return ret < 0 ? -1 : 0;
}

/* ---- is an event queued anywhere (expiry, store_bdb_event.c) */

void bdb_queue_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* A cursor get of a queue key into kbuf (len bytes of it are the key to
 * seek for DB_SET_RANGE), no data. */
static int queue_key_get(DBC *c, unsigned char *kbuf, size_t len, DBT *k, u_int32_t flag)
{
    DBT v;

    dbt_usermem(k, kbuf, NAME_MAXLEN + 9);
    k->size = (u_int32_t)len;
    dbt_usermem(&v, NULL, 0);
    v.flags |= DB_DBT_PARTIAL;
    return c->get(c, k, &v, flag);
}

/* Each name once: after a key (name NUL seq), seek past the name's last
 * possible key (seq all ones) to the next name's first. */
int bdb_queue_names(store_t *st, char ***names, size_t *n, mh_err_t *err)
{
    unsigned char kbuf[NAME_MAXLEN + 9];
    DB *db = st->db[D_QUEUES];
    size_t nlen;
    DBT k;
    DBC *c;
    int ret, cret;

    *names = NULL;
    *n = 0;
    if ((ret = db->cursor(db, read_txn(st), &c, 0)) != 0)
        return bdb_err(err, "open cursor", ret);
    ret = queue_key_get(c, kbuf, 0, &k, DB_FIRST);
    while (ret == 0) {
        nlen = strnlen((const char *)kbuf, k.size);
        if (nlen == 0 || k.size != nlen + 9) { /* not a queue key: cannot happen */
            ret = queue_key_get(c, kbuf, 0, &k, DB_NEXT);
            continue;
        }
        *names = xreallocarray(*names, *n + 1, sizeof(**names));
        (*names)[(*n)++] = copy_cstr(kbuf, nlen);
        memset(kbuf + nlen + 1, 0xff, 8);
        ret = queue_key_get(c, kbuf, nlen + 9, &k, DB_SET_RANGE);
        if (ret == 0 && k.size == nlen + 9 && memcmp(kbuf, (*names)[*n - 1], nlen + 1) == 0)
            ret = queue_key_get(c, kbuf, 0, &k, DB_NEXT); /* (name, max) itself */
    }
    cret = c->close(c);
    if (ret != DB_NOTFOUND || cret != 0) {
        bdb_queue_names_free(*names, *n);
        *names = NULL;
        *n = 0;
        return bdb_err(err, "read queues", ret != DB_NOTFOUND ? ret : cret);
    }
    return 0;
}

int bdb_queued(store_t *st, char *const *names, size_t n, uint64_t seq, mh_err_t *err)
{
    unsigned char kbuf[NAME_MAXLEN + 9];
    DB *db = st->db[D_QUEUES];
    DBT k, v;
    int ret;

    for (size_t i = 0; i < n; i++) {
        if (queue_key(kbuf, names[i], seq, &k, err) < 0)
            return -1;
        dbt_usermem(&v, NULL, 0);
        v.flags |= DB_DBT_PARTIAL;
        ret = db->get(db, read_txn(st), &k, &v, 0);
        if (ret == 0)
            return 1;
        if (ret != DB_NOTFOUND)
            return bdb_err(err, "read queue", ret);
    }
    return 0;
}

static int count_one(void *ctx, uint64_t seq, const void *entry, size_t len)
{
    (*(uint64_t *)ctx)++;
    return 0;
}

int store_queue_count(store_t *st, const char *endpoint, uint64_t *n, mh_err_t *err)
{
    *n = 0;
    return store_queue_scan(st, endpoint, 0, 0, count_one, n, err);
}
