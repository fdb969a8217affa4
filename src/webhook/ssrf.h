/* SPDX-License-Identifier: MIT */
/*
 * ssrf.h - the server-side request forgery guard of webhook delivery.
 *
 * mailhookd connects to URLs that administrators (and, through them,
 * possibly others) chose. The guard looks at the address a connection is
 * actually about to be made to - after DNS, so a name that resolves (or
 * re-resolves) to an inside address is caught - and refuses every address
 * that IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890
 * and its updates) do not mark globally reachable, unless an allow-list
 * admits it: loopback, private-use, link-local, shared (CGNAT), the
 * documentation and benchmarking blocks, the IETF protocol assignments,
 * discard-only, local-use NAT64 64:ff9b:1::/48, unique-local, and so on,
 * each row named with its RFC in ssrf.c. Also refused: multicast, the
 * deprecated site-local fec0::/10, and IPv6 outside global unicast
 * 2000::/3. IPv6 forms carrying an IPv4 address are judged by that address
 * too: IPv4-mapped ::ffff:0:0/96 and IPv4-compatible ::/96 (both refused in
 * themselves), NAT64 64:ff9b::/96, 6to4 2002::/16 and Teredo 2001::/32
 * (server and client address).
 *
 *   ssrf_allow_parse(list, n, err)   allow-list of CIDRs ("127.0.0.0/8",
 *                                    "::1/128", "10.1.2.3"); NULL + err on
 *                                    a bad entry; n = 0 gives an empty list
 *   ssrf_allow_free(a)               returns NULL; NULL is fine
 *   ssrf_check(a, sa, salen, why, whysize)
 *                                    0 when the address may be connected
 *                                    to; -1 when refused, why receives e.g.
 *                                    "127.0.0.1 is loopback [RFC 1122]" (a may
 *                                    be NULL)
 *
 * Allow-list entries: a bare address means /32 or /128; an entry with
 * host bits set ("10.1.2.3/8") is an error naming the network probably
 * meant, as in Postfix cidr tables. Error texts show the entry made
 * printable. An IPv4 entry also admits the IPv6 forms carrying the IPv4
 * addresses it covers (for Teredo: each carried address that is refused);
 * an IPv6 entry is matched against IPv6 addresses only.
 *
 * ssrf_check refuses anything but a whole sockaddr_in or sockaddr_in6
 * (why says so). The why-text names the registry row and its RFC:
 * "192.0.2.1 is documentation (TEST-NET-1) [RFC 5737]", and for a form
 * carrying IPv4 what it carries: "2002:7f00:1:: is 6to4 [RFC 3056] of
 * 127.0.0.1, 127.0.0.1 is loopback [RFC 1122]", "::ffff:10.0.0.1 is
 * IPv4-mapped [RFC 4291], 10.0.0.1 is private-use [RFC 1918]". On 0, why
 * (when given) is "" for an ordinary address, or the refusal followed by
 * ", admitted by allow-list entry 127.0.0.0/8", worth logging. why is
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
