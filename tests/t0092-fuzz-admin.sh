#!/bin/bash
# SPDX-License-Identifier: MIT
# t0092: the admin request path (request line -> command -> answer, the
# admin socket's own steps, against a live store in a temporary directory;
# fuzz/fuzz_admin.c) under libFuzzer (ASan + UBSan) for a bounded time.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fuzz.sh"
plan 1
# mailhookd's folder but its main() and every library it links.
fuzz_run admin "the admin request path" \
    "jansson libconfuse libcrypto libcurl libpcre2-8 libsystemd zlib -ldb -ljq" \
    mailhookd/ store/ maillog/ webhook/ global/ util/
