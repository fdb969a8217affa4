/* SPDX-License-Identifier: MIT */
/*
 * ctl_status.c - `mailhookctl status` (see ctl_status.h): one request,
 * the answer as JSON or as a few aligned lines, and its health as the
 * exit code.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl_status.h"

#define STATUS_SYNOPSIS CTL_STATUS_SYNOPSIS

/* A figure of the answer: its key and how it reads after the number. */
struct status_figure {
    const char *key, *label;
};

static const struct status_figure delivery_figures[] = {
    { "in_flight", "in flight" },
    { "delivered", "delivered" },
    { "failed_attempts", "failed attempts" },
    { "dropped", "dropped" },
};

static const struct status_figure endpoint_figures[] = {
    { "queued", "queued" },
    { "in_flight", "in flight" },
    { "consecutive_failures", "consecutive failures" },
};

static json_int_t jint(const json_t *obj, const char *path1, const char *path2)
{
    const json_t *v = json_object_get(obj, path1);

    return json_integer_value(path2 ? json_object_get(v, path2) : v);
}

static void human_bytes(char *out, size_t n, double b)
{
    const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;

    while (b >= 1024 && u < 4)
        b /= 1024, u++;
    snprintf(out, n, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

/* "N label" for each figure obj has, comma-separated, after sep. */
static void print_figures(const json_t *obj, const struct status_figure *f, size_t n,
                          const char *sep)
{
    for (size_t i = 0; i < n; i++) {
        if (!json_is_integer(json_object_get(obj, f[i].key)))
            continue;
        printf("%s%lld %s", sep, (long long)ctl_int(obj, f[i].key), f[i].label);
        sep = ", ";
    }
}

/* The delivery section, when the daemon reports one. */
static void print_delivery_status(const json_t *delivery)
{
    const char *name, *state;
    json_t *ep;

    if (!json_is_object(delivery))
        return;
    printf("delivery: ");
    print_figures(delivery, delivery_figures,
                  sizeof(delivery_figures) / sizeof(delivery_figures[0]), " ");
    if (jint(delivery, "dropped", NULL) > 0)
        printf(" (%lld after the last retry, %lld gone from the store, %lld with their "
               "endpoint)", jint(delivery, "dropped_retries", NULL),
               jint(delivery, "dropped_missing", NULL), jint(delivery, "dropped_removed", NULL));
    putchar('\n');
    json_object_foreach(json_object_get(delivery, "endpoints"), name, ep) {
        state = ctl_str(ep, "state");
        printf("endpoint %s: %s", name, state ? state : "-");
        print_figures(ep, endpoint_figures,
                      sizeof(endpoint_figures) / sizeof(endpoint_figures[0]), ", ");
        putchar('\n');
    }
}

/* "N" (ms, bytes), or "-" when the daemon does not know (-1) or did not say. */
static void print_count_or_dash(char *out, size_t n, const json_t *m, const char *key)
{
    const json_t *v = json_object_get(m, key);

    if (json_is_integer(v) && json_integer_value(v) >= 0)
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else
        snprintf(out, n, "-");
}

/* An age in ms the way a person reads it ("850 ms", "42 s", "3 h"), or "-". */
static void print_age(char *out, size_t n, const json_t *m, const char *key)
{
    const json_t *v = json_object_get(m, key);
    long long ms = json_is_integer(v) ? (long long)json_integer_value(v) : -1;

    if (ms < 0)
        snprintf(out, n, "-");
    else if (ms < 10000)
        snprintf(out, n, "%lld ms", ms);
    else if (ms < 600000)
        snprintf(out, n, "%lld s", ms / 1000);
    else if (ms < 36000000)
        snprintf(out, n, "%lld min", ms / 60000);
    else if (ms < 864000000)
        snprintf(out, n, "%lld h", ms / 3600000);
    else
        snprintf(out, n, "%lld d", ms / 86400000);
}

static void print_maillog_status(json_t *sources)
{
    char p50[24], p99[24], behind[24], age[32];
    const char *name, *err;
    json_t *m;

    json_object_foreach(sources, name, m) {
        print_count_or_dash(p50, sizeof(p50), m, "delay_ms_p50");
        print_count_or_dash(p99, sizeof(p99), m, "delay_ms_p99");
        print_count_or_dash(behind, sizeof(behind), m, "behind_bytes");
        print_age(age, sizeof(age), m, "newest_line_age_ms");
        err = json_string_value(json_object_get(m, "error"));
        printf("maillog %s: %s %s%s%s%s, %lld lines, %lld events, %lld skipped (%lld garbage, "
               "%lld other programs, %lld mailhook's own, %lld too long), %lld queue ids "
               "tracked, %lld errors, delay p50/p99 %s/%s ms, %s bytes behind, newest line "
               "%s old\n",
               name, json_string_value(json_object_get(m, "state")),
               json_string_value(json_object_get(m, "path"))
                   ? json_string_value(json_object_get(m, "path")) : "(journal)",
               err ? " (" : "", err ? err : "", err ? ")" : "",
               jint(m, "lines", NULL), jint(m, "events", NULL),
               jint(m, "skipped_garbage", NULL) + jint(m, "skipped_other", NULL) +
                   jint(m, "skipped_own", NULL) + jint(m, "skipped_long", NULL),
               jint(m, "skipped_garbage", NULL), jint(m, "skipped_other", NULL),
               jint(m, "skipped_own", NULL), jint(m, "skipped_long", NULL),
               jint(m, "tracked", NULL), jint(m, "errors", NULL), p50, p99, behind, age);
    }
}

/* The rest of the store line: space left, and whether new events are refused. */
static void print_space(const json_t *sp)
{
    const char *since = ctl_str(sp, "since"), *cause = ctl_str(sp, "cause");
    char avail[32];

    if (json_is_integer(json_object_get(sp, "free_bytes")) && ctl_int(sp, "free_bytes") >= 0) {
        human_bytes(avail, sizeof(avail), (double)ctl_int(sp, "free_bytes"));
        printf(", %s free", avail);
    }
    putchar('\n');
    if (json_is_true(json_object_get(sp, "full")))
        printf("           OUT OF SPACE since %s: new events are answered with a temporary "
               "failure (%s)\n", since ? since : "-", cause ? cause : "-");
}

static void print_status(const json_t *r)
{
    json_int_t up = jint(r, "uptime_s", NULL);
    char size[32];

    human_bytes(size, sizeof(size), (double)jint(r, "store", "bytes_on_disk"));
    printf("mailhookd %s, pid %lld, up %lldd %02lld:%02lld:%02lld (since %s)\n",
           json_string_value(json_object_get(r, "version")), jint(r, "pid", NULL),
           up / 86400, up / 3600 % 24, up / 60 % 60, up % 60,
           json_string_value(json_object_get(r, "started")));
    printf("store:     %s, %s on disk", json_string_value(json_object_get(r, "state_dir")),
           size);
    print_space(json_object_get(json_object_get(r, "store"), "space"));
    printf("events:    %lld stored (last seq %lld)\n", jint(r, "store", "events"),
           jint(r, "store", "last_seq"));
    printf("messages:  %lld   endpoints: %lld   queued deliveries: %lld\n",
           jint(r, "store", "messages"), jint(r, "store", "endpoints"),
           jint(r, "store", "queued"));
    printf("ingest:    %lld stored, %lld duplicates, %lld superseded, %lld rejected, "
           "%lld temp-failed, %lld commits, %lld clients\n",
           jint(r, "counters", "ingested"), jint(r, "counters", "duplicates"),
           jint(r, "counters", "superseded"),
           jint(r, "counters", "rejected"), jint(r, "counters", "tempfailed"),
           jint(r, "counters", "commits"), jint(r, "clients", NULL));
    printf("milter:    %lld log events held for the milter's record, %lld released "
           "unenriched\n", jint(r, "counters", "held"), jint(r, "counters", "unenriched"));
    printf("spool:     %lld files drained (%lld events), %lld quarantined\n",
           jint(r, "counters", "spool_files"), jint(r, "counters", "spool_events"),
           jint(r, "counters", "quarantined"));
    printf("retention: %lld events, %lld message records and %lld delivery log records "
           "expired (%lld passes)\n",
           jint(r, "counters", "expired"), jint(r, "counters", "records_expired"),
           jint(r, "counters", "deliveries_expired"), jint(r, "counters", "retention_passes"));
    print_delivery_status(json_object_get(r, "delivery"));
    print_maillog_status(json_object_get(r, "maillog"));
}

static const char *const health_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

/* One thing that needs attention, at level code. */
static void health_note(json_t *health, int code, const char *fmt, ...) MH_PRINTF(3, 4);
static void health_note(json_t *health, int code, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (code > ctl_int(health, "code")) {
        json_object_set_new(health, "code", json_integer(code));
        json_object_set_new(health, "status", json_string(health_names[code]));
    }
    json_array_append_new(json_object_get(health, "reasons"), json_stringn_nocheck(text,
                                                                                  strlen(text)));
}

/* The endpoints and maillog readers of the answer that need attention. */
static void health_parts(const json_t *r, json_t *health)
{
    const char *name, *state, *error;
    json_t *v;

    json_object_foreach(json_object_get(json_object_get(r, "delivery"), "endpoints"), name, v) {
        state = ctl_str(v, "state") ? ctl_str(v, "state") : "?";
        if (strcmp(state, "failing") == 0)
            health_note(health, STATUS_WARNING, "endpoint %s failing (%lld consecutive failures)",
                        name, (long long)ctl_int(v, "consecutive_failures"));
        else if (strcmp(state, "healthy") != 0)
            health_note(health, STATUS_WARNING, "endpoint %s %s", name, state);
    }
    json_object_foreach(json_object_get(r, "maillog"), name, v) {
        error = ctl_str(v, "error");
        state = ctl_str(v, "state") ? ctl_str(v, "state") : "?";
        if (error)
            health_note(health, STATUS_CRITICAL, "maillog %s: %s", name, error);
        else if (strcmp(state, "stopped") == 0)
            health_note(health, STATUS_CRITICAL, "maillog %s stopped", name);
    }
}

/* What needs attention in the answer (mailhookctl(1), EXIT STATUS), as
 * {"status","code","reasons":[...]}. */
static json_t *status_health(const json_t *r)
{
    const json_t *space = json_object_get(json_object_get(r, "store"), "space");
    json_t *health = json_pack("{s:s,s:i,s:[]}", "status", "OK", "code", STATUS_OK, "reasons");
    char shown[256];

    if (json_is_true(json_object_get(space, "full")))
        health_note(health, STATUS_CRITICAL, "store out of space: new events are refused");
    else if (ctl_str(space, "since"))
        health_note(health, STATUS_WARNING, "store short of space since %s",
                    ctl_str(space, "since"));
    if (ctl_int(json_object_get(r, "counters"), "quarantined") > 0)
        health_note(health, STATUS_WARNING, "spool: %lld files quarantined",
                    (long long)ctl_int(json_object_get(r, "counters"), "quarantined"));
    health_parts(r, health);
    /* the reasons quote names and errors from the daemon: printable */
    for (size_t i = 0; i < json_array_size(json_object_get(health, "reasons")); i++) {
        json_t *s = json_array_get(json_object_get(health, "reasons"), i);
        printable(shown, sizeof(shown), json_string_value(s), json_string_length(s));
        json_string_set(s, shown);
    }
    return health;
}

static void print_health(const json_t *health)
{
    const json_t *reasons = json_object_get(health, "reasons"), *v;
    size_t i;

    printf("health:    %s", ctl_str(health, "status"));
    json_array_foreach(reasons, i, v)
        printf("%s%s", i ? "; " : ": ", json_string_value(v));
    putchar('\n');
}

int ctl_status(struct ctl *ctl, int argc, char **argv)
{
    json_t *r, *health;
    int rc;

    if (ctl_operands(argc, argv, STATUS_SYNOPSIS) != argc)
        ctl_usage(STATUS_SYNOPSIS);
    ctl->fail_rc = STATUS_UNKNOWN; /* a health check: no answer is UNKNOWN */
    r = ctl_call(ctl, json_pack("{s:s}", "cmd", "status"));
    health = status_health(r);
    rc = (int)ctl_int(health, "code");
    if (ctl->json) {
        json_object_set_new(r, "health", health);
        ctl_print_json(r);
    } else {
        print_status(r);
        print_health(health);
        json_decref(health);
    }
    json_decref(r);
    return rc;
}
