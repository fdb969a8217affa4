/* SPDX-License-Identifier: MIT */
/*
 * delay_fstat.c - an LD_PRELOAD shim for the tests: it makes a process's
 * fstat() of one empty file (the log just recreated by rotation) slow on
 * demand, the way a descheduled reader on a busy machine sees it: the
 * writer goes on while the reader waits. Built for tests only.
 *
 * The file is the one opened under the path $MH_DELAY_FSTAT_PATH (checked
 * with /proc/self/fd), while it is empty, and only while the file
 * $MH_DELAY_FSTAT_DIR/arm exists. Each such call, numbered k from 1:
 *   - with MH_DELAY_FSTAT_MS set: sleeps that long;
 *   - else (a handshake, no timing): creates $MH_DELAY_FSTAT_DIR/waiting.k,
 *     waits until the test creates go.k (20 s at most), then
 * returns what fstat() says at that moment.
 */
#define _GNU_SOURCE 1 /* RTLD_NEXT, struct stat64 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int fstat(int fd, struct stat *st);
int fstat64(int fd, struct stat64 *st);

static unsigned calls;

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Is fd the watched file, empty, with the arm file present? */
static int armed_for(int fd, off_t size, mode_t mode)
{
    const char *path = getenv("MH_DELAY_FSTAT_PATH"), *dir = getenv("MH_DELAY_FSTAT_DIR");
    char link[64], target[PATH_MAX], arm[PATH_MAX];
    ssize_t n;

    if (path == NULL || dir == NULL || size != 0 || !S_ISREG(mode))
        return 0;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if ((n = readlink(link, target, sizeof(target) - 1)) < 0)
        return 0;
    target[n] = 0;
    snprintf(arm, sizeof(arm), "%s/arm", dir);
    return strcmp(target, path) == 0 && access(arm, F_OK) == 0;
}

static void delay(void)
{
    const char *dir = getenv("MH_DELAY_FSTAT_DIR"), *ms = getenv("MH_DELAY_FSTAT_MS");
    char name[PATH_MAX];
    unsigned k = ++calls;
    int fd;

    if (ms != NULL) {
        nap_ms(strtol(ms, NULL, 10));
        return;
    }
    snprintf(name, sizeof(name), "%s/waiting.%u", dir, k);
    if ((fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
        close(fd);
    snprintf(name, sizeof(name), "%s/go.%u", dir, k);
    for (int i = 0; i < 2000 && access(name, F_OK) != 0; i++)
        nap_ms(10);
}

int fstat(int fd, struct stat *st)
{
    static int (*real)(int, struct stat *);
    int e, r;

    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "fstat");
    r = real(fd, st);
    e = errno;
    if (r == 0 && armed_for(fd, st->st_size, st->st_mode)) {
        delay();
        r = real(fd, st);
        e = errno;
    }
    errno = e;
    return r;
}

int fstat64(int fd, struct stat64 *st)
{
    static int (*real)(int, struct stat64 *);
    int e, r;

    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "fstat64");
    r = real(fd, st);
    e = errno;
    if (r == 0 && armed_for(fd, st->st_size, st->st_mode)) {
        delay();
        r = real(fd, st);
        e = errno;
    }
    errno = e;
    return r;
}
