/* SPDX-License-Identifier: MIT */
/*
 * admin_report.c - the "report" admin command (see admin_report.h and
 * admin_proto.h): one chunk of events, then of delivery records, counted.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_report.h"
#include "event.h"
#include "evid.h"
#include "timeutil.h"

#define REASON_MAX 120 /* bytes of a bounce reason kept: the reply's start */

struct report {
    json_t *messages, *classes, *domains, *reasons, *endpoints; /* owned */
    size_t events, deliveries;  /* scanned in this chunk */
    int64_t last_ts;            /* events: where the next chunk starts */
    uint64_t last_seq;
    const char *skip;           /* deliveries: the cursor's key, counted already */
    char until_key[EVID_SIZE];  /* deliveries: keys from here are past until */
    char last_key[EVID_SIZE];
};

/* map[name][field] += 1 (field NULL: map[name] += 1), at most
 * REPORT_KEYS_MAX names: a new one past that counts as "(other)". */
static void report_bump(json_t *map, const char *name, const char *field)
{
    json_t *slot, *n;

    if (json_object_get(map, name) == NULL && json_object_size(map) >= REPORT_KEYS_MAX)
        name = "(other)";
    if (field == NULL) {
        n = json_object_get(map, name);
        json_object_set_new(map, name, json_integer(json_integer_value(n) + 1));
        return;
    }
    if ((slot = json_object_get(map, name)) == NULL)
        json_object_set_new(map, name, slot = json_object());
    n = json_object_get(slot, field);
    json_object_set_new(slot, field, json_integer(json_integer_value(n) + 1));
}

/* The recipient's domain, lower case, into buf; "(none)" without one. */
static const char *report_domain(const json_t *data, char *buf, size_t size)
{
    const char *rcpt = json_string_value(json_object_get(data, "recipient"));
    const char *at = rcpt ? strrchr(rcpt, '@') : NULL;
    size_t i = 0;

    if (at == NULL || at[1] == 0)
        return "(none)";
    for (at++; *at && i + 1 < size; at++)
        buf[i++] = (char)tolower((unsigned char)*at);
    buf[i] = 0;
    return buf;
}

/* Why it bounced: the start of the reply (or the DSN code), printable. */
static const char *report_reason(const json_t *data, char *buf, size_t size)
{
    const char *r = json_string_value(json_object_get(data, "smtp_response"));

    if (r == NULL || r[0] == 0)
        r = json_string_value(json_object_get(data, "reason"));
    if (r == NULL || r[0] == 0)
        r = json_string_value(json_object_get(data, "dsn"));
    if (r == NULL || r[0] == 0)
        return "(no reason given)";
    return printable(buf, size, r, strlen(r));
}

static void report_event(struct report *rp, const char *type, const json_t *data)
{
    static const char *const kinds[] = { EV_SENT, EV_DELIVERED, EV_DEFERRED, EV_BOUNCED,
                                         EV_FAILED };
    char dom[256], reason[REASON_MAX + 1];
    const char *kind = NULL, *cls;

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(type, kinds[i]) == 0)
            kind = kinds[i] + 6; /* past "email." */
    if (kind == NULL)
        return;
    report_bump(rp->messages, kind, NULL);
    report_bump(rp->domains, report_domain(data, dom, sizeof(dom)), kind);
    if (strcmp(type, EV_BOUNCED) != 0)
        return;
    cls = json_string_value(json_object_get(data, "bounce_class"));
    report_bump(rp->classes, cls && cls[0] ? cls : "(unclassified)", NULL);
    report_bump(rp->reasons, report_reason(data, reason, sizeof(reason)), NULL);
}

static int report_event_one(void *ctx, uint64_t seq, const char *json, size_t len)
{
    struct report *rp = ctx;
    const char *type, *ts;
    json_t *ev, *data;
    int64_t ms = 0;

    rp->events++;
    rp->last_seq = seq;
    ev = json_loadb(json, len, 0, NULL);
    if (ev != NULL && json_unpack(ev, "{s:s,s:s,s:o}", "type", &type, "timestamp", &ts, "data",
                                  &data) == 0) {
        time_parse_rfc3339(ts, &ms, NULL);
        rp->last_ts = ms;
        report_event(rp, type, data);
    }
    json_decref(ev);
    return 0;
}

static int report_delivery_one(void *ctx, const char *key, const void *val, size_t len)
{
    struct report *rp = ctx;
    const char *ep;
    json_t *rec;

    if (rp->skip && strcmp(key, rp->skip) == 0)
        return 0;
    if (rp->until_key[0] && strcmp(key, rp->until_key) >= 0)
        return 1;
    if (rp->deliveries == REPORT_CHUNK)
        return 1; /* last_key is where the next chunk goes on */
    rp->deliveries++;
    snprintf(rp->last_key, sizeof(rp->last_key), "%s", key);
    if ((rec = json_loadb(val, len, 0, NULL)) == NULL)
        return 0;
    ep = json_string_value(json_object_get(rec, "endpoint"));
    if (ep != NULL) {
        report_bump(rp->endpoints, ep, "deliveries");
        report_bump(rp->endpoints, ep, json_is_true(json_object_get(rec, "ok")) ? "ok" : "failed");
        for (size_t i = 0; i < json_array_size(json_object_get(rec, "events")); i++)
            report_bump(rp->endpoints, ep, "events");
    }
    json_decref(rec);
    return 0;
}

/* The delivery log from key from (or since's first id), up to until. */
static int report_deliveries(store_t *st, struct report *rp, const char *from, int64_t since,
                             int64_t until, mh_err_t *err)
{
    char start[EVID_SIZE] = DELIVERY_ID_PREFIX, t[EVID_TIME_SIZE];

    if (from == NULL && since > 0) {
        evid_time_prefix(t, since);
        snprintf(start, sizeof(start), "%s%s", DELIVERY_ID_PREFIX, t);
    }
    if (until > 0) {
        evid_time_prefix(t, until);
        snprintf(rp->until_key, sizeof(rp->until_key), "%s%s", DELIVERY_ID_PREFIX, t);
    }
    rp->skip = from;
    return store_kv_scan(st, STORE_DELIVERIES, from ? from : start, report_delivery_one, rp,
                         err);
}

static void report_free(struct report *rp)
{
    json_decref(rp->messages);
    json_decref(rp->classes);
    json_decref(rp->domains);
    json_decref(rp->reasons);
    json_decref(rp->endpoints);
}

/* The answer; takes the maps and cursor. */
static json_t *report_answer(struct report *rp, json_t *cursor)
{
    return json_pack("{s:b,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "ok", 1, "events_scanned",
                     (json_int_t)rp->events, "deliveries_scanned", (json_int_t)rp->deliveries,
                     "messages", rp->messages, "bounce_classes", rp->classes, "domains",
                     rp->domains, "bounce_reasons", rp->reasons, "endpoints", rp->endpoints,
                     "cursor", cursor);
}

static json_t *report(const struct admin_env *env, struct admin_job *job, store_t *st,
                      json_t *req)
{
    struct report rp = { .messages = json_object(), .classes = json_object(),
                         .domains = json_object(), .reasons = json_object(),
                         .endpoints = json_object() };
    struct store_query q = { .type = "email.*", .limit = REPORT_CHUNK };
    json_int_t since = 0, until = 0, cts = 0, cseq = 0;
    const char *dkey = NULL;
    json_t *cursor = NULL, *next = json_null();
    mh_err_t err;
    int rc = 0;

    if (json_unpack(req, "{s:I,s?I,s?o}", "since", &since, "until", &until, "cursor",
                    &cursor) < 0 ||
        (cursor && !json_is_null(cursor) &&
         json_unpack(cursor, "{s?I,s?I,s?s}", "ts", &cts, "seq", &cseq, "delivery", &dkey) < 0) ||
        (dkey && strlen(dkey) >= EVID_SIZE)) {
        report_free(&rp);
        return admin_error("bad_request", "report needs \"since\" (ms); cursor is {ts, seq} or "
                           "{delivery}");
    }
    if (dkey == NULL) {
        q.since_ms = cts ? cts : since;
        q.start_seq = (uint64_t)cseq;
        q.until_ms = until;
        rc = store_event_scan(st, &q, report_event_one, &rp, &err);
        if (rc == 0 && rp.events == REPORT_CHUNK)
            next = json_pack("{s:I,s:I}", "ts", (json_int_t)rp.last_ts, "seq",
                             (json_int_t)(rp.last_seq + 1));
    }
    if (rc == 0 && json_is_null(next)) {
        rc = report_deliveries(st, &rp, dkey, since, until, &err);
        if (rc == 0 && rp.deliveries == REPORT_CHUNK)
            next = json_pack("{s:s}", "delivery", rp.last_key);
    }
    if (rc < 0) {
        json_decref(next);
        report_free(&rp);
        return admin_error("internal", "%s", err.text);
    }
    return report_answer(&rp, next);
}

const struct admin_command admin_report_commands[] = {
    { "report", NULL, report, NULL },
    { NULL, NULL, NULL, NULL },
};
