#!/bin/bash
# SPDX-License-Identifier: MIT
# t0040: configuration errors are reported as FILE:LINE: problem, -n checks,
# -T prints the effective configuration (itself a valid config).
. "$(dirname "$0")/lib/tap.sh"
plan 8
C=$T_DIR/c.conf

write_conf "$C"
check "-n accepts a valid file" "$MAILHOOKD" -n -c "$C"

printf 'log = "stderr"\n\nretention_days = -5\n' > "$C"
"$MAILHOOKD" -n -c "$C" > "$T_DIR/err" 2>&1; rc=$?
check "-n exits 78 (EX_CONFIG) on a bad value" [ $rc -eq 78 ]
check "bad value reported at FILE:3" grep -q "^$C:3:" "$T_DIR/err"

printf '# comment\nstate_dirr = "/x"\n' > "$C"
"$MAILHOOKD" -n -c "$C" > "$T_DIR/err" 2>&1
check "unknown option reported at FILE:2" grep -q "^$C:2:.*state_dirr" "$T_DIR/err"

printf 'spool_dir = "relative/path"\n' > "$C"
"$MAILHOOKD" -n -c "$C" > "$T_DIR/err" 2>&1
check "relative path refused" grep -q "^$C:1:" "$T_DIR/err"

"$MAILHOOKD" -n -c "$T_DIR/missing.conf" > "$T_DIR/err" 2>&1
check "missing file named" grep -q "missing.conf" "$T_DIR/err"

write_conf "$C" 'retention_days = 7'
"$MAILHOOKD" -T -c "$C" > "$T_DIR/dump.conf" 2>&1
check "-T prints effective values" grep -q '^retention_days = 7$' "$T_DIR/dump.conf"
check "-T output is itself a valid config" "$MAILHOOKD" -n -c "$T_DIR/dump.conf"
done_testing
