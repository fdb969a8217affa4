/* SPDX-License-Identifier: MIT */
/*
 * check_transform.c - unit tests of the jq transforms (transform.h): what a
 * program sees ($meta), what it gives (canonical text, skips, several
 * outputs, the ownership of *out), compile and runtime errors, the builtins
 * a transform may not use, the time bound (the test only asks that each
 * loop ends, with the time limit's error), the output bounds, where
 * filters, reuse after an error and after a halt, the built-in formats, and
 * the event parser (transform_int.h) against jq's own.
 * Table-driven: one row per case.
 */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cjson.h"
#include "transform.h"
#include "transform_int.h"

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

#define EV                                                                                  \
    "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"email.bounced\","               \
    "\"timestamp\":\"2026-01-01T00:00:00.500Z\",\"data\":{\"recipient\":\"bob@example.net\"," \
    "\"n\":3,\"s\":\"str\",\"tags\":[\"vip\",\"x\"]}}"

static const struct transform_meta META = { 42, 2, "crm", 1767225600500LL };

/* No limit in the way of tests about something else (valgrind is slow). */
#define NO_LIMIT_MS 600000

/* Runs t on ev with META and max_out 1 MiB: rc, *out (caller frees). */
static int run(transform_t *t, const char *ev, char **out, mh_err_t *err)
{
    size_t len = 0;

    *out = NULL;
    return transform_run(t, ev, strlen(ev), &META, 1 << 20, out, &len, err);
}

/* ---- MAP: program -> outputs (NULL: an error containing err) */
static const struct {
    const char *program, *out;
    int n;
    const char *err;
} map_cases[] = {
    { ".data.recipient", "\"bob@example.net\"", 1, NULL },
    { "{email: .data.recipient, timestamp: $meta.time, event: (.type|ltrimstr(\"email.\")), "
      "sg_event_id: .id}",
      "{\"email\":\"bob@example.net\",\"timestamp\":1767225600,\"event\":\"bounced\","
      "\"sg_event_id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\"}", 1, NULL },
    { "$meta", "{\"seq\":42,\"attempt\":2,\"endpoint\":\"crm\",\"time\":1767225600,"
               "\"time_ms\":1767225600500}", 1, NULL },
    { "{b: 1, a: 2, c: {z: [], y: {}}}", "{\"b\":1,\"a\":2,\"c\":{\"z\":[],\"y\":{}}}", 1, NULL },
    /* skips: empty, null, only nulls; nulls among outputs are dropped */
    { "empty", NULL, 0, NULL },
    { "null", NULL, 0, NULL },
    { "null, null, .data.nothing", NULL, 0, NULL },
    { "1, null, 2", "1,2", 2, NULL },
    { ".data.tags[]", "\"vip\",\"x\"", 2, NULL },
    { "[.data.tags[] | null]", "[null,null]", 1, NULL }, /* only top-level nulls go */
    { "true, false", "true,false", 2, NULL },
    /* definitions first, and programs of several lines */
    { "def f: .data.n * 2; f", "6", 1, NULL },
    { "def f(x): x + 1;\n\n  f(.data.n)\n", "4", 1, NULL },
    { "# a comment\n.data.n # another", "3", 1, NULL },
    /* indices, index and rindex: jq 1.6's results, without its leak */
    { "[.data.tags | index(\"vip\", \"x\", \"zz\"), rindex(\"vip\", \"x\", \"zz\")]",
      "[0,1,null,0,1,null]", 1, NULL },
    { "[1,2,1,2,1] | indices([1,2,1]), indices(1), indices([]), indices([3])", "[0,2],[0,2,4],[],[]",
      4, NULL },
    { ".data.s | indices(\"t\"), index(\"r\"), rindex(\"s\")", "[1],2,0", 3, NULL },
    { "null | indices(1)", NULL, 0, NULL },
    /* jq 1.6 loops for ever in C on these (no time limit could stop it) */
    { "\"abc\" | indices(\"\"), index(\"\"), rindex(\"\"), _strindices(\"\")", "[],[]", 2, NULL },
    { "\"abcb\" | _strindices(\"b\")", "[1,3]", 1, NULL },
    { "{a: 5} | index(\"a\")", NULL, -1, "transform: Cannot index number with number" },
    /* runtime errors */
    { "error(\"x\")", NULL, -1, "transform: x" },
    { ".data.s.b.c", NULL, -1, "transform: Cannot index string with string \"b\"" },
    { ".data.n, error(\"late\")", NULL, -1, "transform: late" },
    { "error({a: 1})", NULL, -1, "transform: error (not a string): {\"a\":1}" },
    { "error(null)", NULL, 0, NULL }, /* jq 1.6: the end of the outputs */
    { "error(\"\\u0001two\\nlines\")", NULL, -1, "transform: ?two?lines" },
    { "nan", NULL, -1, "not finite" },
    { "[infinite]", NULL, -1, "not finite" },
    { "reduce range(40) as $i (0; [.])", NULL, -1, "nested deeper than 34" },
    { "reduce range(33) as $i (0; [.])", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
      1, NULL },
    /* what a transform may not do */
    { "halt", NULL, -1, "halt is not allowed in a transform" },
    { "halt_error", NULL, -1, "halt_error is not allowed in a transform" },
    { "\"bye\" | halt_error(1)", NULL, -1, "halt_error is not allowed in a transform" },
    { "input", NULL, -1, "input is not allowed in a transform" },
    { "[inputs]", NULL, -1, "inputs is not allowed in a transform" },
    { "input_line_number", NULL, -1, "input_line_number is not allowed" },
    { "\"m\" | modulemeta", NULL, -1, "modulemeta is not allowed" },
    { "get_search_list", NULL, -1, "get_search_list is not allowed" },
    { "get_prog_origin", NULL, -1, "get_prog_origin is not allowed" },
    { "get_jq_origin", NULL, -1, "get_jq_origin is not allowed" },
    { "try halt catch .", "\"halt is not allowed in a transform\"", 1, NULL },
    { "env", "{}", 1, NULL },
    { "$ENV", "{}", 1, NULL },
    { "[env.PATH, $ENV.HOME, input_filename]", "[null,null,null]", 1, NULL },
    { ".data.n | debug", "3", 1, NULL },
    { ".data.n | stderr", "3", 1, NULL },
};

START_TEST(test_map)
{
    transform_t *t;
    mh_err_t err = { "" };
    char *out;
    int rc;

    transform_set_time_limit(NO_LIMIT_MS);
    t = transform_compile(map_cases[_i].program, TRANSFORM_MAP, &err);
    ck_assert_msg(t != NULL, "%s: %s", map_cases[_i].program, err.text);
    rc = run(t, EV, &out, &err);
    ck_assert_msg(rc == map_cases[_i].n, "%s: rc %d: %s", map_cases[_i].program, rc, err.text);
    if (rc > 0)
        ck_assert_str_eq(out, map_cases[_i].out);
    else
        ck_assert_ptr_null(out);
    /* "transform: ..." is the whole message; other texts a part of it */
    if (map_cases[_i].err && strncmp(map_cases[_i].err, "transform: ", 11) == 0)
        ck_assert_str_eq(err.text, map_cases[_i].err);
    else if (map_cases[_i].err)
        ck_assert_msg(strstr(err.text, map_cases[_i].err), "%s: %s", map_cases[_i].err, err.text);
    free(out);
    transform_free(t);
}
END_TEST

/* ---- compile errors: program -> the message (a prefix of it) */
static const struct {
    const char *program, *err;
} compile_cases[] = {
    { "", "transform: the program is empty" },
    { "  \n\t", "transform: the program is empty" },
    { ".a |", "transform: syntax error, unexpected ')', at the end of the program" },
    { "(.a", "transform: syntax error, unexpected $end, at the end of the program" },
    { "$nope", "transform: $nope is not defined, line 1: $nope" },
    { ".a\n| foo(1)", "transform: foo/1 is not defined, line 2: | foo(1)" },
    { "{a: }", "transform: syntax error, unexpected '}', line 1: {a: }" },
    { "\"\\x\"", "transform: Invalid escape at line 1, column 4 (while parsing '\"\\x\"'), line 1" },
    { "import \"x\" as x; .", "transform: syntax error, unexpected import, line 1" },
    { "include \"x\"; .", "transform: syntax error, unexpected include, line 1" },
    { "$__prog_args", "transform: $__prog_args is not defined, line 1" },
    { "def f: 1;", "transform: syntax error, unexpected ')', at the end of the program" },
    { "\x01 .\n.a | \x7f", "transform: syntax error, unexpected INVALID_CHARACTER, line 1: ? ." },
};

START_TEST(test_compile_error)
{
    mh_err_t err = { "" };
    transform_t *t = transform_compile(compile_cases[_i].program, TRANSFORM_MAP, &err);

    ck_assert_ptr_null(t);
    ck_assert_msg(strncmp(err.text, compile_cases[_i].err, strlen(compile_cases[_i].err)) == 0,
                  "%s: got \"%s\"", compile_cases[_i].err, err.text);
    ck_assert_ptr_null(strchr(err.text, '\n'));
    ck_assert_uint_lt(strlen(err.text), 400);
}
END_TEST

/* A long bad line is cut, and said on one line. */
START_TEST(test_compile_error_long)
{
    char prog[5000];
    mh_err_t err;

    memset(prog, 'a', sizeof(prog) - 3);
    memcpy(prog + sizeof(prog) - 3, " }", 3);
    ck_assert_ptr_null(transform_compile(prog, TRANSFORM_WHERE, &err));
    ck_assert_uint_lt(strlen(err.text), 400);
    ck_assert_ptr_nonnull(strstr(err.text, "..."));
}
END_TEST

/* ---- canonical output: the same bytes as cjson_dump of the same value */
static const char *const canonical_values[] = {
    "\"\\u0001\\u001f\\\"\\\\/\\b\\f\\n\\r\\t\\u007f\"",
    "\"\\u2028\\u2029 Gr\\u00fc\\u00dfe \\ud83d\\ude00 caf\xc3\xa9\"",
    "\"nul\\u0000inside\"",
    "{\"k\\\"ey\\\\\":\"\\u0000\",\"\\u00e9\":[\"\\u000b\"]}",
    "1", "1.5", "1e300", "-0", "-0.0", "9007199254740992", "9007199254740991",
    "-9007199254740991", "-9007199254740992", "0.1", "-1234.5678", "1e-7", "0.0001",
    "0.30000000000000004", "123456789.123", "1e21", "[1,2.5,{\"a\":[true,false,null]}]",
};

/* cjson_dump of v (a JSON text): normalized when cjson_normalize takes it
 * (integral reals become integers), else as it is. */
static char *reference(const char *v)
{
    json_t *a = json_array(), *x = json_loads(v, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    size_t len;
    char *s, *r;

    ck_assert_ptr_nonnull(x);
    json_array_append(a, x);
    if (cjson_normalize(a, NULL) < 0) {
        json_decref(a);
        a = json_array();
        json_array_append(a, x);
    }
    json_decref(x);
    s = cjson_dump(a, &len); /* "[v]" */
    r = strndup(s + 1, len - 2);
    free(s);
    json_decref(a);
    return r;
}

START_TEST(test_canonical)
{
    const char *v = canonical_values[_i];
    char ev[512], *out, *want = reference(v);
    transform_t *t;
    mh_err_t err;

    transform_set_time_limit(NO_LIMIT_MS);
    snprintf(ev, sizeof(ev), "{\"data\":{\"v\":%s}}", v);
    t = transform_compile(".data.v", TRANSFORM_MAP, &err);
    ck_assert_int_eq(run(t, ev, &out, &err), 1);
    ck_assert_str_eq(out, want);
    free(out);
    free(want);
    transform_free(t);
}
END_TEST

/* ---- the event parser: the same values as jq's, on any text */
static const char *const parse_texts[] = {
    EV,
    "{\"a\":[1,-2,0,-0,0.5,-1234.5678,123456789012345,0.000123456789012345],\"b\":{}}",
    "[true,false,null,[],{},\"\",[[[]]]]",
    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\\u00e9\\u2028\\ud83d\\ude00\"",
    "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",            /* raw UTF-8 */
    "\"bad \xff\xfe utf-8 \xc3\"",                   /* replaced, as jq does */
    "\"lone \\ud83d surrogate\"", "\"lone \\ude00 low\"", "\"\\u12\"", "\"\\x\"",
    "\"raw \x01 control\"", "\"raw \x1f\"", "\"tab\there\"",
    "1e5", "1E-3", "1.5e300", "1234567890123456", "0.1234567890123456", "12345678901234567890",
    "0.0000000000000000000001", "0.00000000000000000000001", "9007199254740993",
    "1.", ".5", "01", "-", "-a", "+1", "00", "-0.0",
    " {\"a\":1}", "{\"a\":1} ", "{\"a\" : 1}", "[1 ,2]", "[1,]", "[,1]", "{\"a\"1}", "{\"a\":}",
    "{\"a\":1,}", "{1:2}", "tru", "nul", "falsey", "true false", "[1][2]", "", "\"", "[",
    "{\"a\":1,\"a\":2,\"b\":3}", /* a key twice: the last value, the first place */
    "nan", "NaN", "[nan]", "\xef\xbb\xbf{}", "{\"k\\u0000\":1}",
};

START_TEST(test_parse)
{
    const char *text = parse_texts[_i];
    jv mine = transform_jv_parse(text, strlen(text)), ref = jv_parse_sized(text, (int)strlen(text));
    jv a, b;

    ck_assert_int_eq(jv_get_kind(mine), jv_get_kind(ref));
    if (jv_is_valid(ref)) {
        a = jv_dump_string(jv_copy(mine), 0); /* %.17g numbers: exact */
        b = jv_dump_string(jv_copy(ref), 0);
        ck_assert_str_eq(jv_string_value(a), jv_string_value(b)); /* also the key order */
        jv_free(a);
        jv_free(b);
    } else {
        a = jv_invalid_get_msg(jv_copy(mine));
        b = jv_invalid_get_msg(jv_copy(ref));
        ck_assert(jv_equal(a, b));
    }
    jv_free(mine);
    jv_free(ref);
}
END_TEST

/* Canonical text takes the direct path (else a test of it proves nothing);
 * what is not canonical does not. */
START_TEST(test_parse_fast)
{
    static const char *const not_fast[] = { "1e5", " 1", "[1 ]", "1234567890123456", "\"\\ud800\"",
                                            "\"\x01\"", "[1]x", "" };
    jv v;

    ck_assert(transform_jv_parse_fast(EV, strlen(EV), &v));
    jv_free(v);
    ck_assert(transform_jv_parse_fast(parse_texts[1], strlen(parse_texts[1]), &v));
    jv_free(v);
    ck_assert(transform_jv_parse_fast(parse_texts[3], strlen(parse_texts[3]), &v));
    jv_free(v);
    for (int i = 0; i < N(not_fast); i++)
        ck_assert_msg(!transform_jv_parse_fast(not_fast[i], strlen(not_fast[i]), &v), "%s",
                      not_fast[i]);
}
END_TEST

/* Deep nesting: this path stops at 64 levels, jq's at 256. */
START_TEST(test_parse_deep)
{
    for (int depth = 60; depth <= 300; depth += 20) {
        char *text = malloc((size_t)depth * 2 + 2);
        jv mine, ref;
        memset(text, '[', (size_t)depth);
        memset(text + depth, ']', (size_t)depth);
        text[depth * 2] = 0;
        mine = transform_jv_parse(text, strlen(text));
        ref = jv_parse_sized(text, (int)strlen(text));
        ck_assert_int_eq(jv_get_kind(mine), jv_get_kind(ref));
        ck_assert(jv_equal(mine, ref));
        free(text);
    }
}
END_TEST

/* ---- WHERE: program -> 1 / 0 / -1 */
static const struct {
    const char *program;
    int rc;
} where_cases[] = {
    { ".data.n == 3", 1 },
    { ".data.n == 4", 0 },
    { ".data.tags | index(\"vip\") != null", 1 },
    { "$meta.endpoint == \"crm\" and $meta.attempt == 2", 1 },
    { "null", 0 },
    { "false", 0 },
    { "empty", 0 },
    { "0", 1 }, /* jq's truth: all but false and null */
    { "\"\"", 1 },
    { "[]", 1 },
    { "false, true", 0 }, /* the first output decides */
    { "true, error(\"never reached\")", 1 },
    { "error(\"w\")", -1 },
    { ".data.s.x", -1 },
    { "halt", -1 },
};

START_TEST(test_where)
{
    mh_err_t err = { "" };
    transform_t *t;
    int rc;

    transform_set_time_limit(NO_LIMIT_MS);
    t = transform_compile(where_cases[_i].program, TRANSFORM_WHERE, &err);
    ck_assert_msg(t != NULL, "%s", err.text);
    rc = transform_where(t, EV, strlen(EV), &META, &err);
    ck_assert_msg(rc == where_cases[_i].rc, "%s: %d (%s)", where_cases[_i].program, rc, err.text);
    if (rc < 0)
        ck_assert_ptr_nonnull(strstr(err.text, "transform: "));
    transform_free(t);
}
END_TEST

/* ---- the time bound: each loop ends, with the time limit's error */
static const char *const loops[] = {
    "\"abc\" | gsub(\"\"; \"x\")", /* jq 1.6: an endless loop of jq code */
    "[range(1e12)] | length",
    "def f: f; f",
    "last(range(1e12))",
    "def f: [f]; f", /* recursion that grows the stack */
    "reduce range(1e12) as $i (0; . + $i)",
    "[repeat(.data.n)] | length",
};

START_TEST(test_time_limit)
{
    transform_t *t;
    mh_err_t err;
    char *out;
    char prog[128];

    transform_set_time_limit(50);
    /* looping on one event, not on the other: the same t is used again */
    snprintf(prog, sizeof(prog), "if .data.n == 3 then %s else .data.n end", loops[_i]);
    t = transform_compile(prog, TRANSFORM_MAP, &err);
    ck_assert_ptr_nonnull(t);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(run(t, EV, &out, &err), -1);
        ck_assert_str_eq(err.text, "transform: time limit (50 ms) exceeded");
        ck_assert_ptr_null(out);
        ck_assert_int_eq(run(t, "{\"data\":{\"n\":4}}", &out, &err), 1);
        ck_assert_str_eq(out, "4");
        free(out);
    }
    transform_free(t);
}
END_TEST

/* The watchdog ends with the last transform, and a later run starts it
 * again; where filters are bounded too. */
START_TEST(test_time_limit_restart)
{
    transform_t *t;
    mh_err_t err;

    transform_set_time_limit(30);
    for (int k = 0; k < 3; k++) {
        t = transform_compile("if .data.n == 3 then last(range(1e12)) > 0 else true end",
                              TRANSFORM_WHERE, &err);
        ck_assert_int_eq(transform_where(t, EV, strlen(EV), NULL, &err), -1);
        ck_assert_str_eq(err.text, "transform: time limit (30 ms) exceeded");
        ck_assert_int_eq(transform_where(t, "{\"data\":{}}", 11, NULL, &err), 1);
        transform_free(t);
    }
}
END_TEST

/* A child of fork() has no watchdog thread: its first run starts one. The
 * child gives up after 30 s (SIGALRM) rather than hang the test. */
START_TEST(test_time_limit_fork)
{
    transform_t *t;
    mh_err_t err;
    char *out;
    pid_t pid;
    int status;

    transform_set_time_limit(30);
    t = transform_compile("if .data.n == 3 then last(range(1e12)) else 0 end", TRANSFORM_MAP, &err);
    ck_assert_int_eq(run(t, EV, &out, &err), -1); /* the parent's watchdog runs */
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int rc;
        alarm(30);
        rc = run(t, EV, &out, &err);
        transform_free(t);
        _exit(rc == -1 && strstr(err.text, "time limit") ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    transform_free(t);
}
END_TEST

/* Threads: each with its own transform, at once; loops stop, others not. */
static void *thread_runs(void *arg)
{
    transform_t *t = transform_compile("if .data.n == 3 then last(range(1e12)) else .data.n + 1 end",
                                       TRANSFORM_MAP, NULL);
    long bad = 0;
    mh_err_t err;
    char *out;

    for (int k = 0; k < 50; k++) {
        if (run(t, "{\"data\":{\"n\":1}}", &out, &err) != 1 || strcmp(out, "2") != 0)
            bad++;
        free(out);
    }
    if (run(t, EV, &out, &err) != -1 || strstr(err.text, "time limit") == NULL)
        bad++;
    transform_free(t);
    return (void *)bad;
}

START_TEST(test_threads)
{
    pthread_t th[4];
    void *bad;

    transform_set_time_limit(50);
    for (int i = 0; i < N(th); i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_runs, NULL), 0);
    for (int i = 0; i < N(th); i++) {
        ck_assert_int_eq(pthread_join(th[i], &bad), 0);
        ck_assert_ptr_null(bad);
    }
}
END_TEST

/* ---- the output's bounds and ownership */
START_TEST(test_max_out)
{
    transform_t *t;
    mh_err_t err;
    char *out = NULL;
    size_t len = 0;

    transform_set_time_limit(NO_LIMIT_MS);
    t = transform_compile("[range(100000)]", TRANSFORM_MAP, &err);
    ck_assert_int_eq(transform_run(t, EV, strlen(EV), &META, 65536, &out, &len, &err), -1);
    ck_assert_str_eq(err.text, "transform: the output is larger than 65536 bytes");
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(len, 0);
    transform_free(t);
    /* several outputs count together, and so does what *out held */
    t = transform_compile(".data.tags[]", TRANSFORM_MAP, &err); /* "vip","x": 9 bytes */
    ck_assert_int_eq(transform_run(t, EV, strlen(EV), &META, 8, &out, &len, &err), -1);
    ck_assert_str_eq(err.text, "transform: the output is larger than 8 bytes");
    ck_assert_int_eq(transform_run(t, EV, strlen(EV), &META, 9, &out, &len, &err), 2);
    ck_assert_int_eq(transform_run(t, EV, strlen(EV), &META, 18, &out, &len, &err), -1);
    ck_assert_str_eq(err.text, "transform: the output is larger than 18 bytes");
    ck_assert_str_eq(out, "\"vip\",\"x\"");
    ck_assert_int_eq(transform_run(t, EV, strlen(EV), &META, 19, &out, &len, &err), 2);
    ck_assert_str_eq(out, "\"vip\",\"x\",\"vip\",\"x\"");
    ck_assert_uint_eq(len, 19);
    free(out);
    transform_free(t);
}
END_TEST

START_TEST(test_append)
{
    transform_t *t, *skip, *bad;
    mh_err_t err;
    char *out = strdup("["), *was;
    size_t len = 1;

    transform_set_time_limit(NO_LIMIT_MS);
    t = transform_compile("{n: .data.n}", TRANSFORM_MAP, &err);
    skip = transform_compile("select(.data.n > 3)", TRANSFORM_MAP, &err);
    bad = transform_compile(".data.n.x", TRANSFORM_MAP, &err);
    /* a batch: "[" + outputs + "]"; the first one after a non-empty *out
     * comes after a comma, so a caller starts a batch at NULL */
    free(out);
    out = NULL;
    len = 0;
    ck_assert_int_eq(transform_run(t, EV, strlen(EV), &META, 1000, &out, &len, &err), 1);
    ck_assert_int_eq(transform_run(t, EV, strlen(EV), &META, 1000, &out, &len, &err), 1);
    ck_assert_str_eq(out, "{\"n\":3},{\"n\":3}");
    was = strdup(out);
    /* skipped and failed runs leave it as it was */
    ck_assert_int_eq(transform_run(skip, EV, strlen(EV), &META, 1000, &out, &len, &err), 0);
    ck_assert_int_eq(transform_run(bad, EV, strlen(EV), &META, 1000, &out, &len, &err), -1);
    ck_assert_str_eq(out, was);
    ck_assert_uint_eq(len, strlen(was));
    free(was);
    free(out);
    transform_free(t);
    transform_free(skip);
    transform_free(bad);
    ck_assert_ptr_null(transform_free(NULL));
}
END_TEST

/* ---- $meta: none, times before 1970, another endpoint; reuse after errors */
START_TEST(test_meta)
{
    struct transform_meta m = { 7, 1, "a", -1500 };
    transform_t *t;
    mh_err_t err;
    char *out = NULL;
    size_t len = 0;

    transform_set_time_limit(NO_LIMIT_MS);
    t = transform_compile("$meta", TRANSFORM_MAP, &err);
    ck_assert_int_eq(transform_run(t, EV, strlen(EV), NULL, 1000, &out, &len, &err), 1);
    ck_assert_str_eq(out, "{\"seq\":null,\"attempt\":null,\"endpoint\":null,\"time\":null,"
                          "\"time_ms\":null}");
    out = (free(out), NULL);
    len = 0;
    ck_assert_int_eq(transform_run(t, EV, strlen(EV), &m, 1000, &out, &len, &err), 1);
    ck_assert_str_eq(out, "{\"seq\":7,\"attempt\":1,\"endpoint\":\"a\",\"time\":-2,"
                          "\"time_ms\":-1500}");
    out = (free(out), NULL);
    len = 0;
    m.endpoint = "b";
    m.ts_ms = 2000;
    ck_assert_int_eq(transform_run(t, EV, strlen(EV), &m, 1000, &out, &len, &err), 1);
    ck_assert_str_eq(out, "{\"seq\":7,\"attempt\":1,\"endpoint\":\"b\",\"time\":2,"
                          "\"time_ms\":2000}");
    free(out);
    transform_free(t);
}
END_TEST

START_TEST(test_reuse_after_error)
{
    transform_t *t;
    mh_err_t err;
    char *out;

    transform_set_time_limit(NO_LIMIT_MS);
    t = transform_compile("if .data.n == 3 then error(\"three\") else .data.n end", TRANSFORM_MAP,
                          &err);
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(run(t, EV, &out, &err), -1);
        ck_assert_str_eq(err.text, "transform: three");
        ck_assert_int_eq(run(t, "{\"data\":{\"n\":5}}", &out, &err), 1);
        ck_assert_str_eq(out, "5");
        free(out);
        ck_assert_int_eq(run(t, "{\"data\":", &out, &err), -1); /* not JSON */
        ck_assert_ptr_nonnull(strstr(err.text, "transform: the event is not JSON"));
    }
    transform_free(t);
}
END_TEST

/* debug and stderr write nothing (fd 2 is a file for the while). */
START_TEST(test_no_stderr)
{
    char path[] = "/tmp/check_transform.XXXXXX", *out;
    int fd = mkstemp(path), saved = dup(2);
    transform_t *t;
    mh_err_t err;

    transform_set_time_limit(NO_LIMIT_MS);
    ck_assert_int_ge(fd, 0);
    t = transform_compile("(.data | debug | stderr | .n), (\"x\" | debug)", TRANSFORM_MAP, &err);
    fflush(stderr);
    dup2(fd, 2);
    ck_assert_int_eq(run(t, EV, &out, &err), 2);
    fflush(stderr);
    dup2(saved, 2);
    ck_assert_str_eq(out, "3,\"x\"");
    ck_assert_int_eq(lseek(fd, 0, SEEK_END), 0);
    close(fd);
    close(saved);
    unlink(path);
    free(out);
    transform_free(t);
}
END_TEST

/* ---- the built-in formats: every one compiles, and gives JSON */
static const char *const issue_formats[] = {
    "mailabl", "mailtura", "penguinmails", "paubox", "sendgrid", "mailgun", "postmark", "listmonk",
};

START_TEST(test_builtin_formats)
{
    int n = 0;

    transform_set_time_limit(NO_LIMIT_MS);
    for (const struct transform_format *f = transform_formats; f->name; f++, n++) {
        mh_err_t err;
        transform_t *t = transform_compile(f->program, TRANSFORM_MAP, &err);
        char *out;
        int rc;

        ck_assert_msg(t != NULL, "format %s: %s", f->name, err.text);
        ck_assert_ptr_eq(transform_builtin(f->name), f->program);
        rc = run(t, EV, &out, &err);
        if (rc > 0) { /* one output or several, each JSON: as an array */
            char *arr = malloc(strlen(out) + 3);
            json_t *v;
            snprintf(arr, strlen(out) + 3, "[%s]", out);
            v = json_loads(arr, JSON_ALLOW_NUL, NULL);
            ck_assert_msg(v != NULL, "format %s: %s", f->name, out);
            json_decref(v);
            free(arr);
            free(out);
        }
        transform_free(t);
    }
    for (int i = 0; i < N(issue_formats); i++)
        ck_assert_msg(transform_builtin(issue_formats[i]) != NULL, "%s", issue_formats[i]);
    ck_assert_int_ge(n, N(issue_formats));
    ck_assert_ptr_null(transform_builtin("standard")); /* mailhook's own: no program */
    ck_assert_ptr_null(transform_builtin("nope"));
}
END_TEST

static Suite *transform_suite(void)
{
    Suite *s = suite_create("transform");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120); /* valgrind */
    tcase_add_loop_test(tc, test_map, 0, N(map_cases));
    tcase_add_loop_test(tc, test_compile_error, 0, N(compile_cases));
    tcase_add_test(tc, test_compile_error_long);
    tcase_add_loop_test(tc, test_canonical, 0, N(canonical_values));
    tcase_add_loop_test(tc, test_parse, 0, N(parse_texts));
    tcase_add_test(tc, test_parse_fast);
    tcase_add_test(tc, test_parse_deep);
    tcase_add_loop_test(tc, test_where, 0, N(where_cases));
    tcase_add_loop_test(tc, test_time_limit, 0, N(loops));
    tcase_add_test(tc, test_time_limit_restart);
    tcase_add_test(tc, test_time_limit_fork);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_max_out);
    tcase_add_test(tc, test_append);
    tcase_add_test(tc, test_meta);
    tcase_add_test(tc, test_reuse_after_error);
    tcase_add_test(tc, test_no_stderr);
    tcase_add_test(tc, test_builtin_formats);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(transform_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
