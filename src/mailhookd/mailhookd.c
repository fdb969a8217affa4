/* SPDX-License-Identifier: MIT */
/*
 * mailhookd.c - the mailhook daemon: owns the store, takes events from
 * producers, and (in later subsystems) delivers them to subscribers.
 *
 * main() only parses options and the config, then hands over to
 * daemon_run(). See mailhookd(8).
 */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"

/* --help: the options on stdout, exit 0; a usage error: the first line on
 * stderr, exit 64. */
static void usage(FILE *out, int rc) MH_NORETURN;
static void usage(FILE *out, int rc)
{
    if (out == stderr) {
        fprintf(stderr, "usage: mailhookd [-f] [-c FILE] [-n] [-T] [-v] [-V] [--help]\n");
        exit(rc);
    }
    fprintf(out, "usage: mailhookd [-f] [-c FILE] [-n] [-T] [-v] [-V] [--help]\n"
                    "  -f       stay in the foreground (for systemd)\n"
                    "  -c FILE  configuration file (default %s)\n"
                    "  -n       check the configuration and exit\n"
                    "  -T       print the effective configuration and exit\n"
                    "  -v       more verbose logging (repeatable)\n"
                    "  -V, --version  print the version and exit\n"
                    "  -h, --help     print this help and exit\n",
            CONF_DEFAULT_PATH);
    exit(rc);
}

int main(int argc, char **argv)
{
    const char *path = CONF_DEFAULT_PATH;
    bool foreground = false, check = false, dump = false;
    int verbose = 0, ch;
    mh_conf_t *conf;
    mh_err_t err;

    msg_open(argv[0], MSG_STDERR);
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };

    while ((ch = getopt_long(argc, argv, "fc:nTvVh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': foreground = true; break;
        case 'c': path = optarg; break;
        case 'n': check = true; break;
        case 'T': dump = true; break;
        case 'v': verbose++; break;
        case 'V': printf("mailhookd %s\n", PACKAGE_VERSION); return EX_OK;
        case 'h': usage(stdout, EX_OK);
        default: usage(stderr, EX_USAGE);
        }
    }
    if (optind != argc)
        usage(stderr, EX_USAGE);
    if ((conf = conf_load(path, &err)) == NULL) {
        fprintf(stderr, "%s\n", err.text);
        return EX_CONFIG;
    }
    if (daemon_check_conf(conf, &err) < 0) {
        fprintf(stderr, "%s\n", err.text);
        conf_unref(conf);
        return EX_CONFIG;
    }
    if (check || dump) {
        if (dump)
            conf_dump(conf, stdout);
        else
            fprintf(stderr, "%s: configuration OK\n", path);
        conf_unref(conf);
        return EX_OK;
    }
    msg_verbose = conf->log_level + verbose;
    /* In the foreground with log = stderr, messages go to the terminal or the
     * journal; otherwise to syslog, facility mail. */
    if (strcmp(conf->log, "stderr") != 0) {
        msg_syslog_facility(conf->syslog_facility);
        msg_open(argv[0], MSG_SYSLOG);
    }
    return daemon_run(conf, path, foreground);
}
