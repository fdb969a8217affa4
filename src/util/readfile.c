/* SPDX-License-Identifier: MIT */
/*
 * readfile.c - a whole small text file into memory (readfile.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readfile.h"
#include "xalloc.h"

char *readfile(const char *path, size_t max, mh_err_t *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    size_t len = 0;
    struct stat st;
    char *buf;
    ssize_t n;

    if (fd < 0) {
        mh_err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        mh_err_set(err, "%s: %s", path,
                   !S_ISREG(st.st_mode) ? "not a regular file" : "larger than allowed");
        close(fd);
        return NULL;
    }
    buf = xmalloc(max + 1);
    while (len < max && (n = read(fd, buf + len, max - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            mh_err_set(err, "%s: %s", path, strerror(errno));
            close(fd);
            free(buf);
            return NULL;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        mh_err_set(err, "%s: holds a NUL byte", path);
        free(buf);
        return NULL;
    }
    return buf;
}
