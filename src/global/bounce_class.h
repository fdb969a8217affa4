/* SPDX-License-Identifier: MIT */
/*
 * bounce_class.h - classify a failed delivery from its SMTP reply: one
 * classifier for every reader that sees replies (the maillog reader's
 * dsn= and status text or Sendmail's reply=, and the DSN reader's Status:
 * and Diagnostic-Code:).
 *
 * Classes (static strings; README.md "Bounce classes" and mailhookd(8)
 * list the codes and phrases that lead to each):
 *   unknown-user   no such mailbox: suppress the address
 *   inactive       the mailbox exists but is disabled or suspended: suppress
 *   mailbox-full   over quota: usually temporary
 *   spam-block     content or sending host judged spam (blocklists, reputation)
 *   relay-denied   the server will not relay for the recipient's domain
 *   dns            the recipient's domain does not resolve
 *   policy         refused by rule: authentication, access lists, the sender
 *   other          anything else, or no reason given
 *
 *   bounce_class(dsn, dsnlen, text, textlen)
 *       the class of one reply. dsn is the enhanced status code (RFC 3463,
 *       "5.1.1"; NULL or empty when unknown); text the reply as logged,
 *       either may be NULL. When dsn is missing or says nothing (x.0.0,
 *       which Postfix and Sendmail log for replies without an enhanced
 *       code) the first enhanced code in the text is used. A Postfix
 *       "host NAME[ADDR] said: " prefix is skipped, so an MX named
 *       "spamfilter" does not make every reply a spam block, and words holding
 *       an '@' (quoted addresses) are left out for the same reason. At most
 *       BOUNCE_TEXT_MAX bytes of what remains are looked at.
 *   bounce_class_names[]
 *       the classes above, NULL-terminated, in this order
 *
 * Model: the rules are data (src/bounce_rules.def): rows of status code
 * pattern and phrase, tried in order, the first match deciding. Pure: no
 * allocation, no state, thread-safe.
 */
#ifndef MH_BOUNCE_CLASS_H
#define MH_BOUNCE_CLASS_H

#include <stddef.h>

#define BOUNCE_TEXT_MAX 1024

extern const char *const bounce_class_names[];

const char *bounce_class(const char *dsn, size_t dsnlen, const char *text, size_t textlen);

#endif
