/*
 * ssrf.c - the SSRF guard of webhook delivery (see ssrf.h for the ranges).
 *
 * An address is held as its network-order bytes (4 or 16) and compared
 * with prefix tables, so IPv4 and IPv6 share one matcher. An IPv6 address
 * that carries an IPv4 address (mapped, compatible, NAT64, 6to4) is judged
 * as that IPv4 address, and an allow-list's IPv4 entries admit it too.
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

/* A refused range; the first match wins, so narrow ranges go first. */
struct ssrf_range {
    unsigned char addr[16];
    unsigned bits;
    const char *what;
};

static const struct ssrf_range ssrf_v4[] = {
    { { 255, 255, 255, 255 }, 32, "broadcast" }, /* inside 240/4 */
    { { 0 }, 8, "unspecified" },
    { { 10 }, 8, "private" },
    { { 100, 64 }, 10, "cgnat" },
    { { 127 }, 8, "loopback" },
    { { 169, 254 }, 16, "link-local" },
    { { 172, 16 }, 12, "private" },
    { { 192, 0, 0 }, 24, "reserved" },
    { { 192, 168 }, 16, "private" },
    { { 198, 18 }, 15, "benchmark" },
    { { 224 }, 4, "multicast" },
    { { 240 }, 4, "reserved" },
};

/* :: and ::1 come before the IPv4-compatible ::/96 that contains them. */
static const struct ssrf_range ssrf_v6[] = {
    { { 0 }, 128, "unspecified" },
    { { [15] = 1 }, 128, "loopback" },
    { { 0xfe, 0x80 }, 10, "link-local" },
    { { 0xfc }, 7, "private (unique local)" },
    { { 0xff }, 8, "multicast" },
};

/* IPv6 forms that carry an IPv4 address at byte offset v4at. show: the
 * why-text names the IPv4 address (inet_ntop prints mapped and compatible
 * addresses dotted already). */
static const struct {
    unsigned char prefix[16];
    unsigned bits, v4at;
    bool show;
    const char *what;
} ssrf_embedded[] = {
    { { [10] = 0xff, [11] = 0xff }, 96, 12, false, "IPv4-mapped" },
    { { 0 }, 96, 12, false, "IPv4-compatible" },
    { { 0x00, 0x64, 0xff, 0x9b }, 96, 12, true, "NAT64" },
    { { 0x20, 0x02 }, 16, 2, true, "6to4" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What ssrf_classify found out about one address. */
struct ssrf_verdict {
    const char *what;  /* range name when refused, else NULL */
    const char *via;   /* embedding form, or NULL */
    bool show;         /* name the IPv4 address in the why-text */
    unsigned char v4[4]; /* the IPv4 address carried, when via */
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

/* Do the first bits bits of a and net agree? */
static bool ssrf_prefix_match(const unsigned char *a, const unsigned char *net, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));

    if (memcmp(a, net, full) != 0)
        return false;
    return rest == 0 || ((a[full] ^ net[full]) & mask) == 0;
}

static const char *ssrf_lookup(const struct ssrf_range *t, size_t n, const unsigned char *a)
{
    for (size_t i = 0; i < n; i++)
        if (ssrf_prefix_match(a, t[i].addr, t[i].bits))
            return t[i].what;
    return NULL;
}

/* Fill v for the address a of the given family. */
static void ssrf_classify(int family, const unsigned char *a, struct ssrf_verdict *v)
{
    memset(v, 0, sizeof(*v));
    if (family == AF_INET) {
        v->what = ssrf_lookup(ssrf_v4, N(ssrf_v4), a);
        return;
    }
    if ((v->what = ssrf_lookup(ssrf_v6, N(ssrf_v6), a)) != NULL)
        return;
    for (size_t i = 0; i < N(ssrf_embedded); i++) {
        if (ssrf_prefix_match(a, ssrf_embedded[i].prefix, ssrf_embedded[i].bits)) {
            memcpy(v->v4, a + ssrf_embedded[i].v4at, 4);
            v->via = ssrf_embedded[i].what;
            v->show = ssrf_embedded[i].show;
            v->what = ssrf_lookup(ssrf_v4, N(ssrf_v4), v->v4);
            return;
        }
    }
}

/* The allow-list entry admitting the address, or NULL. */
static const struct ssrf_net *ssrf_allowed(const ssrf_allow_t *al, int family,
                                           const unsigned char *a, const struct ssrf_verdict *v)
{
    for (size_t i = 0; al != NULL && i < al->n; i++) {
        const struct ssrf_net *net = &al->nets[i];

        if (net->family == family && ssrf_prefix_match(a, net->addr, net->bits))
            return net;
        if (v->via && net->family == AF_INET && ssrf_prefix_match(v->v4, net->addr, net->bits))
            return net;
    }
    return NULL;
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
    char text[INET6_ADDRSTRLEN], v4text[INET_ADDRSTRLEN], via[64] = "";
    const struct ssrf_net *net;
    struct ssrf_verdict v;
    unsigned char a[16];
    int family;

    if (ssrf_sockaddr(sa, salen, &family, a, why, whysize) < 0)
        return -1;
    ssrf_classify(family, a, &v);
    if (v.what == NULL) {
        ssrf_why(why, whysize, "%s", "");
        return 0;
    }
    inet_ntop(family, a, text, sizeof(text));
    if (v.via && v.show) {
        inet_ntop(AF_INET, v.v4, v4text, sizeof(v4text));
        snprintf(via, sizeof(via), " (%s of %s)", v.via, v4text);
    } else if (v.via) {
        snprintf(via, sizeof(via), " (%s)", v.via);
    }
    if ((net = ssrf_allowed(al, family, a, &v)) != NULL) {
        ssrf_why(why, whysize, "%s is %s%s, admitted by allow-list entry %s", text, v.what, via,
                 net->text);
        return 0;
    }
    ssrf_why(why, whysize, "%s is %s%s", text, v.what, via);
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
