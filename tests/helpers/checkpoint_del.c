/* SPDX-License-Identifier: MIT */
/*
 * checkpoint_del.c - test helper: forget a maillog reader's checkpoint, as a
 * lost or reset store table would. With mailhookd stopped:
 *
 *   checkpoint_del STATE_DIR NAME
 *
 * deletes every checkpoint key of maillog source NAME ("maillog/NAME/pos"
 * and its correlation states "maillog/NAME/q/...") in one transaction and
 * prints how many. Exit 0 on success, 1 on a store error, 64 on usage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "xalloc.h"

struct keys {
    const char *prefix;
    char **v;
    size_t n;
};

static int collect(void *ctx, const char *key, const void *val, size_t len)
{
    struct keys *k = ctx;

    (void)val;
    (void)len;
    if (strncmp(key, k->prefix, strlen(k->prefix)) != 0)
        return 1; /* past the prefix: stop */
    k->v = xreallocarray(k->v, k->n + 1, sizeof(*k->v));
    k->v[k->n++] = xstrdup(key);
    return 0;
}

int main(int argc, char **argv)
{
    struct keys k = { 0 };
    store_t *st;
    store_txn_t *txn;
    mh_err_t err;
    char *prefix;
    int rc = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: checkpoint_del STATE_DIR NAME\n");
        return 64;
    }
    prefix = xasprintf("maillog/%s/", argv[2]);
    k.prefix = prefix;
    if ((st = store_open(argv[1], &(struct store_opts){ 0 }, &err)) == NULL ||
        store_kv_scan(st, STORE_CHECKPOINTS, prefix, collect, &k, &err) < 0 ||
        (txn = store_begin(st, &err)) == NULL) {
        fprintf(stderr, "checkpoint_del: %s\n", err.text);
        store_close(st);
        return 1;
    }
    for (size_t i = 0; i < k.n && rc == 0; i++)
        rc = store_kv_del(txn, STORE_CHECKPOINTS, k.v[i], &err) < 0 ? -1 : 0;
    if (rc < 0)
        store_abort(txn);
    else
        rc = store_commit(txn, &err);
    if (rc < 0)
        fprintf(stderr, "checkpoint_del: %s\n", err.text);
    else
        printf("%zu\n", k.n);
    for (size_t i = 0; i < k.n; i++)
        free(k.v[i]);
    free(k.v);
    free(prefix);
    store_close(st);
    return rc < 0 ? 1 : 0;
}
