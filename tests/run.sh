#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/run.sh - the whole test suite. Installs what is missing, builds, and
# runs three passes:
#   1. make check: unit tests (Check) and scenario tests (TAP scripts);
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#      (from `make distdir`, so it also proves the tarball is complete);
#   3. every unit test binary under valgrind (memcheck, leaks are errors).
# Ends with one line "N passed, N failed[, N skipped]" over all test points.
# SANITIZE=no or VALGRIND=no skip a pass (visibly).
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0 skip=0
summary() {
    if [ $skip -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
}
# The shared corpus beside the clone, for the tests that read it (also from
# the sanitizer pass's copy of the tree in /tmp).
[ -d ../shared ] && MAILHOOK_SHARED=$(cd ../shared && pwd) && export MAILHOOK_SHARED
bash contrib/deps.sh test || { echo "deps failed"; fail=1; summary; exit 1; }
bash contrib/build.sh || { echo "build failed"; fail=1; summary; exit 1; }

# count_trs DIR LABEL: add DIR's TAP results to the totals; show failures.
count_trs() {
    local p f s trs
    for trs in $(find "$1" -name '*.trs'); do
        p=$(grep -c '^:test-result: PASS' "$trs"); f=$(grep -c '^:test-result: \(FAIL\|XPASS\|ERROR\)' "$trs")
        s=$(grep -c '^:test-result: SKIP' "$trs")
        pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
        if [ "$f" -gt 0 ]; then echo "=== $2: ${trs%.trs}.log"; grep -v '^ok ' "${trs%.trs}.log" | head -60; fi
    done
}

# run_check DIR LABEL: make check in DIR, count, and flag a failed run
# that left no failed test point (a build or harness failure).
run_check() {
    local before=$fail
    echo "--- $2"
    make -C "$1" -s -j2 check > "$1/tests-run.log" 2>&1
    local rc=$?
    count_trs "$1/tests" "$2"
    grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$1/tests-run.log" | tr '\n' ' '; echo
    if [ $rc -ne 0 ] && [ $fail -eq $before ]; then tail -40 "$1/tests-run.log"; fail=$((fail + 1)); fi
}

run_check . "make check"

if [ "${SANITIZE:-yes}" = no ]; then
    echo "--- sanitizers: skipped (SANITIZE=no)"; skip=$((skip + 1))
else
    S=$(mktemp -d /tmp/mailhook-asan.XXXXXX)
    if make -s distdir distdir="$S/src" >/dev/null 2>&1 &&
        (cd "$S/src" && ./configure -q CFLAGS="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
            LDFLAGS="-fsanitize=address,undefined" && make -s -j2) > "$S/build.log" 2>&1; then
        ASAN_OPTIONS=detect_leaks=1 run_check "$S/src" "make check under ASan+UBSan"
    else
        echo "=== sanitizer build failed"; tail -30 "$S/build.log"; fail=$((fail + 1))
    fi
    [ $fail -eq 0 ] && rm -rf "$S"
fi

if [ "${VALGRIND:-yes}" = no ] || ! command -v valgrind >/dev/null; then
    echo "--- valgrind: skipped"; skip=$((skip + 1))
else
    echo "--- unit tests under valgrind"
    for t in tests/unit/check_*; do
        [ -x "$t" ] || continue
        if CK_FORK=no CK_VERBOSITY=silent valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
                --suppressions=tests/valgrind.supp \
                --error-exitcode=99 "$t" > "$t.valgrind.log" 2>&1; then
            pass=$((pass + 1)); echo "ok - valgrind $t"
        else
            fail=$((fail + 1)); echo "not ok - valgrind $t"; tail -40 "$t.valgrind.log"
        fi
    done
fi
summary
[ $fail -eq 0 ]
