/* SPDX-License-Identifier: MIT */
/*
 * cjson.h - canonical compact JSON.
 *
 * mailhook promises receivers that re-serializing a parsed event body with
 * the common compact serializers (JavaScript JSON.stringify, Python
 * json.dumps(separators=(",", ":"), ensure_ascii=False)) gives back the
 * exact bytes that were signed. jansson's JSON_COMPACT output differs from
 * those in three places, which this module closes:
 *   - control characters are escaped as \u001F (JS/Python: \u001f): a
 *     post-pass lowercases the hex digits of \u escapes;
 *   - integral reals print as "1.0" (JS: "1"): they are converted to integers;
 *   - reals needing more than 15 significant digits, or with a magnitude
 *     below 1e-4, or integers beyond +-(2^53-1), have no representation that
 *     every receiver reproduces: cjson_normalize() rejects them, with a message
 *     telling the producer to send them as strings.
 * Object key order is insertion order (jansson keeps it), which is also the
 * order JSON.parse/json.loads preserve.
 *
 *   cjson_normalize(v, err)  make v canonical in place (reals); -1 + err when
 *                            a value cannot be represented canonically
 *   cjson_dump(v, &len)      canonical compact UTF-8 text of a normalized v;
 *                            caller frees with free(); NULL for a NULL v
 *                            (as json_dumps), *len then untouched; NULL and
 *                            *len 0 for a text past CJSON_TEXT_MAX (warned)
 *   cjson_dump_jansson(v, &len)
 *                            the same bytes, produced by json_dumps plus the
 *                            post-pass: the reference that cjson_dump is
 *                            tested and fuzzed against
 *   cjw_open(w, bracket) / cjw_close(w, bracket), cjw_key(w, key),
 *   cjw_str(w, s), cjw_strn(w, s, n), cjw_int(w, v), cjw_bool(w, v),
 *   cjw_finish(w, &len)      the record writer (below): the same text as
 *                            cjson_dump, without building a jansson tree
 *   cjson_put_raw(b, s, n), cjson_put_str(b, s, n), cjson_put_number(b, x)
 *                            the canonical spellings into a cjson_buf, for a
 *                            writer of another tree (transform.c walks jq's
 *                            values): bytes as they are, a string, a number
 *                            (-1 for a NaN or an infinity, nothing written)
 *
 * Why two: json_dumps costs ~27k instructions for a 400-byte event (generic
 * flags, a callback per fragment, snprintf for every number), which made it
 * the largest cost of `mailhookctl parse`. cjson_dump walks the jansson
 * value itself with the few canonical rules above, into one buffer. jansson
 * still builds, validates and parses every value; tests/unit/check_cjson.c
 * and fuzz/fuzz_event.c assert both paths give identical bytes.
 */
#ifndef MH_CJSON_H
#define MH_CJSON_H

#include <stdbool.h>
#include <jansson.h>
#include "linebuf.h"
#include "msg.h"

#define CJSON_MAX_DEPTH 32

int cjson_normalize(json_t *v, mh_err_t *err);
char *cjson_dump(const json_t *v, size_t *len);
char *cjson_dump_jansson(const json_t *v, size_t *len);

/*
 * The record writer: the same text as cjson_dump of the equivalent tree,
 * written directly, for records made once per request on a hot path (the
 * delivery log) where building a jansson tree only to dump it cost more
 * than the rest of the work. Strings, integers, booleans and null only.
 *
 *   cjson_writer_t w = CJSON_WRITER_INIT;
 *   cjw_open(&w, '{'); cjw_key(&w, "n"); cjw_int(&w, 1); cjw_close(&w, '}');
 *   text = cjw_finish(&w, &len);   caller frees; w is reset
 *
 * cjw_str(w, NULL) writes null. cjw_finish returns NULL (and *len 0) when
 * the text grew past CJSON_TEXT_MAX (warned): nothing else fails.
 */

/* The largest text either writer makes: the admin protocol's largest
 * answer (ADMIN_REPLY_MAX), far above an event (max_event_size). */
#define CJSON_TEXT_MAX ((size_t)512 * 1024 * 1024)

/* A bounded buffer (linebuf.h); toobig once an append failed. */
struct cjson_buf {
    linebuf_t lb;
    bool toobig;
};

typedef struct {
    struct cjson_buf b;
    int depth;
    bool after_key;
    bool more[CJSON_MAX_DEPTH]; /* per open container: a value was written */
} cjson_writer_t;

/*
 * The pieces, for a writer that walks a tree of another library. A number
 * is spelled as cjson_dump spells the same value: integral and within
 * +-(2^53-1) as an integer (-0 is 0), else a real in its shortest
 * round-trip form (%g with the fewest digits that give x back). Outside
 * what cjson_normalize accepts (more than 15 digits, beyond 2^53, below
 * 1e-4) that spelling is %g's ("1e+300", "1e-05"), which JavaScript and
 * Python do not all reproduce: such a number has no canonical text.
 */
static inline void cjson_put_raw(struct cjson_buf *b, const char *s, size_t n)
{
    if (linebuf_append(&b->lb, s, n) < 0)
        b->toobig = true;
}
void cjson_put_str(struct cjson_buf *b, const char *s, size_t n);
int cjson_put_number(struct cjson_buf *b, double x);

#define CJSON_WRITER_INIT { { LINEBUF_INIT(CJSON_TEXT_MAX), false }, 0, false, { false } }

void cjw_open(cjson_writer_t *w, char bracket);
void cjw_close(cjson_writer_t *w, char bracket);
void cjw_key(cjson_writer_t *w, const char *key);
void cjw_str(cjson_writer_t *w, const char *s);
void cjw_strn(cjson_writer_t *w, const char *s, size_t n);
void cjw_int(cjson_writer_t *w, long long v);
void cjw_bool(cjson_writer_t *w, bool v);
char *cjw_finish(cjson_writer_t *w, size_t *len);

#endif
