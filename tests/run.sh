#!/bin/bash
# tests/run.sh - the whole test suite: install what is missing, build, run
# `make check` (unit tests with Check, scenario tests as TAP scripts), and
# end with one line "N passed, N failed[, N skipped]".
set -u
cd "$(dirname "$0")/.."
bash contrib/deps.sh test || { echo "0 passed, 1 failed"; exit 1; }
bash contrib/build.sh || { echo "0 passed, 1 failed"; exit 1; }
make -s -j2 check > tests/run.log 2>&1
rc=$?
# Every TAP test point counts, from each test's .trs file.
pass=0 fail=0 skip=0
for trs in $(find tests -name '*.trs'); do
    p=$(grep -c '^:test-result: PASS' "$trs"); f=$(grep -c '^:test-result: \(FAIL\|XPASS\|ERROR\)' "$trs")
    s=$(grep -c '^:test-result: SKIP' "$trs")
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    if [ "$f" -gt 0 ]; then
        log=${trs%.trs}.log
        echo "=== $log"; grep -v '^ok ' "$log" | head -60
    fi
done
grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):' tests/run.log | tr '\n' ' '; echo
if [ $rc -ne 0 ] && [ $fail -eq 0 ]; then
    tail -40 tests/run.log; fail=1
fi
if [ $skip -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ $fail -eq 0 ]
