/* SPDX-License-Identifier: MIT */
/*
 * ctl_endpoint.c - `mailhookctl endpoint ...` (see ctl_endpoint.h and
 * mailhookctl(1)): one request per command, built here, answered by
 * mailhookd's endpoint.* admin commands (admin_proto.h).
 *
 * With --json mailhookd's whole answer is printed ({"ok":true,
 * "endpoint":{...}}, or the figures of remove, test and preview), its times as
 * RFC 3339; list prints one endpoint object per line (NDJSON).
 * Secrets in clear are only printed when the daemon sends them: after
 * add, rotate-secret, and show --reveal-secret.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctl_endpoint.h"
#include "ctl_endpoint_opts.h"
#include "ctl_endpoint_print.h"

#define EP_ADD_SYNOPSIS "endpoint add NAME URL [OPTIONS]   (OPTIONS: see mailhookctl --help)"
#define EP_UPDATE_SYNOPSIS "endpoint update NAME OPTIONS   (OPTIONS: see mailhookctl --help)"
#define EP_LIST_SYNOPSIS "endpoint list"
#define EP_SHOW_SYNOPSIS "endpoint show NAME [--reveal-secret]"
#define EP_REMOVE_SYNOPSIS "endpoint remove NAME"
#define EP_ROTATE_SYNOPSIS "endpoint rotate-secret NAME [--secret S] [--overlap DURATION]"
#define EP_TEST_SYNOPSIS "endpoint test NAME [--type T]"
#define EP_PREVIEW_SYNOPSIS "endpoint preview NAME [--type T | EVENT-ID]"
#define EP_SYNOPSIS CTL_ENDPOINT_SYNOPSIS
#define EP_TEST_RESPONSE_MAX 512 /* bytes of the test response shown */

/* The operand NAME of a command taking nothing else, as a JSON request. */
static json_t *ctl_endpoint_name_request(const char *cmd, int argc, char **argv,
                                         const char *synopsis)
{
    static const struct option none[] = { { NULL, 0, NULL, 0 } };

    optind = 0;
    while (ctl_getopt(argc, argv, none, synopsis) != -1)
        ;
    if (argc - optind != 1)
        ctl_usage(synopsis);
    return json_pack("{s:s,s:o}", "cmd", cmd, "name", ctl_jstr("NAME", argv[optind], synopsis));
}

/* Print the answer's endpoint: JSON, or the detail view under a headline
 * ("endpoint NAME added"; none when NULL). */
static void ctl_endpoint_answer(struct ctl *ctl, json_t *r, const char *done,
                                bool with_secret)
{
    json_t *ep = json_object_get(r, "endpoint");

    if (ctl->json) {
        ctl_endpoint_json_times(ep);
        ctl_print_json(r);
        return;
    }
    if (done)
        printf("endpoint %s %s\n\n", ctl_str(ep, "name") ? ctl_str(ep, "name") : "?", done);
    ctl_endpoint_print(ep, with_secret);
}

static int ctl_endpoint_add(struct ctl *ctl, int argc, char **argv)
{
    json_t *opts = json_object(), *ep, *r;
    const char *secret;
    int first;

    first = ctl_endpoint_opts_parse(argc, argv, opts, true, EP_ADD_SYNOPSIS);
    if (argc - first != 2)
        ctl_usage(EP_ADD_SYNOPSIS);
    /* name and url lead the object, as people write it */
    ep = json_pack("{s:o,s:o}", "name", ctl_jstr("NAME", argv[first], EP_ADD_SYNOPSIS), "url",
                   ctl_jstr("URL", argv[first + 1], EP_ADD_SYNOPSIS));
    json_object_update(ep, opts);
    json_decref(opts);
    r = ctl_call(ctl, json_pack("{s:s,s:o}", "cmd", "endpoint.add", "endpoint", ep));
    ctl_endpoint_answer(ctl, r, "added", false);
    secret = ctl_str(json_object_get(r, "endpoint"), "secret");
    if (!ctl->json)
        ctl_endpoint_print_secret("secret (shown once; store it now)", secret);
    json_decref(r);
    return EX_OK;
}

static int ctl_endpoint_update(struct ctl *ctl, int argc, char **argv)
{
    json_t *set = json_object(), *r;
    int first;

    first = ctl_endpoint_opts_parse(argc, argv, set, false, EP_UPDATE_SYNOPSIS);
    if (argc - first != 1)
        ctl_usage(EP_UPDATE_SYNOPSIS);
    if (json_object_size(set) == 0)
        ctl_bad_usage(EP_UPDATE_SYNOPSIS, "nothing to change: give at least one option");
    r = ctl_call(ctl, json_pack("{s:s,s:o,s:o}", "cmd", "endpoint.update", "name",
                                ctl_jstr("NAME", argv[first], EP_UPDATE_SYNOPSIS), "set", set));
    ctl_endpoint_answer(ctl, r, "updated", true);
    json_decref(r);
    return EX_OK;
}

/* types joined with ",", into buf. */
static char *ctl_endpoint_types_text(char *buf, size_t n, const json_t *ep)
{
    const json_t *t;
    size_t i, used = 0;

    buf[0] = 0;
    json_array_foreach(json_object_get(ep, "types"), i, t) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? "," : "",
                         json_string_value(t) ? json_string_value(t) : "?");
        if (w < 0 || (size_t)w >= n - used)
            break; /* cut short; the column is for reading, show has them all */
        used += (size_t)w;
    }
    return buf;
}

static void ctl_endpoint_list_row(const json_t *ep, int wname, int wstate)
{
    const char *name = ctl_str(ep, "name"), *url = ctl_str(ep, "url");
    char types[256], shown[1024];

    printf("%-*s  %-*s  %6lld  %-20s  %s\n", wname, name ? name : "?", wstate,
           ctl_endpoint_state(ep), (long long)ctl_int(ep, "queued"),
           ctl_endpoint_types_text(types, sizeof(types), ep),
           url ? printable(shown, sizeof(shown), url, strlen(url)) : "-");
}

static int ctl_endpoint_list(struct ctl *ctl, int argc, char **argv)
{
    json_t *r, *eps, *ep;
    int wname = 4, wstate = 5;
    size_t i;

    if (ctl_operands(argc, argv, EP_LIST_SYNOPSIS) != argc)
        ctl_usage(EP_LIST_SYNOPSIS);
    r = ctl_call(ctl, json_pack("{s:s}", "cmd", "endpoint.list"));
    eps = json_object_get(r, "endpoints");
    json_array_foreach(eps, i, ep) {
        if (ctl->json) {
            ctl_endpoint_json_times(ep);
            ctl_print_json(ep);
        }
        if (ctl_str(ep, "name") && (int)strlen(ctl_str(ep, "name")) > wname)
            wname = (int)strlen(ctl_str(ep, "name"));
        if ((int)strlen(ctl_endpoint_state(ep)) > wstate)
            wstate = (int)strlen(ctl_endpoint_state(ep));
    }
    if (!ctl->json) {
        printf("%-*s  %-*s  %6s  %-20s  %s\n", wname, "NAME", wstate, "STATE", "QUEUED", "TYPES",
               "URL");
        json_array_foreach(eps, i, ep)
            ctl_endpoint_list_row(ep, wname, wstate);
    }
    json_decref(r);
    return EX_OK;
}

static int ctl_endpoint_show(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "reveal-secret", no_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 },
    };
    bool reveal = false;
    json_t *r;
    int ch;

    optind = 0;
    while ((ch = ctl_getopt(argc, argv, opts, EP_SHOW_SYNOPSIS)) != -1)
        reveal = true; /* 'r', the only option */
    if (argc - optind != 1)
        ctl_usage(EP_SHOW_SYNOPSIS);
    r = ctl_call(ctl, json_pack("{s:s,s:o,s:b}", "cmd", "endpoint.show", "name",
                                ctl_jstr("NAME", argv[optind], EP_SHOW_SYNOPSIS),
                                "reveal_secret", reveal));
    ctl_endpoint_answer(ctl, r, NULL, true);
    json_decref(r);
    return EX_OK;
}

/* enable and disable: the same request shape, one line of output. */
static int ctl_endpoint_switch(struct ctl *ctl, int argc, char **argv, const char *cmd,
                               const char *done)
{
    char synopsis[64];
    json_t *r;

    snprintf(synopsis, sizeof(synopsis), "endpoint %s NAME", argv[0]);
    r = ctl_call(ctl, ctl_endpoint_name_request(cmd, argc, argv, synopsis));
    if (ctl->json)
        ctl_endpoint_answer(ctl, r, NULL, false);
    else
        printf("endpoint %s %s (state: %s)\n", argv[argc - 1], done,
               ctl_endpoint_state(json_object_get(r, "endpoint")));
    json_decref(r);
    return EX_OK;
}

static int ctl_endpoint_enable(struct ctl *ctl, int argc, char **argv)
{
    return ctl_endpoint_switch(ctl, argc, argv, "endpoint.enable", "enabled");
}

static int ctl_endpoint_disable(struct ctl *ctl, int argc, char **argv)
{
    return ctl_endpoint_switch(ctl, argc, argv, "endpoint.disable", "disabled");
}

static int ctl_endpoint_remove(struct ctl *ctl, int argc, char **argv)
{
    json_t *r = ctl_call(ctl, ctl_endpoint_name_request("endpoint.remove", argc, argv,
                                                        EP_REMOVE_SYNOPSIS));

    if (ctl->json)
        ctl_print_json(r);
    else
        printf("endpoint %s removed; %lld queued deliveries dropped\n", argv[argc - 1],
               (long long)ctl_int(r, "dropped"));
    json_decref(r);
    return EX_OK;
}

static void ctl_endpoint_rotate_print(const json_t *ep)
{
    char until[CTL_TIME_LEN];

    printf("endpoint %s: secret rotated\n", ctl_str(ep, "name") ? ctl_str(ep, "name") : "?");
    if (json_object_get(ep, "old_secret_until") && ctl_int(ep, "old_secret_until") != 0)
        printf("the old secret keeps signing too until %s\n",
               ctl_fmt_time(until, json_object_get(ep, "old_secret_until")));
    ctl_endpoint_print_secret("new secret (shown once; store it now)", ctl_str(ep, "secret"));
}

static int ctl_endpoint_rotate(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "secret", required_argument, NULL, 's' },
        { "overlap", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    json_t *req = json_pack("{s:s}", "cmd", "endpoint.rotate_secret"), *r;
    int64_t ms;
    int ch;

    optind = 0;
    while ((ch = ctl_getopt(argc, argv, opts, EP_ROTATE_SYNOPSIS)) != -1) {
        if (ch == 's') {
            json_object_set_new(req, "secret", ctl_jstr("--secret", optarg, EP_ROTATE_SYNOPSIS));
        } else {
            ms = ctl_duration_ms("--overlap", optarg, INT64_MAX, EP_ROTATE_SYNOPSIS);
            if (ms % 1000 != 0)
                ctl_bad_usage(EP_ROTATE_SYNOPSIS, "--overlap: whole seconds, please");
            json_object_set_new(req, "overlap_s", json_integer(ms / 1000));
        }
    }
    if (argc - optind != 1)
        ctl_usage(EP_ROTATE_SYNOPSIS);
    json_object_set_new(req, "name", ctl_jstr("NAME", argv[optind], EP_ROTATE_SYNOPSIS));
    r = ctl_call(ctl, req);
    if (ctl->json)
        ctl_endpoint_answer(ctl, r, NULL, false);
    else
        ctl_endpoint_rotate_print(json_object_get(r, "endpoint"));
    json_decref(r);
    return EX_OK;
}

static void ctl_endpoint_test_print(const json_t *r)
{
    const json_t *ev = json_object_get(r, "event");
    const char *error = ctl_str(r, "error"), *response = ctl_str(r, "response");
    char shown[512];

    printf("%-*s%s\n", CTL_LABEL_WIDTH, "delivered:",
           json_is_true(json_object_get(r, "delivered")) ? "yes" : "no");
    if (ctl_int(r, "status") != 0)
        printf("%-*s%lld\n", CTL_LABEL_WIDTH, "status:", (long long)ctl_int(r, "status"));
    else
        printf("%-*s%s\n", CTL_LABEL_WIDTH, "status:", "- (no HTTP answer)");
    printf("%-*s%lld ms\n", CTL_LABEL_WIDTH, "duration:", (long long)ctl_int(r, "duration_ms"));
    if (error)
        printf("%-*s%s\n", CTL_LABEL_WIDTH, "error:",
               printable(shown, sizeof(shown), error, strlen(error)));
    if (ev)
        printf("%-*s%s (%s)\n", CTL_LABEL_WIDTH, "event:",
               ctl_str(ev, "id") ? ctl_str(ev, "id") : "?",
               ctl_str(ev, "type") ? ctl_str(ev, "type") : "?");
    if (response)
        ctl_print_text("response:", response, EP_TEST_RESPONSE_MAX);
}

static int ctl_endpoint_test(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "type", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    json_t *req = json_pack("{s:s}", "cmd", "endpoint.test"), *r;
    int rc;

    optind = 0;
    while (ctl_getopt(argc, argv, opts, EP_TEST_SYNOPSIS) != -1) /* 't', the only option */
        json_object_set_new(req, "type", ctl_jstr("--type", optarg, EP_TEST_SYNOPSIS));
    if (argc - optind != 1)
        ctl_usage(EP_TEST_SYNOPSIS);
    json_object_set_new(req, "name", ctl_jstr("NAME", argv[optind], EP_TEST_SYNOPSIS));
    r = ctl_call(ctl, req);
    rc = json_is_true(json_object_get(r, "delivered")) ? EX_OK : EX_TEMPFAIL;
    if (ctl->json)
        ctl_print_json(r);
    else
        ctl_endpoint_test_print(r);
    json_decref(r);
    return rc;
}

/* The request as an HTTP message: headers, a blank line, the body. */
static void ctl_endpoint_preview_print(const json_t *r)
{
    const char *name, *reason = ctl_str(r, "reason"), *body = ctl_str(r, "body");
    json_t *v;

    if (!json_is_true(json_object_get(r, "sent"))) {
        printf("not sent: %s\n", reason ? reason : "?");
        return;
    }
    json_object_foreach(json_object_get(r, "headers"), name, v)
        printf("%s: %s\n", name, json_string_value(v) ? json_string_value(v) : "");
    printf("\n%s\n", body ? body : "");
}

static int ctl_endpoint_preview(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "type", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    json_t *req = json_pack("{s:s}", "cmd", "endpoint.preview"), *r;
    int rc, n;

    optind = 0;
    while (ctl_getopt(argc, argv, opts, EP_PREVIEW_SYNOPSIS) != -1) /* 't', the only option */
        json_object_set_new(req, "type", ctl_jstr("--type", optarg, EP_PREVIEW_SYNOPSIS));
    n = argc - optind;
    if (n < 1 || n > 2 || (n == 2 && json_object_get(req, "type")))
        ctl_usage(EP_PREVIEW_SYNOPSIS);
    json_object_set_new(req, "name", ctl_jstr("NAME", argv[optind], EP_PREVIEW_SYNOPSIS));
    if (n == 2)
        json_object_set_new(req, "event", ctl_jstr("EVENT-ID", argv[optind + 1], EP_PREVIEW_SYNOPSIS));
    r = ctl_call(ctl, req);
    rc = json_is_true(json_object_get(r, "sent")) ? EX_OK : CTL_EX_NOTSENT;
    if (ctl->json)
        ctl_print_json(r);
    else
        ctl_endpoint_preview_print(r);
    json_decref(r);
    return rc;
}

static const struct ctl_command ctl_endpoint_commands[] = {
    { "add", ctl_endpoint_add, EP_ADD_SYNOPSIS, 0 },
    { "update", ctl_endpoint_update, EP_UPDATE_SYNOPSIS, 0 },
    { "list", ctl_endpoint_list, EP_LIST_SYNOPSIS, 0 },
    { "show", ctl_endpoint_show, EP_SHOW_SYNOPSIS, 0 },
    { "enable", ctl_endpoint_enable, "endpoint enable NAME", 0 },
    { "disable", ctl_endpoint_disable, "endpoint disable NAME", 0 },
    { "remove", ctl_endpoint_remove, EP_REMOVE_SYNOPSIS, 0 },
    { "rotate-secret", ctl_endpoint_rotate, EP_ROTATE_SYNOPSIS, 0 },
    { "test", ctl_endpoint_test, EP_TEST_SYNOPSIS, 0 },
    { "preview", ctl_endpoint_preview, EP_PREVIEW_SYNOPSIS, 0 },
    { NULL, NULL, NULL, 0 },
};

int ctl_endpoint(struct ctl *ctl, int argc, char **argv)
{
    return ctl_dispatch(ctl, ctl_endpoint_commands, argc, argv, EP_SYNOPSIS);
}
