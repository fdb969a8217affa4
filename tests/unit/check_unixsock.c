/* SPDX-License-Identifier: MIT */
/*
 * check_unixsock.c - unit tests of unixsock.h on sockets in a scratch
 * directory: listen, connect and talk; the file's mode; a live socket
 * refused ("already in use"), a stale one replaced; what clear_stale does
 * with a missing file, a plain file and a stale socket; paths too long for
 * sun_path refused with an error that says so; connecting to nothing.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "testdir.h"
#include "unixsock.h"
#include "xalloc.h"

START_TEST(test_listen_connect)
{
    char *dir = testdir_new("unixsock"), *path = xasprintf("%s/s.sock", dir), buf[8];
    mh_err_t err = { "" };
    struct stat st;
    int lfd, cfd, afd = -1;

    lfd = unixsock_listen(path, 0620, (uid_t)-1, (gid_t)-1, &err);
    ck_assert_msg(lfd >= 0, "%s", err.text);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, 0620);
    ck_assert(fcntl(lfd, F_GETFL) & O_NONBLOCK);
    ck_assert(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
    cfd = unixsock_connect(path, 1000, &err);
    ck_assert_msg(cfd >= 0, "%s", err.text);
    ck_assert(fcntl(cfd, F_GETFL) & O_NONBLOCK);
    for (int i = 0; i < 100 && afd < 0; i++) {
        afd = accept(lfd, NULL, NULL);
        if (afd < 0)
            usleep(10000);
    }
    ck_assert_int_ge(afd, 0);
    ck_assert_int_eq(write(cfd, "ping", 4), 4);
    usleep(10000);
    ck_assert_int_eq(read(afd, buf, sizeof(buf)), 4);
    ck_assert_mem_eq(buf, "ping", 4);

    /* a second listener on a live socket: refused, the first one untouched */
    ck_assert_int_eq(unixsock_listen(path, 0600, (uid_t)-1, (gid_t)-1, &err), -1);
    ck_assert_msg(strstr(err.text, "already in use") != NULL, "%s", err.text);
    ck_assert_int_eq(unixsock_clear_stale(path, &err), -1);
    ck_assert_int_eq(stat(path, &st), 0);
    close(afd);
    close(cfd);

    /* the listener gone, the file is stale: a new listener replaces it */
    close(lfd);
    ck_assert_int_eq(unixsock_connect(path, 500, &err), -1);
    lfd = unixsock_listen(path, 0600, (uid_t)-1, (gid_t)-1, &err);
    ck_assert_msg(lfd >= 0, "%s", err.text);
    close(lfd);
    ck_assert_int_eq(unixsock_clear_stale(path, &err), 0);
    ck_assert_int_eq(lstat(path, &st), -1); /* removed */
    ck_assert_int_eq(unixsock_clear_stale(path, &err), 0); /* nothing to remove */
    free(path);
    testdir_free(dir);
}
END_TEST

START_TEST(test_not_a_socket)
{
    char *dir = testdir_new("unixsock"), *path = xasprintf("%s/plain", dir);
    mh_err_t err = { "" };
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(unixsock_clear_stale(path, &err), -1);
    ck_assert_msg(strstr(err.text, "not a socket") != NULL, "%s", err.text);
    ck_assert_int_eq(unixsock_listen(path, 0600, (uid_t)-1, (gid_t)-1, &err), -1);
    ck_assert_int_eq(access(path, F_OK), 0); /* never removed */
    free(path);
    testdir_free(dir);
}
END_TEST

/* sun_path holds 107 bytes and a NUL: one byte more is refused, never cut. */
START_TEST(test_long_path)
{
    char *dir = testdir_new("unixsock"), *path;
    struct sockaddr_un sun;
    size_t room = sizeof(sun.sun_path) - 1, len = strlen(dir) + 1;
    mh_err_t err = { "" };
    int fd;

    ck_assert_uint_lt(len + 1, room);
    path = xmalloc(room + 2);
    snprintf(path, room + 2, "%s/", dir);
    memset(path + len, 'x', room + 1 - len); /* room + 1 bytes: one too many */
    path[room + 1] = 0;
    ck_assert_int_eq(unixsock_listen(path, 0600, (uid_t)-1, (gid_t)-1, &err), -1);
    ck_assert_msg(strstr(err.text, "too long") != NULL, "%s", err.text);
    err.text[0] = 0;
    ck_assert_int_eq(unixsock_connect(path, 100, &err), -1);
    ck_assert_msg(strstr(err.text, "too long") != NULL, "%s", err.text);
    path[room] = 0; /* exactly room bytes: fits */
    fd = unixsock_listen(path, 0600, (uid_t)-1, (gid_t)-1, &err);
    ck_assert_msg(fd >= 0, "%s", err.text);
    close(fd);
    free(path);
    testdir_free(dir);
}
END_TEST

START_TEST(test_connect_nothing)
{
    char *dir = testdir_new("unixsock"), *path = xasprintf("%s/none.sock", dir);
    mh_err_t err = { "" };

    ck_assert_int_eq(unixsock_connect(path, 100, &err), -1);
    ck_assert_msg(strstr(err.text, path) != NULL, "%s", err.text);
    free(path);
    testdir_free(dir);
}
END_TEST

static Suite *unixsock_suite(void)
{
    Suite *s = suite_create("unixsock");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_listen_connect);
    tcase_add_test(tc, test_not_a_socket);
    tcase_add_test(tc, test_long_path);
    tcase_add_test(tc, test_connect_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(unixsock_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
