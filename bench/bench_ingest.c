/* SPDX-License-Identifier: MIT */
/*
 * bench_ingest.c - events/s committed through the ingest socket, and ack
 * latency, with P concurrent producers (one thread and one ingest handle
 * each, pipelining up to WINDOW unacknowledged events).
 *
 *   bench_ingest INGEST-SOCKET SPOOL-DIR PRODUCERS EVENTS-PER-PRODUCER WINDOW
 *                [TYPE [RATE]]
 *
 * Prints one line: producers events seconds events/s p50_us p99_us spooled
 * An event counts only when mailhookd acknowledged it, i.e. after commit.
 *
 * TYPE (optional): the events' type (default email.delivered, with a small
 * data object); with a TYPE the data object is a realistic delivery report
 * (the whole event is about 400 bytes of JSON), as webhooks would carry.
 * RATE (optional, events/s for all producers together; 0 = as fast as
 * possible, the default): paced producers. Each event is made (its
 * "timestamp" taken) when it is due, then submitted synchronously (one
 * event in flight per producer, WINDOW is not used), so nothing waits in a
 * client buffer; a producer that falls behind sends at once without
 * sleeping.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "ingest.h"
#include "timeutil.h"
#include "xalloc.h"

struct producer {
    pthread_t tid;
    const char *sock, *spool, *type;
    long n;
    size_t window;
    double rate;     /* events/s of this producer; 0: unpaced */
    int64_t start_us; /* paced: time_mono_us() of its first event */
    int64_t *lat;
    size_t nlat;
    struct ingest_stats st;
};

static void record_latency(void *ctx, int64_t us)
{
    struct producer *p = ctx;

    if (p->nlat < (size_t)p->n)
        p->lat[p->nlat++] = us;
}

/* Paced: sleep until the monotonic time due_us (if it is not past). */
static void sleep_until_us(int64_t due_us)
{
    int64_t now = time_mono_us();

    if (due_us > now) {
        struct timespec ts = { .tv_sec = (time_t)((due_us - now) / 1000000),
                               .tv_nsec = (long)((due_us - now) % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) < 0)
            ;
    }
}

static json_t *event_data(const struct producer *p, long i)
{
    if (p->type == NULL)
        return json_pack("{s:s,s:s,s:I,s:s}", "queue_id", "4XyZ1w2Kq3z", "recipient",
                         "user@example.net", "n", (json_int_t)i, "relay",
                         "mx.example.net[192.0.2.1]:25");
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:i,s:s,s:I}", "queue_id", "4XyZ1w2Kq3z",
                     "message_id", "<20261122063019.4XyZ1w2Kq3z@mail.example.com>", "sender",
                     "newsletter@example.com", "recipient", "user12345@example.net", "relay",
                     "mx.example.net[192.0.2.1]:25", "dsn", "2.0.0", "status", "sent", "delay",
                     0.42, "size", 4812, "response", "250 2.0.0 Ok: queued as 7F3A21C0042", "n",
                     (json_int_t)i);
}

static void *produce(void *arg)
{
    struct producer *p = arg;
    struct ingest_opts o = { .timeout_ms = 10000, .retry_ms = 1000, .window = p->window,
                             .on_ack = record_latency, .on_ack_ctx = p };
    ingest_t *h = ingest_open(p->sock, p->spool, &o);
    mh_err_t err;

    for (long i = 0; i < p->n; i++) {
        if (p->rate > 0)
            sleep_until_us(p->start_us + (int64_t)((double)i * 1e6 / p->rate));
        json_t *d = event_data(p, i);
        event_t *ev = event_new(p->type ? p->type : EV_DELIVERED, time_now_ms(), d, &err);
        if (ev == NULL ||
            (p->rate > 0 ? ingest_submit(h, ev, &err) : ingest_send(h, ev, &err)) < 0)
            fprintf(stderr, "bench: %s\n", err.text);
        event_free(ev);
    }
    if (ingest_flush(h, &err) < 0)
        fprintf(stderr, "bench: %s\n", err.text);
    ingest_get_stats(h, &p->st);
    ingest_close(h);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int np;
    long n;
    struct producer *ps;
    int64_t t0, t1, *all;
    size_t total = 0, k = 0;
    uint64_t committed = 0, spooled = 0;

    const char *type = NULL;
    double rate = 0;

    if (argc < 6 || argc > 8) {
        fprintf(stderr, "usage: bench_ingest SOCKET SPOOL PRODUCERS EVENTS WINDOW [TYPE [RATE]]\n");
        return 64;
    }
    np = (int)strtol(argv[3], NULL, 10);
    n = strtol(argv[4], NULL, 10);
    if (np < 1 || n < 0) {
        fprintf(stderr, "bench_ingest: PRODUCERS >= 1, EVENTS >= 0\n");
        return 64;
    }
    if (argc > 6) {
        mh_err_t err;
        if (event_type_check(argv[6], &err) < 0) {
            fprintf(stderr, "bench_ingest: %s\n", err.text);
            return 64;
        }
        type = argv[6];
    }
    if (argc > 7)
        rate = strtod(argv[7], NULL);
    ps = xcalloc((size_t)np, sizeof(*ps));
    t0 = time_mono_us();
    for (int i = 0; i < np; i++) {
        /* Paced producers are spread evenly over one period of the total rate. */
        ps[i] = (struct producer){ .sock = argv[1], .spool = argv[2], .type = type, .n = n,
                                   .window = (size_t)strtol(argv[5], NULL, 10),
                                   .rate = rate > 0 ? rate / np : 0,
                                   .start_us = rate > 0 ? t0 + (int64_t)(i * 1e6 / rate) : 0,
                                   .lat = xcalloc((size_t)(n ? n : 1), sizeof(int64_t)) };
        pthread_create(&ps[i].tid, NULL, produce, &ps[i]);
    }
    for (int i = 0; i < np; i++) {
        pthread_join(ps[i].tid, NULL);
        total += ps[i].nlat;
        committed += ps[i].st.committed;
        spooled += ps[i].st.spooled;
    }
    t1 = time_mono_us();
    all = xcalloc(total ? total : 1, sizeof(*all));
    for (int i = 0; i < np; i++) {
        memcpy(all + k, ps[i].lat, ps[i].nlat * sizeof(*all));
        k += ps[i].nlat;
        free(ps[i].lat);
    }
    qsort(all, total, sizeof(*all), cmp64);
    printf("%d %llu %.3f %.0f %lld %lld %llu\n", np, (unsigned long long)committed,
           (double)(t1 - t0) / 1e6, (double)committed / ((double)(t1 - t0) / 1e6),
           total ? (long long)all[total / 2] : 0LL,
           total ? (long long)all[total * 99 / 100] : 0LL, (unsigned long long)spooled);
    free(all);
    free(ps);
    return 0;
}
