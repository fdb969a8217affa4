/* SPDX-License-Identifier: MIT */
/*
 * ingest_server.h - the daemon side of the ingest socket (ingest_proto.h).
 *
 * Reads event lines from producers, validates them, and collects them into
 * a batch; ingest_server_commit() (the loop's prepare hook) hands the batch
 * to the store thread (storeq.h), which commits it in one transaction while
 * the loop fills the next one; when the commit completes, every line is
 * answered, in order, per connection. A connection that stops reading its
 * acks is not read from until it catches up, and no connection takes more
 * than its share of a batch (back-pressure and fairness, bounded buffers).
 *
 *   ingest_server_new(loop, storeq, conf, append, ctr, listen_fd)
 *                                     accept and serve on listen_fd; events
 *                                     go into the store through append
 *                                     (append.h), counted into ctr (rejected,
 *                                     tempfailed, and append_count's); conf
 *                                     is referenced (max_clients,
 *                                     max_event_size, commit_batch)
 *   ingest_server_reconfigure(s, conf) LOOP: the settings of a reload
 *                                     (commit_batch keeps its start value)
 *   ingest_server_commit(s)           hand the filled batch to the store
 *                                     thread, unless one is in flight
 *   ingest_server_close_listener(s)   stop accepting (shutdown)
 *   ingest_server_busy(s)             true while any line awaits its answer
 *   ingest_server_clients(s)          open connections
 *   ingest_server_status(s)           {"clients": n} for mailhookctl status
 *                                     (a new reference)
 *   ingest_server_free(s)             close everything (after storeq_stop());
 *                                     returns NULL
 */
#ifndef MH_INGEST_SERVER_H
#define MH_INGEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "append.h"
#include "conf.h"
#include "evloop.h"
#include "mhd_counters.h"
#include "storeq.h"

struct ingest_server *ingest_server_new(evloop_t *loop, storeq_t *storeq, mh_conf_t *conf,
                                        append_t *append, struct mhd_counters *ctr,
                                        int listen_fd);
void ingest_server_reconfigure(struct ingest_server *s, mh_conf_t *conf);
void ingest_server_commit(struct ingest_server *s);
void ingest_server_close_listener(struct ingest_server *s);
bool ingest_server_busy(const struct ingest_server *s);
size_t ingest_server_clients(const struct ingest_server *s);
json_t *ingest_server_status(const struct ingest_server *s);
struct ingest_server *ingest_server_free(struct ingest_server *s);

#endif
