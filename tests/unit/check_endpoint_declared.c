/* SPDX-License-Identifier: MIT */
/*
 * check_endpoint_declared.c - unit tests of endpoint_declared_json
 * (endpoint_declared.h): mailhook.conf endpoint sections, loaded by
 * conf_load, against the endpoint JSON they stand for. Table-driven: one
 * row per case, the section's body and the expected JSON or error.
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

#define URL "url = \"https://hooks.example.com/in\"\n"
/* What every section gives with only url set: the options without a
 * "not given" value (CONF_YES), at their defaults. */
#define ALWAYS "'name':'a','url':'https://hooks.example.com/in','filters':[]," \
               "'scheme':'standard','signature_prefix':'','headers':{},'batch_max':0," \
               "'batch_wait_ms':1000,'timeout_ms':5000,'concurrency':8,'allow_http':false," \
               "'source':'config'"

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

int main(void)
{
    Suite *s = suite_create("endpoint_declared");
    TCase *tc = tcase_create("declared");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_declared, 0,
                        (int)(sizeof(declared_cases) / sizeof(declared_cases[0])));
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
