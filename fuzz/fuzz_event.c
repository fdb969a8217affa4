/* SPDX-License-Identifier: MIT */
/*
 * fuzz_event.c - libFuzzer entry point for the ingest line parser:
 * event_from_json() on arbitrary bytes must never crash, leak or accept
 * something it cannot re-serialize canonically; anything it accepts must
 * round-trip to identical bytes (parse(serialize(e)) == e), and the direct
 * canonical writer must agree byte for byte with the jansson reference.
 *
 * Build and run: make fuzz (needs clang), or see tests/t0090-fuzz.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cjson.h"
#include "event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    event_t *ev = event_from_json((const char *)data, size, NULL), *again;
    char *s, *s2;
    size_t len, len2;

    if (ev == NULL)
        return 0;
    s = event_to_json(ev, &len);
    again = event_from_json(s, len, NULL);
    if (again == NULL)
        abort(); /* we produced something we refuse */
    s2 = event_to_json(again, &len2);
    if (len != len2 || memcmp(s, s2, len) != 0)
        abort(); /* canonical form is not a fixed point */
    free(s2);
    /* The direct writer and the jansson reference give the same bytes. */
    s2 = cjson_dump(ev->data, &len2);
    {
        size_t len3;
        char *s3 = cjson_dump_jansson(ev->data, &len3);
        if (len2 != len3 || memcmp(s2, s3, len2) != 0)
            abort();
        free(s3);
    }
    free(s);
    free(s2);
    event_free(ev);
    event_free(again);
    return 0;
}
