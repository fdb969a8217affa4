/* SPDX-License-Identifier: MIT */
/*
 * ctl_endpoint_opts.c - endpoint add/update options to endpoint keys (see
 * ctl_endpoint_opts.h).
 *
 * The options are the CLI column of endpoint_keys.def: each row's type
 * says how the value is read (the *_CTL macros), CLI_FLAGS gives --opt
 * and --no-opt, CLI_ADD_OFF an add-only switch to false.
 *
 * The client checks the form of each value (a number within the row's
 * bounds, a duration, "Name: value", "KEY=VALUE", a scheme's name) so a
 * typo is a usage error naming the option; mailhookd checks the meaning
 * (known filter keys, URL rules, a duration's bounds) and refuses with
 * bad_request, which is exit 65.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ctl_common.h"
#include "ctl_endpoint_opts.h"
#include "endpoint_keys.h"
#include "readfile.h"
#include "xalloc.h"

enum ctl_endpoint_opt_kind {
    K_STRING,   /* the value as given */
    K_SCHEME,   /* a scheme's name (endpoint_keys.h) */
    K_FORMAT,   /* a format's name (endpoint_keys.h) */
    K_FILE,     /* a file's contents (--transform-file) */
    K_TYPES,    /* appended to an array, comma lists split */
    K_FILTER,   /* "KEY=VALUE" appended to an array */
    K_HEADER,   /* "Name: value" into an object */
    K_COUNT,    /* an integer within [min, max] */
    K_DURATION, /* a DURATION in ms that fits an int */
    K_RETRY,    /* a comma list of DURATIONs, in whole seconds */
    K_TRUE,     /* no value: sets true */
    K_FALSE,    /* no value: sets false */
};

/* How a row's value is read, by its type. */
#define EPK_URL_CTL K_STRING
#define EPK_FORMAT_CTL K_FORMAT
#define EPK_PROGRAM_CTL K_STRING
#define EPK_AUTH_CTL K_STRING
#define EPK_IDFORM_CTL K_STRING
#define EPK_TYPES_CTL K_TYPES
#define EPK_FILTERS_CTL K_FILTER
#define EPK_SCHEME_CTL K_SCHEME
#define EPK_HNAME_CTL K_STRING
#define EPK_TEXT_CTL K_STRING
#define EPK_SECRET_CTL K_STRING
#define EPK_HEADERS_CTL K_HEADER
#define EPK_COUNT_CTL K_COUNT
#define EPK_MS_CTL K_DURATION
#define EPK_RETRY_CTL K_RETRY

/* The cli column of a row (endpoint_keys.def). */
#define CLI_NO CTL_OPT_NONE, ""
#define CLI(opt) CTL_OPT_ONE, opt
#define CLI_FLAGS(opt) CTL_OPT_FLAGS, opt
#define CLI_ADD_OFF(opt) CTL_OPT_ADD_OFF, opt
#define CTL_OPT_ROW(sel, opt, type, key, min, max) sel(opt, type, key, min, max)
#define CTL_OPT_NONE(opt, type, key, min, max)
#define CTL_OPT_ONE(opt, type, key, min, max) { opt, #key, type##_CTL, min, max, false },
#define CTL_OPT_FLAGS(opt, type, key, min, max) \
    { opt, #key, K_TRUE, 0, 0, false }, { "no-" opt, #key, K_FALSE, 0, 0, false },
#define CTL_OPT_ADD_OFF(opt, type, key, min, max) { opt, #key, K_FALSE, 0, 0, true },

static const struct ctl_endpoint_optdef {
    const char *opt; /* long option, without "--" */
    const char *key; /* endpoint key it sets */
    enum ctl_endpoint_opt_kind kind;
    long long min, max;
    bool add_only;
} ctl_endpoint_optdefs[] = {
#define ENDPOINT_KEY(key, type, min, max, def, cli, conf, doc) \
    CTL_OPT_ROW(cli, type, key, min, max)
#include "endpoint_keys.def"
    /* the file form of --transform (as transform_file in mailhook.conf) */
    { "transform-file", "transform", K_FILE, 0, EP_PROGRAM_MAX, false },
};
#define CTL_EP_NOPTS (sizeof(ctl_endpoint_optdefs) / sizeof(ctl_endpoint_optdefs[0]))
#define CTL_EP_OPT_BASE 256 /* getopt values: CTL_EP_OPT_BASE + index into ctl_endpoint_optdefs */

/* The array (or object) at key, created empty when absent. */
static json_t *ctl_endpoint_opts_container(json_t *obj, const char *key, bool array)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL) {
        v = array ? json_array() : json_object();
        json_object_set_new(obj, key, v);
    }
    return v;
}

/* Copy [p, end) without surrounding blanks into a new string. */
static char *ctl_endpoint_opts_trimmed(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return xstrndup(p, (size_t)(end - p));
}

/* "a,b , c" -> each item, trimmed, to fn; an empty item is an error. */
static void ctl_endpoint_opts_split(const char *opt, const char *arg, const char *synopsis,
                                    void (*fn)(json_t *, const char *, const char *, const char *),
                                    json_t *to)
{
    const char *p = arg, *comma;
    char *item;

    for (;;) {
        comma = strchr(p, ',');
        item = ctl_endpoint_opts_trimmed(p, comma ? comma : p + strlen(p));
        if (*item == 0)
            ctl_bad_usage(synopsis, "%s: empty item in \"%.80s\"", opt, arg);
        fn(to, opt, item, synopsis);
        free(item);
        if (comma == NULL)
            return;
        p = comma + 1;
    }
}

static void ctl_endpoint_opts_add_retry(json_t *retry, const char *opt, const char *delay,
                                        const char *synopsis)
{
    int64_t ms = ctl_duration_ms(opt, delay, (int64_t)INT_MAX * 1000, synopsis);

    if (ms % 1000 != 0)
        ctl_bad_usage(synopsis, "%s: \"%s\": retry delays are whole seconds", opt, delay);
    if (json_array_size(retry) >= EP_RETRY_MAX)
        ctl_bad_usage(synopsis, "%s: at most %d retries", opt, EP_RETRY_MAX);
    json_array_append_new(retry, json_integer(ms / 1000));
}

static void ctl_endpoint_opts_set_filter(json_t *obj, const char *opt, const char *arg,
                                         const char *synopsis)
{
    json_t *filters = ctl_endpoint_opts_container(obj, "filters", true);
    const char *eq = strchr(arg, '=');

    if (*arg == 0)
        return; /* "": no filters (the key is there, empty) */
    if (eq == NULL || eq == arg)
        ctl_bad_usage(synopsis, "%s: \"%.80s\" is not KEY=VALUE", opt, arg);
    json_array_append_new(filters, ctl_jstr(opt, arg, synopsis));
}

/* An HTTP field name is an RFC 9110 token. */
static bool ctl_endpoint_opts_header_name_ok(const char *name, size_t len)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c != 0 && strchr(tchar, c) != NULL)))
            return false;
    }
    return len > 0;
}

static void ctl_endpoint_opts_set_header(json_t *obj, const char *opt, const char *arg,
                                         const char *synopsis)
{
    json_t *headers = ctl_endpoint_opts_container(obj, "headers", false);
    const char *colon = strchr(arg, ':');
    char *name, *value;

    if (*arg == 0)
        return; /* "": no extra headers (the key is there, empty) */
    if (colon == NULL || !ctl_endpoint_opts_header_name_ok(arg, (size_t)(colon - arg)))
        ctl_bad_usage(synopsis, "%s: \"%.80s\" is not \"Name: value\"", opt, arg);
    if (strpbrk(colon, "\r\n") != NULL)
        ctl_bad_usage(synopsis, "%s: a header value cannot hold a line break", opt);
    name = xstrndup(arg, (size_t)(colon - arg));
    value = ctl_endpoint_opts_trimmed(colon + 1, colon + strlen(colon));
    json_object_set_new(headers, name, ctl_jstr(opt, value, synopsis));
    free(name);
    free(value);
}

static void ctl_endpoint_opts_set_scheme(json_t *obj, const char *opt, const char *arg,
                                         const char *synopsis)
{
    enum ep_scheme scheme;

    if (endpoint_scheme_from_name(arg, &scheme) < 0)
        ctl_bad_usage(synopsis, "%s: \"%.40s\": use one of %s", opt, arg, endpoint_scheme_list());
    json_object_set_new(obj, "scheme", json_string(arg));
}

static void ctl_endpoint_opts_set_format(json_t *obj, const char *opt, const char *arg,
                                         const char *synopsis)
{
    enum ep_format format;

    if (endpoint_format_from_name(arg, &format) < 0)
        ctl_bad_usage(synopsis, "%s: \"%.40s\": use one of %s", opt, arg, endpoint_format_list());
    json_object_set_new(obj, "format", json_string(arg));
}

/* The program in file path (at most max bytes) as key's value. */
static void ctl_endpoint_opts_set_file(json_t *obj, const char *key, const char *opt,
                                       const char *path, long long max, const char *synopsis)
{
    mh_err_t err;
    char *text = readfile(path, (size_t)max, &err);

    if (text == NULL)
        ctl_bad_usage(synopsis, "%s: %s", opt, err.text);
    json_object_set_new(obj, key, ctl_jstr(opt, text, synopsis));
    free(text);
}

/* One option (d) with its value (arg; NULL for flags) into obj. */
static void ctl_endpoint_opts_apply(json_t *obj, const struct ctl_endpoint_optdef *d,
                                    const char *arg, const char *synopsis)
{
    char opt[32];

    snprintf(opt, sizeof(opt), "--%s", d->opt);
    switch (d->kind) {
    case K_STRING: json_object_set_new(obj, d->key, ctl_jstr(opt, arg, synopsis)); break;
    case K_SCHEME: ctl_endpoint_opts_set_scheme(obj, opt, arg, synopsis); break;
    case K_FORMAT: ctl_endpoint_opts_set_format(obj, opt, arg, synopsis); break;
    case K_FILE: ctl_endpoint_opts_set_file(obj, d->key, opt, arg, d->max, synopsis); break;
    case K_TYPES: /* the rule of every --type (ctl_types) */
        ctl_types(ctl_endpoint_opts_container(obj, d->key, true), opt, arg, synopsis);
        break;
    case K_FILTER: ctl_endpoint_opts_set_filter(obj, opt, arg, synopsis); break;
    case K_HEADER: ctl_endpoint_opts_set_header(obj, opt, arg, synopsis); break;
    case K_COUNT:
        json_object_set_new(obj, d->key,
                            json_integer(ctl_count(opt, arg, d->min, d->max, synopsis)));
        break;
    case K_DURATION:
        json_object_set_new(obj, d->key,
                            json_integer(ctl_duration_ms(opt, arg, INT_MAX, synopsis)));
        break;
    case K_RETRY:
        json_object_set_new(obj, d->key, json_array()); /* the last --retry wins */
        if (*arg != 0)                                 /* "": no retries */
            ctl_endpoint_opts_split(opt, arg, synopsis, ctl_endpoint_opts_add_retry,
                                    json_object_get(obj, d->key));
        break;
    case K_TRUE: json_object_set_new(obj, d->key, json_true()); break;
    case K_FALSE: json_object_set_new(obj, d->key, json_false()); break;
    }
}

int ctl_endpoint_opts_parse(int argc, char **argv, json_t *obj, bool add, const char *synopsis)
{
    struct option opts[CTL_EP_NOPTS + 1];
    const struct ctl_endpoint_optdef *d;
    int ch;

    for (size_t i = 0; i < CTL_EP_NOPTS; i++) {
        d = &ctl_endpoint_optdefs[i];
        opts[i] = (struct option){ d->opt,
                                   d->kind == K_TRUE || d->kind == K_FALSE ? no_argument
                                                                            : required_argument,
                                   NULL, CTL_EP_OPT_BASE + (int)i };
    }
    opts[CTL_EP_NOPTS] = (struct option){ NULL, 0, NULL, 0 };
    optind = 0;
    while ((ch = ctl_getopt(argc, argv, opts, synopsis)) != -1) {
        if (ch < CTL_EP_OPT_BASE || ch >= CTL_EP_OPT_BASE + (int)CTL_EP_NOPTS)
            ctl_usage(synopsis);
        d = &ctl_endpoint_optdefs[ch - CTL_EP_OPT_BASE];
        if (d->add_only && !add)
            ctl_bad_usage(synopsis, "--%s is for add; use \"mailhookctl endpoint disable NAME\"",
                          d->opt);
        ctl_endpoint_opts_apply(obj, d, optarg, synopsis);
    }
    return optind;
}
