#!/bin/bash
# t0060: retention expires events older than retention_days (by the time
# they happened) and keeps the others; without -f mailhookd detaches,
# writes its pid file and logs to syslog, and stops on SIGTERM.
. "$(dirname "$0")/lib/tap.sh"
plan 6
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" 'retention_days = 30'
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }

check "daemon starts" start_daemon "$CONF"
OLD=$(ctl emit --at 40d app.old '{}' | awk '{print $1}')
NEW=$(ctl emit --at 29d app.recent '{}' | awk '{print $1}')
# The first retention pass runs 5 s after start.
check "an event older than retention_days is expired" \
    wait_for 15 bash -c "! '$MAILHOOKCTL' -c '$CONF' events show $OLD"
check "a newer one is kept" bash -c "'$MAILHOOKCTL' -c '$CONF' events show $NEW >/dev/null"
check "status counts the expired event" bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | grep -q '\"expired\":1'"
stop_daemon

# Background mode: syslog instead of stderr, detached, pid file.
sed -i 's/^log = "stderr"$/log = "syslog"/' "$CONF"
"$MAILHOOKD" -c "$CONF"
check "without -f: detaches, pid file names a live mailhookd" \
    wait_for 10 bash -c "[ -s '$T_DIR/run/mailhookd.pid' ] && grep -q mailhookd /proc/\$(cat '$T_DIR/run/mailhookd.pid')/cmdline && '$MAILHOOKCTL' -c '$CONF' status"
PID=$(cat "$T_DIR/run/mailhookd.pid"); T_PIDS="$T_PIDS $PID"
kill -TERM "$PID"
check "SIGTERM stops the detached daemon and removes its pid file" \
    wait_for 10 bash -c "! kill -0 $PID 2>/dev/null && [ ! -e '$T_DIR/run/mailhookd.pid' ]"
done_testing
