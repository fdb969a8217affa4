/* SPDX-License-Identifier: MIT */
/*
 * ctl_backup.c - `mailhookctl backup DIR` (see ctl_backup.h).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl_backup.h"


int ctl_backup(struct ctl *ctl, int argc, char **argv)
{
    char cwd[PATH_MAX], path[2 * PATH_MAX];
    const char *dir;
    json_t *r;

    if (argc != 2 || argv[1][0] == 0)
        ctl_usage(CTL_BACKUP_SYNOPSIS);
    dir = argv[1];
    if (dir[0] != '/') { /* the daemon has its own current directory */
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            ctl_bad_usage(CTL_BACKUP_SYNOPSIS, "DIR: give an absolute path");
        snprintf(path, sizeof(path), "%s/%s", cwd, dir);
        dir = path;
    }
    r = ctl_call(ctl, json_pack("{s:s,s:o}", "cmd", "backup", "dir",
                                ctl_jstr("DIR", dir, CTL_BACKUP_SYNOPSIS)));
    if (ctl->json)
        ctl_print_json(r);
    else
        printf("backed up to %s: %lld files, %lld bytes, %lld ms\n", ctl_str(r, "dir"),
               (long long)ctl_int(r, "files"), (long long)ctl_int(r, "bytes"),
               (long long)ctl_int(r, "duration_ms"));
    json_decref(r);
    return EX_OK;
}
