/* SPDX-License-Identifier: MIT */
/*
 * cjson.c - canonical compact JSON on top of jansson (see cjson.h for why).
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cjson.h"
#include "strutil.h"

#define CJSON_MAX_SAFE_INT 9007199254740991LL /* 2^53 - 1 */
#define CJSON_MAX_DIGITS 15

static bool round_trips(double x, int p)
{
    char buf[40];

    snprintf(buf, sizeof(buf), "%.*g", p, x);
    return strtod(buf, NULL) == x;
}

/* Fewest significant digits (1..17) with which %g round-trips x. A binary
 * search (4 or 5 tries, not up to 17: a transform's timestamp / 1000 took
 * 3 us): once p digits round-trip, so do p + 1, since the p-digit text is
 * itself a candidate for the nearest (p + 1)-digit one. 17 always do. */
static int real_digits(double x)
{
    int lo = 1, hi = 17, mid;

    while (lo < hi) {
        mid = (lo + hi) / 2;
        if (round_trips(x, mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Canonicalize one real: integral -> integer; else check representability.
 * *digits receives the significant digits the value needs. */
static int normalize_real(json_t *parent, const char *key, size_t index, json_t *v,
                          int *digits, mh_err_t *err)
{
    double x = json_real_value(v);
    json_t *repl;

    if (!isfinite(x))
        return mh_err_set(err, "number is not finite");
    if (x == floor(x)) {
        if (fabs(x) > (double)CJSON_MAX_SAFE_INT)
            return mh_err_set(err, "number %.17g is beyond +-2^53-1: send it as a string", x);
        repl = json_integer((json_int_t)x);
        if (key)
            json_object_set_new(parent, key, repl);
        else
            json_array_set_new(parent, index, repl);
        return 0;
    }
    if (fabs(x) < 1e-4)
        return mh_err_set(err, "number %.17g is below 1e-4 in magnitude: send it as a string", x);
    *digits = real_digits(x);
    if (*digits > CJSON_MAX_DIGITS)
        return mh_err_set(err, "number %.17g needs more than %d significant digits: send it "
                               "as a string", x, CJSON_MAX_DIGITS);
    return 0;
}

static int normalize(json_t *v, int depth, int *max_digits, mh_err_t *err);

static int normalize_child(json_t *parent, const char *key, size_t index, json_t *child,
                           int depth, int *max_digits, mh_err_t *err)
{
    int digits = 0;

    if (json_is_real(child)) {
        if (normalize_real(parent, key, index, child, &digits, err) < 0)
            return -1;
        if (digits > *max_digits)
            *max_digits = digits;
        return 0;
    }
    return normalize(child, depth + 1, max_digits, err);
}

static int normalize(json_t *v, int depth, int *max_digits, mh_err_t *err)
{
    const char *key;
    json_t *child;
    size_t i;

    if (depth > CJSON_MAX_DEPTH)
        return mh_err_set(err, "JSON nested deeper than %d levels", CJSON_MAX_DEPTH);
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n > CJSON_MAX_SAFE_INT || n < -CJSON_MAX_SAFE_INT)
            return mh_err_set(err, "integer %lld is beyond +-2^53-1: send it as a string",
                              (long long)n);
    } else if (json_is_object(v)) {
        json_object_foreach(v, key, child)
            if (normalize_child(v, key, 0, child, depth, max_digits, err) < 0)
                return -1;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child)
            if (normalize_child(v, NULL, i, child, depth, max_digits, err) < 0)
                return -1;
    }
    return 0;
}

int cjson_normalize(json_t *v, mh_err_t *err)
{
    int max_digits = 0;

    if (json_is_real(v))
        return mh_err_set(err, "a bare number is not an event payload");
    return normalize(v, 0, &max_digits, err);
}

/* The digits the widest real in v needs (v already normalized). */
static int widest_real(const json_t *v)
{
    const char *key;
    json_t *child;
    size_t i;
    int w = 0, c;

    if (json_is_real(v))
        return real_digits(json_real_value(v));
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child)
            if ((c = widest_real(child)) > w)
                w = c;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child)
            if ((c = widest_real(child)) > w)
                w = c;
    }
    return w;
}

/* jansson writes \u001F; JavaScript and Python write \u001f. */
static void lowercase_unicode_escapes(char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u')
            for (size_t k = i + 2; k < i + 6 && k < len; k++)
                if (s[k] >= 'A' && s[k] <= 'F')
                    s[k] = (char)(s[k] - 'A' + 'a');
        i++; /* skip the escaped character (also a backslash) */
    }
}

char *cjson_dump_jansson(const json_t *v, size_t *len)
{
    int digits = widest_real(v);
    size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    char *s;

    /* Every real in a normalized value round-trips with <= 15 digits, and %g
     * at the widest value's precision prints each one in its shortest form. */
    if (digits > 0)
        flags |= JSON_REAL_PRECISION(digits);
    s = json_dumps(v, flags);
    if (s == NULL)
        return NULL;
    *len = strlen(s);
    lowercase_unicode_escapes(s, *len);
    return s;
}

/* ---- the direct writer */

/* Past CJSON_TEXT_MAX the text is abandoned: later puts (cjson_put_raw)
 * may land or not, cbuf_finish throws the buffer away. */

/* The text (the caller's), or NULL with *len 0 when it grew too big. */
static char *cbuf_finish(struct cjson_buf *b, size_t *len)
{
    if (b->toobig) {
        msg_warn("cjson: a JSON text larger than %zu bytes is not made", CJSON_TEXT_MAX);
        linebuf_free(&b->lb);
        if (len)
            *len = 0;
        return NULL;
    }
    return linebuf_steal(&b->lb, len);
}

/* Bytes that a JSON string must escape: control characters, '"', '\\'. */
static const bool needs_escape[256] = {
    [0 ... 0x1f] = true, ['"'] = true, ['\\'] = true,
};

/* A JSON string: escape '"', '\\' and control characters the way jansson,
 * JSON.stringify and json.dumps agree on (\b \f \n \r \t, else \u00xx). */
static void put_string(struct cjson_buf *b, const char *s, size_t n)
{
    size_t i, run = 0;

    if (linebuf_reserve(&b->lb, n + 2) < 0) /* most strings need no escape */
        b->toobig = true;
    cjson_put_raw(b, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];

        if (!needs_escape[c])
            continue;
        cjson_put_raw(b, s + run, i - run);
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        }
        if (esc) {
            cjson_put_raw(b, esc, 2);
        } else {
            memcpy(u, "\\u00", 4);
            hex_encode(u + 4, &c, 1);
            cjson_put_raw(b, u, 6);
        }
        run = i + 1;
    }
    cjson_put_raw(b, s + run, n - run);
    cjson_put_raw(b, "\"", 1);
}

void cjson_put_str(struct cjson_buf *b, const char *s, size_t n)
{
    put_string(b, s, n);
}

static void put_integer(struct cjson_buf *b, json_int_t v)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    cjson_put_raw(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

int cjson_put_number(struct cjson_buf *b, double x)
{
    char num[40];
    int n;

    if (!isfinite(x))
        return -1;
    if (x == floor(x) && fabs(x) <= (double)CJSON_MAX_SAFE_INT) {
        put_integer(b, (json_int_t)x);
        return 0;
    }
    n = snprintf(num, sizeof(num), "%.*g", real_digits(x), x);
    cjson_put_raw(b, num, (size_t)n);
    return 0;
}

static void put_value(struct cjson_buf *b, const json_t *v, int digits)
{
    const char *key;
    json_t *child;
    size_t i;
    char num[40];
    int n;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        cjson_put_raw(b, "{", 1);
        i = 0;
        json_object_foreach((json_t *)v, key, child) {
            if (i++)
                cjson_put_raw(b, ",", 1);
            put_string(b, key, strlen(key));
            cjson_put_raw(b, ":", 1);
            put_value(b, child, digits);
        }
        cjson_put_raw(b, "}", 1);
        break;
    case JSON_ARRAY:
        cjson_put_raw(b, "[", 1);
        json_array_foreach(v, i, child) {
            if (i)
                cjson_put_raw(b, ",", 1);
            put_value(b, child, digits);
        }
        cjson_put_raw(b, "]", 1);
        break;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_integer(b, json_integer_value(v));
        break;
    case JSON_REAL:
        /* Normalized: non-integral, >= 1e-4, <= 15 digits: %g never uses an
         * exponent here, and prints the shortest form (see cjson_dump_jansson). */
        n = snprintf(num, sizeof(num), "%.*g", digits, json_real_value(v));
        cjson_put_raw(b, num, (size_t)n);
        break;
    case JSON_TRUE: cjson_put_raw(b, "true", 4); break;
    case JSON_FALSE: cjson_put_raw(b, "false", 5); break;
    case JSON_NULL: cjson_put_raw(b, "null", 4); break;
    }
}

char *cjson_dump(const json_t *v, size_t *len)
{
    struct cjson_buf b = { LINEBUF_INIT(CJSON_TEXT_MAX), false };

    if (v == NULL) /* as json_dumps(NULL): a failed json_pack has no text */
        return NULL;
    put_value(&b, v, widest_real(v));
    return cbuf_finish(&b, len);
}

/* ---- the record writer */

/* Before a value or a key: a comma unless first in its container, or the
 * value of the key just written. */
static void cjw_sep(cjson_writer_t *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->more[w->depth])
        cjson_put_raw(&w->b, ",", 1);
    w->more[w->depth] = true;
}

void cjw_open(cjson_writer_t *w, char bracket)
{
    cjw_sep(w);
    cjson_put_raw(&w->b, &bracket, 1);
    if (w->depth + 1 >= CJSON_MAX_DEPTH)
        msg_fatal(EX_SOFTWARE, "cjw_open: nested deeper than %d", CJSON_MAX_DEPTH);
    w->more[++w->depth] = false;
}

void cjw_close(cjson_writer_t *w, char bracket)
{
    cjson_put_raw(&w->b, &bracket, 1);
    w->depth--;
}

void cjw_key(cjson_writer_t *w, const char *key)
{
    cjw_sep(w);
    put_string(&w->b, key, strlen(key));
    cjson_put_raw(&w->b, ":", 1);
    w->after_key = true;
}

void cjw_strn(cjson_writer_t *w, const char *s, size_t n)
{
    cjw_sep(w);
    put_string(&w->b, s, n);
}

void cjw_str(cjson_writer_t *w, const char *s)
{
    if (s == NULL) {
        cjw_sep(w);
        cjson_put_raw(&w->b, "null", 4);
    } else {
        cjw_strn(w, s, strlen(s));
    }
}

void cjw_int(cjson_writer_t *w, long long v)
{
    cjw_sep(w);
    put_integer(&w->b, (json_int_t)v);
}

void cjw_bool(cjson_writer_t *w, bool v)
{
    cjw_sep(w);
    cjson_put_raw(&w->b, v ? "true" : "false", v ? 4 : 5);
}

char *cjw_finish(cjson_writer_t *w, size_t *len)
{
    char *p = cbuf_finish(&w->b, len);

    *w = (cjson_writer_t)CJSON_WRITER_INIT;
    return p;
}
