/*
 * ctl_parse.c - mailhookctl parse: maillog files to events, offline
 * (see ctl_parse.h).
 *
 * Files are read in large chunks and split at newlines here (no stdio line
 * reading), so the cost is the parser's, not the I/O's; lines longer than
 * MAILLOG_LINE_MAX are skipped up to their newline without being buffered.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ctl_parse.h"
#include "maillog_correlate.h"
#include "maillog_parse.h"
#include "timeutil.h"
#include "xalloc.h"

#define PARSE_CHUNK (1024 * 1024)
#define PARSE_MAX_FILTERS 16 /* --content-filter given at most this often */
#define PARSE_USAGE                                                                        \
    "usage: mailhookctl parse [--json] [--include-bounces] [--no-sent]\n"                  \
    "       [--content-filter HOST:PORT]... [--filtered-event failed|none]\n"              \
    "       [--discard-event failed|delivered|none] FILE...\n"

struct parse_run {
    bool json;
    FILE *out;
    mlc_t *mlc;
    struct ml_clock clock;
    uint64_t lines, skipped_garbage, skipped_long;
};

static void print_event(void *ctx, event_t *ev)
{
    struct parse_run *pr = ctx;
    char ts[RFC3339_MS_LEN + 1];
    const char *rcpt;
    size_t len;
    char *s;

    if (pr->json) {
        s = event_to_json(ev, &len);
        fwrite(s, 1, len, pr->out);
        fputc('\n', pr->out);
        free(s);
    } else {
        rcpt = json_string_value(json_object_get(ev->data, "recipient"));
        fprintf(pr->out, "%s  %-16s %-12s %s\n", time_format_rfc3339(ts, ev->ts_ms), ev->type,
                json_string_value(json_object_get(ev->data, "queue_id")), rcpt ? rcpt : "");
    }
    event_free(ev);
}

static void parse_line(struct parse_run *pr, const char *line, size_t len)
{
    struct ml_rec rec;

    pr->lines++;
    if (maillog_parse(line, len, &pr->clock, &rec) < 0)
        pr->skipped_garbage++;
    else
        mlc_feed(pr->mlc, &rec);
}

/* Feed every line of fd; a line longer than MAILLOG_LINE_MAX is skipped. */
static int parse_fd(struct parse_run *pr, int fd, const char *name)
{
    char *buf = xmalloc(PARSE_CHUNK + MAILLOG_LINE_MAX);
    size_t have = 0;
    bool skipping = false; /* inside an over-long line */
    ssize_t n;

    for (;;) {
        n = read(fd, buf + have, PARSE_CHUNK + MAILLOG_LINE_MAX - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "mailhookctl: %s: %s\n", name, strerror(errno));
            free(buf);
            return -1;
        }
        have += (size_t)n;
        char *p = buf, *end = buf + have, *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            if (skipping) {
                skipping = false;
                pr->skipped_long++;
                pr->lines++;
            } else {
                parse_line(pr, p, (size_t)(nl - p));
            }
            p = nl + 1;
        }
        have = (size_t)(end - p);
        if (have >= MAILLOG_LINE_MAX) { /* no newline in sight: drop it */
            skipping = true;
            have = 0;
        }
        memmove(buf, p, have);
        if (n == 0)
            break;
    }
    if (have > 0 && !skipping)
        parse_line(pr, buf, have); /* a last line without newline */
    free(buf);
    return 0;
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
    struct mlc_opts mo = { .emit_sent = true, .no_persist = true };
    struct parse_run pr = { .json = json, .out = stdout };
    const struct mlc_stats *st;
    time_t now = time(NULL);
    struct tm tm;
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
    localtime_r(&now, &tm);
    pr.clock.tz_offset_s = tm.tm_gmtoff;
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    pr.mlc = mlc_new(&mo, print_event, &pr);
    for (int i = optind; i < argc; i++) {
        int fd = strcmp(argv[i], "-") == 0 ? 0 : open(argv[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "mailhookctl: %s: %s\n", argv[i], strerror(errno));
            rc = EX_NOINPUT;
            continue;
        }
        if (parse_fd(&pr, fd, argv[i]) < 0)
            rc = EX_IOERR;
        if (fd != 0)
            close(fd);
    }
    fflush(stdout);
    st = mlc_stats(pr.mlc);
    fprintf(stderr, "mailhookctl: %llu lines, %llu events, %llu skipped (%llu not mail log lines, "
                    "%llu too long), %llu queue ids still open\n",
            (unsigned long long)pr.lines, (unsigned long long)st->events,
            (unsigned long long)(pr.skipped_garbage + pr.skipped_long),
            (unsigned long long)pr.skipped_garbage, (unsigned long long)pr.skipped_long,
            (unsigned long long)st->tracked);
    if (st->filter_hops > 0)
        fprintf(stderr, "mailhookctl: %llu recipients handed to a content filter (%llu whose "
                        "re-injected message was never found)\n",
                (unsigned long long)st->filter_hops, (unsigned long long)st->filter_unlinked);
    mlc_free(pr.mlc);
    maillog_parse_done();
    return rc;
}
