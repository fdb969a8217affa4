#!/bin/bash
# SPDX-License-Identifier: MIT
# t0096: the transforms (transform_run, transform_where: libjq on an event
# a producer sent, through every built-in format and a few fixed programs)
# under libFuzzer (ASan + UBSan) for a bounded time: never a crash or a
# leak, every output JSON, `.` the event's canonical text unchanged
# (fuzz/fuzz_transform.c).
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fuzz.sh"
plan 1
fuzz_run transform "transform_run on events" "jansson libconfuse libcurl libcrypto libsystemd -ljq" \
    webhook/ global/ util/
