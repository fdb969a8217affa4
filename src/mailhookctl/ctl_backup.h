/* SPDX-License-Identifier: MIT */
/*
 * ctl_backup.h - `mailhookctl backup DIR`: a hot backup of the store taken
 * by mailhookd (the "backup" admin command, admin_backup.h) into DIR, a
 * directory on the daemon's machine that does not exist yet (or is empty)
 * and is outside state_dir; mailhookd creates it 0700, owned by its user.
 * DIR must be an absolute path.
 *
 *   ctl_backup(ctl, argc, argv)   argv[0] is "backup"; returns an exit code
 */
#ifndef MH_CTL_BACKUP_H
#define MH_CTL_BACKUP_H

#include "ctl_common.h"

#define CTL_BACKUP_SYNOPSIS "backup DIR"

int ctl_backup(struct ctl *ctl, int argc, char **argv);

#endif
