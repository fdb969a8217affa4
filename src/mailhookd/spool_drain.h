/* SPDX-License-Identifier: MIT */
/*
 * spool_drain.h - mailhookd's side of the spool: pick up the events that
 * producers left while the daemon was unreachable.
 *
 * Runs at start, whenever inotify reports a file moved into new/, and every
 * spool_scan_interval seconds (in case inotify missed something or is not
 * available). Each file's events are stored through append_events(),
 * then the file is removed; the store skips ids it already holds, so a file
 * drained twice (crash between commit and unlink) adds nothing. A file that
 * cannot be read (larger than max_event_size times 1024 events, say) or
 * holds an invalid line (not an event, or an event larger than
 * max_event_size: event_size_check) is moved to bad/ with a warning naming
 * the file and line, and counted as quarantined; its valid lines are still
 * stored, and the other files are unaffected.
 *
 *   spool_drain_new(loop, storeq, conf, append, ctr, stopping)
 *                           start watching and draining conf's spool,
 *                           which mailhookd made as root and checked as its
 *                           user before (spool_usable: it does not start
 *                           with a spool it cannot drain); never NULL.
 *                           Events go through append (append.h), counted
 *                           into ctr; no round starts once *stopping.
 *                           Without inotify (or past its limits) it scans
 *                           every spool_scan_interval only, and says so
 *   spool_drain_reconfigure(sd, conf)
 *                           LOOP: the settings of a reload
 *                           (max_event_size, spool_scan_interval; the
 *                           directory is kept until restart)
 *   spool_drain_run(sd)     drain what is there now (bounded work per call;
 *                           reschedules itself while files remain)
 *   spool_drain_settled(sd) true once the files found at start are drained
 *                           (or could not be: a failed scan or commit); the
 *                           maillog readers emit nothing before, so the
 *                           milter's spooled records are stored before the
 *                           log's events of the same messages. NULL: true.
 *   spool_drain_free(sd)    returns NULL
 */
#ifndef MH_SPOOL_DRAIN_H
#define MH_SPOOL_DRAIN_H

#include <stdbool.h>

#include "append.h"
#include "conf.h"
#include "evloop.h"
#include "mhd_counters.h"
#include "storeq.h"

struct spool_drain *spool_drain_new(evloop_t *loop, storeq_t *storeq, mh_conf_t *conf,
                                    append_t *append, struct mhd_counters *ctr,
                                    const bool *stopping);
void spool_drain_reconfigure(struct spool_drain *sd, mh_conf_t *conf);
void spool_drain_run(struct spool_drain *sd);
bool spool_drain_settled(const struct spool_drain *sd);
struct spool_drain *spool_drain_free(struct spool_drain *sd);

#endif
