/* SPDX-License-Identifier: MIT */
/*
 * delivery_transform.c - what an endpoint receives of each event
 * (delivery_int.h): its where condition, then its transform or its
 * format's program (transform.h), run on the loop thread as a request is
 * made, on the event's stored JSON and $meta (seq, attempt, endpoint).
 *
 * Where it runs. A queued batch of an endpoint that has a where, a
 * transform, a format or the sendgrid scheme (dl_needs_prep) goes through
 * the preparation thread, a work queue (workq.h) of its own, while the
 * loop thread goes on with libcurl: there its events are filtered and
 * transformed and, for the sendgrid scheme, the body is signed (ECDSA
 * costs ~20 us, the jq program ~10-20 us: on the loop they cut its
 * requests/s by about a third; on two cores the second one has room).
 * Then, on the loop, the events not sent are finished and the rest go
 * out in one request (dl_prepared). The batch counts as in flight from
 * its submission, so concurrency and endpoint removal see it. Test sends
 * and previews (delivery_test.c) run their programs there too, with
 * settings of their own (dl_epref), so no program is ever run by two
 * threads, and none on the loop thread: jq 1.6 frees a value recursively,
 * and a program can build one nested ~10^5 levels deep within its time
 * bound, which overflows an 8 MB stack (a crash, measured); the
 * preparation thread's stack is DL_PREP_STACK (virtual: only what a run
 * touches is used).
 *
 * The programs are compiled once per endpoint settings (dl_epref), on
 * their first use (on the thread that runs them), and freed with them.
 * An endpoint of the standard format without a transform has none: its
 * body is the stored event itself, not copied.
 *
 * Outcomes per event:
 *   sent       its values go into the request (an array format's batch
 *              takes several values of one event as elements)
 *   filtered   the where condition is false: taken off the queue,
 *              counted ("filtered"), nothing logged
 *   skipped    the program gave nothing (empty or null): taken off the
 *              queue, counted ("skipped")
 *   error      a runtime error, the time bound, more than
 *              DL_TRANSFORM_MAX bytes made of one event, several values
 *              where the endpoint sends one object: taken off the queue
 *              (a retry would fail the same way), counted
 *              ("transform_errors"), a delivery-log
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
#include "sign.h"
#include "timeutil.h"
#include "transform.h"
#include "workq.h"
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
    /* the bound is each event's: a batch of many small ones is no error */
    n = transform_run(r->map, blob->json, blob->len, &meta, before + DL_TRANSFORM_MAX, out, outlen,
                      err);
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

/* An event that is not sent: off the queue, counted (loop thread). */
static void dl_transform_finish(struct dl_ep *dep, struct dl_item *it, enum dl_xresult res,
                                const char *error)
{
    delivery_t *dl = dep->dl;

    if (res == DL_X_ERROR) {
        dl_transform_failed(dep, it, error ? error : "transform: failed");
        return;
    }
    if (res == DL_X_FILTERED) {
        dl->filtered++;
        dep->filtered++;
    } else {
        dl->skipped++;
        dep->skipped++;
    }
    dl_ops_remove(dl->ops, dep->ep->name, it->seq);
    dl_item_free(it);
}

/* ---- the preparation thread */

bool dl_needs_prep(const endpoint_t *ep)
{
    return ep->transform[0] || ep->where[0] || ep->format != EP_FORMAT_STANDARD ||
           endpoint_scheme_is_ec(ep->scheme);
}

/* One batch of an endpoint on its way through the preparation thread. */
struct dl_prep {
    struct dl_ep *dep;
    struct dl_epref *ref;   /* a reference: the settings they are made with */
    struct dl_item **items; /* owned */
    size_t n;
    enum dl_xresult *res;   /* per item */
    char **errs, **xtypes;  /* per item, owned: an error's text, a body's own type */
    struct dl_made made;    /* for the request */
};

static void dl_prep_free(struct dl_prep *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->errs[i]);
        free(p->xtypes[i]);
    }
    free(p->res);
    free(p->errs);
    free(p->xtypes);
    dl_made_free(&p->made);
    dl_epref_unref(p->ref);
    free(p->items);
    free(p);
}

/* PREPARATION THREAD: the body of the kept items, as the loop would make it. */
static void dl_prep_body(struct dl_prep *p, size_t kept)
{
    struct fanout_blob **blobs = xcalloc(kept, sizeof(*blobs));
    size_t k = 0;

    for (size_t i = 0; i < p->n; i++)
        if (p->res[i] == DL_X_SEND)
            blobs[k++] = p->items[i]->blob;
    p->made.body = dl_body_text(blobs, kept, dl_epref_array(p->ref), p->made.values,
                                p->made.values_len, &p->made.len);
    free(blobs);
}

/* PREPARATION THREAD: where, transform and (sendgrid) the signature of
 * every item; touches only p, the items' blobs (read) and p->ref's
 * programs, which no other thread runs. */
static void dl_prep_work(void *ctx)
{
    struct dl_prep *p = ctx;
    const endpoint_t *ep = p->ref->ep;
    size_t kept = 0;
    mh_err_t err;

    sign_thread_cache(true);
    for (size_t i = 0; i < p->n; i++) {
        struct dl_item *it = p->items[i];

        p->res[i] = dl_transform_one(p->ref, it->blob, it->seq, it->attempts + 1, &p->made.values,
                                     &p->made.values_len, &err);
        if (p->res[i] == DL_X_ERROR) {
            p->errs[i] = xstrdup(err.text);
        } else if (p->res[i] == DL_X_SEND) {
            p->xtypes[i] = dl_transformed_type(p->ref);
            kept++;
        }
    }
    if (kept == 0 || !endpoint_scheme_is_ec(ep->scheme))
        return;
    dl_prep_body(p, kept);
    p->made.ts = time_now_ms() / 1000;
    if (sign_ecdsa_p256(ep->secret, p->made.ts, p->made.body, p->made.len, &p->made.sig, &err) < 0)
        p->made.sig = NULL; /* signed again on the loop, which reports the error */
}

/* LOOP THREAD: the items the preparation kept go out in one request, the
 * others are finished here. */
static void dl_prep_done(void *ctx)
{
    struct dl_prep *p = ctx;
    struct dl_ep *dep = p->dep;
    size_t kept = 0;

    if (dep->dl->stopping || dep->gone) { /* their events stay queued in the store */
        for (size_t i = 0; i < p->n; i++)
            dl_item_free(p->items[i]);
        dl_prepared(dep, NULL, 0, NULL);
        dl_prep_free(p);
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct dl_item *it = p->items[i];

        if (p->res[i] != DL_X_SEND) {
            dl_transform_finish(dep, it, p->res[i], p->errs[i]);
            continue;
        }
        free(it->xtype);
        it->xtype = p->xtypes[i];
        p->xtypes[i] = NULL;
        p->items[kept++] = it;
    }
    p->made.ref = dl_epref_ref(p->ref); /* the request's, if there is one */
    dl_prepared(dep, kept ? p->items : NULL, kept, &p->made);
    if (kept)
        p->items = NULL; /* the request owns them now */
    dl_prep_free(p);
}

void dl_prep_submit(struct dl_ep *dep, struct dl_item **items, size_t n)
{
    struct dl_prep *p = xcalloc(1, sizeof(*p));

    p->dep = dep;
    p->ref = dl_epref_ref(dep->ref);
    p->items = items;
    p->n = n;
    p->res = xcalloc(n, sizeof(*p->res));
    p->errs = xcalloc(n, sizeof(*p->errs));
    p->xtypes = xcalloc(n, sizeof(*p->xtypes));
    workq_submit(dep->dl->prepq, dl_prep_work, dl_prep_done, p);
}

void dl_prep_start(delivery_t *dl)
{
    if (dl->prepq == NULL)
        dl->prepq = workq_start(dl->loop, "delivery preparation", DL_PREP_STACK);
}

/* PREPARATION THREAD, at the end: its signing caches go with it. */
static void dl_prep_thread_end(void *ctx)
{
    sign_thread_cache(false);
}

void dl_prep_stop(delivery_t *dl)
{
    if (dl->prepq == NULL)
        return;
    workq_submit(dl->prepq, dl_prep_thread_end, NULL, NULL);
    dl->prepq = workq_stop(dl->prepq);
}
