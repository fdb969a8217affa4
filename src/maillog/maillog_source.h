/* SPDX-License-Identifier: MIT */
/*
 * maillog_source.h - where a maillog source's lines come from, behind one
 * interface: the reader (maillog_reader.c) opens a source from its config
 * section and reads lines, watches an fd and commits positions without
 * knowing which kind it is. Two kinds implement it (maillog_source_int.h):
 *   "file"      a log file followed like `tail -F` (tail_file.h;
 *               maillog_source_file.c); the position is tail_pos_encode's
 *               JSON
 *   "journald"  the systemd journal (journal_source.h;
 *               maillog_source_journal.c); the position is
 *               {"cursor": "..."}
 * The section's type picks the kind, in one table (maillog_source.c).
 *
 * Model. A position names the place just after the last line handed out;
 * the caller commits it with whatever it derived from the lines before it
 * and gives it back to maillog_source_open on restart, which resumes just
 * after that line. A position the source cannot use is not an error: the
 * source starts as the section's start_at says (a saved journal cursor
 * that no longer exists is warned about, naming the source).
 *
 * Errors: open fails with *err set (not warned; the caller warns once per
 * distinct failure); for a file that the service user may not read, the
 * text tells the admin what to do ("permission denied: add the mailhook
 * user to group adm"). Read errors are warned by the kind itself and
 * retried at the next call.
 *
 *   maillog_source_open(conf, pos_json, err)
 *       the source of the section conf (copies what it keeps of it),
 *       resuming after pos_json (NULL: none saved); NULL and *err on failure
 *   maillog_source_next(s, &line, &len, &truncated)
 *       1 with the next line (without "\n"; valid until the next call; a
 *       line longer than max_line is cut to max_line bytes with truncated
 *       set), 0 when nothing more is available now, -1 on an error
 *   maillog_source_fd(s)
 *       the fd the event loop watches for readability (owned by the
 *       source), or -1: poll by time only
 *   maillog_source_process(s)
 *       take the source's notifications; call it when the fd is readable
 *       and at every poll tick, before maillog_source_next
 *   maillog_source_pos_encode(s)
 *       the position after the last line handed out, as JSON (malloc'ed)
 *   maillog_source_written_ms(s)
 *       when the source's lines were last written (the file's mtime, ms
 *       since the epoch): the year-inference anchor while catching up; -1
 *       when unknown (the journal's lines carry their year)
 *   maillog_source_behind_bytes(s, caught_up)
 *       bytes not read yet, as of now; -1 when unknown (the journal, or s
 *       NULL); caught_up: the caller has read to the end since the open
 *       (then a source that handed out no line is 0 behind)
 *   maillog_source_describe(s)
 *       what is followed, for messages: the path, or "the journal"
 *   maillog_source_close(s)
 *       returns NULL; s may be NULL
 */
#ifndef MH_MAILLOG_SOURCE_H
#define MH_MAILLOG_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "msg.h"

typedef struct maillog_source maillog_source_t;

maillog_source_t *maillog_source_open(const struct mh_conf_maillog *conf, const char *pos_json,
                                      mh_err_t *err);
int maillog_source_next(maillog_source_t *s, const char **line, size_t *len, bool *truncated);
int maillog_source_fd(const maillog_source_t *s);
void maillog_source_process(maillog_source_t *s);
char *maillog_source_pos_encode(const maillog_source_t *s);
int64_t maillog_source_written_ms(const maillog_source_t *s);
int64_t maillog_source_behind_bytes(const maillog_source_t *s, bool caught_up);
const char *maillog_source_describe(const maillog_source_t *s);
maillog_source_t *maillog_source_close(maillog_source_t *s);

#endif
