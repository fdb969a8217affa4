/*
 * ctl_endpoint_opts.c - endpoint add/update options to endpoint keys (see
 * ctl_endpoint_opts.h).
 *
 * The client checks the form of each value (a number, a duration, "Name:
 * value", "KEY=VALUE") so a typo is a usage error naming the option;
 * mailhookd checks the meaning (known filter keys, URL rules, bounds) and
 * refuses with bad_request, which is exit 65.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ctl_common.h"
#include "ctl_endpoint_opts.h"
#include "endpoint.h"
#include "xalloc.h"

enum ep_kind {
    K_STRING,   /* the value as given */
    K_SCHEME,   /* one of the three scheme names */
    K_TYPES,    /* appended to an array, comma lists split */
    K_FILTER,   /* "KEY=VALUE" appended to an array */
    K_HEADER,   /* "Name: value" into an object */
    K_COUNT,    /* an integer within [min, max] */
    K_DURATION, /* a DURATION in ms, at most max */
    K_RETRY,    /* a comma list of DURATIONs, in whole seconds */
    K_TRUE,     /* no value: sets true */
    K_FALSE,    /* no value: sets false */
};

static const struct ep_optdef {
    const char *opt; /* long option, without "--" */
    const char *key; /* endpoint key it sets */
    enum ep_kind kind;
    long long min, max;
    bool add_only;
} ep_optdefs[] = {
    { "url", "url", K_STRING, 0, 0, false },
    { "type", "types", K_TYPES, 0, 0, false },
    { "filter", "filters", K_FILTER, 0, 0, false },
    { "scheme", "scheme", K_SCHEME, 0, 0, false },
    { "signature-header", "signature_header", K_STRING, 0, 0, false },
    { "signature-prefix", "signature_prefix", K_STRING, 0, 0, false },
    { "secret", "secret", K_STRING, 0, 0, false },
    { "header", "headers", K_HEADER, 0, 0, false },
    { "event-header", "event_header", K_STRING, 0, 0, false },
    { "delivery-header", "delivery_header", K_STRING, 0, 0, false },
    { "batch", "batch_max", K_COUNT, 0, EP_BATCH_MAX, false },
    { "batch-wait", "batch_wait_ms", K_DURATION, 0, INT_MAX, false },
    { "timeout", "timeout_ms", K_DURATION, 0, INT_MAX, false },
    { "connect-timeout", "connect_timeout_ms", K_DURATION, 0, INT_MAX, false },
    { "retry", "retry", K_RETRY, 0, 0, false },
    { "concurrency", "concurrency", K_COUNT, 1, INT_MAX, false },
    { "allow-http", "allow_http", K_TRUE, 0, 0, false },
    { "no-allow-http", "allow_http", K_FALSE, 0, 0, false },
    { "disabled", "enabled", K_FALSE, 0, 0, true },
};
#define EP_NOPTS (sizeof(ep_optdefs) / sizeof(ep_optdefs[0]))
#define EP_OPT_BASE 256 /* getopt values: EP_OPT_BASE + index into ep_optdefs */

static const char *const ep_schemes[] = { "standard", "hmac-sha256-hex", "sha256-secret-body" };

/* The array (or object) at key, created empty when absent. */
static json_t *ep_container(json_t *obj, const char *key, bool array)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL) {
        v = array ? json_array() : json_object();
        json_object_set_new(obj, key, v);
    }
    return v;
}

/* Copy [p, end) without surrounding blanks into a new string. */
static char *ep_trimmed(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return xstrndup(p, (size_t)(end - p));
}

/* "a,b , c" -> each item, trimmed, to fn; an empty item is an error. */
static void ep_split(const char *opt, const char *arg, const char *synopsis,
                     void (*fn)(json_t *, const char *, const char *, const char *), json_t *to)
{
    const char *p = arg, *comma;
    char *item;

    for (;;) {
        comma = strchr(p, ',');
        item = ep_trimmed(p, comma ? comma : p + strlen(p));
        if (*item == 0)
            ctl_bad_usage(synopsis, "%s: empty item in \"%.80s\"", opt, arg);
        fn(to, opt, item, synopsis);
        free(item);
        if (comma == NULL)
            return;
        p = comma + 1;
    }
}

static void ep_add_type(json_t *types, const char *opt, const char *type, const char *synopsis)
{
    json_array_append_new(types, ctl_jstr(opt, type, synopsis));
}

static void ep_add_retry(json_t *retry, const char *opt, const char *delay, const char *synopsis)
{
    int64_t ms = ctl_duration_ms(opt, delay, (int64_t)INT_MAX * 1000, synopsis);

    if (ms % 1000 != 0)
        ctl_bad_usage(synopsis, "%s: \"%s\": retry delays are whole seconds", opt, delay);
    if (json_array_size(retry) >= EP_RETRY_MAX)
        ctl_bad_usage(synopsis, "%s: at most %d retries", opt, EP_RETRY_MAX);
    json_array_append_new(retry, json_integer(ms / 1000));
}

static void ep_set_filter(json_t *obj, const char *opt, const char *arg, const char *synopsis)
{
    json_t *filters = ep_container(obj, "filters", true);
    const char *eq = strchr(arg, '=');

    if (*arg == 0)
        return; /* "": no filters (the key is there, empty) */
    if (eq == NULL || eq == arg)
        ctl_bad_usage(synopsis, "%s: \"%.80s\" is not KEY=VALUE", opt, arg);
    json_array_append_new(filters, ctl_jstr(opt, arg, synopsis));
}

/* An HTTP field name is an RFC 9110 token. */
static bool ep_header_name_ok(const char *name, size_t len)
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

static void ep_set_header(json_t *obj, const char *opt, const char *arg, const char *synopsis)
{
    json_t *headers = ep_container(obj, "headers", false);
    const char *colon = strchr(arg, ':');
    char *name, *value;

    if (*arg == 0)
        return; /* "": no extra headers (the key is there, empty) */
    if (colon == NULL || !ep_header_name_ok(arg, (size_t)(colon - arg)))
        ctl_bad_usage(synopsis, "%s: \"%.80s\" is not \"Name: value\"", opt, arg);
    if (strpbrk(colon, "\r\n") != NULL)
        ctl_bad_usage(synopsis, "%s: a header value cannot hold a line break", opt);
    name = xstrndup(arg, (size_t)(colon - arg));
    value = ep_trimmed(colon + 1, colon + strlen(colon));
    json_object_set_new(headers, name, ctl_jstr(opt, value, synopsis));
    free(name);
    free(value);
}

static void ep_set_scheme(json_t *obj, const char *opt, const char *arg, const char *synopsis)
{
    for (size_t i = 0; i < sizeof(ep_schemes) / sizeof(ep_schemes[0]); i++) {
        if (strcmp(arg, ep_schemes[i]) == 0) {
            json_object_set_new(obj, "scheme", json_string(arg));
            return;
        }
    }
    ctl_bad_usage(synopsis, "%s: \"%.40s\": use standard, hmac-sha256-hex or "
                            "sha256-secret-body", opt, arg);
}

/* One option (d) with its value (arg; NULL for flags) into obj. */
static void ep_opt_apply(json_t *obj, const struct ep_optdef *d, const char *arg,
                         const char *synopsis)
{
    char opt[32];

    snprintf(opt, sizeof(opt), "--%s", d->opt);
    switch (d->kind) {
    case K_STRING: json_object_set_new(obj, d->key, ctl_jstr(opt, arg, synopsis)); break;
    case K_SCHEME: ep_set_scheme(obj, opt, arg, synopsis); break;
    case K_TYPES: ep_split(opt, arg, synopsis, ep_add_type, ep_container(obj, d->key, true)); break;
    case K_FILTER: ep_set_filter(obj, opt, arg, synopsis); break;
    case K_HEADER: ep_set_header(obj, opt, arg, synopsis); break;
    case K_COUNT:
        json_object_set_new(obj, d->key,
                            json_integer(ctl_count(opt, arg, d->min, d->max, synopsis)));
        break;
    case K_DURATION:
        json_object_set_new(obj, d->key, json_integer(ctl_duration_ms(opt, arg, d->max, synopsis)));
        break;
    case K_RETRY:
        json_object_set_new(obj, d->key, json_array()); /* the last --retry wins */
        if (*arg != 0)                                 /* "": no retries */
            ep_split(opt, arg, synopsis, ep_add_retry, json_object_get(obj, d->key));
        break;
    case K_TRUE: json_object_set_new(obj, d->key, json_true()); break;
    case K_FALSE: json_object_set_new(obj, d->key, json_false()); break;
    }
}

int ctl_endpoint_opts_parse(int argc, char **argv, json_t *obj, bool add, const char *synopsis)
{
    struct option opts[EP_NOPTS + 1];
    const struct ep_optdef *d;
    int ch;

    for (size_t i = 0; i < EP_NOPTS; i++) {
        bool flag = ep_optdefs[i].kind == K_TRUE || ep_optdefs[i].kind == K_FALSE;
        opts[i] = (struct option){ ep_optdefs[i].opt, flag ? no_argument : required_argument,
                                   NULL, EP_OPT_BASE + (int)i };
    }
    opts[EP_NOPTS] = (struct option){ NULL, 0, NULL, 0 };
    optind = 0;
    while ((ch = ctl_getopt(argc, argv, opts, synopsis)) != -1) {
        if (ch < EP_OPT_BASE || ch >= EP_OPT_BASE + (int)EP_NOPTS)
            ctl_usage(synopsis);
        d = &ep_optdefs[ch - EP_OPT_BASE];
        if (d->add_only && !add)
            ctl_bad_usage(synopsis, "--%s is for add; use \"mailhookctl endpoint disable NAME\"",
                          d->opt);
        ep_opt_apply(obj, d, optarg, synopsis);
    }
    return optind;
}
