/* SPDX-License-Identifier: MIT */
/*
 * delivery_http.c - the delivery engine's HTTP side (delivery.h): libcurl's
 * multi handle driven by the event loop, and one request per batch.
 *
 * The multi handle tells us which sockets to watch (dl_socket_cb) and when
 * to call it back (dl_timer_cb); the loop calls curl_multi_socket_action
 * for ready sockets and expired timers, then collects finished transfers.
 *
 * Every request: POST, compact JSON body (the event, or an array for a
 * batch endpoint), signed per the endpoint's scheme, HTTPS only unless the
 * endpoint allows http, TLS 1.2 or later with verification, redirects not
 * followed, no proxy from the environment, and every address connected to
 * checked by the SSRF guard (ssrf.h) after DNS, in the socket callback.
 * The first DELIVERY_RESPONSE_MAX bytes of the answer are kept for the
 * log; reading stops after RESPONSE_READ_MAX (a 2xx still counts).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cjson.h"
#include "delivery_int.h"
#include "sign.h"
#include "strutil.h"
#include "timeutil.h"
#include "xalloc.h"

#define RESPONSE_READ_MAX (1024 * 1024)

/* ---- the multi handle on the loop */

static void dl_check_done(delivery_t *dl);

static void dl_fd_ready(evloop_t *l, int fd, unsigned what, void *ctx)
{
    delivery_t *dl = ctx;
    int running, flags = (what & EVLOOP_READ ? CURL_CSELECT_IN : 0) |
                         (what & EVLOOP_WRITE ? CURL_CSELECT_OUT : 0);

    curl_multi_socket_action(dl->multi, fd, flags, &running);
    dl_check_done(dl);
}

static int dl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    delivery_t *dl = userp;
    unsigned events = (what == CURL_POLL_IN || what == CURL_POLL_INOUT ? EVLOOP_READ : 0) |
                      (what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? EVLOOP_WRITE : 0);

    if (what == CURL_POLL_REMOVE) {
        /* Usually a kept-alive connection between two requests: parked,
         * so that the next request on it costs no epoll_ctl. curl closes
         * sockets through dl_close_socket, which removes them. */
        if (socketp)
            evloop_park(dl->loop, s);
        curl_multi_assign(dl->multi, s, NULL);
    } else if (socketp == NULL) {
        if (evloop_add(dl->loop, s, events, dl_fd_ready, dl) < 0)
            msg_warn("delivery: cannot watch socket %d: %s", s, strerror(errno));
        else
            curl_multi_assign(dl->multi, s, dl);
    } else {
        evloop_mod(dl->loop, s, events);
    }
    return 0;
}

/* Let curl do what is due now: its timer fired, or requests were just added. */
static void dl_curl_run_now(delivery_t *dl)
{
    int running;

    dl->curl_due_now = false;
    if (dl->curl_timer)
        evloop_timer_cancel(dl->loop, dl->curl_timer);
    dl->curl_timer = 0;
    curl_multi_socket_action(dl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

static void dl_timer_fired(evloop_t *l, void *ctx)
{
    delivery_t *dl = ctx;

    dl->curl_timer = 0; /* fired: nothing to cancel */
    dl_curl_run_now(dl);
    dl_check_done(dl);
}

/* timeout_ms 0 is curl asking to be run at once, mostly for a request just
 * added: dl_check_done does that before it reads the next finished
 * transfer, so that the receiver gets the next request while the loop
 * handles the other answers of this round. The timer is the fallback. */
static int dl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    delivery_t *dl = userp;

    dl->curl_due_now = timeout_ms == 0;
    if (dl->curl_timer)
        evloop_timer_cancel(dl->loop, dl->curl_timer);
    dl->curl_timer = timeout_ms < 0 ? 0 : evloop_timer_add(dl->loop, timeout_ms,
                                                           dl_timer_fired, dl);
    return 0;
}

int dl_http_init(delivery_t *dl)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (dl->multi = curl_multi_init()) == NULL)
        return -1;
    curl_multi_setopt(dl->multi, CURLMOPT_SOCKETFUNCTION, dl_socket_cb);
    curl_multi_setopt(dl->multi, CURLMOPT_SOCKETDATA, dl);
    curl_multi_setopt(dl->multi, CURLMOPT_TIMERFUNCTION, dl_timer_cb);
    curl_multi_setopt(dl->multi, CURLMOPT_TIMERDATA, dl);
    curl_multi_setopt(dl->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(dl->multi, CURLMOPT_MAXCONNECTS, (long)dl->max_in_flight * 2);
    sign_thread_cache(true); /* requests are signed on this thread */
    return 0;
}

/* Drop every request in flight; their items are freed, not finished:
 * their events stay queued in the store. */
void dl_http_free(delivery_t *dl)
{
    while (!LIST_EMPTY(&dl->reqs)) {
        struct dl_req *req = LIST_FIRST(&dl->reqs);

        for (size_t i = 0; i < req->nitems; i++) {
            fanout_blob_unref(req->items[i]->blob);
            free(req->items[i]);
        }
        req->nitems = 0;
        dl_req_free(req);
    }
    if (dl->multi)
        curl_multi_cleanup(dl->multi);
    dl->multi = NULL;
    sign_thread_cache(false); /* set by dl_http_init on this (the loop) thread */
}

/* ---- one request */

static size_t dl_write_cb(char *data, size_t size, size_t n, void *ctx)
{
    struct dl_req *req = ctx;
    size_t len = size * n, room = DELIVERY_RESPONSE_MAX - req->resp_len;

    if (req->resp == NULL)
        req->resp = xmalloc(DELIVERY_RESPONSE_MAX + 1);
    if (room > 0) {
        memcpy(req->resp + req->resp_len, data, len < room ? len : room);
        req->resp_len += len < room ? len : room;
        req->resp[req->resp_len] = 0;
    }
    req->resp_total += len;
    if (req->resp_total > RESPONSE_READ_MAX) {
        req->resp_cut = true;
        return 0; /* enough: stop reading (the status decides) */
    }
    return len;
}

/* The SSRF guard: every address curl is about to connect to. */
static curl_socket_t dl_open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct dl_req *req = ctx;
    char why[sizeof(req->refused)];

    if (ssrf_check(req->dl->allow, &a->addr, a->addrlen, why, sizeof(why)) < 0) {
        snprintf(req->refused, sizeof(req->refused), "%s", why);
        req->dl->refused++;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Every socket curl closes: out of the loop first (it may be parked). */
static int dl_close_socket(void *ctx, curl_socket_t s)
{
    delivery_t *dl = ctx;

    evloop_del(dl->loop, s);
    return close(s);
}

/* ---- headers */

/* A per-request header line "name: value" into the request's buffer. */
static void dl_hdr_add(struct dl_req *req, const char *name, const char *value)
{
    size_t nlen = strlen(name), vlen = strlen(value), need = nlen + vlen + 3;

    if (req->nhdr == DL_REQ_HEADERS)
        msg_fatal(EX_SOFTWARE, "delivery: more than %d headers per request", DL_REQ_HEADERS);
    if (req->hdr_len + need > req->hdr_cap) {
        req->hdr_cap = (req->hdr_len + need) * 2 > 512 ? (req->hdr_len + need) * 2 : 512;
        req->hdr_text = xrealloc(req->hdr_text, req->hdr_cap);
    }
    req->hdr_off[req->nhdr++] = req->hdr_len;
    memcpy(req->hdr_text + req->hdr_len, name, nlen);
    memcpy(req->hdr_text + req->hdr_len + nlen, ": ", 2);
    memcpy(req->hdr_text + req->hdr_len + nlen + 2, value, vlen + 1);
    req->hdr_len += need;
}

static struct curl_slist *dl_slist_add(struct curl_slist *l, const char *name, const char *value)
{
    char *line = xasprintf("%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(l, line);

    free(line);
    if (n == NULL)
        msg_fatal(EX_OSERR, "out of memory");
    return n;
}

/* The headers that are the same on every request with these settings. */
static struct curl_slist *dl_fixed_headers(struct dl_epref *ref)
{
    const endpoint_t *ep = ref->ep;

    if (ref->fixed_headers == NULL) {
        ref->fixed_headers = dl_slist_add(NULL, "Content-Type", "application/json");
        ref->fixed_headers = dl_slist_add(ref->fixed_headers, "Expect", ""); /* no 100-continue */
        for (size_t i = 0; i < ep->nheaders; i++)
            ref->fixed_headers = dl_slist_add(ref->fixed_headers, ep->headers[i].name,
                                              ep->headers[i].value);
    }
    return ref->fixed_headers;
}

/* Link the per-request lines ahead of the fixed ones (struct curl_slist is
 * public; curl only reads the list). */
static struct curl_slist *dl_req_headers(struct dl_req *req)
{
    struct curl_slist *fixed = dl_fixed_headers(req->ref);

    for (size_t i = 0; i < req->nhdr; i++) {
        req->hdr[i].data = req->hdr_text + req->hdr_off[i];
        req->hdr[i].next = i + 1 < req->nhdr ? &req->hdr[i + 1] : fixed;
    }
    return req->nhdr ? &req->hdr[0] : fixed;
}

/* Every header of a built request, as {"Name":"value"} (curl's own too:
 * User-Agent, Authorization for basic_auth), credentials masked. */
json_t *dl_req_headers_json(struct dl_req *req)
{
    json_t *o = json_object();
    const char *colon;
    char *name;

    for (const struct curl_slist *l = dl_req_headers(req); l; l = l->next) {
        colon = strchr(l->data, ':');
        if (colon == NULL || colon[1] == '\0') /* "Expect:": a header curl leaves out */
            continue;
        name = xstrndup(l->data, (size_t)(colon - l->data));
        json_object_set_new(o, name, json_string(endpoint_header_is_credential(name)
                                                     ? EP_MASK_HEADER
                                                     : colon + 2));
        free(name);
    }
    json_object_set_new(o, "User-Agent", json_string(req->ep->user_agent[0]
                                                         ? req->ep->user_agent
                                                         : "mailhook/" PACKAGE_VERSION));
    if (req->ep->basic_auth)
        json_object_set_new(o, "Authorization", json_string("Basic " EP_MASK_HEADER));
    return o;
}

/* ---- one request */

/* A request's body as a new text: the transform's values (when there
 * are), else the events' own JSON; in brackets for an array. Any thread. */
char *dl_body_text(struct fanout_blob *const *blobs, size_t n, bool array, const char *values,
                   size_t values_len, size_t *len)
{
    size_t need = 3, off = 0;
    char *b;

    if (values)
        need += values_len;
    else
        for (size_t i = 0; i < n; i++)
            need += blobs[i]->len + 1;
    b = xmalloc(need);
    if (array)
        b[off++] = '[';
    if (values) {
        memcpy(b + off, values, values_len);
        off += values_len;
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i)
                b[off++] = ',';
            memcpy(b + off, blobs[i]->json, blobs[i]->len);
            off += blobs[i]->len;
        }
    }
    if (array)
        b[off++] = ']';
    b[off] = 0;
    *len = off;
    return b;
}

/* The body: made by the preparation thread, or the event itself (shared,
 * not copied), or a new text of the batch or of the transform's values. */
static void dl_body(struct dl_req *req, struct fanout_blob **blobs, size_t n, bool array)
{
    if (req->body_buf == NULL && !req->values && !array) {
        req->body = blobs[0]->json;
        req->len = blobs[0]->len;
        return;
    }
    if (req->body_buf == NULL)
        req->body_buf = dl_body_text(blobs, n, array, req->values, req->values_len, &req->len);
    req->body = req->body_buf;
}

/* webhook-id: the event id (the same on every retry), or for a batch a
 * digest of its event ids (the same batch retried keeps its id). */
static void dl_webhook_id(struct dl_req *req, struct fanout_blob **blobs, size_t n, bool array)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c;

    if (!array) {
        snprintf(req->webhook_id, sizeof(req->webhook_id), "%s", blobs[0]->id);
        return;
    }
    c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    for (size_t i = 0; i < n; i++)
        EVP_DigestUpdate(c, blobs[i]->id, strlen(blobs[i]->id) + 1);
    EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    memcpy(req->webhook_id, "bat_", 4);
    hex_encode(req->webhook_id + 4, md, mdlen < 16 ? mdlen : 16);
}

/* The distinct names[0..n), in order, comma-separated, into out. */
static void dl_names_join(char *out, size_t size, const char *const *names, size_t n)
{
    size_t used = 0;

    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t tlen = strlen(names[i]);
        bool seen = false;

        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(names[k], names[i]) == 0;
        if (seen || used + tlen + 2 > size)
            continue;
        if (used)
            out[used++] = ',';
        memcpy(out + used, names[i], tlen + 1);
        used += tlen;
    }
}

/* The distinct event types of the request, for the log (types are
 * [a-z0-9_.-]: event.h); and for the event header, where a transform
 * that gave a body its own "type" (a format renaming types) has that. */
static void dl_types(struct dl_req *req, struct fanout_blob **blobs, size_t n)
{
    const char *one[1], **names = n == 1 ? one : xcalloc(n, sizeof(*names));
    bool renamed = false;

    for (size_t i = 0; i < n; i++)
        names[i] = blobs[i]->type;
    dl_names_join(req->types, sizeof(req->types), names, n);
    for (size_t i = 0; i < n; i++) {
        const char *x = req->test_blob ? req->test_xtype : req->items[i]->xtype;

        if (x) {
            names[i] = x;
            renamed = true;
        }
    }
    if (renamed)
        dl_names_join(req->hdr_types, sizeof(req->hdr_types), names, n);
    else
        memcpy(req->hdr_types, req->types, sizeof(req->types));
    if (names != one)
        free(names);
}

/* SendGrid's signed event webhook: ECDSA over timestamp + body, in two
 * headers (no rotation: the public key is what the receiver holds). */
static int dl_sign_sendgrid(struct dl_req *req, const endpoint_t *ep, int64_t ts, mh_err_t *err)
{
    char tsbuf[24], *sig = NULL;

    if (req->pre_sig) { /* signed by the preparation thread, this very body */
        sig = req->pre_sig;
        req->pre_sig = NULL;
        ts = req->pre_ts;
    } else if (sign_ecdsa_p256(ep->secret, ts, req->body, req->len, &sig, err) < 0) {
        return -1;
    }
    snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
    dl_hdr_add(req, "X-Twilio-Email-Event-Webhook-Signature", sig);
    dl_hdr_add(req, "X-Twilio-Email-Event-Webhook-Timestamp", tsbuf);
    free(sig);
    return 0;
}

/* Mailgun's: a "signature" object put into the body (which must be an
 * object: the mailgun format's program makes one). */
static int dl_sign_mailgun(struct dl_req *req, const endpoint_t *ep, int64_t ts, mh_err_t *err)
{
    char token[SIGN_MAILGUN_TOKEN_SIZE], hex[SIGN_HEX_SIZE], *body;
    size_t len;

    if (sign_mailgun(ep->secret, ts, token, hex, err) < 0)
        return -1;
    if ((body = sign_mailgun_body(req->body, req->len, ts, token, hex, &len)) == NULL)
        return mh_err_set(err, "mailgun scheme: the body is not a JSON object");
    free(req->body_buf);
    req->body_buf = body;
    req->body = body;
    req->len = len;
    return 0;
}

static int dl_sign(struct dl_req *req, const endpoint_t *ep, int64_t ts, mh_err_t *err)
{
    bool rotating = ep->old_secret && time_now_ms() < ep->old_secret_until;
    char sig[SIGN_STANDARD_SIZE], old[SIGN_STANDARD_SIZE], hex[SIGN_HEX_SIZE], tsbuf[24];
    char both[2 * SIGN_STANDARD_SIZE + 2], *value;
    int (*hexfn)(const char *, const void *, size_t, char *, mh_err_t *);

    if (ep->scheme == EP_SCHEME_STANDARD) {
        snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
        if (sign_standard(ep->secret, req->webhook_id, ts, req->body, req->len, sig, err) < 0 ||
            (rotating && sign_standard(ep->old_secret, req->webhook_id, ts, req->body, req->len,
                                       old, err) < 0))
            return -1;
        snprintf(both, sizeof(both), "%s%s%s", sig, rotating ? " " : "", rotating ? old : "");
        dl_hdr_add(req, "webhook-id", req->webhook_id);
        dl_hdr_add(req, "webhook-timestamp", tsbuf);
        dl_hdr_add(req, "webhook-signature", both);
        return 0;
    }
    if (ep->scheme == EP_SCHEME_SENDGRID)
        return dl_sign_sendgrid(req, ep, ts, err);
    if (ep->scheme == EP_SCHEME_MAILGUN)
        return dl_sign_mailgun(req, ep, ts, err);
    hexfn = ep->scheme == EP_SCHEME_HMAC_SHA256_HEX ? sign_hmac_sha256_hex
                                                      : sign_sha256_secret_body;
    if (hexfn(ep->secret, req->body, req->len, hex, err) < 0)
        return -1;
    value = xasprintf("%s%s", ep->signature_prefix, hex);
    dl_hdr_add(req, ep->signature_header, value);
    free(value);
    if (rotating) { /* no multi-signature form: the old one in its own header */
        char *name = xasprintf("%s-Previous", ep->signature_header);

        if (hexfn(ep->old_secret, req->body, req->len, hex, err) < 0) {
            free(name);
            return -1;
        }
        value = xasprintf("%s%s", ep->signature_prefix, hex);
        dl_hdr_add(req, name, value);
        free(value);
        free(name);
    }
    return 0;
}

/* A random (version 4) UUID, for endpoints whose receivers expect one as
 * the delivery id; 0, or -1 when the RNG fails (the ULID id is sent). */
static int dl_uuid4(char out[40])
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

/* ref: a reference the request takes over. */
struct dl_req *dl_req_new(delivery_t *dl, struct dl_ep *dep, struct dl_epref *ref,
                          struct dl_item **items, size_t n, struct fanout_blob *test_blob)
{
    struct dl_req *req = xcalloc(1, sizeof(*req));

    req->dl = dl;
    req->dep = dep;
    req->ref = ref;
    req->ep = ref->ep;
    req->items = items;
    req->nitems = n;
    req->test_blob = test_blob;
    evid_generate(req->id, time_now_ms());
    memcpy(req->id, DELIVERY_ID_PREFIX, strlen(DELIVERY_ID_PREFIX));
    if (req->ep->delivery_id != EP_ID_UUID || dl_uuid4(req->hdr_id) < 0)
        snprintf(req->hdr_id, sizeof(req->hdr_id), "%s", req->id);
    LIST_INSERT_HEAD(&dl->reqs, req, link);
    return req;
}

/* The options of a handle that depend only on the settings it is kept for. */
static CURL *dl_easy_new(delivery_t *dl, const endpoint_t *ep)
{
    CURL *e = curl_easy_init();

    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_URL, ep->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, dl_write_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, dl_open_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, dl_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, dl);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, ep->allow_http ? "http,https" : "https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ep->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)ep->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (dl->ca_file && dl->ca_file[0])
        curl_easy_setopt(e, CURLOPT_CAINFO, dl->ca_file);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT,
                     ep->user_agent[0] ? ep->user_agent : "mailhook/" PACKAGE_VERSION);
    if (ep->basic_auth) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERPWD, ep->basic_auth);
    }
    return e;
}

/* A handle for req: one kept from an earlier request with the same
 * settings, or a new one; then what is particular to this request. */
static int dl_easy_take(struct dl_req *req)
{
    struct dl_epref *ref = req->ref;
    CURL *e = ref->nidle ? ref->idle[--ref->nidle] : dl_easy_new(req->dl, req->ep);

    if (e == NULL)
        return -1;
    req->easy = e;
    curl_easy_setopt(e, CURLOPT_PRIVATE, req);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, dl_req_headers(req));
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, req);
    return 0;
}

/* Keep a finished request's handle for the next request with the same
 * settings (at most as many as the endpoint may have in flight). Its
 * per-request options point at the freed request until dl_easy_take sets
 * them again; curl does not read them meanwhile. */
static void dl_easy_keep(struct dl_req *req)
{
    struct dl_epref *ref = req->ref;
    size_t max = req->ep->concurrency > 0 ? (size_t)req->ep->concurrency : 1;

    curl_easy_setopt(req->easy, CURLOPT_ERRORBUFFER, NULL);
    if (req->dep == NULL || ref->nidle >= max) {
        curl_easy_cleanup(req->easy);
    } else {
        if (ref->idle == NULL)
            ref->idle = xcalloc(max, sizeof(*ref->idle));
        ref->idle[ref->nidle++] = req->easy;
    }
    req->easy = NULL;
}

void dl_epref_http_free(struct dl_epref *r)
{
    while (r->nidle > 0)
        curl_easy_cleanup(r->idle[--r->nidle]);
    free(r->idle);
    r->idle = NULL;
    curl_slist_free_all(r->fixed_headers);
    r->fixed_headers = NULL;
    free(r->log_url);
    r->log_url = NULL;
}

/* The events' blobs of req into blobs[n] (the caller frees unless one). */
static struct fanout_blob **dl_req_blobs(struct dl_req *req, struct fanout_blob **one, size_t *n)
{
    struct fanout_blob **blobs;

    *n = req->test_blob ? 1 : req->nitems;
    blobs = *n == 1 ? one : xcalloc(*n, sizeof(*blobs));
    for (size_t i = 0; i < *n; i++)
        blobs[i] = req->test_blob ? req->test_blob : req->items[i]->blob;
    return blobs;
}

/* What the log says of req whatever came of it: its webhook id, types and time. */
void dl_req_describe(struct dl_req *req)
{
    struct fanout_blob *one[1], **blobs;
    size_t n;

    blobs = dl_req_blobs(req, one, &n);
    dl_webhook_id(req, blobs, n, dl_epref_array(req->ref));
    dl_types(req, blobs, n);
    if (blobs != one)
        free(blobs);
    req->started_wall = time_now_ms();
    req->started_mono = time_mono_ms();
}

/* The request as it would be sent: body, headers, signature. */
int dl_req_build(struct dl_req *req, mh_err_t *err)
{
    const endpoint_t *ep = req->ep;
    struct fanout_blob *one[1], **blobs;
    size_t n;

    dl_req_describe(req);
    blobs = dl_req_blobs(req, one, &n);
    dl_body(req, blobs, n, dl_epref_array(req->ref));
    if (blobs != one)
        free(blobs);
    if (ep->event_header[0])
        dl_hdr_add(req, ep->event_header, req->hdr_types);
    if (ep->delivery_header[0])
        dl_hdr_add(req, ep->delivery_header, req->hdr_id);
    return dl_sign(req, ep, req->started_wall / 1000, err);
}

int dl_req_start(struct dl_req *req, mh_err_t *err)
{
    if (dl_req_build(req, err) < 0)
        return -1;
    if (dl_easy_take(req) < 0)
        return mh_err_set(err, "delivery: curl_easy_init failed");
    if (curl_multi_add_handle(req->dl->multi, req->easy) != CURLM_OK)
        return mh_err_set(err, "delivery: cannot start the request");
    return 0;
}

void dl_req_free(struct dl_req *req)
{
    delivery_t *dl = req->dl;

    LIST_REMOVE(req, link); /* dl_req_new linked every request */
    if (req->easy) {
        if (dl->multi) {
            curl_multi_remove_handle(dl->multi, req->easy);
            dl_easy_keep(req);
        } else {
            curl_easy_cleanup(req->easy);
        }
    }
    for (size_t i = 0; i < req->nitems; i++) {
        fanout_blob_unref(req->items[i]->blob);
        free(req->items[i]);
    }
    free(req->items);
    fanout_blob_unref(req->test_blob);
    dl_epref_unref(req->ref);
    free(req->hdr_text);
    free(req->body_buf);
    free(req->values);
    free(req->pre_sig);
    free(req->test_xtype);
    free(req->resp);
    free(req);
}

/* ---- finishing */

static void dl_outcome_of(struct dl_req *req, CURLcode rc, struct dl_outcome *o)
{
    curl_off_t retry_after = -1;
    long status = 0;

    memset(o, 0, sizeof(*o));
    curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
    if (curl_easy_getinfo(req->easy, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK ||
        retry_after <= 0)
        retry_after = -1;
    o->status = status;
    o->retry_after_s = (int64_t)retry_after;
    o->duration_ms = time_mono_ms() - req->started_mono;
    if (req->refused[0]) {
        snprintf(o->error, sizeof(o->error), "refused by the SSRF guard: %s (allow it with "
                 "delivery_allow)", req->refused);
    } else if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && req->resp_cut)) {
        snprintf(o->error, sizeof(o->error), "%s%s%s", curl_easy_strerror(rc),
                 req->errbuf[0] ? ": " : "", req->errbuf);
    } else if (status < 200 || status > 299) {
        snprintf(o->error, sizeof(o->error), "HTTP status %ld%s", status,
                 status >= 300 && status < 400 ? " (redirects are not followed)" : "");
    } else {
        o->ok = true;
    }
}

static void dl_check_done(delivery_t *dl)
{
    struct dl_outcome o;
    struct dl_req *req;
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(dl->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&req);
        dl_outcome_of(req, m->data.result, &o);
        dl_req_done(req, &o);
        if (dl->curl_due_now)
            dl_curl_run_now(dl);
    }
}

/* The delivery log record of an attempt (admin_proto.h: deliveries),
 * written directly as text: one per request, on the loop thread. */
char *dl_req_log_record(const struct dl_req *req, const struct dl_outcome *o)
{
    char when[RFC3339_MS_LEN + 1], resp[DELIVERY_RESPONSE_MAX * 2 + 4];
    cjson_writer_t w = CJSON_WRITER_INIT;
    size_t n = req->test_blob ? 1 : req->nitems;
    int attempt = 1;

    cjw_open(&w, '{');
    cjw_key(&w, "id");
    cjw_str(&w, req->id);
    cjw_key(&w, "time");
    cjw_str(&w, time_format_rfc3339(when, req->started_wall));
    if (strcmp(req->hdr_id, req->id) != 0) { /* delivery_id uuid: what the receiver saw */
        cjw_key(&w, "delivery_id");
        cjw_str(&w, req->hdr_id);
    }
    cjw_key(&w, "endpoint");
    cjw_str(&w, req->ep->name);
    cjw_key(&w, "webhook_id");
    cjw_str(&w, req->webhook_id);
    cjw_key(&w, "events");
    cjw_open(&w, '[');
    for (size_t i = 0; i < n; i++) {
        cjw_str(&w, req->test_blob ? req->test_blob->id : req->items[i]->blob->id);
        if (!req->test_blob && req->items[i]->attempts + 1 > attempt)
            attempt = req->items[i]->attempts + 1;
    }
    cjw_close(&w, ']');
    cjw_key(&w, "types");
    cjw_open(&w, '[');
    for (const char *t = req->types, *comma; *t; t = *comma ? comma + 1 : comma) {
        comma = t + strcspn(t, ",");
        cjw_strn(&w, t, (size_t)(comma - t));
    }
    cjw_close(&w, ']');
    cjw_key(&w, "attempt");
    cjw_int(&w, attempt);
    cjw_key(&w, "status");
    cjw_int(&w, o->status);
    cjw_key(&w, "duration_ms");
    cjw_int(&w, o->duration_ms);
    cjw_key(&w, "ok");
    cjw_bool(&w, o->ok);
    cjw_key(&w, "error");
    cjw_str(&w, o->ok ? NULL : o->error);
    printable(resp, sizeof(resp), req->resp ? req->resp : "", req->resp_len);
    cjw_key(&w, "response");
    cjw_str(&w, resp);
    if (req->ref->log_url == NULL)
        req->ref->log_url = endpoint_redact_url(req->ep->url);
    cjw_key(&w, "url");
    cjw_str(&w, req->ref->log_url);
    cjw_key(&w, "test");
    cjw_bool(&w, req->test_blob != NULL);
    cjw_close(&w, '}');
    return cjw_finish(&w, NULL);
}
