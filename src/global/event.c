/* SPDX-License-Identifier: MIT */
/*
 * event.c - the event model: construction, validation, canonical
 * serialization (see event.h).
 */
#include "config.h"

#include <string.h>

#include "cjson.h"
#include "event.h"
#include "timeutil.h"
#include "xalloc.h"

const char *const event_canonical_types[] = {
    EV_SENT, EV_DELIVERED, EV_DEFERRED, EV_BOUNCED, EV_FAILED,
    EV_OPENED, EV_CLICKED, EV_COMPLAINED, EV_UNSUBSCRIBED, NULL,
};

/* Namespaces only mailhook itself may emit into. */
static const char *const reserved_prefixes[] = { "email.", "mailhook.", NULL };

bool event_type_canonical(const char *type)
{
    for (int i = 0; event_canonical_types[i]; i++)
        if (strcmp(type, event_canonical_types[i]) == 0)
            return true;
    return false;
}

/* The producer's type is quoted in errors, which reach the log and the
 * producer's answer line: printable, or a newline in it would forge lines. */
int event_type_check(const char *type, mh_err_t *err)
{
    size_t len = strlen(type);
    char shown[EVENT_TYPE_MAX + 8];

    if (event_type_canonical(type))
        return 0;
    if (len == 0 || len > EVENT_TYPE_MAX)
        return mh_err_set(err, "event type must be 1 to %d characters", EVENT_TYPE_MAX);
    for (size_t i = 0; i < len; i++) {
        char c = type[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return mh_err_set(err, "event type \"%s\": only a-z 0-9 _ . - allowed",
                              printable(shown, sizeof(shown), type, len));
    }
    if (type[0] == '.' || type[len - 1] == '.' || strchr(type, '.') == NULL ||
        strstr(type, ".."))
        return mh_err_set(err, "event type \"%s\": needs a namespace, like app.signup",
                          printable(shown, sizeof(shown), type, len));
    for (int i = 0; reserved_prefixes[i]; i++)
        if (strncmp(type, reserved_prefixes[i], strlen(reserved_prefixes[i])) == 0)
            return mh_err_set(err, "event type \"%s\": the %s namespace is reserved for "
                                   "mailhook's own types",
                              printable(shown, sizeof(shown), type, len), reserved_prefixes[i]);
    return 0;
}

static event_t *event_alloc(const char *type, int64_t ts_ms, json_t *data, mh_err_t *err)
{
    event_t *ev;

    if (event_type_check(type, err) < 0)
        goto fail;
    if (data == NULL)
        data = json_object();
    if (!json_is_object(data)) {
        mh_err_set(err, "event data must be a JSON object");
        goto fail;
    }
    if (cjson_normalize(data, err) < 0)
        goto fail;
    ev = xcalloc(1, sizeof(*ev));
    snprintf(ev->type, sizeof(ev->type), "%s", type);
    ev->ts_ms = ts_ms;
    ev->data = data;
    return ev;
fail:
    json_decref(data);
    return NULL;
}

event_t *event_new(const char *type, int64_t ts_ms, json_t *data, mh_err_t *err)
{
    event_t *ev = event_alloc(type, ts_ms, data, err);

    if (ev)
        evid_generate(ev->id, time_now_ms());
    return ev;
}

void event_derive_id(event_t *ev, const char *const *parts, size_t n)
{
    evid_derive(ev->id, ev->ts_ms, parts, n);
}

event_t *event_free(event_t *ev)
{
    if (ev) {
        json_decref(ev->data);
        free(ev);
    }
    return NULL;
}

/*
 * The envelope is assembled around the canonical dump of data: id (base32),
 * type ([a-z0-9_.-]) and timestamp (digits and punctuation) are validated on
 * the way in and never need escaping, so concatenation gives exactly the
 * bytes the serializer would, without building and walking a second object
 * (this is the ingest hot path).
 */
char *event_to_json(const event_t *ev, size_t *len)
{
    static const char p1[] = "{\"id\":\"", p2[] = "\",\"type\":\"", p3[] = "\",\"timestamp\":\"",
                      p4[] = "\",\"data\":";
    char ts[RFC3339_MS_LEN + 1], *data, *out, *w;
    size_t dlen, tlen = strlen(ev->type);

    data = cjson_dump(ev->data, &dlen);
    if (data == NULL)
        msg_panic("event_to_json: cannot serialize event %s", ev->id);
    time_format_rfc3339(ts, ev->ts_ms);
    *len = sizeof(p1) - 1 + EVID_LEN + sizeof(p2) - 1 + tlen + sizeof(p3) - 1 + RFC3339_MS_LEN +
           sizeof(p4) - 1 + dlen + 1;
    w = out = xmalloc(*len + 1);
#define EVENT_PUT(src, n) (memcpy(w, (src), (n)), w += (n))
    EVENT_PUT(p1, sizeof(p1) - 1);
    EVENT_PUT(ev->id, EVID_LEN);
    EVENT_PUT(p2, sizeof(p2) - 1);
    EVENT_PUT(ev->type, tlen);
    EVENT_PUT(p3, sizeof(p3) - 1);
    EVENT_PUT(ts, RFC3339_MS_LEN);
    EVENT_PUT(p4, sizeof(p4) - 1);
    EVENT_PUT(data, dlen);
#undef EVENT_PUT
    *w++ = '}';
    *w = 0;
    free(data);
    return out;
}

/* The string member NAME of obj, or NULL with err set. */
static const char *member_string(json_t *obj, const char *name, mh_err_t *err)
{
    json_t *v = json_object_get(obj, name);

    if (!json_is_string(v)) {
        mh_err_set(err, "event member \"%s\" missing or not a string", name);
        return NULL;
    }
    return json_string_value(v);
}

json_t *event_json_parse(const char *buf, size_t len, mh_err_t *err)
{
    char shown[sizeof(((json_error_t *)0)->text)];
    json_error_t jerr;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

    if (v == NULL) /* jansson quotes the text near the error, as it was written */
        mh_err_set(err, "invalid JSON at byte %d: %s", jerr.position,
                   printable(shown, sizeof(shown), jerr.text, strlen(jerr.text)));
    return v;
}

event_t *event_from_json(const char *buf, size_t len, mh_err_t *err)
{
    json_t *root, *data;
    const char *id, *type, *ts;
    char shown[64];
    int64_t ts_ms;
    event_t *ev = NULL;

    if ((root = event_json_parse(buf, len, err)) == NULL)
        return NULL;
    if (!json_is_object(root) || json_object_size(root) != 4) {
        mh_err_set(err, "an event is an object with exactly id, type, timestamp, data");
        goto done;
    }
    if ((id = member_string(root, "id", err)) == NULL ||
        (type = member_string(root, "type", err)) == NULL ||
        (ts = member_string(root, "timestamp", err)) == NULL)
        goto done;
    if (!evid_valid(id)) {
        mh_err_set(err, "event id \"%s\" is not of the form evt_<ULID>",
                   printable(shown, 48, id, strlen(id))); /* an id and some more */
        goto done;
    }
    if (time_parse_rfc3339(ts, &ts_ms, err) < 0)
        goto done;
    data = json_object_get(root, "data");
    ev = event_alloc(type, ts_ms, json_incref(data), err);
    if (ev)
        memcpy(ev->id, id, EVID_SIZE);
done:
    json_decref(root);
    return ev;
}

int event_size_check(size_t len, size_t max, mh_err_t *err)
{
    if (len > max)
        return mh_err_set(err, "event of %zu bytes is larger than max_event_size (%zu)", len, max);
    return 0;
}
