/* SPDX-License-Identifier: MIT */
/*
 * check_evloop.c - unit tests of the event loop (evloop.h) on real pipes:
 * a watched descriptor's callback runs, a parked one's does not, a parked
 * one watched again runs without being registered anew (and so still sees
 * data that arrived while it was parked), a parked one that reports an
 * event is taken out of epoll, a deleted and closed descriptor whose number
 * is reused is watched afresh, and changes of events take effect.
 * Every loop run is bounded by a timer.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "evloop.h"

struct seen {
    int calls;
    unsigned what;
    int fd;
};

static void on_fd(evloop_t *l, int fd, unsigned what, void *ctx)
{
    struct seen *s = ctx;
    char buf[16];

    s->calls++;
    s->what = what;
    s->fd = fd;
    if (what & EVLOOP_READ)
        (void)!read(fd, buf, sizeof(buf)); /* drained: level-triggered */
    evloop_stop(l);
}

static void on_timer(evloop_t *l, void *ctx)
{
    (void)ctx;
    evloop_stop(l);
}

/* Run l until a callback stops it or ms pass. */
static void run_for(evloop_t *l, int ms)
{
    uint64_t t = evloop_timer_add(l, ms, on_timer, NULL);

    evloop_run(l);
    evloop_timer_cancel(l, t);
}

static void make_pipe(int p[2])
{
    ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
}

/* A loop and a pipe, for one test. */
static evloop_t *setup(int p[2])
{
    make_pipe(p);
    return evloop_new();
}

/* Stop watching fd, close the pipe, free the loop. */
static void teardown(evloop_t *l, int fd, int p[2])
{
    evloop_del(l, fd);
    close(p[0]);
    close(p[1]);
    evloop_free(l);
}

START_TEST(test_watch_read)
{
    struct seen s = { 0 };
    int p[2];
    evloop_t *l = setup(p);

    ck_assert_int_eq(evloop_add(l, p[0], EVLOOP_READ, on_fd, &s), 0);
    run_for(l, 20);
    ck_assert_int_eq(s.calls, 0); /* nothing to read yet */
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    run_for(l, 1000);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.fd, p[0]);
    ck_assert(s.what & EVLOOP_READ);
    teardown(l, p[0], p);
}
END_TEST

/* Parked: no callback for data that arrives; watched again: the data is seen. */
START_TEST(test_park_then_watch_again)
{
    struct seen s = { 0 };
    int p[2];
    evloop_t *l = setup(p);

    ck_assert_int_eq(evloop_add(l, p[0], EVLOOP_READ, on_fd, &s), 0);
    evloop_park(l, p[0]);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    run_for(l, 50);
    ck_assert_int_eq(s.calls, 0);
    /* The event took it out of epoll; watching it again registers it. */
    ck_assert_int_eq(evloop_add(l, p[0], EVLOOP_READ, on_fd, &s), 0);
    run_for(l, 1000);
    ck_assert_int_eq(s.calls, 1);
    teardown(l, p[0], p);
}
END_TEST

/* Parked while quiet, watched again with the same events (no system call):
 * data written afterwards is seen. */
START_TEST(test_park_quiet_reuse)
{
    struct seen s = { 0 }, s2 = { 0 };
    int p[2];
    evloop_t *l = setup(p);

    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(evloop_add(l, p[0], EVLOOP_READ, on_fd, round == 1 ? &s2 : &s), 0);
        ck_assert_int_eq(write(p[1], "x", 1), 1);
        run_for(l, 1000);
        evloop_park(l, p[0]);
        run_for(l, 20); /* quiet while parked */
    }
    ck_assert_int_eq(s.calls, 2);
    ck_assert_int_eq(s2.calls, 1); /* the new context was used */
    /* Parked to watched with other events: changed. */
    ck_assert_int_eq(evloop_add(l, p[0], EVLOOP_READ | EVLOOP_WRITE, on_fd, &s), 0);
    ck_assert_int_eq(evloop_mod(l, p[0], EVLOOP_READ), 0);
    ck_assert_int_eq(write(p[1], "y", 1), 1);
    run_for(l, 1000);
    ck_assert_int_eq(s.calls, 3);
    teardown(l, p[0], p);
}
END_TEST

/* Deleted, closed, and the number reused by a new pipe: watched afresh. */
START_TEST(test_del_close_reuse_number)
{
    struct seen s = { 0 };
    int p[2], q[2], fd;
    evloop_t *l = setup(p);

    fd = p[0];
    ck_assert_int_eq(evloop_add(l, fd, EVLOOP_READ, on_fd, &s), 0);
    evloop_park(l, fd);
    evloop_del(l, fd);
    close(p[0]);
    close(p[1]);
    make_pipe(q);
    if (q[0] != fd) {
        ck_assert_int_eq(dup2(q[0], fd), fd);
        close(q[0]);
        q[0] = fd;
    }
    ck_assert_int_eq(evloop_add(l, fd, EVLOOP_READ, on_fd, &s), 0);
    ck_assert_int_eq(write(q[1], "x", 1), 1);
    run_for(l, 1000);
    ck_assert_int_eq(s.calls, 1);
    teardown(l, fd, q);
}
END_TEST

/* Write interest: a pipe's write end is writable at once. */
START_TEST(test_mod_events)
{
    struct seen s = { 0 };
    int p[2];
    evloop_t *l = setup(p);

    ck_assert_int_eq(evloop_add(l, p[1], 0, on_fd, &s), 0);
    run_for(l, 20);
    ck_assert_int_eq(s.calls, 0);
    ck_assert_int_eq(evloop_mod(l, p[1], EVLOOP_WRITE), 0);
    run_for(l, 1000);
    ck_assert_int_eq(s.calls, 1);
    ck_assert(s.what & EVLOOP_WRITE);
    evloop_del(l, p[1]);
    ck_assert_int_eq(evloop_mod(l, p[1], EVLOOP_WRITE), -1); /* not watched */
    ck_assert_int_eq(evloop_add(l, -1, EVLOOP_READ, on_fd, &s), -1);
    teardown(l, p[1], p);
}
END_TEST

static Suite *evloop_suite(void)
{
    Suite *s = suite_create("evloop");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_watch_read);
    tcase_add_test(tc, test_park_then_watch_again);
    tcase_add_test(tc, test_park_quiet_reuse);
    tcase_add_test(tc, test_del_close_reuse_number);
    tcase_add_test(tc, test_mod_events);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(evloop_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
