/* SPDX-License-Identifier: MIT */
/*
 * maillog_reader.h - the maillog reader inside mailhookd: one per configured
 * "maillog" source. It follows the log (maillog_source.h: a file or the
 * journal), classifies each line (maillog_parse.h), correlates records into
 * events (maillog_correlate.h),
 * and commits, in ONE store transaction, the events derived from a run of
 * lines together with the position after those lines and the correlation
 * state that changed. A crash or restart therefore resumes exactly where the
 * last commit left off: no event lost, none duplicated.
 *
 * One transaction in flight per source; the next run of lines is read when
 * it completes (back-pressure). If a commit fails, the reader drops its
 * in-memory state and reloads the committed one after a pause.
 *
 * With milter_wait > 0 the events of a message the milter has not recorded
 * yet are held in that same transaction (enrich.h), and a job of the
 * reader's own releases the holds whose wait is over. Nothing is read
 * before the spool found at start is drained (spool_drain_settled).
 *
 *   maillog_reader_start(loop, storeq, conf, src, append, ctr, drain, stopping)
 *                                  load the checkpoint (store thread), then
 *                                  follow; never fails: problems are logged
 *                                  and retried. src points into conf (held
 *                                  by reference); events go through append
 *                                  (append.h), counted into ctr; nothing is
 *                                  emitted before drain settled, nor once
 *                                  *stopping
 *   maillog_reader_status(r)       counters as a JSON object (new reference)
 *   maillog_reader_name(r)         the source's name (sources are fixed at
 *                                  start; a reload does not change them)
 *   maillog_reader_stop(r)         after storeq_stop(); returns NULL
 */
#ifndef MH_MAILLOG_READER_H
#define MH_MAILLOG_READER_H

#include <stdbool.h>
#include <jansson.h>

#include "append.h"
#include "conf.h"
#include "evloop.h"
#include "mhd_counters.h"
#include "spool_drain.h"
#include "storeq.h"

struct maillog_reader *maillog_reader_start(evloop_t *loop, storeq_t *storeq, mh_conf_t *conf,
                                            const struct mh_conf_maillog *src, append_t *append,
                                            struct mhd_counters *ctr,
                                            const struct spool_drain *drain, const bool *stopping);
json_t *maillog_reader_status(const struct maillog_reader *r);
const char *maillog_reader_name(const struct maillog_reader *r);
struct maillog_reader *maillog_reader_stop(struct maillog_reader *r);

#endif
