/* SPDX-License-Identifier: MIT */
/*
 * check_formats.c - unit tests of the built-in payload formats
 * (data/formats/NAME.jq, transform_formats[]): for every sample event of
 * tests/data/formats/events/, each format's program, run by transform.c
 * with the $meta its tests/data/formats/NAME.expected line gives, must give
 * that line's output byte for byte (nothing when the line's output is
 * empty: the event is skipped). The .expected files are made with the jq
 * CLI by tests/helpers/format_expected.sh, so this also holds the engine
 * (libjq behind its prelude, cjson's output) to jq's own answers. Every
 * built-in format has its file, and each file a line for every sample.
 * Files are found through $top_srcdir (default ".").
 */
#include "config.h"

#include <check.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transform.h"

static const char *top;
static size_t n_events; /* how many sample events (the .json files of events/) */

/* The whole file at path, without its trailing newlines; NULL if unreadable. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];

    if (f == NULL)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (buf == NULL)
        buf = calloc(1, 1);
    ck_assert_ptr_nonnull(buf);
    while (len > 0 && buf[len - 1] == '\n')
        len--;
    buf[len] = '\0';
    return buf;
}

/* One .expected line: the sample's file name, its $meta, the output. */
static void check_line(const char *format, transform_t *t, char *line, int lineno)
{
    char *tab1 = strchr(line, '\t'), *tab2, *path, *event, *out = NULL;
    json_t *meta;
    json_error_t jerr;
    struct transform_meta m;
    size_t outlen = 0;
    mh_err_t err;
    int rc;

    ck_assert_msg(tab1 != NULL, "%s.expected:%d: no tab", format, lineno);
    *tab1 = '\0';
    tab2 = strchr(tab1 + 1, '\t');
    ck_assert_msg(tab2 != NULL, "%s.expected:%d: one tab only", format, lineno);
    *tab2 = '\0';
    meta = json_loads(tab1 + 1, 0, &jerr);
    ck_assert_msg(meta != NULL, "%s.expected:%d: meta: %s", format, lineno, jerr.text);
    m.seq = (uint64_t)json_integer_value(json_object_get(meta, "seq"));
    m.attempt = (int)json_integer_value(json_object_get(meta, "attempt"));
    m.endpoint = json_string_value(json_object_get(meta, "endpoint"));
    m.ts_ms = json_integer_value(json_object_get(meta, "time_ms"));
    ck_assert_msg(m.endpoint != NULL && m.ts_ms > 0, "%s.expected:%d: meta", format, lineno);

    ck_assert_int_ge(asprintf(&path, "%s/tests/data/formats/events/%s", top, line), 0);
    event = slurp(path);
    ck_assert_msg(event != NULL, "%s: cannot read (is it in EXTRA_DIST?)", path);
    rc = transform_run(t, event, strlen(event), &m, 1 << 20, &out, &outlen, &err);
    ck_assert_msg(rc >= 0, "%s on %s: %s", format, line, rc < 0 ? err.text : "");
    if (tab2[1] == '\0')
        ck_assert_msg(rc == 0, "%s on %s: want it skipped, got %s", format, line, out);
    else
        ck_assert_msg(rc > 0 && strcmp(out, tab2 + 1) == 0, "%s on %s:\nwant %s\ngot  %s", format,
                      line, tab2 + 1, rc > 0 ? out : "(skipped)");
    free(out);
    free(event);
    free(path);
    json_decref(meta);
}

START_TEST(test_format)
{
    const struct transform_format *f = &transform_formats[_i];
    char *path, *text, *line, *save = NULL;
    size_t lines = 0;
    int lineno = 0;
    mh_err_t err;
    transform_t *t;

    transform_set_time_limit(600000); /* valgrind is slow: no limit in the way */
    t = transform_compile(f->program, TRANSFORM_MAP, &err);
    ck_assert_msg(t != NULL, "format %s: %s", f->name, err.text);
    ck_assert_int_ge(asprintf(&path, "%s/tests/data/formats/%s.expected", top, f->name), 0);
    text = slurp(path);
    ck_assert_msg(text != NULL, "%s: cannot read (tests/helpers/format_expected.sh makes it)",
                  path);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] == '#')
            continue;
        check_line(f->name, t, line, lineno);
        lines++;
    }
    ck_assert_msg(lines == n_events, "%s: %zu lines for %zu sample events", path, lines, n_events);
    free(text);
    free(path);
    transform_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("formats");
    TCase *tc = tcase_create("expected");
    char pattern[4096];
    glob_t events;
    SRunner *sr;
    int n = 0, failed;

    top = getenv("top_srcdir");
    if (top == NULL || *top == 0)
        top = ".";
    snprintf(pattern, sizeof(pattern), "%s/tests/data/formats/events/*.json", top);
    if (glob(pattern, 0, NULL, &events) != 0 || events.gl_pathc == 0) {
        fprintf(stderr, "no sample events match %s\n", pattern);
        return EXIT_FAILURE;
    }
    n_events = events.gl_pathc;
    globfree(&events);
    while (transform_formats[n].name)
        n++;
    if (n < 8) {
        fprintf(stderr, "only %d built-in formats\n", n);
        return EXIT_FAILURE;
    }
    tcase_add_loop_test(tc, test_format, 0, n);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
