/*
 * mailhookctl.c - the administrator's command line (see mailhookctl(1)).
 *
 *   mailhookctl [-c FILE] [-s SOCKET] [--json] status
 *   mailhookctl ... emit [--at TIME] TYPE [JSON-DATA]
 *   mailhookctl ... events list [--type T] [--since T] [--until T] [--limit N]
 *   mailhookctl ... events show ID
 *   mailhookctl ... parse [--include-bounces] [--no-sent] FILE...   (offline)
 *
 * Queries go to mailhookd's admin socket; emit is a producer like any other
 * and goes through the ingest library (spooling when the daemon is down).
 * Human-readable output by default; --json prints JSON (NDJSON for lists).
 * Exit codes: 0 ok, 1 not found, 64 usage, 65 bad data, 69 daemon
 * unavailable, 78 configuration error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admin_client.h"
#include "cjson.h"
#include "conf.h"
#include "ctl_parse.h"
#include "event.h"
#include "ingest.h"
#include "timeutil.h"
#include "xalloc.h"

#define CTL_TIMEOUT_MS 30000
#define EX_NOTFOUND 1

struct ctl {
    mh_conf_t *conf;
    const char *admin_socket;
    bool json;
};

static void usage(void) MH_NORETURN;
static void usage(void)
{
    fprintf(stderr,
            "usage: mailhookctl [-c FILE] [-s ADMIN-SOCKET] [--json] COMMAND\n"
            "commands:\n"
            "  status                          daemon, store and queue figures\n"
            "  emit [--at TIME] TYPE [JSON]    inject an event (JSON object data)\n"
            "  events list [--type T] [--since TIME] [--until TIME] [--limit N]\n"
            "  events show ID\n"
            "  parse [--include-bounces] [--no-sent] FILE...   maillog to events, offline\n"
            "TIME: RFC 3339, YYYY-MM-DD, epoch seconds, or an age: 30m, 2h, 7d\n");
    exit(EX_USAGE);
}

/* Send req; print an error and exit unless the answer says ok. */
static json_t *ctl_call(struct ctl *ctl, json_t *req)
{
    json_t *reply = NULL;
    const char *code = "", *text = "";
    mh_err_t err;

    if (admin_call(ctl->admin_socket, req, &reply, CTL_TIMEOUT_MS, &err) < 0) {
        json_decref(req);
        msg_fatal(EX_UNAVAILABLE, "%s", err.text);
    }
    json_decref(req);
    if (json_is_true(json_object_get(reply, "ok")))
        return reply;
    json_unpack(reply, "{s?s,s?s}", "code", &code, "error", &text);
    fprintf(stderr, "mailhookctl: %s\n", text);
    exit(strcmp(code, "not_found") == 0 ? EX_NOTFOUND
         : strcmp(code, "bad_request") == 0 ? EX_USAGE : EX_SOFTWARE);
}

static void print_json_line(const json_t *v)
{
    size_t len;
    char *s = cjson_dump(v, &len);

    fwrite(s, 1, len, stdout);
    fputc('\n', stdout);
    free(s);
}

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

static void print_maillog_status(json_t *sources)
{
    const char *name;
    json_t *m;

    json_object_foreach(sources, name, m) {
        printf("maillog %s: %s %s, %lld lines, %lld events, %lld skipped (%lld garbage, "
               "%lld too long), %lld queue ids tracked, lag p50/p99 %lld/%lld ms\n",
               name, json_string_value(json_object_get(m, "state")),
               json_string_value(json_object_get(m, "path"))
                   ? json_string_value(json_object_get(m, "path")) : "(journal)",
               jint(m, "lines", NULL), jint(m, "events", NULL),
               jint(m, "skipped_garbage", NULL) + jint(m, "skipped_long", NULL),
               jint(m, "skipped_garbage", NULL), jint(m, "skipped_long", NULL),
               jint(m, "tracked", NULL), jint(m, "lag_ms_p50", NULL), jint(m, "lag_ms_p99", NULL));
    }
}

static int cmd_status(struct ctl *ctl, int argc, char **argv)
{
    json_t *r = ctl_call(ctl, json_pack("{s:s}", "cmd", "status"));
    json_int_t up = jint(r, "uptime_s", NULL);
    char size[32];

    if (ctl->json) {
        print_json_line(r);
    } else {
        human_bytes(size, sizeof(size), (double)jint(r, "store", "bytes_on_disk"));
        printf("mailhookd %s, pid %lld, up %lldd %02lld:%02lld:%02lld (since %s)\n",
               json_string_value(json_object_get(r, "version")), jint(r, "pid", NULL),
               up / 86400, up / 3600 % 24, up / 60 % 60, up % 60,
               json_string_value(json_object_get(r, "started")));
        printf("store:     %s, %s on disk\n", json_string_value(json_object_get(r, "state_dir")),
               size);
        printf("events:    %lld stored (last seq %lld)\n", jint(r, "store", "events"),
               jint(r, "store", "last_seq"));
        printf("messages:  %lld   endpoints: %lld   queued deliveries: %lld\n",
               jint(r, "store", "messages"), jint(r, "store", "endpoints"),
               jint(r, "store", "queued"));
        printf("ingest:    %lld stored, %lld duplicates, %lld rejected, %lld temp-failed, "
               "%lld commits, %lld clients\n",
               jint(r, "counters", "ingested"), jint(r, "counters", "duplicates"),
               jint(r, "counters", "rejected"), jint(r, "counters", "tempfailed"),
               jint(r, "counters", "commits"), jint(r, "clients", NULL));
        printf("spool:     %lld files drained (%lld events), %lld quarantined\n",
               jint(r, "counters", "spool_files"), jint(r, "counters", "spool_events"),
               jint(r, "counters", "quarantined"));
        printf("retention: %lld events expired\n", jint(r, "counters", "expired"));
        print_maillog_status(json_object_get(r, "maillog"));
    }
    json_decref(r);
    return EX_OK;
}

static int64_t ctl_time(const char *s)
{
    int64_t ms;
    mh_err_t err;

    if (time_parse_user(s, time_now_ms(), &ms, &err) < 0) {
        fprintf(stderr, "mailhookctl: %s\n", err.text);
        exit(EX_USAGE);
    }
    return ms;
}

static int cmd_emit(struct ctl *ctl, int argc, char **argv)
{
    int64_t at = time_now_ms();
    json_t *data = NULL;
    json_error_t jerr;
    event_t *ev;
    ingest_t *h;
    mh_err_t err;
    int i = 1, rc;

    if (i + 1 < argc && strcmp(argv[i], "--at") == 0)
        at = ctl_time(argv[i + 1]), i += 2;
    if (argc - i < 1 || argc - i > 2)
        usage();
    if (argc - i == 2 && (data = json_loads(argv[i + 1], 0, &jerr)) == NULL) {
        fprintf(stderr, "mailhookctl: JSON-DATA: %s (at character %d)\n", jerr.text,
                jerr.position);
        return EX_DATAERR;
    }
    if ((ev = event_new(argv[i], at, data, &err)) == NULL) {
        fprintf(stderr, "mailhookctl: %s\n", err.text);
        return EX_DATAERR;
    }
    h = ingest_open(ctl->conf->ingest_socket, ctl->conf->spool_dir, NULL);
    rc = ingest_submit(h, ev, &err);
    ingest_close(h);
    if (rc < 0) {
        fprintf(stderr, "mailhookctl: %s\n", err.text);
        event_free(ev);
        return EX_UNAVAILABLE;
    }
    if (ctl->json) {
        size_t len;
        char *s = event_to_json(ev, &len);
        printf("%s\n", s);
        free(s);
    } else if (rc == INGEST_COMMITTED) {
        printf("%s committed\n", ev->id);
    } else {
        printf("%s spooled: mailhookd is not reachable; it will store the event when it "
               "drains %s\n", ev->id, ctl->conf->spool_dir);
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

static int cmd_events_list(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "type", required_argument, NULL, 't' }, { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' }, { "limit", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    json_t *req = json_pack("{s:s}", "cmd", "events.list"), *r, *ev;
    char *end;
    size_t i;
    long long limit;
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 't': json_object_set_new(req, "type", json_string(optarg)); break;
        case 's': json_object_set_new(req, "since", json_integer(ctl_time(optarg))); break;
        case 'u': json_object_set_new(req, "until", json_integer(ctl_time(optarg))); break;
        case 'l':
            errno = 0;
            limit = strtoll(optarg, &end, 10);
            if (errno || *end || limit < 1)
                usage();
            json_object_set_new(req, "limit", json_integer(limit));
            break;
        default: usage();
        }
    }
    if (optind != argc)
        usage();
    r = ctl_call(ctl, req);
    if (!ctl->json)
        printf("%-30s  %-24s  %-18s  %s\n", "ID", "TIMESTAMP", "TYPE", "DATA");
    json_array_foreach(json_object_get(r, "events"), i, ev)
        ctl->json ? print_json_line(ev) : print_event_row(ev);
    if (json_is_true(json_object_get(r, "truncated")) && !ctl->json)
        fprintf(stderr, "(more events match: raise --limit or narrow --since/--until)\n");
    json_decref(r);
    return EX_OK;
}

static int cmd_events_show(struct ctl *ctl, int argc, char **argv)
{
    json_t *r;
    char *s;

    if (argc != 2)
        usage();
    r = ctl_call(ctl, json_pack("{s:s,s:s}", "cmd", "events.show", "id", argv[1]));
    if (ctl->json) {
        print_json_line(json_object_get(r, "event"));
    } else {
        s = json_dumps(json_object_get(r, "event"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
    }
    json_decref(r);
    return EX_OK;
}

static int cmd_events(struct ctl *ctl, int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "list") == 0)
        return cmd_events_list(ctl, argc - 1, argv + 1);
    if (strcmp(argv[1], "show") == 0)
        return cmd_events_show(ctl, argc - 1, argv + 1);
    usage();
}

static int cmd_parse(struct ctl *ctl, int argc, char **argv)
{
    return ctl_parse(argc, argv, ctl->json);
}

static const struct ctl_command {
    const char *name;
    int (*fn)(struct ctl *ctl, int argc, char **argv);
} ctl_commands[] = {
    { "status", cmd_status },
    { "emit", cmd_emit },
    { "events", cmd_events },
    { "parse", cmd_parse },
    { NULL, NULL },
};

static mh_conf_t *ctl_load_conf(const char *path, bool explicit)
{
    mh_conf_t *c;
    mh_err_t err;

    if (!explicit && access(path, F_OK) < 0)
        return conf_defaults(); /* no config installed: the defaults */
    if ((c = conf_load(path, &err)) == NULL)
        msg_fatal(EX_CONFIG, "%s", err.text);
    return c;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' }, { "config", required_argument, NULL, 'c' },
        { "socket", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
    };
    struct ctl ctl = { 0 };
    const char *path = CONF_DEFAULT_PATH, *sock = NULL;
    bool explicit = false;
    int ch, rc;

    msg_open(argv[0], MSG_STDERR);
    /* "+": stop at the command, whose own options follow it. */
    while ((ch = getopt_long(argc, argv, "+c:s:jhV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg, explicit = true; break;
        case 's': sock = optarg; break;
        case 'j': ctl.json = true; break;
        case 'V': printf("mailhookctl %s\n", PACKAGE_VERSION); return EX_OK;
        default: usage();
        }
    }
    if (optind >= argc)
        usage();
    ctl.conf = ctl_load_conf(path, explicit);
    ctl.admin_socket = sock ? sock : ctl.conf->admin_socket;
    for (const struct ctl_command *c = ctl_commands; c->name; c++) {
        if (strcmp(c->name, argv[optind]) == 0) {
            rc = c->fn(&ctl, argc - optind, argv + optind);
            conf_unref(ctl.conf);
            return rc;
        }
    }
    fprintf(stderr, "mailhookctl: unknown command \"%s\"\n", argv[optind]);
    usage();
}
