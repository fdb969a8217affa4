/* SPDX-License-Identifier: MIT */
/*
 * check_store_space.c - unit tests of the store on a full disk
 * (store_bdb_space.c, store_bdb.c): Berkeley DB's writes go through hooks
 * of ours (db_env_set_func_write, db_env_set_func_pwrite) that refuse them
 * with ENOSPC or EDQUOT on demand, as a full file system or quota would.
 *
 * Covered: a commit whose log write is refused fails and makes the store
 * full, also at the start of a new log file (where Berkeley DB 5.3 reports
 * it done); new data is refused without a try while full; once writes go
 * through again, the store takes data by itself (probed at most once a
 * second); an open whose recovery cannot write says so (no_space) and
 * works once it can; a Berkeley DB panic of an open store is noted
 * (store_panicked). Each test gets a fresh store in its own directory.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "store_bdb_int.h" /* the panic test reaches the environment */
#include "timeutil.h"

static char tmpdir[64];
static char storedir[128];
static store_t *st;
static mh_err_t err;
static const struct store_opts durable = { .nosync = false, .cache_bytes = 4u << 20 };
static int refuse;               /* errno for Berkeley DB's writes, 0: let them through */
static const char *refuse_file; /* only to the file of this name, NULL: to any */

/* ---- Berkeley DB's write calls */

static bool refused(int fd)
{
    char link[64], path[512];
    ssize_t n;
    size_t len;

    if (!refuse)
        return false;
    if (refuse_file == NULL)
        return true;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if ((n = readlink(link, path, sizeof(path) - 1)) < 0)
        return false;
    path[n] = 0;
    len = strlen(refuse_file);
    return (size_t)n >= len && strcmp(path + n - len, refuse_file) == 0;
}

static ssize_t hook_write(int fd, const void *buf, size_t len)
{
    if (refused(fd)) {
        errno = refuse;
        return -1;
    }
    return write(fd, buf, len);
}

static ssize_t hook_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    if (refused(fd)) {
        errno = refuse;
        return -1;
    }
    return pwrite(fd, buf, len, off);
}

/* ---- fixture and helpers */

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    return remove(path);
}

static void rm_tree(const char *dir)
{
    ck_assert_int_eq(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void setup(void)
{
    refuse = 0;
    refuse_file = NULL;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_store_space.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(storedir, sizeof(storedir), "%s/state", tmpdir);
    st = store_open(storedir, &durable, &err);
    ck_assert_msg(st != NULL, "store_open: %s", err.text);
}

static void teardown(void)
{
    refuse = 0;
    store_close(st);
    st = NULL;
    rm_tree(tmpdir);
}

/* Append event id in a transaction of its own: store_commit's result. */
static int append_commit(store_t *s, const char *id)
{
    enum store_append_result res;
    store_txn_t *txn = store_begin(s, &err);
    uint64_t seq;

    ck_assert_msg(txn != NULL, "store_begin: %s", err.text);
    if (store_event_append(txn, id, "a.b", 1, 1, "{}", 2, &seq, &res, &err) != 0) {
        store_abort(txn);
        return -1;
    }
    return store_commit(txn, &err);
}

static bool stored(store_t *s, const char *id)
{
    uint64_t seq;

    return store_event_find(s, id, &seq, &err) == 0;
}

/* store_space_check until it lets data in, for at most ms (it probes at
 * most once a second). */
static int space_check_for(int ms)
{
    int64_t until = time_mono_ms() + ms;
    int rc;

    while ((rc = store_space_check(st, &err)) < 0 && time_mono_ms() < until)
        usleep(50 * 1000);
    return rc;
}

/* ---- tests */

static void full_then_back(int why)
{
    struct store_space sp;

    ck_assert_msg(append_commit(st, "evt_before") == 0, "commit: %s", err.text);
    ck_assert(!store_space_full(st));
    refuse = why;
    ck_assert_int_eq(append_commit(st, "evt_refused"), -1);
    ck_assert(store_space_full(st));
    ck_assert_int_eq(store_space_check(st, &err), -1);
    ck_assert_msg(strstr(err.text, "no space left for new events") != NULL, "%s", err.text);
    store_space_status(st, &sp);
    ck_assert(sp.full);
    ck_assert_int_gt(sp.since_ms, 0);
    ck_assert_msg(strstr(sp.cause, strerror(why)) != NULL, "cause: %s", sp.cause);
    ck_assert_uint_eq(sp.spells, 1);
    /* Still refused, probed or not: the probe's checkpoint cannot write. */
    ck_assert_int_eq(space_check_for(1500), -1);
    refuse = 0;
    ck_assert_msg(space_check_for(5000) == 0, "still full: %s", err.text);
    ck_assert(!store_space_full(st));
    ck_assert_msg(append_commit(st, "evt_after") == 0, "commit: %s", err.text);
    store_space_status(st, &sp);
    ck_assert(!sp.full);
    ck_assert_int_eq(sp.since_ms, 0);
    ck_assert_str_eq(sp.cause, "");
    ck_assert_uint_eq(sp.spells, 1);
    ck_assert(stored(st, "evt_before") && stored(st, "evt_after"));
}

START_TEST(test_enospc)
{
    full_then_back(ENOSPC);
}
END_TEST

START_TEST(test_edquot)
{
    full_then_back(EDQUOT);
}
END_TEST

/* Recovery after a kill -9 writes; refused, the open says it lacks space. */
START_TEST(test_open_without_space)
{
    bool no_space = false;
    int fds[2], status;
    pid_t pid;

    store_close(st);
    st = NULL;
    if ((pid = fork()) == 0) {
        store_t *child = store_open(storedir, &durable, &err);

        if (child == NULL || append_commit(child, "evt_durable") != 0)
            _exit(1);
        raise(SIGKILL);
        _exit(2);
    }
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* The failed open in a child of its own: Berkeley DB leaks a little
     * when recovery fails (tests/valgrind.supp), and _exit skips
     * LeakSanitizer's check; the answer comes through a pipe. */
    ck_assert_int_eq(pipe(fds), 0);
    if ((pid = fork()) == 0) {
        refuse = ENOSPC;
        no_space = store_open_why(storedir, &durable, &no_space, &err) == NULL && no_space;
        if (write(fds[1], &no_space, sizeof(no_space)) != sizeof(no_space) ||
            write(fds[1], err.text, sizeof(err.text)) != sizeof(err.text))
            _exit(1);
        _exit(0);
    }
    ck_assert_int_gt(pid, 0);
    close(fds[1]);
    ck_assert_int_eq(read(fds[0], &no_space, sizeof(no_space)), sizeof(no_space));
    ck_assert_int_eq(read(fds[0], err.text, sizeof(err.text)), sizeof(err.text));
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(no_space);
    ck_assert_msg(strstr(err.text, "not enough space to recover") != NULL &&
                  strstr(err.text, "KiB free") != NULL, "%s", err.text);
    st = store_open_why(storedir, &durable, &no_space, &err);
    ck_assert_msg(st != NULL, "store_open: %s", err.text);
    ck_assert(!no_space);
    ck_assert(stored(st, "evt_durable"));
}
END_TEST

/*
 * The second log file cannot be written (the disk filled up just then):
 * every commit reported done must survive a kill -9. Berkeley DB 5.3
 * reports done a commit whose record it could not write at the start of a
 * new log file; store_commit must not.
 */
START_TEST(test_log_switch_refused)
{
    static const struct store_opts small_log = { .log_file_bytes = 1u << 20 };
    char done_path[256], id[32], line[64];
    pid_t pid;
    int status, n = 0;
    FILE *f;

    store_close(st);
    st = NULL;
    snprintf(done_path, sizeof(done_path), "%s/committed", tmpdir);
    if ((pid = fork()) == 0) {
        store_t *child = store_open(storedir, &small_log, &err);

        if (child == NULL || (f = fopen(done_path, "w")) == NULL)
            _exit(1);
        refuse = ENOSPC;
        refuse_file = "/log.0000000002";
        for (int i = 0; i < 100000; i++) {
            snprintf(id, sizeof(id), "evt_%06d", i);
            if (append_commit(child, id) != 0)
                break;
            fprintf(f, "%s\n", id);
        }
        fclose(f);
        raise(SIGKILL);
        _exit(2);
    }
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    st = store_open(storedir, &small_log, &err);
    ck_assert_msg(st != NULL, "store_open: %s", err.text);
    ck_assert_ptr_nonnull(f = fopen(done_path, "r"));
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = 0;
        ck_assert_msg(stored(st, line), "%s was reported committed and is lost", line);
        n++;
    }
    fclose(f);
    ck_assert_int_gt(n, 100); /* the first log file took some */
}
END_TEST

/* Any other open failure is not for lack of space. */
START_TEST(test_open_other_failure)
{
    char path[256];
    bool no_space = true;
    FILE *f;

    snprintf(path, sizeof(path), "%s/file", tmpdir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fclose(f);
    snprintf(path, sizeof(path), "%s/file/state", tmpdir);
    ck_assert_ptr_null(store_open_why(path, &durable, &no_space, &err));
    ck_assert(!no_space);
}
END_TEST

/* A panic of the open environment: every call fails, and the store says
 * so (the store thread then ends the daemon: its next start recovers). In
 * a child, which cannot free a panicked environment: it answers through a
 * pipe (under valgrind its exit status says what valgrind found). */
START_TEST(test_panic)
{
    char answer = 0;
    int fds[2], status;
    pid_t pid;

    ck_assert(!store_panicked(st));
    ck_assert_int_eq(pipe(fds), 0);
    if ((pid = fork()) == 0) {
        bool ok = st->env->set_flags(st->env, DB_PANIC_ENVIRONMENT, 1) == 0 &&
                  store_begin(st, &err) == NULL && store_panicked(st) &&
                  strstr(err.text, "DB_RUNRECOVERY") != NULL;

        if (write(fds[1], ok ? "y" : "n", 1) != 1)
            _exit(1);
        _exit(0);
    }
    ck_assert_int_gt(pid, 0);
    close(fds[1]);
    ck_assert_int_eq(read(fds[0], &answer, 1), 1);
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(answer == 'y', "the panicked store did not say so");
}
END_TEST

static Suite *space_suite(void)
{
    Suite *s = suite_create("store_space");
    TCase *tc = tcase_create("space");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_enospc);
    tcase_add_test(tc, test_edquot);
    tcase_add_test(tc, test_open_without_space);
    tcase_add_test(tc, test_log_switch_refused);
    tcase_add_test(tc, test_open_other_failure);
    tcase_add_test(tc, test_panic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    /* Before any environment is created, as Berkeley DB requires. */
    if (db_env_set_func_write(hook_write) != 0 || db_env_set_func_pwrite(hook_pwrite) != 0)
        return EXIT_FAILURE;
    sr = srunner_create(space_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
