/* SPDX-License-Identifier: MIT */
/*
 * ctl_deliveries.c - `mailhookctl deliveries list|show|retry` (see
 * ctl_deliveries.h): the delivery log, as mailhookd's deliveries.* admin
 * commands answer it (admin_proto.h).
 *
 * With --json: list prints each delivery record (NDJSON), show and retry
 * mailhookd's whole answer ({"ok":true,"delivery":{...}}).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin_proto.h"
#include "ctl_deliveries.h"

#define DL_LIST_SYNOPSIS \
    "deliveries list [--endpoint E] [--failed] [--since TIME] [--limit N]"
#define DL_SHOW_SYNOPSIS "deliveries show ID"
#define DL_RETRY_SYNOPSIS "deliveries retry ID"
#define DL_SYNOPSIS CTL_DELIVERIES_SYNOPSIS
#define DL_ERROR_SHOWN 61        /* bytes of an error in the list (60 + NUL) */
#define DL_RESPONSE_MAX 65536    /* bytes of a response in show */

/* A delivery id as sent, string or number, into buf. */
static const char *dl_id(char *buf, size_t n, const json_t *d)
{
    const json_t *id = json_object_get(d, "id");

    if (json_is_integer(id))
        snprintf(buf, n, "%lld", (long long)json_integer_value(id));
    else if (json_is_string(id))
        printable(buf, n, json_string_value(id), json_string_length(id));
    else
        snprintf(buf, n, "?");
    return buf;
}

/* "ok" or the error, shortened: the RESULT column. */
static const char *dl_result(char *buf, size_t n, const json_t *d)
{
    const char *error = ctl_str(d, "error");

    if (json_is_true(json_object_get(d, "ok")))
        return "ok";
    if (error == NULL)
        return "failed";
    return printable(buf, n, error, strlen(error));
}

static void dl_status(char *buf, size_t n, const json_t *d)
{
    if (ctl_int(d, "status") != 0)
        snprintf(buf, n, "%lld", (long long)ctl_int(d, "status"));
    else
        snprintf(buf, n, "-"); /* no HTTP answer: connect failure, timeout */
}

static void dl_row(const json_t *d, int wid, int wep)
{
    const char *ep = ctl_str(d, "endpoint");
    char id[128], t[CTL_TIME_LEN], status[16], result[DL_ERROR_SHOWN];

    dl_status(status, sizeof(status), d);
    printf("%-*s  %-24s  %-*s  %7lld  %6s  %8lld  %6zu  %s\n", wid, dl_id(id, sizeof(id), d),
           ctl_fmt_time(t, json_object_get(d, "time")), wep, ep ? ep : "?",
           (long long)ctl_int(d, "attempt"), status, (long long)ctl_int(d, "duration_ms"),
           json_array_size(json_object_get(d, "events")), dl_result(result, sizeof(result), d));
}

static void dl_table(const json_t *list)
{
    const json_t *d;
    char id[128];
    int wid = 2, wep = 8;
    size_t i;

    json_array_foreach(list, i, d) {
        if ((int)strlen(dl_id(id, sizeof(id), d)) > wid)
            wid = (int)strlen(id);
        if (ctl_str(d, "endpoint") && (int)strlen(ctl_str(d, "endpoint")) > wep)
            wep = (int)strlen(ctl_str(d, "endpoint"));
    }
    printf("%-*s  %-24s  %-*s  %7s  %6s  %8s  %6s  %s\n", wid, "ID", "TIME", wep, "ENDPOINT",
           "ATTEMPT", "STATUS", "MS", "EVENTS", "RESULT");
    json_array_foreach(list, i, d)
        dl_row(d, wid, wep);
}

static int dl_list(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "endpoint", required_argument, NULL, 'e' }, { "failed", no_argument, NULL, 'f' },
        { "since", required_argument, NULL, 's' },    { "limit", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    json_t *req = json_pack("{s:s}", "cmd", "deliveries.list"), *r, *d, *endpoint;
    size_t i;
    int ch;

    optind = 0;
    while ((ch = ctl_getopt(argc, argv, opts, DL_LIST_SYNOPSIS)) != -1) {
        switch (ch) {
        case 'e':
            json_object_set_new(req, "endpoint", ctl_jstr("--endpoint", optarg, DL_LIST_SYNOPSIS));
            break;
        case 'f': json_object_set_new(req, "failed", json_true()); break;
        case 's':
            json_object_set_new(req, "since",
                                json_integer(ctl_time("--since", optarg, DL_LIST_SYNOPSIS)));
            break;
        default: /* 'l' */
            json_object_set_new(req, "limit", json_integer(ctl_count("--limit", optarg, 1,
                                                                     ADMIN_LIST_MAX,
                                                                     DL_LIST_SYNOPSIS)));
        }
    }
    if (optind != argc)
        ctl_usage(DL_LIST_SYNOPSIS);
    endpoint = json_incref(json_object_get(req, "endpoint"));
    r = ctl_call(ctl, req);
    /* Nothing for an endpoint that does not exist: say so, as replay does
     * (one removed since still shows the records it left). */
    if (endpoint && json_array_size(json_object_get(r, "deliveries")) == 0)
        ctl_endpoint_exists(ctl, json_string_value(endpoint));
    json_decref(endpoint);
    if (ctl->json) {
        json_array_foreach(json_object_get(r, "deliveries"), i, d)
            ctl_print_json(d);
    } else {
        dl_table(json_object_get(r, "deliveries"));
    }
    if (json_is_true(json_object_get(r, "truncated")) && !ctl->json)
        fprintf(stderr, "(more deliveries match: raise --limit or narrow --since)\n");
    json_decref(r);
    return EX_OK;
}

/* The operand ID of show and retry, as a request. */
static json_t *dl_id_request(const char *cmd, int argc, char **argv, const char *synopsis)
{
    static const struct option none[] = { { NULL, 0, NULL, 0 } };

    optind = 0;
    while (ctl_getopt(argc, argv, none, synopsis) != -1)
        ;
    if (argc - optind != 1)
        ctl_usage(synopsis);
    return json_pack("{s:s,s:o}", "cmd", cmd, "id", ctl_jstr("ID", argv[optind], synopsis));
}

static void dl_line_str(const json_t *d, const char *key, const char *label)
{
    const char *s = ctl_str(d, key);
    char shown[1024];

    if (s)
        printf("%-*s%s\n", CTL_LABEL_WIDTH, label, printable(shown, sizeof(shown), s, strlen(s)));
}

/* An array of strings, space-separated. */
static void dl_line_list(const json_t *d, const char *key, const char *label)
{
    const json_t *a = json_object_get(d, key), *v;
    char shown[256];
    size_t i;

    if (!json_is_array(a))
        return;
    printf("%-*s", CTL_LABEL_WIDTH, label);
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v) ? json_string_value(v) : "?";
        printf("%s%s", i ? " " : "", printable(shown, sizeof(shown), s, strlen(s)));
    }
    putchar('\n');
}

static void dl_print(const json_t *d)
{
    char buf[128], t[CTL_TIME_LEN];

    printf("%-*s%s\n", CTL_LABEL_WIDTH, "id:", dl_id(buf, sizeof(buf), d));
    printf("%-*s%s\n", CTL_LABEL_WIDTH, "time:", ctl_fmt_time(t, json_object_get(d, "time")));
    dl_line_str(d, "endpoint", "endpoint:");
    dl_line_str(d, "url", "url:");
    printf("%-*s%lld\n", CTL_LABEL_WIDTH, "attempt:", (long long)ctl_int(d, "attempt"));
    printf("%-*s%s\n", CTL_LABEL_WIDTH, "result:",
           json_is_true(json_object_get(d, "ok")) ? "delivered" : "failed");
    dl_status(buf, sizeof(buf), d);
    printf("%-*s%s\n", CTL_LABEL_WIDTH, "status:", buf);
    printf("%-*s%lld ms\n", CTL_LABEL_WIDTH, "duration:", (long long)ctl_int(d, "duration_ms"));
    dl_line_str(d, "error", "error:");
    dl_line_list(d, "types", "types:");
    dl_line_list(d, "events", "events:");
    if (ctl_str(d, "response"))
        ctl_print_text("response:", ctl_str(d, "response"), DL_RESPONSE_MAX);
}

static int dl_show(struct ctl *ctl, int argc, char **argv)
{
    json_t *r = ctl_call(ctl, dl_id_request("deliveries.show", argc, argv, DL_SHOW_SYNOPSIS));

    if (ctl->json)
        ctl_print_json(r);
    else
        dl_print(json_object_get(r, "delivery"));
    json_decref(r);
    return EX_OK;
}

static int dl_retry(struct ctl *ctl, int argc, char **argv)
{
    json_t *r = ctl_call(ctl, dl_id_request("deliveries.retry", argc, argv, DL_RETRY_SYNOPSIS));

    if (ctl->json)
        ctl_print_json(r);
    else
        printf("%lld events queued again\n", (long long)ctl_int(r, "requeued"));
    json_decref(r);
    return EX_OK;
}

static const struct ctl_command dl_commands[] = {
    { "list", dl_list, DL_LIST_SYNOPSIS, 0 },
    { "show", dl_show, DL_SHOW_SYNOPSIS, 0 },
    { "retry", dl_retry, DL_RETRY_SYNOPSIS, 0 },
    { NULL, NULL, NULL, 0 },
};

int ctl_deliveries(struct ctl *ctl, int argc, char **argv)
{
    return ctl_dispatch(ctl, dl_commands, argc, argv, DL_SYNOPSIS);
}
