/* SPDX-License-Identifier: MIT */
/*
 * admin_cmd.h - the admin command interface (admin_proto.h): what a
 * command is, what it may use, and one request's way through the store
 * thread. The command files (admin_events.c, admin_endpoint.c,
 * admin_deliveries.c, admin_replay.c, admin_backfill.c, admin_status.c,
 * admin_report.c, admin_backup.c)
 * each export a table of struct admin_command; daemon.c hands the tables
 * and the environment to the socket (admin_server.h), which knows no
 * command, and no command names the socket: a job ends by handing its
 * answer's text to the function the caller set (admin_answer_fn).
 *
 * A command has up to three steps (the members of struct admin_command):
 *   - check, LOOP, before: NULL to go on, else the (error) answer; may be
 *     NULL;
 *   - work, STORE THREAD: the answer; touches only the store, the request
 *     and what env says is the store thread's; may hand an object to
 *     finish with admin_job_carry();
 *   - finish, LOOP, after an "ok" answer; may be NULL; true when it answers
 *     later through admin_job_complete() (and owns reply then).
 *
 *   admin_error(code, fmt, ...)   an error answer {"ok":false,"code","error"};
 *                                 the text is made printable as a whole
 *   admin_job_new(tables, env, line, len, answer, ctx)
 *                                 LOOP: parse the line, find its command in
 *                                 the NULL-terminated list of tables, run
 *                                 its check; returns the job
 *   admin_job_reply(reply, answer, ctx)
 *                                 LOOP: a job whose answer is reply already
 *                                 (taken): it goes out in its turn
 *   admin_job_work(st, job)       STORE THREAD (a storeq_work_fn): the work
 *   admin_job_done(job)           LOOP (a storeq_done_fn): the finish, then
 *                                 answer(ctx, text, len) with the answer's
 *                                 JSON text (no newline), now or later; the
 *                                 job is freed then
 *   admin_job_complete(job, reply) LOOP: the late answer of a finish that
 *                                 returned true (reply taken)
 *   admin_job_carry(job, obj, free_fn)
 *                                 STORE THREAD, in work: hand obj (owned by
 *                                 the job from now on, freed with free_fn)
 *                                 to the finish on the loop thread
 *   admin_job_carried(job)        LOOP, in finish: that object, or NULL
 */
#ifndef MH_ADMIN_CMD_H
#define MH_ADMIN_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "append.h"
#include "conf.h"
#include "delivery.h"
#include "fanout.h"
#include "mhd_counters.h"
#include "msg.h"
#include "store.h"

struct admin_job;
typedef void admin_answer_fn(void *ctx, const char *text, size_t len);
/* LOOP: the daemon's side of "status" (version, uptime, counters, the
 * subsystems'), a JSON object merged into the answer (new reference). */
typedef json_t *admin_status_fn(void *ctx);

/* What commands may use, filled by daemon.c (the fuzzer fills its own). */
struct admin_env {
    const mh_conf_t *conf;     /* LOOP: the running snapshot (replaced on reload) */
    fanout_t *fanout;          /* STORE: the endpoints matched; queueing */
    append_t *append;          /* STORE: the path into the store (backfill) */
    struct mhd_counters *ctr;  /* LOOP: what finish functions count */
    delivery_t *delivery;      /* LOOP: the engine; NULL when there is none */
    const bool *stopping;      /* LOOP: true once the daemon stops; NULL: never */
    admin_status_fn *status;   /* LOOP: NULL when there is none */
    void *status_ctx;
};

struct admin_command {
    const char *name;
    json_t *(*check)(const struct admin_env *env, json_t *req);
    json_t *(*work)(const struct admin_env *env, struct admin_job *job, store_t *st,
                    json_t *req);
    bool (*finish)(const struct admin_env *env, struct admin_job *job, json_t *req,
                   json_t *reply);
};

json_t *admin_error(const char *code, const char *fmt, ...) MH_PRINTF(2, 3);
struct admin_job *admin_job_new(const struct admin_command *const *tables,
                                const struct admin_env *env, const char *line, size_t len,
                                admin_answer_fn *answer, void *ctx);
struct admin_job *admin_job_reply(json_t *reply, admin_answer_fn *answer, void *ctx);
void admin_job_work(store_t *st, void *job);
void admin_job_done(void *job);
void admin_job_complete(struct admin_job *job, json_t *reply);
void admin_job_carry(struct admin_job *job, void *obj, void (*free_fn)(void *obj));
void *admin_job_carried(const struct admin_job *job);

#endif
