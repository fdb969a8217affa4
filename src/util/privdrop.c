/* SPDX-License-Identifier: MIT */
/*
 * privdrop.c - resolve the service user, prepare directories, drop root
 * and verify it cannot be regained (see privdrop.h).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privdrop.h"
#include "xalloc.h"

int privdrop_lookup_group(const char *group, gid_t fallback, gid_t *gid, mh_err_t *err)
{
    struct group *gr;

    if (group == NULL || *group == 0) {
        *gid = fallback;
        return 0;
    }
    errno = 0;
    if ((gr = getgrnam(group)) == NULL)
        return mh_err_set(err, "unknown group \"%s\"%s%s", group, errno ? ": " : "",
                          errno ? strerror(errno) : "");
    *gid = gr->gr_gid;
    return 0;
}

int privdrop_lookup(const char *user, const char *group, struct priv_ids *ids, mh_err_t *err)
{
    struct passwd *pw;

    memset(ids, 0, sizeof(*ids));
    errno = 0;
    if ((pw = getpwnam(user)) == NULL)
        return mh_err_set(err, "unknown user \"%s\" (create it: adduser --system --group %s)",
                          user, user);
    ids->uid = pw->pw_uid;
    ids->gid = pw->pw_gid;
    ids->user = xstrdup(user);
    return privdrop_lookup_group(group, ids->gid, &ids->group_gid, err);
}

int privdrop_prepare_dir(const char *path, mode_t mode, uid_t uid, gid_t gid, mh_err_t *err)
{
    char *copy = xstrdup(path);
    struct stat st;

    /* Parents first (0755, root's), like install -d. */
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
            mh_err_set(err, "mkdir %s: %s", copy, strerror(errno));
            free(copy);
            return -1;
        }
        *p = '/';
    }
    free(copy);
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return mh_err_set(err, "mkdir %s: %s", path, strerror(errno));
    if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return mh_err_set(err, "%s is not a directory", path);
    if (geteuid() == 0 && (chown(path, uid, gid) < 0 || chmod(path, mode) < 0))
        return mh_err_set(err, "set owner/mode of %s: %s", path, strerror(errno));
    return 0;
}

int privdrop_to(const struct priv_ids *ids, mh_err_t *err)
{
    if (initgroups(ids->user, ids->gid) < 0)
        return mh_err_set(err, "initgroups(%s): %s", ids->user, strerror(errno));
    if (ids->group_gid != ids->gid) {
        /* Also keep the submit/admin group so the daemon can read spool files. */
        gid_t groups[256];
        int n = getgroups(255, groups);
        if (n < 0)
            return mh_err_set(err, "getgroups: %s", strerror(errno));
        groups[n++] = ids->group_gid;
        if (setgroups((size_t)n, groups) < 0)
            return mh_err_set(err, "setgroups: %s", strerror(errno));
    }
    if (setresgid(ids->gid, ids->gid, ids->gid) < 0)
        return mh_err_set(err, "setgid(%u): %s", (unsigned)ids->gid, strerror(errno));
    if (setresuid(ids->uid, ids->uid, ids->uid) < 0)
        return mh_err_set(err, "setuid(%u): %s", (unsigned)ids->uid, strerror(errno));
    /* Verify: a process that can become root again has not dropped anything. */
    if (ids->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
        return mh_err_set(err, "privileges were not dropped: setuid(0) succeeded");
    if (getuid() != ids->uid || geteuid() != ids->uid || getgid() != ids->gid ||
        getegid() != ids->gid)
        return mh_err_set(err, "privileges were not dropped as asked");
    return 0;
}
