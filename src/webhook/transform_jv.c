/* SPDX-License-Identifier: MIT */
/*
 * transform_jv.c - canonical JSON text in and out of jq's values, for the
 * transforms (transform_int.h).
 *
 * In. jq 1.6's parser (jv_parse_sized) spends ~100k instructions on a
 * 700-byte event, half of them in its byte-at-a-time tokenizer, which made
 * it two thirds of a transform's cost. The events a transform gets are
 * canonical (cjson.h): no whitespace, no exponents, reals of <= 15
 * significant digits. transform_jv_parse reads exactly that grammar, strict
 * JSON and nothing more, and builds the same values with the same calls jq
 * makes (jv_string_sized, which checks UTF-8; jv_object_set in text order;
 * jv_array_append). A number of <= 15 digits is m / 10^k with both exact
 * doubles: the one division is correctly rounded, as jq's strtod is. At the
 * first thing outside that grammar (an exponent, a 16th digit, whitespace,
 * a lone surrogate, a raw control character, nesting past 64 levels,
 * anything after the value) it gives up and returns what jv_parse_sized
 * says of the whole text, errors included: the result is always jq's.
 * fuzz/fuzz_transform.c asserts both give identical values on any bytes.
 *
 * Out. The writer walks the value with jv_get_kind, jv_object_iter* and
 * jv_array_get into cjson's pieces (cjson_put_str, cjson_put_number): the
 * same text as cjson_dump would give for the same tree, and unlike
 * jv_dump_string (~10 us an event, other escapes), bounded as it writes.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transform.h"
#include "transform_int.h"
#include "xalloc.h"

#define PARSE_MAX_DEPTH 64
#define PARSE_MAX_DIGITS 15

struct cursor {
    const char *p, *end;
    int depth;
};

static bool parse_value(struct cursor *c, jv *out);

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The four hex digits at p, or -1. */
static long hex4(const char *p, const char *end)
{
    long v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t utf8_put(char *o, long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* One \u escape (after the "\u") into o: its length, or 0 for what this
 * path does not take (bad hex, a lone surrogate). *q advances. */
static size_t parse_u(const char **q, const char *end, char *o)
{
    long cp = hex4(*q, end), lo;

    if (cp < 0)
        return 0;
    *q += 4;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return 0;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (end - *q < 6 || (*q)[0] != '\\' || (*q)[1] != 'u')
            return 0;
        lo = hex4(*q + 2, end);
        if (lo < 0xdc00 || lo > 0xdfff)
            return 0;
        *q += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return utf8_put(o, cp);
}

/* A string with escapes, from s (after the quote): decoded into a copy
 * (never longer than the text). */
static bool parse_escaped(struct cursor *c, const char *s, jv *out)
{
    char *buf = xmalloc((size_t)(c->end - s) + 1), *o = buf;
    const char *q = s;
    bool ok = false;
    size_t n;

    while (q < c->end) {
        unsigned char ch = (unsigned char)*q;
        if (ch == '"') {
            *out = jv_string_sized(buf, (int)(o - buf));
            c->p = q + 1;
            ok = true;
            break;
        }
        if (ch < 0x20)
            break;
        if (ch != '\\') {
            *o++ = (char)ch;
            q++;
            continue;
        }
        if (++q == c->end)
            break;
        switch (*q++) {
        case '"': *o++ = '"'; continue;
        case '\\': *o++ = '\\'; continue;
        case '/': *o++ = '/'; continue;
        case 'b': *o++ = '\b'; continue;
        case 'f': *o++ = '\f'; continue;
        case 'n': *o++ = '\n'; continue;
        case 'r': *o++ = '\r'; continue;
        case 't': *o++ = '\t'; continue;
        case 'u':
            if ((n = parse_u(&q, c->end, o)) == 0)
                break;
            o += n;
            continue;
        }
        break; /* an escape this path does not take */
    }
    free(buf);
    return ok;
}

/* At the opening quote. */
static bool parse_string(struct cursor *c, jv *out)
{
    const char *s = c->p + 1;

    for (const char *q = s; q < c->end; q++) {
        unsigned char ch = (unsigned char)*q;
        if (ch == '"') {
            *out = jv_string_sized(s, (int)(q - s));
            c->p = q + 1;
            return true;
        }
        if (ch == '\\')
            return parse_escaped(c, s, out);
        if (ch < 0x20)
            return false;
    }
    return false;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)? with at most PARSE_MAX_DIGITS significant
 * digits; no exponent. */
static bool parse_number(struct cursor *c, jv *out)
{
    static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    const char *q = c->p, *end = c->end;
    bool neg = q < end && *q == '-';
    uint64_t m = 0;
    int digits = 0, frac = 0;
    double x;

    q += neg;
    if (q == end || *q < '0' || *q > '9')
        return false;
    if (*q == '0') {
        if (++q < end && *q >= '0' && *q <= '9')
            return false;
    } else {
        for (; q < end && *q >= '0' && *q <= '9'; q++, digits++)
            m = m * 10 + (uint64_t)(*q - '0');
    }
    if (q < end && *q == '.') {
        if (++q == end || *q < '0' || *q > '9')
            return false;
        for (; q < end && *q >= '0' && *q <= '9'; q++, frac++) {
            m = m * 10 + (uint64_t)(*q - '0');
            digits += m != 0; /* leading zeros are not significant */
            if (frac == (int)(sizeof(pow10) / sizeof(pow10[0])) - 1)
                return false;
        }
    }
    if (digits > PARSE_MAX_DIGITS || (q < end && (*q == 'e' || *q == 'E')))
        return false;
    x = (double)m / pow10[frac];
    *out = jv_number(neg ? -x : x);
    c->p = q;
    return true;
}

static bool parse_literal(struct cursor *c, const char *word, size_t n, jv v, jv *out)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return false;
    c->p += n;
    *out = v;
    return true;
}

static bool at(const struct cursor *c, char ch) { return c->p < c->end && *c->p == ch; }

static bool parse_object(struct cursor *c, jv *out)
{
    jv o = jv_object(), k, v;

    if (at(c, '}'))
        goto done;
    for (;;) {
        if (!at(c, '"') || !parse_string(c, &k))
            goto fail;
        if (!at(c, ':')) {
            jv_free(k);
            goto fail;
        }
        c->p++;
        if (!parse_value(c, &v)) {
            jv_free(k);
            goto fail;
        }
        o = jv_object_set(o, k, v);
        if (!at(c, ','))
            break;
        c->p++;
    }
    if (!at(c, '}'))
        goto fail;
done:
    c->p++;
    *out = o;
    return true;
fail:
    jv_free(o);
    return false;
}

static bool parse_array(struct cursor *c, jv *out)
{
    jv a = jv_array(), v;

    if (at(c, ']'))
        goto done;
    for (;;) {
        if (!parse_value(c, &v))
            goto fail;
        a = jv_array_append(a, v);
        if (!at(c, ','))
            break;
        c->p++;
    }
    if (!at(c, ']'))
        goto fail;
done:
    c->p++;
    *out = a;
    return true;
fail:
    jv_free(a);
    return false;
}

static bool parse_value(struct cursor *c, jv *out)
{
    bool ok = false;

    if (c->p == c->end || ++c->depth > PARSE_MAX_DEPTH)
        return false;
    switch (*c->p) {
    case '{': c->p++; ok = parse_object(c, out); break;
    case '[': c->p++; ok = parse_array(c, out); break;
    case '"': ok = parse_string(c, out); break;
    case 't': ok = parse_literal(c, "true", 4, jv_true(), out); break;
    case 'f': ok = parse_literal(c, "false", 5, jv_false(), out); break;
    case 'n': ok = parse_literal(c, "null", 4, jv_null(), out); break;
    default: ok = parse_number(c, out); break;
    }
    c->depth--;
    return ok;
}

bool transform_jv_parse_fast(const char *text, size_t len, jv *out)
{
    struct cursor c = { text, text + len, 0 };

    if (!parse_value(&c, out))
        return false;
    if (c.p == c.end)
        return true;
    jv_free(*out);
    return false;
}

jv transform_jv_parse(const char *text, size_t len)
{
    jv v;

    return transform_jv_parse_fast(text, len, &v) ? v : jv_parse_sized(text, (int)len);
}

/* ---- out */

static int write_array(struct transform_writer *w, jv v, int depth)
{
    int n = jv_array_length(jv_copy(v)), rc = 0;

    cjson_put_raw(&w->b, "[", 1);
    for (int i = 0; i < n && rc == 0; i++) {
        jv e = jv_array_get(jv_copy(v), i);
        if (i > 0)
            cjson_put_raw(&w->b, ",", 1);
        rc = transform_jv_write(w, e, depth + 1);
        jv_free(e);
    }
    cjson_put_raw(&w->b, "]", 1);
    return rc;
}

static int write_object(struct transform_writer *w, jv v, int depth)
{
    int rc = 0;
    bool first = true;

    cjson_put_raw(&w->b, "{", 1);
    for (int it = jv_object_iter(v); rc == 0 && jv_object_iter_valid(v, it);
         it = jv_object_iter_next(v, it)) {
        jv k = jv_object_iter_key(v, it), e = jv_object_iter_value(v, it);
        if (!first)
            cjson_put_raw(&w->b, ",", 1);
        first = false;
        cjson_put_str(&w->b, jv_string_value(k), (size_t)jv_string_length_bytes(jv_copy(k)));
        cjson_put_raw(&w->b, ":", 1);
        rc = transform_jv_write(w, e, depth + 1);
        jv_free(k);
        jv_free(e);
    }
    cjson_put_raw(&w->b, "}", 1);
    return rc;
}

int transform_jv_write(struct transform_writer *w, jv v, int depth)
{
    int rc = 0;

    switch (jv_get_kind(v)) {
    case JV_KIND_NULL: cjson_put_raw(&w->b, "null", 4); break;
    case JV_KIND_TRUE: cjson_put_raw(&w->b, "true", 4); break;
    case JV_KIND_FALSE: cjson_put_raw(&w->b, "false", 5); break;
    case JV_KIND_NUMBER:
        if (cjson_put_number(&w->b, jv_number_value(v)) < 0)
            return mh_err_set(w->err, "transform: the output holds a number that is not finite");
        break;
    case JV_KIND_STRING:
        cjson_put_str(&w->b, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
        break;
    case JV_KIND_ARRAY:
    case JV_KIND_OBJECT:
        if (depth >= TRANSFORM_MAX_DEPTH)
            return mh_err_set(w->err, "transform: the output is nested deeper than %d levels",
                              TRANSFORM_MAX_DEPTH);
        rc = jv_get_kind(v) == JV_KIND_ARRAY ? write_array(w, v, depth) : write_object(w, v, depth);
        break;
    default:
        return mh_err_set(w->err, "transform: the output holds an invalid value");
    }
    if (rc == 0 && (w->b.toobig || linebuf_len(&w->b.lb) > w->room))
        return mh_err_set(w->err, "transform: the output is larger than %zu bytes", w->max_out);
    return rc;
}
