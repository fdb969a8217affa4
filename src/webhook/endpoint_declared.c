/* SPDX-License-Identifier: MIT */
/*
 * endpoint_declared.c - a mailhook.conf endpoint section as endpoint JSON
 * (see endpoint_declared.h). One statement per row of endpoint_keys.def
 * with a config option, chosen by the row's type (the *_DECL macros) and
 * by whether the option has a "not given" value (CONF_UNSET).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "endpoint_declared.h"
#include "readfile.h"
#include "timeutil.h"
#include "xalloc.h"

/* A string option; left out when it equals unset (NULL: never). */
static void endpoint_declared_string(json_t *obj, const char *key, const char *v,
                                     const char *unset)
{
    if (unset == NULL || strcmp(v, unset) != 0)
        json_object_set_new(obj, key, json_string(v));
}

static void endpoint_declared_int(json_t *obj, const char *key, int v, bool omit)
{
    if (!omit)
        json_object_set_new(obj, key, json_integer(v));
}

/* A list of strings; left out when empty and omit_empty. */
static void endpoint_declared_list(json_t *obj, const char *key, char **v, size_t n,
                                   bool omit_empty)
{
    json_t *a;

    if (n == 0 && omit_empty)
        return;
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    json_object_set_new(obj, key, a);
}

/* "Name: value" lines as {"Name":"value"}; blanks after the colon skipped. */
static int endpoint_declared_headers(json_t *obj, const char *key, const char *name,
                                     char **v, size_t n, bool omit_empty, mh_err_t *err)
{
    char shown[68];
    json_t *h;

    if (n == 0 && omit_empty)
        return 0;
    h = json_object();
    json_object_set_new(obj, key, h);
    for (size_t i = 0; i < n; i++) {
        const char *line = v[i], *colon = strchr(line, ':');
        char *hname;

        if (colon == NULL || colon == line)
            return mh_err_set(err, "endpoint %s: %s: \"%s\" is not \"Name: value\"", name, key,
                              printable(shown, sizeof(shown), line, strlen(line)));
        hname = xstrndup(line, (size_t)(colon - line));
        for (colon++; *colon == ' ' || *colon == '\t'; colon++)
            ;
        json_object_set_new(h, hname, json_string(colon));
        free(hname);
    }
    return 0;
}

/* Durations ("5s", "30m", "2h") as whole seconds. */
static int endpoint_declared_retry(json_t *obj, const char *key, const char *name, char **v,
                                   size_t n, bool omit_empty, mh_err_t *err)
{
    char shown[36];
    json_t *a;
    int64_t ms;

    if (n == 0 && omit_empty)
        return 0;
    a = json_array();
    json_object_set_new(obj, key, a);
    for (size_t i = 0; i < n; i++) {
        if (time_parse_duration_ms(v[i], &ms) < 0 || ms % 1000 != 0)
            return mh_err_set(err, "endpoint %s: %s: \"%s\" is not a duration in whole "
                              "seconds (5s, 30m, 2h)", name, key,
                              printable(shown, sizeof(shown), v[i], strlen(v[i])));
        json_array_append_new(a, json_integer(ms / 1000));
    }
    return 0;
}

/* transform_file: the program in a file, instead of transform. */
static int endpoint_declared_transform_file(json_t *obj, const struct mh_conf_endpoint *ce,
                                            mh_err_t *err)
{
    char *text;
    json_t *v;

    if (ce->transform_file == NULL || ce->transform_file[0] == '\0')
        return 0;
    if (ce->transform[0] != '\0')
        return mh_err_set(err, "endpoint %s: transform_file: give transform or transform_file, "
                               "not both", ce->name);
    if ((text = readfile(ce->transform_file, EP_PROGRAM_MAX, err)) == NULL)
        return mh_err_prefix(err, "endpoint %s: transform_file", ce->name);
    v = json_string(text);
    free(text);
    if (v == NULL)
        return mh_err_set(err, "endpoint %s: transform_file: not UTF-8 text", ce->name);
    json_object_set_new(obj, "transform", v);
    return 0;
}

/* A row's option, by its type: omit says whether the row has a "not
 * given" value, unset is that value. */
#define STR_DECL(key, omit, unset) endpoint_declared_string(obj, #key, ce->key, (omit) ? (unset) : NULL)
#define EPK_URL_DECL STR_DECL
#define EPK_FORMAT_DECL STR_DECL
#define EPK_PROGRAM_DECL STR_DECL
#define EPK_AUTH_DECL STR_DECL
#define EPK_IDFORM_DECL STR_DECL
#define EPK_SCHEME_DECL STR_DECL
#define EPK_HNAME_DECL STR_DECL
#define EPK_TEXT_DECL STR_DECL
#define EPK_SECRET_DECL STR_DECL
#define EPK_COUNT_DECL(key, omit, unset) endpoint_declared_int(obj, #key, ce->key, (omit) && ce->key == (unset))
#define EPK_MS_DECL EPK_COUNT_DECL
#define EPK_BOOL_DECL(key, omit, unset) json_object_set_new(obj, #key, json_boolean(ce->key))
#define EPK_TYPES_DECL(key, omit, unset) endpoint_declared_list(obj, #key, ce->key, ce->n_##key, omit)
#define EPK_FILTERS_DECL EPK_TYPES_DECL
#define EPK_HEADERS_DECL(key, omit, unset)                                                   \
    if (endpoint_declared_headers(obj, #key, ce->name, ce->key, ce->n_##key, omit, err) < 0) \
        goto bad
#define EPK_RETRY_DECL(key, omit, unset)                                                     \
    if (endpoint_declared_retry(obj, #key, ce->name, ce->key, ce->n_##key, omit, err) < 0)   \
        goto bad

/* The conf column of a row: no option, an option always passed on, or an
 * option with a value that stands for "not given". */
#define CONF_NO DECL_SKIP, 0
#define CONF_YES DECL_ALWAYS, 0
#define CONF_UNSET(v) DECL_UNLESS, v
#define DECL_ROW(sel, unset, type, key) sel(unset, type, key)
#define DECL_SKIP(unset, type, key)
#define DECL_ALWAYS(unset, type, key) type##_DECL(key, false, unset);
#define DECL_UNLESS(unset, type, key) type##_DECL(key, true, unset);

json_t *endpoint_declared_json(const struct mh_conf_endpoint *ce, mh_err_t *err)
{
    json_t *obj = json_object();

    json_object_set_new(obj, "name", json_string(ce->name));
#define ENDPOINT_KEY(key, type, min, max, def, cli, conf, doc) DECL_ROW(conf, type, key)
#include "endpoint_keys.def"
    if (endpoint_declared_transform_file(obj, ce, err) < 0)
        goto bad;
    json_object_set_new(obj, "source", json_string("config"));
    return obj;
bad:
    json_decref(obj);
    return NULL;
}
