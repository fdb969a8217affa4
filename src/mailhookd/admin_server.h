/*
 * admin_server.h - mailhookd's admin socket (see admin_proto.h).
 *
 *   admin_server_new(d, listen_fd)   serve requests on listen_fd, at most
 *                                    max_admin_clients connections at once
 *   admin_server_free(s)             close everything; returns NULL
 *
 * One request's way, without a connection (the socket takes it for every
 * request line; fuzz/fuzz_admin.c drives it directly, on one thread):
 *   admin_job_new(d, line, len, answer, ctx)
 *                          LOOP: parse the line, find its command, run the
 *                          command's check; returns the job
 *   admin_job_work(st, job)
 *                          STORE THREAD (a storeq_work_fn): the command's work
 *   admin_job_done(job)    LOOP (a storeq_done_fn): its finish, then
 *                          answer(ctx, text, len) with the answer's JSON
 *                          text (no newline), now or later (a deferred
 *                          answer, admin_job_complete); the job is freed then
 */
#ifndef MH_ADMIN_SERVER_H
#define MH_ADMIN_SERVER_H

#include <stddef.h>
#include "daemon.h"

struct admin_job;
typedef void admin_answer_fn(void *ctx, const char *text, size_t len);

struct admin_server *admin_server_new(daemon_t *d, int listen_fd);
struct admin_server *admin_server_free(struct admin_server *s);

struct admin_job *admin_job_new(daemon_t *d, const char *line, size_t len,
                                admin_answer_fn *answer, void *ctx);
void admin_job_work(store_t *st, void *job);
void admin_job_done(void *job);

#endif
