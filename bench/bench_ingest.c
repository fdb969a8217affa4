/*
 * bench_ingest.c - events/s committed through the ingest socket, and ack
 * latency, with P concurrent producers (one thread and one ingest handle
 * each, pipelining up to WINDOW unacknowledged events).
 *
 *   bench_ingest INGEST-SOCKET SPOOL-DIR PRODUCERS EVENTS-PER-PRODUCER WINDOW
 *
 * Prints one line: producers events seconds events/s p50_us p99_us spooled
 * An event counts only when mailhookd acknowledged it, i.e. after commit.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "ingest.h"
#include "timeutil.h"
#include "xalloc.h"

struct producer {
    pthread_t tid;
    const char *sock, *spool;
    long n;
    size_t window;
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

static void *produce(void *arg)
{
    struct producer *p = arg;
    struct ingest_opts o = { .timeout_ms = 10000, .retry_ms = 1000, .window = p->window,
                             .on_ack = record_latency, .on_ack_ctx = p };
    ingest_t *h = ingest_open(p->sock, p->spool, &o);
    mh_err_t err;

    for (long i = 0; i < p->n; i++) {
        json_t *d = json_pack("{s:s,s:s,s:I,s:s}", "queue_id", "4XyZ1w2Kq3z", "recipient",
                              "user@example.net", "n", (json_int_t)i, "relay",
                              "mx.example.net[192.0.2.1]:25");
        event_t *ev = event_new(EV_DELIVERED, time_now_ms(), d, &err);
        if (ev == NULL || ingest_send(h, ev, &err) < 0)
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

    if (argc != 6) {
        fprintf(stderr, "usage: bench_ingest SOCKET SPOOL PRODUCERS EVENTS WINDOW\n");
        return 64;
    }
    np = (int)strtol(argv[3], NULL, 10);
    n = strtol(argv[4], NULL, 10);
    ps = xcalloc((size_t)np, sizeof(*ps));
    t0 = time_mono_us();
    for (int i = 0; i < np; i++) {
        ps[i] = (struct producer){ .sock = argv[1], .spool = argv[2], .n = n,
                                   .window = (size_t)strtol(argv[5], NULL, 10),
                                   .lat = xcalloc((size_t)n, sizeof(int64_t)) };
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
