/*
 * check_ssrf.c - unit tests of the SSRF guard (ssrf.h): every refused
 * range at both ends and just outside, public addresses, IPv4 carried in
 * IPv6 forms, allow-lists and their parse errors, the why-text.
 * Table-driven: one row per case.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "ssrf.h"

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

/* Build a sockaddr for the textual address s; returns its length. */
static socklen_t sockaddr_of(const char *s, struct sockaddr_storage *ss)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(443);
        return sizeof(*s4);
    }
    ck_assert_msg(inet_pton(AF_INET6, s, &s6->sin6_addr) == 1, "bad test address %s", s);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(443);
    return sizeof(*s6);
}

/* Check addr against al; returns ssrf_check's result, why in why. */
static int check_addr(const ssrf_allow_t *al, const char *addr, char *why, size_t whysize)
{
    struct sockaddr_storage ss;
    socklen_t len = sockaddr_of(addr, &ss);

    return ssrf_check(al, (const struct sockaddr *)&ss, len, why, whysize);
}

/* ---- with no allow-list: address -> why-text, or NULL = allowed */
static const struct {
    const char *addr, *why;
} cases[] = {
    /* 0.0.0.0/8 */
    { "0.0.0.0", "0.0.0.0 is unspecified" },
    { "0.255.255.255", "0.255.255.255 is unspecified" },
    { "1.0.0.0", NULL },
    /* 10/8 */
    { "9.255.255.255", NULL },
    { "10.0.0.0", "10.0.0.0 is private" },
    { "10.1.2.3", "10.1.2.3 is private" },
    { "10.255.255.255", "10.255.255.255 is private" },
    { "11.0.0.0", NULL },
    /* 100.64/10 */
    { "100.63.255.255", NULL },
    { "100.64.0.0", "100.64.0.0 is cgnat" },
    { "100.64.0.1", "100.64.0.1 is cgnat" },
    { "100.127.255.255", "100.127.255.255 is cgnat" },
    { "100.128.0.0", NULL },
    /* 127/8 */
    { "126.255.255.255", NULL },
    { "127.0.0.0", "127.0.0.0 is loopback" },
    { "127.0.0.1", "127.0.0.1 is loopback" },
    { "127.255.255.255", "127.255.255.255 is loopback" },
    { "128.0.0.0", NULL },
    /* 169.254/16 */
    { "169.253.255.255", NULL },
    { "169.254.0.0", "169.254.0.0 is link-local" },
    { "169.254.169.254", "169.254.169.254 is link-local" }, /* cloud metadata */
    { "169.254.255.255", "169.254.255.255 is link-local" },
    { "169.255.0.0", NULL },
    /* 172.16/12 */
    { "172.15.255.255", NULL },
    { "172.16.0.0", "172.16.0.0 is private" },
    { "172.31.255.255", "172.31.255.255 is private" },
    { "172.32.0.0", NULL },
    /* 192.0.0.0/24 */
    { "191.255.255.255", NULL },
    { "192.0.0.0", "192.0.0.0 is reserved" },
    { "192.0.0.255", "192.0.0.255 is reserved" },
    { "192.0.1.0", NULL },
    /* 192.168/16 */
    { "192.167.255.255", NULL },
    { "192.168.0.0", "192.168.0.0 is private" },
    { "192.168.255.255", "192.168.255.255 is private" },
    { "192.169.0.0", NULL },
    /* 198.18/15 */
    { "198.17.255.255", NULL },
    { "198.18.0.0", "198.18.0.0 is benchmark" },
    { "198.19.255.255", "198.19.255.255 is benchmark" },
    { "198.20.0.0", NULL },
    /* 224/4, 240/4, broadcast */
    { "223.255.255.255", NULL },
    { "224.0.0.0", "224.0.0.0 is multicast" },
    { "239.255.255.255", "239.255.255.255 is multicast" },
    { "240.0.0.0", "240.0.0.0 is reserved" },
    { "255.255.255.254", "255.255.255.254 is reserved" },
    { "255.255.255.255", "255.255.255.255 is broadcast" },
    /* public IPv4 */
    { "93.184.216.34", NULL },
    { "8.8.8.8", NULL },
    { "1.1.1.1", NULL },
    /* IPv6 ranges */
    { "::", ":: is unspecified" },
    { "::1", "::1 is loopback" },
    { "fe80::", "fe80:: is link-local" },
    { "fe80::1", "fe80::1 is link-local" },
    { "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff is link-local" },
    { "fc00::", "fc00:: is private (unique local)" },
    { "fd12:3456::1", "fd12:3456::1 is private (unique local)" },
    { "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff is private (unique local)" },
    { "ff00::", "ff00:: is multicast" },
    { "ff02::1", "ff02::1 is multicast" },
    { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff is multicast" },
    /* public IPv6 */
    { "2606:4700::1111", NULL },
    { "2001:4860:4860::8888", NULL },
    { "2a00:1450:4001::1", NULL },
    /* IPv4 inside IPv6, judged as the IPv4 address */
    { "::ffff:127.0.0.1", "::ffff:127.0.0.1 is loopback (IPv4-mapped)" },
    { "::ffff:10.0.0.1", "::ffff:10.0.0.1 is private (IPv4-mapped)" },
    { "::ffff:169.254.169.254", "::ffff:169.254.169.254 is link-local (IPv4-mapped)" },
    { "::ffff:0.0.0.0", "::ffff:0.0.0.0 is unspecified (IPv4-mapped)" },
    { "::ffff:255.255.255.255", "::ffff:255.255.255.255 is broadcast (IPv4-mapped)" },
    { "::ffff:93.184.216.34", NULL },
    { "::127.0.0.1", "::127.0.0.1 is loopback (IPv4-compatible)" },
    { "::10.0.0.1", "::10.0.0.1 is private (IPv4-compatible)" },
    { "::2", "::2 is unspecified (IPv4-compatible)" },
    { "::93.184.216.34", NULL },
    { "64:ff9b::7f00:1", "64:ff9b::7f00:1 is loopback (NAT64 of 127.0.0.1)" },
    { "64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe is link-local (NAT64 of 169.254.169.254)" },
    { "64:ff9b::5db8:d822", NULL },
    { "2002:7f00:1::", "2002:7f00:1:: is loopback (6to4 of 127.0.0.1)" },
    { "2002:c0a8:101::1", "2002:c0a8:101::1 is private (6to4 of 192.168.1.1)" },
    { "2002:6440:1:1::1", "2002:6440:1:1::1 is cgnat (6to4 of 100.64.0.1)" },
    { "2002:5db8:d822::1", NULL },
};

START_TEST(test_classify)
{
    char why[256] = "unset";
    int rc = check_addr(NULL, cases[_i].addr, why, sizeof(why));

    if (cases[_i].why == NULL) {
        ck_assert_msg(rc == 0, "%s refused: %s", cases[_i].addr, why);
        ck_assert_str_eq(why, "");
    } else {
        ck_assert_msg(rc == -1, "%s allowed", cases[_i].addr);
        ck_assert_str_eq(why, cases[_i].why);
    }
}
END_TEST

/* ---- with an allow-list: list, address -> allowed?, entry that admitted */
static const char *const allow_local[] = { "127.0.0.0/8", "::1" };
static const char *const allow_host[] = { "10.1.2.3" };
static const char *const allow_ula[] = { "fd00::/8" };
static const char *const allow_mapped[] = { "::ffff:10.0.0.0/104" };
static const char *const allow_all4[] = { "0.0.0.0/0" };

#define LIST(a) a, N(a)
static const struct {
    const char *const *list;
    int n;
    const char *addr, *admitted; /* NULL = refused */
} allow_cases[] = {
    { LIST(allow_local), "127.0.0.1", "127.0.0.0/8" },
    { LIST(allow_local), "127.255.255.255", "127.0.0.0/8" },
    { LIST(allow_local), "::1", "::1/128" },
    { LIST(allow_local), "::ffff:127.0.0.1", "127.0.0.0/8" }, /* IPv4 entry, mapped form */
    { LIST(allow_local), "::127.0.0.1", "127.0.0.0/8" },
    { LIST(allow_local), "64:ff9b::7f00:1", "127.0.0.0/8" },
    { LIST(allow_local), "2002:7f00:1::", "127.0.0.0/8" },
    { LIST(allow_local), "10.0.0.1", NULL },
    { LIST(allow_local), "::", NULL },
    { LIST(allow_local), "::ffff:10.0.0.1", NULL },
    { LIST(allow_host), "10.1.2.3", "10.1.2.3/32" },
    { LIST(allow_host), "10.1.2.4", NULL },
    { LIST(allow_host), "::ffff:10.1.2.3", "10.1.2.3/32" },
    { LIST(allow_ula), "fd12::1", "fd00::/8" },
    { LIST(allow_ula), "fc00::1", NULL },
    { LIST(allow_mapped), "::ffff:10.9.9.9", "::ffff:10.0.0.0/104" },
    /* IPv6 entries are matched against IPv6 addresses only */
    { LIST(allow_mapped), "10.9.9.9", NULL },
    { LIST(allow_all4), "127.0.0.1", "0.0.0.0/0" },
    { LIST(allow_all4), "255.255.255.255", "0.0.0.0/0" },
    { LIST(allow_all4), "::1", NULL },
    { NULL, 0, "127.0.0.1", NULL }, /* an empty list admits nothing */
};

START_TEST(test_allow)
{
    mh_err_t err = { "" };
    ssrf_allow_t *al = ssrf_allow_parse(allow_cases[_i].list, (size_t)allow_cases[_i].n, &err);
    char why[256], want[256];
    int rc;

    ck_assert_msg(al != NULL, "%s", err.text);
    rc = check_addr(al, allow_cases[_i].addr, why, sizeof(why));
    if (allow_cases[_i].admitted == NULL) {
        ck_assert_msg(rc == -1, "%s allowed: %s", allow_cases[_i].addr, why);
        ck_assert_ptr_null(strstr(why, "admitted"));
    } else {
        ck_assert_msg(rc == 0, "%s refused: %s", allow_cases[_i].addr, why);
        snprintf(want, sizeof(want), "admitted by allow-list entry %s",
                 allow_cases[_i].admitted);
        ck_assert_msg(strstr(why, want) != NULL, "%s", why);
        ck_assert(strncmp(why, allow_cases[_i].addr, strlen(allow_cases[_i].addr)) == 0);
    }
    ssrf_allow_free(al);
}
END_TEST

START_TEST(test_allow_why)
{
    ssrf_allow_t *al = ssrf_allow_parse(allow_local, 2, NULL);
    char why[256];

    ck_assert_int_eq(check_addr(al, "::ffff:127.0.0.1", why, sizeof(why)), 0);
    ck_assert_str_eq(why, "::ffff:127.0.0.1 is loopback (IPv4-mapped), admitted by allow-list "
                          "entry 127.0.0.0/8");
    ck_assert_int_eq(check_addr(al, "93.184.216.34", why, sizeof(why)), 0);
    ck_assert_str_eq(why, ""); /* public: nothing to say */
    ck_assert_ptr_null(ssrf_allow_free(al));
    ck_assert_ptr_null(ssrf_allow_free(NULL));
}
END_TEST

/* ---- allow-list entries that must be refused, with what the error says */
static const struct {
    const char *entry, *problem;
} bad_entries[] = {
    { "300.1.1.1", "not an IPv4 or IPv6 address" },
    { "10.0.0.0/33", "prefix length must be 0 to 32" },
    { "abc", "not an IPv4 or IPv6 address" },
    { "::1/129", "prefix length must be 0 to 128" },
    { "", "not an IPv4 or IPv6 address" },
    { "/8", "not an IPv4 or IPv6 address" },
    { "10.0.0.0/", "prefix length" },
    { "10.0.0.0/-1", "prefix length" },
    { "10.0.0.0/+8", "prefix length" },
    { "10.0.0.0/ 8", "prefix length" },
    { "10.0.0.0/8/8", "prefix length" },
    { "10.0.0.0/0008", "prefix length" },
    { "::1/12x", "prefix length" },
    { "127.1", "not an IPv4 or IPv6 address" }, /* inet_aton shorthand */
    { "0x7f.0.0.1", "not an IPv4 or IPv6 address" },
    { " 10.0.0.1", "not an IPv4 or IPv6 address" },
    { "10.0.0.1 ", "not an IPv4 or IPv6 address" },
    { "fe80::1%eth0", "not an IPv4 or IPv6 address" },
    { "1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17:18:19:20/8", "not an IPv4 or IPv6 address" },
    { "10.1.2.3/8", "host bits are set (10.0.0.0/8 was meant?)" },
    { "fd00::1/8", "host bits are set (fd00::/8 was meant?)" },
    { "127.0.0.1/0", "host bits are set (0.0.0.0/0 was meant?)" },
};

START_TEST(test_bad_entry)
{
    const char *list[] = { "127.0.0.0/8", bad_entries[_i].entry };
    mh_err_t err = { "" };
    char want[256];

    ck_assert_ptr_null(ssrf_allow_parse(list, 2, &err));
    ck_assert_msg(strstr(err.text, bad_entries[_i].problem) != NULL, "%s", err.text);
    snprintf(want, sizeof(want), "\"%s\"", bad_entries[_i].entry);
    ck_assert_msg(strstr(err.text, want) != NULL, "%s", err.text);
}
END_TEST

START_TEST(test_bad_entry_control)
{
    const char *list[] = { "10.0.0.1\n\033[2J" };
    mh_err_t err = { "" };

    ck_assert_ptr_null(ssrf_allow_parse(list, 1, &err));
    ck_assert_ptr_null(strchr(err.text, '\n')); /* made printable */
    ck_assert_ptr_null(strchr(err.text, '\033'));
    list[0] = NULL;
    ck_assert_ptr_null(ssrf_allow_parse(list, 1, &err));
    ck_assert_ptr_nonnull(strstr(err.text, "missing"));
}
END_TEST

/* ---- addresses that are not IPv4 or IPv6, and the why buffer */
START_TEST(test_bad_sockaddr)
{
    struct sockaddr_storage ss;
    struct sockaddr_un sun;
    char why[256] = "";
    socklen_t len;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    ck_assert_int_eq(ssrf_check(NULL, (struct sockaddr *)&sun, sizeof(sun), why, sizeof(why)),
                     -1);
    ck_assert_ptr_nonnull(strstr(why, "not IPv4 or IPv6"));
    ck_assert_int_eq(ssrf_check(NULL, NULL, 0, why, sizeof(why)), -1);
    len = sockaddr_of("93.184.216.34", &ss);
    ck_assert_int_eq(ssrf_check(NULL, (struct sockaddr *)&ss, len - 1, why, sizeof(why)), -1);
    len = sockaddr_of("2606:4700::1111", &ss);
    ck_assert_int_eq(ssrf_check(NULL, (struct sockaddr *)&ss, len - 1, why, sizeof(why)), -1);
    ck_assert_int_eq(ssrf_check(NULL, (struct sockaddr *)&ss, len, NULL, 0), 0);
}
END_TEST

START_TEST(test_why_small)
{
    char why[8];

    ck_assert_int_eq(check_addr(NULL, "169.254.169.254", why, sizeof(why)), -1);
    ck_assert_str_eq(why, "169.254"); /* truncated, terminated */
    ck_assert_int_eq(check_addr(NULL, "127.0.0.1", NULL, 0), -1);
}
END_TEST

static Suite *ssrf_suite(void)
{
    Suite *s = suite_create("ssrf");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_classify, 0, N(cases));
    tcase_add_loop_test(tc, test_allow, 0, N(allow_cases));
    tcase_add_test(tc, test_allow_why);
    tcase_add_loop_test(tc, test_bad_entry, 0, N(bad_entries));
    tcase_add_test(tc, test_bad_entry_control);
    tcase_add_test(tc, test_bad_sockaddr);
    tcase_add_test(tc, test_why_small);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ssrf_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
