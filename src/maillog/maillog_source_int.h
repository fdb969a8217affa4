/* SPDX-License-Identifier: MIT */
/*
 * maillog_source_int.h - private to maillog_source.c and the kinds that
 * implement maillog_source.h. Nothing else includes it.
 *
 *   struct maillog_source_ops       one kind's operations, one per function
 *                                   of maillog_source.h (same contracts; impl
 *                                   is what the kind's open returned)
 *   maillog_source_file_ops         "file" (maillog_source_file.c)
 *   maillog_source_journal_ops      "journald" (maillog_source_journal.c)
 *
 * A new kind is one file defining its ops and one row of the table of
 * kinds in maillog_source.c.
 */
#ifndef MH_MAILLOG_SOURCE_INT_H
#define MH_MAILLOG_SOURCE_INT_H

#include "maillog_source.h"

struct maillog_source_ops {
    const char *type; /* the maillog section's type */
    void *(*open)(const struct mh_conf_maillog *conf, const char *pos_json, mh_err_t *err);
    int (*next)(void *impl, const char **line, size_t *len, bool *truncated);
    int (*fd)(const void *impl);
    void (*process)(void *impl);
    char *(*pos_encode)(const void *impl);
    int64_t (*written_ms)(const void *impl);
    int64_t (*behind_bytes)(const void *impl, bool caught_up);
    const char *(*describe)(const void *impl);
    void (*close)(void *impl);
};

extern const struct maillog_source_ops maillog_source_file_ops;
extern const struct maillog_source_ops maillog_source_journal_ops;

#endif
