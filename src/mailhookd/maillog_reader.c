/* SPDX-License-Identifier: MIT */
/*
 * maillog_reader.c - follow a maillog, correlate, commit with the position
 * (see maillog_reader.h).
 *
 * Life of a source: LOADING (a store job reads the checkpoint and the saved
 * correlation states) -> FOLLOWING (pump: read up to batch_lines lines,
 * parse, correlate, hand events + position + changed states to the store
 * thread as one job; on completion pump again) -> on a failed commit, a
 * checkpoint that cannot be read or a log that cannot be opened, RESETTING
 * (wait, then LOADING again from what was committed). The waits back off
 * from READER_RETRY_MS to READER_RETRY_MAX_MS while the failures go on; each
 * distinct failure is warned once, shown in the status ("error"), and its
 * end is logged; a working commit or open starts the waits short again.
 *
 * Year inference (maillog_parse.h) is anchored at the log's mtime while the
 * reader catches up with what the file held, and at the current time once
 * it has read to the end (lines being written now).
 *
 * Checkpoint keys in the store's checkpoint table:
 *   "maillog/NAME/pos"      the source's position (maillog_source_pos_encode)
 *   "maillog/NAME/q/QID"    one correlation state per tracked queue id
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich.h"
#include "maillog_correlate.h"
#include "maillog_parse.h"
#include "maillog_reader.h"
#include "maillog_source.h"
#include "spool_drain.h"
#include "storeq.h"
#include "timeutil.h"
#include "xalloc.h"

#define READER_POLL_MS 500      /* besides inotify */
#define READER_RETRY_MS 2000    /* after an error, doubled while errors go on... */
#define READER_RETRY_MAX_MS 60000 /* ...up to this */
#define READER_LAG_RING 8192    /* recent read-to-commit delays kept for percentiles */
#define READER_RELEASE_MAX 1000 /* expired holds released per job (enrich.h) */

enum reader_state { R_LOADING, R_FOLLOWING, R_RESETTING, R_STOPPED };

struct reader_counters {
    uint64_t lines, skipped_garbage, skipped_other, skipped_own, skipped_long, events, commits,
        errors;
};

struct kv_change {
    char *key;
    char *val; /* NULL = delete */
};

/* One run of lines on its way through the store thread. */
struct reader_job {
    struct maillog_reader *r;
    event_t **evs;
    size_t nev, cap;
    enum store_append_result *res;
    struct kv_change *kv;
    size_t nkv, kvcap;
    /* LOADING only: what the store held */
    char *pos_json;
    json_t *states; /* {qid: json-text} */
    int64_t read_mono_ms; /* FOLLOWING: when its lines were read */
    /* releasing expired holds (enrich.h): the next deadline left, 0 = none */
    bool release;
    int64_t next_release_ms;
    int rc;
    mh_err_t err;
};

struct maillog_reader {
    evloop_t *loop;
    storeq_t *storeq;
    append_t *append;           /* the path into the store (append.h) */
    struct mhd_counters *counters; /* the daemon's (unenriched) */
    const struct spool_drain *drain; /* nothing is emitted before it settled */
    const bool *stopping;       /* the daemon's */
    char *name;
    struct mh_conf_maillog src; /* shallow copy; strings owned by the config snapshot */
    mh_conf_t *conf;            /* the snapshot src points into (a reference) */
    enum reader_state state;
    maillog_source_t *source;   /* the file or the journal (maillog_source.h); owns inotify_fd */
    maillog_correlate_t *mlc;
    struct ml_clock clock;
    struct reader_job *job;   /* being filled (FOLLOWING) */
    bool busy;                /* a job is in the store thread */
    int inotify_fd;
    uint64_t timer;
    int64_t last_ts;          /* newest line time: drives maillog_correlate_expire */
    bool caught_up;           /* read to the end once since the load: anchor = now */
    int64_t release_ms;       /* holds for the milter's record (enrich.h) may be
                                 due from then on (wall clock); 0 = none known */
    struct reader_counters ctr;
    int32_t lag_ms[READER_LAG_RING]; /* commit time - read time, recent events */
    size_t nlag;                     /* total recorded (ring index = nlag % size) */
    /* RESETTING: why, and when to try again */
    char *error;              /* the failure going on (warned once), NULL when none */
    bool error_commit;        /* it is a commit's: only a working commit ends the back-off */
    int64_t retry_ms;         /* the next wait */
    uint64_t reset_timer;
};

static void reader_pump(struct maillog_reader *r);
static void reader_load(struct maillog_reader *r);
static void release_done(struct maillog_reader *r, struct reader_job *j);

static char *reader_key(const struct maillog_reader *r, const char *suffix)
{
    return xasprintf("maillog/%s/%s", r->name, suffix);
}

/* ------------------------------------------------------------ jobs */

static struct reader_job *job_new(struct maillog_reader *r)
{
    struct reader_job *j = xcalloc(1, sizeof(*j));

    j->r = r;
    return j;
}

static void job_free(struct reader_job *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->nev; i++)
        event_free(j->evs[i]);
    for (size_t i = 0; i < j->nkv; i++) {
        free(j->kv[i].key);
        free(j->kv[i].val);
    }
    free(j->evs);
    free(j->res);
    free(j->kv);
    free(j->pos_json);
    json_decref(j->states);
    free(j);
}

/* Takes key (allocated); copies val (NULL = delete the key). */
static void job_add_kv(struct reader_job *j, char *key, const char *val)
{
    if (j->nkv == j->kvcap) {
        j->kvcap = j->kvcap ? j->kvcap * 2 : 64;
        j->kv = xreallocarray(j->kv, j->kvcap, sizeof(*j->kv));
    }
    j->kv[j->nkv++] = (struct kv_change){ key, val ? xstrdup(val) : NULL };
}

/* mlc emit callback: the event joins the job being filled. */
static void reader_collect(void *ctx, event_t *ev)
{
    struct reader_job *j = ((struct maillog_reader *)ctx)->job;

    if (j->nev == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 256;
        j->evs = xreallocarray(j->evs, j->cap, sizeof(*j->evs));
    }
    j->evs[j->nev++] = ev;
}

static void reader_collect_state(void *ctx, const char *qid, const char *json)
{
    struct maillog_reader *r = ctx;
    char *suffix = xasprintf("q/%s", qid);

    job_add_kv(r->job, reader_key(r, suffix), json);
    free(suffix);
}

/* Store thread: events, position and states in one transaction. */
static void commit_work(store_t *st, void *ctx)
{
    struct reader_job *j = ctx;
    store_txn_t *txn = store_begin(st, &j->err);

    j->rc = -1;
    if (txn == NULL)
        return;
    j->res = xcalloc(j->nev ? j->nev : 1, sizeof(*j->res));
    if (append_log_events_txn(j->r->append, st, txn, j->evs, j->nev,
                              j->r->src.milter_wait > 0
                                  ? time_now_ms() + j->r->src.milter_wait * 1000LL : 0,
                              j->res, &j->err) < 0)
        goto abort;
    for (size_t i = 0; i < j->nkv; i++) {
        int rc = j->kv[i].val
                     ? store_kv_put(txn, STORE_CHECKPOINTS, j->kv[i].key, j->kv[i].val,
                                    strlen(j->kv[i].val), &j->err)
                     : store_kv_del(txn, STORE_CHECKPOINTS, j->kv[i].key, &j->err);
        if (rc < 0)
            goto abort;
    }
    j->rc = store_commit(txn, &j->err);
    return;
abort:
    store_abort(txn);
}

static void reader_reset_later(struct maillog_reader *r);
static void reader_fail(struct maillog_reader *r, bool commit, const char *reason);
static void reader_recovered(struct maillog_reader *r);

/*
 * The reader's own delay: from reading the lines to committing the events
 * they gave, per event. Not the age of the lines (an old log read today is
 * not a slow reader): how far behind the log the reader is, is
 * behind_bytes and newest_line_age_ms in the status.
 */
static void reader_record_lag(struct maillog_reader *r, const struct reader_job *j)
{
    int64_t lag = time_mono_ms() - j->read_mono_ms;
    int32_t v = lag < 0 ? 0 : lag > INT32_MAX ? INT32_MAX : (int32_t)lag;

    for (size_t i = 0; i < j->nev; i++)
        r->lag_ms[r->nlag++ % READER_LAG_RING] = v;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

/* p50 and p99 of the recent lags, -1 when none. */
static void reader_lag_percentiles(const struct maillog_reader *r, json_int_t *p50, json_int_t *p99)
{
    size_t n = r->nlag < READER_LAG_RING ? r->nlag : READER_LAG_RING;
    int32_t *copy;

    *p50 = *p99 = -1;
    if (n == 0)
        return;
    copy = xmemdup(r->lag_ms, n * sizeof(*copy));
    qsort(copy, n, sizeof(*copy), cmp_i32);
    *p50 = copy[n / 2];
    *p99 = copy[n * 99 / 100];
    free(copy);
}

/* Loop thread: the run is committed (or not). */
static void commit_done(void *ctx)
{
    struct reader_job *j = ctx;
    struct maillog_reader *r = j->r;

    r->busy = false;
    if (j->release) {
        release_done(r, j);
        job_free(j);
        if (r->state == R_FOLLOWING && !*r->stopping)
            reader_pump(r);
        return;
    }
    if (j->rc < 0) {
        char *reason = xasprintf("cannot commit events and the position: %s", j->err.text);

        job_free(j);
        reader_fail(r, true, reason);
        free(reason);
        reader_reset_later(r);
        return;
    }
    reader_recovered(r);
    r->ctr.commits++;
    r->ctr.events += j->nev;
    reader_record_lag(r, j);
    if (j->nev)
        append_count(r->append, j->res, j->nev);
    for (size_t i = 0; i < j->nev && r->release_ms == 0; i++)
        if (j->res[i] == STORE_HELD) /* the store's deadline is before this */
            r->release_ms = time_now_ms() + r->src.milter_wait * 1000LL;
    job_free(j);
    /* Shutting down: stop at this commit; the checkpoint resumes us next start. */
    if (r->state == R_FOLLOWING && !*r->stopping)
        reader_pump(r);
}

/* Store thread: the held events whose wait is over go out as they are. */
static void release_work(store_t *st, void *ctx)
{
    struct reader_job *j = ctx;
    store_txn_t *txn = store_begin(st, &j->err);

    j->rc = -1;
    if (txn == NULL)
        return;
    if (enrich_take_expired(st, txn, time_now_ms(), READER_RELEASE_MAX, &j->evs, &j->nev,
                            &j->next_release_ms, &j->err) < 0)
        goto abort;
    j->cap = j->nev;
    j->res = xcalloc(j->nev ? j->nev : 1, sizeof(*j->res));
    if (append_events_txn(j->r->append, st, txn, j->evs, j->nev, j->res, &j->err) < 0)
        goto abort;
    j->rc = store_commit(txn, &j->err);
    return;
abort:
    store_abort(txn);
}

/* Loop thread (commit_done for a release job). */
static void release_done(struct maillog_reader *r, struct reader_job *j)
{
    if (j->rc < 0) {
        msg_warn("maillog %s: cannot release held events: %s; trying again", r->name,
                 j->err.text);
        r->ctr.errors++;
        r->release_ms = time_now_ms() + READER_RETRY_MS;
        return;
    }
    r->release_ms = j->next_release_ms;
    r->ctr.events += j->nev;
    r->counters->unenriched += j->nev;
    if (j->nev) {
        append_count(r->append, j->res, j->nev);
        msg_info("maillog %s: %zu events released without the milter's record (milter_wait "
                 "%d s)", r->name, j->nev, r->src.milter_wait);
    }
}

/* Hand the due holds to the store thread, when some may be due. */
static bool reader_release(struct maillog_reader *r)
{
    struct reader_job *j;

    if (r->release_ms == 0 || time_now_ms() < r->release_ms || r->busy ||
        r->state != R_FOLLOWING || *r->stopping || !spool_drain_settled(r->drain))
        return false;
    j = job_new(r);
    j->release = true;
    r->busy = true;
    storeq_submit(r->storeq, release_work, commit_done, j);
    return true;
}

/* ------------------------------------------------------------ following */

static void reader_line(struct maillog_reader *r, const char *line, size_t len, bool truncated)
{
    struct ml_rec rec;

    r->ctr.lines++;
    if (truncated) {
        r->ctr.skipped_long++;
        return;
    }
    switch (maillog_parse(line, len, &r->clock, &rec)) {
    case ML_PARSED: break;
    case ML_OTHER_PROGRAM: r->ctr.skipped_other++; return;
    case ML_OWN: r->ctr.skipped_own++; return; /* our own warnings, via facility mail */
    default: r->ctr.skipped_garbage++; return;
    }
    if (rec.ts_ms > r->last_ts)
        r->last_ts = rec.ts_ms;
    maillog_correlate_feed(r->mlc, &rec);
}

/* The year-inference anchor for the next run of lines: the log's mtime
 * while the lines it held are being caught up with, then the current time. */
static void reader_anchor(struct maillog_reader *r)
{
    int64_t written = r->caught_up ? -1 : maillog_source_written_ms(r->source);

    maillog_clock_set_anchor(&r->clock, written >= 0 ? written : time_now_ms());
}

/* Read a run of lines and hand it to the store thread. */
static void reader_pump(struct maillog_reader *r)
{
    const char *line;
    char *pos_json;
    size_t len, n = 0;
    bool truncated, moved = false, flushed;
    int64_t flush_ms;

    if (r->state != R_FOLLOWING || r->busy || *r->stopping)
        return;
    /* The milter's spooled records first (spool_drain.h), and due holds. */
    if (!spool_drain_settled(r->drain) || reader_release(r))
        return;
    r->job = job_new(r);
    r->job->read_mono_ms = time_mono_ms();
    reader_anchor(r);
    while (n < (size_t)r->src.batch_lines &&
           maillog_source_next(r->source, &line, &len, &truncated) == 1) {
        reader_line(r, line, len, truncated);
        moved = true;
        n++;
    }
    if (n < (size_t)r->src.batch_lines)
        r->caught_up = true; /* read to the end: what comes now is being written now */
    /* Held events whose wait is over: by the wall clock once the reader is
     * at the end (a quiet log must not keep them), by the log's own time
     * while it catches up (the line a hold waits for may be in the next run). */
    flush_ms = n < (size_t)r->src.batch_lines ? time_now_ms() : r->last_ts;
    flushed = maillog_correlate_flush(r->mlc, flush_ms) > 0;
    if (!moved && !flushed) {
        job_free(r->job);
        r->job = NULL;
        return;
    }
    if (r->last_ts)
        maillog_correlate_expire(r->mlc, r->last_ts);
    maillog_correlate_take_dirty(r->mlc, reader_collect_state, r);
    if (moved) { /* a flush on a quiet log keeps the position */
        pos_json = maillog_source_pos_encode(r->source);
        job_add_kv(r->job, reader_key(r, "pos"), pos_json);
        free(pos_json);
    }
    r->busy = true;
    storeq_submit(r->storeq, commit_work, commit_done, r->job);
    r->job = NULL;
}

static void reader_timer(evloop_t *l, void *ctx)
{
    struct maillog_reader *r = ctx;

    r->timer = 0;
    if (r->state == R_STOPPED)
        return;
    maillog_source_process(r->source); /* inotify does not fire on network filesystems */
    reader_pump(r);
    r->timer = evloop_timer_add(l, READER_POLL_MS, reader_timer, r);
}

static void reader_inotify(evloop_t *l, int fd, unsigned what, void *ctx)
{
    struct maillog_reader *r = ctx;

    (void)fd;
    maillog_source_process(r->source);
    reader_pump(r);
}

/* ------------------------------------------------------------ loading */

struct load_scan {
    const char *prefix;
    size_t plen;
    json_t *states;
};

static int load_scan_one(void *ctx, const char *key, const void *val, size_t len)
{
    struct load_scan *ls = ctx;

    if (strncmp(key, ls->prefix, ls->plen) == 0)
        json_object_set_new(ls->states, key + ls->plen, json_stringn(val, len));
    return 0;
}

/* Store thread: read the checkpoint and the saved states. */
static void load_work(store_t *st, void *ctx)
{
    struct reader_job *j = ctx;
    char *key = reader_key(j->r, "pos"), *prefix = reader_key(j->r, "q/");
    struct load_scan ls = { prefix, strlen(prefix), json_object() };
    void *val = NULL;
    size_t len;

    j->rc = store_kv_get(st, STORE_CHECKPOINTS, key, &val, &len, &j->err);
    if (j->rc == 0)
        j->pos_json = val;
    if (j->rc >= 0 && store_kv_scan(st, STORE_CHECKPOINTS, NULL, load_scan_one, &ls, &j->err) < 0)
        j->rc = -1;
    j->states = ls.states;
    free(key);
    free(prefix);
}

static void reader_new_mlc(struct maillog_reader *r)
{
    struct maillog_correlate_opts o = {
        .max_messages = (size_t)r->src.max_messages,
        .max_age_s = r->src.max_age,
        .emit_sent = r->src.emit_sent,
        .include_bounces = r->src.include_bounces,
        .sender_domains = (const char *const *)r->src.sender_domains,
        .sasl_users = (const char *const *)r->src.sasl_users,
        .content_filters = (const char *const *)r->src.content_filters,
        .filter_window_s = r->src.content_filter_window,
        .filtered_event = r->src.filtered_event,
        .discard_event = r->src.discard_event,
        .source = r->name,
    };

    r->mlc = maillog_correlate_new(&o, reader_collect, r);
}

static void load_done(void *ctx)
{
    struct reader_job *j = ctx;
    struct maillog_reader *r = j->r;
    const char *qid;
    json_t *v;
    mh_err_t err;
    size_t restored = 0;

    if (r->state == R_STOPPED) {
        job_free(j);
        return;
    }
    if (j->rc < 0) {
        char *reason = xasprintf("cannot read the checkpoint: %s", j->err.text);

        job_free(j);
        reader_fail(r, false, reason);
        free(reason);
        reader_reset_later(r);
        return;
    }
    /* not warned here: reader_fail warns once per distinct failure */
    if ((r->source = maillog_source_open(&r->src, j->pos_json, &err)) == NULL) {
        job_free(j);
        reader_fail(r, false, err.text);
        reader_reset_later(r);
        return;
    }
    if (!r->error_commit)
        reader_recovered(r);
    reader_new_mlc(r);
    json_object_foreach(j->states, qid, v) {
        if (maillog_correlate_restore(r->mlc, qid, json_string_value(v), &err) < 0)
            msg_warn("maillog %s: %s", r->name, err.text);
        else
            restored++;
    }
    r->release_ms = time_now_ms(); /* holds left from before are released when due */
    msg_info("maillog %s: following %s from %s (%zu queue ids restored)", r->name,
             maillog_source_describe(r->source),
             j->pos_json ? "the checkpoint" : r->src.start_at, restored);
    job_free(j);
    r->state = R_FOLLOWING;
    if (r->inotify_fd < 0 &&
        (r->inotify_fd = maillog_source_fd(r->source)) >= 0)
        evloop_add(r->loop, r->inotify_fd, EVLOOP_READ, reader_inotify, r);
    reader_pump(r);
}

static void reader_load(struct maillog_reader *r)
{
    struct reader_job *j = job_new(r);

    r->state = R_LOADING;
    /* year inference starts again; local time needs nothing kept (zone rules) */
    maillog_clock_init(&r->clock, time_now_ms());
    r->caught_up = false;
    storeq_submit(r->storeq, load_work, load_done, j);
}

static void reset_timer(evloop_t *l, void *ctx)
{
    struct maillog_reader *r = ctx;

    r->reset_timer = 0;
    if (r->state == R_RESETTING)
        reader_load(r);
}

/* A failure: counted, warned when it is not the one already going on, and
 * shown in the status until the reader works again. */
static void reader_fail(struct maillog_reader *r, bool commit, const char *reason)
{
    r->ctr.errors++;
    if (r->error == NULL || strcmp(r->error, reason) != 0) {
        msg_warn("maillog %s: %s; retrying, less often while it lasts (warned once)", r->name,
                 reason);
        free(r->error);
        r->error = xstrdup(reason);
    }
    r->error_commit = commit;
}

/* The source opened, or a commit went through: the failure is over. */
static void reader_recovered(struct maillog_reader *r)
{
    if (r->error != NULL) {
        msg_info("maillog %s: working again (was: %s)", r->name, r->error);
        free(r->error);
        r->error = NULL;
    }
    r->error_commit = false;
    r->retry_ms = READER_RETRY_MS;
}

/* Forget everything in memory; reload what the store committed, after a
 * wait that doubles while failures go on. */
static void reader_reset_later(struct maillog_reader *r)
{
    if (r->inotify_fd >= 0) {
        evloop_del(r->loop, r->inotify_fd);
        r->inotify_fd = -1; /* owned by the tail */
    }
    r->source = maillog_source_close(r->source);
    r->mlc = maillog_correlate_free(r->mlc);
    r->state = R_RESETTING;
    if (r->reset_timer == 0)
        r->reset_timer = evloop_timer_add(r->loop, r->retry_ms, reset_timer, r);
    r->retry_ms = r->retry_ms * 2 > READER_RETRY_MAX_MS ? READER_RETRY_MAX_MS : r->retry_ms * 2;
}

/* ------------------------------------------------------------ public */

struct maillog_reader *maillog_reader_start(evloop_t *loop, storeq_t *storeq, mh_conf_t *conf,
                                            const struct mh_conf_maillog *src, append_t *append,
                                            struct mhd_counters *ctr,
                                            const struct spool_drain *drain, const bool *stopping)
{
    struct maillog_reader *r = xcalloc(1, sizeof(*r));

    maillog_parse_init();
    r->loop = loop;
    r->storeq = storeq;
    r->append = append;
    r->counters = ctr;
    r->drain = drain;
    r->stopping = stopping;
    r->conf = conf_ref(conf);
    r->src = *src;
    r->name = xstrdup(src->name);
    r->inotify_fd = -1;
    r->retry_ms = READER_RETRY_MS;
    reader_load(r);
    r->timer = evloop_timer_add(loop, READER_POLL_MS, reader_timer, r);
    return r;
}

json_t *maillog_reader_status(const struct maillog_reader *r)
{
    const struct maillog_correlate_stats *m = r->mlc ? maillog_correlate_stats(r->mlc) : NULL;
    static const char *const states[] = { "loading", "following", "resetting", "stopped" };
    json_int_t p50, p99;
    json_t *o;

    reader_lag_percentiles(r, &p50, &p99);
    o = json_pack("{s:s?,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "path", r->src.path, "state",
                  states[r->state], "lines", (json_int_t)r->ctr.lines, "skipped_garbage",
                  (json_int_t)r->ctr.skipped_garbage, "skipped_long",
                  (json_int_t)r->ctr.skipped_long, "events", (json_int_t)r->ctr.events,
                  "commits", (json_int_t)r->ctr.commits, "errors", (json_int_t)r->ctr.errors,
                  "delay_ms_p50", p50, "delay_ms_p99", p99);
    json_object_update_missing_new(o, json_pack("{s:I,s:I,s:I,s:I,s:s?}", "skipped_other",
                  (json_int_t)r->ctr.skipped_other, "skipped_own", (json_int_t)r->ctr.skipped_own,
                  "behind_bytes", (json_int_t)maillog_source_behind_bytes(r->source, r->caught_up),
                  "newest_line_age_ms", (json_int_t)(r->last_ts ? time_now_ms() - r->last_ts : -1),
                  "error", r->error));
    json_object_update_missing_new(o, json_pack("{s:I,s:I,s:I,s:I,s:I}", "tracked",
                  (json_int_t)(m ? m->tracked : 0), "orphans", (json_int_t)(m ? m->orphans : 0),
                  "dropped", (json_int_t)(m ? m->dropped_full + m->dropped_age : 0),
                  "skipped_probe", (json_int_t)(m ? m->skipped_probe : 0), "skipped_bounce",
                  (json_int_t)(m ? m->skipped_bounce : 0)));
    json_object_update_missing_new(o, json_pack("{s:I,s:I}", "filter_hops",
                  (json_int_t)(m ? m->filter_hops : 0), "filter_unlinked",
                  (json_int_t)(m ? m->filter_unlinked : 0)));
    return o;
}

const char *maillog_reader_name(const struct maillog_reader *r)
{
    return r->name;
}

struct maillog_reader *maillog_reader_stop(struct maillog_reader *r)
{
    if (r == NULL)
        return NULL;
    r->state = R_STOPPED;
    if (r->timer)
        evloop_timer_cancel(r->loop, r->timer);
    if (r->reset_timer)
        evloop_timer_cancel(r->loop, r->reset_timer);
    if (r->inotify_fd >= 0)
        evloop_del(r->loop, r->inotify_fd);
    maillog_source_close(r->source);
    maillog_correlate_free(r->mlc);
    conf_unref(r->conf);
    free(r->error);
    free(r->name);
    free(r);
    return NULL;
}
