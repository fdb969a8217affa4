/* SPDX-License-Identifier: MIT */
/*
 * store_bdb_space.c - the Berkeley DB store (store.h) on a full file system.
 *
 *   bdb_space_notice     Berkeley DB's error message hook: a write that
 *                        failed for lack of space (ENOSPC, EDQUOT) makes the
 *                        store full; its messages while full are not logged
 *   bdb_space_committed  a commit went through: the end of a full spell
 *   store_space_check    may new data go in? (probes while full)
 *   store_space_full     is the store full (no probe)?
 *   store_space_status   the state for mailhookctl status
 *   bdb_space_open_failed  why recovery could not run, and what it needs
 *
 * How a full disk is met. The store maps no file into memory (DB_PRIVATE,
 * store_bdb.c), so every lack of space shows as a failed write() or
 * pwrite(), which Berkeley DB turns into an error return and a message
 * ("write: ...: No space left on device") through the error hook. The
 * operation fails (the caller aborts, the producer is told to try later);
 * the store notes the first message, logs one warning and from then on
 * keeps quiet about the same trouble (Berkeley DB writes a message per page
 * it cannot flush).
 *
 * While full, store_space_check refuses new data without touching the disk
 * (each failed attempt would still fill the log with the records of a
 * transaction that then aborts). Writes that need little or no new space
 * (delivery bookkeeping, admin commands) go on and succeed as long as the
 * log has room. At most once a second, store_space_check (and
 * store_space_status) probes: with some space free, a checkpoint writes the
 * cache's dirty pages to the databases and, if that worked, log files no
 * longer needed are removed and new data is taken again. The first commit
 * after that ends the spell (an info line); a write that fails before is
 * the same spell, not a new warning.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "store_bdb_int.h"
#include "timeutil.h"

#define SPACE_PROBE_MS 1000           /* probe at most this often while full */
#define SPACE_RESUME_MIN (1u << 20)   /* probe only with this much free */

uint64_t store_free_bytes(const char *dir)
{
    struct statvfs sv;

    if (statvfs(dir, &sv) != 0)
        return UINT64_MAX;
    return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* Does a Berkeley DB message report a write refused for lack of space?
 * Berkeley DB appends strerror() of the system error to the message. */
static bool space_message(const char *text)
{
    return strstr(text, strerror(ENOSPC)) != NULL || strstr(text, strerror(EDQUOT)) != NULL;
}

bool bdb_space_notice(store_t *st, const char *text)
{
    struct bdb_space *sp = &st->space;
    bool refused = space_message(text);

    if (refused)
        sp->writes_refused++;
    if (sp->state == SPACE_FULL) {
        sp->suppressed++;
        return true;
    }
    if (!refused)
        return false;
    if (sp->state == SPACE_OK) { /* a new spell; after a probe, the same one */
        sp->since_ms = time_now_ms();
        snprintf(sp->cause, sizeof(sp->cause), "%s", text);
        sp->spells++;
        sp->suppressed = 0;
        if (st->env_open) /* else store_open says it (bdb_space_open_failed) */
            msg_warn("store: %s: out of space (%s): new events are answered with a "
                     "temporary failure until space is freed; delivery goes on", st->dir, text);
    }
    sp->state = SPACE_FULL;
    sp->probe_ms = time_mono_ms();
    return true;
}

void bdb_space_committed(store_t *st)
{
    struct bdb_space *sp = &st->space;
    uint64_t avail;

    if (sp->state != SPACE_PROBATION)
        return;
    avail = store_free_bytes(st->dir);
    msg_info("store: %s: space again (%llu KiB free), new events are stored again; out of "
             "space for %lld s", st->dir, (unsigned long long)(avail / 1024),
             (long long)((time_now_ms() - sp->since_ms) / 1000));
    sp->state = SPACE_OK;
    sp->since_ms = 0;
    sp->cause[0] = 0;
}

/* While full and due: can the store write again? Moves to SPACE_PROBATION
 * when a checkpoint went through. A transaction may be open (new events are
 * checked inside the caller's): a checkpoint takes no locks of its own. */
static void space_probe(store_t *st)
{
    struct bdb_space *sp = &st->space;
    int64_t now = time_mono_ms();
    uint64_t refused;
    int ret;

    if (sp->state != SPACE_FULL || now - sp->probe_ms < SPACE_PROBE_MS)
        return;
    sp->probe_ms = now;
    if (store_free_bytes(st->dir) < SPACE_RESUME_MIN)
        return;
    /* The dirty pages go to the databases and a checkpoint record (forced:
     * something is written) to the log, or a write is refused again. */
    refused = sp->writes_refused;
    if ((ret = st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE)) != 0 ||
        sp->writes_refused != refused)
        return;
    if ((ret = st->env->log_archive(st->env, NULL, DB_ARCH_REMOVE)) != 0)
        msg_warn("store: remove old log files: %s", db_strerror(ret));
    sp->state = SPACE_PROBATION;
}

bool store_space_full(const store_t *st)
{
    return st->space.state == SPACE_FULL;
}

int store_space_check(store_t *st, mh_err_t *err)
{
    space_probe(st);
    if (st->space.state != SPACE_FULL)
        return 0;
    return mh_err_set(err, "store: no space left for new events in %s (%s)", st->dir,
                      st->space.cause);
}

void store_space_status(store_t *st, struct store_space *out)
{
    const struct bdb_space *sp = &st->space;

    space_probe(st);
    memset(out, 0, sizeof(*out));
    out->full = sp->state == SPACE_FULL;
    out->since_ms = sp->state == SPACE_OK ? 0 : sp->since_ms;
    snprintf(out->cause, sizeof(out->cause), "%s", sp->state == SPACE_OK ? "" : sp->cause);
    out->free_bytes = store_free_bytes(st->dir);
    out->spells = sp->spells;
}

/* The log files of dir: *bytes, the space they take; *holes, the bytes of
 * the newest one that are holes (recovery writes zeros from the end of the
 * log to the end of that file, and needs space for them). */
static void log_files_space(const char *dir, uint64_t *bytes, uint64_t *holes)
{
    char newest[64] = "";
    struct dirent *de;
    struct stat sb;
    DIR *dp;

    *bytes = *holes = 0;
    if ((dp = opendir(dir)) == NULL)
        return;
    while ((de = readdir(dp)) != NULL) {
        if (strncmp(de->d_name, "log.", 4) != 0 || fstatat(dirfd(dp), de->d_name, &sb, 0) != 0)
            continue;
        *bytes += (uint64_t)sb.st_blocks * 512;
        if (strlen(de->d_name) < sizeof(newest) && strcmp(de->d_name, newest) > 0) {
            snprintf(newest, sizeof(newest), "%s", de->d_name);
            *holes = (uint64_t)sb.st_size > (uint64_t)sb.st_blocks * 512
                         ? (uint64_t)sb.st_size - (uint64_t)sb.st_blocks * 512 : 0;
        }
    }
    closedir(dp);
}

int bdb_space_open_failed(const store_t *st, mh_err_t *err)
{
    uint64_t avail = store_free_bytes(st->dir), log_bytes, holes;

    log_files_space(st->dir, &log_bytes, &holes);
    return mh_err_set(err, "store: not enough space to recover %s (%s): %llu KiB free; "
                      "recovery writes back to the databases what the log holds (up to "
                      "about %llu KiB, the size of the log files) and needs %llu KiB more "
                      "to finish the log", st->dir, st->space.cause,
                      avail == UINT64_MAX ? 0ULL : (unsigned long long)(avail / 1024),
                      (unsigned long long)(log_bytes / 1024),
                      (unsigned long long)((holes + 1023) / 1024));
}
