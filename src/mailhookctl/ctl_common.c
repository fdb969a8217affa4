/* SPDX-License-Identifier: MIT */
/*
 * ctl_common.c - the helpers every mailhookctl command uses (see
 * ctl_common.h): the admin call and its exit codes, option values, output.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_client.h"
#include "cjson.h"
#include "ctl_common.h"
#include "event.h"
#include "timeutil.h"
#include "xalloc.h"

/* The run, for the usage errors (which are not given it): under --json
 * they are JSON too. Set by ctl_global_flags(), before any command runs. */
static const struct ctl *ctl_run;

int ctl_dispatch(struct ctl *ctl, const struct ctl_command *cmds, int argc, char **argv,
                 const char *synopsis)
{
    if (argc < 2)
        ctl_usage(synopsis);
    ctl_help_scan(2, argv, synopsis); /* "GROUP --help" */
    for (const struct ctl_command *c = cmds; c->name; c++) {
        if (strcmp(c->name, argv[1]) == 0) {
            ctl_help_scan(argc - 1, argv + 1, c->synopsis);
            return c->fn(ctl, argc - 1, argv + 1);
        }
    }
    ctl_bad_usage(synopsis, "unknown command \"%s %s\"", argv[0], argv[1]);
}

void ctl_help_scan(int argc, char **argv, const char *synopsis)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: mailhookctl %s\n", synopsis);
            exit(EX_OK);
        }
    }
}

void ctl_global_flags(struct ctl *ctl, int *argc, char **argv)
{
    int i = 1, kept = 1;

    ctl_run = ctl;
    for (; i < *argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("mailhookctl %s\n", PACKAGE_VERSION);
            exit(EX_OK);
        }
        if (strcmp(argv[i], "--json") == 0)
            ctl->json = true;
        else
            argv[kept++] = argv[i];
    }
    while (i < *argc)
        argv[kept++] = argv[i++];
    argv[kept] = NULL;
    *argc = kept;
}

/* The daemon's error code as our exit code (mailhookctl(1), EXIT STATUS). */
static int ctl_exit_code(const char *code)
{
    if (strcmp(code, "not_found") == 0)
        return CTL_EX_NOTFOUND;
    if (strcmp(code, "bad_request") == 0 || strcmp(code, "exists") == 0 ||
        strcmp(code, "conflict") == 0)
        return EX_DATAERR;
    if (strcmp(code, "busy") == 0) /* max_admin_clients: try again */
        return EX_TEMPFAIL;
    return EX_UNAVAILABLE; /* "internal", or a code this client does not know */
}

void ctl_fail(const struct ctl *ctl, int rc, const char *code, const char *fmt, ...)
{
    char text[1024];
    json_t *e;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (ctl->json && (e = json_pack("{s:b,s:s,s:s%}", "ok", 0, "code", code, "error", text,
                                    strlen(text))) != NULL) {
        char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        fprintf(stderr, "%s\n", s ? s : "{\"ok\":false}");
        free(s);
        json_decref(e);
    } else {
        fprintf(stderr, "mailhookctl: %s\n", text);
    }
    exit(ctl->fail_rc ? ctl->fail_rc : rc);
}

json_t *ctl_call(struct ctl *ctl, json_t *req)
{
    json_t *reply = NULL;
    const char *code, *text;
    char shown[512], code_copy[32];
    mh_err_t err;

    if (admin_call(ctl->admin_socket, req, &reply, CTL_TIMEOUT_MS, &err) < 0) {
        json_decref(req);
        ctl_fail(ctl, EX_UNAVAILABLE, "unavailable", "%s", err.text);
    }
    json_decref(req);
    if (json_is_true(json_object_get(reply, "ok")))
        return reply;
    code = ctl_str(reply, "code") ? ctl_str(reply, "code") : "internal";
    text = ctl_str(reply, "error") ? ctl_str(reply, "error") : "mailhookd refused the request";
    printable(shown, sizeof(shown), text, strlen(text));
    printable(code_copy, sizeof(code_copy), code, strlen(code));
    json_decref(reply); /* code and text point into it */
    ctl_fail(ctl, ctl_exit_code(code_copy), code_copy, "%s", shown);
}

void ctl_usage(const char *synopsis)
{
    if (ctl_run && ctl_run->json)
        ctl_fail(ctl_run, EX_USAGE, "usage", "usage: mailhookctl %s", synopsis);
    fprintf(stderr, "usage: mailhookctl %s\n", synopsis);
    exit(EX_USAGE);
}

void ctl_bad_usage(const char *synopsis, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (ctl_run && ctl_run->json)
        ctl_fail(ctl_run, EX_USAGE, "usage", "%s; usage: mailhookctl %s", text, synopsis);
    fprintf(stderr, "mailhookctl: %s\n", text);
    ctl_usage(synopsis);
}

/* What was wrong with the option getopt_long refused (arg, as typed). */
static void ctl_getopt_refused(const char *arg, const struct option *opts, const char *synopsis)
{
    size_t len = strcspn(arg + 2, "="), matches = 0;
    bool exact = false;

    for (const struct option *o = opts; o->name; o++) {
        if (strncmp(o->name, arg + 2, len) == 0) {
            matches++;
            exact = exact || o->name[len] == 0;
        }
    }
    if (exact && arg[2 + len] == '=')
        ctl_bad_usage(synopsis, "option \"--%.*s\" takes no value", (int)len, arg + 2);
    if (matches > 1)
        ctl_bad_usage(synopsis, "ambiguous option \"%s\"", arg);
    ctl_bad_usage(synopsis, "unknown option \"%s\"", arg);
}

int ctl_getopt(int argc, char **argv, const struct option *opts, const char *synopsis)
{
    int ch;

    opterr = 0;
    ch = getopt_long(argc, argv, ":", opts, NULL); /* ":": report a missing value as ':' */
    if (ch == ':')
        ctl_bad_usage(synopsis, "option \"%s\" needs a value", argv[optind - 1]);
    if (ch == '?' && strncmp(argv[optind - 1], "--", 2) == 0)
        ctl_getopt_refused(argv[optind - 1], opts, synopsis);
    if (ch == '?')
        ctl_bad_usage(synopsis, "unknown option \"-%c\"", optopt);
    return ch;
}

int ctl_operands(int argc, char **argv, const char *synopsis)
{
    static const struct option none[] = { { NULL, 0, NULL, 0 } };

    optind = 0;
    while (ctl_getopt(argc, argv, none, synopsis) != -1)
        ;
    return optind;
}

/* A type or pattern as endpoints and the store match them: exact (as
 * event_type_check() has it), "PREFIX.*" or "*"; the daemon's rule. */
static int ctl_type_check(const char *t, mh_err_t *err)
{
    size_t len = strlen(t);

    if (strcmp(t, "*") == 0)
        return 0;
    if (len < 2 || strcmp(t + len - 2, ".*") != 0)
        return event_type_check(t, err);
    if (len > EVENT_TYPE_MAX || t[0] == '.' || strstr(t, "..") ||
        strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != len - 1)
        return mh_err_set(err, "a wildcard is a prefix of a-z 0-9 _ . - followed by \".*\", "
                               "like \"email.*\"");
    return 0;
}

void ctl_types(json_t *types, const char *opt, const char *s, const char *synopsis)
{
    const char *p = s, *comma;
    mh_err_t err;
    char *t;

    do {
        comma = strchr(p, ',');
        t = comma ? xstrndup(p, (size_t)(comma - p)) : xstrdup(p);
        if (ctl_type_check(t, &err) < 0) /* t is not shown: err quotes it, printable */
            ctl_bad_usage(synopsis, "%s: %s (several types: T1,T2)", opt, err.text);
        json_array_append_new(types, json_string(t));
        free(t);
        p = comma + 1;
    } while (comma);
}

void ctl_endpoint_exists(struct ctl *ctl, const char *name)
{
    json_decref(ctl_call(ctl, json_pack("{s:s,s:s,s:b}", "cmd", "endpoint.show", "name", name,
                                        "reveal_secret", 0)));
}

int64_t ctl_time(const char *opt, const char *s, const char *synopsis)
{
    int64_t ms;
    mh_err_t err;

    if (time_parse_user(s, time_now_ms(), &ms, &err) < 0)
        ctl_bad_usage(synopsis, "%s: %s", opt, err.text);
    return ms;
}

int64_t ctl_duration_ms(const char *opt, const char *s, int64_t max_ms, const char *synopsis)
{
    int64_t ms;

    if (time_parse_duration_ms(s, &ms) < 0)
        ctl_bad_usage(synopsis, "%s: bad duration \"%.40s\": use a number and a unit, "
                                "as in 500ms, 5s, 5m, 2h, 1d (no unit: seconds)", opt, s);
    if (ms > max_ms)
        ctl_bad_usage(synopsis, "%s: duration \"%.40s\" is too long", opt, s);
    return ms;
}

long long ctl_count(const char *opt, const char *s, long long min, long long max,
                    const char *synopsis)
{
    long long n;
    char *end;

    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno || end == s || *end || n < min || n > max)
        ctl_bad_usage(synopsis, "%s: \"%.40s\" is not a number from %lld to %lld", opt, s, min,
                      max);
    return n;
}

json_t *ctl_jstr(const char *what, const char *s, const char *synopsis)
{
    json_t *v = json_string(s);

    if (v == NULL)
        ctl_bad_usage(synopsis, "%s: not valid UTF-8", what);
    return v;
}

void ctl_print_json(const json_t *v)
{
    size_t len;
    char *s = cjson_dump(v, &len);

    if (s == NULL) { /* an answer without the member asked for */
        puts("null");
        return;
    }
    fwrite(s, 1, len, stdout);
    fputc('\n', stdout);
    free(s);
}

const char *ctl_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

json_int_t ctl_int(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

/* The protocol gives most times as ms integers; a string is shown as sent. */
char *ctl_fmt_time(char *buf, const json_t *v)
{
    if (json_is_integer(v) && json_integer_value(v) != 0)
        return time_format_rfc3339(buf, json_integer_value(v));
    if (json_is_string(v))
        return printable(buf, CTL_TIME_LEN, json_string_value(v), json_string_length(v));
    memcpy(buf, "-", 2);
    return buf;
}

char *ctl_fmt_duration(char *buf, size_t n, int64_t ms)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = { { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" } };

    if (ms == 0) {
        snprintf(buf, n, "0s");
        return buf;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ms % units[i].ms == 0) {
            snprintf(buf, n, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return buf;
        }
    }
    snprintf(buf, n, "%lldms", (long long)ms);
    return buf;
}

void ctl_print_text(const char *label, const char *text, size_t max)
{
    size_t len = strlen(text), line_len;
    bool cut = len > max;
    const char *p = text, *end = text + (cut ? max : len), *nl;
    char *shown;

    printf("%-*s", CTL_LABEL_WIDTH, label);
    if (p == end)
        printf("(empty)\n");
    for (bool first = true; p < end; p = nl + 1, first = false) {
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        line_len = (size_t)(nl - p);
        if (line_len > 0 && p[line_len - 1] == '\r')
            line_len--;
        shown = xmalloc(line_len + 4); /* printable() never grows text, "..." aside */
        printf("%*s%s\n", first ? 0 : CTL_LABEL_WIDTH, "",
               printable(shown, line_len + 4, p, line_len));
        free(shown);
    }
    if (cut)
        printf("%*s(%zu more bytes)\n", CTL_LABEL_WIDTH, "", len - max);
}
