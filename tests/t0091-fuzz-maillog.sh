#!/bin/bash
# t0091: the maillog line parser under libFuzzer (ASan + UBSan) for a bounded
# time. Skipped visibly when clang with libFuzzer is not installed.
. "$(dirname "$0")/lib/tap.sh"
plan 1
CC=${FUZZ_CC:-clang}
SECS=${FUZZ_SECONDS:-20}
if ! command -v "$CC" >/dev/null || ! echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){return 0;}' | \
        "$CC" -fsanitize=fuzzer -x c - -o "$T_DIR/probe" 2>/dev/null; then
    skip "clang with libFuzzer not available"
    exit 0
fi
S=$top_srcdir
"$CC" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -pthread \
    -I "$top_builddir" -I "$S/include" "$S/fuzz/fuzz_maillog.c" "$S/src/maillog_parse.c" \
    "$S/src/timeutil.c" "$S/src/msg.c" "$S/src/xalloc.c" \
    $(pkg-config --cflags --libs libpcre2-8) -o "$T_DIR/fuzz_maillog" 2> "$T_DIR/build.err" ||
    { not_ok "fuzz target builds"; diag < "$T_DIR/build.err"; exit 1; }
mkdir -p "$T_DIR/corpus" && cp "$S"/fuzz/corpus/maillog/* "$T_DIR/corpus/"
check "maillog_parse survives ${SECS}s of libFuzzer (ASan+UBSan)" \
    "$T_DIR/fuzz_maillog" -max_total_time="$SECS" -max_len=4096 -timeout=5 "$T_DIR/corpus"
