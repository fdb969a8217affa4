/* SPDX-License-Identifier: MIT */
/*
 * check_storeq.c - the store thread (storeq.h): work runs on another
 * thread, one job at a time in submission order, with the store it was
 * started with; each done runs back on the loop thread, in the same order;
 * storeq_busy counts what has not completed; storeq_stop runs every job
 * still queued, and those their completions submit, before it returns.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeq.h"

#define NJOBS 50

static char dir[64];
static store_t *st;
static evloop_t *loop;
static storeq_t *q;
static pthread_t loop_thread;

/* What the jobs saw, in the order they ran. */
static int work_order[NJOBS * 2], done_order[NJOBS * 2];
static size_t nwork, ndone;
static bool wrong_thread, wrong_store;
static size_t busy_at_last_done;

struct job {
    int id;
    bool submit_again; /* its done submits job id + NJOBS */
    bool stop_loop;    /* its done stops the loop */
};

static struct job jobs[NJOBS * 2];

static void job_work(store_t *s, void *ctx)
{
    struct job *j = ctx;

    if (pthread_equal(pthread_self(), loop_thread))
        wrong_thread = true;
    if (s != st)
        wrong_store = true;
    if (j->id % 7 == 0)
        usleep(1000); /* a slow one: the others wait their turn */
    work_order[nwork++] = j->id;
}

static void job_done(void *ctx)
{
    struct job *j = ctx;

    if (!pthread_equal(pthread_self(), loop_thread))
        wrong_thread = true;
    done_order[ndone++] = j->id;
    if (j->submit_again) {
        jobs[j->id + NJOBS].id = j->id + NJOBS;
        storeq_submit(q, job_work, job_done, &jobs[j->id + NJOBS]);
    }
    if (j->stop_loop) {
        busy_at_last_done = storeq_busy(q);
        evloop_stop(loop);
    }
}

static void setup(void)
{
    struct store_opts o = { .nosync = true };

    snprintf(dir, sizeof(dir), "/tmp/check_storeq.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    st = store_open(dir, &o, NULL);
    ck_assert_ptr_nonnull(st);
    loop = evloop_new();
    loop_thread = pthread_self();
    q = storeq_start(st, loop);
    memset(jobs, 0, sizeof(jobs));
    nwork = ndone = 0;
    wrong_thread = wrong_store = false;
}

static void teardown(void)
{
    char cmd[128];

    q = storeq_stop(q);
    loop = evloop_free(loop);
    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void submit_all(void)
{
    for (int i = 0; i < NJOBS; i++) {
        jobs[i].id = i;
        storeq_submit(q, job_work, job_done, &jobs[i]);
    }
}

START_TEST(test_order_and_threads)
{
    jobs[NJOBS - 1].stop_loop = true;
    submit_all();
    ck_assert_uint_eq(storeq_busy(q), NJOBS);
    evloop_run(loop);
    ck_assert_uint_eq(nwork, NJOBS);
    ck_assert_uint_eq(ndone, NJOBS);
    for (int i = 0; i < NJOBS; i++) {
        ck_assert_int_eq(work_order[i], i);
        ck_assert_int_eq(done_order[i], i);
    }
    ck_assert(!wrong_thread);
    ck_assert(!wrong_store);
    ck_assert_uint_eq(busy_at_last_done, 0); /* counted down before done runs */
    ck_assert_uint_eq(storeq_busy(q), 0);
}
END_TEST

/* Stopping with jobs queued and never run by the loop: all of them run,
 * and so do those their completions submit. */
START_TEST(test_stop_runs_everything)
{
    for (int i = 0; i < NJOBS; i += 5)
        jobs[i].submit_again = true;
    submit_all();
    q = storeq_stop(q);
    ck_assert_ptr_null(q);
    ck_assert_uint_eq(nwork, NJOBS + NJOBS / 5);
    ck_assert_uint_eq(ndone, NJOBS + NJOBS / 5);
    for (int i = 0; i < NJOBS; i++)
        ck_assert_int_eq(done_order[i], i);
    ck_assert(!wrong_store);
}
END_TEST

START_TEST(test_done_may_be_null)
{
    jobs[0].id = 0;
    storeq_submit(q, job_work, NULL, &jobs[0]);
    q = storeq_stop(q);
    ck_assert_uint_eq(nwork, 1);
    ck_assert_uint_eq(ndone, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("storeq");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_order_and_threads);
    tcase_add_test(tc, test_stop_runs_everything);
    tcase_add_test(tc, test_done_may_be_null);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
