/* SPDX-License-Identifier: MIT */
/*
 * endpoint_keys.c - scheme, health and format names (see endpoint_keys.h),
 * both ways, from the ENDPOINT_SCHEME, ENDPOINT_HEALTH and ENDPOINT_FORMAT
 * rows of endpoint_keys.def, and the delivery id forms. The lists for messages are the names joined at
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

static const struct {
    const char *name, *defaults;
    enum ep_shape shape;
} endpoint_formats[] = {
#define ENDPOINT_FORMAT(id, name, shape, defaults, doc) [id] = { name, defaults, shape },
#include "endpoint_keys.def"
};

static const char *const endpoint_idform_names[] = { [EP_ID_ULID] = "ulid", [EP_ID_UUID] = "uuid" };

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

const char *endpoint_format_name(enum ep_format f)
{
    return (size_t)f < NNAMES(endpoint_formats) ? endpoint_formats[f].name : "?";
}

int endpoint_format_from_name(const char *name, enum ep_format *f)
{
    for (size_t i = 0; i < NNAMES(endpoint_formats); i++)
        if (strcmp(endpoint_formats[i].name, name) == 0) {
            *f = (enum ep_format)i;
            return 0;
        }
    return -1;
}

const char *endpoint_format_list(void)
{
    return ""
#define ENDPOINT_FORMAT(id, name, shape, defaults, doc) ", " name
#include "endpoint_keys.def"
        + 2;
}

enum ep_shape endpoint_format_shape(enum ep_format f)
{
    return (size_t)f < NNAMES(endpoint_formats) ? endpoint_formats[f].shape : EP_SHAPE_ANY;
}

const char *endpoint_format_defaults(enum ep_format f)
{
    return (size_t)f < NNAMES(endpoint_formats) ? endpoint_formats[f].defaults : "{}";
}

const char *endpoint_idform_name(enum ep_idform d)
{
    return (size_t)d < NNAMES(endpoint_idform_names) ? endpoint_idform_names[d] : "?";
}

int endpoint_idform_from_name(const char *name, enum ep_idform *d)
{
    int i = endpoint_name_index(endpoint_idform_names, NNAMES(endpoint_idform_names), name);

    if (i < 0)
        return -1;
    *d = (enum ep_idform)i;
    return 0;
}

bool endpoint_scheme_has_header(enum ep_scheme s)
{
    return s == EP_SCHEME_HMAC_SHA256_HEX || s == EP_SCHEME_SHA256_SECRET_BODY;
}

bool endpoint_scheme_is_ec(enum ep_scheme s)
{
    return s == EP_SCHEME_SENDGRID;
}
