/* SPDX-License-Identifier: MIT */
/*
 * admin_events.c - the events.* admin commands (events.list, events.show;
 * see admin_events.h and admin_proto.h): stored events, read on the store
 * thread.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_events.h"
#include "admin_proto.h"

struct list_ctx {
    json_t *events;
    size_t limit;
    bool truncated;
};

static int events_list_one(void *ctx, uint64_t seq, const char *json, size_t len)
{
    struct list_ctx *lc = ctx;
    json_t *ev;

    if (json_array_size(lc->events) >= lc->limit) {
        lc->truncated = true;
        return 1;
    }
    ev = json_loadb(json, len, 0, NULL);
    if (ev == NULL) {
        msg_warn("admin: stored event #%llu is not valid JSON", (unsigned long long)seq);
        return 0;
    }
    json_array_append_new(lc->events, ev);
    return 0;
}

static json_t *events_list(const struct admin_env *env, struct admin_job *job, store_t *st,
                           json_t *req)
{
    struct store_query q = { 0 };
    struct list_ctx lc = { .events = json_array() };
    json_int_t limit = 100, since = 0, until = 0;
    const char *type = NULL;
    mh_err_t err;

    if (json_unpack(req, "{s?s,s?I,s?I,s?I}", "type", &type, "since", &since, "until", &until,
                    "limit", &limit) < 0 ||
        limit < 1 || limit > ADMIN_LIST_MAX) {
        json_decref(lc.events);
        return admin_error("bad_request", "events.list: bad arguments (limit 1..%d)",
                           ADMIN_LIST_MAX);
    }
    q.type = type;
    q.since_ms = since;
    q.until_ms = until;
    lc.limit = (size_t)limit;
    q.limit = lc.limit + 1; /* one more tells whether the list was cut */
    if (store_event_scan(st, &q, events_list_one, &lc, &err) < 0) {
        json_decref(lc.events);
        return admin_error("internal", "%s", err.text);
    }
    return json_pack("{s:b,s:o,s:b}", "ok", 1, "events", lc.events, "truncated", lc.truncated);
}

static json_t *events_show(const struct admin_env *env, struct admin_job *job, store_t *st,
                           json_t *req)
{
    const char *id = NULL;
    char *json = NULL, shown[72];
    size_t len;
    json_t *ev;
    mh_err_t err;
    int rc;

    if (json_unpack(req, "{s:s}", "id", &id) < 0)
        return admin_error("bad_request", "events.show needs an id");
    rc = store_event_get(st, id, &json, &len, &err);
    if (rc < 0)
        return admin_error("internal", "%s", err.text);
    if (rc == 1)
        return admin_error("not_found", "no event %s",
                           printable(shown, sizeof(shown), id, strlen(id)));
    ev = json_loadb(json, len, 0, NULL);
    free(json);
    if (ev == NULL)
        return admin_error("internal", "stored event %s is not valid JSON",
                           printable(shown, sizeof(shown), id, strlen(id)));
    return json_pack("{s:b,s:o}", "ok", 1, "event", ev);
}

const struct admin_command admin_events_commands[] = {
    { "events.list", NULL, events_list, NULL },
    { "events.show", NULL, events_show, NULL },
    { NULL, NULL, NULL, NULL },
};
