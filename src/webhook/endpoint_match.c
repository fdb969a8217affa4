/* SPDX-License-Identifier: MIT */
/*
 * endpoint_match.c - does an event go to an endpoint (endpoint.h): its type
 * against the endpoint's type patterns, its data against the filters (the
 * same key twice: either value; different keys: all must hold); and the
 * comparison of one value with a filter's text, which replay --tenant
 * shares (endpoint_value_equals).
 *
 * metadata.NAME with a dotted NAME is a path into nested objects; an array
 * met on the way (or at its end) holds when one of its elements does. At
 * each object the rest of the path is first tried as one key, so a key
 * holding a dot ("a.b") still matches metadata.a.b as it did before paths.
 * The walk visits each value of the event at most once per step of the
 * path and stops at EP_MATCH_DEPTH_MAX levels of arrays or objects: its
 * cost is bounded by the event's size (itself bounded by max_event_size)
 * times the path's steps.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cjson.h"
#include "endpoint_int.h"

/* ---- matching */

bool endpoint_type_matches(const char *pattern, const char *type)
{
    size_t len = strlen(pattern);

    if (strcmp(pattern, "*") == 0)
        return true;
    if (len >= 2 && strcmp(pattern + len - 2, ".*") == 0) /* the prefix with its dot */
        return strncmp(type, pattern, len - 1) == 0 && type[len - 1] != 0;
    return strcmp(pattern, type) == 0;
}

/* A string equals want; a number or boolean when its JSON text does. */
bool endpoint_value_equals(const json_t *v, const char *want)
{
    char buf[32], *text;
    size_t len;
    bool eq;

    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return json_string_length(v) == strlen(want) && strcmp(json_string_value(v), want) == 0;
    case JSON_INTEGER:
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return strcmp(buf, want) == 0;
    case JSON_REAL:
        text = cjson_dump(v, &len); /* the text the event carries */
        eq = strcmp(text, want) == 0;
        free(text);
        return eq;
    case JSON_TRUE:
        return strcmp(want, "true") == 0;
    case JSON_FALSE:
        return strcmp(want, "false") == 0;
    default:
        return false;
    }
}

/* Levels of objects and arrays the walk follows: more than a path can have
 * (a filter is at most EP_FILTER_TEXT_MAX bytes), a bound on the recursion
 * an event of nested arrays could ask for. */
#define EP_MATCH_DEPTH_MAX (EP_FILTER_TEXT_MAX + 16)

static bool path_holds(const json_t *v, const char *path, size_t len, const char *want,
                       int depth);

/* v, or any element of v when it is an array (arrays of arrays too), is
 * the scalar want (len == 0) or holds the rest of the path. */
static bool value_holds(const json_t *v, const char *path, size_t len, const char *want,
                        int depth)
{
    const json_t *e;
    size_t i;

    if (depth > EP_MATCH_DEPTH_MAX)
        return false;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (value_holds(e, path, len, want, depth + 1))
                return true;
        }
        return false;
    }
    return len == 0 ? endpoint_value_equals(v, want) : path_holds(v, path, len, want, depth + 1);
}

/* The object obj holds path (len bytes, a dotted key list) = want: the
 * whole path as one key, or its first step and then the rest. */
static bool path_holds(const json_t *obj, const char *path, size_t len, const char *want,
                       int depth)
{
    const char *dot = memchr(path, '.', len);
    size_t step;

    if (!json_is_object(obj))
        return false;
    if (value_holds(json_object_getn(obj, path, len), "", 0, want, depth))
        return true;
    if (dot == NULL)
        return false;
    step = (size_t)(dot - path);
    return value_holds(json_object_getn(obj, path, step), dot + 1, len - step - 1, want, depth);
}

/* The domain of an address (after its last '@') equals want, ignoring case. */
static bool domain_equals(const json_t *v, const char *want)
{
    const char *s = json_string_value(v), *at;

    if (s == NULL || (at = strrchr(s, '@')) == NULL)
        return false;
    return strcasecmp(at + 1, want) == 0;
}

static bool filter_holds(const struct ep_filter *f, const json_t *data)
{
    const json_t *tags, *tag;
    size_t i;

    switch (f->key) {
    case EPF_SENDER_DOMAIN:
        return domain_equals(json_object_get(data, "from"), f->value);
    case EPF_RECIPIENT_DOMAIN:
        return domain_equals(json_object_get(data, "recipient"), f->value);
    case EPF_TENANT:
        return endpoint_value_equals(json_object_get(data, "tenant"), f->value);
    case EPF_TAG:
        tags = json_object_get(data, "tags");
        json_array_foreach(tags, i, tag) {
            if (endpoint_value_equals(tag, f->value))
                return true;
        }
        return false;
    case EPF_METADATA:
        return path_holds(json_object_get(data, "metadata"), f->meta_name,
                          strlen(f->meta_name), f->value, 0);
    }
    return false;
}

/* Filters on the same key (metadata: the same NAME) form one OR group. */
static bool filter_same_key(const struct ep_filter *a, const struct ep_filter *b)
{
    return a->key == b->key && (a->key != EPF_METADATA || strcmp(a->meta_name, b->meta_name) == 0);
}

/* The group of filters[i] holds: one of its filters does. */
static bool filter_group_holds(const endpoint_t *ep, size_t i, const json_t *data)
{
    for (size_t j = i; j < ep->nfilters; j++)
        if (filter_same_key(&ep->filters[i], &ep->filters[j]) &&
            filter_holds(&ep->filters[j], data))
            return true;
    return false;
}

bool endpoint_matches(const endpoint_t *ep, const char *type, const json_t *data)
{
    bool type_ok = false, seen;

    for (size_t i = 0; i < ep->ntypes && !type_ok; i++)
        type_ok = endpoint_type_matches(ep->types[i], type);
    if (!type_ok)
        return false;
    for (size_t i = 0; i < ep->nfilters; i++) {
        seen = false; /* the group was judged at its first filter */
        for (size_t j = 0; j < i && !seen; j++)
            seen = filter_same_key(&ep->filters[i], &ep->filters[j]);
        if (!seen && !filter_group_holds(ep, i, data))
            return false;
    }
    return true;
}

