/* SPDX-License-Identifier: MIT */
/*
 * spool.h - the fallback spool: where producers leave events when mailhookd
 * cannot take them, and where mailhookd picks them up (Maildir discipline).
 *
 * Layout under the spool directory:
 *   tmp/   files being written (never read by the daemon)
 *   new/   complete files, ready to drain
 *   bad/   quarantine: files that could not be parsed, kept for the admin
 *
 * A spool file holds one or more events, each a canonical JSON line ending
 * in "\n". Writing: create tmp/NAME (O_EXCL, mode 0640), write, fsync, rename
 * to new/NAME, fsync the new/ directory. NAME is unique across processes and
 * hosts: "<sec>.<usec>.<pid>.<random hex>.<hostname>".
 *
 * Who may do what (mailhookd sets it up as root, daemon.c): the spool
 * directory is user:submit_group 0750, so only producers get in; tmp/ and
 * new/ are user:user's-group SPOOL_DROP_MODE (setgid, sticky, -wx for
 * others), so a producer can create a file but not list the directory nor
 * remove another's file, and its file, 0640, belongs to mailhookd's group:
 * mailhookd reads it, other producers cannot open it even by name (as long
 * as submit_group is not mailhookd's own group). bad/ is user's alone.
 *
 *   spool_write(dir, lines, len, err)   write one file holding len bytes of
 *                                       complete event lines; 0 or -1
 *   spool_prepare(dir, err)             create tmp/ new/ bad/ if missing
 *   spool_usable(dir, err)              0 when this process can drain the
 *                                       spool (list and change tmp/, new/ and
 *                                       bad/), else -1 + err naming the first
 *                                       directory it cannot use and why
 *   spool_list(dir, &names, &n, err)    names of the files in new/, oldest
 *                                       first (by name); caller frees with
 *                                       spool_list_free
 *   spool_list_free(names, n)           free what spool_list gave
 *   spool_read(dir, name, max, &buf, &len, err)
 *                                       read new/NAME (at most max bytes, else
 *                                       error); buf malloc'ed
 *   spool_remove(dir, name, err)        unlink new/NAME after it is committed
 *   spool_quarantine(dir, name, err)    move new/NAME to bad/NAME
 *   spool_tmp_reap(dir, age_s)          unlink tmp/ files older than age_s
 *                                       (left by a producer that crashed)
 */
#ifndef MH_SPOOL_H
#define MH_SPOOL_H

#include <stddef.h>
#include "msg.h"

#define SPOOL_DROP_MODE 03733 /* tmp/ and new/ */

int spool_prepare(const char *dir, mh_err_t *err);
int spool_usable(const char *dir, mh_err_t *err);
int spool_write(const char *dir, const char *lines, size_t len, mh_err_t *err);
int spool_list(const char *dir, char ***names, size_t *n, mh_err_t *err);
void spool_list_free(char **names, size_t n);
int spool_read(const char *dir, const char *name, size_t max, char **buf, size_t *len,
               mh_err_t *err);
int spool_remove(const char *dir, const char *name, mh_err_t *err);
int spool_quarantine(const char *dir, const char *name, mh_err_t *err);
void spool_tmp_reap(const char *dir, int age_s);

#endif
