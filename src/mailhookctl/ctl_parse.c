/* SPDX-License-Identifier: MIT */
/*
 * ctl_parse.c - mailhookctl parse: maillog files to events, offline
 * (see ctl_parse.h).
 *
 * Files (plain or gzip) are read by ctl_lines.c in large chunks; lines of
 * MAILLOG_LINE_MAX bytes or more are skipped without being buffered.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "ctl_lines.h"
#include "ctl_parse.h"
#include "maillog_correlate.h"
#include "maillog_parse.h"
#include "timeutil.h"
#include "xalloc.h"

#define PARSE_MAX_FILTERS 16 /* --content-filter given at most this often */
#define PARSE_USAGE "usage: mailhookctl " CTL_PARSE_SYNOPSIS "\n"

struct parse_run {
    bool json;
    FILE *out;
    maillog_correlate_t *mlc;
    struct ml_clock clock;
    uint64_t lines, skipped_garbage, skipped_other, skipped_own, skipped_long;
};

/* A string member of the event's data for the terminal: the log line's
 * text made printable (an address may hold any byte but '>'), "" if none. */
static const char *print_member(const event_t *ev, const char *key, char *buf, size_t size)
{
    const json_t *v = json_object_get(ev->data, key);

    return printable(buf, size, json_is_string(v) ? json_string_value(v) : "",
                     json_string_length(v));
}

static void print_event(void *ctx, event_t *ev)
{
    struct parse_run *pr = ctx;
    char ts[RFC3339_MS_LEN + 1], qid[64], rcpt[1024];
    size_t len;
    char *s;

    if (pr->json) {
        s = event_to_json(ev, &len);
        fwrite(s, 1, len, pr->out);
        fputc('\n', pr->out);
        free(s);
    } else {
        fprintf(pr->out, "%s  %-16s %-12s %s\n", time_format_rfc3339(ts, ev->ts_ms), ev->type,
                print_member(ev, "queue_id", qid, sizeof(qid)),
                print_member(ev, "recipient", rcpt, sizeof(rcpt)));
    }
    event_free(ev);
}

static void parse_line(void *ctx, const char *line, size_t len)
{
    struct parse_run *pr = ctx;
    struct ml_rec rec;

    pr->lines++;
    if (line == NULL) {
        pr->skipped_long++;
        return;
    }
    switch (maillog_parse(line, len, &pr->clock, &rec)) {
    case ML_PARSED: maillog_correlate_feed(pr->mlc, &rec); break;
    case ML_OTHER_PROGRAM: pr->skipped_other++; break;
    case ML_OWN: pr->skipped_own++; break;
    default: pr->skipped_garbage++; break;
    }
}

/* Feed every line of fd (plain or gzip); a line of MAILLOG_LINE_MAX bytes or
 * more is skipped. */
static int parse_fd(struct parse_run *pr, int fd, const char *name)
{
    return ctl_lines_read(fd, name, MAILLOG_LINE_MAX, parse_line, NULL, pr);
}

int ctl_parse(int argc, char **argv, bool json)
{
    static const struct option opts[] = {
        { "include-bounces", no_argument, NULL, 'b' }, { "no-sent", no_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' },
        { "content-filter", required_argument, NULL, 'c' },
        { "filtered-event", required_argument, NULL, 'f' },
        { "discard-event", required_argument, NULL, 'd' }, { NULL, 0, NULL, 0 },
    };
    const char *filters[PARSE_MAX_FILTERS + 1] = { NULL };
    size_t nfilters = 0;
    struct maillog_correlate_opts mo = { .emit_sent = true, .no_persist = true };
    struct parse_run pr = { .json = json, .out = stdout };
    const struct maillog_correlate_stats *st;
    struct stat sb;
    int ch, rc = 0;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': mo.include_bounces = true; break;
        case 'n': mo.emit_sent = false; break;
        case 'j': pr.json = true; break;
        case 'c':
            if (!conf_hop_valid(optarg)) {
                fprintf(stderr, "mailhookctl: parse: --content-filter: expected HOST:PORT or "
                                "[HOST]:PORT, not \"%s\"\n", optarg);
                return EX_USAGE;
            }
            if (nfilters == PARSE_MAX_FILTERS) {
                fprintf(stderr, "mailhookctl: parse: at most %d --content-filter\n",
                        PARSE_MAX_FILTERS);
                return EX_USAGE;
            }
            filters[nfilters++] = optarg;
            mo.content_filters = filters;
            break;
        case 'f':
            if (strcmp(optarg, "failed") != 0 && strcmp(optarg, "none") != 0) {
                fprintf(stderr, "mailhookctl: parse: --filtered-event: failed or none\n");
                return EX_USAGE;
            }
            mo.filtered_event = optarg;
            break;
        case 'd':
            if (strcmp(optarg, "failed") != 0 && strcmp(optarg, "delivered") != 0 &&
                strcmp(optarg, "none") != 0) {
                fprintf(stderr, "mailhookctl: parse: --discard-event: failed, delivered or none\n");
                return EX_USAGE;
            }
            mo.discard_event = optarg;
            break;
        default:
            fputs(PARSE_USAGE, stderr);
            return EX_USAGE;
        }
    }
    if (optind >= argc) {
        fputs(PARSE_USAGE, stderr);
        return EX_USAGE;
    }
    maillog_parse_init();
    maillog_clock_init(&pr.clock, time_now_ms());
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    pr.mlc = maillog_correlate_new(&mo, print_event, &pr);
    for (int i = optind; i < argc; i++) {
        int fd = strcmp(argv[i], "-") == 0 ? 0 : open(argv[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "mailhookctl: %s: %s\n", argv[i], strerror(errno));
            rc = EX_NOINPUT;
            continue;
        }
        /* a file's year is its own clock's: its mtime (a pipe: now) */
        maillog_clock_set_anchor(&pr.clock, fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)
                                                ? (int64_t)sb.st_mtim.tv_sec * 1000 +
                                                      sb.st_mtim.tv_nsec / 1000000
                                                : time_now_ms());
        if (parse_fd(&pr, fd, argv[i]) < 0)
            rc = EX_IOERR;
        if (fd != 0)
            close(fd);
    }
    maillog_correlate_flush(pr.mlc, INT64_MAX); /* end of input: nothing is held any more */
    fflush(stdout);
    st = maillog_correlate_stats(pr.mlc);
    fprintf(stderr, "mailhookctl: %llu lines, %llu events, %llu skipped (%llu not mail log lines, "
                    "%llu of other programs, %llu of mailhook, %llu too long), "
                    "%llu queue ids still open\n",
            (unsigned long long)pr.lines, (unsigned long long)st->events,
            (unsigned long long)(pr.skipped_garbage + pr.skipped_other + pr.skipped_own +
                                 pr.skipped_long),
            (unsigned long long)pr.skipped_garbage, (unsigned long long)pr.skipped_other,
            (unsigned long long)pr.skipped_own, (unsigned long long)pr.skipped_long,
            (unsigned long long)st->tracked);
    if (st->filter_hops > 0)
        fprintf(stderr, "mailhookctl: %llu recipients handed to a content filter (%llu whose "
                        "re-injected message was never found)\n",
                (unsigned long long)st->filter_hops, (unsigned long long)st->filter_unlinked);
    maillog_correlate_free(pr.mlc);
    maillog_parse_done();
    return rc;
}
