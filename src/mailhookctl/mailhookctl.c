/* SPDX-License-Identifier: MIT */
/*
 * mailhookctl.c - the administrator's command line (see mailhookctl(1)).
 *
 *   mailhookctl [-c FILE] [-s SOCKET] [--json] status
 *   mailhookctl ... emit [--at TIME] TYPE [JSON-DATA]
 *   mailhookctl ... events list [--type T,...] [--since T] [--until T] [--limit N]
 *   mailhookctl ... events show ID
 *   mailhookctl ... endpoint add NAME URL [OPTIONS]
 *   mailhookctl ... endpoint update NAME OPTIONS
 *   mailhookctl ... endpoint list
 *   mailhookctl ... endpoint show NAME [--reveal-secret]
 *   mailhookctl ... endpoint enable|disable|remove NAME
 *   mailhookctl ... endpoint rotate-secret NAME [--secret S] [--overlap DURATION]
 *   mailhookctl ... endpoint test NAME [--type T]
 *   mailhookctl ... endpoint preview NAME [--type T | EVENT-ID]
 *   mailhookctl ... deliveries list [--endpoint E] [--failed] [--since T] [--limit N]
 *   mailhookctl ... deliveries show|retry ID
 *   mailhookctl ... replay --since T [--until T] [--type T,...] [--endpoint E]
 *   mailhookctl ... parse [--include-bounces] [--no-sent] [--content-filter HOP]...
 *                         [--filtered-event E] [--discard-event E] FILE...   (offline)
 *   mailhookctl ... backfill [--source NAME] [--since T] [--until T] [--endpoint E] FILE...
 *
 * This file only dispatches: each command group is a ctl_*.c module, and
 * what they share (the admin call, option values) is ctl_common.c. The
 * table below names each command with its synopsis (what COMMAND --help
 * prints) and whether it reads the whole configuration (ctl_conf.h: emit
 * and backfill do; the others read only the admin socket's path, and a
 * configuration error is a warning). --json, --help and --version are
 * taken after the command too.
 * Queries go to mailhookd's admin socket; emit is a producer like any other
 * and goes through the ingest library (spooling when the daemon is down).
 * Human-readable output by default; --json prints JSON (NDJSON for lists).
 * Exit codes: 0 ok, 1 not found (endpoint preview: nothing would be sent), 64 usage, 65 bad data (the daemon refused
 * it: bad_request, exists, conflict), 69 daemon unavailable or failing,
 * 75 endpoint test not delivered or daemon busy, 78 configuration error;
 * status exits with its health instead (ctl_status.h: 0 to 3).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl_backfill.h"
#include "ctl_backup.h"
#include "ctl_common.h"
#include "ctl_conf.h"
#include "ctl_deliveries.h"
#include "ctl_endpoint.h"
#include "ctl_events.h"
#include "ctl_parse.h"
#include "ctl_replay.h"
#include "ctl_report.h"
#include "ctl_status.h"

#define CTL_SYNOPSIS "[-c FILE] [-s ADMIN-SOCKET] [--json] COMMAND [ARGS]"

/* --help: every command and its options, on stdout. */
static void help(void) MH_NORETURN;
static void help(void)
{
    fputs("usage: mailhookctl [-c FILE] [-s ADMIN-SOCKET] [--json] COMMAND\n"
            "commands:\n"
            "  status                          daemon, store, queue and delivery figures\n"
            "  emit [--at TIME] TYPE [JSON]    inject an event (JSON object data)\n"
            "  events list [--type T[,T...]]... [--since TIME] [--until TIME] [--limit N]\n"
            "  events show ID\n"
            "  endpoint add NAME URL [OPTIONS] add an endpoint; prints its secret once\n"
            "  endpoint update NAME OPTIONS    change the settings given\n"
            "  endpoint list | show NAME [--reveal-secret]\n"
            "  endpoint enable | disable | remove NAME\n"
            "  endpoint rotate-secret NAME [--secret S] [--overlap DURATION]\n"
            "  endpoint test NAME [--type T]   send a test event now (exit 75: not delivered)\n"
            "  endpoint preview NAME [--type T | EVENT-ID]   the request it would get, not sent\n"
            "  deliveries list [--endpoint E] [--failed] [--since TIME] [--limit N]\n"
            "  deliveries show ID | retry ID\n"
            "  replay --since TIME [--until TIME] [--type T[,T...]]... [--endpoint E]\n"
            "         [--tenant T]             queue stored events again for their endpoints\n"
            "  parse [--include-bounces] [--no-sent] [--content-filter HOST:PORT]...\n"
            "        [--filtered-event E] [--discard-event E] FILE...\n"
            "                                  maillog to events, offline\n"
            "  backfill [--source NAME] [--since TIME] [--until TIME] [--endpoint E] FILE...\n"
            "                                  store the events of rotated logs (plain or .gz)\n"
            "  report [--since TIME] [--until TIME] [--top N]\n"
            "                                  the summary of a period (default: the last day)\n"
            "  backup DIR                      a hot backup of the store into DIR (absolute,\n"
            "                                  new or empty, on the daemon's machine)\n"
            "endpoint OPTIONS:\n"
            "  --url URL  --format FORMAT  --transform JQ  --transform-file FILE  --where JQ\n"
            "  --type T (repeatable, or T1,T2)  --filter KEY=VALUE (repeatable)\n"
            "  --scheme standard|hmac-sha256-hex|sha256-secret-body|sendgrid|mailgun\n"
            "  --signature-header H  --signature-prefix P  --secret S  --basic-auth USER:PASS\n"
            "  --header 'Name: value' (repeatable)  --user-agent UA  --event-header H\n"
            "  --delivery-header H  --delivery-id ulid|uuid\n"
            "  --batch N  --batch-wait DURATION  --timeout DURATION  --connect-timeout DURATION\n"
            "  --retry DURATION,...  --concurrency N  --failing-after N\n"
            "  --disable-after-failures N  --disable-after HOURS  --allow-http | --no-allow-http\n"
            "  --disabled (add only)\n"
            "TIME: RFC 3339, YYYY-MM-DD, epoch seconds, or an age: 30m, 2h, 7d\n"
            "DURATION: 500ms, 5s, 5m, 2h, 1d; a bare number is seconds\n"
            "FORMAT: standard, mailabl, mailtura, penguinmails, paubox, sendgrid, mailgun,\n"
            "        postmark, listmonk\n", stdout);
    exit(EX_OK);
}

/* A usage error: the short form, on stderr. */
static void usage(void) MH_NORETURN;
static void usage(void)
{
    fprintf(stderr, "usage: mailhookctl %s\n"
                    "       (mailhookctl --help lists the commands; COMMAND --help its options)\n",
            CTL_SYNOPSIS);
    exit(EX_USAGE);
}

static int cmd_parse(struct ctl *ctl, int argc, char **argv)
{
    return ctl_parse(argc, argv, ctl->json);
}

/* The synopses are the commands' own (ctl_*.c); a group's leads to its
 * subcommands, whose --help ctl_dispatch() answers. */
static const struct ctl_command ctl_commands[] = {
    { "status", ctl_status, CTL_STATUS_SYNOPSIS, 0 },
    { "emit", ctl_emit, CTL_EMIT_SYNOPSIS, CTL_NEEDS_CONF },
    { "events", ctl_events, CTL_EVENTS_SYNOPSIS, CTL_GROUP },
    { "endpoint", ctl_endpoint, CTL_ENDPOINT_SYNOPSIS, CTL_GROUP },
    { "deliveries", ctl_deliveries, CTL_DELIVERIES_SYNOPSIS, CTL_GROUP },
    { "replay", ctl_replay, CTL_REPLAY_SYNOPSIS, 0 },
    { "parse", cmd_parse, CTL_PARSE_SYNOPSIS, 0 },
    { "backfill", ctl_backfill, CTL_BACKFILL_SYNOPSIS, CTL_NEEDS_CONF },
    { "report", ctl_report, CTL_REPORT_SYNOPSIS, 0 },
    { "backup", ctl_backup, CTL_BACKUP_SYNOPSIS, 0 },
    { NULL, NULL, NULL, 0 },
};

/* Run c with argv[0] its name: the configuration it needs, then the command. */
static int run(const struct ctl_command *c, struct ctl *ctl, const char *path, bool explicit,
               const char *sock, int argc, char **argv)
{
    char *found = NULL;
    mh_err_t err;
    int rc;

    ctl_global_flags(ctl, &argc, argv);
    if (!(c->flags & CTL_GROUP))
        ctl_help_scan(argc, argv, c->synopsis);
    if ((c->flags & CTL_NEEDS_CONF) && (ctl->conf = ctl_conf_load(path, explicit, &err)) == NULL)
        ctl_fail(ctl, EX_CONFIG, "config", "%s", err.text);
    if (sock)
        ctl->admin_socket = sock;
    else if (ctl->conf)
        ctl->admin_socket = ctl->conf->admin_socket;
    else if (strcmp(c->name, "parse") != 0) /* parse is offline: no socket */
        ctl->admin_socket = found = ctl_conf_admin_socket(path, explicit);
    rc = c->fn(ctl, argc, argv);
    conf_unref(ctl->conf);
    free(found);
    return rc;
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
    int ch;

    msg_open(argv[0], MSG_STDERR);
    /* "+": stop at the command, whose own options follow it. */
    while ((ch = getopt_long(argc, argv, "+c:s:jhV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg, explicit = true; break;
        case 's': sock = optarg; break;
        case 'j': ctl.json = true; break;
        case 'h': help();
        case 'V': printf("mailhookctl %s\n", PACKAGE_VERSION); return EX_OK;
        default: usage();
        }
    }
    if (optind >= argc)
        usage();
    for (const struct ctl_command *c = ctl_commands; c->name; c++) {
        if (strcmp(c->name, argv[optind]) == 0)
            return run(c, &ctl, path, explicit, sock, argc - optind, argv + optind);
    }
    fprintf(stderr, "mailhookctl: unknown command \"%s\"\n", argv[optind]);
    usage();
}
