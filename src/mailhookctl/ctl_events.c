/* SPDX-License-Identifier: MIT */
/*
 * ctl_events.c - `mailhookctl emit` and `events list|show` (see
 * ctl_events.h).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ctl_events.h"
#include "event.h"
#include "ingest.h"
#include "timeutil.h"

#define EMIT_SYNOPSIS "emit [--at TIME] TYPE [JSON-DATA]"
#define EV_LIST_SYNOPSIS "events list [--type T] [--since TIME] [--until TIME] [--limit N]"
#define EV_SHOW_SYNOPSIS "events show ID"
#define EV_SYNOPSIS "events list|show ...   (mailhookctl --help lists the options)"

int ctl_emit(struct ctl *ctl, int argc, char **argv)
{
    int64_t at = time_now_ms();
    json_t *data = NULL;
    event_t *ev;
    ingest_t *h;
    mh_err_t err;
    int i = 1, rc;

    if (i + 1 < argc && strcmp(argv[i], "--at") == 0)
        at = ctl_time("--at", argv[i + 1], EMIT_SYNOPSIS), i += 2;
    if (argc - i < 1 || argc - i > 2)
        ctl_usage(EMIT_SYNOPSIS);
    if (argc - i == 2 &&
        (data = event_json_parse(argv[i + 1], strlen(argv[i + 1]), &err)) == NULL) {
        fprintf(stderr, "mailhookctl: JSON-DATA: %s\n", err.text);
        return EX_DATAERR;
    }
    if ((ev = event_new(argv[i], at, data, &err)) == NULL) {
        fprintf(stderr, "mailhookctl: %s\n", err.text);
        return EX_DATAERR;
    }
    h = ingest_open(ctl->conf->ingest_socket, ctl->conf->spool_dir, NULL);
    rc = ingest_submit(h, ev, &err);
    ingest_close(h);
    if (rc < 0) { /* INGEST_ETEMP: the caller should try again later */
        fprintf(stderr, "mailhookctl: %s\n", err.text);
        event_free(ev);
        return rc == INGEST_ETEMP ? EX_TEMPFAIL : EX_UNAVAILABLE;
    }
    if (ctl->json) {
        size_t len;
        char *s = event_to_json(ev, &len);
        printf("%s\n", s);
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

static int events_list(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "type", required_argument, NULL, 't' }, { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' }, { "limit", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    const char *syn = EV_LIST_SYNOPSIS;
    json_t *req = json_pack("{s:s}", "cmd", "events.list"), *r, *ev;
    size_t i;
    int ch;

    optind = 0;
    while ((ch = ctl_getopt(argc, argv, opts, syn)) != -1) {
        switch (ch) {
        case 't': json_object_set_new(req, "type", ctl_jstr("--type", optarg, syn)); break;
        case 's':
            json_object_set_new(req, "since", json_integer(ctl_time("--since", optarg, syn)));
            break;
        case 'u':
            json_object_set_new(req, "until", json_integer(ctl_time("--until", optarg, syn)));
            break;
        default: /* 'l' */
            json_object_set_new(req, "limit",
                                json_integer(ctl_count("--limit", optarg, 1, LLONG_MAX, syn)));
        }
    }
    if (optind != argc)
        ctl_usage(EV_LIST_SYNOPSIS);
    r = ctl_call(ctl, req);
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

    if (argc != 2)
        ctl_usage(EV_SHOW_SYNOPSIS);
    r = ctl_call(ctl, json_pack("{s:s,s:o}", "cmd", "events.show", "id",
                                ctl_jstr("ID", argv[1], EV_SHOW_SYNOPSIS)));
    if (ctl->json) {
        ctl_print_json(json_object_get(r, "event"));
    } else {
        s = json_dumps(json_object_get(r, "event"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
    }
    json_decref(r);
    return EX_OK;
}

static const struct ctl_command events_commands[] = {
    { "list", events_list },
    { "show", events_show },
    { NULL, NULL },
};

int ctl_events(struct ctl *ctl, int argc, char **argv)
{
    return ctl_dispatch(ctl, events_commands, argc, argv, EV_SYNOPSIS);
}
