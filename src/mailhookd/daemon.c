/* SPDX-License-Identifier: MIT */
/*
 * daemon.c - mailhookd's life: prepare directories and sockets as root,
 * drop privileges, open (and recover) the store, serve ingest and admin
 * requests, drain the spool, expire old events, reload on SIGHUP, and on
 * SIGTERM finish in-flight work within shutdown_timeout.
 *
 * Everything runs on one event loop thread; the store is written on the
 * store thread (storeq.h), events only through the append path (append.h).
 * daemon.c makes every subsystem, hands each what it uses, and calls them;
 * no subsystem calls it. "status" is assembled here from each subsystem's
 * own status function (daemon_status).
 *
 * Under systemd (Type=notify, sdnotify.h): READY=1 once the sockets are
 * bound and the loop is about to serve them, WATCHDOG=1 from a loop timer
 * (a stuck loop stops feeding it), STOPPING=1 on SIGTERM, and STATUS= plus
 * EXTEND_TIMEOUT_USEC= while the store waits for disk space.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_backfill.h"
#include "admin_backup.h"
#include "admin_deliveries.h"
#include "admin_endpoint.h"
#include "admin_events.h"
#include "admin_replay.h"
#include "admin_report.h"
#include "admin_server.h"
#include "admin_status.h"
#include "append.h"
#include "daemon.h"
#include "delivery.h"
#include "endpoint_store.h"
#include "enrich.h"
#include "fanout.h"
#include "ingest_server.h"
#include "mhd_counters.h"
#include "maillog_reader.h"
#include "privdrop.h"
#include "sdnotify.h"
#include "spool.h"
#include "spool_drain.h"
#include "ssrf.h"
#include "storeq.h"
#include "timeutil.h"
#include "unixsock.h"
#include "xalloc.h"

#define RETENTION_FIRST_MS 5000 /* the first pass after start, at the latest */
#define RETENTION_AGAIN_MS 1000 /* a pass that stopped early goes on after this */
#define RETENTION_CHUNK 10000
#define SHUTDOWN_POLL_MS 20
/* While recovery lacks space: look this often whether more is free, try
 * once STORE_OPEN_MORE bytes more are (each failed recovery costs Berkeley
 * DB a little memory), and anyway this often (a quota does not show). */
#define STORE_OPEN_LOOK_MS 5000
#define STORE_OPEN_MORE (1u << 20)
#define STORE_OPEN_ANYWAY_MS 60000
/* How much more start time each look asks of systemd: three looks' worth. */
#define STORE_OPEN_EXTEND_USEC 15000000
#define MH_STR_(x) #x
#define MH_STR(x) MH_STR_(x)

typedef struct daemon {
    mh_conf_t *conf; /* current snapshot; replaced on SIGHUP */
    const char *config_path;
    store_t *store;         /* touched only on the store thread, via storeq */
    storeq_t *storeq;
    evloop_t *loop;
    struct ingest_server *ingest;
    struct admin_server *admin;
    struct spool_drain *drain;
    fanout_t *fanout;       /* endpoint matching: store thread; hand-over: loop */
    append_t *append;       /* the path into the store, for every producer */
    delivery_t *delivery;   /* the delivery engine (loop thread) */
    struct maillog_reader **readers; /* one per configured maillog source */
    size_t nreaders;
    struct admin_env admin_env; /* what the admin commands may use */
    int signal_fd;
    int64_t started_ms;
    int64_t stop_deadline_ms; /* monotonic; 0 while running */
    bool stopping;
    uint64_t expire_timer;    /* the next retention pass; 0 while one runs or stopping */
    uint64_t watchdog_timer;  /* the next WATCHDOG=1; 0 without a watchdog */
    int64_t watchdog_ms;      /* sdnotify_watchdog_ms(), read once at start */
    struct mhd_counters ctr;
    /* store thread (retention jobs only): where the next pass over the
     * message records goes on, "" = the first (enrich_expire) */
    char records_cursor[ENRICH_CURSOR];
} daemon_t;

/* The admin command tables, in lookup order (admin_cmd.h). */
static const struct admin_command *const daemon_admin_tables[] = {
    admin_status_commands, admin_events_commands, admin_endpoint_commands,
    admin_deliveries_commands, admin_replay_commands, admin_backfill_commands,
    admin_backup_commands, admin_report_commands, NULL,
};

int daemon_check_conf(const mh_conf_t *c, mh_err_t *err)
{
    ssrf_allow_t *allow = ssrf_allow_parse((const char *const *)c->delivery_allow,
                                           c->n_delivery_allow, err);

    if (allow == NULL) {
        mh_err_prefix(err, "delivery_allow");
        return conf_place_error(c, err);
    }
    ssrf_allow_free(allow);
    if (endpoint_store_check_conf(c, err) < 0)
        return conf_place_error(c, err);
    return 0;
}

/* ------------------------------------------------------------ setup */

struct daemon_ids {
    uid_t uid;
    gid_t gid, submit_gid, admin_gid;
    bool drop;
    struct priv_ids priv;
};

static void daemon_resolve_ids(const mh_conf_t *c, struct daemon_ids *ids)
{
    mh_err_t err;

    memset(ids, 0, sizeof(*ids));
    ids->uid = getuid();
    ids->gid = getgid();
    ids->drop = geteuid() == 0 && c->user[0] != 0;
    if (ids->drop) {
        if (privdrop_lookup(c->user, c->submit_group, &ids->priv, &err) < 0)
            msg_fatal(EX_NOUSER, "%s", err.text);
        ids->uid = ids->priv.uid;
        ids->gid = ids->priv.gid;
    } else if (geteuid() != 0 && c->user[0] != 0) {
        msg_info("not started as root: running as uid %u, user \"%s\" ignored",
                 (unsigned)getuid(), c->user);
    }
    if (privdrop_lookup_group(c->submit_group, ids->gid, &ids->submit_gid, &err) < 0 ||
        privdrop_lookup_group(c->admin_group, ids->gid, &ids->admin_gid, &err) < 0)
        msg_fatal(EX_NOUSER, "%s", err.text);
    ids->priv.group_gid = ids->submit_gid;
}

static void daemon_prepare_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
    mh_err_t err;

    if (privdrop_prepare_dir(path, mode, uid, gid, &err) < 0)
        msg_fatal(EX_CANTCREAT, "%s", err.text);
}

/* State (daemon only), spool (producers may write, not list or read), socket dir. */
static void daemon_prepare_dirs(const mh_conf_t *c, const struct daemon_ids *ids)
{
    char *sub, *sockdir;
    static const char *const drop_dirs[] = { "tmp", "new", NULL };

    daemon_prepare_dir(c->state_dir, 0700, ids->uid, ids->gid);
    daemon_prepare_dir(c->spool_dir, 0750, ids->uid, ids->submit_gid);
    for (int i = 0; drop_dirs[i]; i++) {
        sub = xasprintf("%s/%s", c->spool_dir, drop_dirs[i]);
        /* The daemon's own group, setgid: a producer's file (0640) gets that
         * group, so mailhookd can read it and no other producer can, even by
         * name. Producers, let into the spool by submit_group, write here as
         * "others": -wx, so they cannot list it; sticky: nor remove each
         * other's files. */
        daemon_prepare_dir(sub, SPOOL_DROP_MODE, ids->uid, ids->gid);
        free(sub);
    }
    sub = xasprintf("%s/bad", c->spool_dir);
    daemon_prepare_dir(sub, 0750, ids->uid, ids->gid);
    free(sub);
    for (int i = 0; i < 2; i++) {
        char *copy = xstrdup(i == 0 ? c->ingest_socket : c->admin_socket);
        sockdir = dirname(copy);
        daemon_prepare_dir(sockdir, 0755, ids->uid, ids->gid);
        free(copy);
    }
}

static int daemon_listen(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
    mh_err_t err;
    int fd = unixsock_listen(path, mode, geteuid() == 0 ? uid : (uid_t)-1,
                             geteuid() == 0 ? gid : (gid_t)-1, &err);

    if (fd < 0)
        msg_fatal(EX_UNAVAILABLE, "%s", err.text);
    return fd;
}

static void daemon_detach(void)
{
    pid_t pid;
    int fd;

    if ((pid = fork()) < 0)
        msg_fatal(EX_OSERR, "fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    setsid();
    if ((pid = fork()) < 0)
        msg_fatal(EX_OSERR, "fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        msg_fatal(EX_OSERR, "chdir /: %s", strerror(errno));
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

static void daemon_write_pidfile(const char *path)
{
    char buf[32];
    int fd, len;

    if (path[0] == 0)
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (fd < 0 || write(fd, buf, (size_t)len) != len)
        msg_warn("cannot write pid file %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* ------------------------------------------------------------ running */

struct expire_job {
    daemon_t *d;
    int64_t before_ms;
    size_t deleted, records;
    bool more; /* the events' pass stopped early */
    int rc;
    mh_err_t err;
};

static void daemon_expire(evloop_t *l, void *ctx);

static int64_t daemon_retention_period_ms(const daemon_t *d)
{
    return d->conf->retention_interval * 1000LL;
}

/* Store thread: events stored before the bound and queued nowhere
 * (store_event_expire), then message records last written before it. */
static void expire_work(store_t *st, void *ctx)
{
    struct expire_job *job = ctx;
    int rc = store_event_expire(st, job->before_ms, RETENTION_CHUNK, &job->deleted, &job->err);

    job->more = rc == 1;
    job->rc = rc < 0 ? -1 : 0;
    /* Message records (enrich.h) of the same age, a chunk per period. */
    if (job->rc == 0)
        job->rc = enrich_expire(st, job->before_ms, job->d->records_cursor, RETENTION_CHUNK,
                                &job->records, &job->err);
}

/* Loop thread: account, and come back soon if there was more to do. */
static void expire_done(void *ctx)
{
    struct expire_job *job = ctx;
    daemon_t *d = job->d;

    if (job->rc < 0)
        msg_warn("retention: %s", job->err.text);
    d->ctr.expired += job->deleted;
    d->ctr.records_expired += job->records;
    d->ctr.retention_passes++;
    if (!d->stopping)
        d->expire_timer = evloop_timer_add(
            d->loop, job->more ? RETENTION_AGAIN_MS : daemon_retention_period_ms(d), daemon_expire, d);
    free(job);
}

static void daemon_expire(evloop_t *l, void *ctx)
{
    daemon_t *d = ctx;
    struct expire_job *job;

    d->expire_timer = 0;
    if (d->conf->retention_days <= 0) {
        d->expire_timer = evloop_timer_add(l, daemon_retention_period_ms(d), daemon_expire, d);
        return;
    }
    job = xcalloc(1, sizeof(*job));
    job->d = d;
    job->before_ms = time_now_ms() - d->conf->retention_days * 86400000LL;
    storeq_submit(d->storeq, expire_work, expire_done, job);
}

static void daemon_reload(daemon_t *d)
{
    mh_err_t err;
    mh_conf_t *c = conf_load(d->config_path, &err);

    if (c == NULL || daemon_check_conf(c, &err) < 0) {
        msg_warn("reload failed, keeping the running configuration: %s", err.text);
        conf_unref(c);
        return;
    }
    if (strcmp(c->state_dir, d->conf->state_dir) || strcmp(c->spool_dir, d->conf->spool_dir) ||
        strcmp(c->ingest_socket, d->conf->ingest_socket) ||
        strcmp(c->admin_socket, d->conf->admin_socket) || strcmp(c->user, d->conf->user))
        msg_warn("reload: changes to user, directories and sockets take effect at restart");
    msg_verbose = c->log_level;
    conf_unref(d->conf);
    d->conf = c;
    d->admin_env.conf = c;
    ingest_server_reconfigure(d->ingest, c);
    spool_drain_reconfigure(d->drain, c);
    admin_server_reconfigure(d->admin, c);
    delivery_reconfigure(d->delivery, c);
    delivery_reload_endpoints(d->delivery);
    d->ctr.reloads++;
    msg_info("configuration reloaded from %s", d->config_path);
}

static void daemon_check_stopped(evloop_t *l, void *ctx)
{
    daemon_t *d = ctx;

    if (!ingest_server_busy(d->ingest) && !delivery_busy(d->delivery) &&
        storeq_busy(d->storeq) == 0) {
        evloop_stop(l);
    } else if (time_mono_ms() >= d->stop_deadline_ms) {
        msg_warn("shutdown: in-flight work not finished after %d s; exiting (producers "
                 "will spool what was not acknowledged)", d->conf->shutdown_timeout);
        evloop_stop(l);
    } else {
        evloop_timer_add(l, SHUTDOWN_POLL_MS, daemon_check_stopped, d);
    }
}

static void daemon_begin_stop(daemon_t *d, int sig)
{
    if (d->stopping)
        return;
    msg_info("received %s: finishing in-flight work (at most %d s)", strsignal(sig),
             d->conf->shutdown_timeout);
    d->stopping = true;
    sdnotify_send("STOPPING=1");
    d->stop_deadline_ms = time_mono_ms() + d->conf->shutdown_timeout * 1000LL;
    if (d->expire_timer) /* no retention pass starts while in-flight work finishes */
        evloop_timer_cancel(d->loop, d->expire_timer);
    d->expire_timer = 0;
    delivery_stop(d->delivery);
    ingest_server_close_listener(d->ingest);
    daemon_check_stopped(d->loop, d);
}

static void daemon_signal(evloop_t *l, int fd, unsigned what, void *ctx)
{
    struct signalfd_siginfo si;
    daemon_t *d = ctx;

    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            daemon_reload(d);
        else
            daemon_begin_stop(d, (int)si.ssi_signo);
    }
}

static int daemon_signals(void)
{
    sigset_t set;
    int fd;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
        (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        msg_fatal(EX_OSERR, "signalfd: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN); /* sendmail for endpoint alerts: reaped by the kernel */
    return fd;
}

/* What a stopped daemon leaves behind: its sockets and pid file. */
static void daemon_cleanup_files(const mh_conf_t *c)
{
    unlink(c->ingest_socket);
    unlink(c->admin_socket);
    if (c->pid_file[0])
        unlink(c->pid_file);
}

/* Wait up to ms for a signal: true when it says stop (SIGHUP is ignored
 * here: the configuration is read again once the daemon runs). */
static bool daemon_wait_stop(int signal_fd, int ms)
{
    struct pollfd pfd = { .fd = signal_fd, .events = POLLIN };
    struct signalfd_siginfo si;

    if (poll(&pfd, 1, ms) <= 0)
        return false;
    while (read(signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        if (si.ssi_signo != SIGHUP) {
            msg_info("received %s while waiting for space: stopped", strsignal((int)si.ssi_signo));
            return true;
        }
    return false;
}

/* Are STORE_OPEN_MORE bytes more free now than then? Never when either
 * is unknown (store_free_bytes: UINT64_MAX). */
static bool daemon_space_grew(uint64_t now, uint64_t then)
{
    return now != UINT64_MAX && then != UINT64_MAX && now >= then + STORE_OPEN_MORE;
}

/* Wait until more space is free than was when recovery failed (or for
 * STORE_OPEN_ANYWAY_MS): false when a signal said stop meanwhile. */
static bool daemon_wait_space(daemon_t *d, uint64_t free_then)
{
    int64_t until = time_mono_ms() + STORE_OPEN_ANYWAY_MS;

    do {
        /* Not ready yet, and not hung: keep systemd's start timeout and
         * watchdog from killing a daemon that waits on purpose. */
        sdnotify_send("STATUS=store recovery waits for disk space\nWATCHDOG=1\n"
                      "EXTEND_TIMEOUT_USEC=" MH_STR(STORE_OPEN_EXTEND_USEC));
        if (daemon_wait_stop(d->signal_fd, STORE_OPEN_LOOK_MS))
            return false;
    } while (!daemon_space_grew(store_free_bytes(d->conf->state_dir), free_then) &&
             time_mono_ms() < until);
    return true;
}

/* The store, recovered. When recovery cannot run for lack of space, say
 * what it needs once and try again when more space is free, so that the
 * daemon comes up by itself (producers spool meanwhile); NULL when a
 * signal said stop meanwhile. */
static store_t *daemon_open_store(daemon_t *d, const struct store_opts *sopts)
{
    bool no_space, waited = false;
    store_t *st;
    mh_err_t err;

    while ((st = store_open_why(d->conf->state_dir, sopts, &no_space, &err)) == NULL) {
        if (!no_space)
            msg_fatal(EX_UNAVAILABLE, "%s", err.text);
        if (!waited)
            msg_warn("%s; trying again once more space is free", err.text);
        waited = true;
        if (!daemon_wait_space(d, store_free_bytes(d->conf->state_dir)))
            return NULL;
    }
    if (waited)
        msg_info("store: %s: recovered, now that there is space", d->conf->state_dir);
    return st;
}

/* ------------------------------------------------------------ status */

static json_t *daemon_counters_json(const struct mhd_counters *c)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                     "ingested", (json_int_t)c->ingested, "duplicates",
                     (json_int_t)c->duplicates, "superseded", (json_int_t)c->superseded,
                     "held", (json_int_t)c->held, "unenriched", (json_int_t)c->unenriched,
                     "rejected", (json_int_t)c->rejected,
                     "tempfailed", (json_int_t)c->tempfailed, "commits", (json_int_t)c->commits,
                     "spool_files", (json_int_t)c->spool_files, "spool_events",
                     (json_int_t)c->spool_events, "quarantined", (json_int_t)c->quarantined,
                     "expired", (json_int_t)c->expired, "records_expired",
                     (json_int_t)c->records_expired, "deliveries_expired",
                     (json_int_t)c->deliveries_expired, "retention_passes",
                     (json_int_t)c->retention_passes, "reloads", (json_int_t)c->reloads);
}

/* admin_status_fn: the loop's side of "status", from each subsystem's own
 * status function. */
static json_t *daemon_status(void *ctx)
{
    daemon_t *d = ctx;
    char started[RFC3339_MS_LEN + 1];
    json_t *st = json_pack("{s:s,s:I,s:s,s:I,s:o}", "version", PACKAGE_VERSION, "pid",
                           (json_int_t)getpid(), "started",
                           time_format_rfc3339(started, d->started_ms), "uptime_s",
                           (json_int_t)((time_now_ms() - d->started_ms) / 1000), "counters",
                           daemon_counters_json(&d->ctr));
    json_t *ingest = ingest_server_status(d->ingest), *readers = json_object();

    json_object_update(st, ingest); /* "clients" */
    json_decref(ingest);
    json_object_set_new(st, "state_dir", json_string(d->conf->state_dir));
    for (size_t i = 0; i < d->nreaders; i++)
        json_object_set_new(readers, maillog_reader_name(d->readers[i]),
                            maillog_reader_status(d->readers[i]));
    json_object_set_new(st, "maillog", readers);
    json_object_set_new(st, "delivery", delivery_status(d->delivery));
    return st;
}

static void daemon_admin_env(daemon_t *d)
{
    d->admin_env = (struct admin_env){
        .conf = d->conf, .fanout = d->fanout, .append = d->append, .ctr = &d->ctr,
        .delivery = d->delivery, .stopping = &d->stopping, .status = daemon_status,
        .status_ctx = d,
    };
}

/* The loop is alive: tell systemd, and again in half its interval. */
static void daemon_watchdog(evloop_t *l, void *ctx)
{
    daemon_t *d = ctx;

    sdnotify_send("WATCHDOG=1");
    d->watchdog_timer = evloop_timer_add(l, d->watchdog_ms, daemon_watchdog, d);
}

static void daemon_prepare_round(evloop_t *l, void *ctx)
{
    daemon_t *d = ctx;

    ingest_server_commit(d->ingest);
    delivery_prepare(d->delivery);
}

int daemon_run(mh_conf_t *conf, const char *config_path, bool foreground)
{
    daemon_t d = { .conf = conf, .config_path = config_path };
    struct daemon_ids ids;
    struct store_opts sopts = { 0 };
    int ingest_fd, admin_fd;
    mh_err_t err;

    if (daemon_check_conf(conf, &err) < 0)
        msg_fatal(EX_CONFIG, "%s", err.text);
    daemon_resolve_ids(conf, &ids);
    umask(007);
    daemon_prepare_dirs(conf, &ids);
    ingest_fd = daemon_listen(conf->ingest_socket, 0660, ids.uid, ids.submit_gid);
    admin_fd = daemon_listen(conf->admin_socket, 0660, ids.uid, ids.admin_gid);
    if (ids.drop && privdrop_to(&ids.priv, &err) < 0)
        msg_fatal(EX_NOPERM, "%s", err.text);
    free(ids.priv.user);
    /* As the user that drains it, before detaching: whoever started us
     * learns it from the exit status. */
    if (spool_usable(conf->spool_dir, &err) < 0)
        msg_fatal(EX_CANTCREAT, "%s: mailhookd (uid %u) cannot drain the spool",
                  err.text, (unsigned)geteuid());
    if (!foreground)
        daemon_detach();
    d.signal_fd = daemon_signals();
    daemon_write_pidfile(conf->pid_file);

    sopts.nosync = !conf->store_sync;
    sopts.cache_bytes = (size_t)conf->cache_size;
    sopts.log_file_bytes = (uint32_t)conf->store_log_file_size;
    if ((d.store = daemon_open_store(&d, &sopts)) == NULL) {
        daemon_cleanup_files(conf);
        close(d.signal_fd);
        conf_unref(conf);
        return EX_OK;
    }
    d.started_ms = time_now_ms();
    d.loop = evloop_new();
    d.fanout = fanout_new();
    d.append = append_new(d.fanout, &d.ctr);
    d.storeq = storeq_start(d.store, d.loop);
    /* First in the store queue: the endpoints are known to the fan-out
     * before any event can be stored. */
    d.delivery = delivery_new(d.loop, d.storeq, d.fanout, d.conf, &d.ctr);
    evloop_add(d.loop, d.signal_fd, EVLOOP_READ, daemon_signal, &d);
    d.ingest = ingest_server_new(d.loop, d.storeq, d.conf, d.append, &d.ctr, ingest_fd);
    daemon_admin_env(&d);
    d.admin = admin_server_new(d.loop, d.storeq, d.conf, daemon_admin_tables, &d.admin_env,
                               admin_fd);
    d.drain = spool_drain_new(d.loop, d.storeq, d.conf, d.append, &d.ctr, &d.stopping);
    /* The readers emit nothing until the spool found now is drained
     * (spool_drain_settled): the milter's records left there while we were
     * away are stored before the log's events of the same messages. */
    d.nreaders = conf->n_maillogs;
    d.readers = xcalloc(d.nreaders ? d.nreaders : 1, sizeof(*d.readers));
    for (size_t i = 0; i < d.nreaders; i++)
        d.readers[i] = maillog_reader_start(d.loop, d.storeq, conf, &conf->maillogs[i], d.append,
                                            &d.ctr, d.drain, &d.stopping);
    d.expire_timer = evloop_timer_add(d.loop,
                                      daemon_retention_period_ms(&d) < RETENTION_FIRST_MS
                                          ? daemon_retention_period_ms(&d) : RETENTION_FIRST_MS,
                                      daemon_expire, &d);
    evloop_set_prepare(d.loop, daemon_prepare_round, &d);
    if ((d.watchdog_ms = sdnotify_watchdog_ms()) > 0)
        daemon_watchdog(d.loop, &d);
    msg_info("mailhookd %s ready: ingest %s, admin %s, store %s", PACKAGE_VERSION,
             conf->ingest_socket, conf->admin_socket, conf->state_dir);
    /* The sockets listen already: a client connecting now is served. */
    sdnotify_send("READY=1\nSTATUS=serving");

    evloop_run(d.loop);
    if (d.watchdog_timer)
        evloop_timer_cancel(d.loop, d.watchdog_timer);

    /* Finish every store job first: their completions still need the servers. */
    d.storeq = storeq_stop(d.storeq);
    d.delivery = delivery_free(d.delivery); /* answers pending test sends */
    d.admin_env.delivery = NULL;
    for (size_t i = 0; i < d.nreaders; i++)
        maillog_reader_stop(d.readers[i]);
    free(d.readers);
    d.drain = spool_drain_free(d.drain);
    d.ingest = ingest_server_free(d.ingest);
    d.admin = admin_server_free(d.admin);
    d.loop = evloop_free(d.loop);
    d.append = append_free(d.append);
    d.fanout = fanout_free(d.fanout);
    store_close(d.store);
    close(d.signal_fd);
    daemon_cleanup_files(d.conf);
    msg_info("stopped");
    conf_unref(d.conf);
    return EX_OK;
}
