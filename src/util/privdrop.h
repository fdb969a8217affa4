/* SPDX-License-Identifier: MIT */
/*
 * privdrop.h - least privilege for mailhookd.
 *
 *   privdrop_lookup(user, group, &ids, err)  resolve the service user (and
 *       an optional extra group name; "" = the user's primary group)
 *   privdrop_lookup_group(group, fallback, &gid, err)  a group name's gid;
 *       fallback for ""
 *   privdrop_prepare_dir(path, mode, uid, gid, err)
 *       create a directory (and parents) if missing, and, when running as
 *       root, give it to uid:gid with mode; an existing directory keeps its
 *       mode unless we are root
 *   privdrop_to(&ids, err)   setgroups/initgroups, setgid, setuid, then
 *       verify: trying to regain root must fail (OpenSSH permanently_set_uid)
 */
#ifndef MH_PRIVDROP_H
#define MH_PRIVDROP_H

#include <stdbool.h>
#include <sys/types.h>
#include "msg.h"

struct priv_ids {
    uid_t uid;
    gid_t gid;        /* the user's primary group */
    gid_t group_gid;  /* the named group, or gid */
    char *user;       /* owned */
};

int privdrop_lookup(const char *user, const char *group, struct priv_ids *ids, mh_err_t *err);
int privdrop_lookup_group(const char *group, gid_t fallback, gid_t *gid, mh_err_t *err);
int privdrop_prepare_dir(const char *path, mode_t mode, uid_t uid, gid_t gid, mh_err_t *err);
int privdrop_to(const struct priv_ids *ids, mh_err_t *err);

#endif
