/* SPDX-License-Identifier: MIT */
/*
 * fuzz_endpoint.c - libFuzzer entry point for the endpoint parser: the
 * input is JSON text (what "mailhookctl endpoint add/update" sends, what the
 * store holds); when it is an object, endpoint_from_json() must never
 * crash or leak, and what it accepts must survive its own output:
 * endpoint_to_json(ep, EP_JSON_SECRETS | EP_JSON_RAW_URL) parses back to an
 * endpoint whose JSON is the same (a stored endpoint reads back unchanged),
 * and endpoint_merge() of the input onto the result is accepted too.
 *
 * Build and run: make fuzz (needs clang), or see tests/t0093-fuzz-endpoint.sh.
 */
#include "config.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "endpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const unsigned flags = EP_JSON_SECRETS | EP_JSON_RAW_URL;
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *out, *out2;
    endpoint_t *ep, *again, *merged;

    if (in == NULL)
        return 0;
    if (!json_is_object(in) || (ep = endpoint_from_json(in, NULL)) == NULL) {
        json_decref(in);
        return 0;
    }
    out = endpoint_to_json(ep, flags);
    if ((again = endpoint_from_json(out, NULL)) == NULL)
        abort(); /* we wrote an endpoint we refuse */
    out2 = endpoint_to_json(again, flags);
    if (!json_equal(out, out2))
        abort(); /* the stored form does not read back unchanged */
    json_object_del(in, "name"); /* merge refuses a name change only */
    merged = endpoint_merge(ep, in, NULL);
    if (merged == NULL)
        abort(); /* its own keys again are refused */
    endpoint_free(merged);
    json_decref(out2);
    json_decref(out);
    endpoint_free(again);
    endpoint_free(ep);
    json_decref(in);
    return 0;
}
