/* SPDX-License-Identifier: MIT */
/*
 * delivery_int.h - private to the delivery engine (delivery.h):
 * delivery.c (endpoints, queues, scheduling, store changes),
 * delivery_health.c (failing, disabled, the admin's mail),
 * delivery_drops.c (the warning about dropped events, one per interval),
 * delivery_http.c (libcurl: the multi handle on the loop, building and
 * finishing requests), delivery_store.c (store jobs: load, scan, save),
 * delivery_test.c (test sends and previews) and delivery_transform.c (the
 * where condition and the body's program).
 * Nothing else includes it. What each part offers the others is declared
 * below under its file's name; first the shared settings of an endpoint's
 * requests (delivery.c):
 *
 *   dl_epref_new(ep)       the settings of ep, which it takes; one reference
 *   dl_epref_ref(r)        one more reference; returns r
 *   dl_epref_unref(r)      one fewer; freed with the last
 */
#ifndef MH_DELIVERY_INT_H
#define MH_DELIVERY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <curl/curl.h>

#include "delivery.h"
#include "evid.h"
#include "fanout.h"
#include "mhd_counters.h"
#include "seqset.h"
#include "ssrf.h"
#include "storeq.h"
#include "transform.h"
#include "workq.h"

/* The preparation thread's stack: deep enough for what a jq program can
 * nest within its time bound (delivery_transform.c). */
#define DL_PREP_STACK ((size_t)(sizeof(void *) >= 8 ? 1024 : 256) * 1024 * 1024)

/* The most batches prepared ahead of an endpoint's request slots. */
#define DL_PREP_AHEAD 48

/* The most bytes a transform may make of one event. */
#define DL_TRANSFORM_MAX ((size_t)4 * 1024 * 1024)

/* An endpoint's settings shared by its requests in flight: replacing the
 * endpoint (an update) leaves the requests with the settings they were
 * sent with, without a copy per request. */
struct dl_epref {
    int refs;
    endpoint_t *ep; /* owned */
    /* Built on first use (delivery_http.c), for every request sent with
     * these settings: the headers that do not change per request, and the
     * curl handles of finished requests, kept to be reused. */
    struct curl_slist *fixed_headers;
    char *log_url;       /* the URL as logged: credentials redacted */
    CURL **idle;
    size_t nidle;
    /* delivery_transform.c: compiled on first use (loop thread only) */
    transform_t *map, *where;
    bool programs_done;
    char program_error[sizeof(mh_err_t)]; /* "" unless compiling failed */
};

struct dl_epref *dl_epref_new(endpoint_t *ep); /* takes ep */
struct dl_epref *dl_epref_ref(struct dl_epref *r);
void dl_epref_unref(struct dl_epref *r);

/* One event waiting for (or being sent to) one endpoint: in one of its
 * endpoint's lists (ready, waiting, pending) or in a request's array. */
struct dl_item {
    STAILQ_ENTRY(dl_item) link;
    uint64_t seq;
    struct fanout_blob *blob;   /* owned reference */
    int attempts;        /* attempts made so far */
    int64_t next_ms;     /* wall clock: due time of the next attempt */
    int64_t ready_mono;  /* when it became ready (batch wait) */
    char *xtype;         /* the transformed body's own type, or NULL (owned) */
};

STAILQ_HEAD(dl_items, dl_item);

/* A warning about events given up on, said once per interval
 * (delivery_drops.c). */
struct dl_spell {
    struct dl_ep *dep;
    uint64_t timer;        /* the interval's end; 0: quiet */
    uint64_t unsaid;       /* in this interval, not logged yet */
    int64_t since_mono;    /* the interval's start */
    char last_id[EVID_SIZE]; /* the last one not logged */
    int last_attempts;
    char last_error[256];
};

/* One endpoint as the engine runs it. */
struct dl_ep {
    delivery_t *dl;
    LIST_ENTRY(dl_ep) link; /* delivery's eps */
    struct dl_epref *ref; /* the current settings */
    endpoint_t *ep;      /* = ref->ep; health fields are the engine's */
    struct dl_items ready;   /* due, in arrival order */
    size_t nready;
    struct dl_items waiting; /* not due yet (retries), unsorted */
    size_t nwaiting;
    seqset_t held;       /* in memory, in flight, or being removed from the store */
    size_t in_flight;    /* requests, and batches in preparation or parked */
    /* delivery.c: batches the preparation thread has, or made and that wait
     * for a request slot (parked, oldest first); both count in in_flight */
    size_t preparing;
    STAILQ_HEAD(, dl_parked) parked;
    uint64_t wait_timer; /* armed for the earliest waiting item */
    int64_t wait_due;    /* its due time (wall), 0 = none */
    uint64_t kick_timer; /* partial batch or Retry-After pause */
    int64_t paused_until; /* wall ms: no request before (Retry-After) */
    /* The store holds entries not in memory from scan_from on (the memory
     * window was full, or the engine just started). */
    bool backlog, scanning;
    uint64_t scan_from;
    struct dl_items pending; /* fan-out items that arrived during a scan (newest first) */
    size_t npending;
    unsigned memgen;     /* bumped when memory is dropped: stale scans are ignored */
    bool gone;           /* removed: freed when nothing is in flight */
    bool health_dirty;   /* health changed since it was last saved */
    /* since mailhookd started (status): events dropped (retry schedule
     * exhausted), filtered out (where), skipped (transform: nothing) or
     * failed by the transform; the warnings (delivery_drops.c) */
    uint64_t dropped, filtered, skipped, transform_errors;
    struct dl_spell drop_spell, xform_spell;
};

/* Headers set per request: event, delivery id, and the signature ones
 * (standard: 3; the hex schemes: 1, 2 while rotating). */
#define DL_REQ_HEADERS 6

/* One HTTP request: a batch of items of one endpoint, or a test send. */
struct dl_req {
    LIST_ENTRY(dl_req) link; /* delivery's reqs: every request in flight */
    delivery_t *dl;
    struct dl_ep *dep;     /* NULL for a test send */
    struct dl_epref *ref;  /* a reference: the settings it was sent with */
    const endpoint_t *ep;  /* = ref->ep */
    struct dl_item **items; /* owned while in flight */
    size_t nitems;
    struct fanout_blob *test_blob; /* test send: the sample event */
    delivery_test_cb test_cb;
    void *test_ctx;
    CURL *easy;
    /* The per-request headers: nodes linked ahead of ref->fixed_headers,
     * their text in one buffer. */
    struct curl_slist hdr[DL_REQ_HEADERS];
    size_t hdr_off[DL_REQ_HEADERS];
    size_t nhdr;
    char *hdr_text;
    size_t hdr_len, hdr_cap;
    const char *body;       /* the event's own JSON, or body_buf */
    char *body_buf;         /* a batch's array, a transformed body (owned) */
    char *values;           /* the transform's values, comma-separated (owned) */
    size_t values_len;
    char *pre_sig;          /* sendgrid: the body_buf's signature, made ahead (owned) */
    int64_t pre_ts;         /* its timestamp */
    char hdr_id[40];        /* the delivery id sent: id, or a UUID */
    size_t len;
    char id[EVID_SIZE];     /* "dlv_" + ULID: this attempt */
    char webhook_id[64];
    char types[256];        /* the distinct event types, comma-separated */
    char hdr_types[256];    /* the same, as the event header says them */
    char *test_xtype;       /* test send: the transformed body's type (owned) */
    char errbuf[CURL_ERROR_SIZE];
    char refused[192];      /* why the SSRF guard refused an address */
    char *resp;             /* the first DELIVERY_RESPONSE_MAX bytes */
    size_t resp_len;
    uint64_t resp_total;
    bool resp_cut;          /* stopped reading a very long 2xx answer */
    int64_t started_wall, started_mono;
};

/* What a finished request came to. */
struct dl_outcome {
    bool ok;
    long status;           /* HTTP status, 0 when none */
    int64_t duration_ms;
    int64_t retry_after_s; /* -1 when none */
    char error[640];       /* "" when ok */
};

/* Queue and log changes waiting for the next store job. */
struct dl_ops;
struct dl_made; /* delivery_transform.c, below */
struct dl_parked; /* delivery.c */

struct delivery {
    evloop_t *loop;
    storeq_t *storeq;
    fanout_t *fanout;      /* committed items come from here; store jobs match through it */
    struct mhd_counters *ctr; /* deliveries_expired */
    mh_conf_t *conf;       /* a reference: the declared endpoints (reload) */
    CURLM *multi;
    uint64_t curl_timer;
    bool curl_due_now;     /* curl's timer is 0: run it before the next answer */
    LIST_HEAD(, dl_ep) eps;
    LIST_HEAD(, dl_req) reqs; /* in flight (delivery_http.c) */
    size_t in_flight;
    struct dl_req **tests; /* test sends in flight */
    size_t ntests;
    bool started;          /* endpoints loaded */
    bool stopping;
    /* settings (reconfigure) */
    ssrf_allow_t *allow;
    char *ca_file;
    int time_scale, max_in_flight, disable_hours, disable_failures, log_days;
    int64_t expire_period_ms; /* retention_interval */
    size_t mem_max;
    char *notify_email, *sendmail;
    /* store changes */
    struct dl_ops *ops;
    bool ops_saving;       /* an ops job is on the store thread */
    bool ops_full_warned;  /* saving failed for lack of space: said once */
    size_t jobs;           /* store jobs submitted, not done */
    uint64_t expire_timer;
    /* counters; every queued delivery that is not made is one of the
     * dropped_* (delivery_status: "dropped" is their sum) */
    uint64_t requests, delivered, failed_attempts, refused;
    uint64_t dropped_retries; /* the endpoint's retry schedule ran out */
    uint64_t dropped_missing; /* the stored event was gone or unreadable */
    uint64_t dropped_removed; /* with their endpoint (endpoint remove) */
    uint64_t filtered, skipped, transform_errors; /* delivery_transform.c */
    workq_t *prepq;        /* the preparation thread (delivery_transform.c) */
};

/* delivery.c */
void dl_item_free(struct dl_item *it);
void dl_prepared(struct dl_ep *dep, struct dl_item **items, size_t n, struct dl_made *made);
void dl_made_free(struct dl_made *m); /* its members; m is zeroed */
struct dl_ep *dl_ep_find(delivery_t *dl, const char *name);
void dl_ep_add_loaded(struct dl_ep *dep, uint64_t seq, struct fanout_blob *blob, int attempts,
                      int64_t next_ms);
void dl_ep_scan_done(struct dl_ep *dep, bool reached_end, uint64_t next_from);
void dl_req_done(struct dl_req *req, const struct dl_outcome *o);
void dl_ep_free_if_gone(struct dl_ep *dep);
void dl_ep_drop_memory(struct dl_ep *dep); /* forget it: the store keeps it */
void delivery_kick_scans(delivery_t *dl);

/* delivery_health.c */
void dl_ep_disable(struct dl_ep *dep, const char *reason);
void dl_health_success(struct dl_ep *dep);
void dl_health_failure(struct dl_ep *dep, const struct dl_outcome *o);

/* delivery_drops.c: an event dropped by dep's retry schedule, counted and
 * logged (at once, or in one line per interval); an event of spell sp
 * logged so; the counts not said yet, said now (the endpoint goes away). */
void dl_drops_note(struct dl_ep *dep, const char *id, int attempts, const char *error);
void dl_spell_note(struct dl_ep *dep, struct dl_spell *sp, const char *id, int attempts,
                   const char *error);
void dl_drops_flush(struct dl_ep *dep);

/* delivery_transform.c: the programs of r compiled (once; 0, or -1 + the
 * compile error); freed; whether r's body is an array; one event through
 * r's where and program, its values appended to *out (transform_run's
 * rule); the type the last transformed body gave itself (malloc'ed), or
 * NULL; whether an endpoint's batches go through the preparation thread;
 * a batch handed to it (it takes items; dl_prepared gets the result); the
 * thread started (once: at the first batch, test or preview) and stopped
 * (delivery_free). */
enum dl_xresult { DL_X_SEND, DL_X_FILTERED, DL_X_SKIPPED, DL_X_ERROR };

/* What the preparation thread made of a batch for its request (owned). */
struct dl_made {
    char *values;      /* the transform's values, or NULL */
    size_t values_len;
    char *body;        /* the whole body, when it was signed there */
    size_t len;
    char *sig;         /* sendgrid: body's signature, or NULL */
    int64_t ts;        /* the timestamp signed with it */
    struct dl_epref *ref; /* a reference: the settings it was made with */
};
bool dl_needs_prep(const endpoint_t *ep);
void dl_prep_submit(struct dl_ep *dep, struct dl_item **items, size_t n);
void dl_prep_start(delivery_t *dl);
void dl_prep_stop(delivery_t *dl);
int dl_programs_ready(struct dl_epref *r, mh_err_t *err);
void dl_programs_free(struct dl_epref *r);
bool dl_epref_array(const struct dl_epref *r);
enum dl_xresult dl_transform_one(struct dl_epref *r, const struct fanout_blob *blob, uint64_t seq,
                                 int attempt, char **out, size_t *outlen, mh_err_t *err);
char *dl_transformed_type(const struct dl_epref *r);

/* delivery_test.c */
void dl_test_done(struct dl_req *req, const struct dl_outcome *o);

/* delivery_http.c */
int dl_http_init(delivery_t *dl);
void dl_http_free(delivery_t *dl);
struct dl_req *dl_req_new(delivery_t *dl, struct dl_ep *dep, struct dl_epref *ref,
                          struct dl_item **items, size_t n, struct fanout_blob *test_blob);
void dl_req_describe(struct dl_req *req);
int dl_req_build(struct dl_req *req, mh_err_t *err);
int dl_req_start(struct dl_req *req, mh_err_t *err);
void dl_req_free(struct dl_req *req);
void dl_epref_http_free(struct dl_epref *r);
char *dl_req_log_record(const struct dl_req *req, const struct dl_outcome *o);
json_t *dl_req_headers_json(struct dl_req *req);
char *dl_body_text(struct fanout_blob *const *blobs, size_t n, bool array, const char *values,
                   size_t values_len, size_t *len);

/* delivery_store.c */
struct dl_ops *dl_ops_new(void);
void dl_ops_free(struct dl_ops *ops);
void dl_ops_remove(struct dl_ops *ops, const char *endpoint, uint64_t seq);
void dl_ops_update(struct dl_ops *ops, const char *endpoint, uint64_t seq, int attempts,
                   int64_t next_ms);
void dl_ops_log(struct dl_ops *ops, const char *id, char *record); /* takes record */
void dl_ops_health(struct dl_ops *ops, const endpoint_t *ep);
bool dl_ops_empty(const struct dl_ops *ops);
void dl_ops_submit(delivery_t *dl); /* the accumulated ops as one store job */
void dl_load_endpoints(delivery_t *dl, bool reload);
void dl_scan(struct dl_ep *dep, size_t limit);
void dl_expire_log(delivery_t *dl);

#endif
