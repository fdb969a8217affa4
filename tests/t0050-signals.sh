#!/bin/bash
# SPDX-License-Identifier: MIT
# t0050: SIGHUP reloads (a broken file keeps the running config), SIGTERM
# finishes and exits 0, removes its sockets and leaves no timer pending; root drops to the configured
# user and the state directory is the daemon's alone.
. "$(dirname "$0")/lib/tap.sh"
plan 10
CONF=$T_DIR/mailhook.conf
write_conf "$CONF"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }

check "daemon starts" start_daemon "$CONF"
write_conf "$CONF" 'retention_days = 9'
kill -HUP "$DAEMON_PID"
check "SIGHUP reloads" wait_for 5 bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | grep -q '\"reloads\":1'"
echo 'retention_days = "nope"' >> "$CONF"
kill -HUP "$DAEMON_PID"
check "broken reload is refused with a warning, daemon keeps running" \
    wait_for 5 bash -c "grep -q 'reload failed' '$T_DIR/daemon.log' && '$MAILHOOKCTL' -s '$T_DIR/run/admin.sock' status"
write_conf "$CONF"
stop_daemon; rc=$?
check "SIGTERM exits 0" [ $rc -eq 0 ]
check "sockets removed on exit" bash -c "[ ! -e '$T_DIR/run/ingest.sock' ] && [ ! -e '$T_DIR/run/admin.sock' ]"
check "every part cancelled its timers (none pending when the loop is freed)" \
    bash -c "grep -q 'mailhookd: stopped' '$T_DIR/daemon.log' && ! grep 'event loop freed with' '$T_DIR/daemon.log'"

if [ "$(id -u)" -ne 0 ]; then
    for i in 1 2 3 4; do skip "privilege drop needs root"; done
else
    # A fresh tree the unprivileged user can reach.
    chmod 755 "$T_DIR"
    OUTER=$T_DIR; T_DIR=$OUTER/priv; mkdir -p "$T_DIR"
    write_conf "$CONF" 'user = "nobody"'
    T_DIR=$OUTER
    sed -i '/^user = ""$/d' "$CONF"
    check "starts as root with user = nobody" start_daemon "$CONF"
    check "runs as nobody" bash -c "[ \$(awk '/^Uid:/{print \$2}' /proc/$DAEMON_PID/status) -eq \$(id -u nobody) ]"
    check "cannot regain root (all uids are nobody's)" bash -c "awk '/^Uid:/{exit !(\$2==\$3 && \$3==\$4 && \$4==\$5)}' /proc/$DAEMON_PID/status"
    check "state dir is 0700 and owned by nobody" bash -c "[ \"\$(stat -c '%a %U' '$T_DIR/priv/state')\" = '700 nobody' ]"
    stop_daemon
fi
done_testing
