/* SPDX-License-Identifier: MIT */
/*
 * admin_client.c - one request, one answer over the admin socket.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_client.h"
#include "admin_proto.h"
#include "cjson.h"
#include "linebuf.h"
#include "timeutil.h"
#include "unixsock.h"

/* Why the socket could not be reached: the permission it lacks, or the
 * daemon not running. The socket's group is the one to join (mailhookd
 * makes it admin_group's; "mailhook" when even that cannot be seen). */
static int admin_unreachable(const char *socket_path, mh_err_t *err)
{
    const struct group *gr;
    struct stat sb;

    if (access(socket_path, W_OK) == 0 || errno != EACCES)
        return mh_err_prefix(err, "cannot reach mailhookd (is it running?)");
    gr = stat(socket_path, &sb) == 0 ? getgrgid(sb.st_gid) : NULL;
    return mh_err_set(err, "%s: permission denied: add yourself to group %s", socket_path,
                      gr && gr->gr_gid != 0 ? gr->gr_name : "mailhook");
}

/* Wait until fd is ready for events or the deadline passes. */
static int admin_wait(int fd, short events, int64_t deadline, mh_err_t *err)
{
    struct pollfd p = { .fd = fd, .events = events };
    int64_t left = deadline - time_mono_ms();
    int r;

    if (left <= 0)
        return mh_err_set(err, "mailhookd did not answer in time");
    r = poll(&p, 1, (int)left);
    if (r < 0 && errno != EINTR)
        return mh_err_set(err, "poll: %s", strerror(errno));
    return 0;
}

static int admin_send(int fd, const char *buf, size_t len, int64_t deadline, mh_err_t *err)
{
    linebuf_t out;
    int rc = 0;

    linebuf_init(&out, len + 1);
    linebuf_append(&out, buf, len);
    linebuf_append(&out, "\n", 1);
    while (linebuf_len(&out) > 0 && rc == 0) {
        if (linebuf_write(&out, fd) < 0)
            rc = mh_err_set(err, "send to mailhookd: %s", strerror(errno));
        else if (linebuf_len(&out) > 0)
            rc = admin_wait(fd, POLLOUT, deadline, err);
    }
    linebuf_free(&out);
    return rc;
}

static int admin_receive(int fd, json_t **reply, int64_t deadline, mh_err_t *err)
{
    linebuf_t in;
    json_error_t jerr;
    char *line = NULL;
    size_t len = 0;
    ssize_t n;
    int rc = 0;

    linebuf_init(&in, ADMIN_REPLY_MAX);
    while (rc == 0 && (line = linebuf_line(&in, &len)) == NULL) {
        n = linebuf_read(&in, fd);
        if (n == 0 || n == -2 || (n < 0 && errno != EAGAIN))
            rc = mh_err_set(err, "mailhookd closed the connection without an answer");
        else if (n < 0)
            rc = admin_wait(fd, POLLIN, deadline, err);
    }
    if (rc == 0 && (*reply = json_loadb(line, len, 0, &jerr)) == NULL)
        rc = mh_err_set(err, "mailhookd answered invalid JSON: %s", jerr.text);
    linebuf_free(&in);
    return rc;
}

int admin_call(const char *socket_path, json_t *req, json_t **reply, int timeout_ms,
               mh_err_t *err)
{
    int64_t deadline = time_mono_ms() + timeout_ms;
    size_t len;
    char *text;
    mh_err_t why;
    int fd, rc;

    if ((text = cjson_dump(req, &len)) == NULL)
        return mh_err_set(err, "the request could not be made (not valid UTF-8?)");
    fd = unixsock_connect(socket_path, timeout_ms, err);
    if (fd < 0) {
        free(text);
        return admin_unreachable(socket_path, err);
    }
    rc = admin_send(fd, text, len, deadline, err);
    free(text);
    if (rc == 0)
        rc = admin_receive(fd, reply, deadline, err);
    else if (admin_receive(fd, reply, deadline, &why) == 0)
        rc = 0; /* mailhookd stopped reading (a request too large, too many
                 * connections) and said why: its answer stands */
    close(fd);
    return rc;
}
