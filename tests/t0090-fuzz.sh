#!/bin/bash
# SPDX-License-Identifier: MIT
# t0090: the ingest line parser (event_from_json) and the canonical JSON
# writer under libFuzzer (ASan + UBSan) for a bounded time.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fuzz.sh"
plan 1
fuzz_run event "event_from_json" "jansson libconfuse libcrypto libsystemd" global/ util/
