/* SPDX-License-Identifier: MIT */
/*
 * admin_client.h - mailhookctl's side of the admin socket (admin_proto.h).
 *
 *   admin_call(socket_path, req, &reply, timeout_ms, err)
 *       connect, send one request, wait for its answer. 0 with *reply (the
 *       parsed answer, caller json_decref()s; may hold "ok":false), or -1 +
 *       err when mailhookd cannot be reached ("cannot reach mailhookd (is it
 *       running?)", or "PATH: permission denied: add yourself to group G"
 *       when the socket is there but not ours to use) or answered garbage.
 */
#ifndef MH_ADMIN_CLIENT_H
#define MH_ADMIN_CLIENT_H

#include <jansson.h>
#include "msg.h"

int admin_call(const char *socket_path, json_t *req, json_t **reply, int timeout_ms,
               mh_err_t *err);

#endif
