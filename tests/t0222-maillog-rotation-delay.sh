#!/bin/bash
# SPDX-License-Identifier: MIT
# t0222: a reader descheduled at the moment of rotation. The log is
# rotated by rename (logrotate "create") and the writer, like rsyslog
# before its HUP, adds its last lines to the renamed file while mailhookd
# looks at the new, still empty one: its fstat() of the new file is held
# (tests/helpers/delay_fstat.so, LD_PRELOAD) until the writer has written
# to the old file and then to the new one. A handshake, not a timer: the
# order is forced. Those lines of the old file must arrive, once; before
# the reader read the old file again after seeing the writer move, all of
# them were lost.
. "$(dirname "$0")/lib/tap.sh"
plan 6
SHIM=$top_builddir/tests/helpers/delay_fstat.so
[ -f "$SHIM" ] || skip_all "tests/helpers/delay_fstat.so not built (make check builds it)"
N=${DELAY_MESSAGES:-50}
LOG=$T_DIR/mail.log
CONF=$T_DIR/mailhook.conf
HS=$T_DIR/handshake
mkdir -p "$HS"
write_conf "$CONF" "maillog \"rot\" {
    path = \"$LOG\"
    start_at = \"beginning\"
    rotate_wait = 2
}"

# write_msgs LOG FROM TO: Postfix lines for messages FROM..TO-1.
write_msgs() {
    python3 - "$@" <<'PY'
import sys, time
log, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ts = time.strftime("%b %e %H:%M:%S", time.localtime())
with open(log, "a") as f:
    for i in range(a, b):
        qid = "%010X" % (0x3C00000000 + i)
        f.write(f"{ts} mx postfix/qmgr[100]: {qid}: from=<s@src.test>, size=100, nrcpt=1 (queue active)\n")
        f.write(f"{ts} mx postfix/smtp[200]: {qid}: to=<r{i}@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n")
        f.write(f"{ts} mx postfix/qmgr[100]: {qid}: removed\n")
PY
}
events_at_least() {
    "$MAILHOOKCTL" -c "$CONF" --json status |
        python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['store']['events'] >= $1 else 1)"
}

write_msgs "$LOG" 0 "$N"
# An ASan build wants its runtime first; the shim only wraps fstat.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    LD_PRELOAD=$SHIM MH_DELAY_FSTAT_PATH=$LOG MH_DELAY_FSTAT_DIR=$HS \
    check "daemon starts (with the fstat shim)" start_daemon "$CONF"
check "the lines before the rotation are read" wait_for 60 events_at_least $((2 * N))
# Rotation by rename; the shim is armed before the new file exists, so
# every look at it is held: the first (opening it) is let go at once, the
# second (is there data yet?) only after the writer has written its last
# lines to the old file and its first to the new one.
mv "$LOG" "$LOG.1"
: > "$HS/arm"
: > "$LOG"
check "the reader opens the new file" wait_for 60 test -e "$HS/waiting.1"
: > "$HS/go.1"
check "the reader looks for data in the new file" wait_for 60 test -e "$HS/waiting.2"
write_msgs "$LOG.1" "$N" $((2 * N))       # the writer has not seen the HUP yet
write_msgs "$LOG" $((2 * N)) $((3 * N))   # now it has
rm -f "$HS/arm"
: > "$HS/go.2"
wait_for 60 events_at_least $((2 * 3 * N))
sleep 1
"$MAILHOOKCTL" -c "$CONF" --json events list --limit 100000 > "$T_DIR/events.json"
python3 - "$T_DIR/events.json" "$N" > "$T_DIR/check.out" <<'PY'
import json, sys, collections
c = collections.Counter()
for l in open(sys.argv[1]):
    e = json.loads(l); c[(e["type"], e["data"]["recipient"])] += 1
n = int(sys.argv[2])
want = [f"r{i}@dst.test" for i in range(3 * n)]
missing = [r for r in want for t in ("email.sent", "email.delivered") if c[(t, r)] == 0]
print("missing", len(missing), missing[:3])
dups = [(k, v) for k, v in c.items() if v > 1]
print("duplicated", len(dups), dups[:5])
print("extra", len(c) - 2 * len(want))
PY
diag < "$T_DIR/check.out"
check "no event lost" grep -qx 'missing 0 \[\]' "$T_DIR/check.out"
check "no event duplicated or invented" bash -c "grep -qx 'duplicated 0 \[\]' '$T_DIR/check.out' && grep -qx 'extra 0' '$T_DIR/check.out'"
stop_daemon
done_testing
