/* SPDX-License-Identifier: MIT */
/*
 * ctl_events.c - `mailhookctl emit` and `events list|show` (see
 * ctl_events.h).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "admin_proto.h"
#include "ctl_events.h"
#include "event.h"
#include "ingest.h"
#include "timeutil.h"
#include "xalloc.h"

#define EMIT_SYNOPSIS CTL_EMIT_SYNOPSIS
#define EV_LIST_SYNOPSIS \
    "events list [--type T[,T...]]... [--since TIME] [--until TIME] [--limit N]"
#define EV_SHOW_SYNOPSIS "events show ID"
#define EV_SYNOPSIS CTL_EVENTS_SYNOPSIS

int ctl_emit(struct ctl *ctl, int argc, char **argv)
{
    int64_t at = time_now_ms();
    json_t *data = NULL;
    event_t *ev;
    ingest_t *h;
    mh_err_t err;
    static const struct option opts[] = {
        { "at", required_argument, NULL, 'a' },
        { NULL, 0, NULL, 0 },
    };
    int i, rc;

    optind = 0;
    while (ctl_getopt(argc, argv, opts, EMIT_SYNOPSIS) != -1) /* 'a', the only option */
        at = ctl_time("--at", optarg, EMIT_SYNOPSIS);
    i = optind;
    if (argc - i < 1 || argc - i > 2)
        ctl_usage(EMIT_SYNOPSIS);
    if (argc - i == 2 &&
        (data = event_json_parse(argv[i + 1], strlen(argv[i + 1]), &err)) == NULL)
        ctl_fail(ctl, EX_DATAERR, "bad_request", "JSON-DATA: %s", err.text);
    if ((ev = event_new(argv[i], at, data, &err)) == NULL)
        ctl_fail(ctl, EX_DATAERR, "bad_request", "%s", err.text);
    h = ingest_open(ctl->conf->ingest_socket, ctl->conf->spool_dir, NULL);
    rc = ingest_submit(h, ev, &err);
    ingest_close(h);
    if (rc < 0) { /* INGEST_ETEMP: the caller should try again later */
        event_free(ev);
        ctl_fail(ctl, rc == INGEST_ETEMP ? EX_TEMPFAIL : EX_UNAVAILABLE,
                 rc == INGEST_ETEMP ? "tempfail" : "rejected", "%s", err.text);
    }
    if (ctl->json) { /* the event last, byte for byte as it was sent or spooled */
        size_t len;
        char *s = event_to_json(ev, &len);
        printf("{\"ok\":true,\"stored\":\"%s\",\"event\":%s}\n",
               rc == INGEST_COMMITTED ? "committed" : "spooled", s);
        free(s);
    } else if (rc == INGEST_COMMITTED) {
        printf("%s committed\n", ev->id);
    } else {
        printf("%s spooled: mailhookd could not take it now (not running, not answering, "
               "or out of space); it will store the event when it drains %s\n", ev->id,
               ctl->conf->spool_dir);
    }
    event_free(ev);
    return EX_OK;
}

static void print_event_row(const json_t *ev)
{
    const json_t *data = json_object_get(ev, "data");
    char *d = json_dumps(data, JSON_COMPACT);
    char shown[61];

    printf("%-30s  %-24s  %-18s  %s\n", json_string_value(json_object_get(ev, "id")),
           json_string_value(json_object_get(ev, "timestamp")),
           json_string_value(json_object_get(ev, "type")),
           printable(shown, sizeof(shown), d, strlen(d)));
    free(d);
}

/* Oldest first, as the store lists them; ties by id. */
static int events_cmp(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    const char *tx = ctl_str(x, "timestamp"), *ty = ctl_str(y, "timestamp");
    int c = strcmp(tx ? tx : "", ty ? ty : "");
    const char *ix = ctl_str(x, "id"), *iy = ctl_str(y, "id");

    return c ? c : strcmp(ix ? ix : "", iy ? iy : "");
}

/* The events of several types: one request each (the protocol takes one
 * type), merged in order, each event once, cut at the limit. */
static json_t *events_list_types(struct ctl *ctl, const json_t *req, const json_t *types)
{
    json_int_t limit = json_is_integer(json_object_get(req, "limit"))
                           ? ctl_int(req, "limit") : 100; /* the daemon's default */
    json_t *all = json_array(), *seen = json_object(), *one, *r, *ev;
    bool truncated = false;
    size_t i, j, n;
    const json_t **v;

    json_array_foreach(types, i, one) {
        json_t *q = json_deep_copy(req);
        json_object_set(q, "type", one);
        r = ctl_call(ctl, q);
        truncated = truncated || json_is_true(json_object_get(r, "truncated"));
        json_array_foreach(json_object_get(r, "events"), j, ev) {
            if (ctl_str(ev, "id") && json_object_get(seen, ctl_str(ev, "id")))
                continue; /* PREFIX.* and an exact type of it */
            if (ctl_str(ev, "id"))
                json_object_set_new(seen, ctl_str(ev, "id"), json_true());
            json_array_append(all, ev);
        }
        json_decref(r);
    }
    n = json_array_size(all);
    v = xcalloc(n ? n : 1, sizeof(*v));
    for (i = 0; i < n; i++)
        v[i] = json_array_get(all, i);
    qsort(v, n, sizeof(*v), events_cmp);
    r = json_pack("{s:b,s:[],s:b}", "ok", 1, "events", "truncated",
                  truncated || n > (size_t)limit);
    for (i = 0; i < n && i < (size_t)limit; i++)
        json_array_append(json_object_get(r, "events"), (json_t *)v[i]);
    free(v);
    json_decref(all);
    json_decref(seen);
    return r;
}

static int events_list(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "type", required_argument, NULL, 't' }, { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' }, { "limit", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    const char *syn = EV_LIST_SYNOPSIS;
    json_t *req = json_pack("{s:s}", "cmd", "events.list"), *types = json_array(), *r, *ev;
    size_t i;
    int ch;

    optind = 0;
    while ((ch = ctl_getopt(argc, argv, opts, syn)) != -1) {
        switch (ch) {
        case 't': ctl_types(types, "--type", optarg, syn); break;
        case 's':
            json_object_set_new(req, "since", json_integer(ctl_time("--since", optarg, syn)));
            break;
        case 'u':
            json_object_set_new(req, "until", json_integer(ctl_time("--until", optarg, syn)));
            break;
        default: /* 'l': the daemon's bound */
            json_object_set_new(req, "limit", json_integer(ctl_count("--limit", optarg, 1,
                                                                     ADMIN_LIST_MAX, syn)));
        }
    }
    if (optind != argc)
        ctl_usage(EV_LIST_SYNOPSIS);
    if (json_array_size(types) == 1)
        json_object_set(req, "type", json_array_get(types, 0));
    if (json_array_size(types) > 1) {
        r = events_list_types(ctl, req, types);
        json_decref(req);
    } else {
        r = ctl_call(ctl, req);
    }
    json_decref(types);
    if (!ctl->json)
        printf("%-30s  %-24s  %-18s  %s\n", "ID", "TIMESTAMP", "TYPE", "DATA");
    json_array_foreach(json_object_get(r, "events"), i, ev)
        ctl->json ? ctl_print_json(ev) : print_event_row(ev);
    if (json_is_true(json_object_get(r, "truncated")) && !ctl->json)
        fprintf(stderr, "(more events match: raise --limit or narrow --since/--until)\n");
    json_decref(r);
    return EX_OK;
}

static int events_show(struct ctl *ctl, int argc, char **argv)
{
    json_t *r;
    char *s;

    if (argc - ctl_operands(argc, argv, EV_SHOW_SYNOPSIS) != 1)
        ctl_usage(EV_SHOW_SYNOPSIS);
    r = ctl_call(ctl, json_pack("{s:s,s:o}", "cmd", "events.show", "id",
                                ctl_jstr("ID", argv[optind], EV_SHOW_SYNOPSIS)));
    if (ctl->json) {
        ctl_print_json(r); /* {"ok":true,"event":{...}}: the event as stored */
    } else {
        s = json_dumps(json_object_get(r, "event"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
    }
    json_decref(r);
    return EX_OK;
}

static const struct ctl_command events_commands[] = {
    { "list", events_list, EV_LIST_SYNOPSIS, 0 },
    { "show", events_show, EV_SHOW_SYNOPSIS, 0 },
    { NULL, NULL, NULL, 0 },
};

int ctl_events(struct ctl *ctl, int argc, char **argv)
{
    return ctl_dispatch(ctl, events_commands, argc, argv, EV_SYNOPSIS);
}
