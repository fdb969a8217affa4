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
 *   "maillog/NAME/pos"      the tail position (tail_pos_encode JSON)
 *   "maillog/NAME/q/QID"    one correlation state per tracked queue id
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrich.h"
#include "maillog_correlate.h"
#include "maillog_parse.h"
#include "maillog_reader.h"
#include "journal_source.h"
#include "spool_drain.h"
#include "storeq.h"
#include "tail_file.h"
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
    tail_t *tail;               /* type "file" */
    journal_source_t *journal;  /* type "journald" */
    char *cursor;               /* journald: cursor after the last line read */
    size_t cursor_cap;
    mlc_t *mlc;
    struct ml_clock clock;
    struct reader_job *job;   /* being filled (FOLLOWING) */
    bool busy;                /* a job is in the store thread */
    int inotify_fd;
    uint64_t timer;
    int64_t last_ts;          /* newest line time: drives mlc_expire */
    bool caught_up;           /* read to the end once since the load: anchor = now */
    struct tail_pos pos;      /* after the last line read (type "file", when have_pos) */
    bool have_pos;
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
    mlc_feed(r->mlc, &rec);
}

/* The next line from whichever kind of source this is; for the journal the
 * cursor after it is kept in r->cursor (the file's position goes to pos). */
static int source_next(struct maillog_reader *r, const char **line, size_t *len,
                       bool *truncated, struct tail_pos *pos)
{
    const char *cursor;
    size_t clen;
    int rc;

    if (r->tail)
        return tail_next(r->tail, line, len, truncated, pos);
    if (r->journal == NULL)
        return 0;
    rc = journal_source_next(r->journal, line, len, truncated, &cursor);
    if (rc == 1) {
        clen = strlen(cursor) + 1;
        if (clen > r->cursor_cap)
            r->cursor = xrealloc(r->cursor, r->cursor_cap = clen * 2);
        memcpy(r->cursor, cursor, clen);
    }
    return rc;
}

/* The journal position to commit: {"cursor": "..."} (malloc'ed). */
static char *reader_cursor_json(const struct maillog_reader *r)
{
    json_t *o = json_pack("{s:s}", "cursor", r->cursor ? r->cursor : "");
    char *s = json_dumps(o, JSON_COMPACT);

    json_decref(o);
    return s;
}

/* The year-inference anchor for the next run of lines: the log's mtime
 * while the lines it held are being caught up with, then the current time. */
static void reader_anchor(struct maillog_reader *r)
{
    struct stat sb;

    if (!r->caught_up && r->tail != NULL && stat(r->src.path, &sb) == 0)
        maillog_clock_set_anchor(&r->clock, (int64_t)sb.st_mtim.tv_sec * 1000 +
                                                sb.st_mtim.tv_nsec / 1000000);
    else
        maillog_clock_set_anchor(&r->clock, time_now_ms());
}

/* Read a run of lines and hand it to the store thread. */
static void reader_pump(struct maillog_reader *r)
{
    struct tail_pos pos;
    const char *line;
    char *pos_json;
    size_t len, n = 0;
    bool truncated, moved = false, flushed;

    if (r->state != R_FOLLOWING || r->busy || *r->stopping)
        return;
    /* The milter's spooled records first (spool_drain.h), and due holds. */
    if (!spool_drain_settled(r->drain) || reader_release(r))
        return;
    r->job = job_new(r);
    r->job->read_mono_ms = time_mono_ms();
    reader_anchor(r);
    while (n < (size_t)r->src.batch_lines && source_next(r, &line, &len, &truncated, &pos) == 1) {
        reader_line(r, line, len, truncated);
        moved = true;
        n++;
    }
    if (n < (size_t)r->src.batch_lines)
        r->caught_up = true; /* read to the end: what comes now is being written now */
    if (moved && r->tail) {
        r->pos = pos;
        r->have_pos = true;
    }
    /* Held events whose wait is over: by the wall clock once the reader is
     * at the end (a quiet log must not keep them), by the log's own time
     * while it catches up (the line a hold waits for may be in the next run). */
    flushed = mlc_flush(r->mlc, n < (size_t)r->src.batch_lines ? time_now_ms() : r->last_ts) > 0;
    if (!moved && !flushed) {
        job_free(r->job);
        r->job = NULL;
        return;
    }
    if (r->last_ts)
        mlc_expire(r->mlc, r->last_ts);
    mlc_take_dirty(r->mlc, reader_collect_state, r);
    if (moved) { /* a flush on a quiet log keeps the position */
        pos_json = r->journal ? reader_cursor_json(r) : tail_pos_encode(&pos);
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
    if (r->journal)
        journal_source_process(r->journal); /* inotify does not fire on network filesystems */
    reader_pump(r);
    r->timer = evloop_timer_add(l, READER_POLL_MS, reader_timer, r);
}

static void reader_inotify(evloop_t *l, int fd, unsigned what, void *ctx)
{
    struct maillog_reader *r = ctx;
    char buf[4096];

    if (r->journal)
        journal_source_process(r->journal); /* sd_journal's own fd */
    else
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
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

static void reader_open_journal(struct maillog_reader *r, const char *pos_json, mh_err_t *errp)
{
    json_t *o = pos_json ? json_loads(pos_json, 0, NULL) : NULL;
    const char *cursor = json_string_value(json_object_get(o, "cursor"));
    mh_err_t err;

    /* path, for journald, is a journal directory; unset ("") = the system journal */
    const char *dir = r->src.path[0] ? r->src.path : NULL;
    bool from_start = strcmp(r->src.start_at, "beginning") == 0;

    r->journal = journal_source_open(dir, cursor, from_start, (size_t)r->src.max_line, &err);
    if (r->journal == NULL && cursor) {
        /* A saved cursor it cannot use would fail the same way forever. */
        msg_warn("maillog %s: %s; starting at the %s instead", r->name, err.text,
                 from_start ? "beginning" : "end");
        r->journal = journal_source_open(dir, NULL, from_start, (size_t)r->src.max_line, &err);
    }
    if (r->journal == NULL)
        *errp = err;
    json_decref(o);
}

/* The source opened, or NULL in both and why in *err (not warned: the
 * caller warns once per distinct failure). */
static void reader_open_source(struct maillog_reader *r, const char *pos_json, mh_err_t *errp)
{
    struct tail_pos pos;
    mh_err_t err;

    if (strcmp(r->src.type, "journald") == 0) {
        reader_open_journal(r, pos_json, errp);
        return;
    }
    if (pos_json && tail_pos_decode(pos_json, &pos, &err) == 0)
        r->tail = tail_open(r->src.path, &pos, (size_t)r->src.max_line, &err);
    else if (strcmp(r->src.start_at, "beginning") == 0)
        r->tail = tail_open_from_start(r->src.path, (size_t)r->src.max_line, &err);
    else
        r->tail = tail_open(r->src.path, NULL, (size_t)r->src.max_line, &err);
    if (r->tail == NULL)
        *errp = err;
    else
        tail_set_rotate_wait(r->tail, (unsigned)r->src.rotate_wait * 1000u);
}

/*
 * Why the log at path cannot be opened, in the words the admin needs, or
 * NULL when it is not a matter of permissions (malloc'ed). The usual case:
 * Debian's /var/log/mail.log is root:adm 0640 and the service user is not
 * in group adm yet.
 */
static char *reader_open_hint(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    const struct passwd *pw;
    const struct group *gr;
    struct stat sb;

    if (fd >= 0) {
        close(fd);
        return NULL;
    }
    if (errno != EACCES)
        return NULL;
    pw = getpwuid(geteuid());
    if (stat(path, &sb) == 0 && (sb.st_mode & S_IRGRP) && (gr = getgrgid(sb.st_gid)) != NULL)
        return xasprintf("permission denied: add the %s user to group %s",
                         pw ? pw->pw_name : "mailhook", gr->gr_name);
    return xasprintf("permission denied: the %s user cannot read %s", pw ? pw->pw_name : "mailhook",
                     path);
}

static void reader_new_mlc(struct maillog_reader *r)
{
    struct mlc_opts o = {
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

    r->mlc = mlc_new(&o, reader_collect, r);
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
    reader_open_source(r, j->pos_json, &err);
    if (r->tail == NULL && r->journal == NULL) {
        char *hint = strcmp(r->src.type, "journald") != 0 ? reader_open_hint(r->src.path) : NULL;

        job_free(j);
        reader_fail(r, false, hint ? hint : err.text);
        free(hint);
        reader_reset_later(r);
        return;
    }
    if (!r->error_commit)
        reader_recovered(r);
    reader_new_mlc(r);
    json_object_foreach(j->states, qid, v) {
        if (mlc_restore(r->mlc, qid, json_string_value(v), &err) < 0)
            msg_warn("maillog %s: %s", r->name, err.text);
        else
            restored++;
    }
    r->release_ms = time_now_ms(); /* holds left from before are released when due */
    msg_info("maillog %s: following %s from %s (%zu queue ids restored)", r->name,
             strcmp(r->src.type, "journald") == 0 && !r->src.path[0] ? "the journal" : r->src.path,
             j->pos_json ? "the checkpoint" : r->src.start_at, restored);
    job_free(j);
    r->state = R_FOLLOWING;
    if (r->inotify_fd < 0 &&
        (r->inotify_fd = r->tail ? tail_fd_for_poll(r->tail) : journal_source_fd(r->journal)) >= 0)
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
    r->have_pos = false;
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
    r->tail = tail_close(r->tail);
    r->journal = journal_source_close(r->journal);
    r->mlc = mlc_free(r->mlc);
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

/* Bytes of the log not read yet, as of now; -1 when unknown (journal). */
static json_int_t reader_behind_bytes(const struct maillog_reader *r)
{
    struct stat sb;

    if (r->tail == NULL || stat(r->src.path, &sb) != 0)
        return -1;
    if (!r->have_pos)
        return r->caught_up ? 0 : -1; /* nothing read since the load, and at the end */
    if (sb.st_dev != r->pos.dev || sb.st_ino != r->pos.ino)
        return (json_int_t)sb.st_size; /* finishing a rotated file: the new one is all ahead */
    return sb.st_size > (off_t)r->pos.offset ? (json_int_t)(sb.st_size - (off_t)r->pos.offset) : 0;
}

json_t *maillog_reader_status(const struct maillog_reader *r)
{
    const struct mlc_stats *m = r->mlc ? mlc_stats(r->mlc) : NULL;
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
                  "behind_bytes", reader_behind_bytes(r), "newest_line_age_ms",
                  (json_int_t)(r->last_ts ? time_now_ms() - r->last_ts : -1), "error", r->error));
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
    tail_close(r->tail);
    journal_source_close(r->journal);
    mlc_free(r->mlc);
    conf_unref(r->conf);
    free(r->cursor);
    free(r->error);
    free(r->name);
    free(r);
    return NULL;
}
