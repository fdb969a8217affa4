/* SPDX-License-Identifier: MIT */
/*
 * check_cjson.c - unit tests of canonical JSON (cjson.h): cjson_normalize,
 * cjson_dump against its jansson reference, the record writer, and the
 * pieces (cjson_put_number, cjson_put_str) against cjson_dump.
 * Table-driven: one row per case.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cjson.h"

/* ---- canonical JSON: input -> expected bytes, or NULL = must be refused */
static const struct {
    const char *in, *out;
} cjson_cases[] = {
    { "{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":2}" },
    { "{ \"b\" : 2 , \"a\" : 1 }", "{\"b\":2,\"a\":1}" }, /* insertion order kept */
    { "{\"x\":1.0}", "{\"x\":1}" },
    { "{\"x\":-0.0}", "{\"x\":0}" },
    { "{\"x\":0.1}", "{\"x\":0.1}" },
    { "{\"x\":2.5,\"y\":0.123456789012345}", "{\"x\":2.5,\"y\":0.123456789012345}" },
    { "{\"x\":1e3}", "{\"x\":1000}" },
    { "{\"x\":0.0001}", "{\"x\":0.0001}" },
    { "{\"s\":\"a\\u001fb\\u0001\"}", "{\"s\":\"a\\u001fb\\u0001\"}" },
    { "{\"s\":\"\\\\u001F\"}", "{\"s\":\"\\\\u001F\"}" }, /* a literal backslash-u */
    { "{\"s\":\"\\/\\t\\n\"}", "{\"s\":\"/\\t\\n\"}" },
    { "{\"s\":\"Gr\\u00fc\\u00dfe\"}", "{\"s\":\"Grüße\"}" },
    { "{\"n\":9007199254740991}", "{\"n\":9007199254740991}" },
    { "{\"n\":9007199254740992}", NULL },
    { "{\"x\":0.00001}", NULL },
    { "{\"x\":0.1234567890123456}", NULL },
    { "{\"x\":1e300}", NULL },
    { "{\"a\":[1,[2,[3.5]]]}", "{\"a\":[1,[2,[3.5]]]}" },
    { "{}", "{}" },
    { "{\"e\":[],\"o\":{},\"n\":null,\"t\":true,\"f\":false}",
      "{\"e\":[],\"o\":{},\"n\":null,\"t\":true,\"f\":false}" },
    { "{\"b\":\"\\b\\f\\r\\u0007\\u007f\\u2028\"}", "{\"b\":\"\\b\\f\\r\\u0007\x7f\xe2\x80\xa8\"}" },
    { "{\"k\\\"ey\":-9007199254740991,\"r\":-1234.5678}", "{\"k\\\"ey\":-9007199254740991,\"r\":-1234.5678}" },
};

START_TEST(test_cjson)
{
    json_t *v = json_loads(cjson_cases[_i].in, JSON_DECODE_ANY, NULL);
    mh_err_t err;
    size_t len;
    char *s;
    int rc;

    ck_assert_ptr_nonnull(v);
    rc = cjson_normalize(v, &err);
    if (cjson_cases[_i].out == NULL) {
        ck_assert_int_eq(rc, -1);
        ck_assert_ptr_nonnull(strstr(err.text, "string"));
    } else {
        ck_assert_int_eq(rc, 0);
        s = cjson_dump(v, &len);
        ck_assert_str_eq(s, cjson_cases[_i].out);
        ck_assert_uint_eq(len, strlen(cjson_cases[_i].out));
        free(s);
        s = cjson_dump_jansson(v, &len); /* the reference agrees */
        ck_assert_str_eq(s, cjson_cases[_i].out);
        free(s);
    }
    json_decref(v);
}
END_TEST

/* A value that could not be made (json_pack of text that is not UTF-8)
 * has no text: NULL from both writers, as from json_dumps, never a crash;
 * *len is left alone. */
START_TEST(test_cjson_null)
{
    json_t *failed = json_pack("{s:s}", "error", "cut \xe2\x82");
    size_t len = 7;

    ck_assert_ptr_null(failed);
    ck_assert_ptr_null(cjson_dump(failed, &len));
    ck_assert_uint_eq(len, 7);
    ck_assert_ptr_null(cjson_dump_jansson(failed, &len));
    ck_assert_uint_eq(len, 7);
}
END_TEST

/* The record writer gives what cjson_dump gives for the same tree:
 * nesting, escapes, null, booleans, negative and large integers. */
START_TEST(test_cjson_writer)
{
    const char *odd = "q\"b\\\n\x01\x7f\xc3\xa9";
    cjson_writer_t w = CJSON_WRITER_INIT;
    json_t *v = json_pack("{s:s,s:[s,s,[]],s:{s:I,s:I,s:b,s:b,s:n},s:{},s:i}", "id", odd,
                          "list", "a", "", "obj", "neg", (json_int_t)-9007199254740991LL,
                          "big", (json_int_t)9007199254740991LL, "t", 1, "f", 0, "nil",
                          "empty", "last", 0);
    char *want, *got;
    size_t wlen, glen;

    ck_assert_ptr_nonnull(v);
    cjw_open(&w, '{');
    cjw_key(&w, "id");
    cjw_str(&w, odd);
    cjw_key(&w, "list");
    cjw_open(&w, '[');
    cjw_strn(&w, "abc", 1);
    cjw_str(&w, "");
    cjw_open(&w, '[');
    cjw_close(&w, ']');
    cjw_close(&w, ']');
    cjw_key(&w, "obj");
    cjw_open(&w, '{');
    cjw_key(&w, "neg");
    cjw_int(&w, -9007199254740991LL);
    cjw_key(&w, "big");
    cjw_int(&w, 9007199254740991LL);
    cjw_key(&w, "t");
    cjw_bool(&w, true);
    cjw_key(&w, "f");
    cjw_bool(&w, false);
    cjw_key(&w, "nil");
    cjw_str(&w, NULL);
    cjw_close(&w, '}');
    cjw_key(&w, "empty");
    cjw_open(&w, '{');
    cjw_close(&w, '}');
    cjw_key(&w, "last");
    cjw_int(&w, 0);
    cjw_close(&w, '}');
    got = cjw_finish(&w, &glen);
    want = cjson_dump(v, &wlen);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(glen, wlen);
    ck_assert_ptr_null(w.b.lb.data); /* finish hands the text over */
    free(got);
    free(want);
    json_decref(v);
}
END_TEST

/* ---- the pieces: a number -> its text (cjson_dump's, of json_real(x)
 * normalized when it can be; NULL = refused) */
static const struct {
    double x;
    const char *out;
} number_cases[] = {
    { 1, "1" }, { -0.0, "0" }, { 1.5, "1.5" }, { 0.1, "0.1" }, { -1234.5678, "-1234.5678" },
    { 9007199254740991.0, "9007199254740991" }, { -9007199254740991.0, "-9007199254740991" },
    { 9007199254740992.0, "9007199254740992" }, /* beyond: as a real, %.16g */
    { 1e300, "1e+300" }, { 1e21, "1e+21" }, { 1e-7, "1e-07" }, { 0.0001, "0.0001" },
    { 0.30000000000000004, "0.30000000000000004" }, { 123456789.125, "123456789.125" },
    { 1.0 / 0.0, NULL }, { -1.0 / 0.0, NULL }, { 0.0 / 0.0, NULL },
};

START_TEST(test_cjson_put_number)
{
    struct cjson_buf b = { LINEBUF_INIT(64), false };
    double x = number_cases[_i].x;
    json_t *a, *r;
    char *ref, *got;
    size_t len;

    if (number_cases[_i].out == NULL) {
        ck_assert_int_eq(cjson_put_number(&b, x), -1);
        ck_assert_uint_eq(linebuf_len(&b.lb), 0);
        linebuf_free(&b.lb);
        return;
    }
    ck_assert_int_eq(cjson_put_number(&b, x), 0);
    got = linebuf_steal(&b.lb, &len);
    ck_assert_str_eq(got, number_cases[_i].out);
    /* the same as cjson_dump of the value, normalized where it can be */
    a = json_pack("[f]", x);
    r = json_deep_copy(a);
    if (cjson_normalize(r, NULL) < 0) {
        json_decref(r);
        r = json_incref(a);
    }
    ref = cjson_dump(r, &len);
    ref[len - 1] = 0;
    ck_assert_str_eq(got, ref + 1);
    free(ref);
    free(got);
    json_decref(a);
    json_decref(r);
}
END_TEST

/* The shortest round-trip spelling, found by trying every precision, for
 * many reals: what cjson_put_number writes (it searches faster). */
START_TEST(test_cjson_put_number_shortest)
{
    uint64_t seed = 88172645463325252ULL;
    char want[40], *got;
    size_t len;

    for (int i = 0; i < 20000; i++) {
        double x;
        int p;
        if (i % 2) { /* any double: random bits */
            uint64_t bits;
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            bits = seed;
            memcpy(&x, &bits, sizeof(x));
            if (!isfinite(x))
                continue;
        } else { /* decimals as programs make them: ms / 1000, thirds */
            x = i % 4 ? (1796409591000.0 + i) / 1000 : i / 3.0;
        }
        if (x == floor(x) && fabs(x) <= 9007199254740991.0)
            continue; /* an integer: not this path */
        for (p = 1; p < 17; p++) {
            snprintf(want, sizeof(want), "%.*g", p, x);
            if (strtod(want, NULL) == x)
                break;
        }
        snprintf(want, sizeof(want), "%.*g", p, x);
        struct cjson_buf b = { LINEBUF_INIT(64), false };
        ck_assert_int_eq(cjson_put_number(&b, x), 0);
        got = linebuf_steal(&b.lb, &len);
        ck_assert_str_eq(got, want);
        free(got);
    }
}
END_TEST

/* Strings: the same escapes as cjson_dump, NULs and all. */
START_TEST(test_cjson_put_str)
{
    static const char odd[] = "q\"b\\\n\x01\x1f\x7f\xc3\xa9\xe2\x80\xa8\0end";
    struct cjson_buf b = { LINEBUF_INIT(64), false };
    json_t *v = json_stringn(odd, sizeof(odd) - 1);
    char *want, *got;
    size_t wlen, glen;

    cjson_put_str(&b, odd, sizeof(odd) - 1);
    cjson_put_raw(&b, "!", 1);
    got = linebuf_steal(&b.lb, &glen);
    want = cjson_dump(v, &wlen);
    ck_assert_uint_eq(glen, wlen + 1);
    ck_assert_int_eq(memcmp(got, want, wlen), 0);
    ck_assert_int_eq(got[wlen], '!');
    /* past its maximum the buffer says so */
    b = (struct cjson_buf){ LINEBUF_INIT(4), false };
    cjson_put_str(&b, "abcdef", 6);
    ck_assert(b.toobig);
    linebuf_free(&b.lb);
    free(got);
    free(want);
    json_decref(v);
}
END_TEST

static Suite *cjson_suite(void)
{
    Suite *s = suite_create("cjson");
    TCase *tc = tcase_create("core");

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))
    tcase_add_loop_test(tc, test_cjson, 0, N(cjson_cases));
    tcase_add_test(tc, test_cjson_writer);
    tcase_add_test(tc, test_cjson_null);
    tcase_add_loop_test(tc, test_cjson_put_number, 0, N(number_cases));
    tcase_add_test(tc, test_cjson_put_number_shortest);
    tcase_add_test(tc, test_cjson_put_str);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cjson_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
