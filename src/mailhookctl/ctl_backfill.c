/* SPDX-License-Identifier: MIT */
/*
 * ctl_backfill.c - `mailhookctl backfill` (see ctl_backfill.h): rotated
 * logs through the reader's parser and correlator, the events in range to
 * mailhookd in chunks, with progress on a terminal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin_proto.h"
#include "ctl_backfill.h"
#include "ctl_lines.h"
#include "maillog_correlate.h"
#include "maillog_parse.h"
#include "timeutil.h"
#include "xalloc.h"

#define BF_SYNOPSIS CTL_BACKFILL_SYNOPSIS
/* Events per request, by bytes: the request line must stay within
 * ADMIN_REQUEST_MAX with room for the envelope. */
#define BF_CHUNK_BYTES (ADMIN_REQUEST_MAX - 4096)
#define BF_PROGRESS_MS 200

struct bf_file {
    const char *path;
    time_t mtime;
    int order; /* as given, for ties */
};

struct bf_run {
    struct ctl *ctl;
    const char *endpoint;
    int64_t since, until; /* [since, until); until 0 = no end */
    int64_t expired_before; /* retention: without an endpoint, older ones are not sent */
    bool progress;        /* stderr is a terminal */
    maillog_correlate_t *mlc;
    struct ml_clock clock;
    json_t *chunk; /* events to send */
    size_t chunk_bytes;
    /* figures */
    uint64_t lines, skipped_garbage, skipped_long, events, in_range, too_big, too_old;
    json_int_t stored, duplicates, superseded, enqueued;
    /* progress */
    const char *file;
    size_t fileno, nfiles;
    uint64_t done, total;
    int64_t shown_ms;
};

static void bf_show(struct bf_run *run, bool force)
{
    int64_t now = time_now_ms();

    if (!run->progress || (!force && now - run->shown_ms < BF_PROGRESS_MS))
        return;
    run->shown_ms = now;
    fprintf(stderr, "\r\033[Kbackfill: [%zu/%zu] %s %3d%%  %llu lines, %llu events in range, "
                    "%lld stored",
            run->fileno, run->nfiles, run->file,
            run->total ? (int)(run->done * 100 / run->total) : 0,
            (unsigned long long)run->lines, (unsigned long long)run->in_range,
            (long long)run->stored);
}

/* Send the chunk (if any) and account for the answer. */
static void bf_flush(struct bf_run *run)
{
    json_t *req, *r;

    if (json_array_size(run->chunk) == 0)
        return;
    req = json_pack("{s:s,s:O}", "cmd", "backfill", "events", run->chunk);
    if (run->endpoint)
        json_object_set_new(req, "endpoint", json_string(run->endpoint));
    r = ctl_call(run->ctl, req);
    run->stored += ctl_int(r, "stored");
    run->duplicates += ctl_int(r, "duplicates");
    run->superseded += ctl_int(r, "superseded");
    run->enqueued += ctl_int(r, "enqueued");
    json_decref(r);
    json_array_clear(run->chunk);
    run->chunk_bytes = 0;
}

static void bf_event(void *ctx, event_t *ev)
{
    struct bf_run *run = ctx;
    json_t *o;
    size_t len;
    char *s;

    run->events++;
    if (ev->ts_ms < run->since || (run->until && ev->ts_ms >= run->until)) {
        event_free(ev);
        return;
    }
    run->in_range++;
    /* Older than retention_days: only an endpoint asked for gets it
     * (ctl_backfill.h). */
    if (run->endpoint == NULL && ev->ts_ms < run->expired_before) {
        run->too_old++;
        event_free(ev);
        return;
    }
    s = event_to_json(ev, &len);
    if (len > BF_CHUNK_BYTES) { /* never from a log line of at most max_line */
        fprintf(stderr, "mailhookctl: %s: event %s is too large to send (%zu bytes); skipped\n",
                run->file, ev->id, len);
        run->too_big++;
    } else {
        if (run->chunk_bytes + len + 1 > BF_CHUNK_BYTES)
            bf_flush(run);
        if ((o = json_loadb(s, len, 0, NULL)) != NULL) {
            json_array_append_new(run->chunk, o);
            run->chunk_bytes += len + 1;
        }
    }
    free(s);
    event_free(ev);
}

static void bf_line(void *ctx, const char *line, size_t len)
{
    struct bf_run *run = ctx;
    struct ml_rec rec;

    run->lines++;
    if (line == NULL)
        run->skipped_long++;
    else if (maillog_parse(line, len, &run->clock, &rec) < 0)
        run->skipped_garbage++;
    else
        maillog_correlate_feed(run->mlc, &rec);
}

static void bf_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct bf_run *run = ctx;

    run->done = done;
    run->total = total;
    bf_show(run, false);
}

/* The maillog section whose reader the files stand for. */
static const struct mh_conf_maillog *bf_section(const mh_conf_t *conf, const char *name)
{
    for (size_t i = 0; i < conf->n_maillogs; i++)
        if (name == NULL || strcmp(conf->maillogs[i].name, name) == 0) {
            if (name == NULL && conf->n_maillogs > 1)
                ctl_bad_usage(BF_SYNOPSIS, "the configuration has %zu maillog sections: name "
                                           "one with --source", conf->n_maillogs);
            return &conf->maillogs[i];
        }
    if (name)
        ctl_bad_usage(BF_SYNOPSIS, "no maillog section \"%s\" in the configuration", name);
    ctl_bad_usage(BF_SYNOPSIS, "the configuration has no maillog section: name the source "
                               "(the section the daemon reads the log as) with --source");
}

static int bf_file_cmp(const void *a, const void *b)
{
    const struct bf_file *x = a, *y = b;

    if (x->mtime != y->mtime)
        return x->mtime < y->mtime ? -1 : 1;
    return x->order - y->order;
}

static void bf_report(const struct bf_run *run, const char *source)
{
    json_t *r;

    if (run->ctl->json) {
        r = json_pack("{s:b,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "ok", 1, "source", source,
                      "files", (json_int_t)run->nfiles, "lines", (json_int_t)run->lines,
                      "events", (json_int_t)run->events, "in_range", (json_int_t)run->in_range,
                      "older_than_retention", (json_int_t)run->too_old,
                      "stored", run->stored, "duplicates", run->duplicates, "superseded",
                      run->superseded, "enqueued", run->enqueued);
        ctl_print_json(r);
        json_decref(r);
        return;
    }
    printf("backfill %s: %zu files, %llu lines (%llu skipped), %llu events, %llu in range: "
           "%lld stored, %lld already stored, %lld superseded by the milter's",
           source, run->nfiles, (unsigned long long)run->lines,
           (unsigned long long)(run->skipped_garbage + run->skipped_long),
           (unsigned long long)run->events, (unsigned long long)run->in_range,
           (long long)run->stored, (long long)run->duplicates, (long long)run->superseded);
    if (run->too_old)
        printf("; %llu older than retention_days not sent (use --endpoint)",
               (unsigned long long)run->too_old);
    if (run->endpoint)
        printf("; %lld queued for %s", (long long)run->enqueued, run->endpoint);
    printf("\n");
}

int ctl_backfill(struct ctl *ctl, int argc, char **argv)
{
    static const struct option opts[] = {
        { "since", required_argument, NULL, 's' },  { "until", required_argument, NULL, 'u' },
        { "endpoint", required_argument, NULL, 'e' }, { "source", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    struct bf_run run = { .ctl = ctl, .progress = isatty(STDERR_FILENO) == 1 };
    const struct mh_conf_maillog *sec;
    const char *source = NULL;
    struct bf_file *files;
    struct maillog_correlate_opts mo;
    struct stat sb;
    size_t nfiles = 0;
    int ch, rc = EX_OK;

    optind = 0;
    while ((ch = ctl_getopt(argc, argv, opts, BF_SYNOPSIS)) != -1) {
        switch (ch) {
        case 's': run.since = ctl_time("--since", optarg, BF_SYNOPSIS); break;
        case 'u': run.until = ctl_time("--until", optarg, BF_SYNOPSIS); break;
        case 'e': run.endpoint = optarg; break;
        default: source = optarg; /* 'n' */
        }
    }
    if (optind >= argc)
        ctl_usage(BF_SYNOPSIS);
    if (run.until && run.until <= run.since)
        ctl_bad_usage(BF_SYNOPSIS, "--until must be after --since");
    sec = bf_section(ctl->conf, source);
    if (ctl->conf->retention_days > 0)
        run.expired_before = time_now_ms() - ctl->conf->retention_days * 86400000LL;
    /* The reader's options, so the same lines make the same events. */
    mo = (struct maillog_correlate_opts){
        .max_messages = (size_t)sec->max_messages,
        .max_age_s = sec->max_age,
        .emit_sent = sec->emit_sent,
        .include_bounces = sec->include_bounces,
        .sender_domains = (const char *const *)sec->sender_domains,
        .sasl_users = (const char *const *)sec->sasl_users,
        .content_filters = (const char *const *)sec->content_filters,
        .filter_window_s = sec->content_filter_window,
        .filtered_event = sec->filtered_event,
        .discard_event = sec->discard_event,
        .no_persist = true,
        .source = sec->name,
    };
    /* Oldest first: a message's lines may span two files. */
    files = xcalloc((size_t)(argc - optind), sizeof(*files));
    for (int i = optind; i < argc; i++) {
        if (stat(argv[i], &sb) < 0) {
            fprintf(stderr, "mailhookctl: %s: %s\n", argv[i], strerror(errno));
            rc = EX_NOINPUT;
            continue;
        }
        files[nfiles++] = (struct bf_file){ argv[i], sb.st_mtime, i };
    }
    qsort(files, nfiles, sizeof(*files), bf_file_cmp);
    run.nfiles = nfiles;
    run.chunk = json_array();
    maillog_parse_init();
    maillog_clock_init(&run.clock, time_now_ms()); /* local time: the zone's rules (TZ) */
    run.mlc = maillog_correlate_new(&mo, bf_event, &run);
    for (size_t i = 0; i < nfiles; i++) {
        int fd = open(files[i].path, O_RDONLY | O_CLOEXEC);

        run.file = files[i].path;
        run.fileno = i + 1;
        run.done = run.total = 0;
        if (fd < 0) {
            fprintf(stderr, "mailhookctl: %s: %s\n", files[i].path, strerror(errno));
            rc = EX_NOINPUT;
            continue;
        }
        /* a file's year is its own clock's: its mtime */
        maillog_clock_set_anchor(&run.clock, (int64_t)files[i].mtime * 1000);
        bf_show(&run, true);
        if (ctl_lines_read(fd, files[i].path, (size_t)sec->max_line, bf_line, bf_progress,
                           &run) < 0)
            rc = EX_IOERR;
        close(fd);
    }
    bf_flush(&run);
    bf_show(&run, true);
    if (run.progress)
        fputc('\n', stderr);
    bf_report(&run, sec->name);
    maillog_correlate_free(run.mlc);
    maillog_parse_done();
    json_decref(run.chunk);
    free(files);
    return rc;
}
