/* SPDX-License-Identifier: MIT */
/*
 * check_strutil.c - unit tests of strutil.h: hex against known encodings,
 * FNV-1a 64 against the published test vectors (whole and in pieces), the
 * big-endian fields against their byte layout and round trips at any
 * alignment, rand_bytes filling what it is given. The control test is in
 * check_printable.c, beside printable(). Table-driven: one row per case.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"

/* ---- hex_encode: bytes -> lowercase hex */
static const struct {
    const char *in;
    size_t n;
    const char *hex;
} hex_cases[] = {
    { "", 0, "" },
    { "\x00", 1, "00" },
    { "\x0f\xf0", 2, "0ff0" },
    { "\xde\xad\xbe\xef", 4, "deadbeef" },
    { "\x01\x23\x45\x67\x89\xab\xcd\xef", 8, "0123456789abcdef" },
    { "\xff\x00\x7f\x80", 4, "ff007f80" },
    { "mailhook", 8, "6d61696c686f6f6b" },
};

START_TEST(test_hex)
{
    char out[64];
    size_t n = hex_cases[_i].n;

    memset(out, '#', sizeof(out));
    ck_assert_ptr_eq(hex_encode(out, hex_cases[_i].in, n), out);
    ck_assert_str_eq(out, hex_cases[_i].hex);
    ck_assert_int_eq(out[2 * n + 1], '#'); /* exactly 2n + 1 bytes written */
}
END_TEST

/* ---- FNV-1a 64: the vectors of the FNV reference (isthe.com) */
static const struct {
    const char *in;
    uint64_t h;
} fnv_cases[] = {
    { "", UINT64_C(0xcbf29ce484222325) },
    { "a", UINT64_C(0xaf63dc4c8601ec8c) },
    { "b", UINT64_C(0xaf63df4c8601f1a5) },
    { "foo", UINT64_C(0xdcb27518fed9d577) },
    { "foob", UINT64_C(0xdd120e790c2512af) },
    { "fooba", UINT64_C(0xcac165afa2fef40a) },
    { "foobar", UINT64_C(0x85944171f73967e8) },
    { "chongo was here!\n", UINT64_C(0x46810940eff5f915) },
};

START_TEST(test_fnv1a)
{
    const char *s = fnv_cases[_i].in;
    size_t n = strlen(s);

    ck_assert_uint_eq(fnv1a64(s, n), fnv_cases[_i].h);
    /* in two pieces, at every split: the same value */
    for (size_t k = 0; k <= n; k++)
        ck_assert_uint_eq(fnv1a64_update(fnv1a64(s, k), s + k, n - k), fnv_cases[_i].h);
}
END_TEST

/* ---- big-endian fields: value -> bytes, and back */
static const uint64_t be_values[] = {
    0, 1, 0xff, 0x100, UINT64_C(0x0102030405060708), UINT64_C(0x8000000000000000),
    UINT64_C(0xfedcba9876543210), UINT64_MAX,
};

START_TEST(test_be64_layout)
{
    unsigned char b[8];

    put_be64(b, UINT64_C(0x0102030405060708));
    ck_assert_mem_eq(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    put_be32(b, 0x0a0b0c0d);
    ck_assert_mem_eq(b, "\x0a\x0b\x0c\x0d", 4);
    ck_assert_uint_eq(get_be64((const unsigned char *)"\x80\0\0\0\0\0\0\x01"),
                      UINT64_C(0x8000000000000001));
    ck_assert_uint_eq(get_be32((const unsigned char *)"\xff\0\0\x02"), 0xff000002u);
}
END_TEST

START_TEST(test_be64_round_trip)
{
    unsigned char buf[32];
    uint64_t v = be_values[_i];

    for (size_t off = 0; off < 8; off++) { /* any alignment */
        memset(buf, 0xaa, sizeof(buf));
        put_be64(buf + off, v);
        ck_assert_uint_eq(get_be64(buf + off), v);
        ck_assert_uint_eq(buf[off + 8], 0xaa); /* no byte beyond the field */
        if (off > 0)
            ck_assert_uint_eq(buf[off - 1], 0xaa);
        put_be32(buf + off + 16, (uint32_t)v);
        ck_assert_uint_eq(get_be32(buf + off + 16), (uint32_t)v);
    }
    /* order: the bytes compare as the numbers do (the store's keys rely on it) */
    if (_i > 0) {
        unsigned char a[8], b[8];

        put_be64(a, be_values[_i - 1]);
        put_be64(b, v);
        ck_assert_int_lt(memcmp(a, b, 8), 0);
    }
}
END_TEST

/* ---- rand_bytes: fills every byte it is given */
static const size_t rand_sizes[] = { 0, 1, 10, 256, 257, 65536 };

START_TEST(test_rand_bytes)
{
    size_t n = rand_sizes[_i];
    unsigned char *a = calloc(1, n + 1), *b = calloc(1, n + 1);
    size_t zero = 0;

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    a[n] = b[n] = 0x5a;
    ck_assert_int_eq(rand_bytes(a, n), 0);
    ck_assert_int_eq(rand_bytes(b, n), 0);
    ck_assert_uint_eq(a[n], 0x5a); /* nothing past n */
    if (n >= 10) {
        for (size_t i = 0; i < n; i++)
            zero += a[i] == 0;
        /* a zero byte has probability 1/256: a buffer left unfilled shows
         * here, and two fills of 10 bytes or more never agree */
        ck_assert_uint_lt(zero, n / 16 + 4);
        ck_assert(memcmp(a, b, n) != 0);
    }
    if (n >= 256) /* the tail too, past a short read */
        ck_assert(memcmp(a + n - 8, "\0\0\0\0\0\0\0\0", 8) != 0);
    free(a);
    free(b);
}
END_TEST

static Suite *strutil_suite(void)
{
    Suite *s = suite_create("strutil");
    TCase *tc = tcase_create("core");

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))
    tcase_add_loop_test(tc, test_hex, 0, N(hex_cases));
    tcase_add_loop_test(tc, test_fnv1a, 0, N(fnv_cases));
    tcase_add_test(tc, test_be64_layout);
    tcase_add_loop_test(tc, test_be64_round_trip, 0, N(be_values));
    tcase_add_loop_test(tc, test_rand_bytes, 0, N(rand_sizes));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(strutil_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
