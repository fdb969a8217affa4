/*
 * maillog_parse.c - classify one Postfix or Sendmail log line and slice out
 * its fields (see maillog_parse.h for the contract).
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
 *   4. "key=value, key=value" field lists are read with a cursor (kv_next)
 *      rather than a regex: values end at ", " followed by another key, so
 *      "<a@x>,<b@x>" and "relay=host [addr]" survive, and Postfix status= /
 *      Sendmail stat= take the rest of the line.
 *
 * "pmg-smtp-filter" (the Proxmox Mail Gateway's content filter) is read by
 * pmg_body, a cursor: its lines have no key=value lists.
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

static bool str_is(struct ml_str s, const char *lit)
{
    size_t n = strlen(lit);

    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static bool starts_with(struct ml_str s, const char *lit)
{
    size_t n = strlen(lit);

    return s.len >= n && memcmp(s.p, lit, n) == 0;
}

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
        if (str_is(s, names[i]))
            return true;
    return false;
}

static bool name_in(struct ml_str s, const char *const *names)
{
    for (int i = 0; names[i] != NULL; i++)
        if (str_is(s, names[i]))
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

    if (str_is(prog, "pmg-smtp-filter")) { /* the Proxmox Mail Gateway's content filter */
        rec->mta = ML_PMG;
        rec->instance = prog;
        rec->service.p = prog.p + prog.len; /* empty, not absent */
        rec->service.len = 0;
        return 0;
    }
    if (first == NULL) {
        if (name_in(prog, own_names))
            return ML_OWN;
        if (str_is(prog, "postfix")) {
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

/* ------------------------------------------------------- key=value lists */

enum kv_rc { KV_OK = 0, KV_END = 1, KV_BAD = -1 };

/* Length of a key ("orig_to", "sasl_username") at p followed by '=', or 0. */
static size_t key_len(const char *p, const char *end)
{
    const char *q = p;

    while (q < end && q - p < 32 &&
           ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
            *q == '_' || *q == '-'))
        q++;
    return q > p && q < end && *q == '=' ? (size_t)(q - p) : 0;
}

/*
 * The next "key=value" at *pp (which points at a key). The value runs to
 * the ", " that is followed by another key, or to the end; Postfix
 * "status" and Sendmail "stat" are last and take the rest of the line,
 * whatever their text holds. Advances *pp past the value and its ", ".
 */
static int kv_next(const char **pp, const char *end, struct ml_str *key, struct ml_str *val)
{
    const char *p = *pp, *c;
    size_t klen;

    if (p >= end)
        return KV_END;
    if ((klen = key_len(p, end)) == 0)
        return KV_BAD;
    key->p = p;
    key->len = klen;
    p += klen + 1;
    val->p = p;
    if (str_is(*key, "status") || str_is(*key, "stat")) {
        val->len = (size_t)(end - p);
        *pp = end;
        return KV_OK;
    }
    for (c = p; (c = memchr(c, ',', (size_t)(end - c))) != NULL; c++) {
        if (c + 2 < end && c[1] == ' ' && key_len(c + 2, end) > 0) {
            val->len = (size_t)(c - p);
            *pp = c + 2;
            return KV_OK;
        }
    }
    val->len = (size_t)(end - p);
    *pp = end;
    return KV_OK;
}

#define KV_ANGLE 1 /* value may be an <address> */

/* Where each key we keep lands in the record; other keys are skipped. */
static const struct kv_field {
    const char *name;
    unsigned char flags;
    unsigned short off;
} kv_fields[] = {
    { "to", KV_ANGLE, offsetof(struct ml_rec, to) },
    { "orig_to", KV_ANGLE, offsetof(struct ml_rec, orig_to) },
    { "from", KV_ANGLE, offsetof(struct ml_rec, from) },
    { "relay", 0, offsetof(struct ml_rec, relay) },
    { "reply", 0, offsetof(struct ml_rec, reply) }, /* Sendmail */
    { "delay", 0, offsetof(struct ml_rec, delay) },
    { "delays", 0, offsetof(struct ml_rec, delays) },
    { "xdelay", 0, offsetof(struct ml_rec, xdelay) },
    { "mailer", 0, offsetof(struct ml_rec, mailer) },
    { "dsn", 0, offsetof(struct ml_rec, dsn) },
    { "size", 0, offsetof(struct ml_rec, size) },
    { "nrcpt", 0, offsetof(struct ml_rec, nrcpt) },  /* Postfix */
    { "nrcpts", 0, offsetof(struct ml_rec, nrcpt) }, /* Sendmail */
    { "msgid", KV_ANGLE, offsetof(struct ml_rec, message_id) },
    { "client", 0, offsetof(struct ml_rec, client) },
    { "sasl_username", 0, offsetof(struct ml_rec, sasl_username) },
    { NULL, 0, 0 },
};

/*
 * "<addr>" -> "addr". Postfix always brackets (to=<%s>), so the outer pair
 * goes; for Sendmail only a value with a single '<' is one address.
 */
static void strip_angle(struct ml_str *s, bool single_only)
{
    if (s->len < 2 || s->p[0] != '<' || s->p[s->len - 1] != '>')
        return;
    if (single_only && memchr(s->p + 1, '<', s->len - 2) != NULL)
        return;
    s->p++;
    s->len -= 2;
}

static const char *find(const char *p, size_t n, const char *lit)
{
    return memmem(p, n, lit, strlen(lit));
}

/* PMG's answer to the hop into its filter, "250 2.5.0 OK (FID)" or "250
 * 2.7.0 BLOCKED (FID)": FID -> filter_id (pmg-log-tracker reads it so). */
static void pmg_filter_reply(struct ml_rec *rec)
{
    static const char *const heads[] = { "250 2.5.0 OK (", "250 2.7.0 BLOCKED (" };
    const char *p = rec->status_text.p, *end = p + rec->status_text.len, *id;

    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        size_t n = strlen(heads[i]);

        if (rec->status_text.len <= n + 1 || memcmp(p, heads[i], n) != 0 || end[-1] != ')')
            continue;
        for (id = p + n; id < end - 1 && ((*id >= '0' && *id <= '9') ||
                                          (*id >= 'A' && *id <= 'Z') || (*id >= 'a' && *id <= 'z'));
             id++)
            ;
        if (id == end - 1 && id > p + n) {
            rec->filter_id.p = p + n;
            rec->filter_id.len = (size_t)(id - (p + n));
        }
        return;
    }
}

/* Postfix "sent (text)" -> status "sent", status_text "text"; "queued as
 * QID" in the text (the next hop's queue id) -> new_queue_id. */
static void postfix_status(struct ml_str v, struct ml_rec *rec)
{
    const char *sp = memchr(v.p, ' ', v.len), *end = v.p + v.len, *q;

    rec->status.p = v.p;
    rec->status.len = sp ? (size_t)(sp - v.p) : v.len;
    if (sp == NULL || sp + 1 >= end || sp[1] != '(')
        return;
    rec->status_text.p = sp + 2;
    rec->status_text.len = (size_t)(end - (sp + 2)) - (end[-1] == ')' && end - 1 > sp + 1);
    pmg_filter_reply(rec);
    if ((q = find(rec->status_text.p, rec->status_text.len, "queued as ")) != NULL) {
        const char *id = q + 10, *e = id, *text_end = rec->status_text.p + rec->status_text.len;

        while (e < text_end && ((*e >= '0' && *e <= '9') || (*e >= 'A' && *e <= 'Z') ||
                                (*e >= 'a' && *e <= 'z')))
            e++;
        if (e > id) {
            rec->new_queue_id.p = id;
            rec->new_queue_id.len = (size_t)(e - id);
        }
    }
}

/* Letters and digits at p (a queue id), up to end. */
static size_t id_len(const char *p, const char *end)
{
    const char *e = p;

    while (e < end && ((*e >= '0' && *e <= '9') || (*e >= 'A' && *e <= 'Z') ||
                       (*e >= 'a' && *e <= 'z')))
        e++;
    return (size_t)(e - p);
}

/*
 * The next hop's queue id in a Sendmail "Sent" text, when the next hop
 * said it: a Sendmail MTA answers "250 2.0.0 QID Message accepted for
 * delivery" (srvrsmtp.c; the MSP hands every message to the MTA so),
 * Postfix "250 2.0.0 Ok: queued as QID". Sendmail logs the reply without
 * its code.
 */
static void sendmail_next_hop(struct ml_rec *rec)
{
    const char *t = rec->status_text.p, *end = t + rec->status_text.len, *q;
    size_t n;

    if (t == NULL)
        return;
    if ((q = find(t, rec->status_text.len, "queued as ")) != NULL) {
        q += 10;
        n = id_len(q, end);
    } else {
        n = id_len(t, end);
        q = t;
        if (n < 8 || (size_t)(end - t) != n + 30 ||
            memcmp(t + n, " Message accepted for delivery", 30) != 0)
            n = 0;
    }
    if (n > 0) {
        rec->new_queue_id.p = q;
        rec->new_queue_id.len = n;
    }
}

/* Sendmail "Deferred: Connection refused by x" -> "Deferred" and
 * "Connection refused by x"; "Sent (OK id=1x)" -> "Sent" and "OK id=1x". */
static void sendmail_status(struct ml_str v, struct ml_rec *rec)
{
    const char *p = v.p, *end = v.p + v.len;

    while (p < end && *p != ' ' && *p != ':' && *p != '(')
        p++;
    rec->status.p = v.p;
    rec->status.len = (size_t)(p - v.p);
    while (p < end && (*p == ':' || *p == ' '))
        p++;
    if (p == end)
        return;
    if (*p == '(' && end[-1] == ')' && end - p >= 2) {
        p++;
        end--;
    }
    rec->status_text.p = p;
    rec->status_text.len = (size_t)(end - p);
    if (str_is(rec->status, "Sent"))
        sendmail_next_hop(rec);
}

/* Read a field list from p to end into rec. */
static void kv_fields_read(const char *p, const char *end, struct ml_rec *rec)
{
    struct ml_str key, val;
    bool sendmail = rec->mta == ML_SENDMAIL;

    while (kv_next(&p, end, &key, &val) == KV_OK) {
        if (str_is(key, "status") || str_is(key, "stat")) {
            if (sendmail)
                sendmail_status(val, rec);
            else
                postfix_status(val, rec);
            break;
        }
        for (const struct kv_field *f = kv_fields; f->name != NULL; f++) {
            if (str_is(key, f->name)) {
                struct ml_str *dst = (struct ml_str *)((char *)rec + f->off);

                *dst = val;
                if (f->flags & KV_ANGLE)
                    strip_angle(dst, sendmail);
                break;
            }
        }
    }
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
        kv_fields_read(fields, end, rec);
        if (rec->to.p != NULL && rec->status.p != NULL) {
            /* address verification: "deliverable", "undeliverable[-but-not-cached]" */
            rec->kind = starts_with(rec->status, "deliverable") ||
                                starts_with(rec->status, "undeliverable")
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
        kv_fields_read(fields, end, rec);
        if (rec->client.p != NULL) {
            rec->kind = ML_CLIENT;
            rec->client_addr = client_addr(rec->client);
        }
        break;
    case 'M':
        rec->kind = ML_MESSAGE_ID;
        rec->message_id.p = rest;
        rec->message_id.len = (size_t)(end - rest);
        strip_angle(&rec->message_id, false);
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
    if (starts_with(text, "Warning: could not send message for past"))
        k = 1;
    else if (starts_with(text, "Return receipt"))
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
    kv_fields_read(b + ov[2 * ml.s_qid + 1] + 2, b + n, rec);
    if (*mark == 'T' && rec->to.p != NULL && rec->status.p != NULL)
        rec->kind = ML_SM_TO;
    else if (*mark == 'F' && rec->from.p != NULL)
        rec->kind = ML_SM_FROM;
}

/* "<addr>" at *pp (before end): addr as a slice, *pp past the '>'. */
static int angle_addr(const char **pp, const char *end, struct ml_str *out)
{
    const char *p = *pp, *gt;

    if (p >= end || *p != '<' || (gt = memchr(p, '>', (size_t)(end - p))) == NULL)
        return -1;
    out->p = p + 1;
    out->len = (size_t)(gt - p - 1);
    *pp = gt + 1;
    return 0;
}

/* The fate of a mail in pmg-smtp-filter's TEXT (t to end): its word for
 * rec->status, with to/new_queue_id/message_id set, or an absent slice. */
static struct ml_str pmg_fate(const char *t, const char *end, struct ml_rec *rec)
{
    static const struct ml_str none = { NULL, 0 };
    const char *q, *w;

    if (end - t > 21 && memcmp(t, "new mail message-id=", 20) == 0) {
        q = t + 20;
        return angle_addr(&q, end, &rec->message_id) < 0 ? none : (struct ml_str){ t, 3 };
    }
    if (end - t > 16 && memcmp(t, "accept mail to ", 15) == 0) {
        q = t + 15;
        if (angle_addr(&q, end, &rec->to) < 0 || end - q < 4 || memcmp(q, " (", 2) != 0)
            return none;
        for (w = q += 2; q < end && *q != ')' && *q != ' '; q++)
            ;
        if (q == end || *q != ')' || q == w)
            return none;
        rec->new_queue_id = (struct ml_str){ w, (size_t)(q - w) };
        return (struct ml_str){ t, 6 };
    }
    if (end - t > 16 && memcmp(t, "moved mail for ", 15) == 0) {
        q = t + 15;
        if (angle_addr(&q, end, &rec->to) < 0 ||
            (w = find(q, (size_t)(end - q), "quarantine")) == NULL)
            return none;
        return (struct ml_str){ w, 10 };
    }
    if (end - t > 15 && memcmp(t, "block mail to ", 14) == 0) {
        q = t + 14;
        return angle_addr(&q, end, &rec->to) < 0 ? none : (struct ml_str){ t, 5 };
    }
    return none;
}

/*
 * pmg-smtp-filter: "FID: TEXT" with the filter's own id (alphanumeric, up
 * to 25 characters, as pmg-log-tracker reads it). The four TEXTs of a
 * mail's fate are ML_FILTER (see maillog_parse.h); "processing time", "SA
 * score" and the rest are ML_OTHER with the id. rsyslog's "#012" (an
 * escaped newline) after the Message-ID is not part of it.
 */
static void pmg_body(const char *b, size_t n, struct ml_rec *rec)
{
    const char *end = b + n, *p = b;

    rec->kind = ML_OTHER;
    while (p < end && p - b < 25 && ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
                                     (*p >= 'a' && *p <= 'z')))
        p++;
    if (p == b || end - p < 2 || p[0] != ':' || p[1] != ' ')
        return; /* "2023/06/23-14:26:29 CONNECT TCP Peer: ...", "starting database ..." */
    rec->queue_id = (struct ml_str){ b, (size_t)(p - b) };
    rec->status = pmg_fate(p + 2, end, rec);
    if (rec->status.p == NULL) {
        rec->to = rec->new_queue_id = rec->message_id = (struct ml_str){ NULL, 0 };
        return;
    }
    rec->status_text = (struct ml_str){ p + 2, (size_t)(end - (p + 2)) };
    rec->kind = ML_FILTER;
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
        rc = ts_rfc3339(ml_cap(ov, ml.iso, line), &ts);
    else
        rc = ts_traditional(ml_cap(ov, ml.mon, line), ml_cap(ov, ml.day, line),
                            ml_cap(ov, ml.hms, line), ml_cap(ov, ml.frac, line), clock, &ts,
                            &local);
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
        pmg_body(line + ov[1], len - ov[1], rec);
    else
        sendmail_body(line + ov[1], len - ov[1], md, rec);
    clock->last_ms = ts;
    /* an RFC 3339 line: its local time near enough with the anchor's offset */
    clock->last_local_ms = iso ? ts + (clock->anchor_local_ms - clock->anchor_ms) : local;
    clock->have_last = true;
    return ML_PARSED;
}
