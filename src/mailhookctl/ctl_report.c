/* SPDX-License-Identifier: MIT */
/*
 * ctl_report.c - `mailhookctl report` (see ctl_report.h): ask for the
 * chunks, add them up, print.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_report.h"
#include "timeutil.h"

#define DAY_MS (86400 * 1000LL)

static const char *const report_kinds[] = { "sent", "delivered", "deferred", "bounced",
                                            "failed" };
#define NKINDS (sizeof(report_kinds) / sizeof(report_kinds[0]))

/* dst += src: integers add up, objects merge member by member. */
static void report_sum(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v, *d;

    json_object_foreach((json_t *)src, k, v) {
        d = json_object_get(dst, k);
        if (json_is_integer(v))
            json_object_set_new(dst, k, json_integer(json_integer_value(d) + json_integer_value(v)));
        else if (json_is_object(v) && d == NULL)
            json_object_set(dst, k, v);
        else if (json_is_object(v) && json_is_object(d))
            report_sum(d, v);
    }
}

/* Every chunk of the daemon's answer, added up (cursor and ok dropped). */
static json_t *report_fetch(struct ctl *ctl, int64_t since, int64_t until)
{
    json_t *total = json_object(), *cursor = json_null(), *req, *r;

    do {
        req = json_pack("{s:s,s:I,s:I,s:O}", "cmd", "report", "since", (json_int_t)since,
                        "until", (json_int_t)until, "cursor", cursor);
        r = ctl_call(ctl, req);
        json_decref(cursor);
        cursor = json_incref(json_object_get(r, "cursor"));
        json_object_del(r, "cursor");
        json_object_del(r, "ok");
        report_sum(total, r);
        json_decref(r);
    } while (cursor && !json_is_null(cursor));
    json_decref(cursor);
    return total;
}

struct row {
    const char *name;
    json_int_t n;
};

static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;

    return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->name, y->name);
}

/* The names of map, largest first; value(v) is the count of a member. */
static struct row *report_rows(const json_t *map, json_int_t (*value)(const json_t *v),
                               size_t *n)
{
    struct row *rows = calloc(json_object_size(map) + 1, sizeof(*rows));
    const char *k;
    json_t *v;

    if (rows == NULL)
        msg_fatal(EX_OSERR, "out of memory");
    *n = 0;
    json_object_foreach((json_t *)map, k, v)
        rows[(*n)++] = (struct row){ k, value(v) };
    qsort(rows, *n, sizeof(*rows), row_cmp);
    return rows;
}

static json_int_t count_of(const json_t *v)
{
    return json_integer_value(v);
}

static json_int_t domain_total(const json_t *v)
{
    json_int_t t = 0;

    for (size_t i = 0; i < NKINDS; i++)
        t += json_integer_value(json_object_get(v, report_kinds[i]));
    return t;
}

static json_int_t endpoint_total(const json_t *v)
{
    return json_integer_value(json_object_get(v, "deliveries"));
}

static void print_counts(const char *title, const json_t *map, size_t top)
{
    size_t n;
    struct row *rows = report_rows(map, count_of, &n);
    char shown[128];

    printf("\n%s\n", title);
    if (n == 0)
        printf("  (none)\n");
    for (size_t i = 0; i < n && i < top; i++)
        printf("  %8lld  %s\n", (long long)rows[i].n,
               printable(shown, sizeof(shown), rows[i].name, strlen(rows[i].name)));
    if (n > top)
        printf("  (%zu more)\n", n - top);
    free(rows);
}

static void print_domains(const json_t *map, size_t top)
{
    size_t n;
    struct row *rows = report_rows(map, domain_total, &n);
    char shown[64];

    printf("\nBy recipient domain\n  %-32s", "DOMAIN");
    for (size_t k = 0; k < NKINDS; k++)
        printf(" %9s", report_kinds[k]);
    printf("\n");
    if (n == 0)
        printf("  (none)\n");
    for (size_t i = 0; i < n && i < top; i++) {
        const json_t *d = json_object_get(map, rows[i].name);

        printf("  %-32s", printable(shown, sizeof(shown), rows[i].name, strlen(rows[i].name)));
        for (size_t k = 0; k < NKINDS; k++)
            printf(" %9lld", (long long)json_integer_value(json_object_get(d, report_kinds[k])));
        printf("\n");
    }
    if (n > top)
        printf("  (%zu more)\n", n - top);
    free(rows);
}

static void print_endpoints(const json_t *map)
{
    size_t n;
    struct row *rows = report_rows(map, endpoint_total, &n);
    char shown[64];

    printf("\nWebhook deliveries by endpoint\n  %-32s %10s %9s %9s %9s\n", "ENDPOINT",
           "deliveries", "ok", "failed", "events");
    if (n == 0)
        printf("  (none)\n");
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_object_get(map, rows[i].name);

        printf("  %-32s %10lld %9lld %9lld %9lld\n",
               printable(shown, sizeof(shown), rows[i].name, strlen(rows[i].name)),
               (long long)ctl_int(e, "deliveries"), (long long)ctl_int(e, "ok"),
               (long long)ctl_int(e, "failed"), (long long)ctl_int(e, "events"));
    }
    free(rows);
}

static void report_print(const json_t *t, size_t top)
{
    const json_t *m = json_object_get(t, "messages");

    printf("mailhook report: %s to %s\n\nMessages\n", ctl_str(t, "since"), ctl_str(t, "until"));
    for (size_t k = 0; k < NKINDS; k++)
        printf("  %-10s %9lld\n", report_kinds[k],
               (long long)json_integer_value(json_object_get(m, report_kinds[k])));
    print_counts("Bounces by class", json_object_get(t, "bounce_classes"), top);
    print_domains(json_object_get(t, "domains"), top);
    print_counts("Top bounce reasons", json_object_get(t, "bounce_reasons"), top);
    print_endpoints(json_object_get(t, "endpoints"));
}

int ctl_report(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "since", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
        { "top", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 },
    };
    int64_t now = time_now_ms(), since = now - DAY_MS, until = 0;
    char a[RFC3339_MS_LEN + 1], b[RFC3339_MS_LEN + 1];
    size_t top = 10;
    json_t *total, *m;
    int ch;

    optind = 0;
    while ((ch = ctl_getopt(argc, argv, opts, CTL_REPORT_SYNOPSIS)) != -1) {
        switch (ch) {
        case 's': since = ctl_time("--since", optarg, CTL_REPORT_SYNOPSIS); break;
        case 'u': until = ctl_time("--until", optarg, CTL_REPORT_SYNOPSIS); break;
        default: top = (size_t)ctl_count("--top", optarg, 1, 100000, CTL_REPORT_SYNOPSIS);
        }
    }
    if (optind != argc)
        ctl_usage(CTL_REPORT_SYNOPSIS);
    if (until == 0)
        until = now; /* events dated later than now are not in "the last day" */
    total = report_fetch(ctl, since, until);
    m = json_object_get(total, "messages");
    if (m == NULL)
        json_object_set_new(total, "messages", m = json_object());
    for (size_t k = 0; k < NKINDS; k++) /* every kind shown, 0 included */
        if (json_object_get(m, report_kinds[k]) == NULL)
            json_object_set_new(m, report_kinds[k], json_integer(0));
    json_object_set_new(total, "since", json_string(time_format_rfc3339(a, since)));
    json_object_set_new(total, "until", json_string(time_format_rfc3339(b, until)));
    if (ctl->json) {
        json_object_set_new(total, "ok", json_true());
        ctl_print_json(total);
    } else {
        report_print(total, top);
    }
    json_decref(total);
    return EX_OK;
}
