/* SPDX-License-Identifier: MIT */
/*
 * maillog_source_file.c - the "file" kind of maillog source
 * (maillog_source.h): a log file followed by tail_file.h, its position
 * the tail_pos of the last line handed out (tail_pos_encode's JSON).
 *
 * Open: a saved position that decodes resumes there (tail_open with it);
 * else start_at "beginning" reads the file from its start, "end" from its
 * end. A log the service user may not read fails with the words the admin
 * needs (the usual case: Debian's /var/log/mail.log is root:adm 0640 and
 * the service user is not in group adm yet).
 *
 * The fd to watch is the tail's inotify fd; processing it is draining it
 * (tail_next looks at everything anyway, and a drain before tail_next
 * never swallows a wake-up). The written time is the file's mtime; the
 * bytes behind are the file's size past the last position handed out (all
 * of the new file while a rotated one is being finished).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maillog_source_int.h"
#include "tail_file.h"
#include "xalloc.h"

struct file_source {
    tail_t *tail;
    char *path;
    struct tail_pos pos; /* after the last line handed out, when have_pos */
    bool have_pos;
};

/*
 * Why the log at path cannot be opened, in the words the admin needs, or
 * NULL when it is not a matter of permissions (malloc'ed).
 */
static char *file_open_hint(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    const struct passwd *pw;
    const struct group *gr;
    struct stat sb;

    if (fd >= 0) {
        close(fd);
        return NULL;
    }
    if (errno != EACCES)
        return NULL;
    pw = getpwuid(geteuid());
    if (stat(path, &sb) == 0 && (sb.st_mode & S_IRGRP) && (gr = getgrgid(sb.st_gid)) != NULL)
        return xasprintf("permission denied: add the %s user to group %s",
                         pw ? pw->pw_name : "mailhook", gr->gr_name);
    return xasprintf("permission denied: the %s user cannot read %s", pw ? pw->pw_name : "mailhook",
                     path);
}

static void *file_open(const struct mh_conf_maillog *conf, const char *pos_json, mh_err_t *errp)
{
    struct tail_pos pos;
    mh_err_t err;
    tail_t *t;
    struct file_source *fs;
    char *hint;

    if (pos_json && tail_pos_decode(pos_json, &pos, &err) == 0)
        t = tail_open(conf->path, &pos, (size_t)conf->max_line, &err);
    else if (strcmp(conf->start_at, "beginning") == 0)
        t = tail_open_from_start(conf->path, (size_t)conf->max_line, &err);
    else
        t = tail_open(conf->path, NULL, (size_t)conf->max_line, &err);
    if (t == NULL) {
        if ((hint = file_open_hint(conf->path)) != NULL) {
            mh_err_set(errp, "%s", hint);
            free(hint);
        } else {
            *errp = err;
        }
        return NULL;
    }
    tail_set_rotate_wait(t, (unsigned)conf->rotate_wait * 1000u);
    fs = xcalloc(1, sizeof(*fs));
    fs->tail = t;
    fs->path = xstrdup(conf->path);
    return fs;
}

static int file_next(void *impl, const char **line, size_t *len, bool *truncated)
{
    struct file_source *fs = impl;
    struct tail_pos pos;
    int rc = tail_next(fs->tail, line, len, truncated, &pos);

    if (rc == 1) {
        fs->pos = pos;
        fs->have_pos = true;
    }
    return rc;
}

static int file_fd(const void *impl)
{
    return tail_fd_for_poll(((const struct file_source *)impl)->tail);
}

static void file_process(void *impl)
{
    int fd = file_fd(impl);
    char buf[4096];

    if (fd >= 0)
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
}

static char *file_pos_encode(const void *impl)
{
    return tail_pos_encode(&((const struct file_source *)impl)->pos);
}

static int64_t file_written_ms(const void *impl)
{
    struct stat sb;

    if (stat(((const struct file_source *)impl)->path, &sb) != 0)
        return -1;
    return (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
}

static int64_t file_behind_bytes(const void *impl, bool caught_up)
{
    const struct file_source *fs = impl;
    struct stat sb;

    if (stat(fs->path, &sb) != 0)
        return -1;
    if (!fs->have_pos)
        return caught_up ? 0 : -1; /* nothing read since the open, and at the end */
    if (sb.st_dev != fs->pos.dev || sb.st_ino != fs->pos.ino)
        return (int64_t)sb.st_size; /* finishing a rotated file: the new one is all ahead */
    return sb.st_size > (off_t)fs->pos.offset ? (int64_t)(sb.st_size - (off_t)fs->pos.offset) : 0;
}

static const char *file_describe(const void *impl)
{
    return ((const struct file_source *)impl)->path;
}

static void file_close(void *impl)
{
    struct file_source *fs = impl;

    tail_close(fs->tail);
    free(fs->path);
    free(fs);
}

const struct maillog_source_ops maillog_source_file_ops = {
    .type = "file",
    .open = file_open,
    .next = file_next,
    .fd = file_fd,
    .process = file_process,
    .pos_encode = file_pos_encode,
    .written_ms = file_written_ms,
    .behind_bytes = file_behind_bytes,
    .describe = file_describe,
    .close = file_close,
};
