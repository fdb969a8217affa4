/* SPDX-License-Identifier: MIT */
/*
 * admin_backup.h - the "backup" admin command (admin_proto.h): a hot
 * backup of the store (store_backup) into a directory on the daemon's
 * machine, taken on the store thread while mailhookd runs.
 *
 * The check (loop thread) refuses a relative path, a directory inside
 * state_dir (or state_dir itself), a path whose parent does not exist, and
 * an existing DIR that is not an empty directory ("exists"). The work
 * (store thread) creates DIR mode 0700, owned by the daemon's user (it
 * runs after the privilege drop), takes the backup and answers with the
 * files and bytes written. The store takes no event while it runs.
 *
 *   admin_backup_commands[]   command table rows (NULL-terminated)
 */
#ifndef MH_ADMIN_BACKUP_H
#define MH_ADMIN_BACKUP_H

#include "admin_cmd.h"

extern const struct admin_command admin_backup_commands[];

#endif
