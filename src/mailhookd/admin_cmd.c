/* SPDX-License-Identifier: MIT */
/*
 * admin_cmd.c - one admin request's way: parse, check, work on the store
 * thread, finish, answer (see admin_cmd.h).
 *
 * A job knows nothing of connections: it ends by handing its answer's text
 * to the callback its creator gave, which for the socket appends it to the
 * connection's output; fuzz/fuzz_admin.c runs the same steps on one thread.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmd.h"
#include "cjson.h"
#include "xalloc.h"

/* One request on its way through the store thread. */
struct admin_job {
    const struct admin_command *cmd; /* NULL: reply is already set */
    const struct admin_env *env;
    json_t *req, *reply;
    admin_answer_fn *answer;
    void *answer_ctx;
    void *carried;                   /* work -> finish (owned) */
    void (*carried_free)(void *obj);
};

/* The text is made printable as a whole: it quotes the request, and
 * mailhookctl prints it (callers quote through printable() already). */
json_t *admin_error(const char *code, const char *fmt, ...)
{
    char raw[512], text[sizeof(raw)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    printable(text, sizeof(text), raw, strlen(raw));
    return json_pack("{s:b,s:s,s:s}", "ok", 0, "code", code, "error", text);
}

static const struct admin_command *admin_command_find(const struct admin_command *const *tables,
                                                      const char *name)
{
    for (size_t t = 0; tables[t]; t++)
        for (const struct admin_command *cmd = tables[t]; cmd->name; cmd++)
            if (strcmp(cmd->name, name) == 0)
                return cmd;
    return NULL;
}

static struct admin_job *admin_job_alloc(const struct admin_env *env, admin_answer_fn *answer,
                                         void *ctx)
{
    struct admin_job *job = xcalloc(1, sizeof(*job));

    job->env = env;
    job->answer = answer;
    job->answer_ctx = ctx;
    return job;
}

struct admin_job *admin_job_new(const struct admin_command *const *tables,
                                const struct admin_env *env, const char *line, size_t len,
                                admin_answer_fn *answer, void *ctx)
{
    struct admin_job *job = admin_job_alloc(env, answer, ctx);
    const char *name = NULL;

    job->req = json_loadb(line, len, 0, NULL);
    if (job->req == NULL || json_unpack(job->req, "{s:s}", "cmd", &name) < 0) {
        job->reply = admin_error("bad_request", "a request is a JSON object with \"cmd\"");
    } else if ((job->cmd = admin_command_find(tables, name)) == NULL) {
        job->reply = admin_error("bad_request", "unknown command \"%.40s\"", name);
    } else if (job->cmd->check && (job->reply = job->cmd->check(env, job->req)) != NULL) {
        job->cmd = NULL;
    }
    return job;
}

struct admin_job *admin_job_reply(json_t *reply, admin_answer_fn *answer, void *ctx)
{
    struct admin_job *job = admin_job_alloc(NULL, answer, ctx);

    job->reply = reply;
    return job;
}

void admin_job_work(store_t *st, void *ctx)
{
    struct admin_job *job = ctx;

    if (job->cmd)
        job->reply = job->cmd->work(job->env, job, st, job->req);
}

void admin_job_carry(struct admin_job *job, void *obj, void (*free_fn)(void *obj))
{
    if (job->carried_free)
        job->carried_free(job->carried);
    job->carried = obj;
    job->carried_free = free_fn;
}

void *admin_job_carried(const struct admin_job *job)
{
    return job->carried;
}

/* The answer of job goes out (reply stolen); the job is done. */
static void admin_job_answer(struct admin_job *job, json_t *reply)
{
    size_t len;
    char *text;

    if (reply == NULL) /* a json_pack that failed: a bug, but an answer all the same */
        reply = admin_error("internal", "mailhookd could not make the answer");
    text = cjson_dump(reply, &len);
    job->answer(job->answer_ctx, text, len);
    free(text);
    json_decref(reply);
    json_decref(job->req);
    admin_job_carry(job, NULL, NULL);
    free(job);
}

void admin_job_complete(struct admin_job *job, json_t *reply)
{
    admin_job_answer(job, reply);
}

void admin_job_done(void *ctx)
{
    struct admin_job *job = ctx;
    json_t *reply = job->reply;

    if (job->cmd && job->cmd->finish && json_is_true(json_object_get(reply, "ok")) &&
        job->cmd->finish(job->env, job, job->req, reply))
        return; /* answered later, by admin_job_complete */
    admin_job_answer(job, reply);
}
