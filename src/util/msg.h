/* SPDX-License-Identifier: MIT */
/*
 * msg.h - the one diagnostic vocabulary of mailhook.
 *
 *   msg_open(progname, dest)  choose where messages go (syslog facility mail, or stderr)
 *                          On stderr, when it is the journal stream systemd
 *                          named (JOURNAL_STREAM is stderr's "DEV:INODE"),
 *                          each line starts with its syslog priority, "<4>"
 *                          for a warning (sd-daemon(3)), so that journald
 *                          records it: `journalctl -p warning` works.
 *   msg_progname()         the name given to msg_open
 *   msg_syslog_facility(name)  use another facility ("daemon", "local0".."local7");
 *                          -1 for an unknown name (config validation prevents it)
 *   msg_info(fmt, ...)     normal operational message
 *   msg_warn(fmt, ...)     something recoverable went wrong; work continues
 *   msg_fatal(exit_code, fmt, ...)  the environment is unusable: log and
 *                          exit(exit_code), a code from sysexits.h
 *   msg_panic(fmt, ...)    a bug (broken invariant): log and abort()
 *   msg_debug(fmt, ...)    only when msg_verbose > 0
 *   printable(out, outlen, in, inlen)  untrusted text made safe to log (below)
 *   mh_err_set(err, fmt, ...)     fill err, return -1 (below)
 *   mh_err_prefix(err, fmt, ...)  prefix err's text with a context, return -1
 *   msg_warn_once(o, fmt, ...)  msg_warn, unless the text is the one o last
 *                          warned about (a failure that repeats on every retry
 *                          is said once)
 *   msg_vwarn_once(o, fmt, ap)  the same with a va_list
 *   msg_once_reset(o)      forget o's text: the next failure is said again
 *                          (call it when the work succeeds)
 *
 * Feature code never calls syslog() or writes to stderr itself. Text that came
 * from outside (addresses, headers, URLs, log lines, a producer's event, an
 * admin request) goes through printable() before it is logged or quoted in
 * an mh_err_t; the answer writers (ingest, admin) and msg_*() itself make
 * their whole text printable again, so one forgotten quote cannot split a
 * line of the log or of a protocol in two.
 *
 * Errors returned to a caller use mh_err_t: a fixed buffer the callee fills
 * with mh_err_set(), which returns -1 so that "return mh_err_set(err, ...);"
 * is the one way to fail. err may be NULL when the caller does not care.
 */
#ifndef MH_MSG_H
#define MH_MSG_H

#include <stdarg.h>
#include <stddef.h>
#include <sysexits.h>

#define MH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MH_NORETURN __attribute__((noreturn))

enum msg_dest { MSG_STDERR, MSG_SYSLOG };

extern int msg_verbose;

void msg_open(const char *progname, enum msg_dest dest);
int msg_syslog_facility(const char *name);
const char *msg_progname(void);
void msg_info(const char *fmt, ...) MH_PRINTF(1, 2);
void msg_warn(const char *fmt, ...) MH_PRINTF(1, 2);
void msg_debug(const char *fmt, ...) MH_PRINTF(1, 2);
void msg_fatal(int exit_code, const char *fmt, ...) MH_PRINTF(2, 3) MH_NORETURN;
void msg_panic(const char *fmt, ...) MH_PRINTF(1, 2) MH_NORETURN;

/* Function-name prefixed variants (OpenSSH error_f style). */
#define msg_warn_f(fmt, ...) msg_warn("%s: " fmt, __func__, ##__VA_ARGS__)
#define msg_panic_f(fmt, ...) msg_panic("%s: " fmt, __func__, ##__VA_ARGS__)

/*
 * printable - copy at most outlen-1 bytes of untrusted text into out,
 * replacing each control character (C0, DEL, C1, the line and paragraph
 * separators U+2028/U+2029, and the bidirectional embeddings, overrides and
 * isolates U+202A..U+202E, U+2066..U+2069) and each invalid UTF-8 byte with
 * '?'; always
 * NUL-terminates, marks truncation with "...". Never longer than the input
 * but for the "...". Returns out.
 */
char *printable(char *out, size_t outlen, const char *in, size_t inlen);

typedef struct mh_err {
    char text[512];
} mh_err_t;

/* Format into err (when not NULL) and return -1. */
int mh_err_set(mh_err_t *err, const char *fmt, ...) MH_PRINTF(2, 3);
/* Prefix err's text with "context: " (for wrapping callee errors); returns -1. */
int mh_err_prefix(mh_err_t *err, const char *fmt, ...) MH_PRINTF(2, 3);

/* What msg_warn_once() last said; zero-initialized (or reset) means nothing. */
struct msg_once {
    char last[sizeof(((mh_err_t *)0)->text)];
};

void msg_warn_once(struct msg_once *o, const char *fmt, ...) MH_PRINTF(2, 3);
void msg_vwarn_once(struct msg_once *o, const char *fmt, va_list ap) MH_PRINTF(2, 0);
static inline void msg_once_reset(struct msg_once *o) { o->last[0] = 0; }

#endif
