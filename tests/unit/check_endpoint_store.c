/* SPDX-License-Identifier: MIT */
/*
 * check_endpoint_store.c - endpoint records and the sync of the endpoints
 * declared in mailhook.conf (endpoint_store.h), in a real store. A read
 * that fails is forced with the linker (-Wl,--wrap=store_kv_get): the
 * sync must fail then, not take the record for absent and create it again.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint_store.h"

static char dir[64];
static store_t *st;
static fanout_t *fo;
static const char *fail_key; /* store_kv_get of this key fails */

int __real_store_kv_get(store_t *s, enum store_table t, const char *key, void **val,
                        size_t *len, mh_err_t *err);
int __wrap_store_kv_get(store_t *s, enum store_table t, const char *key, void **val,
                        size_t *len, mh_err_t *err);

int __wrap_store_kv_get(store_t *s, enum store_table t, const char *key, void **val,
                        size_t *len, mh_err_t *err)
{
    if (fail_key && t == STORE_ENDPOINTS && strcmp(key, fail_key) == 0)
        return mh_err_set(err, "store: injected read error");
    return __real_store_kv_get(s, t, key, val, len, err);
}

static void setup(void)
{
    struct store_opts o = { .nosync = true };

    snprintf(dir, sizeof(dir), "/tmp/check_endpoint_store.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    st = store_open(dir, &o, NULL);
    ck_assert_ptr_nonnull(st);
    fo = fanout_new();
    fail_key = NULL;
}

static void teardown(void)
{
    char cmd[128];

    fo = fanout_free(fo);
    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The declared endpoints: name NAME, url URL each. */
static json_t *declared(const char *name, const char *url)
{
    json_t *a = json_array();

    if (name)
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "name", name, "url", url,
                                           "source", "config", "secret",
                                           "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    return a;
}

static int sync_declared(const char *name, const char *url, mh_err_t *err)
{
    json_t *d = declared(name, url);
    int rc = endpoint_store_sync(st, fo, d, err);

    json_decref(d);
    return rc;
}

static endpoint_t *load(const char *name)
{
    endpoint_t *ep = NULL;
    mh_err_t err;

    ck_assert_int_eq(endpoint_store_load(st, name, &ep, &err), 0);
    return ep;
}

static void put_raw(const char *name, const char *text)
{
    store_txn_t *txn = store_begin(st, NULL);

    ck_assert_ptr_nonnull(txn);
    ck_assert_int_eq(store_kv_put(txn, STORE_ENDPOINTS, name, text, strlen(text), NULL), 0);
    ck_assert_int_eq(store_commit(txn, NULL), 0);
}

START_TEST(test_load_absent)
{
    endpoint_t *ep = (endpoint_t *)1;
    mh_err_t err;

    ck_assert_int_eq(endpoint_store_load(st, "nope", &ep, &err), 1);
    ck_assert_ptr_null(ep);
    ck_assert_str_eq(err.text, "no endpoint nope");
}
END_TEST

START_TEST(test_sync_creates_and_updates)
{
    endpoint_t *ep;
    mh_err_t err;
    int64_t created;

    ck_assert_int_eq(sync_declared("a", "https://hooks.example.com/1", &err), 0);
    ep = load("a");
    ck_assert(ep->from_config);
    ck_assert_str_eq(ep->url, "https://hooks.example.com/1");
    created = ep->created;
    endpoint_free(ep);
    ck_assert_uint_eq(fanout_endpoint_count(fo), 1);
    ck_assert_int_eq(sync_declared("a", "https://hooks.example.com/2", &err), 0);
    ep = load("a");
    ck_assert_str_eq(ep->url, "https://hooks.example.com/2");
    ck_assert_int_eq(ep->created, created); /* changed, not made again */
    endpoint_free(ep);
}
END_TEST

/* An option removed from the declaration takes its default again; the
 * secret (the endpoint's own) stays. */
START_TEST(test_sync_removed_option_takes_default)
{
    json_t *d = declared("a", "https://hooks.example.com/1"), *e;
    endpoint_t *ep;
    mh_err_t err;

    e = json_array_get(d, 0);
    json_object_set_new(e, "types", json_pack("[s]", "email.bounced"));
    json_object_set_new(e, "retry", json_pack("[i]", 60));
    json_object_set_new(e, "event_header", json_string("X-Kind"));
    ck_assert_int_eq(endpoint_store_sync(st, fo, d, &err), 0);
    ep = load("a");
    ck_assert_uint_eq(ep->ntypes, 1);
    ck_assert_str_eq(ep->types[0], "email.bounced");
    endpoint_free(ep);

    json_object_del(e, "types");
    json_object_del(e, "retry");
    json_object_del(e, "event_header");
    json_object_del(e, "secret");
    ck_assert_int_eq(endpoint_store_sync(st, fo, d, &err), 0);
    json_decref(d);
    ep = load("a");
    ck_assert_uint_eq(ep->ntypes, 1);
    ck_assert_str_eq(ep->types[0], "*");
    ck_assert_str_eq(ep->event_header, "X-Mailhook-Event");
    ck_assert_uint_eq(ep->nretry, 7);
    ck_assert_str_eq(ep->secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    endpoint_free(ep);
}
END_TEST

/* The store cannot read the record: an error, nothing changes. */
START_TEST(test_sync_read_error_is_an_error)
{
    endpoint_t *ep;
    mh_err_t err;
    int64_t created;

    ck_assert_int_eq(sync_declared("a", "https://hooks.example.com/1", &err), 0);
    ep = load("a");
    created = ep->created;
    endpoint_free(ep);
    usleep(2000); /* a record made again would show a later "created" */
    fail_key = "a";
    err.text[0] = 0;
    ck_assert_int_eq(sync_declared("a", "https://hooks.example.com/2", &err), -1);
    ck_assert_str_eq(err.text, "store: injected read error");
    fail_key = NULL;
    ep = load("a");
    ck_assert_str_eq(ep->url, "https://hooks.example.com/1");
    ck_assert_int_eq(ep->created, created);
    endpoint_free(ep);
}
END_TEST

START_TEST(test_load_read_error)
{
    endpoint_t *ep = (endpoint_t *)1;
    mh_err_t err;

    fail_key = "a";
    ck_assert_int_eq(endpoint_store_load(st, "a", &ep, &err), -1);
    ck_assert_ptr_null(ep);
}
END_TEST

/* A record that is there but no endpoint: unusable, and a declared one
 * is replaced by its declaration (the command line cannot mend it). */
START_TEST(test_unusable_record)
{
    endpoint_t *ep = (endpoint_t *)1;
    mh_err_t err;

    put_raw("a", "{not json");
    ck_assert_int_eq(endpoint_store_load(st, "a", &ep, &err), ENDPOINT_STORE_UNUSABLE);
    ck_assert_ptr_null(ep);
    ck_assert_int_eq(sync_declared("a", "https://hooks.example.com/1", &err), 0);
    ep = load("a");
    ck_assert_str_eq(ep->url, "https://hooks.example.com/1");
    endpoint_free(ep);
}
END_TEST

START_TEST(test_sync_disables_undeclared)
{
    endpoint_t *ep;
    mh_err_t err;

    ck_assert_int_eq(sync_declared("a", "https://hooks.example.com/1", &err), 0);
    ck_assert_int_eq(sync_declared(NULL, NULL, &err), 0);
    ep = load("a");
    ck_assert(!ep->enabled);
    ck_assert_str_eq(ep->disabled_reason, "no longer declared in mailhook.conf");
    endpoint_free(ep);
    ck_assert_uint_eq(fanout_endpoint_count(fo), 0);
    ck_assert_int_eq(sync_declared("a", "https://hooks.example.com/1", &err), 0);
    ep = load("a");
    ck_assert(ep->enabled); /* declared again: back */
    endpoint_free(ep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("endpoint_store");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_load_absent);
    tcase_add_test(tc, test_load_read_error);
    tcase_add_test(tc, test_sync_creates_and_updates);
    tcase_add_test(tc, test_sync_read_error_is_an_error);
    tcase_add_test(tc, test_unusable_record);
    tcase_add_test(tc, test_sync_disables_undeclared);
    tcase_add_test(tc, test_sync_removed_option_takes_default);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
