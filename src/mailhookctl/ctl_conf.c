/* SPDX-License-Identifier: MIT */
/*
 * ctl_conf.c - the configuration as mailhookctl reads it (see ctl_conf.h):
 * whole for the commands that need it, else only the admin socket.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_conf.h"
#include "msg.h"
#include "xalloc.h"

mh_conf_t *ctl_conf_load(const char *path, bool explicit, mh_err_t *err)
{
    if (!explicit && access(path, F_OK) < 0)
        return conf_defaults(); /* no config installed: the defaults */
    return conf_load(path, err);
}

/* Past a comment or a string starting at p (else p itself). */
static const char *scan_skip(const char *p, const char *end)
{
    const char *q;

    if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/'))
        return (q = memchr(p, '\n', (size_t)(end - p))) ? q : end;
    if (*p == '/' && p + 1 < end && p[1] == '*') {
        for (q = p + 2; q + 1 < end && !(q[0] == '*' && q[1] == '/'); q++)
            ;
        return q + 1 < end ? q + 2 : end;
    }
    if (*p == '"' || *p == '\'') {
        for (q = p + 1; q < end && *q != *p; q++)
            if (*q == '\\' && q + 1 < end)
                q++;
        return q < end ? q + 1 : end;
    }
    return p;
}

/* The value at p ("=" and blanks first), or NULL. */
static char *scan_value(const char *p, const char *end)
{
    char *out, *o;

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || *p++ != '=')
        return NULL;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    o = out = xmalloc((size_t)(end - p) + 1);
    if (p < end && *p == '"') {
        for (p++; p < end && *p != '"'; p++)
            *o++ = *p == '\\' && p + 1 < end ? *++p : *p;
    } else {
        while (p < end && strchr(" \t\r\n#,}", *p) == NULL)
            *o++ = *p++;
    }
    *o = 0;
    if (*out == 0 || strstr(out, "${") != NULL)
        out = xfree(out);
    return out;
}

char *ctl_conf_scan(const char *text, size_t len, const char *key)
{
    const char *p = text, *end = text + len, *q;
    size_t klen = strlen(key);
    int depth = 0;
    bool word_start = true;

    while (p < end) {
        if ((q = scan_skip(p, end)) != p) {
            p = q, word_start = true;
            continue;
        }
        if (*p == '{' || *p == '}')
            depth += *p == '{' ? 1 : -1;
        else if (depth == 0 && word_start && (size_t)(end - p) > klen &&
                 memcmp(p, key, klen) == 0 && strchr(" \t=", p[klen]) != NULL)
            return scan_value(p + klen, end);
        word_start = strchr(" \t\r\n{};,", *p) != NULL;
        p++;
    }
    return NULL;
}

/* The admin_socket setting of a file the full parse refused, or NULL. */
static char *scan_file(const char *path)
{
    char *buf, *v = NULL;
    struct stat sb;
    ssize_t n;
    int fd;

    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
        return NULL;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        buf = xmalloc(CTL_CONF_SCAN_MAX);
        if ((n = read(fd, buf, CTL_CONF_SCAN_MAX)) > 0)
            v = ctl_conf_scan(buf, (size_t)n, "admin_socket");
        free(buf);
    }
    close(fd);
    return v;
}

char *ctl_conf_admin_socket(const char *path, bool explicit)
{
    mh_conf_t *c;
    mh_err_t err;
    char *sock;

    if (!explicit && access(path, F_OK) < 0 && errno == ENOENT)
        c = conf_defaults();
    else if ((c = conf_load(path, &err)) == NULL) {
        fprintf(stderr, "mailhookctl: warning: %s\n", err.text);
        if ((sock = scan_file(path)) != NULL)
            return sock;
        c = conf_defaults();
        fprintf(stderr, "mailhookctl: warning: using the default admin socket %s\n",
                c->admin_socket);
    }
    sock = xstrdup(c->admin_socket);
    conf_unref(c);
    return sock;
}
