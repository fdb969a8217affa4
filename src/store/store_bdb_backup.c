/* SPDX-License-Identifier: MIT */
/*
 * store_bdb_backup.c - a hot backup of the Berkeley DB store (store.h,
 * store_backup), through Berkeley DB 5.3's own API (DB_ENV->backup, what
 * db_hotbackup uses), so that a copy can be taken while mailhookd runs.
 *
 * Model. The store is used by one thread (the store thread); the backup
 * runs on it, between two transactions, so nothing writes while it runs
 * (producers wait for their acknowledgement, or spool). It forces a
 * checkpoint first, so the databases on disk hold every committed
 * transaction, then DB_ENV->backup copies every database file and then the
 * log files still present (DB_LOG_AUTO_REMOVE keeps those since the last
 * checkpoint but one) into one directory (DB_BACKUP_SINGLE_DIR). The copy
 * is a state directory: opening it runs recovery (DB_RECOVER, store_open),
 * which replays the copied log onto the copied databases.
 *
 * Limits. The copy is as large as the databases plus two or three log
 * files (store_log_file_size each); it takes as long as copying that much,
 * and the store takes no event meanwhile. The copy is not incremental.
 *
 * Errors: -1 with "store: backup ...: <db_strerror>" in err; a backup that
 * failed may leave files in target (the caller says so).
 */
#include "config.h"

#include <db.h>

#include "store.h"
#include "store_bdb_int.h"

int store_backup(store_t *st, const char *target, mh_err_t *err)
{
    int ret;

    if (st->cur)
        return mh_err_set(err, "store: backup: a transaction is open");
    if (st->panicked)
        return mh_err_set(err, "store: backup: the store failed and must be recovered first");
    if ((ret = st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE)) != 0)
        return bdb_err(err, "backup: checkpoint", ret);
    /* DB_EXCL: never mix with files already in target (the caller checks
     * too, but it is the library that writes them). */
    if ((ret = st->env->backup(st->env, target, DB_CREATE | DB_EXCL | DB_BACKUP_SINGLE_DIR)) != 0)
        return mh_err_set(err, "store: backup to %s: %s", target, db_strerror(ret));
    return 0;
}
