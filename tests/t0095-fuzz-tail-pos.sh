#!/bin/bash
# SPDX-License-Identifier: MIT
# t0095: the log follower's checkpoint decoder (tail_pos_decode, of what
# the store holds) under libFuzzer (ASan + UBSan) for a bounded time: never
# a crash, and a decoded position survives its own encoding
# (fuzz/fuzz_tail_pos.c).
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fuzz.sh"
plan 1
fuzz_run tail_pos "tail_pos_decode" "libpcre2-8 libsystemd zlib jansson libconfuse libcrypto" maillog/ global/ util/
