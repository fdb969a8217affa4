/* SPDX-License-Identifier: MIT */
/*
 * ctl_replay.c - `mailhookctl replay` (see ctl_replay.h): drive mailhookd's
 * chunked replay to the end, with progress on a terminal.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "ctl_replay.h"
#include "timeutil.h"

#define RP_SYNOPSIS CTL_REPLAY_SYNOPSIS

struct replay_run {
    json_int_t total, matched, enqueued;
    bool progress; /* stderr is a terminal */
};

/* The request every chunk shares: range and selection (endpoint, tenant),
 * from the options;
 * the types asked for (--type, repeatable or T1,T2) into types. */
static json_t *rp_request(int argc, char **argv, json_t *types)
{
    static const struct option opts[] = {
        { "since", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
        { "type", required_argument, NULL, 't' },  { "endpoint", required_argument, NULL, 'e' },
        { "tenant", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 },
    };
    const char *syn = RP_SYNOPSIS;
    json_t *req = json_pack("{s:s}", "cmd", "replay");
    int64_t until = time_now_ms();
    int ch;

    optind = 0;
    while ((ch = ctl_getopt(argc, argv, opts, syn)) != -1) {
        switch (ch) {
        case 's':
            json_object_set_new(req, "since", json_integer(ctl_time("--since", optarg, syn)));
            break;
        case 'u': until = ctl_time("--until", optarg, syn); break;
        case 't': ctl_types(types, "--type", optarg, syn); break;
        case 'n':
            if (optarg[0] == '\0')
                ctl_bad_usage(syn, "--tenant: give a tenant");
            json_object_set_new(req, "tenant", ctl_jstr("--tenant", optarg, syn));
            break;
        default: /* 'e' */
            json_object_set_new(req, "endpoint", ctl_jstr("--endpoint", optarg, syn));
        }
    }
    if (optind != argc)
        ctl_usage(syn);
    if (json_object_get(req, "since") == NULL)
        ctl_bad_usage(syn, "--since is required");
    json_object_set_new(req, "until", json_integer(until));
    return req;
}

static void rp_progress(const struct replay_run *run)
{
    if (run->progress)
        fprintf(stderr, "\rreplaying: %lld / %lld events", (long long)run->matched,
                (long long)run->total);
}

/* One chunk from cursor (NULL: the start); the next cursor, NULL when done. */
static json_t *rp_chunk(struct ctl *ctl, const json_t *base, json_t *cursor,
                        struct replay_run *run)
{
    json_t *req = json_deep_copy(base), *r, *next;

    if (cursor)
        json_object_set(req, "cursor", cursor);
    r = ctl_call(ctl, req);
    run->matched += ctl_int(r, "matched");
    run->enqueued += ctl_int(r, "enqueued");
    next = json_object_get(r, "cursor");
    next = json_is_null(next) ? NULL : json_incref(next); /* absent is done, too */
    json_decref(r);
    if (next && cursor && json_equal(next, cursor)) {
        if (run->progress)
            fputc('\n', stderr);
        msg_fatal(EX_UNAVAILABLE, "mailhookd answered the same replay cursor twice; stopping "
                                  "after %lld events", (long long)run->matched);
    }
    return next;
}

/* base with "type" set to the i-th of types (none: all types). */
static json_t *rp_typed(const json_t *base, const json_t *types, size_t i)
{
    json_t *req = json_deep_copy(base);

    if (i < json_array_size(types))
        json_object_set(req, "type", json_array_get(types, i));
    return req;
}

int ctl_replay(struct ctl *ctl, int argc, char **argv)
{
    struct replay_run run = { .progress = isatty(STDERR_FILENO) == 1 };
    json_t *types = json_array(), *base = rp_request(argc, argv, types), *req, *r, *cursor, *next;
    size_t n = json_array_size(types) ? json_array_size(types) : 1; /* one run per type */

    for (size_t i = 0; i < n; i++) {
        req = rp_typed(base, types, i);
        json_object_set_new(req, "count_only", json_true());
        r = ctl_call(ctl, req);
        run.total += ctl_int(r, "matched");
        json_decref(r);
    }
    rp_progress(&run);
    for (size_t i = 0; i < n; i++) {
        json_t *typed = rp_typed(base, types, i);
        cursor = NULL;
        do {
            next = rp_chunk(ctl, typed, cursor, &run);
            json_decref(cursor);
            cursor = next;
            rp_progress(&run);
        } while (cursor);
        json_decref(typed);
    }
    if (run.progress)
        fputc('\n', stderr);
    json_decref(base);
    json_decref(types);
    if (ctl->json) {
        r = json_pack("{s:b,s:I,s:I}", "ok", 1, "matched", run.matched, "enqueued", run.enqueued);
        ctl_print_json(r);
        json_decref(r);
    } else {
        printf("replayed %lld events (%lld deliveries queued)\n", (long long)run.matched,
               (long long)run.enqueued);
    }
    return EX_OK;
}
