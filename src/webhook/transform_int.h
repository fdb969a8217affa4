/* SPDX-License-Identifier: MIT */
/*
 * transform_int.h - private to the transform module (transform.h): the
 * conversions between canonical JSON text and jq's values, in
 * transform_jv.c, that transform.c runs a program between. Nothing else
 * includes it but the module's tests (check_transform.c, fuzz_transform.c).
 *
 *   transform_jv_parse(text, len)   (transform_jv.c) the jq value of a JSON
 *                          text, as jv_parse_sized(text, len) gives it (an
 *                          invalid value with a message when it is not
 *                          JSON); canonical text (cjson.h: no whitespace,
 *                          reals without exponents, <= 15 digits) takes a
 *                          direct path, anything else jq's own parser
 *   transform_jv_parse_fast(text, len, &out)  (transform_jv.c) that direct
 *                          path alone: true and *out, or false (nothing to
 *                          free) for a text outside its grammar
 *   transform_jv_write(w, v, depth) (transform_jv.c) v (not consumed) as
 *                          canonical compact JSON into w->b; -1 + w->err
 *                          when it cannot be (a NaN or an infinity, nested
 *                          deeper than TRANSFORM_MAX_DEPTH), or when w->b
 *                          grew past w->room (checked at every value)
 */
#ifndef MH_TRANSFORM_INT_H
#define MH_TRANSFORM_INT_H

#include <jq.h>
#include <stdbool.h>
#include <stddef.h>

#include "cjson.h"
#include "msg.h"

struct transform_writer {
    struct cjson_buf b;
    size_t room;    /* the bytes b may hold */
    size_t max_out; /* the caller's bound, for the message */
    mh_err_t *err;
};

jv transform_jv_parse(const char *text, size_t len);
bool transform_jv_parse_fast(const char *text, size_t len, jv *out);
int transform_jv_write(struct transform_writer *w, jv v, int depth);

#endif
