/* SPDX-License-Identifier: MIT */
/*
 * check_maillog_parse.c - the maillog line parser against the cases in
 * tests/data/maillog/ *.case files (jq.test style: tests as data), plus a few
 * properties that are easier to state in C.
 *
 * Case file format (one test point per file; a failure names file:line):
 *   # comment, blank lines ignored
 *   clock: 2026-11-22T12:00:00Z   maillog_clock_init: a new anchor (the file's
 *                                 mtime, or now), no previous line
 *   anchor: 2026-11-22T12:00:00Z  maillog_clock_set_anchor: a new anchor, the
 *                                 previous line kept (the reader caught up)
 *   tz: Europe/Berlin             TZ for local time from now on (any TZ value;
 *                                 "<+01>-1" is a fixed offset of one hour east)
 *   line: TEXT                    starts a block: TEXT is the input, byte for byte
 *   line-esc: TEXT                same, with \\ \0 \t \r \n \xHH escapes
 *   pad: N [TEXT]                 append TEXT (escapes as in line-esc; default
 *                                 "x") N times to the input
 *   kind: DELIVERY                required: an enum ml_kind name without ML_,
 *                                 or for a line without record the result:
 *                                 SKIP (ML_GARBAGE), OTHER_PROGRAM, OWN
 *   FIELD: VALUE                  a field of struct ml_rec (mta, ts, host, pid, to,
 *                                 status_text, ...); "~" means absent (p == NULL),
 *                                 an empty VALUE means present and empty
 * Fields not listed are not checked. Each file starts with the clock at
 * 2026-11-22T12:00:00Z, TZ=UTC, and the clock carries from block to block
 * (so files can test year inference across lines). Every block is also
 * checked for the contract's invariants: all slices lie inside the input,
 * notice is one of the three static strings, a skipped line leaves rec zeroed
 * and the clock alone, a parsed one moves the clock to its time.
 * Each input is copied into an allocation of exactly its length, so an
 * over-read shows under valgrind or ASan.
 */
#include "config.h"

#include <check.h>
#include <glob.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maillog_parse.h"
#include "timeutil.h"

#define CLOCK0 "2026-11-22T12:00:00Z"

static glob_t cases;

static const char *const kind_names[] = {
    "OTHER", "CLIENT", "PICKUP", "MESSAGE_ID", "QUEUE_ACTIVE", "DELIVERY", "EXPIRED",
    "NOTIFICATION", "REMOVED", "VERIFY", "SM_FROM", "SM_TO", "FILTER",
};
#define NKINDS (int)(sizeof(kind_names) / sizeof(kind_names[0]))

/* The results without a record, by -rc - 1 (ML_GARBAGE = -1 first). */
static const char *const skip_names[] = { "SKIP", "OTHER_PROGRAM", "OWN" };
#define NSKIPS (int)(sizeof(skip_names) / sizeof(skip_names[0]))

static const struct {
    const char *name;
    size_t off;
} str_fields[] = {
#define S(f) { #f, offsetof(struct ml_rec, f) }
    S(host), S(instance), S(service), S(queue_id), S(from), S(to), S(orig_to), S(relay),
    S(delay), S(delays), S(xdelay), S(mailer), S(dsn), S(status), S(status_text), S(size),
    S(nrcpt), S(message_id), S(client), S(client_addr), S(sasl_username), S(new_queue_id),
    S(filter_id), S(notice), S(reply),
#undef S
};
#define NFIELDS (sizeof(str_fields) / sizeof(str_fields[0]))

static const struct ml_str *field_of(const struct ml_rec *rec, size_t i)
{
    return (const struct ml_str *)((const char *)rec + str_fields[i].off);
}

/* One block being run: its input and what the parser made of it. */
struct block {
    const char *file;
    int lineno;      /* of its "line:" */
    char *in;        /* as read, NUL-terminated for building */
    size_t len, cap;
    char *exact;     /* the input in an allocation of exactly len bytes */
    bool parsed, kind_seen;
    int rc;
    struct ml_rec rec;
};

struct run {
    const char *path; /* the case file being run */
    struct ml_clock clock;
    struct block b;
    int failures, blocks;
    unsigned kinds_seen; /* bit per kind, then a bit per skip_names[] */
    bool quiet;
};

#define FAIL(r, ...) do { \
        if (!(r)->quiet) { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
        (r)->failures++; \
    } while (0)

/* Room for n more bytes and a NUL; may move b->in. */
static void block_reserve(struct block *b, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->in = realloc(b->in, b->cap);
        ck_assert_ptr_nonnull(b->in);
    }
}

static void block_append(struct block *b, const char *s, size_t n)
{
    block_reserve(b, n);
    memcpy(b->in + b->len, s, n);
    b->len += n;
    b->in[b->len] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode the escapes of a "line-esc:" value; false on a bad escape. */
static bool unescape(struct block *b, const char *s)
{
    char c;

    for (; *s; s++) {
        c = *s;
        if (c == '\\') {
            switch (*++s) {
            case '\\': c = '\\'; break;
            case '0': c = '\0'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 'x':
                if (hexval(s[1]) < 0 || hexval(s[2]) < 0)
                    return false;
                c = (char)(hexval(s[1]) * 16 + hexval(s[2]));
                s += 2;
                break;
            default:
                return false;
            }
        }
        block_append(b, &c, 1);
    }
    return true;
}

/* The contract's invariants, for any input. */
static void check_invariants(struct run *r)
{
    struct block *b = &r->b;
    static const struct ml_rec zero;

    if (b->rc != 0) {
        if (memcmp(&b->rec, &zero, sizeof(zero)) != 0)
            FAIL(r, "%s:%d: skipped line left fields in rec", b->file, b->lineno);
        return;
    }
    if (b->rec.instance.p == NULL || b->rec.service.p == NULL || b->rec.mta == 0)
        FAIL(r, "%s:%d: parsed line without instance/service/mta", b->file, b->lineno);
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct ml_str *s = field_of(&b->rec, i);

        if (s->p == NULL)
            continue;
        if (strcmp(str_fields[i].name, "notice") == 0) {
            if (strcmp(s->p, "non-delivery") != 0 && strcmp(s->p, "delay") != 0 &&
                strcmp(s->p, "success") != 0)
                FAIL(r, "%s:%d: bad notice", b->file, b->lineno);
        } else if (s->p < b->exact || s->p + s->len > b->exact + b->len) {
            FAIL(r, "%s:%d: %s slice outside the input", b->file, b->lineno, str_fields[i].name);
        }
    }
}

static void block_parse(struct run *r)
{
    struct block *b = &r->b;
    int64_t before;

    b->exact = malloc(b->len ? b->len : 1);
    ck_assert_ptr_nonnull(b->exact);
    memcpy(b->exact, b->in, b->len);
    before = r->clock.last_ms;
    b->rc = maillog_parse(b->exact, b->len, &r->clock, &b->rec);
    if (r->clock.last_ms != (b->rc == 0 ? b->rec.ts_ms : before))
        FAIL(r, "%s:%d: clock not moved to the line's time (or moved by a skip)", b->file,
             b->lineno);
    b->parsed = true;
    r->blocks++;
    if (b->rc < -NSKIPS || b->rc > 0)
        FAIL(r, "%s:%d: result %d is no enum ml_parse_rc", b->file, b->lineno, b->rc);
    else
        r->kinds_seen |= 1u << (b->rc == 0 ? (int)b->rec.kind : NKINDS - b->rc - 1);
    check_invariants(r);
}

/* Finish the current block (if any). */
static void block_end(struct run *r)
{
    struct block *b = &r->b;

    if (b->file == NULL)
        return;
    if (!b->parsed)
        block_parse(r);
    if (!b->kind_seen)
        FAIL(r, "%s:%d: block has no \"kind:\"", b->file, b->lineno);
    free(b->exact);
    b->exact = NULL;
    b->file = NULL;
}

static void expect_str(struct run *r, int lineno, size_t i, const char *want)
{
    const struct ml_str *got = field_of(&r->b.rec, i);
    const char *name = str_fields[i].name;

    if (strcmp(want, "~") == 0) {
        if (got->p != NULL)
            FAIL(r, "%s:%d: %s: expected absent, got \"%.*s\"", r->b.file, lineno, name,
                 (int)got->len, got->p);
    } else if (got->p == NULL) {
        FAIL(r, "%s:%d: %s: expected \"%s\", got absent", r->b.file, lineno, name, want);
    } else if (got->len != strlen(want) || memcmp(got->p, want, got->len) != 0) {
        FAIL(r, "%s:%d: %s: expected \"%s\", got \"%.*s\"", r->b.file, lineno, name, want,
             (int)got->len, got->p);
    }
}

/* One "name: value" expectation against the current block. */
static void expect(struct run *r, int lineno, const char *name, const char *want)
{
    struct block *b = &r->b;
    char buf[RFC3339_MS_LEN + 1];
    int64_t ms;

    if (b->file == NULL) {
        FAIL(r, "%s:%d: \"%s:\" before any \"line:\"", r->path, lineno, name);
        return;
    }
    if (!b->parsed)
        block_parse(r);
    if (strcmp(name, "kind") == 0) {
        const char *got = b->rc < 0 && b->rc >= -NSKIPS ? skip_names[-b->rc - 1]
                          : b->rc != 0                  ? "?"
                          : (int)b->rec.kind < NKINDS   ? kind_names[b->rec.kind]
                                                        : "?";

        b->kind_seen = true;
        if (strcmp(got, want) != 0)
            FAIL(r, "%s:%d: kind: expected %s, got %s", b->file, lineno, want, got);
        return;
    }
    if (b->rc != 0) {
        FAIL(r, "%s:%d: %s: line was skipped (-1)", b->file, lineno, name);
        return;
    }
    if (strcmp(name, "ts") == 0) {
        if (time_parse_rfc3339(want, &ms, NULL) != 0)
            FAIL(r, "%s:%d: bad expected ts \"%s\"", b->file, lineno, want);
        else if (ms != b->rec.ts_ms)
            FAIL(r, "%s:%d: ts: expected %s, got %s", b->file, lineno, want,
                 time_format_rfc3339(buf, b->rec.ts_ms));
    } else if (strcmp(name, "pid") == 0) {
        if (b->rec.pid != strtol(want, NULL, 10))
            FAIL(r, "%s:%d: pid: expected %s, got %ld", b->file, lineno, want, b->rec.pid);
    } else if (strcmp(name, "mta") == 0) {
        const char *got = b->rec.mta == ML_POSTFIX    ? "postfix"
                          : b->rec.mta == ML_SENDMAIL ? "sendmail"
                          : b->rec.mta == ML_PMG      ? "pmg"
                                                      : "?";

        if (strcmp(got, want) != 0)
            FAIL(r, "%s:%d: mta: expected %s, got %s", b->file, lineno, want, got);
    } else {
        for (size_t i = 0; i < NFIELDS; i++) {
            if (strcmp(name, str_fields[i].name) == 0) {
                expect_str(r, lineno, i, want);
                return;
            }
        }
        FAIL(r, "%s:%d: unknown field \"%s\"", b->file, lineno, name);
    }
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* Run one case file; returns the number of failures (reported on stderr). */
static int run_file(const char *path, struct run *r)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, *val;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    int64_t anchor;

    ck_assert_msg(f != NULL, "cannot open %s", path);
    r->path = path;
    ck_assert_int_eq(time_parse_rfc3339(CLOCK0, &anchor, NULL), 0);
    set_tz("UTC");
    maillog_clock_init(&r->clock, anchor);
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if ((val = strstr(line, ": ")) != NULL) {
            *val = '\0';
            val += 2;
        } else if (n > 0 && line[n - 1] == ':') {
            line[n - 1] = '\0';
            val = line + n; /* "name:" = empty value */
        } else {
            FAIL(r, "%s:%d: expected \"name: value\"", path, lineno);
            continue;
        }
        if (strcmp(line, "line") == 0 || strcmp(line, "line-esc") == 0) {
            block_end(r);
            r->b.file = path;
            r->b.lineno = lineno;
            r->b.len = 0;
            r->b.parsed = r->b.kind_seen = false;
            if (line[4] == '\0')
                block_append(&r->b, val, strlen(val));
            else if (!unescape(&r->b, val))
                FAIL(r, "%s:%d: bad escape", path, lineno);
        } else if (strcmp(line, "pad") == 0) {
            char *end;
            long count = strtol(val, &end, 10);
            size_t start = r->b.len, unit;

            if (r->b.file == NULL || r->b.parsed || count < 0) {
                FAIL(r, "%s:%d: \"pad:\" must follow \"line:\"", path, lineno);
                continue;
            }
            if (*end == ' ' && end[1] != '\0') {
                if (!unescape(&r->b, end + 1)) {
                    FAIL(r, "%s:%d: bad escape", path, lineno);
                    continue;
                }
            } else {
                block_append(&r->b, "x", 1);
            }
            unit = r->b.len - start;
            block_reserve(&r->b, unit * (size_t)count); /* b.in stays put below */
            for (long i = 1; i < count; i++)
                block_append(&r->b, r->b.in + start, unit);
        } else if (strcmp(line, "clock") == 0 || strcmp(line, "anchor") == 0) {
            block_end(r);
            if (time_parse_rfc3339(val, &anchor, NULL) != 0)
                FAIL(r, "%s:%d: bad %s", path, lineno, line);
            else if (line[0] == 'c')
                maillog_clock_init(&r->clock, anchor);
            else
                maillog_clock_set_anchor(&r->clock, anchor);
        } else if (strcmp(line, "tz") == 0) {
            block_end(r);
            set_tz(val);
            maillog_clock_zone_changed(&r->clock);
        } else {
            expect(r, lineno, line, val);
        }
    }
    block_end(r);
    set_tz("UTC");
    free(line);
    fclose(f);
    return r->failures;
}

START_TEST(test_case_file)
{
    struct run r = { .quiet = false };
    const char *path = cases.gl_pathv[_i];

    run_file(path, &r);
    free(r.b.in);
    ck_assert_msg(r.blocks > 0, "%s: no cases", path);
    ck_assert_msg(r.failures == 0, "%s: %d failure(s) in %d cases (details on stderr)", path,
                  r.failures, r.blocks);
}
END_TEST

/* The case files, together, exercise every kind and a skipped line. */
START_TEST(test_coverage)
{
    struct run r = { .quiet = true };

    for (size_t i = 0; i < cases.gl_pathc; i++)
        run_file(cases.gl_pathv[i], &r);
    free(r.b.in);
    for (int k = 0; k < NKINDS + NSKIPS; k++)
        ck_assert_msg(r.kinds_seen & (1u << k), "no case file has a line of kind %s",
                      k < NKINDS ? kind_names[k] : skip_names[k - NKINDS]);
}
END_TEST

/* Every prefix of a delivery line: a truncated line is -1 or a record
 * whose slices stay inside the prefix (checked with exact allocations). */
START_TEST(test_truncation)
{
    static const char full[] =
        "2026-11-22T06:30:19.123456+01:00 mx postfix/smtp[1234]: 4F1A22C0D4: to=<bob@example.net>, "
        "orig_to=<b@example.net>, relay=mx.example.net[192.0.2.1]:25, delay=0.52, "
        "delays=0.02/0.01/0.2/0.29, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9B2C3D4E5F)";
    struct ml_clock clock;
    struct ml_rec rec;

    maillog_clock_init(&clock, 1795348800000LL);
    for (size_t n = 0; n <= sizeof(full) - 1; n++) {
        char *p = malloc(n ? n : 1);

        memcpy(p, full, n);
        if (maillog_parse(p, n, &clock, &rec) == 0) {
            for (size_t i = 0; i < NFIELDS; i++) {
                const struct ml_str *s = field_of(&rec, i);

                if (s->p != NULL && strcmp(str_fields[i].name, "notice") != 0)
                    ck_assert_msg(s->p >= p && s->p + s->len <= p + n, "prefix %zu: %s", n,
                                  str_fields[i].name);
            }
            if (n == sizeof(full) - 1) {
                ck_assert_int_eq(rec.kind, ML_DELIVERY);
                ck_assert_int_eq(rec.new_queue_id.len, 10);
                ck_assert(memcmp(rec.new_queue_id.p, "9B2C3D4E5F", 10) == 0);
            }
        }
        free(p);
    }
}
END_TEST

/*
 * A clock made again (the reader's reset does it) keeps converting with the
 * zone's rules: nothing set once at start can be lost. Europe/Berlin: July
 * is CEST (+2), December CET (+1), whatever the anchor's season.
 */
START_TEST(test_clock_init)
{
    static const char jul[] = "Jul 15 12:00:00 mx postfix/qmgr[1]: 3F2A1B2C4D: removed";
    static const char dec[] = "Dec 15 12:00:00 mx postfix/qmgr[1]: 3F2A1B2C4D: removed";
    struct ml_clock clock;
    struct ml_rec rec;
    int64_t anchor, want_jul, want_dec;

    ck_assert_int_eq(time_parse_rfc3339("2026-12-20T12:00:00Z", &anchor, NULL), 0);
    ck_assert_int_eq(time_parse_rfc3339("2026-07-15T10:00:00Z", &want_jul, NULL), 0);
    ck_assert_int_eq(time_parse_rfc3339("2026-12-15T11:00:00Z", &want_dec, NULL), 0);
    set_tz("Europe/Berlin");
    for (int round = 0; round < 2; round++) {
        maillog_clock_init(&clock, anchor);
        ck_assert(!clock.have_last);
        ck_assert_int_eq(clock.anchor_ms, anchor);
        ck_assert_int_eq(clock.anchor_local_ms, anchor + 3600000);
        ck_assert_int_eq(maillog_parse(jul, sizeof(jul) - 1, &clock, &rec), ML_PARSED);
        ck_assert_int_eq(rec.ts_ms, want_jul);
        ck_assert_int_eq(maillog_parse(dec, sizeof(dec) - 1, &clock, &rec), ML_PARSED);
        ck_assert_int_eq(rec.ts_ms, want_dec);
    }
    set_tz("UTC");
}
END_TEST

/* Threads parse at once, each with its own clock and match block. */
static void *parse_many(void *arg)
{
    static const char line[] = "Nov 22 06:30:19 mx postfix/qmgr[7]: 3F2A1B2C4D: removed";
    struct ml_clock clock;
    struct ml_rec rec;
    long ok = 0;

    maillog_clock_init(&clock, 1795348800000LL);
    for (int i = 0; i < 20000; i++)
        ok += maillog_parse(line, sizeof(line) - 1, &clock, &rec) == 0 && rec.kind == ML_REMOVED;
    *(long *)arg = ok;
    return NULL;
}

START_TEST(test_threads)
{
    pthread_t t[4];
    long ok[4];

    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, parse_many, &ok[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(ok[i], 20000);
    }
}
END_TEST

static Suite *maillog_suite(void)
{
    Suite *s = suite_create("maillog_parse");
    TCase *tc = tcase_create("cases");

    tcase_add_loop_test(tc, test_case_file, 0, (int)cases.gl_pathc);
    tcase_add_test(tc, test_coverage);
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_clock_init);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *top = getenv("top_srcdir");
    char pattern[4096];
    SRunner *sr;
    int failed;

    snprintf(pattern, sizeof(pattern), "%s/tests/data/maillog/*.case", top && *top ? top : ".");
    if (glob(pattern, 0, NULL, &cases) != 0 || cases.gl_pathc == 0) {
        fprintf(stderr, "no case files match %s\n", pattern);
        return EXIT_FAILURE;
    }
    sr = srunner_create(maillog_suite());
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    globfree(&cases);
    maillog_parse_done();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
