#!/bin/bash
# SPDX-License-Identifier: MIT
# t0092: the admin request path (request line -> command -> answer, the
# admin socket's own steps, against a live store in a temporary directory;
# fuzz/fuzz_admin.c) under libFuzzer (ASan + UBSan) for a bounded time.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fuzz.sh"
plan 1
# mailhookd's sources but its main(): daemon.c reaches every subsystem.
fuzz_run admin "the admin request path" \
    "jansson libconfuse libcrypto libcurl libpcre2-8 libsystemd zlib -ldb" \
    admin_server.c admin_delivery.c admin_replay.c admin_backfill.c \
    daemon.c evloop.c storeq.c ingest_server.c spool_drain.c privdrop.c maillog_reader.c \
    fanout.c seqset.c delivery.c delivery_health.c delivery_http.c delivery_store.c \
    enrich.c store_bdb.c store_bdb_event.c store_bdb_space.c ingest_client.c spool.c \
    maillog_parse.c maillog_time.c maillog_correlate.c maillog_correlate_state.c \
    maillog_correlate_filter.c maillog_correlate_sendmail.c tail_file.c tail_ident.c \
    tail_resume.c journal_source.c \
    endpoint.c endpoint_check.c endpoint_match.c sign.c ssrf.c \
    msg.c xalloc.c timeutil.c evid.c cjson.c event.c bounce_class.c \
    conf.c conf_sections.c conf_read.c conf_dump.c unixsock.c linebuf.c
