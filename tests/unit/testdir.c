/* SPDX-License-Identifier: MIT */
/*
 * testdir.c - scratch directories for the unit tests (see testdir.h).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testdir.h"
#include "xalloc.h"

char *testdir_new(const char *name)
{
    const char *base = getenv("TMPDIR");
    char *t = xasprintf("%s/check_%s.XXXXXX", base && *base ? base : "/tmp", name);

    ck_assert_msg(mkdtemp(t) != NULL, "mkdtemp %s: %s", t, strerror(errno));
    return t;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

char *testdir_free(char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return xfree(path);
}
