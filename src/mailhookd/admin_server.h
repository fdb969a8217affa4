/* SPDX-License-Identifier: MIT */
/*
 * admin_server.h - mailhookd's admin socket (see admin_proto.h): accepts
 * connections, reads request lines, runs each as a job (admin_cmd.h) on
 * the store thread and writes the answers back in order. It knows no
 * command: daemon.c hands it the command tables and the environment they
 * get.
 *
 *   admin_server_new(loop, storeq, conf, tables, env, listen_fd)
 *                                    serve requests on listen_fd, at most
 *                                    max_admin_clients (conf, referenced)
 *                                    connections at once; tables is a
 *                                    NULL-terminated list of command tables;
 *                                    tables and env must outlive the server
 *   admin_server_reconfigure(s, conf) LOOP: the settings of a reload
 *   admin_server_free(s)             close everything; returns NULL
 */
#ifndef MH_ADMIN_SERVER_H
#define MH_ADMIN_SERVER_H

#include "admin_cmd.h"
#include "conf.h"
#include "evloop.h"
#include "storeq.h"

struct admin_server *admin_server_new(evloop_t *loop, storeq_t *storeq, mh_conf_t *conf,
                                      const struct admin_command *const *tables,
                                      const struct admin_env *env, int listen_fd);
void admin_server_reconfigure(struct admin_server *s, mh_conf_t *conf);
struct admin_server *admin_server_free(struct admin_server *s);

#endif
