#!/bin/bash
# SPDX-License-Identifier: MIT
# t0245: a log the service user cannot read (Debian's mail.log is root:adm
# 0640, before `adduser mailhook adm`): the reader backs off (2 s, 4 s, 8 s,
# ... up to 60 s), warns once, counts every failed attempt and shows the
# reason in the status; when the log becomes readable it says so and
# follows it. The daemon runs in TZ=Europe/Berlin: the lines, read after
# those resets, are converted with the zone's rules for their own dates
# (July CEST +2, December CET +1), not with an offset lost in the reset.
. "$(dirname "$0")/lib/tap.sh"
plan 12
if [ "$(id -u)" -ne 0 ] || ! getent passwd daemon >/dev/null || ! getent group adm >/dev/null ||
        id -nG daemon | grep -qw adm || [ ! -f /usr/share/zoneinfo/Europe/Berlin ]; then
    skip_all "needs root, user daemon (not in group adm), group adm, tzdata"
fi
chmod 755 "$T_DIR"
LOG=$T_DIR/mail.log
CONF=$T_DIR/mailhook.conf
status_json() { "$MAILHOOKCTL" -c "$CONF" --json status; }
# field KEY: the reader's status member KEY
field() { status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["maillog"]["m"][sys.argv[1]])' "$1"; }
{
    echo 'Jul 15 12:00:00 mx postfix/qmgr[100]: 1A2B3C4D01: from=<s@src.test>, size=100, nrcpt=1 (queue active)'
    echo 'Jul 15 12:00:01 mx postfix/smtp[200]: 1A2B3C4D01: to=<jul@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)'
    echo 'Jul 15 12:00:01 mx postfix/qmgr[100]: 1A2B3C4D01: removed'
    echo 'Dec  1 12:00:00 mx postfix/qmgr[100]: 1A2B3C4D02: from=<s@src.test>, size=100, nrcpt=1 (queue active)'
    echo 'Dec  1 12:00:01 mx postfix/smtp[200]: 1A2B3C4D02: to=<dec@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)'
    echo 'Dec  1 12:00:01 mx postfix/qmgr[100]: 1A2B3C4D02: removed'
} > "$LOG"
chown root:adm "$LOG"
chmod 640 "$LOG"
write_conf "$CONF" "user = \"daemon\"
maillog \"m\" {
    path = \"$LOG\"
    start_at = \"beginning\"
}"
sed -i '/^user = ""$/d' "$CONF"
chmod 644 "$CONF"

T0=$(date +%s)
TZ=Europe/Berlin check "daemon starts as root, runs as daemon" start_daemon "$CONF"
check "status shows the reason and what to do" \
    wait_for 20 bash -c "$(declare -f status_json field); CONF='$CONF' MAILHOOKCTL='$MAILHOOKCTL'; [ \"\$(field state)\" = resetting ] && [ \"\$(field error)\" = 'permission denied: add the daemon user to group adm' ]"
check "the human status says it too" bash -c "'$MAILHOOKCTL' -c '$CONF' status | grep -q 'maillog m: resetting .*(permission denied: add the daemon user to group adm)'"
# attempts at about 0, 2 and 6 s (then 14 s): three failures, counted
check "every failed attempt is counted" \
    wait_for 30 bash -c "$(declare -f status_json field); CONF='$CONF' MAILHOOKCTL='$MAILHOOKCTL'; [ \"\$(field errors)\" -ge 3 ]"
check "the failure is warned once" \
    bash -c "[ \$(grep -c 'maillog m: permission denied' '$T_DIR/daemon.log') -eq 1 ]"
# Timers fire late on a loaded machine, never early: 12 s after the start
# the back-off cannot have made a fourth attempt (a fixed 2 s retry makes 6).
now=$(date +%s)
[ $((T0 + 12 - now)) -gt 0 ] && sleep $((T0 + 12 - now))
check "the retries back off" bash -c "$(declare -f status_json field); CONF='$CONF' MAILHOOKCTL='$MAILHOOKCTL'; [ \"\$(field errors)\" -le 3 ]"
chmod 644 "$LOG"
check "readable again: the reader follows it (next attempt within 60 s)" \
    wait_for 70 bash -c "$(declare -f status_json field); CONF='$CONF' MAILHOOKCTL='$MAILHOOKCTL'; [ \"\$(field state)\" = following ] && [ \"\$(field error)\" = None ]"
check "the recovery is logged" grep -q 'maillog m: working again (was: permission denied' "$T_DIR/daemon.log"
check "both deliveries arrive" \
    wait_for 10 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | wc -l) -eq 2 ]"
"$MAILHOOKCTL" -c "$CONF" --json events list --type email.delivered > "$T_DIR/delivered.json"
check "July is CEST and December CET, after the resets" python3 -c '
import json, sys
ts = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    ts[e["data"]["recipient"]] = e["timestamp"][10:]
print(ts)
sys.exit(0 if ts == {"jul@dst.test": "T10:00:01.000Z", "dec@dst.test": "T11:00:01.000Z"} else 1)' "$T_DIR/delivered.json"
# The reader's delay is from reading a line to committing its events, not
# the age of the line (months here); how old the newest line read is, is
# shown apart.
status_json > "$T_DIR/status.json"
check "delay p99 is the reader's (under a minute), not the lines' age" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["maillog"]["m"]
sys.exit(0 if 0 <= m["delay_ms_p50"] <= m["delay_ms_p99"] < 60000 else 1)' "$T_DIR/status.json"
check "nothing left to read, and the newest line's age is the age of the newest event" python3 -c '
import json, sys, time, datetime
m = json.load(open(sys.argv[1]))["maillog"]["m"]
newest = max(datetime.datetime.fromisoformat(json.loads(l)["timestamp"].replace("Z", "+00:00")).timestamp()
             for l in open(sys.argv[2]))
age = time.time() - newest
sys.exit(0 if m["behind_bytes"] == 0 and abs(m["newest_line_age_ms"] / 1000 - age) < 60 else 1)' \
    "$T_DIR/status.json" "$T_DIR/delivered.json"
"$MAILHOOKCTL" -c "$CONF" status | diag
stop_daemon
done_testing
