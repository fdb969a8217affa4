#!/bin/bash
# SPDX-License-Identifier: MIT
# t0220: the maillog is rotated by rename and by copytruncate while lines are
# being written, and mailhookd is restarted (SIGTERM) and crashed (kill -9)
# in the middle of the file. Every message's events arrive exactly once:
# nothing lost, nothing duplicated.
. "$(dirname "$0")/lib/tap.sh"
plan 6
N=${ROTATION_MESSAGES:-4000}
LOG=$T_DIR/mail.log
CONF=$T_DIR/mailhook.conf
: > "$LOG"
write_conf "$CONF" "maillog \"rot\" {
    path = \"$LOG\"
    start_at = \"beginning\"
    batch_lines = 500
}"

check "daemon starts" start_daemon "$CONF"
python3 "$top_srcdir/tests/helpers/maillog_writer.py" "$LOG" "$N" --pace 0.004 > "$T_DIR/written" &
WRITER=$!
T_PIDS="$T_PIDS $WRITER"
wait_for 30 bash -c "[ \$(wc -l < '$T_DIR/written') -ge $((N / 3)) ]"
stop_daemon
start_daemon "$CONF"
wait_for 30 bash -c "[ \$(wc -l < '$T_DIR/written') -ge $((2 * N / 3)) ]"
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
start_daemon "$CONF"
check "writer finished (with 3 rotations)" wait "$WRITER"
check "every event arrives" wait_for 60 bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"store\"][\"events\"] >= $((2 * N)) else 1)'"
sleep 1
"$MAILHOOKCTL" -c "$CONF" --json events list --limit 100000 > "$T_DIR/events.json"
python3 - "$T_DIR/events.json" "$T_DIR/written" > "$T_DIR/check.out" <<'PY'
import json, sys, collections
c = collections.Counter()
for l in open(sys.argv[1]):
    e = json.loads(l); c[(e["type"], e["data"]["recipient"])] += 1
want = [l.strip() for l in open(sys.argv[2])]
missing = [r for r in want for t in ("email.sent", "email.delivered") if c[(t, r)] == 0]
dups = [(k, v) for k, v in c.items() if v > 1]
extra = len(c) - 2 * len(want)
print("missing", len(missing), missing[:5]); print("duplicated", len(dups), dups[:5]); print("extra", extra)
PY
diag < "$T_DIR/check.out"
check "no event lost" grep -qx 'missing 0 \[\]' "$T_DIR/check.out"
check "no event duplicated" grep -qx 'duplicated 0 \[\]' "$T_DIR/check.out"
check "no event invented" grep -qx 'extra 0' "$T_DIR/check.out"
stop_daemon
done_testing
