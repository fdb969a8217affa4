/* SPDX-License-Identifier: MIT */
/*
 * milter.c - mailhook-milter: the MTA's milter that reports every accepted
 * message as email.sent events (one per recipient), with what only the
 * message itself tells: subject, tags, metadata, tenant. See
 * mailhook-milter(8).
 *
 * main() parses options, loads mailhook.conf, opens the milter socket,
 * drops privileges, starts the submitter thread (milter_submit.h) and runs
 * libmilter's loop with the callbacks of milter_cb.h. SIGTERM/SIGINT stop
 * libmilter (its own signal thread); the queued events are then sent or
 * spooled before exit.
 *
 * Under systemd (Type=notify, sdnotify.h): READY=1 once the socket listens
 * and the submitter runs, STOPPING=1 when libmilter's loop has returned,
 * and WATCHDOG=1 from a thread (libmilter's loop is not ours to time).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "conf.h"
#include "milter_cb.h"
#include "milter_reach.h"
#include "milter_submit.h"
#include "privdrop.h"
#include "sdnotify.h"
#include "spool.h"
#include "unixsock.h"
#include "xalloc.h"

/* The largest milter packet libmilter takes (its default is 64 KiB): a
 * header value of 1 MiB still arrives, and is cut to max_header_bytes by
 * the model. A bigger packet makes libmilter close the connection; the
 * MTA's milter_default_action = accept lets the message through. */
#define MILTER_MAX_PACKET (2 * 1024 * 1024)

/* --help: the options on stdout, exit 0; a usage error: the first line on
 * stderr, exit 64. */
static void usage(FILE *out, int rc) MH_NORETURN;
static void usage(FILE *out, int rc)
{
    if (out == stderr) {
        fprintf(stderr, "usage: mailhook-milter [-f] [-c FILE] [-n] [-v] [-V] [--help]\n");
        exit(rc);
    }
    fprintf(out, "usage: mailhook-milter [-f] [-c FILE] [-n] [-v] [-V] [--help]\n"
                    "  -f       stay in the foreground (for systemd)\n"
                    "  -c FILE  configuration file (default %s)\n"
                    "  -n       check the configuration and exit\n"
                    "  -v       more verbose logging (repeatable)\n"
                    "  -V, --version  print the version and exit\n"
                    "  -h, --help     print this help and exit\n",
            CONF_DEFAULT_PATH);
    exit(rc);
}

/* The path of a "unix:" or "local:" milter socket, else NULL. */
static const char *unix_path(const char *conn)
{
    if (strncmp(conn, "unix:", 5) == 0)
        return conn + 5;
    if (strncmp(conn, "local:", 6) == 0)
        return conn + 6;
    return NULL;
}

/* Started as root: hand the unix socket to user:submit_group (the MTA's
 * user must be in that group), then drop to user for good. */
static void drop_privileges(const mh_conf_t *c, const char *sock)
{
    struct priv_ids ids = { 0 };
    mh_err_t err;

    if (geteuid() != 0 || c->user[0] == 0)
        return;
    if (privdrop_lookup(c->user, c->submit_group, &ids, &err) < 0)
        msg_fatal(EX_CONFIG, "%s", err.text);
    if (sock && (chown(sock, ids.uid, ids.group_gid) < 0 || chmod(sock, 0660) < 0))
        msg_fatal(EX_OSERR, "%s: %s", sock, strerror(errno));
    if (privdrop_to(&ids, &err) < 0)
        msg_fatal(EX_OSERR, "%s", err.text);
    free(ids.user);
}

/* The socket's directory, when it is missing and its parent is not: the
 * default, /var/spool/postfix/mailhook, is inside Postfix's chroot, which
 * Postfix's package does not make. Mode 0755: Postfix's daemons search it;
 * the socket itself is what submit_group guards. */
static void sock_dir_make(const char *sock)
{
    const char *slash = strrchr(sock, '/');
    char *dir;

    if (slash == NULL || slash == sock)
        return;
    dir = xstrndup(sock, (size_t)(slash - sock));
    if (mkdir(dir, 0755) == 0)
        msg_info("made the socket directory %s", dir);
    else if (errno != EEXIST)
        msg_warn("cannot make the socket directory %s: %s", dir, strerror(errno));
    free(dir);
}

static void milter_open(const mh_conf_t *c)
{
    const char *sock = unix_path(c->milter.socket);

    mh_err_t err;

    if (sock)
        sock_dir_make(sock);
    /* A socket left by a milter that died goes; a live one is not stolen. */
    if (sock && unixsock_clear_stale(sock, &err) < 0)
        msg_fatal(EX_UNAVAILABLE, "%s", err.text);
    umask(007);
    if (smfi_setconn(c->milter.socket) != MI_SUCCESS)
        msg_fatal(EX_SOFTWARE, "smfi_setconn %s failed", c->milter.socket);
    smfi_setmaxdatasize(MILTER_MAX_PACKET);
    if (smfi_settimeout(c->milter.timeout) != MI_SUCCESS)
        msg_fatal(EX_SOFTWARE, "smfi_settimeout failed");
    if (smfi_register(*milter_cb_desc(c)) != MI_SUCCESS)
        msg_fatal(EX_SOFTWARE, "smfi_register failed");
    if (smfi_opensocket(false) != MI_SUCCESS)
        msg_fatal(EX_UNAVAILABLE, "cannot listen on %s", c->milter.socket);
    drop_privileges(c, sock);
}

/* The spool normally exists (mailhookd makes it); if the milter starts
 * first, make it so the first spooled events have somewhere to go. */
static void spool_check(const mh_conf_t *c)
{
    mh_err_t err;

    if (spool_prepare(c->spool_dir, &err) < 0)
        msg_warn("spool %s: %s (events will be lost while mailhookd is down)", c->spool_dir,
                 err.text);
}

static void detach(void)
{
    if (daemon(0, 0) < 0)
        msg_fatal(EX_OSERR, "daemon: %s", strerror(errno));
}

static int milter_run(mh_conf_t *c, bool foreground)
{
    milter_submit_t *sub;
    struct milter_submit_stats st;
    int rc;

    g_mime_init();
    milter_open(c);
    /* Mail that never reaches the milter makes no event and no error:
     * say so now when Postfix's settings show it (a warning only). */
    milter_reach_warn(c->milter.socket, MILTER_REACH_POSTCONF);
    spool_check(c);
    if (!foreground)
        detach();
    if ((sub = milter_submit_start(c->ingest_socket, c->spool_dir,
                                   (size_t)c->milter.queue_events)) == NULL)
        msg_fatal(EX_OSERR, "cannot start the submitter thread");
    milter_cb_submit_to(sub);
    msg_info("listening on %s, events to %s", c->milter.socket, c->ingest_socket);
    sdnotify_watchdog_start();
    sdnotify_send("READY=1\nSTATUS=listening");
    rc = smfi_main();
    sdnotify_send("STOPPING=1");
    sdnotify_watchdog_stop();
    milter_cb_log_times();
    milter_submit_stats(sub, &st);
    sub = milter_submit_stop(sub);
    msg_info("stopped: %llu events queued, %llu spooled directly (queue full), %llu lost",
             (unsigned long long)st.queued, (unsigned long long)st.spooled_direct,
             (unsigned long long)st.lost);
    g_mime_shutdown();
    return rc == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}

int main(int argc, char **argv)
{
    const char *path = CONF_DEFAULT_PATH;
    bool foreground = false, check = false;
    int verbose = 0, ch, rc;
    mh_conf_t *conf;
    mh_err_t err;

    msg_open("mailhook-milter", MSG_STDERR);
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };

    while ((ch = getopt_long(argc, argv, "fc:nvVh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': foreground = true; break;
        case 'c': path = optarg; break;
        case 'n': check = true; break;
        case 'v': verbose++; break;
        case 'V': printf("mailhook-milter %s\n", PACKAGE_VERSION); return EX_OK;
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
    if (check) {
        fprintf(stderr, "%s: configuration OK\n", path);
        conf_unref(conf);
        return EX_OK;
    }
    msg_verbose = conf->log_level + verbose;
    /* As mailhookd: syslog (facility from the config) unless log = stderr. */
    if (strcmp(conf->log, "stderr") != 0) {
        msg_syslog_facility(conf->syslog_facility);
        msg_open("mailhook-milter", MSG_SYSLOG);
    }
    rc = milter_run(conf, foreground);
    conf_unref(conf);
    return rc;
}
