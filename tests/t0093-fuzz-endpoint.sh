#!/bin/bash
# SPDX-License-Identifier: MIT
# t0093: the endpoint parser (endpoint_from_json, of what mailhookctl sends
# and the store holds) under libFuzzer (ASan + UBSan) for a bounded time:
# never a crash, and an accepted endpoint reads back unchanged from its own
# JSON (fuzz/fuzz_endpoint.c).
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fuzz.sh"
plan 1
fuzz_run endpoint "endpoint_from_json" "jansson libconfuse libcurl libcrypto libsystemd -ljq" webhook/ global/ util/
