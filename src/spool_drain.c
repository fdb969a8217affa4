/*
 * spool_drain.c - drain the producers' fallback spool into the store
 * (see spool_drain.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "spool.h"
#include "spool_drain.h"
#include "xalloc.h"

#define DRAIN_FILES_PER_ROUND 256 /* then yield to the event loop */
#define DRAIN_TMP_AGE_S 3600      /* tmp/ files older than this were abandoned */

struct spool_drain {
    daemon_t *d;
    char *dir;
    int inotify_fd;
    uint64_t scan_timer;
    uint64_t again_timer;
};

static void drain_scan_timer(evloop_t *l, void *ctx);

/* Store the valid lines of one file; *bad_line = first invalid line (0 none). */
static int drain_events(struct spool_drain *sd, char *buf, size_t len, size_t *nev,
                        size_t *bad_line, mh_err_t *err)
{
    size_t cap = 64, n = 0, lineno = 0;
    event_t **evs = xcalloc(cap, sizeof(*evs));
    enum store_append_result *res;
    char *p = buf, *end = buf + len, *nl;
    int rc;

    *bad_line = 0;
    for (; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end; /* a final line without newline: written whole by fsync+rename */
        lineno++;
        if (nl == p)
            continue;
        if (n == cap)
            evs = xreallocarray(evs, cap *= 2, sizeof(*evs));
        if ((evs[n] = event_from_json(p, (size_t)(nl - p), err)) != NULL)
            n++;
        else if (*bad_line == 0)
            *bad_line = lineno;
    }
    res = xcalloc(n ? n : 1, sizeof(*res));
    rc = n ? daemon_store_events(sd->d, evs, n, res, err) : 0;
    for (size_t i = 0; i < n; i++)
        event_free(evs[i]);
    *nev = n;
    free(res);
    free(evs);
    return rc;
}

/* Drain one file: 0 done (removed or quarantined), -1 store failure (kept). */
static int drain_file(struct spool_drain *sd, const char *name)
{
    size_t max = (size_t)sd->d->conf->max_event_size * 1024, len, nev = 0, bad_line;
    char *buf = NULL;
    mh_err_t err, qerr;

    if (spool_read(sd->dir, name, max, &buf, &len, &err) < 0) {
        msg_warn("spool: %s: %s; moving it to bad/", name, err.text);
        goto quarantine;
    }
    if (drain_events(sd, buf, len, &nev, &bad_line, &err) < 0) {
        msg_warn("spool: %s: %s; will retry", name, err.text);
        free(buf);
        return -1;
    }
    free(buf);
    sd->d->ctr.spool_events += nev;
    if (bad_line) {
        msg_warn("spool: %s line %zu: %s; stored its %zu valid events, moving it to bad/",
                 name, bad_line, err.text, nev);
        goto quarantine;
    }
    sd->d->ctr.spool_files++;
    if (spool_remove(sd->dir, name, &err) < 0)
        msg_warn("spool: %s", err.text);
    return 0;
quarantine:
    sd->d->ctr.quarantined++;
    if (spool_quarantine(sd->dir, name, &qerr) < 0)
        msg_warn("spool: %s", qerr.text);
    return 0;
}

static void drain_again(evloop_t *l, void *ctx)
{
    struct spool_drain *sd = ctx;

    sd->again_timer = 0;
    spool_drain_run(sd);
}

void spool_drain_run(struct spool_drain *sd)
{
    char **names;
    size_t n, i;
    mh_err_t err;

    if (spool_list(sd->dir, &names, &n, &err) < 0) {
        msg_warn("spool: %s", err.text);
        return;
    }
    for (i = 0; i < n && i < DRAIN_FILES_PER_ROUND; i++)
        if (drain_file(sd, names[i]) < 0)
            break; /* the store is failing: try again at the next scan */
    if (i < n && i == DRAIN_FILES_PER_ROUND && sd->again_timer == 0)
        sd->again_timer = evloop_timer_add(sd->d->loop, 0, drain_again, sd);
    spool_list_free(names, n);
}

static void drain_inotify(evloop_t *l, int fd, unsigned what, void *ctx)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool any = false;

    while (read(fd, buf, sizeof(buf)) > 0)
        any = true;
    if (any)
        spool_drain_run(ctx);
}

static void drain_scan_timer(evloop_t *l, void *ctx)
{
    struct spool_drain *sd = ctx;

    spool_tmp_reap(sd->dir, DRAIN_TMP_AGE_S);
    spool_drain_run(sd);
    sd->scan_timer = evloop_timer_add(l, sd->d->conf->spool_scan_interval * 1000LL,
                                      drain_scan_timer, sd);
}

struct spool_drain *spool_drain_new(daemon_t *d)
{
    struct spool_drain *sd = xcalloc(1, sizeof(*sd));
    char *newdir;

    sd->d = d;
    sd->dir = xstrdup(d->conf->spool_dir);
    newdir = xasprintf("%s/new", sd->dir);
    sd->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (sd->inotify_fd >= 0 &&
        (inotify_add_watch(sd->inotify_fd, newdir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0 ||
         evloop_add(d->loop, sd->inotify_fd, EVLOOP_READ, drain_inotify, sd) < 0)) {
        msg_warn("spool: cannot watch %s (%s): scanning every %d s only", newdir,
                 strerror(errno), d->conf->spool_scan_interval);
        close(sd->inotify_fd);
        sd->inotify_fd = -1;
    }
    free(newdir);
    drain_scan_timer(d->loop, sd);
    return sd;
}

struct spool_drain *spool_drain_free(struct spool_drain *sd)
{
    if (sd == NULL)
        return NULL;
    if (sd->inotify_fd >= 0) {
        evloop_del(sd->d->loop, sd->inotify_fd);
        close(sd->inotify_fd);
    }
    if (sd->scan_timer)
        evloop_timer_cancel(sd->d->loop, sd->scan_timer);
    if (sd->again_timer)
        evloop_timer_cancel(sd->d->loop, sd->again_timer);
    free(sd->dir);
    free(sd);
    return NULL;
}
