/* SPDX-License-Identifier: MIT */
/*
 * check_admin_cmd.c - the admin command interface (admin_cmd.h), driven
 * as fuzz/fuzz_admin.c and the socket drive it (admin_job_new, then
 * admin_job_work, then admin_job_done), on one thread, with two small
 * tables of test commands: one answer per request through the answer
 * function, as JSON text; a malformed line or an unknown command answered
 * bad_request; a check that answers stops the job before work; a finish
 * that defers answers through admin_job_complete; what work carries
 * reaches finish and is freed when the job ends, finish or not; admin_error
 * makes its whole text printable. Table-driven where there are cases.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmd.h"
#include "xalloc.h"

/* ---- what the test commands saw, reset for each test */
static struct {
    unsigned answers, checks, works, finishes, frees;
    char *text;                    /* the last answer's text (NUL-terminated copy) */
    size_t len;
    const struct admin_env *env;   /* as the steps got it */
    store_t *st;
    char carried_tag[16];          /* what finish found carried */
    struct admin_job *deferred;    /* a finish that answers later */
    json_t *deferred_reply;
} seen;
static struct admin_env env;
static char store_token; /* the store the work steps get: never touched */
#define ST ((store_t *)&store_token)

static void setup(void)
{
    free(seen.text);
    memset(&seen, 0, sizeof(seen));
    memset(&env, 0, sizeof(env));
}

static void teardown(void)
{
    free(seen.text);
    seen.text = NULL;
}

static void answer(void *ctx, const char *text, size_t len)
{
    ck_assert_ptr_eq(ctx, &seen);
    seen.answers++;
    free(seen.text);
    seen.text = xmalloc(len + 1);
    memcpy(seen.text, text, len);
    seen.text[len] = '\0';
    seen.len = len;
}

/* The carried object: a tag, freed by carried_free (counted). */
struct carried {
    char tag[16];
};

static void carried_free(void *obj)
{
    seen.frees++;
    free(obj);
}

static json_t *ok_reply(void)
{
    return json_pack("{s:b}", "ok", 1);
}

static json_t *echo_work(const struct admin_env *e, struct admin_job *job, store_t *st,
                         json_t *req)
{
    seen.works++;
    seen.env = e;
    seen.st = st;
    return json_pack("{s:b,s:O?}", "ok", 1, "arg", json_object_get(req, "arg"));
}

static json_t *guarded_check(const struct admin_env *e, json_t *req)
{
    seen.checks++;
    seen.env = e;
    if (json_is_true(json_object_get(req, "refuse")))
        return admin_error("conflict", "refused");
    return NULL;
}

/* Carries a tag; answers an error when the request says "fail". */
static json_t *carry_work(const struct admin_env *e, struct admin_job *job, store_t *st,
                          json_t *req)
{
    struct carried *c = xcalloc(1, sizeof(*c));

    seen.works++;
    snprintf(c->tag, sizeof(c->tag), "%s", "from-work");
    admin_job_carry(job, c, carried_free);
    if (json_is_true(json_object_get(req, "fail")))
        return admin_error("not_found", "no such thing");
    return ok_reply();
}

static bool carry_finish(const struct admin_env *e, struct admin_job *job, json_t *req,
                         json_t *reply)
{
    const struct carried *c = admin_job_carried(job);

    seen.finishes++;
    seen.env = e;
    ck_assert_uint_eq(seen.frees, 0); /* still the job's */
    if (c)
        snprintf(seen.carried_tag, sizeof(seen.carried_tag), "%s", c->tag);
    json_object_set_new(reply, "finished", json_true());
    return false;
}

static bool defer_finish(const struct admin_env *e, struct admin_job *job, json_t *req,
                         json_t *reply)
{
    seen.finishes++;
    seen.deferred = job;
    seen.deferred_reply = reply; /* ours now */
    return true;
}

static const struct admin_command table_a[] = {
    { "echo", NULL, echo_work, NULL },
    { "guarded", guarded_check, echo_work, NULL },
    { "carry", NULL, carry_work, carry_finish },
    { "carry.nofinish", NULL, carry_work, NULL },
    { "defer", NULL, carry_work, defer_finish },
    { NULL, NULL, NULL, NULL },
};
static const struct admin_command table_b[] = {
    { "second", guarded_check, echo_work, carry_finish },
    { NULL, NULL, NULL, NULL },
};
static const struct admin_command *const tables[] = { table_a, table_b, NULL };

/* One request through the three steps; the answer parsed (the caller
 * decrefs it), or NULL when none came yet. */
static json_t *run_len(const char *line, size_t len)
{
    struct admin_job *job = admin_job_new(tables, &env, line, len, answer, &seen);
    unsigned before = seen.answers;
    json_t *a;

    ck_assert_ptr_nonnull(job);
    admin_job_work(ST, job);
    ck_assert_uint_eq(seen.answers, before); /* nothing before done */
    admin_job_done(job);
    if (seen.answers == before)
        return NULL;
    ck_assert_uint_eq(seen.answers, before + 1);
    ck_assert_ptr_null(memchr(seen.text, '\n', seen.len)); /* one line, no newline */
    a = json_loadb(seen.text, seen.len, JSON_REJECT_DUPLICATES, NULL);
    ck_assert_msg(json_is_object(a), "not a JSON object: %s", seen.text);
    ck_assert(json_is_boolean(json_object_get(a, "ok")));
    return a;
}

static json_t *run(const char *line)
{
    return run_len(line, strlen(line));
}

static const char *str(json_t *a, const char *k)
{
    return json_string_value(json_object_get(a, k));
}

START_TEST(test_answer_text)
{
    json_t *a = run("{\"cmd\":\"echo\",\"arg\":\"h\\u00e9\"}");

    ck_assert(json_is_true(json_object_get(a, "ok")));
    ck_assert_str_eq(str(a, "arg"), "h\xc3\xa9");
    ck_assert_str_eq(seen.text, "{\"ok\":true,\"arg\":\"h\xc3\xa9\"}"); /* compact */
    ck_assert_uint_eq(seen.works, 1);
    ck_assert_ptr_eq(seen.env, &env);
    ck_assert_ptr_eq(seen.st, ST);
    json_decref(a);
    a = run("{\"cmd\":\"second\"}"); /* the second table */
    ck_assert(json_is_true(json_object_get(a, "ok")));
    ck_assert(json_is_true(json_object_get(a, "finished")));
    json_decref(a);
}
END_TEST

/* Only the len bytes given are the line. */
START_TEST(test_line_length)
{
    static const char line[] = "{\"cmd\":\"echo\",\"arg\":1}garbage";
    json_t *a = run_len(line, strlen(line) - strlen("garbage"));

    ck_assert(json_is_true(json_object_get(a, "ok")));
    ck_assert_int_eq(json_integer_value(json_object_get(a, "arg")), 1);
    json_decref(a);
    a = run(line);
    ck_assert(json_is_false(json_object_get(a, "ok")));
    json_decref(a);
}
END_TEST

/* ---- lines answered bad_request without a step run: one row per case */
static const struct {
    const char *line, *error; /* error: a part of the answer's text */
} bad_lines[] = {
    { "", "JSON object with \"cmd\"" },
    { "not json", "JSON object with \"cmd\"" },
    { "[\"echo\"]", "JSON object with \"cmd\"" },
    { "{\"cmd\":5}", "JSON object with \"cmd\"" },
    { "{\"arg\":\"echo\"}", "JSON object with \"cmd\"" },
    { "{\"cmd\":\"echo\"", "JSON object with \"cmd\"" },
    { "{\"cmd\":\"echo\"}{}", "JSON object with \"cmd\"" },
    { "{\"cmd\":\"nope\"}", "unknown command \"nope\"" },
    { "{\"cmd\":\"\"}", "unknown command \"\"" },
    { "{\"cmd\":\"ECHO\"}", "unknown command \"ECHO\"" },
    { "{\"cmd\":\"a\\nb\\u001b[2J\"}", "unknown command \"a?b?[2J\"" },
};

START_TEST(test_bad_line)
{
    json_t *a = run(bad_lines[_i].line);

    ck_assert(json_is_false(json_object_get(a, "ok")));
    ck_assert_str_eq(str(a, "code"), "bad_request");
    ck_assert_msg(strstr(str(a, "error"), bad_lines[_i].error) != NULL, "%s", str(a, "error"));
    ck_assert_uint_eq(seen.checks + seen.works + seen.finishes, 0);
    json_decref(a);
}
END_TEST

/* A check that answers: no work, no finish; one that does not: on. */
START_TEST(test_check_stops)
{
    json_t *a = run("{\"cmd\":\"guarded\",\"refuse\":true}");

    ck_assert(json_is_false(json_object_get(a, "ok")));
    ck_assert_str_eq(str(a, "code"), "conflict");
    ck_assert_str_eq(str(a, "error"), "refused");
    ck_assert_uint_eq(seen.checks, 1);
    ck_assert_uint_eq(seen.works, 0);
    json_decref(a);
    a = run("{\"cmd\":\"second\",\"refuse\":true}");
    ck_assert_str_eq(str(a, "code"), "conflict");
    ck_assert_uint_eq(seen.works + seen.finishes, 0);
    json_decref(a);
    a = run("{\"cmd\":\"guarded\",\"arg\":2}");
    ck_assert(json_is_true(json_object_get(a, "ok")));
    ck_assert_uint_eq(seen.checks, 3);
    ck_assert_uint_eq(seen.works, 1);
    ck_assert_ptr_eq(seen.env, &env);
    json_decref(a);
}
END_TEST

/* What work carries reaches finish, and is freed once the job is done. */
START_TEST(test_carry_to_finish)
{
    json_t *a = run("{\"cmd\":\"carry\"}");

    ck_assert(json_is_true(json_object_get(a, "finished")));
    ck_assert_uint_eq(seen.finishes, 1);
    ck_assert_str_eq(seen.carried_tag, "from-work");
    ck_assert_uint_eq(seen.frees, 1);
    json_decref(a);
}
END_TEST

/* ---- jobs that end without finish: the carried object freed all the same */
static const struct {
    const char *line;
    bool ok;
} no_finish[] = {
    { "{\"cmd\":\"carry\",\"fail\":true}", false },        /* finish only after "ok" */
    { "{\"cmd\":\"carry.nofinish\"}", true },              /* no finish step */
    { "{\"cmd\":\"carry.nofinish\",\"fail\":true}", false },
};

START_TEST(test_carry_freed_without_finish)
{
    json_t *a = run(no_finish[_i].line);

    ck_assert(json_is_boolean(json_object_get(a, "ok")));
    ck_assert_int_eq(json_is_true(json_object_get(a, "ok")), no_finish[_i].ok);
    ck_assert_uint_eq(seen.works, 1);
    ck_assert_uint_eq(seen.finishes, 0);
    ck_assert_uint_eq(seen.frees, 1);
    json_decref(a);
}
END_TEST

/* A finish that returns true answers later, through admin_job_complete;
 * the job (and what it carries) lives until then. */
START_TEST(test_deferred_finish)
{
    json_t *a = run("{\"cmd\":\"defer\"}");

    ck_assert_ptr_null(a);
    ck_assert_uint_eq(seen.answers, 0);
    ck_assert_uint_eq(seen.finishes, 1);
    ck_assert_uint_eq(seen.frees, 0);
    ck_assert_ptr_nonnull(seen.deferred);
    json_object_set_new(seen.deferred_reply, "late", json_true());
    admin_job_complete(seen.deferred, seen.deferred_reply);
    ck_assert_uint_eq(seen.answers, 1);
    ck_assert_uint_eq(seen.frees, 1);
    ck_assert_str_eq(seen.text, "{\"ok\":true,\"late\":true}");
}
END_TEST

/* A deferred finish may answer with another reply (the first one dropped). */
START_TEST(test_deferred_other_reply)
{
    ck_assert_ptr_null(run("{\"cmd\":\"defer\"}"));
    json_decref(seen.deferred_reply);
    admin_job_complete(seen.deferred, admin_error("internal", "engine gone"));
    ck_assert_uint_eq(seen.answers, 1);
    ck_assert_str_eq(seen.text, "{\"ok\":false,\"code\":\"internal\",\"error\":\"engine gone\"}");
}
END_TEST

/* A job whose answer is given: it goes out at done, no step run. */
START_TEST(test_job_reply)
{
    struct admin_job *job = admin_job_reply(admin_error("busy", "too many"), answer, &seen);

    admin_job_work(ST, job);
    ck_assert_uint_eq(seen.answers, 0);
    admin_job_done(job);
    ck_assert_uint_eq(seen.answers, 1);
    ck_assert_str_eq(seen.text, "{\"ok\":false,\"code\":\"busy\",\"error\":\"too many\"}");
}
END_TEST

/* ---- admin_error: what is quoted -> the error text */
static const struct {
    const char *quoted, *text;
} error_cases[] = {
    { "plain", "say plain!" },
    { "a\nb\r", "say a?b?!" },
    { "\x1b[2J\x07", "say ?[2J?!" },
    { "del\x7f", "say del?!" },
    { "\xff\xfe", "say ?" "?!" },
    { "cut\xc3", "say cut?!" },                   /* a truncated sequence */
    { "\xc0\xaf", "say ?" "?!" },                     /* overlong '/' */
    { "nel\xc2\x85", "say nel?!" },                /* U+0085 */
    { "ls\xe2\x80\xa8", "say ls?!" },              /* U+2028 */
    { "rlo\xe2\x80\xae", "say rlo?!" },            /* U+202E */
    { "caf\xc3\xa9 \xe2\x82\xac", "say caf\xc3\xa9 \xe2\x82\xac!" }, /* valid UTF-8 kept */
};

START_TEST(test_error_printable)
{
    json_t *e = admin_error("bad_request", "say %s!", error_cases[_i].quoted);

    ck_assert(json_is_false(json_object_get(e, "ok")));
    ck_assert_str_eq(str(e, "code"), "bad_request");
    ck_assert_str_eq(str(e, "error"), error_cases[_i].text);
    ck_assert_uint_eq(json_object_size(e), 3);
    json_decref(e);
}
END_TEST

/* The format itself is made printable too (the text as a whole). */
START_TEST(test_error_whole_text)
{
    json_t *e = admin_error("internal", "line\none %d\t", 1);

    ck_assert_str_eq(str(e, "error"), "line?one 1?");
    json_decref(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admin_cmd");
    TCase *tc = tcase_create("jobs"), *te = tcase_create("admin_error");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_answer_text);
    tcase_add_test(tc, test_line_length);
    tcase_add_loop_test(tc, test_bad_line, 0, sizeof(bad_lines) / sizeof(bad_lines[0]));
    tcase_add_test(tc, test_check_stops);
    tcase_add_test(tc, test_carry_to_finish);
    tcase_add_loop_test(tc, test_carry_freed_without_finish, 0,
                        sizeof(no_finish) / sizeof(no_finish[0]));
    tcase_add_test(tc, test_deferred_finish);
    tcase_add_test(tc, test_deferred_other_reply);
    tcase_add_test(tc, test_job_reply);
    suite_add_tcase(s, tc);
    tcase_add_loop_test(te, test_error_printable, 0, sizeof(error_cases) / sizeof(error_cases[0]));
    tcase_add_test(te, test_error_whole_text);
    suite_add_tcase(s, te);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
