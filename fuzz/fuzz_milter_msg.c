/* SPDX-License-Identifier: MIT */
/*
 * fuzz_milter_msg.c - libFuzzer entry point for the milter's message model
 * (milter_msg.h): the header and control-header parsing (RFC 2047 decoding,
 * X-Mailhook-Tag, X-Mailhook-Metadata, header_metadata mappings, bounds) on
 * arbitrary bytes must never crash, and what comes out must keep the
 * contract: events are valid (serializable, canonical JSON), every string
 * in them valid UTF-8, tags at most max_tags, removals in descending order.
 *
 * Input: line 1 the envelope sender, line 2 a recipient, line 3 the SASL
 * user, every further line "Name: value" (a NUL-free copy each).
 *
 * Build and run: see tests/t0401-fuzz-milter.sh (needs clang).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "milter_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *maps[] = { "X-Campaign=campaign", "Subject=subj", NULL };

static const struct mh_conf_milter mc = {
    .socket = "unix:/tmp/fuzz.sock", .tenant = "sasl_user", .remove_control_headers = true,
    .header_metadata = maps, .n_header_metadata = 2, .max_header_bytes = 300,
    .max_headers = 40, .max_recipients = 3, .max_tags = 5, .max_metadata_bytes = 500,
    .queue_events = 10, .timeout = 10,
};

static void check_event(const event_t *ev)
{
    size_t len;
    char *json = event_to_json(ev, &len);

    if (json == NULL || !g_utf8_validate(json, (gssize)len, NULL))
        abort();
    if (json_array_size(json_object_get(ev->data, "tags")) > (size_t)mc.max_tags)
        abort();
    free(json);
}

static void feed(milter_msg_t *m, int n, const char *line)
{
    char *colon;

    if (n == 0)
        milter_msg_set_sender(m, line);
    else if (n == 1)
        milter_msg_add_recipient(m, line);
    else if (n == 2)
        milter_msg_set_sasl(m, line);
    else if ((colon = strchr(line, ':')) != NULL) {
        *colon = 0;
        milter_msg_header(m, line, colon[1] == ' ' ? colon + 2 : colon + 1);
    } else
        milter_msg_header(m, line, "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    milter_msg_t *m;
    struct milter_removal *r;
    event_t **evs;
    size_t n, start = 0;
    int line = 0;

    if (!init) {
        g_mime_init();
        msg_open("fuzz_milter_msg", MSG_STDERR);
        init = true;
    }
    m = milter_msg_new(&mc);
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n' && data[i] != 0)
            continue;
        char *s = malloc(i - start + 1);
        memcpy(s, data + start, i - start), s[i - start] = 0;
        feed(m, line++, s);
        free(s);
        start = i + 1;
    }
    evs = milter_msg_events(m, NULL, 1, &n);
    for (size_t i = 0; i < n; i++)
        check_event(evs[i]);
    milter_events_free(evs, n);
    r = milter_msg_removals(m, &n);
    for (size_t i = 1; i < n; i++)
        if (strcmp(r[i].name, r[i - 1].name) == 0 && r[i].index >= r[i - 1].index)
            abort();
    free(r);
    milter_msg_free(m);
    return 0;
}
