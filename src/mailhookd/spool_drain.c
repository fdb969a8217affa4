/* SPDX-License-Identifier: MIT */
/*
 * spool_drain.c - drain the producers' fallback spool into the store
 * (see spool_drain.h).
 *
 * One drain job at a time: the loop thread reads and parses up to
 * DRAIN_FILES_PER_JOB files, the store thread commits all their events in
 * one transaction, and back on the loop each file is removed (or, when it
 * held something unreadable, moved to bad/). If the commit fails, the files
 * stay for the next scan.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "spool.h"
#include "spool_drain.h"
#include "storeq.h"
#include "xalloc.h"

#define DRAIN_FILES_PER_JOB 256   /* then let ingest batches in between */
#define DRAIN_TMP_AGE_S 3600      /* tmp/ files older than this were abandoned */
#define DRAIN_FILE_EVENTS 1024    /* a file holds at most a producer's window of events
                                   * (ingest.h): larger ones are not read, but moved to bad/ */

struct drain_file {
    char *name;
    size_t nev;      /* valid events taken from it */
    size_t bad_line; /* first invalid line, 0 = none */
    bool unreadable;
    mh_err_t why;
};

struct drain_job {
    struct spool_drain *sd;
    struct drain_file *files;
    size_t nfiles;
    event_t **evs;
    size_t nev, cap;
    enum store_append_result *res;
    int rc;
    mh_err_t err;
    bool full; /* failed because the store is out of space */
    bool more; /* files were left for the next job */
};

struct spool_drain {
    evloop_t *loop;
    storeq_t *storeq;
    mh_conf_t *conf;          /* a reference; replaced by spool_drain_reconfigure */
    append_t *append;         /* the path into the store (append.h) */
    struct mhd_counters *ctr;
    const bool *stopping;     /* the daemon's: no more rounds once true */
    char *dir;
    int inotify_fd;
    uint64_t scan_timer;
    bool busy;  /* a job is in flight */
    bool again; /* something arrived meanwhile: run once more */
    bool settled; /* the spool found at start has been drained (or tried) */
};

/* Parse one file's lines into the job; remember its first bad line (one
 * that is not a valid event, or larger than max_event_size). */
static void drain_parse(struct drain_job *job, struct drain_file *f, char *buf, size_t len,
                        size_t max_event)
{
    char *p = buf, *end = buf + len, *nl;
    size_t lineno = 0;
    mh_err_t err;

    for (; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end; /* a final line without newline: written whole by fsync+rename */
        lineno++;
        if (nl == p)
            continue;
        if (job->nev == job->cap) {
            job->cap = job->cap ? job->cap * 2 : 256;
            job->evs = xreallocarray(job->evs, job->cap, sizeof(*job->evs));
        }
        if (event_size_check((size_t)(nl - p), max_event, &err) == 0 &&
            (job->evs[job->nev] = event_from_json(p, (size_t)(nl - p), &err)) != NULL) {
            job->nev++;
            f->nev++;
        } else if (f->bad_line == 0) {
            f->bad_line = lineno;
            f->why = err;
        }
    }
}

static void drain_load(struct spool_drain *sd, struct drain_job *job, const char *name)
{
    size_t max_event = (size_t)sd->conf->max_event_size, len;
    size_t max = max_event * DRAIN_FILE_EVENTS;
    struct drain_file *f = &job->files[job->nfiles++];
    char *buf;
    mh_err_t err;

    f->name = xstrdup(name);
    if (spool_read(sd->dir, name, max, &buf, &len, &err) < 0) {
        f->unreadable = true;
        f->why = err;
        return;
    }
    drain_parse(job, f, buf, len, max_event);
    free(buf);
}

/* Store thread. */
static void drain_store(store_t *st, void *ctx)
{
    struct drain_job *job = ctx;

    job->res = xcalloc(job->nev ? job->nev : 1, sizeof(*job->res));
    job->rc = job->nev ? append_events(job->sd->append, st, job->evs, job->nev, job->res,
                                       &job->err)
                       : 0;
    job->full = job->rc < 0 && store_space_full(st);
}

static void drain_settle(struct spool_drain *sd, struct drain_file *f)
{
    mh_err_t err;
    char name[128]; /* shown: a producer chose it */

    sd->ctr->spool_events += f->nev;
    if (!f->unreadable && f->bad_line == 0) {
        sd->ctr->spool_files++;
        if (spool_remove(sd->dir, f->name, &err) < 0)
            msg_warn("%s", err.text); /* says "spool: ..." */
        return;
    }
    printable(name, sizeof(name), f->name, strlen(f->name));
    if (f->unreadable)
        msg_warn("spool: %s: %s; moving it to bad/", name, f->why.text);
    else
        msg_warn("spool: %s line %zu: %s; stored its %zu valid events, moving it to bad/",
                 name, f->bad_line, f->why.text, f->nev);
    sd->ctr->quarantined++;
    if (spool_quarantine(sd->dir, f->name, &err) < 0)
        msg_warn("%s", err.text); /* says "spool: ..." */
}

/* Loop thread: settle each file now that its events are committed. */
static void drain_done(void *ctx)
{
    struct drain_job *job = ctx;
    struct spool_drain *sd = job->sd;

    if (job->rc < 0) {
        if (!job->full) /* out of space: the store said so once */
            msg_warn("spool: %s; %zu files stay for the next scan", job->err.text, job->nfiles);
    } else if (job->nev > 0)
        append_count(sd->append, job->res, job->nev);
    for (size_t i = 0; i < job->nfiles; i++) {
        if (job->rc == 0)
            drain_settle(sd, &job->files[i]);
        free(job->files[i].name);
    }
    for (size_t i = 0; i < job->nev; i++)
        event_free(job->evs[i]);
    sd->busy = false;
    if (!job->more || job->rc < 0)
        sd->settled = true; /* a failed commit would fail the readers' too */
    if ((job->more || sd->again) && job->rc == 0 && !*sd->stopping) {
        sd->again = false;
        spool_drain_run(sd);
    }
    free(job->files);
    free(job->evs);
    free(job->res);
    free(job);
}

void spool_drain_run(struct spool_drain *sd)
{
    struct drain_job *job;
    char **names;
    size_t n, i;
    mh_err_t err;

    if (sd->busy) {
        sd->again = true;
        return;
    }
    if (spool_list(sd->dir, &names, &n, &err) < 0) {
        msg_warn("%s", err.text); /* says "spool: ..." */
        sd->settled = true;
        return;
    }
    if (n == 0) {
        spool_list_free(names, n);
        sd->settled = true;
        return;
    }
    job = xcalloc(1, sizeof(*job));
    job->sd = sd;
    job->files = xcalloc(n < DRAIN_FILES_PER_JOB ? n : DRAIN_FILES_PER_JOB, sizeof(*job->files));
    for (i = 0; i < n && i < DRAIN_FILES_PER_JOB; i++)
        drain_load(sd, job, names[i]);
    job->more = i < n;
    spool_list_free(names, n);
    sd->busy = true;
    storeq_submit(sd->storeq, drain_store, drain_done, job);
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
    sd->scan_timer = evloop_timer_add(l, sd->conf->spool_scan_interval * 1000LL,
                                      drain_scan_timer, sd);
}

struct spool_drain *spool_drain_new(evloop_t *loop, storeq_t *storeq, mh_conf_t *conf,
                                    append_t *append, struct mhd_counters *ctr,
                                    const bool *stopping)
{
    struct spool_drain *sd = xcalloc(1, sizeof(*sd));
    char *newdir;

    sd->loop = loop;
    sd->storeq = storeq;
    sd->conf = conf_ref(conf);
    sd->append = append;
    sd->ctr = ctr;
    sd->stopping = stopping;
    sd->dir = xstrdup(conf->spool_dir);
    newdir = xasprintf("%s/new", sd->dir);
    sd->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (sd->inotify_fd >= 0 &&
        (inotify_add_watch(sd->inotify_fd, newdir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0 ||
         evloop_add(loop, sd->inotify_fd, EVLOOP_READ, drain_inotify, sd) < 0)) {
        msg_warn("spool: cannot watch %s (%s): scanning every %d s only", newdir,
                 strerror(errno), conf->spool_scan_interval);
        close(sd->inotify_fd);
        sd->inotify_fd = -1;
    }
    free(newdir);
    drain_scan_timer(loop, sd);
    return sd;
}

void spool_drain_reconfigure(struct spool_drain *sd, mh_conf_t *conf)
{
    conf_ref(conf);
    conf_unref(sd->conf);
    sd->conf = conf;
}

bool spool_drain_settled(const struct spool_drain *sd)
{
    return sd == NULL || sd->settled;
}

/* Call after storeq_stop(): no job of ours is in flight any more. */
struct spool_drain *spool_drain_free(struct spool_drain *sd)
{
    if (sd == NULL)
        return NULL;
    if (sd->inotify_fd >= 0) {
        evloop_del(sd->loop, sd->inotify_fd);
        close(sd->inotify_fd);
    }
    if (sd->scan_timer)
        evloop_timer_cancel(sd->loop, sd->scan_timer);
    free(sd->dir);
    conf_unref(sd->conf);
    free(sd);
    return NULL;
}
