/* SPDX-License-Identifier: MIT */
/*
 * delivery_test.c - test sends (endpoint.test, see delivery.h): a sample
 * event sent once to an endpoint's current settings, outside its queue,
 * its outcome answered to the caller instead of being retried or logged
 * against the queue; and previews (endpoint.preview): the request an
 * event would make, built the same way, shown instead of sent.
 *
 * Both put the event through the endpoint's where and transform (or
 * format) first, as a queued event is: a test send of a type the format
 * has nothing for is refused with the reason, a preview says it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "delivery_int.h"
#include "timeutil.h"
#include "workq.h"
#include "xalloc.h"

/* The test blob of req through its endpoint's where and program: 0, or
 * -1 + err saying why nothing would be sent. */
static int dl_test_transform(struct dl_req *req, uint64_t seq, mh_err_t *err)
{
    switch (dl_transform_one(req->ref, req->test_blob, seq, 1, &req->values, &req->values_len,
                             err)) {
    case DL_X_SEND:
        req->test_xtype = dl_transformed_type(req->ref);
        return 0;
    case DL_X_FILTERED:
        return mh_err_set(err, "the endpoint's where condition is false for this event");
    case DL_X_SKIPPED:
        return mh_err_set(err, "the endpoint's %s makes nothing of a %s event",
                          req->ep->transform[0] ? "transform" : "format", req->test_blob->type);
    case DL_X_ERROR: break;
    }
    return -1;
}

/* A test send or a preview whose event goes through the preparation
 * thread first (delivery_transform.c: no program runs on the loop). */
struct dl_test_job {
    struct dl_req *req;
    uint64_t seq;
    bool preview;
    delivery_test_cb cb; /* preview: its answer */
    void *ctx;
    int rc;
    mh_err_t err;
};

/* PREPARATION THREAD */
static void dl_test_job_work(void *ctx)
{
    struct dl_test_job *j = ctx;

    j->rc = dl_test_transform(j->req, j->seq, &j->err);
}

static json_t *dl_preview_answer(struct dl_req *req, int rc, mh_err_t *err)
{
    if (rc == 0)
        rc = dl_req_build(req, err);
    if (rc < 0)
        return json_pack("{s:b,s:s,s:s,s:b,s:s}", "ok", 1, "endpoint", req->ep->name, "event",
                         req->test_blob->id, "sent", 0, "reason", err->text);
    return json_pack("{s:b,s:s,s:s,s:b,s:s,s:o,s:s%}", "ok", 1, "endpoint", req->ep->name,
                     "event", req->test_blob->id, "sent", 1, "method", "POST", "headers",
                     dl_req_headers_json(req), "body", req->body, req->len);
}

/* LOOP THREAD: the preview answered, or the test sent (or failed). */
static void dl_test_job_done(void *ctx)
{
    struct dl_test_job *j = ctx;
    struct dl_outcome o = { .retry_after_s = -1 };
    delivery_t *dl = j->req->dl;

    if (j->preview) {
        j->cb(j->ctx, dl->stopping ? json_pack("{s:b,s:s,s:s}", "ok", 0, "code", "internal",
                                               "error", "mailhookd is stopping")
                                   : dl_preview_answer(j->req, j->rc, &j->err));
        dl_req_free(j->req);
    } else if (dl->stopping || j->rc < 0 || dl_req_start(j->req, &j->err) < 0) {
        snprintf(o.error, sizeof(o.error), "%s",
                 dl->stopping ? "mailhookd is stopping" : j->err.text);
        dl_req_done(j->req, &o);
    }
    free(j);
}

static void dl_test_job_submit(struct dl_req *req, uint64_t seq, bool preview,
                               delivery_test_cb cb, void *ctx)
{
    struct dl_test_job *j = xcalloc(1, sizeof(*j));

    j->req = req;
    j->seq = seq;
    j->preview = preview;
    j->cb = cb;
    j->ctx = ctx;
    dl_prep_start(req->dl);
    workq_submit(req->dl->prepq, dl_test_job_work, dl_test_job_done, j);
}

/* The event (json, or the sample of type when json is NULL) as a blob. */
static struct fanout_blob *dl_preview_blob(const char *json, size_t len, const char *type,
                                           mh_err_t *err)
{
    event_t *ev = json ? event_from_json(json, len, err) : delivery_sample_event(type, err);
    struct fanout_blob *blob;
    char *text;
    size_t tlen;

    if (ev == NULL)
        return NULL;
    text = event_to_json(ev, &tlen);
    blob = fanout_blob_new(ev->id, ev->type, ev->ts_ms, text, tlen);
    free(text);
    event_free(ev);
    return blob;
}

void delivery_test(delivery_t *dl, const endpoint_t *ep, const char *type, delivery_test_cb cb,
                   void *ctx)
{
    struct dl_req *req;
    struct fanout_blob *blob;
    mh_err_t err;

    if ((blob = dl_preview_blob(NULL, 0, type, &err)) == NULL) {
        cb(ctx, json_pack("{s:b,s:s,s:s}", "ok", 0, "code", "bad_request", "error", err.text));
        return;
    }
    req = dl_req_new(dl, NULL, dl_epref_new(endpoint_dup(ep)), NULL, 0, blob);
    req->test_cb = cb;
    req->test_ctx = ctx;
    dl->tests = xreallocarray(dl->tests, dl->ntests + 1, sizeof(*dl->tests));
    dl->tests[dl->ntests++] = req;
    dl_test_job_submit(req, 0, false, NULL, NULL);
}

void delivery_preview(delivery_t *dl, const endpoint_t *ep, const char *json, size_t len,
                      uint64_t seq, const char *type, delivery_test_cb cb, void *ctx)
{
    struct fanout_blob *blob;
    mh_err_t err;

    if ((blob = dl_preview_blob(json, len, type, &err)) == NULL) {
        cb(ctx, json_pack("{s:b,s:s,s:s}", "ok", 0, "code", "bad_request", "error", err.text));
        return;
    }
    dl_test_job_submit(dl_req_new(dl, NULL, dl_epref_new(endpoint_dup(ep)), NULL, 0, blob), seq,
                       true, cb, ctx);
}

event_t *delivery_sample_event(const char *type, mh_err_t *err)
{
    json_t *data;

    if (event_type_check(type, err) < 0)
        return NULL;
    data = json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:s,s:[s],s:{s:s}}", "test", 1, "queue_id",
                     "4TEST0000001", "message_id", "<test@mailhook.invalid>", "from",
                     "sender@example.com", "recipient", "recipient@example.net", "subject",
                     "mailhook test event", "tenant", "example.com", "tags", "test", "metadata",
                     "source", "mailhookctl endpoint test");
    return event_new(type, time_now_ms(), data, err);
}

/* A test send's request finished (dl_req_done): its answer to the caller. */
void dl_test_done(struct dl_req *req, const struct dl_outcome *o)
{
    delivery_t *dl = req->dl;
    json_t *ev = json_loadb(req->test_blob->json, req->test_blob->len, 0, NULL);
    json_t *res = json_pack("{s:b,s:b,s:i,s:I,s:s?,s:s%,s:o*}", "ok", 1, "delivered", o->ok,
                            "status", (int)o->status, "duration_ms", (json_int_t)o->duration_ms,
                            "error", o->ok ? NULL : o->error, "response",
                            req->resp ? req->resp : "", req->resp_len, "event", ev);

    for (size_t i = 0; i < dl->ntests; i++)
        if (dl->tests[i] == req)
            dl->tests[i] = dl->tests[--dl->ntests];
    if (res == NULL) /* the response was not valid UTF-8 */
        res = json_pack("{s:b,s:b,s:i,s:I,s:s?,s:s}", "ok", 1, "delivered", o->ok, "status",
                        (int)o->status, "duration_ms", (json_int_t)o->duration_ms, "error",
                        o->ok ? NULL : o->error, "response", "(not UTF-8)");
    req->test_cb(req->test_ctx, res);
}
