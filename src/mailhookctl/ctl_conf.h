/* SPDX-License-Identifier: MIT */
/*
 * ctl_conf.h - what mailhookctl reads of the configuration file.
 *
 * Model: most commands only talk to mailhookd over its admin socket, and
 * need nothing of the configuration but that socket's path. A typo in
 * mailhook.conf, or a file the administrator may not read (it is 0640
 * root:mailhook), must not lock them out of `status` exactly when it is
 * needed, so for those commands an error in the file is a warning: the
 * admin_socket setting is then looked for on its own, else the built-in
 * default is used (-s SOCKET overrides all of it). Commands that need more
 * (emit: the ingest socket and the spool; backfill: the maillog sections
 * and retention) read the whole file, and an error in it is fatal.
 *
 *   ctl_conf_load(path, explicit, err)
 *       the whole configuration; a missing file that was not named with -c
 *       gives the defaults; NULL + err ("FILE:LINE: problem") on any error,
 *       which the caller reports (exit 78, EX_CONFIG; as JSON under
 *       --json). Caller conf_unref()s.
 *   ctl_conf_admin_socket(path, explicit)
 *       the admin socket's path (caller frees): the configuration's when it
 *       loads; when it does not, "mailhookctl: warning: PROBLEM" on stderr
 *       and the path ctl_conf_scan() finds in the file, or the default.
 *   ctl_conf_scan(text, len, key)
 *       the value of the top-level setting key in libconfuse text (a quoted
 *       string, unescaped, or a bare word), outside sections, comments and
 *       other strings; NULL when absent or when it uses ${VAR} (only the
 *       full parse expands those). Caller frees.
 *
 * Limits: the scan reads at most CTL_CONF_SCAN_MAX bytes, and only a
 * regular file (a FIFO would block).
 */
#ifndef MH_CTL_CONF_H
#define MH_CTL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include "conf.h"

#define CTL_CONF_SCAN_MAX (1024 * 1024)

mh_conf_t *ctl_conf_load(const char *path, bool explicit, mh_err_t *err);
char *ctl_conf_admin_socket(const char *path, bool explicit);
char *ctl_conf_scan(const char *text, size_t len, const char *key);

#endif
