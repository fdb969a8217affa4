#!/bin/bash
# SPDX-License-Identifier: MIT
# t0091: the maillog line parser under libFuzzer (ASan + UBSan) for a
# bounded time.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fuzz.sh"
plan 1
fuzz_run maillog "maillog_parse" "libpcre2-8 libsystemd zlib jansson libconfuse libcrypto" maillog/ global/ util/
