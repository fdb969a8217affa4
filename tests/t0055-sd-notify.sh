#!/bin/bash
# SPDX-License-Identifier: MIT
# t0055: Type=notify (sd_notify(3)) for mailhookd and mailhook-milter, with
# a python3 stand-in for systemd's notification socket
# (tests/helpers/notify_sink.py): READY=1 once the socket accepts (the sink
# connects when READY=1 arrives), WATCHDOG=1 repeatedly when WATCHDOG_USEC
# is set (and none when WATCHDOG_PID names another process), STOPPING=1 on
# SIGTERM, in that order.
. "$(dirname "$0")/lib/tap.sh"
MILTER=$top_builddir/src/milter/mailhook-milter
SINK=$top_srcdir/tests/helpers/notify_sink.py
plan 12
command -v python3 >/dev/null || skip_all "python3 not installed (Debian: python3)"
CONF=$T_DIR/mailhook.conf
NS=$T_DIR/notify.sock
write_conf "$CONF" "milter {
    socket = \"unix:$T_DIR/run/milter.sock\"
}"

# start_sink OUT PROBE: the notification socket at $NS, bounded in time.
start_sink() {
    rm -f "$1"
    python3 "$SINK" "$NS" "$1" "$2" --lifetime 60 &
    SINK_PID=$!
    T_PIDS="$T_PIDS $SINK_PID"
    wait_for 10 test -S "$NS"
}
stop_sink() { kill -TERM "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }
count() { grep -c -- "$1" "$2" || true; }
# in_order FILE: READY=1 first (of READY and STOPPING), STOPPING=1 last.
in_order() {
    awk '/READY=1/ && !r && !s { r = 1; next } /READY=1/ { bad = 1 }
         /STOPPING=1/ { if (!r) bad = 1; s = 1; next } s && /WATCHDOG=1/ { next }
         s { bad = 1 } END { exit bad || !r || !s }' "$1"
}

# mailhookd, a watchdog of 0.4 s: WATCHDOG=1 every 0.2 s.
OUT=$T_DIR/notify-d.out
start_sink "$OUT" "$T_DIR/run/ingest.sock"
NOTIFY_SOCKET=$NS WATCHDOG_USEC=400000 start_daemon "$CONF"
check "mailhookd: READY=1, and the ingest socket accepts when it arrives" \
    wait_for 10 grep -q '^READY=1 .*probe=ok$' "$OUT"
check "mailhookd: READY=1 once" [ "$(count READY=1 "$OUT")" -eq 1 ]
check "mailhookd: WATCHDOG=1 from the event loop, repeatedly (WATCHDOG_USEC=400000)" \
    wait_for 10 bash -c "[ \$(grep -c '^WATCHDOG=1\$' '$OUT') -ge 4 ]"
stop_daemon; rc=$?
check "mailhookd: SIGTERM exits 0" [ $rc -eq 0 ]
check "mailhookd: STOPPING=1 on SIGTERM" wait_for 5 grep -q '^STOPPING=1$' "$OUT"
check "mailhookd: READY=1 before STOPPING=1, nothing but WATCHDOG=1 after" in_order "$OUT"
stop_sink

# WATCHDOG_PID naming another process: that watchdog is not ours.
OUT=$T_DIR/notify-pid.out
start_sink "$OUT" "$T_DIR/run/ingest.sock"
NOTIFY_SOCKET=$NS WATCHDOG_USEC=200000 WATCHDOG_PID=1 start_daemon "$CONF"
wait_for 10 grep -q '^READY=1' "$OUT"
sleep 1
check "mailhookd: no WATCHDOG=1 when WATCHDOG_PID is another process's" \
    bash -c "grep -q '^READY=1 .*probe=ok' '$OUT' && ! grep -q WATCHDOG=1 '$OUT'"
stop_daemon
stop_sink

# mailhook-milter (no mailhookd needed: it spools).
OUT=$T_DIR/notify-m.out
start_sink "$OUT" "$T_DIR/run/milter.sock"
NOTIFY_SOCKET=$NS WATCHDOG_USEC=400000 "$MILTER" -f -c "$CONF" >> "$T_DIR/daemon.log" 2>&1 &
MILTER_PID=$!
T_PIDS="$T_PIDS $MILTER_PID"
check "milter: READY=1, and its socket accepts when it arrives" \
    wait_for 10 grep -q '^READY=1 .*probe=ok$' "$OUT"
check "milter: WATCHDOG=1 repeatedly (WATCHDOG_USEC=400000)" \
    wait_for 10 bash -c "[ \$(grep -c '^WATCHDOG=1\$' '$OUT') -ge 4 ]"
kill -TERM "$MILTER_PID"
i=0; while kill -0 "$MILTER_PID" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
wait "$MILTER_PID"; rc=$?
check "milter: SIGTERM exits 0 (the watchdog thread left SIGTERM to libmilter)" [ $rc -eq 0 ]
check "milter: STOPPING=1 on SIGTERM" wait_for 5 grep -q '^STOPPING=1$' "$OUT"
check "milter: READY=1 before STOPPING=1, nothing but WATCHDOG=1 after" in_order "$OUT"
stop_sink
done_testing
