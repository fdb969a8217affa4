/*
 * ingest_server.h - the daemon side of the ingest socket (ingest_proto.h).
 *
 * Reads event lines from producers, validates them, and collects them into
 * one batch per event-loop round; ingest_server_commit() (the loop's prepare
 * hook) writes the batch in one transaction and only then answers each
 * line, in order, per connection. A connection that stops reading its acks
 * is not read from until it catches up (back-pressure, bounded buffers).
 *
 *   ingest_server_new(d, listen_fd)   accept and serve on listen_fd
 *   ingest_server_commit(s)           commit the pending batch, send acks
 *   ingest_server_close_listener(s)   stop accepting (shutdown)
 *   ingest_server_busy(s)             true while any line awaits its answer
 *   ingest_server_clients(s)          open connections
 *   ingest_server_free(s)             close everything; returns NULL
 */
#ifndef MH_INGEST_SERVER_H
#define MH_INGEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include "daemon.h"

struct ingest_server *ingest_server_new(daemon_t *d, int listen_fd);
void ingest_server_commit(struct ingest_server *s);
void ingest_server_close_listener(struct ingest_server *s);
bool ingest_server_busy(const struct ingest_server *s);
size_t ingest_server_clients(const struct ingest_server *s);
struct ingest_server *ingest_server_free(struct ingest_server *s);

#endif
