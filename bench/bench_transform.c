/* SPDX-License-Identifier: MIT */
/*
 * bench_transform.c - CPU cost of one transformed event (transform.h): the
 * parse of the event text, the run, and the canonical output, per program.
 *
 *   bench_transform [N]     N runs per program (default 200000)
 *   bench_transform N FILE...   the programs in FILEs instead (a format
 *                           being written, an admin's transform_file)
 *
 * Prints one line per program: "us/event  outputs-bytes  name", for a
 * realistic email.bounced event of about 600 bytes: the parse alone (jq's
 * jv_parse_sized, freed), `.` (parse, run, write everything), the issue's
 * SendGrid-like mapping, a where filter, and every built-in format.
 * CPU time (CLOCK_PROCESS_CPUTIME_ID), one thread.
 */
#include "config.h"

#include <jq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "readfile.h"
#include "transform.h"

static const char EVENT[] =
    "{\"id\":\"evt_01JEBQ7Z3F9M2W8K4T6Y0R5N1C\",\"type\":\"email.bounced\","
    "\"timestamp\":\"2026-12-04T18:39:51.123Z\",\"data\":{\"queue_id\":\"4XyZ1b2C3dz\","
    "\"message_id\":\"<20261204183950.4XyZ1b2C3dz@mail.example.com>\","
    "\"from\":\"newsletter@example.com\",\"recipient\":\"jane.doe@example.org\","
    "\"orig_recipient\":\"jane@example.org\",\"subject\":\"Your December update\","
    "\"relay\":\"mx1.example.org[203.0.113.25]:25\",\"dsn\":\"5.1.1\","
    "\"smtp_response\":\"550 5.1.1 <jane.doe@example.org>: Recipient address rejected: "
    "User unknown in virtual mailbox table\",\"delay\":1.25,"
    "\"delays\":\"0.1/0.02/0.5/0.63\",\"bounce_type\":\"hard\","
    "\"bounce_class\":\"bad-mailbox\",\"attempt\":1,"
    "\"metadata\":{\"campaign_id\":\"cmp_42\",\"contact\":{\"email\":\"jane.doe@example.org\","
    "\"tags\":[\"vip\",\"newsletter\"]}},\"tags\":[\"december\"]}}";

static const char SENDGRID_LIKE[] =
    "{email: .data.recipient, timestamp: $meta.time, event: (.type|ltrimstr(\"email.\")), "
    "sg_event_id: .id}";

static double cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void bench_parse(long n)
{
    double t0 = cpu_us();

    for (long i = 0; i < n; i++)
        jv_free(jv_parse_sized(EVENT, (int)strlen(EVENT)));
    printf("%8.2f  %6s  jv_parse_sized alone\n", (cpu_us() - t0) / n, "-");
}

static void bench_map(const char *name, const char *program, long n)
{
    struct transform_meta meta = { 1234, 1, "bench", 1796409591123LL };
    transform_t *t;
    mh_err_t err;
    size_t len = 0;
    char *out = NULL;
    double t0;

    if ((t = transform_compile(program, TRANSFORM_MAP, &err)) == NULL) {
        printf("%s: %s\n", name, err.text);
        return;
    }
    t0 = cpu_us();
    for (long i = 0; i < n; i++) {
        out = NULL;
        len = 0;
        if (transform_run(t, EVENT, strlen(EVENT), &meta, 1 << 20, &out, &len, &err) < 0) {
            printf("%s: %s\n", name, err.text);
            break;
        }
        if (i + 1 < n)
            free(out);
    }
    printf("%8.2f  %6zu  %s\n", (cpu_us() - t0) / n, len, name);
    free(out);
    transform_free(t);
}

static void bench_where(const char *program, long n)
{
    transform_t *t = transform_compile(program, TRANSFORM_WHERE, NULL);
    double t0 = cpu_us();

    for (long i = 0; i < n; i++)
        transform_where(t, EVENT, strlen(EVENT), NULL, NULL);
    printf("%8.2f  %6s  where %s\n", (cpu_us() - t0) / n, "-", program);
    transform_free(t);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    char name[64];

    if (n < 1)
        n = 1;
    printf("%zu-byte event, %ld runs each\n", strlen(EVENT), n);
    if (argc > 2) {
        for (int i = 2; i < argc; i++) {
            mh_err_t err;
            char *text = readfile(argv[i], 1 << 20, &err);

            if (text == NULL) {
                printf("%s\n", err.text);
                continue;
            }
            bench_map(argv[i], text, n);
            free(text);
        }
        return 0;
    }
    bench_parse(n);
    bench_map("`.`", ".", n);
    bench_map("sendgrid-like mapping (transform.h)", SENDGRID_LIKE, n);
    bench_where(".data.metadata.contact.tags | index(\"vip\") != null", n);
    for (const struct transform_format *f = transform_formats; f->name; f++) {
        snprintf(name, sizeof(name), "format %s", f->name);
        bench_map(name, f->program, n);
    }
    return 0;
}
