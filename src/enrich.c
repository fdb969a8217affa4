/*
 * enrich.c - merge a message's stored metadata into its events
 * (see enrich.h for the record format and the rules).
 */
#include "config.h"

#include <string.h>

#include "cjson.h"
#include "enrich.h"

/* The members an event takes from the message record. */
static const char *const enrich_members[] = { "subject", "tags", "metadata", "tenant",
                                              "message_id", NULL };

bool enrich_event(store_t *st, event_t *ev)
{
    const char *qid = json_string_value(json_object_get(ev->data, "queue_id"));
    void *val = NULL;
    size_t len;
    json_t *rec, *v;
    mh_err_t err;
    int rc;

    if (qid == NULL || qid[0] == 0)
        return false;
    rc = store_kv_get(st, STORE_MESSAGES, qid, &val, &len, &err);
    if (rc != 0) {
        if (rc < 0)
            msg_warn("enrich: %s", err.text);
        return false;
    }
    rec = json_loadb(val, len, 0, NULL);
    free(val);
    if (!json_is_object(rec)) {
        msg_warn("enrich: message record of %.40s is not a JSON object", qid);
        json_decref(rec);
        return false;
    }
    for (int i = 0; enrich_members[i]; i++) {
        v = json_object_get(rec, enrich_members[i]);
        if (v && json_object_get(ev->data, enrich_members[i]) == NULL)
            json_object_set(ev->data, enrich_members[i], v);
    }
    json_decref(rec);
    /* Records come from our own producers, but keep the canonical promise. */
    if (cjson_normalize(ev->data, &err) < 0)
        msg_warn("enrich: %s", err.text);
    return true;
}
