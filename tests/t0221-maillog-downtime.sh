#!/bin/bash
# SPDX-License-Identifier: MIT
# t0221: mailhookd is stopped, the log is rotated twice by the real
# logrotate while lines are still unread, and mailhookd is started again:
# every message's events arrive exactly once. Three logs, one per way
# Debian rotates: "plain" (create, no compression: mail.log.1, mail.log.2),
# "gz" (Debian's rsyslog settings, compress + delaycompress: mail.log.1,
# mail.log.2.gz) and "date" (dateext, compress + delaycompress:
# mail.log-DATE, mail.log-DATE.gz). Before the reader looked among the
# rotated files, the whole middle file was lost (silently) and the .gz was
# never found.
. "$(dirname "$0")/lib/tap.sh"
plan 8
command -v logrotate > /dev/null || skip_all "logrotate not installed (contrib/deps.sh test)"
N=${DOWNTIME_MESSAGES:-200}
CONF=$T_DIR/mailhook.conf
LOGS="plain gz date"
sections=""
for s in $LOGS; do
    mkdir -p "$T_DIR/$s"
    : > "$T_DIR/$s/mail.log"
    sections="$sections
maillog \"$s\" {
    path = \"$T_DIR/$s/mail.log\"
    start_at = \"beginning\"
    rotate_wait = $([ "$s" = plain ] && echo 1 || echo 5)
}"
done
write_conf "$CONF" "$sections"
cat > "$T_DIR/logrotate.conf" <<EOF
$T_DIR/plain/mail.log {
    rotate 4
    create
    nocompress
}
$T_DIR/gz/mail.log {
    rotate 4
    create
    compress
    delaycompress
}
$T_DIR/date/mail.log {
    rotate 4
    create
    compress
    delaycompress
    dateext
    dateformat -%Y%m%d-%s
}
EOF

# write_msgs LOG SECTION FROM TO: Postfix lines for messages FROM..TO-1
# (queue active, delivered, removed), one recipient each.
write_msgs() {
    python3 - "$@" <<'PY'
import sys, time
log, sec, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ts = time.strftime("%b %e %H:%M:%S", time.localtime())
with open(log, "a") as f:
    for i in range(a, b):
        qid = "%010X" % (0x2B00000000 + i)
        f.write(f"{ts} mx postfix/qmgr[100]: {qid}: from=<s@src.test>, size=100, nrcpt=1 (queue active)\n")
        f.write(f"{ts} mx postfix/smtp[200]: {qid}: to=<r{i}@{sec}.test>, relay=mx.dst.test[192.0.2.1]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n")
        f.write(f"{ts} mx postfix/qmgr[100]: {qid}: removed\n")
PY
}
events_at_least() {
    "$MAILHOOKCTL" -c "$CONF" --json status |
        python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['store']['events'] >= $1 else 1)"
}
rotate() { logrotate -f -s "$T_DIR/logrotate.state" "$T_DIR/logrotate.conf"; }

for s in $LOGS; do write_msgs "$T_DIR/$s/mail.log" "$s" 0 "$N"; done
check "daemon starts" start_daemon "$CONF"
check "the first quarter is read" wait_for 60 events_at_least $((3 * 2 * N))
stop_daemon
# Down: lines added to the file of the checkpoint, two rotations, more lines.
for s in $LOGS; do write_msgs "$T_DIR/$s/mail.log" "$s" "$N" $((2 * N)); done
rotate
for s in $LOGS; do write_msgs "$T_DIR/$s/mail.log" "$s" $((2 * N)) $((3 * N)); done
sleep 1 # dateext names carry the second (%s): two rotations need two
rotate
for s in $LOGS; do write_msgs "$T_DIR/$s/mail.log" "$s" $((3 * N)) $((4 * N)); done
(cd "$T_DIR" && ls plain gz date | tr '\n' ' ' && echo) | diag
check "logrotate rotated as Debian does" bash -c "cd '$T_DIR' &&
    [ -s plain/mail.log.1 ] && [ -s plain/mail.log.2 ] &&
    [ -s gz/mail.log.1 ] && [ -s gz/mail.log.2.gz ] &&
    [ \$(ls date | grep -c '^mail.log-[0-9-]*\$') = 1 ] &&
    [ \$(ls date | grep -c '^mail.log-[0-9-]*\.gz\$') = 1 ]"
check "daemon starts again" start_daemon "$CONF"
check "every event arrives" wait_for 90 events_at_least $((3 * 2 * 4 * N))
sleep 1
"$MAILHOOKCTL" -c "$CONF" --json events list --limit 100000 > "$T_DIR/events.json"
python3 - "$T_DIR/events.json" "$N" $LOGS > "$T_DIR/check.out" <<'PY'
import json, sys, collections
c = collections.Counter()
for l in open(sys.argv[1]):
    e = json.loads(l); c[(e["type"], e["data"]["recipient"])] += 1
n = int(sys.argv[2])
for sec in sys.argv[3:]:
    want = [f"r{i}@{sec}.test" for i in range(4 * n)]
    missing = [r for r in want for t in ("email.sent", "email.delivered") if c[(t, r)] == 0]
    print(sec, "missing", len(missing), missing[:3])
dups = [(k, v) for k, v in c.items() if v > 1]
print("duplicated", len(dups), dups[:5])
print("extra", len(c) - 2 * 4 * n * (len(sys.argv) - 3))
PY
diag < "$T_DIR/check.out"
check "no event lost" bash -c "! grep -v ' missing 0 ' '$T_DIR/check.out' | grep -q missing"
check "no event duplicated or invented" bash -c "grep -qx 'duplicated 0 \[\]' '$T_DIR/check.out' && grep -qx 'extra 0' '$T_DIR/check.out'"
check "no warning of lost lines" bash -c "! grep -i 'lost' '$T_DIR/daemon.log'"
stop_daemon
done_testing
