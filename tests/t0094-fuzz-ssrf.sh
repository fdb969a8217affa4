#!/bin/bash
# SPDX-License-Identifier: MIT
# t0094: the SSRF allow-list parser (ssrf_allow_parse, of mailhook.conf)
# and ssrf_check with what it accepts, under libFuzzer (ASan + UBSan) for a
# bounded time: never a crash, and an accepted list admits the addresses it
# names (fuzz/fuzz_ssrf_allow.c).
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fuzz.sh"
plan 1
fuzz_run ssrf_allow "ssrf_allow_parse" "jansson libconfuse libcurl libcrypto libsystemd -ljq" webhook/ global/ util/
