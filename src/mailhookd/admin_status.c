/* SPDX-License-Identifier: MIT */
/*
 * admin_status.c - the "status" admin command (see admin_status.h and
 * admin_proto.h): the store's side on the store thread, then the daemon's
 * side, which daemon.c assembles from each subsystem's status function
 * (admin_env.status), on the loop thread.
 */
#include "config.h"

#include <stdint.h>

#include "admin_status.h"
#include "timeutil.h"

/* The store's disk space: "full" while new events are refused for lack of it. */
static json_t *status_space(const struct store_space *sp)
{
    char since[RFC3339_MS_LEN + 1];

    return json_pack("{s:b,s:s?,s:s?,s:I,s:I}", "full", sp->full, "since",
                     sp->since_ms ? time_format_rfc3339(since, sp->since_ms) : NULL, "cause",
                     sp->cause[0] ? sp->cause : NULL, "free_bytes",
                     (json_int_t)(sp->free_bytes > INT64_MAX ? -1 : (int64_t)sp->free_bytes),
                     "spells", (json_int_t)sp->spells);
}

static json_t *status_work(const struct admin_env *env, struct admin_job *job, store_t *st,
                           json_t *req)
{
    struct store_stats ss;
    mh_err_t err;

    if (store_stats(st, &ss, &err) < 0)
        return admin_error("internal", "%s", err.text);
    return json_pack("{s:b,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:o}}", "ok", 1, "store", "events",
                     (json_int_t)ss.events, "last_seq", (json_int_t)ss.last_seq, "messages",
                     (json_int_t)ss.messages, "endpoints", (json_int_t)ss.endpoints, "queued",
                     (json_int_t)ss.queued, "bytes_on_disk", (json_int_t)ss.bytes_on_disk,
                     "space", status_space(&ss.space));
}

/* Loop thread: what the loop owns (uptime, counters, the subsystems'). */
static bool status_finish(const struct admin_env *env, struct admin_job *job, json_t *req,
                          json_t *reply)
{
    json_t *loop_side;

    if (env->status == NULL) /* none: the fuzzer */
        return false;
    loop_side = env->status(env->status_ctx);
    json_object_update(reply, loop_side);
    json_decref(loop_side);
    return false;
}

const struct admin_command admin_status_commands[] = {
    { "status", NULL, status_work, status_finish },
    { NULL, NULL, NULL, NULL },
};
