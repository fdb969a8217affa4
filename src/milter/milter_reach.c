/* SPDX-License-Identifier: MIT */
/*
 * milter_reach.c - will the local Postfix reach mailhook-milter's socket
 * (milter_reach.h)? The check is pure string work on what postconf prints;
 * running postconf is bounded in time and size and never fatal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "milter_reach.h"
#include "msg.h"
#include "timeutil.h"
#include "xalloc.h"

/* The most postconf output read (a master.cf is a few KiB). */
#define REACH_MAX_OUTPUT (256 * 1024)

/* ------------------------------------------------------------- the check */

/* path with "//" and "/./" collapsed and no trailing "/" (caller frees). */
static char *reach_norm(const char *path)
{
    char *out = xmalloc(strlen(path) + 1), *o = out;

    for (const char *p = path; *p;) {
        if (*p == '/' && (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || p[2] == 0)))) {
            p += p[1] == '/' ? 1 : 2;
            continue;
        }
        *o++ = *p++;
    }
    while (o > out + 1 && o[-1] == '/')
        o--;
    *o = 0;
    return out;
}

/* The same file: equal normalized names, or the same device and inode. */
static bool reach_same_path(const char *a, const char *b)
{
    char *na = reach_norm(a), *nb = reach_norm(b);
    bool same = strcmp(na, nb) == 0;
    struct stat sa, sb;

    if (!same && stat(a, &sa) == 0 && stat(b, &sb) == 0)
        same = sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    free(na);
    free(nb);
    return same;
}

/* Where a Postfix daemon (chrooted or not) looks for "unix:path"
 * (caller frees). */
static char *reach_resolve(const char *path, const char *queue_dir, bool chrooted)
{
    if (path[0] != '/' || chrooted)
        return xasprintf("%s/%s", queue_dir, path);
    return xstrdup(path);
}

/* The port of libmilter's "inet:PORT@HOST" / "inet6:PORT@HOST" / "inet:PORT",
 * or of Postfix's "inet:HOST:PORT" (postfix true), as text (caller frees);
 * NULL for other forms. */
static char *reach_port(const char *spec, bool postfix)
{
    const char *p, *end;

    if (strncmp(spec, "inet:", 5) == 0)
        p = spec + 5;
    else if (strncmp(spec, "inet6:", 6) == 0)
        p = spec + 6;
    else
        return NULL;
    if (postfix) {
        const char *colon = strrchr(p, ':');
        return xstrdup(colon ? colon + 1 : p);
    }
    end = strchr(p, '@');
    return end ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
}

/* The socket path of libmilter's "unix:" / "local:" form, else NULL. */
static const char *reach_unix_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (strncmp(spec, "local:", 6) == 0)
        return spec + 6;
    return NULL;
}

/* Next milter name of a Postfix milter list (separators: space, tab,
 * comma, newline; "{ name, key=value ... }" is one milter), as a copy in
 * *name (caller frees); false at the end. */
static bool reach_next_milter(const char **cur, char **name)
{
    const char *p = *cur, *start, *stop;
    static const char sep[] = " \t\r\n,";

    p += strspn(p, sep);
    if (*p == 0)
        return false;
    if (*p == '{') {
        const char *close = strchr(p, '}');
        stop = close ? close : p + strlen(p);
        start = p + 1;
        start += strspn(start, sep);
        *cur = close ? close + 1 : stop;
        p = start;
        while (p < stop && !strchr(sep, *p))
            p++;
        *name = xstrndup(start, (size_t)(p - start));
        return true;
    }
    start = p;
    p += strcspn(p, sep);
    *name = xstrndup(start, (size_t)(p - start));
    *cur = p;
    return true;
}

/* Does the master.cf text (one entry per line, postconf -M) run command
 * cmd chrooted ("y") / unchrooted ("n" or "-")? Sets *with and *without. */
static void reach_services(const char *master_cf, const char *cmd, bool *with, bool *without)
{
    *with = *without = false;
    for (const char *line = master_cf; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char *copy = xstrndup(line, len), *f[8] = { NULL }, *p = copy;
        int n = 0;

        /* Continuation lines (leading space) and comments are skipped. */
        if (copy[0] != '#' && copy[0] != ' ' && copy[0] != '\t') {
            while (n < 8 && *(p += strspn(p, " \t"))) {
                f[n++] = p;
                p += strcspn(p, " \t");
                if (*p)
                    *p++ = 0;
            }
            if (n == 8 && strcmp(f[7], cmd) == 0) {
                if (strcmp(f[4], "y") == 0)
                    *with = true;
                else
                    *without = true;
            }
        }
        free(copy);
        line = eol ? eol + 1 : NULL;
    }
}

/* Does the milter list (as the daemon of chroot state chrooted sees it)
 * name socket? *via_chroot: a unix milter would have been the socket but
 * for the chroot. */
static bool reach_listed(const char *socket, const char *list, const char *queue_dir,
                         bool chrooted, bool *via_chroot)
{
    const char *ours = reach_unix_path(socket), *cur = list;
    char *our_port = reach_port(socket, false), *name;
    bool found = false;

    *via_chroot = false;
    while (!found && reach_next_milter(&cur, &name)) {
        if (ours && strncmp(name, "unix:", 5) == 0) {
            char *where = reach_resolve(name + 5, queue_dir, chrooted);
            found = reach_same_path(where, ours);
            free(where);
            if (!found && chrooted) {
                where = reach_resolve(name + 5, queue_dir, false);
                *via_chroot = *via_chroot || reach_same_path(where, ours);
                free(where);
            }
        } else if (our_port) {
            char *port = reach_port(name, true);
            found = port && strcmp(port, our_port) == 0;
            free(port);
        }
        free(name);
    }
    free(our_port);
    return found;
}

/* The checks of one kind of daemon: cmd (smtpd or cleanup) reading the
 * milter list param. */
static int reach_one(const char *socket, const struct milter_reach_pf *pf, const char *cmd,
                     const char *param, const char *list, const char *what,
                     milter_reach_warn_fn *warn, void *ctx)
{
    bool with, without, via_chroot = false;
    int n = 0;
    char *text;
    const char *q = pf->queue_dir;

    reach_services(pf->master_cf ? pf->master_cf : "", cmd, &with, &without);
    if (!with && !without)
        return 0; /* no such service: nothing to say */
    if (list == NULL || list[strspn(list, " \t\r\n,")] == 0) {
        text = xasprintf("Postfix: %s is empty: %s does not reach this milter", param, what);
        warn(ctx, text);
        free(text);
        return 1;
    }
    for (int chrooted = 0; chrooted <= 1; chrooted++) {
        if (!(chrooted ? with : without) || reach_listed(socket, list, q, chrooted, &via_chroot))
            continue;
        if (via_chroot)
            text = xasprintf("Postfix: %s runs chrooted in %s (master.cf) and looks for %s "
                             "(%.200s) inside it, not at this milter's socket %s: %s does not "
                             "reach this milter; put the socket in the chroot and name it relative "
                             "to it (socket = \"unix:%s/mailhook/milter.sock\", "
                             "%s = unix:mailhook/milter.sock)",
                             cmd, q, param, list, socket, what, q, param);
        else
            text = xasprintf("Postfix: %s (%.200s) names no milter at this milter's socket %s, as "
                             "%s%s sees it: %s does not reach this milter",
                             param, list, socket, chrooted ? "a chrooted " : "", cmd, what);
        warn(ctx, text);
        free(text);
        n++;
    }
    return n;
}

int milter_reach_check(const char *socket, const struct milter_reach_pf *pf,
                       milter_reach_warn_fn *warn, void *ctx)
{
    if (pf->queue_dir == NULL || pf->queue_dir[0] != '/')
        return 0;
    return reach_one(socket, pf, "smtpd", "smtpd_milters", pf->smtpd_milters,
                     "mail received over SMTP", warn, ctx) +
           reach_one(socket, pf, "cleanup", "non_smtpd_milters", pf->non_smtpd_milters,
                     "mail submitted with sendmail(1)", warn, ctx);
}

/* ---------------------------------------------------- running postconf */

/* Run argv[0] with argv, stdin and stderr on /dev/null; its standard
 * output (at most REACH_MAX_OUTPUT bytes, NUL-terminated; caller frees),
 * or NULL when it cannot run, fails, or outlives timeout_ms (then killed). */
static char *reach_run(char *const argv[], int timeout_ms)
{
    int fds[2], status = 0;
    pid_t pid;
    size_t len = 0, cap = 4096;
    char *out;
    int64_t deadline = time_mono_us() + (int64_t)timeout_ms * 1000;
    bool ok = true;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return NULL;
    if ((pid = fork()) < 0) {
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        long max = sysconf(_SC_OPEN_MAX);

        if (null < 0 || dup2(null, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(null, 2) < 0)
            _exit(127);
        /* Not even the milter's listening socket goes to postconf. */
        for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
            close(fd);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    out = xmalloc(cap);
    for (;;) {
        int64_t left = (deadline - time_mono_us()) / 1000;
        struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
        ssize_t r;

        int ready = left > 0 ? poll(&pfd, 1, (int)left) : 0;

        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            ok = false;
            break;
        }
        if (len + 1 == cap) {
            if (cap >= REACH_MAX_OUTPUT) {
                ok = false;
                break;
            }
            cap *= 2;
            out = xrealloc(out, cap);
        }
        if ((r = read(fds[0], out + len, cap - 1 - len)) < 0) {
            if (errno == EINTR)
                continue;
            ok = false;
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fds[0]);
    if (!ok)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return xfree(out);
    out[len] = 0;
    return out;
}

/* Line n (0-based) of text, as a copy (caller frees); "" past the end. */
static char *reach_line(const char *text, int n)
{
    const char *p = text, *eol;

    for (; n > 0 && p; n--)
        p = (eol = strchr(p, '\n')) ? eol + 1 : NULL;
    if (p == NULL)
        return xstrdup("");
    eol = strchr(p, '\n');
    return eol ? xstrndup(p, (size_t)(eol - p)) : xstrdup(p);
}

int milter_reach_postfix(const char *postconf, int timeout_ms, struct milter_reach_pf *pf)
{
    char *params[] = { (char *)postconf, "-xh", "queue_directory", "smtpd_milters",
                       "non_smtpd_milters", NULL };
    char *master[] = { (char *)postconf, "-M", NULL };
    char *values;

    memset(pf, 0, sizeof(*pf));
    if (access(postconf, X_OK) < 0)
        return -1;
    if ((values = reach_run(params, timeout_ms)) == NULL)
        return -1;
    if ((pf->master_cf = reach_run(master, timeout_ms)) == NULL) {
        free(values);
        return -1;
    }
    pf->queue_dir = reach_line(values, 0);
    pf->smtpd_milters = reach_line(values, 1);
    pf->non_smtpd_milters = reach_line(values, 2);
    free(values);
    return 0;
}

void milter_reach_postfix_free(struct milter_reach_pf *pf)
{
    free(pf->queue_dir);
    free(pf->smtpd_milters);
    free(pf->non_smtpd_milters);
    free(pf->master_cf);
    memset(pf, 0, sizeof(*pf));
}

static void reach_log(void *ctx, const char *text)
{
    (void)ctx;
    msg_warn("%s", text);
}

void milter_reach_warn(const char *socket, const char *postconf)
{
    struct milter_reach_pf pf;

    if (milter_reach_postfix(postconf, 5000, &pf) < 0) {
        msg_debug("%s gave no Postfix settings: not checking that Postfix reaches %s", postconf,
                  socket);
        return;
    }
    milter_reach_check(socket, &pf, reach_log, NULL);
    milter_reach_postfix_free(&pf);
}
