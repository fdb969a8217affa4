/* SPDX-License-Identifier: MIT */
/*
 * check_endpoint_declared.c - unit tests of endpoint_declared_json
 * (endpoint_declared.h): mailhook.conf endpoint sections, loaded by
 * conf_load, against the endpoint JSON they stand for. Table-driven: one
 * row per case, the section's body and the expected JSON or error; and
 * transform_file, the program read from a file beside the config.
 *
 * JSON in the table is written with ' for " (see load()).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "endpoint.h"
#include "endpoint_declared.h"
#include "testdir.h"
#include "xalloc.h"

#define URL "url = \"https://hooks.example.com/in\"\n"
/* What every section gives with only url set: the options without a
 * "not given" value (CONF_YES), at their defaults. */
#define ALWAYS "'name':'a','url':'https://hooks.example.com/in','format':'standard'," \
               "'transform':'','where':'','filters':[],'headers':{},'batch_max':0," \
               "'batch_wait_ms':1000,'concurrency':8,'allow_http':false,'source':'config'"

static const struct declared_case {
    const char *body; /* of endpoint "a" { } */
    const char *want; /* JSON, or NULL when err_want */
    const char *err_want;
} declared_cases[] = {
    { URL, "{" ALWAYS "}", NULL },
    /* the values that stand for "not given" are left out */
    { URL "signature_header = \"\"\nsecret = \"\"\nevent_header = \"-\"\n"
          "delivery_header = \"-\"\nconnect_timeout_ms = 0\n",
      "{" ALWAYS "}", NULL },
    /* ... and those a format may default: left out, the format decides */
    { URL "scheme = \"\"\nsignature_prefix = \"-\"\nbasic_auth = \"\"\n"
          "user_agent = \"-\"\ndelivery_id = \"\"\ntimeout_ms = 0\nfailing_after = 0\n"
          "disable_after_failures = -2\ndisable_after = -2\n",
      "{" ALWAYS "}", NULL },
    { URL "types = {\"email.*\", \"app.signup\"}\n",
      "{" ALWAYS ",'types':['email.*','app.signup']}", NULL },
    { URL "filters = {\"tag=vip\", \"tenant=t1\"}\n",
      "{" ALWAYS ",'filters':['tag=vip','tenant=t1']}", NULL },
    { URL "scheme = \"hmac-sha256-hex\"\nsignature_header = \"X-Sig\"\n"
          "signature_prefix = \"sha256=\"\nsecret = \"0123456789abcdef\"\n",
      "{" ALWAYS ",'scheme':'hmac-sha256-hex','signature_header':'X-Sig',"
      "'signature_prefix':'sha256=','secret':'0123456789abcdef'}", NULL },
    { URL "headers = {\"Authorization:  Bearer x\", \"X-B:v\"}\n",
      "{" ALWAYS ",'headers':{'Authorization':'Bearer x','X-B':'v'}}", NULL },
    /* "" sends no header at all: not the default */
    { URL "event_header = \"\"\ndelivery_header = \"X-Id\"\n",
      "{" ALWAYS ",'event_header':'','delivery_header':'X-Id'}", NULL },
    { URL "batch_max = 50\nbatch_wait_ms = 300\ntimeout_ms = 2000\n"
          "connect_timeout_ms = 500\nconcurrency = 2\nallow_http = true\n",
      "{" ALWAYS ",'batch_max':50,'batch_wait_ms':300,'timeout_ms':2000,"
      "'connect_timeout_ms':500,'concurrency':2,'allow_http':true}", NULL },
    { URL "retry = {\"5s\", \"2m\", \"1h\"}\n", "{" ALWAYS ",'retry':[5,120,3600]}", NULL },
    /* the payload keys: a format, jq programs over several lines */
    { URL "format = \"penguinmails\"\ntransform = \"{id,\\n type}\"\n"
          "where = \".data.tenant ==\\n\\t\\\"acme\\\"\"\n",
      "{" ALWAYS ",'format':'penguinmails','transform':'{id,\\n type}',"
      "'where':'.data.tenant ==\\n\\t\\'acme\\''}", NULL },
    { URL "basic_auth = \"hook:pa55:word\"\nuser_agent = \"CRM-Hooks/2\"\n"
          "delivery_id = \"uuid\"\n",
      "{" ALWAYS ",'basic_auth':'hook:pa55:word','user_agent':'CRM-Hooks/2',"
      "'delivery_id':'uuid'}", NULL },
    /* "" is a User-Agent of its own ("-" is not given): mailhook/VERSION */
    { URL "user_agent = \"\"\n", "{" ALWAYS ",'user_agent':''}", NULL },
    { URL "failing_after = 5\ndisable_after_failures = 100\ndisable_after = 48\n",
      "{" ALWAYS ",'failing_after':5,'disable_after_failures':100,'disable_after':48}", NULL },
    /* -1: the global option, said explicitly */
    { URL "disable_after_failures = -1\ndisable_after = -1\n",
      "{" ALWAYS ",'disable_after_failures':-1,'disable_after':-1}", NULL },
    /* the form of headers and retry delays is checked here */
    { URL "headers = {\"NoColon\"}\n", NULL,
      "endpoint a: headers: \"NoColon\" is not \"Name: value\"" },
    { URL "headers = {\": v\"}\n", NULL, "endpoint a: headers: \": v\" is not \"Name: value\"" },
    { URL "retry = {\"5s\", \"1500ms\"}\n", NULL,
      "endpoint a: retry: \"1500ms\" is not a duration in whole seconds (5s, 30m, 2h)" },
    { URL "retry = {\"soon\"}\n", NULL,
      "endpoint a: retry: \"soon\" is not a duration in whole seconds (5s, 30m, 2h)" },
};

/* Parse the test notation: ' stands for ". */
static json_t *load(const char *text)
{
    char *s = strdup(text);
    json_t *v;

    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    v = json_loads(s, 0, NULL);
    free(s);
    ck_assert_msg(v != NULL, "test JSON does not parse: %s", text);
    return v;
}

/* The config of one section "endpoint "a" { body }", from a file. */
static mh_conf_t *conf_of(const char *body)
{
    char *dir = testdir_new("endpoint_declared"), path[4096];
    mh_err_t err = { "" };
    mh_conf_t *c;
    FILE *fp;

    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/x.conf", dir), (int)sizeof(path));
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "endpoint \"a\" {\n%s}\n", body);
    ck_assert_int_eq(fclose(fp), 0);
    c = conf_load(path, &err);
    ck_assert_msg(c != NULL, "%s: %s", body, err.text);
    ck_assert_uint_eq(c->n_endpoints, 1);
    testdir_free(dir);
    return c;
}

START_TEST(test_declared)
{
    const struct declared_case *tc = &declared_cases[_i];
    mh_conf_t *c = conf_of(tc->body);
    mh_err_t err = { "" };
    json_t *got = endpoint_declared_json(&c->endpoints[0], &err), *want;
    char *shown;
    endpoint_t *ep;

    if (tc->want == NULL) {
        ck_assert_msg(got == NULL, "%s: accepted", tc->body);
        ck_assert_str_eq(err.text, tc->err_want);
    } else {
        ck_assert_msg(got != NULL, "%s: %s", tc->body, err.text);
        want = load(tc->want);
        shown = json_dumps(got, JSON_SORT_KEYS);
        ck_assert_msg(json_equal(got, want), "%s: got %s", tc->body, shown);
        free(shown);
        ep = endpoint_from_json(got, &err); /* what the daemon does next */
        ck_assert_msg(ep != NULL, "%s: the model refuses it: %s", tc->body, err.text);
        ck_assert(ep->from_config);
        endpoint_free(ep);
        json_decref(want);
    }
    json_decref(got);
    conf_unref(c);
}
END_TEST

/* transform_file: the program read from a file, kept as it is (newlines
 * and all); a file that cannot be read, or both keys, is an error naming
 * the endpoint and the key. */
static const struct file_case {
    const char *file;    /* the transform_file value, DIR/ for the test's directory */
    const char *extra;   /* more of the section */
    const char *err_want; /* NULL: transform is the program */
} file_cases[] = {
    { "DIR/prog.jq", "", NULL },
    { "DIR/none.jq", "", "endpoint a: transform_file: DIR/none.jq: No such file or directory" },
    { "DIR", "", "endpoint a: transform_file: DIR: not a regular file" },
    { "DIR/big.jq", "", "endpoint a: transform_file: DIR/big.jq: larger than allowed" },
    { "DIR/prog.jq", "transform = \".\"\n",
      "endpoint a: transform_file: give transform or transform_file, not both" },
};
#define FILE_PROGRAM "# a program\n{email: .data.recipient,\n\tevent: .type}\n"

/* s with every "DIR" replaced by dir, malloc'ed. */
static char *with_dir(const char *s, const char *dir)
{
    char *out = xmalloc(strlen(s) * (strlen(dir) + 1) + 1), *o = out;

    for (; *s; s++) {
        if (strncmp(s, "DIR", 3) == 0) {
            o = stpcpy(o, dir);
            s += 2;
        } else
            *o++ = *s;
    }
    *o = 0;
    return out;
}

START_TEST(test_transform_file)
{
    const struct file_case *tc = &file_cases[_i];
    char *dir = testdir_new("endpoint_declared_file"), *path, *body, *want_err;
    mh_err_t err = { "" };
    json_t *got;
    mh_conf_t *c;
    FILE *fp;

    path = xasprintf("%s/prog.jq", dir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(FILE_PROGRAM, fp);
    ck_assert_int_eq(fclose(fp), 0);
    free(path);
    path = xasprintf("%s/big.jq", dir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    for (int i = 0; i <= EP_PROGRAM_MAX; i++)
        fputc(' ', fp);
    ck_assert_int_eq(fclose(fp), 0);
    free(path);
    path = with_dir(tc->file, dir);
    body = xasprintf(URL "transform_file = \"%s\"\n%s", path, tc->extra);
    c = conf_of(body);
    got = endpoint_declared_json(&c->endpoints[0], &err);
    if (tc->err_want == NULL) {
        ck_assert_msg(got != NULL, "%s: %s", body, err.text);
        ck_assert_str_eq(json_string_value(json_object_get(got, "transform")), FILE_PROGRAM);
        endpoint_free(endpoint_from_json(got, &err));
    } else {
        want_err = with_dir(tc->err_want, dir);
        ck_assert_msg(got == NULL, "%s: accepted", body);
        ck_assert_str_eq(err.text, want_err);
        free(want_err);
    }
    json_decref(got);
    conf_unref(c);
    free(body);
    free(path);
    testdir_free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("endpoint_declared");
    TCase *tc = tcase_create("declared");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_declared, 0,
                        (int)(sizeof(declared_cases) / sizeof(declared_cases[0])));
    tcase_add_loop_test(tc, test_transform_file, 0,
                        (int)(sizeof(file_cases) / sizeof(file_cases[0])));
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
