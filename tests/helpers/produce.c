/* SPDX-License-Identifier: MIT */
/*
 * produce.c - a test producer: submits COUNT events of TYPE through the
 * ingest library, one at a time, and prints "ID committed" or "ID spooled"
 * for each event mailhook accepted (its promise: that event is never lost).
 *
 *   produce INGEST-SOCKET SPOOL-DIR COUNT [TYPE]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "event.h"
#include "ingest.h"
#include "timeutil.h"

int main(int argc, char **argv)
{
    struct ingest_opts opts = { .timeout_ms = 2000, .retry_ms = 200, .window = 16 };
    long count;
    ingest_t *h;
    mh_err_t err;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: produce INGEST-SOCKET SPOOL-DIR COUNT [TYPE]\n");
        return 64;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    count = strtol(argv[3], NULL, 10);
    h = ingest_open(argv[1], argv[2], &opts);
    for (long i = 0; i < count; i++) {
        json_t *data = json_pack("{s:I}", "n", (json_int_t)i);
        event_t *ev = event_new(argc == 5 ? argv[4] : "test.produce", time_now_ms(), data, &err);
        int rc = ev ? ingest_submit(h, ev, &err) : -1;

        if (rc < 0)
            fprintf(stderr, "produce: %s\n", err.text);
        else
            printf("%s %s\n", ev->id, rc == INGEST_COMMITTED ? "committed" : "spooled");
        event_free(ev);
    }
    ingest_close(h);
    return 0;
}
