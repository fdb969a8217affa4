/* SPDX-License-Identifier: MIT */
/*
 * fuzz_transform.c - libFuzzer entry point for the transforms (transform.h)
 * on outside input: the bytes are an event as a producer sends it; when
 * event_from_json() takes it, its canonical text goes, as the delivery
 * engine passes it, through every built-in format program and a few fixed
 * transforms and where filters. Nothing may crash or leak; every output
 * must be JSON (jansson takes "[" + outputs + "]"); `.` must give back the
 * event's canonical text byte for byte (the output writer and cjson_dump
 * agree), and a where filter answers 1, 0 or -1. Before that, on any bytes,
 * the event parser's direct path (transform_jv_parse_fast) must give
 * exactly the value that jq's jv_parse_sized gives, when it takes them.
 *
 * Build and run: make fuzz (needs clang), or see tests/t0096-fuzz-transform.sh.
 */
#include "config.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "transform.h"
#include "transform_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const maps[] = {
    ".",
    "{email: .data.recipient, timestamp: $meta.time, event: (.type|ltrimstr(\"email.\")), "
    "sg_event_id: .id}",
    "[paths(scalars)], (.data | to_entries[] | {(.key): .value}), $meta",
    "[.. | strings | length], [.. | numbers], (.data | tostream)",
    ".data[]?, (.data | keys_unsorted), (.type | split(\".\")), (.data.tags // [] | index(\"vip\"))",
};

static const char *const wheres[] = {
    ".type == \"email.bounced\"",
    ".data.metadata.contact.tags | index(\"vip\") != null",
    ".data.recipient | test(\"@example\\\\.(com|org)$\")",
};

#define NMAPS (sizeof(maps) / sizeof(maps[0]))
#define NWHERES (sizeof(wheres) / sizeof(wheres[0]))
#define NFORMATS_MAX 64

/* Compiled once, before the fuzzing, and freed at exit: jq keeps its stack
 * by a pointer to the block's end, which LeakSanitizer does not follow, so
 * a live transform's stack would look leaked to it. A first run of each
 * (the warm-up) allocates that stack before libFuzzer counts allocations. */
static transform_t *map_t[NMAPS + NFORMATS_MAX], *where_t[NWHERES];
static size_t nmap;

static const char WARM_UP[] =
    "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"email.sent\","
    "\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"data\":{\"recipient\":\"a@example.com\"}}";

static void teardown(void)
{
    for (size_t i = 0; i < nmap; i++)
        map_t[i] = transform_free(map_t[i]);
    for (size_t i = 0; i < NWHERES; i++)
        where_t[i] = transform_free(where_t[i]);
}

static void setup(void)
{
    mh_err_t err;

    for (size_t i = 0; i < NMAPS; i++)
        if ((map_t[nmap++] = transform_compile(maps[i], TRANSFORM_MAP, &err)) == NULL)
            abort();
    for (const struct transform_format *f = transform_formats; f->name; f++) {
        if (nmap == NMAPS + NFORMATS_MAX)
            abort();
        if ((map_t[nmap++] = transform_compile(f->program, TRANSFORM_MAP, &err)) == NULL)
            abort(); /* a built-in format that does not compile */
    }
    for (size_t i = 0; i < NWHERES; i++)
        if ((where_t[i] = transform_compile(wheres[i], TRANSFORM_WHERE, &err)) == NULL)
            abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct transform_meta meta = { 1, 1, "fuzz", 0 };
    char *out;
    size_t len;

    setup();
    for (size_t i = 0; i < nmap; i++) {
        out = NULL;
        len = 0;
        transform_run(map_t[i], WARM_UP, strlen(WARM_UP), &meta, 1 << 20, &out, &len, NULL);
        free(out);
    }
    for (size_t i = 0; i < NWHERES; i++)
        transform_where(where_t[i], WARM_UP, strlen(WARM_UP), &meta, NULL);
    atexit(teardown);
    return 0;
}

/* Every output JSON: "[" out "]" parses. */
static void check_json(const char *out, size_t len)
{
    char *arr = malloc(len + 3);
    json_t *v;

    arr[0] = '[';
    memcpy(arr + 1, out, len);
    arr[len + 1] = ']';
    v = json_loadb(arr, len + 2, JSON_ALLOW_NUL, NULL);
    if (v == NULL)
        abort();
    json_decref(v);
    free(arr);
}

/* What the event parser's direct path takes, jq's parser takes, with the
 * same value (transform_jv.c; else transform_jv_parse is jv_parse_sized).
 * jq's parser alone is not run on any bytes: jq 1.6 leaks on some errors
 * ("Expected separator between values" after a string). */
static void check_parse(const char *text, size_t len)
{
    jv mine, ref, a, b;

    if (!transform_jv_parse_fast(text, len, &mine))
        return;
    ref = jv_parse_sized(text, (int)len);
    if (!jv_is_valid(ref))
        abort();
    a = jv_dump_string(mine, 0); /* exact numbers, key order */
    b = jv_dump_string(ref, 0);
    if (strcmp(jv_string_value(a), jv_string_value(b)) != 0)
        abort();
    jv_free(a);
    jv_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    event_t *ev;
    struct transform_meta meta = { 1, 1, "fuzz", 0 };
    char *text, *out;
    size_t len, outlen;
    mh_err_t err;
    int rc;

    check_parse((const char *)data, size);
    if ((ev = event_from_json((const char *)data, size, NULL)) == NULL)
        return 0;
    text = event_to_json(ev, &len);
    meta.ts_ms = ev->ts_ms;
    for (size_t i = 0; i < nmap; i++) {
        out = NULL;
        outlen = 0;
        rc = transform_run(map_t[i], text, len, &meta, 1 << 20, &out, &outlen, &err);
        if (rc < -1 || (rc <= 0 && out != NULL) || (rc > 0 && (out == NULL || outlen == 0)))
            abort();
        if (i == 0 && (rc != 1 || outlen != len || memcmp(out, text, len) != 0))
            abort(); /* `.` is the event, unchanged */
        if (rc > 0)
            check_json(out, outlen);
        free(out);
    }
    for (size_t i = 0; i < NWHERES; i++) {
        rc = transform_where(where_t[i], text, len, &meta, &err);
        if (rc < -1 || rc > 1)
            abort();
    }
    free(text);
    event_free(ev);
    return 0;
}
