/* SPDX-License-Identifier: MIT */
/*
 * maillog_parse_fields.c - the cursor half of the maillog parser
 * (maillog_parse.h): what follows the queue id once maillog_parse.c's
 * patterns have classified a line. Declared in maillog_parse_int.h.
 *
 *   maillog_parse_fields(p, end, rec)
 *       a "key=value, key=value" list (Postfix's log_adhoc.c grammar:
 *       "to=<...>, orig_to=<...>, relay=..., delay=..., delays=...,
 *       dsn=..., status=... (...)"; Sendmail's to=/from= lines) into rec:
 *       a value ends at the ", " that is followed by another key, so
 *       "<a@x>,<b@x>" and "relay=host [addr]" survive; Postfix status= and
 *       Sendmail stat= are last and take the rest of the line, split into
 *       status and status_text (with the next hop's "queued as" id, and
 *       PMG's filter id in its reply). Unknown keys are skipped; one table
 *       (kv_fields) says where each kept key lands.
 *   maillog_parse_strip_angle(s, single_only)
 *       "<addr>" -> "addr" (also for cleanup's message-id=)
 *   maillog_parse_pmg(b, n, rec)
 *       a pmg-smtp-filter body, "FID: TEXT": the four TEXTs of a mail's
 *       fate are ML_FILTER, the rest ML_OTHER with the filter's id.
 *
 * Both only slice the caller's line (nothing is allocated) and are linear
 * in its length; a malformed list ends the reading where it goes wrong.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "maillog_parse_int.h"

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
    if (ml_str_is(*key, "status") || ml_str_is(*key, "stat")) {
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
void maillog_parse_strip_angle(struct ml_str *s, bool single_only)
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
    if (ml_str_is(rec->status, "Sent"))
        sendmail_next_hop(rec);
}

/* Read a field list from p to end into rec. */
void maillog_parse_fields(const char *p, const char *end, struct ml_rec *rec)
{
    struct ml_str key, val;
    bool sendmail = rec->mta == ML_SENDMAIL;

    while (kv_next(&p, end, &key, &val) == KV_OK) {
        if (ml_str_is(key, "status") || ml_str_is(key, "stat")) {
            if (sendmail)
                sendmail_status(val, rec);
            else
                postfix_status(val, rec);
            break;
        }
        for (const struct kv_field *f = kv_fields; f->name != NULL; f++) {
            if (ml_str_is(key, f->name)) {
                struct ml_str *dst = (struct ml_str *)((char *)rec + f->off);

                *dst = val;
                if (f->flags & KV_ANGLE)
                    maillog_parse_strip_angle(dst, sendmail);
                break;
            }
        }
    }
}

/* ------------------------------------------------------- pmg-smtp-filter */

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
void maillog_parse_pmg(const char *b, size_t n, struct ml_rec *rec)
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
