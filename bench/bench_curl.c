/* SPDX-License-Identifier: MIT */
/*
 * bench_curl.c - libcurl alone, as a second reference for the delivery
 * bench (bench/delivery.sh): the requests mailhookd sends, with nothing
 * of mailhookd around them (no store, no signing, no log), so that the
 * run shows what the HTTP library itself costs next to wrk.
 *
 *   bench_curl URL CONCURRENCY SECONDS BODY HEADER...
 *
 * Keeps CONCURRENCY POSTs of BODY in flight on one libcurl multi handle
 * (keep-alive connections, easy handles reused, the loop of
 * curl_multi_perform and curl_multi_poll) for SECONDS, then prints
 * "requests seconds requests/s failed". Each HEADER is "Name: value".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * n;
}

static CURL *easy_new(const char *url, const char *body, struct curl_slist *headers)
{
    CURL *e = curl_easy_init();

    if (e == NULL) {
        fprintf(stderr, "bench_curl: curl_easy_init failed\n");
        exit(1);
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "mailhook/" PACKAGE_VERSION);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    return e;
}

int main(int argc, char **argv)
{
    struct curl_slist *headers = NULL;
    long requests = 0, failed = 0;
    double start, end;
    CURLM *multi;
    int conc, running = 0;

    if (argc < 5 || (conc = atoi(argv[2])) < 1 || atof(argv[3]) <= 0) {
        fprintf(stderr, "usage: bench_curl URL CONCURRENCY SECONDS BODY HEADER...\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 5; i < argc; i++)
        headers = curl_slist_append(headers, argv[i]);
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)conc * 2);
    for (int i = 0; i < conc; i++)
        curl_multi_add_handle(multi, easy_new(argv[1], argv[4], headers));
    start = now_s();
    end = start + atof(argv[3]);
    for (;;) {
        CURLMsg *m;
        int left;

        curl_multi_perform(multi, &running);
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            long status = 0;

            if (m->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            requests++;
            if (m->data.result != CURLE_OK || status < 200 || status > 299)
                failed++;
            curl_multi_remove_handle(multi, m->easy_handle);
            if (now_s() < end)
                curl_multi_add_handle(multi, m->easy_handle); /* reused */
            else
                curl_easy_cleanup(m->easy_handle);
        }
        if (running == 0 && now_s() >= end)
            break;
        curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    end = now_s();
    printf("%ld %.2f %.0f %ld\n", requests, end - start, (double)requests / (end - start), failed);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    return 0;
}
