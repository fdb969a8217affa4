/* SPDX-License-Identifier: MIT */
/*
 * check_printable.c - unit tests of printable() (msg.h) and of the error
 * paths that quote outside text: whatever control characters a producer's
 * event, a command line or a spool file name holds, an error text, a log
 * line and an answer stay one line of printable text; the ASCII control
 * test (str_has_ctl, strutil.h) that names and values are refused with
 * agrees; msg_warn_once says a repeated failure once. Table-driven: one
 * row per case.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "msg.h"
#include "spool.h"
#include "strutil.h"
#include "timeutil.h"

/* True when s holds a byte sequence printable() must have replaced: a C0
 * control, DEL, a C1 control (U+0080..U+009F) or U+2028/U+2029. */
static bool has_control(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return true;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return true;
        if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            return true;
    }
    return false;
}

/* ---- printable(): input (with its length), output size -> expected */
static const struct {
    const char *in;
    size_t inlen, outlen;
    const char *out;
} printable_cases[] = {
    { "plain text", 10, 64, "plain text" },
    { "a\nb", 3, 64, "a?b" },
    { "a\r\n+evt_forged", 14, 64, "a??+evt_forged" },
    { "\x1b[2Jred", 7, 64, "?[2Jred" },
    { "del\x7f", 4, 64, "del?" },
    { "a\0b", 3, 64, "a?b" },                     /* a NUL inside the given length */
    { "nel\xc2\x85line", 9, 64, "nel?line" },      /* U+0085 NEXT LINE: one '?' */
    { "csi\xc2\x9b" "31m", 8, 64, "csi?31m" },     /* U+009B CSI */
    { "ls\xe2\x80\xa8ps\xe2\x80\xa9", 10, 64, "ls?ps?" }, /* U+2028, U+2029 */
    { "a\xe2\x80\xae" "b\xe2\x81\xa6" "c\xe2\x81\xa9", 12, 64, "a?b?c?" }, /* RLO, LRI, PDI */
    { "\xe2\x80\xa9\xe2\x80\xaa\xe2\x80\xaf", 9, 64, "??\xe2\x80\xaf" }, /* U+2029, U+202A replaced; U+202F kept */
    { "nbsp\xc2\xa0" "ok", 8, 64, "nbsp\xc2\xa0" "ok" },  /* U+00A0 is text */
    { "Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5 \xf0\x9f\x98\x80", 16, 64,
      "Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5 \xf0\x9f\x98\x80" },
    { "bad\xff" "byte", 8, 64, "bad?byte" },
    { "cut\xc3", 4, 64, "cut?" },                  /* a sequence cut short */
    { "surrogate\xed\xa0\x80", 12, 64, "surrogate???" },
    { "abcdefghij", 10, 8, "abcd..." },           /* truncation is marked */
    { "a\nbcdefghij", 11, 8, "a?bc..." },
};

START_TEST(test_printable)
{
    char out[64];

    ck_assert_uint_le(printable_cases[_i].outlen, sizeof(out));
    printable(out, printable_cases[_i].outlen, printable_cases[_i].in,
              printable_cases[_i].inlen);
    ck_assert_str_eq(out, printable_cases[_i].out);
    ck_assert(!has_control(out));
    ck_assert(!str_has_ctl(out)); /* what printable() leaves passes the ASCII test */
}
END_TEST

/* ---- str_has_ctl / mem_has_ctl: the ASCII test (C0 and DEL only) */
static const struct {
    const char *in;
    size_t inlen;
    bool ctl;
} ctl_cases[] = {
    { "", 0, false },
    { "plain text ~", 12, false },
    { "tab\there", 8, true },
    { "cr\r", 3, true },
    { "\x1f", 1, true },
    { " ", 1, false },                            /* 0x20 is text */
    { "del\x7f", 4, true },
    { "nel\xc2\x85", 5, false },                  /* C1 is printable()'s, not this test's */
    { "\xff\x80", 2, false },
    { "a\0b", 3, true },                           /* a NUL within the length (mem_ only) */
};

START_TEST(test_ctl)
{
    bool nul = memchr(ctl_cases[_i].in, 0, ctl_cases[_i].inlen) != NULL;

    ck_assert_int_eq(mem_has_ctl(ctl_cases[_i].in, ctl_cases[_i].inlen), ctl_cases[_i].ctl);
    ck_assert_int_eq(str_has_ctl(ctl_cases[_i].in), ctl_cases[_i].ctl && !nul);
    for (size_t k = 0; k < ctl_cases[_i].inlen; k++) {
        unsigned char c = (unsigned char)ctl_cases[_i].in[k];

        ck_assert_int_eq(byte_is_ctl(c), c < 0x20 || c == 0x7f);
    }
}
END_TEST

START_TEST(test_ctl_bytes)
{
    for (int c = 0; c < 256; c++)
        ck_assert_msg(byte_is_ctl((unsigned char)c) == (c <= 0x1f || c == 0x7f), "byte 0x%02x", c);
}
END_TEST

/* ---- a producer's event, as ingest reads it: each row must be refused
 * with an error that quotes the bad part made printable */
static const struct {
    const char *json, *shown;
} event_cases[] = {
    { "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\","
      "\"type\":\"app.x\\n+evt_01ARZ3NDEKTSV4RRFFQ69G5FAW\","
      "\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"data\":{}}",
      "\"app.x?+evt_01ARZ3NDEKTSV4RRFFQ69G5FAW\"" },
    { "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"app\\r\\n\","
      "\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"data\":{}}",
      "\"app??\"" },
    { "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"email.\\u001b[2J\","
      "\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"data\":{}}",
      "\"email.?[2J\"" },
    { "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"app.\\u0085x\","
      "\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"data\":{}}",
      "\"app.?x\"" },
    { "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5F\\nA\",\"type\":\"app.x\","
      "\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"data\":{}}",
      "\"evt_01ARZ3NDEKTSV4RRFFQ69G5F?A\"" },
    { "{\"id\":\"evt_\\u2028+evt_01ARZ3NDEKTSV4RRFFQ69G5FAW\",\"type\":\"app.x\","
      "\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"data\":{}}",
      "\"evt_?+evt_01ARZ3NDEKTSV4RRFFQ69G5FAW\"" },
    { "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"app.x\","
      "\"timestamp\":\"2026-01-02\\r\\nT03:04:05.678Z\",\"data\":{}}",
      "\"2026-01-02??T03:04:05.678Z\"" },
    { "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"app.x\","
      "\"timestamp\":\"\\n+evt_01ARZ3NDEKTSV4RRFFQ69G5FAW\",\"data\":{}}",
      "\"?+evt_01ARZ3NDEKTSV4RRFFQ69G5FAW\"" },
    { "{\"id\":\"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"type\":\"app.x\","
      "\"timestamp\":\"2026-01-02T03:04:05\\u009b\",\"data\":{}}",
      "\"2026-01-02T03:04:05?\"" },
    /* Not JSON: jansson quotes the bytes near the error. */
    { "{\"id\":\x01}", "near '?'" },
    { "{\"id\":\r\x1b}", "near '?'" },
};

START_TEST(test_event_errors)
{
    const char *json = event_cases[_i].json;
    mh_err_t err;
    event_t *ev = event_from_json(json, strlen(json), &err);

    ck_assert_ptr_null(ev);
    ck_assert_msg(!has_control(err.text), "raw control character in \"%s\"", err.text);
    ck_assert_msg(strstr(err.text, event_cases[_i].shown) != NULL, "\"%s\" does not show %s",
                  err.text, event_cases[_i].shown);
}
END_TEST

/* ---- texts of a command line (mailhookctl emit TYPE, --since TIME) and of
 * a spool directory's listing */
static int err_of_type(const char *s, mh_err_t *err)
{
    event_t *ev = event_new(s, 0, NULL, err);

    return ev ? (event_free(ev), 0) : -1;
}

static int err_of_user_time(const char *s, mh_err_t *err)
{
    int64_t ms;

    return time_parse_user(s, 0, &ms, err);
}

static int err_of_spool_name(const char *s, mh_err_t *err)
{
    return spool_remove("/nonexistent", s, err);
}

static const struct {
    int (*fn)(const char *, mh_err_t *);
    const char *in, *shown;
} text_cases[] = {
    { err_of_type, "App.X\n", "\"App.X?\"" },
    { err_of_type, "mailhook.\r\n+evt_x", "\"mailhook.??+evt_x\"" },
    { err_of_type, "app.\xe2\x80\xa8x", "\"app.?x\"" },
    { err_of_user_time, "5\nx", "\"5?x\"" },
    { err_of_user_time, "7d\r\n", "\"7d??\"" },
    { err_of_user_time, "\x1b[2J", "\"?[2J\"" },
    { err_of_user_time, "2026-01-02\n+", "\"2026-01-02?+\"" },
    { err_of_user_time, "-1\xc2\x85", "\"-1?\"" },
    { err_of_spool_name, "a/\nmailhookd: forged", "\"a/?mailhookd: forged\"" },
    { err_of_spool_name, ".\x1b[2J", "\".?[2J\"" },
};

START_TEST(test_text_errors)
{
    mh_err_t err;

    ck_assert_int_eq(text_cases[_i].fn(text_cases[_i].in, &err), -1);
    ck_assert_msg(!has_control(err.text), "raw control character in \"%s\"", err.text);
    ck_assert_msg(strstr(err.text, text_cases[_i].shown) != NULL, "\"%s\" does not show %s",
                  err.text, text_cases[_i].shown);
}
END_TEST

/* ---- the log sink: a message quoting raw text is still one line */
START_TEST(test_log_one_line)
{
    char path[] = "/tmp/check_printable.XXXXXX", buf[512];
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    FILE *f;
    size_t n;

    ck_assert_int_ge(fd, 0);
    msg_open("check_printable", MSG_STDERR);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    msg_warn("quoting \"%s\"", "x\nmailhookd: forged\r\xc2\x85\xe2\x80\xa8");
    msg_info("%s", "\x1b[2Jcleared");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    f = fdopen(fd, "r");
    ck_assert_ptr_nonnull(f);
    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    ck_assert_str_eq(buf, "check_printable: warning: quoting \"x?mailhookd: forged???\"\n"
                          "check_printable: ?[2Jcleared\n");
}
END_TEST

/* ---- msg_warn_once: a repeated text once, a new one again, again after reset */
START_TEST(test_warn_once)
{
    char path[] = "/tmp/check_printable.XXXXXX", buf[512];
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    struct msg_once once = { { 0 } };
    FILE *f;
    size_t n;

    ck_assert_int_ge(fd, 0);
    msg_open("check_printable", MSG_STDERR);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    msg_warn_once(&once, "open %s: %s", "/var/log/mail.log", "denied");
    msg_warn_once(&once, "open %s: %s", "/var/log/mail.log", "denied");
    msg_warn_once(&once, "open %s: %s", "/var/log/mail.log", "gone");
    msg_warn_once(&once, "open %s: %s", "/var/log/mail.log", "gone");
    msg_once_reset(&once);
    msg_warn_once(&once, "open %s: %s", "/var/log/mail.log", "gone");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    f = fdopen(fd, "r");
    ck_assert_ptr_nonnull(f);
    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    ck_assert_str_eq(buf, "check_printable: warning: open /var/log/mail.log: denied\n"
                          "check_printable: warning: open /var/log/mail.log: gone\n"
                          "check_printable: warning: open /var/log/mail.log: gone\n");
}
END_TEST

static Suite *printable_suite(void)
{
    Suite *s = suite_create("printable");
    TCase *tc = tcase_create("core");

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))
    tcase_add_loop_test(tc, test_printable, 0, N(printable_cases));
    tcase_add_loop_test(tc, test_event_errors, 0, N(event_cases));
    tcase_add_loop_test(tc, test_text_errors, 0, N(text_cases));
    tcase_add_test(tc, test_log_one_line);
    tcase_add_loop_test(tc, test_ctl, 0, N(ctl_cases));
    tcase_add_test(tc, test_ctl_bytes);
    tcase_add_test(tc, test_warn_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(printable_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
