/* SPDX-License-Identifier: MIT */
/*
 * admin_backup.c - the "backup" admin command (see admin_backup.h and
 * admin_proto.h): where a backup may go (loop thread), then the copy
 * (store thread, store_backup).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin_backup.h"
#include "timeutil.h"
#include "xalloc.h"

/* 1 when dir is missing, 0 when it is an empty directory, -1 otherwise. */
static int backup_dir_state(const char *dir)
{
    struct dirent *de;
    DIR *d;
    int rc = 0;

    if ((d = opendir(dir)) == NULL)
        return errno == ENOENT ? 1 : -1;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            rc = -1;
    closedir(d);
    return rc;
}

/* Is the resolved path p the resolved directory top or inside it? */
static bool path_under(const char *p, const char *top)
{
    size_t n = strlen(top);

    return strncmp(p, top, n) == 0 && (p[n] == 0 || p[n] == '/' || strcmp(top, "/") == 0);
}

/* Is path (whose parent exists) state_dir or inside it? Both resolved:
 * path itself when it exists (a symbolic link), else its parent. */
static bool backup_inside(const char *path, const char *state_dir)
{
    char parent[PATH_MAX], rparent[PATH_MAX], rstate[PATH_MAX], full[2 * PATH_MAX + 2];
    const char *slash = strrchr(path, '/');
    size_t n = (size_t)(slash - path);

    if (realpath(state_dir, rstate) == NULL)
        return false; /* no state directory to be inside of */
    if (realpath(path, full) != NULL)
        return path_under(full, rstate);
    memcpy(parent, path, n);
    parent[n ? n : 1] = 0;
    if (n == 0)
        parent[0] = '/';
    if (realpath(parent, rparent) == NULL)
        return false;
    snprintf(full, sizeof(full), "%s/%s", strcmp(rparent, "/") ? rparent : "", slash + 1);
    return path_under(full, rstate);
}

static json_t *backup_check(const struct admin_env *env, json_t *req)
{
    const char *dir = NULL, *slash;
    char shown[128], parent[PATH_MAX];
    struct stat sb;
    size_t n;

    if (json_unpack(req, "{s:s}", "dir", &dir) < 0 || dir[0] != '/' || strlen(dir) >= PATH_MAX)
        return admin_error("bad_request", "backup needs \"dir\", an absolute path");
    printable(shown, sizeof(shown), dir, strlen(dir));
    slash = strrchr(dir, '/');
    if (slash[1] == 0 || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
        return admin_error("bad_request", "backup: %s: name the directory itself", shown);
    n = (size_t)(slash - dir);
    memcpy(parent, dir, n ? n : 1);
    parent[n ? n : 1] = 0;
    if (stat(parent, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return admin_error("not_found", "backup: %s: the parent directory does not exist",
                           shown);
    if (backup_inside(dir, env->conf->state_dir))
        return admin_error("bad_request", "backup: %s is inside state_dir: choose a directory "
                           "outside it (another disk, preferably)", shown);
    if (backup_dir_state(dir) < 0)
        return admin_error("exists", "backup: %s exists and is not an empty directory", shown);
    return NULL;
}

/* The files in dir and their bytes: what the backup wrote. */
static void backup_count(const char *dir, json_int_t *files, json_int_t *bytes)
{
    char path[PATH_MAX + 256];
    struct dirent *de;
    struct stat sb;
    DIR *d;

    *files = *bytes = 0;
    if ((d = opendir(dir)) == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (de->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
            (*files)++, *bytes += sb.st_size;
    }
    closedir(d);
}

static json_t *backup_work(const struct admin_env *env, struct admin_job *job, store_t *st,
                           json_t *req)
{
    const char *dir = json_string_value(json_object_get(req, "dir"));
    int64_t start = time_mono_us();
    json_int_t files, bytes;
    char shown[128];
    mh_err_t err;

    printable(shown, sizeof(shown), dir, strlen(dir));
    /* Checked on the loop; made here, in the order of the requests. */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return admin_error("internal", "backup: create %s: %s", shown, strerror(errno));
    if (backup_dir_state(dir) != 0)
        return admin_error("exists", "backup: %s exists and is not an empty directory", shown);
    if (store_backup(st, dir, &err) < 0) {
        msg_warn("admin: backup to %s failed: %s", shown, err.text);
        return admin_error("internal", "%s (files may be left in %s)", err.text, shown);
    }
    backup_count(dir, &files, &bytes);
    msg_info("admin: store backed up to %s: %lld files, %lld bytes", shown, (long long)files,
             (long long)bytes);
    return json_pack("{s:b,s:s,s:I,s:I,s:I}", "ok", 1, "dir", dir, "files", files, "bytes",
                     bytes, "duration_ms", (json_int_t)((time_mono_us() - start) / 1000));
}

const struct admin_command admin_backup_commands[] = {
    { "backup", backup_check, backup_work, NULL },
    { NULL, NULL, NULL, NULL },
};
