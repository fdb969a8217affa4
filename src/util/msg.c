/* SPDX-License-Identifier: MIT */
/*
 * msg.c - diagnostics: info/warn/fatal/panic to syslog (facility mail) or
 * stderr (each line led by its priority, "<4>", when stderr is systemd's
 * journal stream), warn-once, the mh_err_t error-return helpers and
 * printable().
 * See msg.h for the contract.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "msg.h"

int msg_verbose;

static enum msg_dest msg_dest = MSG_STDERR;
static int msg_facility = LOG_MAIL;
static char msg_name[64] = "mailhook";
static bool msg_journal; /* stderr is journald's stream: lines start "<prio>" */

/*
 * Is stderr the stream systemd connected to the journal? systemd sets
 * JOURNAL_STREAM to "DEV:INODE" of that stream for the service's processes;
 * it is inherited, so it counts only when stderr is still that file (not
 * redirected by a shell, a test or a wrapper). Then a line may start with
 * its priority, "<4>" (sd-daemon(3)), which journald strips and keeps as
 * PRIORITY=, so `journalctl -p warning` works.
 */
static bool msg_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat sb;
    char *end;

    if (js == NULL || fstat(STDERR_FILENO, &sb) != 0)
        return false;
    dev = strtoull(js, &end, 10);
    if (end == js || *end != ':')
        return false;
    js = end + 1;
    ino = strtoull(js, &end, 10);
    if (end == js || *end != 0)
        return false;
    return dev == (unsigned long long)sb.st_dev && ino == (unsigned long long)sb.st_ino;
}

void msg_open(const char *progname, enum msg_dest dest)
{
    const char *slash = strrchr(progname, '/');

    snprintf(msg_name, sizeof(msg_name), "%s", slash ? slash + 1 : progname);
    if (msg_dest == MSG_SYSLOG && dest != MSG_SYSLOG)
        closelog();
    msg_dest = dest;
    msg_journal = dest == MSG_STDERR && msg_stderr_is_journal();
    if (dest == MSG_SYSLOG)
        openlog(msg_name, LOG_PID | LOG_NDELAY, msg_facility);
}

int msg_syslog_facility(const char *name)
{
    static const struct {
        const char *name;
        int facility;
    } facilities[] = {
        { "mail", LOG_MAIL },     { "daemon", LOG_DAEMON }, { "local0", LOG_LOCAL0 },
        { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
        { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
        { "local7", LOG_LOCAL7 }, { NULL, 0 },
    };

    for (int i = 0; facilities[i].name; i++) {
        if (strcmp(name, facilities[i].name) == 0) {
            msg_facility = facilities[i].facility;
            if (msg_dest == MSG_SYSLOG) {
                closelog();
                openlog(msg_name, LOG_PID | LOG_NDELAY, msg_facility);
            }
            return 0;
        }
    }
    return -1;
}

const char *msg_progname(void)
{
    return msg_name;
}

/*
 * Every message is made printable as a whole before it is written, as
 * Postfix's msg_output does: callers quote outside text through printable()
 * already, and this keeps one that forgot from splitting a log line in two
 * (a newline in a quoted value would forge the next line).
 */
static void msg_vlog(int prio, const char *label, const char *fmt, va_list ap)
{
    char raw[2048], buf[sizeof(raw)];

    vsnprintf(raw, sizeof(raw), fmt, ap);
    printable(buf, sizeof(buf), raw, strlen(raw));
    if (msg_dest == MSG_SYSLOG) {
        if (label[0])
            syslog(prio, "%s: %s", label, buf);
        else
            syslog(prio, "%s", buf);
    } else {
        char pri[8] = "";

        if (msg_journal)
            snprintf(pri, sizeof(pri), "<%d>", prio & LOG_PRIMASK);
        if (label[0])
            fprintf(stderr, "%s%s: %s: %s\n", pri, msg_name, label, buf);
        else
            fprintf(stderr, "%s%s: %s\n", pri, msg_name, buf);
    }
}

void msg_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_INFO, "", fmt, ap);
    va_end(ap);
}

void msg_debug(const char *fmt, ...)
{
    va_list ap;

    if (msg_verbose <= 0)
        return;
    va_start(ap, fmt);
    msg_vlog(LOG_DEBUG, "debug", fmt, ap);
    va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_WARNING, "warning", fmt, ap);
    va_end(ap);
}

void msg_fatal(int exit_code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_CRIT, "fatal", fmt, ap);
    va_end(ap);
    exit(exit_code);
}

void msg_panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(LOG_CRIT, "panic", fmt, ap);
    va_end(ap);
    abort();
}

void msg_vwarn_once(struct msg_once *o, const char *fmt, va_list ap)
{
    char text[sizeof(o->last)];

    vsnprintf(text, sizeof(text), fmt, ap);
    if (strcmp(text, o->last) != 0) {
        msg_warn("%s", text);
        memcpy(o->last, text, sizeof(text));
    }
}

void msg_warn_once(struct msg_once *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vwarn_once(o, fmt, ap);
    va_end(ap);
}

int mh_err_set(mh_err_t *err, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof(err->text), fmt, ap);
        va_end(ap);
    }
    return -1;
}

int mh_err_prefix(mh_err_t *err, const char *fmt, ...)
{
    char prefix[256], old[sizeof(err->text)];
    va_list ap;

    if (err) {
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, err->text, sizeof(old));
        if (snprintf(err->text, sizeof(err->text), "%s: %s", prefix, old) >=
            (int)sizeof(err->text))
            err->text[sizeof(err->text) - 1] = 0; /* truncated: still a message */
    }
    return -1;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid;
 * *cp_out gets its code point. */
static size_t utf8_seq_len(const unsigned char *s, size_t n, unsigned int *cp_out)
{
    size_t len, i;
    unsigned int cp;

    if (s[0] < 0x80) {
        *cp_out = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2, cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3, cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    *cp_out = cp;
    return len;
}

/* Characters that are not text in a log line: the C0 and C1 controls, DEL,
 * and the Unicode line and paragraph separators (U+2028, U+2029), which
 * some log readers take as line ends. */
/* C0, DEL and C1 controls, the Unicode line and paragraph separators, and
 * the bidirectional embeddings, overrides and isolates (which can make a log
 * line read as something else on a terminal: "Trojan Source"). */
static bool char_is_control(unsigned int cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

char *printable(char *out, size_t outlen, const char *in, size_t inlen)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0, seq;
    unsigned int cp = 0;
    bool truncated = false;

    if (outlen == 0)
        return out;
    while (i < inlen) {
        seq = utf8_seq_len(s + i, inlen - i, &cp);
        if (o + (seq ? seq : 1) + 4 > outlen) {
            truncated = true;
            break;
        }
        if (seq == 0) { /* an invalid byte: one '?' each */
            out[o++] = '?';
            i++;
        } else if (char_is_control(cp)) { /* one '?' for the whole character */
            out[o++] = '?';
            i += seq;
        } else {
            memcpy(out + o, s + i, seq);
            o += seq;
            i += seq;
        }
    }
    if (truncated && outlen >= 4) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}
