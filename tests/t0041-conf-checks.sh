#!/bin/bash
# SPDX-License-Identifier: MIT
# t0041: what "mailhookd -n" must refuse, with FILE[:LINE]: a config path
# that is not a regular file (a FIFO would keep it waiting for a writer; the
# same for mailhookctl, which reads the same file), an unset ${VAR}, and the
# errors of an endpoint section's values.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
plan 10
C=$T_DIR/c.conf
ERR=$T_DIR/err

# --- a FIFO (or any file that is not regular) is refused before it is read
mkfifo "$T_DIR/fifo.conf"
timeout 20 "$MAILHOOKD" -n -c "$T_DIR/fifo.conf" > "$ERR" 2>&1; rc=$?
check "mailhookd -n on a FIFO exits 78 at once (no wait for a writer)" [ $rc -eq 78 ]
check "... naming the file and what it is" grep -q "^$T_DIR/fifo.conf: is a FIFO: the configuration must be a regular file" "$ERR"
timeout 20 "$MAILHOOKCTL" -c "$T_DIR/fifo.conf" status > "$ERR" 2>&1; rc=$?
check "mailhookctl on a FIFO exits 78 at once" [ $rc -eq 78 ]
check "... with the same message" grep -q "$T_DIR/fifo.conf: is a FIFO" "$ERR"
timeout 20 "$MAILHOOKD" -n -c "$T_DIR" > "$ERR" 2>&1; rc=$?
check "a directory is refused too" bash -c "[ $rc -eq 78 ] && grep -q 'is a directory' '$ERR'"

# --- ${VAR}: an unset variable is an error at its line, not ""
write_conf "$C" '
pid_file = "${MH_T0041_UNSET}/mailhookd.pid"'
env -u MH_T0041_UNSET "$MAILHOOKD" -n -c "$C" > "$ERR" 2>&1; rc=$?
line=$(grep -n MH_T0041_UNSET "$C" | cut -d: -f1)
check "-n refuses an unset \${VAR} (exit 78)" [ $rc -eq 78 ]
check "... at FILE:LINE, naming it" grep -q "^$C:$line: \${MH_T0041_UNSET} is not set in the environment" "$ERR"
check "set, the same file is accepted" env MH_T0041_UNSET="$T_DIR/run" "$MAILHOOKD" -n -c "$C"
write_conf "$C" 'pid_file = "${MH_T0041_UNSET:-/run}/mailhookd.pid"'
check "\${VAR:-default} may be unset" env -u MH_T0041_UNSET "$MAILHOOKD" -n -c "$C"
check "... and gives its default" bash -c "env -u MH_T0041_UNSET '$MAILHOOKD' -T -c '$C' | grep -qx 'pid_file = \"/run/mailhookd.pid\"'"
done_testing
