/* SPDX-License-Identifier: MIT */
/*
 * admin_replay.c - the "replay" admin command (see admin_replay.h and
 * admin_proto.h): stored events queued again for the matching endpoints.
 *
 * Requeued events go through fanout_push() in the command's transaction,
 * so the engine sees them once they are committed, like fresh events.
 * Replay works in chunks of REPLAY_CHUNK events, one transaction and one
 * answer each; the client repeats with the cursor it got, so the store
 * thread is never held for long and progress can be shown.
 *
 * "tenant" keeps only the events whose data.tenant is that value, compared
 * as the tenant=VALUE filter compares (endpoint_value_equals); the others
 * are scanned, not counted in "matched" nor queued.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_replay.h"
#include "timeutil.h"
#include "xalloc.h"

#define REPLAY_CHUNK 5000

/* ---- replay */

struct replay_ctx {
    fanout_t *fanout;
    store_t *st;
    store_txn_t *txn;       /* NULL: count only */
    const endpoint_t **eps; /* the endpoints replayed to */
    size_t neps;
    const char *tenant;     /* NULL: every tenant */
    size_t matched, enqueued, seen;
    int64_t last_ts;
    uint64_t last_seq;
    int rc;
    mh_err_t err;
};

static int replay_one(void *ctx, uint64_t seq, const char *json, size_t len)
{
    struct replay_ctx *rc = ctx;
    const char *id, *type, *ts;
    json_t *ev, *data;
    struct fanout_blob *b = NULL;
    int64_t ms = 0;

    rc->seen++;
    rc->last_seq = seq;
    ev = json_loadb(json, len, 0, NULL);
    if (ev == NULL || json_unpack(ev, "{s:s,s:s,s:s,s:o}", "id", &id, "type", &type, "timestamp",
                                  &ts, "data", &data) < 0) {
        json_decref(ev);
        return 0;
    }
    time_parse_rfc3339(ts, &ms, NULL);
    rc->last_ts = ms;
    if (rc->tenant && !endpoint_value_equals(json_object_get(data, "tenant"), rc->tenant)) {
        json_decref(ev);
        return 0;
    }
    rc->matched++;
    for (size_t i = 0; rc->txn && i < rc->neps && rc->rc == 0; i++) {
        if (!endpoint_matches(rc->eps[i], type, data))
            continue;
        if (b == NULL)
            b = fanout_blob_new(id, type, ms, json, len);
        if ((rc->rc = fanout_push(rc->fanout, rc->txn, rc->eps[i]->name, seq, b,
                                  &rc->err)) == 0)
            rc->enqueued++;
    }
    fanout_blob_unref(b);
    json_decref(ev);
    return rc->rc < 0;
}

/* The endpoints to replay to: the one named (enabled), or every enabled one. */
static json_t *replay_targets(fanout_t *fo, json_t *req, struct replay_ctx *rc)
{
    const char *name = json_string_value(json_object_get(req, "endpoint"));
    size_t n = fanout_endpoint_count(fo);
    char shown[72];

    rc->eps = xcalloc(n ? n : 1, sizeof(*rc->eps));
    for (size_t i = 0; i < n; i++) {
        const endpoint_t *ep = fanout_endpoint(fo, i);

        if (name == NULL || strcmp(ep->name, name) == 0)
            rc->eps[rc->neps++] = ep;
    }
    if (name && rc->neps == 0)
        return admin_error("not_found", "no enabled endpoint %s",
                           printable(shown, sizeof(shown), name, strlen(name)));
    return NULL;
}

static json_t *replay(const struct admin_env *env, struct admin_job *job,
                      store_t *st, json_t *req)
{
    struct replay_ctx rc = { .fanout = env->fanout, .st = st };
    struct store_query q = { 0 };
    json_int_t since = 0, until = 0, cts = 0, cseq = 0;
    json_t *fail, *cursor = NULL;
    const char *endpoint = NULL;
    int count_only = 0;

    if (json_unpack(req, "{s:I,s?I,s?s,s?s,s?s,s?o,s?b}", "since", &since, "until", &until,
                    "type", &q.type, "endpoint", &endpoint, "tenant", &rc.tenant, "cursor",
                    &cursor, "count_only", &count_only) < 0 ||
        (cursor && !json_is_null(cursor) &&
         json_unpack(cursor, "{s:I,s:I}", "ts", &cts, "seq", &cseq) < 0))
        return admin_error("bad_request", "replay needs \"since\" (ms); cursor is {ts, seq}; "
                                          "type, endpoint and tenant are strings");
    if ((fail = replay_targets(env->fanout, req, &rc)) != NULL) {
        free(rc.eps);
        return fail;
    }
    q.since_ms = cts ? cts : since;
    q.start_seq = (uint64_t)cseq;
    q.until_ms = until;
    q.limit = count_only ? 0 : REPLAY_CHUNK;
    if (!count_only && (rc.txn = store_begin(st, &rc.err)) == NULL) {
        free(rc.eps);
        return admin_error("internal", "%s", rc.err.text);
    }
    if (store_event_scan(st, &q, replay_one, &rc, &rc.err) < 0 || rc.rc < 0) {
        store_abort(rc.txn);
        free(rc.eps);
        return admin_error("internal", "%s", rc.err.text);
    }
    free(rc.eps);
    if (rc.txn && store_commit(rc.txn, &rc.err) < 0)
        return admin_error("internal", "%s", rc.err.text);
    return json_pack("{s:b,s:I,s:I,s:o}", "ok", 1, "matched", (json_int_t)rc.matched, "enqueued",
                     (json_int_t)rc.enqueued, "cursor",
                     !count_only && rc.seen == REPLAY_CHUNK
                         ? json_pack("{s:I,s:I}", "ts", (json_int_t)rc.last_ts, "seq",
                                     (json_int_t)(rc.last_seq + 1))
                         : json_null());
}

const struct admin_command admin_replay_commands[] = {
    { "replay", NULL, replay, NULL },
    { NULL, NULL, NULL, NULL },
};
