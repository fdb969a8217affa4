#!/bin/bash
# SPDX-License-Identifier: MIT
# t0305: a dead endpoint at volume does not flood the log. Events whose
# retry schedule runs out are dropped; the first is said at once, the rest
# in one line per interval ("N events dropped for endpoint X in the last
# M s": 60 s, here divided by delivery_time_scale), every drop counts in
# the endpoint's "dropped" in status at once, and what was not said yet is
# said at stop: the lines add up to every drop.
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
plan 7
N=150
CONF=$T_DIR/mailhook.conf
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Nothing listens on PORT: every attempt fails at once; retry = {1}: the
# second failure (10 ms later) drops the event. time scale 100: a 600 ms interval.
write_conf "$CONF" "delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 100
endpoint \"dead\" {
    url = \"http://127.0.0.1:$PORT/hook\"
    allow_http = true
    retry = {1}
}"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
dropped() { status_field "$CONF" delivery endpoints dead dropped; }
LOG=$T_DIR/daemon.log

check "daemon starts" start_daemon "$CONF"
for i in $(seq $N); do ctl emit app.tick "{\"n\":$i}" >/dev/null; done
all_dropped() { [ "$(dropped)" = $N ]; }
check "status counts every dropped event for the endpoint" wait_for 30 all_dropped
check "and in dropped_retries" test "$(status_field "$CONF" delivery dropped_retries)" = $N
sleep 1.5 # past the interval: its line is written
check "a handful of lines, not one per event ($(grep -c 'dropped' "$LOG") lines)" \
    test "$(grep -c 'dropped' "$LOG")" -le 10
check "the first drop is said at once, naming the event" \
    grep -qE "warning: endpoint dead: event evt_[0-9A-Z]{26} dropped after 2 attempts, last: " "$LOG"
check "the others in one line per interval" \
    grep -qE "warning: [0-9]+ events dropped for endpoint dead in the last [0-9]+ s \(retry schedule exhausted\), last: event evt_[0-9A-Z]{26} after 2 attempts: " "$LOG"
stop_daemon
singles=$(grep -cE 'endpoint dead: event evt_[0-9A-Z]{26} dropped after' "$LOG")
summed=$(sed -nE 's/.*warning: ([0-9]+) events dropped for endpoint dead .*/\1/p' "$LOG" | paste -sd+ | bc)
check "the lines add up to every drop ($singles + ${summed:-0})" test $((singles + ${summed:-0})) -eq $N
done_testing
