#!/bin/bash
# SPDX-License-Identifier: MIT
# t0401: the milter's header and control-header parsing (milter_msg.c,
# GMime's RFC 2047 decoder behind it) under libFuzzer (ASan + UBSan) for a
# bounded time.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fuzz.sh"
plan 1
fuzz_run milter_msg "milter_msg header parsing" "jansson libconfuse gmime-3.0 libcrypto libsystemd" \
    milter/milter_msg.c global/ util/
