/*
 * ssrf.h - the server-side request forgery guard of webhook delivery.
 *
 * mailhookd connects to URLs that administrators (and, through them,
 * possibly others) chose. The guard looks at the address a connection is
 * actually about to be made to - after DNS, so a name that resolves (or
 * re-resolves) to an inside address is caught - and refuses addresses that
 * reach the host itself or its private networks, unless an allow-list
 * admits them:
 *
 *   IPv4  0.0.0.0/8 unspecified, 10/8 private, 100.64/10 cgnat,
 *         127/8 loopback, 169.254/16 link-local, 172.16/12 private,
 *         192.0.0.0/24 reserved, 192.168/16 private, 198.18/15 benchmark,
 *         224/4 multicast, 240/4 reserved (and 255.255.255.255)
 *   IPv6  :: unspecified, ::1 loopback, fe80::/10 link-local,
 *         fc00::/7 private (unique local), ff00::/8 multicast,
 *         and IPv4 addresses embedded in ::ffff:0:0/96 (mapped),
 *         ::/96 (compatible), 64:ff9b::/96 (NAT64) and 2002::/16 (6to4),
 *         judged as the IPv4 address they carry
 *
 *   ssrf_allow_parse(list, n, err)   allow-list of CIDRs ("127.0.0.0/8",
 *                                    "::1/128", "10.1.2.3"); NULL + err on
 *                                    a bad entry; n = 0 gives an empty list
 *   ssrf_allow_free(a)               returns NULL; NULL is fine
 *   ssrf_check(a, sa, salen, why, whysize)
 *                                    0 when the address may be connected
 *                                    to; -1 when refused, why receives e.g.
 *                                    "127.0.0.1 is loopback" (a may be NULL)
 *
 * Allow-list entries: a bare address means /32 or /128; an entry with
 * host bits set ("10.1.2.3/8") is an error naming the network probably
 * meant, as in Postfix cidr tables. Error texts show the entry made
 * printable. An IPv4 entry also admits the IPv6 forms carrying that IPv4
 * address; an IPv6 entry is matched against IPv6 addresses only.
 *
 * ssrf_check refuses anything but a whole sockaddr_in or sockaddr_in6
 * (why says so). On 0, why (when given) is "" for an ordinary address, or
 * e.g. "127.0.0.1 is loopback, admitted by allow-list entry 127.0.0.0/8",
 * worth logging. Embedded forms read "::ffff:127.0.0.1 is loopback
 * (IPv4-mapped)", "2002:7f00:1:: is loopback (6to4 of 127.0.0.1)". why is
 * always NUL-terminated, truncated to whysize; why may be NULL.
 */
#ifndef MH_SSRF_H
#define MH_SSRF_H

#include <stddef.h>
#include <sys/socket.h>
#include "msg.h"

typedef struct ssrf_allow ssrf_allow_t;

ssrf_allow_t *ssrf_allow_parse(const char *const *list, size_t n, mh_err_t *err);
ssrf_allow_t *ssrf_allow_free(ssrf_allow_t *a);
int ssrf_check(const ssrf_allow_t *a, const struct sockaddr *sa, socklen_t salen, char *why,
               size_t whysize);

#endif
