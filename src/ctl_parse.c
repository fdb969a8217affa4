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

#include "ctl_lines.h"
#include "ctl_parse.h"
#include "maillog_correlate.h"
#include "maillog_parse.h"
#include "timeutil.h"
#include "xalloc.h"

struct parse_run {
    bool json;
    FILE *out;
    mlc_t *mlc;
    struct ml_clock clock;
    uint64_t lines, skipped_garbage, skipped_other, skipped_own, skipped_long;
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
    case ML_PARSED: mlc_feed(pr->mlc, &rec); break;
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
        { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
    };
    struct mlc_opts mo = { .emit_sent = true, .no_persist = true };
    struct parse_run pr = { .json = json, .out = stdout };
    const struct mlc_stats *st;
    struct stat sb;
    int ch, rc = 0;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': mo.include_bounces = true; break;
        case 'n': mo.emit_sent = false; break;
        case 'j': pr.json = true; break;
        default:
            fprintf(stderr, "usage: mailhookctl parse [--json] [--include-bounces] [--no-sent] FILE...\n");
            return EX_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: mailhookctl parse [--json] [--include-bounces] [--no-sent] FILE...\n");
        return EX_USAGE;
    }
    maillog_parse_init();
    maillog_clock_init(&pr.clock, time_now_ms());
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    pr.mlc = mlc_new(&mo, print_event, &pr);
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
    mlc_flush(pr.mlc, INT64_MAX); /* end of input: nothing is held any more */
    fflush(stdout);
    st = mlc_stats(pr.mlc);
    fprintf(stderr, "mailhookctl: %llu lines, %llu events, %llu skipped (%llu not mail log lines, "
                    "%llu of other programs, %llu of mailhook, %llu too long), "
                    "%llu queue ids still open\n",
            (unsigned long long)pr.lines, (unsigned long long)st->events,
            (unsigned long long)(pr.skipped_garbage + pr.skipped_other + pr.skipped_own +
                                 pr.skipped_long),
            (unsigned long long)pr.skipped_garbage, (unsigned long long)pr.skipped_other,
            (unsigned long long)pr.skipped_own, (unsigned long long)pr.skipped_long,
            (unsigned long long)st->tracked);
    mlc_free(pr.mlc);
    maillog_parse_done();
    return rc;
}
