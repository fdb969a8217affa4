/* SPDX-License-Identifier: MIT */
/*
 * mailhookctl.c - the administrator's command line (see mailhookctl(1)).
 *
 *   mailhookctl [-c FILE] [-s SOCKET] [--json] status
 *   mailhookctl ... emit [--at TIME] TYPE [JSON-DATA]
 *   mailhookctl ... events list [--type T] [--since T] [--until T] [--limit N]
 *   mailhookctl ... events show ID
 *   mailhookctl ... endpoint add NAME URL [OPTIONS]
 *   mailhookctl ... endpoint update NAME OPTIONS
 *   mailhookctl ... endpoint list
 *   mailhookctl ... endpoint show NAME [--reveal-secret]
 *   mailhookctl ... endpoint enable|disable|remove NAME
 *   mailhookctl ... endpoint rotate-secret NAME [--secret S] [--overlap DURATION]
 *   mailhookctl ... endpoint test NAME [--type T]
 *   mailhookctl ... deliveries list [--endpoint E] [--failed] [--since T] [--limit N]
 *   mailhookctl ... deliveries show|retry ID
 *   mailhookctl ... replay --since T [--until T] [--type T] [--endpoint E]
 *   mailhookctl ... parse [--include-bounces] [--no-sent] [--content-filter HOP]...
 *                         [--filtered-event E] [--discard-event E] FILE...   (offline)
 *   mailhookctl ... backfill [--source NAME] [--since T] [--until T] [--endpoint E] FILE...
 *
 * This file only dispatches: each command group is a ctl_*.c module, and
 * what they share (the admin call, option values) is ctl_common.c.
 * Queries go to mailhookd's admin socket; emit is a producer like any other
 * and goes through the ingest library (spooling when the daemon is down).
 * Human-readable output by default; --json prints JSON (NDJSON for lists).
 * Exit codes: 0 ok, 1 not found, 64 usage, 65 bad data (the daemon refused
 * it: bad_request, exists, conflict), 69 daemon unavailable or failing,
 * 75 endpoint test not delivered, 78 configuration error.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl_backfill.h"
#include "ctl_common.h"
#include "ctl_deliveries.h"
#include "ctl_endpoint.h"
#include "ctl_events.h"
#include "ctl_parse.h"
#include "ctl_replay.h"
#include "ctl_status.h"

static void usage(void) MH_NORETURN;
static void usage(void)
{
    fprintf(stderr,
            "usage: mailhookctl [-c FILE] [-s ADMIN-SOCKET] [--json] COMMAND\n"
            "commands:\n"
            "  status                          daemon, store, queue and delivery figures\n"
            "  emit [--at TIME] TYPE [JSON]    inject an event (JSON object data)\n"
            "  events list [--type T] [--since TIME] [--until TIME] [--limit N]\n"
            "  events show ID\n"
            "  endpoint add NAME URL [OPTIONS] add an endpoint; prints its secret once\n"
            "  endpoint update NAME OPTIONS    change the settings given\n"
            "  endpoint list | show NAME [--reveal-secret]\n"
            "  endpoint enable | disable | remove NAME\n"
            "  endpoint rotate-secret NAME [--secret S] [--overlap DURATION]\n"
            "  endpoint test NAME [--type T]   send a test event now (exit 75: not delivered)\n"
            "  deliveries list [--endpoint E] [--failed] [--since TIME] [--limit N]\n"
            "  deliveries show ID | retry ID\n"
            "  replay --since TIME [--until TIME] [--type T] [--endpoint E]\n"
            "  parse [--include-bounces] [--no-sent] [--content-filter HOST:PORT]...\n"
            "        [--filtered-event E] [--discard-event E] FILE...   maillog to events, offline\n"
            "  backfill [--source NAME] [--since TIME] [--until TIME] [--endpoint E] FILE...\n"
            "                                  store the events of rotated logs (plain or .gz)\n"
            "endpoint OPTIONS:\n"
            "  --url URL  --type T (repeatable, or T1,T2)  --filter KEY=VALUE (repeatable)\n"
            "  --scheme standard|hmac-sha256-hex|sha256-secret-body\n"
            "  --signature-header H  --signature-prefix P  --secret S\n"
            "  --header 'Name: value' (repeatable)  --event-header H  --delivery-header H\n"
            "  --batch N  --batch-wait DURATION  --timeout DURATION  --connect-timeout DURATION\n"
            "  --retry DURATION,...  --concurrency N  --allow-http | --no-allow-http\n"
            "  --disabled (add only)\n"
            "TIME: RFC 3339, YYYY-MM-DD, epoch seconds, or an age: 30m, 2h, 7d\n"
            "DURATION: 500ms, 5s, 5m, 2h, 1d; a bare number is seconds\n");
    exit(EX_USAGE);
}

static int cmd_parse(struct ctl *ctl, int argc, char **argv)
{
    return ctl_parse(argc, argv, ctl->json);
}

static const struct ctl_command ctl_commands[] = {
    { "status", ctl_status },
    { "emit", ctl_emit },
    { "events", ctl_events },
    { "endpoint", ctl_endpoint },
    { "deliveries", ctl_deliveries },
    { "replay", ctl_replay },
    { "parse", cmd_parse },
    { "backfill", ctl_backfill },
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
