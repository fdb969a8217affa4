#!/bin/bash
# SPDX-License-Identifier: MIT
# t0085: mailhookctl backup DIR, a hot backup taken by mailhookd through
# Berkeley DB's API (admin_backup.c), and the documented restore (copy the
# backup into a new state_dir, start: recovery runs). Two producers emit
# while the backup runs; every event acknowledged before the backup started
# is in the restored store, which opens cleanly. Where a backup may go: not
# inside state_dir, not an existing non-empty directory, created 0700.
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
plan 12
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" 'store_log_file_size = 1048576'
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }

check "daemon starts" start_daemon "$CONF"
# A producer: emits until told to stop, one "ID committed" line per event
# acknowledged (the line is printed after the daemon's acknowledgement).
producer() {
    while [ ! -e "$T_DIR/stop" ]; do
        "$MAILHOOKCTL" -c "$CONF" emit email.delivered \
            "{\"recipient\":\"r$1@example.net\",\"smtp_response\":\"250 2.0.0 $(printf 'x%.0s' {1..300})\"}"
    done >> "$T_DIR/acked.$1" 2>&1
}
producer 1 & P1=$!
producer 2 & P2=$!
T_PIDS="$T_PIDS $P1 $P2"
wait_for 30 bash -c "[ \$(cat '$T_DIR'/acked.* 2>/dev/null | grep -c committed) -ge 300 ]"
# Acknowledged before the backup starts: what the files hold now.
cat "$T_DIR"/acked.* | awk '$2 == "committed" {print $1}' > "$T_DIR/before"
ctl backup "$T_DIR/backup" > "$T_DIR/backup.out" 2>&1
RC=$?
sleep 0.5
touch "$T_DIR/stop"
wait $P1 $P2
check "backup under load exits 0" test $RC -eq 0
check "backup says what it wrote" grep -q "backed up to $T_DIR/backup: [0-9]* files" "$T_DIR/backup.out"
check "the producers went on during and after the backup" bash -c \
    "[ \$(cat '$T_DIR'/acked.* | grep -c committed) -gt \$(wc -l < '$T_DIR/before') ]"
check "backup directory is 0700" bash -c "[ \$(stat -c %a '$T_DIR/backup') = 700 ]"
check "an existing non-empty DIR is refused (65)" bash -c \
    "'$MAILHOOKCTL' -c '$CONF' backup '$T_DIR/backup' 2>&1 | grep -q 'not an empty directory'; [ \${PIPESTATUS[0]} -eq 65 ]"
check "a DIR inside state_dir is refused (65)" bash -c \
    "'$MAILHOOKCTL' -c '$CONF' backup '$T_DIR/state/bk' 2>&1 | grep -q 'inside state_dir'; [ \${PIPESTATUS[0]} -eq 65 ] && [ ! -e '$T_DIR/state/bk' ]"
stop_daemon

# Restore: a new state_dir holding a copy of the backup; start.
mkdir -m 0700 "$T_DIR/restored" && cp -a "$T_DIR/backup/." "$T_DIR/restored/"
CONF2=$T_DIR/restored.conf
write_conf "$CONF2" "state_dir = \"$T_DIR/restored\""
mv "$T_DIR/daemon.log" "$T_DIR/daemon1.log"
check "a daemon starts on the restored state_dir" start_daemon "$CONF2"
missing=0
while read -r id; do
    "$MAILHOOKCTL" -c "$CONF2" events show "$id" >/dev/null 2>&1 || missing=$((missing + 1))
done < "$T_DIR/before"
check "every event acknowledged before the backup is restored ($(wc -l < "$T_DIR/before") events, $missing missing)" \
    test "$missing" -eq 0
check "the restored store counts at least those" bash -c \
    "[ \$('$MAILHOOKCTL' -c '$CONF2' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"store\"][\"events\"])') -ge \$(wc -l < '$T_DIR/before') ]"
check "the restored store opened without a warning" bash -c "! grep -iE 'warn|error|recover' '$T_DIR/daemon.log'"
check "the restored store takes new events" bash -c "'$MAILHOOKCTL' -c '$CONF2' emit app.after '{}' | grep -q committed"
stop_daemon
done_testing
