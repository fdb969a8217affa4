/* SPDX-License-Identifier: MIT */
/*
 * mhd_counters.h - mailhookd's event counters ("counters" in mailhookctl
 * status), one struct that daemon.c owns and hands, by pointer, to each
 * subsystem that counts (the append path, ingest, the spool drain, the
 * maillog readers, retention, the delivery log's retention, backfill).
 * LOOP THREAD only: the store thread reports through its jobs.
 *
 * No functions: daemon.c turns it into the status JSON.
 */
#ifndef MH_MHD_COUNTERS_H
#define MH_MHD_COUNTERS_H

#include <stdint.h>

struct mhd_counters {
    uint64_t ingested;      /* events newly stored, any source */
    uint64_t duplicates;    /* events whose id was already stored */
    uint64_t superseded;    /* email.sent dropped: another for the recipient stands for it */
    uint64_t held;          /* maillog events held for the milter's record (enrich.h);
                               stored when it comes, in its transaction (not
                               counted as ingested then) */
    uint64_t unenriched;    /* held events released after milter_wait without it */
    uint64_t rejected;      /* invalid events refused on the ingest socket */
    uint64_t tempfailed;    /* events answered with a temporary failure */
    uint64_t commits;       /* store transactions committed */
    uint64_t spool_files;   /* spool files drained */
    uint64_t spool_events;  /* events read from the spool */
    uint64_t quarantined;   /* spool files moved to bad/ */
    uint64_t expired;       /* events removed by retention */
    uint64_t records_expired; /* message records (enrich.h) removed by retention */
    uint64_t deliveries_expired; /* delivery log records removed by retention */
    uint64_t retention_passes; /* retention passes over the events finished */
    uint64_t reloads;       /* successful config reloads */
};

#endif
