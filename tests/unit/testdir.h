/* SPDX-License-Identifier: MIT */
/*
 * testdir.h - scratch directories for the unit tests.
 *
 *   testdir_new(name)   a fresh directory "$TMPDIR/check_NAME.XXXXXX" (or
 *                       under /tmp); fails the running Check test when it
 *                       cannot be made. Caller owns the returned path.
 *   testdir_free(path)  remove the directory and everything in it, free the
 *                       path; returns NULL.
 */
#ifndef MH_TESTDIR_H
#define MH_TESTDIR_H

char *testdir_new(const char *name);
char *testdir_free(char *path);

#endif
