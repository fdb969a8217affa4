/* SPDX-License-Identifier: MIT */
/*
 * check_maillog_cases.c - the correlator (maillog_correlate.h) against the
 * cases in tests/data/correlate/ *.case: log lines in, the exact events out
 * (tests as data, like the parser's tests/data/maillog/).
 *
 * Case file format (one test point per file; a failure names file:line):
 *   # comment; a blank line ends a case
 *   case: NAME                   starts a case
 *   option: NAME [VALUE]         an maillog_correlate_opts setting (table case_options below)
 *   now: RFC3339                 the reader's wall clock (year inference);
 *                                default 2026-11-22T12:00:00Z
 *   tz: ZONE                     TZ for traditional timestamps (default UTC)
 *   line: TEXT                   one log line, byte for byte after "line: "
 *   event: TYPE [@RFC3339] JSON  the next expected event: its type, its
 *                                timestamp when given (UTC, milliseconds),
 *                                and data members: each listed member must be
 *                                equal, a member given as null must be absent,
 *                                members not listed are not checked
 *   stat: NAME N                 an maillog_correlate_stats counter at the end of the case
 * Every line is parsed with maillog_parse and fed to maillog_correlate_feed in order;
 * the number of events must equal the number of "event:" lines. A line the
 * parser refuses is fed nothing (as in the reader, which counts it).
 */
#include "config.h"

#include <check.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maillog_correlate.h"
#include "maillog_parse.h"
#include "timeutil.h"

#define NOW0 "2026-11-22T12:00:00Z"
#define CASE_MAX_LIST 16 /* values of one list option */

static glob_t files;

/* ---------------------------------------------------------------- a case */

struct expect {
    int lineno;
    char type[64];
    bool has_ts;
    int64_t ts_ms;
    json_t *data;
};

struct stat_expect {
    int lineno;
    char name[64];
    uint64_t value;
};

struct kase {
    const char *file;
    int lineno; /* of "case:" */
    char *name;
    struct maillog_correlate_opts opts;
    const char *lists[3][CASE_MAX_LIST + 1]; /* storage for list options */
    size_t nlist[3];
    int64_t now_ms;
    char *tz;
    char **lines;
    size_t nlines;
    struct expect *ex;
    size_t nex;
    struct stat_expect *st;
    size_t nst;
    char *arena[64]; /* option values the opts point to */
    size_t narena;
};

static char *keep(struct kase *k, const char *s)
{
    char *d = strdup(s);

    ck_assert_ptr_nonnull(d);
    ck_assert_uint_lt(k->narena, sizeof(k->arena) / sizeof(k->arena[0]));
    k->arena[k->narena++] = d;
    return d;
}

static void kase_reset(struct kase *k)
{
    free(k->name);
    free(k->tz);
    for (size_t i = 0; i < k->nlines; i++)
        free(k->lines[i]);
    free(k->lines);
    for (size_t i = 0; i < k->nex; i++)
        json_decref(k->ex[i].data);
    free(k->ex);
    free(k->st);
    for (size_t i = 0; i < k->narena; i++)
        free(k->arena[i]);
    memset(k, 0, sizeof(*k));
}

/* ---------------------------------------------------------------- tables */

/* List option i (0 = sender_domains, 1 = sasl_users, 2 = content_filters)
 * gets one more value. */
static bool opt_list(struct kase *k, int i, const char *v)
{
    if (v == NULL || k->nlist[i] >= CASE_MAX_LIST)
        return false;
    k->lists[i][k->nlist[i]++] = keep(k, v);
    k->lists[i][k->nlist[i]] = NULL;
    if (i == 0)
        k->opts.sender_domains = k->lists[0];
    else if (i == 1)
        k->opts.sasl_users = k->lists[1];
    else
        k->opts.content_filters = k->lists[2];
    return true;
}

static bool opt_emit_sent(struct kase *k, const char *v)
{
    k->opts.emit_sent = true;
    return v == NULL;
}

static bool opt_include_bounces(struct kase *k, const char *v)
{
    k->opts.include_bounces = true;
    return v == NULL;
}

static bool opt_sender_domain(struct kase *k, const char *v) { return opt_list(k, 0, v); }
static bool opt_sasl_user(struct kase *k, const char *v) { return opt_list(k, 1, v); }

static bool opt_max_messages(struct kase *k, const char *v)
{
    char *end;

    k->opts.max_messages = v ? strtoul(v, &end, 10) : 0;
    return v && *end == '\0' && k->opts.max_messages > 0;
}

static bool opt_content_filter(struct kase *k, const char *v) { return opt_list(k, 2, v); }

static bool opt_filter_window(struct kase *k, const char *v)
{
    char *end;

    k->opts.filter_window_s = v ? (int)strtol(v, &end, 10) : 0;
    return v && *end == '\0' && k->opts.filter_window_s > 0;
}

static bool opt_filtered_event(struct kase *k, const char *v)
{
    k->opts.filtered_event = v ? keep(k, v) : NULL;
    return v && (strcmp(v, "failed") == 0 || strcmp(v, "none") == 0);
}

static bool opt_discard_event(struct kase *k, const char *v)
{
    k->opts.discard_event = v ? keep(k, v) : NULL;
    return v && (strcmp(v, "failed") == 0 || strcmp(v, "delivered") == 0 ||
                 strcmp(v, "none") == 0);
}

/* option: NAME [VALUE] -> struct maillog_correlate_opts. Add a row per new option. */
static const struct {
    const char *name;
    bool (*set)(struct kase *k, const char *value); /* false = bad value */
} case_options[] = {
    { "emit_sent", opt_emit_sent },
    { "include_bounces", opt_include_bounces },
    { "sender_domain", opt_sender_domain },
    { "sasl_user", opt_sasl_user },
    { "max_messages", opt_max_messages },
    { "content_filter", opt_content_filter },
    { "filter_window", opt_filter_window },
    { "filtered_event", opt_filtered_event },
    { "discard_event", opt_discard_event },
};

/* stat: NAME N -> struct maillog_correlate_stats. Add a row per new counter. */
static const struct {
    const char *name;
    size_t off;
} case_stats[] = {
#define ST(f) { #f, offsetof(struct maillog_correlate_stats, f) }
    ST(records), ST(events), ST(tracked), ST(dropped_full), ST(dropped_age), ST(orphans),
    ST(skipped_probe), ST(skipped_bounce), ST(skipped_filter), ST(filter_hops),
    ST(filter_unlinked),
#undef ST
};

/* ---------------------------------------------------------------- running */

struct run {
    int failures, cases;
    json_t *got; /* [{"type","ts","data"}] of the case being run */
};

#define FAIL(r, ...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); (r)->failures++; } while (0)

static void collect(void *ctx, event_t *ev)
{
    struct run *r = ctx;

    json_array_append_new(r->got, json_pack("{s:s,s:I,s:O}", "type", ev->type, "ts",
                                            (json_int_t)ev->ts_ms, "data", ev->data));
    event_free(ev);
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz ? tz : "UTC", 1);
    tzset();
}

static void print_events(const json_t *got)
{
    size_t i;
    json_t *e;

    json_array_foreach(got, i, e) {
        char ts[RFC3339_MS_LEN + 1], *d = json_dumps(json_object_get(e, "data"), JSON_COMPACT | JSON_SORT_KEYS);

        fprintf(stderr, "    got %zu: %s @%s %s\n", i, json_string_value(json_object_get(e, "type")),
                time_format_rfc3339(ts, json_integer_value(json_object_get(e, "ts"))), d);
        free(d);
    }
}

/* One expected event against what came: false (and a message) on a mismatch. */
static bool match_event(struct run *r, const struct kase *k, const struct expect *x, const json_t *e)
{
    const json_t *data = json_object_get(e, "data"), *v;
    const char *key;
    char ts[RFC3339_MS_LEN + 1];
    bool ok = true;

    if (strcmp(json_string_value(json_object_get(e, "type")), x->type) != 0) {
        FAIL(r, "%s:%d: [%s] type %s expected, got %s", k->file, x->lineno, k->name, x->type,
             json_string_value(json_object_get(e, "type")));
        return false;
    }
    if (x->has_ts && json_integer_value(json_object_get(e, "ts")) != x->ts_ms) {
        FAIL(r, "%s:%d: [%s] timestamp %s expected, got %s", k->file, x->lineno, k->name,
             time_format_rfc3339(ts, x->ts_ms),
             time_format_rfc3339((char[RFC3339_MS_LEN + 1]){ 0 }, json_integer_value(json_object_get(e, "ts"))));
        ok = false;
    }
    json_object_foreach((json_t *)x->data, key, v) {
        json_t *have = json_object_get(data, key);

        if (json_is_null(v) ? have != NULL : !json_equal(have, (json_t *)v)) {
            char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            char *got = have ? json_dumps(have, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(absent)");

            FAIL(r, "%s:%d: [%s] %s: %s expected, got %s", k->file, x->lineno, k->name, key,
                 json_is_null(v) ? "(absent)" : want, got);
            free(want);
            free(got);
            ok = false;
        }
    }
    return ok;
}

static void run_case(struct run *r, struct kase *k)
{
    struct ml_clock clock;
    struct ml_rec rec;
    maillog_correlate_t *c;
    size_t i, n;
    bool ok = true;
    int before = r->failures;

    if (k->name == NULL)
        return;
    r->cases++;
    set_tz(k->tz);
    r->got = json_array();
    c = maillog_correlate_new(&k->opts, collect, r);
    maillog_clock_init(&clock, k->now_ms); /* converts with the zone rules of TZ */
    for (i = 0; i < k->nlines; i++)
        if (maillog_parse(k->lines[i], strlen(k->lines[i]), &clock, &rec) == 0)
            maillog_correlate_feed(c, &rec);
    maillog_correlate_flush(c, INT64_MAX); /* end of input */
    n = json_array_size(r->got);
    for (i = 0; i < k->nex && i < n; i++)
        ok = match_event(r, k, &k->ex[i], json_array_get(r->got, i)) && ok;
    if (n != k->nex) {
        FAIL(r, "%s:%d: [%s] %zu events expected, got %zu", k->file, k->lineno, k->name, k->nex, n);
        ok = false;
    }
    for (i = 0; i < k->nst; i++) {
        const struct maillog_correlate_stats *s = maillog_correlate_stats(c);

        for (size_t j = 0; j < sizeof(case_stats) / sizeof(case_stats[0]); j++) {
            if (strcmp(case_stats[j].name, k->st[i].name) != 0)
                continue;
            uint64_t have = *(const uint64_t *)((const char *)s + case_stats[j].off);
            if (have != k->st[i].value)
                FAIL(r, "%s:%d: [%s] stat %s: %llu expected, got %llu", k->file, k->st[i].lineno,
                     k->name, k->st[i].name, (unsigned long long)k->st[i].value,
                     (unsigned long long)have);
        }
    }
    if (!ok || r->failures != before)
        print_events(r->got);
    maillog_correlate_free(c);
    json_decref(r->got);
    r->got = NULL;
    set_tz(NULL);
}

/* ---------------------------------------------------------------- reading */

static void parse_option(struct run *r, struct kase *k, int lineno, char *val)
{
    char *sp = strchr(val, ' ');

    if (sp)
        *sp++ = '\0';
    for (size_t i = 0; i < sizeof(case_options) / sizeof(case_options[0]); i++) {
        if (strcmp(case_options[i].name, val) == 0) {
            if (!case_options[i].set(k, sp))
                FAIL(r, "%s:%d: bad value for option %s", k->file, lineno, val);
            return;
        }
    }
    FAIL(r, "%s:%d: unknown option \"%s\"", k->file, lineno, val);
}

static void parse_event(struct run *r, struct kase *k, int lineno, char *val)
{
    struct expect x = { .lineno = lineno };
    char *p = val, *sp = strchr(p, ' ');
    json_error_t jerr;

    if (sp == NULL || (size_t)(sp - p) >= sizeof(x.type)) {
        FAIL(r, "%s:%d: expected \"event: TYPE [@TS] JSON\"", k->file, lineno);
        return;
    }
    memcpy(x.type, p, (size_t)(sp - p));
    p = sp + 1;
    if (*p == '@') {
        sp = strchr(p, ' ');
        if (sp == NULL) {
            FAIL(r, "%s:%d: a timestamp needs JSON after it", k->file, lineno);
            return;
        }
        *sp = '\0';
        if (time_parse_rfc3339(p + 1, &x.ts_ms, NULL) != 0) {
            FAIL(r, "%s:%d: bad timestamp %s", k->file, lineno, p + 1);
            return;
        }
        x.has_ts = true;
        p = sp + 1;
    }
    x.data = json_loads(p, 0, &jerr);
    if (!json_is_object(x.data)) {
        FAIL(r, "%s:%d: bad JSON: %s", k->file, lineno, x.data ? "not an object" : jerr.text);
        json_decref(x.data);
        return;
    }
    k->ex = realloc(k->ex, (k->nex + 1) * sizeof(*k->ex));
    ck_assert_ptr_nonnull(k->ex);
    k->ex[k->nex++] = x;
}

static void parse_stat(struct run *r, struct kase *k, int lineno, char *val)
{
    struct stat_expect s = { .lineno = lineno };
    char *sp = strchr(val, ' '), *end;
    bool known = false;

    if (sp == NULL || (size_t)(sp - val) >= sizeof(s.name)) {
        FAIL(r, "%s:%d: expected \"stat: NAME N\"", k->file, lineno);
        return;
    }
    memcpy(s.name, val, (size_t)(sp - val));
    s.value = strtoull(sp + 1, &end, 10);
    for (size_t i = 0; i < sizeof(case_stats) / sizeof(case_stats[0]); i++)
        known = known || strcmp(case_stats[i].name, s.name) == 0;
    if (*end || !known) {
        FAIL(r, "%s:%d: bad stat line", k->file, lineno);
        return;
    }
    k->st = realloc(k->st, (k->nst + 1) * sizeof(*k->st));
    ck_assert_ptr_nonnull(k->st);
    k->st[k->nst++] = s;
}

static void kase_begin(struct run *r, struct kase *k, const char *file, int lineno, const char *name)
{
    run_case(r, k);
    kase_reset(k);
    k->file = file;
    k->lineno = lineno;
    k->name = strdup(name);
    ck_assert_int_eq(time_parse_rfc3339(NOW0, &k->now_ms, NULL), 0);
}

static void run_file(const char *path, struct run *r)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, *val;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    struct kase k = { 0 };

    ck_assert_msg(f != NULL, "cannot open %s", path);
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0) {
            run_case(r, &k);
            kase_reset(&k);
            continue;
        }
        if (line[0] == '#')
            continue;
        if ((val = strstr(line, ": ")) == NULL) {
            FAIL(r, "%s:%d: expected \"name: value\"", path, lineno);
            continue;
        }
        *val = '\0';
        val += 2;
        if (strcmp(line, "case") == 0) {
            kase_begin(r, &k, path, lineno, val);
            continue;
        }
        if (k.name == NULL) {
            FAIL(r, "%s:%d: \"%s:\" outside a case", path, lineno, line);
            continue;
        }
        if (strcmp(line, "line") == 0) {
            k.lines = realloc(k.lines, (k.nlines + 1) * sizeof(*k.lines));
            ck_assert_ptr_nonnull(k.lines);
            k.lines[k.nlines++] = strdup(val);
        } else if (strcmp(line, "event") == 0) {
            parse_event(r, &k, lineno, val);
        } else if (strcmp(line, "option") == 0) {
            parse_option(r, &k, lineno, val);
        } else if (strcmp(line, "stat") == 0) {
            parse_stat(r, &k, lineno, val);
        } else if (strcmp(line, "now") == 0) {
            if (time_parse_rfc3339(val, &k.now_ms, NULL) != 0)
                FAIL(r, "%s:%d: bad time", path, lineno);
        } else if (strcmp(line, "tz") == 0) {
            free(k.tz);
            k.tz = strdup(val);
        } else {
            FAIL(r, "%s:%d: unknown key \"%s\"", path, lineno, line);
        }
    }
    run_case(r, &k);
    kase_reset(&k);
    free(line);
    fclose(f);
}

START_TEST(test_case_file)
{
    struct run r = { 0 };
    const char *path = files.gl_pathv[_i];

    run_file(path, &r);
    ck_assert_msg(r.cases > 0, "%s: no cases", path);
    ck_assert_msg(r.failures == 0, "%s: %d failure(s) in %d cases (details on stderr)", path,
                  r.failures, r.cases);
}
END_TEST

int main(void)
{
    const char *top = getenv("top_srcdir");
    char pattern[4096];
    Suite *s = suite_create("maillog_cases");
    TCase *tc = tcase_create("cases");
    SRunner *sr;
    int failed;

    maillog_parse_init();
    snprintf(pattern, sizeof(pattern), "%s/tests/data/correlate/*.case", top && *top ? top : ".");
    if (glob(pattern, 0, NULL, &files) != 0 || files.gl_pathc == 0) {
        fprintf(stderr, "no case files match %s\n", pattern);
        return EXIT_FAILURE;
    }
    tcase_add_loop_test(tc, test_case_file, 0, (int)files.gl_pathc);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    globfree(&files);
    maillog_parse_done();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
