/* SPDX-License-Identifier: MIT */
/*
 * endpoint_keys.c - scheme and health names (see endpoint_keys.h), both
 * ways, from the ENDPOINT_SCHEME and ENDPOINT_HEALTH rows of
 * endpoint_keys.def. The lists for messages are the names joined at
 * compile time, so a new row shows in every "must be one of" at once.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "endpoint_keys.h"

static const char *const endpoint_scheme_names[] = {
#define ENDPOINT_SCHEME(id, name, doc) [id] = name,
#include "endpoint_keys.def"
};

static const char *const endpoint_health_names[] = {
#define ENDPOINT_HEALTH(id, name, doc) [id] = name,
#include "endpoint_keys.def"
};

#define NNAMES(a) (sizeof(a) / sizeof((a)[0]))

/* The index of name in names, or -1. */
static int endpoint_name_index(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

const char *endpoint_scheme_name(enum ep_scheme s)
{
    return (size_t)s < NNAMES(endpoint_scheme_names) ? endpoint_scheme_names[s] : "?";
}

int endpoint_scheme_from_name(const char *name, enum ep_scheme *s)
{
    int i = endpoint_name_index(endpoint_scheme_names, NNAMES(endpoint_scheme_names), name);

    if (i < 0)
        return -1;
    *s = (enum ep_scheme)i;
    return 0;
}

const char *endpoint_scheme_list(void)
{
    return ""
#define ENDPOINT_SCHEME(id, name, doc) ", " name
#include "endpoint_keys.def"
        + 2;
}

const char *endpoint_health_name(enum ep_health h)
{
    return (size_t)h < NNAMES(endpoint_health_names) ? endpoint_health_names[h] : "?";
}

int endpoint_health_from_name(const char *name, enum ep_health *h)
{
    int i = endpoint_name_index(endpoint_health_names, NNAMES(endpoint_health_names), name);

    if (i < 0)
        return -1;
    *h = (enum ep_health)i;
    return 0;
}

const char *endpoint_health_list(void)
{
    return ""
#define ENDPOINT_HEALTH(id, name, doc) ", " name
#include "endpoint_keys.def"
        + 2;
}
