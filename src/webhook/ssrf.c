/* SPDX-License-Identifier: MIT */
/*
 * ssrf.c - the SSRF guard of webhook delivery (see ssrf.h).
 *
 * One table, ssrf_rows[], has a row for every row of IANA's IPv4 and IPv6
 * Special-Purpose Address Registries (RFC 6890 and its updates, as of the
 * registries of 2025), holding the registry's "Globally Reachable" value
 * and the RFC it names; after them come the few rows taken from IANA's
 * other address registries (multicast, the deprecated IPv4-compatible and
 * site-local blocks, and IPv6 space outside global unicast 2000::/3). The
 * most specific row containing an address decides (longest prefix), so
 * the rows keep the registries' order and a nested row (192.0.0.9/32 in
 * 192.0.0.0/24) says what the registry says for it.
 *
 * The verdict of a row: Globally Reachable False refuses. A row whose
 * addresses carry an IPv4 address (NAT64, 6to4, Teredo: True or N/A in the
 * registry) is judged by the IPv4 address(es) carried, refused when one of
 * them is. Any other N/A (a deprecated block) refuses, True admits. An
 * IPv4 address in no row is public; every IPv6 address is in some row.
 *
 * Where the IPv4 address of an IPv6 form sits (ssrf_carry):
 *   LOW32   the last 32 bits: mapped, compatible, and NAT64 (RFC 6052's
 *           /96 layout, which the local-use 64:ff9b:1::/48 is decoded
 *           with too - that form is refused whatever it carries)
 *   6TO4    bits 16-47 (RFC 3056)
 *   TEREDO  the server in bits 32-63, the client in the last 32 bits with
 *           every bit inverted (RFC 4380 section 4)
 * The why-text names what is carried; an allow-list's IPv4 entries admit
 * the forms carrying the addresses they cover.
 *
 * Allow-list entries are "address" or "address/prefix"; inet_pton does the
 * address, the prefix is 1-3 digits. As in Postfix's cidr tables, an entry
 * with host bits set ("10.1.2.3/8") is refused with the network it
 * probably meant, rather than silently widened or narrowed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ssrf.h"
#include "xalloc.h"

#define SSRF_NET_TEXT (INET6_ADDRSTRLEN + 5) /* "addr/128" + NUL */
#define SSRF_SAID 400                        /* room for the longest why-text */

/* A network: family, network-order address bytes, prefix length. */
struct ssrf_net {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned bits;
    char text[SSRF_NET_TEXT]; /* as the why-text shows it */
};

struct ssrf_allow {
    size_t n;
    struct ssrf_net *nets;
};

/* The registries' "Globally Reachable" column. */
enum ssrf_reach { REACH_FALSE, REACH_TRUE, REACH_NA };

/* Where an IPv6 form carries an IPv4 address (see the header comment). */
enum ssrf_carry { CARRY_NONE, CARRY_LOW32, CARRY_6TO4, CARRY_TEREDO };

struct ssrf_row {
    int family;
    unsigned char addr[16];
    unsigned bits;
    enum ssrf_reach reach;
    enum ssrf_carry carry;
    const char *name, *rfc; /* as the why-text shows them */
};

#define V4(a, b, c, d) AF_INET, { a, b, c, d }
#define H16(x) (unsigned char)((x) >> 8), (unsigned char)((x) & 0xff)
#define V6(a, b, c, d, e, f, g, h) \
    AF_INET6, { H16(a), H16(b), H16(c), H16(d), H16(e), H16(f), H16(g), H16(h) }
#define NO REACH_FALSE
#define YES REACH_TRUE
#define NA REACH_NA
#define NONE CARRY_NONE

static const struct ssrf_row ssrf_rows[] = {
    /* IANA IPv4 Special-Purpose Address Registry */
    { V4(0, 0, 0, 0), 8, NO, NONE, "\"this network\"", "RFC 791" },
    { V4(0, 0, 0, 0), 32, NO, NONE, "\"this host on this network\"", "RFC 1122" },
    { V4(10, 0, 0, 0), 8, NO, NONE, "private-use", "RFC 1918" },
    { V4(100, 64, 0, 0), 10, NO, NONE, "shared address space (CGNAT)", "RFC 6598" },
    { V4(127, 0, 0, 0), 8, NO, NONE, "loopback", "RFC 1122" },
    { V4(169, 254, 0, 0), 16, NO, NONE, "link-local", "RFC 3927" },
    { V4(172, 16, 0, 0), 12, NO, NONE, "private-use", "RFC 1918" },
    { V4(192, 0, 0, 0), 24, NO, NONE, "IETF protocol assignments", "RFC 6890" },
    { V4(192, 0, 0, 0), 29, NO, NONE, "IPv4 service continuity prefix", "RFC 7335" },
    { V4(192, 0, 0, 8), 32, NO, NONE, "IPv4 dummy address", "RFC 7600" },
    { V4(192, 0, 0, 9), 32, YES, NONE, "port control protocol anycast", "RFC 7723" },
    { V4(192, 0, 0, 10), 32, YES, NONE, "TURN anycast", "RFC 8155" },
    /* one registry row, two addresses */
    { V4(192, 0, 0, 170), 32, NO, NONE, "NAT64/DNS64 discovery", "RFC 8880" },
    { V4(192, 0, 0, 171), 32, NO, NONE, "NAT64/DNS64 discovery", "RFC 8880" },
    { V4(192, 0, 2, 0), 24, NO, NONE, "documentation (TEST-NET-1)", "RFC 5737" },
    { V4(192, 31, 196, 0), 24, YES, NONE, "AS112-v4", "RFC 7535" },
    { V4(192, 52, 193, 0), 24, YES, NONE, "AMT", "RFC 7450" },
    { V4(192, 88, 99, 0), 24, NA, NONE, "deprecated 6to4 relay anycast", "RFC 7526" },
    { V4(192, 88, 99, 2), 32, NO, NONE, "6a44-relay anycast", "RFC 6751" },
    { V4(192, 168, 0, 0), 16, NO, NONE, "private-use", "RFC 1918" },
    { V4(192, 175, 48, 0), 24, YES, NONE, "direct delegation AS112 service", "RFC 7534" },
    { V4(198, 18, 0, 0), 15, NO, NONE, "benchmarking", "RFC 2544" },
    { V4(198, 51, 100, 0), 24, NO, NONE, "documentation (TEST-NET-2)", "RFC 5737" },
    { V4(203, 0, 113, 0), 24, NO, NONE, "documentation (TEST-NET-3)", "RFC 5737" },
    { V4(240, 0, 0, 0), 4, NO, NONE, "reserved", "RFC 1112" },
    { V4(255, 255, 255, 255), 32, NO, NONE, "limited broadcast", "RFC 919" },

    /* IANA IPv6 Special-Purpose Address Registry */
    { V6(0, 0, 0, 0, 0, 0, 0, 1), 128, NO, NONE, "loopback", "RFC 4291" },
    { V6(0, 0, 0, 0, 0, 0, 0, 0), 128, NO, NONE, "unspecified", "RFC 4291" },
    { V6(0, 0, 0, 0, 0, 0xffff, 0, 0), 96, NO, CARRY_LOW32, "IPv4-mapped", "RFC 4291" },
    { V6(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96, YES, CARRY_LOW32, "NAT64", "RFC 6052" },
    { V6(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, NO, CARRY_LOW32, "local-use NAT64", "RFC 8215" },
    { V6(0x100, 0, 0, 0, 0, 0, 0, 0), 64, NO, NONE, "discard-only", "RFC 6666" },
    { V6(0x100, 0, 0, 1, 0, 0, 0, 0), 64, NO, NONE, "dummy prefix", "RFC 9780" },
    { V6(0x2001, 0, 0, 0, 0, 0, 0, 0), 23, NO, NONE, "IETF protocol assignments", "RFC 2928" },
    { V6(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, NA, CARRY_TEREDO, "Teredo", "RFC 4380" },
    { V6(0x2001, 1, 0, 0, 0, 0, 0, 1), 128, YES, NONE, "port control protocol anycast",
      "RFC 7723" },
    { V6(0x2001, 1, 0, 0, 0, 0, 0, 2), 128, YES, NONE, "TURN anycast", "RFC 8155" },
    { V6(0x2001, 1, 0, 0, 0, 0, 0, 3), 128, YES, NONE, "DNS-SD SRP anycast", "RFC 9665" },
    { V6(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, NO, NONE, "benchmarking", "RFC 5180" },
    { V6(0x2001, 3, 0, 0, 0, 0, 0, 0), 32, YES, NONE, "AMT", "RFC 7450" },
    { V6(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48, YES, NONE, "AS112-v6", "RFC 7535" },
    { V6(0x2001, 0x10, 0, 0, 0, 0, 0, 0), 28, NA, NONE, "deprecated ORCHID", "RFC 4843" },
    { V6(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28, YES, NONE, "ORCHIDv2", "RFC 7343" },
    { V6(0x2001, 0x30, 0, 0, 0, 0, 0, 0), 28, YES, NONE, "drone remote ID tags", "RFC 9374" },
    { V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, NO, NONE, "documentation", "RFC 3849" },
    { V6(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, NA, CARRY_6TO4, "6to4", "RFC 3056" },
    { V6(0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0), 48, YES, NONE,
      "direct delegation AS112 service", "RFC 7534" },
    { V6(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20, NO, NONE, "documentation", "RFC 9637" },
    { V6(0x5f00, 0, 0, 0, 0, 0, 0, 0), 16, NO, NONE, "segment routing SIDs", "RFC 9602" },
    { V6(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, NO, NONE, "unique-local", "RFC 4193" },
    { V6(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, NO, NONE, "link-local", "RFC 4291" },

    /* Not special-purpose rows: IANA's IPv4 Multicast and IPv6 Address
     * Space registries. Nothing outside 2000::/3 is global unicast. */
    { V4(224, 0, 0, 0), 4, NO, NONE, "multicast", "RFC 5771" },
    { V6(0, 0, 0, 0, 0, 0, 0, 0), 0, NO, NONE, "reserved by IETF", "RFC 4291" },
    { V6(0, 0, 0, 0, 0, 0, 0, 0), 96, NO, CARRY_LOW32, "deprecated IPv4-compatible",
      "RFC 4291" },
    { V6(0x2000, 0, 0, 0, 0, 0, 0, 0), 3, YES, NONE, "global unicast", "RFC 4291" },
    { V6(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, NO, NONE, "deprecated site-local", "RFC 3879" },
    { V6(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, NO, NONE, "multicast", "RFC 4291" },
};

#undef V4
#undef H16
#undef V6
#undef NO
#undef YES
#undef NA
#undef NONE

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SSRF_CARRIED_MAX 2 /* Teredo: server and client */

/* What ssrf_classify found out about one address. */
struct ssrf_verdict {
    const struct ssrf_row *row; /* the deciding row; NULL: a public IPv4 address */
    bool row_refuses;           /* refused by that row itself */
    bool refused;               /* by the row or by an address carried */
    size_t ncarried;            /* IPv4 addresses carried */
    unsigned char carried[SSRF_CARRIED_MAX][4];
    const struct ssrf_row *carried_row[SSRF_CARRIED_MAX]; /* refusing each, or NULL */
};

static void ssrf_why(char *why, size_t whysize, const char *fmt, ...) MH_PRINTF(3, 4);

static void ssrf_why(char *why, size_t whysize, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || whysize == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whysize, fmt, ap);
    va_end(ap);
}

/* Append to out (size bytes, len used); returns the new length, which may
 * exceed size once the text is cut (out stays NUL-terminated). */
static size_t ssrf_cat(char *out, size_t size, size_t len, const char *fmt, ...) MH_PRINTF(4, 5);

static size_t ssrf_cat(char *out, size_t size, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (len >= size)
        return len;
    va_start(ap, fmt);
    n = vsnprintf(out + len, size - len, fmt, ap);
    va_end(ap);
    return n < 0 ? len : len + (size_t)n;
}

/* Do the first bits bits of a and net agree? */
static bool ssrf_prefix_match(const unsigned char *a, const unsigned char *net, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));

    if (memcmp(a, net, full) != 0)
        return false;
    return rest == 0 || ((a[full] ^ net[full]) & mask) == 0;
}

/* The most specific row holding the address, or NULL. */
static const struct ssrf_row *ssrf_row_of(int family, const unsigned char *a)
{
    const struct ssrf_row *best = NULL;

    for (size_t i = 0; i < N(ssrf_rows); i++) {
        const struct ssrf_row *r = &ssrf_rows[i];

        if (r->family == family && (best == NULL || r->bits > best->bits) &&
            ssrf_prefix_match(a, r->addr, r->bits))
            best = r;
    }
    return best;
}

/* Does the row refuse its addresses by itself (whatever they carry)? */
static bool ssrf_row_refuses(const struct ssrf_row *r)
{
    return r != NULL &&
           (r->reach == REACH_FALSE || (r->reach == REACH_NA && r->carry == CARRY_NONE));
}

/* The IPv4 addresses the IPv6 address a carries, as its row says. */
static void ssrf_decode(const struct ssrf_row *r, const unsigned char *a, struct ssrf_verdict *v)
{
    switch (r->carry) {
    case CARRY_NONE:
        break;
    case CARRY_LOW32:
        memcpy(v->carried[0], a + 12, 4);
        v->ncarried = 1;
        break;
    case CARRY_6TO4:
        memcpy(v->carried[0], a + 2, 4);
        v->ncarried = 1;
        break;
    case CARRY_TEREDO:
        memcpy(v->carried[0], a + 4, 4); /* server */
        for (int i = 0; i < 4; i++)      /* client, obfuscated */
            v->carried[1][i] = (unsigned char)~a[12 + i];
        v->ncarried = 2;
        break;
    }
}

/* Fill v for the address a of the given family. */
static void ssrf_classify(int family, const unsigned char *a, struct ssrf_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->row = ssrf_row_of(family, a);
    v->row_refuses = ssrf_row_refuses(v->row);
    v->refused = v->row_refuses;
    if (v->row != NULL)
        ssrf_decode(v->row, a, v);
    for (size_t k = 0; k < v->ncarried; k++) {
        const struct ssrf_row *r4 = ssrf_row_of(AF_INET, v->carried[k]);

        if (ssrf_row_refuses(r4)) {
            v->carried_row[k] = r4;
            v->refused = true;
        }
    }
}

/* Why a refused address is refused: "2002:7f00:1:: is 6to4 [RFC 3056] of
 * 127.0.0.1, 127.0.0.1 is loopback [RFC 1122]". */
static void ssrf_explain(const char *text, const struct ssrf_verdict *v, char *out, size_t size)
{
    char v4[SSRF_CARRIED_MAX][INET_ADDRSTRLEN];
    size_t len, tlen = strlen(text), vlen;

    for (size_t k = 0; k < v->ncarried; k++)
        inet_ntop(AF_INET, v->carried[k], v4[k], sizeof(v4[k]));
    len = ssrf_cat(out, size, 0, "%s is %s [%s]", text, v->row->name, v->row->rfc);
    if (v->ncarried == 2) {
        len = ssrf_cat(out, size, len, " of server %s and client %s", v4[0], v4[1]);
    } else if (v->ncarried == 1) {
        vlen = strlen(v4[0]); /* inet_ntop shows "::ffff:127.0.0.1" dotted already */
        if (tlen < vlen || strcmp(text + tlen - vlen, v4[0]) != 0)
            len = ssrf_cat(out, size, len, " of %s", v4[0]);
    }
    for (size_t k = 0; k < v->ncarried; k++)
        if (v->carried_row[k] != NULL)
            len = ssrf_cat(out, size, len, ", %s is %s [%s]", v4[k], v->carried_row[k]->name,
                           v->carried_row[k]->rfc);
}

/* The allow-list entry of the family covering a, or NULL. */
static const struct ssrf_net *ssrf_allow_find(const ssrf_allow_t *al, int family,
                                              const unsigned char *a)
{
    for (size_t i = 0; al != NULL && i < al->n; i++)
        if (al->nets[i].family == family &&
            ssrf_prefix_match(a, al->nets[i].addr, al->nets[i].bits))
            return &al->nets[i];
    return NULL;
}

/*
 * The allow-list entry admitting a refused address, or NULL: one covering
 * the address itself, or IPv4 entries covering what it carries - each
 * carried address that is refused, or the one it carries when its form is
 * refused (IPv4-mapped, local-use NAT64). The first such entry is named.
 */
static const struct ssrf_net *ssrf_allowed(const ssrf_allow_t *al, int family,
                                           const unsigned char *a, const struct ssrf_verdict *v)
{
    const struct ssrf_net *net, *first = NULL;

    if ((net = ssrf_allow_find(al, family, a)) != NULL)
        return net;
    for (size_t k = 0; k < v->ncarried; k++) {
        if (v->carried_row[k] == NULL && !v->row_refuses)
            continue; /* a public address carried needs no admitting */
        if ((net = ssrf_allow_find(al, AF_INET, v->carried[k])) == NULL)
            return NULL;
        if (first == NULL)
            first = net;
    }
    return first;
}

/* Copy the address out of sa (which need not be aligned); -1 with why
 * when it is neither a whole sockaddr_in nor a whole sockaddr_in6. */
static int ssrf_sockaddr(const struct sockaddr *sa, socklen_t salen, int *family,
                         unsigned char a[16], char *why, size_t whysize)
{
    struct sockaddr_in6 s6;
    struct sockaddr_in s4;
    sa_family_t fam;

    if (sa == NULL || salen < sizeof(sa_family_t) + offsetof(struct sockaddr, sa_family)) {
        ssrf_why(why, whysize, "no address");
        return -1;
    }
    memcpy(&fam, (const char *)sa + offsetof(struct sockaddr, sa_family), sizeof(fam));
    if (fam == AF_INET && salen >= sizeof(s4)) {
        memcpy(&s4, sa, sizeof(s4));
        memcpy(a, &s4.sin_addr, 4);
    } else if (fam == AF_INET6 && salen >= sizeof(s6)) {
        memcpy(&s6, sa, sizeof(s6));
        memcpy(a, &s6.sin6_addr, 16);
    } else {
        ssrf_why(why, whysize, "address family %d (length %u) is not IPv4 or IPv6", (int)fam,
                 (unsigned)salen);
        return -1;
    }
    *family = fam;
    return 0;
}

int ssrf_check(const ssrf_allow_t *al, const struct sockaddr *sa, socklen_t salen, char *why,
               size_t whysize)
{
    char text[INET6_ADDRSTRLEN], said[SSRF_SAID];
    const struct ssrf_net *net;
    struct ssrf_verdict v;
    unsigned char a[16];
    int family;

    if (ssrf_sockaddr(sa, salen, &family, a, why, whysize) < 0)
        return -1;
    ssrf_classify(family, a, &v);
    if (!v.refused) {
        ssrf_why(why, whysize, "%s", "");
        return 0;
    }
    inet_ntop(family, a, text, sizeof(text));
    ssrf_explain(text, &v, said, sizeof(said));
    if ((net = ssrf_allowed(al, family, a, &v)) != NULL) {
        ssrf_why(why, whysize, "%s, admitted by allow-list entry %s", said, net->text);
        return 0;
    }
    ssrf_why(why, whysize, "%s", said);
    return -1;
}

/* Prefix length: 1-3 digits, at most max. */
static int ssrf_bits_parse(const char *s, unsigned max, unsigned *bits)
{
    size_t len = strlen(s);
    unsigned val = 0;

    if (len == 0 || len > 3 || strspn(s, "0123456789") != len)
        return -1;
    for (size_t i = 0; i < len; i++)
        val = val * 10 + (unsigned)(s[i] - '0');
    if (val > max)
        return -1;
    *bits = val;
    return 0;
}

/* Clear the host bits of net's address; true if any was set. */
static bool ssrf_host_bits_clear(struct ssrf_net *net)
{
    unsigned size = net->family == AF_INET ? 4 : 16;
    bool set = false;

    for (unsigned i = 0; i < size; i++) {
        unsigned keep = net->bits >= 8 * (i + 1) ? 8 : net->bits > 8 * i ? net->bits - 8 * i : 0;
        unsigned char mask = (unsigned char)(0xFF00 >> keep);

        set = set || (net->addr[i] & ~mask) != 0;
        net->addr[i] &= mask;
    }
    return set;
}

/* One entry: "address" or "address/prefix". */
static int ssrf_net_parse(const char *entry, struct ssrf_net *net, mh_err_t *err)
{
    char addr[INET6_ADDRSTRLEN], shown[128];
    const char *slash = strchr(entry, '/');
    size_t alen = slash ? (size_t)(slash - entry) : strlen(entry);
    unsigned max;

    printable(shown, sizeof(shown), entry, strlen(entry));
    if (alen >= sizeof(addr))
        return mh_err_set(err, "allow-list entry \"%s\": not an IPv4 or IPv6 address", shown);
    memcpy(addr, entry, alen);
    addr[alen] = 0;
    memset(net, 0, sizeof(*net));
    if (inet_pton(AF_INET, addr, net->addr) == 1)
        net->family = AF_INET, max = 32;
    else if (inet_pton(AF_INET6, addr, net->addr) == 1)
        net->family = AF_INET6, max = 128;
    else
        return mh_err_set(err, "allow-list entry \"%s\": not an IPv4 or IPv6 address", shown);
    net->bits = max;
    if (slash && ssrf_bits_parse(slash + 1, max, &net->bits) < 0)
        return mh_err_set(err, "allow-list entry \"%s\": prefix length must be 0 to %u", shown,
                          max);
    if (ssrf_host_bits_clear(net)) {
        inet_ntop(net->family, net->addr, addr, sizeof(addr));
        return mh_err_set(err, "allow-list entry \"%s\": host bits are set (%s/%u was meant?)",
                          shown, addr, net->bits);
    }
    inet_ntop(net->family, net->addr, addr, sizeof(addr));
    snprintf(net->text, sizeof(net->text), "%s/%u", addr, net->bits);
    return 0;
}

ssrf_allow_t *ssrf_allow_parse(const char *const *list, size_t n, mh_err_t *err)
{
    ssrf_allow_t *al = xcalloc(1, sizeof(*al));

    al->nets = xcalloc(n ? n : 1, sizeof(*al->nets));
    for (size_t i = 0; i < n; i++) {
        if (list == NULL || list[i] == NULL) {
            mh_err_set(err, "allow-list entry %zu is missing", i + 1);
            return ssrf_allow_free(al);
        }
        if (ssrf_net_parse(list[i], &al->nets[i], err) < 0)
            return ssrf_allow_free(al);
    }
    al->n = n;
    return al;
}

ssrf_allow_t *ssrf_allow_free(ssrf_allow_t *al)
{
    if (al != NULL) {
        xfree(al->nets);
        xfree(al);
    }
    return NULL;
}
