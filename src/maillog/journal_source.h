/* SPDX-License-Identifier: MIT */
/*
 * journal_source.h - read the mail programs' messages from the systemd
 * journal (libsystemd sd_journal) as syslog-style lines, so that the
 * maillog parser treats them exactly like lines from a file:
 *   "2026-11-22T06:30:19.123456+00:00 HOST IDENTIFIER[PID]: MESSAGE"
 * (RFC 3339 realtime timestamp in UTC, _HOSTNAME, SYSLOG_IDENTIFIER, _PID,
 * MESSAGE). Only entries whose SYSLOG_IDENTIFIER belongs to a mail program
 * are returned: "postfix" or "postfix-*" with a "/service" suffix
 * ("postfix/smtp", "postfix-out/qmgr"), "sendmail", "sm-mta",
 * "sm-msp-queue", "sm-acceptingconnections"; others are skipped without
 * being counted.
 *
 * Position: the journal cursor of the last entry handed out. The caller
 * commits it with the events derived from the entries before it and passes
 * it back on restart; reading resumes after that entry.
 *
 *   journal_source_open(directory, cursor, from_start, max_line, err)
 *       directory: a journal directory to read (tests, or a remote journal);
 *       NULL = the local system journal. cursor: saved position or NULL;
 *       without a cursor, from_start chooses the oldest entry or the tail.
 *   journal_source_next(j, &line, &len, &truncated, &cursor)
 *       1 with the next line (valid until the next call) and the cursor
 *       after it (a NUL-terminated string, valid until the next call); 0
 *       when nothing more is available now; -1 on error (err logged once,
 *       retried at the next call). MESSAGE longer than max_line is cut and
 *       flagged like tail_next does.
 *   journal_source_fd(j)     an fd for the event loop (sd_journal_get_fd);
 *                            when readable call journal_source_process(j)
 *                            then journal_source_next until 0
 *   journal_source_process(j)
 *   journal_source_close(j)  returns NULL
 */
#ifndef MH_JOURNAL_SOURCE_H
#define MH_JOURNAL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include "msg.h"

typedef struct journal_source journal_source_t;

journal_source_t *journal_source_open(const char *directory, const char *cursor,
                                      bool from_start, size_t max_line, mh_err_t *err);
int journal_source_next(journal_source_t *j, const char **line, size_t *len, bool *truncated,
                        const char **cursor);
int journal_source_fd(journal_source_t *j);
void journal_source_process(journal_source_t *j);
journal_source_t *journal_source_close(journal_source_t *j);

#endif
