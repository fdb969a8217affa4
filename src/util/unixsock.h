/* SPDX-License-Identifier: MIT */
/*
 * unixsock.h - Unix-domain stream sockets for the ingest and admin channels.
 *
 *   unixsock_listen(path, mode, uid, gid, err)
 *        bind and listen (non-blocking, close-on-exec). A stale socket file
 *        left by a crashed daemon is replaced; a socket someone still listens
 *        on is an error ("already in use"), so two daemons never share one.
 *        The file gets mode and owner uid:gid (-1 = leave as is).
 *   unixsock_clear_stale(path, err)
 *        remove path if it is a socket nobody listens on (for a listener
 *        made by someone else, e.g. libmilter); -1 + err when one is live
 *        or path is not a socket; 0 when there was nothing to remove.
 *   unixsock_connect(path, timeout_ms, err)
 *        connected, non-blocking, close-on-exec socket, or -1 + err.
 *   fd_set_nonblock(fd)
 */
#ifndef MH_UNIXSOCK_H
#define MH_UNIXSOCK_H

#include <sys/types.h>
#include "msg.h"

int unixsock_listen(const char *path, mode_t mode, uid_t uid, gid_t gid, mh_err_t *err);
int unixsock_clear_stale(const char *path, mh_err_t *err);
int unixsock_connect(const char *path, int timeout_ms, mh_err_t *err);
int fd_set_nonblock(int fd);

#endif
