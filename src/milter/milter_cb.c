/* SPDX-License-Identifier: MIT */
/*
 * milter_cb.c - the libmilter callbacks of mailhook-milter (milter_cb.h).
 * Milter protocol version 6 (Sendmail 8.14+, Postfix 2.6+).
 *
 * Protocol steps. negotiate asks the MTA not to send HELO, DATA and unknown
 * commands (not used) and keeps: connect (client facts), MAIL and RCPT
 * (envelope), headers, end of headers ({i} is often known only then), the
 * body, end of message. The body is needed only for the message size: it is
 * counted, never kept (a later issue rewrites bodies, so the step stays).
 * Macros are requested with smfi_setsymlist when the MTA offers it; else
 * the MTA's macro settings apply (see mailhook-milter(8)), and the client
 * address and name fall back to what the connect callback receives.
 *
 * Header deletion (SMFIF_CHGHDRS) is asked for only when
 * remove_control_headers is on. Every step but end of message is answered
 * "continue" whatever happens, so the MTA is asked not to wait for those
 * answers (SMFIP_NR_*): a message costs the MTA one round trip to the
 * milter, at end of message, instead of one per recipient and header.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "milter_cb.h"
#include "milter_msg.h"
#include "timeutil.h"
#include "xalloc.h"

static const mh_conf_t *cb_conf;
static milter_submit_t *cb_sub;

/* Per SMTP connection (smfi_setpriv). */
struct cb_priv {
    struct milter_conn conn;
    milter_msg_t *msg; /* the message in progress, NULL between messages */
    bool chghdrs;      /* the MTA granted header changes */
    unsigned long nr;  /* SMFIP_NR_* steps the MTA does not wait for a reply to */
    int64_t msg_us;    /* time spent in callbacks for this message so far */
};

/* The steps whose answer is always "continue": the MTA need not wait for
 * it (protocol 6 SMFIP_NR_*), which saves a round trip per recipient and
 * per header. End of message is answered: the header changes go with it. */
#define CB_NOREPLY_STEPS (SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | \
                          SMFIP_NR_EOH | SMFIP_NR_BODY)

/* The answer of a step: none when negotiated so, else continue. */
static sfsistat cb_reply(const struct cb_priv *p, unsigned long step)
{
    return p && (p->nr & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* ---- per-message time in the callbacks (MAIL FROM to end of message):
 * what the milter adds to each message's SMTP transaction. 1 us buckets up
 * to 10 ms, beyond that counted with the largest seen. Callbacks run on
 * libmilter's threads, hence the lock. */
#define CB_TIME_BUCKETS 10000

static struct {
    pthread_mutex_t lock;
    uint32_t bucket[CB_TIME_BUCKETS];
    uint64_t n, over;
    int64_t max_us;
} cb_times = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void cb_time_record(int64_t us)
{
    pthread_mutex_lock(&cb_times.lock);
    cb_times.n++;
    if (us < 0)
        us = 0;
    if (us < CB_TIME_BUCKETS)
        cb_times.bucket[us]++;
    else
        cb_times.over++;
    if (us > cb_times.max_us)
        cb_times.max_us = us;
    pthread_mutex_unlock(&cb_times.lock);
}

/* The q-quantile (0..1) in us, under the lock; -1 beyond the buckets. */
static int64_t cb_time_quantile(double q)
{
    uint64_t want = (uint64_t)(q * (double)cb_times.n + 0.5), seen = 0;

    if (want == 0)
        want = 1;
    for (int64_t us = 0; us < CB_TIME_BUCKETS; us++)
        if ((seen += cb_times.bucket[us]) >= want)
            return us;
    return -1;
}

void milter_cb_log_times(void)
{
    pthread_mutex_lock(&cb_times.lock);
    if (cb_times.n > 0)
        msg_info("time in callbacks per message: %llu messages, p50 %lld us, p99 %lld us, "
                 "max %lld us", (unsigned long long)cb_times.n,
                 (long long)cb_time_quantile(0.5), (long long)cb_time_quantile(0.99),
                 (long long)cb_times.max_us);
    pthread_mutex_unlock(&cb_times.lock);
}

/* Add the time since t0 (time_mono_us) to the message in progress. */
static void cb_spent(struct cb_priv *p, int64_t t0)
{
    if (p && p->msg)
        p->msg_us += time_mono_us() - t0;
}

static struct cb_priv *cb_priv(SMFICTX *ctx)
{
    struct cb_priv *p = smfi_getpriv(ctx);

    if (p == NULL) {
        p = xcalloc(1, sizeof(*p));
        if (smfi_setpriv(ctx, p) != MI_SUCCESS) {
            msg_warn("smfi_setpriv failed: this connection is not reported");
            free(p);
            return NULL;
        }
    }
    return p;
}

static const char *cb_macro(SMFICTX *ctx, const char *name)
{
    return smfi_getsymval(ctx, (char *)name);
}

/* The queue id is known at MAIL, RCPT, end of headers or end of message,
 * depending on the MTA and its settings: take it wherever it first shows. */
static void cb_take_queue_id(SMFICTX *ctx, struct cb_priv *p)
{
    if (p && p->msg && milter_msg_queue_id(p->msg) == NULL)
        milter_msg_set_queue_id(p->msg, cb_macro(ctx, "i"));
}

static void cb_msg_reset(struct cb_priv *p)
{
    p->msg = milter_msg_free(p->msg);
}

/* ------------------------------------------------------------ callbacks */

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    struct cb_priv *p = cb_priv(ctx);
    static const struct { int where; const char *macros; } want[] = {
        { SMFIM_CONNECT, "{client_addr} {client_name} {daemon_name}" },
        { SMFIM_ENVFROM, "i {auth_authen}" },
        { SMFIM_ENVRCPT, "i" },
        { SMFIM_EOH, "i" },
        { SMFIM_EOM, "i" },
    };

    *pf0 = 0;
    if (cb_conf->milter.remove_control_headers && (f0 & SMFIF_CHGHDRS))
        *pf0 |= SMFIF_CHGHDRS;
    if (f0 & SMFIF_SETSYMLIST)
        *pf0 |= SMFIF_SETSYMLIST;
    *pf1 = f1 & (SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOUNKNOWN);
    if (p) /* without state the replies could not follow what was agreed */
        *pf1 |= f1 & CB_NOREPLY_STEPS;
    *pf2 = *pf3 = 0;
    if (p) {
        p->chghdrs = (*pf0 & SMFIF_CHGHDRS) != 0;
        p->nr = *pf1 & CB_NOREPLY_STEPS;
    }
    if (cb_conf->milter.remove_control_headers && !(f0 & SMFIF_CHGHDRS))
        msg_warn("the MTA does not allow header changes: control headers stay in messages");
    if (*pf0 & SMFIF_SETSYMLIST)
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
            if (smfi_setsymlist(ctx, want[i].where, (char *)want[i].macros) != MI_SUCCESS)
                msg_warn("smfi_setsymlist(%d) failed", want[i].where);
    return SMFIS_CONTINUE;
}

/* "1.2.3.4" / "2001:db8::1" from the connect callback's address. */
static const char *cb_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
    if (sa == NULL)
        return NULL;
    if (sa->sa_family == AF_INET)
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                         buf, (socklen_t)len);
    if (sa->sa_family == AF_INET6)
        return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                         buf, (socklen_t)len);
    return NULL;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    struct cb_priv *p = cb_priv(ctx);
    const char *addr = cb_macro(ctx, "{client_addr}"), *name = cb_macro(ctx, "{client_name}");
    char buf[INET6_ADDRSTRLEN];

    if (p == NULL)
        return SMFIS_CONTINUE;
    if (addr == NULL)
        addr = cb_addr_text(hostaddr, buf, sizeof(buf));
    if (name == NULL)
        name = hostname;
    milter_conn_set(&p->conn, addr, name, cb_macro(ctx, "{daemon_name}"));
    return cb_reply(p, SMFIP_NR_CONN);
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    int64_t t0 = time_mono_us();
    struct cb_priv *p = cb_priv(ctx);

    if (p == NULL)
        return SMFIS_CONTINUE;
    cb_msg_reset(p); /* a new transaction on the same connection */
    p->msg = milter_msg_new(&cb_conf->milter);
    p->msg_us = 0;
    milter_msg_set_sender(p->msg, argv && argv[0] ? argv[0] : "");
    milter_msg_set_sasl(p->msg, cb_macro(ctx, "{auth_authen}"));
    cb_take_queue_id(ctx, p);
    cb_spent(p, t0);
    return cb_reply(p, SMFIP_NR_MAIL);
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
    int64_t t0 = time_mono_us();
    struct cb_priv *p = smfi_getpriv(ctx);

    if (p && p->msg && argv && argv[0]) {
        milter_msg_add_recipient(p->msg, argv[0]);
        cb_take_queue_id(ctx, p);
    }
    cb_spent(p, t0);
    return cb_reply(p, SMFIP_NR_RCPT);
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    int64_t t0 = time_mono_us();
    struct cb_priv *p = smfi_getpriv(ctx);

    if (p && p->msg)
        milter_msg_header(p->msg, name, value);
    cb_spent(p, t0);
    return cb_reply(p, SMFIP_NR_HDR);
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
    int64_t t0 = time_mono_us();
    struct cb_priv *p = smfi_getpriv(ctx);

    cb_take_queue_id(ctx, p);
    cb_spent(p, t0);
    return cb_reply(p, SMFIP_NR_EOH);
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
    int64_t t0 = time_mono_us();
    struct cb_priv *p = smfi_getpriv(ctx);

    if (p && p->msg)
        milter_msg_body(p->msg, len);
    cb_spent(p, t0);
    return cb_reply(p, SMFIP_NR_BODY);
}

static void cb_log_bounds(const milter_msg_t *m, const char *qid)
{
    struct milter_msg_stats st = milter_msg_stats(m);

    if (st.headers_dropped || st.recipients_dropped || st.tags_dropped)
        msg_warn("%s: bounds reached: %zu headers, %zu recipients, %zu tags not reported "
                 "(max_headers, max_recipients, max_tags)", qid, st.headers_dropped,
                 st.recipients_dropped, st.tags_dropped);
}

static void cb_remove_control_headers(SMFICTX *ctx, struct cb_priv *p, const char *qid)
{
    size_t n;
    struct milter_removal *r = milter_msg_removals(p->msg, &n);

    for (size_t i = 0; i < n && p->chghdrs; i++)
        if (smfi_chgheader(ctx, (char *)r[i].name, r[i].index, NULL) != MI_SUCCESS)
            msg_warn("%s: could not remove %s #%d", qid, r[i].name, r[i].index);
    free(r);
}

static sfsistat cb_eom(SMFICTX *ctx)
{
    int64_t t0 = time_mono_us();
    struct cb_priv *p = smfi_getpriv(ctx);
    const char *qid;
    event_t **evs;
    size_t n;

    if (p == NULL || p->msg == NULL)
        return SMFIS_CONTINUE;
    cb_take_queue_id(ctx, p);
    qid = milter_msg_queue_id(p->msg);
    if (qid == NULL) {
        msg_warn("no queue id (macro i) at end of message: events cannot be matched to the "
                 "MTA's log; see mailhook-milter(8) for the macro settings");
        qid = "NOQUEUE";
    }
    cb_remove_control_headers(ctx, p, qid);
    evs = milter_msg_events(p->msg, &p->conn, time_now_ms(), &n);
    cb_log_bounds(p->msg, qid);
    msg_debug("%s: %zu email.sent events", qid, n);
    if (cb_sub)
        milter_submit_events(cb_sub, evs, n);
    else
        milter_events_free(evs, n);
    cb_time_record(p->msg_us + (time_mono_us() - t0));
    cb_msg_reset(p);
    return SMFIS_CONTINUE;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
    struct cb_priv *p = smfi_getpriv(ctx);

    if (p)
        cb_msg_reset(p);
    return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
    struct cb_priv *p = smfi_getpriv(ctx);

    if (p) {
        cb_msg_reset(p);
        milter_conn_clear(&p->conn);
        free(p);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

void milter_cb_submit_to(milter_submit_t *sub)
{
    cb_sub = sub;
}

struct smfiDesc *milter_cb_desc(const mh_conf_t *conf)
{
    static struct smfiDesc desc = {
        .xxfi_name = "mailhook",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_CHGHDRS | SMFIF_SETSYMLIST, /* the most we may ask for */
        .xxfi_connect = cb_connect,
        .xxfi_envfrom = cb_envfrom,
        .xxfi_envrcpt = cb_envrcpt,
        .xxfi_header = cb_header,
        .xxfi_eoh = cb_eoh,
        .xxfi_body = cb_body,
        .xxfi_eom = cb_eom,
        .xxfi_abort = cb_abort,
        .xxfi_close = cb_close,
        .xxfi_negotiate = cb_negotiate,
    };

    cb_conf = conf;
    return &desc;
}
