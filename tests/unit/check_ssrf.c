/* SPDX-License-Identifier: MIT */
/*
 * check_ssrf.c - unit tests of the SSRF guard (ssrf.h): every row of the
 * IANA special-purpose registries at both ends and just outside, public
 * addresses, IPv4 carried in IPv6 forms (mapped, compatible, NAT64, 6to4,
 * Teredo), allow-lists and their parse errors, the why-text.
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

/*
 * ---- the registries, row by row
 *
 * One line per row of IANA's IPv4 and IPv6 Special-Purpose Address
 * Registries (and the few rows taken from the other address registries),
 * written from the registries, not from ssrf.c: the lowest and highest
 * address the row decides (a more specific row may take the row's own
 * ends), and the addresses just below and just above it, each with the
 * verdict expected - the why-text's "is NAME [RFC]", or NULL for admitted.
 * NULL as an address: there is none (the ends of the address space).
 */
#define THISNET "\"this network\" [RFC 791]"
#define THISHOST "\"this host on this network\" [RFC 1122]"
#define PRIV "private-use [RFC 1918]"
#define CGNAT "shared address space (CGNAT) [RFC 6598]"
#define LOOP4 "loopback [RFC 1122]"
#define LL4 "link-local [RFC 3927]"
#define IETF4 "IETF protocol assignments [RFC 6890]"
#define CONT "IPv4 service continuity prefix [RFC 7335]"
#define DUMMY4 "IPv4 dummy address [RFC 7600]"
#define DISC64 "NAT64/DNS64 discovery [RFC 8880]"
#define TN1 "documentation (TEST-NET-1) [RFC 5737]"
#define TN2 "documentation (TEST-NET-2) [RFC 5737]"
#define TN3 "documentation (TEST-NET-3) [RFC 5737]"
#define RELAY "deprecated 6to4 relay anycast [RFC 7526]"
#define R6A44 "6a44-relay anycast [RFC 6751]"
#define BENCH4 "benchmarking [RFC 2544]"
#define RES4 "reserved [RFC 1112]"
#define BCAST "limited broadcast [RFC 919]"
#define MCAST4 "multicast [RFC 5771]"
#define LOOP6 "loopback [RFC 4291]"
#define UNSPEC "unspecified [RFC 4291]"
#define MAPPED "IPv4-mapped [RFC 4291]"
#define NAT64L "local-use NAT64 [RFC 8215]"
#define DISCARD "discard-only [RFC 6666]"
#define DUMMY6 "dummy prefix [RFC 9780]"
#define IETF6 "IETF protocol assignments [RFC 2928]"
#define BENCH6 "benchmarking [RFC 5180]"
#define ORCHID "deprecated ORCHID [RFC 4843]"
#define DOC6 "documentation [RFC 3849]"
#define DOC6B "documentation [RFC 9637]"
#define SRV6 "segment routing SIDs [RFC 9602]"
#define ULA "unique-local [RFC 4193]"
#define LL6 "link-local [RFC 4291]"
#define COMPAT "deprecated IPv4-compatible [RFC 4291]"
#define SITE "deprecated site-local [RFC 3879]"
#define MCAST6 "multicast [RFC 4291]"
#define RSV6 "reserved by IETF [RFC 4291]"
#define OK NULL
#define F "ffff"

static const struct {
    const char *row;                /* the registry row */
    const char *lo, *hi, *want;     /* inside */
    const char *below, *want_below; /* just outside */
    const char *above, *want_above;
} rows[] = {
    /* IANA IPv4 Special-Purpose Address Registry */
    { "0.0.0.0/8", "0.0.0.1", "0.255.255.255", THISNET, NULL, NULL, "1.0.0.0", OK },
    { "0.0.0.0/32", "0.0.0.0", "0.0.0.0", THISHOST, NULL, NULL, "0.0.0.1", THISNET },
    { "10.0.0.0/8", "10.0.0.0", "10.255.255.255", PRIV, "9.255.255.255", OK, "11.0.0.0", OK },
    { "100.64.0.0/10", "100.64.0.0", "100.127.255.255", CGNAT, "100.63.255.255", OK,
      "100.128.0.0", OK },
    { "127.0.0.0/8", "127.0.0.0", "127.255.255.255", LOOP4, "126.255.255.255", OK, "128.0.0.0",
      OK },
    { "169.254.0.0/16", "169.254.0.0", "169.254.255.255", LL4, "169.253.255.255", OK,
      "169.255.0.0", OK },
    { "172.16.0.0/12", "172.16.0.0", "172.31.255.255", PRIV, "172.15.255.255", OK, "172.32.0.0",
      OK },
    { "192.0.0.0/24", "192.0.0.11", "192.0.0.255", IETF4, "191.255.255.255", OK, "192.0.1.0",
      OK },
    { "192.0.0.0/29", "192.0.0.0", "192.0.0.7", CONT, "191.255.255.255", OK, "192.0.0.8",
      DUMMY4 },
    { "192.0.0.8/32", "192.0.0.8", "192.0.0.8", DUMMY4, "192.0.0.7", CONT, "192.0.0.9", OK },
    { "192.0.0.9/32", "192.0.0.9", "192.0.0.9", OK, "192.0.0.8", DUMMY4, "192.0.0.10", OK },
    { "192.0.0.10/32", "192.0.0.10", "192.0.0.10", OK, "192.0.0.9", OK, "192.0.0.11", IETF4 },
    { "192.0.0.170/32", "192.0.0.170", "192.0.0.170", DISC64, "192.0.0.169", IETF4,
      "192.0.0.171", DISC64 },
    { "192.0.0.171/32", "192.0.0.171", "192.0.0.171", DISC64, "192.0.0.170", DISC64,
      "192.0.0.172", IETF4 },
    { "192.0.2.0/24", "192.0.2.0", "192.0.2.255", TN1, "192.0.1.255", OK, "192.0.3.0", OK },
    { "192.31.196.0/24", "192.31.196.0", "192.31.196.255", OK, "192.31.195.255", OK,
      "192.31.197.0", OK },
    { "192.52.193.0/24", "192.52.193.0", "192.52.193.255", OK, "192.52.192.255", OK,
      "192.52.194.0", OK },
    { "192.88.99.0/24", "192.88.99.0", "192.88.99.255", RELAY, "192.88.98.255", OK,
      "192.88.100.0", OK },
    { "192.88.99.2/32", "192.88.99.2", "192.88.99.2", R6A44, "192.88.99.1", RELAY,
      "192.88.99.3", RELAY },
    { "192.168.0.0/16", "192.168.0.0", "192.168.255.255", PRIV, "192.167.255.255", OK,
      "192.169.0.0", OK },
    { "192.175.48.0/24", "192.175.48.0", "192.175.48.255", OK, "192.175.47.255", OK,
      "192.175.49.0", OK },
    { "198.18.0.0/15", "198.18.0.0", "198.19.255.255", BENCH4, "198.17.255.255", OK,
      "198.20.0.0", OK },
    { "198.51.100.0/24", "198.51.100.0", "198.51.100.255", TN2, "198.51.99.255", OK,
      "198.51.101.0", OK },
    { "203.0.113.0/24", "203.0.113.0", "203.0.113.255", TN3, "203.0.112.255", OK, "203.0.114.0",
      OK },
    { "240.0.0.0/4", "240.0.0.0", "255.255.255.254", RES4, "239.255.255.255", MCAST4, NULL,
      NULL },
    { "255.255.255.255/32", "255.255.255.255", "255.255.255.255", BCAST, "255.255.255.254", RES4,
      NULL, NULL },

    /* IANA IPv6 Special-Purpose Address Registry */
    { "::1/128", "::1", "::1", LOOP6, "::", UNSPEC, "::2", COMPAT },
    { "::/128", "::", "::", UNSPEC, NULL, NULL, "::1", LOOP6 },
    { "::ffff:0:0/96", "::ffff:0.0.0.0", "::ffff:255.255.255.255", MAPPED, "::fffe:" F ":" F,
      RSV6, "::1:0:0:0", RSV6 },
    /* globally reachable, judged by the IPv4 carried: public ones here */
    { "64:ff9b::/96", "64:ff9b::1.0.0.0", "64:ff9b::223.255.255.255", OK,
      "64:ff9a:" F ":" F ":" F ":" F ":" F ":" F, RSV6, "64:ff9b::1:0:0", RSV6 },
    { "64:ff9b:1::/48", "64:ff9b:1::", "64:ff9b:1:" F ":" F ":" F ":" F ":" F, NAT64L,
      "64:ff9b:0:" F ":" F ":" F ":" F ":" F, RSV6, "64:ff9b:2::", RSV6 },
    { "100::/64", "100::", "100::" F ":" F ":" F ":" F, DISCARD, "ff:" F ":" F ":" F ":" F ":" F
      ":" F ":" F, RSV6, "100:0:0:1::", DUMMY6 },
    { "100:0:0:1::/64", "100:0:0:1::", "100::1:" F ":" F ":" F ":" F, DUMMY6,
      "100::" F ":" F ":" F ":" F, DISCARD, "100:0:0:2::", RSV6 },
    { "2001::/23", "2001:1::", "2001:1ff:" F ":" F ":" F ":" F ":" F ":" F, IETF6,
      "2000:" F ":" F ":" F ":" F ":" F ":" F ":" F, OK, "2001:200::", OK },
    /* N/A, judged by the server and client carried: public ones here
     * (65.54.227.120 and 93.184.216.34; 8.8.8.8 and 1.1.1.1) */
    { "2001::/32", "2001:0:4136:e378:8000:63bf:a247:27dd", "2001:0:808:808:" F ":" F ":fefe:fefe",
      OK, "2000:" F ":" F ":" F ":" F ":" F ":" F ":" F, OK, "2001:1::", IETF6 },
    { "2001:1::1/128", "2001:1::1", "2001:1::1", OK, "2001:1::", IETF6, "2001:1::2", OK },
    { "2001:1::2/128", "2001:1::2", "2001:1::2", OK, "2001:1::1", OK, "2001:1::3", OK },
    { "2001:1::3/128", "2001:1::3", "2001:1::3", OK, "2001:1::2", OK, "2001:1::4", IETF6 },
    { "2001:2::/48", "2001:2::", "2001:2:0:" F ":" F ":" F ":" F ":" F, BENCH6,
      "2001:1:" F ":" F ":" F ":" F ":" F ":" F, IETF6, "2001:2:1::", IETF6 },
    { "2001:3::/32", "2001:3::", "2001:3:" F ":" F ":" F ":" F ":" F ":" F, OK,
      "2001:2:" F ":" F ":" F ":" F ":" F ":" F, IETF6, "2001:4::", IETF6 },
    { "2001:4:112::/48", "2001:4:112::", "2001:4:112:" F ":" F ":" F ":" F ":" F, OK,
      "2001:4:111:" F ":" F ":" F ":" F ":" F, IETF6, "2001:4:113::", IETF6 },
    { "2001:10::/28", "2001:10::", "2001:1f:" F ":" F ":" F ":" F ":" F ":" F, ORCHID,
      "2001:f:" F ":" F ":" F ":" F ":" F ":" F, IETF6, "2001:20::", OK },
    { "2001:20::/28", "2001:20::", "2001:2f:" F ":" F ":" F ":" F ":" F ":" F, OK,
      "2001:1f:" F ":" F ":" F ":" F ":" F ":" F, ORCHID, "2001:30::", OK },
    { "2001:30::/28", "2001:30::", "2001:3f:" F ":" F ":" F ":" F ":" F ":" F, OK,
      "2001:2f:" F ":" F ":" F ":" F ":" F ":" F, OK, "2001:40::", IETF6 },
    { "2001:db8::/32", "2001:db8::", "2001:db8:" F ":" F ":" F ":" F ":" F ":" F, DOC6,
      "2001:db7:" F ":" F ":" F ":" F ":" F ":" F, OK, "2001:db9::", OK },
    /* N/A, judged by the IPv4 carried: a public one here (93.184.216.34) */
    { "2002::/16", "2002:5db8:d822::", "2002:5db8:d822:" F ":" F ":" F ":" F ":" F, OK,
      "2001:" F ":" F ":" F ":" F ":" F ":" F ":" F, OK, "2003::", OK },
    { "2620:4f:8000::/48", "2620:4f:8000::", "2620:4f:8000:" F ":" F ":" F ":" F ":" F, OK,
      "2620:4f:7fff:" F ":" F ":" F ":" F ":" F, OK, "2620:4f:8001::", OK },
    { "3fff::/20", "3fff::", "3fff:fff:" F ":" F ":" F ":" F ":" F ":" F, DOC6B,
      "3ffe:" F ":" F ":" F ":" F ":" F ":" F ":" F, OK, "3fff:1000::", OK },
    { "5f00::/16", "5f00::", "5f00:" F ":" F ":" F ":" F ":" F ":" F ":" F, SRV6,
      "5eff:" F ":" F ":" F ":" F ":" F ":" F ":" F, RSV6, "5f01::", RSV6 },
    { "fc00::/7", "fc00::", "fdff:" F ":" F ":" F ":" F ":" F ":" F ":" F, ULA,
      "fbff:" F ":" F ":" F ":" F ":" F ":" F ":" F, RSV6, "fe00::", RSV6 },
    { "fe80::/10", "fe80::", "febf:" F ":" F ":" F ":" F ":" F ":" F ":" F, LL6,
      "fe7f:" F ":" F ":" F ":" F ":" F ":" F ":" F, RSV6, "fec0::", SITE },

    /* IANA IPv4 Multicast and IPv6 Address Space registries */
    { "224.0.0.0/4", "224.0.0.0", "239.255.255.255", MCAST4, "223.255.255.255", OK, "240.0.0.0",
      RES4 },
    { "::/96", "::2", "::255.255.255.255", COMPAT, "::1", LOOP6, "::1:0:0", RSV6 },
    { "fec0::/10", "fec0::", "feff:" F ":" F ":" F ":" F ":" F ":" F ":" F, SITE,
      "febf:" F ":" F ":" F ":" F ":" F ":" F ":" F, LL6, "ff00::", MCAST6 },
    { "ff00::/8", "ff00::", F ":" F ":" F ":" F ":" F ":" F ":" F ":" F, MCAST6,
      "feff:" F ":" F ":" F ":" F ":" F ":" F ":" F, SITE, NULL, NULL },
    { "2000::/3", "2000::", "3fff:" F ":" F ":" F ":" F ":" F ":" F ":" F, OK,
      "1fff:" F ":" F ":" F ":" F ":" F ":" F ":" F, RSV6, "4000::", RSV6 },
    { "::/0 outside 2000::/3", "1::", "e000::", RSV6, NULL, NULL, NULL, NULL },
};

/* addr's verdict is want: refused with a why-text starting "ADDR is WANT". */
static void verdict_is(const char *row, const char *addr, const char *want)
{
    struct sockaddr_storage ss;
    socklen_t len = sockaddr_of(addr, &ss);
    char why[256] = "unset", text[INET6_ADDRSTRLEN], expect[256];
    int rc = ssrf_check(NULL, (const struct sockaddr *)&ss, len, why, sizeof(why));

    if (want == NULL) {
        ck_assert_msg(rc == 0, "row %s: %s refused: %s", row, addr, why);
        ck_assert_msg(why[0] == 0, "row %s: %s: why \"%s\"", row, addr, why);
        return;
    }
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof(text));
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof(text));
    snprintf(expect, sizeof(expect), "%s is %s", text, want);
    ck_assert_msg(rc == -1, "row %s: %s admitted, expected \"%s\"", row, addr, expect);
    ck_assert_msg(strncmp(why, expect, strlen(expect)) == 0, "row %s: \"%s\", expected \"%s\"",
                  row, why, expect);
}

START_TEST(test_registry_row)
{
    verdict_is(rows[_i].row, rows[_i].lo, rows[_i].want);
    verdict_is(rows[_i].row, rows[_i].hi, rows[_i].want);
    if (rows[_i].below)
        verdict_is(rows[_i].row, rows[_i].below, rows[_i].want_below);
    if (rows[_i].above)
        verdict_is(rows[_i].row, rows[_i].above, rows[_i].want_above);
}
END_TEST

/* ---- whole why-texts: public addresses, and the IPv4 carried in IPv6 */
static const struct {
    const char *addr, *why; /* NULL: admitted */
} cases[] = {
    { "127.0.0.1", "127.0.0.1 is loopback [RFC 1122]" },
    { "169.254.169.254", "169.254.169.254 is link-local [RFC 3927]" }, /* cloud metadata */
    { "0.0.0.0", "0.0.0.0 is \"this host on this network\" [RFC 1122]" },
    { "255.255.255.255", "255.255.255.255 is limited broadcast [RFC 919]" },
    { "::1", "::1 is loopback [RFC 4291]" },
    { "93.184.216.34", NULL },
    { "8.8.8.8", NULL },
    { "1.1.1.1", NULL },
    { "2606:4700::1111", NULL },
    { "2001:4860:4860::8888", NULL },
    { "2a00:1450:4001::1", NULL },
    /* IPv4-mapped and -compatible: refused in themselves */
    { "::ffff:127.0.0.1", "::ffff:127.0.0.1 is IPv4-mapped [RFC 4291], 127.0.0.1 is loopback "
                          "[RFC 1122]" },
    { "::ffff:169.254.169.254", "::ffff:169.254.169.254 is IPv4-mapped [RFC 4291], "
                                "169.254.169.254 is link-local [RFC 3927]" },
    { "::ffff:93.184.216.34", "::ffff:93.184.216.34 is IPv4-mapped [RFC 4291]" },
    { "::127.0.0.1", "::127.0.0.1 is deprecated IPv4-compatible [RFC 4291], 127.0.0.1 is "
                     "loopback [RFC 1122]" },
    { "::2", "::2 is deprecated IPv4-compatible [RFC 4291] of 0.0.0.2, 0.0.0.2 is \"this "
             "network\" [RFC 791]" },
    /* NAT64, well-known prefix: as the IPv4 carried */
    { "64:ff9b::7f00:1", "64:ff9b::7f00:1 is NAT64 [RFC 6052] of 127.0.0.1, 127.0.0.1 is "
                         "loopback [RFC 1122]" },
    { "64:ff9b::c000:201", "64:ff9b::c000:201 is NAT64 [RFC 6052] of 192.0.2.1, 192.0.2.1 is "
                           "documentation (TEST-NET-1) [RFC 5737]" },
    { "64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe is NAT64 [RFC 6052] of 169.254.169.254, "
                            "169.254.169.254 is link-local [RFC 3927]" },
    { "64:ff9b::5db8:d822", NULL },
    { "64:ff9b::c000:9", NULL }, /* 192.0.0.9 is globally reachable */
    /* NAT64, local use (RFC 8215): refused in itself */
    { "64:ff9b:1::7f00:1", "64:ff9b:1::7f00:1 is local-use NAT64 [RFC 8215] of 127.0.0.1, "
                           "127.0.0.1 is loopback [RFC 1122]" },
    { "64:ff9b:1::5db8:d822", "64:ff9b:1::5db8:d822 is local-use NAT64 [RFC 8215] of "
                              "93.184.216.34" },
    /* 6to4 */
    { "2002:7f00:1::", "2002:7f00:1:: is 6to4 [RFC 3056] of 127.0.0.1, 127.0.0.1 is loopback "
                       "[RFC 1122]" },
    { "2002:c0a8:101::1", "2002:c0a8:101::1 is 6to4 [RFC 3056] of 192.168.1.1, 192.168.1.1 is "
                          "private-use [RFC 1918]" },
    { "2002:6440:1:1::1", "2002:6440:1:1::1 is 6to4 [RFC 3056] of 100.64.0.1, 100.64.0.1 is "
                          "shared address space (CGNAT) [RFC 6598]" },
    { "2002:c633:6401::", "2002:c633:6401:: is 6to4 [RFC 3056] of 198.51.100.1, 198.51.100.1 "
                          "is documentation (TEST-NET-2) [RFC 5737]" },
    { "2002:5db8:d822::1", NULL },
    /* Teredo: server in bits 32-63, client inverted in the last 32; RFC
     * 4380's own example carries the documentation address 192.0.2.45 */
    { "2001:0:4136:e378:8000:63bf:3fff:fdd2",
      "2001:0:4136:e378:8000:63bf:3fff:fdd2 is Teredo [RFC 4380] of server 65.54.227.120 and "
      "client 192.0.2.45, 192.0.2.45 is documentation (TEST-NET-1) [RFC 5737]" },
    { "2001:0:4136:e378:8000:63bf:80ff:fffe",
      "2001:0:4136:e378:8000:63bf:80ff:fffe is Teredo [RFC 4380] of server 65.54.227.120 and "
      "client 127.0.0.1, 127.0.0.1 is loopback [RFC 1122]" },
    { "2001:0:a00:1:8000:63bf:a247:27dd",
      "2001:0:a00:1:8000:63bf:a247:27dd is Teredo [RFC 4380] of server 10.0.0.1 and client "
      "93.184.216.34, 10.0.0.1 is private-use [RFC 1918]" },
    { "2001:0:7f00:1::f5ff:fffe",
      "2001:0:7f00:1::f5ff:fffe is Teredo [RFC 4380] of server 127.0.0.1 and client 10.0.0.1, "
      "127.0.0.1 is loopback [RFC 1122], 10.0.0.1 is private-use [RFC 1918]" },
    { "2001:0:4136:e378:8000:63bf:a247:27dd", NULL },
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
static const char *const allow_doc[] = { "192.0.2.0/24", "2001:db8::/32" };
static const char *const allow_public[] = { "93.184.216.0/24" };

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
    { LIST(allow_local), "64:ff9b:1::7f00:1", "127.0.0.0/8" },
    { LIST(allow_local), "2002:7f00:1::", "127.0.0.0/8" },
    /* Teredo: every refused address carried must be covered */
    { LIST(allow_local), "2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.0/8" },
    { LIST(allow_local), "2001:0:7f00:1::f5ff:fffe", NULL }, /* client 10.0.0.1 */
    { LIST(allow_local), "10.0.0.1", NULL },
    { LIST(allow_local), "::", NULL },
    { LIST(allow_local), "::ffff:10.0.0.1", NULL },
    { LIST(allow_local), "::ffff:93.184.216.34", NULL },
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
    { LIST(allow_doc), "192.0.2.1", "192.0.2.0/24" },
    { LIST(allow_doc), "2001:db8::1", "2001:db8::/32" },
    { LIST(allow_doc), "2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.0/24" },
    { LIST(allow_doc), "198.51.100.1", NULL },
    { LIST(allow_doc), "3fff::1", NULL },
    /* forms refused in themselves, admitted by an entry covering what they carry */
    { LIST(allow_public), "::ffff:93.184.216.34", "93.184.216.0/24" },
    { LIST(allow_public), "64:ff9b:1::5db8:d822", "93.184.216.0/24" },
    { LIST(allow_public), "64:ff9b:1::7f00:1", NULL },
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
    ck_assert_str_eq(why, "::ffff:127.0.0.1 is IPv4-mapped [RFC 4291], 127.0.0.1 is loopback "
                          "[RFC 1122], admitted by allow-list entry 127.0.0.0/8");
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

    tcase_add_loop_test(tc, test_registry_row, 0, N(rows));
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
