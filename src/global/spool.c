/* SPDX-License-Identifier: MIT */
/*
 * spool.c - the fallback spool shared by producers and mailhookd, kept with
 * the Maildir discipline (see spool.h for the layout and the public calls).
 *
 *   spool_prepare()     create DIR (0750), tmp/ and new/ (SPOOL_DROP_MODE,
 *                       as mailhookd makes them), bad/ (0750)
 *   spool_usable()      open tmp/ new/ bad/ (no symlinks), then faccessat()
 *                       for write and search with the effective ids
 *   spool_write()       tmp/NAME (O_EXCL, 0640) -> write -> fsync -> rename
 *                       to new/NAME -> fsync new/ (syncfs when new/ is not
 *                       readable by this producer); the tmp file is removed on
 *                       any failure
 *   spool_list()        names in new/, oldest first (by name)
 *   spool_read()        new/NAME, no symlinks, regular files only, bounded
 *   spool_remove()      unlink new/NAME
 *   spool_quarantine()  rename new/NAME to bad/NAME
 *   spool_tmp_reap()    unlink abandoned tmp/ files by age (mtime)
 *
 * Names are "<sec>.<usec>.<pid>.<16 hex from getrandom()>.<host>", with
 * usec zero-padded so that strcmp() order is time order, and the hostname
 * reduced to [A-Za-z0-9-] (anything else becomes '_') so a name never holds
 * a dot or slash of its own.
 *
 * Failures return -1 with err saying which file and why, e.g.
 * "spool: write /var/spool/mailhook/tmp/NAME: No space left on device".
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "strutil.h"
#include "xalloc.h"

#define SPOOL_NAME_SIZE 256    /* NAME_MAX + 1 */
#define SPOOL_CREATE_TRIES 4   /* O_EXCL collisions before giving up */

/* Build "dir/sub/name" (name may be NULL) into out; -1 + err if too long. */
static int spool_path(char *out, size_t outlen, const char *dir, const char *sub,
                      const char *name, mh_err_t *err)
{
    int n;

    if (name)
        n = snprintf(out, outlen, "%s/%s/%s", dir, sub, name);
    else
        n = snprintf(out, outlen, "%s/%s", dir, sub);
    if (n < 0 || (size_t)n >= outlen)
        return mh_err_set(err, "spool: path too long: %s/%s/%s", dir, sub, name ? name : "");
    return 0;
}

/*
 * A name handed to read/remove/quarantine must be a plain file name in
 * new/: no slash, not a dot file (which also excludes "." and "..").
 */
static int spool_name_check(const char *name, mh_err_t *err)
{
    char shown[84];

    if (name[0] == 0 || name[0] == '.' || strchr(name, '/') != NULL ||
        strlen(name) >= SPOOL_NAME_SIZE)
        return mh_err_set(err, "spool: invalid file name \"%s\"", /* anyone's, in new/ */
                          printable(shown, sizeof(shown), name, strlen(name)));
    return 0;
}

/* A fresh unique file name (see the header comment for the form). */
static int spool_unique_name(char *out, size_t outlen, mh_err_t *err)
{
    unsigned char rnd[8];
    char hex[2 * sizeof(rnd) + 1], host[256];
    struct timespec ts;
    size_t i;
    int n;

    if (rand_bytes(rnd, sizeof(rnd)) < 0)
        return mh_err_set(err, "spool: getrandom: %s", strerror(errno));
    hex_encode(hex, rnd, sizeof(rnd));

    if (gethostname(host, sizeof(host)) < 0 || host[0] == 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = 0;
    host[64] = 0; /* HOST_NAME_MAX on Linux; keeps the name well under NAME_MAX */
    for (i = 0; host[i]; i++) {
        char c = host[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-'))
            host[i] = '_';
    }

    clock_gettime(CLOCK_REALTIME, &ts);
    n = snprintf(out, outlen, "%lld.%06ld.%ld.%s.%s", (long long)ts.tv_sec,
                 ts.tv_nsec / 1000, (long)getpid(), hex, host);
    if (n < 0 || (size_t)n >= outlen)
        return mh_err_set(err, "spool: file name too long");
    return 0;
}

/* Open dir/sub as a directory fd (for *at() calls and fsync). */
static int spool_opendir(const char *dir, const char *sub, mh_err_t *err)
{
    char path[PATH_MAX];
    int fd;

    if (spool_path(path, sizeof(path), dir, sub, NULL, err) < 0)
        return -1;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* Producers may create files in tmp/ and new/ but not list them (no
     * read permission, so one producer cannot see another's events): for
     * them an O_PATH handle serves openat()/renameat(), and the rename is
     * made durable with syncfs() instead of a directory fsync. */
    if (fd < 0 && errno == EACCES)
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mh_err_set(err, "spool: open %s: %s", path, strerror(errno));
    return fd;
}

/* Write all of buf to fd, across short writes and signals. */
static int spool_write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) { /* should not happen for a regular file; do not spin */
            errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int spool_write(const char *dir, const char *lines, size_t len, mh_err_t *err)
{
    char name[SPOOL_NAME_SIZE];
    int tmpfd = -1, newfd = -1, fd = -1, rc = -1, tries, e;
    const char *step;

    if (len == 0 || lines[len - 1] != '\n')
        return mh_err_set(err, "spool: refusing to write %zu bytes not ending a line", len);
    if ((tmpfd = spool_opendir(dir, "tmp", err)) < 0 ||
        (newfd = spool_opendir(dir, "new", err)) < 0)
        goto out;
    for (tries = 1;; tries++) {
        if (spool_unique_name(name, sizeof(name), err) < 0)
            goto out;
        fd = openat(tmpfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
        if (fd >= 0)
            break;
        if (errno != EEXIST || tries == SPOOL_CREATE_TRIES) {
            mh_err_set(err, "spool: create %s/tmp/%s: %s", dir, name, strerror(errno));
            goto out;
        }
    }
    /* Exactly 0640 whatever the producer's umask: mailhookd reads by group. */
    step = "chmod";
    if (fchmod(fd, 0640) < 0)
        goto fail_tmp;
    step = "write";
    if (spool_write_all(fd, lines, len) < 0)
        goto fail_tmp;
    step = "fsync";
    if (fsync(fd) < 0)
        goto fail_tmp;
    if (renameat(tmpfd, name, newfd, name) < 0) {
        e = errno;
        unlinkat(tmpfd, name, 0);
        mh_err_set(err, "spool: rename %s/tmp/%s to new/: %s", dir, name, strerror(e));
        goto out;
    }
    /*
     * The file is in new/ but its directory entry may not be durable. Say so;
     * do not remove it: the daemon may already be draining it, and an event
     * whose fate is unknown is better stored twice (deduplicated by id) than
     * lost.
     */
    if (fsync(newfd) < 0 && (errno != EBADF || syncfs(fd) < 0)) {
        mh_err_set(err, "spool: fsync %s/new: %s", dir, strerror(errno));
        goto out;
    }
    e = close(fd);
    fd = -1;
    if (e < 0) {
        mh_err_set(err, "spool: close %s/new/%s: %s", dir, name, strerror(errno));
        goto out;
    }
    rc = 0;
    goto out;

fail_tmp:
    e = errno;
    if (fd >= 0)
        close(fd);
    fd = -1;
    unlinkat(tmpfd, name, 0);
    mh_err_set(err, "spool: %s %s/tmp/%s: %s", step, dir, name, strerror(e));
out:
    if (fd >= 0)
        close(fd);
    if (tmpfd >= 0)
        close(tmpfd);
    if (newfd >= 0)
        close(newfd);
    return rc;
}

/*
 * mkdir path with exactly mode (mkdir(2) applies the umask and ignores the
 * setgid bit, hence the chmod). An existing directory is left as it is: the
 * administrator's choice of mode and group wins.
 */
static int spool_mkdir(const char *path, mode_t mode, mh_err_t *err)
{
    struct stat st;

    if (mkdir(path, mode & 0777) == 0) {
        if (chmod(path, mode) < 0)
            return mh_err_set(err, "spool: chmod %s: %s", path, strerror(errno));
        return 0;
    }
    if (errno != EEXIST)
        return mh_err_set(err, "spool: mkdir %s: %s", path, strerror(errno));
    if (stat(path, &st) < 0)
        return mh_err_set(err, "spool: stat %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return mh_err_set(err, "spool: %s exists and is not a directory", path);
    return 0;
}

int spool_usable(const char *dir, mh_err_t *err)
{
    static const char *const subs[] = { "tmp", "new", "bad" };
    char path[PATH_MAX];
    int fd;

    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (spool_path(path, sizeof(path), dir, subs[i], NULL, err) < 0)
            return -1;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return mh_err_set(err, "spool: cannot list %s: %s", path, strerror(errno));
        close(fd);
        if (faccessat(AT_FDCWD, path, W_OK | X_OK, AT_EACCESS) < 0)
            return mh_err_set(err, "spool: cannot change %s: %s", path, strerror(errno));
    }
    return 0;
}

int spool_prepare(const char *dir, mh_err_t *err)
{
    static const struct {
        const char *sub;
        mode_t mode;
    } subs[] = {
        { "tmp", SPOOL_DROP_MODE },
        { "new", SPOOL_DROP_MODE },
        { "bad", 0750 },
    };
    char path[PATH_MAX];

    if (spool_mkdir(dir, 0750, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (spool_path(path, sizeof(path), dir, subs[i].sub, NULL, err) < 0 ||
            spool_mkdir(path, subs[i].mode, err) < 0)
            return -1;
    return 0;
}

static int spool_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int spool_list(const char *dir, char ***names, size_t *n, mh_err_t *err)
{
    char path[PATH_MAX];
    char **v = NULL;
    size_t len = 0, cap = 0;
    struct dirent *de;
    DIR *d;

    *names = NULL;
    *n = 0;
    if (spool_path(path, sizeof(path), dir, "new", NULL, err) < 0)
        return -1;
    if ((d = opendir(path)) == NULL)
        return mh_err_set(err, "spool: open %s: %s", path, strerror(errno));
    for (;;) {
        errno = 0;
        if ((de = readdir(d)) == NULL)
            break;
        if (de->d_name[0] == '.')
            continue;
        if (len == cap)
            v = xreallocarray(v, cap = cap ? 2 * cap : 64, sizeof(*v));
        v[len++] = xstrdup(de->d_name);
    }
    if (errno != 0) {
        mh_err_set(err, "spool: read %s: %s", path, strerror(errno));
        closedir(d);
        spool_list_free(v, len);
        return -1;
    }
    closedir(d);
    if (len > 1)
        qsort(v, len, sizeof(*v), spool_name_cmp);
    *names = v;
    *n = len;
    return 0;
}

void spool_list_free(char **names, size_t n)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/*
 * The buffer is NUL-terminated (one byte past *len) for the caller's
 * convenience; the file's bytes are [0, *len).
 */
int spool_read(const char *dir, const char *name, size_t max, char **buf, size_t *len,
               mh_err_t *err)
{
    char path[PATH_MAX];
    struct stat st;
    size_t size, got = 0;
    ssize_t r;
    char *p;
    int fd;

    *buf = NULL;
    *len = 0;
    if (spool_name_check(name, err) < 0 ||
        spool_path(path, sizeof(path), dir, "new", name, err) < 0)
        return -1;
    /* O_NONBLOCK: a FIFO planted in new/ must not hang the daemon in open(). */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP)
            return mh_err_set(err, "spool: %s is a symbolic link", path);
        return mh_err_set(err, "spool: open %s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) < 0) {
        mh_err_set(err, "spool: stat %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        mh_err_set(err, "spool: %s is not a regular file", path);
        goto fail;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > (uintmax_t)max) {
        mh_err_set(err, "spool: %s too large (%lld bytes, at most %zu)", path,
                   (long long)st.st_size, max);
        goto fail;
    }
    size = (size_t)st.st_size;
    p = xmalloc(size + 1);
    while (got < size) {
        r = read(fd, p + got, size - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            mh_err_set(err, "spool: read %s: %s", path, strerror(errno));
            free(p);
            goto fail;
        }
        if (r == 0) /* shrank under us; take what is there */
            break;
        got += (size_t)r;
    }
    close(fd);
    p[got] = 0;
    *buf = p;
    *len = got;
    return 0;
fail:
    close(fd);
    return -1;
}

int spool_remove(const char *dir, const char *name, mh_err_t *err)
{
    char path[PATH_MAX];

    if (spool_name_check(name, err) < 0 ||
        spool_path(path, sizeof(path), dir, "new", name, err) < 0)
        return -1;
    if (unlink(path) < 0)
        return mh_err_set(err, "spool: remove %s: %s", path, strerror(errno));
    return 0;
}

int spool_quarantine(const char *dir, const char *name, mh_err_t *err)
{
    char from[PATH_MAX], to[PATH_MAX];

    if (spool_name_check(name, err) < 0 ||
        spool_path(from, sizeof(from), dir, "new", name, err) < 0 ||
        spool_path(to, sizeof(to), dir, "bad", name, err) < 0)
        return -1;
    if (rename(from, to) < 0)
        return mh_err_set(err, "spool: move %s to bad/: %s", from, strerror(errno));
    return 0;
}

void spool_tmp_reap(const char *dir, int age_s)
{
    struct dirent *de;
    struct stat st;
    mh_err_t err;
    char shown[SPOOL_NAME_SIZE];
    time_t now = time(NULL);
    int dfd;
    DIR *d;

    if (age_s < 0)
        return;
    if ((dfd = spool_opendir(dir, "tmp", &err)) < 0) {
        msg_warn("%s", err.text);
        return;
    }
    if ((d = fdopendir(dfd)) == NULL) {
        msg_warn("spool: read %s/tmp: %s", dir, strerror(errno));
        close(dfd);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (now - st.st_mtime <= (time_t)age_s)
            continue;
        /* Names in tmp/ are anyone's with write access: make them printable. */
        printable(shown, sizeof(shown), de->d_name, strlen(de->d_name));
        if (unlinkat(dfd, de->d_name, 0) == 0)
            msg_info("spool: removed %s/tmp/%s, abandoned by a producer", dir, shown);
        else if (errno != ENOENT)
            msg_warn("spool: remove %s/tmp/%s: %s", dir, shown, strerror(errno));
    }
    closedir(d); /* closes dfd */
}
