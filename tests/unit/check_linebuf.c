/* SPDX-License-Identifier: MIT */
/*
 * check_linebuf.c - unit tests of linebuf.h, the bounded buffer: appends up
 * to the maximum and the refusal past it (the buffer unchanged), growth that
 * never exceeds the maximum, consumed bytes making room again, lines, the
 * stolen string, and reads and writes on a socket pair (a full buffer is
 * -2, not a short read that loses bytes).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linebuf.h"
#include "unixsock.h"

/* ---- the bound: max, appends in pieces of n -> how many fit */
static const struct {
    size_t max, piece, fit; /* fit: pieces accepted before the first refusal */
} bound_cases[] = {
    { 10, 1, 10 },
    { 10, 3, 3 },
    { 10, 10, 1 },
    { 10, 11, 0 },
    { 512, 512, 1 },
    { 513, 512, 1 },
    { 100000, 7, 14285 },
    { 0, 1, 0 },
};

START_TEST(test_bound)
{
    linebuf_t b;
    size_t max = bound_cases[_i].max, piece = bound_cases[_i].piece, k = 0;
    char *chunk = malloc(piece), *copy;

    ck_assert_ptr_nonnull(chunk);
    linebuf_init(&b, max);
    for (;; k++) {
        memset(chunk, 'a' + (int)(k % 26), piece);
        if (linebuf_append(&b, chunk, piece) < 0)
            break;
        ck_assert_uint_le(b.cap, max); /* growth stops at the maximum */
    }
    ck_assert_uint_eq(k, bound_cases[_i].fit);
    ck_assert_uint_eq(linebuf_len(&b), k * piece); /* the refusal changed nothing */
    for (size_t i = 0; i < k * piece; i++)
        ck_assert_int_eq(linebuf_data(&b)[i], 'a' + (int)((i / piece) % 26));
    ck_assert_int_eq(linebuf_reserve(&b, max - linebuf_len(&b)), 0);
    ck_assert_int_eq(linebuf_reserve(&b, max - linebuf_len(&b) + 1), -1);
    ck_assert_int_eq(linebuf_reserve(&b, (size_t)-1), -1); /* no overflow */
    /* the last byte up to the bound still fits, one more does not */
    while (linebuf_len(&b) < max)
        ck_assert_int_eq(linebuf_append(&b, "z", 1), 0);
    ck_assert_int_eq(linebuf_append(&b, "z", 1), -1);
    ck_assert_uint_eq(linebuf_len(&b), max);
    copy = linebuf_steal(&b, NULL); /* full to max: the NUL still fits */
    ck_assert_ptr_nonnull(copy);
    ck_assert_uint_eq(strlen(copy), max);
    free(copy);
    linebuf_free(&b);
    free(chunk);
}
END_TEST

/* Growth from empty keeps every byte, starts small, doubles. */
START_TEST(test_growth)
{
    linebuf_t b = LINEBUF_INIT(1 << 20);
    char c;

    ck_assert_uint_eq(b.max, 1 << 20);
    ck_assert_uint_eq(b.cap, 0);
    ck_assert_int_eq(linebuf_append(&b, "x", 1), 0);
    ck_assert_uint_eq(b.cap, 512);
    for (int i = 1; i < 5000; i++) {
        c = (char)('0' + i % 10);
        ck_assert_int_eq(linebuf_append(&b, &c, 1), 0);
    }
    ck_assert_uint_eq(b.cap, 8192);
    ck_assert_uint_eq(linebuf_len(&b), 5000);
    ck_assert_int_eq(linebuf_data(&b)[0], 'x');
    for (int i = 1; i < 5000; i++)
        ck_assert_int_eq(linebuf_data(&b)[i], '0' + i % 10);
    linebuf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(linebuf_len(&b), 0);
    ck_assert_int_eq(linebuf_append(&b, "again", 5), 0); /* reusable, max kept */
    ck_assert_uint_eq(b.max, 1 << 20);
    linebuf_free(&b);
}
END_TEST

/* Lines come out whole; consumed bytes count no more against the bound. */
START_TEST(test_lines)
{
    linebuf_t b;
    char *l;
    size_t len;

    linebuf_init(&b, 8);
    ck_assert_int_eq(linebuf_append(&b, "abc\ndef\n", 8), 0);
    ck_assert_int_eq(linebuf_append(&b, "x", 1), -1); /* full */
    l = linebuf_line(&b, &len);
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(len, 3);
    ck_assert_str_eq(l, "abc");
    ck_assert_int_eq(linebuf_append(&b, "gh", 2), 0); /* "abc\n" made room */
    ck_assert_int_eq(linebuf_append(&b, "ijk", 3), -1);
    l = linebuf_line(&b, &len);
    ck_assert_str_eq(l, "def");
    ck_assert_ptr_null(linebuf_line(&b, &len)); /* "gh" is not a line yet */
    ck_assert_int_eq(linebuf_append(&b, "\n\n", 2), 0);
    l = linebuf_line(&b, &len);
    ck_assert_str_eq(l, "gh");
    l = linebuf_line(&b, &len);
    ck_assert_uint_eq(len, 0);
    ck_assert_ptr_null(linebuf_line(&b, &len));
    ck_assert_uint_eq(linebuf_len(&b), 0);
    linebuf_free(&b);
}
END_TEST

START_TEST(test_steal)
{
    linebuf_t b;
    char *s, *l;
    size_t len = 99;

    linebuf_init(&b, 64);
    ck_assert_int_eq(linebuf_append(&b, "one\ntwo", 7), 0);
    l = linebuf_line(&b, &len);
    ck_assert_str_eq(l, "one");
    s = linebuf_steal(&b, &len); /* only what is unconsumed */
    ck_assert_str_eq(s, "two");
    ck_assert_uint_eq(len, 3);
    free(s);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(linebuf_len(&b), 0);
    ck_assert_uint_eq(b.max, 64);
    s = linebuf_steal(&b, &len); /* empty: "" */
    ck_assert_str_eq(s, "");
    ck_assert_uint_eq(len, 0);
    free(s);
    linebuf_free(&b);
}
END_TEST

/* A read takes what fits; a full buffer is -2 and the rest stays unread. */
START_TEST(test_read_write)
{
    linebuf_t in, out;
    int sv[2];
    char big[300];
    ssize_t n;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(fd_set_nonblock(sv[0]), 0);
    ck_assert_int_eq(fd_set_nonblock(sv[1]), 0);
    memset(big, 'q', sizeof(big));
    linebuf_init(&out, 1024);
    linebuf_init(&in, 100);
    ck_assert_int_eq(linebuf_append(&out, big, sizeof(big)), 0);
    ck_assert_int_eq(linebuf_write(&out, sv[1]), 0);
    ck_assert_uint_eq(linebuf_len(&out), 0);
    n = linebuf_read(&in, sv[0]);
    ck_assert_int_eq(n, 100);
    ck_assert_int_eq(linebuf_read(&in, sv[0]), -2);
    ck_assert_uint_eq(linebuf_len(&in), 100);
    linebuf_free(&in);
    linebuf_init(&in, 1000);
    ck_assert_int_eq(linebuf_read(&in, sv[0]), 200); /* nothing was lost */
    errno = 0;
    ck_assert_int_eq(linebuf_read(&in, sv[0]), -1);
    ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
    close(sv[1]);
    ck_assert_int_eq(linebuf_read(&in, sv[0]), 0); /* EOF */
    close(sv[0]);
    linebuf_free(&in);
    linebuf_free(&out);
}
END_TEST

static Suite *linebuf_suite(void)
{
    Suite *s = suite_create("linebuf");
    TCase *tc = tcase_create("core");

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))
    tcase_add_loop_test(tc, test_bound, 0, N(bound_cases));
    tcase_add_test(tc, test_growth);
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_steal);
    tcase_add_test(tc, test_read_write);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(linebuf_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
