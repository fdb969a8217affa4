#!/bin/bash
# SPDX-License-Identifier: MIT
# t0060: retention expires events stored more than retention_days ago and
# keeps the others, whatever time the events carry (an event received 40
# days ago goes though it says "now"; one dated 40 days back, received now,
# stays); without -f mailhookd detaches, writes its pid file and logs to
# syslog, and stops on SIGTERM.
# The events received long ago come from a mailhookd run with its clock
# 40 days back (libfaketime, start_daemon_shifted in lib/tap.sh).
. "$(dirname "$0")/lib/tap.sh"
plan 8
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" 'retention_days = 30
retention_interval = 1'
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
stored() { ctl events show "$1" >/dev/null; }

if why=$(faketime_lib); then
    check "daemon starts with its clock 40 days back" start_daemon_shifted -40d "$CONF"
    # Dated now (mailhookctl's clock), received 40 days ago (mailhookd's).
    GONE=$(ctl emit app.received_long_ago '{}' | awk '{print $1}')
    stop_daemon
    check "daemon starts" start_daemon "$CONF"
    BACK=$(ctl emit --at 40d app.backdated '{}' | awk '{print $1}')
    NEW=$(ctl emit --at 29d app.recent '{}' | awk '{print $1}')
    check "retention passes run after the events were stored" wait_passes 20 "$CONF" 2
    check "an event received more than retention_days ago is expired, though it is dated now" \
        bash -c "! '$MAILHOOKCTL' -c '$CONF' events show $GONE"
    check "events received now are kept, though dated 40 and 29 days back" \
        bash -c "'$MAILHOOKCTL' -c '$CONF' events show $BACK >/dev/null && '$MAILHOOKCTL' -c '$CONF' events show $NEW >/dev/null"
    check "status counts the expired event" bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | grep -q '\"expired\":1,'"
    stop_daemon
else
    for _ in 1 2 3 4 5 6; do skip "$why"; done
fi

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
