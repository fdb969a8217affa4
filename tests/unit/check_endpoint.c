/* SPDX-License-Identifier: MIT */
/*
 * check_endpoint.c - unit tests of endpoints (endpoint.h): defaults, every
 * class of validation error, the JSON round trip, masking and redaction,
 * merging changes, and matching events by type and filters.
 * Table-driven: one row per case.
 *
 * JSON in the tables is written with ' for " (see load()), so that rows
 * stay readable; a literal ' is \u0027.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "xalloc.h"

#define BASE "'name':'crm','url':'https://hooks.example.com/in'"
#define B64SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* Parse the test notation: ' stands for ". */
static json_t *load(const char *text)
{
    char *s = strdup(text);
    json_t *v;

    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    v = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    free(s);
    ck_assert_msg(v != NULL, "test JSON does not parse: %s", text);
    return v;
}

static endpoint_t *parse(const char *text, mh_err_t *err)
{
    json_t *v = load(text);
    endpoint_t *ep = endpoint_from_json(v, err);

    json_decref(v);
    return ep;
}

static endpoint_t *parse_ok(const char *text)
{
    mh_err_t err = { "" };
    endpoint_t *ep = parse(text, &err);

    ck_assert_msg(ep != NULL, "%s: %s", text, err.text);
    return ep;
}

/* ---- defaults */

START_TEST(test_defaults)
{
    endpoint_t *ep = parse_ok("{" BASE "}"), *ep2 = parse_ok("{" BASE "}");
    static const int retry[] = { 5, 300, 1800, 7200, 18000, 36000, 36000 };

    ck_assert_str_eq(ep->name, "crm");
    ck_assert_str_eq(ep->url, "https://hooks.example.com/in");
    ck_assert_int_eq(ep->format, EP_FORMAT_STANDARD);
    ck_assert_str_eq(ep->transform, "");
    ck_assert_str_eq(ep->where, "");
    ck_assert_uint_eq(ep->ntypes, 1);
    ck_assert_str_eq(ep->types[0], "*");
    ck_assert_uint_eq(ep->nfilters, 0);
    ck_assert_int_eq(ep->scheme, EP_SCHEME_STANDARD);
    ck_assert_str_eq(ep->signature_header, "X-Mailhook-Signature");
    ck_assert_str_eq(ep->signature_prefix, "");
    ck_assert_uint_eq(strlen(ep->secret), 6 + 44);
    ck_assert_int_eq(strncmp(ep->secret, "whsec_", 6), 0);
    ck_assert_str_ne(ep->secret, ep2->secret); /* generated, random */
    ck_assert_ptr_null(ep->old_secret);
    ck_assert_int_eq(ep->old_secret_until, 0);
    ck_assert_ptr_null(ep->basic_auth);
    ck_assert_uint_eq(ep->nheaders, 0);
    ck_assert_str_eq(ep->user_agent, "");
    ck_assert_str_eq(ep->event_header, "X-Mailhook-Event");
    ck_assert_str_eq(ep->delivery_header, "X-Mailhook-Delivery");
    ck_assert_int_eq(ep->delivery_id, EP_ID_ULID);
    ck_assert_int_eq(ep->batch_max, 0);
    ck_assert_int_eq(ep->batch_wait_ms, 1000);
    ck_assert_int_eq(ep->timeout_ms, 5000);
    ck_assert_int_eq(ep->connect_timeout_ms, 3000);
    ck_assert_uint_eq(ep->nretry, 7);
    ck_assert_mem_eq(ep->retry, retry, sizeof(retry));
    ck_assert_int_eq(ep->concurrency, 8);
    ck_assert_int_eq(ep->failing_after, 3);
    ck_assert_int_eq(ep->disable_after_failures, -1);
    ck_assert_int_eq(ep->disable_after, -1);
    ck_assert(ep->enabled);
    ck_assert(!ep->allow_http);
    ck_assert(!ep->from_config);
    ck_assert_int_eq(ep->created, 0);
    ck_assert_int_eq(ep->updated, 0);
    ck_assert_int_eq(ep->state, EP_HEALTHY);
    ck_assert_int_eq(ep->consecutive_failures, 0);
    ck_assert_int_eq(ep->failing_since, 0);
    ck_assert_int_eq(ep->last_success, 0);
    ck_assert_int_eq(ep->last_failure, 0);
    ck_assert_str_eq(ep->disabled_reason, "");
    endpoint_free(ep);
    endpoint_free(ep2);
}
END_TEST

/* connect_timeout_ms defaults to min(timeout_ms, 3000). */
START_TEST(test_connect_default)
{
    endpoint_t *ep = parse_ok("{" BASE ",'timeout_ms':1000}");

    ck_assert_int_eq(ep->connect_timeout_ms, 1000);
    endpoint_free(ep);
    ep = parse_ok("{" BASE ",'timeout_ms':60000}");
    ck_assert_int_eq(ep->connect_timeout_ms, 3000);
    endpoint_free(ep);
}
END_TEST

/* ---- refused input: JSON -> the start of the error text, then a part of it */
static const struct {
    const char *json, *prefix, *part;
} bad_cases[] = {
    /* the object, name, unknown keys */
    { "[]", "endpoint: not a JSON object", "" },
    { "{'url':'https://a.example'}", "endpoint: name: required", "" },
    { "{'name':5,'url':'https://a.example'}", "endpoint: name: required", "" },
    { "{'name':'a b','url':'https://a.example'}", "endpoint: name \"a b\"", "1 to 64" },
    { "{'name':'','url':'https://a.example'}", "endpoint: name \"\"", "A-Z a-z 0-9 _ . -" },
    { "{'name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
      "'url':'https://a.example'}", "endpoint: name \"aaaa", "1 to 64" },
    { "{'name':'crm\\u0000x','url':'https://a.example'}", "endpoint crm: name: ", "NUL" },
    { "{'name':'crm'}", "endpoint crm: url: required", "" },
    { "{" BASE ",'colour':'red'}", "endpoint crm: colour: unknown key", "" },
    { "{" BASE ",'Name':'x'}", "endpoint crm: Name: unknown key", "" },
    { "{" BASE ",'health':{'mood':1}}", "endpoint crm: health: mood: unknown key", "" },
    /* url */
    { "{'name':'crm','url':5}", "endpoint crm: url: must be a string", "" },
    { "{'name':'crm','url':''}", "endpoint crm: url: must be a URL", "" },
    { "{'name':'crm','url':'https://exa mple.com/'}", "endpoint crm: url: not a valid URL", "" },
    { "{'name':'crm','url':'https://a.example/\\r\\nX: y'}", "endpoint crm: url: not a valid URL",
      "" },
    { "{'name':'crm','url':'ftp://a.example/'}", "endpoint crm: url: scheme must be https", "" },
    { "{'name':'crm','url':'file:///etc/passwd'}", "endpoint crm: url: ", "" },
    { "{'name':'crm','url':'http://a.example/'}",
      "endpoint crm: url: scheme must be https (set allow_http to permit http)", "" },
    { "{'name':'crm','url':'http://a.example/','allow_http':false}",
      "endpoint crm: url: scheme must be https (set allow_http to permit http)", "" },
    { "{'name':'crm','url':'https://:443/in'}", "endpoint crm: url: a host is required", "" },
    { "{'name':'crm','url':'https://u:hunter2@/in'}", "endpoint crm: url: a host is required", "" },
    { "{'name':'crm','url':'hooks.example.com/in'}", "endpoint crm: url: not a valid URL", "" },
    /* format and the jq programs */
    { "{" BASE ",'format':'sparkpost'}", "endpoint crm: format: must be one of standard, ",
      "listmonk" },
    { "{" BASE ",'format':5}", "endpoint crm: format: must be a string", "" },
    { "{" BASE ",'format':'penguinmails','batch_max':10}",
      "endpoint crm: batch_max: format penguinmails sends one event per request (0)", "" },
    { "{" BASE ",'format':'paubox','batch_max':1}", "endpoint crm: batch_max: format paubox", "" },
    { "{" BASE ",'transform':'{a:\\u0001}'}", "endpoint crm: transform: must not contain "
      "control characters but newlines and tabs", "" },
    { "{" BASE ",'where':'true\\u0000'}", "endpoint crm: where: ", "" },
    { "{" BASE ",'where':5}", "endpoint crm: where: must be a string", "" },
    /* basic_auth: "user:password", never the masked form */
    { "{" BASE ",'basic_auth':'hook'}", "endpoint crm: basic_auth: must be \"user:password\"",
      "" },
    { "{" BASE ",'basic_auth':':hunter2'}", "endpoint crm: basic_auth: must be \"user:password\"",
      "" },
    { "{" BASE ",'basic_auth':''}", "endpoint crm: basic_auth: must be \"user:password\"", "" },
    { "{" BASE ",'basic_auth':'hook:hunter2\\r\\nX: y'}", "endpoint crm: basic_auth: ",
      "control" },
    { "{" BASE ",'basic_auth':'hook:***'}", "endpoint crm: basic_auth: the password is masked",
      "" },
    { "{" BASE ",'basic_auth':5}", "endpoint crm: basic_auth: must be a string", "" },
    /* user_agent, delivery_id, the failure thresholds */
    { "{" BASE ",'user_agent':'X/1\\r\\nX-Evil: 1'}", "endpoint crm: user_agent: ", "control" },
    { "{" BASE ",'delivery_id':'guid'}", "endpoint crm: delivery_id: must be \"ulid\" or \"uuid\"",
      "" },
    { "{" BASE ",'delivery_id':'UUID'}", "endpoint crm: delivery_id: must be \"ulid\"", "" },
    { "{" BASE ",'failing_after':0}", "endpoint crm: failing_after: must be an integer from 1 to "
      "100000", "" },
    { "{" BASE ",'disable_after_failures':-2}", "endpoint crm: disable_after_failures: must be an "
      "integer from -1", "" },
    { "{" BASE ",'disable_after':100001}", "endpoint crm: disable_after: must be an integer from "
      "-1 to 100000", "" },
    /* types */
    { "{" BASE ",'types':[]}", "endpoint crm: types: must be an array of 1 to 64", "" },
    { "{" BASE ",'types':'*'}", "endpoint crm: types: must be an array", "" },
    { "{" BASE ",'types':[5]}", "endpoint crm: types: must be a string", "" },
    { "{" BASE ",'types':['email']}", "endpoint crm: types: event type \"email\"", "namespace" },
    { "{" BASE ",'types':['Email.sent']}", "endpoint crm: types: event type", "a-z" },
    { "{" BASE ",'types':['email.nope']}", "endpoint crm: types: ", "reserved" },
    { "{" BASE ",'types':['Email.*']}", "endpoint crm: types: \"Email.*\": a wildcard", "" },
    { "{" BASE ",'types':['.*']}", "endpoint crm: types: \".*\": a wildcard", "" },
    { "{" BASE ",'types':['a..*']}", "endpoint crm: types: \"a..*\": a wildcard", "" },
    { "{" BASE ",'types':['*.*']}", "endpoint crm: types: \"*.*\": a wildcard", "" },
    { "{" BASE ",'types':['email*']}", "endpoint crm: types: event type", "" },
    /* filters */
    { "{" BASE ",'filters':'tag=vip'}", "endpoint crm: filters: must be an array", "" },
    { "{" BASE ",'filters':[1]}", "endpoint crm: filters: must be a string", "" },
    { "{" BASE ",'filters':['tag']}", "endpoint crm: filters: \"tag\": not KEY=VALUE", "" },
    { "{" BASE ",'filters':['tag=']}", "endpoint crm: filters: \"tag=\": the value is empty", "" },
    { "{" BASE ",'filters':['=vip']}", "endpoint crm: filters: \"=vip\": KEY must be", "" },
    { "{" BASE ",'filters':['colour=red']}", "endpoint crm: filters: \"colour=red\": KEY must be",
      "metadata.NAME" },
    { "{" BASE ",'filters':['metadata.=x']}", "endpoint crm: filters: \"metadata.=x\": KEY", "" },
    { "{" BASE ",'filters':['metadata=x']}", "endpoint crm: filters: \"metadata=x\": KEY", "" },
    { "{" BASE ",'filters':['Tag=vip']}", "endpoint crm: filters: \"Tag=vip\": KEY", "" },
    { "{" BASE ",'filters':['sender_domain=a@example.com']}", "endpoint crm: filters: ",
      "without \"@\"" },
    { "{" BASE ",'filters':['tag=a\\nb']}", "endpoint crm: filters: \"tag=a?b\"", "control" },
    /* scheme and signature headers */
    { "{" BASE ",'scheme':'md5'}", "endpoint crm: scheme: must be one of", "" },
    { "{" BASE ",'scheme':'hmac-sha256-hex','secret':'s3cr3t-value','signature_header':''}",
      "endpoint crm: signature_header: \"\": a header name is 1 to 64", "" },
    { "{" BASE ",'signature_header':'X Sig'}",
      "endpoint crm: signature_header: \"X Sig\": not a header name", "" },
    { "{" BASE ",'signature_header':'webhook-signature'}",
      "endpoint crm: signature_header: \"webhook-signature\": mailhook sets this header itself",
      "" },
    { "{" BASE ",'signature_prefix':'sha256=\\r\\n'}", "endpoint crm: signature_prefix: ",
      "control" },
    { "{" BASE ",'signature_prefix':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}",
      "endpoint crm: signature_prefix: must be 0 to 32", "" },
    { "{" BASE ",'event_header':'Content-Type'}",
      "endpoint crm: event_header: \"Content-Type\": mailhook sets this header itself", "" },
    { "{" BASE ",'delivery_header':'WEBHOOK-ID'}",
      "endpoint crm: delivery_header: \"WEBHOOK-ID\": mailhook sets", "" },
    { "{" BASE ",'event_header':'X-Ev:'}", "endpoint crm: event_header: ", "not a header name" },
    { "{" BASE ",'event_header':'X-Same','delivery_header':'x-same'}",
      "endpoint crm: delivery_header: header \"x-same\" is also set by event_header", "" },
    /* headers */
    { "{" BASE ",'headers':['X-A: b']}", "endpoint crm: headers: must be an object", "" },
    { "{" BASE ",'headers':{'Host':'evil.example'}}",
      "endpoint crm: headers: \"Host\": mailhook sets this header itself", "" },
    { "{" BASE ",'headers':{'content-length':'0'}}",
      "endpoint crm: headers: \"content-length\": mailhook sets", "" },
    { "{" BASE ",'headers':{'TRANSFER-encoding':'chunked'}}", "endpoint crm: headers: ",
      "mailhook sets" },
    { "{" BASE ",'headers':{'user-agent':'x'}}", "endpoint crm: headers: ", "mailhook sets" },
    { "{" BASE ",'headers':{'Connection':'close'}}", "endpoint crm: headers: ", "mailhook sets" },
    { "{" BASE ",'headers':{'Webhook-Timestamp':'1'}}", "endpoint crm: headers: ",
      "mailhook sets" },
    { "{" BASE ",'headers':{'X-A':'a\\r\\nX-Evil: 1'}}",
      "endpoint crm: headers: X-A: the value must not contain CR, LF, NUL", "" },
    { "{" BASE ",'headers':{'X-A':'a\\nb'}}", "endpoint crm: headers: X-A: the value", "LF" },
    { "{" BASE ",'headers':{'X-A':'a\\rb'}}", "endpoint crm: headers: X-A: the value", "CR" },
    { "{" BASE ",'headers':{'X-A':'a\\u0000b'}}", "endpoint crm: headers: X-A: the value", "NUL" },
    { "{" BASE ",'headers':{'X-A':''}}", "endpoint crm: headers: X-A: the value must be 1", "" },
    { "{" BASE ",'headers':{'X-A':5}}", "endpoint crm: headers: X-A: the value must be a string",
      "" },
    { "{" BASE ",'headers':{'X A':'v'}}", "endpoint crm: headers: \"X A\": not a header name", "" },
    { "{" BASE ",'headers':{'X-A:':'v'}}", "endpoint crm: headers: ", "not a header name" },
    { "{" BASE ",'headers':{'':'v'}}", "endpoint crm: headers: \"\": a header name", "" },
    { "{" BASE ",'headers':{'X-A':'1','x-a':'2'}}",
      "endpoint crm: headers: header \"x-a\" is also set by headers", "" },
    { "{" BASE ",'headers':{'X-Mailhook-Event':'1'}}",
      "endpoint crm: headers: header \"X-Mailhook-Event\" is also set by event_header", "" },
    { "{" BASE ",'scheme':'sha256-secret-body','secret':'s3cr3t-value',"
      "'headers':{'X-Mailhook-Signature':'1'}}",
      "endpoint crm: headers: header \"X-Mailhook-Signature\" is also set by signature_header",
      "" },
    { "{" BASE ",'headers':{'Authorization':'***'}}", "endpoint crm: headers: Authorization: ",
      "masked" },
    /* secrets */
    { "{" BASE ",'secret':'short'}", "endpoint crm: secret: must be 8 to 255 characters", "" },
    { "{" BASE ",'secret':5}", "endpoint crm: secret: must be a string", "" },
    { "{" BASE ",'scheme':'hmac-sha256-hex','secret':'has space in it'}",
      "endpoint crm: secret: must be printable ASCII without spaces", "" },
    { "{" BASE ",'scheme':'hmac-sha256-hex','secret':'tab\\there1'}", "endpoint crm: secret: ",
      "printable" },
    { "{" BASE ",'scheme':'hmac-sha256-hex','secret':'gr\\u00fc\\u00dfe-secret'}",
      "endpoint crm: secret: ", "ASCII" },
    { "{" BASE ",'secret':'whsec_...abcd'}", "endpoint crm: secret: is masked", "" },
    { "{" BASE ",'secret':'not-base64!'}", "endpoint crm: secret: for the standard scheme: ",
      "base64" },
    { "{" BASE ",'old_secret':'short'}", "endpoint crm: old_secret: must be 8 to 255", "" },
    { "{" BASE ",'old_secret':'whsec_...wxyz'}", "endpoint crm: old_secret: is masked", "" },
    { "{" BASE ",'old_secret':'not-base64!'}", "endpoint crm: old_secret: for the standard scheme: ", "" },
    { "{" BASE ",'old_secret_until':-1}", "endpoint crm: old_secret_until: must be", "" },
    /* numbers */
    { "{" BASE ",'batch_max':-1}", "endpoint crm: batch_max: must be an integer from 0 to 10000",
      "" },
    { "{" BASE ",'batch_max':10001}", "endpoint crm: batch_max: must be an integer from 0 to 10000",
      "" },
    { "{" BASE ",'batch_max':'5'}", "endpoint crm: batch_max: must be an integer", "" },
    { "{" BASE ",'batch_wait_ms':600001}", "endpoint crm: batch_wait_ms: must be an integer from 0 "
      "to 600000", "" },
    { "{" BASE ",'timeout_ms':99}", "endpoint crm: timeout_ms: must be an integer from 100 to "
      "300000", "" },
    { "{" BASE ",'timeout_ms':300001}", "endpoint crm: timeout_ms: ", "" },
    { "{" BASE ",'timeout_ms':1000.0}", "endpoint crm: timeout_ms: must be an integer", "" },
    { "{" BASE ",'connect_timeout_ms':99}", "endpoint crm: connect_timeout_ms: must be an integer "
      "from 100", "" },
    { "{" BASE ",'connect_timeout_ms':5001}",
      "endpoint crm: connect_timeout_ms: must not exceed timeout_ms (5000)", "" },
    { "{" BASE ",'timeout_ms':1000,'connect_timeout_ms':2000}",
      "endpoint crm: connect_timeout_ms: must not exceed timeout_ms (1000)", "" },
    { "{" BASE ",'concurrency':0}", "endpoint crm: concurrency: must be an integer from 1 to 256",
      "" },
    { "{" BASE ",'concurrency':257}", "endpoint crm: concurrency: ", "" },
    { "{" BASE ",'concurrency':true}", "endpoint crm: concurrency: must be an integer", "" },
    { "{" BASE ",'created':-5}", "endpoint crm: created: must be milliseconds", "" },
    { "{" BASE ",'updated':1.5}", "endpoint crm: updated: must be milliseconds", "" },
    /* retry */
    { "{" BASE ",'retry':5}", "endpoint crm: retry: must be an array", "" },
    { "{" BASE ",'retry':[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,"
      "28,29,30,31,32,33]}", "endpoint crm: retry: must be an array of 0 to 32", "" },
    { "{" BASE ",'retry':[-1]}", "endpoint crm: retry: delay 1: must be an integer from 0", "" },
    { "{" BASE ",'retry':[5,604801]}", "endpoint crm: retry: delay 2: ", "7 days" },
    { "{" BASE ",'retry':[5,1.5]}", "endpoint crm: retry: delay 2: ", "" },
    { "{" BASE ",'retry':['5']}", "endpoint crm: retry: delay 1: ", "" },
    /* booleans, source, health */
    { "{" BASE ",'enabled':'yes'}", "endpoint crm: enabled: must be true or false", "" },
    { "{" BASE ",'allow_http':1}", "endpoint crm: allow_http: must be true or false", "" },
    { "{" BASE ",'source':'file'}", "endpoint crm: source: must be \"cli\" or \"config\"", "" },
    { "{" BASE ",'health':'ok'}", "endpoint crm: health: must be an object", "" },
    { "{" BASE ",'health':{'state':'sick'}}", "endpoint crm: health: state: must be one of", "" },
    { "{" BASE ",'health':{'consecutive_failures':-1}}",
      "endpoint crm: health: consecutive_failures: must be an integer from 0", "" },
    { "{" BASE ",'health':{'last_failure':'x'}}", "endpoint crm: health: last_failure: must be", "" },
    { "{" BASE ",'health':{'disabled_reason':'a\\nb'}}", "endpoint crm: health: disabled_reason: ",
      "control" },
};

START_TEST(test_bad)
{
    mh_err_t err = { "" };
    endpoint_t *ep = parse(bad_cases[_i].json, &err);

    ck_assert_msg(ep == NULL, "accepted: %s", bad_cases[_i].json);
    ck_assert_msg(strncmp(err.text, bad_cases[_i].prefix, strlen(bad_cases[_i].prefix)) == 0,
                  "%s: error \"%s\" does not start with \"%s\"", bad_cases[_i].json, err.text,
                  bad_cases[_i].prefix);
    ck_assert_msg(strstr(err.text, bad_cases[_i].part) != NULL,
                  "%s: error \"%s\" lacks \"%s\"", bad_cases[_i].json, err.text,
                  bad_cases[_i].part);
    ck_assert_msg(strstr(err.text, "hunter") == NULL, "error shows a secret: %s", err.text);
}
END_TEST

/* Errors never quote a URL: it may carry a password. */
START_TEST(test_bad_url_not_shown)
{
    mh_err_t err;
    endpoint_t *ep = parse("{'name':'crm','url':'ftp://u:hunter2@a.example/'}", &err);

    ck_assert_ptr_null(ep);
    ck_assert_ptr_null(strstr(err.text, "hunter2"));
    ck_assert_ptr_null(endpoint_from_json(NULL, &err));
    ck_assert_ptr_null(endpoint_from_json(NULL, NULL)); /* err may be NULL */
}
END_TEST

/* ---- accepted input at the edges */
static const char *const good_cases[] = {
    "{'name':'crm','url':'http://a.example/in','allow_http':true}",
    "{'name':'crm','url':'HTTPS://A.EXAMPLE:8443/in?x=1'}",
    "{'name':'crm','url':'https://user:pw@a.example/in'}",
    "{'name':'crm','url':'https://[2001:db8::1]/in'}",
    "{'name':'A-z_0.9','url':'https://a.example'}",
    "{'name':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
    "'url':'https://a.example'}",
    "{" BASE ",'types':['*']}",
    "{" BASE ",'types':['email.*','app.signup','email.sent','app.sub.*']}",
    "{" BASE ",'filters':[]}",
    "{" BASE ",'filters':['sender_domain=Example.com','recipient_domain=b.example',"
    "'tenant=acme','tag=vip','metadata.campaign=c=1']}",
    "{" BASE ",'scheme':'hmac-sha256-hex','secret':'12345678'}",
    "{" BASE ",'secret':'" B64SECRET "','old_secret':null}",
    "{" BASE ",'secret':'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'}", /* base64 without the prefix */
    "{" BASE ",'headers':{'Authorization':'Bearer x','X-Tab':'a\\tb','X-!#$%&\\u0027*+-.^_`|~':"
    "'v'}}",
    "{" BASE ",'event_header':'','delivery_header':''}",
    "{" BASE ",'batch_max':10000,'batch_wait_ms':0,'timeout_ms':100,'connect_timeout_ms':100}",
    "{" BASE ",'timeout_ms':300000,'connect_timeout_ms':300000,'concurrency':256}",
    "{" BASE ",'retry':[0]}",
    "{" BASE ",'retry':[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,"
    "29,30,31,604800]}",
    "{" BASE ",'source':'config','health':{}}",
    /* jq programs over several lines, with tabs and CR LF */
    "{" BASE ",'transform':'{\\n\\temail: .data.recipient,\\r\\n\\tevent: .type\\n}',"
    "'where':'.data.tags\\n| index(\\'vip\\')'}",
    "{" BASE ",'transform':'','where':''}",
    "{" BASE ",'basic_auth':null}",
    "{" BASE ",'basic_auth':'hook:pass:with:colons'}",
    "{" BASE ",'basic_auth':'hook:'}", /* an empty password is basic auth too */
    "{" BASE ",'user_agent':'','delivery_id':'ulid'}",
    "{" BASE ",'failing_after':1,'disable_after_failures':0,'disable_after':0}",
    "{" BASE ",'failing_after':100000,'disable_after_failures':-1,'disable_after':100000}",
    "{" BASE ",'format':'sendgrid','batch_max':100}",
    "{" BASE ",'format':'penguinmails','batch_max':0}",
};

START_TEST(test_good)
{
    endpoint_free(parse_ok(good_cases[_i]));
}
END_TEST

/* Secrets of 8 and 255 characters are accepted, 7 and 256 are not (255:
 * room for a base64 P-256 private key, the sendgrid scheme's secret). */
START_TEST(test_secret_length)
{
    static const struct {
        size_t len;
        bool ok;
    } rows[] = { { 7, false }, { 8, true }, { 255, true }, { 256, false } };
    char secret[300], text[600];
    endpoint_t *ep;
    mh_err_t err;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        memset(secret, 'k', rows[i].len);
        secret[0] = '!';
        secret[rows[i].len] = 0;
        snprintf(text, sizeof(text), "{" BASE ",'scheme':'sha256-secret-body','secret':'%s'}",
                 secret);
        ep = parse(text, &err);
        ck_assert_msg((ep != NULL) == rows[i].ok, "secret of %zu characters", rows[i].len);
        if (ep)
            ck_assert_str_eq(ep->secret, secret);
        else
            ck_assert_str_eq(err.text, "endpoint crm: secret: must be 8 to 255 characters");
        endpoint_free(ep);
    }
}
END_TEST

/* ---- round trip: every key set away from its default */
static const char full[] =
    "{'name':'crm','url':'https://u:hunter2@hooks.example.com/in?q=1','format':'mailabl',"
    "'transform':'{email: .data.recipient,\\n\\tevent: .type}','where':'.data.tenant != null',"
    "'types':['email.delivered','app.*'],'filters':['tag=vip','metadata.n=5'],"
    "'scheme':'hmac-sha256-hex','signature_header':'X-Sig','signature_prefix':'sha256=',"
    "'secret':'hmac-secret-1234wxyz','old_secret':'old-secret-5678abcd',"
    "'old_secret_until':1700000000000,'basic_auth':'hook:pa55word',"
    "'headers':{'X-Team':'mail','Authorization':'Bearer tok9'},'user_agent':'CRM-Hooks/2',"
    "'event_header':'X-Ev','delivery_header':'','delivery_id':'uuid','batch_max':50,"
    "'batch_wait_ms':250,'timeout_ms':10000,'connect_timeout_ms':2000,'retry':[1,60],"
    "'concurrency':2,'failing_after':5,'disable_after_failures':100,'disable_after':48,"
    "'enabled':false,'allow_http':true,'source':'config','created':1600000000000,"
    "'updated':1650000000000,'health':{'state':'disabled','consecutive_failures':12,"
    "'failing_since':1660000000000,'last_success':1650000000001,'last_failure':1660000000002,"
    "'disabled_reason':'HTTP 410'}}";

static const char *const key_order[] = {
    "name", "url", "format", "transform", "where", "types", "filters", "scheme",
    "signature_header", "signature_prefix", "secret", "old_secret", "old_secret_until",
    "basic_auth", "headers", "user_agent", "event_header", "delivery_header", "delivery_id",
    "batch_max", "batch_wait_ms", "timeout_ms", "connect_timeout_ms", "retry", "concurrency",
    "failing_after", "disable_after_failures", "disable_after", "enabled", "allow_http", "source", "created", "updated", "health", NULL,
};

static void assert_key_order(const json_t *o)
{
    const char *key;
    json_t *v;
    int i = 0;

    json_object_foreach((json_t *)o, key, v) {
        ck_assert_ptr_nonnull(key_order[i]);
        ck_assert_str_eq(key, key_order[i]);
        i++;
    }
    ck_assert_ptr_null(key_order[i]);
}

static void assert_same(const endpoint_t *a, const endpoint_t *b)
{
    json_t *ja = endpoint_to_json(a, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    json_t *jb = endpoint_to_json(b, EP_JSON_SECRETS | EP_JSON_RAW_URL);

    ck_assert(json_equal(ja, jb));
    json_decref(ja);
    json_decref(jb);
}

START_TEST(test_round_trip)
{
    json_t *in = load(full), *out, *out2;
    mh_err_t err;
    endpoint_t *ep = endpoint_from_json(in, &err), *ep2, *dup;

    ck_assert_msg(ep != NULL, "%s", err.text);
    out = endpoint_to_json(ep, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    ck_assert(json_equal(in, out)); /* nothing lost, nothing defaulted */
    assert_key_order(out);
    ep2 = endpoint_from_json(out, &err);
    ck_assert_msg(ep2 != NULL, "%s", err.text);
    out2 = endpoint_to_json(ep2, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    ck_assert(json_equal(out, out2));
    /* the parsed fields behind the texts */
    ck_assert_int_eq(ep2->filters[1].key, EPF_METADATA);
    ck_assert_str_eq(ep2->filters[1].meta_name, "n");
    ck_assert_str_eq(ep2->filters[1].value, "5");
    ck_assert_ptr_null(ep2->filters[0].meta_name);
    ck_assert(ep2->from_config);
    ck_assert_int_eq(ep2->state, EP_DISABLED);
    dup = endpoint_dup(ep2);
    assert_same(ep2, dup);
    ck_assert_ptr_ne(dup->secret, ep2->secret);
    ck_assert_ptr_null(endpoint_dup(NULL));
    ck_assert_ptr_null(endpoint_free(NULL));
    json_decref(in);
    json_decref(out);
    json_decref(out2);
    endpoint_free(ep);
    endpoint_free(ep2);
    endpoint_free(dup);
}
END_TEST

/* A defaulted endpoint round-trips too (generated secret, old_secret null). */
START_TEST(test_round_trip_defaults)
{
    endpoint_t *ep = parse_ok("{" BASE "}"), *ep2;
    json_t *out = endpoint_to_json(ep, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    mh_err_t err;

    assert_key_order(out);
    ck_assert(json_is_null(json_object_get(out, "old_secret")));
    ep2 = endpoint_from_json(out, &err);
    ck_assert_msg(ep2 != NULL, "%s", err.text);
    assert_same(ep, ep2);
    ck_assert_str_eq(ep->secret, ep2->secret);
    json_decref(out);
    endpoint_free(ep);
    endpoint_free(ep2);
}
END_TEST

/* ---- masking and redaction */

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

START_TEST(test_masking)
{
    endpoint_t *ep = parse_ok(full);
    json_t *o = endpoint_to_json(ep, 0), *s, *u;
    mh_err_t err;
    char *text;

    ck_assert_str_eq(jstr(o, "secret"), "whsec_...wxyz");
    ck_assert_str_eq(jstr(o, "old_secret"), "whsec_...abcd");
    ck_assert_str_eq(jstr(o, "url"), "https://u:***@hooks.example.com/in?q=1");
    ck_assert_str_eq(jstr(json_object_get(o, "headers"), "Authorization"), "***");
    ck_assert_str_eq(jstr(json_object_get(o, "headers"), "X-Team"), "mail");
    ck_assert_str_eq(jstr(o, "basic_auth"), "hook:***");
    text = json_dumps(o, 0);
    ck_assert_ptr_null(strstr(text, "pa55word"));
    ck_assert_ptr_null(strstr(text, "hunter2"));
    ck_assert_ptr_null(strstr(text, "hmac-secret"));
    ck_assert_ptr_null(strstr(text, "old-secret"));
    ck_assert_ptr_null(strstr(text, "tok9"));
    free(text);
    /* what "show" printed cannot be sent back as a secret */
    ck_assert_ptr_null(endpoint_from_json(o, &err));
    ck_assert_ptr_nonnull(strstr(err.text, "masked"));
    assert_key_order(o);
    /* each flag lifts its own mask only */
    s = endpoint_to_json(ep, EP_JSON_SECRETS);
    ck_assert_str_eq(jstr(s, "secret"), "hmac-secret-1234wxyz");
    ck_assert_str_eq(jstr(s, "old_secret"), "old-secret-5678abcd");
    ck_assert_str_eq(jstr(json_object_get(s, "headers"), "Authorization"), "Bearer tok9");
    ck_assert_str_eq(jstr(s, "basic_auth"), "hook:pa55word");
    ck_assert_str_eq(jstr(s, "url"), "https://u:***@hooks.example.com/in?q=1");
    u = endpoint_to_json(ep, EP_JSON_RAW_URL);
    ck_assert_str_eq(jstr(u, "url"), "https://u:hunter2@hooks.example.com/in?q=1");
    ck_assert_str_eq(jstr(u, "secret"), "whsec_...wxyz");
    ck_assert_str_eq(jstr(u, "basic_auth"), "hook:***");
    json_decref(o);
    json_decref(s);
    json_decref(u);
    endpoint_free(ep);
}
END_TEST

static const struct {
    const char *in, *out;
} redact_cases[] = {
    { "https://a.example/in", "https://a.example/in" }, /* no password: as given */
    { "https://user@a.example/in", "https://user@a.example/in" },
    { "https://user:pw@a.example/in", "https://user:***@a.example/in" },
    { "https://user:p%40ss@a.example:8443/in?x=1#f", "https://user:***@a.example:8443/in?x=1#f" },
    { "http://:pw@a.example/", "http://:***@a.example/" },
    { "not a url:pw@", "(invalid URL)" },
};

START_TEST(test_redact)
{
    char *s = endpoint_redact_url(redact_cases[_i].in);

    ck_assert_str_eq(s, redact_cases[_i].out);
    free(s);
}
END_TEST

/* ---- merge */

START_TEST(test_merge)
{
    endpoint_t *base = parse_ok(full), *ep;
    json_t *ch, *before = endpoint_to_json(base, EP_JSON_SECRETS | EP_JSON_RAW_URL), *after;
    mh_err_t err;

    ch = load("{'url':'https://new.example/x','retry':[7],'name':'crm','old_secret':null}");
    ep = endpoint_merge(base, ch, &err);
    ck_assert_msg(ep != NULL, "%s", err.text);
    ck_assert_str_eq(ep->url, "https://new.example/x");
    ck_assert_uint_eq(ep->nretry, 1);
    ck_assert_int_eq(ep->retry[0], 7);
    ck_assert_ptr_null(ep->old_secret); /* null removed it ... */
    ck_assert_int_eq(ep->old_secret_until, 0); /* ... and its deadline */
    ck_assert_str_eq(ep->secret, base->secret); /* the rest is base's */
    ck_assert_str_eq(ep->headers[1].value, "Bearer tok9");
    ck_assert_int_eq(ep->state, EP_DISABLED);
    ck_assert_int_eq(ep->created, base->created);
    after = endpoint_to_json(base, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    ck_assert(json_equal(before, after)); /* base untouched */
    json_decref(ch);
    json_decref(after);
    endpoint_free(ep);

    /* a null on another key brings its default back */
    ch = load("{'concurrency':null,'headers':null}");
    ep = endpoint_merge(base, ch, &err);
    ck_assert_msg(ep != NULL, "%s", err.text);
    ck_assert_int_eq(ep->concurrency, 8);
    ck_assert_uint_eq(ep->nheaders, 0);
    json_decref(ch);
    endpoint_free(ep);

    /* a timeout lowered below the connect timeout, the latter not given:
     * the connect timeout follows to its default; given, it is checked */
    ck_assert_int_eq(base->connect_timeout_ms, 2000);
    ch = load("{'timeout_ms':1000}");
    ep = endpoint_merge(base, ch, &err);
    ck_assert_msg(ep != NULL, "%s", err.text);
    ck_assert_int_eq(ep->timeout_ms, 1000);
    ck_assert_int_eq(ep->connect_timeout_ms, 1000);
    json_decref(ch);
    endpoint_free(ep);
    ch = load("{'timeout_ms':1000,'connect_timeout_ms':2000}");
    ck_assert_ptr_null(endpoint_merge(base, ch, &err));
    ck_assert_ptr_nonnull(strstr(err.text, "must not exceed timeout_ms (1000)"));
    json_decref(ch);
    ch = load("{'timeout_ms':9000}"); /* not below: kept */
    ep = endpoint_merge(base, ch, &err);
    ck_assert_msg(ep != NULL, "%s", err.text);
    ck_assert_int_eq(ep->connect_timeout_ms, 2000);
    json_decref(ch);
    endpoint_free(ep);

    /* an empty change is a copy */
    ch = load("{}");
    ep = endpoint_merge(base, ch, &err);
    ck_assert_ptr_nonnull(ep);
    assert_same(base, ep);
    json_decref(ch);
    endpoint_free(ep);
    json_decref(before);
    endpoint_free(base);
}
END_TEST

/* retry [] is "no retry" (mailhookctl --retry ""), as added and as a
 * change; it survives the round trip as [] (not the default schedule). */
START_TEST(test_no_retry)
{
    endpoint_t *ep = parse_ok("{" BASE ",'retry':[]}"), *base, *changed;
    json_t *out = endpoint_to_json(ep, 0), *ch;
    mh_err_t err;

    ck_assert_uint_eq(ep->nretry, 0);
    ck_assert(json_is_array(json_object_get(out, "retry")));
    ck_assert_uint_eq(json_array_size(json_object_get(out, "retry")), 0);
    base = parse_ok("{" BASE ",'retry':[5,60]}");
    ch = load("{'retry':[]}");
    changed = endpoint_merge(base, ch, &err);
    ck_assert_msg(changed != NULL, "%s", err.text);
    ck_assert_uint_eq(changed->nretry, 0);
    json_decref(ch);
    json_decref(out);
    endpoint_free(changed);
    endpoint_free(base);
    endpoint_free(ep);
}
END_TEST

static const struct {
    const char *changes, *error;
} merge_bad_cases[] = {
    { "{'name':'other'}", "endpoint crm: name: cannot be changed" },
    { "{'name':null}", "endpoint crm: name: cannot be changed" },
    { "{'name':5}", "endpoint crm: name: cannot be changed" },
    { "[]", "endpoint crm: the changes must be a JSON object" },
    { "{'colour':'red'}", "endpoint crm: colour: unknown key" },
    { "{'url':'http://new.example/'}",
      "endpoint crm: url: scheme must be https (set allow_http to permit http)" },
    { "{'url':null}", "endpoint crm: url: required" },
    { "{'timeout_ms':1000,'connect_timeout_ms':1500}",
      "endpoint crm: connect_timeout_ms: must not exceed timeout_ms" },
    { "{'headers':{'X-A':'a\\r\\nb'}}", "endpoint crm: headers: X-A: the value must not" },
    { "{'scheme':'standard','secret':'not-base64!'}", "endpoint crm: secret: for the standard scheme: " },
};

START_TEST(test_merge_bad)
{
    endpoint_t *base = parse_ok("{" BASE "}"), *ep;
    json_t *ch = load(merge_bad_cases[_i].changes);
    mh_err_t err = { "" };

    ep = endpoint_merge(base, ch, &err);
    ck_assert_msg(ep == NULL, "accepted: %s", merge_bad_cases[_i].changes);
    ck_assert_msg(strncmp(err.text, merge_bad_cases[_i].error, strlen(merge_bad_cases[_i].error))
                      == 0, "%s: \"%s\"", merge_bad_cases[_i].changes, err.text);
    json_decref(ch);
    endpoint_free(base);
}
END_TEST

/* A key "name\0x" (jansson's API allows one) is no back door for a rename. */
START_TEST(test_merge_nul_key)
{
    endpoint_t *base = parse_ok("{" BASE "}"), *ep;
    json_t *ch = json_object();
    mh_err_t err;

    json_object_setn_new(ch, "name\0x", 6, json_string("other"));
    ep = endpoint_merge(base, ch, &err);
    ck_assert_ptr_null(ep);
    ck_assert_str_eq(err.text, "endpoint crm: name?x: unknown key");
    json_decref(ch);
    endpoint_free(base);
}
END_TEST

/* Changing http to allowed and the url in one change is fine. */
START_TEST(test_merge_allow_http)
{
    endpoint_t *base = parse_ok("{" BASE "}"), *ep;
    json_t *ch = load("{'url':'http://new.example/','allow_http':true}");
    mh_err_t err;

    ep = endpoint_merge(base, ch, &err);
    ck_assert_msg(ep != NULL, "%s", err.text);
    ck_assert(ep->allow_http);
    json_decref(ch);
    endpoint_free(ep);
    endpoint_free(base);
}
END_TEST

/* ---- payload formats: their defaults take the rows' place */

/* The secret is a key pair's private half when the endpoint takes it back
 * (endpoint_from_json asks sign.c); not a shared "whsec_" secret. */
static void assert_ec_secret(const endpoint_t *ep)
{
    json_t *o = endpoint_to_json(ep, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    mh_err_t err;
    endpoint_t *again = endpoint_from_json(o, &err);

    ck_assert_int_eq(ep->scheme, EP_SCHEME_SENDGRID);
    ck_assert_int_ne(strncmp(ep->secret, "whsec_", 6), 0);
    ck_assert_msg(again != NULL, "%s", err.text);
    endpoint_free(again);
    json_decref(o);
}

START_TEST(test_format_defaults)
{
    static const int pm_retry[] = { 60, 300, 900, 3600, 86400 };
    endpoint_t *ep = parse_ok("{" BASE ",'format':'sendgrid'}");

    ck_assert_int_eq(ep->format, EP_FORMAT_SENDGRID);
    assert_ec_secret(ep);
    ck_assert_int_eq(ep->timeout_ms, 5000); /* what the format does not say: the rows' */
    endpoint_free(ep);

    ep = parse_ok("{" BASE ",'format':'penguinmails'}");
    ck_assert_int_eq(ep->format, EP_FORMAT_PENGUINMAILS);
    ck_assert_int_eq(ep->scheme, EP_SCHEME_HMAC_SHA256_HEX);
    ck_assert_str_eq(ep->signature_header, "X-PenguinMails-Signature");
    ck_assert_str_eq(ep->signature_prefix, "sha256=");
    ck_assert_str_eq(ep->event_header, "X-PenguinMails-Event");
    ck_assert_str_eq(ep->delivery_header, "X-PenguinMails-Delivery-ID");
    ck_assert_str_eq(ep->user_agent, "PenguinMails-Webhooks/1.0");
    ck_assert_int_eq(ep->delivery_id, EP_ID_UUID);
    ck_assert_int_eq(ep->failing_after, 5);
    ck_assert_int_eq(ep->disable_after_failures, 100);
    ck_assert_int_eq(ep->disable_after, -1);
    ck_assert_uint_eq(ep->nretry, 5);
    ck_assert_mem_eq(ep->retry, pm_retry, sizeof(pm_retry));
    ck_assert_int_eq(strncmp(ep->secret, "whsec_", 6), 0); /* a shared secret */
    endpoint_free(ep);

    ep = parse_ok("{" BASE ",'format':'mailabl'}");
    ck_assert_int_eq(ep->scheme, EP_SCHEME_SHA256_SECRET_BODY);
    ck_assert_str_eq(ep->signature_header, "X-Mailabl-Signature");
    ck_assert_int_eq(ep->timeout_ms, 3000);
    ck_assert_int_eq(ep->connect_timeout_ms, 3000);
    ck_assert_uint_eq(ep->nretry, 10);
    endpoint_free(ep);

    ep = parse_ok("{" BASE ",'format':'listmonk'}");
    ck_assert_uint_eq(ep->ntypes, 2);
    ck_assert_str_eq(ep->types[0], "email.bounced");
    ck_assert_str_eq(ep->types[1], "email.complained");
    ck_assert_int_eq(ep->scheme, EP_SCHEME_STANDARD);
    endpoint_free(ep);

    ep = parse_ok("{" BASE ",'format':'mailgun'}");
    ck_assert_int_eq(ep->scheme, EP_SCHEME_MAILGUN);
    ck_assert_int_eq(ep->retry[0], 600);
    endpoint_free(ep);
}
END_TEST

/* Keys given explicitly win over the format's defaults, and the JSON
 * written back says what the endpoint does (it round-trips). */
START_TEST(test_format_explicit_wins)
{
    endpoint_t *ep = parse_ok("{" BASE ",'format':'penguinmails','failing_after':7,"
                              "'user_agent':'','delivery_id':'ulid','retry':[],"
                              "'signature_prefix':'','scheme':'standard','types':['email.*']}"),
               *again;
    json_t *out = endpoint_to_json(ep, EP_JSON_SECRETS | EP_JSON_RAW_URL);
    mh_err_t err;

    ck_assert_int_eq(ep->failing_after, 7);
    ck_assert_str_eq(ep->user_agent, "");
    ck_assert_int_eq(ep->delivery_id, EP_ID_ULID);
    ck_assert_uint_eq(ep->nretry, 0);
    ck_assert_str_eq(ep->signature_prefix, "");
    ck_assert_int_eq(ep->scheme, EP_SCHEME_STANDARD);
    ck_assert_str_eq(ep->types[0], "email.*");
    ck_assert_int_eq(ep->disable_after_failures, 100); /* not given: the format's */
    ck_assert_str_eq(ep->event_header, "X-PenguinMails-Event");
    again = endpoint_from_json(out, &err);
    ck_assert_msg(again != NULL, "%s", err.text);
    assert_same(ep, again);
    endpoint_free(again);
    json_decref(out);
    endpoint_free(ep);

    /* the sendgrid format with a shared-secret scheme: a shared secret */
    ep = parse_ok("{" BASE ",'format':'sendgrid','scheme':'hmac-sha256-hex'}");
    ck_assert_int_eq(ep->scheme, EP_SCHEME_HMAC_SHA256_HEX);
    ck_assert_int_eq(strncmp(ep->secret, "whsec_", 6), 0);
    endpoint_free(ep);
}
END_TEST

static endpoint_t *merge_ok(const endpoint_t *base, const char *changes)
{
    json_t *ch = load(changes);
    mh_err_t err = { "" };
    endpoint_t *ep = endpoint_merge(base, ch, &err);

    ck_assert_msg(ep != NULL, "%s: %s", changes, err.text);
    json_decref(ch);
    return ep;
}

/* A format given again to a plain-http endpoint (fuzz_endpoint found it:
 * the reference endpoint of the old format's defaults refused the URL). */
START_TEST(test_merge_format_http)
{
    endpoint_t *base = parse_ok("{'name':'h','url':'http://example.com/h','allow_http':true,"
                                "'format':'penguinmails','scheme':'hmac-sha256-hex'}"),
               *ep = merge_ok(base, "{'url':'http://example.com/h','allow_http':true,"
                                    "'format':'penguinmails'}");

    ck_assert_str_eq(endpoint_scheme_name(ep->scheme), "hmac-sha256-hex");
    ck_assert(ep->allow_http);
    endpoint_free(ep);
    ep = merge_ok(base, "{'format':'mailtura'}");
    ck_assert_str_eq(ep->url, "http://example.com/h");
    endpoint_free(ep);
    endpoint_free(base);
}
END_TEST

/* A new format: the keys still at the old format's default take the new
 * one's; those changed from it, and those the change gives, are kept. */
START_TEST(test_merge_format)
{
    endpoint_t *base = parse_ok("{" BASE ",'format':'penguinmails','failing_after':7,"
                                "'user_agent':'CRM/3','batch_wait_ms':200}"),
               *ep, *back;

    ep = merge_ok(base, "{'format':'standard'}");
    ck_assert_int_eq(ep->format, EP_FORMAT_STANDARD);
    ck_assert_int_eq(ep->scheme, EP_SCHEME_STANDARD);     /* defaults: standard's */
    ck_assert_str_eq(ep->signature_prefix, "");
    ck_assert_str_eq(ep->event_header, "X-Mailhook-Event");
    ck_assert_int_eq(ep->delivery_id, EP_ID_ULID);
    ck_assert_int_eq(ep->disable_after_failures, -1);
    ck_assert_uint_eq(ep->nretry, 7);
    ck_assert_int_eq(ep->failing_after, 7);               /* changed ones: kept */
    ck_assert_str_eq(ep->user_agent, "CRM/3");
    ck_assert_int_eq(ep->batch_wait_ms, 200);
    ck_assert_str_eq(ep->secret, base->secret); /* shared secret both: kept */
    /* and back: penguinmails' defaults again, the changed ones still kept */
    back = merge_ok(ep, "{'format':'penguinmails','delivery_id':'ulid'}");
    ck_assert_str_eq(back->signature_prefix, "sha256=");
    ck_assert_int_eq(back->disable_after_failures, 100);
    ck_assert_int_eq(back->delivery_id, EP_ID_ULID); /* given by the change */
    ck_assert_int_eq(back->failing_after, 7);
    ck_assert_str_eq(back->user_agent, "CRM/3");
    endpoint_free(back);
    endpoint_free(ep);

    /* a change without format leaves the format's defaults alone */
    ep = merge_ok(base, "{'timeout_ms':9000}");
    ck_assert_str_eq(ep->signature_prefix, "sha256=");
    ck_assert_int_eq(ep->format, EP_FORMAT_PENGUINMAILS);
    endpoint_free(ep);
    endpoint_free(base);

    /* the types a format defaults follow it too */
    base = parse_ok("{" BASE ",'format':'listmonk'}");
    ep = merge_ok(base, "{'format':'postmark'}");
    ck_assert_uint_eq(ep->ntypes, 1);
    ck_assert_str_eq(ep->types[0], "*");
    endpoint_free(ep);
    endpoint_free(base);
}
END_TEST

/* To or from the sendgrid scheme (a key pair, not a shared secret), by a
 * format or a scheme: a new secret of the new kind unless one is given. */
START_TEST(test_merge_scheme_secret)
{
    endpoint_t *base = parse_ok("{" BASE ",'secret':'" B64SECRET "'}"), *sg, *ep, *sg2;
    json_t *ch;
    mh_err_t err = { "" };
    char *key;

    sg = merge_ok(base, "{'format':'sendgrid'}");
    assert_ec_secret(sg);
    ck_assert_ptr_null(sg->old_secret);
    ep = merge_ok(sg, "{'format':'standard'}"); /* back: a shared secret, new */
    ck_assert_int_eq(ep->scheme, EP_SCHEME_STANDARD);
    ck_assert_int_eq(strncmp(ep->secret, "whsec_", 6), 0);
    ck_assert_str_ne(ep->secret, B64SECRET);
    endpoint_free(ep);
    /* by the scheme alone, the format unchanged */
    ep = merge_ok(base, "{'scheme':'sendgrid'}");
    assert_ec_secret(ep);
    ck_assert_int_eq(ep->format, EP_FORMAT_STANDARD);
    ck_assert_str_ne(ep->secret, sg->secret); /* a key of its own */
    endpoint_free(ep);
    ep = merge_ok(sg, "{'scheme':'hmac-sha256-hex'}");
    ck_assert_int_eq(strncmp(ep->secret, "whsec_", 6), 0);
    endpoint_free(ep);
    /* the same kind on both sides: the secret stays */
    ep = merge_ok(base, "{'scheme':'hmac-sha256-hex'}");
    ck_assert_str_eq(ep->secret, B64SECRET);
    endpoint_free(ep);
    sg2 = merge_ok(sg, "{'timeout_ms':4000}");
    ck_assert_str_eq(sg2->secret, sg->secret);
    endpoint_free(sg2);
    /* given with the change: that secret, checked for the new scheme */
    key = xasprintf("{'format':'sendgrid','secret':'%s'}", sg->secret);
    ep = merge_ok(base, key);
    ck_assert_str_eq(ep->secret, sg->secret);
    endpoint_free(ep);
    free(key);
    ep = merge_ok(sg, "{'scheme':'standard','secret':'" B64SECRET "'}");
    ck_assert_str_eq(ep->secret, B64SECRET);
    endpoint_free(ep);
    ch = load("{'format':'sendgrid','secret':'" B64SECRET "'}");
    ck_assert_ptr_null(endpoint_merge(base, ch, &err));
    ck_assert_msg(strncmp(err.text, "endpoint crm: secret: for the sendgrid scheme: ", 47) == 0,
                  "%s", err.text);
    ck_assert_ptr_null(strstr(err.text, "MfKQ9r8")); /* the error never shows it */
    json_decref(ch);
    /* a format that sends one event per request cannot take a batch */
    endpoint_free(base);
    base = parse_ok("{" BASE ",'batch_max':10}");
    ch = load("{'format':'mailtura'}");
    ck_assert_ptr_null(endpoint_merge(base, ch, &err));
    ck_assert_str_eq(err.text,
                     "endpoint crm: batch_max: format mailtura sends one event per request (0)");
    json_decref(ch);
    ep = merge_ok(base, "{'format':'mailtura','batch_max':0}");
    endpoint_free(ep);
    endpoint_free(sg);
    endpoint_free(base);
}
END_TEST

/* ---- type patterns */
static const struct {
    const char *pattern, *type;
    bool match;
} type_cases[] = {
    { "*", "email.sent", true },
    { "*", "app.signup", true },
    { "email.*", "email.sent", true },
    { "email.*", "email.a.b", true },
    { "email.*", "email", false },
    { "email.*", "email.", false },
    { "email.*", "emailx.y", false },
    { "email.*", "app.email.sent", false },
    { "app.sub.*", "app.sub.x", true },
    { "app.sub.*", "app.subx.y", false },
    { "email.sent", "email.sent", true },
    { "email.sent", "email.sent2", false },
    { "email.sent", "email.sen", false },
    { "email.sent", "EMAIL.SENT", false },
};

START_TEST(test_type_matches)
{
    ck_assert_msg(endpoint_type_matches(type_cases[_i].pattern, type_cases[_i].type) ==
                      type_cases[_i].match, "%s vs %s", type_cases[_i].pattern,
                  type_cases[_i].type);
}
END_TEST

/* ---- matching events: types, filters, event type, data (NULL = no data) */
static const struct {
    const char *types, *filters, *type, *data;
    bool match;
} match_cases[] = {
    /* types */
    { "['*']", "[]", "email.sent", "{}", true },
    { "['*']", "[]", "app.x", NULL, true },
    { "['email.sent','email.bounced']", "[]", "email.bounced", "{}", true },
    { "['email.sent','email.bounced']", "[]", "email.delivered", "{}", false },
    { "['email.*']", "[]", "app.signup", "{}", false },
    { "['email.sent']", "['tag=vip']", "email.delivered", "{'tags':['vip']}", false },
    /* sender_domain: after the last @, case-insensitive */
    { "['*']", "['sender_domain=example.com']", "email.sent", "{'from':'a@Example.COM'}", true },
    { "['*']", "['sender_domain=EXAMPLE.com']", "email.sent", "{'from':'a@example.com'}", true },
    { "['*']", "['sender_domain=example.com']", "email.sent", "{'from':'\\'a@b\\'@example.com'}",
      true },
    { "['*']", "['sender_domain=example.com']", "email.sent", "{'from':'a@sub.example.com'}",
      false },
    { "['*']", "['sender_domain=example.com']", "email.sent", "{'from':'example.com'}", false },
    { "['*']", "['sender_domain=example.com']", "email.sent", "{'from':''}", false },
    { "['*']", "['sender_domain=example.com']", "email.sent", "{'from':5}", false },
    { "['*']", "['sender_domain=example.com']", "email.sent", "{'recipient':'a@example.com'}",
      false },
    { "['*']", "['sender_domain=example.com']", "email.sent", "{}", false },
    { "['*']", "['sender_domain=example.com']", "email.sent", NULL, false },
    /* recipient_domain */
    { "['*']", "['recipient_domain=b.example']", "email.sent", "{'recipient':'x@B.Example'}",
      true },
    { "['*']", "['recipient_domain=b.example']", "email.sent", "{'from':'x@b.example'}", false },
    /* tenant: exact */
    { "['*']", "['tenant=acme']", "email.sent", "{'tenant':'acme'}", true },
    { "['*']", "['tenant=acme']", "email.sent", "{'tenant':'Acme'}", false },
    { "['*']", "['tenant=acme']", "email.sent", "{'tenant':'acme2'}", false },
    { "['*']", "['tenant=acme']", "email.sent", "{}", false },
    { "['*']", "['tenant=42']", "email.sent", "{'tenant':42}", true },
    /* tag: any element */
    { "['*']", "['tag=vip']", "email.sent", "{'tags':['a','vip']}", true },
    { "['*']", "['tag=vip']", "email.sent", "{'tags':['VIP']}", false },
    { "['*']", "['tag=vip']", "email.sent", "{'tags':[]}", false },
    { "['*']", "['tag=vip']", "email.sent", "{'tags':'vip'}", false },
    { "['*']", "['tag=vip']", "email.sent", "{}", false },
    /* metadata.NAME: strings exactly, numbers and booleans by their JSON text */
    { "['*']", "['metadata.campaign=c1']", "email.sent", "{'metadata':{'campaign':'c1'}}", true },
    { "['*']", "['metadata.campaign=c1']", "email.sent", "{'metadata':{'campaign':'c2'}}", false },
    { "['*']", "['metadata.campaign=c1']", "email.sent", "{'metadata':{'other':'c1'}}", false },
    { "['*']", "['metadata.campaign=c1']", "email.sent", "{'campaign':'c1'}", false },
    { "['*']", "['metadata.campaign=c1']", "email.sent", "{'metadata':'campaign=c1'}", false },
    { "['*']", "['metadata.n=5']", "email.sent", "{'metadata':{'n':5}}", true },
    { "['*']", "['metadata.n=5']", "email.sent", "{'metadata':{'n':'5'}}", true },
    { "['*']", "['metadata.n=5']", "email.sent", "{'metadata':{'n':50}}", false },
    { "['*']", "['metadata.n=-7']", "email.sent", "{'metadata':{'n':-7}}", true },
    { "['*']", "['metadata.r=2.5']", "email.sent", "{'metadata':{'r':2.5}}", true },
    { "['*']", "['metadata.f=true']", "email.sent", "{'metadata':{'f':true}}", true },
    { "['*']", "['metadata.f=false']", "email.sent", "{'metadata':{'f':false}}", true },
    { "['*']", "['metadata.f=true']", "email.sent", "{'metadata':{'f':false}}", false },
    { "['*']", "['metadata.z=null']", "email.sent", "{'metadata':{'z':null}}", false },
    { "['*']", "['metadata.o=x']", "email.sent", "{'metadata':{'o':{'x':1}}}", false },
    /* a dotted NAME: a path into nested objects */
    { "['*']", "['metadata.a.b=x']", "email.sent", "{'metadata':{'a.b':'x'}}", true },
    { "['*']", "['metadata.a.b=x']", "email.sent", "{'metadata':{'a':{'b':'x'}}}", true },
    { "['*']", "['metadata.a.b=x']", "email.sent", "{'metadata':{'a':{'b':'y'}}}", false },
    { "['*']", "['metadata.a.b=x']", "email.sent", "{'metadata':{'a':{'c':'x'}}}", false },
    { "['*']", "['metadata.a.b=x']", "email.sent", "{'metadata':{'a':'x'}}", false },
    { "['*']", "['metadata.a.b=x']", "email.sent", "{'metadata':{'b':'x'}}", false },
    { "['*']", "['metadata.a.b=x']", "email.sent", "{'a':{'b':'x'}}", false },
    { "['*']", "['metadata.a.b.c=deep']", "email.sent",
      "{'metadata':{'a':{'b':{'c':'deep'}}}}", true },
    { "['*']", "['metadata.a.b.c=deep']", "email.sent",
      "{'metadata':{'a':{'b':{'c':{'deep':1}}}}}", false },
    { "['*']", "['metadata.a.b.c=deep']", "email.sent", "{'metadata':{'a':{'b.c':'deep'}}}",
      true },
    { "['*']", "['metadata.a.b=x']", "email.sent", "{'metadata':{'a.b':'y','a':{'b':'x'}}}",
      true },
    /* an array on the path, or at its end: any element */
    { "['*']", "['metadata.o=x']", "email.sent", "{'metadata':{'o':['x']}}", true },
    { "['*']", "['metadata.contact.tags=vip']", "email.sent",
      "{'metadata':{'contact':{'tags':['x','vip']}}}", true },
    { "['*']", "['metadata.contact.tags=vip']", "email.sent",
      "{'metadata':{'contact':{'tags':['x','VIP']}}}", false },
    { "['*']", "['metadata.contact.tags=vip']", "email.sent",
      "{'metadata':{'contact':{'tags':[]}}}", false },
    { "['*']", "['metadata.contact.tags=vip']", "email.sent",
      "{'metadata':{'contact':{'tags':[['x'],['vip']]}}}", true },
    { "['*']", "['metadata.contacts.email=b@x.example']", "email.sent",
      "{'metadata':{'contacts':[{'email':'a@x.example'},{'email':'b@x.example'}]}}", true },
    { "['*']", "['metadata.contacts.email=c@x.example']", "email.sent",
      "{'metadata':{'contacts':[{'email':'a@x.example'},{'email':'b@x.example'}]}}", false },
    { "['*']", "['metadata.contacts.email=a@x.example']", "email.sent",
      "{'metadata':{'contacts':['a@x.example']}}", false },
    { "['*']", "['metadata.ids=7']", "email.sent", "{'metadata':{'ids':[1,7,9]}}", true },
    { "['*']", "['metadata.ids=7']", "email.sent", "{'metadata':{'ids':[1,70]}}", false },
    /* numbers and booleans by their JSON text, nested too */
    { "['*']", "['metadata.c.n=5']", "email.sent", "{'metadata':{'c':{'n':5}}}", true },
    { "['*']", "['metadata.c.vip=true']", "email.sent", "{'metadata':{'c':{'vip':true}}}", true },
    { "['*']", "['metadata.c.vip=true']", "email.sent", "{'metadata':{'c':{'vip':'yes'}}}",
      false },
    { "['*']", "['metadata.c.r=2.5']", "email.sent", "{'metadata':{'c':[{'r':1},{'r':2.5}]}}",
      true },
    { "['*']", "['metadata.c.z=null']", "email.sent", "{'metadata':{'c':{'z':null}}}", false },
    /* several dotted keys: each its own group */
    { "['*']", "['metadata.c.tags=vip','metadata.c.tier=gold']", "email.sent",
      "{'metadata':{'c':{'tags':['vip'],'tier':'gold'}}}", true },
    { "['*']", "['metadata.c.tags=vip','metadata.c.tier=gold']", "email.sent",
      "{'metadata':{'c':{'tags':['vip'],'tier':'silver'}}}", false },
    { "['*']", "['metadata.c.tags=vip','metadata.c.tags=new']", "email.sent",
      "{'metadata':{'c':{'tags':['new']}}}", true },
    { "['*']", "['metadata.k=a=b']", "email.sent", "{'metadata':{'k':'a=b'}}", true },
    /* the same key twice: OR */
    { "['*']", "['tag=vip','tag=gold']", "email.sent", "{'tags':['gold']}", true },
    { "['*']", "['tag=vip','tag=gold']", "email.sent", "{'tags':['x']}", false },
    { "['*']", "['metadata.a=1','metadata.a=2']", "email.sent", "{'metadata':{'a':2}}", true },
    { "['*']", "['sender_domain=a.example','sender_domain=b.example']", "email.sent",
      "{'from':'x@b.example'}", true },
    /* different keys: AND (metadata names are different keys) */
    { "['*']", "['tag=vip','tenant=acme']", "email.sent", "{'tags':['vip'],'tenant':'acme'}",
      true },
    { "['*']", "['tag=vip','tenant=acme']", "email.sent", "{'tags':['vip']}", false },
    { "['*']", "['tag=vip','tenant=acme']", "email.sent", "{'tenant':'acme'}", false },
    { "['*']", "['metadata.a=1','metadata.b=2']", "email.sent", "{'metadata':{'a':1,'b':2}}",
      true },
    { "['*']", "['metadata.a=1','metadata.b=2']", "email.sent", "{'metadata':{'a':1}}", false },
    /* both: (tag=vip OR tag=gold) AND tenant=acme */
    { "['*']", "['tag=vip','tenant=acme','tag=gold']", "email.sent",
      "{'tags':['gold'],'tenant':'acme'}", true },
    { "['*']", "['tag=vip','tenant=acme','tag=gold']", "email.sent",
      "{'tags':['gold'],'tenant':'other'}", false },
    { "['*']", "['tag=vip','tenant=acme','tag=gold']", "email.sent",
      "{'tags':['x'],'tenant':'acme'}", false },
    { "['email.*']", "['sender_domain=example.com','recipient_domain=b.example']",
      "email.delivered", "{'from':'a@example.com','recipient':'c@b.example'}", true },
};

START_TEST(test_matches)
{
    char text[1024];
    endpoint_t *ep;
    json_t *data = match_cases[_i].data ? load(match_cases[_i].data) : NULL;

    snprintf(text, sizeof(text), "{" BASE ",'types':%s,'filters':%s}", match_cases[_i].types,
             match_cases[_i].filters);
    ep = parse_ok(text);
    ck_assert_msg(endpoint_matches(ep, match_cases[_i].type, data) == match_cases[_i].match,
                  "%s %s %s", match_cases[_i].filters, match_cases[_i].type,
                  match_cases[_i].data ? match_cases[_i].data : "NULL");
    json_decref(data);
    endpoint_free(ep);
}
END_TEST

/* Arrays nested in arrays: followed to a depth well past any path, not
 * without end (an event may nest them as deep as its parser allows). */
START_TEST(test_matches_deep)
{
    static const struct {
        int depth;
        bool match;
    } rows[] = { { 1, true }, { 100, true }, { 1500, false } };
    endpoint_t *ep = parse_ok("{" BASE ",'filters':['metadata.c.tags=vip']}");
    json_t *data, *v;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        v = json_string("vip");
        for (int d = 0; d < rows[i].depth; d++) {
            json_t *a = json_array();

            json_array_append_new(a, v);
            v = a;
        }
        data = json_pack("{s:{s:{s:o}}}", "metadata", "c", "tags", v);
        ck_assert_msg(endpoint_matches(ep, "email.sent", data) == rows[i].match, "depth %d",
                      rows[i].depth);
        json_decref(data);
    }
    endpoint_free(ep);
}
END_TEST

/* enabled and health do not matter: callers decide. */
START_TEST(test_matches_ignores_state)
{
    endpoint_t *ep = parse_ok("{" BASE ",'enabled':false,'health':{'state':'disabled'}}");

    ck_assert(endpoint_matches(ep, "email.sent", NULL));
    endpoint_free(ep);
}
END_TEST

START_TEST(test_names)
{
    mh_err_t err;

    ck_assert_str_eq(endpoint_scheme_name(EP_SCHEME_STANDARD), "standard");
    ck_assert_str_eq(endpoint_scheme_name(EP_SCHEME_HMAC_SHA256_HEX), "hmac-sha256-hex");
    ck_assert_str_eq(endpoint_scheme_name(EP_SCHEME_SHA256_SECRET_BODY), "sha256-secret-body");
    ck_assert_str_eq(endpoint_health_name(EP_HEALTHY), "healthy");
    ck_assert_str_eq(endpoint_health_name(EP_FAILING), "failing");
    ck_assert_str_eq(endpoint_health_name(EP_DISABLED), "disabled");
    ck_assert_int_eq(endpoint_name_check("crm-1.prod_x", &err), 0);
    ck_assert_int_eq(endpoint_name_check("crm/1", &err), -1);
    ck_assert_str_eq(err.text, "name \"crm/1\": must be 1 to 64 characters from A-Z a-z 0-9 _ . -");
    ck_assert_int_eq(endpoint_name_check("a\nb", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.text, "\"a?b\"")); /* printable */
    ck_assert_int_eq(endpoint_name_check("", NULL), -1);
}
END_TEST

static Suite *endpoint_suite(void)
{
    Suite *s = suite_create("endpoint");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_connect_default);
    tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
    tcase_add_test(tc, test_bad_url_not_shown);
    tcase_add_loop_test(tc, test_good, 0, sizeof(good_cases) / sizeof(good_cases[0]));
    tcase_add_test(tc, test_secret_length);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("json");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_round_trip_defaults);
    tcase_add_test(tc, test_masking);
    tcase_add_loop_test(tc, test_redact, 0, sizeof(redact_cases) / sizeof(redact_cases[0]));
    tcase_add_test(tc, test_merge);
    tcase_add_test(tc, test_no_retry);
    tcase_add_loop_test(tc, test_merge_bad, 0, sizeof(merge_bad_cases) / sizeof(merge_bad_cases[0]));
    tcase_add_test(tc, test_merge_nul_key);
    tcase_add_test(tc, test_merge_allow_http);
    tcase_add_test(tc, test_format_defaults);
    tcase_add_test(tc, test_format_explicit_wins);
    tcase_add_test(tc, test_merge_format);
    tcase_add_test(tc, test_merge_format_http);
    tcase_add_test(tc, test_merge_scheme_secret);
    suite_add_tcase(s, tc);

    tc = tcase_create("match");
    tcase_add_loop_test(tc, test_type_matches, 0, sizeof(type_cases) / sizeof(type_cases[0]));
    tcase_add_loop_test(tc, test_matches, 0, sizeof(match_cases) / sizeof(match_cases[0]));
    tcase_add_test(tc, test_matches_deep);
    tcase_add_test(tc, test_matches_ignores_state);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(endpoint_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
