/* SPDX-License-Identifier: MIT */
/*
 * fuzz_maillog.c - libFuzzer entry point for the maillog line parser:
 * maillog_parse() on arbitrary bytes, as one line and split at '\n', must
 * never crash or read outside the line, and what it returns must keep the
 * contract: -1 leaves the record zeroed; 0 gives a kind in range, an MTA,
 * and field slices that lie inside the line (notice, a static string, is
 * one of its three values). Each line is copied into an allocation of
 * exactly its length so ASan catches any over-read.
 *
 * Build and run: see tests/t0091-fuzz-maillog.sh (needs clang).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maillog_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(struct ml_str s, const char *line, size_t len)
{
    if (s.p == NULL) {
        if (s.len != 0)
            abort();
        return;
    }
    if (s.p < line || s.len > len || s.p + s.len > line + len)
        abort(); /* slice outside the input */
}

static void parse_one(const uint8_t *data, size_t len, struct ml_clock *clock)
{
    static const struct ml_rec zero;
    char *line = malloc(len ? len : 1);
    struct ml_rec rec;
    int64_t before = clock->last_ms;

    if (line == NULL)
        return;
    memcpy(line, data, len);
    if (maillog_parse(line, len, clock, &rec) != 0) {
        if (memcmp(&rec, &zero, sizeof(rec)) != 0 || clock->last_ms != before)
            abort(); /* a skipped line leaves rec zeroed and the clock alone */
        free(line);
        return;
    }
    if (rec.kind < ML_OTHER || rec.kind > ML_FILTER || clock->last_ms != rec.ts_ms ||
        (rec.mta != ML_POSTFIX && rec.mta != ML_SENDMAIL && rec.mta != ML_PMG) ||
        (rec.mta == ML_PMG && rec.kind != ML_OTHER && rec.kind != ML_FILTER) ||
        (rec.kind == ML_FILTER && rec.mta != ML_PMG) ||
        rec.instance.p == NULL ||
        rec.service.p == NULL || rec.pid < 0)
        abort();
    if (rec.notice.p != NULL && strcmp(rec.notice.p, "non-delivery") != 0 &&
        strcmp(rec.notice.p, "delay") != 0 && strcmp(rec.notice.p, "success") != 0)
        abort();
    check_str(rec.host, line, len);
    check_str(rec.instance, line, len);
    check_str(rec.service, line, len);
    check_str(rec.queue_id, line, len);
    check_str(rec.from, line, len);
    check_str(rec.to, line, len);
    check_str(rec.orig_to, line, len);
    check_str(rec.relay, line, len);
    check_str(rec.delay, line, len);
    check_str(rec.delays, line, len);
    check_str(rec.xdelay, line, len);
    check_str(rec.mailer, line, len);
    check_str(rec.dsn, line, len);
    check_str(rec.status, line, len);
    check_str(rec.status_text, line, len);
    check_str(rec.size, line, len);
    check_str(rec.nrcpt, line, len);
    check_str(rec.message_id, line, len);
    check_str(rec.client, line, len);
    check_str(rec.client_addr, line, len);
    check_str(rec.sasl_username, line, len);
    check_str(rec.new_queue_id, line, len);
    check_str(rec.filter_id, line, len);
    check_str(rec.reply, line, len);
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ml_clock clock;
    const uint8_t *p = data, *end = data + size, *nl;

    maillog_clock_init(&clock, 1795348800000LL); /* 2026-11-22T12:00:00Z */
    parse_one(data, size, &clock);
    for (; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end;
        parse_one(p, (size_t)(nl - p), &clock);
    }
    return 0;
}
