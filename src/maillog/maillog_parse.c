/* SPDX-License-Identifier: MIT */
/*
 * maillog_parse.c - classify one Postfix or Sendmail log line and slice out
 * its fields (see maillog_parse.h for the contract): the patterns, the
 * program, the bodies. The cursors for key=value lists and PMG lines are
 * in maillog_parse_fields.c, the timestamps in maillog_time.c (both
 * through maillog_parse_int.h).
 *
 *   maillog_parse_init() / maillog_parse_done()
 *       compile the three patterns once (pthread_once, JIT when the
 *       library has it) / free them and the calling thread's match data.
 *   maillog_clock_init(clock, anchor_ms) / maillog_clock_set_anchor()
 *       start / re-anchor year inference for traditional timestamps
 *       (in maillog_time.c, with the timestamps; maillog_parse_int.h).
 *   maillog_parse(line, len, clock, rec)
 *       ML_PARSED (0) and rec filled, or ML_GARBAGE, ML_OTHER_PROGRAM,
 *       ML_OWN (all < 0) for a line that is not a mail program's syslog
 *       line (the caller counts it as skipped). Never allocates in
 *       steady state (one match block per thread, made on first use).
 *
 * How a line is read:
 *   1. one PCRE2 pattern for the syslog header: traditional timestamp
 *      ("Nov 22 06:30:19", "Nov  2 ...", Postfix postlogd's "Nov 02 ...",
 *      optional ".123456") or RFC 3339 (rsyslog high precision, journalctl
 *      short-iso "+0100"), an optional host, "program[pid]: ";
 *   2. the program decides the MTA: "sm-mta", "sendmail", "sm-msp-queue",
 *      "sm-acceptingconnections" are Sendmail; "postfix" (the command) and
 *      "a/b[/c...]" are Postfix when the instance (before the first '/')
 *      starts with "postfix" or the service (after the last '/') is a
 *      Postfix daemon name; mailhook's own programs are ML_OWN, anything
 *      else ML_OTHER_PROGRAM;
 *   3. one pattern per MTA for the body: the queue id and, with (*MARK), which
 *      kind of record follows (Postfix log_adhoc.c, qmgr, cleanup, smtpd,
 *      pickup, bounce lines; Sendmail to=/from= lines and its own notices,
 *      "QID: NEWQID: DSN: ...");
 *   4. "key=value, key=value" field lists are read with a cursor
 *      (maillog_parse_fields) rather than a regex: values end at ", " followed by another key, so
 *      "<a@x>,<b@x>" and "relay=host [addr]" survive, and Postfix status= /
 *      Sendmail stat= take the rest of the line.
 *
 * "pmg-smtp-filter" (the Proxmox Mail Gateway's content filter) is read by
 * maillog_parse_pmg, a cursor: its lines have no key=value lists.
 *
 * Field values are slices of the caller's line, except rec->notice, which
 * points to one of the static strings "non-delivery", "delay", "success".
 * Angle brackets are removed from to=, orig_to=, from=, message-id=, msgid=
 * values; for Sendmail only when the value is one bracketed address (a
 * recipient list "<a@x>,<b@x>" is kept raw for the correlator to split).
 *
 * Other decisions a caller may rely on:
 *   - a trailing "\n" or "\r\n" is not part of the line;
 *   - a result < 0 leaves rec zeroed and the clock alone; 0 sets
 *     clock->last_ms to the line's time (RFC 3339 lines too);
 *   - a delivery line is ML_VERIFY when its status is "deliverable" or
 *     "undeliverable..." (address verification probes), and ML_OTHER (with
 *     queue_id) when it lacks to= or status= (cut short); likewise SM_TO
 *     needs to= and stat=;
 *   - Sendmail status is the first word of stat= ("Sent", "Deferred",
 *     "User"), status_text the rest ("unknown"): use dsn= to judge; a
 *     "Sent" whose text is the next hop's acceptance ("QID Message accepted
 *     for delivery", "Ok: queued as QID") names that hop in new_queue_id;
 *   - invalid UTF-8 is carried through as bytes: consumers sanitize.
 *
 * Bounds: lines longer than MAILLOG_LINE_MAX and lines holding a NUL byte are
 * refused; every match runs under a PCRE2 match and depth limit, and a
 * limit hit counts as "no match" (ML_GARBAGE for the header, ML_OTHER without queue
 * id for the body). Work per line is linear in its length.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "maillog_parse_int.h"
#include "msg.h"

/* Per-match work bounds (backtracking steps / nesting), far above what a
 * legitimate 64 KiB line needs with these patterns. */
#define ML_MATCH_LIMIT 200000
#define ML_DEPTH_LIMIT 2000

/* ------------------------------------------------------------- patterns */

/*
 * Syslog header. Extended syntax: spaces are written [ ]. The host may not
 * end in ':', so "postfix/smtp: QID: ..." (no pid, no host) does not take
 * "postfix/smtp:" for a host.
 */
static const char re_header_src[] =
    "(?:(?<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ ]{1,2}(?<day>[0-9]{1,2})"
    "[ ](?<hms>[0-9]{2}:[0-9]{2}:[0-9]{2})(?<frac>\\.[0-9]{1,9})?"
    "|(?<iso>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,9})?"
    "(?:Z|[+-][0-9]{2}:?[0-9]{2})))"
    "[ ]+(?:(?<host>[^ \\[\\]]{0,254}[^ \\[\\]:])[ ]+)?"
    "(?<prog>[A-Za-z0-9_.-]{1,64}(?:/[A-Za-z0-9_.-]{1,64}){0,4})"
    "(?:\\[(?<pid>[0-9]{1,9})\\])?:[ ]";

/*
 * Postfix queue ids (mail_queue.h): short = 5 hex digits of microseconds +
 * the inode in hex; long (enable_long_queue_ids) = seconds (6 digits) and
 * microseconds (4 digits) in base 52, then the separator 'z', then the inode
 * in base 51. Base 52 is the vowel-free alphabet INCLUDING 'z' (so 'z' can
 * occur in the time part, as in 4jXM5z0SkTz1bj8W); base 51 is the same
 * without 'z'. "NOQUEUE", "warning" and "statistics" are neither.
 */
#define PF_B52_CH "[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]"
#define PF_B51_CH "[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]"
#define PF_QID "(?:[0-9A-F]{6,20}|" PF_B52_CH "{10,12}z" PF_B51_CH "{1,16})"

/* Postfix body: queue id, then the record kind as a one-letter mark. */
static const char re_postfix_src[] =
    "(?<qid>" PF_QID "):[ ]"
    "(?:to=(*MARK:D)"
    "|from=<(?<from>.*?)>,[ ]"
    "(?:size=(?<size>[0-9]+),[ ]nrcpt=(?<nrcpt>[0-9]+)[ ]\\(queue[ ]active\\)(*MARK:A)"
    "|status=(?<xstatus>[a-z-]{1,32}),[ ]returned[ ]to[ ]sender(*MARK:E))"
    "|removed$(*MARK:R)"
    "|client=(*MARK:C)"
    "|(?:resent-)?message-id=(*MARK:M)"
    "|uid=[0-9]{1,10}[ ]from=<(?<pfrom>.*)>(?:[ ]orig_id=[^ ]*)?$(*MARK:P)"
    "|(?:sender|postmaster)[ ](?<notice>non-delivery|delay|delivery[ ]status)[ ]notification:"
    "[ ](?<nqid>" PF_QID ")$(*MARK:N)"
    ")?";

/* Sendmail body: 8.12+ ids are 14 characters of [0-9A-Za-x]; older ones
 * are shorter. Every id holds a digit, "NOQUEUE" does not. */
#define SM_QID "(?=[A-Za-z]{0,19}[0-9])[0-9A-Za-z]{8,20}"
/* Its own notices (savemail.c returntosender: "%s: %s: %s", the new
 * envelope's id, which notice, the reason) carry no from= line. */
static const char re_sendmail_src[] =
    "(?<qid>" SM_QID "):[ ]"
    "(?:to=(*MARK:T)|from=(*MARK:F)"
    "|(?<nqid>" SM_QID "):[ ]"
    "(?<notice>DSN|sender[ ]notify|postmaster[ ]notify|return[ ]to[ ]sender):[ ](*MARK:N))?";

/* Compiled patterns and the capture group numbers we read. */
static struct {
    pcre2_code *header, *postfix, *sendmail;
    pcre2_match_context *mctx;
    uint32_t max_pairs; /* ovector pairs enough for any of the three */
    int mon, day, hms, frac, iso, host, prog, pid;                /* header */
    int p_qid, p_from, p_size, p_nrcpt, p_xstatus, p_pfrom, p_notice, p_nqid; /* postfix */
    int s_qid, s_nqid, s_notice;                                  /* sendmail */
    bool done;
} ml;

static pthread_once_t ml_once = PTHREAD_ONCE_INIT;
static pthread_key_t ml_md_key;
static __thread pcre2_match_data *ml_md; /* this thread's match block */

static pcre2_code *ml_compile(const char *src)
{
    int errcode;
    PCRE2_SIZE erroff;
    PCRE2_UCHAR errbuf[128];
    uint32_t n;
    pcre2_code *re;

    /*
     * All patterns are anchored, so the start-up optimizations buy nothing;
     * NO_START_OPTIMIZE also keeps the JIT from scanning ahead for a
     * "required character" with word-sized reads that run past the end of
     * the subject (harmless, but valgrind reports them).
     */
    re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
                       PCRE2_ANCHORED | PCRE2_EXTENDED | PCRE2_DOLLAR_ENDONLY |
                           PCRE2_NO_AUTO_CAPTURE | PCRE2_NEVER_UTF | PCRE2_NEVER_BACKSLASH_C |
                           PCRE2_NO_START_OPTIMIZE,
                       &errcode, &erroff, NULL);
    if (re == NULL) {
        pcre2_get_error_message(errcode, errbuf, sizeof(errbuf));
        msg_panic_f("pattern error at offset %zu: %s", (size_t)erroff, (char *)errbuf);
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* interpreter when no JIT */
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &n);
    if (n + 1 > ml.max_pairs)
        ml.max_pairs = n + 1;
    return re;
}

static int ml_group(const pcre2_code *re, const char *name)
{
    int n = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);

    if (n <= 0)
        msg_panic_f("no group named %s", name);
    return n;
}

static void ml_md_free(void *md)
{
    pcre2_match_data_free(md);
}

static void ml_compile_all(void)
{
    ml.header = ml_compile(re_header_src);
    ml.postfix = ml_compile(re_postfix_src);
    ml.sendmail = ml_compile(re_sendmail_src);
    ml.mon = ml_group(ml.header, "mon");
    ml.day = ml_group(ml.header, "day");
    ml.hms = ml_group(ml.header, "hms");
    ml.frac = ml_group(ml.header, "frac");
    ml.iso = ml_group(ml.header, "iso");
    ml.host = ml_group(ml.header, "host");
    ml.prog = ml_group(ml.header, "prog");
    ml.pid = ml_group(ml.header, "pid");
    ml.p_qid = ml_group(ml.postfix, "qid");
    ml.p_from = ml_group(ml.postfix, "from");
    ml.p_size = ml_group(ml.postfix, "size");
    ml.p_nrcpt = ml_group(ml.postfix, "nrcpt");
    ml.p_xstatus = ml_group(ml.postfix, "xstatus");
    ml.p_pfrom = ml_group(ml.postfix, "pfrom");
    ml.p_notice = ml_group(ml.postfix, "notice");
    ml.p_nqid = ml_group(ml.postfix, "nqid");
    ml.s_qid = ml_group(ml.sendmail, "qid");
    ml.s_nqid = ml_group(ml.sendmail, "nqid");
    ml.s_notice = ml_group(ml.sendmail, "notice");
    ml.mctx = pcre2_match_context_create(NULL);
    if (ml.mctx == NULL)
        msg_panic_f("out of memory");
    pcre2_set_match_limit(ml.mctx, ML_MATCH_LIMIT);
    pcre2_set_depth_limit(ml.mctx, ML_DEPTH_LIMIT);
    if (pthread_key_create(&ml_md_key, ml_md_free) != 0)
        msg_panic_f("pthread_key_create failed");
}

void maillog_parse_init(void)
{
    pthread_once(&ml_once, ml_compile_all);
    if (ml.done)
        msg_panic_f("maillog_parse used after maillog_parse_done");
}

/* At exit, once no thread parses any more (the patterns go away under it). */
void maillog_parse_done(void)
{
    if (ml.header == NULL)
        return;
    if (ml_md != NULL) {
        pthread_setspecific(ml_md_key, NULL);
        pcre2_match_data_free(ml_md);
        ml_md = NULL;
    }
    pcre2_code_free(ml.header);
    pcre2_code_free(ml.postfix);
    pcre2_code_free(ml.sendmail);
    pcre2_match_context_free(ml.mctx);
    ml.header = ml.postfix = ml.sendmail = NULL;
    ml.mctx = NULL;
    ml.done = true;
}

/* This thread's match block, made once; freed at thread exit. */
static pcre2_match_data *ml_match_data(void)
{
    if (ml_md == NULL) {
        ml_md = pcre2_match_data_create(ml.max_pairs, NULL);
        if (ml_md == NULL)
            msg_panic_f("out of memory");
        pthread_setspecific(ml_md_key, ml_md);
    }
    return ml_md;
}

/* Match re anchored at s[0..len); the ovector, or NULL (no match, limit). */
static const PCRE2_SIZE *ml_match(const pcre2_code *re, const char *s, size_t len,
                                  pcre2_match_data *md)
{
    if (pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, ml.mctx) <= 0)
        return NULL;
    return pcre2_get_ovector_pointer(md);
}

/* Group n of the last match of s as a slice; absent when unset. */
static struct ml_str ml_cap(const PCRE2_SIZE *ov, int n, const char *s)
{
    struct ml_str r = { NULL, 0 };

    if (ov[2 * n] != PCRE2_UNSET) {
        r.p = s + ov[2 * n];
        r.len = ov[2 * n + 1] - ov[2 * n];
    }
    return r;
}

/* -------------------------------------------------------------- program */

/* Postfix daemon and command names (the last component of a syslog_name). */
static bool postfix_service(struct ml_str s)
{
    static const char *const names[] = {
        "smtp", "smtpd", "qmgr", "cleanup", "pickup", "bounce", "local", "virtual",
        "lmtp", "pipe", "error", "retry", "discard", "oqmgr", "postscreen", "master",
        "anvil", "scache", "verify", "trivial-rewrite", "proxymap", "proxywrite",
        "tlsmgr", "tlsproxy", "dnsblog", "showq", "flush", "spawn", "qmqpd", "postdrop",
        "sendmail", "postqueue", "postsuper", "postlogd", "postfix-script", "postmulti",
        NULL,
    };

    for (int i = 0; names[i] != NULL; i++)
        if (ml_str_is(s, names[i]))
            return true;
    return false;
}

static bool name_in(struct ml_str s, const char *const *names)
{
    for (int i = 0; names[i] != NULL; i++)
        if (ml_str_is(s, names[i]))
            return true;
    return false;
}

/*
 * Split "instance/.../service" and name the MTA; ML_OWN for mailhook's own
 * programs (msg.c logs under the program's base name), ML_OTHER_PROGRAM for
 * every other program. A name without '/' is Sendmail (its -L tags on
 * Debian: sm-mta, sm-msp-queue; sm-acceptingconnections is the daemon
 * listening) or the postfix(1) command itself ("postfix[pid]: fatal: ...").
 */
static int classify_program(struct ml_str prog, struct ml_rec *rec)
{
    static const char *const sendmail_names[] = {
        "sm-mta", "sendmail", "sm-msp-queue", "sm-acceptingconnections", NULL,
    };
    static const char *const own_names[] = {
        "mailhookd", "mailhook-milter", "mailhookctl", "mailhook", NULL,
    };
    const char *first = memchr(prog.p, '/', prog.len), *last;

    if (ml_str_is(prog, "pmg-smtp-filter")) { /* the Proxmox Mail Gateway's content filter */
        rec->mta = ML_PMG;
        rec->instance = prog;
        rec->service.p = prog.p + prog.len; /* empty, not absent */
        rec->service.len = 0;
        return 0;
    }
    if (first == NULL) {
        if (name_in(prog, own_names))
            return ML_OWN;
        if (ml_str_is(prog, "postfix")) {
            rec->mta = ML_POSTFIX;
        } else if (name_in(prog, sendmail_names)) {
            rec->mta = ML_SENDMAIL;
        } else {
            return ML_OTHER_PROGRAM;
        }
        rec->instance = prog;
        rec->service.p = prog.p + prog.len; /* empty, not absent */
        rec->service.len = 0;
        return 0;
    }
    last = prog.p + prog.len;
    while (last[-1] != '/')
        last--;
    rec->instance.p = prog.p;
    rec->instance.len = (size_t)(first - prog.p);
    rec->service.p = last;
    rec->service.len = (size_t)(prog.p + prog.len - last);
    if (!(rec->instance.len >= 7 && memcmp(prog.p, "postfix", 7) == 0) &&
        !postfix_service(rec->service))
        return ML_OTHER_PROGRAM;
    rec->mta = ML_POSTFIX;
    return 0;
}

/* -------------------------------------------------------------- bodies */

static const char *const notices[] = { "non-delivery", "delay", "success" };

/* "name[addr]" or "name[addr]:port" -> "addr"; absent without brackets. */
static struct ml_str client_addr(struct ml_str client)
{
    const char *lb = memchr(client.p, '[', client.len), *rb;
    struct ml_str r = { NULL, 0 };

    if (lb != NULL && (rb = memchr(lb, ']', (size_t)(client.p + client.len - lb))) != NULL) {
        r.p = lb + 1;
        r.len = (size_t)(rb - lb - 1);
    }
    return r;
}

static void postfix_body(const char *b, size_t n, pcre2_match_data *md, struct ml_rec *rec)
{
    const PCRE2_SIZE *ov = ml_match(ml.postfix, b, n, md);
    const char *end = b + n, *fields, *rest, *mark;
    struct ml_str notice;

    rec->kind = ML_OTHER;
    if (ov == NULL)
        return; /* connect from, NOQUEUE: reject, warning:, statistics: ... */
    rec->queue_id = ml_cap(ov, ml.p_qid, b);
    fields = b + ov[2 * ml.p_qid + 1] + 2;
    rest = b + ov[1];
    mark = (const char *)pcre2_get_mark(md);
    switch (mark ? *mark : 0) {
    case 'D':
        maillog_parse_fields(fields, end, rec);
        if (rec->to.p != NULL && rec->status.p != NULL) {
            /* address verification: "deliverable", "undeliverable[-but-not-cached]" */
            rec->kind = ml_starts_with(rec->status, "deliverable") ||
                                ml_starts_with(rec->status, "undeliverable")
                            ? ML_VERIFY
                            : ML_DELIVERY;
        }
        break;
    case 'A':
        rec->kind = ML_QUEUE_ACTIVE;
        rec->from = ml_cap(ov, ml.p_from, b);
        rec->size = ml_cap(ov, ml.p_size, b);
        rec->nrcpt = ml_cap(ov, ml.p_nrcpt, b);
        break;
    case 'E':
        rec->kind = ML_EXPIRED;
        rec->from = ml_cap(ov, ml.p_from, b);
        rec->status = ml_cap(ov, ml.p_xstatus, b);
        break;
    case 'R':
        rec->kind = ML_REMOVED;
        break;
    case 'C':
        maillog_parse_fields(fields, end, rec);
        if (rec->client.p != NULL) {
            rec->kind = ML_CLIENT;
            rec->client_addr = client_addr(rec->client);
        }
        break;
    case 'M':
        rec->kind = ML_MESSAGE_ID;
        rec->message_id.p = rest;
        rec->message_id.len = (size_t)(end - rest);
        maillog_parse_strip_angle(&rec->message_id, false);
        break;
    case 'P':
        rec->kind = ML_PICKUP;
        rec->from = ml_cap(ov, ml.p_pfrom, b);
        break;
    case 'N':
        rec->kind = ML_NOTIFICATION;
        rec->new_queue_id = ml_cap(ov, ml.p_nqid, b);
        notice = ml_cap(ov, ml.p_notice, b);
        rec->notice.p = notices[notice.p[0] == 'n' ? 0 : notice.len == 5 ? 1 : 2];
        rec->notice.len = strlen(rec->notice.p);
        break;
    default:
        break; /* "QID: lost connection ...", "QID: reject: ..." */
    }
}

/* "QID: NEWQID: DSN: Warning: could not send message for past 4 hours":
 * which notice is status, the reason status_text; the reason tells the
 * kind (deliver.c / savemail.c wording). */
static void sendmail_notice(const char *b, size_t n, const PCRE2_SIZE *ov, struct ml_rec *rec)
{
    struct ml_str text = { b + ov[1], n - ov[1] };
    int k = 0;

    rec->kind = ML_NOTIFICATION;
    rec->new_queue_id = ml_cap(ov, ml.s_nqid, b);
    rec->status = ml_cap(ov, ml.s_notice, b);
    rec->status_text = text;
    if (ml_starts_with(text, "Warning: could not send message for past"))
        k = 1;
    else if (ml_starts_with(text, "Return receipt"))
        k = 2;
    rec->notice.p = notices[k];
    rec->notice.len = strlen(notices[k]);
}

static void sendmail_body(const char *b, size_t n, pcre2_match_data *md, struct ml_rec *rec)
{
    const PCRE2_SIZE *ov = ml_match(ml.sendmail, b, n, md);
    const char *mark;

    rec->kind = ML_OTHER;
    if (ov == NULL)
        return;
    rec->queue_id = ml_cap(ov, ml.s_qid, b);
    mark = (const char *)pcre2_get_mark(md);
    if (mark == NULL)
        return;
    if (*mark == 'N') {
        sendmail_notice(b, n, ov, rec);
        return;
    }
    maillog_parse_fields(b + ov[2 * ml.s_qid + 1] + 2, b + n, rec);
    if (*mark == 'T' && rec->to.p != NULL && rec->status.p != NULL)
        rec->kind = ML_SM_TO;
    else if (*mark == 'F' && rec->from.p != NULL)
        rec->kind = ML_SM_FROM;
}

/* --------------------------------------------------------------- public */

int maillog_parse(const char *line, size_t len, struct ml_clock *clock, struct ml_rec *rec)
{
    const PCRE2_SIZE *ov;
    pcre2_match_data *md;
    struct ml_str pid;
    int64_t ts, local = 0;
    bool iso;
    int rc;

    memset(rec, 0, sizeof(*rec));
    if (len > MAILLOG_LINE_MAX)
        return ML_GARBAGE;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len == 0 || memchr(line, '\0', len) != NULL)
        return ML_GARBAGE;
    maillog_parse_init();
    md = ml_match_data();
    if ((ov = ml_match(ml.header, line, len, md)) == NULL)
        return ML_GARBAGE;
    if ((iso = ov[2 * ml.iso] != PCRE2_UNSET))
        rc = maillog_clock_rfc3339(ml_cap(ov, ml.iso, line), &ts);
    else
        rc = maillog_clock_traditional(ml_cap(ov, ml.mon, line), ml_cap(ov, ml.day, line),
                                       ml_cap(ov, ml.hms, line), ml_cap(ov, ml.frac, line),
                                       clock, &ts, &local);
    if (rc != 0)
        return ML_GARBAGE;
    if ((rc = classify_program(ml_cap(ov, ml.prog, line), rec)) != 0) {
        memset(rec, 0, sizeof(*rec));
        return rc;
    }
    rec->ts_ms = ts;
    rec->host = ml_cap(ov, ml.host, line);
    pid = ml_cap(ov, ml.pid, line);
    for (size_t i = 0; i < pid.len; i++)
        rec->pid = rec->pid * 10 + (pid.p[i] - '0'); /* at most 9 digits: fits */
    if (rec->mta == ML_POSTFIX)
        postfix_body(line + ov[1], len - ov[1], md, rec);
    else if (rec->mta == ML_PMG)
        maillog_parse_pmg(line + ov[1], len - ov[1], rec);
    else
        sendmail_body(line + ov[1], len - ov[1], md, rec);
    clock->last_ms = ts;
    /* an RFC 3339 line: its local time near enough with the anchor's offset */
    clock->last_local_ms = iso ? ts + (clock->anchor_local_ms - clock->anchor_ms) : local;
    clock->have_last = true;
    return ML_PARSED;
}
