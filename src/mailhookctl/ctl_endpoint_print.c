/* SPDX-License-Identifier: MIT */
/*
 * ctl_endpoint_print.c - an endpoint object for people (see
 * ctl_endpoint_print.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl_common.h"
#include "ctl_endpoint_print.h"
#include "endpoint_keys.h"

#define EP_SHOWN_MAX 1024 /* bytes of one outside value shown */

static void ctl_endpoint_print_line(const char *label, const char *fmt, ...) MH_PRINTF(2, 3);
static void ctl_endpoint_print_line(const char *label, const char *fmt, ...)
{
    va_list ap;

    printf("%-*s", CTL_LABEL_WIDTH, label);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* The string at key, printable, on its own line; nothing when absent. */
static void ctl_endpoint_print_text(const json_t *ep, const char *key, const char *label,
                                    const char *if_empty)
{
    const char *s = ctl_str(ep, key);
    char shown[EP_SHOWN_MAX];

    if (s == NULL)
        return;
    ctl_endpoint_print_line(label, "%s",
                            *s ? printable(shown, sizeof(shown), s, strlen(s)) : if_empty);
}

/* An array of strings, joined by ", ". */
static void ctl_endpoint_print_list(const json_t *ep, const char *key, const char *label,
                                    const char *if_empty)
{
    const json_t *a = json_object_get(ep, key), *v;
    char shown[EP_SHOWN_MAX];
    size_t i;

    if (!json_is_array(a))
        return;
    printf("%-*s", CTL_LABEL_WIDTH, label);
    if (json_array_size(a) == 0)
        fputs(if_empty, stdout);
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v) ? json_string_value(v) : "?";
        printf("%s%s", i ? ", " : "", printable(shown, sizeof(shown), s, strlen(s)));
    }
    putchar('\n');
}

static void ctl_endpoint_print_time(const json_t *obj, const char *key, const char *label)
{
    char t[CTL_TIME_LEN];

    if (json_object_get(obj, key) && ctl_int(obj, key) != 0)
        ctl_endpoint_print_line(label, "%s", ctl_fmt_time(t, json_object_get(obj, key)));
}

/* A duration in ms, as it would be typed ("5s"). */
static void ctl_endpoint_print_ms(const json_t *ep, const char *key, const char *label)
{
    char d[32];

    if (json_is_integer(json_object_get(ep, key)))
        ctl_endpoint_print_line(label, "%s", ctl_fmt_duration(d, sizeof(d), ctl_int(ep, key)));
}

static void ctl_endpoint_print_health(const json_t *ep)
{
    const json_t *h = json_object_get(ep, "health");
    const char *reason = ctl_str(h, "disabled_reason");
    char shown[EP_SHOWN_MAX];

    ctl_endpoint_print_line("state:", "%s", ctl_endpoint_state(ep));
    if (json_is_integer(json_object_get(h, "consecutive_failures")) &&
        ctl_int(h, "consecutive_failures") > 0)
        ctl_endpoint_print_line("failures:", "%lld in a row",
                                (long long)ctl_int(h, "consecutive_failures"));
    ctl_endpoint_print_time(h, "failing_since", "failing since:");
    ctl_endpoint_print_time(h, "last_success", "last success:");
    ctl_endpoint_print_time(h, "last_failure", "last failure:");
    if (reason && *reason)
        ctl_endpoint_print_line("disabled because:", "%s",
                                printable(shown, sizeof(shown), reason, strlen(reason)));
    if (json_is_integer(json_object_get(ep, "queued")))
        ctl_endpoint_print_line("queued:", "%lld deliveries", (long long)ctl_int(ep, "queued"));
}

/* A jq program: its first line, and how many more there are. */
static void ctl_endpoint_print_program(const json_t *ep, const char *key, const char *label)
{
    const char *p = ctl_str(ep, key), *nl;
    char shown[EP_SHOWN_MAX];
    size_t lines = 0;

    if (p == NULL || *p == '\0')
        return;
    nl = strchr(p, '\n');
    for (const char *c = p; *c; c++)
        lines += *c == '\n' && c[1] != '\0';
    printable(shown, sizeof(shown), p, nl ? (size_t)(nl - p) : strlen(p));
    if (lines)
        ctl_endpoint_print_line(label, "%s (and %zu more lines)", shown, lines);
    else
        ctl_endpoint_print_line(label, "%s", shown);
}

static void ctl_endpoint_print_signing(const json_t *ep, bool with_secret)
{
    const char *scheme = ctl_str(ep, "scheme");
    enum ep_scheme s = EP_SCHEME_STANDARD;
    char until[CTL_TIME_LEN];

    if (scheme)
        endpoint_scheme_from_name(scheme, &s);
    ctl_endpoint_print_text(ep, "format", "format:", "");
    ctl_endpoint_print_text(ep, "scheme", "scheme:", "");
    if (endpoint_scheme_has_header(s)) { /* the others have fixed headers, or none */
        ctl_endpoint_print_text(ep, "signature_header", "signature header:", "");
        ctl_endpoint_print_text(ep, "signature_prefix", "signature prefix:", "(none)");
    }
    if (ctl_str(ep, "public_key")) /* sendgrid: what the receiver verifies with */
        ctl_endpoint_print_text(ep, "public_key", "public key:", "");
    if (with_secret)
        ctl_endpoint_print_text(ep, "secret", "secret:", "");
    if (ctl_str(ep, "basic_auth"))
        ctl_endpoint_print_text(ep, "basic_auth", "basic auth:", "");
    if (ctl_str(ep, "old_secret")) {
        ctl_endpoint_print_line("old secret:", "%s, also signing until %s",
                with_secret ? ctl_str(ep, "old_secret") : "(set)",
                ctl_fmt_time(until, json_object_get(ep, "old_secret_until")));
    }
}

static void ctl_endpoint_print_headers(const json_t *ep)
{
    const json_t *headers = json_object_get(ep, "headers"), *v;
    const char *name, *label = "headers:";
    char shown[EP_SHOWN_MAX];

    if (json_is_object(headers) && json_object_size(headers) == 0)
        ctl_endpoint_print_line(label, "(none)");
    json_object_foreach((json_t *)headers, name, v) {
        const char *s = json_string_value(v) ? json_string_value(v) : "";
        ctl_endpoint_print_line(label, "%s: %s", name,
                                printable(shown, sizeof(shown), s, strlen(s)));
        label = "";
    }
    ctl_endpoint_print_text(ep, "event_header", "event header:", "(not sent)");
    ctl_endpoint_print_text(ep, "delivery_header", "delivery header:", "(not sent)");
}

static void ctl_endpoint_print_sending(const json_t *ep)
{
    const json_t *retry = json_object_get(ep, "retry"), *v;
    char d[32];
    size_t i;

    if (json_is_integer(json_object_get(ep, "batch_max")) && ctl_int(ep, "batch_max") == 0)
        ctl_endpoint_print_line("batch:", "off (one event per request)");
    if (ctl_int(ep, "batch_max") != 0) {
        ctl_endpoint_print_line("batch:", "up to %lld events per request",
                                (long long)ctl_int(ep, "batch_max"));
        ctl_endpoint_print_ms(ep, "batch_wait_ms", "batch wait:");
    }
    ctl_endpoint_print_text(ep, "user_agent", "user agent:", "mailhook/" PACKAGE_VERSION);
    ctl_endpoint_print_text(ep, "delivery_id", "delivery id:", "");
    ctl_endpoint_print_ms(ep, "timeout_ms", "timeout:");
    ctl_endpoint_print_ms(ep, "connect_timeout_ms", "connect timeout:");
    if (json_is_array(retry)) {
        printf("%-*s", CTL_LABEL_WIDTH, "retry after:");
        json_array_foreach(retry, i, v)
            printf("%s%s", i ? " " : "",
                   ctl_fmt_duration(d, sizeof(d), json_integer_value(v) * 1000));
        puts(json_array_size(retry) ? " (then dropped)" : "no retries");
    }
    if (json_is_integer(json_object_get(ep, "concurrency")))
        ctl_endpoint_print_line("concurrency:", "%lld", (long long)ctl_int(ep, "concurrency"));
    if (json_is_boolean(json_object_get(ep, "allow_http")))
        ctl_endpoint_print_line("allow http:", "%s",
                json_is_true(json_object_get(ep, "allow_http")) ? "yes" : "no");
}

const char *ctl_endpoint_state(const json_t *ep)
{
    const char *health = ctl_str(json_object_get(ep, "health"), "state");

    if (json_is_false(json_object_get(ep, "enabled")))
        return "disabled";
    return health ? health : "-";
}

void ctl_endpoint_print(const json_t *ep, bool with_secret)
{
    ctl_endpoint_print_text(ep, "name", "name:", "");
    ctl_endpoint_print_text(ep, "url", "url:", "");
    ctl_endpoint_print_health(ep);
    ctl_endpoint_print_list(ep, "types", "types:", "(none)");
    ctl_endpoint_print_list(ep, "filters", "filters:", "(none)");
    ctl_endpoint_print_program(ep, "where", "where:");
    ctl_endpoint_print_program(ep, "transform", "transform:");
    ctl_endpoint_print_signing(ep, with_secret);
    ctl_endpoint_print_headers(ep);
    ctl_endpoint_print_sending(ep);
    ctl_endpoint_print_text(ep, "source", "source:", "");
    ctl_endpoint_print_time(ep, "created", "created:");
    ctl_endpoint_print_time(ep, "updated", "updated:");
}

/* The member key of obj, an ms integer, as RFC 3339 (null for 0). */
static void ctl_endpoint_json_time(json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    char t[CTL_TIME_LEN];

    if (!json_is_integer(v))
        return;
    json_object_set_new(obj, key, json_integer_value(v) == 0 ? json_null()
                                                             : json_string(ctl_fmt_time(t, v)));
}

void ctl_endpoint_json_times(json_t *ep)
{
    static const char *const own[] = { "created", "updated", "old_secret_until" },
                             *health[] = { "failing_since", "last_success", "last_failure" };

    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        ctl_endpoint_json_time(ep, own[i]);
    for (size_t i = 0; i < sizeof(health) / sizeof(health[0]); i++)
        ctl_endpoint_json_time(json_object_get(ep, "health"), health[i]);
}

void ctl_endpoint_print_secret(const char *title, const char *secret)
{
    if (secret == NULL) {
        fprintf(stderr, "mailhookctl: mailhookd sent no secret; see "
                        "\"mailhookctl endpoint show NAME --reveal-secret\"\n");
        return;
    }
    printf("\n%s:\n\n    %s\n\n", title, secret);
}
