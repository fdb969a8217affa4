/*
 * admin_server.h - mailhookd's admin socket (see admin_proto.h).
 *
 *   admin_server_new(d, listen_fd)   serve requests on listen_fd
 *   admin_server_free(s)             close everything; returns NULL
 */
#ifndef MH_ADMIN_SERVER_H
#define MH_ADMIN_SERVER_H

#include "daemon.h"

struct admin_server *admin_server_new(daemon_t *d, int listen_fd);
struct admin_server *admin_server_free(struct admin_server *s);

#endif
