/* SPDX-License-Identifier: MIT */
/*
 * journal_source.c - the mail programs' messages from the systemd journal,
 * as syslog-style lines for the maillog parser (the contract is in
 * journal_source.h).
 *
 *   journal_source_open()     open a journal directory or the local journal,
 *                             position at a cursor, the head or the tail
 *   journal_source_next()     the next mail line and the cursor of its entry
 *   journal_source_fd()       the journal's inotify fd for the event loop
 *   journal_source_process()  digest the fd's events (new files, appends)
 *   journal_source_close()    release everything
 *
 * Line format: "2026-11-22T06:30:19.123456+00:00 HOST IDENT[PID]: MESSAGE",
 * the entry's __REALTIME_TIMESTAMP as RFC 3339 in UTC with microseconds,
 * _HOSTNAME, SYSLOG_IDENTIFIER, _PID (SYSLOG_PID when _PID is absent) and
 * MESSAGE. A missing host leaves out "HOST " and a missing (or non-numeric)
 * PID leaves out "[PID]", both of which the parser accepts.
 *
 * Selection is done here, in code, not with sd_journal_add_match(): matches
 * compare exact values, and the identifiers we want are open-ended
 * ("postfix-out/qmgr", "postfix/submission/smtpd"). The accepted ones are
 * "postfix" or "postfix-INSTANCE", then one or more "/SEGMENT", every byte
 * of the identifier being [A-Za-z0-9_.-] or a separating '/' (the parser's
 * program syntax), plus exactly "sendmail", "sm-mta", "sm-msp-queue" and
 * "sm-acceptingconnections" (Sendmail's daemon, named by its process title).
 * So every entry is looked at: reading from the head of a big system
 * journal takes one SYSLOG_IDENTIFIER lookup per entry, in one call.
 *
 * Untrusted bytes. MESSAGE may hold anything, NULs included (journald
 * stores binary fields): every control byte (0x00-0x1f, 0x7f) in it becomes
 * '?', like printable() does, so a line never holds a NUL or a newline and
 * nothing after a NUL is lost. In the host name a space, '[' and ']' also
 * become '?', so the host stays one field for the parser.
 *
 * Bounds. A line is at most max_line bytes: the rest is cut and *truncated
 * set (like tail_next). The journal's data threshold is set just above
 * max_line, so a huge compressed MESSAGE is not decompressed in full. One
 * buffer of max_line + 1 bytes is allocated at open.
 *
 * Cursor. After a mail entry is handed out, the caller gets its cursor
 * (sd_journal_get_cursor). On open with a cursor we seek to it and step
 * onto the entry there; sd_journal_test_cursor() tells whether it is the
 * entry handed out last (skipped: reading resumes after it) or, when that
 * one is gone (vacuumed), the first entry after it (not skipped). An
 * unparsable cursor fails the open; the caller decides how to go on.
 *
 * Errors: journal_source_open() fails (err) when the journal cannot be
 * opened (a missing directory: ENOENT), the cursor is malformed or the
 * inotify fd cannot be had. journal_source_next() returns -1 and warns
 * once per distinct error when the journal cannot be iterated; an entry
 * whose fields cannot be read (corrupt, unsupported compression) is warned
 * about and skipped, since no retry can read it. With directory NULL and
 * no readable journal file at all (the user is not in the
 * systemd-journal group) the open warns but succeeds: journald may create
 * the files later.
 *
 * Not fork-safe: libsystemd refuses (-ECHILD) a journal opened before a
 * fork, so open it in the process that reads it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "journal_source.h"
#include "msg.h"
#include "strutil.h"
#include "xalloc.h"

#define JS_IDENT_MAX 255 /* longer identifiers are not a mail program's */
#define JS_HOST_MAX 255  /* DNS names are at most 253 bytes */
#define JS_PID_MAX 10    /* digits */

struct journal_source {
    sd_journal *sd;
    char *where;     /* the directory, or "the system journal", for messages */
    int fd;          /* sd_journal_get_fd() */
    size_t max_line;
    char *line;      /* max_line + 1 bytes: the line handed out last */
    size_t len;
    bool truncated;
    char *cursor;    /* the cursor handed out last (libsystemd's malloc) */
    bool pending;    /* positioned on an entry that was not looked at yet */
    struct msg_once last_err; /* last error warned about */
};

/* ------------------------------------------------------------ helpers */

static int js_fail(journal_source_t *j, const char *fmt, ...) MH_PRINTF(2, 3);

/* Warn once per distinct error; -1. */
static int js_fail(journal_source_t *j, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vwarn_once(&j->last_err, fmt, ap);
    va_end(ap);
    return -1;
}

/*
 * The value of field name in the current entry: 1 with *val and *len (not
 * NUL-terminated; valid until the next sd_journal call, so copy it before
 * asking for another field), 0 when the entry has no such field, -errno.
 */
static int js_field(sd_journal *sd, const char *name, const char **val, size_t *len)
{
    size_t nl = strlen(name), n;
    const void *d;
    int r;

    r = sd_journal_get_data(sd, name, &d, &n);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    if (n <= nl || memcmp(d, name, nl) != 0 || ((const char *)d)[nl] != '=')
        return -EBADMSG;
    *val = (const char *)d + nl + 1;
    *len = n - nl - 1;
    return 1;
}

static bool prog_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
           || c == '.' || c == '-';
}

static bool is_ident(const char *s, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* The SYSLOG_IDENTIFIER rules of journal_source.h (see the top of file). */
static bool js_mail_ident(const char *s, size_t n)
{
    size_t i = 7, seg = 0;

    if (is_ident(s, n, "sendmail") || is_ident(s, n, "sm-mta") || is_ident(s, n, "sm-msp-queue") ||
        is_ident(s, n, "sm-acceptingconnections"))
        return true;
    if (n < 9 || memcmp(s, "postfix", 7) != 0)
        return false;
    if (s[i] == '-') { /* an instance name: "postfix-out" */
        for (i++; i < n && prog_char(s[i]); i++)
            seg++;
        if (seg == 0)
            return false;
    }
    if (i >= n || s[i] != '/')
        return false;
    for (seg = 0, i++; i < n; i++) { /* "/smtp", "/submission/smtpd" */
        if (s[i] == '/' && seg > 0)
            seg = 0;
        else if (prog_char(s[i]))
            seg++;
        else
            return false;
    }
    return seg > 0;
}

/* Append n bytes of s to the line, cut at max_line. With bad != NULL,
 * control bytes and the bytes listed in bad become '?'. */
static void js_put(journal_source_t *j, const char *s, size_t n, const char *bad)
{
    size_t room = j->max_line - j->len, k;
    char *o = j->line + j->len;

    if (n > room) {
        n = room;
        j->truncated = true;
    }
    if (bad == NULL) {
        memcpy(o, s, n);
    } else {
        for (k = 0; k < n; k++) {
            unsigned char c = (unsigned char)s[k];

            o[k] = byte_is_ctl(c) || (c != 0 && strchr(bad, c) != NULL) ? '?' : (char)c;
        }
    }
    j->len += n;
}

static void js_puts(journal_source_t *j, const char *s)
{
    js_put(j, s, strlen(s), NULL);
}

/* "2026-11-22T06:30:19.123456+00:00" */
static void js_put_time(journal_source_t *j, uint64_t usec)
{
    char ts[64], frac[16];
    time_t sec = (time_t)(usec / 1000000);
    struct tm tm;

    if (gmtime_r(&sec, &tm) == NULL || strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        memcpy(ts, "1970-01-01T00:00:00", sizeof("1970-01-01T00:00:00")); /* out of range */
    snprintf(frac, sizeof(frac), ".%06u+00:00", (unsigned)(usec % 1000000));
    js_puts(j, ts);
    js_puts(j, frac);
}

/* Copy a field's value (at most max bytes) into out; 1, 0 absent, -errno. */
static int js_copy(sd_journal *sd, const char *name, char *out, size_t max, size_t *len)
{
    const char *v;
    int r = js_field(sd, name, &v, len);

    if (r <= 0)
        return r;
    if (*len > max)
        *len = max + 1; /* tells "too long" to the caller, copies max */
    memcpy(out, v, *len > max ? max : *len);
    return 1;
}

static bool all_digits(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

/*
 * Look at the current entry: 1 with the line built, 0 when it is not a
 * mail program's entry, -1 when its fields cannot be read (warned).
 */
static int js_entry(journal_source_t *j)
{
    char ident[JS_IDENT_MAX + 1], host[JS_HOST_MAX + 1], pid[JS_PID_MAX + 1];
    size_t ident_len = 0, host_len = 0, pid_len = 0, msg_len = 0;
    const char *msg = NULL;
    uint64_t usec;
    int r, have_host, have_pid;

    r = js_copy(j->sd, "SYSLOG_IDENTIFIER", ident, JS_IDENT_MAX, &ident_len);
    if (r <= 0)
        goto check;
    if (ident_len > JS_IDENT_MAX || !js_mail_ident(ident, ident_len))
        return 0;
    if ((r = sd_journal_get_realtime_usec(j->sd, &usec)) < 0)
        goto check;
    if ((r = have_host = js_copy(j->sd, "_HOSTNAME", host, JS_HOST_MAX, &host_len)) < 0)
        goto check;
    if ((r = have_pid = js_copy(j->sd, "_PID", pid, JS_PID_MAX, &pid_len)) == 0)
        r = have_pid = js_copy(j->sd, "SYSLOG_PID", pid, JS_PID_MAX, &pid_len);
    if (r < 0)
        goto check;
    if ((r = js_field(j->sd, "MESSAGE", &msg, &msg_len)) < 0) /* last: msg stays valid */
        goto check;

    j->len = 0;
    j->truncated = false;
    js_put_time(j, usec);
    if (have_host && host_len > 0) {
        js_puts(j, " ");
        js_put(j, host, host_len > JS_HOST_MAX ? JS_HOST_MAX : host_len, " []");
    }
    js_puts(j, " ");
    js_put(j, ident, ident_len, NULL);
    if (have_pid && pid_len <= JS_PID_MAX && all_digits(pid, pid_len)) {
        js_puts(j, "[");
        js_put(j, pid, pid_len, NULL);
        js_puts(j, "]");
    }
    js_puts(j, ": ");
    if (msg != NULL)
        js_put(j, msg, msg_len, "");
    j->line[j->len] = '\0';
    return 1;

check:
    if (r == 0)
        return 0; /* no SYSLOG_IDENTIFIER: not syslog, not mail */
    js_fail(j, "%s: skipping an unreadable journal entry: %s", j->where, strerror(-r));
    return -1;
}

/* ------------------------------------------------------------ public */

static int js_position(journal_source_t *j, const char *cursor, bool from_start, mh_err_t *err)
{
    int r;

    if (cursor != NULL) {
        if ((r = sd_journal_seek_cursor(j->sd, cursor)) < 0)
            return mh_err_set(err, "%s: cannot seek to the saved cursor: %s", j->where,
                              strerror(-r));
        if ((r = sd_journal_next(j->sd)) < 0)
            return mh_err_set(err, "%s: reading the journal: %s", j->where, strerror(-r));
        if (r > 0) {
            /* The entry handed out last (skip it), or the first one after
             * it when it is gone (hand it out). */
            if ((r = sd_journal_test_cursor(j->sd, cursor)) < 0)
                return mh_err_set(err, "%s: cannot test the saved cursor: %s", j->where,
                                  strerror(-r));
            j->pending = r == 0;
        }
        return 0;
    }
    if (from_start) {
        if ((r = sd_journal_seek_head(j->sd)) < 0)
            return mh_err_set(err, "%s: cannot seek to the head: %s", j->where, strerror(-r));
        return 0;
    }
    /* On the last entry, so that the next one read is the first new one.
     * An empty journal is read from its head instead: left at the tail,
     * libsystemd (252) would step onto the last entry of the files that
     * appear later, skipping all the others. */
    if ((r = sd_journal_seek_tail(j->sd)) < 0 || (r = sd_journal_previous(j->sd)) < 0)
        return mh_err_set(err, "%s: cannot seek to the tail: %s", j->where, strerror(-r));
    if (r == 0 && (r = sd_journal_seek_head(j->sd)) < 0)
        return mh_err_set(err, "%s: cannot seek to the head: %s", j->where, strerror(-r));
    return 0;
}

journal_source_t *journal_source_open(const char *directory, const char *cursor,
                                      bool from_start, size_t max_line, mh_err_t *err)
{
    journal_source_t *j;
    size_t threshold;
    int r;

    if (max_line == 0 || max_line > SIZE_MAX / 2) {
        mh_err_set(err, "journal: line limit %zu out of range", max_line);
        return NULL;
    }
    j = xcalloc(1, sizeof(*j));
    j->fd = -1;
    j->max_line = max_line;
    j->where = directory != NULL ? xasprintf("journal %s", directory)
                                 : xstrdup("the system journal");
    if (directory != NULL)
        r = sd_journal_open_directory(&j->sd, directory, 0);
    else
        r = sd_journal_open(&j->sd, SD_JOURNAL_LOCAL_ONLY);
    if (r < 0) {
        j->sd = NULL;
        mh_err_set(err, "cannot open %s: %s", j->where, strerror(-r));
        return journal_source_close(j);
    }
    /* Fields beyond the threshold may come back cut: "MESSAGE=" plus
     * max_line + 1 bytes are enough to fill a line and see it is longer. */
    threshold = max_line + 64;
    if ((r = sd_journal_set_data_threshold(j->sd, threshold)) < 0) {
        mh_err_set(err, "%s: cannot set the data threshold: %s", j->where, strerror(-r));
        return journal_source_close(j);
    }
    /* The inotify watches before positioning: a file created from now on
     * is seen by journal_source_process(). */
    if ((j->fd = sd_journal_get_fd(j->sd)) < 0) {
        mh_err_set(err, "%s: cannot watch for changes: %s", j->where, strerror(-j->fd));
        return journal_source_close(j);
    }
    if (js_position(j, cursor, from_start, err) < 0)
        return journal_source_close(j);
    if (directory == NULL && sd_journal_has_runtime_files(j->sd) <= 0
        && sd_journal_has_persistent_files(j->sd) <= 0)
        msg_warn("no readable file in the system journal (yet): is this user in the "
                 "systemd-journal group?");
    j->line = xmalloc(max_line + 1);
    j->line[0] = '\0';
    return j;
}

int journal_source_next(journal_source_t *j, const char **line, size_t *len, bool *truncated,
                        const char **cursor)
{
    char *c;
    int r;

    for (;;) {
        if (j->pending) {
            j->pending = false;
        } else if ((r = sd_journal_next(j->sd)) < 0) {
            return js_fail(j, "%s: reading the journal: %s", j->where, strerror(-r));
        } else if (r == 0) {
            return 0;
        }
        if (js_entry(j) <= 0)
            continue; /* not mail, or unreadable (warned) */
        if ((r = sd_journal_get_cursor(j->sd, &c)) < 0) {
            j->pending = true; /* the same entry again at the next call */
            return js_fail(j, "%s: cannot get the cursor of an entry: %s", j->where,
                           strerror(-r));
        }
        free(j->cursor);
        j->cursor = c;
        msg_once_reset(&j->last_err); /* working again: warn anew about a new failure */
        *line = j->line;
        *len = j->len;
        *truncated = j->truncated;
        *cursor = j->cursor;
        return 1;
    }
}

int journal_source_fd(journal_source_t *j)
{
    return j->fd;
}

void journal_source_process(journal_source_t *j)
{
    int r = sd_journal_process(j->sd);

    if (r < 0)
        js_fail(j, "%s: processing journal changes: %s", j->where, strerror(-r));
}

journal_source_t *journal_source_close(journal_source_t *j)
{
    if (j == NULL)
        return NULL;
    if (j->sd != NULL)
        sd_journal_close(j->sd); /* closes j->fd too */
    free(j->cursor);             /* from libsystemd */
    xfree(j->line);
    xfree(j->where);
    return xfree(j);
}
