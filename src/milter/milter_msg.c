/* SPDX-License-Identifier: MIT */
/*
 * milter_msg.c - the per-message model of mailhook-milter (milter_msg.h):
 * envelope, connection facts, bounded headers, control headers, and the
 * email.sent events built from them. RFC 5322 (headers), RFC 2047 (encoded
 * words, decoded with GMime), RFC 5321 (envelope paths).
 *
 * Event data, in this order (a member whose value is unknown is left out,
 * as the maillog reader does): queue_id, message_id, from (the ENVELOPE
 * sender without <>, "" for the null sender), recipient, client_addr,
 * client_name, sasl_username, size, subject, header_from, header_to,
 * tenant, tags, metadata, milter (true).
 *
 * size is what the MTA passed to the milter: every header as "Name: value"
 * plus CRLF, the blank line, and the body bytes (milter.c counts the body
 * in its body callback), so it matches the message size up to line-end
 * conventions.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "cjson.h"
#include "milter_msg.h"
#include "strutil.h"
#include "xalloc.h"

struct milter_hdr {
    char *name;
    char *value; /* cut at max_header_bytes */
};

struct milter_msg {
    const struct mh_conf_milter *mc;
    char *sender;         /* without <>; NULL = no MAIL FROM seen */
    char *sasl;
    char *queue_id;
    char **rcpts;
    size_t n_rcpts;
    struct milter_hdr *hdrs;
    size_t n_hdrs;
    size_t n_hdrs_total;  /* including those beyond max_headers */
    int n_tag_hdrs;       /* occurrences, for removal (all of them) */
    int n_meta_hdrs;
    json_t *tags;         /* array of unique strings */
    json_t *metadata;     /* from X-Mailhook-Metadata */
    size_t meta_bytes;    /* X-Mailhook-Metadata bytes accepted so far */
    uint64_t size;
    struct milter_msg_stats stats;
};

/* ------------------------------------------------------------ text helpers */

static bool is_wsp(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim s[0..*len) of whitespace on both ends; returns the new start. */
static const char *trim(const char *s, size_t *len)
{
    while (*len && is_wsp((unsigned char)*s))
        s++, (*len)--;
    while (*len && is_wsp((unsigned char)s[*len - 1]))
        (*len)--;
    return s;
}

/* Valid UTF-8 copy of s[0..len) (invalid bytes become U+FFFD); malloc'ed. */
static char *utf8_copy(const char *s, size_t len)
{
    gchar *g = g_utf8_make_valid(s, (gssize)len);
    char *r = xstrdup(g);

    g_free(g);
    return r;
}

/* Longest prefix of s no longer than max that does not split a UTF-8
 * sequence (it may still hold invalid bytes: utf8_copy deals with them). */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    size_t n;

    if (len <= max)
        return len;
    n = max;
    for (int back = 0; back < 3 && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80; back++)
        n--;
    return n;
}

/* "<a@b>" -> "a@b", "<>" -> "", surrounding blanks dropped; malloc'ed. */
static char *strip_path(const char *addr)
{
    size_t len = strlen(addr);
    const char *s = trim(addr, &len);

    if (len >= 2 && s[0] == '<' && s[len - 1] == '>')
        s++, len -= 2;
    return utf8_copy(s, len);
}

/* RFC 2047 header text -> one line of valid UTF-8; malloc'ed. GMime keeps
 * an encoded word it cannot decode (unknown charset, bad encoding) as it
 * is, and converts raw 8-bit text with its fallback charsets. */
static char *decode_text(const char *value)
{
    char *unfolded = g_mime_utils_header_unfold(value);
    char *decoded = g_mime_utils_header_decode_text(NULL, unfolded ? unfolded : value);
    const char *src = decoded ? decoded : value;
    size_t len = strlen(src);
    char *r;

    src = trim(src, &len);
    r = utf8_copy(src, len);
    for (char *p = r; *p; p++) /* what unfolding left: lone CR, LF, TAB */
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
    g_free(unfolded);
    g_free(decoded);
    return r;
}

/* Header value unfolded and trimmed, valid UTF-8, not decoded. */
static char *plain_text(const char *value)
{
    char *unfolded = g_mime_utils_header_unfold(value);
    const char *src = unfolded ? unfolded : value;
    size_t len = strlen(src);
    char *r;

    src = trim(src, &len);
    r = utf8_copy(src, len);
    g_free(unfolded);
    return r;
}

static void log_text(const char *what, const char *text, size_t len)
{
    char buf[160];

    msg_warn("%s: \"%s\"", what, printable(buf, sizeof(buf), text, len));
}

/* ------------------------------------------------------------ connection */

void milter_conn_set(struct milter_conn *conn, const char *addr, const char *name,
                     const char *daemon)
{
    milter_conn_clear(conn);
    conn->client_addr = addr && *addr ? utf8_copy(addr, strlen(addr)) : NULL;
    conn->client_name = name && *name ? utf8_copy(name, strlen(name)) : NULL;
    conn->daemon_name = daemon && *daemon ? utf8_copy(daemon, strlen(daemon)) : NULL;
}

void milter_conn_clear(struct milter_conn *conn)
{
    conn->client_addr = xfree(conn->client_addr);
    conn->client_name = xfree(conn->client_name);
    conn->daemon_name = xfree(conn->daemon_name);
}

/* ------------------------------------------------------------ message */

milter_msg_t *milter_msg_new(const struct mh_conf_milter *mc)
{
    milter_msg_t *m = xcalloc(1, sizeof(*m));

    m->mc = mc;
    m->tags = json_array();
    m->metadata = json_object();
    return m;
}

milter_msg_t *milter_msg_free(milter_msg_t *m)
{
    if (m == NULL)
        return NULL;
    free(m->sender), free(m->sasl), free(m->queue_id);
    for (size_t i = 0; i < m->n_rcpts; i++)
        free(m->rcpts[i]);
    free(m->rcpts);
    for (size_t i = 0; i < m->n_hdrs; i++)
        free(m->hdrs[i].name), free(m->hdrs[i].value);
    free(m->hdrs);
    json_decref(m->tags);
    json_decref(m->metadata);
    free(m);
    return NULL;
}

void milter_msg_set_sender(milter_msg_t *m, const char *addr)
{
    free(m->sender);
    m->sender = strip_path(addr ? addr : "");
}

void milter_msg_set_sasl(milter_msg_t *m, const char *user)
{
    m->sasl = xfree(m->sasl);
    if (user && *user)
        m->sasl = utf8_copy(user, strlen(user));
}

void milter_msg_set_queue_id(milter_msg_t *m, const char *qid)
{
    if (m->queue_id == NULL && qid && *qid && !mem_has_ctl(qid, strlen(qid)))
        m->queue_id = utf8_copy(qid, strlen(qid));
}

const char *milter_msg_queue_id(const milter_msg_t *m)
{
    return m->queue_id;
}

void milter_msg_add_recipient(milter_msg_t *m, const char *addr)
{
    if (m->n_rcpts >= (size_t)m->mc->max_recipients) {
        m->stats.recipients_dropped++;
        return;
    }
    m->rcpts = xreallocarray(m->rcpts, m->n_rcpts + 1, sizeof(*m->rcpts));
    m->rcpts[m->n_rcpts++] = strip_path(addr ? addr : "");
}

void milter_msg_body(milter_msg_t *m, size_t len)
{
    m->size += len;
}

struct milter_msg_stats milter_msg_stats(const milter_msg_t *m)
{
    return m->stats;
}

/* ------------------------------------------------------------ control headers */

static bool tags_have(const json_t *tags, const char *t, size_t len)
{
    size_t i;
    json_t *v;

    json_array_foreach(tags, i, v)
        if (json_string_length(v) == len && memcmp(json_string_value(v), t, len) == 0)
            return true;
    return false;
}

static void tag_add(milter_msg_t *m, const char *t, size_t len)
{
    t = trim(t, &len);
    if (len == 0)
        return;
    if (mem_has_ctl(t, len) || !g_utf8_validate(t, (gssize)len, NULL)) {
        m->stats.tags_dropped++;
        log_text(MILTER_TAG_HEADER " ignored: control character or invalid UTF-8", t, len);
        return;
    }
    if (tags_have(m->tags, t, len))
        return;
    if (json_array_size(m->tags) >= (size_t)m->mc->max_tags) {
        m->stats.tags_dropped++;
        if (m->stats.tags_dropped == 1)
            msg_warn("%s: more than %d tags: the rest are ignored", MILTER_TAG_HEADER,
                     m->mc->max_tags);
        return;
    }
    json_array_append_new(m->tags, json_stringn(t, len));
}

/* "a, b,c": each comma-separated piece of the first len bytes is a tag
 * (folding is unfolded first); when the value was cut, its last piece is
 * dropped, since it may be a cut tag. */
static void tags_parse(milter_msg_t *m, const char *value, size_t len, bool cut)
{
    char *copy = xstrndup(value, len), *last;
    char *v, *unfolded;
    const char *p, *comma;

    if (cut)
        *((last = strrchr(copy, ',')) ? last : copy) = 0;
    unfolded = g_mime_utils_header_unfold(copy);
    v = unfolded ? unfolded : copy;
    p = v;

    while ((comma = strchr(p, ',')) != NULL) {
        tag_add(m, p, (size_t)(comma - p));
        p = comma + 1;
    }
    tag_add(m, p, strlen(p));
    g_free(unfolded);
    free(copy);
}

/* A metadata value is kept when it is a string, a boolean, or a number
 * with a canonical JSON form (cjson.h; normalized, e.g. 2.0 -> 2); anything
 * else is logged. Returns a new reference, or NULL. */
static json_t *meta_value(const char *key, json_t *v)
{
    json_t *wrap, *r = NULL;
    mh_err_t err;

    if (*key == 0 || mem_has_ctl(key, strlen(key))) {
        log_text(MILTER_METADATA_HEADER ": key ignored: empty or control character", key,
                 strlen(key));
        return NULL;
    }
    if (json_is_string(v) || json_is_boolean(v))
        return json_incref(v);
    if (json_is_number(v)) { /* cjson normalizes inside a container */
        wrap = json_array();
        json_array_append(wrap, v);
        if (cjson_normalize(wrap, &err) == 0)
            r = json_incref(json_array_get(wrap, 0));
        json_decref(wrap);
        if (r)
            return r;
    }
    log_text(MILTER_METADATA_HEADER ": value ignored (not a string, number or boolean) for key",
             key, strlen(key));
    return NULL;
}

static void metadata_parse(milter_msg_t *m, const char *value, size_t vlen)
{
    json_error_t jerr;
    json_t *o, *v, *kept;
    const char *k;

    if (m->meta_bytes + vlen > (size_t)m->mc->max_metadata_bytes) {
        msg_warn("%s ignored: %zu bytes, more than max_metadata_bytes (%d) for the message",
                 MILTER_METADATA_HEADER, vlen, m->mc->max_metadata_bytes);
        return;
    }
    if ((o = json_loadb(value, vlen, JSON_DECODE_ANY, &jerr)) == NULL) {
        log_text(MILTER_METADATA_HEADER " ignored: not JSON", value, vlen);
        return;
    }
    if (!json_is_object(o)) {
        log_text(MILTER_METADATA_HEADER " ignored: not a JSON object", value, vlen);
        json_decref(o);
        return;
    }
    m->meta_bytes += vlen;
    json_object_foreach(o, k, v)
        if ((kept = meta_value(k, v)) != NULL)
            json_object_set_new(m->metadata, k, kept);
    json_decref(o);
}

/* ------------------------------------------------------------ headers */

static void header_keep(milter_msg_t *m, const char *name, const char *value, size_t vlen)
{
    size_t keep = utf8_cut(value, vlen, (size_t)m->mc->max_header_bytes);

    if (keep < vlen)
        m->stats.headers_cut++;
    m->hdrs = xreallocarray(m->hdrs, m->n_hdrs + 1, sizeof(*m->hdrs));
    m->hdrs[m->n_hdrs].name = xstrdup(name);
    m->hdrs[m->n_hdrs].value = xstrndup(value, keep);
    m->n_hdrs++;
}

void milter_msg_header(milter_msg_t *m, const char *name, const char *value)
{
    size_t nlen, vlen;
    bool is_tag, is_meta;

    if (name == NULL || value == NULL)
        return;
    nlen = strlen(name), vlen = strlen(value);
    m->size += nlen + 2 + vlen + 2; /* "Name: value\r\n" */
    if (m->n_hdrs_total++ == 0)
        m->size += 2;               /* the blank line after the headers */
    is_tag = strcasecmp(name, MILTER_TAG_HEADER) == 0;
    is_meta = strcasecmp(name, MILTER_METADATA_HEADER) == 0;
    m->n_tag_hdrs += is_tag;        /* counted beyond max_headers too: all are removed */
    m->n_meta_hdrs += is_meta;
    if (m->n_hdrs >= (size_t)m->mc->max_headers) {
        m->stats.headers_dropped++;
        return;
    }
    if (is_tag) {
        size_t keep = utf8_cut(value, vlen, (size_t)m->mc->max_header_bytes);

        tags_parse(m, value, keep, keep < vlen);
    } else if (is_meta)
        metadata_parse(m, value, vlen);
    header_keep(m, name, value, vlen);
}

static const char *header_find(const milter_msg_t *m, const char *name, size_t nlen)
{
    for (size_t i = 0; i < m->n_hdrs; i++)
        if (strlen(m->hdrs[i].name) == nlen && strncasecmp(m->hdrs[i].name, name, nlen) == 0)
            return m->hdrs[i].value;
    return NULL;
}

/* ------------------------------------------------------------ events */

static void put_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static void put_decoded(json_t *o, const char *key, const milter_msg_t *m, const char *hdr)
{
    const char *v = header_find(m, hdr, strlen(hdr));
    char *d;

    if (v == NULL)
        return;
    d = decode_text(v);
    json_object_set_new(o, key, json_string(d));
    free(d);
}

/* header_metadata mappings ("Header-Name=key") first, then the explicit
 * X-Mailhook-Metadata members over them. */
static json_t *metadata_build(const milter_msg_t *m)
{
    json_t *md = json_object();

    for (size_t i = 0; i < m->mc->n_header_metadata; i++) {
        const char *map = m->mc->header_metadata[i], *eq = strchr(map, '=');
        const char *v;
        char *t;

        if (eq == NULL || eq == map || eq[1] == 0 ||
            (v = header_find(m, map, (size_t)(eq - map))) == NULL)
            continue;
        t = plain_text(v);
        json_object_set_new(md, eq + 1, json_string(t));
        free(t);
    }
    json_object_update(md, m->metadata);
    return md;
}

/* The tenant rule of the milter section; NULL when nothing names one. */
static char *tenant_of(const milter_msg_t *m)
{
    const char *at;
    char *d;

    if (strcmp(m->mc->tenant, "sasl_user") == 0 && m->sasl)
        return xstrdup(m->sasl);
    if (m->sender == NULL || (at = strrchr(m->sender, '@')) == NULL || at[1] == 0)
        return NULL;
    d = xstrdup(at + 1);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/* The data every event of the message shares, in event order, with an
 * empty "recipient" that milter_msg_events() fills per recipient (setting
 * an existing key keeps its position). */
static json_t *event_template(const milter_msg_t *m, const struct milter_conn *conn)
{
    json_t *d = json_object();
    const char *mid = header_find(m, "Message-ID", 10);
    char *mid_text = mid ? plain_text(mid) : NULL, *tenant = tenant_of(m);

    put_str(d, "queue_id", m->queue_id);
    put_str(d, "message_id", mid_text);
    json_object_set_new(d, "from", json_string(m->sender ? m->sender : ""));
    json_object_set_new(d, "recipient", json_string(""));
    put_str(d, "client_addr", conn ? conn->client_addr : NULL);
    put_str(d, "client_name", conn ? conn->client_name : NULL);
    put_str(d, "sasl_username", m->sasl);
    json_object_set_new(d, "size", json_integer((json_int_t)m->size));
    put_decoded(d, "subject", m, "Subject");
    put_decoded(d, "header_from", m, "From");
    put_decoded(d, "header_to", m, "To");
    put_str(d, "tenant", tenant);
    json_object_set_new(d, "tags", json_deep_copy(m->tags));
    json_object_set_new(d, "metadata", metadata_build(m));
    json_object_set_new(d, "milter", json_true());
    free(mid_text), free(tenant);
    return d;
}

event_t **milter_msg_events(const milter_msg_t *m, const struct milter_conn *conn, int64_t ts_ms,
                            size_t *n)
{
    json_t *tmpl = event_template(m, conn);
    event_t **evs = xcalloc(m->n_rcpts + 1, sizeof(*evs));
    mh_err_t err;

    *n = 0;
    /* The null sender marks a notice (a DSN relayed in, a Sendmail MSP's
     * bounce handed to the MTA, an auto-reply): not user mail, as the
     * maillog reader skips the MTA's own notices. */
    if (m->sender && m->sender[0] == '\0')
        goto done;
    for (size_t i = 0; i < m->n_rcpts; i++) {
        json_t *d = json_deep_copy(tmpl);

        json_object_set_new(d, "recipient", json_string(m->rcpts[i]));
        if ((evs[*n] = event_new(EV_SENT, ts_ms, d, &err)) == NULL)
            msg_warn("email.sent for queue id %s not made: %s",
                     m->queue_id ? m->queue_id : "(unknown)", err.text);
        else
            (*n)++;
    }
done:
    json_decref(tmpl);
    return evs;
}

event_t **milter_events_free(event_t **evs, size_t n)
{
    if (evs == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        event_free(evs[i]);
    free(evs);
    return NULL;
}

struct milter_removal *milter_msg_removals(const milter_msg_t *m, size_t *n)
{
    struct milter_removal *r;
    size_t k = 0;

    *n = 0;
    if (!m->mc->remove_control_headers || m->n_tag_hdrs + m->n_meta_hdrs == 0)
        return NULL;
    r = xcalloc((size_t)(m->n_tag_hdrs + m->n_meta_hdrs), sizeof(*r));
    for (int i = m->n_tag_hdrs; i >= 1; i--)
        r[k++] = (struct milter_removal){ MILTER_TAG_HEADER, i };
    for (int i = m->n_meta_hdrs; i >= 1; i--)
        r[k++] = (struct milter_removal){ MILTER_METADATA_HEADER, i };
    *n = k;
    return r;
}
