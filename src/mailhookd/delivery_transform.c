/* SPDX-License-Identifier: MIT */
/*
 * delivery_transform.c - what an endpoint receives of each event
 * (delivery_int.h): its where condition, then its transform or its
 * format's program (transform.h), run on the loop thread as a request is
 * made, on the event's stored JSON and $meta (seq, attempt, endpoint).
 *
 * The programs are compiled once per endpoint settings (dl_epref), on
 * their first use, and freed with them. An endpoint of the standard
 * format without a transform has none: its body is the stored event
 * itself, not copied.
 *
 * Outcomes per event (dl_transform_items):
 *   sent       its values go into the request (an array format's batch
 *              takes several values of one event as elements)
 *   filtered   the where condition is false: taken off the queue,
 *              counted ("filtered"), nothing logged
 *   skipped    the program gave nothing (empty or null): taken off the
 *              queue, counted ("skipped")
 *   error      a runtime error, the time bound, a body past
 *              DL_TRANSFORM_MAX, several values where the endpoint sends
 *              one object: taken off the queue (a retry would fail the
 *              same way), counted ("transform_errors"), a delivery-log
 *              record holding the error, and a warning aggregated like the
 *              drops' (delivery_drops.c)
 * None of them touches another event or another endpoint: the rest of
 * the batch is sent.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery_int.h"
#include "timeutil.h"
#include "transform.h"
#include "xalloc.h"

/* The program that makes the body: the endpoint's own, else its format's. */
static const char *dl_map_program(const endpoint_t *ep)
{
    if (ep->transform[0])
        return ep->transform;
    if (ep->format == EP_FORMAT_STANDARD)
        return NULL;
    return transform_builtin(endpoint_format_name(ep->format));
}

int dl_programs_ready(struct dl_epref *r, mh_err_t *err)
{
    const char *map = dl_map_program(r->ep);

    if (r->programs_done)
        return r->program_error[0] ? mh_err_set(err, "%s", r->program_error) : 0;
    r->programs_done = true;
    if (map && (r->map = transform_compile(map, TRANSFORM_MAP, err)) == NULL)
        goto bad;
    if (r->ep->where[0] && (r->where = transform_compile(r->ep->where, TRANSFORM_WHERE, err)) == NULL)
        goto bad;
    return 0;
bad:
    snprintf(r->program_error, sizeof(r->program_error), "%s", err->text);
    return -1;
}

void dl_programs_free(struct dl_epref *r)
{
    r->map = transform_free(r->map);
    r->where = transform_free(r->where);
}

bool dl_epref_array(const struct dl_epref *r)
{
    enum ep_shape shape = endpoint_format_shape(r->ep->format);

    return shape == EP_SHAPE_ARRAY || (shape == EP_SHAPE_ANY && r->ep->batch_max > 0);
}

enum dl_xresult dl_transform_one(struct dl_epref *r, const struct fanout_blob *blob, uint64_t seq,
                                 int attempt, char **out, size_t *outlen, mh_err_t *err)
{
    struct transform_meta meta = { seq, attempt, r->ep->name, blob->ts_ms };
    size_t before = *outlen;
    int n;

    if (dl_programs_ready(r, err) < 0)
        return DL_X_ERROR;
    if (r->where) {
        n = transform_where(r->where, blob->json, blob->len, &meta, err);
        if (n <= 0)
            return n < 0 ? DL_X_ERROR : DL_X_FILTERED;
    }
    if (r->map == NULL)
        return DL_X_SEND;
    n = transform_run(r->map, blob->json, blob->len, &meta, DL_TRANSFORM_MAX, out, outlen, err);
    if (n <= 0)
        return n < 0 ? DL_X_ERROR : DL_X_SKIPPED;
    if (n > 1 && !dl_epref_array(r)) {
        *outlen = before; /* drop what it appended */
        (*out)[before] = '\0';
        mh_err_set(err, "transform: %d values for an endpoint that sends one object", n);
        return DL_X_ERROR;
    }
    return DL_X_SEND;
}

char *dl_transformed_type(const struct dl_epref *r)
{
    const char *t = r->map ? transform_last_type(r->map) : "";

    return t[0] ? xstrdup(t) : NULL;
}

/* An event the transform failed on: a delivery-log record with the error
 * (through a request that is never sent, which takes the item), the
 * counters, the warning. */
static void dl_transform_failed(struct dl_ep *dep, struct dl_item *it, const char *error)
{
    delivery_t *dl = dep->dl;
    struct dl_item **one = xcalloc(1, sizeof(*one));
    struct dl_outcome o = { .retry_after_s = -1 };
    struct dl_req *req;

    dl->transform_errors++;
    dep->transform_errors++;
    dl_spell_note(dep, &dep->xform_spell, it->blob->id, it->attempts + 1, error);
    dl_ops_remove(dl->ops, dep->ep->name, it->seq);
    one[0] = it;
    req = dl_req_new(dl, dep, dl_epref_ref(dep->ref), one, 1, NULL);
    dl_req_describe(req);
    snprintf(o.error, sizeof(o.error), "%s", error);
    dl_ops_log(dl->ops, req->id, dl_req_log_record(req, &o));
    dl_req_free(req);
}

size_t dl_transform_items(struct dl_ep *dep, struct dl_item **items, size_t n, char **body,
                          size_t *len)
{
    delivery_t *dl = dep->dl;
    size_t kept = 0;
    mh_err_t err;

    *body = NULL;
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        struct dl_item *it = items[i];

        switch (dl_transform_one(dep->ref, it->blob, it->seq, it->attempts + 1, body, len, &err)) {
        case DL_X_SEND:
            free(it->xtype);
            it->xtype = dl_transformed_type(dep->ref);
            items[kept++] = it;
            break;
        case DL_X_FILTERED:
            dl->filtered++;
            dep->filtered++;
            dl_ops_remove(dl->ops, dep->ep->name, it->seq);
            dl_item_free(it);
            break;
        case DL_X_SKIPPED:
            dl->skipped++;
            dep->skipped++;
            dl_ops_remove(dl->ops, dep->ep->name, it->seq);
            dl_item_free(it);
            break;
        case DL_X_ERROR:
            dl_transform_failed(dep, it, err.text);
            break;
        }
    }
    return kept;
}
