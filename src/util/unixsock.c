/* SPDX-License-Identifier: MIT */
/*
 * unixsock.c - Unix-domain stream sockets (see unixsock.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixsock.h"

int fd_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int unixsock_addr(const char *path, struct sockaddr_un *sun, mh_err_t *err)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path))
        return mh_err_set(err, "socket path too long: %s", path);
    memcpy(sun->sun_path, path, strlen(path) + 1);
    return 0;
}

int unixsock_clear_stale(const char *path, mh_err_t *err)
{
    struct stat st;
    int fd;

    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode))
        return mh_err_set(err, "%s exists and is not a socket", path);
    fd = unixsock_connect(path, 500, NULL);
    if (fd >= 0) {
        close(fd);
        return mh_err_set(err, "%s: already in use by a running process", path);
    }
    if (unlink(path) < 0)
        return mh_err_set(err, "remove stale socket %s: %s", path, strerror(errno));
    return 0;
}

int unixsock_listen(const char *path, mode_t mode, uid_t uid, gid_t gid, mh_err_t *err)
{
    struct sockaddr_un sun;
    int fd;

    if (unixsock_addr(path, &sun, err) < 0 || unixsock_clear_stale(path, err) < 0)
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return mh_err_set(err, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        mh_err_set(err, "bind %s: %s", path, strerror(errno));
        goto fail;
    }
    if (chmod(path, mode) < 0 || ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
                                  chown(path, uid, gid) < 0)) {
        mh_err_set(err, "set permissions of %s: %s", path, strerror(errno));
        goto fail;
    }
    if (listen(fd, 512) < 0) {
        mh_err_set(err, "listen %s: %s", path, strerror(errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

int unixsock_connect(const char *path, int timeout_ms, mh_err_t *err)
{
    struct sockaddr_un sun;
    struct pollfd pfd;
    int fd, soerr = 0, r;
    socklen_t slen = sizeof(soerr);

    if (unixsock_addr(path, &sun, err) < 0)
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return mh_err_set(err, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
        return fd;
    if (errno != EINPROGRESS) { /* EAGAIN: backlog full, the daemon is swamped */
        mh_err_set(err, "connect %s: %s", path, strerror(errno));
        goto fail;
    }
    pfd.fd = fd;
    pfd.events = POLLOUT;
    do
        r = poll(&pfd, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
        mh_err_set(err, "connect %s: %s", path, r == 0 ? "timed out" : strerror(errno));
        goto fail;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0 || soerr != 0) {
        mh_err_set(err, "connect %s: %s", path, strerror(soerr ? soerr : errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}
