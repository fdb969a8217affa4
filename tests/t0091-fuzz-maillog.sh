#!/bin/bash
# t0091: the maillog line parser under libFuzzer (ASan + UBSan) for a
# bounded time.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/fuzz.sh"
plan 1
fuzz_run maillog "maillog_parse" libpcre2-8 maillog/maillog_parse.c maillog/maillog_parse_fields.c maillog/maillog_time.c util/timeutil.c util/msg.c util/xalloc.c
